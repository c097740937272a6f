/*
 * test_bad_input.c: hostile and careless requests -- malformed JSON, wrong
 * types, unknown fields, oversized bodies (declared and chunked), path
 * traversal and SQL metacharacters in names, bad paging parameters -- each
 * refused with its status and a JSON error body; SQL metacharacters in
 * free text stored literally; and failed calls leave nothing behind.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "mgr_test_util.h"

typedef struct {
	TestMgr *t;
	FakeCluster fake;
	IcsClusterOps ops;
} Ctx;

static int setup(void **state)
{
	Ctx *c = g_new0(Ctx, 1);

	c->ops = test_fake_ops(&c->fake);
	c->t = test_mgr_start_in(NULL, &c->ops, NULL);
	assert_non_null(c->t->admin_token);
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	Ctx *c = *state;

	test_mgr_stop(c->t, FALSE);
	g_free(c);
	return 0;
}

static void assert_error_body(const TestResp *r)
{
	json_t *e = json_object_get(r->json, "error");

	if (!json_is_object(e) || !json_is_string(json_object_get(e, "code")) ||
	    !json_is_string(json_object_get(e, "message")))
		fail_msg("status %ld without a JSON error body: %s", r->status, r->body->str);
}

typedef struct {
	const char *method;
	const char *path;
	const char *body;
	long status;
	const char *message_part; /* NULL: not checked */
} Case;

