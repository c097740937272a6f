/*
 * test_store.c: the database -- a fresh database reaches the newest schema,
 * a version 1 database is upgraded keeping its rows, reopening changes
 * nothing, foreign keys are enforced, WAL is on, the file is mode 0600,
 * and a database newer than the program is refused.  Concurrency: SQL on
 * the writer connection without its lock is refused every time (not only
 * when two threads meet), and writers and readers on many threads at once
 * lose no acknowledged write and leave an intact database.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "ics/error.h"
#include "ics/manager/store.h"
#include "mgr_test_util.h"

static int setup(void **state)
{
	*state = g_dir_make_tmp("ics-store-XXXXXX", NULL);
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	test_rm_rf(*state);
	g_free(*state);
	return 0;
}

static gint64 count(IcsStore *s, const char *sql)
{
	g_autoptr(GError) err = NULL;
	g_autoptr(IcsStmt) st = ics_store_stmt(s, sql, &err);

	assert_non_null(st);
	assert_int_equal(ics_stmt_step(st, &err), SQLITE_ROW);
	return sqlite3_column_int64(st, 0);
}

static void test_fresh(void **state)
{
	g_autofree char *path = g_build_filename(*state, "m.db", NULL);
	g_autoptr(GError) err = NULL;
	g_autoptr(IcsStore) s = ics_store_open(path, &err);

	assert_non_null(s);
	assert_int_equal(ics_store_version(s), ics_store_latest_version());
	assert_true(ics_store_latest_version() >= 3);
	ics_store_lock(s);
	assert_int_equal(count(s, "SELECT count(*) FROM roles WHERE builtin"), 3);
	assert_int_equal(count(s, "SELECT count(*) FROM vms"), 0);
	assert_int_equal(count(s, "SELECT count(*) FROM apikeys"), 0);
	ics_store_unlock(s);
}

static void test_upgrade_from_v1(void **state)
{
	g_autofree char *path = g_build_filename(*state, "m.db", NULL);
	g_autoptr(GError) err = NULL;
	IcsStore *s = ics_store_open_at(path, 1, &err);

	assert_non_null(s);
	assert_int_equal(ics_store_version(s), 1);
	assert_true(ics_store_begin(s, &err));
	assert_true(ics_store_exec(s,
				   "INSERT INTO users (name, password_hash, created_us, updated_us)"
				   " VALUES ('old', 'x', 1, 1)",
				   &err));
	assert_true(ics_store_commit(s, &err));
	/* No vms table yet at version 1. */
	ics_store_lock(s);
	assert_null(ics_store_stmt(s, "SELECT count(*) FROM vms", &err));
	ics_store_unlock(s);
	g_clear_error(&err);
	ics_store_close(s);

	s = ics_store_open(path, &err);
	assert_non_null(s);
	assert_int_equal(ics_store_version(s), ics_store_latest_version());
	ics_store_lock(s);
	assert_int_equal(count(s, "SELECT count(*) FROM users WHERE name = 'old'"), 1);
	assert_int_equal(count(s, "SELECT count(*) FROM vms"), 0);
	assert_int_equal(count(s, "SELECT count(*) FROM schema_version"), 1);
	ics_store_unlock(s);
	ics_store_close(s);
}

static void test_reopen_idempotent(void **state)
{
	g_autofree char *path = g_build_filename(*state, "m.db", NULL);
	g_autoptr(GError) err = NULL;

	for (int i = 0; i < 3; i++) {
		g_autoptr(IcsStore) s = ics_store_open(path, &err);

		assert_non_null(s);
		assert_int_equal(ics_store_version(s), ics_store_latest_version());
		ics_store_lock(s);
		assert_int_equal(count(s, "SELECT count(*) FROM roles"), 3);
		assert_int_equal(count(s, "SELECT version FROM schema_version"),
				 ics_store_latest_version());
		ics_store_unlock(s);
	}
}

