/*
 * test_drs_service.c: DRS in the manager, through its REST API, on a
 * simulated cluster.
 *
 * The cluster is a fake IcsClusterOps whose load comes from a table of
 * hosts and VMs: each VM burns a set number of millicores, reported as
 * cumulative CPU time that restarts when it migrates (as a new QEMU's
 * does), and a migration moves it in the table.  The manager, its store,
 * tasks, API and the DRS service are the real ones.  What is checked:
 * configuration (defaults, persistence, bad input, permissions), a plan
 * for a loaded host, applying it as a task, that planning again proposes
 * nothing and no VM moves twice, automatic mode on the period, failed and
 * outdated migrations, maintenance spreading a host's VMs, and a manager
 * without a cluster.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "mgr_test_util.h"

typedef struct {
	char uuid[37];
	char host[16];
	gint64 vcpus, memory_mib, milli;
	gint64 since_us; /* when its CPU time counter started */
	gint moves;
} SimVm;

typedef struct {
	GMutex lock;
	guint n_hosts;
	char hosts[4][16];
	gint64 cpus, memory_mib;
	GPtrArray *vms; /* SimVm * */
	gint migrations;
	char fail_vm[37]; /* its migration fails */
	IcsClusterOps ops;
} Sim;

static SimVm *sim_vm(Sim *s, const char *uuid)
{
	for (guint i = 0; i < s->vms->len; i++) {
		SimVm *v = s->vms->pdata[i];

		if (g_str_equal(v->uuid, uuid))
			return v;
	}
	return NULL;
}

static json_t *sim_load(void *self, GError **error)
{
	Sim *s = self;
	json_t *hosts = json_array(), *vms = json_array();
	gint64 now = g_get_monotonic_time();

	(void)error;
	g_mutex_lock(&s->lock);
	for (guint i = 0; i < s->n_hosts; i++)
		json_array_append_new(hosts, json_pack("{s:s, s:s, s:I, s:I}", "name", s->hosts[i],
						       "state", "on", "cpus", (json_int_t)s->cpus,
						       "memory_mib", (json_int_t)s->memory_mib));
	for (guint i = 0; i < s->vms->len; i++) {
		SimVm *v = s->vms->pdata[i];

		json_array_append_new(
			vms, json_pack("{s:s, s:s, s:I, s:I, s:b, s:I, s:I}", "uuid", v->uuid,
				       "host", v->host, "vcpus", (json_int_t)v->vcpus, "memory_mib",
				       (json_int_t)v->memory_mib, "migrating", 0, "cpu_time_ns",
				       (json_int_t)((now - v->since_us) * v->milli),
				       "memory_used_mib", (json_int_t)v->memory_mib));
	}
	g_mutex_unlock(&s->lock);
	return json_pack("{s:o, s:o}", "hosts", hosts, "vms", vms);
}

static gboolean sim_status(void *self, const char *uuid, char **state, char **host, GError **error)
{
	Sim *s = self;
	SimVm *v;

	g_mutex_lock(&s->lock);
	v = sim_vm(s, uuid);
	if (v) {
		*state = g_strdup("running");
		*host = g_strdup(v->host);
	}
	g_mutex_unlock(&s->lock);
	if (v == NULL)
		g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND, "VM %s has no resource", uuid);
	return v != NULL;
}

static gboolean sim_migrate(void *self, const char *uuid, const char *target,
			    IcsClusterProgressFn progress, void *progress_data,
			    const volatile gint *cancelled, GError **error)
{
	Sim *s = self;
	SimVm *v;
	gboolean ok = FALSE;

	(void)progress, (void)progress_data, (void)cancelled;
	g_usleep(20000);
	g_mutex_lock(&s->lock);
	v = sim_vm(s, uuid);
	if (v && g_str_equal(uuid, s->fail_vm)) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT, "migration of %s refused", uuid);
	} else if (v) {
		g_strlcpy(v->host, target, sizeof(v->host));
		v->since_us = g_get_monotonic_time();
		v->moves++;
		s->migrations++;
		ok = TRUE;
	}
	g_mutex_unlock(&s->lock);
	return ok;
}

