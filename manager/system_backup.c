/*
 * system_backup.c: the manager's own backup on disk -- writing one,
 * listing and pruning them, and rebuilding a state directory from one.
 *
 * The database is copied with the store's snapshot (SQLite's online backup
 * API on a reader: one point in time, writers not held up); the sealing
 * key and the generated TLS files are copied byte for byte.  Each file's
 * sha256 goes into manifest.json, which is written last inside the
 * .partial directory; the rename to the final name is what makes the
 * backup exist.  Names sort by time (ics-manager-YYYYMMDDTHHMMSS.uuuuuuZ),
 * so retention keeps the last @keep names (and always the one just
 * written); only real directories with exactly such a name count, and
 * they are removed through a directory descriptor, renamed out of the
 * list first.
 *
 * The restore trusts nothing it did not check: the manifest's format,
 * schema version and file names, each file's size and sha256 (computed
 * while copying it, so what is installed is what was checked), a state
 * directory with no database, WAL or foreign key of its own.  The copied
 * database is opened with the store (which migrates an older schema),
 * cleaned of sessions and of tasks that were in flight, given an audit
 * record, closed, and only then renamed to manager.db.
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
#include "ics/log.h"
#include "ics/manager/audit.h"
#include "ics/manager/system_backup.h"
#include "ics/manager/timestamp.h"

#define PREFIX "ics-manager-"
#define DB_FILE "manager.db"
#define MANIFEST "manifest.json"
#define MANIFEST_MAX (1024 * 1024)
#define COPY_BLOCK (256 * 1024)

/* The state files a backup carries besides the database, when present:
 * the first is required (the sealed secrets are unreadable without it). */
static const char *const extra_files[] = { "apikey.key", "tls-cert.pem", "tls-key.pem", NULL };

/* Read the regular file @from (never through a link, never a FIFO or a
 * device) and, when @to is given, copy it into the new file @to (mode
 * 0600, synced): one pass, so what is copied is what was summed.  Returns
 * the sha256 (hex) and the size. */
static char *copy_sum(const char *from, const char *to, guint64 *size, GError **error)
{
	g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
	g_autofree guchar *buf = g_malloc(COPY_BLOCK);
	int in = open(from, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	int out = -1;
	char *hex = NULL;
	struct stat st;

	*size = 0;
	if (in < 0) {
		ics_error_set_errno(error, errno, "cannot open %s", from);
		return NULL;
	}
	if (fstat(in, &st) < 0 || !S_ISREG(st.st_mode)) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_IO, "%s is not a regular file", from);
		goto out;
	}
	if (to) {
		out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (out < 0) {
			ics_error_set_errno(error, errno, "cannot create %s", to);
			goto out;
		}
	}
	for (;;) {
		ssize_t n = read(in, buf, COPY_BLOCK), w = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ics_error_set_errno(error, errno, "cannot read %s", from);
			goto out;
		}
		if (n == 0)
			break;
		g_checksum_update(sum, buf, n);
		*size += (guint64)n;
		while (out >= 0 && w < n) {
			ssize_t k = write(out, buf + w, (size_t)(n - w));

			if (k < 0 && errno == EINTR)
				continue;
			if (k < 0) {
				ics_error_set_errno(error, errno, "cannot write %s", to);
				goto out;
			}
			w += k;
		}
	}
	if (out >= 0 && fsync(out) < 0) {
		ics_error_set_errno(error, errno, "cannot sync %s", to);
		goto out;
	}
	hex = g_strdup(g_checksum_get_string(sum));
out:
	close(in);
	if (out >= 0)
		close(out);
	return hex;
}

/* Remove @name in @dir_fd, a backup directory holding plain files only:
 * renamed to a dot-name first (no longer listed, even if the removal is
 * interrupted), then emptied and removed, never through a link. */
