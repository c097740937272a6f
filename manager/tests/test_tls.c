/*
 * test_tls.c: TLS on by default -- the first start generates a
 * self-signed certificate (key file mode 0600) that clients can verify for
 * 127.0.0.1, later starts reuse it, plain HTTP to the TLS port fails, a
 * configured certificate that cannot be read stops the start with a clear
 * error, plain HTTP is refused on a non-loopback address; and the configuration file is read
 * ([manager], [tls], [security], [limits], [audit]).  The default TLS
 * priorities refuse CBC and SHA-1 suites and static RSA key exchange while
 * AEAD suites with ECDHE work; a link planted at the key's temporary file
 * is not followed.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "ics/error.h"
#include "ics/manager/tls_cert.h"
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

static void names_a(IcsManagerConfig *cfg)
{
	cfg->insecure_http = FALSE;
	cfg->tls_names = g_strsplit("10.211.0.100,node1,mgr.example.org", ",", -1);
}

static void names_b(IcsManagerConfig *cfg)
{
	cfg->insecure_http = FALSE;
	cfg->tls_names = g_strsplit("10.211.0.100,node1,node2,10.211.0.12", ",", -1);
}

/* GET /health at https://@name:PORT, @name resolved to 127.0.0.1, the
 * certificate verified for @name. */
static long health_as(TestMgr *t, const char *name)
{
	CURL *h = curl_easy_init();
	g_autofree char *url = g_strdup_printf("https://%s:%u/api/v1/health", name,
					       ics_manager_port(t->m));
	g_autofree char *res = g_strdup_printf("%s:%u:127.0.0.1", name, ics_manager_port(t->m));
	struct curl_slist *r = curl_slist_append(NULL, res);
	g_autoptr(GString) body = g_string_new(NULL);
	long status = 0;

	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_RESOLVE, r);
	curl_easy_setopt(h, CURLOPT_CAINFO, t->cainfo);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, test_collect);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, body);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	if (curl_easy_perform(h) == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(r);
	curl_easy_cleanup(h);
	return status;
}

/* The certificate names the floating IP and the nodes it is given; new
 * names make it again, an installed one is never replaced. */
static void test_names(void **state)
{
	TestMgr *t = test_mgr_start_in(NULL, NULL, names_a);
	g_autofree char *dir = g_strdup(t->dir);
	g_autofree char *pem1 = NULL, *pem2 = NULL, *pem3 = NULL, *marker = NULL;
	static const char *const a[] = { "10.211.0.100", "node1", "mgr.example.org", NULL };
	static const char *const b[] = { "node2", "10.211.0.12", NULL };

	(void)state;
	assert_true(g_file_get_contents(t->cainfo, &pem1, NULL, NULL));
	assert_false(ics_tls_cert_names_missing(pem1, a, NULL));
	assert_true(ics_tls_cert_names_missing(pem1, b, NULL));
	assert_int_equal(health_as(t, "node1"), 200);
	assert_int_equal(health_as(t, "mgr.example.org"), 200);
	assert_int_equal(health_as(t, "elsewhere.example.org"), 0); /* not its name */
	test_mgr_stop(t, TRUE);

	/* node2 joined the manager nodes: made again at the next start. */
	t = test_mgr_start_in(dir, NULL, names_b);
	assert_true(g_file_get_contents(t->cainfo, &pem2, NULL, NULL));
	assert_false(ics_tls_cert_names_missing(pem2, b, NULL));
	assert_int_equal(health_as(t, "node2"), 200);
	test_mgr_stop(t, TRUE);

	/* An installed certificate stays, whatever the names. */
	marker = g_build_filename(dir, ICS_TLS_USER_MARKER, NULL);
	assert_true(g_file_set_contents(marker, "", -1, NULL));
	t = test_mgr_start_in(dir, NULL, names_a);
	assert_true(g_file_get_contents(t->cainfo, &pem3, NULL, NULL));
	assert_string_equal(pem2, pem3);
	test_mgr_stop(t, FALSE);
}

/* Handshake with only @ciphers (OpenSSL names) at TLS 1.2: the status, 0
 * when the handshake fails. */
