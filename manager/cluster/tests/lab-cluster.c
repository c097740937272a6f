/*
 * lab-cluster: the cluster adapter against a real cluster, run inside a lab
 * node by lab-cluster.test.  Prints TAP lines without a plan (the script
 * adds its own lines and the plan).
 *
 * Everything is driven by CIB notifications, as the manager will be: after
 * each write the program runs the main loop and re-reads a snapshot on every
 * notification until the expected state shows (or a generous deadline,
 * which only turns a hang into a failure and is never a timing assertion).
 *
 * The scenario: all nodes online with a DC; a Dummy created through the
 * adapter arrives as a "resources" notification and is then placed; the
 * pool clone (ocf:ics:pool on the pool lab-cluster.test initialised) becomes
 * active on every node; a VM primitive with its pool constraints is defined
 * (Stopped); a move and a clear; permanent standby of the Dummy's node
 * evacuates it, and off brings the node back; a transient standby shows as
 * transient; a cluster property is set and deleted; the VM, the Dummy and
 * the pool are removed with their constraints; a node's libvirtd answers
 * with statistics.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ics/cluster.h"
#include "ics/error.h"
#include "ics/json.h"
#include "ics/xml.h"

#define DEADLINE_S 90
#define DUMMY "clad-d1"
#define UUID "c1ad0000-8d2a-4b7e-9c41-2f0d5e6a7b8c"
#define VM "vm-" UUID
#define POOL_PATH "/srv/ics/pools/shared"

typedef gboolean (*Check)(const IcsClusterSnapshot *snap, gpointer data);

typedef struct {
	IcsCluster *cluster;
	GMainLoop *loop;
	Check check;
	gpointer data;
	gboolean done, timed_out;
	IcsClusterChange seen; /* hints of the notifications since the last reset */
	guint notifications;
	char *last_error;
} Ctx;

static int failed;

