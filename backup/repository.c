/*
 * repository.c: a backup repository and its catalogue (see ics/backup.h).
 *
 * The catalogue is the directory tree itself: a backup is listed when its
 * directory (not hidden, not .partial) holds a manifest that parses.  There
 * is no index file to disagree with the backups, so a repository copied,
 * rsynced or mounted elsewhere is complete as it is.  Reading it takes no
 * lock: directories appear by rename, whole.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "backup_internal.h"
#include "ics/error.h"
#include "ics/file.h"
#include "ics/json.h"

#define MAX_MANIFEST (1 << 20)

struct IcsBackupRepo {
	char *path;
	char *id;
};

void ics_backup_repo_free(IcsBackupRepo *repo)
{
	if (repo == NULL)
		return;
	g_free(repo->path);
	g_free(repo->id);
	g_free(repo);
}

const char *ics_backup_repo_path(const IcsBackupRepo *repo)
{
	return repo->path;
}

const char *ics_backup_repo_id(const IcsBackupRepo *repo)
{
	return repo->id;
}

char *backup_vm_dir(const IcsBackupRepo *repo, const char *vm_uuid)
{
	return g_build_filename(repo->path, "vms", vm_uuid, NULL);
}

char *backup_now_rfc3339(void)
{
	g_autoptr(GDateTime) now = g_date_time_new_now_utc();

	return g_date_time_format(now, "%Y-%m-%dT%H:%M:%SZ");
}

gboolean backup_dir_trusted(const char *path, GError **error)
{
	struct stat st;

	if (lstat(path, &st) < 0) {
		ics_error_set_errno(error, errno, "%s", path);
		return FALSE;
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022)) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_PERMISSION,
			    "%s is not a directory of this user's that only it can write (a "
			    "link, another owner, or group- or world-writable): a repository's "
			    "directories are refused otherwise",
			    path);
		return FALSE;
	}
	return TRUE;
}

static gboolean absolute_path(const char *path, GError **error)
{
	if (path != NULL && g_path_is_absolute(path))
		return TRUE;
	g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT,
		    "a backup repository is an absolute path, not \"%s\"", path ? path : "");
	return FALSE;
}

IcsBackupRepo *ics_backup_repo_open(const char *path, GError **error)
{
	g_autofree char *file = NULL;
	g_autoptr(json_t) root = NULL;
	g_autoptr(GError) err = NULL;
	IcsBackupRepo *repo;
	gint64 format = 0;
	const char *id;

	if (!absolute_path(path, error))
		return NULL;
	file = g_build_filename(path, ICS_BACKUP_REPO_FILE, NULL);
	root = ics_json_load_file(file, &err);
	if (root == NULL) {
		if (g_error_matches(err, ICS_ERROR, ICS_ERROR_NOT_FOUND))
			g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND,
				    "%s is not a backup repository (no %s): not mounted, or not "
				    "initialised ('ics-backup init %s')",
				    path, ICS_BACKUP_REPO_FILE, path);
		else
			g_propagate_error(error, g_steal_pointer(&err));
		return NULL;
	}
	if (!ics_json_require_object(root, file, error) ||
	    !ics_json_get_int(root, "format", &format, error) ||
	    (id = ics_json_get_string(root, "id", error)) == NULL) {
		ics_error_prefix(error, "%s: ", file);
		return NULL;
	}
	if (format > ICS_BACKUP_FORMAT || format < 1) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT,
			    "%s: repository format %" G_GINT64_FORMAT
			    " is not one this ICS understands (%d)",
			    file, format, ICS_BACKUP_FORMAT);
		return NULL;
	}
	if (!g_uuid_string_is_valid(id)) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT,
			    "%s: \"id\" is not a uuid", file);
		return NULL;
	}
	{
		/* whoever can write the repository's directories could make this
		 * process write and delete elsewhere through links */
		g_autofree char *vms = g_build_filename(path, "vms", NULL);

		if (!backup_dir_trusted(path, error) ||
		    (g_file_test(vms, G_FILE_TEST_EXISTS) && !backup_dir_trusted(vms, error)))
			return NULL;
	}
	repo = g_new0(IcsBackupRepo, 1);
	repo->path = g_strdup(path);
	repo->id = g_strdup(id);
	return repo;
}

