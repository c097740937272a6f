/*
 * mgr_test_util.h: what the manager tests share -- a manager in a temporary
 * state directory serving plain HTTP on 127.0.0.1 with an ephemeral port,
 * an HTTP client on libcurl, and helpers to make users and log in.
 */
#ifndef MGR_TEST_UTIL_H
#define MGR_TEST_UTIL_H

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <jansson.h>

#include "ics/error.h"
#include "ics/json.h"
#include "ics/manager/manager.h"

#define TEST_PASSWORD "Str0ng-Passw0rd!"

typedef struct {
	char *dir;
	IcsManager *m;
	char *base;   /* "http://127.0.0.1:PORT" (https with TLS) */
	char *cainfo; /* the certificate to trust with TLS */
	char *admin_password;
	char *admin_token;
} TestMgr;

typedef struct {
	long status;
	GString *body;
	GString *headers;
	json_t *json; /* NULL when the body is not JSON */
} TestResp;

static inline void test_resp_free(TestResp *r)
{
	if (r == NULL)
		return;
	g_string_free(r->body, TRUE);
	g_string_free(r->headers, TRUE);
	if (r->json)
		json_decref(r->json);
	g_free(r);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TestResp, test_resp_free)

static inline size_t test_collect(char *p, size_t size, size_t n, void *data)
{
	g_string_append_len(data, p, (gssize)(size * n));
	return size * n;
}

/* Send a request; @extra_headers is NULL-terminated "Name: value" lines
 * (may be NULL); @body may be NULL; @body_len < 0 means strlen. */
static inline TestResp *test_http_full(const TestMgr *t, const char *method, const char *path,
				       const char *token, const char *body, gssize body_len,
				       const char *const *extra_headers)
{
	TestResp *r = g_new0(TestResp, 1);
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	g_autofree char *url = g_strconcat(t->base, path, NULL);
	g_autofree char *auth = token ? g_strconcat("Authorization: Bearer ", token, NULL) : NULL;

	r->body = g_string_new(NULL);
	r->headers = g_string_new(NULL);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, test_collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r->body);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, test_collect);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r->headers);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	/* A big body waits for the server's verdict on its headers (it may be
	 * a 413), however slow a loaded machine makes the answer: sending it
	 * anyway after curl's default second gets a reset instead of the 413. */
	curl_easy_setopt(c, CURLOPT_EXPECT_100_TIMEOUT_MS, 60000L);
	if (t->cainfo)
		curl_easy_setopt(c, CURLOPT_CAINFO, t->cainfo);
	if (auth)
		h = curl_slist_append(h, auth);
	for (guint i = 0; extra_headers && extra_headers[i]; i++)
		h = curl_slist_append(h, extra_headers[i]);
	if (body) {
		h = curl_slist_append(h, "Content-Type: application/json");
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)(body_len < 0 ? (gssize)strlen(body) : body_len));
	}
	/* Small bodies go at once; a big one (over 64 KiB: the oversized
	 * tests') asks first, so a 413 on its headers comes back before any
	 * of it is sent -- sent anyway, the server's close after the 413
	 * resets the connection and the client may see the reset instead of
	 * the answer (distcheck did, once). */
	h = curl_slist_append(h, body && (body_len < 0 ? (gssize)strlen(body) : body_len) > 65536
					 ? "Expect: 100-continue"
					 : "Expect:");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	r->json = json_loadb(r->body->str, r->body->len, JSON_DECODE_ANY, NULL);
	return r;
}

static inline TestResp *test_http(const TestMgr *t, const char *method, const char *path,
				  const char *token, const char *body)
{
	return test_http_full(t, method, path, token, body, -1, NULL);
}

/* Status of a request, and nothing else. */
static inline long test_status(const TestMgr *t, const char *method, const char *path,
			       const char *token, const char *body)
{
	g_autoptr(TestResp) r = test_http(t, method, path, token, body);

	return r->status;
}

/* A member of a JSON response as a string, or "". */
static inline const char *test_str(const TestResp *r, const char *key)
{
	const char *s = json_string_value(json_object_get(r->json, key));

	return s ? s : "";
}

/* Log in; the token (g_free it) or NULL. */
static inline char *test_login(const TestMgr *t, const char *user, const char *password)
{
	g_autofree char *body =
		g_strdup_printf("{\"username\": \"%s\", \"password\": \"%s\"}", user, password);
	g_autoptr(TestResp) r = test_http(t, "POST", "/api/v1/sessions", NULL, body);

	if (r->status != 201)
		return NULL;
	return g_strdup(test_str(r, "token"));
}

