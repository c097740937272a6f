/*
 * fake-managerd.c: TEST FIXTURE, a stand-in for ics-managerd.
 *
 * It takes ics-managerd's command line (--foreground --state-dir DIR
 * --listen ADDR:PORT [--config FILE]) and serves the same health endpoint the same way: HTTPS
 * with a self-signed certificate it writes to DIR/tls-cert.pem on first
 * start, GET /api/v1/health answering 200 {"status":"ok","db":"writable"}.
 * Everything else the real daemon does is absent.  It lets the tests of
 * ocf:ics:manager run start/monitor/stop without the manager; once
 * ics-managerd lands the same tests can point binary= at it.
 *
 * Test controls, files in the state directory:
 *   fake-health        "503": answer 503 {"status":"error","db":"read-only"}
 *   fake-ignore-term   exists: ignore SIGTERM (the agent must SIGKILL)
 *   fake-fail-start    exists: print its content on stderr and exit 1
 * It writes fake-managerd.args (its arguments, one a line) and manager.db.
 */
#include "config.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>

#include "tls_fixture.h"

static char *state_dir;

static char *state_file(const char *name)
{
	return g_build_filename(state_dir, name, NULL);
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_size, void **con_cls)
{
	g_autofree char *health_file = state_file("fake-health");
	g_autofree char *health = NULL;
	const char *body = "{\"status\":\"ok\",\"db\":\"writable\"}";
	unsigned int code = MHD_HTTP_OK;
	struct MHD_Response *resp;
	enum MHD_Result ret;

	(void)cls, (void)version, (void)upload, (void)upload_size, (void)con_cls;
	if (strcmp(method, "GET") != 0 || strcmp(url, "/api/v1/health") != 0) {
		body = "{\"error\":\"not found\"}";
		code = MHD_HTTP_NOT_FOUND;
	} else if (g_file_get_contents(health_file, &health, NULL, NULL) &&
		   g_str_has_prefix(health, "503")) {
		body = "{\"status\":\"error\",\"db\":\"read-only\"}";
		code = MHD_HTTP_SERVICE_UNAVAILABLE;
	}
	resp = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
	MHD_add_response_header(resp, "Content-Type", "application/json");
	ret = MHD_queue_response(conn, code, resp);
	MHD_destroy_response(resp);
	return ret;
}

int main(int argc, char **argv)
{
	g_autofree char *listen_arg = NULL, *config = NULL;
	g_autofree char *cert_path = NULL, *key_path = NULL, *cert = NULL, *key = NULL;
	g_autofree char *fail_file = NULL, *fail_msg = NULL, *ignore_file = NULL;
	g_autofree char *args_file = NULL, *db_file = NULL, *host = NULL;
	g_autoptr(GString) args = g_string_new(NULL);
	g_autoptr(GError) error = NULL;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct MHD_Daemon *d;
	const char *colon;
	sigset_t set;
	int sig;

	for (int i = 1; i < argc; i++) {
		g_string_append_printf(args, "%s\n", argv[i]);
		if (strcmp(argv[i], "--foreground") == 0)
			continue; /* it never forks away anyway */
		if (i + 1 < argc && strcmp(argv[i], "--state-dir") == 0)
			state_dir = g_strdup(argv[++i]);
		else if (i + 1 < argc && strcmp(argv[i], "--listen") == 0)
			listen_arg = g_strdup(argv[++i]);
		else if (i + 1 < argc && strcmp(argv[i], "--config") == 0)
			config = g_strdup(argv[++i]);
		else {
			fprintf(stderr, "fake-managerd: unknown argument %s\n", argv[i]);
			return 2;
		}
		if (i < argc)
			g_string_append_printf(args, "%s\n", argv[i]);
	}
	if (state_dir == NULL || listen_arg == NULL || (colon = strrchr(listen_arg, ':')) == NULL) {
		fprintf(stderr, "usage: fake-managerd --state-dir DIR --listen ADDR:PORT\n");
		return 2;
	}
	fail_file = state_file("fake-fail-start");
	if (g_file_get_contents(fail_file, &fail_msg, NULL, NULL)) {
		fprintf(stderr, "fake-managerd: %s\n", g_strstrip(fail_msg));
		return 1;
	}
	args_file = state_file("fake-managerd.args");
	db_file = state_file("manager.db");
	if (!g_file_set_contents(args_file, args->str, -1, &error) ||
	    !g_file_set_contents(db_file, "", 0, &error)) {
		fprintf(stderr, "fake-managerd: %s\n", error->message);
		return 1;
	}
	cert_path = state_file("tls-cert.pem");
	key_path = state_file("tls-key.pem");
	if (!g_file_test(cert_path, G_FILE_TEST_EXISTS) &&
	    !tls_fixture_make_cert(cert_path, key_path, &error)) {
		fprintf(stderr, "fake-managerd: %s\n", error->message);
		return 1;
	}
	if (!g_file_get_contents(cert_path, &cert, NULL, &error) ||
	    !g_file_get_contents(key_path, &key, NULL, &error)) {
		fprintf(stderr, "fake-managerd: %s\n", error->message);
		return 1;
	}
	host = g_strndup(listen_arg, (gsize)(colon - listen_arg));
	sa.sin_port = htons((uint16_t)atoi(colon + 1));
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		fprintf(stderr, "fake-managerd: IPv4 listen addresses only: %s\n", listen_arg);
		return 2;
	}

	/* Signals are taken synchronously by the main thread. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	ignore_file = state_file("fake-ignore-term");

	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_TLS | MHD_USE_ERROR_LOG, 0,
			     NULL, NULL, answer, NULL, MHD_OPTION_SOCK_ADDR, &sa,
			     MHD_OPTION_HTTPS_MEM_CERT, cert, MHD_OPTION_HTTPS_MEM_KEY, key,
			     MHD_OPTION_END);
	if (d == NULL) {
		fprintf(stderr, "fake-managerd: cannot listen on %s\n", listen_arg);
		return 1;
	}
	fprintf(stderr, "fake-managerd: serving on %s, state in %s\n", listen_arg, state_dir);
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGTERM && g_file_test(ignore_file, G_FILE_TEST_EXISTS)) {
			fprintf(stderr, "fake-managerd: ignoring SIGTERM\n");
			continue;
		}
		break;
	}
	MHD_stop_daemon(d);
	fprintf(stderr, "fake-managerd: stopped by signal %d\n", sig);
	g_free(state_dir);
	return 0;
}
