/*
 * cluster_hosts.c: hosts and pools as the API shows them, and host
 * maintenance -- the host and pool operations of IcsClusterOps.
 *
 * Everything is read at the time of the request: a host's state and VMs
 * from the service's current snapshot, its CPU and memory from its libvirtd
 * (when it answers), a pool's capacity from statvfs of its mount (when the
 * manager's node has it mounted) and its hosts' disk heartbeats from the
 * local sanlock daemon through libicslock.  What cannot be read is
 * reported next to the value as "<what>_error", never as an old value.
 *
 * Maintenance is Pacemaker's standby (the permanent node attribute, so a
 * restart of the host does not end it): Pacemaker evacuates the host by
 * live migration, and the operation waits on change notifications until
 * no VM is left on it, reporting the share of its VMs that left.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/statvfs.h>

#include "ics/error.h"
#include "ics/lock.h"

#include "cluster_service_internal.h"

/* The VMs active on @node (running there, or migrating away from it). */
static guint vms_on(const IcsClusterSnapshot *snap, const char *node)
{
	guint n = 0;

	for (guint i = 0; i < snap->vms->len; i++) {
		const IcsClusterVm *vm = snap->vms->pdata[i];

		if (vm->state != ICS_VM_STOPPED && vm->state != ICS_VM_FAILED &&
		    g_strcmp0(vm->node, node) == 0)
			n++;
	}
	return n;
}

static json_t *host_summary(const IcsClusterSnapshot *snap, const IcsClusterNode *n)
{
	return json_pack("{s:s, s:s, s:s, s:b, s:b, s:b, s:I}", "name", n->name, "id",
			 n->id ? n->id : "", "state", ics_node_state_name(n->state), "dc", n->is_dc,
			 "standby", n->standby, "maintenance", n->maintenance, "vm_count",
			 (json_int_t)vms_on(snap, n->name));
}

json_t *ics_cluster_hosts_json(void *self, GError **error)
{
	g_autoptr(IcsSnapRef) ref = ics_cluster_service_snap(self, error);
	json_t *out;

	if (ref == NULL)
		return NULL;
	out = json_array();
	for (guint i = 0; i < ref->snap->nodes->len; i++)
		json_array_append_new(out, host_summary(ref->snap, ref->snap->nodes->pdata[i]));
	return out;
}

static const char *vm_state_name(const IcsClusterVm *vm)
{
	return ics_cluster_vm_state_text(vm);
}

json_t *ics_cluster_host_json(void *self, const char *name, GError **error)
{
	IcsClusterService *svc = self;
	const IcsClusterServiceConfig *cfg = ics_cluster_service_config(svc);
	g_autoptr(IcsNodeStats) stats = NULL;
	g_autoptr(GError) serr = NULL;
	json_t *out, *vms;
	gboolean member;

	{
		g_autoptr(IcsSnapRef) ref = ics_cluster_service_snap(svc, error);
		const IcsClusterNode *n;

		if (ref == NULL)
			return NULL;
		n = ics_cluster_snapshot_node(ref->snap, name);
		if (n == NULL) {
			g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND,
				    "host %s is not a node of the cluster", name);
			return NULL;
		}
		out = host_summary(ref->snap, n);
		/* A node that is not a member (down, fenced, lost) is not asked:
		 * connecting to a host that is off waits for TCP's timeout. */
		member = n->online && !n->unclean;
		vms = json_array();
		for (guint i = 0; i < ref->snap->vms->len; i++) {
			const IcsClusterVm *vm = ref->snap->vms->pdata[i];

			if (vm->state == ICS_VM_STOPPED || g_strcmp0(vm->node, name) != 0)
				continue;
			json_array_append_new(vms, json_pack("{s:s?, s:s, s:s}", "uuid", vm->uuid,
							     "resource", vm->id, "state",
							     vm_state_name(vm)));
		}
		json_object_set_new(out, "vms", vms);
	}
	/* Outside the snapshot: libvirtd may take a while to answer. */
	if (member)
		stats = ics_cluster_node_stats(name, cfg->stats_uri, &serr);
	else
		g_set_error(&serr, ICS_ERROR, ICS_ERROR_UNAVAILABLE,
			    "host %s is not a member of the cluster now", name);
	if (stats) {
		json_object_set_new(out, "stats", ics_node_stats_to_json(stats));
	} else {
		json_object_set_new(out, "stats", json_null());
		json_object_set_new(out, "stats_error", json_string(serr->message));
	}
	return out;
}

