/*
 * vm_store.c: a VM's definition on its pool, <pool>/.ics/vms/<uuid>/.
 *
 *   vm.json      the ICS metadata, the source of truth
 *   domain.xml   the libvirt domain generated from it (for re-registering
 *                the VM with any libvirtd, and for humans)
 *   nvram.fd     UEFI variables of a UEFI VM (written by libvirt/QEMU)
 *
 * Hosts read these files while another host may be rewriting them, and a
 * host may die in the middle of a write, so every file is replaced
 * atomically (ics/file.h): a reader sees the old file or the new one, never
 * half of one.  domain.xml is written before
 * vm.json, so a VM appears in the list (which looks for vm.json) only once
 * both exist.  The uuid given to every call is checked first: it becomes a
 * path component, and "../x" must not escape the pool.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "ics/error.h"
#include "ics/file.h"
#include "ics/json.h"
#include "ics/vmdef.h"

#define VM_JSON "vm.json"
#define DOMAIN_XML "domain.xml"

char *ics_vm_dir(const char *pool_path, const char *uuid)
{
	return g_build_filename(pool_path, ".ics", "vms", uuid, NULL);
}

static gboolean check_uuid(const char *uuid, GError **error)
{
	if (uuid == NULL || !g_uuid_string_is_valid(uuid)) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT, "\"%s\" is not a VM uuid",
			    uuid ? uuid : "(null)");
		return FALSE;
	}
	return TRUE;
}

gboolean ics_vm_store_save(const char *pool_path, const IcsVmMeta *m, GError **error)
{
	g_autofree char *dir = NULL;
	g_autofree char *vms = NULL;
	g_autofree char *xml = NULL;
	g_autofree char *json = NULL;

	if (!check_uuid(m->uuid, error))
		return FALSE;
	if (m->pool_path && strcmp(m->pool_path, pool_path) != 0) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT,
			    "vm \"%s\": validated for pool %s, not %s", m->name, m->pool_path,
			    pool_path);
		return FALSE;
	}
	xml = ics_domain_xml(m, error);
	if (xml == NULL)
		return FALSE;
	json = ics_vm_meta_serialize(m);
	dir = ics_vm_dir(pool_path, m->uuid);
	vms = g_path_get_dirname(dir);
	if (g_mkdir_with_parents(dir, 0755) < 0) {
		ics_error_set_errno(error, errno, "vm \"%s\": cannot create %s", m->name, dir);
		return FALSE;
	}
	/* A new VM dir must survive a crash too. */
	if (!ics_fsync_dir(vms, error) || !ics_file_write_atomic(dir, DOMAIN_XML, xml, error) ||
	    !ics_file_write_atomic(dir, VM_JSON, json, error)) {
		ics_error_prefix(error, "vm \"%s\": ", m->name);
		return FALSE;
	}
	return TRUE;
}

IcsVmMeta *ics_vm_store_load(const char *pool_path, const char *uuid, GError **error)
{
	g_autofree char *dir = NULL;
	g_autofree char *path = NULL;
	g_autofree char *text = NULL;
	g_autoptr(GError) err = NULL;
	g_autoptr(IcsVmMeta) m = NULL;

	if (!check_uuid(uuid, error))
		return NULL;
	dir = ics_vm_dir(pool_path, uuid);
	path = g_build_filename(dir, VM_JSON, NULL);
	if (!g_file_get_contents(path, &text, NULL, &err)) {
		if (g_error_matches(err, G_FILE_ERROR, G_FILE_ERROR_NOENT))
			g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND,
				    "vm %s is not defined on pool %s (no %s)", uuid, pool_path,
				    path);
		else
			g_set_error(error, ICS_ERROR, ICS_ERROR_IO, "vm %s: %s", uuid,
				    err->message);
		return NULL;
	}
	{
		g_autoptr(json_t) root = ics_json_load_string(text, path, error);

		if (root == NULL)
			return NULL;
		m = ics_vm_meta_from_json(root, pool_path, error);
	}
	if (m == NULL) {
		ics_error_prefix(error, "%s: ", path);
		return NULL;
	}
	if (g_ascii_strcasecmp(m->uuid, uuid) != 0) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT,
			    "%s: holds vm %s, not %s (a definition copied by hand?)", path, m->uuid,
			    uuid);
		return NULL;
	}
	return g_steal_pointer(&m);
}

