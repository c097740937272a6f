/*
 * cib_connection.c: the adapter's one connection to the local CIB manager
 * and the change notifications that arrive on it.
 *
 * cib_new() + signon(cib_command) gives a connection that reads and writes.
 * libcib attaches its IPC channel to GLib's default main context on signon
 * (Pacemaker's mainloop is GLib's), so once a CIB notification is
 * registered, every committed change arrives as a cib_diff_notify message
 * while the caller runs a GMainLoop: no polling, no thread.
 *
 * libcib's notification and disconnect callbacks carry no user data, so
 * the live IcsCluster objects are kept in a process-wide list and a change
 * goes to every one that watches.  With several connections in a process
 * (the manager has one) the same change arrives once per connection; each
 * IcsCluster remembers the CIB version of the last change it reported and
 * reports a version only once.
 *
 * The hint given to watchers comes from the diff itself: a version 2 patch
 * names the XPath of every change ("/cib/configuration/resources/...",
 * "/cib/status/node_state[@id='2']/lrm/..."), which is mapped to the parts
 * of the CIB a reader caches views of.  Anything not understood -- a v1
 * diff, a replaced CIB -- means "everything may have changed".
 *
 * The kept copy.  Reading a whole CIB of 1,000 VMs (~3 MB) from the CIB
 * manager takes ~0.1 s on an idle node and seconds on a busy one, as long
 * for the manager as for every other client.  So a connection that
 * watches keeps the CIB it last read and applies each notification's
 * patch to it (xml_apply_patchset, which checks that the patch starts from
 * the copy's version), as crm_mon does; ics_cluster_query_kept() answers
 * from it.  A patch that does not apply (one was missed, a v1 diff) drops
 * the copy, and the next kept query reads the whole CIB again; a patch
 * older than the copy (queued while a query ran) is skipped.  Writes and
 * ics_cluster_query() always ask the CIB manager: a caller that has just
 * written reads its own write.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <crm/cib.h>
#include <crm/common/results.h>
#include <crm/common/xml.h>

#include "cluster_internal.h"
#include "ics/error.h"
#include "ics/log.h"
#include "ics/xml.h"

/* Seconds a synchronous CIB call may take. */
#define CIB_CALL_TIMEOUT_S 30

typedef struct {
	guint id;
	IcsClusterWatchFn fn;
	gpointer user_data;
} Watch;

struct _IcsCluster {
	cib_t *cib;
	gboolean connected;
	gboolean notify_registered;
	GArray *watches; /* Watch */
	guint next_watch_id;
	char *last_version; /* "admin_epoch.epoch.num_updates" last reported */
	xmlNode *kept; /* the kept copy (Pacemaker's XML); NULL: none */
};

/* Every IcsCluster alive in this process (see the file comment). */
static GList *clusters;

void ics_cluster_set_pcmk_error(GError **error, int rc, const char *what)
{
	IcsErrorCode code;

	switch (rc) {
	case -EEXIST:
	case -ENOTUNIQ:
		code = ICS_ERROR_CONFLICT;
		break;
	case -ENXIO:
	case -ENOENT:
	case -pcmk_err_node_unknown:
		code = ICS_ERROR_NOT_FOUND;
		break;
	case -ETIME:
	case -ETIMEDOUT:
		code = ICS_ERROR_TIMEOUT;
		break;
	case -ENOTCONN:
	case -ECOMM:
	case -ECONNREFUSED:
	case -ESHUTDOWN:
	case -pcmk_err_no_quorum:
		code = ICS_ERROR_UNAVAILABLE;
		break;
	case -EACCES:
	case -EPERM:
		code = ICS_ERROR_PERMISSION;
		break;
	case -EINVAL:
	case -pcmk_err_schema_validation:
	case -pcmk_err_bad_nvpair:
		code = ICS_ERROR_INVALID_ARGUMENT;
		break;
	default:
		code = ICS_ERROR_IO;
	}
	g_set_error(error, ICS_ERROR, code, "%s: %s", what, pcmk_strerror(rc));
}