static void tap(gboolean ok, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void tap(gboolean ok, const char *fmt, ...)
{
	va_list ap;
	g_autofree char *msg = NULL;

	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	printf("%s - %s\n", ok ? "ok" : "not ok", msg);
	fflush(stdout);
	if (!ok)
		failed++;
}

/* Snapshots are made of the kept copy, as the manager's are: every check
 * of this program also checks that the notifications' patches keep it
 * true (and the end compares it with the CIB manager's). */
static gboolean evaluate(Ctx *c)
{
	g_autoptr(GError) e = NULL;
	g_autoptr(xmlDoc) cib = ics_cluster_query_kept(c->cluster, &e);
	g_autoptr(IcsClusterSnapshot) s = cib ? ics_cluster_snapshot_from_cib(cib, &e) : NULL;

	if (s == NULL) {
		g_free(c->last_error);
		c->last_error = g_strdup(e->message);
		return FALSE;
	}
	return c->check(s, c->data);
}

static void on_change(IcsCluster *cluster, IcsClusterChange what, gpointer user_data)
{
	Ctx *c = user_data;

	(void)cluster;
	c->seen |= what;
	c->notifications++;
	if (c->check && !c->done && evaluate(c)) {
		c->done = TRUE;
		g_main_loop_quit(c->loop);
	}
}

static gboolean on_deadline(gpointer user_data)
{
	Ctx *c = user_data;

	c->timed_out = TRUE;
	g_main_loop_quit(c->loop);
	return G_SOURCE_REMOVE;
}

/* Run the main loop until @check holds on a fresh snapshot. */
static gboolean wait_for(Ctx *c, Check check, gpointer data)
{
	guint timer;

	c->check = check;
	c->data = data;
	c->done = FALSE;
	c->timed_out = FALSE;
	if (evaluate(c)) {
		c->check = NULL;
		return TRUE;
	}
	timer = g_timeout_add_seconds(DEADLINE_S, on_deadline, c);
	g_main_loop_run(c->loop);
	if (!c->timed_out)
		g_source_remove(timer);
	c->check = NULL;
	return c->done;
}

/* ----------------------------------------------------------- checks */

static gboolean all_online(const IcsClusterSnapshot *s, gpointer data)
{
	guint online = 0;

	for (guint i = 0; i < s->nodes->len; i++) {
		const IcsClusterNode *n = g_ptr_array_index(s->nodes, i);

		online += n->state == ICS_NODE_ONLINE;
	}
	return online == GPOINTER_TO_UINT(data) && s->dc != NULL && s->quorum;
}

static const char *dummy_node(const IcsClusterSnapshot *s)
{
	const IcsClusterResource *r = ics_cluster_snapshot_resource(s, DUMMY);

	if (r == NULL || !r->active || r->nodes->len != 1)
		return NULL;
	return g_ptr_array_index(r->nodes, 0);
}

static gboolean dummy_placed(const IcsClusterSnapshot *s, gpointer data)
{
	return dummy_node(s) != NULL;
}

static gboolean dummy_on(const IcsClusterSnapshot *s, gpointer data)
{
	return g_strcmp0(dummy_node(s), data) == 0;
}

static gboolean dummy_not_on(const IcsClusterSnapshot *s, gpointer data)
{
	const char *n = dummy_node(s);

	return n != NULL && g_strcmp0(n, data) != 0;
}

static gboolean vm_defined(const IcsClusterSnapshot *s, gpointer data)
{
	const IcsClusterVm *v = ics_cluster_snapshot_vm(s, VM);

	return v && v->state == ICS_VM_STOPPED && g_strcmp0(v->uuid, UUID) == 0 &&
	       ics_cluster_snapshot_constraint(s, VM "-after-pool") &&
	       ics_cluster_snapshot_constraint(s, VM "-with-pool");
}

static gboolean no_move(const IcsClusterSnapshot *s, gpointer data)
{
	return ics_cluster_snapshot_constraint(s, "cli-prefer-" DUMMY) == NULL;
}

typedef struct {
	const char *node;
	IcsNodeState state;
	gboolean transient;
} NodeWant;

static gboolean node_is(const IcsClusterSnapshot *s, gpointer data)
{
	const NodeWant *w = data;
	const IcsClusterNode *n = ics_cluster_snapshot_node(s, w->node);

	if (n == NULL || n->state != w->state)
		return FALSE;
	if (w->state == ICS_NODE_STANDBY)
		return w->transient ? g_strcmp0(n->standby_transient, "on") == 0 &&
					      n->standby_permanent == NULL
				    : g_strcmp0(n->standby_permanent, "on") == 0;
	return TRUE;
}

static gboolean property_is(const IcsClusterSnapshot *s, gpointer data)
{
	const char *v = g_hash_table_lookup(s->properties, "cluster-recheck-interval");

	return g_strcmp0(v, data) == 0;
}

static gboolean all_gone(const IcsClusterSnapshot *s, gpointer data)
{
	for (guint i = 0; i < s->constraints->len; i++) {
		const IcsClusterConstraint *k = g_ptr_array_index(s->constraints, i);

		if (g_strcmp0(k->rsc, VM) == 0 || g_strcmp0(k->rsc, DUMMY) == 0)
			return FALSE;
	}
	return ics_cluster_snapshot_resource(s, DUMMY) == NULL &&
	       ics_cluster_snapshot_vm(s, VM) == NULL && s->pools->len == 0;
}

static gboolean pool_everywhere(const IcsClusterSnapshot *s, gpointer data)
{
	const IcsClusterPool *p = ics_cluster_snapshot_pool(s, "shared");

	return p && p->nodes->len == GPOINTER_TO_UINT(data) &&
	       g_strcmp0(p->clone_id, "ics-pool-shared") == 0;
}

/* The clone ics-pool-shared of ocf:ics:pool, as an operator would create it
 * for the pool that lab-cluster.test initialised (its uuid from pool.json). */
static xmlDoc *pool_clone(GError **error)
{
	g_autoptr(json_t) meta = ics_json_load_file(POOL_PATH "/.ics/pool.json", error);
	const char *uuid = meta ? ics_json_get_string(meta, "uuid", error) : NULL;
	static const char *const params[][2] = { { "name", "shared" }, { "path", POOL_PATH } };
	xmlDoc *doc;
	xmlNode *clone, *set, *prim, *ops, *op;

	if (uuid == NULL)
		return NULL;
	doc = xmlNewDoc(BAD_CAST "1.0");
	clone = xmlNewNode(NULL, BAD_CAST "clone");
	xmlDocSetRootElement(doc, clone);
	xmlNewProp(clone, BAD_CAST "id", BAD_CAST "ics-pool-shared");
	set = xmlNewChild(clone, NULL, BAD_CAST "meta_attributes", NULL);
	xmlNewProp(set, BAD_CAST "id", BAD_CAST "ics-pool-shared-meta");
	set = xmlNewChild(set, NULL, BAD_CAST "nvpair", NULL);
	xmlNewProp(set, BAD_CAST "id", BAD_CAST "ics-pool-shared-interleave");
	xmlNewProp(set, BAD_CAST "name", BAD_CAST "interleave");
	xmlNewProp(set, BAD_CAST "value", BAD_CAST "true");
	prim = xmlNewChild(clone, NULL, BAD_CAST "primitive", NULL);
	xmlNewProp(prim, BAD_CAST "id", BAD_CAST "ics-pool-shared-rsc");
	xmlNewProp(prim, BAD_CAST "class", BAD_CAST "ocf");
	xmlNewProp(prim, BAD_CAST "provider", BAD_CAST "ics");
	xmlNewProp(prim, BAD_CAST "type", BAD_CAST "pool");
	set = xmlNewChild(prim, NULL, BAD_CAST "instance_attributes", NULL);
	xmlNewProp(set, BAD_CAST "id", BAD_CAST "ics-pool-shared-ia");
	for (gsize i = 0; i <= G_N_ELEMENTS(params); i++) {
		const char *name = i < G_N_ELEMENTS(params) ? params[i][0] : "uuid";
		const char *value = i < G_N_ELEMENTS(params) ? params[i][1] : uuid;
		g_autofree char *id = g_strdup_printf("ics-pool-shared-%s", name);
		xmlNode *nv = xmlNewChild(set, NULL, BAD_CAST "nvpair", NULL);

		xmlNewProp(nv, BAD_CAST "id", BAD_CAST id);
		xmlNewProp(nv, BAD_CAST "name", BAD_CAST name);
		xmlNewProp(nv, BAD_CAST "value", BAD_CAST value);
	}
	ops = xmlNewChild(prim, NULL, BAD_CAST "operations", NULL);
	op = xmlNewChild(ops, NULL, BAD_CAST "op", NULL);
	xmlNewProp(op, BAD_CAST "id", BAD_CAST "ics-pool-shared-mon");
	xmlNewProp(op, BAD_CAST "name", BAD_CAST "monitor");
	xmlNewProp(op, BAD_CAST "interval", BAD_CAST "5s");
	xmlNewProp(op, BAD_CAST "timeout", BAD_CAST "30s");
	return doc;
}

/* ------------------------------------------------------------- main */

/* One write: a TAP line with the error's message on failure (cleared). */
/* The configuration section and the epochs of a CIB, as text. */
static char *config_text(xmlDoc *cib)
{
	xmlNode *root = xmlDocGetRootElement(cib), *config = NULL;
	xmlChar *a = xmlGetProp(root, BAD_CAST "admin_epoch"), *ep = xmlGetProp(root, BAD_CAST "epoch");
	xmlBufferPtr buf = xmlBufferCreate();
	char *text;

	for (xmlNode *n = root->children; n && config == NULL; n = n->next)
		if (n->type == XML_ELEMENT_NODE && xmlStrEqual(n->name, BAD_CAST "configuration"))
			config = n;
	if (config)
		xmlNodeDump(buf, cib, config, 0, 0);
	text = g_strdup_printf("%s.%s %s", (const char *)a, (const char *)ep,
			       (const char *)xmlBufferContent(buf));
	xmlFree(a);
	xmlFree(ep);
	xmlBufferFree(buf);
	return text;
}

static void step(gboolean ok, GError **error, const char *what)
{
	tap(ok, "%s%s%s", what, ok ? "" : ": ",
	    ok			? ""
	    : (error && *error) ? (*error)->message
				: "failed");
	g_clear_error(error);
}

int main(int argc, char **argv)
{
	Ctx c = { 0 };
	g_autoptr(GError) error = NULL;
	GError *err = NULL;
	g_autoptr(xmlDoc) dummy = NULL;
	g_autofree char *first = NULL;
	guint nodes = argc > 1 ? (guint)atoi(argv[1]) : 3;
	const IcsCibVmSpec spec = { .uuid = UUID,
				    .pool_path = "/srv/ics/pools/shared",
				    .pool_name = "shared",
				    .vcpus = 1,
				    .memory_mib = 64 };

	c.loop = g_main_loop_new(NULL, FALSE);
	c.cluster = ics_cluster_connect(&error);
	tap(c.cluster != NULL, "connect to the CIB manager%s%s", error ? ": " : "",
	    error ? error->message : "");
	if (c.cluster == NULL)
		return 1;
	tap(ics_cluster_watch(c.cluster, on_change, &c, &error) > 0, "watch CIB changes");
	tap(wait_for(&c, all_online, GUINT_TO_POINTER(nodes)), "%u nodes online with a DC", nodes);

	/* A resource created through the adapter comes back as a notification
	 * that names the resources section, then is placed. */
	dummy = ics_xml_parse_string("<primitive id='" DUMMY "' class='ocf' provider='pacemaker'"
				     " type='Dummy'><operations><op id='" DUMMY "-mon'"
				     " name='monitor' interval='5s' timeout='20s'/></operations>"
				     "</primitive>",
				     -1, DUMMY, NULL);
	c.seen = 0;
	step(ics_cluster_create(c.cluster, "resources", dummy, &err), &err, "create " DUMMY);
	tap(wait_for(&c, dummy_placed, NULL), DUMMY " placed on a node");
	tap(c.seen & ICS_CLUSTER_CHANGE_RESOURCES,
	    "a notification hinted at resources (hints 0x%x)", c.seen);
	tap(c.seen & ICS_CLUSTER_CHANGE_STATUS, "a notification hinted at the status (hints 0x%x)",
	    c.seen);
	{
		g_autoptr(IcsClusterSnapshot) s = ics_cluster_snapshot(c.cluster, NULL);

		first = s && dummy_node(s) ? g_strdup(dummy_node(s)) : NULL;
	}

	/* The pool a VM is ordered after must exist: the CIB schema refuses a
	 * constraint that names no resource. */
	{
		g_autoptr(GError) e = NULL;
		g_autoptr(xmlDoc) pool = pool_clone(&e);

		tap(pool != NULL, "read the pool's uuid%s%s", e ? ": " : "", e ? e->message : "");
		if (pool)
			step(ics_cluster_create(c.cluster, "resources", pool, &err), &err,
			     "create the pool clone ics-pool-shared");
	}
	tap(wait_for(&c, pool_everywhere, GUINT_TO_POINTER(nodes)),
	    "pool \"shared\" active on %u nodes", nodes);
	step(ics_cluster_define_vm(c.cluster, &spec, &err), &err, "define VM " UUID);
	tap(wait_for(&c, vm_defined, NULL), "VM stopped with its pool constraints");

	if (first) {
		const char *to = strcmp(first, "node1") == 0 ? "node2" : "node1";
		NodeWant standby = { first, ICS_NODE_STANDBY, FALSE };
		NodeWant back = { first, ICS_NODE_ONLINE, FALSE };
		NodeWant tstandby = { "node3", ICS_NODE_STANDBY, TRUE };
		NodeWant tback = { "node3", ICS_NODE_ONLINE, FALSE };

		step(ics_cluster_move(c.cluster, DUMMY, to, &err), &err, "move " DUMMY);
		tap(wait_for(&c, dummy_on, (gpointer)to), DUMMY " moved from %s to %s", first, to);
		step(ics_cluster_clear(c.cluster, DUMMY, &err), &err, "clear the move");
		tap(wait_for(&c, no_move, NULL), "the move constraint is gone");

		/* Standby of the node that runs the Dummy evacuates it. */
		{
			g_autoptr(IcsClusterSnapshot) s = ics_cluster_snapshot(c.cluster, NULL);

			g_free(first);
			first = s && dummy_node(s) ? g_strdup(dummy_node(s)) : g_strdup(to);
			standby.node = back.node = first;
		}
		step(ics_cluster_set_standby(c.cluster, first, TRUE, ICS_ATTR_PERMANENT, &err),
		     &err, "permanent standby on");
		tap(wait_for(&c, node_is, &standby), "%s in standby (permanent)", first);
		tap(wait_for(&c, dummy_not_on, first), DUMMY " left %s", first);
		step(ics_cluster_set_standby(c.cluster, first, FALSE, ICS_ATTR_PERMANENT, &err),
		     &err, "permanent standby off");
		tap(wait_for(&c, node_is, &back), "%s online again", first);

		step(ics_cluster_set_standby(c.cluster, "node3", TRUE, ICS_ATTR_TRANSIENT, &err),
		     &err, "transient standby on");
		tap(wait_for(&c, node_is, &tstandby), "node3 in standby (transient)");
		step(ics_cluster_set_standby(c.cluster, "node3", FALSE, ICS_ATTR_TRANSIENT, &err),
		     &err, "transient standby off");
		tap(wait_for(&c, node_is, &tback), "node3 online again");
	} else {
		tap(FALSE, "no placement of " DUMMY ": moves and standby not tried");
	}

	step(ics_cluster_set_property(c.cluster, "cluster-recheck-interval", "14min", &err), &err,
	     "set a cluster property");
	tap(wait_for(&c, property_is, "14min"), "the property shows in the snapshot");
	step(ics_cluster_set_property(c.cluster, "cluster-recheck-interval", NULL, &err), &err,
	     "delete the cluster property");
	tap(wait_for(&c, property_is, NULL), "the property is gone");

	step(ics_cluster_remove_resource(c.cluster, VM, &err), &err, "remove the VM");
	step(ics_cluster_remove_resource(c.cluster, DUMMY, &err), &err, "remove " DUMMY);
	step(ics_cluster_remove_resource(c.cluster, "ics-pool-shared", &err), &err,
	     "remove the pool clone");
	tap(wait_for(&c, all_gone, NULL), "no trace of them, constraints included");
	tap(c.notifications > 0, "%u notifications received", c.notifications);
	{
		g_autoptr(GError) e = NULL;
		g_autoptr(xmlDoc) kept = ics_cluster_query_kept(c.cluster, &e);
		g_autoptr(xmlDoc) fresh = kept ? ics_cluster_query(c.cluster, &e) : NULL;
		g_autofree char *k = kept ? config_text(kept) : NULL;
		g_autofree char *f = fresh ? config_text(fresh) : NULL;

		tap(k && f && strcmp(k, f) == 0,
		    "the kept copy's configuration is the CIB manager's (%zu bytes)%s%s",
		    f ? strlen(f) : 0, e ? ": " : "", e ? e->message : "");
	}

	{
		g_autoptr(GError) e = NULL;
		g_autoptr(IcsNodeStats) st = ics_cluster_node_stats("node2", NULL, &e);

		tap(st != NULL && st->cpus > 0 && st->memory_total_kib > 0,
		    "libvirt statistics of node2 over qemu+tcp%s%s", e ? ": " : "",
		    e ? e->message : "");
	}
	if (c.last_error)
		printf("# last snapshot error: %s\n", c.last_error);
	g_free(c.last_error);
	ics_cluster_free(c.cluster);
	g_main_loop_unref(c.loop);
	return failed ? 1 : 0;
}
