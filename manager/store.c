/*
 * store.c: opening, migrating and sharing the manager's SQLite database.
 *
 * The database is opened once.  Pragmas are set on every open because
 * SQLite does not persist foreign_keys or busy_timeout: WAL journal (readers
 * never block the writer, a crash loses no committed transaction),
 * synchronous=FULL (an acknowledged write survives power loss: the manager
 * volume is replicated below us and a lost commit would be a lost user
 * action), foreign keys on.  Migrations are applied one transaction each, the
 * schema_version row updated in the same transaction, so a crash during an
 * upgrade leaves the database at a version it really has.
 *
 * Statements are cached in a hash table keyed by their SQL text and
 * prepared with SQLITE_PREPARE_PERSISTENT; a request only binds and steps.
 *
 * Besides the one writer connection (under a recursive mutex) a few
 * read-only connections serve reads in parallel: WAL lets them read a
 * consistent snapshot while the writer commits.  A thread takes one with
 * ics_store_read_begin(); until ics_store_read_end(), ics_store_stmt() on
 * that thread prepares on it, so the modules' query functions need not
 * know which connection they run on.
 *
 * A snapshot (the system backup) copies the database with SQLite's online
 * backup API from a reader: one read transaction, so the copy is one
 * consistent point in time, and the writer goes on committing meanwhile.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ics/error.h"
#include "ics/log.h"
#include "ics/manager/store.h"

#define N_READERS 4

/* A read-only connection and its statement cache. */
typedef struct {
	IcsStore *store;
	sqlite3 *db;
	GHashTable *stmts; /* SQL text -> sqlite3_stmt* */
} Reader;

struct IcsStore {
	sqlite3 *db; /* the writer */
	char *path;
	GRecMutex lock;
	/* The thread holding @lock and how many times (atomic pointer: read
	 * without the lock, it can only equal the reader's own thread when
	 * that thread holds the lock). */
	GThread *owner;
	guint depth;
	GHashTable *stmts; /* SQL text -> sqlite3_stmt* */
	guint version;
	Reader readers[N_READERS];
	GAsyncQueue *free_readers; /* Reader* not in use */
};

/* The reader the calling thread holds (ics_store_read_begin), if any. */
static GPrivate current_reader;

static void finalize_stmt(gpointer st)
{
	sqlite3_finalize(st);
}

static gboolean writer_held(IcsStore *store, const char *sql, GError **error);

static gboolean db_error(IcsStore *store, int rc, GError **error, const char *what)
{
	int code = ICS_ERROR_IO;

	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		code = ICS_ERROR_CONFLICT;
	else if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED)
		code = ICS_ERROR_BUSY;
	g_set_error(error, ICS_ERROR, code, "database %s: %s: %s", store->path, what,
		    sqlite3_errmsg(store->db));
	return FALSE;
}

gboolean ics_store_exec(IcsStore *store, const char *sql, GError **error)
{
	int rc;

	if (!writer_held(store, sql, error))
		return FALSE;
	rc = sqlite3_exec(store->db, sql, NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return db_error(store, rc, error, "exec");
	return TRUE;
}

static gboolean read_version(IcsStore *store, guint *out, GError **error)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (!ics_store_exec(store,
			    "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)",
			    error))
		return FALSE;
	rc = sqlite3_prepare_v2(store->db, "SELECT max(version) FROM schema_version", -1, &st,
				NULL);
	if (rc != SQLITE_OK)
		return db_error(store, rc, error, "reading the schema version");
	*out = sqlite3_step(st) == SQLITE_ROW ? (guint)sqlite3_column_int(st, 0) : 0;
	sqlite3_finalize(st);
	return TRUE;
}

static gboolean migrate(IcsStore *store, guint target, GError **error)
{
	if (!read_version(store, &store->version, error))
		return FALSE;
	if (store->version > ics_store_n_migrations) {
		return ics_error_invalid(
			error,
			"database %s has schema version %u, this ics-managerd knows "
			"up to %u; run a newer ics-managerd",
			store->path, store->version, ics_store_n_migrations);
	}
	while (store->version < target) {
		guint next = store->version + 1;
		g_autofree char *bump = g_strdup_printf(
			"DELETE FROM schema_version; INSERT INTO schema_version VALUES (%u);",
			next);

		if (!ics_store_exec(store, "BEGIN IMMEDIATE", error))
			return FALSE;
		if (!ics_store_exec(store, ics_store_migrations[next - 1], error) ||
		    !ics_store_exec(store, bump, error) ||
		    !ics_store_exec(store, "COMMIT", error)) {
			ics_error_prefix(error, "migration to schema version %u: ", next);
			sqlite3_exec(store->db, "ROLLBACK", NULL, NULL, NULL);
			return FALSE;
		}
		ics_info("database %s: migrated to schema version %u", store->path, next);
		store->version = next;
	}
	return TRUE;
}

