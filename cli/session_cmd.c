/*
 * session_cmd.c: `ics-admin login`, `logout` and `whoami`.
 *
 * Login keeps the manager's session token in ~/.config/ics/session (0600)
 * together with the URL it was issued for; the password is asked on the
 * terminal without echo, or read from standard input for scripts, and
 * never printed, logged or written anywhere.  --json output of login
 * leaves the token out: a secret does not belong on a terminal or in a
 * script's log.
 *
 * An account with a second factor: the manager answers the password with
 * a session waiting for a code; login asks for it (the next line of
 * standard input with --password-stdin) and proves it, so the session it
 * keeps is a full one.  An account that must enrol one first gets a
 * session limited to `ics-admin account totp enroll` and `confirm`.
 */
#include "config.h"

#include "api_cmd.h"

#include <string.h>

#include "ics/error.h"
#include "ics/json.h"

int ics_admin_login_main(int argc, char **argv)
{
	g_auto(IcsAdminCommon) c = { 0 };
	g_auto(IcsAdminSettings) s = { 0 };
	g_autoptr(GError) error = NULL;
	g_autoptr(IcsRest) rest = NULL;
	g_autoptr(json_t) body = NULL, resp = NULL;
	gboolean from_stdin = FALSE;
	IcsRestConfig rc;
	const char *user;
	char *pw;
	GOptionEntry extra[] = {
		{ "password-stdin", 0, 0, G_OPTION_ARG_NONE, &from_stdin,
		  "Read the password from the first line of standard input", NULL },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};

	if (!ics_admin_parse(&argc, &argv, &c, "[USER]",
			     "Log in to the manager and keep the session in ~/.config/ics/session.",
			     extra, 0, 1, &error) ||
	    !ics_admin_settings_load(&s, &c.flags, FALSE, &error))
		return ics_admin_finish(error);
	user = argc > 1 ? argv[1] : s.user ? s.user : g_get_user_name();
	ics_admin_rest_config(&s, FALSE, &rc);
	rest = ics_rest_new(&rc, &error);
	if (rest == NULL)
		return ics_admin_finish(error);
	{
		g_autofree char *prompt = g_strdup_printf("Password for %s at %s: ", user, s.url);

		pw = ics_admin_read_password(from_stdin, prompt, &error);
	}
	if (pw == NULL)
		return ics_admin_finish(error);
	body = json_pack("{s:s, s:s}", "username", user, "password", pw);
	ics_admin_password_free(pw);
	resp = ics_rest_call(rest, "POST", "/api/v1/sessions", NULL, body, &error);
	{
		/* Wipe the copy of the password in the request object. */
		json_t *p = json_object_get(body, "password");

		explicit_bzero((char *)json_string_value(p), strlen(json_string_value(p)));
	}
	if (resp == NULL)
		return ics_admin_finish(error);
	if (g_strcmp0(ics_admin_str(resp, "stage", ""), "second_factor") == 0) {
		IcsRestConfig rc2;
		g_autoptr(IcsRest) pending = NULL;
		g_autoptr(json_t) code_body = NULL, full = NULL;
		char *code;

		ics_admin_rest_config(&s, FALSE, &rc2);
		rc2.token = ics_admin_str(resp, "token", "");
		pending = ics_rest_new(&rc2, &error);
		if (pending == NULL)
			return ics_admin_finish(error);
		code = ics_admin_read_password(from_stdin, "Code (or a recovery code): ", &error);
		if (code == NULL)
			return ics_admin_finish(error);
		code_body = json_pack("{s:s}", "code", code);
		ics_admin_password_free(code);
		full = ics_rest_call(pending, "POST", "/api/v1/sessions/current/second-factor",
				     NULL, code_body, &error);
		{
			json_t *cv = json_object_get(code_body, "code");

			explicit_bzero((char *)json_string_value(cv), json_string_length(cv));
		}
		if (full == NULL)
			return ics_admin_finish(error);
		json_object_set(resp, "expires_at", json_object_get(full, "expires_at"));
		json_object_set(resp, "stage", json_object_get(full, "stage"));
	}
	if (!ics_admin_session_save(s.url, ics_admin_str(resp, "user", user),
				    ics_admin_str(resp, "token", ""),
				    ics_admin_str(resp, "expires_at", NULL), &error))
		return ics_admin_finish(error);
	{
		json_t *t = json_object_get(resp, "token");

		if (t)
			explicit_bzero((char *)json_string_value(t), strlen(json_string_value(t)));
		json_object_del(resp, "token");
	}
	if (c.json)
		ics_admin_print_json(resp);
	else
		printf("logged in to %s as %s until %s\n", s.url, ics_admin_str(resp, "user", user),
		       ics_admin_str(resp, "expires_at", "?"));
	if (g_strcmp0(ics_admin_str(resp, "stage", ""), "enrol") == 0)
		g_printerr(
			"ics-admin: your account must use a second factor: this session can only "
			"enrol one ('ics-admin account totp enroll', then 'confirm')\n");
	return ICS_ADMIN_EXIT_OK;
}

