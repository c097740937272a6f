/*
 * cluster_service.c: the manager's cluster adapter -- the bridge between
 * the manager's threads and libicscluster: one connection on the main
 * context, snapshots shared by reference, calls handed to the connection's
 * thread, waits on new snapshots (see ics/manager/cluster_service.h).
 *
 * Threads.  The adapter's connection belongs to the thread that runs the
 * default main context; every other thread hands it a call (an idle
 * source) and sleeps until the call is done; a call made before the loop
 * runs waits for it.  Shutting
 * down sets "closing" under the lock before the pending calls are drained,
 * so no caller can queue a call that nobody would run.
 *
 * Runtime state.  What runs where is read from Pacemaker, never remembered:
 * the service holds the snapshot of the newest CIB version it was told of,
 * replaced as a whole on every change notification (coalesced in one idle
 * callback, spaced out when readings get slow; each reading publishes a
 * quick snapshot of the new configuration at once and the full one when
 * crm_mon, on a worker thread, has computed its status: see refresh_live
 * and status_request) and shared with readers by reference.  Waits -- a VM running,
 * stopped, on its migration target, a host empty -- re-evaluate their
 * condition on each new snapshot, woken by a condition variable; they wake
 * on their own only to look at their task's cancel flag and deadline.  No
 * lock of the service is held while a condition is evaluated or an adapter
 * call runs: API threads call the cluster inside database transactions and
 * waits report progress to the database, so holding one across either
 * could deadlock.
 *
 * VMs, hosts and pools.  The operations of IcsClusterOps live in their own
 * files over cluster_service_internal.h: cluster_vms.c (define with its
 * group commit, undefine, power, migration, console), cluster_hosts.c
 * (hosts, pools, maintenance) and cluster_load.c (DRS).
 */
#include "config.h"

#include <string.h>

#include "ics/error.h"
#include "ics/json.h"
#include "ics/log.h"
#include "ics/vm_on_pool.h"
#include "ics/xml.h"

#include "cluster_service_internal.h"

#define DEFAULT_WAIT_S 300
/* How often a wait looks at its cancel flag (it is a flag, not the cluster). */
#define CANCEL_CHECK_US (250 * 1000)
#define RECONNECT_S 5
/* The longest pause between two change-driven snapshots (see on_change). */
#define REFRESH_GAP_MAX_MS 1000

struct IcsClusterService {
	IcsClusterServiceConfig cfg;
	IcsClusterOps ops;
	/* Main-context thread only. */
	IcsCluster *cluster;
	IcsClusterVmChangedFn vm_changed;
	void *vm_changed_data;
	IcsClusterNodeChangedFn node_changed;
	void *node_changed_data;
	guint refresh_source;
	guint reconnect_source;
	/* When the last change-driven refresh ended and how long it took
	 * (g_get_monotonic_time, us). */
	gint64 refresh_end_us, refresh_took_us;
	/* crm_mon's XML of the newest full snapshot (NULL: none since the
	 * connection was made): the status half of the quick snapshot, and
	 * the number of the CIB reading it was computed from. */
	xmlDoc *last_mon;
	guint64 last_mon_read;
	/* CIB readings are numbered (reads: the newest's number; a lost
	 * connection takes a number too, so nothing read before it is
	 * published after).  status_busy: a status job runs on a worker;
	 * status_next: the newest CIB read meanwhile, and its number, for the
	 * job after it; status_source: the pause before that job. */
	guint64 reads;
	gboolean status_busy;
	GThread *status_thread;
	xmlDoc *status_next;
	guint64 status_next_read;
	guint status_source;
	gint64 status_end_us, status_took_us;
	void (*status_hook)(void *data);
	void *status_hook_data;
	/* Under lock. */
	GMutex lock;
	GCond changed;
	IcsSnapRef *snap;
	guint64 generation;
	gboolean closing;
	/* The VM operations' own state (cluster_vms.c). */
	IcsClusterVms *vms;
};

/* ---- snapshots ----------------------------------------------------------- */

void ics_snap_unref(IcsSnapRef *ref)
{
	if (ref && g_atomic_int_dec_and_test(&ref->refs)) {
		ics_cluster_snapshot_free(ref->snap);
		g_free(ref);
	}
}

