/*
 * cib_snapshot.c: one CIB version, read into nodes, resources, VMs, pools,
 * constraints and cluster properties.
 *
 * Two documents describe the same CIB version: the CIB itself (what the
 * operator and ICS configured: node ids, primitives with their parameters
 * and meta attributes, constraints, properties, and which node attribute
 * says "standby") and crm_mon's XML computed from that very CIB (what
 * Pacemaker concludes from the status section: which node is online,
 * unclean, in standby; where each resource is active, which failed).
 *
 * Why not compute placement here from the lrm_rsc_op history?  That is
 * Pacemaker's scheduler code (unpack_rsc_op and friends: partial
 * migrations, pending operations, on-fail policies, expired failures,
 * unclean nodes whose resources "may still run", probes, clone instance
 * numbering).  Writing it again would give a second opinion that can
 * disagree with the one Pacemaker acts on.  crm_mon --output-as=xml is
 * Pacemaker's documented, versioned machine interface to exactly that
 * computation; run on a CIB file it costs ~30 ms and no IPC.  The one fact
 * crm_mon leaves out -- the destination of a migration in progress -- is
 * read from the pending migrate_to/migrate_from operation in the CIB, only
 * when crm_mon says the resource is Migrating.
 *
 * The snapshot owns copies of every string: the documents can be freed as
 * soon as it is built.
 */
#include "config.h"

#include <string.h>

#include "cluster_internal.h"
#include "ics/error.h"
#include "ics/xml.h"

/* ------------------------------------------------------------------ XML */

char *ics_xml_prop(const xmlNode *node, const char *name)
{
	xmlChar *v = xmlGetProp(node, BAD_CAST name);
	char *s;

	if (v == NULL)
		return NULL;
	s = g_strdup((const char *)v);
	xmlFree(v);
	return s;
}

gboolean ics_xml_is(const xmlNode *node, const char *name)
{
	return node && node->type == XML_ELEMENT_NODE && xmlStrEqual(node->name, BAD_CAST name);
}

xmlNode *ics_xml_child(const xmlNode *parent, const char *name)
{
	for (xmlNode *c = parent ? parent->children : NULL; c; c = c->next) {
		if (ics_xml_is(c, name))
			return c;
	}
	return NULL;
}

gboolean ics_pcmk_true(const char *value)
{
	static const char *const yes[] = { "true", "on", "yes", "y", "1" };

	for (gsize i = 0; value && i < G_N_ELEMENTS(yes); i++) {
		if (g_ascii_strcasecmp(value, yes[i]) == 0)
			return TRUE;
	}
	return FALSE;
}

static gboolean prop_true(const xmlNode *n, const char *name)
{
	g_autofree char *v = ics_xml_prop(n, name);

	return ics_pcmk_true(v);
}

static gint64 prop_int(const xmlNode *n, const char *name)
{
	g_autofree char *v = ics_xml_prop(n, name);

	return v ? g_ascii_strtoll(v, NULL, 10) : 0;
}

/* Add every <nvpair> of the sets named @set_tag under @parent to @table
 * (the first value of a name wins, as Pacemaker applies sets in order). */
static void read_nvpairs(const xmlNode *parent, const char *set_tag, GHashTable *table)
{
	for (xmlNode *set = parent ? parent->children : NULL; set; set = set->next) {
		if (!ics_xml_is(set, set_tag))
			continue;
		for (xmlNode *nv = set->children; nv; nv = nv->next) {
			char *name, *value;

			if (!ics_xml_is(nv, "nvpair"))
				continue;
			name = ics_xml_prop(nv, "name");
			value = ics_xml_prop(nv, "value");
			if (name == NULL || g_hash_table_contains(table, name)) {
				g_free(name);
				g_free(value);
				continue;
			}
			g_hash_table_insert(table, name, value ? value : g_strdup(""));
		}
	}
}

static GHashTable *new_table(void)
{
	return g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
}