static void test_pragmas(void **state)
{
	g_autofree char *path = g_build_filename(*state, "m.db", NULL);
	g_autoptr(GError) err = NULL;
	g_autoptr(IcsStore) s = ics_store_open(path, &err);

	ics_store_lock(s);
	assert_int_equal(count(s, "PRAGMA foreign_keys"), 1);
	{
		g_autoptr(IcsStmt) st = ics_store_stmt(s, "PRAGMA journal_mode", &err);

		assert_int_equal(ics_stmt_step(st, &err), SQLITE_ROW);
		assert_string_equal(ics_stmt_text(st, 0), "wal");
	}
	/* A session of a user that does not exist violates a foreign key. */
	{
		g_autoptr(IcsStmt) st = ics_store_stmt(
			s,
			"INSERT INTO sessions (user_id, token_hash, created_us, last_seen_us,"
			" expires_us) VALUES (4242, 'h', 1, 1, 2)",
			&err);

		assert_false(ics_stmt_run(st, &err));
		assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_CONFLICT));
	}
	ics_store_unlock(s);
	assert_true(ics_store_writable(s, NULL));
	/* Hashes and sealed secrets: readable by the owner only. */
	struct stat sb;
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
}

static void test_newer_refused(void **state)
{
	g_autofree char *path = g_build_filename(*state, "m.db", NULL);
	g_autoptr(GError) err = NULL;
	IcsStore *s = ics_store_open(path, &err);

	assert_true(ics_store_begin(s, &err));
	assert_true(ics_store_exec(s, "UPDATE schema_version SET version = 999", &err));
	assert_true(ics_store_commit(s, &err));
	ics_store_close(s);
	s = ics_store_open(path, &err);
	assert_null(s);
	assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT));
	assert_non_null(strstr(err->message, "999"));
}

/* ---- misuse and threads ------------------------------------------------ */

static guint criticals;

static void count_critical(const gchar *domain, GLogLevelFlags level, const gchar *msg,
			   gpointer data)
{
	if (level & G_LOG_LEVEL_CRITICAL)
		g_atomic_int_inc(&criticals);
}

static void test_misuse_refused(void **state)
{
	g_autofree char *path = g_build_filename(*state, "m.db", NULL);
	g_autoptr(GError) err = NULL;
	g_autoptr(IcsStore) s = ics_store_open(path, &err);
	GLogLevelFlags fatal = g_log_set_always_fatal(G_LOG_FATAL_MASK);
	GLogFunc old = g_log_set_default_handler(count_critical, NULL);

	criticals = 0;
	/* Neither the lock nor a reader: refused, whatever the statement. */
	assert_null(ics_store_stmt(s, "SELECT count(*) FROM users", &err));
	assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_IO));
	g_clear_error(&err);
	assert_false(ics_store_exec(s, "DELETE FROM users", &err));
	g_clear_error(&err);
	assert_int_equal(criticals, 2);
	assert_false(ics_store_locked(s));
	assert_false(ics_store_reading(s));
	g_log_set_default_handler(old, NULL);
	g_log_set_always_fatal(fatal);

	/* With a reader, or the lock, the same statements run. */
	ics_store_read_begin(s);
	assert_true(ics_store_reading(s));
	assert_int_equal(count(s, "SELECT count(*) FROM roles"), 3);
	ics_store_read_end(s);
	ics_store_lock(s);
	ics_store_lock(s); /* recursive */
	assert_true(ics_store_locked(s));
	ics_store_unlock(s);
	assert_true(ics_store_locked(s));
	assert_int_equal(count(s, "SELECT count(*) FROM roles"), 3);
	ics_store_unlock(s);
	assert_false(ics_store_locked(s));
}

#define WRITERS 4
#define READERS 4
#define WRITES 150

typedef struct {
	IcsStore *store;
	guint id;
	gint acked;  /* writes whose commit returned TRUE */
	gint errors; /* failed statements, anywhere */
	gint reads;
	volatile gint *writers_left;
} Worker;

