/*
 * snapshot_json.c: a snapshot as JSON, the form the REST layer and
 * ics-cluster-dump hand out.  Member names follow the C fields; absent
 * strings are null, so a reader can tell "not set" from "empty".
 */
#include "config.h"

#include "cluster_internal.h"
#include "ics/json.h"

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *strings(const GPtrArray *a)
{
	json_t *arr = json_array();

	for (guint i = 0; i < a->len; i++)
		json_array_append_new(arr, json_string(g_ptr_array_index(a, i)));
	return arr;
}

static json_t *table(GHashTable *t)
{
	json_t *obj = json_object();
	GHashTableIter it;
	gpointer k, v;

	g_hash_table_iter_init(&it, t);
	while (g_hash_table_iter_next(&it, &k, &v))
		json_object_set_new(obj, k, json_string(v));
	return obj;
}

static json_t *node_json(const IcsClusterNode *n)
{
	return json_pack("{s:s, s:o, s:s, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:o, s:o}",
			 "name", n->name, "id", str_or_null(n->id), "state",
			 ics_node_state_name(n->state), "online", n->online, "standby", n->standby,
			 "standby_onfail", n->standby_onfail, "maintenance", n->maintenance,
			 "pending", n->pending, "unclean", n->unclean, "shutdown", n->shutdown,
			 "is_dc", n->is_dc, "standby_permanent", str_or_null(n->standby_permanent),
			 "standby_transient", str_or_null(n->standby_transient));
}

static json_t *failure_json(const IcsClusterFailure *f)
{
	return json_pack("{s:o, s:o, s:i, s:o, s:o, s:I, s:o}", "node", str_or_null(f->node),
			 "operation", str_or_null(f->operation), "exit_code", f->exit_code,
			 "exit_status", str_or_null(f->exit_status), "exit_reason",
			 str_or_null(f->exit_reason), "interval_ms", (json_int_t)f->interval_ms,
			 "last_rc_change", str_or_null(f->last_rc_change));
}

static json_t *resource_json(const IcsClusterResource *r)
{
	json_t *failures = json_array();

	for (guint i = 0; i < r->failures->len; i++)
		json_array_append_new(failures, failure_json(g_ptr_array_index(r->failures, i)));
	return json_pack("{s:s, s:o, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:b, s:b, s:b, "
			 "s:b, s:b, s:o, s:o}",
			 "id", r->id, "parent", str_or_null(r->parent), "agent", r->agent, "params",
			 table(r->params), "meta", table(r->meta), "utilization",
			 table(r->utilization), "target_role", str_or_null(r->target_role), "role",
			 str_or_null(r->role), "class", str_or_null(r->rsc_class), "provider",
			 str_or_null(r->provider), "type", str_or_null(r->type), "active",
			 r->active, "failed", r->failed, "managed", r->managed, "blocked",
			 r->blocked, "orphaned", r->orphaned, "nodes", strings(r->nodes),
			 "failures", failures);
}

static json_t *vm_json(const IcsClusterVm *v)
{
	return json_pack("{s:s, s:o, s:o, s:s, s:o, s:o, s:o}", "id", v->id, "uuid",
			 str_or_null(v->uuid), "pool", str_or_null(v->pool), "state",
			 ics_vm_state_name(v->state), "node", str_or_null(v->node),
			 "migrate_target", str_or_null(v->migrate_target), "target_role",
			 str_or_null(v->resource->target_role));
}

static json_t *pool_json(const IcsClusterPool *p)
{
	return json_pack("{s:s, s:o, s:s, s:o}", "name", p->name, "clone_id",
			 str_or_null(p->clone_id), "resource", p->resource->id, "nodes",
			 strings(p->nodes));
}

static json_t *constraint_json(const IcsClusterConstraint *c)
{
	return json_pack("{s:o, s:s, s:o, s:o, s:o, s:o}", "id", str_or_null(c->id), "kind",
			 c->kind, "rsc", str_or_null(c->rsc), "other", str_or_null(c->other),
			 "node", str_or_null(c->node), "score", str_or_null(c->score));
}

json_t *ics_cluster_snapshot_to_json(const IcsClusterSnapshot *snap)
{
	json_t *nodes = json_array(), *resources = json_array(), *vms = json_array();
	json_t *pools = json_array(), *constraints = json_array();

	for (guint i = 0; i < snap->nodes->len; i++)
		json_array_append_new(nodes, node_json(g_ptr_array_index(snap->nodes, i)));
	for (guint i = 0; i < snap->resources->len; i++)
		json_array_append_new(resources,
				      resource_json(g_ptr_array_index(snap->resources, i)));
	for (guint i = 0; i < snap->vms->len; i++)
		json_array_append_new(vms, vm_json(g_ptr_array_index(snap->vms, i)));
	for (guint i = 0; i < snap->pools->len; i++)
		json_array_append_new(pools, pool_json(g_ptr_array_index(snap->pools, i)));
	for (guint i = 0; i < snap->constraints->len; i++)
		json_array_append_new(constraints,
				      constraint_json(g_ptr_array_index(snap->constraints, i)));
	return json_pack("{s:{s:I, s:I, s:I}, s:o, s:b, s:o, s:o, s:o, s:o, s:o, s:o}", "version",
			 "admin_epoch", (json_int_t)snap->admin_epoch, "epoch",
			 (json_int_t)snap->epoch, "num_updates", (json_int_t)snap->num_updates,
			 "dc", str_or_null(snap->dc), "quorum", snap->quorum, "nodes", nodes,
			 "resources", resources, "vms", vms, "pools", pools, "constraints",
			 constraints, "properties", table(snap->properties));
}
