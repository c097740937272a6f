/*
 * test_system_backup.c: the manager's own backup -- taken through the API
 * while four users write at once (the copy is one point in time: each
 * writer's acknowledged writes in it are a prefix of what it wrote, and
 * every write acknowledged before the backup was asked for is there),
 * listed, kept to the newest N by the period, refused to non-administrators
 * and while one runs; then a manager rebuilt from it in a fresh state
 * directory (users, roles, audit and the sealing key come back, sessions
 * do not, the task in flight is failed rather than run again) and the
 * restores that must be refused (a used state directory, a damaged file, a
 * newer schema or format).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <glib/gstdio.h>

#include "ics/manager/system_backup.h"
#include "mgr_test_util.h"

#define WRITERS 4

static guint tweak_period_s;
static guint tweak_keep = 7;
static gboolean tweak_tls;

static void tweak(IcsManagerConfig *cfg)
{
	cfg->system_backup_period_s = tweak_period_s;
	cfg->system_backup_keep = tweak_keep;
	/* with TLS the state directory has a generated certificate to back up */
	cfg->insecure_http = !tweak_tls;
}

static char *contents(const char *dir, const char *name)
{
	g_autofree char *path = g_build_filename(dir, name, NULL);
	char *text = NULL;

	assert_true(g_file_get_contents(path, &text, NULL, NULL));
	return text;
}

typedef struct {
	TestMgr *t;
	int index;
	volatile gint *stop;
	GArray *acked; /* int: the sequence numbers acknowledged, in order */
	gint n_acked;  /* atomic: acked->len, for the other threads */
} Writer;

static gpointer write_roles(gpointer data)
{
	Writer *w = data;

	for (int i = 0; i < 400 && !g_atomic_int_get(w->stop); i++) {
		g_autofree char *body = g_strdup_printf(
			"{\"name\": \"w%d-%03d\", \"permissions\": [\"vm.read\"]}", w->index, i);

		if (test_status(w->t, "POST", "/api/v1/roles", w->t->admin_token, body) == 201) {
			g_array_append_val(w->acked, i);
			g_atomic_int_inc(&w->n_acked);
		}
	}
	return NULL;
}

static char *only_backup(const TestMgr *t)
{
	g_autoptr(TestResp) r = test_http(t, "GET", "/api/v1/system/backups", t->admin_token, NULL);
	json_t *b;

	assert_int_equal(r->status, 200);
	assert_int_equal(json_array_size(json_object_get(r->json, "problems")), 0);
	b = json_array_get(json_object_get(r->json, "backups"), 0);
	assert_non_null(b);
	return g_build_filename(t->dir, "system-backups",
				json_string_value(json_object_get(b, "name")), NULL);
}

static gint64 task_of(const TestResp *r)
{
	assert_int_equal(r->status, 202);
	return json_integer_value(json_object_get(r->json, "id"));
}