static gboolean open_readers(IcsStore *store, GError **error)
{
	store->free_readers = g_async_queue_new();
	for (guint i = 0; i < N_READERS; i++) {
		Reader *r = &store->readers[i];
		int rc;

		r->store = store;
		r->stmts = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, finalize_stmt);
		rc = sqlite3_open_v2(store->path, &r->db,
				     SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
		if (rc != SQLITE_OK ||
		    sqlite3_exec(r->db, "PRAGMA busy_timeout=5000; PRAGMA query_only=1;", NULL,
				 NULL, NULL) != SQLITE_OK) {
			g_set_error(error, ICS_ERROR, ICS_ERROR_IO,
				    "database %s: read connection: %s", store->path,
				    r->db ? sqlite3_errmsg(r->db) : sqlite3_errstr(rc));
			return FALSE;
		}
		sqlite3_extended_result_codes(r->db, 1);
		g_async_queue_push(store->free_readers, r);
	}
	return TRUE;
}

IcsStore *ics_store_open_at(const char *path, guint version, GError **error)
{
	g_autoptr(IcsStore) store = g_new0(IcsStore, 1);
	gboolean ok;
	int rc;

	g_rec_mutex_init(&store->lock);
	store->path = g_strdup(path);
	store->stmts = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, finalize_stmt);
	rc = sqlite3_open_v2(path, &store->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			     NULL);
	if (rc != SQLITE_OK) {
		db_error(store, rc, error, "open");
		return NULL;
	}
	sqlite3_extended_result_codes(store->db, 1);
	/* Password hashes and sealed secrets: owner only.  SQLite gives the
	 * -wal and -shm files the database's mode. */
	if (chmod(path, 0600) != 0) {
		ics_error_set_errno(error, errno, "cannot restrict the mode of %s", path);
		return NULL;
	}
	ics_store_lock(store);
	ok = ics_store_exec(store,
			    "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
			    " PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000;",
			    error) &&
	     migrate(store, MIN(version, ics_store_n_migrations), error);
	ics_store_unlock(store);
	if (!ok)
		return NULL;
	if (!open_readers(store, error))
		return NULL;
	return g_steal_pointer(&store);
}

IcsStore *ics_store_open(const char *path, GError **error)
{
	return ics_store_open_at(path, ics_store_n_migrations, error);
}

void ics_store_close(IcsStore *store)
{
	if (store == NULL)
		return;
	for (guint i = 0; i < N_READERS; i++) {
		if (store->readers[i].stmts)
			g_hash_table_destroy(store->readers[i].stmts);
		if (store->readers[i].db)
			sqlite3_close(store->readers[i].db);
	}
	if (store->free_readers)
		g_async_queue_unref(store->free_readers);
	if (store->stmts)
		g_hash_table_destroy(store->stmts);
	if (store->db)
		sqlite3_close(store->db);
	g_rec_mutex_clear(&store->lock);
	g_free(store->path);
	g_free(store);
}

guint ics_store_version(IcsStore *store)
{
	return store->version;
}

guint ics_store_latest_version(void)
{
	return ics_store_n_migrations;
}

/*
 * The writer connection is used only by the thread that holds the lock;
 * everything that runs SQL on it checks that here.  A statement without
 * the lock (or a reader) is a programming error that would corrupt the
 * connection's state under concurrency: it is refused, every time, with a
 * critical log line -- fatal in the test suite (G_DEBUG=fatal-criticals) --
 * instead of working until two threads meet.
 */
static gboolean writer_held(IcsStore *store, const char *sql, GError **error)
{
	if (g_atomic_pointer_get(&store->owner) == g_thread_self())
		return TRUE;
	g_critical("database %s: SQL on the writer connection without the store lock "
		   "(ics_store_lock/ics_store_begin) or a reader (ics_store_read_begin): %s",
		   store->path, sql);
	g_set_error(error, ICS_ERROR, ICS_ERROR_IO,
		    "internal error: database statement outside a transaction");
	return FALSE;
}