/* ------------------------------------------------------- notifications */

/* The part of the CIB an XPath of a v2 patch points into. */
static IcsClusterChange change_of_path(const char *path)
{
	static const struct {
		const char *prefix;
		IcsClusterChange change;
	} map[] = {
		{ "/cib/configuration/nodes", ICS_CLUSTER_CHANGE_NODES },
		{ "/cib/configuration/resources", ICS_CLUSTER_CHANGE_RESOURCES },
		{ "/cib/configuration/constraints", ICS_CLUSTER_CHANGE_CONSTRAINTS },
		{ "/cib/configuration/crm_config", ICS_CLUSTER_CHANGE_PROPERTIES },
		{ "/cib/configuration/rsc_defaults", ICS_CLUSTER_CHANGE_PROPERTIES },
		{ "/cib/configuration/op_defaults", ICS_CLUSTER_CHANGE_PROPERTIES },
		{ "/cib/status", ICS_CLUSTER_CHANGE_STATUS },
	};

	if (path == NULL)
		return ICS_CLUSTER_CHANGE_ALL;
	for (gsize i = 0; i < G_N_ELEMENTS(map); i++) {
		gsize n = strlen(map[i].prefix);

		if (strncmp(path, map[i].prefix, n) == 0 &&
		    (path[n] == '\0' || path[n] == '/' || path[n] == '['))
			return map[i].change;
	}
	/* "/cib" itself (attributes such as epoch or have-quorum) changes with
	 * every update; "/cib/configuration" as a whole is a replace. */
	if (strcmp(path, "/cib") == 0)
		return 0;
	if (g_str_has_prefix(path, "/cib/configuration/"))
		return ICS_CLUSTER_CHANGE_PROPERTIES; /* alerts, tags, fencing topology, ... */
	return ICS_CLUSTER_CHANGE_ALL;
}

IcsClusterChange ics_cluster_change_from_notify(xmlNode *msg)
{
	/* <notify><cib_update_result><diff format="2"><change path=...> */
	xmlNode *diff = ics_xml_child(ics_xml_child(msg, "cib_update_result"), "diff");
	g_autofree char *format = diff ? ics_xml_prop(diff, "format") : NULL;
	IcsClusterChange what = 0;

	if (diff == NULL || g_strcmp0(format, "2") != 0)
		return ICS_CLUSTER_CHANGE_ALL;
	for (xmlNode *c = diff->children; c; c = c->next) {
		g_autofree char *path = NULL;

		if (!ics_xml_is(c, "change"))
			continue;
		path = ics_xml_prop(c, "path");
		what |= change_of_path(path);
	}
	return what;
}

static void fire(IcsCluster *c, IcsClusterChange what)
{
	/* A callback may add or remove watches: iterate over a copy. */
	g_autoptr(GArray) copy = g_array_copy(c->watches);

	for (guint i = 0; i < copy->len; i++) {
		Watch *w = &g_array_index(copy, Watch, i);

		w->fn(c, what, w->user_data);
	}
}

/* The CIB version a v2 diff leads to, "admin_epoch.epoch.num_updates", or
 * NULL when the message does not say. */
static char *diff_target(xmlNode *msg)
{
	xmlNode *diff = ics_xml_child(ics_xml_child(msg, "cib_update_result"), "diff");
	xmlNode *target = ics_xml_child(ics_xml_child(diff, "version"), "target");
	g_autofree char *a = NULL, *e = NULL, *n = NULL;

	if (target == NULL)
		return NULL;
	a = ics_xml_prop(target, "admin_epoch");
	e = ics_xml_prop(target, "epoch");
	n = ics_xml_prop(target, "num_updates");
	if (a == NULL || e == NULL || n == NULL)
		return NULL;
	return g_strdup_printf("%s.%s.%s", a, e, n);
}

