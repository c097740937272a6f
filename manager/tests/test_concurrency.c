/*
 * test_concurrency.c: the server under several users and threads at once.
 *
 * Mixed load: administrators create and delete VMs while vm_managers
 * create, read, update, power, stream the events of and ask the console of
 * their own VMs (and probe each other's), a readonly user lists every
 * collection and a login thread fails and succeeds logins.  Afterwards
 * every write the server acknowledged is there (and every acknowledged
 * delete gone), no request failed with a 5xx or a dropped connection, and
 * SQLite's integrity check passes on the live database.  This is the load
 * that crashed the manager and lost 93 of 241 acknowledged creates when a
 * handler ran SQL on the writer connection without its lock.
 *
 * Lockout under concurrency: 40 wrong passwords at once for one account
 * lock it after at most max_failures password checks, and every attempt is
 * audited; wrong old passwords of a self-service change count too.
 *
 * Every loop is bounded in requests; nothing here asserts on time.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "mgr_test_util.h"

typedef struct {
	TestMgr *t;
	FakeCluster fake;
	IcsClusterOps ops;
} Ctx;

/* Streams opened and left at a fast pace: the per-user cap is not what
 * this test is about (test_limits.c is). */
static void many_streams(IcsManagerConfig *cfg)
{
	cfg->event_streams_per_user = 100;
}

static int setup(void **state)
{
	Ctx *c = g_new0(Ctx, 1);

	c->ops = test_fake_ops(&c->fake);
	c->t = test_mgr_start_in(NULL, &c->ops, many_streams);
	assert_non_null(c->t->admin_token);
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	Ctx *c = *state;

	test_mgr_stop(c->t, FALSE);
	g_free(c);
	return 0;
}

/* ---- one worker thread ------------------------------------------------- */

typedef struct {
	const TestMgr *t;
	char *user;
	char *token;
	guint rounds;
	GPtrArray *created;	  /* uuids answered 201 */
	GPtrArray *deleted;	  /* uuids answered 204 */
	GString *problems;	  /* unexpected answers, one line each */
	const GPtrArray *foreign; /* another user's uuids, to probe (may be NULL) */
	GMutex *foreign_lock;
} Worker;

static void worker_free(Worker *w)
{
	g_free(w->user);
	g_free(w->token);
	g_ptr_array_unref(w->created);
	g_ptr_array_unref(w->deleted);
	g_string_free(w->problems, TRUE);
	g_free(w);
}

static Worker *worker_new(const TestMgr *t, const char *user, const char *token, guint rounds)
{
	Worker *w = g_new0(Worker, 1);

	w->t = t;
	w->user = g_strdup(user);
	w->token = g_strdup(token);
	w->rounds = rounds;
	w->created = g_ptr_array_new_with_free_func(g_free);
	w->deleted = g_ptr_array_new_with_free_func(g_free);
	w->problems = g_string_new(NULL);
	return w;
}

/* Send and check the status is one of @ok (0-terminated); else note it. */
static TestResp *expect(Worker *w, const char *method, const char *path, const char *body,
			const long *ok)
{
	TestResp *r = test_http(w->t, method, path, w->token, body);

	for (const long *s = ok; *s; s++)
		if (r->status == *s)
			return r;
	g_string_append_printf(w->problems, "%s: %s %s -> %ld %s\n", w->user, method, path,
			       r->status, r->body->str);
	return r;
}

static const long OK200[] = { 200, 0 };
static const long OK201[] = { 201, 0 };
static const long OK202[] = { 202, 0 };
static const long OK204[] = { 204, 0 };
static const long OK403[] = { 403, 0 };
static const long OK404[] = { 404, 0 };

/* Stop at the first bytes of an event stream. */
static size_t first_bytes(char *p, size_t size, size_t n, void *data)
{
	g_string_append_len(data, p, (gssize)(size * n));
	return 0; /* abort the transfer: the stream was opened */
}

static long open_stream(const TestMgr *t, const char *token, const char *path)
{
	CURL *h = curl_easy_init();
	g_autofree char *url = g_strconcat(t->base, path, NULL);
	g_autofree char *auth = g_strconcat("Authorization: Bearer ", token, NULL);
	struct curl_slist *hl = curl_slist_append(NULL, auth);
	g_autoptr(GString) body = g_string_new(NULL);
	long status = 0;

	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, first_bytes);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, body);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(hl);
	curl_easy_cleanup(h);
	return status;
}

