/*
 * test_rest_client.c: the client library against a real ics-managerd over
 * HTTPS.  The ways of trusting the server: a CA file (only that file), the
 * system's store (which does not know a self-signed manager), a pinned
 * public key alone (any name, no chain) or with a CA file (both checks),
 * a wrong pin refused with a message that says so; connecting to one
 * address while verifying another name (connect host); transport failures
 * mapped to codes (refused UNREACHABLE, silent TIMEOUT within the
 * configured time); HTTP statuses mapped to the documented codes with the
 * manager's message; URL, pin and connect-host checks; the event stream;
 * the pin helper against openssl's computation; and the SDK's example
 * program run against the manager.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "client_test_util.h"
#include "ics/client.h"
#include "ics/error.h"
#include "ics/json.h"
#include "ics/manager/tls_cert.h"

/* Two well-formed pins of no key of this test. */
#define PIN_A "sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
#define PIN_B "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

typedef struct {
	ClientTest *t;
	char *token;
	char *dir;	  /* scratch files */
	char *other_cert; /* another manager's certificate */
	char *pin, *other_pin;
} Ctx;

static int setup_names(void **state, const char *tls_names)
{
	Ctx *c = g_new0(Ctx, 1);
	g_autofree char *key = NULL, *cert_pem = NULL, *key_pem = NULL;
	g_autoptr(GError) err = NULL;

	c->t = client_test_start_with(FALSE, tls_names);
	c->token = client_test_login(c->t);
	c->dir = g_dir_make_tmp("ics-client-test-XXXXXX", NULL);
	c->other_cert = g_build_filename(c->dir, "other-cert.pem", NULL);
	key = g_build_filename(c->dir, "other-key.pem", NULL);
	assert_true(ics_tls_cert_load(c->other_cert, key, TRUE, NULL, &cert_pem, &key_pem, &err));
	c->pin = ics_rest_pin_from_cert_file(c->t->ca, &err);
	assert_non_null(c->pin);
	c->other_pin = ics_rest_pin_from_cert_file(c->other_cert, &err);
	assert_non_null(c->other_pin);
	assert_string_not_equal(c->pin, c->other_pin);
	*state = c;
	return 0;
}

static int setup(void **state)
{
	return setup_names(state, NULL);
}

/* The manager's certificate also names manager.example. */
static int setup_named(void **state)
{
	return setup_names(state, "manager.example");
}

static int teardown(void **state)
{
	Ctx *c = *state;

	client_test_stop(c->t);
	client_test_rm_rf(c->dir);
	g_free(c->dir);
	g_free(c->other_cert);
	g_free(c->pin);
	g_free(c->other_pin);
	g_free(c->token);
	g_free(c);
	return 0;
}

static IcsRest *token_client(Ctx *c)
{
	IcsRestConfig rc = { .url = c->t->url, .ca_file = c->t->ca, .token = c->token };
	g_autoptr(GError) err = NULL;
	IcsRest *rest = ics_rest_new(&rc, &err);

	assert_non_null(rest);
	return rest;
}

/* GET /api/v1/health with @rc; TRUE when it answered 2xx, else @error. */
static gboolean health(const IcsRestConfig *rc, GError **error)
{
	g_autoptr(IcsRest) rest = ics_rest_new(rc, error);
	g_autoptr(json_t) h = NULL;

	if (rest == NULL)
		return FALSE;
	h = ics_rest_call(rest, "GET", "/api/v1/health", NULL, NULL, error);
	return h != NULL;
}

static void expect_health(const IcsRestConfig *rc, const char *what)
{
	g_autoptr(GError) err = NULL;

	if (!health(rc, &err))
		fail_msg("%s: %s", what, err->message);
}

static void expect_refused(const IcsRestConfig *rc, const char *what, int code, const char *msg)
{
	g_autoptr(GError) err = NULL;

	if (health(rc, &err))
		fail_msg("%s: accepted", what);
	if (!g_error_matches(err, ICS_ERROR, code) || strstr(err->message, msg) == NULL)
		fail_msg("%s: code %d, \"%s\" (expected code %d, \"%s\")", what, err->code,
			 err->message, code, msg);
}

/* Trust by CA file: the manager's own certificate verifies; the system's
 * store and another manager's certificate do not.  The message ends with
 * what to do, in the program's terms when it gave them. */
