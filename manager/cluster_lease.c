/*
 * cluster_lease.c: who holds a VM's sanlock lease -- the vm_lease
 * operation of IcsClusterOps (the "lease" of GET /api/v1/vms/{uuid}).
 *
 * The lease's leader record is read from the pool directly
 * (ics_lease_inspect: one read of the slot the VM's uuid owns, no sanlock
 * daemon needed), at the time of the request.  Its owner is a host id,
 * which ICS makes the corosync node id, so the name comes from the
 * current snapshot's nodes.  Where Pacemaker runs the VM and who holds
 * its lease are two facts from two sources: the page shows both, and they
 * agree unless something is wrong (a start in progress, a takeover
 * waiting for fencing, a lease left by a crashed host).
 */
#include "config.h"

#include <stdlib.h>

#include "ics/error.h"
#include "ics/lock.h"

#include "cluster_service_internal.h"

json_t *ics_cluster_vm_lease_json(void *self, const char *uuid, GError **error)
{
	g_autofree char *path = NULL, *holder = NULL;
	g_autoptr(IcsPool) pool = NULL;
	g_auto(IcsLeaseInfo) info = { 0 };

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
		pool = ics_pool_open(path, NULL, error);
		if (pool == NULL || !ics_lease_inspect(pool, uuid, &info, error))
			return NULL;
		for (guint i = 0; info.owner_host_id && i < ref->snap->nodes->len; i++) {
			const IcsClusterNode *n = ref->snap->nodes->pdata[i];

			if (n->id && g_ascii_strtoull(n->id, NULL, 10) == info.owner_host_id)
				holder = g_strdup(n->name);
		}
	}
	if (info.owner_host_id == 0)
		return json_pack("{s:n, s:I, s:I}", "holder", "slot", (json_int_t)info.slot,
				 "version", (json_int_t)info.lver);
	return json_pack("{s:s?, s:I, s:I, s:I, s:I}", "holder", holder, "host_id",
			 (json_int_t)info.owner_host_id, "generation",
			 (json_int_t)info.owner_generation, "slot", (json_int_t)info.slot,
			 "version", (json_int_t)info.lver);
}
