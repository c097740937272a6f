/*
 * test_manager_cert.c: `ics-admin manager cert install|show` with
 * certificates made in the test (cert_test_util.h).
 *
 * A server certificate from a test CA is installed with its chain; a real
 * ics-managerd (libicsmanager, in process) started on that state directory
 * then serves it -- it is not replaced although it lacks the names the
 * manager was given, because of the marker -- and a client verifies it
 * against the CA on a name it carries.  Every bad input (a key of another
 * certificate, an encrypted key, an expired or not yet valid certificate,
 * a chain out of order, a file that cannot be read or holds no PEM,
 * missing options) exits 2 with one clear message and leaves the state
 * directory as it was.  show prints the subject, names, fingerprint, pin
 * and expiry, with --json.  With a CIB (CIB_file, when Pacemaker's tools
 * are installed) the state directory comes from the manager's primitive,
 * a certificate that does not name the VIP and nodes is installed with a
 * one-line warning, and `manager status` verifies the installed
 * certificate on the "VIP" by its pinned key.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <libxml/tree.h>

#include "admin_api_test_util.h"
#include "cert_test_util.h"
#include "ics/client.h"
#include "ics/manager/tls_cert.h"
#include "ics/xml.h"
#include "manager_cert.h"
#include "manager_group.h"

typedef struct {
	char *dir;   /* scratch: certificates and keys */
	char *state; /* the manager's state directory */
	char *ca, *ca_key, *cert, *key, *other, *other_key;
} Fx;

static char *in(const Fx *f, const char *name)
{
	return g_build_filename(f->dir, name, NULL);
}

static int setup(void **state)
{
	Fx *f = g_new0(Fx, 1);
	const char *names[] = { "mgr.example.com", "10.0.0.7", NULL };
	TestCert ca = {
		.cn = "ICS test CA", .ca = TRUE, .valid_to = 10L * 365 * 86400, .valid_from = -86400
	};
	TestCert server = { .cn = "mgr.example.com", .names = names };
	TestCert other = { .cn = "other.example.com", .names = names };

	f->dir = g_dir_make_tmp("test-manager-cert-XXXXXX", NULL);
	f->state = in(f, "state");
	assert_int_equal(g_mkdir(f->state, 0700), 0);
	f->ca = in(f, "ca.pem");
	f->ca_key = in(f, "ca-key.pem");
	f->cert = in(f, "cert.pem");
	f->key = in(f, "key.pem");
	f->other = in(f, "other.pem");
	f->other_key = in(f, "other-key.pem");
	test_cert_make(&ca, f->ca, f->ca_key);
	server.issuer_cert = f->ca;
	server.issuer_key = f->ca_key;
	test_cert_make(&server, f->cert, f->key);
	test_cert_make(&other, f->other, f->other_key);
	g_unsetenv("CIB_file");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	Fx *f = *state;

	g_unsetenv("CIB_file");
	api_test_rm_rf(f->dir);
	g_free(f->dir);
	g_free(f->state);
	g_free(f->ca);
	g_free(f->ca_key);
	g_free(f->cert);
	g_free(f->key);
	g_free(f->other);
	g_free(f->other_key);
	g_free(f);
	return 0;
}

