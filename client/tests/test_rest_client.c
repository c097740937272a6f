/*
 * test_rest_client.c: the client library against a real ics-managerd
 * over HTTPS -- the signature's canonical string is byte for byte the
 * manager's, a signed request (with query and body) is accepted and the
 * same signature on an altered or replayed request is refused, HTTP
 * statuses map to the documented error codes with the manager's message,
 * plain http is refused off loopback, and the event stream delivers events.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "client_test_util.h"
#include "ics/client.h"
#include "ics/error.h"
#include "ics/json.h"
#include "ics/manager/apikey.h"
#include "ics/request_signature.h"

typedef struct {
	ClientTest *t;
	char *token;
	char *key_id, *secret;
} Ctx;

static int setup(void **state)
{
	Ctx *c = g_new0(Ctx, 1);
	g_autoptr(GError) err = NULL;
	g_autoptr(json_t) body = NULL, session = NULL, key = NULL;

	c->t = client_test_start();
	{
		IcsRestConfig rc = { .url = c->t->url, .ca_file = c->t->ca };
		g_autoptr(IcsRest) anon = ics_rest_new(&rc, &err);

		assert_non_null(anon);
		body = json_pack("{s:s, s:s}", "username", "admin", "password",
				 c->t->admin_password);
		session = ics_rest_call(anon, "POST", "/api/v1/sessions", NULL, body, &err);
		assert_non_null(session);
		c->token = g_strdup(json_string_value(json_object_get(session, "token")));
	}
	{
		IcsRestConfig rc = { .url = c->t->url, .ca_file = c->t->ca, .token = c->token };
		g_autoptr(IcsRest) rest = ics_rest_new(&rc, &err);
		g_autoptr(json_t) req = json_pack("{s:s}", "description", "test");

		key = ics_rest_call(rest, "POST", "/api/v1/apikeys", NULL, req, &err);
		assert_non_null(key);
		c->key_id = g_strdup(json_string_value(json_object_get(key, "access_key_id")));
		c->secret = g_strdup(json_string_value(json_object_get(key, "secret")));
	}
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	Ctx *c = *state;

	client_test_stop(c->t);
	g_free(c->token);
	g_free(c->key_id);
	g_free(c->secret);
	g_free(c);
	return 0;
}

static IcsRest *client(Ctx *c, gboolean signed_requests)
{
	IcsRestConfig rc = { .url = c->t->url, .ca_file = c->t->ca };
	g_autoptr(GError) err = NULL;
	IcsRest *rest;

	if (signed_requests) {
		rc.access_key = c->key_id;
		rc.secret_key = c->secret;
	} else {
		rc.token = c->token;
	}
	rest = ics_rest_new(&rc, &err);
	assert_non_null(rest);
	return rest;
}

static void test_canonical_string(void **state)
{
	static const char *const pairs[] = { "user",  "b ob", "action",	     "vm.create", "user",
					     "alice", "x",    "a/b&c=d+e~f", "",	  "" };
	g_autoptr(IcsRequest) req = ics_request_new("POST", "/api/v1/vms");
	g_autoptr(GPtrArray) q = ics_rest_query_new();
	const char *body = "{\"definition\": {\"name\": \"x\"}}";
	g_autofree char *mine = NULL, *theirs = NULL, *empty_mine = NULL, *empty_theirs = NULL;

	(void)state;
	for (guint i = 0; i < G_N_ELEMENTS(pairs); i += 2) {
		ics_rest_query_add(q, pairs[i], pairs[i + 1]);
		g_ptr_array_add(req->query, g_strdup(pairs[i]));
		g_ptr_array_add(req->query, g_strdup(pairs[i + 1]));
	}
	g_free(req->body);
	req->body = g_strdup(body);
	req->body_len = strlen(body);
	mine = ics_signature_string("POST", "/api/v1/vms", q, "1764170000", "nonce-0123456789ab",
				    body, strlen(body));
	theirs = ics_apikey_string_to_sign(req, "1764170000", "nonce-0123456789ab");
	assert_string_equal(mine, theirs);
	assert_non_null(
		strstr(mine, "\n=&action=vm.create&user=alice&user=b%20ob&x=a%2Fb%26c%3Dd%2Be~f"));

	/* No query, no body. */
	{
		g_autoptr(IcsRequest) get = ics_request_new("GET", "/api/v1/users");

		empty_mine = ics_signature_string("GET", "/api/v1/users", NULL, "1", "n", NULL, 0);
		empty_theirs = ics_apikey_string_to_sign(get, "1", "n");
		assert_string_equal(empty_mine, empty_theirs);
	}
}