static gboolean remove_backup_at(int dir_fd, const char *name, GError **error)
{
	g_autofree char *hidden = name[0] == '.' ? g_strdup(name) : g_strdup_printf(".%s.partial", name);
	DIR *d;
	struct dirent *e;
	int fd;

	if (!g_str_equal(hidden, name) && renameat(dir_fd, name, dir_fd, hidden) < 0) {
		ics_error_set_errno(error, errno, "cannot remove system backup %s", name);
		return FALSE;
	}
	fd = openat(dir_fd, hidden, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || (d = fdopendir(fd)) == NULL) {
		ics_error_set_errno(error, errno, "cannot open %s", hidden);
		if (fd >= 0)
			close(fd);
		return FALSE;
	}
	while ((e = readdir(d)))
		if (!g_str_equal(e->d_name, ".") && !g_str_equal(e->d_name, "..") &&
		    unlinkat(dirfd(d), e->d_name, 0) < 0) {
			ics_error_set_errno(error, errno, "cannot remove %s/%s", hidden, e->d_name);
			closedir(d);
			return FALSE;
		}
	closedir(d);
	if (unlinkat(dir_fd, hidden, AT_REMOVEDIR) < 0) {
		ics_error_set_errno(error, errno, "cannot remove %s", hidden);
		return FALSE;
	}
	return TRUE;
}

/* @dir exists (made 0700 when missing), is a directory (not a link) owned
 * by us and not writable by group or others: what is read back from it
 * is restored into the manager. */
static gboolean dir_ready(const char *dir, GError **error)
{
	struct stat st;

	if (g_mkdir_with_parents(dir, 0700) != 0) {
		ics_error_set_errno(error, errno, "cannot create the system backup directory %s",
				    dir);
		return FALSE;
	}
	if (lstat(dir, &st) != 0) {
		ics_error_set_errno(error, errno, "cannot read %s", dir);
		return FALSE;
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022))
		return ics_error_invalid(error,
					 "system backup directory %s must be a directory owned by "
					 "this user and writable by nobody else",
					 dir);
	return TRUE;
}

/* ics-manager-YYYYMMDDTHHMMSS.uuuuuuZ, exactly: an operator's own copy
 * beside them ("ics-manager-before-upgrade") is neither listed nor pruned. */
static gboolean is_backup_name(const char *name)
{
	static GRegex *re;

	if (g_once_init_enter(&re))
		g_once_init_leave(&re, g_regex_new("^" PREFIX "[0-9]{8}T[0-9]{6}\\.[0-9]{6}Z$",
						   G_REGEX_OPTIMIZE, 0, NULL));
	return g_regex_match(re, name, 0, NULL);
}

static gint cmp_newest_first(gconstpointer a, gconstpointer b)
{
	return -strcmp(*(char *const *)a, *(char *const *)b);
}

/* The complete backups' names in @dir, newest first (NULL with @error
 * when @dir cannot be read; empty when it does not exist). */
static GPtrArray *backup_names(const char *dir, GError **error)
{
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GError) err = NULL;
	g_autoptr(GDir) d = g_dir_open(dir, 0, &err);
	const char *name;

	if (d == NULL) {
		if (g_error_matches(err, G_FILE_ERROR, G_FILE_ERROR_NOENT))
			return g_steal_pointer(&names);
		g_set_error(error, ICS_ERROR, ICS_ERROR_IO, "%s", err->message);
		return NULL;
	}
	while ((name = g_dir_read_name(d))) {
		g_autofree char *path = g_build_filename(dir, name, NULL);
		struct stat st;

		/* a real directory, not a link to one */
		if (is_backup_name(name) && lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
			g_ptr_array_add(names, g_strdup(name));
	}
	g_ptr_array_sort(names, cmp_newest_first);
	return g_steal_pointer(&names);
}

static json_t *read_manifest(const char *backup, GError **error)
{
	g_autofree char *path = g_build_filename(backup, MANIFEST, NULL);
	g_autofree char *text = NULL;
	g_autoptr(GError) err = NULL;
	json_t *m;
	gsize len = 0;
	struct stat st;

	if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > MANIFEST_MAX) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT,
			    "%s is not a system backup: no manifest.json (a regular file of at "
			    "most 1 MiB)",
			    backup);
		return NULL;
	}
	if (!g_file_get_contents(path, &text, &len, &err)) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_IO, "%s", err->message);
		return NULL;
	}
	m = ics_json_load_string(text, path, error);
	if (m == NULL)
		return NULL;
	if (!ics_json_require_object(m, path, error)) {
		json_decref(m);
		return NULL;
	}
	return m;
}

