/*
 * test_vm_mirror.c: the inventory follows the cluster.
 *
 * A table stands for the cluster (ops->vms and ops->vm answer from it, as
 * cluster_vms.c answers from the CIB and the pools; the real thing runs in
 * lab-manager.test and the CTS).  Checked: VMs the cluster has are adopted
 * without an owner at start; a VM appearing or going (the cluster
 * service's change) is mirrored at once, its "vm.created" before its
 * "vm.state"; a definition edited on its pool is taken at the next pass;
 * a VM that cannot be used is shown broken with the reason and mended when
 * fixed; a name used twice hides neither VM; rows a manager without a
 * cluster made are left alone; a definition that comes or goes on a pool
 * without a CIB change is noticed by the pool listing.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ics/manager/vm_inventory.h"
#include "ics/manager/vm_mirror.h"
#include "ics/manager/vm_service.h"
#include "mgr_test_util.h"

#define U1 "11111111-1111-4111-8111-111111111111"
#define U2 "22222222-2222-4222-8222-222222222222"
#define U3 "33333333-3333-4333-8333-333333333333"

typedef struct {
	GMutex lock;
	GHashTable *entries; /* uuid -> json_t* entry, as ops->vm answers */
} Fake;

static json_t *fake_vms(void *self, GError **error)
{
	Fake *f = self;
	json_t *out = json_array();
	GHashTableIter it;
	gpointer v;

	g_mutex_lock(&f->lock);
	g_hash_table_iter_init(&it, f->entries);
	while (g_hash_table_iter_next(&it, NULL, &v))
		json_array_append(out, v);
	g_mutex_unlock(&f->lock);
	return out;
}

static json_t *fake_vm(void *self, const char *uuid, GError **error)
{
	Fake *f = self;
	json_t *e;

	g_mutex_lock(&f->lock);
	e = g_hash_table_lookup(f->entries, uuid);
	if (e)
		json_incref(e);
	g_mutex_unlock(&f->lock);
	if (e == NULL)
		g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND, "no VM %s", uuid);
	return e;
}

/* Every entry whose "pool" is set counts as defined on a pool. */
static json_t *fake_pool_uuids(void *self, GError **error)
{
	Fake *f = self;
	json_t *out = json_array();
	GHashTableIter it;
	gpointer k, v;

	g_mutex_lock(&f->lock);
	g_hash_table_iter_init(&it, f->entries);
	while (g_hash_table_iter_next(&it, &k, &v))
		if (json_object_get(v, "definition"))
			json_array_append_new(out, json_string(k));
	g_mutex_unlock(&f->lock);
	return out;
}

static gboolean ok_define(void *self, const IcsVmMeta *vm, GError **error)
{
	return TRUE;
}

static gboolean ok_undefine(void *self, const char *uuid, GError **error)
{
	return TRUE;
}

/* The cluster has VM @uuid named @name (@vcpus), or, with @error, a VM that
 * cannot be used. */
static void cluster_has(Fake *f, const char *uuid, const char *name, int vcpus, const char *error)
{
	json_t *e = json_pack("{s:s, s:s?, s:s}", "uuid", uuid, "resource", name, "pool",
			      "/srv/ics/pools/shared");

	if (name)
		json_object_set_new(e, "definition",
				    json_pack("{s:s, s:s, s:i, s:i}", "uuid", uuid, "name", name,
					      "vcpus", vcpus, "memory_mib", 256));
	if (error)
		json_object_set_new(e, "error", json_string(error));
	g_mutex_lock(&f->lock);
	g_hash_table_replace(f->entries, g_strdup(uuid), e);
	g_mutex_unlock(&f->lock);
}

static void cluster_lacks(Fake *f, const char *uuid)
{
	g_mutex_lock(&f->lock);
	g_hash_table_remove(f->entries, uuid);
	g_mutex_unlock(&f->lock);
}

typedef struct {
	char *dir;
	IcsStore *store;
	IcsEvents *events;
	Fake fake;
	IcsClusterOps ops;
	IcsVmService *writes;
	IcsVmMirror *mirror;
} Ctx;

