/*
 * test_audit.c: the audit trail -- one record for every mutating call,
 * successful or refused (unauthenticated, forbidden, malformed, failed
 * login), none for reads; search filters and pagination; CSV and JSON-lines
 * export; no secret (passwords, session tokens, API key secrets) in the
 * audit trail, the log (captured at debug level) or the database files;
 * and retention by age and by count, the purge itself on the record.
 */
#include "config.h"

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ics/log.h"
#include "ics/manager/audit.h"
#include "ics/manager/timestamp.h"
#include "mgr_test_util.h"

#define BAD_PASSWORD "Wr0ng-Secret-XYZ"
#define LEAK_PASSWORD "Leak-Me-Pl3ase"

static char *log_path;

static int setup(void **state)
{
	TestMgr *t = test_mgr_start();

	assert_non_null(t->admin_token);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	test_mgr_stop(*state, FALSE);
	return 0;
}

static json_t *audit_items(TestMgr *t, const char *query)
{
	g_autofree char *path = g_strconcat("/api/v1/audit", query, NULL);
	g_autoptr(TestResp) r = test_http(t, "GET", path, t->admin_token, NULL);

	assert_int_equal(r->status, 200);
	return json_incref(json_object_get(r->json, "items"));
}

/* The newest record. */
static json_t *last_record(TestMgr *t)
{
	g_autoptr(json_t) items = audit_items(t, "?limit=1");

	assert_int_equal(json_array_size(items), 1);
	return json_incref(json_array_get(items, 0));
}

static void check_record(json_t *rec, const char *user, const char *action, const char *result,
			 int status)
{
	assert_string_equal(json_string_value(json_object_get(rec, "user")), user);
	assert_string_equal(json_string_value(json_object_get(rec, "action")), action);
	assert_string_equal(json_string_value(json_object_get(rec, "result")), result);
	assert_int_equal(json_integer_value(json_object_get(rec, "http_status")), status);
	assert_non_null(json_string_value(json_object_get(rec, "started_at")));
	assert_non_null(json_string_value(json_object_get(rec, "ended_at")));
	assert_string_equal(json_string_value(json_object_get(rec, "client")), "127.0.0.1");
	if (g_str_equal(result, "failure"))
		assert_non_null(json_string_value(json_object_get(rec, "reason")));
	else
		assert_true(json_is_null(json_object_get(rec, "reason")));
}

static void test_every_mutation_recorded(void **state)
{
	TestMgr *t = *state;
	g_autofree char *body = test_vm_body("web1", NULL);
	g_autoptr(json_t) rec = NULL;
	g_autofree char *ro = NULL, *uuid = NULL, *vm_path = NULL;

	/* The admin's login. */
	rec = last_record(t);
	check_record(rec, "admin", "session.login", "success", 201);
	assert_string_equal(json_string_value(json_object_get(rec, "object_id")), "admin");

	assert_null(test_login(t, "admin", BAD_PASSWORD));
	json_decref(rec);
	rec = last_record(t);
	check_record(rec, "admin", "session.login", "failure", 401);
	assert_string_equal(json_string_value(json_object_get(rec, "reason")), "wrong password");

	assert_null(test_login(t, "ghost", BAD_PASSWORD));
	json_decref(rec);
	rec = last_record(t);
	check_record(rec, "ghost", "session.login", "failure", 401);
	assert_string_equal(json_string_value(json_object_get(rec, "reason")), "no such user");

	assert_int_equal(test_status(t, "POST", "/api/v1/vms", NULL, body), 401);
	json_decref(rec);
	rec = last_record(t);
	check_record(rec, "-", "vm.create", "failure", 401);

	assert_int_equal(test_make_user(t, "ro", "[\"readonly\"]"), 201);
	json_decref(rec);
	rec = last_record(t);
	check_record(rec, "admin", "user.create", "success", 201);
	assert_string_equal(json_string_value(json_object_get(rec, "object_id")), "ro");
	ro = test_login(t, "ro", TEST_PASSWORD);
	assert_int_equal(test_status(t, "POST", "/api/v1/vms", ro, body), 403);
	json_decref(rec);
	rec = last_record(t);
	check_record(rec, "ro", "vm.create", "failure", 403);

	assert_int_equal(
		test_status(t, "POST", "/api/v1/vms", t->admin_token, "{\"definition\": 1}"), 400);
	json_decref(rec);
	rec = last_record(t);
	check_record(rec, "admin", "vm.create", "failure", 400);
	assert_non_null(strstr(json_string_value(json_object_get(rec, "reason")), "definition"));

	g_autoptr(TestResp) created = test_http(t, "POST", "/api/v1/vms", t->admin_token, body);
	assert_int_equal(created->status, 201);
	uuid = g_strdup(test_str(created, "uuid"));
	json_decref(rec);
	rec = last_record(t);
	check_record(rec, "admin", "vm.create", "success", 201);
	assert_string_equal(json_string_value(json_object_get(rec, "object_id")), uuid);

	/* Reads are not audited. */
	vm_path = g_strdup_printf("/api/v1/vms/%s", uuid);
	g_autoptr(json_t) all1 = audit_items(t, "?limit=1000");
	assert_int_equal(test_status(t, "GET", vm_path, t->admin_token, NULL), 200);
	assert_int_equal(test_status(t, "GET", "/api/v1/vms", ro, NULL), 200);
	g_autoptr(json_t) all2 = audit_items(t, "?limit=1000");
	assert_int_equal(json_array_size(all1), json_array_size(all2));

	assert_int_equal(test_status(t, "DELETE", vm_path, t->admin_token, NULL), 204);
	json_decref(rec);
	rec = last_record(t);
	check_record(rec, "admin", "vm.delete", "success", 204);
	assert_string_equal(json_string_value(json_object_get(rec, "object_id")), uuid);
	assert_string_equal(json_string_value(json_object_get(rec, "object_type")), "vm");
}

