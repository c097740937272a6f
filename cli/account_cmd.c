/*
 * account_cmd.c: `ics-admin user`, `role` and `apikey` -- the manager's
 * accounts, roles and access keys.
 *
 * Passwords are asked twice on the terminal (no echo) or read once from
 * standard input (--password-stdin); the manager checks the password rules
 * and answers with the rule that failed.  An access key's secret is shown
 * once, when it is created, because the manager cannot show it again; it
 * goes to standard output (for a script to capture) with a warning on
 * standard error.
 */
#include "config.h"

#include "api_cmd.h"

#include <string.h>

#include "ics/error.h"
#include "ics/json.h"

/* The new password: asked twice on a terminal, once on stdin. */
static char *new_password(gboolean from_stdin, const char *user, GError **error)
{
	g_autofree char *prompt = g_strdup_printf("New password for %s: ", user);
	char *pw = ics_admin_read_password(from_stdin, prompt, error), *again;

	if (pw == NULL || from_stdin)
		return pw;
	again = ics_admin_read_password(FALSE, "Again: ", error);
	if (again == NULL || strcmp(pw, again) != 0) {
		if (again)
			ics_error_invalid(error, "the passwords differ; nothing changed");
		ics_admin_password_free(pw);
		ics_admin_password_free(again);
		return NULL;
	}
	ics_admin_password_free(again);
	return pw;
}

static void wipe_member(json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	if (s)
		explicit_bzero((char *)s, strlen(s));
}

/* Send @body (its @secret member wiped afterwards); print the answer with
 * @print, as JSON with --json. */
static int send(const IcsAdminCommon *c, const char *method, const char *path, json_t *body,
		const char *secret, void (*print)(const json_t *))
{
	g_autoptr(GError) error = NULL;
	g_autoptr(IcsRest) rest = ics_admin_connect(c, TRUE, &error);
	g_autoptr(json_t) r = NULL;

	if (rest)
		r = ics_rest_call(rest, method, path, NULL, body, &error);
	if (body && secret)
		wipe_member(body, secret);
	if (r == NULL)
		return ics_admin_finish(error);
	if (c->json && !json_is_null(r))
		ics_admin_print_json(r);
	else if (print)
		print(r);
	return ICS_ADMIN_EXIT_OK;
}

/* ---- user ---------------------------------------------------------------- */

static void print_user(const json_t *u)
{
	g_autofree char *roles = ics_admin_join(json_object_get(u, "roles"));

	printf("name:     %s\n", ics_admin_str(u, "name", "?"));
	printf("enabled:  %s\n", json_is_true(json_object_get(u, "enabled")) ? "yes" : "no");
	printf("locked:   %s\n", json_is_true(json_object_get(u, "locked")) ? "yes" : "no");
	printf("roles:    %s\n", roles);
	printf("source:   %s\n", ics_admin_str(u, "directory", "local"));
	printf("2nd factor: %s%s\n",
	       json_is_true(json_object_get(u, "second_factor_enrolled")) ? "active" : "none",
	       json_is_true(json_object_get(u, "second_factor_required")) ? " (required)" : "");
	printf("created:  %s\n", ics_admin_str(u, "created_at", "?"));
	printf("updated:  %s\n", ics_admin_str(u, "updated_at", "?"));
}

static int user_list(int argc, char **argv)
{
	g_auto(IcsAdminCommon) c = { 0 };
	g_autoptr(GError) error = NULL;
	g_autoptr(IcsRest) rest = NULL;
	g_autoptr(json_t) all = NULL;
	g_autoptr(GPtrArray) t = NULL;
	json_t *u;
	size_t i;

	if (!ics_admin_parse(&argc, &argv, &c, "", "List the users.", NULL, 0, 0, &error) ||
	    (rest = ics_admin_connect(&c, TRUE, &error)) == NULL ||
	    (all = ics_admin_list_pages(rest, "/api/v1/users", NULL, "after", 0, &error)) == NULL)
		return ics_admin_finish(error);
	if (c.json) {
		ics_admin_print_json(all);
		return ICS_ADMIN_EXIT_OK;
	}
	t = ics_admin_table_new("NAME", "ENABLED", "LOCKED", "ROLES", "CREATED", NULL);
	json_array_foreach(json_object_get(all, "items"), i, u)
	{
		g_autofree char *roles = ics_admin_join(json_object_get(u, "roles"));

		ics_admin_table_add(t, ics_admin_str(u, "name", "?"),
				    json_is_true(json_object_get(u, "enabled")) ? "yes" : "no",
				    json_is_true(json_object_get(u, "locked")) ? "yes" : "no",
				    roles, ics_admin_str(u, "created_at", "?"), NULL);
	}
	ics_admin_table_print(t);
	return ICS_ADMIN_EXIT_OK;
}

