/*
 * list_vms.c: the C SDK's example -- log in to ics-managerd and list its
 * VMs (docs/client-sdk.md walks through it).
 *
 *   cc list_vms.c $(pkg-config --cflags --libs ics-client) -o list_vms
 *   ICS_URL=https://10.211.0.100:8443 ICS_CA=tls-cert.pem ICS_USER=admin \
 *       ICS_PASSWORD=... ./list_vms
 *
 * The password comes from the environment so that it is not on a command
 * line (ps shows those); a real program would prompt for it or use an
 * access key pair (IcsRestConfig.access_key/secret_key) instead of a
 * session.  Built by `make check` and run against a real manager by
 * client/tests/test_rest_client, so it cannot rot.
 */
#include <stdio.h>
#include <stdlib.h>

#include <ics/client.h>

static int fail(GError *error)
{
	fprintf(stderr, "list_vms: %s (%s)\n", error->message,
		ics_error_code_name((IcsErrorCode)error->code));
	g_error_free(error);
	return 1;
}

int main(void)
{
	IcsRestConfig cfg = { .url = getenv("ICS_URL"), .ca_file = getenv("ICS_CA") };
	const char *user = getenv("ICS_USER"), *password = getenv("ICS_PASSWORD");
	GError *error = NULL;
	IcsRest *anon, *rest;
	json_t *login, *session;
	char *after = NULL;

	if (!ics_rest_global_init(&error) || (anon = ics_rest_new(&cfg, &error)) == NULL)
		return fail(error);
	/* POST /api/v1/sessions: a session token for the user. */
	login = json_pack("{s:s, s:s}", "username", user ? user : "", "password",
			  password ? password : "");
	session = ics_rest_call(anon, "POST", "/api/v1/sessions", NULL, login, &error);
	json_decref(login);
	ics_rest_free(anon);
	if (session == NULL)
		return fail(error);
	cfg.token = json_string_value(json_object_get(session, "token"));
	if ((rest = ics_rest_new(&cfg, &error)) == NULL)
		return fail(error);
	/* GET /api/v1/vms page by page: "next" is the cursor of the next one. */
	do {
		GPtrArray *query = ics_rest_query_new();
		json_t *page, *vm;
		size_t i;

		ics_rest_query_add(query, "limit", "100");
		ics_rest_query_add(query, "after", after);
		page = ics_rest_call(rest, "GET", "/api/v1/vms", query, NULL, &error);
		g_ptr_array_unref(query);
		g_free(after);
		if (page == NULL)
			return fail(error);
		json_array_foreach(json_object_get(page, "items"), i, vm)
			printf("%-24s %s\n", json_string_value(json_object_get(vm, "name")),
			       json_string_value(json_object_get(vm, "uuid")));
		after = g_strdup(json_string_value(json_object_get(page, "next")));
		json_decref(page);
	} while (after != NULL);
	/* Log out: the token is worth nothing afterwards. */
	json_decref(ics_rest_call(rest, "DELETE", "/api/v1/sessions/current", NULL, NULL, NULL));
	ics_rest_free(rest);
	json_decref(session);
	ics_rest_global_cleanup();
	return 0;
}
