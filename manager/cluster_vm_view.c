/*
 * cluster_vm_view.c: the VMs' runtime as the API shows it, for a whole page
 * at once.
 *
 * A view holds a reference on the current snapshot and answers for one
 * uuid in constant time (the snapshot's uuid index), so a page of 100 VMs
 * among 10,000 costs 100 hash look-ups and no lock of the service: the
 * snapshot is immutable while referenced.  The strings it gives are the
 * snapshot's, valid until the view is released.
 */
#include "config.h"

#include "cluster_service_internal.h"

/* The API's words for a VM's state (docs/openapi.yaml, Vm.runtime.state). */
const char *ics_cluster_vm_state_text(const IcsClusterVm *vm)
{
	switch (vm->state) {
	case ICS_VM_RUNNING:
		return vm->starting ? "starting" : "running";
	case ICS_VM_STOPPED:
		return "stopped";
	case ICS_VM_MIGRATING:
		return "migrating";
	case ICS_VM_FAILED:
		return "failed";
	case ICS_VM_MULTIPLE:
		break;
	}
	return "unknown";
}

gpointer ics_cluster_vm_view(void *self)
{
	return ics_cluster_service_snap(self, NULL);
}

void ics_cluster_vm_view_release(gpointer view)
{
	if (view)
		ics_snap_unref(view);
}

gboolean ics_cluster_vm_view_get(gpointer view, const char *uuid, IcsVmRuntime *out)
{
	const IcsSnapRef *ref = view;
	const IcsClusterVm *vm = ref ? ics_cluster_snapshot_vm_by_uuid(ref->snap, uuid) : NULL;

	if (vm == NULL)
		return FALSE;
	out->state = ics_cluster_vm_state_text(vm);
	out->host = vm->state == ICS_VM_STOPPED ? NULL : vm->node;
	out->pool = vm->pool;
	out->resource = vm->id;
	return TRUE;
}