static void test_backup_under_writes_and_restore(void **state)
{
	TestMgr *t, *b;
	Writer w[WRITERS];
	GThread *th[WRITERS];
	volatile gint stop = 0;
	guint acked_before[WRITERS];
	g_autofree char *backup = NULL, *fresh = NULL, *key_a = NULL, *key_b = NULL;
	g_autofree char *cert_a = NULL, *cert_b = NULL;
	g_autoptr(GError) err = NULL;
	gint64 id;

	(void)state;
	tweak_period_s = 0;
	tweak_tls = TRUE;
	t = test_mgr_start_in(NULL, NULL, tweak);
	assert_int_equal(test_make_user(t, "alice", "[\"vm_manager\"]"), 201);
	for (int i = 0; i < WRITERS; i++) {
		w[i] = (Writer){ t, i, &stop, g_array_new(FALSE, FALSE, sizeof(int)), 0 };
		th[i] = g_thread_new("writer", write_roles, &w[i]);
	}
	/* let the writers get going, note what they have, then ask */
	while (g_atomic_int_get(&w[0].n_acked) < 10)
		g_usleep(1000);
	for (int i = 0; i < WRITERS; i++)
		acked_before[i] = (guint)g_atomic_int_get(&w[i].n_acked);
	{
		g_autoptr(TestResp) r =
			test_http(t, "POST", "/api/v1/system/backups", t->admin_token, NULL);
		g_autoptr(TestResp) again =
			test_http(t, "POST", "/api/v1/system/backups", t->admin_token, NULL);
		g_autofree char *st = NULL;

		id = task_of(r);
		/* one at a time: the second is refused while the first is
		 * queued or running */
		if (again->status == 202)
			g_free(test_wait_task(t, t->admin_token, task_of(again)));
		else
			assert_int_equal(again->status, 409);
		st = test_wait_task(t, t->admin_token, id);
		assert_string_equal(st, "succeeded");
	}
	g_atomic_int_set(&stop, 1);
	for (int i = 0; i < WRITERS; i++)
		g_thread_join(th[i]);

	/* a vm_manager may neither list nor take system backups */
	{
		g_autofree char *alice = test_login(t, "alice", TEST_PASSWORD);

		assert_int_equal(test_status(t, "GET", "/api/v1/system/backups", alice, NULL), 403);
		assert_int_equal(test_status(t, "POST", "/api/v1/system/backups", alice, NULL), 403);
	}

	/* the oldest backup: the one taken under the writes */
	{
		g_autoptr(TestResp) r =
			test_http(t, "GET", "/api/v1/system/backups", t->admin_token, NULL);
		json_t *list = json_object_get(r->json, "backups");
		json_t *oldest = json_array_get(list, json_array_size(list) - 1);

		assert_true(json_array_size(list) >= 1);
		assert_int_equal(json_integer_value(json_object_get(r->json, "keep")), 7);
		assert_true(json_integer_value(json_object_get(oldest, "bytes")) > 0);
		backup = g_build_filename(t->dir, "system-backups",
					  json_string_value(json_object_get(oldest, "name")), NULL);
	}
	{
		struct stat st;

		assert_int_equal(g_stat(backup, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0700);
	}
	key_a = contents(t->dir, "apikey.key");
	cert_a = contents(t->dir, "tls-cert.pem");

	/* rebuild a manager from it in an empty state directory */
	fresh = g_dir_make_tmp("ics-mgr-restore-XXXXXX", NULL);
	assert_true(ics_system_backup_restore(backup, fresh, &err));
	assert_null(err);
	b = test_mgr_start_in(fresh, NULL, tweak);
	assert_null(b->admin_token); /* no second bootstrap: the admin came back */
	b->admin_token = test_login(b, "admin", t->admin_password);
	assert_non_null(b->admin_token);
	/* sessions do not come back */
	assert_int_equal(test_status(b, "GET", "/api/v1/roles", t->admin_token, NULL), 401);
	{
		g_autofree char *alice = test_login(b, "alice", TEST_PASSWORD);

		assert_non_null(alice);
	}
	/* the sealing key and the certificate clients trust are the original's */
	key_b = contents(fresh, "apikey.key");
	assert_memory_equal(key_a, key_b, 32);
	cert_b = contents(fresh, "tls-cert.pem");
	assert_string_equal(cert_a, cert_b);
	/* one point in time: each writer's roles are a prefix of what it
	 * wrote, holding at least what was acknowledged before the request */
	{
		g_autoptr(TestResp) r = test_http(b, "GET", "/api/v1/roles", b->admin_token, NULL);
		json_t *items = json_object_get(r->json, "items"), *role;
		int have[WRITERS] = { 0 };
		gint64 max[WRITERS];
		size_t i;

		for (int k = 0; k < WRITERS; k++)
			max[k] = -1;
		json_array_foreach (items, i, role) {
			int wi, seq;

			if (sscanf(json_string_value(json_object_get(role, "name")), "w%d-%d", &wi,
				   &seq) == 2) {
				have[wi]++;
				max[wi] = MAX(max[wi], seq);
			}
		}
		for (int k = 0; k < WRITERS; k++) {
			assert_true((guint)have[k] >= acked_before[k]);
			assert_int_equal(have[k], max[k] + 1);
			for (int j = 0; j < have[k]; j++)
				assert_int_equal(g_array_index(w[k].acked, int, j), j);
		}
	}
	/* the backup task was running in the copy: failed there, not rerun */
	{
		g_autofree char *path = g_strdup_printf("/api/v1/tasks/%" G_GINT64_FORMAT, id);
		g_autoptr(TestResp) r = test_http(b, "GET", path, b->admin_token, NULL);

		assert_int_equal(r->status, 200);
		assert_string_equal(test_str(r, "state"), "failed");
		assert_non_null(strstr(test_str(r, "error"), "restored from a system backup"));
	}
	/* the audit trail came back, with the restore in it */
	{
		g_autoptr(TestResp) r = test_http(b, "GET", "/api/v1/audit?action=user.create",
						  b->admin_token, NULL);
		g_autoptr(TestResp) rr = test_http(b, "GET", "/api/v1/audit?action=system.restore",
						   b->admin_token, NULL);

		assert_int_equal(r->status, 200);
		assert_true(json_array_size(json_object_get(r->json, "items")) >= 1);
		assert_int_equal(json_array_size(json_object_get(rr->json, "items")), 1);
	}
	test_mgr_stop(b, FALSE);
	for (int i = 0; i < WRITERS; i++)
		g_array_free(w[i].acked, TRUE);
	test_mgr_stop(t, FALSE);
	tweak_tls = FALSE;
}

/* Rewrite a member of @backup's manifest. */
static void set_manifest(const char *backup, const char *key, json_t *value)
{
	g_autofree char *path = g_build_filename(backup, "manifest.json", NULL);
	g_autoptr(json_t) m = json_load_file(path, 0, NULL);

	assert_non_null(m);
	json_object_set_new(m, key, value);
	assert_int_equal(json_dump_file(m, path, 0), 0);
}

static void copy_tree(const char *from, const char *to)
{
	g_autofree char *cmd = g_strdup_printf("cp -a '%s' '%s'", from, to);

	assert_int_equal(system(cmd), 0);
}

static void test_restore_refusals(void **state)
{
	TestMgr *t;
	g_autofree char *backup = NULL, *tmp = g_dir_make_tmp("ics-mgr-refuse-XXXXXX", NULL);
	g_autofree char *used = g_build_filename(tmp, "used", NULL);
	g_autofree char *fresh = g_build_filename(tmp, "fresh", NULL);
	g_autofree char *copy = g_build_filename(tmp, "copy", NULL);
	g_autofree char *db = NULL;
	g_autoptr(GError) err = NULL;

	(void)state;
	tweak_period_s = 0;
	t = test_mgr_start_in(NULL, NULL, tweak);
	{
		g_autoptr(TestResp) r =
			test_http(t, "POST", "/api/v1/system/backups", t->admin_token, NULL);
		g_autofree char *st = test_wait_task(t, t->admin_token, task_of(r));

		assert_string_equal(st, "succeeded");
	}
	backup = only_backup(t);

	/* a state directory with a database of its own */
	g_mkdir(used, 0700);
	db = g_build_filename(used, "manager.db", NULL);
	assert_true(g_file_set_contents(db, "x", 1, NULL));
	assert_false(ics_system_backup_restore(backup, used, &err));
	assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT));
	assert_non_null(strstr(err->message, "move the old database"));
	g_clear_error(&err);

	/* an old database's WAL alone: SQLite would replay it over the copy */
	assert_int_equal(g_unlink(db), 0);
	{
		g_autofree char *wal = g_strconcat(db, "-wal", NULL);

		assert_true(g_file_set_contents(wal, "x", 1, NULL));
		assert_false(ics_system_backup_restore(backup, used, &err));
		assert_non_null(strstr(err->message, "-wal"));
		g_clear_error(&err);
		assert_int_equal(g_unlink(wal), 0);
	}
	/* a different sealing key in place: refused; the backup's own (a
	 * restore interrupted after installing it): the retry goes on */
	{
		g_autofree char *key = g_build_filename(used, "apikey.key", NULL);
		g_autofree char *own = g_build_filename(backup, "apikey.key", NULL);
		g_autofree char *text = NULL;
		gsize len;

		assert_true(g_file_set_contents(key, "0123456789abcdef0123456789abcdef", 32, NULL));
		assert_false(ics_system_backup_restore(backup, used, &err));
		assert_non_null(strstr(err->message, "not the backup's sealing key"));
		g_clear_error(&err);
		assert_false(g_file_test(db, G_FILE_TEST_EXISTS));
		assert_true(g_file_get_contents(own, &text, &len, NULL));
		assert_true(g_file_set_contents(key, text, (gssize)len, NULL));
		assert_true(ics_system_backup_restore(backup, used, &err));
		assert_true(g_file_test(db, G_FILE_TEST_EXISTS));
	}

	/* a damaged database copy: nothing is restored */
	copy_tree(backup, copy);
	{
		g_autofree char *p = g_build_filename(copy, "manager.db", NULL);
		FILE *f = fopen(p, "r+");

		assert_non_null(f);
		fseek(f, 200, SEEK_SET);
		fputc(0x5a ^ fgetc(f), f);
		fclose(f);
	}
	assert_false(ics_system_backup_restore(copy, fresh, &err));
	assert_non_null(strstr(err->message, "does not match its checksum"));
	g_clear_error(&err);
	{
		g_autofree char *p = g_build_filename(fresh, "manager.db", NULL);

		assert_false(g_file_test(p, G_FILE_TEST_EXISTS));
	}
	test_rm_rf(copy);

	/* made by a newer ICS: a schema or a format this one does not know */
	copy_tree(backup, copy);
	set_manifest(copy, "schema_version", json_integer(ics_store_latest_version() + 1));
	assert_false(ics_system_backup_restore(copy, fresh, &err));
	assert_non_null(strstr(err->message, "knows up to"));
	g_clear_error(&err);
	set_manifest(copy, "format", json_integer(ICS_SYSTEM_BACKUP_FORMAT + 1));
	assert_false(ics_system_backup_restore(copy, fresh, &err));
	assert_non_null(strstr(err->message, "system backup format"));
	g_clear_error(&err);
	/* not a backup at all */
	assert_false(ics_system_backup_restore(tmp, fresh, &err));
	assert_non_null(strstr(err->message, "not a system backup"));
	g_clear_error(&err);

	/* and the good one still restores */
	assert_true(ics_system_backup_restore(backup, fresh, &err));
	test_mgr_stop(t, FALSE);
	test_rm_rf(tmp);
}