static void test_signed_accepted(void **state)
{
	Ctx *c = *state;
	g_autoptr(IcsRest) rest = client(c, TRUE);
	g_autoptr(GError) err = NULL;
	g_autoptr(json_t) me = NULL, vm = NULL, page = NULL;
	g_autoptr(json_t) body = json_pack("{s:{s:s, s:i, s:i}}", "definition", "name", "s1",
					   "vcpus", 1, "memory_mib", 128);
	g_autoptr(GPtrArray) q = ics_rest_query_new();

	me = ics_rest_call(rest, "GET", "/api/v1/sessions/current", NULL, NULL, &err);
	assert_non_null(me);
	assert_string_equal(json_string_value(json_object_get(me, "auth")), "apikey");
	vm = ics_rest_call(rest, "POST", "/api/v1/vms", NULL, body, &err);
	assert_non_null(vm);
	ics_rest_query_add(q, "user", "admin");
	ics_rest_query_add(q, "action", "vm.create");
	ics_rest_query_add(q, "since", "2020-01-01T00:00:00Z");
	ics_rest_query_add(q, "limit", "5");
	page = ics_rest_call(rest, "GET", "/api/v1/audit", q, NULL, &err);
	assert_non_null(page);
	assert_int_equal(json_array_size(json_object_get(page, "items")), 1);
}

static size_t collect(char *p, size_t size, size_t n, void *data)
{
	g_string_append_len(data, p, (gssize)(size * n));
	return size * n;
}

/* Send GET @url_path with @headers through plain libcurl; the status. */
static long raw_get(Ctx *c, const char *url_path, char **headers)
{
	CURL *h = curl_easy_init();
	struct curl_slist *list = NULL;
	g_autofree char *url = g_strconcat(c->t->url, url_path, NULL);
	g_autoptr(GString) sink = g_string_new(NULL);
	long status = 0;

	for (guint i = 0; headers[i]; i++)
		list = curl_slist_append(list, headers[i]);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CAINFO, c->t->ca);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, list);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, sink);
	if (curl_easy_perform(h) == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(list);
	curl_easy_cleanup(h);
	return status;
}

static void test_tampered_refused(void **state)
{
	Ctx *c = *state;
	g_autoptr(GPtrArray) q = ics_rest_query_new();
	g_auto(GStrv) h1 = NULL, h2 = NULL, h3 = NULL;
	ics_rest_query_add(q, "limit", "5");
	/* Signed for ?limit=5, sent with ?limit=6: refused. */
	h1 = ics_signature_headers(c->key_id, c->secret, "GET", "/api/v1/vms", q, NULL, 0);
	assert_int_equal(raw_get(c, "/api/v1/vms?limit=6", h1), 401);
	/* Signed for /api/v1/vms, sent to /api/v1/users: refused. */
	h2 = ics_signature_headers(c->key_id, c->secret, "GET", "/api/v1/vms", q, NULL, 0);
	assert_int_equal(raw_get(c, "/api/v1/users?limit=5", h2), 401);
	/* As signed: accepted once, then a replay is refused. */
	h3 = ics_signature_headers(c->key_id, c->secret, "GET", "/api/v1/vms", q, NULL, 0);
	assert_int_equal(raw_get(c, "/api/v1/vms?limit=5", h3), 200);
	assert_int_equal(raw_get(c, "/api/v1/vms?limit=5", h3), 401);
}

static void test_wrong_secret(void **state)
{
	Ctx *c = *state;
	IcsRestConfig rc = { .url = c->t->url,
			     .ca_file = c->t->ca,
			     .access_key = c->key_id,
			     .secret_key = "not-the-secret" };
	g_autoptr(GError) err = NULL;
	g_autoptr(IcsRest) rest = ics_rest_new(&rc, &err);
	g_autoptr(json_t) r = NULL;

	assert_non_null(rest);
	r = ics_rest_call(rest, "GET", "/api/v1/vms", NULL, NULL, &err);
	assert_null(r);
	assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_PERMISSION));
	assert_non_null(strstr(err->message, "signature does not match"));
}