gboolean ics_store_locked(IcsStore *store)
{
	return g_atomic_pointer_get(&store->owner) == g_thread_self();
}

void ics_store_lock(IcsStore *store)
{
	g_rec_mutex_lock(&store->lock);
	if (store->depth++ == 0)
		g_atomic_pointer_set(&store->owner, g_thread_self());
}

void ics_store_unlock(IcsStore *store)
{
	g_assert(ics_store_locked(store) && store->depth > 0);
	if (--store->depth == 0)
		g_atomic_pointer_set(&store->owner, NULL);
	g_rec_mutex_unlock(&store->lock);
}

gboolean ics_store_begin(IcsStore *store, GError **error)
{
	ics_store_lock(store);
	if (!ics_store_exec(store, "BEGIN IMMEDIATE", error)) {
		ics_store_unlock(store);
		return FALSE;
	}
	return TRUE;
}

gboolean ics_store_commit(IcsStore *store, GError **error)
{
	gboolean ok = ics_store_exec(store, "COMMIT", error);

	if (!ok)
		sqlite3_exec(store->db, "ROLLBACK", NULL, NULL, NULL);
	ics_store_unlock(store);
	return ok;
}

void ics_store_rollback(IcsStore *store)
{
	g_assert(ics_store_locked(store));
	if (!sqlite3_get_autocommit(store->db))
		sqlite3_exec(store->db, "ROLLBACK", NULL, NULL, NULL);
	ics_store_unlock(store);
}

void ics_stmt_release(IcsStmt *stmt)
{
	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
}

void ics_store_read_begin(IcsStore *store)
{
	Reader *r;

	/* One reader per thread: a nested begin would lose the outer one. */
	g_assert(g_private_get(&current_reader) == NULL);
	r = g_async_queue_pop(store->free_readers);
	/* One read transaction: every statement sees the same snapshot.  A
	 * BEGIN that fails leaves the connection in autocommit mode, where
	 * each statement still reads a consistent (if newer) snapshot; it is
	 * logged, not fatal. */
	if (sqlite3_exec(r->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		g_warning("database %s: cannot begin a read transaction: %s", store->path,
			  sqlite3_errmsg(r->db));
	g_private_set(&current_reader, r);
}

void ics_store_read_end(IcsStore *store)
{
	Reader *r = g_private_get(&current_reader);

	g_assert(r != NULL && r->store == store);
	if (!sqlite3_get_autocommit(r->db))
		sqlite3_exec(r->db, "COMMIT", NULL, NULL, NULL);
	g_private_set(&current_reader, NULL);
	g_async_queue_push(store->free_readers, r);
}

gboolean ics_store_reading(IcsStore *store)
{
	Reader *r = g_private_get(&current_reader);

	return r != NULL && r->store == store;
}

IcsStmt *ics_store_stmt(IcsStore *store, const char *sql, GError **error)
{
	Reader *r = g_private_get(&current_reader);
	sqlite3 *db = store->db;
	GHashTable *cache = store->stmts;
	sqlite3_stmt *st;
	int rc;

	if (r != NULL && r->store == store) {
		db = r->db;
		cache = r->stmts;
	} else if (!writer_held(store, sql, error)) {
		return NULL;
	}
	st = g_hash_table_lookup(cache, sql);
	if (st != NULL)
		return st;
	rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
	if (rc != SQLITE_OK) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_IO, "database %s: prepare: %s", store->path,
			    sqlite3_errmsg(db));
		return NULL;
	}
	g_hash_table_insert(cache, (gpointer)sql, st);
	return st;
}

int ics_stmt_step(IcsStmt *stmt, GError **error)
{
	int rc = sqlite3_step(stmt);
	sqlite3 *db = sqlite3_db_handle(stmt);
	int code = ICS_ERROR_IO;

	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		return rc;
	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		code = ICS_ERROR_CONFLICT;
	else if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED)
		code = ICS_ERROR_BUSY;
	g_set_error(error, ICS_ERROR, code, "database: %s", sqlite3_errmsg(db));
	return -1;
}

gboolean ics_stmt_run(IcsStmt *stmt, GError **error)
{
	return ics_stmt_step(stmt, error) == SQLITE_DONE;
}