static int setup(void **state)
{
	Ctx *c = g_new0(Ctx, 1);
	g_autofree char *db = NULL;
	g_autoptr(GError) err = NULL;

	c->dir = g_dir_make_tmp("ics-mirror-XXXXXX", NULL);
	db = g_build_filename(c->dir, "m.db", NULL);
	c->store = ics_store_open(db, &err);
	assert_non_null(c->store);
	c->events = ics_events_new(256);
	g_mutex_init(&c->fake.lock);
	c->fake.entries =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)json_decref);
	c->ops = (IcsClusterOps){ .self = &c->fake,
				  .define_vm = ok_define,
				  .undefine_vm = ok_undefine,
				  .vms = fake_vms,
				  .vm = fake_vm,
				  .pool_vm_uuids = fake_pool_uuids };
	c->writes = ics_vm_service_new(&(IcsVmServiceConfig){
		.store = c->store, .events = c->events, .cluster = &c->ops, .state_dir = c->dir });
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	Ctx *c = *state;

	ics_vm_mirror_free(c->mirror);
	ics_vm_service_free(c->writes);
	ics_events_free(c->events);
	ics_store_close(c->store);
	g_hash_table_destroy(c->fake.entries);
	g_mutex_clear(&c->fake.lock);
	test_rm_rf(c->dir);
	g_free(c->dir);
	g_free(c);
	return 0;
}

/* The row of @uuid: NULL when absent. */
static json_t *row(Ctx *c, const char *uuid)
{
	json_t *out;

	ics_store_read_begin(c->store);
	out = ics_vm_inventory_get(c->store, uuid, NULL);
	ics_store_read_end(c->store);
	return out;
}

/* The events published since @after, as "type uuid" lines. */
static char *events_since(Ctx *c, guint64 *after)
{
	GString *s = g_string_new(NULL);
	IcsEvent *e;

	while ((e = ics_events_next(c->events, *after, 0, NULL, NULL)) != NULL) {
		g_autoptr(json_t) d = json_loads(e->data, 0, NULL);

		g_string_append_printf(s, "%s%s %s", s->len ? "; " : "", e->type,
				       json_string_value(json_object_get(d, "uuid")));
		*after = e->id;
		ics_event_free(e);
	}
	return g_string_free(s, FALSE);
}

static void expect_events(Ctx *c, guint64 *after, const char *want)
{
	g_autofree char *got = events_since(c, after);

	assert_string_equal(got, want);
}

static void test_adopt_follow_drop(void **state)
{
	Ctx *c = *state;
	guint64 seen = 0;

	cluster_has(&c->fake, U1, "alpha", 1, NULL);
	cluster_has(&c->fake, U2, "beta", 2, NULL);
	c->mirror = ics_vm_mirror_new(c->store, c->events, &c->ops, c->writes, 0);
	ics_vm_mirror_flush(c->mirror);
	{
		g_autoptr(json_t) a = row(c, U1);

		assert_non_null(a);
		assert_string_equal(json_string_value(json_object_get(a, "name")), "alpha");
		assert_true(json_is_null(json_object_get(a, "owner")));
		assert_null(json_object_get(a, "broken"));
	}
	g_free(events_since(c, &seen));

	/* A VM appears: mirrored before its state is told. */
	cluster_has(&c->fake, U3, "gamma", 1, NULL);
	ics_vm_mirror_changed(c->mirror, U3, "stopped", NULL, "undefined", NULL);
	ics_vm_mirror_flush(c->mirror);
	expect_events(c, &seen, "vm.created " U3 "; vm.state " U3);
	/* A state change of a known VM: only its state. */
	ics_vm_mirror_changed(c->mirror, U3, "running", "node1", "stopped", NULL);
	ics_vm_mirror_flush(c->mirror);
	expect_events(c, &seen, "vm.state " U3);
	/* A VM goes. */
	cluster_lacks(&c->fake, U1);
	ics_vm_mirror_changed(c->mirror, U1, "undefined", NULL, "stopped", NULL);
	ics_vm_mirror_flush(c->mirror);
	assert_null(row(c, U1));
	expect_events(c, &seen, "vm.deleted " U1 "; vm.state " U1);
	/* Edited on its pool: taken at the next pass; nothing else moves. */
	cluster_has(&c->fake, U2, "beta", 4, NULL);
	ics_vm_mirror_resync(c->mirror);
	ics_vm_mirror_flush(c->mirror);
	{
		g_autoptr(json_t) b = row(c, U2);

		assert_int_equal(json_integer_value(json_object_get(b, "vcpus")), 4);
	}
	expect_events(c, &seen, "vm.updated " U2);
	ics_vm_mirror_resync(c->mirror);
	ics_vm_mirror_flush(c->mirror);
	expect_events(c, &seen, "");
}