static void test_table(void **state)
{
	Ctx *c = *state;
	static const Case cases[] = {
		{ "POST", "/api/v1/vms", "{", 400, "not valid JSON" },
		{ "POST", "/api/v1/vms", "", 400, "empty" },
		{ "POST", "/api/v1/vms", "[]", 400, "must be a JSON object" },
		{ "POST", "/api/v1/vms", "\"text\"", 400, "must be a JSON object" },
		{ "POST", "/api/v1/vms", "{\"definition\": {}, \"definition\": {}}", 400, NULL },
		{ "POST", "/api/v1/vms", "{\"definition\": \"vm\"}", 400,
		  "\"definition\" must be an object" },
		{ "POST", "/api/v1/vms",
		  "{\"definition\": {\"name\": \"a\", \"vcpus\": \"2\", "
		  "\"memory_mib\": 128}}",
		  400, "vcpus" },
		{ "POST", "/api/v1/vms",
		  "{\"definition\": {\"name\": \"a\", \"vcpus\": 1, "
		  "\"memory_mib\": 128}, \"color\": \"red\"}",
		  400, "unknown field \"color\"" },
		{ "POST", "/api/v1/vms",
		  "{\"definition\": {\"name\": \"../../etc\", \"vcpus\": 1, "
		  "\"memory_mib\": 128}}",
		  400, NULL },
		{ "POST", "/api/v1/users", "{\"name\": 5, \"password\": \"" TEST_PASSWORD "\"}",
		  400, "\"name\" must be a string" },
		{ "POST", "/api/v1/users",
		  "{\"name\": \"x\", \"password\": \"" TEST_PASSWORD "\", \"admin\": true}", 400,
		  "unknown field \"admin\"" },
		{ "POST", "/api/v1/users", "{\"name\": \"x\"}", 400, "\"password\" is required" },
		{ "POST", "/api/v1/users",
		  "{\"name\": \"../etc\", \"password\": \"" TEST_PASSWORD "\"}", 400, "name" },
		{ "POST", "/api/v1/users",
		  "{\"name\": \"a/b\", \"password\": \"" TEST_PASSWORD "\"}", 400, NULL },
		{ "POST", "/api/v1/users",
		  "{\"name\": \".hidden\", \"password\": \"" TEST_PASSWORD "\"}", 400, NULL },
		{ "POST", "/api/v1/users",
		  "{\"name\": \"x';DROP TABLE users;--\", \"password\": \"" TEST_PASSWORD "\"}",
		  400, NULL },
		{ "POST", "/api/v1/users",
		  "{\"name\": \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaaaaaaaaaaaaaaaa\", \"password\": \"" TEST_PASSWORD "\"}",
		  400, NULL },
		{ "POST", "/api/v1/users",
		  "{\"name\": \"ok\", \"password\": \"" TEST_PASSWORD
		  "\", \"roles\": \"administrator\"}",
		  400, "array" },
		{ "POST", "/api/v1/users",
		  "{\"name\": \"ok\", \"password\": \"" TEST_PASSWORD
		  "\", \"roles\": [\"readonly\", \"readonly\"]}",
		  400, "twice" },
		{ "POST", "/api/v1/users",
		  "{\"name\": \"ok\", \"password\": \"" TEST_PASSWORD "\", \"enabled\": \"yes\"}",
		  400, "boolean" },
		{ "POST", "/api/v1/users",
		  "{\"name\": \"n\\u0000ul\", \"password\": \"" TEST_PASSWORD "\"}", 400, NULL },
		{ "POST", "/api/v1/roles", "{\"name\": \"r\", \"permissions\": [1]}", 400, NULL },
		{ "GET", "/api/v1/users/..", NULL, 404, NULL }, /* curl makes it /api/v1/ */
		{ "GET", "/api/v1/users/%2E%2E", NULL, 400, NULL },
		{ "DELETE", "/api/v1/roles/%2E%2E%2F%2E%2E%2Fetc", NULL, 404, NULL },
		{ "GET", "/api/v1/users/a%20b", NULL, 400, NULL },
		{ "GET", "/api/v1/users/%27%20OR%201%3D1--", NULL, 400, NULL },
		{ "GET", "/api/v1/tasks/abc", NULL, 400, NULL },
		{ "GET", "/api/v1/tasks/-1", NULL, 400, NULL },
		{ "GET", "/api/v1/tasks/999999", NULL, 404, NULL },
		{ "GET", "/api/v1/vms/not-a-uuid", NULL, 400, NULL },
		{ "GET", "/api/v1/vms/6f1c3c0e-8a4b-4d5e-9f00-1234567890ab", NULL, 404, NULL },
		{ "GET", "/api/v1/vms?limit=0", NULL, 400, "limit" },
		{ "GET", "/api/v1/vms?limit=abc", NULL, 400, "limit" },
		{ "GET", "/api/v1/vms?limit=100000", NULL, 400, "limit" },
		{ "GET", "/api/v1/vms?after=x'--", NULL, 400, "after" },
		{ "GET", "/api/v1/users?after=..", NULL, 400, NULL },
		{ "PATCH", "/api/v1/vms", NULL, 405, NULL },
		{ "GET", "/api/v1/nothing", NULL, 404, NULL },
		{ "GET", "/api/v1/vms/", NULL, 404, NULL },
		{ "GET", "/api/v1/../v1/vms", NULL, 200, NULL },
		{ "GET", "/etc/passwd", NULL, 404, NULL },
		/* A NUL in an escape would cut the path short: kept escaped. */
		{ "GET", "/api/v1/users/%00admin", NULL, 400, "user name" },
		{ "DELETE", "/api/v1/users/admin%00", NULL, 400, NULL },
		{ "GET", "/api/v1/vms?after=%00", NULL, 400, "after" },
		/* Bytes that are not UTF-8: kept escaped, the message is text. */
		{ "GET", "/api/v1/users/%ff%fe", NULL, 400, "user name" },
		{ "GET", "/api/v1/vms/6F1C3C0E-8A4B-4D5E-9F00-1234567890AB", NULL, 404, NULL },
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(TestResp) r = test_http(c->t, cases[i].method, cases[i].path,
						  c->t->admin_token, cases[i].body);

		if (r->status != cases[i].status)
			fail_msg("case %u (%s %s %s): got %ld, expected %ld: %s", i,
				 cases[i].method, cases[i].path, cases[i].body ? cases[i].body : "",
				 r->status, cases[i].status, r->body->str);
		if (r->status >= 400)
			assert_error_body(r);
		if (cases[i].message_part) {
			const char *msg = json_string_value(
				json_object_get(json_object_get(r->json, "error"), "message"));

			if (msg == NULL || strstr(msg, cases[i].message_part) == NULL)
				fail_msg("case %u: message \"%s\" lacks \"%s\"", i, msg,
					 cases[i].message_part);
		}
	}
}