static json_t *summary(const json_t *m, const char *name)
{
	json_t *files = json_object_get(m, "files");
	gint64 bytes = 0;
	size_t i;
	json_t *f;

	json_array_foreach (files, i, f) {
		json_int_t n = json_integer_value(json_object_get(f, "size"));

		if (n > 0 && n < G_MAXINT64 - bytes)
			bytes += n;
	}
	return json_pack("{s:s, s:O?, s:O?, s:O?, s:I}", "name", name, "created",
			 json_object_get(m, "created"), "ics_version",
			 json_object_get(m, "ics_version"), "schema_version",
			 json_object_get(m, "schema_version"), "bytes", (json_int_t)bytes);
}

/* Add @name (in @partial) to the manifest's file list with its sum. */
static gboolean add_file(json_t *files, const char *partial, const char *name, GError **error)
{
	g_autofree char *path = g_build_filename(partial, name, NULL);
	g_autofree char *sum = NULL;
	guint64 size;

	sum = copy_sum(path, NULL, &size, error);
	if (sum == NULL)
		return FALSE;
	json_array_append_new(files, json_pack("{s:s, s:I, s:s}", "name", name, "size",
					       (json_int_t)size, "sha256", sum));
	return TRUE;
}

/* Keep the newest @keep complete backups in @dir, and @written (the one
 * just made) whatever its name says: a clock that went back must not make
 * a run delete its own backup. */
static gboolean prune(const char *dir, guint keep, const char *written, GError **error)
{
	g_autoptr(GPtrArray) names = backup_names(dir, error);
	int fd;

	if (names == NULL)
		return FALSE;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		ics_error_set_errno(error, errno, "cannot open %s", dir);
		return FALSE;
	}
	for (guint i = keep; i < names->len; i++) {
		const char *name = g_ptr_array_index(names, i);

		if (g_str_equal(name, written))
			continue;
		if (!remove_backup_at(fd, name, error)) {
			close(fd);
			return FALSE;
		}
		ics_info("system backup %s/%s removed: %u newer ones are kept", dir, name, keep);
	}
	close(fd);
	return TRUE;
}

/* Remove the .partial directories an interrupted run or removal left. */
static void remove_partials(const char *dir)
{
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	const char *name;

	while (fd >= 0 && d && (name = g_dir_read_name(d))) {
		g_autoptr(GError) err = NULL;

		if (!g_str_has_prefix(name, "." PREFIX) || !g_str_has_suffix(name, ".partial"))
			continue;
		if (!remove_backup_at(fd, name, &err))
			ics_warning("system backup: %s", err->message);
	}
	if (fd >= 0)
		close(fd);
}

static char *new_name(void)
{
	gint64 us = g_get_real_time();
	g_autoptr(GDateTime) t = g_date_time_new_from_unix_utc(us / G_USEC_PER_SEC);
	g_autofree char *base = g_date_time_format(t, "%Y%m%dT%H%M%S");

	return g_strdup_printf(PREFIX "%s.%06dZ", base, (int)(us % G_USEC_PER_SEC));
}

