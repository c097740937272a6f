/*
 * test_password.c: yescrypt hashing, verification, password rules and the
 * constant-time comparison.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ics/error.h"
#include "ics/manager/login_policy.h"
#include "ics/manager/password.h"

static void test_hash_verify(void **state)
{
	g_autoptr(GError) err = NULL;
	g_autofree char *a = ics_password_hash("Correct-Horse-1", &err);
	g_autofree char *b = ics_password_hash("Correct-Horse-1", &err);

	assert_non_null(a);
	assert_true(g_str_has_prefix(a, "$y$"));
	assert_null(strstr(a, "Correct-Horse-1"));
	assert_string_not_equal(a, b); /* fresh salt each time */
	assert_true(ics_password_verify("Correct-Horse-1", a));
	assert_true(ics_password_verify("Correct-Horse-1", b));
	assert_false(ics_password_verify("Correct-Horse-2", a));
	assert_false(ics_password_verify("", a));
	assert_false(ics_password_verify("Correct-Horse-1", "plain"));
	assert_false(ics_password_verify("Correct-Horse-1", NULL));
	assert_false(ics_password_verify_dummy("anything"));
}

static void test_rules(void **state)
{
	IcsLoginPolicy p;
	g_autoptr(GError) err = NULL;

	ics_login_policy_defaults(&p);
	assert_false(ics_password_rules_check(&p, "bob", "Sh0rt!", &err));
	assert_non_null(strstr(err->message, "at least 12"));
	g_clear_error(&err);
	assert_false(ics_password_rules_check(&p, "bob", "alllowercaseletters", &err));
	assert_non_null(strstr(err->message, "mix"));
	g_clear_error(&err);
	assert_false(ics_password_rules_check(&p, "Bob-the-Admin1", "bob-the-admin1", &err));
	assert_non_null(strstr(err->message, "user name"));
	g_clear_error(&err);
	assert_true(ics_password_rules_check(&p, "bob", "Str0ng-Passw0rd!", &err));
	/* Rules never quote the password back. */
	assert_false(ics_password_rules_check(&p, "bob", "secretsecret", &err));
	assert_null(strstr(err->message, "secretsecret"));
}

static void test_policy_load(void **state)
{
	IcsLoginPolicy p;
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autoptr(GError) err = NULL;

	ics_login_policy_defaults(&p);
	assert_true(g_key_file_load_from_data(kf,
					      "[security]\nmax_failures=3\nlockout_seconds=60\n"
					      "min_password_length=16\n",
					      -1, 0, NULL));
	assert_true(ics_login_policy_load(&p, kf, &err));
	assert_int_equal(p.max_failures, 3);
	assert_int_equal(p.lockout_seconds, 60);
	assert_int_equal(p.min_password_length, 16);
	g_key_file_set_string(kf, "security", "max_failures", "zero");
	assert_false(ics_login_policy_load(&p, kf, &err));
	assert_non_null(strstr(err->message, "max_failures"));
}

static void test_secret_equal(void **state)
{
	assert_true(ics_secret_equal("abc", "abc"));
	assert_true(ics_secret_equal("", ""));
	assert_false(ics_secret_equal("abc", "abd"));
	assert_false(ics_secret_equal("abc", "ab"));
	assert_false(ics_secret_equal("ab", "abc"));
	assert_false(ics_secret_equal("", "a"));
}

static void test_generate(void **state)
{
	IcsLoginPolicy p;

	ics_login_policy_defaults(&p);
	for (int i = 0; i < 20; i++) {
		g_autofree char *pw = ics_password_generate(NULL);

		assert_int_equal(strlen(pw), 20);
		assert_true(ics_password_rules_check(&p, "admin", pw, NULL));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_verify), cmocka_unit_test(test_rules),
		cmocka_unit_test(test_policy_load), cmocka_unit_test(test_secret_equal),
		cmocka_unit_test(test_generate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