/* Add @s to @array of strings unless it is there already. */
static void add_unique(GPtrArray *array, const char *s)
{
	for (guint i = 0; i < array->len; i++) {
		if (strcmp(g_ptr_array_index(array, i), s) == 0)
			return;
	}
	g_ptr_array_add(array, g_strdup(s));
}

/* "rsc:2" (an instance of a unique clone) -> "rsc". */
static char *strip_instance(const char *id)
{
	const char *colon = strrchr(id, ':');

	if (colon && colon[1] && strspn(colon + 1, "0123456789") == strlen(colon + 1))
		return g_strndup(id, colon - id);
	return g_strdup(id);
}

/* ------------------------------------------------------------ freeing */

static void node_free(gpointer p)
{
	IcsClusterNode *n = p;

	g_free(n->name);
	g_free(n->id);
	g_free(n->standby_permanent);
	g_free(n->standby_transient);
	g_free(n);
}

static void failure_free(gpointer p)
{
	IcsClusterFailure *f = p;

	g_free(f->node);
	g_free(f->operation);
	g_free(f->exit_status);
	g_free(f->exit_reason);
	g_free(f->last_rc_change);
	g_free(f);
}

static void resource_free(gpointer p)
{
	IcsClusterResource *r = p;

	g_free(r->id);
	g_free(r->parent);
	g_free(r->rsc_class);
	g_free(r->provider);
	g_free(r->type);
	g_free(r->agent);
	g_hash_table_unref(r->params);
	g_hash_table_unref(r->meta);
	g_hash_table_unref(r->utilization);
	g_free(r->target_role);
	g_free(r->role);
	g_ptr_array_unref(r->nodes);
	g_ptr_array_unref(r->failures);
	g_free(r);
}

static void vm_free(gpointer p)
{
	IcsClusterVm *v = p;

	g_free(v->node);
	g_free(v->migrate_target);
	g_free(v);
}

static void pool_free(gpointer p)
{
	IcsClusterPool *pool = p;

	g_free(pool->name);
	g_free(pool->clone_id);
	g_ptr_array_unref(pool->nodes);
	g_free(pool);
}

static void constraint_free(gpointer p)
{
	IcsClusterConstraint *c = p;

	g_free(c->id);
	g_free(c->kind);
	g_free(c->rsc);
	g_free(c->other);
	g_free(c->node);
	g_free(c->score);
	g_free(c);
}

void ics_cluster_snapshot_free(IcsClusterSnapshot *snap)
{
	if (snap == NULL)
		return;
	g_free(snap->dc);
	g_ptr_array_unref(snap->vms);
	g_ptr_array_unref(snap->pools);
	g_ptr_array_unref(snap->resources);
	g_ptr_array_unref(snap->nodes);
	g_ptr_array_unref(snap->constraints);
	g_hash_table_unref(snap->properties);
	g_clear_pointer(&snap->resource_by_id, g_hash_table_unref);
	g_clear_pointer(&snap->vm_by_uuid, g_hash_table_unref);
	g_free(snap);
}

/* ------------------------------------------------------- configuration */

static void read_nodes(IcsClusterSnapshot *snap, const xmlNode *nodes)
{
	for (xmlNode *c = nodes ? nodes->children : NULL; c; c = c->next) {
		IcsClusterNode *n;
		g_autoptr(GHashTable) attrs = new_table();

		if (!ics_xml_is(c, "node"))
			continue;
		n = g_new0(IcsClusterNode, 1);
		n->id = ics_xml_prop(c, "id");
		n->name = ics_xml_prop(c, "uname");
		if (n->name == NULL)
			n->name = g_strdup(n->id ? n->id : "");
		n->state = ICS_NODE_OFFLINE;
		read_nvpairs(c, "instance_attributes", attrs);
		n->standby_permanent = g_strdup(g_hash_table_lookup(attrs, "standby"));
		g_ptr_array_add(snap->nodes, n);
	}
}

