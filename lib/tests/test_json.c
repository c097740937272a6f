/*
 * test_json.c: loading with file:line:column errors, typed member access,
 * g_autoptr(json_t).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ics/error.h"
#include "ics/json.h"

static char *write_tmp(const char *content)
{
	char *path = NULL;
	int fd = g_file_open_tmp("test_json-XXXXXX.json", &path, NULL);

	assert_true(fd >= 0);
	close(fd);
	assert_true(g_file_set_contents(path, content, -1, NULL));
	return path;
}

static void test_load_file_ok(void **state)
{
	g_autofree char *path = write_tmp("{\"name\": \"gold\", \"size\": 42}");
	g_autoptr(json_t) root = ics_json_load_file(path, NULL);
	gint64 size = 0;

	assert_non_null(root);
	assert_string_equal(ics_json_get_string(root, "name", NULL), "gold");
	assert_true(ics_json_get_int(root, "size", &size, NULL));
	assert_int_equal(size, 42);
	unlink(path);
}

static void test_load_file_syntax_error_position(void **state)
{
	g_autofree char *path = write_tmp("{\n  \"a\": 1,\n  \"b\": ]\n}\n");
	g_autofree char *prefix = g_strdup_printf("%s:3:", path);
	g_autoptr(GError) err = NULL;
	g_autoptr(json_t) root = ics_json_load_file(path, &err);

	assert_null(root);
	assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_PARSE));
	assert_true(g_str_has_prefix(err->message, prefix));
	unlink(path);
}

static void test_load_file_missing(void **state)
{
	g_autoptr(GError) err = NULL;
	g_autoptr(json_t) root = ics_json_load_file("/nonexistent/ics.json", &err);

	assert_null(root);
	assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_NOT_FOUND));
	assert_non_null(strstr(err->message, "/nonexistent/ics.json"));
}

static void test_duplicate_keys_rejected(void **state)
{
	g_autoptr(GError) err = NULL;
	g_autoptr(json_t) root = ics_json_load_string("{\"a\":1,\"a\":2}", "body", &err);

	assert_null(root);
	assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_PARSE));
	assert_true(g_str_has_prefix(err->message, "body:1:"));
}

static void test_load_string_empty_and_null(void **state)
{
	g_autoptr(GError) e1 = NULL;
	g_autoptr(GError) e2 = NULL;

	assert_null(ics_json_load_string("", "body", &e1));
	assert_true(g_error_matches(e1, ICS_ERROR, ICS_ERROR_PARSE));
	assert_null(ics_json_load_string(NULL, "body", &e2));
	assert_true(g_error_matches(e2, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT));
}

static void test_missing_vs_wrong_type(void **state)
{
	g_autoptr(json_t) o = ics_json_load_string(
		"{\"s\":\"x\",\"i\":3,\"r\":1.5,\"b\":true,\"n\":null}", "t", NULL);
	g_autoptr(GError) missing = NULL;
	g_autoptr(GError) wrong = NULL;
	g_autoptr(GError) real = NULL;
	g_autoptr(GError) boolerr = NULL;
	gint64 i = -1;
	gboolean b = FALSE;

	assert_non_null(o);
	assert_null(ics_json_get_string(o, "nope", &missing));
	assert_true(g_error_matches(missing, ICS_ERROR, ICS_ERROR_NOT_FOUND));
	assert_string_equal(missing->message, "member \"nope\" is missing");

	assert_null(ics_json_get_string(o, "i", &wrong));
	assert_true(g_error_matches(wrong, ICS_ERROR, ICS_ERROR_PARSE));
	assert_string_equal(wrong->message, "member \"i\" must be a string, not an integer");

	assert_false(ics_json_get_int(o, "r", &i, &real));
	assert_true(g_error_matches(real, ICS_ERROR, ICS_ERROR_PARSE));
	assert_int_equal(i, -1);

	assert_true(ics_json_get_bool(o, "b", &b, NULL));
	assert_true(b);
	assert_false(ics_json_get_bool(o, "s", &b, &boolerr));
	assert_true(g_error_matches(boolerr, ICS_ERROR, ICS_ERROR_PARSE));
}

static void test_optional_members(void **state)
{
	g_autoptr(json_t) o = ics_json_load_string("{\"n\":null,\"i\":-7,\"s\":1}", "t", NULL);
	g_autoptr(GError) err = NULL;
	gint64 i = 0;

	assert_string_equal(ics_json_get_string_or(o, "absent", "def", NULL), "def");
	assert_string_equal(ics_json_get_string_or(o, "n", "def", NULL), "def");
	assert_null(ics_json_get_string_or(o, "s", "def", &err));
	assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_PARSE));
	assert_true(ics_json_get_int_or(o, "absent", 9, &i, NULL));
	assert_int_equal(i, 9);
	assert_true(ics_json_get_int_or(o, "i", 9, &i, NULL));
	assert_int_equal(i, -7);
}

static void test_large_integer(void **state)
{
	g_autoptr(json_t) o = ics_json_load_string("{\"big\": 9223372036854775807}", "t", NULL);
	gint64 v = 0;

	assert_true(ics_json_get_int(o, "big", &v, NULL));
	assert_true(v == G_MAXINT64);
}

static void test_not_an_object(void **state)
{
	g_autoptr(json_t) a = ics_json_load_string("[1,2]", "t", NULL);
	g_autoptr(GError) e1 = NULL;
	g_autoptr(GError) e2 = NULL;

	assert_false(ics_json_require_object(a, "config", &e1));
	assert_string_equal(e1->message, "config: expected an object, found an array");
	assert_null(ics_json_get_string(a, "x", &e2));
	assert_true(g_error_matches(e2, ICS_ERROR, ICS_ERROR_PARSE));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_file_ok),
		cmocka_unit_test(test_load_file_syntax_error_position),
		cmocka_unit_test(test_load_file_missing),
		cmocka_unit_test(test_duplicate_keys_rejected),
		cmocka_unit_test(test_load_string_empty_and_null),
		cmocka_unit_test(test_missing_vs_wrong_type),
		cmocka_unit_test(test_optional_members),
		cmocka_unit_test(test_large_integer),
		cmocka_unit_test(test_not_an_object),
	};

	return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