static char *user_path(const char *name, const char *sub)
{
	g_autofree char *esc = g_uri_escape_string(name, NULL, FALSE);

	return g_strconcat("/api/v1/users/", esc, sub, NULL);
}

static int user_show(int argc, char **argv)
{
	g_auto(IcsAdminCommon) c = { 0 };
	g_autoptr(GError) error = NULL;
	g_autofree char *path = NULL;

	if (!ics_admin_parse(&argc, &argv, &c, "NAME", "Show a user.", NULL, 1, 1, &error))
		return ics_admin_finish(error);
	path = user_path(argv[1], NULL);
	return send(&c, "GET", path, NULL, NULL, print_user);
}

static int user_create(int argc, char **argv)
{
	g_auto(IcsAdminCommon) c = { 0 };
	g_autoptr(GError) error = NULL;
	g_auto(GStrv) roles = NULL;
	g_autoptr(json_t) body = NULL;
	gboolean from_stdin = FALSE, disabled = FALSE;
	char *pw;
	GOptionEntry extra[] = {
		{ "role", 0, 0, G_OPTION_ARG_STRING_ARRAY, &roles,
		  "A role (repeatable; at most one builtin: administrator, readonly, vm_manager)",
		  "ROLE" },
		{ "disabled", 0, 0, G_OPTION_ARG_NONE, &disabled, "Create it disabled", NULL },
		{ "password-stdin", 0, 0, G_OPTION_ARG_NONE, &from_stdin,
		  "Read the password from the first line of standard input", NULL },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};

	if (!ics_admin_parse(&argc, &argv, &c, "NAME", "Create a user.", extra, 1, 1, &error) ||
	    (pw = new_password(from_stdin, argv[1], &error)) == NULL)
		return ics_admin_finish(error);
	body = json_pack("{s:s, s:s, s:b, s:[]}", "name", argv[1], "password", pw, "enabled",
			 !disabled, "roles");
	ics_admin_password_free(pw);
	for (guint i = 0; roles && roles[i]; i++)
		json_array_append_new(json_object_get(body, "roles"), json_string(roles[i]));
	return send(&c, "POST", "/api/v1/users", body, "password", print_user);
}

static int user_delete(int argc, char **argv)
{
	g_auto(IcsAdminCommon) c = { 0 };
	g_autoptr(GError) error = NULL;
	g_autofree char *path = NULL;

	if (!ics_admin_parse(&argc, &argv, &c, "NAME", "Delete a user, their sessions and keys.",
			     NULL, 1, 1, &error))
		return ics_admin_finish(error);
	path = user_path(argv[1], NULL);
	return send(&c, "DELETE", path, NULL, NULL, NULL);
}

static int user_passwd(int argc, char **argv)
{
	g_auto(IcsAdminCommon) c = { 0 };
	g_autoptr(GError) error = NULL;
	g_autoptr(json_t) body = NULL;
	g_autofree char *path = NULL;
	gboolean from_stdin = FALSE, own = FALSE;
	char *old = NULL, *pw;
	int rc;
	GOptionEntry extra[] = {
		{ "old", 0, 0, G_OPTION_ARG_NONE, &own,
		  "Change your own password, proving the old one (no user.admin needed)", NULL },
		{ "password-stdin", 0, 0, G_OPTION_ARG_NONE, &from_stdin,
		  "Read the password(s) from standard input, one per line (old first)", NULL },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};

	if (!ics_admin_parse(&argc, &argv, &c, "NAME",
			     "Set a user's password (ends their sessions, lifts a lockout).", extra,
			     1, 1, &error))
		return ics_admin_finish(error);
	if (own && (old = ics_admin_read_password(from_stdin, "Old password: ", &error)) == NULL)
		return ics_admin_finish(error);
	pw = new_password(from_stdin, argv[1], &error);
	if (pw == NULL) {
		ics_admin_password_free(old);
		return ics_admin_finish(error);
	}
	if (own) {
		body = json_pack("{s:s, s:s}", "old_password", old, "new_password", pw);
		path = user_path(argv[1], "/password");
	} else {
		body = json_pack("{s:s}", "password", pw);
		path = user_path(argv[1], NULL);
	}
	ics_admin_password_free(old);
	ics_admin_password_free(pw);
	rc = send(&c, own ? "POST" : "PATCH", path, body, own ? "new_password" : "password", NULL);
	wipe_member(body, "old_password");
	return rc;
}