/* Create @user with @roles_json (a JSON array text) and TEST_PASSWORD, as
 * admin; returns the HTTP status. */
static inline long test_make_user(const TestMgr *t, const char *user, const char *roles_json)
{
	g_autofree char *body = g_strdup_printf("{\"name\": \"%s\", \"password\": \"" TEST_PASSWORD
						"\", \"roles\": %s}",
						user, roles_json);

	return test_status(t, "POST", "/api/v1/users", t->admin_token, body);
}

static inline void test_rm_rf(const char *dir)
{
	g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", dir);

	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

/* Start a manager in @dir (a new temporary directory when NULL) with
 * @cluster (may be NULL); bootstrap and log in the admin. */
static inline TestMgr *test_mgr_start_in(const char *dir, const IcsClusterOps *cluster,
					 void (*tweak)(IcsManagerConfig *cfg))
{
	TestMgr *t = g_new0(TestMgr, 1);
	g_autoptr(GError) err = NULL;
	IcsManagerConfig cfg;
	gboolean tls;

	t->dir = dir ? g_strdup(dir) : g_dir_make_tmp("ics-mgr-test-XXXXXX", NULL);
	g_assert_nonnull(t->dir);
	ics_manager_config_init(&cfg);
	g_free(cfg.state_dir);
	cfg.state_dir = g_strdup(t->dir);
	g_free(cfg.listen_address);
	cfg.listen_address = g_strdup("127.0.0.1");
	cfg.port = 0;
	cfg.insecure_http = TRUE;
	cfg.test_mode = TRUE;
	cfg.sse_keepalive_ms = 200;
	if (tweak)
		tweak(&cfg);
	tls = !cfg.insecure_http;
	if (tls)
		t->cainfo = cfg.tls_cert ? g_strdup(cfg.tls_cert)
					 : g_build_filename(t->dir, "tls-cert.pem", NULL);
	t->m = ics_manager_new(&cfg, cluster, &err);
	ics_manager_config_clear(&cfg);
	if (t->m == NULL)
		g_error("manager: %s", err->message);
	if (!ics_manager_bootstrap_admin(t->m, &t->admin_password, &err))
		g_clear_error(&err); /* a restarted manager keeps its admin */
	if (!ics_manager_listen(t->m, &err))
		g_error("listen: %s", err->message);
	t->base = g_strdup_printf("%s://127.0.0.1:%u", tls ? "https" : "http",
				  ics_manager_port(t->m));
	if (t->admin_password)
		t->admin_token = test_login(t, "admin", t->admin_password);
	return t;
}

static inline TestMgr *test_mgr_start(void)
{
	return test_mgr_start_in(NULL, NULL, NULL);
}

/* Stop the manager; keep the directory when @keep_dir. */
static inline void test_mgr_stop(TestMgr *t, gboolean keep_dir)
{
	ics_manager_free(t->m);
	if (!keep_dir)
		test_rm_rf(t->dir);
	g_free(t->dir);
	g_free(t->base);
	g_free(t->cainfo);
	g_free(t->admin_password);
	g_free(t->admin_token);
	g_free(t);
}

/* A minimal valid VM definition named @name (JSON text; g_free it). */
static inline char *test_vm_body(const char *name, const char *extra)
{
	return g_strdup_printf("{\"definition\": {\"name\": \"%s\", \"vcpus\": 1, "
			       "\"memory_mib\": 128}%s%s}",
			       name, extra ? ", " : "", extra ? extra : "");
}

/* A cluster adapter that succeeds at everything (or fails define_vm when
 * asked), counting calls.  Backups: of @backup_vm's disks (a real copy,
 * as of a stopped VM, libicsbackup), or "unavailable" without one. */
typedef struct {
	gint defines, undefines, starts, stops, migrates;
	gboolean fail_define;
	IcsVmMeta *backup_vm;
	/* While set, a backup waits (up to 30 s) before it copies. */
	volatile gint hold_backups;
	/* The path of pool "shared" (NULL: /srv/ics/pools/shared) and the state
	 * vm_status answers (NULL: "running"). */
	const char *pool_path;
	const char *vm_state;
} FakeCluster;

static inline gboolean fake_define(void *self, const IcsVmMeta *vm, GError **error)
{
	FakeCluster *f = self;

	if (f->fail_define) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_UNAVAILABLE, "fake cluster is down");
		return FALSE;
	}
	g_atomic_int_inc(&f->defines);
	return TRUE;
}

