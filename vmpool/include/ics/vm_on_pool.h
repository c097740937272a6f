/*
 * ics/vm_on_pool.h: what a VM leaves on its pool -- a lease slot and its
 * definition files -- made and removed in one place for ics-admin and
 * ics-managerd (libicsvmpool, over libicsvmdef and libicslock).
 *
 * A VM on a pool needs a sanlock lease (docs/vm-definition.md): its slot
 * is allocated first, the "lease" member of the definition is written from
 * it, and only then is the definition validated against the pool and saved
 * under <pool>/.ics/vms/<uuid>/.  Both steps are idempotent for the same
 * uuid (the slot allocator returns an owner's existing slot, the store
 * replaces files atomically), so redefining a VM updates it in place.
 */
#ifndef ICS_VM_ON_POOL_H
#define ICS_VM_ON_POOL_H

#include <glib.h>
#include <jansson.h>

#include "ics/lock.h"
#include "ics/vmdef.h"

/*
 * Allocate (or find) the lease slot of the VM @definition describes (a
 * vm.json object with its uuid; any "lease" member is replaced), validate
 * it against @pool and save it there.  @slot_new (may be NULL) is set when
 * this call allocated the slot: the caller that must undo a later step
 * releases it.  On failure nothing is left behind (a new slot is freed).
 * Returns the saved, normalised metadata.
 */
IcsVmMeta *ics_vm_pool_save(IcsPool *pool, const json_t *definition, gboolean *slot_new,
			    GError **error);

/*
 * Remove the VM @uuid from @pool: its definition, then (when
 * @release_slot) its lease slot.  Absent parts are fine.  The slot is
 * refused (BUSY) while a host holds the lease: stop the VM first.
 */
gboolean ics_vm_pool_remove(IcsPool *pool, const char *uuid, gboolean release_slot, GError **error);

/* TRUE when @path is on a cluster or network filesystem (GFS2, OCFS2, NFS,
 * Ceph, SMB), where libvirt live-migrates without VIR_MIGRATE_UNSAFE. */
gboolean ics_pool_is_cluster_fs(const char *path);

#endif /* ICS_VM_ON_POOL_H */