json_t *ics_system_backup_write(IcsStore *store, const char *state_dir, const char *dir,
				guint keep, const volatile gint *cancel, GError **error)
{
	g_autofree char *name = new_name();
	g_autofree char *partial_name = g_strdup_printf(".%s.partial", name);
	g_autofree char *partial = g_build_filename(dir, partial_name, NULL);
	g_autofree char *final = g_build_filename(dir, name, NULL);
	g_autofree char *db = g_build_filename(partial, DB_FILE, NULL);
	g_autoptr(json_t) files = json_array();
	g_autoptr(json_t) manifest = NULL;
	g_autofree char *text = NULL;
	g_autofree char *created = ics_timestamp_format(ics_now_us());

	g_return_val_if_fail(keep >= 1, NULL);
	if (!dir_ready(dir, error))
		return NULL;
	remove_partials(dir);
	if (g_mkdir(partial, 0700) != 0) {
		ics_error_set_errno(error, errno, "cannot create %s", partial);
		return NULL;
	}
	if (!ics_store_snapshot(store, db, cancel, error) || !add_file(files, partial, DB_FILE, error))
		goto fail;
	for (guint i = 0; extra_files[i]; i++) {
		g_autofree char *from = g_build_filename(state_dir, extra_files[i], NULL);
		g_autofree char *to = g_build_filename(partial, extra_files[i], NULL);

		g_autofree char *sum = NULL;
		guint64 size;

		if (i > 0 && !g_file_test(from, G_FILE_TEST_EXISTS))
			continue;
		sum = copy_sum(from, to, &size, error);
		if (sum == NULL)
			goto fail;
		json_array_append_new(files, json_pack("{s:s, s:I, s:s}", "name", extra_files[i],
						       "size", (json_int_t)size, "sha256", sum));
	}
	manifest = json_pack("{s:i, s:s, s:s, s:s, s:i, s:O}", "format", ICS_SYSTEM_BACKUP_FORMAT,
			     "name", name, "created", created, "ics_version", PACKAGE_VERSION,
			     "schema_version", (int)ics_store_version(store), "files", files);
	text = json_dumps(manifest, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (!ics_file_write_atomic(partial, MANIFEST, text, error) ||
	    !ics_fsync_dir(partial, error))
		goto fail;
	if (g_rename(partial, final) != 0) {
		ics_error_set_errno(error, errno, "cannot rename %s to %s", partial, final);
		goto fail;
	}
	if (!ics_fsync_dir(dir, error))
		return NULL;
	ics_info("system backup %s written", final);
	if (!prune(dir, keep, name, error)) {
		ics_error_prefix(error, "system backup %s written, but removing older ones: ",
				 name);
		return NULL;
	}
	return summary(manifest, name);
fail:
	remove_partials(dir);
	ics_error_prefix(error, "system backup: ");
	return NULL;
}

json_t *ics_system_backup_list(const char *dir, GError **error)
{
	g_autoptr(GPtrArray) names = backup_names(dir, error);
	g_autoptr(json_t) backups = json_array();
	g_autoptr(json_t) problems = json_array();

	if (names == NULL)
		return NULL;
	for (guint i = 0; i < names->len; i++) {
		const char *name = g_ptr_array_index(names, i);
		g_autofree char *path = g_build_filename(dir, name, NULL);
		g_autoptr(GError) err = NULL;
		g_autoptr(json_t) m = read_manifest(path, &err);

		if (m == NULL)
			json_array_append_new(problems, json_string(err->message));
		else
			json_array_append_new(backups, summary(m, name));
	}
	return json_pack("{s:O, s:O}", "backups", backups, "problems", problems);
}

gint64 ics_system_backup_newest_age_s(const char *dir)
{
	g_autoptr(GPtrArray) names = backup_names(dir, NULL);
	gint64 now = ics_now_us();

	for (guint i = 0; names && i < names->len; i++) {
		g_autofree char *path = g_build_filename(dir, g_ptr_array_index(names, i), NULL);
		g_autoptr(json_t) m = read_manifest(path, NULL);
		gint64 created;

		if (m == NULL || !ics_timestamp_parse(json_string_value(json_object_get(m, "created")),
						      "created", &created, NULL))
			continue;
		/* from a clock ahead of this one: not a reason to stop backing up */
		if (created > now + 300 * G_USEC_PER_SEC) {
			ics_warning("system backup %s is dated in the future: this host's clock is "
				    "behind the one that wrote it; not counted as recent",
				    path);
			continue;
		}
		return MAX(0, (now - created) / G_USEC_PER_SEC);
	}
	return -1;
}

/* ---- restore ------------------------------------------------------------ */

/* A file of the backup, as its manifest lists it. */
typedef struct {
	const char *name; /* one of DB_FILE, extra_files[] */
	const char *sha256;
	json_int_t size;
	char *tmp; /* its checked copy in the state directory, or NULL */
} Listed;

static void listed_clear(Listed *l, guint n)
{
	for (guint i = 0; i < n; i++) {
		if (l[i].tmp) {
			g_unlink(l[i].tmp);
			g_free(l[i].tmp);
		}
	}
}

static const char db_name[] = DB_FILE;

/* @name as the one pointer it is compared with: db_name or an extra_files[]
 * entry; NULL when unknown. */
static const char *known_name(const char *name)
{
	if (name && g_str_equal(name, db_name))
		return db_name;
	for (guint i = 0; name && extra_files[i]; i++)
		if (g_str_equal(name, extra_files[i]))
			return extra_files[i];
	return NULL;
}

/* The manifest's file list: known names, each once, the database and the
 * key among them. */
static gboolean list_files(const char *backup, const json_t *m, Listed *out, guint *n,
			   GError **error)
{
	json_t *files = json_object_get(m, "files"), *f;
	gboolean have_db = FALSE, have_key = FALSE;
	size_t i;

	*n = 0;
	if (!json_is_array(files) || json_array_size(files) > G_N_ELEMENTS(extra_files))
		return ics_error_invalid(error, "%s: the manifest has no valid file list", backup);
	json_array_foreach (files, i, f) {
		const char *name = known_name(json_string_value(json_object_get(f, "name")));
		const char *sum = json_string_value(json_object_get(f, "sha256"));

		if (name == NULL || sum == NULL || !json_is_integer(json_object_get(f, "size")))
			return ics_error_invalid(error,
						 "%s: the manifest names an unknown file or lacks "
						 "its size or sha256",
						 backup);
		for (guint k = 0; k < *n; k++)
			if (out[k].name == name)
				return ics_error_invalid(error, "%s: the manifest lists %s twice",
							 backup, name);
		out[(*n)++] = (Listed){ name, sum,
					json_integer_value(json_object_get(f, "size")), NULL };
		have_db |= name == db_name;
		have_key |= name == extra_files[0];
	}
	if (!have_db || !have_key)
		return ics_error_invalid(error, "%s: the backup lacks %s", backup,
					 have_db ? extra_files[0] : DB_FILE);
	return TRUE;
}

/* In the restored database: no session, no task in flight, and a record
 * of the restore. */
static gboolean clean_restored(const char *db, const char *name, GError **error)
{
	g_autoptr(IcsStore) store = ics_store_open(db, error);
	gint64 now = ics_now_us();
	IcsAuditRecord rec = {
		.user = "-",
		.action = "system.restore",
		.object_type = "system_backup",
		.object_id = name,
		.http_status = 200,
		.client = "ics-managerd --restore",
		.started_us = now,
		.ended_us = now,
	};
	gboolean ok;

	if (store == NULL)
		return FALSE;
	if (!ics_store_begin(store, error))
		return FALSE;
	{
		g_autoptr(IcsStmt) st = ics_store_stmt(
			store,
			"UPDATE tasks SET state = 'failed', error = 'the manager was restored from a"
			" system backup taken while the task was in progress', ended_us = ?1"
			" WHERE state IN ('queued', 'running')",
			error);
		g_autoptr(IcsStmt) del = ics_store_stmt(store, "DELETE FROM sessions", error);

		ok = st && del;
		if (ok) {
			ics_stmt_bind_int(st, 1, now);
			ok = ics_stmt_run(st, error) && ics_stmt_run(del, error);
		}
	}
	if (!ok) {
		ics_store_rollback(store);
		return FALSE;
	}
	return ics_store_commit(store, error) && ics_audit_append(store, &rec, error);
}

gboolean ics_system_backup_restore(const char *backup, const char *state_dir, GError **error)
{
	g_autoptr(json_t) m = read_manifest(backup, error);
	g_autofree char *base = g_path_get_basename(backup);
	g_autofree char *db = g_build_filename(state_dir, DB_FILE, NULL);
	Listed files[G_N_ELEMENTS(extra_files)] = { { 0 } };
	Listed *dbf = NULL;
	gint64 format = 0, schema = 0;
	guint n = 0;
	gboolean ok = FALSE;

	if (m == NULL)
		return FALSE;
	if (!ics_json_get_int(m, "format", &format, error) ||
	    !ics_json_get_int(m, "schema_version", &schema, error))
		return FALSE;
	if (format != ICS_SYSTEM_BACKUP_FORMAT)
		return ics_error_invalid(error,
					 "%s has system backup format %" G_GINT64_FORMAT
					 "; this ics-managerd reads format %d: restore it with "
					 "the ICS version that wrote it (%s)",
					 backup, format, ICS_SYSTEM_BACKUP_FORMAT,
					 ics_json_get_string_or(m, "ics_version", "unknown", NULL));
	if (schema < 1 || schema > (gint64)ics_store_latest_version())
		return ics_error_invalid(error,
					 "%s holds database schema %" G_GINT64_FORMAT
					 "; this ics-managerd knows up to %u: restore it with the "
					 "ICS version that wrote it (%s) or a newer one",
					 backup, schema, ics_store_latest_version(),
					 ics_json_get_string_or(m, "ics_version", "unknown", NULL));
	if (!list_files(backup, m, files, &n, error))
		return FALSE;
	if (g_mkdir_with_parents(state_dir, 0700) != 0) {
		ics_error_set_errno(error, errno, "cannot create state directory %s", state_dir);
		return FALSE;
	}
	/* an old database, or its journal: SQLite would replay an old WAL
	 * over the restored file */
	for (guint i = 0; i < 4; i++) {
		static const char *const sfx[] = { "", "-wal", "-shm", "-journal" };
		g_autofree char *p = g_strconcat(db, sfx[i], NULL);

		if (g_file_test(p, G_FILE_TEST_EXISTS))
			return ics_error_invalid(error,
						 "%s exists: a restore rebuilds a manager in an "
						 "empty state directory; move the old database and "
						 "its -wal, -shm and -journal files aside first",
						 p);
	}
	/* every file copied beside its place while its sum is checked: nothing
	 * is installed unless all of them match */
	for (guint i = 0; i < n; i++) {
		Listed *l = &files[i];
		g_autofree char *from = g_build_filename(backup, l->name, NULL);
		g_autofree char *to = g_build_filename(state_dir, l->name, NULL);
		g_autofree char *sum = NULL;
		guint64 size;

		if (l->name == db_name)
			dbf = l;
		if (l->name != db_name && g_file_test(to, G_FILE_TEST_EXISTS)) {
			/* a certificate in place stays (it is what clients know);
			 * a key stays only if it is the backup's own (a restore
			 * interrupted after it was installed) */
			if (l->name != extra_files[0])
				continue;
			sum = copy_sum(to, NULL, &size, error);
			if (sum == NULL)
				goto out;
			if (!g_str_equal(sum, l->sha256)) {
				ics_error_invalid(error,
						  "%s exists and is not the backup's sealing key: "
						  "a restore rebuilds a manager in an empty state "
						  "directory; move the old one aside first",
						  to);
				goto out;
			}
			continue;
		}
		l->tmp = g_strconcat(to, ".restoring", NULL);
		g_unlink(l->tmp); /* an interrupted restore's */
		sum = copy_sum(from, l->tmp, &size, error);
		if (sum == NULL)
			goto out;
		if (!g_str_equal(sum, l->sha256) || (json_int_t)size != l->size) {
			g_set_error(error, ICS_ERROR, ICS_ERROR_IO,
				    "%s: %s does not match its checksum in the manifest: the "
				    "backup is damaged",
				    backup, l->name);
			goto out;
		}
	}
	/* the key and certificates first, on disk before the database that
	 * needs them: a manager finding a database without its key would make
	 * a new key, and every sealed secret would be lost */
	for (guint i = 0; i < n; i++) {
		g_autofree char *to = g_build_filename(state_dir, files[i].name, NULL);

		if (files[i].tmp == NULL || files[i].name == db_name)
			continue;
		if (g_rename(files[i].tmp, to) != 0) {
			ics_error_set_errno(error, errno, "cannot rename %s to %s", files[i].tmp,
					    to);
			goto out;
		}
		g_clear_pointer(&files[i].tmp, g_free);
	}
	if (!ics_fsync_dir(state_dir, error))
		goto out;
	if (!clean_restored(dbf->tmp, base, error))
		goto out;
	if (g_rename(dbf->tmp, db) != 0) {
		ics_error_set_errno(error, errno, "cannot rename %s to %s", dbf->tmp, db);
		goto out;
	}
	g_clear_pointer(&dbf->tmp, g_free);
	ok = ics_fsync_dir(state_dir, error);
out:
	listed_clear(files, n);
	return ok;
}