/* "required"/"optional" (also yes/no, on/off) for @what. */
static gboolean parse_required(const char *text, gboolean *out, GError **error)
{
	if (g_str_equal(text, "required") || g_str_equal(text, "yes") || g_str_equal(text, "on")) {
		*out = TRUE;
		return TRUE;
	}
	if (g_str_equal(text, "optional") || g_str_equal(text, "no") || g_str_equal(text, "off")) {
		*out = FALSE;
		return TRUE;
	}
	return ics_error_invalid(error, "\"%s\": say required or optional", text);
}

static int user_second_factor(int argc, char **argv)
{
	g_auto(IcsAdminCommon) c = { 0 };
	g_autoptr(GError) error = NULL;
	g_autofree char *path = NULL;
	g_autoptr(json_t) body = NULL;
	gboolean required;

	if (!ics_admin_parse(&argc, &argv, &c, "NAME required|optional",
			     "Require (or not) a TOTP second factor of a user.", NULL, 2, 2,
			     &error) ||
	    !parse_required(argv[2], &required, &error))
		return ics_admin_finish(error);
	path = user_path(argv[1], NULL);
	body = json_pack("{s:b}", "second_factor_required", required);
	return send(&c, "PATCH", path, body, NULL, print_user);
}

static int user_reset_totp(int argc, char **argv)
{
	g_auto(IcsAdminCommon) c = { 0 };
	g_autoptr(GError) error = NULL;
	g_autofree char *path = NULL;

	if (!ics_admin_parse(&argc, &argv, &c, "NAME",
			     "Reset a user's TOTP second factor (a lost device): ends their "
			     "sessions; they enrol again.",
			     NULL, 1, 1, &error))
		return ics_admin_finish(error);
	path = user_path(argv[1], "/totp");
	return send(&c, "DELETE", path, NULL, NULL, NULL);
}

static int user_set_roles(int argc, char **argv)
{
	g_auto(IcsAdminCommon) c = { 0 };
	g_autoptr(GError) error = NULL;
	g_autoptr(json_t) body = NULL;
	g_autofree char *path = NULL;

	if (!ics_admin_parse(&argc, &argv, &c, "NAME [ROLE...]",
			     "Replace a user's roles (none: no role).", NULL, 1, -1, &error))
		return ics_admin_finish(error);
	body = json_pack("{s:[]}", "roles");
	for (int i = 2; i < argc; i++)
		json_array_append_new(json_object_get(body, "roles"), json_string(argv[i]));
	path = user_path(argv[1], NULL);
	return send(&c, "PATCH", path, body, NULL, print_user);
}

int ics_admin_user_main(int argc, char **argv)
{
	static const IcsAdminCommand cmds[] = {
		{ "list", user_list },
		{ "show", user_show },
		{ "create", user_create },
		{ "delete", user_delete },
		{ "passwd", user_passwd },
		{ "set-roles", user_set_roles },
		{ "second-factor", user_second_factor },
		{ "reset-totp", user_reset_totp },
		{ NULL, NULL },
	};

	return ics_admin_dispatch("user", cmds,
				  "  list\n"
				  "  show NAME\n"
				  "  create NAME [--role ROLE]... [--disabled] [--password-stdin]\n"
				  "  delete NAME\n"
				  "  passwd NAME [--old] [--password-stdin]\n"
				  "  set-roles NAME [ROLE...]\n"
				  "  second-factor NAME required|optional\n"
				  "  reset-totp NAME\n",
				  argc, argv);
}