static long with_ciphers(TestMgr *t, const char *ciphers)
{
	CURL *h = curl_easy_init();
	g_autofree char *url = g_strconcat(t->base, "/api/v1/health", NULL);
	g_autoptr(GString) body = g_string_new(NULL);
	long status = 0;

	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CAINFO, t->cainfo);
	curl_easy_setopt(h, CURLOPT_SSLVERSION,
			 (long)(CURL_SSLVERSION_TLSv1_2 | CURL_SSLVERSION_MAX_TLSv1_2));
	curl_easy_setopt(h, CURLOPT_SSL_CIPHER_LIST, ciphers);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, test_collect);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, body);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	if (curl_easy_perform(h) == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(h);
	return status;
}

static void test_cipher_suites(void **state)
{
	TestMgr *t = test_mgr_start_in(NULL, NULL, tls_on);

	(void)state;
	assert_int_equal(with_ciphers(t, "ECDHE-ECDSA-AES128-GCM-SHA256"), 200);
	assert_int_equal(with_ciphers(t, "ECDHE-ECDSA-CHACHA20-POLY1305"), 200);
	/* CBC with SHA-1, CBC with SHA-256: refused. */
	assert_int_equal(with_ciphers(t, "ECDHE-ECDSA-AES128-SHA"), 0);
	assert_int_equal(with_ciphers(t, "ECDHE-ECDSA-AES256-SHA384:ECDHE-ECDSA-AES128-SHA256"), 0);
	test_mgr_stop(t, FALSE);
}

/* A link at tls-key.pem.tmp (left by an attacker with write access to the
 * state directory's parent, or a crash) is removed, not written through. */
static void test_tmp_link_not_followed(void **state)
{
	g_autofree char *dir = g_dir_make_tmp("ics-tls-XXXXXX", NULL);
	g_autofree char *victim = g_build_filename(dir, "victim", NULL);
	g_autofree char *tmp = g_build_filename(dir, "tls-key.pem.tmp", NULL);
	g_autofree char *content = NULL;
	TestMgr *t;

	(void)state;
	assert_true(g_file_set_contents(victim, "untouched", -1, NULL));
	assert_int_equal(symlink(victim, tmp), 0);
	t = test_mgr_start_in(dir, NULL, tls_on);
	assert_non_null(t->admin_token);
	assert_true(g_file_get_contents(victim, &content, NULL, NULL));
	assert_string_equal(content, "untouched");
	assert_false(g_file_test(tmp, G_FILE_TEST_EXISTS));
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
	/* Limits, audit retention, TLS priorities, path roots. */
	assert_true(g_file_set_contents(
		path,
		"[limits]\nmax_connections=200\nper_ip_connections=20\nidle_timeout_seconds=5\n"
		"event_streams_per_user=3\nevent_streams=50\n[audit]\nmax_age_days=30\n"
		"max_rows=5000\n[tls]\npriorities=SECURE256:-VERS-ALL:+VERS-TLS1.3\n"
		"[security]\nvm_path_roots=/srv/ics/pools;/data/images\n",
		-1, NULL));
	assert_true(ics_manager_config_load(&cfg, path, TRUE, &err));
	assert_int_equal(cfg.limits.max_connections, 200);
	assert_int_equal(cfg.limits.per_ip_connections, 20);
	assert_int_equal(cfg.limits.idle_timeout_s, 5);
	assert_int_equal(cfg.event_streams_per_user, 3);
	assert_int_equal(cfg.event_streams, 50);
	assert_int_equal(cfg.audit_max_age_days, 30);
	assert_int_equal(cfg.audit_max_rows, 5000);
	assert_string_equal(cfg.tls_priorities, "SECURE256:-VERS-ALL:+VERS-TLS1.3");
	assert_string_equal(cfg.vm_path_roots[1], "/data/images");
	static const char *const bad[][2] = {
		{ "[tls]\npriorities=NORMAL:+NO-SUCH-THING\n", "NO-SUCH-THING" },
		{ "[limits]\nper_ip_connections=500\nmax_connections=100\n", "per_ip_connections" },
		{ "[limits]\nevent_streams=100\nmax_connections=100\n", "event_streams" },
		{ "[limits]\nidle_timeout_seconds=0\n", "idle_timeout_seconds" },
		{ "[security]\nvm_path_roots=relative/dir\n", "vm_path_roots" },
		{ "[security]\nvm_path_roots=/srv/../etc\n", "vm_path_roots" },
		{ "[audit]\nmax_rows=10\n", "max_rows" },
	};
	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		IcsManagerConfig c2;

		ics_manager_config_init(&c2);
		assert_true(g_file_set_contents(path, bad[i][0], -1, NULL));
		g_clear_error(&err);
		assert_false(ics_manager_config_load(&c2, path, TRUE, &err));
		if (strstr(err->message, bad[i][1]) == NULL)
			fail_msg("%s: %s", bad[i][0], err->message);
		ics_manager_config_clear(&c2);
	}
	g_clear_error(&err);
	/* Absent: fine unless required. */
	assert_true(ics_manager_config_load(&cfg, "/nonexistent/managerd.conf", FALSE, &err));
	assert_false(ics_manager_config_load(&cfg, "/nonexistent/managerd.conf", TRUE, &err));
	ics_manager_config_clear(&cfg);
	test_rm_rf(dir);
}