static inline gboolean fake_undefine(void *self, const char *uuid, GError **error)
{
	g_atomic_int_inc(&((FakeCluster *)self)->undefines);
	return TRUE;
}

static inline gboolean fake_start(void *self, const char *uuid, const volatile gint *cancelled,
				  GError **error)
{
	g_atomic_int_inc(&((FakeCluster *)self)->starts);
	return TRUE;
}

static inline gboolean fake_stop(void *self, const char *uuid, gboolean force,
				 const volatile gint *cancelled, GError **error)
{
	g_atomic_int_inc(&((FakeCluster *)self)->stops);
	return TRUE;
}

static inline gboolean fake_migrate(void *self, const char *uuid, const char *host,
				    IcsClusterProgressFn progress, void *progress_data,
				    const volatile gint *cancelled, GError **error)
{
	g_atomic_int_inc(&((FakeCluster *)self)->migrates);
	return TRUE;
}

static inline gboolean fake_status(void *self, const char *uuid, char **state, char **host,
				   GError **error)
{
	FakeCluster *f = self;

	*state = g_strdup(f->vm_state ? f->vm_state : "running");
	*host = f->vm_state && g_str_equal(f->vm_state, "stopped") ? NULL : g_strdup("node1");
	return TRUE;
}

/* Every VM runs on node1, from the pool of fake_pool_json(). */
static inline gpointer fake_view(void *self)
{
	return self;
}

static inline gboolean fake_view_get(gpointer view, const char *uuid, IcsVmRuntime *out)
{
	out->state = "running";
	out->host = "node1";
	out->pool = "/srv/ics/pools/shared";
	out->resource = "fake-vm";
	return TRUE;
}

static inline void fake_view_release(gpointer view)
{
}

static inline gboolean fake_reboot(void *self, const char *uuid, GError **error)
{
	return TRUE;
}

/* Shaped as cluster_service.c's vm_console answers. */
static inline json_t *fake_console(void *self, const char *uuid, GError **error)
{
	return json_pack("{s:s, s:s, s:[], s:[{s:s, s:s, s:s}]}", "host", "node1",
			 "libvirt_uri", "qemu+tcp://node1/system", "graphics", "serial", "type",
			 "pty", "port", "0", "path", "/dev/pts/3");
}

/* One host "node1" and one pool "shared", shaped as the real adapter
 * (cluster_hosts.c) answers. */
static inline json_t *fake_host_json(void)
{
	return json_pack("{s:s, s:s, s:s, s:b, s:b, s:b, s:i, s:[{s:s, s:s, s:s}], s:n, s:s}",
			 "name", "node1", "id", "1", "state", "online", "dc", 1, "standby", 0,
			 "maintenance", 0, "vm_count", 1, "vms", "uuid",
			 "6f1c3c0e-8a4b-4d5e-9f00-1234567890ab", "resource",
			 "vm-6f1c3c0e-8a4b-4d5e-9f00-1234567890ab", "state", "running", "stats",
			 "stats_error", "node1: libvirtd cannot be reached");
}

static inline json_t *fake_hosts(void *self, GError **error)
{
	json_t *h = fake_host_json();

	json_object_del(h, "vms");
	json_object_del(h, "stats");
	json_object_del(h, "stats_error");
	return json_pack("[o]", h);
}

static inline json_t *fake_host(void *self, const char *name, GError **error)
{
	if (!g_str_equal(name, "node1")) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND, "host %s is not a node", name);
		return NULL;
	}
	return fake_host_json();
}

static inline gboolean fake_maintenance(void *self, const char *name, gboolean enter,
					IcsClusterProgressFn progress, void *progress_data,
					const volatile gint *cancelled, GError **error)
{
	if (progress)
		progress(progress_data, 100, "done");
	return TRUE;
}

static inline json_t *fake_pool_json(const FakeCluster *f, gboolean detail)
{
	json_t *p = json_pack("{s:s, s:s, s:s, s:[s]}", "name", "shared", "path",
			      f->pool_path ? f->pool_path : "/srv/ics/pools/shared", "resource", "ics-pool-shared", "active_on",
			      "node1");

	if (detail) {
		json_object_set_new(p, "capacity",
				    json_pack("{s:i, s:i, s:i}", "total_bytes", 1 << 30,
					      "free_bytes", 1 << 29, "used_bytes", 1 << 29));
		json_object_set_new(p, "heartbeat",
				    json_pack("[{s:i, s:s, s:s, s:i}]", "host_id", 1, "name",
					      "node1", "state", "alive", "age_s", 1));
	}
	return p;
}