static void test_tls_ca(void **state)
{
	Ctx *c = *state;
	IcsRestConfig own = { .url = c->t->url, .ca_file = c->t->ca };
	IcsRestConfig store = { .url = c->t->url };
	IcsRestConfig other = { .url = c->t->url, .ca_file = c->other_cert };

	IcsRestConfig hinted = { .url = c->t->url, .hint_trust = "give --trust-me FILE" };

	expect_health(&own, "own certificate");
	expect_refused(&store, "system store", ICS_ERROR_IO, "cannot verify the TLS certificate");
	expect_refused(&other, "other certificate", ICS_ERROR_IO,
		       "cannot verify the TLS certificate");
	/* What to do: the library's words, or the program's own. */
	expect_refused(&store, "system store", ICS_ERROR_IO, "or pin its key (pinned_key)");
	expect_refused(&hinted, "system store, hinted", ICS_ERROR_IO, "); give --trust-me FILE");
}

/* Trust by pin: the right pin alone is enough, under a name the
 * certificate does not carry; a wrong pin is refused and says so; one
 * right pin in a list is enough; with a CA file both must hold. */
static void test_pinning(void **state)
{
	Ctx *c = *state;
	g_autofree char *url = g_strdup_printf("https://unnamed.invalid:%u", c->t->port);
	g_autofree char *list = g_strconcat(PIN_A ";", c->pin, NULL);
	IcsRestConfig right = { .url = c->t->url, .pinned_key = c->pin };
	IcsRestConfig any_name = { .url = url, .pinned_key = c->pin, .connect_host = "127.0.0.1" };
	IcsRestConfig in_list = { .url = c->t->url, .pinned_key = list };
	IcsRestConfig wrong = { .url = c->t->url, .pinned_key = c->other_pin };
	IcsRestConfig wrong_list = { .url = c->t->url, .pinned_key = PIN_A ";" PIN_B };
	IcsRestConfig both = { .url = c->t->url, .pinned_key = c->pin, .ca_file = c->t->ca };
	IcsRestConfig pin_bad_ca = { .url = c->t->url,
				     .pinned_key = c->pin,
				     .ca_file = c->other_cert };
	IcsRestConfig ca_bad_pin = { .url = c->t->url,
				     .pinned_key = c->other_pin,
				     .ca_file = c->t->ca };

	expect_health(&right, "right pin");
	expect_health(&any_name, "right pin, a name the certificate lacks");
	expect_health(&in_list, "right pin in a list");
	expect_health(&both, "right pin and CA");
	expect_refused(&wrong, "wrong pin", ICS_ERROR_IO, "is not the pinned one");
	{
		g_autoptr(GError) err = NULL;

		assert_false(health(&wrong, &err));
		assert_non_null(strstr(err->message, c->other_pin));
		assert_non_null(strstr(err->message, "not the manager expected"));
	}
	expect_refused(&wrong_list, "no right pin in the list", ICS_ERROR_IO,
		       "is not the pinned one");
	expect_refused(&pin_bad_ca, "right pin, wrong CA", ICS_ERROR_IO,
		       "cannot verify the TLS certificate");
	expect_refused(&ca_bad_pin, "right CA, wrong pin", ICS_ERROR_IO, "is not the pinned one");
}

/* Connect to 127.0.0.1 while verifying manager.example, which the
 * certificate names; another name is refused; the connection really goes
 * to the given host (::1: nothing listens there, and the name is never
 * resolved). */
static void test_connect_host(void **state)
{
	Ctx *c = *state;
	g_autofree char *named = g_strdup_printf("https://manager.example:%u", c->t->port);
	g_autofree char *unnamed = g_strdup_printf("https://other.example:%u", c->t->port);
	IcsRestConfig ok = { .url = named, .ca_file = c->t->ca, .connect_host = "127.0.0.1" };
	IcsRestConfig wrong_name = { .url = unnamed,
				     .ca_file = c->t->ca,
				     .connect_host = "127.0.0.1" };
	IcsRestConfig v6 = { .url = named, .ca_file = c->t->ca, .connect_host = "::1" };

	expect_health(&ok, "manager.example at 127.0.0.1");
	expect_refused(&wrong_name, "other.example at 127.0.0.1", ICS_ERROR_IO,
		       "cannot verify the TLS certificate");
	expect_refused(&v6, "manager.example at ::1", ICS_ERROR_UNREACHABLE,
		       "cannot reach the manager");
}

/* A port nobody listens on: UNREACHABLE.  A server that accepts and never
 * answers: TIMEOUT, within the configured time. */