IcsSnapRef *ics_cluster_service_snap(IcsClusterService *svc, GError **error)
{
	IcsSnapRef *ref;

	g_mutex_lock(&svc->lock);
	ref = svc->snap;
	if (ref)
		g_atomic_int_inc(&ref->refs);
	g_mutex_unlock(&svc->lock);
	if (ref == NULL)
		g_set_error(
			error, ICS_ERROR, ICS_ERROR_UNAVAILABLE,
			"cluster: the CIB cannot be read now (the connection to the CIB manager "
			"was lost; reconnecting)");
	return ref;
}

/* The VMs whose state or node differs between two snapshots, to the
 * listener: a comparison of two readings of the cluster, not a copy of it.
 * A VM is matched by its uuid parameter, so a rename (a new primitive id)
 * is no change. */
static void report_vm_changes(IcsClusterService *svc, const IcsClusterSnapshot *before,
			      const IcsClusterSnapshot *now)
{
	if (svc->vm_changed == NULL)
		return;
	for (guint i = 0; i < now->vms->len; i++) {
		const IcsClusterVm *vm = now->vms->pdata[i];
		const IcsClusterVm *was = ics_cluster_snapshot_vm_by_uuid(before, vm->uuid);

		if (vm->uuid == NULL)
			continue;
		if (was && was->state == vm->state && was->starting == vm->starting &&
		    g_strcmp0(was->node, vm->node) == 0)
			continue;
		svc->vm_changed(svc->vm_changed_data, vm->uuid, ics_cluster_vm_state_text(vm),
				vm->node, was ? ics_cluster_vm_state_text(was) : "undefined",
				was ? was->node : NULL);
	}
	for (guint i = 0; i < before->vms->len; i++) {
		const IcsClusterVm *was = before->vms->pdata[i];

		if (was->uuid && ics_cluster_snapshot_vm_by_uuid(now, was->uuid) == NULL)
			svc->vm_changed(svc->vm_changed_data, was->uuid, "undefined", NULL,
					ics_cluster_vm_state_text(was), was->node);
	}
}

/* The nodes whose state differs between two snapshots, to the listener. */
static void report_node_changes(IcsClusterService *svc, const IcsClusterSnapshot *before,
				const IcsClusterSnapshot *now)
{
	if (svc->node_changed == NULL)
		return;
	for (guint i = 0; i < now->nodes->len; i++) {
		const IcsClusterNode *n = now->nodes->pdata[i];
		const IcsClusterNode *was = ics_cluster_snapshot_node(before, n->name);

		if (was && was->state != n->state)
			svc->node_changed(svc->node_changed_data, n->name,
					  ics_node_state_name(n->state),
					  ics_node_state_name(was->state));
	}
}

void ics_cluster_service_set_node_listener(IcsClusterService *svc, IcsClusterNodeChangedFn fn,
					   void *data)
{
	svc->node_changed = fn;
	svc->node_changed_data = data;
}

/* Make @snap the current snapshot and tell the listeners what changed. */
static void publish(IcsClusterService *svc, IcsClusterSnapshot *snap)
{
	IcsSnapRef *ref, *old;

	ref = g_new0(IcsSnapRef, 1);
	ref->refs = 1;
	ref->snap = snap;
	g_mutex_lock(&svc->lock);
	old = svc->snap;
	svc->snap = ref;
	svc->generation++;
	g_cond_broadcast(&svc->changed);
	g_mutex_unlock(&svc->lock);
	if (old) {
		report_vm_changes(svc, old->snap, snap);
		report_node_changes(svc, old->snap, snap);
	}
	ics_snap_unref(old);
}

/*
 * Two snapshots of one CIB version.  Most of a snapshot's time is crm_mon's
 * status computation (~0.7 s of ~0.75 s with 1,000 VMs, several times that
 * on a busy cluster), yet a VM defined or deleted is a change of the
 * configuration alone.  So the new CIB is first read with the crm_mon XML
 * of the newest full snapshot -- the configuration as it is now, the status
 * as Pacemaker last computed it, which was true a moment ago and knows
 * nothing of the new resources (they read as stopped, as they are until
 * Pacemaker acts) -- and published at once (quick); then crm_mon runs on
 * the new CIB and the full snapshot replaces it.  No wait can end on a
 * quick one that should not: its status is no newer than the newest full
 * snapshot's.
 */