static inline json_t *fake_pools(void *self, GError **error)
{
	return json_pack("[o]", fake_pool_json(self, FALSE));
}

static inline json_t *fake_pool(void *self, const char *name, GError **error)
{
	if (!g_str_equal(name, "shared")) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND, "pool %s is not a pool", name);
		return NULL;
	}
	return fake_pool_json(self, TRUE);
}

/* DRS load: node1 runs the fixture VM, node2 is empty (cluster_load.c's
 * shape). */
static inline json_t *fake_load(void *self, GError **error)
{
	return json_pack("{s:[{s:s, s:s, s:i, s:i}, {s:s, s:s, s:i, s:i}], "
			 "s:[{s:s, s:s, s:i, s:i, s:b, s:I, s:i}]}",
			 "hosts", "name", "node1", "state", "on", "cpus", 4, "memory_mib", 8192,
			 "name", "node2", "state", "on", "cpus", 4, "memory_mib", 8192, "vms",
			 "uuid", "6f1c3c0e-8a4b-4d5e-9f00-1234567890ab", "host", "node1", "vcpus",
			 1, "memory_mib", 128, "migrating", 0, "cpu_time_ns",
			 (json_int_t)(g_get_monotonic_time() * 100), "memory_used_mib", 128);
}

/* The cluster at a glance (cluster_summary.c's shape): node1 online, the
 * fixture VM running on it, fencing configured. */
static inline json_t *fake_summary(void *self, GError **error)
{
	return json_pack("{s:s, s:b, s:i, s:{s:i, s:{s:i}}, s:{s:i, s:{s:i}}, "
			 "s:{s:b, s:s, s:b, s:[{s:s, s:s, s:[s], s:b}]}}",
			 "dc", "node1", "quorum", 1, "cib_epoch", 7, "hosts", "total", 1, "by_state",
			 "online", 1, "vms", "total", 1, "by_state", "running", 1, "fencing",
			 "enabled", 1, "action", "reboot", "configured", 1, "devices", "id",
			 "fence-lab", "type", "fence_ics_lab", "active_on", "node1", "failed", 0);
}

static inline json_t *fake_backup(void *self, const char *uuid, IcsBackupRepo *repo,
				   const IcsBackupRunOptions *opts, GError **error)
{
	FakeCluster *f = self;
	g_autoptr(IcsBackupManifest) m = NULL;
	json_t *out;

	if (f->backup_vm == NULL || g_strcmp0(f->backup_vm->uuid, uuid) != 0) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_UNAVAILABLE, "fake cluster: no such VM");
		return NULL;
	}
	for (int i = 0; i < 3000 && g_atomic_int_get(&f->hold_backups); i++)
		g_usleep(10 * 1000);
	m = ics_backup_run_stopped(repo, f->backup_vm, opts, error);
	if (m == NULL)
		return NULL;
	out = ics_backup_manifest_to_json(m);
	json_object_del(out, "definition");
	return out;
}

static inline IcsClusterOps test_fake_ops(FakeCluster *f)
{
	IcsClusterOps ops = {
		.self = f,
		.define_vm = fake_define,
		.undefine_vm = fake_undefine,
		.start_vm = fake_start,
		.stop_vm = fake_stop,
		.migrate_vm = fake_migrate,
		.vm_status = fake_status,
		.vm_view = fake_view,
		.vm_view_get = fake_view_get,
		.vm_view_release = fake_view_release,
		.reboot_vm = fake_reboot,
		.vm_console = fake_console,
		.hosts = fake_hosts,
		.host = fake_host,
		.host_maintenance = fake_maintenance,
		.pools = fake_pools,
		.pool = fake_pool,
		.load = fake_load,
		.summary = fake_summary,
		.vm_backup = fake_backup,
	};
	return ops;
}

/* Wait (up to 30 s) for task @id to reach a final state; returns it. */
static inline char *test_wait_task(const TestMgr *t, const char *token, gint64 id)
{
	g_autofree char *path = g_strdup_printf("/api/v1/tasks/%" G_GINT64_FORMAT, id);

	for (int i = 0; i < 3000; i++) {
		g_autoptr(TestResp) r = test_http(t, "GET", path, token, NULL);
		const char *st = test_str(r, "state");

		if (g_str_equal(st, "succeeded") || g_str_equal(st, "failed") ||
		    g_str_equal(st, "cancelled"))
			return g_strdup(st);
		g_usleep(10000);
	}
	return g_strdup("timeout");
}

#endif /* MGR_TEST_UTIL_H */