static json_t *sim_hosts(void *self, GError **error)
{
	Sim *s = self;
	json_t *out = json_array();

	(void)error;
	for (guint i = 0; i < s->n_hosts; i++)
		json_array_append_new(out,
				      json_pack("{s:s, s:s, s:s, s:b, s:b, s:b, s:i}", "name",
						s->hosts[i], "id", "1", "state", "online", "dc", 0,
						"standby", 0, "maintenance", 0, "vm_count", 0));
	return out;
}

static json_t *sim_host(void *self, const char *name, GError **error)
{
	(void)self, (void)name;
	g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND, "not simulated");
	return NULL;
}

static Sim *sim_new(guint n_hosts)
{
	Sim *s = g_new0(Sim, 1);

	g_mutex_init(&s->lock);
	s->n_hosts = n_hosts;
	for (guint i = 0; i < n_hosts; i++)
		g_snprintf(s->hosts[i], sizeof(s->hosts[i]), "host%u", i + 1);
	s->cpus = 4;
	s->memory_mib = 16384;
	s->vms = g_ptr_array_new_with_free_func(g_free);
	s->ops = (IcsClusterOps){
		.self = s,
		.define_vm = fake_define,
		.undefine_vm = fake_undefine,
		.start_vm = fake_start,
		.stop_vm = fake_stop,
		.migrate_vm = sim_migrate,
		.vm_status = sim_status,
		.hosts = sim_hosts,
		.host = sim_host,
		.host_maintenance = fake_maintenance,
		.load = sim_load,
	};
	return s;
}

static void sim_add(Sim *s, const char *host, gint64 memory_mib, gint64 milli)
{
	SimVm *v = g_new0(SimVm, 1);

	g_snprintf(v->uuid, sizeof(v->uuid), "00000000-0000-4000-8000-%012u", s->vms->len + 1);
	g_strlcpy(v->host, host, sizeof(v->host));
	v->vcpus = 2;
	v->memory_mib = memory_mib;
	v->milli = milli;
	v->since_us = g_get_monotonic_time() - G_USEC_PER_SEC;
	g_ptr_array_add(s->vms, v);
}

static guint sim_count(Sim *s, const char *host)
{
	guint n = 0;

	g_mutex_lock(&s->lock);
	for (guint i = 0; i < s->vms->len; i++)
		n += g_str_equal(((SimVm *)s->vms->pdata[i])->host, host);
	g_mutex_unlock(&s->lock);
	return n;
}

static void sim_free(Sim *s)
{
	g_ptr_array_unref(s->vms);
	g_mutex_clear(&s->lock);
	g_free(s);
}

typedef struct {
	Sim *sim;
	TestMgr *t;
} Ctx;

/* host1 runs six busy VMs, host2 and host3 nothing. */
static int setup(void **state)
{
	Ctx *c = g_new0(Ctx, 1);

	c->sim = sim_new(3);
	for (int i = 0; i < 6; i++)
		sim_add(c->sim, "host1", 2048, 900);
	c->t = test_mgr_start_in(NULL, &c->sim->ops, NULL);
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	Ctx *c = *state;

	test_mgr_stop(c->t, FALSE);
	sim_free(c->sim);
	g_free(c);
	return 0;
}

static gint64 int_at(const json_t *obj, const char *key)
{
	return json_integer_value(json_object_get(obj, key));
}

/* Wait for the task of a 202 answer; its final state. */
static char *wait_task(Ctx *c, const TestResp *r)
{
	assert_int_equal(r->status, 202);
	return test_wait_task(c->t, c->t->admin_token, int_at(r->json, "id"));
}

