/*
 * test_console.c: the web console's static files -- a file of the
 * configured directory is served without credentials with its media type;
 * names that could leave the directory, hidden files, directories and
 * missing files are refused; no directory configured means 404.  "/"
 * redirects to "/console/", which is index.html; hashed assets are cached
 * as immutable and index.html is revalidated; a client that accepts gzip
 * gets the build's .gz twin, others the file itself.
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
	g_autofree char *hashed = g_build_filename(dir, "chunk-AB12CD34.js", NULL);
	g_autofree char *hashed_gz = g_build_filename(dir, "chunk-AB12CD34.js.gz", NULL);

	g_assert_true(g_mkdir_with_parents(sub, 0700) == 0);
	g_assert_true(g_file_set_contents(hashed, "plain", -1, NULL));
	g_assert_true(g_file_set_contents(hashed_gz, "GZIPPED", -1, NULL));
	g_assert_true(g_file_set_contents(index, "<html>ics</html>", -1, NULL));
	g_assert_true(g_file_set_contents(js, "console.log(1);", -1, NULL));
	g_assert_true(g_file_set_contents(hidden, "no", -1, NULL));
	g_free(cfg->console_dir);
	cfg->console_dir = g_steal_pointer(&dir);
}

static void test_served(void **state)
{
	TestMgr *t = test_mgr_start_in(NULL, NULL, with_console);
	static const char *const refused[] = {
		"/console/.secret",   "/console/..%2Fmanager.db", "/console/sub",
		"/console/nope.html", "/console/../manager.db",	  "/console/a/b",
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

static gboolean has_header(const TestResp *r, const char *line)
{
	g_autofree char *lower = g_ascii_strdown(r->headers->str, -1);
	g_autofree char *want = g_ascii_strdown(line, -1);

	return strstr(lower, want) != NULL;
}

static void test_index_and_redirect(void **state)
{
	TestMgr *t = test_mgr_start_in(NULL, NULL, with_console);

	(void)state;
	{
		g_autoptr(TestResp) r = test_http(t, "GET", "/", NULL, NULL);

		assert_int_equal(r->status, 302);
		assert_true(has_header(r, "Location: /console/\r\n"));
	}
	{
		g_autoptr(TestResp) r = test_http(t, "GET", "/console/", NULL, NULL);

		assert_int_equal(r->status, 200);
		assert_string_equal(r->body->str, "<html>ics</html>");
		assert_true(has_header(r, "Cache-Control: no-cache\r\n"));
		assert_false(has_header(r, "no-store"));
	}
	assert_int_equal(test_status(t, "POST", "/", NULL, "{}"), 405);
	/* the API itself is still never cached */
	{
		g_autoptr(TestResp) r = test_http(t, "GET", "/api/v1/health", NULL, NULL);

		assert_true(has_header(r, "Cache-Control: no-store\r\n"));
	}
	test_mgr_stop(t, FALSE);
}

static void test_cache_and_gzip(void **state)
{
	TestMgr *t = test_mgr_start_in(NULL, NULL, with_console);
	static const char *const gzip[] = { "Accept-Encoding: gzip, deflate, br", NULL };
	static const char *const no_gzip[] = { "Accept-Encoding: gzip;q=0, br", NULL };

	(void)state;
	{
		g_autoptr(TestResp) r = test_http(t, "GET", "/console/chunk-AB12CD34.js", NULL, NULL);

		assert_int_equal(r->status, 200);
		assert_string_equal(r->body->str, "plain");
		assert_true(has_header(r, "Cache-Control: public, max-age=31536000, immutable\r\n"));
		assert_false(has_header(r, "Content-Encoding"));
	}
	{
		g_autoptr(TestResp) r = test_http_full(t, "GET", "/console/chunk-AB12CD34.js", NULL,
						       NULL, -1, gzip);

		assert_int_equal(r->status, 200);
		assert_string_equal(r->body->str, "GZIPPED");
		assert_true(has_header(r, "Content-Encoding: gzip\r\n"));
		assert_true(has_header(r, "Vary: Accept-Encoding\r\n"));
		assert_non_null(strstr(r->headers->str, "text/javascript"));
	}
	{
		g_autoptr(TestResp) r = test_http_full(t, "GET", "/console/chunk-AB12CD34.js", NULL,
						       NULL, -1, no_gzip);

		assert_string_equal(r->body->str, "plain");
	}
	{
		/* no .gz twin: the file itself, whatever the client accepts */
		g_autoptr(TestResp) r =
			test_http_full(t, "GET", "/console/app.js", NULL, NULL, -1, gzip);

		assert_string_equal(r->body->str, "console.log(1);");
		assert_false(has_header(r, "Content-Encoding"));
		/* not named after a hash: revalidated */
		assert_true(has_header(r, "Cache-Control: no-cache\r\n"));
	}
	test_mgr_stop(t, FALSE);
}

static void without_console(IcsManagerConfig *cfg)
{
	g_clear_pointer(&cfg->console_dir, g_free);
}

static void test_no_directory(void **state)
{
	TestMgr *t = test_mgr_start_in(NULL, NULL, without_console);

	(void)state;
	assert_int_equal(test_status(t, "GET", "/console/index.html", NULL, NULL), 404);
	assert_int_equal(test_status(t, "GET", "/console/", NULL, NULL), 404);
	test_mgr_stop(t, FALSE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_served),
		cmocka_unit_test(test_index_and_redirect),
		cmocka_unit_test(test_cache_and_gzip),
		cmocka_unit_test(test_no_directory),
	};
	curl_global_init(CURL_GLOBAL_DEFAULT);
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
