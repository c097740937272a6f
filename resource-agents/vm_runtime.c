/*
 * vm_runtime.c: a VM's domain on one libvirtd (see vm_runtime.h).
 *
 * Domains are transient (virDomainCreateXML): the definition's truth is the
 * pool, never a libvirtd, so a host that crashed leaves no stale persistent
 * domain behind and the XML always matches the metadata.  Migration runs in
 * a thread so the caller can watch the job (virDomainGetJobInfo) and abort
 * it on the deadline; libvirt connections are thread-safe.
 */
#include "config.h"

#include <string.h>

#include <libvirt/virterror.h>

#include "ics/error.h"
#include "ocf.h"
#include "vm_runtime.h"

#define KEEPALIVE_INTERVAL_S 5
#define KEEPALIVE_COUNT 3
#define POLL_MS 200

static void quiet_error(void *data, virErrorPtr err)
{
	(void)data;
	(void)err;
}

static gpointer event_loop(gpointer data)
{
	(void)data;
	for (;;)
		virEventRunDefaultImpl();
	return NULL;
}

void vm_runtime_init(void)
{
	static gsize once = 0;

	if (g_once_init_enter(&once)) {
		virSetErrorFunc(NULL, quiet_error);
		if (virEventRegisterDefaultImpl() == 0)
			g_thread_unref(g_thread_new("libvirt-events", event_loop, NULL));
		g_once_init_leave(&once, 1);
	}
}

static const char *last_error(void)
{
	const char *m = virGetLastErrorMessage();

	return m && m[0] ? m : "unknown libvirt error";
}

virConnectPtr vm_connect(const char *uri, GError **error)
{
	virConnectPtr conn;

	vm_runtime_init();
	conn = virConnectOpen(uri);
	if (conn == NULL) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_UNAVAILABLE,
			    "cannot connect to libvirtd at %s: %s", uri, last_error());
		return NULL;
	}
	/* Drivers inside the process (test://) have no keepalive: nothing to lose. */
	if (!g_str_has_prefix(uri, "test:") &&
	    virConnectSetKeepAlive(conn, KEEPALIVE_INTERVAL_S, KEEPALIVE_COUNT) < 0)
		ocf_log(ICS_LOG_DEBUG, "no keepalive on %s: %s", uri, last_error());
	return conn;
}

gboolean vm_observe(virConnectPtr conn, const char *uuid, VmObservation *o, GError **error)
{
	virDomainPtr dom = virDomainLookupByUUIDString(conn, uuid);
	virErrorPtr err;

	o->present = FALSE;
	o->state = VIR_DOMAIN_NOSTATE;
	o->reason = 0;
	if (dom == NULL) {
		err = virGetLastError();
		if (err != NULL && err->code == VIR_ERR_NO_DOMAIN)
			return TRUE;
		g_set_error(error, ICS_ERROR, ICS_ERROR_UNAVAILABLE, "cannot look up domain %s: %s",
			    uuid, last_error());
		return FALSE;
	}
	if (virDomainGetState(dom, &o->state, &o->reason, 0) < 0) {
		err = virGetLastError();
		virDomainFree(dom);
		/* ended between lookup and state */
		if (err != NULL && err->code == VIR_ERR_NO_DOMAIN)
			return TRUE;
		g_set_error(error, ICS_ERROR, ICS_ERROR_UNAVAILABLE,
			    "cannot read the state of domain %s: %s", uuid, last_error());
		return FALSE;
	}
	o->present = TRUE;
	virDomainFree(dom);
	return TRUE;
}

static gboolean is_lock_error(void)
{
	virErrorPtr err = virGetLastError();

	if (err == NULL)
		return FALSE;
	if (err->code == VIR_ERR_RESOURCE_BUSY)
		return TRUE;
	return err->message != NULL &&
	       (strstr(err->message, "lock") != NULL || strstr(err->message, "-243") != NULL ||
		strstr(err->message, "sanlock") != NULL);
}

