/*
 * cluster_backup.c: the vm_backup operation of IcsClusterOps -- where a
 * VM's backup runs, decided from one snapshot of the cluster.
 *
 * Running (its start finished): through the libvirtd of its node
 * (node_backup.c).  Stopped: its disks are copied here, which the shared
 * pool allows, under the VM's lease (stopped_backup.c: it cannot start
 * meanwhile, and a VM that runs after all refuses the backup); the state
 * is read again afterwards, and a VM that started meanwhile (possible
 * only when the lease could not be taken and the images were read
 * without it) fails the task and its backup is not kept.  Starting, migrating, failed or active
 * twice: CONFLICT, try again when it has settled.  The definition comes
 * from the VM's pool, the source of truth, not from the inventory.
 */
#include "config.h"

#include "ics/error.h"

#include "cluster_service_internal.h"

typedef struct {
	IcsVmState state;
	gboolean starting;
	char *node;
	char *pool;
} VmWhere;

static void where_clear(VmWhere *w)
{
	g_free(w->node);
	g_free(w->pool);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(VmWhere, where_clear)

static gboolean locate(IcsClusterService *svc, const char *uuid, VmWhere *w, GError **error)
{
	g_autoptr(IcsSnapRef) ref = ics_cluster_service_snap(svc, error);
	const IcsClusterVm *vm;

	if (ref == NULL)
		return FALSE;
	vm = ics_cluster_snapshot_vm_by_uuid(ref->snap, uuid);
	if (vm == NULL) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND,
			    "VM %s has no resource in the cluster", uuid);
		return FALSE;
	}
	if (vm->pool == NULL) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
			    "VM %s: its primitive names no pool (parameter pool)", uuid);
		return FALSE;
	}
	w->state = vm->state;
	w->starting = vm->starting;
	w->node = g_strdup(vm->node);
	w->pool = g_strdup(vm->pool);
	return TRUE;
}

json_t *ics_cluster_vm_backup_json(void *self, const char *uuid, IcsBackupRepo *repo,
				   const IcsBackupRunOptions *opts, GError **error)
{
	IcsClusterService *svc = self;
	const char *cfg_uri = ics_cluster_service_config(svc)->stats_uri;
	g_auto(VmWhere) w = { 0 };
	g_autoptr(IcsVmMeta) vm = NULL;
	g_autoptr(IcsBackupManifest) m = NULL;
	IcsBackupRunOptions o = *opts;
	json_t *out;

	if (!locate(svc, uuid, &w, error))
		return NULL;
	vm = ics_vm_store_load(w.pool, uuid, error);
	if (vm == NULL)
		return NULL;
	o.pool_path = w.pool;
	if (w.state == ICS_VM_RUNNING && !w.starting) {
		m = ics_cluster_node_backup(w.node, cfg_uri, uuid, repo, vm, &o, error);
	} else if (w.state == ICS_VM_STOPPED) {
		g_auto(VmWhere) after = { 0 };

		m = ics_backup_run_stopped(repo, vm, &o, error);
		if (m != NULL && (!locate(svc, uuid, &after, error) ||
				  after.state != ICS_VM_STOPPED)) {
			g_autoptr(GError) err = NULL;

			if (!ics_backup_discard(repo, m, &err))
				g_warning("backup %s: %s", m->id, err->message);
			if (error && *error == NULL)
				g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
					    "VM %s started while its disks were copied: the copy "
					    "is not kept; back it up again",
					    vm->name);
			return NULL;
		}
	} else {
		g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
			    "VM %s is %s: back it up when it has settled", vm->name,
			    w.starting			      ? "starting"
			    : w.state == ICS_VM_MIGRATING ? "migrating"
			    : w.state == ICS_VM_FAILED    ? "failed"
							  : "active on several nodes");
		return NULL;
	}
	if (m == NULL)
		return NULL;
	out = ics_backup_manifest_to_json(m);
	json_object_del(out, "definition");
	return out;
}
