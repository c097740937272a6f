/*
 * ics/manager/vm_runtime_events.h: the cluster's view of VMs as events.
 *
 * When Pacemaker starts, stops, moves or fails a VM, the cluster service
 * notices it between two CIB snapshots (ics_cluster_service_set_vm_listener)
 * on its main-context thread, which must not wait for the database.  This
 * module takes each change to one worker thread, looks up the VM's owner
 * on a read-only connection (so the event obeys the same ownership rules as
 * the VM) and publishes "vm.state" with {"uuid", "state", "host",
 * "previous_state", "previous_host"}.  A VM unknown to the inventory (made
 * with `ics-admin vm define`) is published with no owner: visible to
 * callers who may read every VM.
 */
#ifndef ICS_MANAGER_VM_RUNTIME_EVENTS_H
#define ICS_MANAGER_VM_RUNTIME_EVENTS_H

#include <glib.h>

#include "ics/manager/events.h"
#include "ics/manager/store.h"

typedef struct IcsVmRuntimeEvents IcsVmRuntimeEvents;

IcsVmRuntimeEvents *ics_vm_runtime_events_new(IcsStore *store, IcsEvents *events);
/* An IcsClusterVmChangedFn: queue the change (never blocks on the DB). */
void ics_vm_runtime_events_changed(void *self, const char *uuid, const char *state,
				   const char *host, const char *old_state, const char *old_host);
/* Publish what is queued, then free. */
void ics_vm_runtime_events_free(IcsVmRuntimeEvents *rt);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(IcsVmRuntimeEvents, ics_vm_runtime_events_free)

#endif /* ICS_MANAGER_VM_RUNTIME_EVENTS_H */
