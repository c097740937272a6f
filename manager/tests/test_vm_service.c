/*
 * test_vm_service.c: the VM write service, failure point by failure point.
 *
 * A recording cluster adapter stands in for the cluster (the real one is
 * exercised by lab-manager.test and the CTS); failures are made at each
 * step -- the cluster's define or undefine, the database write after it --
 * and after each the cluster and the inventory must agree again: a create
 * whose insert failed is undefined in the cluster, an update whose write
 * failed has its old definition put back, a delete whose cluster step
 * failed keeps its row.  A write in flight holds its uuid and name: a
 * second write of either is refused until the first ends.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ics/manager/vm_inventory.h"
#include "ics/manager/vm_service.h"
#include "mgr_test_util.h"

typedef struct {
	GMutex lock;
	GCond cond;
	GPtrArray *calls;  /* "define NAME vcpus=N" / "undefine UUID" */
	gboolean fail;	   /* the next define/undefine fails */
	gboolean hold;	   /* defines wait until released */
	gboolean entered;  /* a define is waiting */
} Rec;

static gboolean rec_define(void *self, const IcsVmMeta *vm, GError **error)
{
	Rec *r = self;
	gboolean fail;

	g_mutex_lock(&r->lock);
	g_ptr_array_add(r->calls, g_strdup_printf("define %s vcpus=%u", vm->name, vm->vcpus));
	r->entered = TRUE;
	g_cond_broadcast(&r->cond);
	while (r->hold)
		g_cond_wait(&r->cond, &r->lock);
	fail = r->fail;
	r->fail = FALSE;
	g_mutex_unlock(&r->lock);
	if (fail)
		g_set_error(error, ICS_ERROR, ICS_ERROR_UNAVAILABLE, "recorded cluster refuses");
	return !fail;
}

static gboolean rec_undefine(void *self, const char *uuid, GError **error)
{
	Rec *r = self;
	gboolean fail;

	g_mutex_lock(&r->lock);
	g_ptr_array_add(r->calls, g_strdup_printf("undefine %s", uuid));
	fail = r->fail;
	r->fail = FALSE;
	g_mutex_unlock(&r->lock);
	if (fail)
		g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT, "recorded cluster: it runs");
	return !fail;
}

typedef struct {
	char *dir;
	IcsStore *store;
	IcsEvents *events;
	Rec rec;
	IcsClusterOps ops;
	IcsVmService *svc;
	IcsPrincipal *admin;
} Ctx;

static int setup(void **state)
{
	Ctx *c = g_new0(Ctx, 1);
	g_autofree char *db = NULL;
	g_autoptr(GError) err = NULL;
	static const char *const roles[] = { "administrator", NULL };
	gint64 id;

	c->dir = g_dir_make_tmp("ics-vmsvc-XXXXXX", NULL);
	db = g_build_filename(c->dir, "m.db", NULL);
	c->store = ics_store_open(db, &err);
	assert_non_null(c->store);
	c->events = ics_events_new(64);
	g_mutex_init(&c->rec.lock);
	g_cond_init(&c->rec.cond);
	c->rec.calls = g_ptr_array_new_with_free_func(g_free);
	c->ops = (IcsClusterOps){ .self = &c->rec,
				  .define_vm = rec_define,
				  .undefine_vm = rec_undefine };
	c->svc = ics_vm_service_new(&(IcsVmServiceConfig){ .store = c->store,
							    .events = c->events,
							    .cluster = &c->ops,
							    .state_dir = c->dir });
	assert_true(ics_store_begin(c->store, &err));
	id = ics_user_insert(c->store, "admin", "x", TRUE, &err);
	assert_true(id > 0 && ics_user_set_roles(c->store, id, roles, &err));
	assert_true(ics_store_commit(c->store, &err));
	ics_store_read_begin(c->store);
	c->admin = ics_principal_load(c->store, id, &err);
	ics_store_read_end(c->store);
	assert_non_null(c->admin);
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	Ctx *c = *state;

	ics_principal_free(c->admin);
	ics_vm_service_free(c->svc);
	ics_events_free(c->events);
	ics_store_close(c->store);
	g_ptr_array_unref(c->rec.calls);
	g_mutex_clear(&c->rec.lock);
	g_cond_clear(&c->rec.cond);
	test_rm_rf(c->dir);
	g_free(c->dir);
	g_free(c);
	return 0;
}