/* ---- maintenance ---------------------------------------------------------- */

typedef struct {
	const char *node;
	gboolean on;
} Standby;

static gboolean cib_standby(IcsCluster *cluster, void *data, GError **error)
{
	const Standby *s = data;

	return ics_cluster_set_standby(cluster, s->node, s->on, ICS_ATTR_PERMANENT, error);
}

typedef struct {
	const char *node;
	guint initial;
	guint last_left;
	IcsClusterProgressFn progress;
	void *progress_data;
} Evacuation;

static IcsWaitResult check_empty(const IcsClusterSnapshot *snap, void *data, GError **error)
{
	Evacuation *ev = data;
	guint left = vms_on(snap, ev->node);

	(void)error;
	if (left != ev->last_left && ev->progress) {
		guint gone = ev->initial > left ? ev->initial - left : 0;
		g_autofree char *msg =
			g_strdup_printf("%u of %u VMs left host %s", gone, ev->initial, ev->node);

		ev->last_left = left;
		ev->progress(ev->progress_data, ev->initial ? gone * 100 / ev->initial : 100, msg);
	}
	return left == 0 ? ICS_WAIT_DONE : ICS_WAIT_MORE;
}

gboolean ics_cluster_host_maintenance(void *self, const char *name, gboolean enter,
				      IcsClusterProgressFn progress, void *progress_data,
				      const volatile gint *cancelled, GError **error)
{
	IcsClusterService *svc = self;
	Standby s = { name, enter };
	Evacuation ev = { name, 0, G_MAXUINT, progress, progress_data };
	g_autofree char *what = NULL;

	{
		g_autoptr(IcsSnapRef) ref = ics_cluster_service_snap(svc, error);

		if (ref == NULL)
			return FALSE;
		if (ics_cluster_snapshot_node(ref->snap, name) == NULL) {
			g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND,
				    "host %s is not a node of the cluster", name);
			return FALSE;
		}
		ev.initial = vms_on(ref->snap, name);
	}
	if (!ics_cluster_service_call(svc, cib_standby, &s, error))
		return FALSE;
	if (!enter) {
		if (progress)
			progress(progress_data, 100, "maintenance ended");
		return TRUE;
	}
	what = g_strdup_printf("evacuation of host %s", name);
	return ics_cluster_service_wait(svc, check_empty, &ev, cancelled, what, error);
}

/* ---- pools ---------------------------------------------------------------- */

static json_t *pool_summary(const IcsClusterPool *p)
{
	const char *path = ics_cluster_pool_path(p);
	json_t *hosts = json_array();

	for (guint i = 0; p->nodes && i < p->nodes->len; i++)
		json_array_append_new(hosts, json_string(p->nodes->pdata[i]));
	return json_pack("{s:s, s:s?, s:s?, s:o}", "name", p->name, "path", path, "resource",
			 p->clone_id, "active_on", hosts);
}

json_t *ics_cluster_pools_json(void *self, GError **error)
{
	g_autoptr(IcsSnapRef) ref = ics_cluster_service_snap(self, error);
	json_t *out;

	if (ref == NULL)
		return NULL;
	out = json_array();
	for (guint i = 0; i < ref->snap->pools->len; i++)
		json_array_append_new(out, pool_summary(ref->snap->pools->pdata[i]));
	return out;
}