/* Host maintenance is audited with the direction the body asked for and
 * the host as the object, whether accepted, refused or unavailable. */
static void test_maintenance_recorded(void **state)
{
	FakeCluster fake = { 0 };
	IcsClusterOps ops = test_fake_ops(&fake);
	TestMgr *t = test_mgr_start_in(NULL, &ops, NULL);
	TestMgr *bare = *state;
	g_autoptr(json_t) rec = NULL;
	g_autoptr(TestResp) r = NULL;

	(void)state;
	r = test_http(t, "POST", "/api/v1/hosts/node1/maintenance", t->admin_token,
		      "{\"enter\": true}");
	assert_int_equal(r->status, 202);
	assert_string_equal(test_str(r, "kind"), "host.maintenance");
	rec = last_record(t);
	check_record(rec, "admin", "host.maintenance.enter", "success", 202);
	assert_string_equal(json_string_value(json_object_get(rec, "object_type")), "host");
	assert_string_equal(json_string_value(json_object_get(rec, "object_id")), "node1");
	{
		g_autofree char *st = test_wait_task(
			t, t->admin_token, json_integer_value(json_object_get(r->json, "id")));

		assert_string_equal(st, "succeeded");
	}

	assert_int_equal(test_status(t, "POST", "/api/v1/hosts/node1/maintenance", t->admin_token,
				     "{\"enter\": false}"),
			 202);
	json_decref(rec);
	rec = last_record(t);
	check_record(rec, "admin", "host.maintenance.exit", "success", 202);

	/* An unknown host: refused, recorded. */
	assert_int_equal(test_status(t, "POST", "/api/v1/hosts/node9/maintenance", t->admin_token,
				     "{\"enter\": true}"),
			 404);
	json_decref(rec);
	rec = last_record(t);
	check_record(rec, "admin", "host.maintenance.enter", "failure", 404);
	assert_string_equal(json_string_value(json_object_get(rec, "object_id")), "node9");
	test_mgr_stop(t, FALSE);

	/* No cluster adapter: 503, recorded. */
	assert_int_equal(test_status(bare, "POST", "/api/v1/hosts/node1/maintenance",
				     bare->admin_token, "{\"enter\": true}"),
			 503);
	json_decref(rec);
	rec = last_record(bare);
	check_record(rec, "admin", "host.maintenance.enter", "failure", 503);
}