static IcsClusterResource *new_resource(const xmlNode *prim, const xmlNode *parent)
{
	IcsClusterResource *r = g_new0(IcsClusterResource, 1);

	r->id = ics_xml_prop(prim, "id");
	r->parent = parent ? ics_xml_prop(parent, "id") : NULL;
	r->rsc_class = ics_xml_prop(prim, "class");
	r->provider = ics_xml_prop(prim, "provider");
	r->type = ics_xml_prop(prim, "type");
	if (r->provider)
		r->agent = g_strdup_printf("%s:%s:%s", r->rsc_class ? r->rsc_class : "",
					   r->provider, r->type ? r->type : "");
	else
		r->agent = g_strdup_printf("%s:%s", r->rsc_class ? r->rsc_class : "",
					   r->type ? r->type : "");
	r->params = new_table();
	r->meta = new_table();
	r->utilization = new_table();
	read_nvpairs(prim, "instance_attributes", r->params);
	/* The primitive's own meta attributes win over its parent's. */
	read_nvpairs(prim, "meta_attributes", r->meta);
	for (const xmlNode *p = parent; p && !ics_xml_is(p, "resources"); p = p->parent)
		read_nvpairs(p, "meta_attributes", r->meta);
	read_nvpairs(prim, "utilization", r->utilization);
	r->target_role = g_strdup(g_hash_table_lookup(r->meta, "target-role"));
	r->role = g_strdup("Stopped");
	r->managed = TRUE;
	r->nodes = g_ptr_array_new_with_free_func(g_free);
	r->failures = g_ptr_array_new_with_free_func(failure_free);
	return r;
}

/* Every primitive under @parent, in document order, with the innermost
 * clone/group/bundle it belongs to. */
static void read_resources(IcsClusterSnapshot *snap, const xmlNode *parent, const xmlNode *owner)
{
	for (xmlNode *c = parent ? parent->children : NULL; c; c = c->next) {
		if (ics_xml_is(c, "primitive")) {
			IcsClusterResource *r = new_resource(c, owner);

			g_ptr_array_add(snap->resources, r);
			/* The first of two primitives with one id (an invalid CIB) wins,
			 * as the linear search did. */
			if (!g_hash_table_contains(snap->resource_by_id, r->id))
				g_hash_table_insert(snap->resource_by_id, r->id, r);
		} else if (ics_xml_is(c, "clone") || ics_xml_is(c, "master") ||
			 ics_xml_is(c, "group") || ics_xml_is(c, "bundle"))
			read_resources(snap, c, c);
	}
}

static void read_constraints(IcsClusterSnapshot *snap, const xmlNode *constraints)
{
	for (xmlNode *c = constraints ? constraints->children : NULL; c; c = c->next) {
		IcsClusterConstraint *k;

		if (c->type != XML_ELEMENT_NODE)
			continue;
		k = g_new0(IcsClusterConstraint, 1);
		k->id = ics_xml_prop(c, "id");
		k->kind = g_strdup((const char *)c->name);
		if (ics_xml_is(c, "rsc_order")) {
			k->rsc = ics_xml_prop(c, "then");
			k->other = ics_xml_prop(c, "first");
			k->score = ics_xml_prop(c, "kind");
			if (k->score == NULL)
				k->score = ics_xml_prop(c, "score");
		} else {
			k->rsc = ics_xml_prop(c, "rsc");
			k->other = ics_xml_prop(c, "with-rsc");
			k->node = ics_xml_prop(c, "node");
			k->score = ics_xml_prop(c, "score");
		}
		g_ptr_array_add(snap->constraints, k);
	}
}