static IcsVmMeta *meta(const char *name, guint vcpus)
{
	g_autoptr(json_t) def =
		json_pack("{s:s, s:i, s:i}", "name", name, "vcpus", vcpus, "memory_mib", 128);
	g_autoptr(GError) err = NULL;
	IcsVmMeta *m = ics_vm_inventory_validate(def, &err);

	assert_non_null(m);
	return m;
}

/* The calls since the last look, joined with "; ". */
static char *calls(Ctx *c)
{
	g_autoptr(GString) s = g_string_new(NULL);

	g_mutex_lock(&c->rec.lock);
	for (guint i = 0; i < c->rec.calls->len; i++)
		g_string_append_printf(s, "%s%s", i ? "; " : "",
				       (char *)c->rec.calls->pdata[i]);
	g_ptr_array_set_size(c->rec.calls, 0);
	g_mutex_unlock(&c->rec.lock);
	return g_string_free(g_steal_pointer(&s), FALSE);
}

/* The calls since the last look are @expected. */
static void expect_calls(Ctx *c, const char *expected)
{
	g_autofree char *got = calls(c);

	assert_string_equal(got, expected);
}

static gboolean in_inventory(Ctx *c, const char *uuid, guint *vcpus)
{
	g_autoptr(GError) err = NULL;
	g_autoptr(IcsVmMeta) m = NULL;

	ics_store_read_begin(c->store);
	m = ics_vm_inventory_meta(c->store, uuid, &err);
	ics_store_read_end(c->store);
	if (m && vcpus)
		*vcpus = m->vcpus;
	return m != NULL;
}

static void test_create_undo(void **state)
{
	Ctx *c = *state;
	g_autoptr(IcsVmMeta) vm = meta("web1", 1);
	g_autoptr(GError) err = NULL;
	g_autofree char *undefine = g_strdup_printf("define web1 vcpus=1; undefine %s", vm->uuid);
	json_t *out;

	/* The cluster refuses: nothing to undo, nothing in the inventory. */
	c->rec.fail = TRUE;
	assert_null(ics_vm_service_create(c->svc, c->admin, vm, NULL, &err));
	assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_UNAVAILABLE));
	expect_calls(c, "define web1 vcpus=1");
	assert_false(in_inventory(c, vm->uuid, NULL));
	g_clear_error(&err);

	/* The insert fails after the define: the define is undone. */
	ics_vm_service_fail_once_for_test(c->svc, ICS_VM_STEP_STORE);
	assert_null(ics_vm_service_create(c->svc, c->admin, vm, NULL, &err));
	expect_calls(c, undefine);
	assert_false(in_inventory(c, vm->uuid, NULL));
	g_clear_error(&err);

	/* ... and even when the undo fails, the caller gets the first error. */
	ics_vm_service_fail_once_for_test(c->svc, ICS_VM_STEP_STORE);
	c->rec.fail = FALSE;
	assert_null(ics_vm_service_create(c->svc, c->admin, vm, NULL, &err));
	assert_non_null(strstr(err->message, "injected"));
	g_free(calls(c));
	g_clear_error(&err);

	/* Claims were released: the same VM is created now. */
	out = ics_vm_service_create(c->svc, c->admin, vm, NULL, &err);
	assert_non_null(out);
	json_decref(out);
	expect_calls(c, "define web1 vcpus=1");
	assert_true(in_inventory(c, vm->uuid, NULL));
	/* A second create of the name is refused before the cluster. */
	{
		g_autoptr(IcsVmMeta) dup = meta("web1", 1);

		assert_null(ics_vm_service_create(c->svc, c->admin, dup, NULL, &err));
		assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_CONFLICT));
		expect_calls(c, "");
	}
}

