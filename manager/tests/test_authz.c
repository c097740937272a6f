/*
 * test_authz.c: who may do what -- every role (administrator, readonly,
 * vm_manager, no role, a custom role) against representative endpoints,
 * VM ownership for vm_manager, mutual exclusion of builtin roles, custom
 * roles, and the protection of the last administrator.
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
	char *tok[6]; /* adm ro vmm none aud vmm2 */
} Ctx;

enum { ADM, RO, VMM, NONE, AUD, VMM2 };
static const char *const users[] = { "adm", "ro", "vmm", "none", "aud", "vmm2" };

static int setup(void **state)
{
	Ctx *c = g_new0(Ctx, 1);

	c->ops = test_fake_ops(&c->fake);
	c->t = test_mgr_start_in(NULL, &c->ops, NULL);
	assert_int_equal(test_status(c->t, "POST", "/api/v1/roles", c->t->admin_token,
				     "{\"name\": \"auditor\", \"permissions\": [\"audit.read\"],"
				     " \"description\": \"reads the audit log\"}"),
			 201);
	assert_int_equal(test_make_user(c->t, "adm", "[\"administrator\"]"), 201);
	assert_int_equal(test_make_user(c->t, "ro", "[\"readonly\"]"), 201);
	assert_int_equal(test_make_user(c->t, "vmm", "[\"vm_manager\"]"), 201);
	assert_int_equal(test_make_user(c->t, "none", "[]"), 201);
	assert_int_equal(test_make_user(c->t, "aud", "[\"auditor\"]"), 201);
	assert_int_equal(test_make_user(c->t, "vmm2", "[\"vm_manager\"]"), 201);
	for (int i = 0; i < 6; i++) {
		c->tok[i] = test_login(c->t, users[i], TEST_PASSWORD);
		assert_non_null(c->tok[i]);
	}
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	Ctx *c = *state;

	for (int i = 0; i < 6; i++)
		g_free(c->tok[i]);
	test_mgr_stop(c->t, FALSE);
	g_free(c);
	return 0;
}

typedef struct {
	const char *method;
	const char *path;
	const char *body; /* "USER" is replaced by the role's user name */
	long expect[5];	  /* adm ro vmm none aud */
} Case;