static void test_transport_errors(void **state)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	g_autofree char *silent = NULL;
	gint64 t0;

	(void)state;
	assert_true(fd >= 0);
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	silent = g_strdup_printf("https://127.0.0.1:%u", ntohs(sa.sin_port));
	{
		/* Bound but not listening: refused. */
		IcsRestConfig rc = { .url = silent, .pinned_key = PIN_A };
		IcsRestConfig hinted = { .url = silent, .hint_url = "check --where" };

		expect_refused(&rc, "closed port", ICS_ERROR_UNREACHABLE,
			       "cannot reach the manager at https://127.0.0.1:");
		expect_refused(&rc, "closed port", ICS_ERROR_UNREACHABLE,
			       "of a running ics-managerd");
		expect_refused(&hinted, "closed port, hinted", ICS_ERROR_UNREACHABLE,
			       "); check --where");
	}
	assert_int_equal(listen(fd, 4), 0);
	{
		IcsRestConfig rc = { .url = silent, .pinned_key = PIN_A, .timeout_ms = 500 };

		t0 = g_get_monotonic_time();
		expect_refused(&rc, "silent server", ICS_ERROR_TIMEOUT, "did not answer in time");
		assert_true(g_get_monotonic_time() - t0 < 5 * G_USEC_PER_SEC);
	}
	close(fd);
}

static void test_http_errors(void **state)
{
	Ctx *c = *state;
	g_autoptr(IcsRest) rest = token_client(c);
	g_autoptr(json_t) bad = json_pack("{s:s}", "nonsense", "x");
	g_autoptr(json_t) vm = json_pack("{s:{s:s, s:i, s:i}}", "definition", "name", "dup",
					 "vcpus", 1, "memory_mib", 128);
	static const struct {
		const char *method, *path;
		gboolean body;
		int code;
	} cases[] = {
		{ "GET", "/api/v1/users/nobody", FALSE, ICS_ERROR_NOT_FOUND },
		{ "GET", "/api/v1/no-such-thing", FALSE, ICS_ERROR_NOT_FOUND },
		{ "POST", "/api/v1/users", TRUE, ICS_ERROR_INVALID_ARGUMENT },
		{ "GET", "/api/v1/vms/00000000-0000-4000-8000-000000000000", FALSE,
		  ICS_ERROR_NOT_FOUND },
		{ "GET", "/api/v1/vms/not-a-uuid", FALSE, ICS_ERROR_INVALID_ARGUMENT },
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GError) err = NULL;
		g_autoptr(json_t) r = ics_rest_call(rest, cases[i].method, cases[i].path, NULL,
						    cases[i].body ? bad : NULL, &err);

		assert_null(r);
		if (!g_error_matches(err, ICS_ERROR, cases[i].code))
			fail_msg("%s %s: %s (code %d)", cases[i].method, cases[i].path,
				 err->message, err->code);
	}
	{
		g_autoptr(GError) err = NULL;
		g_autoptr(json_t) r1 = ics_rest_call(rest, "POST", "/api/v1/vms", NULL, vm, &err);
		g_autoptr(json_t) r2 = NULL;
		g_autofree char *start = NULL;

		assert_non_null(r1);
		r2 = ics_rest_call(rest, "POST", "/api/v1/vms", NULL, vm, &err);
		assert_null(r2);
		assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_CONFLICT));
		g_clear_error(&err);
		/* No cluster: 503 with the manager's message. */
		start = g_strdup_printf("/api/v1/vms/%s/start",
					json_string_value(json_object_get(r1, "uuid")));
		assert_null(ics_rest_call(rest, "POST", start, NULL, NULL, &err));
		assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_UNAVAILABLE));
		assert_non_null(strstr(err->message, "no cluster adapter"));
	}
	{
		/* No credentials at all: 401. */
		IcsRestConfig rc = { .url = c->t->url, .ca_file = c->t->ca };
		g_autoptr(GError) err = NULL;
		g_autoptr(IcsRest) anon = ics_rest_new(&rc, &err);

		assert_null(ics_rest_call(anon, "GET", "/api/v1/vms", NULL, NULL, &err));
		assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_PERMISSION));
	}
}

