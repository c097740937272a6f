/*
 * directory_cmd.c: `ics-admin directory` -- LDAP directory domains:
 * list, show, create, update, delete, sync (a task, followed like the
 * other tasks), test.
 *
 * The service account's password is asked on the terminal without echo,
 * or read from standard input (--bind-password-stdin), and never printed;
 * the CA certificate is read from a file.  Group grants are given as
 * GROUP_DN=ROLE, repeatable; on update, any --group-role replaces the
 * whole mapping (the manager's semantics).
 */
#include "config.h"

#include "api_cmd.h"

#include <string.h>

#include "ics/error.h"
#include "ics/json.h"

static char *dir_path(const char *name, const char *sub)
{
	g_autofree char *esc = g_uri_escape_string(name, NULL, FALSE);

	return g_strconcat("/api/v1/directories/", esc, sub, NULL);
}

static void print_directory(const json_t *d)
{
	json_t *last = json_object_get(d, "last_sync"), *g = json_object_get(d, "group_roles");
	const char *dn;
	json_t *roles;

	printf("name:              %s\n", ics_admin_str(d, "name", "?"));
	printf("url:               %s%s\n", ics_admin_str(d, "url", "?"),
	       json_is_true(json_object_get(d, "insecure")) ? " (insecure: no TLS)" : "");
	printf("ca certificate:    %s\n",
	       json_is_string(json_object_get(d, "ca_certificate")) ? "given" : "system store");
	printf("bind dn:           %s\n", ics_admin_str(d, "bind_dn", "?"));
	printf("users:             %s %s, login %s\n", ics_admin_str(d, "user_base", "?"),
	       ics_admin_str(d, "user_filter", "?"), ics_admin_str(d, "login_attribute", "?"));
	printf("disabled filter:   %s\n", ics_admin_str(d, "disabled_filter", "-"));
	printf("groups:            %s %s, member %s\n", ics_admin_str(d, "group_base", "-"),
	       ics_admin_str(d, "group_filter", "?"), ics_admin_str(d, "member_attribute", "?"));
	json_object_foreach(g, dn, roles)
	{
		g_autofree char *r = ics_admin_join(roles);

		printf("group role:        %s -> %s\n", dn, r);
	}
	printf("sync period:       %" JSON_INTEGER_FORMAT " s\n",
	       json_integer_value(json_object_get(d, "sync_period_seconds")));
	printf("directory users:   %" JSON_INTEGER_FORMAT "\n",
	       json_integer_value(json_object_get(d, "users")));
	if (json_is_object(last))
		printf("last sync:         %s %s%s%s\n", ics_admin_str(last, "at", "?"),
		       ics_admin_str(last, "result", "?"),
		       json_is_string(json_object_get(last, "error")) ? ": " : "",
		       ics_admin_str(last, "error", ""));
	else
		printf("last sync:         never\n");
}

static void print_directories(const json_t *list)
{
	g_autoptr(GPtrArray) t =
		ics_admin_table_new("NAME", "URL", "USERS", "PERIOD", "LAST SYNC", "RESULT", NULL);
	json_t *d;
	size_t i;

	json_array_foreach(json_object_get(list, "items"), i, d)
	{
		json_t *last = json_object_get(d, "last_sync");
		g_autofree char *users = g_strdup_printf(
			"%" JSON_INTEGER_FORMAT, json_integer_value(json_object_get(d, "users")));
		g_autofree char *period = g_strdup_printf(
			"%" JSON_INTEGER_FORMAT,
			json_integer_value(json_object_get(d, "sync_period_seconds")));

		ics_admin_table_add(t, ics_admin_str(d, "name", "?"), ics_admin_str(d, "url", "?"),
				    users, period, ics_admin_str(last, "at", "never"),
				    ics_admin_str(last, "result", "-"), NULL);
	}
	ics_admin_table_print(t);
}

static void print_test(const json_t *r)
{
	if (json_is_true(json_object_get(r, "ok")))
		printf("ok: the service account binds; the filters find %" JSON_INTEGER_FORMAT
		       " users and %" JSON_INTEGER_FORMAT " groups\n",
		       json_integer_value(json_object_get(r, "users")),
		       json_integer_value(json_object_get(r, "groups")));
	else
		printf("failed: %s\n", ics_admin_str(r, "error", "?"));
}