static void test_search_and_export(void **state)
{
	TestMgr *t = *state;

	for (int i = 0; i < 5; i++)
		assert_null(test_login(t, "admin", BAD_PASSWORD));
	/* (admin is locked out now; its session still works.) */
	g_autoptr(json_t) fails = audit_items(t, "?action=session.login&result=failure");
	assert_int_equal(json_array_size(fails), 5);
	g_autoptr(json_t) by_user = audit_items(t, "?user=admin&result=success");
	assert_int_equal(json_array_size(by_user), 1);
	g_autoptr(json_t) none = audit_items(t, "?since=2999-01-01T00:00:00Z");
	assert_int_equal(json_array_size(none), 0);
	g_autoptr(json_t) past = audit_items(t, "?until=2000-01-01T00:00:00Z");
	assert_int_equal(json_array_size(past), 0);
	assert_int_equal(
		test_status(t, "GET", "/api/v1/audit?since=yesterday", t->admin_token, NULL), 400);
	assert_int_equal(test_status(t, "GET", "/api/v1/audit?result=maybe", t->admin_token, NULL),
			 400);

	/* Keyset pages of 2 cover the 6 records once each. */
	g_autoptr(GHashTable) seen = g_hash_table_new(g_direct_hash, g_direct_equal);
	g_autofree char *q = g_strdup("?limit=2");
	for (int page = 0; page < 10; page++) {
		g_autofree char *path = g_strconcat("/api/v1/audit", q, NULL);
		g_autoptr(TestResp) r = test_http(t, "GET", path, t->admin_token, NULL);
		json_t *items = json_object_get(r->json, "items"), *next, *it;
		size_t i;

		json_array_foreach(items, i, it) assert_true(g_hash_table_add(
			seen, GINT_TO_POINTER(json_integer_value(json_object_get(it, "id")))));
		next = json_object_get(r->json, "next");
		if (json_is_null(next))
			break;
		g_free(q);
		q = g_strdup_printf("?limit=2&before=%" JSON_INTEGER_FORMAT,
				    json_integer_value(next));
	}
	assert_int_equal(g_hash_table_size(seen), 6);

	g_autoptr(TestResp) csv =
		test_http(t, "GET", "/api/v1/audit/export?format=csv", t->admin_token, NULL);
	assert_int_equal(csv->status, 200);
	assert_non_null(strstr(csv->headers->str, "text/csv"));
	assert_true(g_str_has_prefix(csv->body->str, "\"id\",\"user\",\"action\""));
	g_auto(GStrv) lines = g_strsplit(csv->body->str, "\r\n", -1);
	assert_int_equal(g_strv_length(lines), 1 + 6 + 1); /* header, rows, empty tail */

	g_autoptr(TestResp) jl = test_http(
		t, "GET", "/api/v1/audit/export?format=jsonl&result=failure", t->admin_token, NULL);
	assert_int_equal(jl->status, 200);
	g_auto(GStrv) jlines = g_strsplit(jl->body->str, "\n", -1);
	assert_int_equal(g_strv_length(jlines), 5 + 1);
	for (int i = 0; i < 5; i++) {
		g_autoptr(json_t) o = json_loads(jlines[i], 0, NULL);

		assert_non_null(o);
		assert_string_equal(json_string_value(json_object_get(o, "result")), "failure");
	}
	assert_int_equal(
		test_status(t, "GET", "/api/v1/audit/export?format=xml", t->admin_token, NULL),
		400);
}

static gboolean file_contains(const char *path, const char *needle)
{
	g_autofree char *data = NULL;
	gsize len = 0;

	if (!g_file_get_contents(path, &data, &len, NULL))
		return FALSE;
	return memmem(data, len, needle, strlen(needle)) != NULL;
}