IcsBackupRepo *ics_backup_repo_init(const char *path, GError **error)
{
	g_autofree char *file = NULL;
	g_autofree char *vms = NULL;
	g_autofree char *text = NULL;
	g_autofree char *created = NULL;
	g_autofree char *id = NULL;
	g_autoptr(json_t) root = NULL;

	if (!absolute_path(path, error))
		return NULL;
	file = g_build_filename(path, ICS_BACKUP_REPO_FILE, NULL);
	if (g_file_test(file, G_FILE_TEST_EXISTS))
		return ics_backup_repo_open(path, error);
	if (!g_file_test(path, G_FILE_TEST_IS_DIR)) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND,
			    "%s is not a directory: create it (or mount it) first", path);
		return NULL;
	}
	vms = g_build_filename(path, "vms", NULL);
	if (g_mkdir(vms, 0711) < 0 && errno != EEXIST) {
		ics_error_set_errno(error, errno, "cannot create %s", vms);
		return NULL;
	}
	id = g_uuid_string_random();
	created = backup_now_rfc3339();
	root = json_pack("{s:i, s:s, s:s, s:s}", "format", ICS_BACKUP_FORMAT, "id", id, "created",
			 created, "ics_version", PACKAGE_VERSION);
	text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (!ics_file_write_atomic(path, ICS_BACKUP_REPO_FILE, text, error))
		return NULL;
	return ics_backup_repo_open(path, error);
}

/* A manifest: a regular file (not a link, a FIFO, a device), at most
 * MAX_MANIFEST bytes. */
static IcsBackupManifest *load_manifest(const char *dir, GError **error)
{
	g_autofree char *path = g_build_filename(dir, ICS_BACKUP_MANIFEST, NULL);
	g_autofree char *text = NULL;
	struct stat st;
	IcsBackupManifest *m;
	ssize_t n;
	int fd = backup_open_regular(path, error);

	if (fd < 0)
		return NULL; /* NOT_FOUND when there is none (ENOENT) */
	if (fstat(fd, &st) < 0 || st.st_size > MAX_MANIFEST) {
		close(fd);
		g_set_error(error, ICS_ERROR, ICS_ERROR_IO, "%s is larger than a manifest can be",
			    path);
		return NULL;
	}
	text = g_malloc((gsize)st.st_size + 1);
	n = pread(fd, text, (size_t)st.st_size, 0);
	close(fd);
	if (n != st.st_size) {
		ics_error_set_errno(error, n < 0 ? errno : EIO, "cannot read %s", path);
		return NULL;
	}
	text[n] = '\0';
	m = ics_backup_manifest_parse(text, path, error);
	if (m == NULL)
		return NULL;
	m->dir = g_strdup(dir);
	return m;
}

static gint compare_manifest(gconstpointer a, gconstpointer b)
{
	const IcsBackupManifest *x = *(IcsBackupManifest *const *)a;
	const IcsBackupManifest *y = *(IcsBackupManifest *const *)b;
	int c = strcmp(x->vm_uuid, y->vm_uuid);

	return c ? c : strcmp(x->id, y->id);
}

/* Append the complete backups in @vm_dir (REPO/vms/<uuid>) to @out. */
static gboolean list_vm(const char *vm_dir, const char *uuid, GPtrArray *out, GPtrArray *problems,
			GError **error)
{
	g_autoptr(GDir) d = NULL;
	g_autoptr(GError) err = NULL;
	const char *name;

	if (!g_file_test(vm_dir, G_FILE_TEST_EXISTS))
		return TRUE;
	if (!backup_dir_trusted(vm_dir, error))
		return FALSE;
	d = g_dir_open(vm_dir, 0, &err);
	if (d == NULL) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_IO, "%s", err->message);
		return FALSE;
	}
	while ((name = g_dir_read_name(d)) != NULL) {
		g_autofree char *dir = NULL;
		g_autoptr(GError) perr = NULL;
		IcsBackupManifest *m;

		if (name[0] == '.')
			continue;
		dir = g_build_filename(vm_dir, name, NULL);
		if (!g_file_test(dir, G_FILE_TEST_IS_DIR))
			continue;
		m = load_manifest(dir, &perr);
		if (m == NULL) {
			if (problems)
				g_ptr_array_add(problems, g_strdup_printf("%s: %s", dir,
									  perr->message));
			continue;
		}
		if (strcmp(m->id, name) != 0 || g_ascii_strcasecmp(m->vm_uuid, uuid) != 0) {
			if (problems)
				g_ptr_array_add(problems,
						g_strdup_printf("%s: its manifest is of backup %s "
								"of vm %s (moved by hand?)",
								dir, m->id, m->vm_uuid));
			ics_backup_manifest_free(m);
			continue;
		}
		g_ptr_array_add(out, m);
	}
	return TRUE;
}

