/*
 * test_authz.c: who may do what -- every role (administrator, readonly,
 * vm_manager, no role, a custom role) against representative endpoints,
 * VM ownership for vm_manager, mutual exclusion of builtin roles, custom
 * roles, and the protection of the last administrator; the field rules of
 * the authorization table: nobody grants what they do not hold (user.admin
 * and role.admin holders are not administrators), host paths are an
 * administrator's business and some are nobody's, and a tenant cannot
 * attach another tenant's disk.  (The route-by-route walk of every
 * documented operation with every role is in test_openapi.c.)
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

/* A directory where anyone with vm.write may point disks, holding a link
 * that leads out of it. */
static char *roots_dir(void)
{
	return g_strdup_printf("%s/ics-authz-roots-%d", g_get_tmp_dir(), (int)getpid());
}

static void with_roots(IcsManagerConfig *cfg)
{
	g_autofree char *dir = roots_dir();

	g_strfreev(cfg->vm_path_roots);
	cfg->vm_path_roots = g_new0(char *, 3);
	cfg->vm_path_roots[0] = g_strdup("/srv/ics/pools");
	cfg->vm_path_roots[1] = g_strdup(dir);
}

static int setup(void **state)
{
	Ctx *c = g_new0(Ctx, 1);
	g_autofree char *dir = roots_dir();
	g_autofree char *link = g_build_filename(dir, "escape.img", NULL);

	g_mkdir_with_parents(dir, 0700);
	if (!g_file_test(link, G_FILE_TEST_IS_SYMLINK) && symlink("/etc/passwd", link) != 0)
		return -1;
	c->ops = test_fake_ops(&c->fake);
	c->t = test_mgr_start_in(NULL, &c->ops, with_roots);
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

	g_autofree char *dir = roots_dir();

	for (int i = 0; i < 6; i++)
		g_free(c->tok[i]);
	test_mgr_stop(c->t, FALSE);
	test_rm_rf(dir);
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
		/* the manager's own backup holds every secret: administrators */
		{ "GET", "/api/v1/system/backups", NULL, { 200, 403, 403, 403, 403 } },
		{ "POST", "/api/v1/system/backups", NULL, { 202, 403, 403, 403, 403 } },
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
	{
		g_autofree char *upper = g_ascii_strup(p_mine, -1);
		g_autofree char *p =
			g_strdup_printf("/api/v1/vms/%s", upper + strlen("/API/V1/VMS/"));

		assert_int_equal(test_status(c->t, "GET", p, c->tok[VMM], NULL), 200);
	}
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
	/* A vm_manager does not choose uuids: a 409 would reveal another's VM.
	 * A name in use is 409 whoever owns it, naming only what was sent. */
	{
		g_autofree char *body = g_strdup_printf(
			"{\"definition\": {\"uuid\": \"%s\", \"name\": \"probe\", \"vcpus\": 1,"
			" \"memory_mib\": 64}}",
			theirs);
		g_autoptr(TestResp) r = test_http(c->t, "POST", "/api/v1/vms", c->tok[VMM], body);
		g_autoptr(TestResp) n = test_http(c->t, "POST", "/api/v1/vms", c->tok[VMM],
						  "{\"definition\": {\"name\": \"admins\", "
						  "\"vcpus\": 1, \"memory_mib\": 64}}");

		assert_int_equal(r->status, 400);
		assert_int_equal(n->status, 409);
		assert_null(strstr(n->body->str, admins));
		assert_null(strstr(n->body->str, "adm\""));
	}
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

/* Nobody grants what they do not hold. */
static void test_no_escalation(void **state)
{
	Ctx *c = *state;
	const char *adm = c->t->admin_token;
	g_autofree char *ua = NULL, *ra = NULL;

	assert_int_equal(test_status(c->t, "POST", "/api/v1/roles", adm,
				     "{\"name\": \"useradmins\", \"permissions\": [\"user.admin\","
				     " \"user.read\"]}"),
			 201);
	assert_int_equal(test_status(c->t, "POST", "/api/v1/roles", adm,
				     "{\"name\": \"roleadmins\", \"permissions\": [\"role.admin\","
				     " \"role.read\"]}"),
			 201);
	assert_int_equal(test_make_user(c->t, "ua", "[\"useradmins\"]"), 201);
	assert_int_equal(test_make_user(c->t, "ra", "[\"roleadmins\"]"), 201);
	ua = test_login(c->t, "ua", TEST_PASSWORD);
	ra = test_login(c->t, "ra", TEST_PASSWORD);

	/* user.admin: not onto itself, not to others, not over an admin. */
	assert_int_equal(test_status(c->t, "PATCH", "/api/v1/users/ua", ua,
				     "{\"roles\": [\"administrator\"]}"),
			 403);
	assert_int_equal(test_status(c->t, "POST", "/api/v1/users", ua,
				     "{\"name\": \"boss\", \"password\": \"" TEST_PASSWORD "\","
				     " \"roles\": [\"administrator\"]}"),
			 403);
	assert_int_equal(test_status(c->t, "GET", "/api/v1/users/boss", adm, NULL), 404);
	assert_int_equal(test_status(c->t, "PATCH", "/api/v1/users/none", ua,
				     "{\"roles\": [\"vm_manager\"]}"),
			 403);
	assert_int_equal(test_status(c->t, "PATCH", "/api/v1/users/admin", ua,
				     "{\"password\": \"T4ken-Over-Passw0rd\"}"),
			 403);
	assert_null(test_login(c->t, "admin", "T4ken-Over-Passw0rd"));
	assert_int_equal(test_status(c->t, "DELETE", "/api/v1/users/adm", ua, NULL), 403);
	assert_int_equal(test_status(c->t, "PATCH", "/api/v1/users/ro", ua, "{\"enabled\": false}"),
			 403);
	/* ... but what it holds, it may give, and users below it it may change. */
	assert_int_equal(test_status(c->t, "POST", "/api/v1/users", ua,
				     "{\"name\": \"helper\", \"password\": \"" TEST_PASSWORD "\","
				     " \"roles\": [\"useradmins\"]}"),
			 201);
	assert_int_equal(test_status(c->t, "PATCH", "/api/v1/users/none", ua,
				     "{\"password\": \"An0ther-Passw0rd!\"}"),
			 200);
	assert_int_equal(test_status(c->t, "DELETE", "/api/v1/users/helper", ua, NULL), 204);

	/* role.admin: no role with powers it lacks, and no deleting one. */
	assert_int_equal(test_status(c->t, "POST", "/api/v1/roles", ra,
				     "{\"name\": \"sneaky\", \"permissions\": [\"user.admin\"]}"),
			 403);
	assert_int_equal(test_status(c->t, "GET", "/api/v1/roles/sneaky", adm, NULL), 404);
	assert_int_equal(test_status(c->t, "POST", "/api/v1/roles", ra,
				     "{\"name\": \"readers\", \"permissions\": [\"role.read\"]}"),
			 201);
	assert_int_equal(test_status(c->t, "DELETE", "/api/v1/roles/useradmins", ra, NULL), 403);
	assert_int_equal(test_status(c->t, "DELETE", "/api/v1/roles/readers", ra, NULL), 204);

	/* directory.admin: mapping a directory group to a role grants it. */
	{
		g_autofree char *da = NULL;
#define DIRECTORY(name, role)                                                                      \
	"{\"name\": \"" name "\", \"url\": \"ldaps://ldap.example.com\","                          \
	" \"bind_dn\": \"cn=ics,dc=example,dc=com\", \"bind_password\": \"Svc-Passw0rd!\","        \
	" \"user_base\": \"ou=people,dc=example,dc=com\", \"group_roles\":"                        \
	" {\"cn=staff,dc=example,dc=com\": [\"" role "\"]}}"
		const char *to_admin = DIRECTORY("d1", "administrator");
		const char *to_own = DIRECTORY("d2", "diradmins");

		assert_int_equal(
			test_status(c->t, "POST", "/api/v1/roles", adm,
				    "{\"name\": \"diradmins\", \"permissions\":"
				    " [\"directory.admin\", \"directory.read\", \"role.read\"]}"),
			201);
		assert_int_equal(test_make_user(c->t, "da", "[\"diradmins\"]"), 201);
		da = test_login(c->t, "da", TEST_PASSWORD);
		assert_int_equal(test_status(c->t, "POST", "/api/v1/directories", da, to_admin),
				 403);
		assert_int_equal(test_status(c->t, "GET", "/api/v1/directories/d1", adm, NULL),
				 404);
		assert_int_equal(test_status(c->t, "POST", "/api/v1/directories", da, to_own), 201);
		assert_int_equal(test_status(c->t, "PATCH", "/api/v1/directories/d2", da,
					     "{\"group_roles\": {\"cn=staff,dc=example,dc=com\":"
					     " [\"readonly\"]}}"),
				 403);
	}
}

static long create_with(Ctx *c, int who, const char *name, const char *fields)
{
	g_autofree char *body = g_strdup_printf(
		"{\"definition\": {\"name\": \"%s\", \"vcpus\": 1, \"memory_mib\": 64, %s}}", name,
		fields);

	return test_status(c->t, "POST", "/api/v1/vms", who < 0 ? c->t->admin_token : c->tok[who],
			   body);
}

#define DISK(p) "\"disks\": [{\"path\": \"" p "\", \"format\": \"raw\"}]"

static void test_host_paths(void **state)
{
	Ctx *c = *state;
	g_autofree char *state_db = g_build_filename(c->t->dir, "manager.db", NULL);
	g_autofree char *db_disk = g_strdup_printf("\"disks\": [{\"path\": \"%s\", "
						   "\"format\": \"raw\", \"shared_outside_pool\": "
						   "true}]",
						   state_db);
	g_autofree char *dir = roots_dir();
	g_autofree char *link_disk = g_strdup_printf(
		"\"disks\": [{\"path\": \"%s/escape.img\", \"format\": \"raw\"}]", dir);

	/* What a vm_manager may not name: host files. */
	assert_int_equal(create_with(c, VMM, "p1", DISK("/dev/sda")), 403);
	assert_int_equal(create_with(c, VMM, "p2", "\"cdrom\": \"/etc/shadow\""), 403);
	assert_int_equal(create_with(c, VMM, "p3", "\"kernel\": {\"path\": \"/root/.ssh/id_rsa\"}"),
			 403);
	assert_int_equal(create_with(c, VMM, "p4", db_disk), 403);
	assert_int_equal(create_with(c, VMM, "p5", DISK("/var/lib/images/x.img")), 403);
	/* A link under a root that leads out of it is judged where it leads. */
	assert_int_equal(create_with(c, VMM, "p6", link_disk), 403);
	/* Under a pool: fine. */
	assert_int_equal(create_with(c, VMM, "p7", DISK("/srv/ics/pools/shared/p7.img")), 201);
	/* An administrator may name host paths... */
	assert_int_equal(create_with(c, -1, "a1", DISK("/var/lib/images/a1.img")), 201);
	assert_int_equal(create_with(c, -1, "a2", "\"cdrom\": \"/srv/isos/debian.iso\""), 201);
	/* ... but nobody names devices, the manager's state or lease areas. */
	assert_int_equal(create_with(c, -1, "a3", DISK("/dev/sda")), 403);
	assert_int_equal(create_with(c, -1, "a4", db_disk), 403);
	assert_int_equal(create_with(c, -1, "a5", DISK("/srv/ics/pools/shared/.ics/leases")), 403);
	assert_int_equal(create_with(c, -1, "a6", "\"cdrom\": \"/proc/self/environ\""), 403);
	assert_int_equal(create_with(c, -1, "a7", link_disk), 201);
	/* An update is held to the same rules. */
	{
		g_autoptr(TestResp) r =
			test_http(c->t, "GET", "/api/v1/vms?limit=1000", c->tok[VMM], NULL);
		const char *uuid = json_string_value(json_object_get(
			json_array_get(json_object_get(r->json, "items"), 0), "uuid"));
		g_autofree char *path = g_strdup_printf("/api/v1/vms/%s", uuid);

		assert_int_equal(test_status(c->t, "PUT", path, c->tok[VMM],
					     "{\"definition\": {\"name\": \"p7\", \"vcpus\": 1,"
					     " \"memory_mib\": 64, " DISK("/dev/sdb") "}}"),
				 403);
	}
	/* Another tenant's disk: refused to a tenant, shared by an admin. */
	assert_int_equal(create_with(c, VMM2, "t1", DISK("/srv/ics/pools/shared/t1.img")), 201);
	assert_int_equal(create_with(c, VMM, "t2", DISK("/srv/ics/pools/shared/t1.img")), 403);
	assert_int_equal(create_with(c, -1, "t3", DISK("/srv/ics/pools/shared/t1.img")), 201);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_matrix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vm_ownership, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exclusive_roles, setup, teardown),
		cmocka_unit_test_setup_teardown(test_last_admin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_escalation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_paths, setup, teardown),
	};
	curl_global_init(CURL_GLOBAL_DEFAULT);
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