static gint by_name(gconstpointer a, gconstpointer b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The state directory's files, name + contents, for "nothing written". */
static char *snapshot(const char *dir)
{
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	GString *out = g_string_new(NULL);
	const char *n;

	while (d && (n = g_dir_read_name(d)) != NULL)
		g_ptr_array_add(names, g_strdup(n));
	g_ptr_array_sort(names, by_name);
	for (guint i = 0; i < names->len; i++) {
		g_autofree char *p = g_build_filename(dir, names->pdata[i], NULL);
		g_autofree char *text = NULL;

		g_file_get_contents(p, &text, NULL, NULL);
		g_string_append_printf(out, "%s\n%s\n", (char *)names->pdata[i], text ? text : "");
	}
	return g_string_free(out, FALSE);
}

static guint lines(const char *text)
{
	guint n = 0;

	for (const char *p = text; *p; p++)
		n += *p == '\n';
	return n;
}

static guint mode_of(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_mode & 07777;
}

/* A real manager on @dir (inventory only, 127.0.0.1, ephemeral port). */
static IcsManager *manager_on(const char *dir, const char *tls_names, guint *port)
{
	g_autoptr(GError) err = NULL;
	IcsManagerConfig cfg;
	IcsManager *m;

	ics_manager_config_init(&cfg);
	g_free(cfg.state_dir);
	cfg.state_dir = g_strdup(dir);
	g_free(cfg.listen_address);
	cfg.listen_address = g_strdup("127.0.0.1");
	cfg.port = 0;
	if (tls_names)
		assert_true(ics_manager_config_set_tls_names(&cfg, tls_names, &err));
	m = ics_manager_new(&cfg, NULL, &err);
	ics_manager_config_clear(&cfg);
	if (m == NULL || !ics_manager_listen(m, &err))
		fail_msg("manager on %s: %s", dir, err->message);
	*port = ics_manager_port(m);
	return m;
}

/* The marker ics-admin writes is the one the daemon looks for. */
static void test_marker_name(void **state)
{
	(void)state;
	assert_string_equal(ICS_ADMIN_TLS_MARKER, ICS_TLS_USER_MARKER);
}

/* Installed with its chain, then served by a real manager that was given
 * names the certificate lacks (it is not made again), verified against the
 * CA on a name it carries, and pinned. */
static void test_install(void **state)
{
	Fx *f = *state;
	g_auto(CliRun) r = { 0 };
	g_autofree char *cert = g_build_filename(f->state, "tls-cert.pem", NULL);
	g_autofree char *key = g_build_filename(f->state, "tls-key.pem", NULL);
	g_autofree char *marker = g_build_filename(f->state, "tls-cert.installed", NULL);
	g_autofree char *leaf = NULL, *ca = NULL, *installed = NULL, *want = NULL;
	g_autofree char *pin = NULL, *served = NULL, *url = NULL;
	g_autoptr(GError) err = NULL;
	IcsManager *m;
	guint port = 0;

	assert_int_equal(cli_run(&r, NULL, "manager", "cert", "install", "--cert", f->cert, "--key",
				 f->key, "--chain", f->ca, "--state-dir", f->state, NULL),
			 0);
	pin = ics_rest_pin_from_cert_file(f->cert, &err);
	assert_non_null(pin);
	assert_non_null(strstr(r.out, pin));
	assert_non_null(strstr(r.out, "CN=mgr.example.com"));
	assert_non_null(strstr(r.out, "next start"));
	assert_int_equal(mode_of(key), 0600);
	assert_int_equal(mode_of(cert), 0644);
	assert_true(g_file_test(marker, G_FILE_TEST_IS_REGULAR));
	assert_true(g_file_get_contents(f->cert, &leaf, NULL, NULL));
	assert_true(g_file_get_contents(f->ca, &ca, NULL, NULL));
	assert_true(g_file_get_contents(cert, &installed, NULL, NULL));
	want = g_strconcat(leaf, ca, NULL);
	assert_string_equal(installed, want);

	m = manager_on(f->state, "10.211.0.100,node1", &port);
	served = ics_rest_pin_from_cert_file(cert, &err);
	assert_string_equal(served, pin); /* not made again for the missing names */
	url = g_strdup_printf("https://mgr.example.com:%u", port);
	{
		IcsRestConfig by_ca = { .url = url, .ca_file = f->ca, .connect_host = "127.0.0.1" };
		g_autoptr(IcsRest) rest = ics_rest_new(&by_ca, &err);
		g_autoptr(json_t) h =
			ics_rest_call(rest, "GET", "/api/v1/health", NULL, NULL, &err);

		if (h == NULL)
			fail_msg("health through the CA: %s", err->message);
	}
	{
		g_autofree char *local = g_strdup_printf("https://127.0.0.1:%u", port);
		IcsRestConfig by_pin = { .url = local, .pinned_key = pin };
		g_autoptr(IcsRest) rest = ics_rest_new(&by_pin, &err);
		g_autoptr(json_t) h =
			ics_rest_call(rest, "GET", "/api/v1/health", NULL, NULL, &err);

		if (h == NULL)
			fail_msg("health pinned: %s", err->message);
	}
	ics_manager_free(m);
}

/* Each refusal: exit 2, its own message, nothing written. */
static void test_bad_input(void **state)
{
	Fx *f = *state;
	g_autofree char *expired = in(f, "expired.pem"), *expired_key = in(f, "expired-key.pem");
	g_autofree char *future = in(f, "future.pem"), *future_key = in(f, "future-key.pem");
	g_autofree char *locked = in(f, "locked.pem"), *locked_key = in(f, "locked-key.pem");
	g_autofree char *junk = in(f, "junk.pem"), *missing = in(f, "missing.pem");
	g_autofree char *before = NULL;
	TestCert old = { .cn = "old.example.com", .valid_from = -2 * 86400, .valid_to = -86400 };
	TestCert early = { .cn = "early.example.com", .valid_from = 86400, .valid_to = 2 * 86400 };
	TestCert enc = { .cn = "enc.example.com", .key_password = "secret" };
	const struct {
		const char *what, *cert, *key, *chain, *message;
	} cases[] = {
		{ "another certificate's key", f->cert, f->other_key, NULL,
		  "is not the key of the certificate" },
		{ "expired", expired, expired_key, NULL, "expired on" },
		{ "not yet valid", future, future_key, NULL, "is not valid before" },
		{ "encrypted key", locked, locked_key, NULL, "not an unencrypted PEM private key" },
		{ "unreadable certificate", missing, f->key, NULL, "--cert: " },
		{ "unreadable key", f->cert, missing, NULL, "--key: " },
		{ "a directory as the key", f->cert, f->dir, NULL, "--key: " },
		{ "no PEM", junk, f->key, NULL, "holds no PEM certificate" },
		{ "chain out of order", f->cert, f->key, f->other, "the chain is out of order" },
		{ "unreadable chain", f->cert, f->key, missing, "--chain: " },
	};

	test_cert_make(&old, expired, expired_key);
	test_cert_make(&early, future, future_key);
	test_cert_make(&enc, locked, locked_key);
	assert_true(g_file_set_contents(junk, "not a certificate\n", -1, NULL));
	/* An installed pair that must survive every refusal. */
	{
		g_auto(CliRun) r = { 0 };

		assert_int_equal(cli_run(&r, NULL, "manager", "cert", "install", "--cert", f->other,
					 "--key", f->other_key, "--state-dir", f->state, NULL),
				 0);
	}
	before = snapshot(f->state);
	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_auto(CliRun) r = { 0 };
		g_autofree char *after = NULL;
		int rc;

		if (cases[i].chain)
			rc = cli_run(&r, NULL, "manager", "cert", "install", "--cert",
				     cases[i].cert, "--key", cases[i].key, "--chain",
				     cases[i].chain, "--state-dir", f->state, NULL);
		else
			rc = cli_run(&r, NULL, "manager", "cert", "install", "--cert",
				     cases[i].cert, "--key", cases[i].key, "--state-dir", f->state,
				     NULL);
		if (rc != 2 || strstr(r.err, cases[i].message) == NULL)
			fail_msg("%s: exit %d, \"%s\" (expected 2, \"%s\")", cases[i].what, rc,
				 r.err, cases[i].message);
		/* One line, no secret. */
		assert_int_equal(lines(r.err), 1);
		assert_null(strstr(r.err, "PRIVATE KEY"));
		after = snapshot(f->state);
		if (strcmp(before, after) != 0)
			fail_msg("%s: the state directory changed", cases[i].what);
	}
	{
		g_auto(CliRun) r = { 0 };

		assert_int_equal(
			cli_run(&r, NULL, "manager", "cert", "install", "--cert", f->cert, NULL),
			2);
		assert_non_null(strstr(r.err, "--key FILE"));
		assert_int_equal(cli_run(&r, NULL, "manager", "cert", "install", "--cert", f->cert,
					 "--key", f->key, "--state-dir", missing, NULL),
				 3);
		assert_int_equal(cli_run(&r, NULL, "manager", "cert", "frobnicate", NULL), 2);
	}
}

