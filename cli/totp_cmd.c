/*
 * totp_cmd.c: `ics-admin account totp` -- one's own TOTP second factor:
 * status, enroll (the otpauth:// URI to scan or type, the QR code as an
 * SVG file for a browser), confirm with a code (shows the recovery codes,
 * once), disable, new recovery codes.
 *
 * Codes are asked on the terminal without echo or read from standard
 * input (--code-stdin), like passwords; the secret and the recovery codes
 * are printed because showing them is the point of those commands (the
 * manager never shows them again).
 */
#include "config.h"

#include "api_cmd.h"

#include <string.h>

#include "ics/error.h"
#include "ics/json.h"

/* The caller's user name, from the manager. */
static char *me(IcsRest *rest, GError **error)
{
	g_autoptr(json_t) who =
		ics_rest_call(rest, "GET", "/api/v1/sessions/current", NULL, NULL, error);

	return who ? g_strdup(ics_admin_str(who, "user", "")) : NULL;
}

static char *totp_path(const char *user, const char *sub)
{
	g_autofree char *esc = g_uri_escape_string(user, NULL, FALSE);

	return g_strconcat("/api/v1/users/", esc, "/totp", sub, NULL);
}

static void print_codes(const json_t *r)
{
	json_t *v;
	size_t i;

	printf("recovery codes (each works once; keep them apart from the device):\n");
	json_array_foreach(json_object_get(r, "recovery_codes"), i, v)
		printf("  %s\n", json_string_value(v));
}

/* Run @method on the caller's .../totp@sub with @code (NULL: no body). */
static int own(const IcsAdminCommon *c, const char *method, const char *sub, const char *code,
	       void (*print)(const json_t *))
{
	g_autoptr(GError) error = NULL;
	g_autoptr(IcsRest) rest = ics_admin_connect(c, TRUE, &error);
	g_autoptr(json_t) body = code ? json_pack("{s:s}", "code", code) : NULL;
	g_autoptr(json_t) r = NULL;
	g_autofree char *user = rest ? me(rest, &error) : NULL;
	g_autofree char *path = NULL;

	if (user == NULL)
		return ics_admin_finish(error);
	path = totp_path(user, sub);
	r = ics_rest_call(rest, method, path, NULL, body, &error);
	if (body)
		explicit_bzero((char *)json_string_value(json_object_get(body, "code")),
			       strlen(code));
	if (r == NULL)
		return ics_admin_finish(error);
	if (c->json && !json_is_null(r))
		ics_admin_print_json(r);
	else if (print)
		print(r);
	return ICS_ADMIN_EXIT_OK;
}

static void print_status(const json_t *s)
{
	printf("second factor:   %s\n", json_is_true(json_object_get(s, "enrolled")) ? "active"
					: json_is_true(json_object_get(s, "pending"))
						? "enrolment pending (confirm it)"
						: "none");
	printf("required:        %s\n",
	       json_is_true(json_object_get(s, "required")) ? "yes" : "no");
	printf("recovery codes:  %" JSON_INTEGER_FORMAT " left\n",
	       json_integer_value(json_object_get(s, "recovery_codes_left")));
}

static int totp_status(int argc, char **argv)
{
	g_auto(IcsAdminCommon) c = { 0 };
	g_autoptr(GError) error = NULL;

	if (!ics_admin_parse(&argc, &argv, &c, "", "Show your second factor's state.", NULL, 0, 0,
			     &error))
		return ics_admin_finish(error);
	return own(&c, "GET", "", NULL, print_status);
}

static void print_enrolment(const json_t *e)
{
	printf("secret:  %s\nuri:     %s\n", ics_admin_str(e, "secret", "?"),
	       ics_admin_str(e, "otpauth_uri", "?"));
	printf("add it to an authenticator app, then: ics-admin account totp confirm\n");
}

