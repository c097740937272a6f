/*
 * test_tls.c: TLS on by default -- the first start generates a
 * self-signed certificate (key file mode 0600) that clients can verify for
 * 127.0.0.1, later starts reuse it, plain HTTP to the TLS port fails, a
 * configured certificate that cannot be read stops the start with a clear
 * error, plain HTTP is refused on a non-loopback address; and the configuration file is read
 * ([manager], [tls], [security]).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "ics/error.h"
#include "mgr_test_util.h"

static void tls_on(IcsManagerConfig *cfg)
{
	cfg->insecure_http = FALSE;
}

static void test_generated_cert(void **state)
{
	TestMgr *t = test_mgr_start_in(NULL, NULL, tls_on);
	g_autofree char *dir = g_strdup(t->dir);
	g_autofree char *pw = g_strdup(t->admin_password);
	g_autofree char *key = g_build_filename(dir, "tls-key.pem", NULL);
	g_autofree char *cert1 = NULL, *cert2 = NULL;
	struct stat st;

	assert_true(g_str_has_prefix(t->base, "https://"));
	assert_non_null(t->admin_token); /* logged in over TLS, certificate verified */
	g_autoptr(TestResp) h = test_http(t, "GET", "/api/v1/health", NULL, NULL);
	assert_int_equal(h->status, 200);
	assert_int_equal(stat(key, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_true(g_file_get_contents(t->cainfo, &cert1, NULL, NULL));
	assert_non_null(strstr(cert1, "BEGIN CERTIFICATE"));

	/* Plain HTTP to the TLS port gets no HTTP answer. */
	g_autofree char *plain = g_strdup_printf("http://%s", t->base + strlen("https://"));
	g_autofree char *https = t->base;
	t->base = g_steal_pointer(&plain);
	assert_true(test_status(t, "GET", "/api/v1/health", NULL, NULL) != 200);
	g_free(t->base);
	t->base = g_steal_pointer(&https);
	test_mgr_stop(t, TRUE);

	/* A restart reuses the certificate. */
	t = test_mgr_start_in(dir, NULL, tls_on);
	assert_true(g_file_get_contents(t->cainfo, &cert2, NULL, NULL));
	assert_string_equal(cert1, cert2);
	g_autofree char *tok = test_login(t, "admin", pw);
	assert_non_null(tok);
	test_mgr_stop(t, FALSE);
}

static void test_missing_configured_cert(void **state)
{
	g_autofree char *dir = g_dir_make_tmp("ics-tls-XXXXXX", NULL);
	g_autoptr(GError) err = NULL;
	IcsManagerConfig cfg;
	IcsManager *m;

	ics_manager_config_init(&cfg);
	g_free(cfg.state_dir);
	cfg.state_dir = g_strdup(dir);
	g_free(cfg.listen_address);
	cfg.listen_address = g_strdup("127.0.0.1");
	cfg.port = 0;
	cfg.tls_cert = g_build_filename(dir, "nope.pem", NULL);
	cfg.tls_key = g_build_filename(dir, "nope.key", NULL);
	m = ics_manager_new(&cfg, NULL, &err);
	assert_non_null(m);
	assert_false(ics_manager_listen(m, &err));
	assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_NOT_FOUND));
	assert_non_null(strstr(err->message, "nope.pem"));
	/* Nothing was generated in place of the configured files. */
	assert_false(g_file_test(cfg.tls_cert, G_FILE_TEST_EXISTS));
	ics_manager_free(m);

	/* Plain HTTP is for loopback only. */
	g_clear_error(&err);
	cfg.insecure_http = TRUE;
	g_free(cfg.listen_address);
	cfg.listen_address = g_strdup("0.0.0.0");
	m = ics_manager_new(&cfg, NULL, &err);
	assert_non_null(m);
	assert_false(ics_manager_listen(m, &err));
	assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT));
	assert_non_null(strstr(err->message, "loopback"));
	ics_manager_free(m);
	ics_manager_config_clear(&cfg);
	test_rm_rf(dir);
}

static void test_config_file(void **state)
{
	g_autofree char *dir = g_dir_make_tmp("ics-conf-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(dir, "managerd.conf", NULL);
	g_autoptr(GError) err = NULL;
	IcsManagerConfig cfg;

	assert_true(g_file_set_contents(path,
					"[manager]\nstate_dir=/srv/mgr\nlisten=[::1]:9443\n"
					"max_body=4096\n[tls]\ncert=/etc/c.pem\nkey=/etc/k.pem\n"
					"[security]\nmax_failures=7\n",
					-1, NULL));
	ics_manager_config_init(&cfg);
	assert_true(ics_manager_config_load(&cfg, path, TRUE, &err));
	assert_string_equal(cfg.state_dir, "/srv/mgr");
	assert_string_equal(cfg.listen_address, "::1");
	assert_int_equal(cfg.port, 9443);
	assert_int_equal(cfg.max_body, 4096);
	assert_string_equal(cfg.tls_cert, "/etc/c.pem");
	assert_int_equal(cfg.policy.max_failures, 7);
	assert_false(ics_manager_config_set_listen(&cfg, "no-port", &err));
	g_clear_error(&err);
	assert_true(g_file_set_contents(path, "[manager]\nmax_body=1\n", -1, NULL));
	assert_false(ics_manager_config_load(&cfg, path, TRUE, &err));
	assert_non_null(strstr(err->message, "max_body"));
	g_clear_error(&err);
	/* Absent: fine unless required. */
	assert_true(ics_manager_config_load(&cfg, "/nonexistent/managerd.conf", FALSE, &err));
	assert_false(ics_manager_config_load(&cfg, "/nonexistent/managerd.conf", TRUE, &err));
	ics_manager_config_clear(&cfg);
	test_rm_rf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_generated_cert),
		cmocka_unit_test(test_missing_configured_cert),
		cmocka_unit_test(test_config_file),
	};
	curl_global_init(CURL_GLOBAL_DEFAULT);
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
