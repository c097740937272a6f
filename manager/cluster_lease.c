/*
 * cluster_lease.c: who holds a VM's sanlock lease -- the vm_lease
 * operation of IcsClusterOps (the "lease" of GET /api/v1/vms/{uuid}).
 *
 * The lease's leader record is read from the pool directly, at the time
 * of the request, no sanlock daemon needed: the pool's metadata, then one
 * read of the slot at the offset the caller names (the VM definition's),
 * checked to be this VM's -- never a scan of the pool's slot records, so
 * the cost does not grow with the number of VMs.  The I/O happens after
 * the snapshot is released (the pool path and the node names copied out).
 * Its owner is a host id, which ICS makes the corosync node id, so the
 * name comes from the snapshot's nodes.  Where Pacemaker runs the VM and
 * who holds its lease are two facts from two sources: they agree unless
 * something is in progress (a start, a takeover waiting for fencing, a
 * lease left by a crashed host).
 */
#include "config.h"

#include <stdlib.h>

#include "ics/error.h"
#include "ics/lock.h"

#include "cluster_service_internal.h"

json_t *ics_cluster_vm_lease_json(void *self, const char *uuid, guint64 offset, GError **error)
{
	g_autofree char *path = NULL;
	g_autoptr(GHashTable) names =
		g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
	g_autoptr(IcsPool) pool = NULL;
	g_auto(IcsLeaseInfo) info = { 0 };
	const char *holder;

	{
		g_autoptr(IcsSnapRef) ref = ics_cluster_service_snap(self, error);
		const IcsClusterVm *vm;

		if (ref == NULL)
			return NULL;
		vm = ics_cluster_snapshot_vm_by_uuid(ref->snap, uuid);
		if (vm == NULL) {
			g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND,
				    "VM %s has no resource in the cluster", uuid);
			return NULL;
		}
		if (vm->pool == NULL) {
			g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND,
				    "VM %s is on no pool: it has no lease", uuid);
			return NULL;
		}
		path = g_strdup(vm->pool);
		for (guint i = 0; i < ref->snap->nodes->len; i++) {
			const IcsClusterNode *n = ref->snap->nodes->pdata[i];
			gint64 *id = g_new(gint64, 1);

			*id = n->id ? (gint64)g_ascii_strtoull(n->id, NULL, 10) : 0;
			g_hash_table_replace(names, id, g_strdup(n->name));
		}
	}
	if (offset == 0 || offset % ICS_LOCK_ALIGN != 0 || offset / ICS_LOCK_ALIGN > G_MAXUINT) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT,
			    "VM %s: lease offset %" G_GUINT64_FORMAT " is no slot's", uuid, offset);
		return NULL;
	}
	pool = ics_pool_open(path, NULL, error);
	if (pool == NULL ||
	    !ics_lease_inspect_slot(pool, uuid, (guint)(offset / ICS_LOCK_ALIGN), &info, error))
		return NULL;
	if (info.owner_host_id == 0)
		return json_pack("{s:n, s:I, s:I}", "holder", "slot", (json_int_t)info.slot,
				 "version", (json_int_t)info.lver);
	holder = g_hash_table_lookup(names, &(gint64){ (gint64)info.owner_host_id });
	return json_pack("{s:s?, s:I, s:I, s:I, s:I}", "holder", holder, "host_id",
			 (json_int_t)info.owner_host_id, "generation",
			 (json_int_t)info.owner_generation, "slot", (json_int_t)info.slot,
			 "version", (json_int_t)info.lver);
}
