/*
 * test_limits.c: what ends and what is capped.
 *
 * Revocation: a self-service password change keeps the session making it
 * and ends the user's others and its API keys; an administrator's reset
 * and disabling the account end everything.  Event streams end (with
 * "event: end") when their session is logged out, when the account is
 * disabled and when the user loses event.read -- at once, not at the next
 * keep-alive -- and a user's open streams are capped (429).  Connections:
 * one address over its share is refused while another address is still
 * served; an idle connection is closed after the configured idle time.
 *
 * Every wait is bounded and nothing asserts on elapsed time.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "mgr_test_util.h"

/* Keep-alives far apart, so a stream that ends at once ended because its
 * credentials changed, not because a keep-alive re-checked them. */
static void slow_keepalive(IcsManagerConfig *cfg)
{
	cfg->sse_keepalive_ms = 600000;
	cfg->event_streams_per_user = 2;
	cfg->limits.max_connections = 64;
	cfg->limits.per_ip_connections = 8;
	/* Idle connections stay (test_idle_timeout has its own manager). */
	cfg->limits.idle_timeout_s = 3600;
}

static void short_idle(IcsManagerConfig *cfg)
{
	cfg->limits.idle_timeout_s = 1;
}

static int setup(void **state)
{
	TestMgr *t = test_mgr_start_in(NULL, NULL, slow_keepalive);

	assert_non_null(t->admin_token);
	assert_int_equal(test_make_user(t, "alice", "[\"vm_manager\"]"), 201);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	test_mgr_stop(*state, FALSE);
	return 0;
}

static long key_count(TestMgr *t, const char *token)
{
	g_autoptr(TestResp) r = test_http(t, "GET", "/api/v1/apikeys", token, NULL);

	return r->status == 200 ? (long)json_array_size(json_object_get(r->json, "items")) : -1;
}

static void test_password_change_revokes(void **state)
{
	TestMgr *t = *state;
	g_autofree char *s1 = test_login(t, "alice", TEST_PASSWORD);
	g_autofree char *s2 = test_login(t, "alice", TEST_PASSWORD);
	g_autofree char *s3 = NULL;

	assert_int_equal(test_status(t, "POST", "/api/v1/apikeys", s1, "{}"), 201);
	assert_int_equal(key_count(t, s1), 1);
	assert_int_equal(test_status(t, "POST", "/api/v1/users/alice/password", s1,
				     "{\"old_password\": \"" TEST_PASSWORD "\","
				     " \"new_password\": \"An0ther-Passw0rd!\"}"),
			 204);
	/* The session that changed it goes on; the other and the key end. */
	assert_int_equal(test_status(t, "GET", "/api/v1/sessions/current", s1, NULL), 200);
	assert_int_equal(test_status(t, "GET", "/api/v1/sessions/current", s2, NULL), 401);
	assert_int_equal(key_count(t, s1), 0);

	/* An administrator's reset ends everything, keys included. */
	assert_int_equal(test_status(t, "POST", "/api/v1/apikeys", s1, "{}"), 201);
	assert_int_equal(test_status(t, "PATCH", "/api/v1/users/alice", t->admin_token,
				     "{\"password\": \"Th1rd-Passw0rd!!\"}"),
			 200);
	assert_int_equal(test_status(t, "GET", "/api/v1/sessions/current", s1, NULL), 401);
	s3 = test_login(t, "alice", "Th1rd-Passw0rd!!");
	assert_non_null(s3);
	assert_int_equal(key_count(t, s3), 0);

	/* Disabling does too. */
	assert_int_equal(test_status(t, "POST", "/api/v1/apikeys", s3, "{}"), 201);
	assert_int_equal(test_status(t, "PATCH", "/api/v1/users/alice", t->admin_token,
				     "{\"enabled\": false}"),
			 200);
	assert_int_equal(test_status(t, "GET", "/api/v1/sessions/current", s3, NULL), 401);
	{
		g_autoptr(TestResp) r =
			test_http(t, "GET", "/api/v1/apikeys", t->admin_token, NULL);

		assert_int_equal(json_array_size(json_object_get(r->json, "items")), 0);
	}
}

/* ---- event streams ----------------------------------------------------- */

typedef struct {
	const TestMgr *t;
	char *token;
	GString *text;
	long status;
	gint opened; /* the first bytes arrived */
	GThread *thread;
} Listener;

static size_t collect(char *p, size_t size, size_t n, void *data)
{
	Listener *l = data;

	g_string_append_len(l->text, p, (gssize)(size * n));
	g_atomic_int_set(&l->opened, 1);
	return size * n;
}

static gpointer listen_thread(gpointer data)
{
	Listener *l = data;
	CURL *h = curl_easy_init();
	g_autofree char *url = g_strconcat(l->t->base, "/api/v1/events", NULL);
	g_autofree char *auth = g_strconcat("Authorization: Bearer ", l->token, NULL);
	struct curl_slist *hl = curl_slist_append(NULL, auth);

	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, l);
	/* A bound: a stream that never ends fails the test, it does not hang
	 * it. */
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &l->status);
	curl_slist_free_all(hl);
	curl_easy_cleanup(h);
	return NULL;
}

static Listener *listen_start(const TestMgr *t, const char *token)
{
	Listener *l = g_new0(Listener, 1);

	l->t = t;
	l->token = g_strdup(token);
	l->text = g_string_new(NULL);
	l->thread = g_thread_new("listen", listen_thread, l);
	for (int i = 0; i < 3000 && !g_atomic_int_get(&l->opened); i++)
		g_usleep(10000);
	assert_true(g_atomic_int_get(&l->opened));
	return l;
}