/* Transient standby attributes, from each node_state of the status. */
static void read_transient(IcsClusterSnapshot *snap, const xmlNode *status)
{
	for (xmlNode *ns = status ? status->children : NULL; ns; ns = ns->next) {
		g_autofree char *id = NULL;
		g_autoptr(GHashTable) attrs = new_table();
		xmlNode *ta;

		if (!ics_xml_is(ns, "node_state"))
			continue;
		id = ics_xml_prop(ns, "id");
		ta = ics_xml_child(ns, "transient_attributes");
		if (id == NULL || ta == NULL)
			continue;
		read_nvpairs(ta, "instance_attributes", attrs);
		for (guint i = 0; i < snap->nodes->len; i++) {
			IcsClusterNode *n = g_ptr_array_index(snap->nodes, i);

			if (g_strcmp0(n->id, id) == 0) {
				g_free(n->standby_transient);
				n->standby_transient =
					g_strdup(g_hash_table_lookup(attrs, "standby"));
			}
		}
	}
}

/* ------------------------------------------------------------- crm_mon */

static IcsClusterNode *node_by_name(IcsClusterSnapshot *snap, const char *name)
{
	for (guint i = 0; name && i < snap->nodes->len; i++) {
		IcsClusterNode *n = g_ptr_array_index(snap->nodes, i);

		if (strcmp(n->name, name) == 0)
			return n;
	}
	return NULL;
}

static IcsClusterResource *resource_by_id(IcsClusterSnapshot *snap, const char *id)
{
	return id ? g_hash_table_lookup(snap->resource_by_id, id) : NULL;
}

static IcsNodeState node_state(const IcsClusterNode *n)
{
	if (n->unclean)
		return ICS_NODE_UNCLEAN;
	if (!n->online)
		return n->pending ? ICS_NODE_PENDING : ICS_NODE_OFFLINE;
	if (n->maintenance)
		return ICS_NODE_MAINTENANCE;
	if (n->standby)
		return ICS_NODE_STANDBY;
	return ICS_NODE_ONLINE;
}

static void read_mon_nodes(IcsClusterSnapshot *snap, const xmlNode *nodes)
{
	for (xmlNode *c = nodes ? nodes->children : NULL; c; c = c->next) {
		g_autofree char *name = NULL;
		IcsClusterNode *n;

		if (!ics_xml_is(c, "node"))
			continue;
		name = ics_xml_prop(c, "name");
		n = node_by_name(snap, name);
		if (n == NULL) {
			/* Known to the cluster layer, not (yet) in the CIB's nodes. */
			n = g_new0(IcsClusterNode, 1);
			n->name = g_strdup(name ? name : "");
			n->id = ics_xml_prop(c, "id");
			g_ptr_array_add(snap->nodes, n);
		}
		n->online = prop_true(c, "online");
		n->standby = prop_true(c, "standby");
		n->standby_onfail = prop_true(c, "standby_onfail");
		n->maintenance = prop_true(c, "maintenance");
		n->pending = prop_true(c, "pending");
		n->unclean = prop_true(c, "unclean");
		n->shutdown = prop_true(c, "shutdown");
		n->is_dc = prop_true(c, "is_dc");
		n->state = node_state(n);
	}
}

/* One <resource> of crm_mon: an instance of a primitive on zero or more
 * nodes.  Instances of a clone share the primitive's id (anonymous) or
 * carry ":N" (unique); they add up to one IcsClusterResource. */