gboolean vm_domain_start(virConnectPtr conn, const char *xml, guint wait_ms, GError **error)
{
	virDomainPtr dom = virDomainCreateXML(conn, xml, 0);
	gint64 deadline = g_get_monotonic_time() + (gint64)wait_ms * G_TIME_SPAN_MILLISECOND;
	int state = VIR_DOMAIN_NOSTATE, reason = 0;

	if (dom == NULL) {
		g_set_error(error, ICS_ERROR, is_lock_error() ? ICS_ERROR_BUSY : ICS_ERROR_IO,
			    "libvirt refused to start the domain: %s", last_error());
		return FALSE;
	}
	for (;;) {
		if (virDomainGetState(dom, &state, &reason, 0) < 0) {
			g_set_error(error, ICS_ERROR, ICS_ERROR_IO,
				    "the domain ended right after its start: %s", last_error());
			virDomainFree(dom);
			return FALSE;
		}
		if (state == VIR_DOMAIN_RUNNING || state == VIR_DOMAIN_BLOCKED)
			break;
		if (state == VIR_DOMAIN_SHUTOFF || state == VIR_DOMAIN_CRASHED) {
			g_set_error(error, ICS_ERROR, ICS_ERROR_IO,
				    "the domain stopped right after its start (state %d reason %d)",
				    state, reason);
			virDomainFree(dom);
			return FALSE;
		}
		if (g_get_monotonic_time() >= deadline) {
			g_set_error(error, ICS_ERROR, ICS_ERROR_TIMEOUT,
				    "the domain does not run after %u ms (state %d reason %d)",
				    wait_ms, state, reason);
			virDomainFree(dom);
			return FALSE;
		}
		g_usleep(POLL_MS * G_TIME_SPAN_MILLISECOND);
	}
	virDomainFree(dom);
	return TRUE;
}

/* Is the domain gone or shut off? */
static gboolean domain_ended(virConnectPtr conn, const char *uuid)
{
	VmObservation o = { 0 };

	if (!vm_observe(conn, uuid, &o, NULL))
		return FALSE;
	return !o.present || o.state == VIR_DOMAIN_SHUTOFF;
}

gboolean vm_domain_stop(virConnectPtr conn, const char *uuid, guint wait_ms, gboolean *forced,
			GError **error)
{
	virDomainPtr dom = virDomainLookupByUUIDString(conn, uuid);
	gint64 deadline = g_get_monotonic_time() + (gint64)wait_ms * G_TIME_SPAN_MILLISECOND;
	virErrorPtr err;

	*forced = FALSE;
	if (dom == NULL) {
		err = virGetLastError();
		if (err != NULL && err->code == VIR_ERR_NO_DOMAIN)
			return TRUE;
		g_set_error(error, ICS_ERROR, ICS_ERROR_UNAVAILABLE, "cannot look up domain %s: %s",
			    uuid, last_error());
		return FALSE;
	}
	/* A guest without ACPI (or already stopping) refuses: destroy decides. */
	if (wait_ms > 0 && virDomainShutdown(dom) == 0) {
		while (g_get_monotonic_time() < deadline) {
			if (domain_ended(conn, uuid)) {
				virDomainFree(dom);
				return TRUE;
			}
			g_usleep(POLL_MS * G_TIME_SPAN_MILLISECOND);
		}
	}
	if (domain_ended(conn, uuid)) {
		virDomainFree(dom);
		return TRUE;
	}
	*forced = TRUE;
	if (virDomainDestroy(dom) < 0) {
		err = virGetLastError();
		if (!(err != NULL && err->code == VIR_ERR_NO_DOMAIN) &&
		    !(err != NULL && err->code == VIR_ERR_OPERATION_INVALID)) {
			g_set_error(error, ICS_ERROR, ICS_ERROR_IO, "cannot destroy domain %s: %s",
				    uuid, last_error());
			virDomainFree(dom);
			return FALSE;
		}
	}
	virDomainFree(dom);
	if (!domain_ended(conn, uuid)) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_IO, "domain %s still runs after destroy",
			    uuid);
		return FALSE;
	}
	return TRUE;
}

/* ---- migration -------------------------------------------------------- */

typedef struct {
	virDomainPtr dom;
	const VmMigrateOptions *opts;
	int rc;
	char *error;
	gint done;
} MigrateJob;

static gpointer migrate_thread(gpointer data)
{
	MigrateJob *job = data;
	virTypedParameterPtr params = NULL;
	int nparams = 0, maxparams = 0;
	unsigned int flags = VIR_MIGRATE_LIVE | VIR_MIGRATE_PEER2PEER;

	if (job->opts->unsafe)
		flags |= VIR_MIGRATE_UNSAFE;
	if (job->opts->bandwidth_mibps)
		virTypedParamsAddULLong(&params, &nparams, &maxparams, VIR_MIGRATE_PARAM_BANDWIDTH,
					job->opts->bandwidth_mibps);
	job->rc = virDomainMigrateToURI3(job->dom, job->opts->dest_uri, params, (unsigned)nparams,
					 flags);
	if (job->rc < 0)
		job->error = g_strdup(last_error());
	virTypedParamsFree(params, nparams);
	g_atomic_int_set(&job->done, 1);
	return NULL;
}

