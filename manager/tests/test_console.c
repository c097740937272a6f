/*
 * test_console.c: the web console's static files -- a file of the
 * configured directory is served without credentials with its media type;
 * names that could leave the directory, hidden files, directories and
 * missing files are refused; no directory configured means 404.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "mgr_test_util.h"

/* The console directory inside the state directory, with two files, a
 * hidden one and a subdirectory. */
static void with_console(IcsManagerConfig *cfg)
{
	g_autofree char *dir = g_build_filename(cfg->state_dir, "console", NULL);
	g_autofree char *index = g_build_filename(dir, "index.html", NULL);
	g_autofree char *js = g_build_filename(dir, "app.js", NULL);
	g_autofree char *hidden = g_build_filename(dir, ".secret", NULL);
	g_autofree char *sub = g_build_filename(dir, "sub", NULL);

	g_assert_true(g_mkdir_with_parents(sub, 0700) == 0);
	g_assert_true(g_file_set_contents(index, "<html>ics</html>", -1, NULL));
	g_assert_true(g_file_set_contents(js, "console.log(1);", -1, NULL));
	g_assert_true(g_file_set_contents(hidden, "no", -1, NULL));
	cfg->console_dir = g_steal_pointer(&dir);
}

static void test_served(void **state)
{
	TestMgr *t = test_mgr_start_in(NULL, NULL, with_console);
	static const char *const refused[] = {
		"/console/.secret",   "/console/..%2Fmanager.db", "/console/sub",
		"/console/nope.html", "/console/../manager.db",	  "/console/",
		"/console/a/b",
	};

	(void)state;
	{
		g_autoptr(TestResp) r = test_http(t, "GET", "/console/index.html", NULL, NULL);

		assert_int_equal(r->status, 200);
		assert_string_equal(r->body->str, "<html>ics</html>");
		assert_non_null(strstr(r->headers->str, "text/html"));
	}
	{
		g_autoptr(TestResp) r = test_http(t, "GET", "/console/app.js", NULL, NULL);

		assert_int_equal(r->status, 200);
		assert_non_null(strstr(r->headers->str, "text/javascript"));
	}
	for (guint i = 0; i < G_N_ELEMENTS(refused); i++) {
		long st = test_status(t, "GET", refused[i], NULL, NULL);

		if (st != 400 && st != 404)
			fail_msg("%s: %ld", refused[i], st);
	}
	assert_int_equal(test_status(t, "POST", "/console/index.html", NULL, "{}"), 405);
	test_mgr_stop(t, FALSE);
}

static void test_no_directory(void **state)
{
	TestMgr *t = test_mgr_start();

	(void)state;
	assert_int_equal(test_status(t, "GET", "/console/index.html", NULL, NULL), 404);
	test_mgr_stop(t, FALSE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_served),
		cmocka_unit_test(test_no_directory),
	};
	curl_global_init(CURL_GLOBAL_DEFAULT);
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
