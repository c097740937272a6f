/*
 * test_store.c: the database -- a fresh database reaches the newest schema,
 * a version 1 database is upgraded keeping its rows, reopening changes
 * nothing, foreign keys are enforced, WAL is on, the file is mode 0600,
 * and a database newer than the program is refused.
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fresh, setup, teardown),
		cmocka_unit_test_setup_teardown(test_upgrade_from_v1, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen_idempotent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pragmas, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newer_refused, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
