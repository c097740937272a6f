/*
 * test_snapshot.c: snapshots of CIBs captured from a real 3-node lab
 * (tests/data/README.md) -- node states and where standby comes from, VM
 * placement when stopped, failed, running, migrating and migrated, pools on
 * healthy, unclean and fenced nodes, constraints, properties, JSON -- and
 * the same through crm_mon run on the CIB file, as the live path does.
 */
#include "config.h"

#include <string.h>

#include <libxml/xpath.h>

#include "cluster_test_util.h"
#include "ics/error.h"
#include "ics/json.h"

#define VM "vm-6f1c3c0e-8d2a-4b7e-9c41-2f0d5e6a7b8c"
#define UUID "6f1c3c0e-8d2a-4b7e-9c41-2f0d5e6a7b8c"

static const IcsClusterNode *node(const IcsClusterSnapshot *s, const char *name)
{
	const IcsClusterNode *n = ics_cluster_snapshot_node(s, name);

	if (n == NULL)
		fail_msg("no node %s", name);
	return n;
}

static const IcsClusterVm *vm(const IcsClusterSnapshot *s)
{
	const IcsClusterVm *v = ics_cluster_snapshot_vm(s, VM);

	if (v == NULL)
		fail_msg("no VM %s", VM);
	return v;
}

static gboolean has(const GPtrArray *a, const char *s)
{
	for (guint i = 0; i < a->len; i++) {
		if (strcmp(g_ptr_array_index(a, i), s) == 0)
			return TRUE;
	}
	return FALSE;
}

static void test_basic(void **state)
{
	g_autoptr(IcsClusterSnapshot) s = load_snapshot("basic");
	const IcsClusterResource *d1, *fence;
	const IcsClusterPool *pool;

	(void)state;
	assert_int_equal(s->nodes->len, 3);
	assert_string_equal(node(s, "node1")->id, "1");
	assert_string_equal(node(s, "node3")->id, "3");
	for (int i = 1; i <= 3; i++) {
		g_autofree char *name = g_strdup_printf("node%d", i);

		assert_int_equal(node(s, name)->state, ICS_NODE_ONLINE);
		assert_null(node(s, name)->standby_permanent);
	}
	assert_string_equal(s->dc, "node1");
	assert_true(node(s, "node1")->is_dc);
	assert_true(s->quorum);
	assert_true(s->epoch > 0);
	assert_string_equal(g_hash_table_lookup(s->properties, "stonith-enabled"), "true");
	assert_string_equal(g_hash_table_lookup(s->properties, "cluster-name"), "icslab-clad");

	fence = ics_cluster_snapshot_resource(s, "fence-lab");
	assert_non_null(fence);
	assert_string_equal(fence->agent, "stonith:fence_ics_lab");
	assert_null(fence->provider);
	assert_string_equal(g_hash_table_lookup(fence->params, "pcmk_host_check"), "static-list");
	assert_true(fence->active);
	assert_int_equal(fence->nodes->len, 1);

	d1 = ics_cluster_snapshot_resource(s, "d1");
	assert_non_null(d1);
	assert_string_equal(d1->agent, "ocf:pacemaker:Dummy");
	assert_string_equal(g_hash_table_lookup(d1->meta, "allow-migrate"), "true");
	assert_null(d1->target_role);
	assert_string_equal(d1->role, "Started");
	assert_int_equal(d1->nodes->len, 1);
	assert_string_equal(g_ptr_array_index(d1->nodes, 0), "node2");

	/* The clone: three instances with one id make one resource on 3 nodes. */
	assert_int_equal(s->pools->len, 1);
	pool = ics_cluster_snapshot_pool(s, "shared");
	assert_non_null(pool);
	assert_string_equal(pool->clone_id, "ics-pool-shared");
	assert_string_equal(pool->resource->id, "ics-pool-shared-rsc");
	assert_string_equal(pool->resource->parent, "ics-pool-shared");
	assert_string_equal(g_hash_table_lookup(pool->resource->meta, "interleave"), "true");
	assert_string_equal(g_hash_table_lookup(pool->resource->params, "path"),
			    "/srv/ics/pools/shared");
	assert_int_equal(pool->nodes->len, 3);
	assert_true(has(pool->nodes, "node1") && has(pool->nodes, "node2") &&
		    has(pool->nodes, "node3"));
	assert_int_equal(s->vms->len, 0);
	assert_null(ics_cluster_snapshot_resource(s, "nope"));
}