static void test_show(void **state)
{
	Fx *f = *state;
	g_auto(CliRun) r = { 0 };
	g_autoptr(json_t) j = NULL;
	g_autofree char *pin = ics_rest_pin_from_cert_file(f->cert, NULL);
	json_t *names;

	/* A state directory with a generated certificate: "generated". */
	{
		g_autofree char *c = g_build_filename(f->state, "tls-cert.pem", NULL);
		g_autofree char *k = g_build_filename(f->state, "tls-key.pem", NULL);
		g_autofree char *cp = NULL, *kp = NULL;

		assert_true(ics_tls_cert_load(c, k, TRUE, NULL, &cp, &kp, NULL));
		assert_int_equal(
			cli_run(&r, NULL, "manager", "cert", "show", "--state-dir", f->state, NULL),
			0);
		assert_non_null(strstr(r.out, "(generated by the manager)"));
		assert_non_null(strstr(r.out, "itself (self-signed)"));
	}
	assert_int_equal(cli_run(&r, NULL, "manager", "cert", "install", "--cert", f->cert, "--key",
				 f->key, "--chain", f->ca, "--state-dir", f->state, NULL),
			 0);
	assert_int_equal(
		cli_run(&r, NULL, "manager", "cert", "show", "--state-dir", f->state, NULL), 0);
	assert_non_null(strstr(r.out, "(installed by the operator)"));
	assert_non_null(strstr(r.out, "subject:     CN=mgr.example.com"));
	assert_non_null(strstr(r.out, "names:       mgr.example.com, 10.0.0.7"));
	assert_non_null(strstr(r.out, pin));
	assert_non_null(strstr(r.out, "days left"));
	assert_non_null(strstr(r.out, "chain:       CN=ICS test CA"));
	assert_int_equal(cli_run(&r, NULL, "manager", "cert", "show", "--state-dir", f->state,
				 "--json", NULL),
			 0);
	j = json_loads(r.out, 0, NULL);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "subject")), "CN=mgr.example.com");
	assert_string_equal(json_string_value(json_object_get(j, "issuer")), "CN=ICS test CA");
	assert_string_equal(json_string_value(json_object_get(j, "pin")), pin);
	assert_true(json_is_true(json_object_get(j, "installed")));
	assert_true(json_is_false(json_object_get(j, "expired")));
	assert_true(json_is_false(json_object_get(j, "self_signed")));
	assert_true(json_is_null(json_object_get(j, "missing_names")));
	assert_int_equal(strlen(json_string_value(json_object_get(j, "fingerprint_sha256"))),
			 32 * 3 - 1);
	assert_true(g_str_has_suffix(json_string_value(json_object_get(j, "not_after")), "Z"));
	names = json_object_get(j, "names");
	assert_int_equal(json_array_size(names), 2);
	assert_string_equal(json_string_value(json_array_get(names, 1)), "10.0.0.7");
	assert_int_equal(json_array_size(json_object_get(j, "chain")), 1);
	/* Any file; not found: exit 3. */
	assert_int_equal(cli_run(&r, NULL, "manager", "cert", "show", "--cert", f->other, NULL), 0);
	assert_non_null(strstr(r.out, "CN=other.example.com"));
	assert_int_equal(
		cli_run(&r, NULL, "manager", "cert", "show", "--cert", "/nonexistent.pem", NULL),
		3);
}