/* GET/POST/PATCH/DELETE @path with @body; print with @print. */
static int call(const IcsAdminCommon *c, const char *method, const char *path, json_t *body,
		void (*print)(const json_t *))
{
	g_autoptr(GError) error = NULL;
	g_autoptr(IcsRest) rest = ics_admin_connect(c, TRUE, &error);
	g_autoptr(json_t) r = NULL;
	json_t *pw = body ? json_object_get(body, "bind_password") : NULL;

	if (rest)
		r = ics_rest_call(rest, method, path, NULL, body, &error);
	if (pw)
		explicit_bzero((char *)json_string_value(pw), strlen(json_string_value(pw)));
	if (r == NULL)
		return ics_admin_finish(error);
	if (c->json && !json_is_null(r))
		ics_admin_print_json(r);
	else if (print)
		print(r);
	return ICS_ADMIN_EXIT_OK;
}

/* The settings options shared by create and update. */
typedef struct {
	char *url, *ca_file, *bind_dn, *user_base, *user_filter, *login_attribute;
	char *disabled_filter, *group_base, *group_filter, *member_attribute;
	char **group_roles;
	gboolean insecure, ask_password, password_stdin;
	gint period;
} Settings;

static void settings_clear(Settings *s)
{
	g_free(s->url);
	g_free(s->ca_file);
	g_free(s->bind_dn);
	g_free(s->user_base);
	g_free(s->user_filter);
	g_free(s->login_attribute);
	g_free(s->disabled_filter);
	g_free(s->group_base);
	g_free(s->group_filter);
	g_free(s->member_attribute);
	g_strfreev(s->group_roles);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Settings, settings_clear)

#define SETTING_OPTIONS(s)                                                                              \
	{ "ldap-url",                                                                                   \
	  0,                                                                                            \
	  0,                                                                                            \
	  G_OPTION_ARG_STRING,                                                                          \
	  &(s).url,                                                                                     \
	  "ldaps://HOST[:PORT] or ldap://HOST[:PORT] "                                                  \
	  "(StartTLS)",                                                                                 \
	  "URL" },                                                                                      \
		{ "insecure",                                                                           \
		  0,                                                                                    \
		  0,                                                                                    \
		  G_OPTION_ARG_NONE,                                                                    \
		  &(s).insecure,                                                                        \
		  "No TLS (ldap:// to a loopback address only)",                                        \
		  NULL },                                                                               \
		{ "ca-file",                                                                            \
		  0,                                                                                    \
		  0,                                                                                    \
		  G_OPTION_ARG_FILENAME,                                                                \
		  &(s).ca_file,                                                                         \
		  "PEM file of the CA that signed the server's certificate",                            \
		  "FILE" },                                                                             \
		{ "bind-dn", 0, 0, G_OPTION_ARG_STRING, &(s).bind_dn, "The service account", "DN" },    \
		{ "bind-password",                                                                      \
		  0,                                                                                    \
		  0,                                                                                    \
		  G_OPTION_ARG_NONE,                                                                    \
		  &(s).ask_password,                                                                    \
		  "Ask for the service account's password (update)",                                    \
		  NULL },                                                                               \
		{ "bind-password-stdin",                                                                \
		  0,                                                                                    \
		  0,                                                                                    \
		  G_OPTION_ARG_NONE,                                                                    \
		  &(s).password_stdin,                                                                  \
		  "Read the service account's password from standard input",                            \
		  NULL },                                                                               \
		{ "user-base", 0, 0, G_OPTION_ARG_STRING, &(s).user_base, "Where users are", "DN" },    \
		{ "user-filter",                                                                        \
		  0,                                                                                    \
		  0,                                                                                    \
		  G_OPTION_ARG_STRING,                                                                  \
		  &(s).user_filter,                                                                     \
		  "Which entries are users",                                                            \
		  "FILTER" },                                                                           \
		{ "login-attribute",                                                                    \
		  0,                                                                                    \
		  0,                                                                                    \
		  G_OPTION_ARG_STRING,                                                                  \
		  &(s).login_attribute,                                                                 \
		  "The attribute holding the login name (uid)",                                         \
		  "ATTR" },                                                                             \
		{ "disabled-filter",                                                                    \
		  0,                                                                                    \
		  0,                                                                                    \
		  G_OPTION_ARG_STRING,                                                                  \
		  &(s).disabled_filter,                                                                 \
		  "Users also matching it are disabled",                                                \
		  "FILTER" },                                                                           \
		{ "group-base", 0, 0, G_OPTION_ARG_STRING, &(s).group_base, "Where groups are", "DN" }, \
		{ "group-filter",                                                                       \
		  0,                                                                                    \
		  0,                                                                                    \
		  G_OPTION_ARG_STRING,                                                                  \
		  &(s).group_filter,                                                                    \
		  "Which entries are groups",                                                           \
		  "FILTER" },                                                                           \
		{ "member-attribute",                                                                   \
		  0,                                                                                    \
		  0,                                                                                    \
		  G_OPTION_ARG_STRING,                                                                  \
		  &(s).member_attribute,                                                                \
		  "The attribute listing a group's members (member)",                                   \
		  "ATTR" },                                                                             \
		{ "group-role",                                                                         \
		  0,                                                                                    \
		  0,                                                                                    \
		  G_OPTION_ARG_STRING_ARRAY,                                                            \
		  &(s).group_roles,                                                                     \
		  "Members of GROUP_DN get ROLE (repeatable)",                                          \
		  "GROUP_DN=ROLE" },                                                                    \
	{                                                                                               \
		"sync-period", 0, 0, G_OPTION_ARG_INT, &(s).period,                                     \
			"Seconds between periodic syncs (0: none)", "SECONDS"                           \
	}