static void test_vm_stopped(void **state)
{
	g_autoptr(IcsClusterSnapshot) s = load_snapshot("vm-stopped");
	const IcsClusterVm *v = vm(s);
	const IcsClusterConstraint *o, *c;

	(void)state;
	assert_int_equal(v->state, ICS_VM_STOPPED);
	assert_null(v->node);
	assert_string_equal(v->uuid, UUID);
	assert_string_equal(v->pool, "/srv/ics/pools/shared");
	assert_string_equal(v->resource->target_role, "Stopped");
	assert_string_equal(g_hash_table_lookup(v->resource->utilization, "memory"), "128");
	o = ics_cluster_snapshot_constraint(s, VM "-after-pool");
	c = ics_cluster_snapshot_constraint(s, VM "-with-pool");
	assert_non_null(o);
	assert_non_null(c);
	assert_string_equal(o->kind, "rsc_order");
	assert_string_equal(o->rsc, VM);
	assert_string_equal(o->other, "ics-pool-shared");
	assert_string_equal(o->score, "Mandatory");
	assert_string_equal(c->kind, "rsc_colocation");
	assert_string_equal(c->rsc, VM);
	assert_string_equal(c->other, "ics-pool-shared");
	assert_string_equal(c->score, "INFINITY");
}

static void test_vm_failed(void **state)
{
	g_autoptr(IcsClusterSnapshot) s = load_snapshot("vm-failed");
	const IcsClusterVm *v = vm(s);
	const IcsClusterFailure *f;

	(void)state;
	/* Start failed everywhere: it runs nowhere, yet should run. */
	assert_int_equal(v->state, ICS_VM_FAILED);
	assert_false(v->resource->active);
	assert_int_equal(v->resource->failures->len, 3);
	f = g_ptr_array_index(v->resource->failures, 0);
	assert_string_equal(f->operation, "start");
	assert_int_equal(f->exit_code, 5);
	assert_string_equal(f->exit_status, "not installed");
	assert_non_null(strstr(f->exit_reason, "cannot load its definition"));
	/* The node of the latest failure (node2, 16:37:00). */
	assert_string_equal(v->node, "node2");
	/* Other resources carry no failures. */
	assert_int_equal(ics_cluster_snapshot_resource(s, "d1")->failures->len, 0);
}

static void test_vm_running(void **state)
{
	g_autoptr(IcsClusterSnapshot) s = load_snapshot("vm-running");
	const IcsClusterVm *v = vm(s);

	(void)state;
	assert_int_equal(v->state, ICS_VM_RUNNING);
	assert_string_equal(v->node, "node3");
	assert_null(v->migrate_target);
	assert_int_equal(v->resource->failures->len, 0);
	assert_string_equal(v->resource->target_role, "Started");
}

/* A start in progress: crm_mon places the VM on node3 already, the
 * status section has its start pending (op-status -1). */
