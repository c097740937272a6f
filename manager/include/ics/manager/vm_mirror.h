/*
 * ics/manager/vm_mirror.h: the manager's inventory follows the cluster.
 *
 * The cluster is the truth about which VMs exist: a VM is an ocf:ics:vm
 * primitive in the CIB with its definition on its pool, whoever made it
 * (the API, `ics-admin vm`, crm, pcs, cibadmin).  The mirror keeps the
 * inventory in step, so the API, its authorization and its events see every
 * VM of the cluster:
 *
 *  - a VM the cluster has and the inventory lacks is adopted: a row with
 *    its definition and no owner -- visible to callers who may read every
 *    VM (administrators, readonly) until an administrator gives it an
 *    owner;
 *  - a VM gone from the cluster loses its row;
 *  - a definition changed on the pool updates the row (the cluster wins);
 *  - a VM whose definition is missing or invalid, or one defined on a pool
 *    without a primitive, or a second VM of a name already used, gets a
 *    row marked broken with the reason (the API shows it, it never hides
 *    the others); it is mended as soon as the cause is.
 *
 * What drives it: the cluster service's VM changes (a primitive appeared or
 * went: that VM alone is looked at again, within a snapshot of the CIB
 * notification), a listing of the pools' definitions every half second,
 * however busy the queue (a definition that came or went without a CIB
 * change), a full pass at start,
 * and a full pass every period (for edits inside a definition on a pool).  Rows a manager without a
 * cluster adapter made, and VMs the write service is writing
 * (vm_service.h), are left alone.
 *
 * One worker thread does the mirroring and publishes, in the cluster's
 * order, "vm.created" / "vm.updated" / "vm.deleted" for what it changed and
 * "vm.state" {"uuid", "state", "host", "previous_state", "previous_host"}
 * for every change of a VM's state, with the VM's owner, so events obey the
 * same ownership rules as the VM.  The listener never blocks on the
 * database (it runs on the cluster service's main-context thread).
 */
#ifndef ICS_MANAGER_VM_MIRROR_H
#define ICS_MANAGER_VM_MIRROR_H

#include <glib.h>

#include "ics/manager/cluster_ops.h"
#include "ics/manager/events.h"
#include "ics/manager/store.h"
#include "ics/manager/vm_service.h"

typedef struct IcsVmMirror IcsVmMirror;

/* Start the worker; a full pass runs first, then every @period_s (0: no
 * periodic pass).  @cluster may be NULL (events only, no mirroring). */
IcsVmMirror *ics_vm_mirror_new(IcsStore *store, IcsEvents *events, const IcsClusterOps *cluster,
			       IcsVmService *writes, guint period_s);
/* An IcsClusterVmChangedFn: queue the change (never blocks on the DB). */
void ics_vm_mirror_changed(void *self, const char *uuid, const char *state, const char *host,
			   const char *old_state, const char *old_host);
/* Queue a full pass. */
void ics_vm_mirror_resync(IcsVmMirror *mirror);
/* Wait until everything queued before this call is done (tests). */
void ics_vm_mirror_flush(IcsVmMirror *mirror);
/* Finish what is queued, then stop and free. */
void ics_vm_mirror_free(IcsVmMirror *mirror);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(IcsVmMirror, ics_vm_mirror_free)

#endif /* ICS_MANAGER_VM_MIRROR_H */