/* The request body of @s; @create: the password is required. */
static json_t *settings_body(const Settings *s, gboolean create, GError **error)
{
	g_autoptr(json_t) b = json_object();
	struct {
		const char *key;
		const char *value;
	} strs[] = {
		{ "url", s->url },
		{ "bind_dn", s->bind_dn },
		{ "user_base", s->user_base },
		{ "user_filter", s->user_filter },
		{ "login_attribute", s->login_attribute },
		{ "disabled_filter", s->disabled_filter },
		{ "group_base", s->group_base },
		{ "group_filter", s->group_filter },
		{ "member_attribute", s->member_attribute },
	};

	for (guint i = 0; i < G_N_ELEMENTS(strs); i++)
		if (strs[i].value)
			json_object_set_new(b, strs[i].key, json_string(strs[i].value));
	if (s->insecure)
		json_object_set_new(b, "insecure", json_true());
	if (s->period >= 0)
		json_object_set_new(b, "sync_period_seconds", json_integer(s->period));
	if (s->ca_file) {
		g_autofree char *pem = NULL;
		g_autoptr(GError) err = NULL;

		if (!g_file_get_contents(s->ca_file, &pem, NULL, &err)) {
			ics_error_invalid(error, "--ca-file: %s", err->message);
			return NULL;
		}
		json_object_set_new(b, "ca_certificate", json_string(pem));
	}
	if (s->group_roles) {
		json_t *map = json_object();

		json_object_set_new(b, "group_roles", map);
		for (guint i = 0; s->group_roles[i]; i++) {
			const char *eq = strrchr(s->group_roles[i], '=');
			g_autofree char *dn = NULL;
			json_t *a;

			if (eq == NULL || eq == s->group_roles[i] || eq[1] == '\0') {
				ics_error_invalid(error,
						  "--group-role \"%s\" must be GROUP_DN=ROLE",
						  s->group_roles[i]);
				return NULL;
			}
			dn = g_strndup(s->group_roles[i], eq - s->group_roles[i]);
			a = json_object_get(map, dn);
			if (a == NULL) {
				a = json_array();
				json_object_set_new(map, dn, a);
			}
			json_array_append_new(a, json_string(eq + 1));
		}
	}
	if (create || s->ask_password || s->password_stdin) {
		char *pw = ics_admin_read_password(s->password_stdin,
						   "Service account password: ", error);

		if (pw == NULL)
			return NULL;
		json_object_set_new(b, "bind_password", json_string(pw));
		ics_admin_password_free(pw);
	}
	return g_steal_pointer(&b);
}

static int directory_list(int argc, char **argv)
{
	g_auto(IcsAdminCommon) c = { 0 };
	g_autoptr(GError) error = NULL;

	if (!ics_admin_parse(&argc, &argv, &c, "", "List the LDAP directory domains.", NULL, 0, 0,
			     &error))
		return ics_admin_finish(error);
	return call(&c, "GET", "/api/v1/directories", NULL, print_directories);
}

static int directory_show(int argc, char **argv)
{
	g_auto(IcsAdminCommon) c = { 0 };
	g_autoptr(GError) error = NULL;
	g_autofree char *path = NULL;

	if (!ics_admin_parse(&argc, &argv, &c, "NAME", "Show a directory domain.", NULL, 1, 1,
			     &error))
		return ics_admin_finish(error);
	path = dir_path(argv[1], NULL);
	return call(&c, "GET", path, NULL, print_directory);
}

static int directory_create(int argc, char **argv)
{
	g_auto(IcsAdminCommon) c = { 0 };
	g_auto(Settings) s = { .period = -1 };
	g_autoptr(GError) error = NULL;
	g_autoptr(json_t) body = NULL;
	GOptionEntry extra[] = { SETTING_OPTIONS(s), { NULL, 0, 0, 0, NULL, NULL, NULL } };

	if (!ics_admin_parse(
		    &argc, &argv, &c, "NAME",
		    "Add an LDAP directory domain (--ldap-url, --bind-dn and --user-base are "
		    "required; the service account's password is asked).",
		    extra, 1, 1, &error) ||
	    (body = settings_body(&s, TRUE, &error)) == NULL)
		return ics_admin_finish(error);
	json_object_set_new(body, "name", json_string(argv[1]));
	return call(&c, "POST", "/api/v1/directories", body, print_directory);
}