static gint compare_str(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

GPtrArray *ics_vm_store_list(const char *pool_path, GError **error)
{
	g_autofree char *vms = g_build_filename(pool_path, ".ics", "vms", NULL);
	g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GError) err = NULL;
	g_autoptr(GDir) d = g_dir_open(vms, 0, &err);
	const char *name;

	if (d == NULL) {
		if (g_error_matches(err, G_FILE_ERROR, G_FILE_ERROR_NOENT))
			return g_steal_pointer(&out);
		g_set_error(error, ICS_ERROR, ICS_ERROR_IO, "pool %s: %s", pool_path, err->message);
		return NULL;
	}
	while ((name = g_dir_read_name(d)) != NULL) {
		g_autofree char *json = g_build_filename(vms, name, VM_JSON, NULL);

		if (g_uuid_string_is_valid(name) && g_file_test(json, G_FILE_TEST_IS_REGULAR))
			g_ptr_array_add(out, g_strdup(name));
	}
	g_ptr_array_sort(out, compare_str);
	return g_steal_pointer(&out);
}

/* Remove @path: a file or a symbolic link (never followed), or, when
 * @dirs, a directory of such (one level). */
static gboolean remove_entry(const char *path, gboolean dirs, GError **error)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? TRUE
				       : (ics_error_set_errno(error, errno, "cannot read %s", path),
					  FALSE);
	if (S_ISDIR(st.st_mode) && dirs) {
		g_autoptr(GError) err = NULL;
		g_autoptr(GDir) d = g_dir_open(path, 0, &err);
		const char *name;

		if (d == NULL) {
			g_set_error(error, ICS_ERROR, ICS_ERROR_IO, "%s", err->message);
			return FALSE;
		}
		while ((name = g_dir_read_name(d)) != NULL) {
			g_autofree char *p = g_build_filename(path, name, NULL);

			if (!remove_entry(p, FALSE, error))
				return FALSE;
		}
		if (rmdir(path) == 0 || errno == ENOENT)
			return TRUE;
	} else if (unlink(path) == 0 || errno == ENOENT) {
		return TRUE;
	}
	ics_error_set_errno(error, errno, "cannot remove %s", path);
	return FALSE;
}

gboolean ics_vm_store_delete(const char *pool_path, const char *uuid, GError **error)
{
	g_autofree char *dir = NULL;
	g_autofree char *json = NULL;
	g_autoptr(GDir) d = NULL;
	g_autoptr(GError) err = NULL;
	const char *name;

	if (!check_uuid(uuid, error))
		return FALSE;
	dir = ics_vm_dir(pool_path, uuid);
	json = g_build_filename(dir, VM_JSON, NULL);
	d = g_dir_open(dir, 0, &err);
	if (d == NULL) {
		if (g_error_matches(err, G_FILE_ERROR, G_FILE_ERROR_NOENT))
			g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND,
				    "vm %s is not defined on pool %s", uuid, pool_path);
		else
			g_set_error(error, ICS_ERROR, ICS_ERROR_IO, "vm %s: %s", uuid,
				    err->message);
		return FALSE;
	}
	if (unlink(json) < 0 && errno != ENOENT) {
		ics_error_set_errno(error, errno, "vm %s: cannot remove %s", uuid, json);
		return FALSE;
	}
	/* Files (vm.json, domain.xml, nvram.fd, temporaries) and directories
	 * of files (checkpoints/, the backups' records: ics/backup.h). */
	while ((name = g_dir_read_name(d)) != NULL) {
		g_autofree char *p = g_build_filename(dir, name, NULL);

		if (!remove_entry(p, TRUE, error)) {
			ics_error_prefix(error, "vm %s: ", uuid);
			return FALSE;
		}
	}
	if (rmdir(dir) < 0) {
		ics_error_set_errno(error, errno, "vm %s: cannot remove %s", uuid, dir);
		return FALSE;
	}
	{
		g_autofree char *vms = g_path_get_dirname(dir);

		return ics_fsync_dir(vms, error);
	}
}
