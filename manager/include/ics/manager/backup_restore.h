/*
 * ics/manager/backup_restore.h: restoring a VM's backup through the manager
 * (backup_restore.c) -- to a new VM, over the disks of the stopped VM, or
 * one disk to a new volume on a pool.
 *
 * A restore is a task of kind vm.restore whose object is the backed-up VM
 * (which may no longer exist).  What the request asks is checked when it
 * is made (ics_backup_restore_plan: the backup, its disks, the target
 * pool, names, the caller's permissions, the VM's state) and again by the
 * task, which does the work:
 *
 *   new-vm    each disk restored to <pool>/<name>-<target>.<format>, then
 *             a VM created from the backed-up definition with a new name
 *             and uuid (MACs derived from the new uuid, a new lease, only
 *             the restored disks), owned by the caller, stopped.  On any
 *             failure the restored files are removed.
 *   in-place  the VM is stopped; each disk restored beside the current one
 *             under a hidden name, the VM's state read again, then each
 *             renamed over its disk.  Its changed-block tracking starts
 *             again: the next backup is full and says why.
 *   volume    one disk restored to <pool>/<name>, a volume.
 *
 * Every restore verifies the backup's checksums first and never writes
 * over a file that exists, except the VM's own disks in place -- and not
 * those another VM also has as a disk.  A restore hands over the VM's
 * data and definition: the caller needs backup.run and vm.read on the VM
 * (on every VM when the VM is gone), checked again, with the caller's
 * permissions as they are then (a disabled account restores nothing),
 * when the task runs.  While an in-place restore is queued or running the
 * VM is not started through the API, and it is not begun while a power
 * operation of the VM is; right before the renames the VM's state and
 * disk paths are read again.
 */
#ifndef ICS_MANAGER_BACKUP_RESTORE_H
#define ICS_MANAGER_BACKUP_RESTORE_H

#include <glib.h>
#include <jansson.h>

#include "ics/manager/authz.h"
#include "ics/manager/manager.h"

/* Check @body ({"repository", "to", "name", "pool", "disks"}, its schema
 * checked) for a restore of backup @backup_id of VM @uuid by @p; the
 * task's params, and in @owner the task's owner (the VM's owner in place,
 * the caller otherwise).  @vm_owner is the VM's owner (0 when the VM is
 * gone or has none).  Takes readers itself; call outside a transaction. */
json_t *ics_backup_restore_plan(IcsManager *m, const IcsPrincipal *p, const char *uuid,
				gint64 vm_owner, const char *backup_id, const json_t *body,
				gint64 *owner, GError **error);

/* Register the task kind vm.restore (params from ics_backup_restore_plan);
 * its result says what was restored where: {"to", "backup", "disks":
 * [target...], "vm": {uuid, name} | "volume": {pool, name},
 * "not_restored": [target...]}. */
void ics_backup_restore_tasks_register(IcsManager *m);

#endif /* ICS_MANAGER_BACKUP_RESTORE_H */