static gboolean publish_quick(IcsClusterService *svc, xmlDoc *cib)
{
	g_autoptr(GError) e = NULL;
	IcsClusterSnapshot *snap;

	if (svc->last_mon == NULL)
		return FALSE;
	snap = ics_cluster_snapshot_parse(cib, svc->last_mon, &e);
	if (snap == NULL) {
		ics_debug("cluster: no quick snapshot: %s", e->message);
		return FALSE;
	}
	publish(svc, snap);
	return TRUE;
}

/* crm_mon's XML of CIB reading @read becomes the status of the quick
 * snapshots, unless a newer reading's already is. */
static void keep_mon(IcsClusterService *svc, xmlDoc *mon, guint64 read)
{
	if (read <= svc->last_mon_read && svc->last_mon) {
		xmlFreeDoc(mon);
		return;
	}
	if (svc->last_mon)
		xmlFreeDoc(svc->last_mon);
	svc->last_mon = mon;
	svc->last_mon_read = read;
}

/* The whole refresh on this thread: for the first reading after a
 * connection and for ics_cluster_service_refresh's callers, who expect
 * the full snapshot when it returns. */
static gboolean refresh_live(IcsClusterService *svc, GError **error)
{
	g_autoptr(xmlDoc) cib = ics_cluster_query(svc->cluster, error);
	xmlDoc *mon;
	IcsClusterSnapshot *snap;
	guint64 read;

	if (cib == NULL)
		return FALSE;
	read = ++svc->reads;
	publish_quick(svc, cib);
	mon = ics_cluster_status_of(cib, error);
	if (mon == NULL)
		return FALSE;
	snap = ics_cluster_snapshot_parse(cib, mon, error);
	if (snap == NULL) {
		xmlFreeDoc(mon);
		return FALSE;
	}
	keep_mon(svc, mon, read);
	publish(svc, snap);
	return TRUE;
}

/*
 * Change-driven refreshes keep the main context free.  The CIB is read and
 * the quick snapshot published here (a few tens of ms with 1,000 VMs), and
 * crm_mon runs on a worker thread, one job at a time: while it runs, the
 * loop keeps reading notifications (the CIB manager drops a client whose
 * notifications pile up) and publishing quick snapshots, and the calls of
 * the API threads -- CIB writes -- run.  A job's result is published only
 * when no newer CIB has been read since (an older configuration would
 * bring deleted VMs back for a moment); its crm_mon XML is kept either way
 * and the newest reading then gets a quick snapshot with it and a job of
 * its own.  A job after one that took long (a large, busy cluster) waits
 * as long again (at most REFRESH_GAP_MAX_MS), so crm_mon gets at most half
 * of a core.
 */
typedef struct {
	IcsClusterService *svc;
	xmlDoc *cib, *mon;
	IcsClusterSnapshot *snap;
	guint64 read;
	gint64 start_us;
	GError *error;
} StatusJob;