static void test_matrix(void **state)
{
	Ctx *c = *state;
	static const Case cases[] = {
		{ "GET", "/api/v1/health", NULL, { 200, 200, 200, 200, 200 } },
		{ "GET", "/api/v1/sessions/current", NULL, { 200, 200, 200, 200, 200 } },
		{ "GET", "/api/v1/vms", NULL, { 200, 200, 200, 403, 403 } },
		{ "POST",
		  "/api/v1/vms",
		  "{\"definition\": {\"name\": \"vm-of-USER\", \"vcpus\": 1, \"memory_mib\": 64}}",
		  { 201, 403, 201, 403, 403 } },
		{ "GET", "/api/v1/users", NULL, { 200, 200, 403, 403, 403 } },
		{ "GET", "/api/v1/users/adm", NULL, { 200, 200, 403, 403, 403 } },
		{ "POST",
		  "/api/v1/users",
		  "{\"name\": \"made-by-USER\", \"password\": \"" TEST_PASSWORD "\"}",
		  { 201, 403, 403, 403, 403 } },
		{ "PATCH",
		  "/api/v1/users/none",
		  "{\"enabled\": true}",
		  { 200, 403, 403, 403, 403 } },
		{ "GET", "/api/v1/roles", NULL, { 200, 200, 403, 403, 403 } },
		{ "POST",
		  "/api/v1/roles",
		  "{\"name\": \"role-by-USER\", \"permissions\": [\"vm.read\"]}",
		  { 201, 403, 403, 403, 403 } },
		{ "GET", "/api/v1/audit", NULL, { 200, 403, 403, 403, 200 } },
		{ "GET", "/api/v1/audit/export", NULL, { 200, 403, 403, 403, 200 } },
		{ "GET", "/api/v1/tasks", NULL, { 200, 200, 200, 403, 403 } },
		{ "GET", "/api/v1/apikeys", NULL, { 200, 200, 200, 200, 200 } },
		{ "POST",
		  "/api/v1/apikeys",
		  "{\"description\": \"key of USER\"}",
		  { 201, 201, 201, 201, 201 } },
		{ "DELETE", "/api/v1/roles/auditor", NULL, { 409, 403, 403, 403, 403 } },
		/* Hosts and pools: host.read (readonly has it), host.maintenance
		 * (administrator only). */
		{ "GET", "/api/v1/hosts", NULL, { 200, 200, 403, 403, 403 } },
		{ "GET", "/api/v1/hosts/node1", NULL, { 200, 200, 403, 403, 403 } },
		{ "POST",
		  "/api/v1/hosts/node1/maintenance",
		  "{\"enter\": false}",
		  { 202, 403, 403, 403, 403 } },
		{ "GET", "/api/v1/pools", NULL, { 200, 200, 403, 403, 403 } },
		{ "GET", "/api/v1/pools/shared", NULL, { 200, 200, 403, 403, 403 } },
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		for (int u = 0; u < 5; u++) {
			g_autofree char *body = NULL;

			if (cases[i].body) {
				g_auto(GStrv) parts = g_strsplit(cases[i].body, "USER", -1);

				body = g_strjoinv(users[u], parts);
			}
			long got =
				test_status(c->t, cases[i].method, cases[i].path, c->tok[u], body);

			if (got != cases[i].expect[u])
				fail_msg("%s %s as %s: got %ld, expected %ld", cases[i].method,
					 cases[i].path, users[u], got, cases[i].expect[u]);
		}
	}
}

static char *create_vm(Ctx *c, int who, const char *name)
{
	g_autofree char *body = test_vm_body(name, NULL);
	g_autoptr(TestResp) r = test_http(c->t, "POST", "/api/v1/vms", c->tok[who], body);

	assert_int_equal(r->status, 201);
	return g_strdup(test_str(r, "uuid"));
}

static void test_vm_ownership(void **state)
{
	Ctx *c = *state;
	g_autofree char *mine = create_vm(c, VMM, "mine");
	g_autofree char *theirs = create_vm(c, VMM2, "theirs");
	g_autofree char *admins = create_vm(c, ADM, "admins");
	g_autofree char *p_mine = g_strdup_printf("/api/v1/vms/%s", mine);
	g_autofree char *p_theirs = g_strdup_printf("/api/v1/vms/%s", theirs);
	g_autofree char *start_theirs = g_strdup_printf("/api/v1/vms/%s/start", theirs);
	g_autofree char *start_mine = g_strdup_printf("/api/v1/vms/%s/start", mine);

	g_autoptr(TestResp) list = test_http(c->t, "GET", "/api/v1/vms", c->tok[VMM], NULL);
	json_t *items = json_object_get(list->json, "items");
	assert_int_equal(json_array_size(items), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0), "uuid")),
			    mine);
	g_autoptr(TestResp) all = test_http(c->t, "GET", "/api/v1/vms", c->tok[RO], NULL);
	assert_int_equal(json_array_size(json_object_get(all->json, "items")), 3);

	assert_int_equal(test_status(c->t, "GET", p_mine, c->tok[VMM], NULL), 200);
	assert_int_equal(test_status(c->t, "GET", p_theirs, c->tok[VMM], NULL), 404);
	assert_int_equal(test_status(c->t, "DELETE", p_theirs, c->tok[VMM], NULL), 404);
	assert_int_equal(test_status(c->t, "POST", start_theirs, c->tok[VMM], NULL), 404);
	assert_int_equal(test_status(c->t, "POST", start_mine, c->tok[VMM], NULL), 202);
	assert_int_equal(test_status(c->t, "POST", start_mine, c->tok[RO], NULL), 403);
	assert_int_equal(test_status(c->t, "POST", start_theirs, c->tok[ADM], NULL), 202);
	/* A vm_manager cannot give a VM away, an administrator can. */
	assert_int_equal(test_status(c->t, "PUT", p_mine, c->tok[VMM], "{\"owner\": \"vmm2\"}"),
			 403);
	assert_int_equal(test_status(c->t, "PUT", p_mine, c->tok[ADM], "{\"owner\": \"vmm2\"}"),
			 200);
	assert_int_equal(test_status(c->t, "GET", p_mine, c->tok[VMM], NULL), 404);
	assert_int_equal(test_status(c->t, "GET", p_mine, c->tok[VMM2], NULL), 200);
	assert_int_equal(test_status(c->t, "DELETE", p_mine, c->tok[VMM2], NULL), 204);
	/* Tasks of others are invisible to a vm_manager. */
	g_autoptr(TestResp) tasks = test_http(c->t, "GET", "/api/v1/tasks", c->tok[VMM2], NULL);
	json_t *titems = json_object_get(tasks->json, "items");
	assert_int_equal(json_array_size(titems), 1);
	assert_string_equal(
		json_string_value(json_object_get(json_array_get(titems, 0), "object_id")), theirs);
}