static void read_mon_resource(IcsClusterSnapshot *snap, const xmlNode *res, GHashTable *seen)
{
	g_autofree char *raw = ics_xml_prop(res, "id");
	g_autofree char *id = raw ? strip_instance(raw) : NULL;
	g_autofree char *role = ics_xml_prop(res, "role");
	IcsClusterResource *r = resource_by_id(snap, id);
	gboolean active = prop_true(res, "active");
	gboolean first = FALSE;

	if (r == NULL)
		return; /* an orphan: in the status but no longer configured */
	if (!g_hash_table_contains(seen, r)) {
		g_hash_table_add(seen, r);
		first = TRUE;
		r->managed = prop_true(res, "managed");
	}
	/* The role of an active instance wins over that of a stopped one. */
	if (role && (first || (active && !r->active))) {
		g_free(r->role);
		r->role = g_strdup(role);
	}
	r->active |= active;
	r->failed |= prop_true(res, "failed");
	r->blocked |= prop_true(res, "blocked");
	r->orphaned |= prop_true(res, "orphaned");
	if (!prop_true(res, "managed"))
		r->managed = FALSE;
	for (xmlNode *n = res->children; n; n = n->next) {
		g_autofree char *name = NULL;

		if (!ics_xml_is(n, "node"))
			continue;
		name = ics_xml_prop(n, "name");
		if (name)
			add_unique(r->nodes, name);
	}
}

static void read_mon_resources(IcsClusterSnapshot *snap, const xmlNode *parent, GHashTable *seen)
{
	for (xmlNode *c = parent ? parent->children : NULL; c; c = c->next) {
		if (ics_xml_is(c, "resource"))
			read_mon_resource(snap, c, seen);
		else if (ics_xml_is(c, "clone") || ics_xml_is(c, "group") ||
			 ics_xml_is(c, "bundle") || ics_xml_is(c, "replica"))
			read_mon_resources(snap, c, seen);
	}
}

static void read_mon_failures(IcsClusterSnapshot *snap, const xmlNode *failures)
{
	for (xmlNode *c = failures ? failures->children : NULL; c; c = c->next) {
		g_autofree char *key = NULL, *task = NULL, *interval = NULL, *suffix = NULL;
		g_autofree char *rsc = NULL;
		IcsClusterResource *r;
		IcsClusterFailure *f;

		if (!ics_xml_is(c, "failure"))
			continue;
		/* op_key is "<rsc>_<task>_<interval ms>". */
		key = ics_xml_prop(c, "op_key");
		task = ics_xml_prop(c, "task");
		interval = ics_xml_prop(c, "interval");
		if (key == NULL || task == NULL)
			continue;
		suffix = g_strdup_printf("_%s_%s", task, interval ? interval : "0");
		if (!g_str_has_suffix(key, suffix))
			continue;
		key[strlen(key) - strlen(suffix)] = '\0';
		rsc = strip_instance(key);
		r = resource_by_id(snap, rsc);
		if (r == NULL)
			continue;
		f = g_new0(IcsClusterFailure, 1);
		f->node = ics_xml_prop(c, "node");
		f->operation = g_strdup(task);
		f->exit_code = (int)prop_int(c, "exitcode");
		f->exit_status = ics_xml_prop(c, "exitstatus");
		f->exit_reason = ics_xml_prop(c, "exitreason");
		if (f->exit_reason == NULL)
			f->exit_reason = g_strdup("");
		f->interval_ms = (guint)prop_int(c, "interval");
		f->last_rc_change = ics_xml_prop(c, "last-rc-change");
		g_ptr_array_add(r->failures, f);
	}
}

/* ------------------------------------------------------------ derived */

/* The destination of @rsc_id's migration in progress: the migrate_target of
 * its pending migrate_to/migrate_from, else of the latest one recorded. */
static char *migration_target(const xmlNode *status, const char *rsc_id)
{
	char *best = NULL;
	gint64 best_change = -1;

	for (xmlNode *ns = status ? status->children : NULL; ns; ns = ns->next) {
		xmlNode *lrm = ics_xml_is(ns, "node_state") ? ics_xml_child(ns, "lrm") : NULL;
		xmlNode *rscs = ics_xml_child(lrm, "lrm_resources");

		for (xmlNode *lr = rscs ? rscs->children : NULL; lr; lr = lr->next) {
			g_autofree char *id =
				ics_xml_is(lr, "lrm_resource") ? ics_xml_prop(lr, "id") : NULL;

			if (g_strcmp0(id, rsc_id) != 0)
				continue;
			for (xmlNode *op = lr->children; op; op = op->next) {
				g_autofree char *task = ics_xml_prop(op, "operation");
				gint64 change;

				if (!ics_xml_is(op, "lrm_rsc_op") ||
				    (g_strcmp0(task, "migrate_to") != 0 &&
				     g_strcmp0(task, "migrate_from") != 0))
					continue;
				/* A pending operation (op-status -1) sorts first. */
				change = prop_int(op, "op-status") == -1
						 ? G_MAXINT64
						 : prop_int(op, "last-rc-change");
				if (change > best_change) {
					g_free(best);
					best = ics_xml_prop(op, "migrate_target");
					best_change = change;
				}
			}
		}
	}
	return best;
}