static void test_config(void **state)
{
	Ctx *c = *state;
	g_autofree char *dir = g_strdup(c->t->dir);
	g_autofree char *password = g_strdup(c->t->admin_password);

	{
		g_autoptr(TestResp) r =
			test_http(c->t, "GET", "/api/v1/drs/config", c->t->admin_token, NULL);

		assert_int_equal(r->status, 200);
		assert_string_equal(test_str(r, "mode"), "manual");
		assert_int_equal(int_at(r->json, "level"), 3);
		assert_int_equal(int_at(r->json, "period_s"), 300);
		assert_int_equal(int_at(r->json, "ha_reserve_pct"), 0);
		assert_true(json_is_null(json_object_get(r->json, "updated_at")));
	}
	{
		g_autoptr(TestResp) r =
			test_http(c->t, "PUT", "/api/v1/drs/config", c->t->admin_token,
				  "{\"mode\": \"off\", \"level\": 4, \"ha_reserve_pct\": 25}");

		assert_int_equal(r->status, 200);
		assert_string_equal(test_str(r, "mode"), "off");
		assert_int_equal(int_at(r->json, "level"), 4);
		assert_int_equal(int_at(r->json, "period_s"), 300);
		assert_int_equal(int_at(r->json, "cooldown_s"), 900);
	}
	/* Bad input: one clear message, 400, nothing changed. */
	{
		static const char *const bad[] = {
			"{\"level\": 9}",
			"{\"level\": 0}",
			"{\"mode\": \"fast\"}",
			"{\"period_s\": 5}",
			"{\"ha_reserve_pct\": 95}",
			"{\"speed\": 1}",
			"{\"level\": \"high\"}",
			"[]",
			"not json",
		};

		for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
			g_autoptr(TestResp) r = test_http(c->t, "PUT", "/api/v1/drs/config",
							  c->t->admin_token, bad[i]);

			if (r->status != 400)
				fail_msg("%s: %ld %s", bad[i], r->status, r->body->str);
		}
	}
	{
		g_autoptr(TestResp) r = test_http(c->t, "PUT", "/api/v1/drs/config",
						  c->t->admin_token, "{\"mode\": \"fast\"}");

		assert_non_null(strstr(r->body->str, "mode must be"));
	}
	/* readonly reads and may not change. */
	assert_int_equal(test_make_user(c->t, "viewer", "[\"readonly\"]"), 201);
	{
		g_autofree char *tok = test_login(c->t, "viewer", TEST_PASSWORD);

		assert_int_equal(test_status(c->t, "GET", "/api/v1/drs/config", tok, NULL), 200);
		assert_int_equal(test_status(c->t, "GET", "/api/v1/drs/history", tok, NULL), 200);
		assert_int_equal(test_status(c->t, "PUT", "/api/v1/drs/config", tok,
					     "{\"mode\": \"manual\"}"),
				 403);
		assert_int_equal(test_status(c->t, "POST", "/api/v1/drs/plan", tok, NULL), 403);
		assert_int_equal(test_status(c->t, "POST", "/api/v1/drs/apply", tok, NULL), 403);
	}
	/* Audited. */
	{
		g_autoptr(TestResp) r = test_http(c->t, "GET", "/api/v1/audit?action=drs.config",
						  c->t->admin_token, NULL);

		assert_int_equal(r->status, 200);
		assert_non_null(strstr(r->body->str, "drs.config"));
	}
	/* Persisted. */
	test_mgr_stop(c->t, TRUE);
	c->t = test_mgr_start_in(dir, &c->sim->ops, NULL);
	c->t->admin_token = test_login(c->t, "admin", password);
	{
		g_autoptr(TestResp) r =
			test_http(c->t, "GET", "/api/v1/drs/config", c->t->admin_token, NULL);

		assert_string_equal(test_str(r, "mode"), "off");
		assert_int_equal(int_at(r->json, "ha_reserve_pct"), 25);
	}
}

/* Every VM of the plan's moves once, from where it is. */
static void check_moves(const json_t *moves, const char *from)
{
	g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
	json_t *m;
	size_t i;

	json_array_foreach(moves, i, m)
	{
		const char *vm = json_string_value(json_object_get(m, "vm"));

		assert_false(g_hash_table_contains(seen, vm));
		g_hash_table_add(seen, (gpointer)vm);
		if (from)
			assert_string_equal(json_string_value(json_object_get(m, "from")), from);
		assert_string_not_equal(json_string_value(json_object_get(m, "to")), from);
	}
}