static int totp_enroll(int argc, char **argv)
{
	g_auto(IcsAdminCommon) c = { 0 };
	g_autoptr(GError) error = NULL;
	g_autoptr(IcsRest) rest = NULL;
	g_autoptr(json_t) r = NULL;
	g_autofree char *user = NULL, *path = NULL, *qr = NULL;
	GOptionEntry extra[] = {
		{ "qr-svg", 0, 0, G_OPTION_ARG_FILENAME, &qr,
		  "Also write the QR code to FILE (SVG)", "FILE" },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};

	if (!ics_admin_parse(&argc, &argv, &c, "",
			     "Begin enrolling a TOTP second factor: shows its secret once.", extra,
			     0, 0, &error) ||
	    (rest = ics_admin_connect(&c, TRUE, &error)) == NULL ||
	    (user = me(rest, &error)) == NULL)
		return ics_admin_finish(error);
	path = totp_path(user, "");
	r = ics_rest_call(rest, "POST", path, NULL, NULL, &error);
	if (r == NULL)
		return ics_admin_finish(error);
	if (qr) {
		const char *svg = ics_admin_str(r, "qr_svg", "");

		if (!g_file_set_contents_full(qr, svg, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600,
					      &error))
			return ics_admin_finish(error);
	}
	if (c.json)
		ics_admin_print_json(r);
	else
		print_enrolment(r);
	explicit_bzero((char *)ics_admin_str(r, "secret", ""),
		       strlen(ics_admin_str(r, "secret", "")));
	return ICS_ADMIN_EXIT_OK;
}

/* The code: argv[1], or asked (or read with --code-stdin). */
static char *get_code(int argc, char **argv, gboolean from_stdin, const char *prompt,
		      GError **error)
{
	if (argc > 1)
		return g_strdup(argv[1]);
	return ics_admin_read_password(from_stdin, prompt, error);
}

static int with_code(int argc, char **argv, const char *summary, const char *method,
		     const char *sub, void (*print)(const json_t *))
{
	g_auto(IcsAdminCommon) c = { 0 };
	g_autoptr(GError) error = NULL;
	gboolean from_stdin = FALSE;
	char *code;
	int rc;
	GOptionEntry extra[] = {
		{ "code-stdin", 0, 0, G_OPTION_ARG_NONE, &from_stdin,
		  "Read the code from standard input", NULL },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};

	if (!ics_admin_parse(&argc, &argv, &c, "[CODE]", summary, extra, 0, 1, &error) ||
	    (code = get_code(argc, argv, from_stdin, "Code: ", &error)) == NULL)
		return ics_admin_finish(error);
	rc = own(&c, method, sub, code, print);
	ics_admin_password_free(code);
	return rc;
}

static void print_confirmed(const json_t *r)
{
	printf("the second factor is active\n");
	print_codes(r);
}

static int totp_confirm(int argc, char **argv)
{
	return with_code(argc, argv,
			 "Finish the enrolment with a code from the app; shows the recovery "
			 "codes once.",
			 "POST", "/confirm", print_confirmed);
}

static void print_disabled(const json_t *r)
{
	printf("the second factor is removed\n");
}

static int totp_disable(int argc, char **argv)
{
	return with_code(argc, argv, "Remove your second factor, proving a current code.", "POST",
			 "/disable", print_disabled);
}

static int totp_recovery_codes(int argc, char **argv)
{
	return with_code(argc, argv,
			 "Replace your recovery codes, proving a current code; shows them once.",
			 "POST", "/recovery-codes", print_codes);
}

static int account_totp(int argc, char **argv)
{
	static const IcsAdminCommand cmds[] = {
		{ "status", totp_status },
		{ "enroll", totp_enroll },
		{ "confirm", totp_confirm },
		{ "disable", totp_disable },
		{ "recovery-codes", totp_recovery_codes },
		{ NULL, NULL },
	};

	return ics_admin_dispatch("account totp", cmds,
				  "  status\n"
				  "  enroll [--qr-svg FILE]\n"
				  "  confirm [CODE] [--code-stdin]\n"
				  "  disable [CODE] [--code-stdin]\n"
				  "  recovery-codes [CODE] [--code-stdin]\n",
				  argc, argv);
}

int ics_admin_account_main(int argc, char **argv)
{
	static const IcsAdminCommand cmds[] = {
		{ "totp", account_totp },
		{ NULL, NULL },
	};

	return ics_admin_dispatch("account", cmds,
				  "  totp status|enroll|confirm|disable|recovery-codes\n", argc,
				  argv);
}