static void status_job_free(StatusJob *job)
{
	g_clear_pointer(&job->cib, xmlFreeDoc);
	g_clear_pointer(&job->mon, xmlFreeDoc);
	if (job->snap)
		ics_cluster_snapshot_free(job->snap);
	g_clear_error(&job->error);
	g_free(job);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(StatusJob, status_job_free)

static gboolean status_job_done(gpointer data);

/* On the worker: the documents are the job's alone.  The result goes back
 * to the main context as an idle source. */
static gpointer status_job_run(gpointer data)
{
	StatusJob *job = data;
	GSource *src;

	if (job->svc->status_hook)
		job->svc->status_hook(job->svc->status_hook_data);
	job->mon = ics_cluster_status_of(job->cib, &job->error);
	if (job->mon)
		job->snap = ics_cluster_snapshot_parse(job->cib, job->mon, &job->error);
	src = g_idle_source_new();
	g_source_set_callback(src, status_job_done, job, NULL);
	g_source_attach(src, g_main_context_default());
	g_source_unref(src);
	return NULL;
}

static void status_job_start(IcsClusterService *svc, xmlDoc *cib, guint64 read)
{
	StatusJob *job = g_new0(StatusJob, 1);

	job->svc = svc;
	job->cib = cib;
	job->read = read;
	job->start_us = g_get_monotonic_time();
	svc->status_busy = TRUE;
	svc->status_thread = g_thread_new("ics-cluster-status", status_job_run, job);
}

static gboolean status_next_start(gpointer data)
{
	IcsClusterService *svc = data;

	svc->status_source = 0;
	if (svc->status_next)
		status_job_start(svc, g_steal_pointer(&svc->status_next), svc->status_next_read);
	return G_SOURCE_REMOVE;
}

/* Ask for the status of CIB reading @read (the document is taken). */
static void status_request(IcsClusterService *svc, xmlDoc *cib, guint64 read)
{
	gint64 wait_us;

	g_clear_pointer(&svc->status_next, xmlFreeDoc);
	svc->status_next = cib;
	svc->status_next_read = read;
	if (svc->status_busy || svc->status_source)
		return;
	wait_us = MIN(svc->status_took_us, REFRESH_GAP_MAX_MS * 1000) -
		  (g_get_monotonic_time() - svc->status_end_us);
	if (wait_us < 1000)
		status_next_start(svc);
	else
		svc->status_source = g_timeout_add_full(G_PRIORITY_LOW, (guint)(wait_us / 1000),
							status_next_start, svc, NULL);
}

static gboolean status_job_done(gpointer data)
{
	g_autoptr(StatusJob) job = data;
	IcsClusterService *svc = job->svc;
	gboolean closing;

	g_thread_join(g_steal_pointer(&svc->status_thread));
	svc->status_busy = FALSE;
	svc->status_end_us = g_get_monotonic_time();
	svc->status_took_us = svc->status_end_us - job->start_us;
	g_mutex_lock(&svc->lock);
	closing = svc->closing;
	g_mutex_unlock(&svc->lock);
	if (closing)
		return G_SOURCE_REMOVE;
	if (job->snap == NULL) {
		ics_warning("cluster: cannot read the new state of the CIB: %s",
			    job->error->message);
	} else if (job->read > svc->last_mon_read) {
		/* Newer than any status so far (a lost connection's number is
		 * newer than what was read before it). */
		keep_mon(svc, g_steal_pointer(&job->mon), job->read);
		if (job->read == svc->reads)
			publish(svc, g_steal_pointer(&job->snap));
		else if (svc->status_next)
			publish_quick(svc, svc->status_next);
	}
	if (svc->status_next)
		status_request(svc, g_steal_pointer(&svc->status_next), svc->status_next_read);
	return G_SOURCE_REMOVE;
}

gboolean ics_cluster_service_refresh(IcsClusterService *svc, GError **error)
{
	IcsClusterSnapshot *snap;

	if (svc->cluster == NULL || !ics_cluster_is_connected(svc->cluster)) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_UNAVAILABLE,
			    "cluster: not connected to the CIB manager");
		return FALSE;
	}
	if (svc->cfg.snapshot == NULL)
		return refresh_live(svc, error);
	snap = svc->cfg.snapshot(svc->cluster, svc->cfg.snapshot_data, error);
	if (snap == NULL)
		return FALSE;
	publish(svc, snap);
	return TRUE;
}

void ics_cluster_service_set_vm_listener(IcsClusterService *svc, IcsClusterVmChangedFn fn,
					 void *data)
{
	svc->vm_changed = fn;
	svc->vm_changed_data = data;
}

const IcsClusterServiceConfig *ics_cluster_service_config(IcsClusterService *svc)
{
	return &svc->cfg;
}

IcsClusterVms *ics_cluster_service_vms(IcsClusterService *svc)
{
	return svc->vms;
}

guint64 ics_cluster_service_generation(IcsClusterService *svc)
{
	guint64 g;

	g_mutex_lock(&svc->lock);
	g = svc->generation;
	g_mutex_unlock(&svc->lock);
	return g;
}

gboolean ics_cluster_service_wait_newer(IcsClusterService *svc, guint64 generation,
					gint64 deadline_us)
{
	gboolean closing;

	g_mutex_lock(&svc->lock);
	while (svc->generation == generation && !svc->closing &&
	       g_cond_wait_until(&svc->changed, &svc->lock, deadline_us))
		;
	closing = svc->closing;
	g_mutex_unlock(&svc->lock);
	return !closing;
}