/* QEMU's own account of a finished incoming migration, on the destination
 * (the source's domain is gone by then): the downtime the issue targets. */
void vm_runtime_log_migration_stats(virConnectPtr conn, const char *uuid)
{
	virTypedParameterPtr params = NULL;
	int nparams = 0, type = 0;
	unsigned long long downtime = 0, elapsed = 0, total = 0;
	virDomainPtr dom = virDomainLookupByUUIDString(conn, uuid);

	if (dom == NULL || virDomainGetJobStats(dom, &type, &params, &nparams,
						VIR_DOMAIN_JOB_STATS_COMPLETED) < 0) {
		ocf_log(ICS_LOG_INFO, "migrated %s (QEMU's statistics unavailable: %s)", uuid,
			last_error());
		if (dom != NULL)
			virDomainFree(dom);
		return;
	}
	virDomainFree(dom);
	virTypedParamsGetULLong(params, nparams, VIR_DOMAIN_JOB_DOWNTIME, &downtime);
	virTypedParamsGetULLong(params, nparams, VIR_DOMAIN_JOB_TIME_ELAPSED, &elapsed);
	virTypedParamsGetULLong(params, nparams, VIR_DOMAIN_JOB_DATA_TOTAL, &total);
	ocf_log(ICS_LOG_NOTICE, "migrated %s: %llu ms, downtime %llu ms, %llu MiB", uuid, elapsed,
		downtime, total / (1024 * 1024));
	virTypedParamsFree(params, nparams);
}

gboolean vm_domain_migrate(virConnectPtr conn, const char *uuid, const VmMigrateOptions *opts,
			   GError **error)
{
	MigrateJob job = { .opts = opts };
	GThread *thread;
	gint64 start = g_get_monotonic_time();
	gint64 abort_at = start + (gint64)opts->abort_after_ms * G_TIME_SPAN_MILLISECOND;
	gint64 next_report = start + G_TIME_SPAN_SECOND;
	gboolean aborted = FALSE;

	job.dom = virDomainLookupByUUIDString(conn, uuid);
	if (job.dom == NULL) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND,
			    "domain %s does not run on this node: %s", uuid, last_error());
		return FALSE;
	}
	/* Applies to the next migration job of this domain. */
	if (opts->max_downtime_ms &&
	    virDomainMigrateSetMaxDowntime(job.dom, opts->max_downtime_ms, 0) < 0)
		ocf_log(ICS_LOG_WARNING, "cannot set the max downtime of %s to %u ms: %s", uuid,
			opts->max_downtime_ms, last_error());
	thread = g_thread_new("migrate", migrate_thread, &job);
	while (!g_atomic_int_get(&job.done)) {
		gint64 now = g_get_monotonic_time();

		if (!aborted && now >= abort_at) {
			aborted = TRUE;
			if (virDomainAbortJob(job.dom) < 0)
				ocf_log(ICS_LOG_WARNING, "cannot abort the migration of %s: %s",
					uuid, last_error());
		}
		if (now >= next_report && opts->progress) {
			virDomainJobInfo info;

			if (virDomainGetJobInfo(job.dom, &info) == 0 &&
			    info.type != VIR_DOMAIN_JOB_NONE) {
				g_autofree char *line = vm_migration_progress(
					uuid, info.dataProcessed, info.dataRemaining,
					info.dataTotal, (guint64)((now - start) / 1000));

				opts->progress(line, opts->progress_data);
			}
			next_report += G_TIME_SPAN_SECOND;
		}
		g_usleep(100 * G_TIME_SPAN_MILLISECOND);
	}
	g_thread_join(thread);
	virDomainFree(job.dom);
	if (job.rc == 0)
		return TRUE;
	if (aborted)
		g_set_error(error, ICS_ERROR, ICS_ERROR_TIMEOUT,
			    "migration cancelled after %u ms, the VM keeps running on this node "
			    "(%s)",
			    opts->abort_after_ms, job.error);
	else
		g_set_error(error, ICS_ERROR, ICS_ERROR_IO, "migration failed: %s", job.error);
	g_free(job.error);
	return FALSE;
}