/* ---- role ---------------------------------------------------------------- */

static void print_role(const json_t *r)
{
	g_autofree char *perms = ics_admin_join(json_object_get(r, "permissions"));

	printf("name:         %s\n", ics_admin_str(r, "name", "?"));
	printf("builtin:      %s\n", json_is_true(json_object_get(r, "builtin")) ? "yes" : "no");
	printf("description:  %s\n", ics_admin_str(r, "description", ""));
	printf("permissions:  %s\n", perms);
	printf("2nd factor:   %s\n", json_is_true(json_object_get(r, "second_factor_required"))
					     ? "required"
					     : "optional");
}

static void print_roles(const json_t *list)
{
	g_autoptr(GPtrArray) t = ics_admin_table_new("NAME", "BUILTIN", "PERMISSIONS", NULL);
	json_t *r;
	size_t i;

	json_array_foreach(json_object_get(list, "items"), i, r)
	{
		g_autofree char *perms = ics_admin_join(json_object_get(r, "permissions"));

		ics_admin_table_add(t, ics_admin_str(r, "name", "?"),
				    json_is_true(json_object_get(r, "builtin")) ? "yes" : "no",
				    perms, NULL);
	}
	ics_admin_table_print(t);
}

static char *role_path(const char *name)
{
	g_autofree char *esc = g_uri_escape_string(name, NULL, FALSE);

	return g_strconcat("/api/v1/roles/", esc, NULL);
}

static int role_list(int argc, char **argv)
{
	g_auto(IcsAdminCommon) c = { 0 };
	g_autoptr(GError) error = NULL;

	if (!ics_admin_parse(&argc, &argv, &c, "", "List the roles.", NULL, 0, 0, &error))
		return ics_admin_finish(error);
	return send(&c, "GET", "/api/v1/roles", NULL, NULL, print_roles);
}

static int role_show(int argc, char **argv)
{
	g_auto(IcsAdminCommon) c = { 0 };
	g_autoptr(GError) error = NULL;
	g_autofree char *path = NULL;

	if (!ics_admin_parse(&argc, &argv, &c, "NAME", "Show a role.", NULL, 1, 1, &error))
		return ics_admin_finish(error);
	path = role_path(argv[1]);
	return send(&c, "GET", path, NULL, NULL, print_role);
}

static int role_create(int argc, char **argv)
{
	g_auto(IcsAdminCommon) c = { 0 };
	g_autoptr(GError) error = NULL;
	g_autoptr(json_t) body = NULL;
	g_autofree char *description = NULL;

	GOptionEntry extra[] = {
		{ "description", 0, 0, G_OPTION_ARG_STRING, &description, "What the role is for",
		  "TEXT" },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};

	if (!ics_admin_parse(&argc, &argv, &c, "NAME PERMISSION...",
			     "Create a custom role with these permissions.", extra, 2, -1, &error))
		return ics_admin_finish(error);
	body = json_pack("{s:s, s:[]}", "name", argv[1], "permissions");
	for (int i = 2; i < argc; i++)
		json_array_append_new(json_object_get(body, "permissions"), json_string(argv[i]));
	if (description)
		json_object_set_new(body, "description", json_string(description));
	return send(&c, "POST", "/api/v1/roles", body, NULL, print_role);
}

static int role_second_factor(int argc, char **argv)
{
	g_auto(IcsAdminCommon) c = { 0 };
	g_autoptr(GError) error = NULL;
	g_autofree char *path = NULL;
	g_autoptr(json_t) body = NULL;
	gboolean required;

	if (!ics_admin_parse(&argc, &argv, &c, "NAME required|optional",
			     "Require (or not) a TOTP second factor of a role's holders.", NULL, 2,
			     2, &error) ||
	    !parse_required(argv[2], &required, &error))
		return ics_admin_finish(error);
	path = role_path(argv[1]);
	body = json_pack("{s:b}", "second_factor_required", required);
	return send(&c, "PATCH", path, body, NULL, print_role);
}

static int role_delete(int argc, char **argv)
{
	g_auto(IcsAdminCommon) c = { 0 };
	g_autoptr(GError) error = NULL;
	g_autofree char *path = NULL;

	if (!ics_admin_parse(&argc, &argv, &c, "NAME", "Delete a custom role no user holds.", NULL,
			     1, 1, &error))
		return ics_admin_finish(error);
	path = role_path(argv[1]);
	return send(&c, "DELETE", path, NULL, NULL, NULL);
}