static void test_exclusive_roles(void **state)
{
	Ctx *c = *state;
	const char *tok = c->t->admin_token;

	assert_int_equal(test_status(c->t, "POST", "/api/v1/users", tok,
				     "{\"name\": \"two\", \"password\": \"" TEST_PASSWORD "\","
				     " \"roles\": [\"administrator\", \"readonly\"]}"),
			 409);
	assert_int_equal(test_status(c->t, "GET", "/api/v1/users/two", tok, NULL), 404);
	assert_int_equal(test_status(c->t, "PATCH", "/api/v1/users/ro", tok,
				     "{\"roles\": [\"readonly\", \"vm_manager\"]}"),
			 409);
	/* A custom role combines with a builtin one. */
	assert_int_equal(test_status(c->t, "PATCH", "/api/v1/users/ro", tok,
				     "{\"roles\": [\"readonly\", \"auditor\"]}"),
			 200);
	assert_int_equal(test_status(c->t, "GET", "/api/v1/audit", c->tok[RO], NULL), 200);
	assert_int_equal(test_status(c->t, "PATCH", "/api/v1/users/ro", tok,
				     "{\"roles\": [\"no-such-role\"]}"),
			 400);
	assert_int_equal(test_status(c->t, "POST", "/api/v1/roles", tok,
				     "{\"name\": \"bad\", \"permissions\": [\"vm.explode\"]}"),
			 400);
	assert_int_equal(test_status(c->t, "DELETE", "/api/v1/roles/readonly", tok, NULL), 409);
}

static void test_last_admin(void **state)
{
	Ctx *c = *state;
	const char *tok = c->t->admin_token;

	assert_int_equal(test_status(c->t, "DELETE", "/api/v1/users/adm", tok, NULL), 204);
	assert_int_equal(test_status(c->t, "PATCH", "/api/v1/users/admin", tok,
				     "{\"roles\": [\"readonly\"]}"),
			 409);
	assert_int_equal(
		test_status(c->t, "PATCH", "/api/v1/users/admin", tok, "{\"enabled\": false}"),
		409);
	assert_int_equal(test_status(c->t, "DELETE", "/api/v1/users/admin", tok, NULL), 409);
	assert_int_equal(test_status(c->t, "GET", "/api/v1/users/admin", tok, NULL), 200);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_matrix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vm_ownership, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exclusive_roles, setup, teardown),
		cmocka_unit_test_setup_teardown(test_last_admin, setup, teardown),
	};
	curl_global_init(CURL_GLOBAL_DEFAULT);
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