static void test_urls(void **state)
{
	static const char *const bad[] = { "not a url",
					   "ftp://127.0.0.1/",
					   "http://192.0.2.1:8443",
					   "https://user@127.0.0.1",
					   "https://127.0.0.1/?x=1",
					   "https://" };
	static const char *const bad_pins[] = {
		"",
		"sha1//"
		"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
		"sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuF=",
		"sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU",
		"sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSu!U=",
		PIN_A ";",
		"/etc/ics/manager-key.pem",
	};
	static const char *const bad_hosts[] = { "", "a b", "host/path", "user@host" };
	static const char *const good[] = { "https://manager.example:8443", "http://127.0.0.1:1",
					    "http://localhost:1", "http://[::1]:1",
					    "https://127.0.0.1:8443/prefix/" };

	(void)state;
	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		IcsRestConfig rc = { .url = bad[i] };
		g_autoptr(GError) err = NULL;
		g_autoptr(IcsRest) r = ics_rest_new(&rc, &err);

		if (r != NULL)
			fail_msg("%s accepted", bad[i]);
		assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT));
	}
	for (guint i = 0; i < G_N_ELEMENTS(good); i++) {
		IcsRestConfig rc = { .url = good[i] };
		g_autoptr(GError) err = NULL;
		g_autoptr(IcsRest) r = ics_rest_new(&rc, &err);

		if (r == NULL)
			fail_msg("%s refused: %s", good[i], err->message);
	}
	{
		IcsRestConfig rc = { .url = "https://127.0.0.1:1", .access_key = "AKX" };
		g_autoptr(GError) err = NULL;
		g_autoptr(IcsRest) r = ics_rest_new(&rc, &err);

		assert_null(r);
	}
	/* Pins must be sha256// and 32 bytes of base64; connect hosts plain. */
	for (guint i = 0; i < G_N_ELEMENTS(bad_pins); i++) {
		IcsRestConfig rc = { .url = "https://127.0.0.1:1", .pinned_key = bad_pins[i] };
		g_autoptr(GError) err = NULL;
		g_autoptr(IcsRest) r = ics_rest_new(&rc, &err);

		if (r != NULL)
			fail_msg("pin \"%s\" accepted", bad_pins[i]);
		assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT));
		assert_non_null(strstr(err->message, "sha256//BASE64"));
	}
	for (guint i = 0; i < G_N_ELEMENTS(bad_hosts); i++) {
		IcsRestConfig rc = { .url = "https://127.0.0.1:1", .connect_host = bad_hosts[i] };
		g_autoptr(GError) err = NULL;
		g_autoptr(IcsRest) r = ics_rest_new(&rc, &err);

		if (r != NULL)
			fail_msg("connect host \"%s\" accepted", bad_hosts[i]);
		assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT));
	}
	{
		IcsRestConfig rc = { .url = "https://127.0.0.1:1",
				     .pinned_key = PIN_A ";" PIN_B,
				     .connect_host = "::1" };
		g_autoptr(GError) err = NULL;
		g_autoptr(IcsRest) r = ics_rest_new(&rc, &err);

		assert_non_null(r);
	}
}

static gboolean count_event(const char *id, const char *type, const char *data, gpointer user)
{
	GPtrArray *seen = user;

	g_ptr_array_add(seen, g_strdup_printf("%s %s %s", id ? id : "-", type, data));
	return seen->len < 2;
}

static void test_stream(void **state)
{
	Ctx *c = *state;
	g_autoptr(IcsRest) rest = token_client(c);
	g_autoptr(GPtrArray) seen = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GError) err = NULL;

	for (int i = 0; i < 2; i++) {
		g_autofree char *name = g_strdup_printf("ev%d", i);
		g_autoptr(json_t) body = json_pack("{s:{s:s, s:i, s:i}}", "definition", "name",
						   name, "vcpus", 1, "memory_mib", 128);
		g_autoptr(json_t) vm = ics_rest_call(rest, "POST", "/api/v1/vms", NULL, body, &err);

		assert_non_null(vm);
	}
	assert_true(ics_rest_stream(rest, "/api/v1/events", NULL, "0", count_event, seen, &err));
	assert_int_equal(seen->len, 2);
	assert_non_null(strstr(seen->pdata[0], "vm.created"));
	assert_true(g_str_has_prefix(seen->pdata[0], "1 "));
	assert_true(g_str_has_prefix(seen->pdata[1], "2 "));
}

/* The pin helper computes what openssl computes; a chain's first
 * certificate counts; no certificate, no file: errors. */