/* The manager's CIB objects for a "VIP" of 127.0.0.1 and @port, state in
 * @state_dir, after a pool clone, written as a CIB file Pacemaker's tools
 * read (CIB_file). */
static void write_cib(const char *path, const char *state_dir, guint port)
{
	g_auto(IcsManagerSpec) s = { 0 };
	g_autoptr(GError) e = NULL;
	g_autoptr(GPtrArray) r = NULL, c = NULL;
	xmlDoc *doc = xmlNewDoc(BAD_CAST "1.0");
	xmlNode *cib = xmlNewNode(NULL, BAD_CAST "cib"), *conf, *res, *cons, *clone, *pool;

	s.backend = ICS_MGR_SHARED;
	s.port = port;
	s.pool_name = g_strdup("shared");
	s.pool_path = g_strdup("/srv/ics/pools/shared");
	s.state_dir = g_strdup(state_dir);
	s.binary = g_strdup("/usr/sbin/ics-managerd");
	s.vip = g_strdup("127.0.0.1"); /* not a VIP setup accepts: the test's loopback */
	s.prefix = 8;
	assert_true(ics_manager_parse_nodes("node1,node2", 0, &s, &e));
	s.tls_names = ics_manager_tls_names(&s, NULL);
	r = ics_manager_resources(&s);
	c = ics_manager_constraints(&s);
	xmlDocSetRootElement(doc, cib);
	xmlNewProp(cib, BAD_CAST "validate-with", BAD_CAST "pacemaker-3.9");
	xmlNewProp(cib, BAD_CAST "epoch", BAD_CAST "1");
	xmlNewProp(cib, BAD_CAST "num_updates", BAD_CAST "0");
	xmlNewProp(cib, BAD_CAST "admin_epoch", BAD_CAST "0");
	conf = xmlNewChild(cib, NULL, BAD_CAST "configuration", NULL);
	xmlNewChild(conf, NULL, BAD_CAST "crm_config", NULL);
	xmlNewChild(conf, NULL, BAD_CAST "nodes", NULL);
	res = xmlNewChild(conf, NULL, BAD_CAST "resources", NULL);
	cons = xmlNewChild(conf, NULL, BAD_CAST "constraints", NULL);
	xmlNewChild(cib, NULL, BAD_CAST "status", NULL);
	/* The pool clone the manager's constraints name. */
	clone = xmlNewChild(res, NULL, BAD_CAST "clone", NULL);
	xmlNewProp(clone, BAD_CAST "id", BAD_CAST "ics-pool-shared");
	pool = xmlNewChild(clone, NULL, BAD_CAST "primitive", NULL);
	xmlNewProp(pool, BAD_CAST "id", BAD_CAST "pool-shared");
	xmlNewProp(pool, BAD_CAST "class", BAD_CAST "ocf");
	xmlNewProp(pool, BAD_CAST "provider", BAD_CAST "ics");
	xmlNewProp(pool, BAD_CAST "type", BAD_CAST "pool");
	for (guint i = 0; i < r->len; i++)
		xmlAddChild(res, xmlDocCopyNode(xmlDocGetRootElement(r->pdata[i]), doc, 1));
	for (guint i = 0; i < c->len; i++)
		xmlAddChild(cons, xmlDocCopyNode(xmlDocGetRootElement(c->pdata[i]), doc, 1));
	assert_true(xmlSaveFile(path, doc) > 0);
	xmlFreeDoc(doc);
}