static gboolean refresh_idle(gpointer data)
{
	IcsClusterService *svc = data;
	g_autoptr(GError) err = NULL;
	gint64 t0 = g_get_monotonic_time();
	xmlDoc *cib;

	svc->refresh_source = 0;
	if (svc->cfg.snapshot || svc->last_mon == NULL) {
		/* A test's snapshots, or no status yet to go with a quick one. */
		if (!ics_cluster_service_refresh(svc, &err))
			ics_warning("cluster: cannot read the new state of the CIB: %s",
				    err->message);
	} else if (!ics_cluster_is_connected(svc->cluster)) {
		; /* the disconnection's own notification follows */
	} else if ((cib = ics_cluster_query_kept(svc->cluster, &err)) == NULL) {
		ics_warning("cluster: cannot read the new state of the CIB: %s", err->message);
	} else {
		guint64 read = ++svc->reads;

		publish_quick(svc, cib);
		status_request(svc, cib, read);
	}
	svc->refresh_end_us = g_get_monotonic_time();
	svc->refresh_took_us = svc->refresh_end_us - t0;
	return G_SOURCE_REMOVE;
}

static gboolean reconnect(gpointer data);

static void on_change(IcsCluster *cluster, IcsClusterChange what, gpointer data)
{
	IcsClusterService *svc = data;

	(void)cluster;
	if (what & ICS_CLUSTER_CHANGE_DISCONNECTED) {
		IcsSnapRef *old;

		/* What the last snapshot says may no longer be true: readers get
		 * UNAVAILABLE and waits keep waiting until the CIB is read again. */
		g_mutex_lock(&svc->lock);
		old = g_steal_pointer(&svc->snap);
		svc->generation++;
		g_mutex_unlock(&svc->lock);
		ics_snap_unref(old);
		/* nor what crm_mon said then: no quick snapshot before a full
		 * one, and no status job's result of a reading before this */
		g_clear_pointer(&svc->last_mon, xmlFreeDoc);
		svc->last_mon_read = ++svc->reads;
		g_clear_pointer(&svc->status_next, xmlFreeDoc);
		if (svc->status_source) {
			g_source_remove(svc->status_source);
			svc->status_source = 0;
		}
		if (svc->reconnect_source == 0)
			svc->reconnect_source = g_timeout_add_seconds(RECONNECT_S, reconnect, svc);
		return;
	}
	/* A burst of changes costs one reading of the CIB, on this thread
	 * (crm_mon runs on a worker, see status_request): after one that took
	 * long, the next waits as long again (at most REFRESH_GAP_MAX_MS), so
	 * the calls of the API threads -- CIB writes -- get at least half of
	 * this thread. */
	if (svc->refresh_source == 0) {
		gint64 wait_us = MIN(svc->refresh_took_us, REFRESH_GAP_MAX_MS * 1000) -
				 (g_get_monotonic_time() - svc->refresh_end_us);

		if (wait_us < 1000)
			svc->refresh_source =
				g_idle_add_full(G_PRIORITY_LOW, refresh_idle, svc, NULL);
		else
			svc->refresh_source =
				g_timeout_add_full(G_PRIORITY_LOW, (guint)(wait_us / 1000),
						   refresh_idle, svc, NULL);
	}
}

void ics_cluster_service_set_status_job_hook(IcsClusterService *svc, void (*fn)(void *data),
					     void *data)
{
	svc->status_hook = fn;
	svc->status_hook_data = data;
}

void ics_cluster_service_heard(IcsClusterService *svc, IcsClusterChange what)
{
	on_change(svc->cluster, what, svc);
}

static gboolean connect_and_watch(IcsClusterService *svc, GError **error)
{
	g_autoptr(IcsCluster) c = ics_cluster_connect(error);

	g_autoptr(GError) e = NULL;

	if (c == NULL)
		return FALSE;
	if (ics_cluster_watch(c, on_change, svc, &e) == 0) {
		/* A CIB file (libcib's CIB_file, tests and offline work) sends
		 * no notifications: nothing but this process changes it, and
		 * the state is read again when asked (refresh). */
		if (g_getenv("CIB_file") == NULL) {
			g_propagate_error(error, g_steal_pointer(&e));
			return FALSE;
		}
		ics_notice("%s (a CIB file): no change notifications", e->message);
	}
	ics_cluster_free(svc->cluster);
	svc->cluster = g_steal_pointer(&c);
	return ics_cluster_service_refresh(svc, error);
}