static void test_plan_apply(void **state)
{
	Ctx *c = *state;
	json_t *plan, *moves;
	gint64 id;
	gsize n;

	{
		g_autoptr(TestResp) r =
			test_http(c->t, "GET", "/api/v1/drs/plan", c->t->admin_token, NULL);

		assert_int_equal(r->status, 200);
		assert_true(json_is_null(json_object_get(r->json, "plan")));
	}
	g_autoptr(TestResp) r =
		test_http(c->t, "POST", "/api/v1/drs/plan", c->t->admin_token, NULL);
	assert_int_equal(r->status, 201);
	plan = json_object_get(r->json, "plan");
	id = int_at(plan, "id");
	moves = json_object_get(plan, "moves");
	n = json_array_size(moves);
	assert_string_equal(json_string_value(json_object_get(plan, "state")), "planned");
	assert_string_equal(json_string_value(json_object_get(plan, "trigger")), "manual");
	/* Six busy VMs on one of three hosts: several leave, none twice. */
	assert_true(n >= 2 && n <= 5);
	check_moves(moves, "host1");
	assert_int_equal(int_at(plan, "vms_measured"), 6);
	assert_true(json_real_value(json_object_get(
			    json_object_get(json_object_get(plan, "score"), "after"), "hbal")) <
		    json_real_value(json_object_get(
			    json_object_get(json_object_get(plan, "score"), "before"), "hbal")));
	assert_int_equal(json_array_size(json_object_get(plan, "hosts")), 3);
	assert_non_null(json_object_get(json_object_get(plan, "power"), "actions"));
	assert_false(json_is_true(json_object_get(json_object_get(plan, "power"), "executed")));
	{
		/* The first reading measured each VM's 900 millicores. */
		json_t *h = json_array_get(json_object_get(plan, "hosts"), 0);

		assert_string_equal(json_string_value(json_object_get(h, "name")), "host1");
		assert_in_range(int_at(h, "cpu_used_milli"), 6 * 850, 6 * 950);
	}
	{
		g_autoptr(TestResp) g =
			test_http(c->t, "GET", "/api/v1/drs/plan", c->t->admin_token, NULL);

		assert_int_equal(int_at(json_object_get(g->json, "plan"), "id"), id);
	}
	/* Apply it: a task; every move done, the VMs where the plan said. */
	{
		g_autoptr(TestResp) a =
			test_http(c->t, "POST", "/api/v1/drs/apply", c->t->admin_token, "{}");
		g_autofree char *st = NULL;

		assert_string_equal(test_str(a, "kind"), "drs.apply");
		st = wait_task(c, a);
		assert_string_equal(st, "succeeded");
	}
	assert_int_equal(c->sim->migrations, (gint)n);
	assert_int_equal(sim_count(c->sim, "host1"), 6 - n);
	{
		g_autoptr(TestResp) h =
			test_http(c->t, "GET", "/api/v1/drs/history", c->t->admin_token, NULL);
		json_t *run = json_array_get(json_object_get(h->json, "items"), 0), *m;
		size_t i;

		assert_int_equal(h->status, 200);
		assert_int_equal(int_at(run, "id"), id);
		assert_string_equal(json_string_value(json_object_get(run, "state")), "applied");
		json_array_foreach(json_object_get(run, "moves"), i, m)
			assert_string_equal(json_string_value(json_object_get(m, "state")), "done");
	}
	/* Applying it again is a conflict; planning again proposes nothing. */
	{
		g_autofree char *body = g_strdup_printf("{\"run_id\": %" G_GINT64_FORMAT "}", id);

		assert_int_equal(
			test_status(c->t, "POST", "/api/v1/drs/apply", c->t->admin_token, body),
			409);
		assert_int_equal(test_status(c->t, "POST", "/api/v1/drs/apply", c->t->admin_token,
					     "{\"run_id\": 999}"),
				 404);
		assert_int_equal(test_status(c->t, "POST", "/api/v1/drs/apply", c->t->admin_token,
					     "{\"run_id\": -1}"),
				 400);
	}
	{
		g_autoptr(TestResp) p2 =
			test_http(c->t, "POST", "/api/v1/drs/plan", c->t->admin_token, "");

		assert_int_equal(p2->status, 201);
		assert_int_equal(json_array_size(json_object_get(json_object_get(p2->json, "plan"),
								 "moves")),
				 0);
	}
	for (guint i = 0; i < c->sim->vms->len; i++)
		assert_true(((SimVm *)c->sim->vms->pdata[i])->moves <= 1);
}