static void test_broken_and_mended(void **state)
{
	Ctx *c = *state;
	guint64 seen = 0;

	cluster_has(&c->fake, U1, NULL, 0, "no definition on its pool: vm.json is missing");
	cluster_has(&c->fake, U2, "same", 1, NULL);
	cluster_has(&c->fake, U3, "same", 1, NULL);
	c->mirror = ics_vm_mirror_new(c->store, c->events, &c->ops, c->writes, 0);
	ics_vm_mirror_flush(c->mirror);
	{
		g_autoptr(json_t) a = row(c, U1);

		assert_non_null(a);
		assert_non_null(strstr(json_string_value(json_object_get(a, "broken")),
				       "vm.json is missing"));
		assert_string_equal(json_string_value(json_object_get(a, "name")), "broken-11111111");
		/* No definition and no primitive name to show: by its uuid. */
	}
	/* One "same" keeps the name, the other is broken under its own; both
	 * are there. */
	{
		g_autoptr(json_t) b = row(c, U2);
		g_autoptr(json_t) d = row(c, U3);
		const char *nb = json_string_value(json_object_get(b, "name"));
		const char *nd = json_string_value(json_object_get(d, "name"));

		assert_true((g_str_equal(nb, "same") && json_object_get(d, "broken") &&
			     g_str_has_prefix(nd, "same.")) ||
			    (g_str_equal(nd, "same") && json_object_get(b, "broken") &&
			     g_str_has_prefix(nb, "same.")));
	}
	g_free(events_since(c, &seen));
	/* Unchanged on the next pass: no event. */
	ics_vm_mirror_resync(c->mirror);
	ics_vm_mirror_flush(c->mirror);
	expect_events(c, &seen, "");
	/* Mended. */
	cluster_has(&c->fake, U1, "alpha", 1, NULL);
	ics_vm_mirror_resync(c->mirror);
	ics_vm_mirror_flush(c->mirror);
	{
		g_autoptr(json_t) a = row(c, U1);

		assert_string_equal(json_string_value(json_object_get(a, "name")), "alpha");
		assert_null(json_object_get(a, "broken"));
	}
	expect_events(c, &seen, "vm.updated " U1);
}

/* Rows of a manager without a cluster stay; the API's own writes are
 * in_cluster and are followed. */
static void test_own_rows(void **state)
{
	Ctx *c = *state;
	g_autoptr(GError) err = NULL;
	g_autoptr(json_t) def = json_pack("{s:s, s:s, s:i, s:i}", "uuid", U1, "name", "local",
					  "vcpus", 1, "memory_mib", 64);
	g_autoptr(IcsVmMeta) vm = ics_vm_inventory_validate(def, &err);

	assert_true(ics_store_begin(c->store, &err));
	assert_true(ics_vm_inventory_insert(c->store, vm, 0, FALSE, &err));
	assert_true(ics_store_commit(c->store, &err));
	c->mirror = ics_vm_mirror_new(c->store, c->events, &c->ops, c->writes, 0);
	ics_vm_mirror_flush(c->mirror);
	{
		g_autoptr(json_t) r = row(c, U1);

		assert_non_null(r);
	}
}

/* A definition that comes or goes on a pool without any CIB change is
 * noticed by the pool listing (every two seconds; waited for here, up to
 * 20 s). */
static void test_pool_listing(void **state)
{
	Ctx *c = *state;
	g_autoptr(json_t) gone = NULL;

	cluster_has(&c->fake, U1, "alpha", 1, NULL);
	c->mirror = ics_vm_mirror_new(c->store, c->events, &c->ops, c->writes, 0);
	ics_vm_mirror_flush(c->mirror);
	assert_non_null((gone = row(c, U1)));
	cluster_has(&c->fake, U2, "beta", 1, NULL);
	cluster_lacks(&c->fake, U1);
	for (int i = 0; i < 200; i++) {
		g_autoptr(json_t) a = row(c, U1);
		g_autoptr(json_t) b = row(c, U2);

		if (a == NULL && b != NULL)
			break;
		g_usleep(100000);
	}
	{
		g_autoptr(json_t) a = row(c, U1);
		g_autoptr(json_t) b = row(c, U2);

		assert_null(a);
		assert_non_null(b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_adopt_follow_drop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_broken_and_mended, setup, teardown),
		cmocka_unit_test_setup_teardown(test_own_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pool_listing, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