/* The period takes backups by itself and retention keeps the newest. */
static void test_period_and_retention(void **state)
{
	TestMgr *t;
	g_autofree char *dir = NULL;
	json_t *list = NULL;

	(void)state;
	tweak_period_s = 1;
	tweak_keep = 2;
	t = test_mgr_start_in(NULL, NULL, tweak);
	dir = g_build_filename(t->dir, "system-backups", NULL);
	g_mkdir(dir, 0700);
	/* beside the backups: an operator's own copy, and a link named like an
	 * old backup pointing at files that must survive the pruning */
	{
		g_autofree char *mine = g_build_filename(dir, "ics-manager-before-upgrade", NULL);
		g_autofree char *elsewhere = g_build_filename(t->dir, "elsewhere", NULL);
		g_autofree char *precious = g_build_filename(elsewhere, "precious", NULL);
		g_autofree char *link = g_build_filename(dir, "ics-manager-20000101T000000.000000Z",
							 NULL);

		g_mkdir(mine, 0700);
		g_mkdir(elsewhere, 0700);
		assert_true(g_file_set_contents(precious, "keep me", -1, NULL));
		assert_int_equal(symlink(elsewhere, link), 0);
	}
	/* a backup a second: within 20 s there have been more than two */
	for (int i = 0; i < 200; i++) {
		g_autoptr(TestResp) r = test_http(t, "GET", "/api/v1/tasks?limit=100",
						  t->admin_token, NULL);
		json_t *task;
		size_t k;
		int done = 0;

		json_array_foreach (json_object_get(r->json, "items"), k, task)
			done += g_strcmp0(json_string_value(json_object_get(task, "kind")),
					  "manager.backup") == 0 &&
				g_strcmp0(json_string_value(json_object_get(task, "state")),
					  "succeeded") == 0;
		if (done >= 4)
			break;
		assert_true(i < 199);
		g_usleep(100000);
	}
	{
		g_autoptr(json_t) out = ics_system_backup_list(dir, NULL);
		g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
		g_autofree char *precious = g_build_filename(t->dir, "elsewhere", "precious", NULL);
		const char *name, *newest, *second;
		int others = 0;

		list = json_object_get(out, "backups");
		assert_int_equal(json_array_size(list), 2);
		newest = json_string_value(json_object_get(json_array_get(list, 0), "name"));
		second = json_string_value(json_object_get(json_array_get(list, 1), "name"));
		assert_true(strcmp(newest, second) > 0);
		/* the two kept are the two newest of all that were written */
		while ((name = g_dir_read_name(d)))
			if (g_str_has_prefix(name, "ics-manager-2026") ||
			    g_str_has_prefix(name, "ics-manager-2027"))
				assert_true(strcmp(name, second) >= 0);
			else
				others++;
		/* the operator's copy and the link are still there, and what
		 * the link points at */
		assert_int_equal(others, 2);
		assert_true(g_file_test(precious, G_FILE_TEST_EXISTS));
	}
	tweak_period_s = 0;
	tweak_keep = 7;
	test_mgr_stop(t, FALSE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backup_under_writes_and_restore),
		cmocka_unit_test(test_restore_refusals),
		cmocka_unit_test(test_period_and_retention),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