/* The starts in progress: "NODE\nRESOURCE" for each start recorded as
 * pending (op-status -1: Pacemaker records pending operations, on by
 * default, and crm_mon already counts the resource active there).  One
 * pass over the status section, so a snapshot stays linear in its size. */
static GHashTable *pending_starts(const xmlNode *status)
{
	GHashTable *set = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

	for (xmlNode *ns = status ? status->children : NULL; ns; ns = ns->next) {
		g_autofree char *uname = ics_xml_is(ns, "node_state") ? ics_xml_prop(ns, "uname") : NULL;
		xmlNode *rscs = ics_xml_child(ics_xml_child(ns, "lrm"), "lrm_resources");

		for (xmlNode *lr = uname && rscs ? rscs->children : NULL; lr; lr = lr->next) {
			if (!ics_xml_is(lr, "lrm_resource"))
				continue;
			for (xmlNode *op = lr->children; op; op = op->next) {
				g_autofree char *task = NULL;
				g_autofree char *id = NULL;

				if (!ics_xml_is(op, "lrm_rsc_op") || prop_int(op, "op-status") != -1)
					continue;
				task = ics_xml_prop(op, "operation");
				id = ics_xml_prop(lr, "id");
				if (g_strcmp0(task, "start") == 0 && id)
					g_hash_table_add(set, g_strdup_printf("%s\n%s", uname, id));
			}
		}
	}
	return set;
}

static const IcsClusterFailure *latest_failure(const IcsClusterResource *r)
{
	const IcsClusterFailure *best = NULL;

	for (guint i = 0; i < r->failures->len; i++) {
		const IcsClusterFailure *f = g_ptr_array_index(r->failures, i);

		/* "YYYY-MM-DD HH:MM:SSZ" sorts as text. */
		if (best == NULL || g_strcmp0(f->last_rc_change, best->last_rc_change) > 0)
			best = f;
	}
	return best;
}

static IcsClusterVm *new_vm(const IcsClusterResource *r, const xmlNode *status,
			   GHashTable *starting)
{
	IcsClusterVm *v = g_new0(IcsClusterVm, 1);
	const char *first = r->nodes->len ? g_ptr_array_index(r->nodes, 0) : NULL;
	gboolean should_run = r->target_role == NULL ||
			      g_ascii_strcasecmp(r->target_role, "Stopped") != 0;

	v->resource = r;
	v->id = r->id;
	v->uuid = g_hash_table_lookup(r->params, "uuid");
	v->pool = g_hash_table_lookup(r->params, "pool");
	if (g_strcmp0(r->role, "Migrating") == 0 && first) {
		v->state = ICS_VM_MIGRATING;
		v->node = g_strdup(first);
		v->migrate_target = migration_target(status, r->id);
	} else if (r->nodes->len > 1) {
		v->state = ICS_VM_MULTIPLE;
		v->node = g_strdup(first);
	} else if (r->failed) {
		const IcsClusterFailure *f = latest_failure(r);

		v->state = ICS_VM_FAILED;
		v->node = g_strdup(first ? first : f ? f->node : NULL);
	} else if (first) {
		v->state = ICS_VM_RUNNING;
		v->node = g_strdup(first);
		g_autofree char *key = g_strdup_printf("%s\n%s", first, r->id);

		v->starting = g_hash_table_contains(starting, key);
	} else if (r->failures->len && should_run) {
		v->state = ICS_VM_FAILED;
		v->node = g_strdup(latest_failure(r)->node);
	} else {
		v->state = ICS_VM_STOPPED;
	}
	return v;
}