static void test_update_undo(void **state)
{
	Ctx *c = *state;
	g_autoptr(IcsVmMeta) vm = meta("web1", 1);
	g_autoptr(IcsVmMeta) bigger = NULL;
	g_autoptr(GError) err = NULL;
	json_t *out;
	guint vcpus = 0;

	out = ics_vm_service_create(c->svc, c->admin, vm, NULL, &err);
	assert_non_null(out);
	json_decref(out);
	g_free(calls(c));
	bigger = meta("web1", 4);
	g_free(bigger->uuid);
	bigger->uuid = g_strdup(vm->uuid);

	/* The cluster refuses: the row keeps 1 vcpu. */
	c->rec.fail = TRUE;
	assert_null(ics_vm_service_update(c->svc, c->admin, vm->uuid, "vm.write", bigger, NULL,
					  &err));
	expect_calls(c, "define web1 vcpus=4");
	assert_true(in_inventory(c, vm->uuid, &vcpus) && vcpus == 1);
	g_clear_error(&err);

	/* The write fails: the old definition goes back to the cluster. */
	ics_vm_service_fail_once_for_test(c->svc, ICS_VM_STEP_STORE);
	assert_null(ics_vm_service_update(c->svc, c->admin, vm->uuid, "vm.write", bigger, NULL,
					  &err));
	expect_calls(c, "define web1 vcpus=4; define web1 vcpus=1");
	assert_true(in_inventory(c, vm->uuid, &vcpus) && vcpus == 1);
	g_clear_error(&err);

	/* Then it goes through. */
	out = ics_vm_service_update(c->svc, c->admin, vm->uuid, "vm.write", bigger, NULL, &err);
	assert_non_null(out);
	json_decref(out);
	assert_true(in_inventory(c, vm->uuid, &vcpus) && vcpus == 4);
	expect_calls(c, "define web1 vcpus=4");
}

/* Names are unique in the cluster, whatever the pool (a VM's name is its
 * Pacemaker resource id): a create or a rename to a taken name is refused
 * before the cluster, with a message that says so; a rename to a free
 * name is the cluster's define with the new name (which renames the
 * primitive, or refuses while the VM runs: cluster_vms.c). */
static void test_names(void **state)
{
	Ctx *c = *state;
	g_autoptr(IcsVmMeta) a = meta("web1", 1), b = meta("web2", 1), dup = meta("web1", 1);
	g_autoptr(IcsVmMeta) to_a = meta("web1", 1), to_c = meta("web3", 1);
	g_autoptr(GError) err = NULL, err2 = NULL;
	json_t *out;

	out = ics_vm_service_create(c->svc, c->admin, a, NULL, &err);
	assert_non_null(out);
	json_decref(out);
	out = ics_vm_service_create(c->svc, c->admin, b, NULL, &err);
	assert_non_null(out);
	json_decref(out);
	g_free(calls(c));

	assert_null(ics_vm_service_create(c->svc, c->admin, dup, NULL, &err));
	assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_CONFLICT));
	assert_non_null(strstr(err->message, "\"web1\" is taken"));
	assert_non_null(strstr(err->message, "unique in the cluster"));
	g_free(to_a->uuid);
	to_a->uuid = g_strdup(b->uuid);
	assert_null(
		ics_vm_service_update(c->svc, c->admin, b->uuid, "vm.write", to_a, NULL, &err2));
	assert_true(g_error_matches(err2, ICS_ERROR, ICS_ERROR_CONFLICT));
	assert_non_null(strstr(err2->message, "is taken"));
	expect_calls(c, "");

	g_free(to_c->uuid);
	to_c->uuid = g_strdup(b->uuid);
	out = ics_vm_service_update(c->svc, c->admin, b->uuid, "vm.write", to_c, NULL, &err);
	assert_non_null(out);
	assert_string_equal(json_string_value(json_object_get(out, "name")), "web3");
	json_decref(out);
	expect_calls(c, "define web3 vcpus=1");
}

