/*
 * test_admin_identity.c: ics-admin's identity commands against a real
 * in-process ics-managerd -- `account totp` (enroll with the QR code
 * written to a file, confirm with the recovery codes shown, status,
 * recovery codes, disable), login asking for the code after the password
 * (the session it keeps is full), `user second-factor`, `user reset-totp`,
 * and `directory` create/show/list/update/test/sync/delete against a
 * directory that is not there (the commands and their errors; the LDAP
 * side itself is manager/tests/test_directory's).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <oath.h>

#include "admin_api_test_util.h"
#include "ics/manager/timestamp.h"
#include "ics/manager/totp.h"

static int setup(void **state)
{
	*state = api_test_start(FALSE);
	return 0;
}

static int teardown(void **state)
{
	api_test_stop(*state);
	return 0;
}

/* A fresh code of @secret: the clock moves to the next step first (codes
 * are single-use). */
static char *fresh_code(const char *secret)
{
	char *raw = NULL;
	size_t len = 0;
	char *code;

	ics_clock_advance_for_test(ICS_TOTP_STEP_S * G_USEC_PER_SEC);
	assert_int_equal(oath_base32_decode(secret, strlen(secret), &raw, &len), OATH_OK);
	code = ics_totp_code((const guint8 *)raw, len, ics_now_us() / G_USEC_PER_SEC, 6);
	free(raw);
	return code;
}

static void test_totp(void **state)
{
	ApiTest *t = *state;
	g_auto(CliRun) r = { 0 };
	g_autoptr(json_t) e = NULL, confirmed = NULL;
	g_autofree char *svg_path = g_build_filename(t->home, "qr.svg", NULL);
	g_autofree char *svg = NULL, *secret = NULL, *code = NULL, *input = NULL;

	api_test_login_admin(t);
	assert_int_equal(cli_run(&r, NULL, "account", "totp", "status", NULL), 0);
	assert_non_null(strstr(r.out, "none"));
	assert_int_equal(cli_run(&r, NULL, "account", "totp", "enroll", "--qr-svg", svg_path,
				 "--json", NULL),
			 0);
	e = json_loads(r.out, 0, NULL);
	assert_non_null(e);
	secret = g_strdup(json_string_value(json_object_get(e, "secret")));
	assert_true(g_file_get_contents(svg_path, &svg, NULL, NULL));
	assert_true(g_str_has_prefix(svg, "<svg "));
	/* A wrong code: refused, exit 5. */
	assert_int_equal(
		cli_run(&r, "000000\n", "account", "totp", "confirm", "--code-stdin", NULL),
		ICS_ADMIN_EXIT_AUTH);
	code = fresh_code(secret);
	g_autofree char *line = g_strconcat(code, "\n", NULL);
	assert_int_equal(cli_run(&r, line, "account", "totp", "confirm", "--code-stdin", NULL), 0);
	assert_non_null(strstr(r.out, "recovery codes"));
	assert_int_equal(cli_run(&r, NULL, "account", "totp", "status", NULL), 0);
	assert_non_null(strstr(r.out, "active"));

	/* Login asks for the code after the password. */
	assert_int_equal(cli_run(&r, NULL, "logout", NULL), 0);
	g_free(code);
	code = fresh_code(secret);
	input = g_strdup_printf("%s\n%s\n", t->admin_password, code);
	assert_int_equal(cli_run(&r, input, "login", "admin", "--password-stdin", NULL), 0);
	assert_int_equal(cli_run(&r, NULL, "whoami", NULL), 0);
	assert_non_null(strstr(r.out, "session:      full"));
	assert_int_equal(cli_run(&r, NULL, "user", "list", NULL), 0);
	/* A wrong code: no session kept. */
	assert_int_equal(cli_run(&r, NULL, "logout", NULL), 0);
	g_free(input);
	input = g_strdup_printf("%s\n123456\n", t->admin_password);
	assert_int_equal(cli_run(&r, input, "login", "admin", "--password-stdin", NULL),
			 ICS_ADMIN_EXIT_AUTH);
	g_free(code);
	code = fresh_code(secret);
	g_free(input);
	input = g_strdup_printf("%s\n%s\n", t->admin_password, code);
	assert_int_equal(cli_run(&r, input, "login", "admin", "--password-stdin", NULL), 0);

	/* New recovery codes, then removal, each with a code. */
	g_free(code);
	code = fresh_code(secret);
	assert_int_equal(
		cli_run(&r, NULL, "account", "totp", "recovery-codes", code, "--json", NULL), 0);
	confirmed = json_loads(r.out, 0, NULL);
	assert_int_equal(json_array_size(json_object_get(confirmed, "recovery_codes")), 10);
	g_free(code);
	code = fresh_code(secret);
	assert_int_equal(cli_run(&r, NULL, "account", "totp", "disable", code, NULL), 0);
	assert_int_equal(cli_run(&r, NULL, "account", "totp", "status", "--json", NULL), 0);
	assert_non_null(strstr(r.out, "\"enrolled\": false"));

	/* Requirement and reset by an administrator. */
	g_autofree char *pw = g_strdup_printf("%s\n", API_TEST_PASSWORD);
	assert_int_equal(cli_run(&r, pw, "user", "create", "bob", "--role", "readonly",
				 "--password-stdin", NULL),
			 0);
	assert_int_equal(cli_run(&r, NULL, "user", "second-factor", "bob", "required", NULL), 0);
	assert_non_null(strstr(r.out, "(required)"));
	assert_int_equal(cli_run(&r, NULL, "user", "second-factor", "bob", "maybe", NULL),
			 ICS_ADMIN_EXIT_USAGE);
	assert_int_equal(cli_run(&r, NULL, "role", "second-factor", "readonly", "required", NULL),
			 0);
	assert_non_null(strstr(r.out, "required"));
	assert_int_equal(cli_run(&r, NULL, "user", "reset-totp", "bob", NULL),
			 ICS_ADMIN_EXIT_NOT_FOUND);
	/* bob must enrol: his login gets a limited session, and says so. */
	assert_int_equal(cli_run(&r, pw, "login", "bob", "--password-stdin", NULL), 0);
	assert_non_null(strstr(r.err, "must use a second factor"));
	assert_int_equal(cli_run(&r, NULL, "user", "list", NULL), ICS_ADMIN_EXIT_AUTH);
}