static gpointer writer(gpointer data)
{
	Worker *w = data;

	for (guint i = 0; i < WRITES; i++) {
		g_autoptr(GError) err = NULL;
		g_autofree char *name = g_strdup_printf("w%u-%u", w->id, i);
		gboolean ok = ics_store_begin(w->store, &err);

		if (ok) {
			g_autoptr(IcsStmt) st = ics_store_stmt(
				w->store,
				"INSERT INTO users (name, password_hash, created_us, updated_us)"
				" VALUES (?, 'x', 1, 1)",
				&err);

			ok = st != NULL;
			if (ok) {
				ics_stmt_bind_text(st, 1, name);
				ok = ics_stmt_run(st, &err);
			}
			if (!ok)
				ics_store_rollback(w->store);
		}
		if (ok && ics_store_commit(w->store, &err))
			w->acked++;
		else
			w->errors++;
		/* A read on the writer, under the lock, between writes. */
		ics_store_lock(w->store);
		{
			g_autoptr(IcsStmt) st =
				ics_store_stmt(w->store, "SELECT count(*) FROM users", &err);

			if (st == NULL || ics_stmt_step(st, &err) != SQLITE_ROW)
				w->errors++;
		}
		ics_store_unlock(w->store);
	}
	g_atomic_int_dec_and_test(w->writers_left);
	return NULL;
}

static gpointer reader(gpointer data)
{
	Worker *w = data;

	while (g_atomic_int_get(w->writers_left) > 0) {
		g_autoptr(GError) err = NULL;
		gint64 n = -1, seen = 0;

		ics_store_read_begin(w->store);
		{
			g_autoptr(IcsStmt) a =
				ics_store_stmt(w->store, "SELECT count(*) FROM users", &err);

			if (a && ics_stmt_step(a, &err) == SQLITE_ROW)
				n = sqlite3_column_int64(a, 0);
		}
		{
			g_autoptr(IcsStmt) b = ics_store_stmt(
				w->store, "SELECT name FROM users ORDER BY name", &err);
			int rc;

			while (b && (rc = ics_stmt_step(b, &err)) == SQLITE_ROW)
				seen++;
		}
		ics_store_read_end(w->store);
		/* One read transaction: both statements saw the same snapshot. */
		if (n < 0 || seen != n)
			w->errors++;
		w->reads++;
	}
	return NULL;
}

static void test_threads(void **state)
{
	g_autofree char *path = g_build_filename(*state, "m.db", NULL);
	g_autoptr(GError) err = NULL;
	g_autoptr(IcsStore) s = ics_store_open(path, &err);
	Worker w[WRITERS + READERS] = { 0 };
	GThread *th[WRITERS + READERS];
	volatile gint left = WRITERS;
	gint acked = 0;

	for (guint i = 0; i < WRITERS + READERS; i++) {
		w[i] = (Worker){ .store = s, .id = i, .writers_left = &left };
		th[i] = g_thread_new(i < WRITERS ? "writer" : "reader",
				     i < WRITERS ? writer : reader, &w[i]);
	}
	for (guint i = 0; i < WRITERS + READERS; i++) {
		g_thread_join(th[i]);
		assert_int_equal(w[i].errors, 0);
		acked += w[i].acked;
		if (i >= WRITERS)
			assert_true(w[i].reads > 0);
	}
	assert_int_equal(acked, WRITERS * WRITES);
	ics_store_close(g_steal_pointer(&s));

	/* Reopened: every acknowledged write is there, the file is intact. */
	s = ics_store_open(path, &err);
	assert_non_null(s);
	ics_store_lock(s);
	assert_int_equal(count(s, "SELECT count(*) FROM users WHERE name LIKE 'w%'"), acked);
	{
		g_autoptr(IcsStmt) st = ics_store_stmt(s, "PRAGMA integrity_check", &err);

		assert_int_equal(ics_stmt_step(st, &err), SQLITE_ROW);
		assert_string_equal(ics_stmt_text(st, 0), "ok");
	}
	ics_store_unlock(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fresh, setup, teardown),
		cmocka_unit_test_setup_teardown(test_upgrade_from_v1, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen_idempotent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pragmas, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newer_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_misuse_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