static void test_automatic(void **state)
{
	Ctx *c = *state;
	gint64 deadline = g_get_monotonic_time() + 40 * G_USEC_PER_SEC;
	guint applied = 0, periodic = 0;

	assert_int_equal(test_status(c->t, "PUT", "/api/v1/drs/config", c->t->admin_token,
				     "{\"mode\": \"automatic\", \"period_s\": 10}"),
			 200);
	/* Two periods: the first applies its plan, the second finds nothing. */
	while (g_get_monotonic_time() < deadline && periodic < 2) {
		g_autoptr(TestResp) h = test_http(c->t, "GET", "/api/v1/drs/history?limit=10",
						  c->t->admin_token, NULL);
		json_t *run;
		size_t i;

		periodic = applied = 0;
		json_array_foreach(json_object_get(h->json, "items"), i, run)
		{
			const char *st = json_string_value(json_object_get(run, "state"));

			periodic += g_strcmp0(json_string_value(json_object_get(run, "trigger")),
					      "periodic") == 0;
			applied += g_strcmp0(st, "applied") == 0;
		}
		g_usleep(200000);
	}
	assert_int_equal(periodic, 2);
	assert_int_equal(applied, 1);
	assert_true(sim_count(c->sim, "host1") < 6);
	for (guint i = 0; i < c->sim->vms->len; i++)
		assert_true(((SimVm *)c->sim->vms->pdata[i])->moves <= 1);
}

static void test_failures(void **state)
{
	Ctx *c = *state;
	g_autofree char *st = NULL;

	/* One VM's migration fails, another left its host before the plan
	 * ran: the run is partial, the task failed, nothing moved twice. */
	g_autoptr(TestResp) r =
		test_http(c->t, "POST", "/api/v1/drs/plan", c->t->admin_token, NULL);
	json_t *moves = json_object_get(json_object_get(r->json, "plan"), "moves");

	assert_true(json_array_size(moves) >= 2);
	g_strlcpy(c->sim->fail_vm,
		  json_string_value(json_object_get(json_array_get(moves, 0), "vm")),
		  sizeof(c->sim->fail_vm));
	{
		SimVm *v = sim_vm(
			c->sim, json_string_value(json_object_get(json_array_get(moves, 1), "vm")));

		g_mutex_lock(&c->sim->lock);
		g_strlcpy(v->host, "host3", sizeof(v->host));
		g_mutex_unlock(&c->sim->lock);
	}
	g_autoptr(TestResp) a =
		test_http(c->t, "POST", "/api/v1/drs/apply", c->t->admin_token, NULL);
	st = wait_task(c, a);
	assert_string_equal(st, "failed");
	{
		g_autoptr(TestResp) h = test_http(c->t, "GET", "/api/v1/drs/history?limit=1",
						  c->t->admin_token, NULL);
		json_t *run = json_array_get(json_object_get(h->json, "items"), 0);
		json_t *m = json_object_get(run, "moves");

		assert_string_equal(json_string_value(json_object_get(run, "state")), "partial");
		assert_non_null(
			strstr(json_string_value(json_object_get(run, "error")), "refused"));
		assert_string_equal(
			json_string_value(json_object_get(json_array_get(m, 0), "state")),
			"failed");
		if (int_at(json_array_get(m, 1), "wave") == int_at(json_array_get(m, 0), "wave"))
			assert_string_equal(
				json_string_value(json_object_get(json_array_get(m, 1), "state")),
				"skipped");
		assert_int_equal(int_at(h->json, "next"), int_at(run, "id"));
	}
	/* A new plan is possible again. */
	assert_int_equal(test_status(c->t, "POST", "/api/v1/drs/plan", c->t->admin_token, NULL),
			 201);
}

