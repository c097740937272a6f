/*
 * ics/manager/vm_paths.h: whether a caller may name the host paths of a VM
 * definition (the field rules never-path, host-path and foreign-disk of
 * the authorization table; see vm_paths.c).
 */
#ifndef ICS_MANAGER_VM_PATHS_H
#define ICS_MANAGER_VM_PATHS_H

#include <glib.h>

#include "ics/manager/authz.h"
#include "ics/manager/store.h"
#include "ics/vmdef.h"

typedef struct {
	/* Where any holder of vm.write may point a VM: the cluster's pools and
	 * [security] vm_path_roots.  NULL-terminated; may be NULL. */
	const char *const *roots;
	/* The manager's state directory (never). */
	const char *state_dir;
} IcsVmPathPolicy;

/* Check the disks, CD-ROM, kernel and initrd of @vm for caller @p: FALSE
 * with PERMISSION naming the field, the path and the rule otherwise, and
 * the id of that rule in *failed_rule (may be NULL).  Takes a reader itself
 * (the caller holds neither the lock nor a reader). */
gboolean ics_vm_paths_check(IcsStore *store, const IcsVmPathPolicy *policy, const IcsPrincipal *p,
			    const IcsVmMeta *vm, const char **failed_rule, GError **error);

/* The never-path rule on one spelling of @path: under /dev, /proc, /sys,
 * /run, @pol->state_dir, a pool's .ics directory or a backup repository.
 * (Backup repositories are refused the same places, backup_repos.c.) */
gboolean ics_vm_path_never(const IcsVmPathPolicy *pol, const char *path);
/* @path is @dir or below it. */
gboolean ics_path_within(const char *path, const char *dir);

#endif /* ICS_MANAGER_VM_PATHS_H */