static void test_http_errors(void **state)
{
	Ctx *c = *state;
	g_autoptr(IcsRest) rest = client(c, FALSE);
	g_autoptr(json_t) bad = json_pack("{s:s}", "nonsense", "x");
	g_autoptr(json_t) vm = json_pack("{s:{s:s, s:i, s:i}}", "definition", "name", "dup",
					 "vcpus", 1, "memory_mib", 128);
	static const struct {
		const char *method, *path;
		gboolean body;
		int code;
	} cases[] = {
		{ "GET", "/api/v1/users/nobody", FALSE, ICS_ERROR_NOT_FOUND },
		{ "GET", "/api/v1/no-such-thing", FALSE, ICS_ERROR_NOT_FOUND },
		{ "POST", "/api/v1/users", TRUE, ICS_ERROR_INVALID_ARGUMENT },
		{ "GET", "/api/v1/vms/00000000-0000-4000-8000-000000000000", FALSE,
		  ICS_ERROR_NOT_FOUND },
		{ "GET", "/api/v1/vms/not-a-uuid", FALSE, ICS_ERROR_INVALID_ARGUMENT },
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GError) err = NULL;
		g_autoptr(json_t) r = ics_rest_call(rest, cases[i].method, cases[i].path, NULL,
						    cases[i].body ? bad : NULL, &err);

		assert_null(r);
		if (!g_error_matches(err, ICS_ERROR, cases[i].code))
			fail_msg("%s %s: %s (code %d)", cases[i].method, cases[i].path,
				 err->message, err->code);
	}
	{
		g_autoptr(GError) err = NULL;
		g_autoptr(json_t) r1 = ics_rest_call(rest, "POST", "/api/v1/vms", NULL, vm, &err);
		g_autoptr(json_t) r2 = NULL;
		g_autofree char *start = NULL;

		assert_non_null(r1);
		r2 = ics_rest_call(rest, "POST", "/api/v1/vms", NULL, vm, &err);
		assert_null(r2);
		assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_CONFLICT));
		g_clear_error(&err);
		/* No cluster: 503 with the manager's message. */
		start = g_strdup_printf("/api/v1/vms/%s/start",
					json_string_value(json_object_get(r1, "uuid")));
		assert_null(ics_rest_call(rest, "POST", start, NULL, NULL, &err));
		assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_UNAVAILABLE));
		assert_non_null(strstr(err->message, "no cluster adapter"));
	}
	{
		/* No credentials at all: 401. */
		IcsRestConfig rc = { .url = c->t->url, .ca_file = c->t->ca };
		g_autoptr(GError) err = NULL;
		g_autoptr(IcsRest) anon = ics_rest_new(&rc, &err);

		assert_null(ics_rest_call(anon, "GET", "/api/v1/vms", NULL, NULL, &err));
		assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_PERMISSION));
	}
}

static void test_urls(void **state)
{
	static const char *const bad[] = { "not a url",
					   "ftp://127.0.0.1/",
					   "http://192.0.2.1:8443",
					   "https://user@127.0.0.1",
					   "https://127.0.0.1/?x=1",
					   "https://" };
	static const char *const good[] = { "https://manager.example:8443", "http://127.0.0.1:1",
					    "http://localhost:1", "http://[::1]:1",
					    "https://127.0.0.1:8443/prefix/" };

	(void)state;
	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		IcsRestConfig rc = { .url = bad[i] };
		g_autoptr(GError) err = NULL;
		g_autoptr(IcsRest) r = ics_rest_new(&rc, &err);

		if (r != NULL)
			fail_msg("%s accepted", bad[i]);
		assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT));
	}
	for (guint i = 0; i < G_N_ELEMENTS(good); i++) {
		IcsRestConfig rc = { .url = good[i] };
		g_autoptr(GError) err = NULL;
		g_autoptr(IcsRest) r = ics_rest_new(&rc, &err);

		if (r == NULL)
			fail_msg("%s refused: %s", good[i], err->message);
	}
	{
		IcsRestConfig rc = { .url = "https://127.0.0.1:1", .access_key = "AKX" };
		g_autoptr(GError) err = NULL;
		g_autoptr(IcsRest) r = ics_rest_new(&rc, &err);

		assert_null(r);
	}
}

static gboolean count_event(const char *id, const char *type, const char *data, gpointer user)
{
	GPtrArray *seen = user;

	g_ptr_array_add(seen, g_strdup_printf("%s %s %s", id ? id : "-", type, data));
	return seen->len < 2;
}

static void test_stream(void **state)
{
	Ctx *c = *state;
	g_autoptr(IcsRest) rest = client(c, TRUE);
	g_autoptr(GPtrArray) seen = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GError) err = NULL;

	for (int i = 0; i < 2; i++) {
		g_autofree char *name = g_strdup_printf("ev%d", i);
		g_autoptr(json_t) body = json_pack("{s:{s:s, s:i, s:i}}", "definition", "name",
						   name, "vcpus", 1, "memory_mib", 128);
		g_autoptr(json_t) vm = ics_rest_call(rest, "POST", "/api/v1/vms", NULL, body, &err);

		assert_non_null(vm);
	}
	assert_true(ics_rest_stream(rest, "/api/v1/events", NULL, "0", count_event, seen, &err));
	assert_int_equal(seen->len, 2);
	assert_non_null(strstr(seen->pdata[0], "vm.created"));
	assert_true(g_str_has_prefix(seen->pdata[0], "1 "));
	assert_true(g_str_has_prefix(seen->pdata[1], "2 "));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_canonical_string),
		cmocka_unit_test(test_urls),
		cmocka_unit_test_setup_teardown(test_signed_accepted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tampered_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_secret, setup, teardown),
		cmocka_unit_test_setup_teardown(test_http_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stream, setup, teardown),
	};
	int rc;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