static IcsClusterPool *new_pool(const IcsClusterResource *r)
{
	IcsClusterPool *p = g_new0(IcsClusterPool, 1);
	const char *name = g_hash_table_lookup(r->params, "name");

	p->resource = r;
	p->clone_id = g_strdup(r->parent);
	if (name)
		p->name = g_strdup(name);
	else if (r->parent && g_str_has_prefix(r->parent, "ics-pool-"))
		p->name = g_strdup(r->parent + strlen("ics-pool-"));
	else
		p->name = g_strdup(r->id);
	p->nodes = g_ptr_array_new_with_free_func(g_free);
	for (guint i = 0; i < r->nodes->len; i++)
		g_ptr_array_add(p->nodes, g_strdup(g_ptr_array_index(r->nodes, i)));
	return p;
}

/* ------------------------------------------------------------- public */

static xmlNode *require_root(xmlDoc *doc, const char *name, const char *what, GError **error)
{
	xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;

	if (!ics_xml_is(root, name)) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_PARSE,
			    "%s: expected a <%s> document, got <%s>", what, name,
			    root ? (const char *)root->name : "nothing");
		return NULL;
	}
	return root;
}

IcsClusterSnapshot *ics_cluster_snapshot_parse(xmlDoc *cib, xmlDoc *mon, GError **error)
{
	xmlNode *croot = require_root(cib, "cib", "CIB", error);
	xmlNode *mroot =
		croot ? require_root(mon, "pacemaker-result", "crm_mon output", error) : NULL;
	xmlNode *config, *status, *summary, *dc, *crm_config;
	g_autoptr(GHashTable) seen = NULL;
	g_autoptr(GHashTable) starting = NULL;
	IcsClusterSnapshot *snap;

	if (mroot == NULL)
		return NULL;
	config = ics_xml_child(croot, "configuration");
	if (config == NULL) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_PARSE, "CIB: no <configuration> section");
		return NULL;
	}
	status = ics_xml_child(croot, "status");

	snap = g_new0(IcsClusterSnapshot, 1);
	snap->admin_epoch = prop_int(croot, "admin_epoch");
	snap->epoch = prop_int(croot, "epoch");
	snap->num_updates = prop_int(croot, "num_updates");
	snap->nodes = g_ptr_array_new_with_free_func(node_free);
	snap->resources = g_ptr_array_new_with_free_func(resource_free);
	snap->vms = g_ptr_array_new_with_free_func(vm_free);
	snap->pools = g_ptr_array_new_with_free_func(pool_free);
	snap->constraints = g_ptr_array_new_with_free_func(constraint_free);
	snap->properties = new_table();
	snap->resource_by_id = g_hash_table_new(g_str_hash, g_str_equal);
	snap->vm_by_uuid = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

	crm_config = ics_xml_child(config, "crm_config");
	read_nvpairs(crm_config, "cluster_property_set", snap->properties);
	read_nodes(snap, ics_xml_child(config, "nodes"));
	read_resources(snap, ics_xml_child(config, "resources"), NULL);
	read_constraints(snap, ics_xml_child(config, "constraints"));
	read_transient(snap, status);

	summary = ics_xml_child(mroot, "summary");
	dc = ics_xml_child(summary, "current_dc");
	if (dc && prop_true(dc, "present")) {
		snap->dc = ics_xml_prop(dc, "name");
		snap->quorum = prop_true(dc, "with_quorum");
	}
	read_mon_nodes(snap, ics_xml_child(mroot, "nodes"));
	seen = g_hash_table_new(g_direct_hash, g_direct_equal);
	read_mon_resources(snap, ics_xml_child(mroot, "resources"), seen);
	read_mon_failures(snap, ics_xml_child(mroot, "failures"));

	starting = pending_starts(status);
	for (guint i = 0; i < snap->resources->len; i++) {
		const IcsClusterResource *r = g_ptr_array_index(snap->resources, i);

		if (strcmp(r->agent, "ocf:ics:vm") == 0) {
			IcsClusterVm *v = new_vm(r, status, starting);

			g_ptr_array_add(snap->vms, v);
			if (v->uuid) {
				char *key = g_ascii_strdown(v->uuid, -1);

				if (g_hash_table_contains(snap->vm_by_uuid, key))
					g_free(key);
				else
					g_hash_table_insert(snap->vm_by_uuid, key, v);
			}
		}
		else if (strcmp(r->agent, "ocf:ics:pool") == 0)
			g_ptr_array_add(snap->pools, new_pool(r));
	}
	return snap;
}