/* Capacity of the pool's mount here, or NULL with the reason. */
static json_t *capacity(const char *path, GError **error)
{
	g_autofree char *marker = path ? g_build_filename(path, ".ics", "pool.json", NULL) : NULL;
	struct statvfs st;

	if (marker == NULL || !g_file_test(marker, G_FILE_TEST_IS_REGULAR)) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_UNAVAILABLE,
			    "pool is not mounted on the manager's node (no %s)",
			    marker ? marker : "path");
		return NULL;
	}
	if (statvfs(path, &st) != 0) {
		ics_error_set_errno(error, errno, "statvfs %s", path);
		return NULL;
	}
	return json_pack("{s:I, s:I, s:I}", "total_bytes",
			 (json_int_t)((guint64)st.f_blocks * st.f_frsize), "free_bytes",
			 (json_int_t)((guint64)st.f_bavail * st.f_frsize), "used_bytes",
			 (json_int_t)((guint64)(st.f_blocks - st.f_bfree) * st.f_frsize));
}

/* The disk heartbeat of every host of the pool's lockspace, as the local
 * sanlock daemon sees it, or NULL with the reason. */
static json_t *heartbeats(const char *path, GError **error)
{
	g_autoptr(IcsPool) pool = path ? ics_pool_open(path, NULL, error) : NULL;
	g_autoptr(GPtrArray) hosts = NULL;
	json_t *out;

	if (pool == NULL) {
		if (path == NULL)
			g_set_error(error, ICS_ERROR, ICS_ERROR_UNAVAILABLE, "pool has no path");
		return NULL;
	}
	hosts = ics_pool_hosts(pool, error);
	if (hosts == NULL)
		return NULL;
	out = json_array();
	for (guint i = 0; i < hosts->len; i++) {
		const IcsHostInfo *h = hosts->pdata[i];

		json_array_append_new(out, json_pack("{s:I, s:s?, s:s, s:I}", "host_id",
						     (json_int_t)h->host_id, "name", h->name,
						     "state", ics_host_state_name(h->state),
						     "age_s", (json_int_t)h->age_s));
	}
	return out;
}

json_t *ics_cluster_pool_json(void *self, const char *name, GError **error)
{
	g_autofree char *path = NULL;
	g_autoptr(GError) cerr = NULL, herr = NULL;
	json_t *out, *cap, *hb;

	{
		g_autoptr(IcsSnapRef) ref = ics_cluster_service_snap(self, error);
		const IcsClusterPool *p;

		if (ref == NULL)
			return NULL;
		p = ics_cluster_snapshot_pool(ref->snap, name);
		if (p == NULL) {
			g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND,
				    "pool %s is not a pool of the cluster", name);
			return NULL;
		}
		out = pool_summary(p);
		path = g_strdup(ics_cluster_pool_path(p));
	}
	cap = capacity(path, &cerr);
	json_object_set_new(out, "capacity", cap ? cap : json_null());
	if (cap == NULL)
		json_object_set_new(out, "capacity_error", json_string(cerr->message));
	hb = heartbeats(path, &herr);
	json_object_set_new(out, "heartbeat", hb ? hb : json_null());
	if (hb == NULL)
		json_object_set_new(out, "heartbeat_error", json_string(herr->message));
	return out;
}

json_t *ics_cluster_fence_history_json(void *self, const char *name, GError **error)
{
	IcsFenceRecord rec = { 0 };
	static const char *const states[] = { [ICS_FENCE_NONE] = "none",
					      [ICS_FENCE_PENDING] = "pending",
					      [ICS_FENCE_FAILED] = "failed",
					      [ICS_FENCE_DONE] = "done" };
	json_t *out;

	(void)self;
	if (!ics_fence_history_last(name, &rec, error))
		return NULL;
	out = json_pack("{s:s, s:s?, s:s?, s:b, s:I}", "state", states[rec.state], "action",
			rec.action, "delegate", rec.delegate, "manual", rec.manual, "completed",
			(json_int_t)rec.completed);
	ics_fence_record_clear(&rec);
	return out;
}