GPtrArray *ics_backup_repo_list(IcsBackupRepo *repo, const char *vm_uuid, GPtrArray *problems,
				GError **error)
{
	g_autoptr(GPtrArray) out =
		g_ptr_array_new_with_free_func((GDestroyNotify)ics_backup_manifest_free);
	g_autofree char *vms = g_build_filename(repo->path, "vms", NULL);

	if (vm_uuid != NULL) {
		g_autofree char *dir = NULL;

		if (!g_uuid_string_is_valid(vm_uuid)) {
			g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT,
				    "\"%s\" is not a VM uuid", vm_uuid);
			return NULL;
		}
		dir = backup_vm_dir(repo, vm_uuid);
		if (!list_vm(dir, vm_uuid, out, problems, error))
			return NULL;
	} else {
		g_autoptr(GDir) d = NULL;
		g_autoptr(GError) err = NULL;
		const char *name;

		d = g_dir_open(vms, 0, &err);
		if (d == NULL) {
			g_set_error(error, ICS_ERROR, ICS_ERROR_IO, "%s", err->message);
			return NULL;
		}
		while ((name = g_dir_read_name(d)) != NULL) {
			g_autofree char *dir = NULL;

			if (!g_uuid_string_is_valid(name))
				continue;
			dir = g_build_filename(vms, name, NULL);
			if (!list_vm(dir, name, out, problems, error))
				return NULL;
		}
	}
	g_ptr_array_sort(out, compare_manifest);
	return g_steal_pointer(&out);
}

IcsBackupManifest *ics_backup_repo_find(IcsBackupRepo *repo, const char *id, GError **error)
{
	g_autoptr(GPtrArray) all = NULL;

	if (id == NULL || id[0] == '\0' || id[0] == '.' || strchr(id, '/') != NULL) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT,
			    "\"%s\" is not a backup id", id ? id : "");
		return NULL;
	}
	all = ics_backup_repo_list(repo, NULL, NULL, error);
	if (all == NULL)
		return NULL;
	for (guint i = 0; i < all->len; i++) {
		IcsBackupManifest *m = g_ptr_array_index(all, i);

		if (strcmp(m->id, id) != 0)
			continue;
		/* ids carry 64 random bits; two alike were copied by hand */
		for (guint k = i + 1; k < all->len; k++)
			if (strcmp(((IcsBackupManifest *)g_ptr_array_index(all, k))->id, id) == 0) {
				g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
					    "backup id %s is in the repository twice (vms %s and "
					    "%s): restore from the VM's directory",
					    id, m->vm_uuid,
					    ((IcsBackupManifest *)g_ptr_array_index(all, k))->vm_uuid);
				return NULL;
			}
		return g_ptr_array_steal_index(all, i);
	}
	g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND,
		    "no complete backup %s in the repository %s", id, repo->path);
	return NULL;
}

GPtrArray *ics_backup_chain(IcsBackupRepo *repo, const IcsBackupManifest *m, GError **error)
{
	g_autoptr(GPtrArray) chain =
		g_ptr_array_new_with_free_func((GDestroyNotify)ics_backup_manifest_free);
	g_autofree char *vm_dir = backup_vm_dir(repo, m->vm_uuid);
	g_autofree char *dir = g_build_filename(vm_dir, m->id, NULL);
	IcsBackupManifest *cur = load_manifest(dir, error);

	if (cur == NULL)
		return NULL;
	g_ptr_array_add(chain, cur);
	while (cur->incremental) {
		g_autofree char *pdir = g_build_filename(vm_dir, cur->parent, NULL);
		g_autoptr(GError) err = NULL;
		IcsBackupManifest *p;

		if (chain->len > 10000) {
			g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT,
				    "backup %s: its chain is longer than 10000 (a loop?)", m->id);
			return NULL;
		}
		p = load_manifest(pdir, &err);
		if (p == NULL) {
			g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND,
				    "backup %s: the chain is broken at %s, whose parent %s is "
				    "missing or unreadable (%s)",
				    m->id, cur->id, cur->parent, err->message);
			return NULL;
		}
		if (strcmp(p->id, cur->parent) != 0 ||
		    g_ascii_strcasecmp(p->vm_uuid, m->vm_uuid) != 0) {
			g_set_error(error, ICS_ERROR, ICS_ERROR_IO,
				    "backup %s: the chain is broken at %s: the directory of its "
				    "parent %s holds backup %s of vm %s",
				    m->id, cur->id, cur->parent, p->id, p->vm_uuid);
			ics_backup_manifest_free(p);
			return NULL;
		}
		g_ptr_array_add(chain, p);
		cur = p;
	}
	/* full first */
	for (guint i = 0, j = chain->len - 1; i < j; i++, j--) {
		gpointer t = chain->pdata[i];

		chain->pdata[i] = chain->pdata[j];
		chain->pdata[j] = t;
	}
	return g_steal_pointer(&chain);
}
