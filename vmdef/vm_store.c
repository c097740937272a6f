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

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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

/* Remove entry @name of directory @parent (@where names it in messages): a
 * file or a symbolic link (removed, never followed), or a directory with
 * what it holds, at most @depth levels down.  Everything by descriptor:
 * a directory swapped for a link meanwhile is not followed. */
static gboolean remove_at(int parent, const char *name, const char *where, guint depth,
			  GError **error)
{
	struct stat st;
	DIR *d;
	struct dirent *e;
	int fd;

	if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return TRUE;
		ics_error_set_errno(error, errno, "cannot read %s/%s", where, name);
		return FALSE;
	}
	if (!S_ISDIR(st.st_mode)) {
		if (unlinkat(parent, name, 0) == 0 || errno == ENOENT)
			return TRUE;
		ics_error_set_errno(error, errno, "cannot remove %s/%s", where, name);
		return FALSE;
	}
	if (depth == 0) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_IO,
			    "cannot remove %s/%s: directories nested deeper than ICS makes them",
			    where, name);
		return FALSE;
	}
	fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || (d = fdopendir(fd)) == NULL) {
		ics_error_set_errno(error, errno, "cannot open %s/%s", where, name);
		if (fd >= 0)
			close(fd);
		return FALSE;
	}
	{
		g_autofree char *sub = g_build_filename(where, name, NULL);

		while ((e = readdir(d)) != NULL) {
			if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
				continue;
			if (!remove_at(dirfd(d), e->d_name, sub, depth - 1, error)) {
				closedir(d);
				return FALSE;
			}
		}
	}
	closedir(d);
	if (unlinkat(parent, name, AT_REMOVEDIR) == 0 || errno == ENOENT)
		return TRUE;
	ics_error_set_errno(error, errno, "cannot remove %s/%s", where, name);
	return FALSE;
}

gboolean ics_vm_store_delete(const char *pool_path, const char *uuid, GError **error)
{
	g_autofree char *dir = NULL, *json = NULL, *vms = NULL;
	struct stat st;
	gboolean ok;
	int fd;

	if (!check_uuid(uuid, error))
		return FALSE;
	dir = ics_vm_dir(pool_path, uuid);
	json = g_build_filename(dir, VM_JSON, NULL);
	vms = g_path_get_dirname(dir);
	fd = open(vms, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fstatat(fd, uuid, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND,
				    "vm %s is not defined on pool %s", uuid, pool_path);
		else
			ics_error_set_errno(error, errno, "vm %s: cannot read %s", uuid, dir);
		if (fd >= 0)
			close(fd);
		return FALSE;
	}
	/* vm.json first: a VM half removed is no longer listed */
	if (S_ISDIR(st.st_mode) && unlink(json) < 0 && errno != ENOENT) {
		ics_error_set_errno(error, errno, "vm %s: cannot remove %s", uuid, json);
		close(fd);
		return FALSE;
	}
	/* files (domain.xml, nvram.fd, temporaries) and directories of files
	 * (checkpoints/, the backups' records: ics/backup.h); deeper ones are
	 * not ICS's, removed all the same */
	ok = remove_at(fd, uuid, vms, 8, error) && ics_fsync_dir(vms, error);
	close(fd);
	if (!ok)
		ics_error_prefix(error, "vm %s: ", uuid);
	return ok;
}
