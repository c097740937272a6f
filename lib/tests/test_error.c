/*
 * test_error.c: the ICS_ERROR domain, code names, context prefixing and
 * errno mapping.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "ics/error.h"

static void test_domain_is_stable(void **state)
{
	assert_int_equal(ICS_ERROR, ics_error_quark());
	assert_string_equal(g_quark_to_string(ICS_ERROR), "ics-error-quark");
}

static void test_code_names(void **state)
{
	assert_string_equal(ics_error_code_name(ICS_ERROR_INVALID_ARGUMENT), "invalid-argument");
	assert_string_equal(ics_error_code_name(ICS_ERROR_NOT_FOUND), "not-found");
	assert_string_equal(ics_error_code_name(ICS_ERROR_TIMEOUT), "timeout");
	assert_string_equal(ics_error_code_name(ICS_ERROR_UNAVAILABLE), "unavailable");
	assert_string_equal(ics_error_code_name(ICS_ERROR_LIMIT), "limit");
	assert_string_equal(ics_error_code_name(ICS_ERROR_UNREACHABLE), "unreachable");
	assert_string_equal(ics_error_code_name((IcsErrorCode)999), "unknown");
	assert_string_equal(ics_error_code_name((IcsErrorCode)-1), "unknown");
}

static void test_prefix_adds_context(void **state)
{
	g_autoptr(GError) err = NULL;

	g_set_error(&err, ICS_ERROR, ICS_ERROR_IO, "sector size %d", 4096);
	ics_error_prefix(&err, "pool \"%s\": ", "gold");
	ics_error_prefix(&err, "activate: ");
	assert_string_equal(err->message, "activate: pool \"gold\": sector size 4096");
	assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_IO));
}

static void test_prefix_null_is_noop(void **state)
{
	GError *err = NULL;

	ics_error_prefix(NULL, "x: ");
	ics_error_prefix(&err, "x: ");
	assert_null(err);
}

static void test_set_errno_maps_codes(void **state)
{
	static const struct {
		int errnum;
		IcsErrorCode code;
	} cases[] = {
		{ ENOENT, ICS_ERROR_NOT_FOUND },	 { EACCES, ICS_ERROR_PERMISSION },
		{ EPERM, ICS_ERROR_PERMISSION },	 { EBUSY, ICS_ERROR_BUSY },
		{ ETIMEDOUT, ICS_ERROR_TIMEOUT },	 { EEXIST, ICS_ERROR_CONFLICT },
		{ EINVAL, ICS_ERROR_INVALID_ARGUMENT },	 { EIO, ICS_ERROR_IO },
		{ ECONNREFUSED, ICS_ERROR_UNAVAILABLE },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GError) err = NULL;
		g_autofree char *expect =
			g_strdup_printf("open /x: %s", g_strerror(cases[i].errnum));

		ics_error_set_errno(&err, cases[i].errnum, "open %s", "/x");
		assert_non_null(err);
		assert_int_equal(err->domain, ICS_ERROR);
		assert_int_equal(err->code, cases[i].code);
		assert_string_equal(err->message, expect);
	}
}

static void test_set_errno_null_error(void **state)
{
	ics_error_set_errno(NULL, ENOENT, "ignored %d", 1);
}

static void test_invalid_sets_and_returns_false(void **state)
{
	g_autoptr(GError) err = NULL;

	assert_false(ics_error_invalid(&err, "vcpus must be 1..%d, not %d", 256, 0));
	assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT));
	assert_string_equal(err->message, "vcpus must be 1..256, not 0");
	assert_false(ics_error_invalid(NULL, "ignored"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_domain_is_stable),
		cmocka_unit_test(test_code_names),
		cmocka_unit_test(test_prefix_adds_context),
		cmocka_unit_test(test_prefix_null_is_noop),
		cmocka_unit_test(test_set_errno_maps_codes),
		cmocka_unit_test(test_set_errno_null_error),
		cmocka_unit_test(test_invalid_sets_and_returns_false),
	};

	return cmocka_run_group_tests_name("error", tests, NULL, NULL);
}