static void test_vm_starting(void **state)
{
	g_autoptr(xmlDoc) cib = load_fixture("cib-vm-running.xml");
	g_autoptr(xmlDoc) mon = load_fixture("mon-vm-running.xml");
	g_autoptr(IcsClusterSnapshot) done = ics_cluster_snapshot_parse(cib, mon, NULL);
	g_autoptr(IcsClusterSnapshot) s = NULL;
	xmlXPathContext *x = xmlXPathNewContext(cib);
	xmlXPathObject *o = xmlXPathEvalExpression(
		BAD_CAST "//node_state[@uname='node3']//lrm_resource[@id='" VM "']/lrm_rsc_op[@operation='start']",
		x);

	(void)state;
	assert_false(vm(done)->starting);
	assert_int_equal(o->nodesetval->nodeNr, 1);
	xmlSetProp(o->nodesetval->nodeTab[0], BAD_CAST "op-status", BAD_CAST "-1");
	xmlSetProp(o->nodesetval->nodeTab[0], BAD_CAST "rc-code", BAD_CAST "193");
	xmlXPathFreeObject(o);
	xmlXPathFreeContext(x);
	s = ics_cluster_snapshot_parse(cib, mon, NULL);
	assert_int_equal(vm(s)->state, ICS_VM_RUNNING);
	assert_string_equal(vm(s)->node, "node3");
	assert_true(vm(s)->starting);
}

static void test_vm_migrating(void **state)
{
	g_autoptr(IcsClusterSnapshot) s = load_snapshot("vm-migrating");
	const IcsClusterVm *v = vm(s);

	(void)state;
	assert_int_equal(v->state, ICS_VM_MIGRATING);
	assert_string_equal(v->node, "node3");
	assert_string_equal(v->migrate_target, "node1");
	assert_string_equal(v->resource->role, "Migrating");
	/* The move that caused it. */
	assert_non_null(ics_cluster_snapshot_constraint(s, "cli-prefer-" VM));
}

static void test_vm_migrated(void **state)
{
	g_autoptr(IcsClusterSnapshot) s = load_snapshot("vm-migrated");
	const IcsClusterVm *v = vm(s);
	const IcsClusterConstraint *c = ics_cluster_snapshot_constraint(s, "cli-prefer-" VM);

	(void)state;
	assert_int_equal(v->state, ICS_VM_RUNNING);
	assert_string_equal(v->node, "node1");
	assert_null(v->migrate_target);
	assert_non_null(c);
	assert_string_equal(c->kind, "rsc_location");
	assert_string_equal(c->rsc, VM);
	assert_string_equal(c->node, "node1");
	assert_string_equal(c->score, "INFINITY");
}

static void test_standby(void **state)
{
	g_autoptr(IcsClusterSnapshot) s = load_snapshot("standby");
	const IcsClusterNode *n2 = node(s, "node2"), *n3 = node(s, "node3");
	const IcsClusterPool *pool = ics_cluster_snapshot_pool(s, "shared");

	(void)state;
	assert_int_equal(node(s, "node1")->state, ICS_NODE_ONLINE);
	assert_int_equal(n2->state, ICS_NODE_STANDBY);
	assert_true(n2->online && n2->standby);
	assert_string_equal(n2->standby_permanent, "on");
	assert_null(n2->standby_transient);
	assert_int_equal(n3->state, ICS_NODE_STANDBY);
	assert_null(n3->standby_permanent);
	assert_string_equal(n3->standby_transient, "on");
	/* Everything left the standby nodes. */
	assert_int_equal(pool->nodes->len, 1);
	assert_string_equal(g_ptr_array_index(pool->nodes, 0), "node1");
	assert_int_equal(vm(s)->state, ICS_VM_RUNNING);
	assert_string_equal(vm(s)->node, "node1");
}

static void test_maintenance(void **state)
{
	g_autoptr(IcsClusterSnapshot) s = load_snapshot("maintenance");

	(void)state;
	assert_int_equal(node(s, "node3")->state, ICS_NODE_MAINTENANCE);
	assert_true(node(s, "node3")->maintenance);
	assert_int_equal(node(s, "node2")->state, ICS_NODE_ONLINE);
	assert_null(node(s, "node3")->standby_transient);
}

static void test_unclean(void **state)
{
	g_autoptr(IcsClusterSnapshot) s = load_snapshot("unclean");
	const IcsClusterPool *pool = ics_cluster_snapshot_pool(s, "shared");

	(void)state;
	assert_int_equal(node(s, "node2")->state, ICS_NODE_UNCLEAN);
	assert_false(node(s, "node2")->online);
	/* Until fenced, Pacemaker counts what ran there as maybe running. */
	assert_true(has(pool->nodes, "node2"));
	assert_int_equal(pool->nodes->len, 3);
}