static void test_maintenance_spreads(void **state)
{
	Ctx *c = *state;
	g_autofree char *st = NULL;
	guint got1, got3;

	/* Evenly loaded: 2 + 4 + 2 VMs; host2's four go to both others. */
	g_mutex_lock(&c->sim->lock);
	for (guint i = 0; i < c->sim->vms->len; i++) {
		SimVm *v = c->sim->vms->pdata[i];

		g_strlcpy(v->host, i < 4 ? "host2" : "host1", sizeof(v->host));
		v->milli = 300;
	}
	g_mutex_unlock(&c->sim->lock);
	sim_add(c->sim, "host3", 2048, 300);
	sim_add(c->sim, "host3", 2048, 300);
	g_autoptr(TestResp) r = test_http(c->t, "POST", "/api/v1/hosts/host2/maintenance",
					  c->t->admin_token, "{\"enter\": true}");
	st = wait_task(c, r);
	assert_string_equal(st, "succeeded");
	got1 = sim_count(c->sim, "host1");
	got3 = sim_count(c->sim, "host3");
	assert_int_equal(sim_count(c->sim, "host2"), 0);
	assert_int_equal(got1 + got3, 8);
	assert_true(got1 >= 3 && got3 >= 3);
	{
		g_autoptr(TestResp) h = test_http(c->t, "GET", "/api/v1/drs/history?limit=1",
						  c->t->admin_token, NULL);
		json_t *run = json_array_get(json_object_get(h->json, "items"), 0);

		assert_string_equal(json_string_value(json_object_get(run, "trigger")),
				    "maintenance");
		assert_string_equal(json_string_value(json_object_get(run, "evacuate")), "host2");
		assert_string_equal(json_string_value(json_object_get(run, "state")), "applied");
		check_moves(json_object_get(run, "moves"), "host2");
	}
	/* The plan to apply is not the maintenance run. */
	{
		g_autoptr(TestResp) p =
			test_http(c->t, "GET", "/api/v1/drs/plan", c->t->admin_token, NULL);

		assert_true(json_is_null(json_object_get(p->json, "plan")));
	}
}

static void test_no_cluster(void **state)
{
	TestMgr *t = test_mgr_start();

	(void)state;
	assert_int_equal(test_status(t, "GET", "/api/v1/drs/config", t->admin_token, NULL), 200);
	assert_int_equal(test_status(t, "POST", "/api/v1/drs/plan", t->admin_token, NULL), 503);
	assert_int_equal(test_status(t, "POST", "/api/v1/drs/apply", t->admin_token, NULL), 503);
	{
		g_autoptr(TestResp) h =
			test_http(t, "GET", "/api/v1/drs/history", t->admin_token, NULL);

		assert_int_equal(h->status, 200);
		assert_int_equal(json_array_size(json_object_get(h->json, "items")), 0);
		assert_true(json_is_null(json_object_get(h->json, "next")));
	}
	assert_int_equal(test_status(t, "GET", "/api/v1/drs/history?limit=0", t->admin_token, NULL),
			 400);
	assert_int_equal(
		test_status(t, "GET", "/api/v1/drs/history?before=x", t->admin_token, NULL), 400);
	assert_int_equal(test_status(t, "POST", "/api/v1/drs/plan", t->admin_token, "{\"x\":1}"),
			 400);
	test_mgr_stop(t, FALSE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_config, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plan_apply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failures, setup, teardown),
		cmocka_unit_test_setup_teardown(test_maintenance_spreads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_automatic, setup, teardown),
		cmocka_unit_test(test_no_cluster),
	};

	curl_global_init(CURL_GLOBAL_DEFAULT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