static int directory_update(int argc, char **argv)
{
	g_auto(IcsAdminCommon) c = { 0 };
	g_auto(Settings) s = { .period = -1 };
	g_autoptr(GError) error = NULL;
	g_autoptr(json_t) body = NULL;
	g_autofree char *path = NULL;
	GOptionEntry extra[] = { SETTING_OPTIONS(s), { NULL, 0, 0, 0, NULL, NULL, NULL } };

	if (!ics_admin_parse(&argc, &argv, &c, "NAME",
			     "Change a directory domain's settings (only those given; an empty "
			     "value clears an optional one).",
			     extra, 1, 1, &error) ||
	    (body = settings_body(&s, FALSE, &error)) == NULL)
		return ics_admin_finish(error);
	path = dir_path(argv[1], NULL);
	return call(&c, "PATCH", path, body, print_directory);
}

static int directory_delete(int argc, char **argv)
{
	g_auto(IcsAdminCommon) c = { 0 };
	g_autoptr(GError) error = NULL;
	g_autofree char *path = NULL;

	if (!ics_admin_parse(&argc, &argv, &c, "NAME",
			     "Delete a directory domain and its users (their sessions, keys and "
			     "roles).",
			     NULL, 1, 1, &error))
		return ics_admin_finish(error);
	path = dir_path(argv[1], NULL);
	return call(&c, "DELETE", path, NULL, NULL);
}

static int directory_sync(int argc, char **argv)
{
	g_auto(IcsAdminCommon) c = { 0 };
	g_autoptr(GError) error = NULL;
	g_autoptr(IcsRest) rest = NULL;
	g_autofree char *path = NULL;
	gboolean no_wait = FALSE;
	gint timeout = ICS_ADMIN_DEFAULT_TASK_WAIT_S;
	g_autoptr(json_t) task = NULL;
	GOptionEntry extra[] = {
		{ "no-wait", 0, 0, G_OPTION_ARG_NONE, &no_wait, "Print the task id and return",
		  NULL },
		{ "timeout", 0, 0, G_OPTION_ARG_INT, &timeout, "Seconds to wait for the task",
		  "SECONDS" },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};

	if (!ics_admin_parse(&argc, &argv, &c, "NAME",
			     "Sync a directory domain's users and roles now (a task).", extra, 1, 1,
			     &error) ||
	    (rest = ics_admin_connect(&c, TRUE, &error)) == NULL)
		return ics_admin_finish(error);
	path = dir_path(argv[1], "/sync");
	task = ics_rest_call(rest, "POST", path, NULL, NULL, &error);
	if (task == NULL)
		return ics_admin_finish(error);
	return ics_admin_task_follow(rest, task, no_wait, c.json, (guint)MAX(timeout, 1));
}

static int directory_test(int argc, char **argv)
{
	g_auto(IcsAdminCommon) c = { 0 };
	g_autoptr(GError) error = NULL;
	g_autoptr(IcsRest) rest = NULL;
	g_autoptr(json_t) r = NULL;
	g_autofree char *path = NULL;

	if (!ics_admin_parse(&argc, &argv, &c, "NAME",
			     "Check a directory domain: connect, verify the certificate, bind, "
			     "count users and groups (exit 1 when it fails).",
			     NULL, 1, 1, &error) ||
	    (rest = ics_admin_connect(&c, TRUE, &error)) == NULL)
		return ics_admin_finish(error);
	path = dir_path(argv[1], "/test");
	r = ics_rest_call(rest, "POST", path, NULL, NULL, &error);
	if (r == NULL)
		return ics_admin_finish(error);
	if (c.json)
		ics_admin_print_json(r);
	else
		print_test(r);
	return json_is_true(json_object_get(r, "ok")) ? ICS_ADMIN_EXIT_OK : ICS_ADMIN_EXIT_ERROR;
}

int ics_admin_directory_main(int argc, char **argv)
{
	static const IcsAdminCommand cmds[] = {
		{ "list", directory_list },	{ "show", directory_show },
		{ "create", directory_create }, { "update", directory_update },
		{ "delete", directory_delete }, { "sync", directory_sync },
		{ "test", directory_test },	{ NULL, NULL },
	};

	return ics_admin_dispatch(
		"directory", cmds,
		"  list\n"
		"  show NAME\n"
		"  create NAME --ldap-url URL --bind-dn DN --user-base DN [OPTIONS]\n"
		"  update NAME [OPTIONS]\n"
		"  delete NAME\n"
		"  sync NAME [--no-wait] [--timeout SECONDS]\n"
		"  test NAME\n",
		argc, argv);
}