void ics_stmt_bind_text(IcsStmt *stmt, int idx, const char *text)
{
	if (text == NULL)
		sqlite3_bind_null(stmt, idx);
	else
		sqlite3_bind_text(stmt, idx, text, -1, SQLITE_TRANSIENT);
}

void ics_stmt_bind_int(IcsStmt *stmt, int idx, gint64 value)
{
	sqlite3_bind_int64(stmt, idx, value);
}

const char *ics_stmt_text(IcsStmt *stmt, int col)
{
	return (const char *)sqlite3_column_text(stmt, col);
}

gint64 ics_store_changes(IcsStore *store)
{
	g_assert(ics_store_locked(store));
	return sqlite3_changes64(store->db);
}

gint64 ics_store_last_insert_id(IcsStore *store)
{
	g_assert(ics_store_locked(store));
	return sqlite3_last_insert_rowid(store->db);
}

gboolean ics_store_writable(IcsStore *store, GError **error)
{
	if (!ics_store_begin(store, error))
		return FALSE;
	ics_store_rollback(store);
	return TRUE;
}

gboolean ics_store_snapshot(IcsStore *store, const char *dest, const volatile gint *cancel,
			    GError **error)
{
	sqlite3 *out = NULL;
	sqlite3_backup *b;
	Reader *r;
	int fd, rc;

	g_assert(g_private_get(&current_reader) == NULL);
	/* owner only from the first byte: password hashes and sealed secrets */
	fd = open(dest, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		ics_error_set_errno(error, errno, "cannot create %s", dest);
		return FALSE;
	}
	close(fd);
	rc = sqlite3_open_v2(dest, &out, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_IO, "database copy %s: %s", dest,
			    out ? sqlite3_errmsg(out) : sqlite3_errstr(rc));
		sqlite3_close(out);
		return FALSE;
	}
	r = g_async_queue_pop(store->free_readers);
	/* One read transaction on the source across every step: the copy is
	 * that snapshot, however the writer commits meanwhile, and it goes in
	 * steps so that a cancel (the manager stopping) is heard. */
	rc = sqlite3_exec(r->db, "BEGIN; SELECT count(*) FROM sqlite_master;", NULL, NULL, NULL);
	b = rc == SQLITE_OK ? sqlite3_backup_init(out, "main", r->db, "main") : NULL;
	if (b == NULL && rc == SQLITE_OK)
		rc = sqlite3_errcode(out);
	while (b && (rc = sqlite3_backup_step(b, 32)) == SQLITE_OK) {
		if (cancel && g_atomic_int_get(cancel)) {
			rc = SQLITE_INTERRUPT;
			break;
		}
	}
	if (b && sqlite3_backup_finish(b) != SQLITE_OK && rc == SQLITE_DONE)
		rc = sqlite3_errcode(out);
	if (!sqlite3_get_autocommit(r->db))
		sqlite3_exec(r->db, "COMMIT", NULL, NULL, NULL);
	g_async_queue_push(store->free_readers, r);
	if (rc == SQLITE_INTERRUPT) {
		sqlite3_close(out);
		g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT, "cancelled");
		return FALSE;
	}
	/* one self-contained file, checked before it is called a copy */
	if (rc == SQLITE_DONE)
		rc = sqlite3_exec(out, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_stmt *st = NULL;

		rc = sqlite3_prepare_v2(out, "PRAGMA quick_check", -1, &st, NULL);
		if (rc == SQLITE_OK &&
		    (sqlite3_step(st) != SQLITE_ROW ||
		     g_strcmp0((const char *)sqlite3_column_text(st, 0), "ok") != 0))
			rc = SQLITE_CORRUPT;
		sqlite3_finalize(st);
	}
	if (rc != SQLITE_OK) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_IO, "database copy %s: %s", dest,
			    rc == SQLITE_CORRUPT ? "the copy fails its integrity check"
						 : sqlite3_errmsg(out));
		sqlite3_close(out);
		return FALSE;
	}
	if (sqlite3_close(out) != SQLITE_OK) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_IO, "database copy %s: cannot close it",
			    dest);
		return FALSE;
	}
	fd = open(dest, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fsync(fd) < 0) {
		ics_error_set_errno(error, errno, "cannot sync %s", dest);
		if (fd >= 0)
			close(fd);
		return FALSE;
	}
	close(fd);
	return TRUE;
}