static void test_binary_bodies(void **state)
{
	Ctx *c = *state;
	static const char nul[] = "{\"definition\": {}\0}";
	g_autoptr(TestResp) a = test_http_full(c->t, "POST", "/api/v1/vms", c->t->admin_token, nul,
					       sizeof(nul) - 1, NULL);
	g_autoptr(TestResp) b = test_http(c->t, "POST", "/api/v1/vms", c->t->admin_token,
					  "{\"definition\": \"\xff\xfe\"}");
	g_autoptr(GString) deep = g_string_new(NULL);

	assert_int_equal(a->status, 400);
	assert_int_equal(b->status, 400);
	for (int i = 0; i < 100000; i++)
		g_string_append_c(deep, '[');
	g_autoptr(TestResp) d =
		test_http(c->t, "POST", "/api/v1/vms", c->t->admin_token, deep->str);
	assert_int_equal(d->status, 400);
	assert_error_body(d);
}

static void test_oversized(void **state)
{
	Ctx *c = *state;
	gsize n = 2 * 1024 * 1024;
	g_autofree char *big = g_malloc(n + 1);
	const char *const chunked[] = { "Transfer-Encoding: chunked", NULL };

	memset(big, ' ', n);
	big[0] = '{';
	big[n - 1] = '}';
	big[n] = '\0';
	g_autoptr(TestResp) r = test_http(c->t, "POST", "/api/v1/vms", c->t->admin_token, big);
	assert_int_equal(r->status, 413);
	assert_error_body(r);
	g_autoptr(TestResp) r2 =
		test_http_full(c->t, "POST", "/api/v1/users", c->t->admin_token, big, -1, chunked);
	assert_int_equal(r2->status, 413);
	/* Unauthenticated: still 413, the body is never read. */
	assert_int_equal(test_status(c->t, "POST", "/api/v1/sessions", NULL, big), 413);
	/* The server is fine afterwards, and says its version. */
	g_autoptr(TestResp) h = test_http(c->t, "GET", "/api/v1/health", NULL, NULL);
	assert_int_equal(h->status, 200);
	assert_string_equal(test_str(h, "version"), PACKAGE_VERSION);
}

static void test_metacharacters_stored_literally(void **state)
{
	Ctx *c = *state;
	const char *desc = "'); DROP TABLE roles; -- \\\" <script>alert(1)</script> %s %n";
	g_autoptr(json_t) body = json_pack("{s:s, s:[s], s:s}", "name", "r1", "permissions",
					   "vm.read", "description", desc);
	g_autofree char *text = json_dumps(body, 0);

	assert_int_equal(test_status(c->t, "POST", "/api/v1/roles", c->t->admin_token, text), 201);
	g_autoptr(TestResp) r = test_http(c->t, "GET", "/api/v1/roles/r1", c->t->admin_token, NULL);
	assert_int_equal(r->status, 200);
	assert_string_equal(test_str(r, "description"), desc);
	g_autoptr(TestResp) all = test_http(c->t, "GET", "/api/v1/roles", c->t->admin_token, NULL);
	assert_int_equal(json_array_size(json_object_get(all->json, "items")), 4);
	/* An audit filter value full of SQL is a value, not SQL. */
	g_autoptr(TestResp) a =
		test_http(c->t, "GET", "/api/v1/audit?user=x%27%20OR%20%271%27%3D%271",
			  c->t->admin_token, NULL);
	assert_int_equal(a->status, 200);
	assert_int_equal(json_array_size(json_object_get(a->json, "items")), 0);
}