static void test_pin_helper(void **state)
{
	Ctx *c = *state;
	g_autofree char *openssl = g_find_program_in_path("openssl");
	g_autofree char *chain = g_build_filename(c->dir, "chain.pem", NULL);
	g_autofree char *junk = g_build_filename(c->dir, "junk.pem", NULL);
	g_autofree char *a = NULL, *b = NULL, *chained = NULL;
	g_autoptr(GError) err = NULL;

	if (openssl) {
		g_autofree char *cmd = g_strdup_printf(
			"sh -c \"openssl x509 -in '%s' -pubkey -noout | openssl pkey -pubin "
			"-outform der | openssl dgst -sha256 -binary | base64\"",
			c->t->ca);
		g_autofree char *out = NULL, *want = NULL;
		int status = 0;

		assert_true(g_spawn_command_line_sync(cmd, &out, NULL, &status, NULL));
		assert_int_equal(status, 0);
		want = g_strconcat("sha256//", g_strstrip(out), NULL);
		assert_string_equal(c->pin, want);
	} else {
		print_message("openssl not found: pin not compared with openssl's\n");
	}
	assert_true(g_file_get_contents(c->t->ca, &a, NULL, NULL));
	assert_true(g_file_get_contents(c->other_cert, &b, NULL, NULL));
	{
		g_autofree char *both = g_strconcat(a, b, NULL);

		assert_true(g_file_set_contents(chain, both, -1, NULL));
	}
	chained = ics_rest_pin_from_cert_file(chain, &err);
	assert_non_null(chained);
	assert_string_equal(chained, c->pin);
	assert_true(g_file_set_contents(junk, "-----BEGIN CERTIFICATE-----\nAAAA\n", -1, NULL));
	assert_null(ics_rest_pin_from_cert_file(junk, &err));
	assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_PARSE));
	assert_non_null(strstr(err->message, junk));
	g_clear_error(&err);
	assert_null(ics_rest_pin_from_cert_file("/nonexistent/cert.pem", &err));
	assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_NOT_FOUND));
}

/* The SDK's example (client/examples/list_vms.c, built by make check) logs
 * in and lists the VMs of a real manager. */
static void test_example(void **state)
{
	Ctx *c = *state;
	g_autoptr(IcsRest) rest = token_client(c);
	g_autoptr(GError) err = NULL;
	g_autoptr(json_t) body = json_pack("{s:{s:s, s:i, s:i}}", "definition", "name",
					   "example-vm", "vcpus", 2, "memory_mib", 256);
	g_autoptr(json_t) vm = ics_rest_call(rest, "POST", "/api/v1/vms", NULL, body, &err);
	const char *builddir = g_getenv("ICS_BUILDDIR");
	g_autofree char *prog =
		g_build_filename(builddir ? builddir : ".", "client", "examples", "list_vms", NULL);
	g_autofree char *out = NULL, *errout = NULL;
	g_auto(GStrv) env = g_get_environ();
	const char *argv[] = { prog, NULL };
	int status = -1;

	assert_non_null(vm);
	env = g_environ_setenv(env, "ICS_URL", c->t->url, TRUE);
	env = g_environ_setenv(env, "ICS_CA", c->t->ca, TRUE);
	env = g_environ_setenv(env, "ICS_USER", "admin", TRUE);
	env = g_environ_setenv(env, "ICS_PASSWORD", c->t->admin_password, TRUE);
	assert_true(g_spawn_sync(NULL, (char **)argv, env, G_SPAWN_DEFAULT, NULL, NULL, &out,
				 &errout, &status, &err));
	if (!g_spawn_check_wait_status(status, NULL))
		fail_msg("%s: %s%s", prog, out, errout);
	assert_non_null(strstr(out, "example-vm"));
	/* A wrong password: the manager's message, exit 1. */
	env = g_environ_setenv(env, "ICS_PASSWORD", "wrong", TRUE);
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&errout, g_free);
	assert_true(g_spawn_sync(NULL, (char **)argv, env, G_SPAWN_DEFAULT, NULL, NULL, &out,
				 &errout, &status, &err));
	assert_false(g_spawn_check_wait_status(status, NULL));
	assert_non_null(strstr(errout, "list_vms: "));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_urls),
		cmocka_unit_test(test_transport_errors),
		cmocka_unit_test_setup_teardown(test_tls_ca, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pinning, setup, teardown),
		cmocka_unit_test_setup_teardown(test_connect_host, setup_named, teardown),
		cmocka_unit_test_setup_teardown(test_pin_helper, setup, teardown),
		cmocka_unit_test_setup_teardown(test_http_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stream, setup, teardown),
		cmocka_unit_test_setup_teardown(test_example, setup, teardown),
	};
	int rc;

	if (!ics_rest_global_init(NULL))
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	ics_rest_global_cleanup();
	return rc;
}
