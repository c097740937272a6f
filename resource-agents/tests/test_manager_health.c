/*
 * test_manager_health.c: the agent's health check against a tiny HTTPS
 * server started in the test (libmicrohttpd with TLS, a self-signed
 * certificate like the one ics-managerd generates): 200 + db writable is
 * healthy; 503, a 200 that does not say "writable", a key other than the
 * pinned one, and a closed port are not -- and a wrong key is refused,
 * never accepted.  A certificate that names only another host (one the
 * operator installed for the VIP) passes when its key is pinned and fails
 * against it as a CA under the name localhost.  Also the listen parser.
 */
#include "config.h"

#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <microhttpd.h>

#include "ics/client.h"
#include "ics/error.h"
#include "manager_health.h"
#include "tls_fixture.h"

typedef struct {
	char *dir;
	char *cert, *key, *other_cert, *other_key;
	struct MHD_Daemon *d;
	guint port;
	unsigned int code; /* what the server answers */
	const char *body;
} Fixture;

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_size, void **con_cls)
{
	Fixture *f = cls;
	struct MHD_Response *resp;
	enum MHD_Result ret;
	const char *body = f->body;
	unsigned int code = f->code;

	(void)version, (void)upload, (void)upload_size, (void)con_cls;
	if (strcmp(method, "GET") != 0 || strcmp(url, "/api/v1/health") != 0) {
		body = "{}";
		code = MHD_HTTP_NOT_FOUND;
	}
	resp = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
	ret = MHD_queue_response(conn, code, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* The server's certificate names @name only (NULL: localhost). */
static int setup_with(void **state, const char *name)
{
	Fixture *f = g_new0(Fixture, 1);
	g_autofree char *cert = NULL, *key = NULL;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	const union MHD_DaemonInfo *info;

	f->dir = g_dir_make_tmp("test-manager-health-XXXXXX", NULL);
	f->cert = g_build_filename(f->dir, "tls-cert.pem", NULL);
	f->key = g_build_filename(f->dir, "tls-key.pem", NULL);
	f->other_cert = g_build_filename(f->dir, "other-cert.pem", NULL);
	f->other_key = g_build_filename(f->dir, "other-key.pem", NULL);
	assert_true(tls_fixture_make_cert_named(f->cert, f->key, name, NULL));
	assert_true(tls_fixture_make_cert(f->other_cert, f->other_key, NULL));
	assert_true(g_file_get_contents(f->cert, &cert, NULL, NULL));
	assert_true(g_file_get_contents(f->key, &key, NULL, NULL));
	f->code = 200;
	f->body = "{\"status\":\"ok\",\"db\":\"writable\"}";
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	sa.sin_port = 0; /* ephemeral */
	f->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_TLS, 0, NULL, NULL,
				answer, f, MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_HTTPS_MEM_CERT,
				cert, MHD_OPTION_HTTPS_MEM_KEY, key, MHD_OPTION_END);
	assert_non_null(f->d);
	info = MHD_get_daemon_info(f->d, MHD_DAEMON_INFO_BIND_PORT);
	assert_non_null(info);
	f->port = info->port;
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_with(state, NULL);
}

static int setup_named(void **state)
{
	return setup_with(state, "manager.example.com");
}

static int teardown(void **state)
{
	Fixture *f = *state;
	g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", f->dir);

	if (f->d)
		MHD_stop_daemon(f->d);
	assert_int_equal(system(cmd), 0);
	g_free(f->dir);
	g_free(f->cert);
	g_free(f->key);
	g_free(f->other_cert);
	g_free(f->other_key);
	g_free(f);
	return 0;
}

/* The check pinned to the key of @cert (the agent's default). */
static gboolean check(Fixture *f, const char *cert, long *code, GError **error)
{
	g_autofree char *pin = ics_rest_pin_from_cert_file(cert, error);
	ManagerHealthTarget t = {
		.host = "127.0.0.1", .port = f->port, .pin = pin, .timeout_ms = 10000
	};

	return pin != NULL && manager_health_check(&t, code, error);
}

/* The check against @ca under the name localhost (tls_ca). */
static gboolean check_ca(Fixture *f, const char *ca, GError **error)
{
	ManagerHealthTarget t = {
		.host = "127.0.0.1", .port = f->port, .ca_file = ca, .timeout_ms = 10000
	};

	return manager_health_check(&t, NULL, error);
}

static void test_healthy(void **state)
{
	Fixture *f = *state;
	g_autoptr(GError) error = NULL;
	long code;

	if (!check(f, f->cert, &code, &error))
		fail_msg("%s", error->message);
	assert_int_equal(code, 200);
}

static void test_503(void **state)
{
	Fixture *f = *state;
	g_autoptr(GError) error = NULL;
	long code;

	f->code = 503;
	f->body = "{\"status\":\"error\",\"db\":\"read-only\"}";
	assert_false(check(f, f->cert, &code, &error));
	assert_int_equal(code, 503);
	assert_true(g_error_matches(error, ICS_ERROR, ICS_ERROR_CONFLICT));
	assert_non_null(strstr(error->message, "503"));
	assert_non_null(strstr(error->message, "read-only"));
}

static void test_200_not_writable(void **state)
{
	Fixture *f = *state;
	g_autoptr(GError) error = NULL;

	f->body = "{\"status\":\"ok\",\"db\":\"read-only\"}";
	assert_false(check(f, f->cert, NULL, &error));
	assert_true(g_error_matches(error, ICS_ERROR, ICS_ERROR_CONFLICT));
	g_clear_error(&error);
	f->body = "not json";
	assert_false(check(f, f->cert, NULL, &error));
}

/* A server whose key is not the pinned one is not trusted; nor one whose
 * certificate does not chain to tls_ca. */
static void test_wrong_certificate(void **state)
{
	Fixture *f = *state;
	g_autoptr(GError) error = NULL;
	long code = -1;

	assert_false(check(f, f->other_cert, &code, &error));
	assert_true(g_error_matches(error, ICS_ERROR, ICS_ERROR_UNAVAILABLE));
	assert_non_null(strstr(error->message, "is not the pinned one"));
	assert_int_equal(code, 0);
	g_clear_error(&error);
	assert_true(check_ca(f, f->cert, &error));
	assert_false(check_ca(f, f->other_cert, &error));
	assert_true(g_error_matches(error, ICS_ERROR, ICS_ERROR_UNAVAILABLE));
	assert_non_null(strstr(error->message, "cannot verify the TLS certificate"));
	assert_non_null(strstr(error->message, "tls_ca"));
	g_clear_error(&error);
	{
		/* Neither a pin nor a CA: refused as a configuration error. */
		ManagerHealthTarget t = { .host = "127.0.0.1", .port = f->port };

		assert_false(manager_health_check(&t, NULL, &error));
		assert_true(g_error_matches(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT));
	}
}

/* An installed certificate naming the VIP's host name, not localhost: the
 * pinned check passes (it checks the key, not the names); verified as a CA
 * under the name localhost, as the agent did before pinning, it fails. */
static void test_installed_certificate(void **state)
{
	Fixture *f = *state;
	g_autoptr(GError) error = NULL;

	if (!check(f, f->cert, NULL, &error))
		fail_msg("pinned: %s", error->message);
	assert_false(check_ca(f, f->cert, &error));
	assert_non_null(strstr(error->message, "cannot verify the TLS certificate"));
}

static void test_closed_port(void **state)
{
	Fixture *f = *state;
	g_autoptr(GError) error = NULL;

	MHD_stop_daemon(f->d);
	f->d = NULL;
	assert_false(check(f, f->cert, NULL, &error));
	assert_true(g_error_matches(error, ICS_ERROR, ICS_ERROR_UNAVAILABLE));
	assert_non_null(strstr(error->message, "did not answer"));
}

static void test_listen_parse(void **state)
{
	const char *bad[] = { "",	   "8443",	"host",
			      "1.2.3.4:",  "1.2.3.4:0", "1.2.3.4:70000",
			      "[::1]8443", "::1:8443",	"1.2.3.4:84x",
			      NULL };
	char *host = NULL;
	guint port = 0;

	(void)state;
	assert_true(manager_listen_parse("0.0.0.0:8443", &host, &port, NULL));
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(port, 8443);
	g_free(host);
	assert_true(manager_listen_parse("10.0.0.5:443", &host, &port, NULL));
	assert_string_equal(host, "10.0.0.5");
	g_free(host);
	assert_true(manager_listen_parse("[::]:8443", &host, &port, NULL));
	assert_string_equal(host, "::1");
	g_free(host);
	assert_true(manager_listen_parse("[fd00::5]:8443", &host, &port, NULL));
	assert_string_equal(host, "fd00::5");
	g_free(host);
	for (guint i = 0; bad[i] != NULL; i++) {
		g_autoptr(GError) error = NULL;

		host = NULL;
		if (manager_listen_parse(bad[i], &host, &port, &error))
			fail_msg("accepted listen \"%s\"", bad[i]);
		assert_true(g_error_matches(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_healthy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_503, setup, teardown),
		cmocka_unit_test_setup_teardown(test_200_not_writable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_certificate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_installed_certificate, setup_named, teardown),
		cmocka_unit_test_setup_teardown(test_closed_port, setup, teardown),
		cmocka_unit_test(test_listen_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