/* With the cluster's configuration (a CIB file): the state directory from
 * the manager's primitive, a warning for the names its clients use that
 * the certificate lacks, no restart of a manager that does not run, show's
 * missing names, and `manager status` verifying the installed certificate
 * on the VIP by its key -- or, with --ca, refusing it for lacking the
 * VIP's address. */
static void test_with_cib(void **state)
{
	Fx *f = *state;
	g_autofree char *cibadmin = g_find_program_in_path("cibadmin");
	g_autofree char *crm_mon = g_find_program_in_path("crm_mon");
	g_autofree char *cib = in(f, "cib.xml");
	g_auto(CliRun) r = { 0 };
	g_autoptr(json_t) j = NULL, st = NULL;
	IcsManager *m;
	guint port = 0;

	if (cibadmin == NULL || crm_mon == NULL) {
		print_message("cibadmin or crm_mon not installed: skipped\n");
		skip();
	}
	write_cib(cib, f->state, 8443);
	g_setenv("CIB_file", cib, TRUE);
	assert_int_equal(cli_run(&r, NULL, "manager", "cert", "install", "--cert", f->cert, "--key",
				 f->key, "--chain", f->ca, NULL),
			 0);
	assert_non_null(strstr(r.err, "warning: the certificate does not name 127.0.0.1, node1, "
				      "node2"));
	assert_int_equal(lines(r.err), 1);
	assert_non_null(strstr(r.out, "the manager is not running"));
	assert_int_equal(cli_run(&r, NULL, "manager", "cert", "show", "--json", NULL), 0);
	j = json_loads(r.out, 0, NULL);
	assert_non_null(j);
	assert_int_equal(json_array_size(json_object_get(j, "missing_names")), 3);

	m = manager_on(f->state, NULL, &port);
	write_cib(cib, f->state, port);
	assert_int_equal(cli_run(&r, NULL, "manager", "status", "--json", NULL), 0);
	st = json_loads(r.out, 0, NULL);
	assert_non_null(st);
	if (!json_is_true(json_object_get(json_object_get(st, "health"), "ok")))
		fail_msg("status: %s", r.out);
	assert_int_equal(cli_run(&r, NULL, "manager", "status", "--ca", f->ca, NULL), 1);
	assert_non_null(strstr(r.out, "cannot verify the TLS certificate"));
	ics_manager_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_marker_name),
		cmocka_unit_test_setup_teardown(test_install, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_show, setup, teardown),
		cmocka_unit_test_setup_teardown(test_with_cib, setup, teardown),
	};
	int rc;

	ics_rest_global_init(NULL);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	ics_rest_global_cleanup();
	return rc;
}