static gboolean reconnect(gpointer data)
{
	IcsClusterService *svc = data;
	g_autoptr(GError) err = NULL;

	if (connect_and_watch(svc, &err)) {
		ics_notice("cluster: connected to the CIB manager again");
		svc->reconnect_source = 0;
		return G_SOURCE_REMOVE;
	}
	ics_warning("cluster: %s; retrying in %d s", err->message, RECONNECT_S);
	return G_SOURCE_CONTINUE;
}

/* ---- calls on the main-context thread ------------------------------------ */

typedef struct {
	IcsClusterService *svc;
	IcsClusterCall fn;
	void *data;
	gboolean ok, done;
	GError *error;
} LoopCall;

static gboolean run_call(gpointer p)
{
	LoopCall *c = p;
	IcsClusterService *svc = c->svc;
	gboolean closing;

	g_mutex_lock(&svc->lock);
	closing = svc->closing;
	g_mutex_unlock(&svc->lock);
	if (closing)
		g_set_error(&c->error, ICS_ERROR, ICS_ERROR_UNAVAILABLE,
			    "cluster: the manager is stopping");
	else if (svc->cluster == NULL || !ics_cluster_is_connected(svc->cluster))
		g_set_error(&c->error, ICS_ERROR, ICS_ERROR_UNAVAILABLE,
			    "cluster: not connected to the CIB manager (reconnecting)");
	else
		c->ok = c->fn(svc->cluster, c->data, &c->error);
	g_mutex_lock(&svc->lock);
	c->done = TRUE;
	g_cond_broadcast(&svc->changed);
	g_mutex_unlock(&svc->lock);
	return G_SOURCE_REMOVE;
}

gboolean ics_cluster_service_call(IcsClusterService *svc, IcsClusterCall fn, void *data,
				  GError **error)
{
	GMainContext *ctx = g_main_context_default();
	LoopCall c = { svc, fn, data, FALSE, FALSE, NULL };

	if (g_main_context_is_owner(ctx)) {
		run_call(&c);
	} else {
		g_mutex_lock(&svc->lock);
		if (svc->closing) {
			g_mutex_unlock(&svc->lock);
			g_set_error(error, ICS_ERROR, ICS_ERROR_UNAVAILABLE,
				    "cluster: the manager is stopping");
			return FALSE;
		}
		/* Queued under the lock: shutdown drains what was queued before
		 * it set closing, so every queued call runs.  Always an idle
		 * source, never g_main_context_invoke(): that runs the call
		 * right here when no thread runs the loop (at start, at stop),
		 * with the lock held. */
		GSource *src = g_idle_source_new();

		g_source_set_callback(src, run_call, &c, NULL);
		g_source_attach(src, ctx);
		g_source_unref(src);
		while (!c.done)
			g_cond_wait(&svc->changed, &svc->lock);
		g_mutex_unlock(&svc->lock);
	}
	if (!c.ok) {
		g_propagate_error(error, c.error);
		return FALSE;
	}
	return TRUE;
}

/* ---- waits ---------------------------------------------------------------- */

gboolean ics_cluster_service_wait(IcsClusterService *svc, IcsWaitCheck check, void *data,
				  const volatile gint *cancelled, const char *what, GError **error)
{
	guint timeout_s = svc->cfg.wait_timeout_s ? svc->cfg.wait_timeout_s : DEFAULT_WAIT_S;
	gint64 deadline = g_get_monotonic_time() + (gint64)timeout_s * G_USEC_PER_SEC;
	guint64 seen = G_MAXUINT64;

	for (;;) {
		IcsSnapRef *ref = NULL;
		gboolean closing;
		gint64 now;

		/* Take the snapshot not looked at yet, or sleep until one comes
		 * (or it is time to look at the flag and the deadline). */
		g_mutex_lock(&svc->lock);
		closing = svc->closing;
		if (!closing && svc->snap && svc->generation != seen) {
			ref = svc->snap;
			g_atomic_int_inc(&ref->refs);
			seen = svc->generation;
		} else if (!closing) {
			now = g_get_monotonic_time();
			g_cond_wait_until(&svc->changed, &svc->lock,
					  MIN(deadline, now + CANCEL_CHECK_US));
		}
		g_mutex_unlock(&svc->lock);
		if (closing) {
			g_set_error(error, ICS_ERROR, ICS_ERROR_UNAVAILABLE,
				    "cluster: the manager is stopping");
			return FALSE;
		}
		/* Checked without the lock: a check reports progress, which
		 * writes to the database. */
		if (ref) {
			IcsWaitResult r = check(ref->snap, data, error);

			ics_snap_unref(ref);
			if (r != ICS_WAIT_MORE)
				return r == ICS_WAIT_DONE;
		}
		if (cancelled && g_atomic_int_get(cancelled)) {
			g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT, "cancelled");
			return FALSE;
		}
		if (g_get_monotonic_time() >= deadline) {
			g_set_error(error, ICS_ERROR, ICS_ERROR_TIMEOUT,
				    "cluster: %s: not done after %u s; see crm_mon", what,
				    timeout_s);
			return FALSE;
		}
	}
}