static void note_stream(Worker *w, const char *path, long expected)
{
	long st = open_stream(w->t, w->token, path);

	if (st != expected)
		g_string_append_printf(w->problems, "%s: stream %s -> %ld\n", w->user, path, st);
}

/* An administrator: creates, reads and deletes every fifth VM. */
static gpointer admin_work(gpointer data)
{
	Worker *w = data;

	for (guint i = 0; i < w->rounds; i++) {
		g_autofree char *name = g_strdup_printf("%s-vm%u", w->user, i);
		g_autofree char *body = test_vm_body(name, NULL);
		g_autoptr(TestResp) r = expect(w, "POST", "/api/v1/vms", body, OK201);
		g_autofree char *path = NULL;

		if (r->status != 201)
			continue;
		g_ptr_array_add(w->created, g_strdup(test_str(r, "uuid")));
		path = g_strdup_printf("/api/v1/vms/%s", test_str(r, "uuid"));
		test_resp_free(expect(w, "GET", path, NULL, OK200));
		if (i % 5 == 4) {
			g_autoptr(TestResp) d = expect(w, "DELETE", path, NULL, OK204);

			if (d->status == 204)
				g_ptr_array_add(w->deleted, g_strdup(test_str(r, "uuid")));
		}
	}
	return NULL;
}

/* A vm_manager: everything on its own VMs, and probes of another's. */
static gpointer vm_manager_work(gpointer data)
{
	Worker *w = data;

	for (guint i = 0; i < w->rounds; i++) {
		g_autofree char *name = g_strdup_printf("%s-vm%u", w->user, i);
		g_autofree char *body = test_vm_body(name, NULL);
		g_autoptr(TestResp) r = expect(w, "POST", "/api/v1/vms", body, OK201);
		const char *uuid;

		if (r->status != 201)
			continue;
		uuid = test_str(r, "uuid");
		g_mutex_lock(w->foreign_lock);
		g_ptr_array_add(w->created, g_strdup(uuid));
		g_mutex_unlock(w->foreign_lock);
		{
			g_autofree char *p = g_strdup_printf("/api/v1/vms/%s", uuid);
			g_autofree char *ev = g_strdup_printf("/api/v1/vms/%s/events", uuid);
			g_autofree char *con = g_strdup_printf("/api/v1/vms/%s/console", uuid);
			g_autofree char *start = g_strdup_printf("/api/v1/vms/%s/start", uuid);
			g_autofree char *upd =
				g_strdup_printf("{\"definition\": {\"name\": \"%s\", \"vcpus\": 2, "
						"\"memory_mib\": 256}}",
						name);

			test_resp_free(expect(w, "GET", p, NULL, OK200));
			note_stream(w, ev, 200);
			test_resp_free(expect(w, "GET", con, NULL, OK200));
			test_resp_free(expect(w, "PUT", p, upd, OK200));
			test_resp_free(expect(w, "POST", start, NULL, OK202));
			test_resp_free(expect(w, "GET", "/api/v1/vms?limit=50", NULL, OK200));
		}
		/* Another user's VM: absent, on every route. */
		g_mutex_lock(w->foreign_lock);
		g_autofree char *other =
			w->foreign->len
				? g_strdup(g_ptr_array_index(w->foreign, i % w->foreign->len))
				: NULL;
		g_mutex_unlock(w->foreign_lock);
		if (other) {
			g_autofree char *p = g_strdup_printf("/api/v1/vms/%s", other);
			g_autofree char *ev = g_strdup_printf("/api/v1/vms/%s/events", other);
			g_autofree char *con = g_strdup_printf("/api/v1/vms/%s/console", other);

			test_resp_free(expect(w, "GET", p, NULL, OK404));
			note_stream(w, ev, 404);
			test_resp_free(expect(w, "GET", con, NULL, OK404));
		}
	}
	return NULL;
}

/* A readonly user: every collection, the event stream, a refusal. */
static gpointer readonly_work(gpointer data)
{
	Worker *w = data;
	static const char *const lists[] = { "/api/v1/vms?limit=100", "/api/v1/users",
					     "/api/v1/roles",	      "/api/v1/tasks",
					     "/api/v1/hosts",	      "/api/v1/pools",
					     "/api/v1/apikeys",	      "/api/v1/sessions/current" };

	for (guint i = 0; i < w->rounds; i++) {
		for (guint k = 0; k < G_N_ELEMENTS(lists); k++)
			test_resp_free(expect(w, "GET", lists[k], NULL, OK200));
		test_resp_free(expect(w, "GET", "/api/v1/audit", NULL, OK403));
		note_stream(w, "/api/v1/events", 200);
	}
	return NULL;
}