/* Wait for the stream to end; its text. */
static char *listen_end(Listener *l)
{
	char *text;

	g_thread_join(l->thread);
	text = g_string_free(l->text, FALSE);
	g_free(l->token);
	g_free(l);
	return text;
}

static void assert_ended(char *text, const char *reason_part)
{
	if (strstr(text, "event: end") == NULL || strstr(text, reason_part) == NULL)
		fail_msg("stream did not end with \"%s\": %s", reason_part, text);
	g_free(text);
}

static void test_streams_end_with_credentials(void **state)
{
	TestMgr *t = *state;
	g_autofree char *s1 = test_login(t, "alice", TEST_PASSWORD);
	g_autofree char *s2 = test_login(t, "alice", TEST_PASSWORD);
	Listener *a, *b;

	/* Logout ends the stream of that session, not the other. */
	a = listen_start(t, s1);
	b = listen_start(t, s2);
	assert_int_equal(test_status(t, "DELETE", "/api/v1/sessions/current", s1, NULL), 204);
	assert_ended(listen_end(a), "session has ended");
	/* Losing event.read ends it too. */
	assert_int_equal(
		test_status(t, "PATCH", "/api/v1/users/alice", t->admin_token, "{\"roles\": []}"),
		200);
	assert_ended(listen_end(b), "event.read");
	/* Disabling the account ends a stream opened after that role came back. */
	assert_int_equal(test_status(t, "PATCH", "/api/v1/users/alice", t->admin_token,
				     "{\"roles\": [\"vm_manager\"]}"),
			 200);
	a = listen_start(t, s2);
	assert_int_equal(test_status(t, "PATCH", "/api/v1/users/alice", t->admin_token,
				     "{\"enabled\": false}"),
			 200);
	assert_ended(listen_end(a), "ended");
}

static void test_streams_capped(void **state)
{
	TestMgr *t = *state;
	g_autofree char *s1 = test_login(t, "alice", TEST_PASSWORD);
	Listener *a = listen_start(t, s1), *b = listen_start(t, s1);

	{
		g_autoptr(TestResp) r = test_http(t, "GET", "/api/v1/events", s1, NULL);

		assert_int_equal(r->status, 429);
		assert_string_equal(json_string_value(json_object_get(
					    json_object_get(r->json, "error"), "code")),
				    "limit");
	}
	/* Another user is not held to alice's cap. */
	{
		Listener *c = listen_start(t, t->admin_token);

		assert_int_equal(test_status(t, "DELETE", "/api/v1/sessions/current", s1, NULL),
				 204);
		g_free(listen_end(a));
		g_free(listen_end(b));
		/* End the admin's stream by logging that session out too. */
		assert_int_equal(
			test_status(t, "DELETE", "/api/v1/sessions/current", t->admin_token, NULL),
			204);
		g_free(listen_end(c));
	}
}

/* ---- connections ------------------------------------------------------- */

static int connect_from(const TestMgr *t, const char *source)
{
	struct sockaddr_in src = { .sin_family = AF_INET }, dst = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	inet_pton(AF_INET, source, &src.sin_addr);
	inet_pton(AF_INET, "127.0.0.1", &dst.sin_addr);
	dst.sin_port = htons(ics_manager_port(t->m));
	assert_int_equal(bind(fd, (struct sockaddr *)&src, sizeof(src)), 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&dst, sizeof(dst)), 0);
	return fd;
}

/* Closed by the server: a read gives end of file (or a reset) within
 * @seconds. */
static gboolean closed_by_server(int fd, int seconds)
{
	struct timeval tv = { .tv_sec = seconds };
	char c;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return recv(fd, &c, 1, 0) <= 0 && errno != EAGAIN && errno != EWOULDBLOCK;
}

static long health_from(const TestMgr *t, const char *source)
{
	CURL *h = curl_easy_init();
	g_autofree char *url = g_strconcat(t->base, "/api/v1/health", NULL);
	long status = 0;

	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_INTERFACE, source);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, test_collect);
	g_autoptr(GString) body = g_string_new(NULL);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, body);
	if (curl_easy_perform(h) == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(h);
	return status;
}

static void test_per_address_limit(void **state)
{
	TestMgr *t = *state;
	int fds[8], extra;

	/* 127.0.0.2 takes its whole share with idle connections ... */
	for (guint i = 0; i < G_N_ELEMENTS(fds); i++)
		fds[i] = connect_from(t, "127.0.0.2");
	/* ... its next one is refused (accepted by the kernel, closed by the
	 * server), while 127.0.0.3 is served. */
	extra = connect_from(t, "127.0.0.2");
	assert_true(closed_by_server(extra, 10));
	close(extra);
	assert_int_equal(health_from(t, "127.0.0.3"), 200);
	/* Its share back, it is served again. */
	for (guint i = 0; i < G_N_ELEMENTS(fds); i++)
		close(fds[i]);
	for (int i = 0; i < 300 && health_from(t, "127.0.0.2") != 200; i++)
		g_usleep(100000);
	assert_int_equal(health_from(t, "127.0.0.2"), 200);
}

/* An idle connection is closed after idle_timeout_seconds (1 s here; the
 * client waits up to 30 s, the default timeout being 60 s). */
static void test_idle_timeout(void **state)
{
	TestMgr *t = test_mgr_start_in(NULL, NULL, short_idle);
	int fd = connect_from(t, "127.0.0.4");

	(void)state;
	assert_true(closed_by_server(fd, 30));
	close(fd);
	test_mgr_stop(t, FALSE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_password_change_revokes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_streams_end_with_credentials, setup, teardown),
		cmocka_unit_test_setup_teardown(test_streams_capped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_per_address_limit, setup, teardown),
		cmocka_unit_test(test_idle_timeout),
	};
	int rc;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