const IcsClusterNode *ics_cluster_snapshot_node(const IcsClusterSnapshot *snap, const char *name)
{
	return node_by_name((IcsClusterSnapshot *)snap, name);
}

const IcsClusterResource *ics_cluster_snapshot_resource(const IcsClusterSnapshot *snap,
							const char *id)
{
	return resource_by_id((IcsClusterSnapshot *)snap, id);
}

const IcsClusterVm *ics_cluster_snapshot_vm(const IcsClusterSnapshot *snap, const char *id)
{
	for (guint i = 0; id && i < snap->vms->len; i++) {
		const IcsClusterVm *v = g_ptr_array_index(snap->vms, i);

		if (strcmp(v->id, id) == 0)
			return v;
	}
	return NULL;
}

const IcsClusterVm *ics_cluster_snapshot_vm_by_uuid(const IcsClusterSnapshot *snap,
						    const char *uuid)
{
	char key[64];

	if (uuid == NULL || strlen(uuid) >= sizeof(key))
		return NULL;
	for (gsize i = 0; i <= strlen(uuid); i++)
		key[i] = g_ascii_tolower(uuid[i]);
	return g_hash_table_lookup(snap->vm_by_uuid, key);
}

const IcsClusterPool *ics_cluster_snapshot_pool(const IcsClusterSnapshot *snap, const char *name)
{
	for (guint i = 0; name && i < snap->pools->len; i++) {
		const IcsClusterPool *p = g_ptr_array_index(snap->pools, i);

		if (strcmp(p->name, name) == 0)
			return p;
	}
	return NULL;
}

const IcsClusterConstraint *ics_cluster_snapshot_constraint(const IcsClusterSnapshot *snap,
							    const char *id)
{
	for (guint i = 0; id && i < snap->constraints->len; i++) {
		const IcsClusterConstraint *c = g_ptr_array_index(snap->constraints, i);

		if (g_strcmp0(c->id, id) == 0)
			return c;
	}
	return NULL;
}

const char *ics_node_state_name(IcsNodeState state)
{
	switch (state) {
	case ICS_NODE_ONLINE:
		return "online";
	case ICS_NODE_STANDBY:
		return "standby";
	case ICS_NODE_MAINTENANCE:
		return "maintenance";
	case ICS_NODE_PENDING:
		return "pending";
	case ICS_NODE_OFFLINE:
		return "offline";
	case ICS_NODE_UNCLEAN:
		return "unclean";
	}
	return "unknown";
}

const char *ics_vm_state_name(IcsVmState state)
{
	switch (state) {
	case ICS_VM_STOPPED:
		return "stopped";
	case ICS_VM_RUNNING:
		return "running";
	case ICS_VM_MIGRATING:
		return "migrating";
	case ICS_VM_FAILED:
		return "failed";
	case ICS_VM_MULTIPLE:
		return "multiple";
	}
	return "unknown";
}