/* Logins: wrong passwords for "target", right ones (and logouts) for
 * w->user. */
static gpointer login_work(gpointer data)
{
	Worker *w = data;

	for (guint i = 0; i < w->rounds; i++) {
		g_autofree char *bad = test_login(w->t, "target", "Wrong-Passw0rd!");
		g_autofree char *good = test_login(w->t, w->user, TEST_PASSWORD);

		if (bad != NULL || good == NULL) {
			g_string_append_printf(w->problems, "login round %u: bad %s, good %s\n", i,
					       bad ? "accepted" : "refused",
					       good ? "accepted" : "refused");
			continue;
		}
		if (test_status(w->t, "DELETE", "/api/v1/sessions/current", good, NULL) != 204)
			g_string_append_printf(w->problems, "logout round %u failed\n", i);
	}
	return NULL;
}

static Worker *as_user(Ctx *c, const char *name, const char *roles, guint rounds)
{
	g_autofree char *tok = NULL;

	assert_int_equal(test_make_user(c->t, name, roles), 201);
	tok = test_login(c->t, name, TEST_PASSWORD);
	assert_non_null(tok);
	return worker_new(c->t, name, tok, rounds);
}

static void integrity_ok(IcsStore *store)
{
	g_autoptr(GError) err = NULL;

	ics_store_lock(store);
	{
		g_autoptr(IcsStmt) st = ics_store_stmt(store, "PRAGMA integrity_check", &err);

		assert_non_null(st);
		assert_int_equal(ics_stmt_step(st, &err), SQLITE_ROW);
		assert_string_equal(ics_stmt_text(st, 0), "ok");
	}
	ics_store_unlock(store);
}

static void test_mixed_load(void **state)
{
	Ctx *c = *state;
	GMutex lock;
	Worker *w[7];
	GThread *th[7];
	GThreadFunc fn[7] = { admin_work,    admin_work,    vm_manager_work, vm_manager_work,
			      readonly_work, readonly_work, login_work };

	g_mutex_init(&lock);
	w[0] = worker_new(c->t, "admin", c->t->admin_token, 40);
	w[1] = as_user(c, "adm2", "[\"administrator\"]", 40);
	w[2] = as_user(c, "vmm1", "[\"vm_manager\"]", 20);
	w[3] = as_user(c, "vmm2", "[\"vm_manager\"]", 20);
	w[4] = as_user(c, "ro1", "[\"readonly\"]", 15);
	w[5] = as_user(c, "ro2", "[\"readonly\"]", 15);
	w[6] = as_user(c, "logger", "[\"readonly\"]", 10);
	assert_int_equal(test_make_user(c->t, "target", "[\"vm_manager\"]"), 201);
	/* Each vm_manager probes the other's VMs. */
	w[2]->foreign = w[3]->created;
	w[3]->foreign = w[2]->created;
	w[2]->foreign_lock = w[3]->foreign_lock = &lock;
	for (guint i = 0; i < G_N_ELEMENTS(w); i++)
		th[i] = g_thread_new(w[i]->user, fn[i], w[i]);
	for (guint i = 0; i < G_N_ELEMENTS(w); i++)
		g_thread_join(th[i]);

	for (guint i = 0; i < G_N_ELEMENTS(w); i++)
		if (w[i]->problems->len)
			fail_msg("unexpected answers:\n%s", w[i]->problems->str);
	/* Every acknowledged create is there, every acknowledged delete gone. */
	for (guint i = 0; i < 4; i++) {
		assert_int_equal(w[i]->created->len, w[i]->rounds);
		for (guint k = 0; k < w[i]->created->len; k++) {
			const char *uuid = g_ptr_array_index(w[i]->created, k);
			g_autofree char *p = g_strdup_printf("/api/v1/vms/%s", uuid);
			gboolean gone = g_ptr_array_find_with_equal_func(w[i]->deleted, uuid,
									 g_str_equal, NULL);

			assert_int_equal(test_status(c->t, "GET", p, c->t->admin_token, NULL),
					 gone ? 404 : 200);
		}
	}
	integrity_ok(c->t->m->store);
	/* Every stream the clients left has ended on the server too. */
	for (guint i = 0; i < 300 && g_atomic_int_get((gint *)&c->t->m->streams_open) > 0; i++)
		g_usleep(100000);
	assert_int_equal(c->t->m->streams_open, 0);
	for (guint i = 0; i < G_N_ELEMENTS(w); i++)
		worker_free(w[i]);
	g_mutex_clear(&lock);
}

