/*
 * vm_paths.c: where a VM definition may point on the hosts.
 *
 * A VM definition names host files -- disks, a CD-ROM, a kernel and initrd
 * -- that QEMU opens as root on whichever node runs the VM.  vmdef checks
 * that they are normalised absolute paths; this file decides, for the
 * caller, whether it may name them at all, applying three field rules of
 * the authorization table (authz_rules.c):
 *   never-path    /dev, /proc, /sys, /run, the manager's state directory,
 *                 any pool's .ics directory (leases, definitions) and any
 *                 backup repository (a directory above holds its
 *                 ics-backup-repository.json) are refused to everyone,
 *                 administrators included;
 *   host-path     a path outside the roots -- the cluster's pools and
 *                 [security] vm_path_roots -- needs vm.host_path (held by
 *                 administrators): host paths are an administrator's
 *                 business;
 *   foreign-disk  a disk another VM already uses is refused to a caller
 *                 who cannot see that VM (a vm_manager attaching another
 *                 tenant's disk).
 * Paths are judged as written and, when the file exists here, once more
 * after resolving symbolic links, so a link under a pool cannot lead
 * outside it.  The checks read the inventory on a reader of their own.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "ics/backup.h"
#include "ics/error.h"
#include "ics/manager/authz.h"
#include "ics/manager/vm_paths.h"

static const char *const never_prefixes[] = { "/dev", "/proc", "/sys", "/run", NULL };

/* @path equals @dir or lies below it (both normalised, absolute). */
gboolean ics_path_within(const char *path, const char *dir)
{
	gsize n = strlen(dir);

	while (n > 1 && dir[n - 1] == '/')
		n--;
	if (n == 1 && dir[0] == '/')
		return TRUE;
	return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

static gboolean has_component(const char *path, const char *name)
{
	g_auto(GStrv) parts = g_strsplit(path, "/", -1);

	return g_strv_contains((const char *const *)parts, name);
}

/* @path lies in a backup repository (a directory above it holds the
 * repository's file): its images are backups, not disks. */
static gboolean in_a_repository(const char *path)
{
	g_autofree char *dir = g_path_get_dirname(path);

	while (strcmp(dir, "/") != 0 && strcmp(dir, ".") != 0) {
		g_autofree char *f = g_build_filename(dir, ICS_BACKUP_REPO_FILE, NULL);
		char *up;

		if (g_file_test(f, G_FILE_TEST_EXISTS))
			return TRUE;
		up = g_path_get_dirname(dir);
		g_free(dir);
		dir = up;
	}
	return FALSE;
}

gboolean ics_vm_path_never(const IcsVmPathPolicy *pol, const char *path)
{
	for (guint i = 0; never_prefixes[i]; i++)
		if (ics_path_within(path, never_prefixes[i]))
			return TRUE;
	if (pol->state_dir && ics_path_within(path, pol->state_dir))
		return TRUE;
	return has_component(path, ".ics") || in_a_repository(path);
}

static gboolean under_a_root(const IcsVmPathPolicy *pol, const char *path)
{
	for (guint i = 0; pol->roots && pol->roots[i]; i++)
		if (ics_path_within(path, pol->roots[i]) && strcmp(path, pol->roots[i]) != 0)
			return TRUE;
	return FALSE;
}

static gboolean check_one(const IcsVmPathPolicy *pol, const IcsPrincipal *p, const char *vm,
			  const char *field, const char *path, const char **rule, GError **error)
{
	char resolved[PATH_MAX];
	const char *spellings[2] = { path, NULL };
	g_autofree char *what = NULL;

	if (realpath(path, resolved) != NULL && strcmp(resolved, path) != 0)
		spellings[1] = resolved;
	for (guint i = 0; i < 2 && spellings[i]; i++) {
		g_free(what);
		what = g_strdup_printf("VM \"%s\": %s \"%s\"%s%s%s", vm, field, path,
				       i ? " (a link to " : "", i ? spellings[i] : "",
				       i ? ")" : "");
		*rule = "never-path";
		if (ics_vm_path_never(pol, spellings[i]))
			return ics_field_rule_check(p, *rule, what, error);
		*rule = "host-path";
		if (!under_a_root(pol, spellings[i]) &&
		    !ics_field_rule_check(p, *rule, what, error))
			return FALSE;
	}
	return TRUE;
}

/* foreign-disk: the VMs other than @uuid whose definition uses @path as a
 * disk, and whether @p may see each. */
static gboolean foreign_disk(IcsStore *store, const IcsPrincipal *p, const char *uuid,
			     const char *vm, const char *field, const char *path, GError **error)
{
	g_autoptr(IcsStmt) st =
		ics_store_stmt(store,
			       "SELECT v.owner_id FROM vms v, json_each(v.definition, '$.disks') d"
			       " WHERE json_extract(d.value, '$.path') = ?1 AND v.uuid != ?2",
			       error);
	int rc;

	if (st == NULL)
		return FALSE;
	ics_stmt_bind_text(st, 1, path);
	ics_stmt_bind_text(st, 2, uuid);
	while ((rc = ics_stmt_step(st, error)) == SQLITE_ROW) {
		if (!ics_principal_can_on(p, "vm.read", sqlite3_column_int64(st, 0))) {
			g_autofree char *what =
				g_strdup_printf("VM \"%s\": %s \"%s\"", vm, field, path);

			return ics_field_rule_check(p, "foreign-disk", what, error);
		}
	}
	return rc == SQLITE_DONE;
}

gboolean ics_vm_paths_check(IcsStore *store, const IcsVmPathPolicy *pol, const IcsPrincipal *p,
			    const IcsVmMeta *vm, const char **failed_rule, GError **error)
{
	gboolean sees_all = ics_principal_scope(p, "vm.read") == ICS_SCOPE_ALL;
	const char *unused, **rule = failed_rule ? failed_rule : &unused;
	gboolean ok = TRUE;

	for (guint i = 0; ok && vm->disks && i < vm->disks->len; i++) {
		const IcsVmDisk *d = g_ptr_array_index(vm->disks, i);
		g_autofree char *field = g_strdup_printf("disks[%u].path", i);

		ok = check_one(pol, p, vm->name, field, d->path, rule, error);
	}
	if (ok && vm->cdrom)
		ok = check_one(pol, p, vm->name, "cdrom", vm->cdrom, rule, error);
	if (ok && vm->kernel_path)
		ok = check_one(pol, p, vm->name, "kernel.path", vm->kernel_path, rule, error);
	if (ok && vm->kernel_initrd)
		ok = check_one(pol, p, vm->name, "kernel.initrd", vm->kernel_initrd, rule, error);
	if (!ok || sees_all || vm->disks == NULL || vm->disks->len == 0)
		return ok;
	*rule = "foreign-disk";
	ics_store_read_begin(store);
	for (guint i = 0; ok && i < vm->disks->len; i++) {
		const IcsVmDisk *d = g_ptr_array_index(vm->disks, i);
		g_autofree char *field = g_strdup_printf("disks[%u].path", i);

		ok = foreign_disk(store, p, vm->uuid, vm->name, field, d->path, error);
	}
	ics_store_read_end(store);
	return ok;
}