int ics_admin_role_main(int argc, char **argv)
{
	static const IcsAdminCommand cmds[] = {
		{ "list", role_list },
		{ "show", role_show },
		{ "create", role_create },
		{ "delete", role_delete },
		{ "second-factor", role_second_factor },
		{ NULL, NULL },
	};

	return ics_admin_dispatch("role", cmds,
				  "  list\n"
				  "  show NAME\n"
				  "  create NAME PERMISSION... [--description TEXT]\n"
				  "  delete NAME\n"
				  "  second-factor NAME required|optional\n",
				  argc, argv);
}

/* ---- apikey -------------------------------------------------------------- */

static void print_keys(const json_t *list)
{
	g_autoptr(GPtrArray) t = ics_admin_table_new("ACCESS KEY", "USER", "CREATED", "LAST USED",
						     "DESCRIPTION", NULL);
	json_t *k;
	size_t i;

	json_array_foreach(json_object_get(list, "items"), i, k) ics_admin_table_add(
		t, ics_admin_str(k, "access_key_id", "?"), ics_admin_str(k, "user", "?"),
		ics_admin_str(k, "created_at", "?"), ics_admin_str(k, "last_used_at", "never"),
		ics_admin_str(k, "description", ""), NULL);
	ics_admin_table_print(t);
}

static void print_new_key(const json_t *k)
{
	printf("access key: %s\nsecret key: %s\n", ics_admin_str(k, "access_key_id", "?"),
	       ics_admin_str(k, "secret", "?"));
}

static int apikey_list(int argc, char **argv)
{
	g_auto(IcsAdminCommon) c = { 0 };
	g_autoptr(GError) error = NULL;

	if (!ics_admin_parse(&argc, &argv, &c, "",
			     "List your access keys (everyone's with apikey.admin).", NULL, 0, 0,
			     &error))
		return ics_admin_finish(error);
	return send(&c, "GET", "/api/v1/apikeys", NULL, NULL, print_keys);
}

static int apikey_create(int argc, char **argv)
{
	g_auto(IcsAdminCommon) c = { 0 };
	g_autoptr(GError) error = NULL;
	g_autoptr(json_t) body = NULL;
	g_autofree char *description = NULL;
	int rc;
	GOptionEntry extra[] = {
		{ "description", 0, 0, G_OPTION_ARG_STRING, &description, "What the key is for",
		  "TEXT" },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};

	if (!ics_admin_parse(&argc, &argv, &c, "",
			     "Create an access key for yourself; its secret is shown only now.",
			     extra, 0, 0, &error))
		return ics_admin_finish(error);
	body = description ? json_pack("{s:s}", "description", description) : json_object();
	rc = send(&c, "POST", "/api/v1/apikeys", body, NULL, print_new_key);
	if (rc == ICS_ADMIN_EXIT_OK)
		g_printerr(
			"ics-admin: store the secret key now: the manager cannot show it again\n");
	return rc;
}

static int apikey_delete(int argc, char **argv)
{
	g_auto(IcsAdminCommon) c = { 0 };
	g_autoptr(GError) error = NULL;
	g_autofree char *path = NULL, *esc = NULL;

	if (!ics_admin_parse(&argc, &argv, &c, "ACCESS_KEY", "Delete an access key.", NULL, 1, 1,
			     &error))
		return ics_admin_finish(error);
	esc = g_uri_escape_string(argv[1], NULL, FALSE);
	path = g_strconcat("/api/v1/apikeys/", esc, NULL);
	return send(&c, "DELETE", path, NULL, NULL, NULL);
}

int ics_admin_apikey_main(int argc, char **argv)
{
	static const IcsAdminCommand cmds[] = {
		{ "list", apikey_list },
		{ "create", apikey_create },
		{ "delete", apikey_delete },
		{ NULL, NULL },
	};

	return ics_admin_dispatch("apikey", cmds,
				  "  list\n"
				  "  create [--description TEXT]\n"
				  "  delete ACCESS_KEY\n",
				  argc, argv);
}