static void test_delete_undo(void **state)
{
	Ctx *c = *state;
	g_autoptr(IcsVmMeta) vm = meta("web1", 1);
	g_autoptr(GError) err = NULL;
	g_autofree char *undefine = g_strdup_printf("undefine %s", vm->uuid);
	json_t *out;

	out = ics_vm_service_create(c->svc, c->admin, vm, NULL, &err);
	assert_non_null(out);
	json_decref(out);
	g_free(calls(c));

	/* The cluster refuses (it runs): the row stays. */
	c->rec.fail = TRUE;
	assert_false(ics_vm_service_delete(c->svc, c->admin, vm->uuid, "vm.write", &err));
	assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_CONFLICT));
	assert_true(in_inventory(c, vm->uuid, NULL));
	expect_calls(c, undefine);
	g_clear_error(&err);

	/* The row's delete fails after the cluster's: reported; the VM is gone
	 * from the cluster (the mirror drops the row). */
	ics_vm_service_fail_once_for_test(c->svc, ICS_VM_STEP_STORE);
	assert_false(ics_vm_service_delete(c->svc, c->admin, vm->uuid, "vm.write", &err));
	expect_calls(c, undefine);
	g_clear_error(&err);

	assert_true(ics_vm_service_delete(c->svc, c->admin, vm->uuid, "vm.write", &err));
	assert_false(in_inventory(c, vm->uuid, NULL));
	/* Absent now. */
	assert_false(ics_vm_service_delete(c->svc, c->admin, vm->uuid, "vm.write", &err));
	assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_NOT_FOUND));
}

typedef struct {
	Ctx *c;
	IcsVmMeta *vm;
	json_t *out;
	GError *err;
} Creator;

static gpointer create_thread(gpointer data)
{
	Creator *k = data;

	k->out = ics_vm_service_create(k->c->svc, k->c->admin, k->vm, NULL, &k->err);
	return NULL;
}

/* A write in flight holds its uuid and name. */
static void test_claims(void **state)
{
	Ctx *c = *state;
	Creator k = { c, meta("web1", 1), NULL, NULL };
	g_autoptr(IcsVmMeta) same_name = meta("web1", 2);
	g_autoptr(GError) err = NULL;
	GThread *t;

	c->rec.hold = TRUE;
	t = g_thread_new("create", create_thread, &k);
	g_mutex_lock(&c->rec.lock);
	while (!c->rec.entered)
		g_cond_wait(&c->rec.cond, &c->rec.lock);
	g_mutex_unlock(&c->rec.lock);
	/* The first is inside the cluster's define now. */
	assert_true(ics_vm_service_busy(c->svc, k.vm->uuid));
	assert_null(ics_vm_service_create(c->svc, c->admin, same_name, NULL, &err));
	assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_CONFLICT));
	assert_non_null(strstr(err->message, "another request"));
	g_clear_error(&err);
	assert_false(ics_vm_service_delete(c->svc, c->admin, k.vm->uuid, "vm.write", &err));
	assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_CONFLICT));
	g_mutex_lock(&c->rec.lock);
	c->rec.hold = FALSE;
	g_cond_broadcast(&c->rec.cond);
	g_mutex_unlock(&c->rec.lock);
	g_thread_join(t);
	assert_non_null(k.out);
	assert_false(ics_vm_service_busy(c->svc, k.vm->uuid));
	json_decref(k.out);
	ics_vm_meta_free(k.vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_undo, setup, teardown),
		cmocka_unit_test_setup_teardown(test_update_undo, setup, teardown),
		cmocka_unit_test_setup_teardown(test_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete_undo, setup, teardown),
		cmocka_unit_test_setup_teardown(test_claims, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
