/*
 * cluster_service_internal.h: what cluster_service.c (the bridge to the
 * adapter: connection, snapshots, calls, waits) shares with the files of
 * the operations: cluster_vms.c (VMs), cluster_vm_view.c (VMs' runtime for
 * a page), cluster_hosts.c (hosts, pools, maintenance), cluster_load.c
 * (DRS), cluster_summary.c (the cluster at a glance), cluster_lease.c (a
 * VM's lease holder).  Internal to manager/.
 */
#ifndef ICS_MANAGER_CLUSTER_SERVICE_INTERNAL_H
#define ICS_MANAGER_CLUSTER_SERVICE_INTERNAL_H

#include "ics/manager/cluster_service.h"

/* A snapshot shared by the service and its readers. */
typedef struct {
	gint refs;
	IcsClusterSnapshot *snap;
} IcsSnapRef;

/* The current snapshot, referenced (NULL with UNAVAILABLE when there is
 * none yet); release with ics_snap_unref(). */
IcsSnapRef *ics_cluster_service_snap(IcsClusterService *svc, GError **error);
void ics_snap_unref(IcsSnapRef *ref);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(IcsSnapRef, ics_snap_unref)

/* What a change notification of the CIB manager does (on the main-context
 * thread): for tests, whose CIB file sends none. */
void ics_cluster_service_heard(IcsClusterService *svc, IcsClusterChange what);
/* Tests: @fn runs on the worker thread before each status job (crm_mon) of
 * a heard change, so a test can hold one back.  Set before the first. */
void ics_cluster_service_set_status_job_hook(IcsClusterService *svc, void (*fn)(void *data),
					     void *data);

/* Run @fn with the adapter's connection on the main-context thread and
 * wait for it. */
typedef gboolean (*IcsClusterCall)(IcsCluster *cluster, void *data, GError **error);
gboolean ics_cluster_service_call(IcsClusterService *svc, IcsClusterCall fn, void *data,
				  GError **error);

/* What a wait's check says of one snapshot. */
typedef enum {
	ICS_WAIT_MORE,
	ICS_WAIT_DONE,
	ICS_WAIT_FAILED, /* @error set */
} IcsWaitResult;
typedef IcsWaitResult (*IcsWaitCheck)(const IcsClusterSnapshot *snap, void *data, GError **error);

/* Evaluate @check on every new snapshot until DONE or FAILED, @cancelled,
 * or the service's timeout (TIMEOUT, the message from @what). */
gboolean ics_cluster_service_wait(IcsClusterService *svc, IcsWaitCheck check, void *data,
				  const volatile gint *cancelled, const char *what, GError **error);

const IcsClusterServiceConfig *ics_cluster_service_config(IcsClusterService *svc);

/* The generation of the current snapshot; wait until a newer one arrives
 * or @deadline_us (monotonic) passes -- FALSE when the service is closing. */
guint64 ics_cluster_service_generation(IcsClusterService *svc);
gboolean ics_cluster_service_wait_newer(IcsClusterService *svc, guint64 generation,
					gint64 deadline_us);

/* cluster_vms.c: the VM operations of IcsClusterOps and their state (the
 * group commit of definitions), owned by the service. */
typedef struct IcsClusterVms IcsClusterVms;
IcsClusterVms *ics_cluster_vms_new(void);
void ics_cluster_vms_free(IcsClusterVms *vms);
IcsClusterVms *ics_cluster_service_vms(IcsClusterService *svc);
gboolean ics_cluster_vm_define(void *self, const IcsVmMeta *vm, GError **error);
gboolean ics_cluster_vm_undefine(void *self, const char *uuid, GError **error);
gboolean ics_cluster_vm_start(void *self, const char *uuid, const volatile gint *cancelled,
			      GError **error);
gboolean ics_cluster_vm_stop(void *self, const char *uuid, gboolean force,
			     const volatile gint *cancelled, GError **error);
gboolean ics_cluster_vm_migrate(void *self, const char *uuid, const char *target_host,
				IcsClusterProgressFn progress, void *progress_data,
				const volatile gint *cancelled, GError **error);
gboolean ics_cluster_vm_status(void *self, const char *uuid, char **state, char **host,
			       GError **error);
gboolean ics_cluster_vm_reboot(void *self, const char *uuid, GError **error);
json_t *ics_cluster_vm_console(void *self, const char *uuid, GError **error);
gboolean ics_cluster_vm_vnc(void *self, const char *uuid, IcsVncEndpoint *out, GError **error);
int ics_cluster_vm_serial(void *self, const char *uuid, char **host, GError **error);
json_t *ics_cluster_vms_json(void *self, GError **error);
json_t *ics_cluster_vm_json(void *self, const char *uuid, GError **error);
json_t *ics_cluster_pool_vm_uuids_json(void *self, GError **error);

/* cluster_vm_view.c: many VMs' runtime from one snapshot. */
const char *ics_cluster_vm_state_text(const IcsClusterVm *vm);
gpointer ics_cluster_vm_view(void *self);
gboolean ics_cluster_vm_view_get(gpointer view, const char *uuid, IcsVmRuntime *out);
void ics_cluster_vm_view_release(gpointer view);

/* cluster_hosts.c: the host and pool operations of IcsClusterOps. */
json_t *ics_cluster_hosts_json(void *self, GError **error);
json_t *ics_cluster_host_json(void *self, const char *name, GError **error);
gboolean ics_cluster_host_maintenance(void *self, const char *name, gboolean enter,
				      IcsClusterProgressFn progress, void *progress_data,
				      const volatile gint *cancelled, GError **error);
json_t *ics_cluster_pools_json(void *self, GError **error);
json_t *ics_cluster_pool_json(void *self, const char *name, GError **error);
json_t *ics_cluster_fence_history_json(void *self, const char *name, GError **error);

/* cluster_lease.c: the vm_lease operation of IcsClusterOps. */
json_t *ics_cluster_vm_lease_json(void *self, const char *uuid, guint64 offset, GError **error);

/* cluster_backup.c: the vm_backup operation of IcsClusterOps. */
json_t *ics_cluster_vm_backup_json(void *self, const char *uuid, IcsBackupRepo *repo,
				   const IcsBackupRunOptions *opts, GError **error);

/* cluster_summary.c: the summary operation of IcsClusterOps. */
json_t *ics_cluster_summary_json(void *self, GError **error);

/* cluster_load.c: the load operation of IcsClusterOps (DRS). */
json_t *ics_cluster_load_json(void *self, GError **error);

/* The path of @pool as its primitive's "path" parameter says, or NULL. */
const char *ics_cluster_pool_path(const IcsClusterPool *pool);

#endif /* ICS_MANAGER_CLUSTER_SERVICE_INTERNAL_H */