static void test_offline(void **state)
{
	g_autoptr(IcsClusterSnapshot) s = load_snapshot("offline");
	const IcsClusterPool *pool = ics_cluster_snapshot_pool(s, "shared");

	(void)state;
	assert_int_equal(node(s, "node2")->state, ICS_NODE_OFFLINE);
	assert_false(node(s, "node2")->unclean);
	assert_false(has(pool->nodes, "node2"));
	assert_int_equal(pool->nodes->len, 2);
	assert_int_equal(vm(s)->state, ICS_VM_RUNNING);
	assert_string_equal(vm(s)->node, "node1");
}

static void test_json(void **state)
{
	g_autoptr(IcsClusterSnapshot) s = load_snapshot("vm-migrating");
	g_autoptr(json_t) j = ics_cluster_snapshot_to_json(s);
	json_t *v, *n0;

	(void)state;
	assert_non_null(j);
	assert_int_equal(json_array_size(json_object_get(j, "nodes")), 3);
	v = json_array_get(json_object_get(j, "vms"), 0);
	assert_string_equal(json_string_value(json_object_get(v, "state")), "migrating");
	assert_string_equal(json_string_value(json_object_get(v, "migrate_target")), "node1");
	assert_string_equal(json_string_value(json_object_get(v, "node")), "node3");
	n0 = json_array_get(json_object_get(j, "nodes"), 0);
	assert_true(json_is_null(json_object_get(n0, "standby_transient")));
	assert_string_equal(json_string_value(json_object_get(j, "dc")), "node1");
}

static void test_bad_documents(void **state)
{
	g_autoptr(xmlDoc) cib = load_fixture("cib-basic.xml");
	g_autoptr(xmlDoc) mon = load_fixture("mon-basic.xml");
	g_autoptr(GError) e1 = NULL, e2 = NULL;

	(void)state;
	/* Swapped documents are refused with a message naming what was wrong. */
	assert_null(ics_cluster_snapshot_parse(mon, cib, &e1));
	assert_int_equal(e1->code, ICS_ERROR_PARSE);
	assert_non_null(strstr(e1->message, "<cib>"));
	assert_null(ics_cluster_snapshot_parse(cib, cib, &e2));
	assert_int_equal(e2->code, ICS_ERROR_PARSE);
	assert_non_null(strstr(e2->message, "crm_mon"));
}

/* The live path: crm_mon computes the status of the CIB written to a file. */
static void test_from_cib(void **state)
{
	g_autofree char *crm_mon = g_find_program_in_path("crm_mon");
	g_autoptr(xmlDoc) cib = NULL;
	g_autoptr(IcsClusterSnapshot) s = NULL;
	g_autoptr(GError) e = NULL;

	(void)state;
	if (crm_mon == NULL)
		skip();
	cib = load_fixture("cib-vm-migrating.xml");
	s = ics_cluster_snapshot_from_cib(cib, &e);
	if (s == NULL)
		fail_msg("%s", e->message);
	assert_int_equal(vm(s)->state, ICS_VM_MIGRATING);
	assert_string_equal(vm(s)->migrate_target, "node1");
	assert_int_equal(ics_cluster_snapshot_pool(s, "shared")->nodes->len, 3);
	assert_string_equal(s->dc, "node1");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),	     cmocka_unit_test(test_vm_stopped),
		cmocka_unit_test(test_vm_failed),    cmocka_unit_test(test_vm_running),
		cmocka_unit_test(test_vm_starting),
		cmocka_unit_test(test_vm_migrating), cmocka_unit_test(test_vm_migrated),
		cmocka_unit_test(test_standby),	     cmocka_unit_test(test_maintenance),
		cmocka_unit_test(test_unclean),	     cmocka_unit_test(test_offline),
		cmocka_unit_test(test_json),	     cmocka_unit_test(test_bad_documents),
		cmocka_unit_test(test_from_cib),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