/* The configuration make install ships (manager/dist/managerd.conf) shows
 * every key with its built-in default: with each "#key=value" line
 * uncommented it loads and changes nothing. */
static void test_shipped_config_defaults(void **state)
{
	g_autofree char *src = g_build_filename(g_getenv("ICS_SRCDIR") ? g_getenv("ICS_SRCDIR") : "..",
					       "manager", "dist", "managerd.conf", NULL);
	g_autofree char *text = NULL;
	g_autofree char *dir = g_dir_make_tmp("ics-conf-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(dir, "managerd.conf", NULL);
	g_autoptr(GString) open = g_string_new(NULL);
	g_autoptr(GRegex) re = g_regex_new("^#([a-z_]+)=(\\S+)$", G_REGEX_MULTILINE, 0, NULL);
	g_auto(GStrv) lines = NULL;
	g_autoptr(GError) err = NULL;
	IcsManagerConfig want, got;
	guint keys = 0;

	(void)state;
	assert_true(g_file_get_contents(src, &text, NULL, NULL));
	lines = g_strsplit(text, "\n", -1);
	for (guint i = 0; lines[i]; i++) {
		if (g_regex_match(re, lines[i], 0, NULL)) {
			g_string_append_printf(open, "%s\n", lines[i] + 1);
			keys++;
		} else {
			g_string_append_printf(open, "%s\n", lines[i]);
		}
	}
	assert_true(keys >= 20);
	assert_true(g_file_set_contents(path, open->str, -1, NULL));
	ics_manager_config_init(&want);
	ics_manager_config_init(&got);
	if (!ics_manager_config_load(&got, path, TRUE, &err))
		fail_msg("the shipped configuration, uncommented: %s", err->message);
	assert_string_equal(got.state_dir, want.state_dir);
	assert_string_equal(got.listen_address, want.listen_address);
	assert_int_equal(got.port, want.port);
	assert_int_equal(got.max_body, want.max_body);
	assert_memory_equal(&got.policy, &want.policy, sizeof want.policy);
	assert_int_equal(got.mirror_period_s, want.mirror_period_s);
	assert_int_equal(got.audit_max_age_days, want.audit_max_age_days);
	assert_int_equal(got.audit_max_rows, want.audit_max_rows);
	assert_int_equal(got.event_streams_per_user, want.event_streams_per_user);
	assert_int_equal(got.event_streams, want.event_streams);
	assert_string_equal(got.totp_issuer, want.totp_issuer);
	assert_string_equal(got.volume_uri ? got.volume_uri : "", "qemu:///system");
	ics_manager_config_clear(&want);
	ics_manager_config_clear(&got);
	test_rm_rf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_generated_cert),
		cmocka_unit_test(test_missing_configured_cert),
		cmocka_unit_test(test_config_file),
		cmocka_unit_test(test_cipher_suites),
		cmocka_unit_test(test_tmp_link_not_followed),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_shipped_config_defaults),
	};
	curl_global_init(CURL_GLOBAL_DEFAULT);
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