static void test_directory(void **state)
{
	ApiTest *t = *state;
	g_auto(CliRun) r = { 0 };
	g_autofree char *ca = NULL;
	g_autofree char *ca_path = g_build_filename(t->home, "ca.pem", NULL);

	api_test_login_admin(t);
	assert_true(g_file_get_contents(t->ca, &ca, NULL, NULL));
	assert_true(g_file_set_contents(ca_path, ca, -1, NULL));
	assert_int_equal(cli_run(&r, "Svc-Passw0rd!\n", "directory", "create", "corp", "--ldap-url",
				 "ldaps://127.0.0.1:1", "--ca-file", ca_path, "--bind-dn",
				 "cn=ics,dc=example,dc=com", "--user-base",
				 "ou=people,dc=example,dc=com", "--group-base",
				 "ou=groups,dc=example,dc=com", "--group-role",
				 "cn=admins,ou=groups,dc=example,dc=com=administrator",
				 "--bind-password-stdin", NULL),
			 0);
	assert_non_null(strstr(r.out, "cn=admins,ou=groups,dc=example,dc=com -> administrator"));
	assert_null(strstr(r.out, "Svc-Passw0rd!"));
	assert_int_equal(cli_run(&r, NULL, "directory", "list", NULL), 0);
	assert_non_null(strstr(r.out, "corp"));
	assert_non_null(strstr(r.out, "never"));
	assert_int_equal(
		cli_run(&r, NULL, "directory", "update", "corp", "--sync-period", "600", NULL), 0);
	assert_non_null(strstr(r.out, "600 s"));
	assert_int_equal(cli_run(&r, NULL, "directory", "show", "corp", "--json", NULL), 0);
	assert_null(strstr(r.out, "Svc-Passw0rd!"));
	/* Nobody listens there: test says so (exit 1), sync fails. */
	assert_int_equal(cli_run(&r, NULL, "directory", "test", "corp", NULL),
			 ICS_ADMIN_EXIT_ERROR);
	assert_non_null(strstr(r.out, "failed"));
	assert_non_null(strstr(r.out, "ldaps://127.0.0.1:1"));
	assert_int_not_equal(cli_run(&r, NULL, "directory", "sync", "corp", NULL), 0);
	/* Bad settings: the manager's message, exit 2. */
	assert_int_equal(cli_run(&r, "x\n", "directory", "create", "bad", "--ldap-url", "http://x",
				 "--bind-dn", "cn=a", "--user-base", "dc=b",
				 "--bind-password-stdin", NULL),
			 ICS_ADMIN_EXIT_USAGE);
	assert_non_null(strstr(r.err, "url"));
	assert_int_equal(
		cli_run(&r, NULL, "directory", "update", "corp", "--group-role", "nonsense", NULL),
		ICS_ADMIN_EXIT_USAGE);
	assert_int_equal(cli_run(&r, NULL, "directory", "delete", "corp", NULL), 0);
	assert_int_equal(cli_run(&r, NULL, "directory", "show", "corp", NULL),
			 ICS_ADMIN_EXIT_NOT_FOUND);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_totp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_directory, setup, teardown),
	};
	int rc;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