static void test_nothing_half_written(void **state)
{
	Ctx *c = *state;

	/* The user row is written before the roles: an unknown role must
	 * take the user back out. */
	assert_int_equal(test_status(c->t, "POST", "/api/v1/users", c->t->admin_token,
				     "{\"name\": \"half\", \"password\": \"" TEST_PASSWORD
				     "\", \"roles\": [\"readonly\", \"nope\"]}"),
			 400);
	assert_int_equal(test_status(c->t, "GET", "/api/v1/users/half", c->t->admin_token, NULL),
			 404);
	/* The cluster is asked after the inventory's checks and before its
	 * commit: its failure leaves no VM row. */
	c->fake.fail_define = TRUE;
	g_autofree char *vm = test_vm_body("half-vm", NULL);
	g_autoptr(TestResp) r = test_http(c->t, "POST", "/api/v1/vms", c->t->admin_token, vm);
	assert_int_equal(r->status, 503);
	assert_non_null(strstr(r->body->str, "fake cluster is down"));
	g_autoptr(TestResp) list = test_http(c->t, "GET", "/api/v1/vms", c->t->admin_token, NULL);
	assert_int_equal(json_array_size(json_object_get(list->json, "items")), 0);
	c->fake.fail_define = FALSE;
	assert_int_equal(test_status(c->t, "POST", "/api/v1/vms", c->t->admin_token, vm), 201);
	assert_int_equal(g_atomic_int_get(&c->fake.defines), 1);
	/* The same name again: a conflict found before the cluster is asked,
	 * and still one VM. */
	assert_int_equal(test_status(c->t, "POST", "/api/v1/vms", c->t->admin_token, vm), 409);
	assert_int_equal(g_atomic_int_get(&c->fake.defines), 1);
	assert_int_equal(g_atomic_int_get(&c->fake.undefines), 0);
	g_autoptr(TestResp) list2 = test_http(c->t, "GET", "/api/v1/vms", c->t->admin_token, NULL);
	assert_int_equal(json_array_size(json_object_get(list2->json, "items")), 1);
}

/* Audited calls with hostile path parameters keep their audit record, in
 * valid UTF-8, and exports have no blank line. */
static void test_audit_of_bad_paths(void **state)
{
	Ctx *c = *state;
	static const char *const paths[] = { "/api/v1/users/%ff%fe", "/api/v1/users/x%00y",
					     "/api/v1/roles/%c3%28" };

	for (guint i = 0; i < G_N_ELEMENTS(paths); i++)
		assert_int_equal(test_status(c->t, "DELETE", paths[i], c->t->admin_token, NULL),
				 400);
	/* Without credentials too (audited as "-"). */
	assert_int_equal(test_status(c->t, "DELETE", "/api/v1/users/%ff", NULL, NULL), 401);
	for (int f = 0; f < 2; f++) {
		g_autoptr(TestResp) r = test_http(c->t, "GET",
						  f ? "/api/v1/audit/export?format=jsonl"
						    : "/api/v1/audit/export?format=csv",
						  c->t->admin_token, NULL);
		g_auto(GStrv) lines = NULL;
		guint deletes = 0;

		assert_int_equal(r->status, 200);
		assert_true(g_utf8_validate(r->body->str, (gssize)r->body->len, NULL));
		lines = g_strsplit(r->body->str, f ? "\n" : "\r\n", -1);
		for (guint i = 0; lines[i]; i++) {
			if (lines[i + 1] == NULL)
				break; /* after the last newline */
			assert_true(lines[i][0] != '\0');
			if (strstr(lines[i], "user.delete") || strstr(lines[i], "role.delete"))
				deletes++;
		}
		assert_int_equal(deletes, 4);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_binary_bodies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oversized, setup, teardown),
		cmocka_unit_test_setup_teardown(test_metacharacters_stored_literally, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_nothing_half_written, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_of_bad_paths, setup, teardown),
	};
	curl_global_init(CURL_GLOBAL_DEFAULT);
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
