/*
 * ics/manager/store.h: the manager's SQLite database.
 *
 * One database file in the state directory holds inventory, users, roles,
 * sessions, audit and tasks.  It is opened once at start (WAL journal,
 * foreign keys on, a busy timeout) and brought to the newest schema by
 * applying the missing migrations, each in its own transaction; the version
 * reached is kept in the table schema_version.
 *
 * Concurrency: one writer connection, guarded by a recursive mutex, and a
 * small pool of read-only connections.  Writes (and reads that must see
 * the writer's uncommitted changes) take the lock: ics_store_lock, or
 * ics_store_begin for a write transaction.  Pure reads may instead run on
 * a reader (ics_store_read_begin/end), in parallel with each other and
 * with the writer.  A statement asked for without either is refused
 * (NULL, an internal error and a critical log line, fatal in the tests):
 * the writer connection is never touched by a thread that does not hold
 * its lock.  Statements are prepared once per connection and cached per
 * SQL text, so a request never compiles SQL and never reopens the
 * database.  All values go through bound parameters.
 */
#ifndef ICS_MANAGER_STORE_H
#define ICS_MANAGER_STORE_H

#include <glib.h>
#include <sqlite3.h>

typedef struct IcsStore IcsStore;

/* Open (creating if needed) the database at @path and migrate it to the
 * newest schema version.  ICS_ERROR_IO when SQLite fails, naming the file;
 * ICS_ERROR_INVALID_ARGUMENT when the file's schema is newer than this
 * program knows. */
IcsStore *ics_store_open(const char *path, GError **error);
/* The same, but stop at @version (tests: an old database to upgrade). */
IcsStore *ics_store_open_at(const char *path, guint version, GError **error);
void ics_store_close(IcsStore *store);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(IcsStore, ics_store_close)

/* The schema version of the open database, and the newest one known. */
guint ics_store_version(IcsStore *store);
guint ics_store_latest_version(void);

/* Take and release the writer connection (recursive), for reads that
 * must see uncommitted writes or for a few writes outside a transaction. */
void ics_store_lock(IcsStore *store);
void ics_store_unlock(IcsStore *store);
/* Does the calling thread hold the writer lock / a reader? */
gboolean ics_store_locked(IcsStore *store);
gboolean ics_store_reading(IcsStore *store);

/* Take a read-only connection for the calling thread (waiting for one
 * when all are busy) and open a read transaction on it; until
 * ics_store_read_end(), ics_store_stmt() on this thread uses it.  Only
 * SELECTs may run in between; a thread holds at most one reader. */
void ics_store_read_begin(IcsStore *store);
void ics_store_read_end(IcsStore *store);

/* Take the connection and start a write transaction (BEGIN IMMEDIATE);
 * end it with ics_store_commit() or ics_store_rollback(), which release the
 * connection.  A failed commit rolls back and releases too. */
gboolean ics_store_begin(IcsStore *store, GError **error);
gboolean ics_store_commit(IcsStore *store, GError **error);
void ics_store_rollback(IcsStore *store);

/* A cached prepared statement, reset and unbound on release. */
typedef sqlite3_stmt IcsStmt;
void ics_stmt_release(IcsStmt *stmt);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(IcsStmt, ics_stmt_release)

/* The statement for @sql (a string constant), prepared on first use, on
 * the thread's reader if it holds one, else on the writer.  The caller
 * holds the lock (or a reader) and releases the statement before
 * unlocking. */
IcsStmt *ics_store_stmt(IcsStore *store, const char *sql, GError **error);

/* Step @stmt: SQLITE_ROW or SQLITE_DONE, or -1 with @error set
 * (ICS_ERROR_CONFLICT for a constraint violation, ICS_ERROR_BUSY when the
 * database is locked, ICS_ERROR_IO otherwise). */
int ics_stmt_step(IcsStmt *stmt, GError **error);
/* Step a statement that returns no rows; FALSE with @error on failure. */
gboolean ics_stmt_run(IcsStmt *stmt, GError **error);

/* Bind helpers (1-based index); a NULL string binds SQL NULL. */
void ics_stmt_bind_text(IcsStmt *stmt, int idx, const char *text);
void ics_stmt_bind_int(IcsStmt *stmt, int idx, gint64 value);
/* Column text, or NULL; borrowed until the next step. */
const char *ics_stmt_text(IcsStmt *stmt, int col);

/* Run SQL without parameters (the lock held). */
gboolean ics_store_exec(IcsStore *store, const char *sql, GError **error);
/* Rows changed by the last statement; id of the last inserted row. */
gint64 ics_store_changes(IcsStore *store);
gint64 ics_store_last_insert_id(IcsStore *store);

/* A write probe for health checks: TRUE when a write transaction can be
 * started (and is rolled back at once). */
gboolean ics_store_writable(IcsStore *store, GError **error);

/* Copy the whole database, as of one moment, into the new file @dest
 * (mode 0600; refused if it exists) with SQLite's online backup API, on
 * a reader: writers are not held up.  The copy is a single file (no
 * journal), passes quick_check and is synced.  It is copied in steps,
 * all in one read transaction; when *@cancel (may be NULL) becomes true it
 * stops with INVALID_ARGUMENT "cancelled".  The caller holds neither the
 * lock nor a reader; on failure @dest may be left for the caller to
 * remove. */
gboolean ics_store_snapshot(IcsStore *store, const char *dest, const volatile gint *cancel,
			    GError **error);

/* ---- schema (store_schema.c) ------------------------------------------ */

/* The migrations, oldest first: migration i (0-based) brings the schema
 * from version i to i + 1. */
extern const char *const ics_store_migrations[];
extern const guint ics_store_n_migrations;

#endif /* ICS_MANAGER_STORE_H */