/* Bring @c's kept copy to the version @msg's patch leads to, or drop it. */
static void keep_up(IcsCluster *c, xmlNode *msg)
{
	xmlNode *diff = ics_xml_child(ics_xml_child(msg, "cib_update_result"), "diff");
	int rc = pcmk_ok, call_rc = pcmk_ok;

	if (c->kept == NULL)
		return;
	/* "cib_rc": the request's result (F_CIB_RC of Pacemaker's internal headers) */
	if (crm_element_value_int(msg, "cib_rc", &call_rc) == 0 && call_rc != pcmk_ok)
		return; /* a failed request: nothing was applied */
	rc = diff ? xml_apply_patchset(c->kept, diff, true) : -ENOMSG;
	if (rc == pcmk_ok || rc == -pcmk_err_old_data)
		return;
	ics_debug("CIB kept copy dropped: %s", pcmk_strerror(rc));
	free_xml(c->kept);
	c->kept = NULL;
}

static void on_diff(const char *event, xmlNode *msg)
{
	IcsClusterChange what = ics_cluster_change_from_notify(msg);
	g_autofree char *version = NULL;

	/* Every patch, also one that moves only the version counters. */
	for (GList *l = clusters; l; l = l->next) {
		IcsCluster *c = l->data;

		if (c->connected && c->notify_registered)
			keep_up(c, msg);
	}
	if (what == 0)
		return; /* only the version counters moved */
	version = diff_target(msg);
	ics_debug("CIB changed (%s) to %s: hint 0x%x", event, version ? version : "?", what);
	for (GList *l = clusters; l; l = l->next) {
		IcsCluster *c = l->data;

		if (!c->connected || !c->notify_registered)
			continue;
		if (version && g_strcmp0(version, c->last_version) == 0)
			continue; /* already reported through another connection */
		g_free(c->last_version);
		c->last_version = g_strdup(version);
		fire(c, what);
	}
}

static void on_disconnect(gpointer user_data)
{
	for (GList *l = clusters; l; l = l->next) {
		IcsCluster *c = l->data;

		if (c->cib == user_data || user_data == NULL) {
			if (!c->connected)
				continue;
			c->connected = FALSE;
			if (c->kept) {
				free_xml(c->kept);
				c->kept = NULL;
			}
			ics_warning("connection to the CIB manager lost");
			fire(c, ICS_CLUSTER_CHANGE_DISCONNECTED);
		}
	}
}

/* ------------------------------------------------------------- public */

IcsCluster *ics_cluster_connect(GError **error)
{
	IcsCluster *c;
	cib_t *cib;
	int rc;

	/* Pacemaker's XML layer (schemas, node bookkeeping) is set up by its
	 * tools' logging initialisation; a library user calls it itself.  It
	 * is idempotent. */
	crm_xml_init();
	cib = cib_new();
	if (cib == NULL) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_IO, "cannot allocate a CIB connection");
		return NULL;
	}
	rc = cib->cmds->signon(cib, ICS_CLUSTER_CLIENT_NAME, cib_command);
	if (rc != pcmk_ok) {
		g_set_error(error, ICS_ERROR,
			    rc == -EACCES || rc == -EPERM ? ICS_ERROR_PERMISSION
							  : ICS_ERROR_UNAVAILABLE,
			    "cluster: cannot connect to the CIB manager: %s "
			    "(is Pacemaker running on this node?)",
			    pcmk_strerror(rc));
		cib_delete(cib);
		return NULL;
	}
	cib->call_timeout = CIB_CALL_TIMEOUT_S;
	/* Not every variant has one (a CIB file has no connection to lose). */
	(void)cib->cmds->set_connection_dnotify(cib, on_disconnect);

	c = g_new0(IcsCluster, 1);
	c->cib = cib;
	c->connected = TRUE;
	c->watches = g_array_new(FALSE, FALSE, sizeof(Watch));
	c->next_watch_id = 1;
	clusters = g_list_prepend(clusters, c);
	return c;
}