/* ---- life ----------------------------------------------------------------- */

IcsClusterService *ics_cluster_service_new(const IcsClusterServiceConfig *cfg, GError **error)
{
	IcsClusterService *svc = g_new0(IcsClusterService, 1);

	if (cfg)
		svc->cfg = *cfg;
	svc->cfg.stats_uri = g_strdup(svc->cfg.stats_uri);
	g_mutex_init(&svc->lock);
	g_cond_init(&svc->changed);
	svc->vms = ics_cluster_vms_new();
	svc->ops = (IcsClusterOps){
		.self = svc,
		.define_vm = ics_cluster_vm_define,
		.undefine_vm = ics_cluster_vm_undefine,
		.start_vm = ics_cluster_vm_start,
		.stop_vm = ics_cluster_vm_stop,
		.migrate_vm = ics_cluster_vm_migrate,
		.vm_status = ics_cluster_vm_status,
		.vm_view = ics_cluster_vm_view,
		.vm_view_get = ics_cluster_vm_view_get,
		.vm_view_release = ics_cluster_vm_view_release,
		.reboot_vm = ics_cluster_vm_reboot,
		.vm_console = ics_cluster_vm_console,
		.vm_vnc = ics_cluster_vm_vnc,
		.vm_serial = ics_cluster_vm_serial,
		.hosts = ics_cluster_hosts_json,
		.host = ics_cluster_host_json,
		.host_maintenance = ics_cluster_host_maintenance,
		.pools = ics_cluster_pools_json,
		.pool = ics_cluster_pool_json,
		.load = ics_cluster_load_json,
		.vms = ics_cluster_vms_json,
		.vm = ics_cluster_vm_json,
		.pool_vm_uuids = ics_cluster_pool_vm_uuids_json,
		.fence_history = ics_cluster_fence_history_json,
		.summary = ics_cluster_summary_json,
		.vm_lease = ics_cluster_vm_lease_json,
		.vm_backup = ics_cluster_vm_backup_json,
	};
	if (!connect_and_watch(svc, error)) {
		ics_cluster_service_free(svc);
		return NULL;
	}
	return svc;
}

const IcsClusterOps *ics_cluster_service_ops(IcsClusterService *svc)
{
	return &svc->ops;
}

void ics_cluster_service_close(IcsClusterService *svc)
{
	/* Fail the waits and the calls to come, then run the calls queued
	 * before (they see "closing"), so no thread is left waiting. */
	g_mutex_lock(&svc->lock);
	svc->closing = TRUE;
	g_cond_broadcast(&svc->changed);
	g_mutex_unlock(&svc->lock);
	while (g_main_context_iteration(NULL, FALSE))
		;
}

void ics_cluster_service_free(IcsClusterService *svc)
{
	if (svc == NULL)
		return;
	ics_cluster_service_close(svc);
	/* A status job refers to the service: its result is dropped
	 * (closing), but it must come back before the service goes. */
	while (svc->status_busy)
		g_main_context_iteration(NULL, TRUE);
	if (svc->refresh_source)
		g_source_remove(svc->refresh_source);
	if (svc->status_source)
		g_source_remove(svc->status_source);
	g_clear_pointer(&svc->status_next, xmlFreeDoc);
	if (svc->reconnect_source)
		g_source_remove(svc->reconnect_source);
	ics_cluster_free(svc->cluster);
	ics_snap_unref(svc->snap);
	g_clear_pointer(&svc->last_mon, xmlFreeDoc);
	g_free((char *)svc->cfg.stats_uri);
	g_mutex_clear(&svc->lock);
	g_cond_clear(&svc->changed);
	ics_cluster_vms_free(svc->vms);
	g_free(svc);
}