/* ---- lockout ------------------------------------------------------------ */

typedef struct {
	const TestMgr *t;
	const char *user;
	gint accepted;
} Guesser;

static gpointer guess(gpointer data)
{
	Guesser *g = data;
	g_autofree char *tok = test_login(g->t, g->user, "Wrong-Passw0rd!");

	if (tok != NULL)
		g_atomic_int_inc(&g->accepted);
	return NULL;
}

/* Audit records of @action for @user: total and those with @reason. */
static void audit_counts(Ctx *c, const char *action, const char *user, const char *reason,
			 guint *total, guint *with_reason)
{
	g_autofree char *path = g_strdup_printf(
		"/api/v1/audit/export?format=jsonl&action=%s&user=%s", action, user);
	g_autoptr(TestResp) r = test_http(c->t, "GET", path, c->t->admin_token, NULL);
	g_auto(GStrv) lines = g_strsplit(r->body->str, "\n", -1);

	assert_int_equal(r->status, 200);
	*total = *with_reason = 0;
	for (guint i = 0; lines[i]; i++) {
		g_autoptr(json_t) o = NULL;

		if (lines[i][0] == '\0')
			continue;
		o = json_loads(lines[i], 0, NULL);
		assert_non_null(o);
		(*total)++;
		if (g_strcmp0(json_string_value(json_object_get(o, "reason")), reason) == 0)
			(*with_reason)++;
	}
}

static void test_lockout_concurrent(void **state)
{
	Ctx *c = *state;
	Guesser g = { c->t, "victim", 0 };
	GThread *th[40];
	guint total, wrong;

	assert_int_equal(test_make_user(c->t, "victim", "[\"vm_manager\"]"), 201);
	for (guint i = 0; i < G_N_ELEMENTS(th); i++)
		th[i] = g_thread_new("guess", guess, &g);
	for (guint i = 0; i < G_N_ELEMENTS(th); i++)
		g_thread_join(th[i]);
	assert_int_equal(g.accepted, 0);
	{
		g_autoptr(TestResp) u =
			test_http(c->t, "GET", "/api/v1/users/victim", c->t->admin_token, NULL);

		assert_true(json_is_true(json_object_get(u->json, "locked")));
	}
	/* Locked: the right password is refused too. */
	assert_null(test_login(c->t, "victim", TEST_PASSWORD));
	/* Every attempt audited; at most max_failures passwords were checked,
	 * the others refused as locked without a check. */
	audit_counts(c, "session.login", "victim", "wrong password", &total, &wrong);
	assert_int_equal(total, G_N_ELEMENTS(th) + 1);
	assert_true(wrong >= 1 && wrong <= c->t->m->cfg.policy.max_failures);
}

static void test_wrong_old_password_counts(void **state)
{
	Ctx *c = *state;
	g_autofree char *tok = NULL;
	guint limit = c->t->m->cfg.policy.max_failures;

	assert_int_equal(test_make_user(c->t, "changer", "[\"readonly\"]"), 201);
	tok = test_login(c->t, "changer", TEST_PASSWORD);
	assert_non_null(tok);
	for (guint i = 0; i < limit; i++)
		assert_int_equal(test_status(c->t, "POST", "/api/v1/users/changer/password", tok,
					     "{\"old_password\": \"Wrong-Passw0rd!\","
					     " \"new_password\": \"An0ther-Passw0rd!\"}"),
				 403);
	/* The guesses locked the account: neither a change nor a login. */
	assert_int_equal(test_status(c->t, "POST", "/api/v1/users/changer/password", tok,
				     "{\"old_password\": \"" TEST_PASSWORD "\","
				     " \"new_password\": \"An0ther-Passw0rd!\"}"),
			 403);
	assert_null(test_login(c->t, "changer", TEST_PASSWORD));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_mixed_load, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lockout_concurrent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_old_password_counts, setup, teardown),
	};
	int rc;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