void ics_cluster_free(IcsCluster *cluster)
{
	if (cluster == NULL)
		return;
	clusters = g_list_remove(clusters, cluster);
	if (cluster->notify_registered && cluster->connected)
		cluster->cib->cmds->del_notify_callback(cluster->cib, T_CIB_DIFF_NOTIFY, on_diff);
	cluster->cib->cmds->signoff(cluster->cib);
	cib_delete(cluster->cib);
	g_array_unref(cluster->watches);
	g_free(cluster->last_version);
	if (cluster->kept)
		free_xml(cluster->kept);
	g_free(cluster);
}

gboolean ics_cluster_is_connected(IcsCluster *cluster)
{
	return cluster->connected;
}

gpointer ics_cluster_cib(IcsCluster *cluster, GError **error)
{
	if (!cluster->connected) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_UNAVAILABLE,
			    "cluster: the connection to the CIB manager was lost; connect again");
		return NULL;
	}
	return cluster->cib;
}

guint ics_cluster_watch(IcsCluster *cluster, IcsClusterWatchFn fn, gpointer user_data,
			GError **error)
{
	Watch w = { 0 };

	if (ics_cluster_cib(cluster, error) == NULL)
		return 0;
	if (fn == NULL) {
		ics_error_invalid(error, "cluster: a watch needs a callback");
		return 0;
	}
	if (!cluster->notify_registered) {
		int rc = cluster->cib->cmds->add_notify_callback(cluster->cib, T_CIB_DIFF_NOTIFY,
								 on_diff);

		if (rc != pcmk_ok) {
			ics_cluster_set_pcmk_error(error, rc,
						   "cluster: cannot subscribe to CIB changes");
			return 0;
		}
		cluster->notify_registered = TRUE;
	}
	w.id = cluster->next_watch_id++;
	w.fn = fn;
	w.user_data = user_data;
	g_array_append_val(cluster->watches, w);
	return w.id;
}

void ics_cluster_unwatch(IcsCluster *cluster, guint id)
{
	for (guint i = 0; i < cluster->watches->len; i++) {
		if (g_array_index(cluster->watches, Watch, i).id == id) {
			g_array_remove_index(cluster->watches, i);
			return;
		}
	}
}

/* A document of our own, which the caller frees with xmlFreeDoc(). */
static xmlDoc *own_copy(xmlNode *cib)
{
	xmlDoc *doc = xmlNewDoc(BAD_CAST "1.0");

	xmlDocSetRootElement(doc, xmlDocCopyNode(cib, doc, 1));
	return doc;
}

/* The whole CIB from the CIB manager; a watching connection keeps it. */
static xmlNode *query_whole(IcsCluster *cluster, GError **error)
{
	cib_t *cib = ics_cluster_cib(cluster, error);
	xmlNode *out = NULL;
	int rc;

	if (cib == NULL)
		return NULL;
	rc = cib->cmds->query(cib, NULL, &out, cib_sync_call | cib_scope_local);
	if (rc != pcmk_ok || out == NULL) {
		ics_cluster_set_pcmk_error(error, rc != pcmk_ok ? rc : -ENOMSG,
					   "cluster: cannot read the CIB");
		if (out)
			free_xml(out);
		return NULL;
	}
	return out;
}

xmlDoc *ics_cluster_query(IcsCluster *cluster, GError **error)
{
	xmlNode *out = query_whole(cluster, error);
	xmlDoc *doc;

	if (out == NULL)
		return NULL;
	doc = own_copy(out);
	if (cluster->notify_registered) {
		if (cluster->kept)
			free_xml(cluster->kept);
		cluster->kept = out;
	} else {
		free_xml(out);
	}
	return doc;
}

xmlDoc *ics_cluster_query_kept(IcsCluster *cluster, GError **error)
{
	if (cluster->kept && cluster->connected)
		return own_copy(cluster->kept);
	return ics_cluster_query(cluster, error);
}

IcsClusterSnapshot *ics_cluster_snapshot(IcsCluster *cluster, GError **error)
{
	g_autoptr(xmlDoc) cib = ics_cluster_query(cluster, error);

	if (cib == NULL)
		return NULL;
	return ics_cluster_snapshot_from_cib(cib, error);
}