int ics_admin_logout_main(int argc, char **argv)
{
	g_auto(IcsAdminCommon) c = { 0 };
	g_auto(IcsAdminSettings) s = { 0 };
	g_autoptr(GError) error = NULL;

	if (!ics_admin_parse(&argc, &argv, &c, "", "End the saved session and remove it.", NULL, 0,
			     0, &error) ||
	    !ics_admin_settings_load(&s, &c.flags, TRUE, &error))
		return ics_admin_finish(error);
	if (s.token) {
		IcsRestConfig rc;
		g_autoptr(IcsRest) rest = NULL;
		g_autoptr(json_t) r = NULL;

		ics_admin_rest_config(&s, FALSE, &rc);
		rc.token = s.token;
		if ((rest = ics_rest_new(&rc, &error)) == NULL)
			return ics_admin_finish(error);
		r = ics_rest_call(rest, "DELETE", "/api/v1/sessions/current", NULL, NULL, &error);
		/* A session the manager has already ended is fine to forget. */
		if (r == NULL && !g_error_matches(error, ICS_ERROR, ICS_ERROR_PERMISSION))
			return ics_admin_finish(error);
		g_clear_error(&error);
	}
	if (!ics_admin_session_delete(&error))
		return ics_admin_finish(error);
	if (!c.json)
		printf(s.token ? "logged out of %s\n" : "no session with %s; nothing to end\n",
		       s.url);
	return ICS_ADMIN_EXIT_OK;
}

int ics_admin_whoami_main(int argc, char **argv)
{
	g_auto(IcsAdminCommon) c = { 0 };
	g_autoptr(GError) error = NULL;
	g_autoptr(IcsRest) rest = NULL;
	g_autoptr(json_t) me = NULL;

	if (!ics_admin_parse(&argc, &argv, &c, "",
			     "Show who the manager sees: user, roles, "
			     "permissions.",
			     NULL, 0, 0, &error) ||
	    (rest = ics_admin_connect(&c, TRUE, &error)) == NULL ||
	    (me = ics_rest_call(rest, "GET", "/api/v1/sessions/current", NULL, NULL, &error)) ==
		    NULL)
		return ics_admin_finish(error);
	if (c.json) {
		ics_admin_print_json(me);
	} else {
		g_autofree char *roles = ics_admin_join(json_object_get(me, "roles"));
		g_autofree char *perms = ics_admin_join(json_object_get(me, "permissions"));
		g_autofree char *owned = ics_admin_join(json_object_get(me, "owned_only"));

		printf("user:         %s\n", ics_admin_str(me, "user", "?"));
		printf("manager:      %s\n", ics_rest_url(rest));
		printf("auth:         %s\n", ics_admin_str(me, "auth", "?"));
		printf("roles:        %s\n", roles);
		printf("permissions:  %s\n", perms);
		printf("owned only:   %s\n", owned);
		printf("session:      %s\n", ics_admin_str(me, "stage", "full"));
	}
	return ICS_ADMIN_EXIT_OK;
}