static void test_no_secrets(void **state)
{
	TestMgr *t = *state;
	g_autofree char *tok = NULL;
	g_autoptr(GPtrArray) secrets = g_ptr_array_new_with_free_func(g_free);
	const char *files[] = { "manager.db", "manager.db-wal" };

	g_ptr_array_add(secrets, g_strdup(t->admin_password));
	g_ptr_array_add(secrets, g_strdup(t->admin_token));
	g_ptr_array_add(secrets, g_strdup(TEST_PASSWORD));
	g_ptr_array_add(secrets, g_strdup(BAD_PASSWORD));
	g_ptr_array_add(secrets, g_strdup(LEAK_PASSWORD));
	g_ptr_array_add(secrets, g_strdup("An0ther-Passw0rd"));

	assert_int_equal(test_make_user(t, "carol", "[\"vm_manager\"]"), 201);
	tok = test_login(t, "carol", TEST_PASSWORD);
	g_ptr_array_add(secrets, g_strdup(tok));
	assert_null(test_login(t, "carol", BAD_PASSWORD));
	/* Malformed JSON right after a password: the parser's message would
	 * quote it. */
	assert_int_equal(test_status(t, "POST", "/api/v1/sessions", NULL,
				     "{\"username\": \"carol\", \"password\": \"" LEAK_PASSWORD
				     "\" oops}"),
			 400);
	assert_int_equal(test_status(t, "POST", "/api/v1/sessions", NULL,
				     "{\"username\": \"carol\", \"password\": " LEAK_PASSWORD "}"),
			 400);
	assert_int_equal(test_status(t, "POST", "/api/v1/users/carol/password", tok,
				     "{\"old_password\": \"" TEST_PASSWORD "\","
				     " \"new_password\": \"An0ther-Passw0rd\"}"),
			 204);
	g_autoptr(TestResp) key = test_http(t, "POST", "/api/v1/apikeys", tok, "{}");
	assert_int_equal(key->status, 201);
	g_ptr_array_add(secrets, g_strdup(test_str(key, "secret")));
	assert_int_equal(test_status(t, "PATCH", "/api/v1/users/carol", t->admin_token,
				     "{\"password\": \"" LEAK_PASSWORD "\"}"),
			 200);

	g_autoptr(TestResp) jl =
		test_http(t, "GET", "/api/v1/audit/export?format=jsonl", t->admin_token, NULL);
	assert_int_equal(jl->status, 200);
	assert_true(jl->body->len > 0);
	for (guint i = 0; i < secrets->len; i++) {
		const char *s = g_ptr_array_index(secrets, i);

		assert_true(strlen(s) >= 12);
		if (strstr(jl->body->str, s))
			fail_msg("secret #%u is in the audit trail", i);
		if (file_contains(log_path, s))
			fail_msg("secret #%u is in the log", i);
		for (guint f = 0; f < G_N_ELEMENTS(files); f++) {
			g_autofree char *p = g_build_filename(t->dir, files[f], NULL);

			if (file_contains(p, s))
				fail_msg("secret #%u is in %s", i, files[f]);
		}
	}
	/* The log was really captured. */
	assert_true(file_contains(log_path, "POST /api/v1/sessions"));
}

static void test_retention(void **state)
{
	TestMgr *t = *state;
	IcsStore *store = t->m->store;
	g_autoptr(GError) err = NULL;
	gint64 purged = -1, old_us = ics_now_us() - (gint64)400 * 86400 * G_USEC_PER_SEC;

	/* 30 records: 5 from more than a year ago, 25 recent. */
	for (int i = 0; i < 30; i++) {
		IcsAuditRecord rec = {
			.user = "filler",
			.action = "vm.create",
			.object_type = "vm",
			.http_status = 201,
			.started_us = i < 5 ? old_us : ics_now_us(),
			.ended_us = ics_now_us(),
		};

		assert_true(ics_audit_append(store, &rec, &err));
	}
	/* Age first: the 5 old ones go, the purge is recorded. */
	assert_true(ics_audit_apply_retention(store, 365, 1000, &purged, &err));
	assert_int_equal(purged, 5);
	{
		g_autoptr(json_t) rec = last_record(t);

		assert_string_equal(json_string_value(json_object_get(rec, "action")),
				    "audit.retention");
		assert_non_null(
			strstr(json_string_value(json_object_get(rec, "object_id")), "5 records"));
	}
	/* Count: only the newest 10 stay, then the purge's own record. */
	assert_true(ics_audit_apply_retention(store, 365, 10, &purged, &err));
	assert_true(purged > 0);
	{
		g_autoptr(json_t) items = audit_items(t, "?limit=1000");

		assert_int_equal(json_array_size(items), 11);
	}
	/* Nothing to do: nothing deleted, nothing recorded. */
	assert_true(ics_audit_apply_retention(store, 365, 1000, &purged, &err));
	assert_int_equal(purged, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_every_mutation_recorded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_maintenance_recorded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_search_and_export, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_secrets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retention, setup, teardown),
	};
	g_autofree char *dir = g_dir_make_tmp("ics-audit-log-XXXXXX", NULL);
	int fd, saved, rc;

	/* Everything the manager logs, at debug level, goes to a file. */
	log_path = g_build_filename(dir, "log", NULL);
	fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	saved = dup(2);
	dup2(fd, 2);
	close(fd);
	ics_log_init("test_audit", ICS_LOG_STDERR, ICS_LOG_DEBUG);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	dup2(saved, 2);
	close(saved);
	test_rm_rf(dir);
	g_free(log_path);
	return rc;
}
