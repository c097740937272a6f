/*
 * test_backups.c: backups through the REST API -- repositories
 * (registration refused for host paths that are not a repository's
 * business, names and directories unique, administrators only), backups
 * as tasks that really copy a disk (the fake adapter runs libicsbackup's
 * stopped-VM path on a qcow2 image made with qemu-img), the catalogue read
 * from the repository, a repository that went away, a vm_manager backing
 * up its own VM but not another's, repository paths shown to
 * administrators only, and several users asking for backups of one VM at
 * the same time (one at a time: the others are refused, nothing
 * half-written is listed).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <glib/gstdio.h>

#include "ics/exec.h"
#include "mgr_test_util.h"

typedef struct {
	TestMgr *t;
	FakeCluster fake;
	IcsClusterOps ops;
	char *tmp; /* beside the state directory: repositories and disks */
	char *repo_dir;
	char *vm_uuid;
} Ctx;

static char *vm_of(Ctx *c, const char *token, const char *name)
{
	g_autofree char *body = test_vm_body(name, NULL);
	g_autoptr(TestResp) r = test_http(c->t, "POST", "/api/v1/vms", token, body);

	assert_int_equal(r->status, 201);
	return g_strdup(test_str(r, "uuid"));
}

/* The fake adapter backs up @uuid: a 2 MiB qcow2 disk with data on it. */
static void backed_vm(Ctx *c, const char *uuid)
{
	g_autofree char *disk = g_strdup_printf("%s/%s.qcow2", c->tmp, uuid);
	g_autofree char *json = g_strdup_printf(
		"{\"uuid\": \"%s\", \"name\": \"b\", \"vcpus\": 1, \"memory_mib\": 128,"
		" \"disks\": [{\"path\": \"%s\", \"format\": \"qcow2\"}]}",
		uuid, disk);
	const char *create[] = { "qemu-img", "create", "-q", "-f", "qcow2", disk, "2M", NULL };
	const char *write[] = { "qemu-io", "-f", "qcow2", "-c", "write -P 7 0 65536", disk, NULL };
	g_autoptr(GError) err = NULL;

	assert_true(ics_exec_simple(create, 30000, NULL, &err));
	assert_true(ics_exec_simple(write, 30000, NULL, &err));
	ics_vm_meta_free(c->fake.backup_vm);
	c->fake.backup_vm = ics_vm_meta_parse(json, NULL, &err);
	assert_non_null(c->fake.backup_vm);
}

static int setup(void **state)
{
	Ctx *c = g_new0(Ctx, 1);

	c->ops = test_fake_ops(&c->fake);
	c->t = test_mgr_start_in(NULL, &c->ops, NULL);
	c->tmp = g_dir_make_tmp("ics-backups-XXXXXX", NULL);
	c->repo_dir = g_build_filename(c->tmp, "repo", NULL);
	g_mkdir(c->repo_dir, 0700);
	c->vm_uuid = vm_of(c, c->t->admin_token, "web1");
	backed_vm(c, c->vm_uuid);
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	Ctx *c = *state;

	test_mgr_stop(c->t, FALSE);
	test_rm_rf(c->tmp);
	ics_vm_meta_free(c->fake.backup_vm);
	g_free(c->tmp);
	g_free(c->repo_dir);
	g_free(c->vm_uuid);
	g_free(c);
	return 0;
}

static long add_repo(Ctx *c, const char *token, const char *name, const char *path)
{
	g_autofree char *body =
		g_strdup_printf("{\"name\": \"%s\", \"path\": \"%s\"}", name, path);

	return test_status(c->t, "POST", "/api/v1/backup-repositories", token, body);
}

/* POST a backup; the task's final state and its result. */
static char *backup(Ctx *c, const char *token, const char *uuid, const char *body,
		    json_t **result)
{
	g_autofree char *path = g_strdup_printf("/api/v1/vms/%s/backups", uuid);
	g_autoptr(TestResp) r = test_http(c->t, "POST", path, token, body);
	gint64 id;
	char *state;

	if (r->status != 202)
		fail_msg("POST %s: %ld %s", path, r->status, r->body->str);
	id = json_integer_value(json_object_get(r->json, "id"));
	state = test_wait_task(c->t, c->t->admin_token, id);
	if (result) {
		g_autofree char *tp = g_strdup_printf("/api/v1/tasks/%" G_GINT64_FORMAT, id);
		g_autoptr(TestResp) t = test_http(c->t, "GET", tp, c->t->admin_token, NULL);

		*result = json_incref(json_object_get(t->json, "result") &&
					      !json_is_null(json_object_get(t->json, "result"))
				      ? json_object_get(t->json, "result")
				      : json_object_get(t->json, "error"));
	}
	return state;
}

static void test_repositories(void **state)
{
	Ctx *c = *state;
	g_autofree char *file = g_build_filename(c->tmp, "a-file", NULL);
	g_autofree char *link = g_build_filename(c->tmp, "to-proc", NULL);
	g_autofree char *inside = g_build_filename(c->t->dir, "backups", NULL);
	g_autofree char *alice = NULL;
	g_autoptr(TestResp) list = NULL;

	g_file_set_contents(file, "x", 1, NULL);
	g_assert_cmpint(symlink("/proc/self", link), ==, 0);
	g_mkdir(inside, 0700);
	assert_int_equal(add_repo(c, c->t->admin_token, "r", "relative/dir"), 400);
	assert_int_equal(add_repo(c, c->t->admin_token, "r", "/no/such/dir"), 400);
	assert_int_equal(add_repo(c, c->t->admin_token, "r", "/proc"), 400);
	assert_int_equal(add_repo(c, c->t->admin_token, "r", link), 400);
	assert_int_equal(add_repo(c, c->t->admin_token, "r", file), 400);
	assert_int_equal(add_repo(c, c->t->admin_token, "r", inside), 400);
	assert_int_equal(add_repo(c, c->t->admin_token, "r", "/"), 400);
	assert_int_equal(add_repo(c, c->t->admin_token, "../x", c->repo_dir), 400);
	/* only administrators name host paths */
	assert_int_equal(test_make_user(c->t, "alice", "[\"vm_manager\"]"), 201);
	alice = test_login(c->t, "alice", TEST_PASSWORD);
	assert_int_equal(add_repo(c, alice, "nightly", c->repo_dir), 403);
	assert_int_equal(add_repo(c, c->t->admin_token, "nightly", c->repo_dir), 201);
	assert_true(g_file_test(c->repo_dir, G_FILE_TEST_IS_DIR));
	/* a repository's files are backups, never a VM's disks (never-path) */
	{
		g_autofree char *body = g_strdup_printf(
			"{\"definition\": {\"name\": \"thief\", \"vcpus\": 1, \"memory_mib\": 128,"
			" \"disks\": [{\"path\": \"%s/vms/x/vda.qcow2\", \"format\": \"qcow2\"}]}}",
			c->repo_dir);

		assert_int_equal(test_status(c->t, "POST", "/api/v1/vms", c->t->admin_token, body),
				 403);
	}
	/* the name, or the directory, once */
	assert_int_equal(add_repo(c, c->t->admin_token, "nightly", c->tmp), 409);
	assert_int_equal(add_repo(c, c->t->admin_token, "weekly", c->repo_dir), 409);
	list = test_http(c->t, "GET", "/api/v1/backup-repositories", alice, NULL);
	assert_int_equal(list->status, 200);
	assert_int_equal(json_array_size(list->json), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(list->json, 0),
							      "name")),
			    "nightly");
	/* a host path: an administrator's business */
	assert_null(json_object_get(json_array_get(list->json, 0), "path"));
	{
		g_autoptr(TestResp) adm = test_http(c->t, "GET", "/api/v1/backup-repositories",
						    c->t->admin_token, NULL);

		assert_non_null(json_object_get(json_array_get(adm->json, 0), "path"));
	}
	assert_int_equal(test_status(c->t, "DELETE", "/api/v1/backup-repositories/nightly", alice,
				     NULL),
			 403);
	assert_int_equal(test_status(c->t, "DELETE", "/api/v1/backup-repositories/nightly",
				     c->t->admin_token, NULL),
			 204);
	assert_int_equal(test_status(c->t, "DELETE", "/api/v1/backup-repositories/nightly",
				     c->t->admin_token, NULL),
			 404);
}

static void test_backup_and_catalogue(void **state)
{
	Ctx *c = *state;
	g_autofree char *path = g_strdup_printf("/api/v1/vms/%s/backups", c->vm_uuid);
	g_autoptr(json_t) first = NULL, second = NULL, gone = NULL;
	g_autofree char *st1 = NULL, *st2 = NULL, *st3 = NULL;
	g_autofree char *moved = g_strdup_printf("%s.moved", c->repo_dir);

	assert_int_equal(add_repo(c, c->t->admin_token, "nightly", c->repo_dir), 201);
	/* bad requests: unknown repository, wrong types */
	assert_int_equal(test_status(c->t, "POST", path, c->t->admin_token,
				     "{\"repository\": \"nope\"}"),
			 404);
	assert_int_equal(test_status(c->t, "POST", path, c->t->admin_token,
				     "{\"repository\": \"nightly\", \"full\": \"yes\"}"),
			 400);
	assert_int_equal(test_status(c->t, "POST", path, c->t->admin_token, "{}"), 400);
	st1 = backup(c, c->t->admin_token, c->vm_uuid, "{\"repository\": \"nightly\"}", &first);
	assert_string_equal(st1, "succeeded");
	assert_string_equal(json_string_value(json_object_get(first, "kind")), "full");
	assert_string_equal(json_string_value(json_object_get(first, "repository")), "nightly");
	assert_null(json_object_get(first, "definition"));
	st2 = backup(c, c->t->admin_token, c->vm_uuid,
		     "{\"repository\": \"nightly\", \"full\": true}", &second);
	assert_string_equal(st2, "succeeded");
	{
		g_autoptr(TestResp) r = test_http(c->t, "GET", path, c->t->admin_token, NULL);
		json_t *b = json_object_get(r->json, "backups");

		assert_int_equal(r->status, 200);
		assert_int_equal(json_array_size(b), 2);
		assert_int_equal(json_array_size(json_object_get(r->json, "problems")), 0);
		assert_string_equal(
			json_string_value(json_object_get(json_array_get(b, 0), "id")),
			json_string_value(json_object_get(first, "id")));
	}
	/* the repository's file system goes away: listed as a problem, a
	 * backup fails saying so, and nothing is written anywhere */
	assert_int_equal(g_rename(c->repo_dir, moved), 0);
	{
		g_autoptr(TestResp) r = test_http(c->t, "GET", path, c->t->admin_token, NULL);

		assert_int_equal(json_array_size(json_object_get(r->json, "backups")), 0);
		assert_int_equal(json_array_size(json_object_get(r->json, "problems")), 1);
	}
	st3 = backup(c, c->t->admin_token, c->vm_uuid, "{\"repository\": \"nightly\"}", &gone);
	assert_string_equal(st3, "failed");
	assert_false(g_file_test(c->repo_dir, G_FILE_TEST_EXISTS));
	assert_int_equal(g_rename(moved, c->repo_dir), 0);
}

static void test_owned_only(void **state)
{
	Ctx *c = *state;
	g_autofree char *alice = NULL, *hers = NULL, *st = NULL;
	g_autofree char *admins = g_strdup_printf("/api/v1/vms/%s/backups", c->vm_uuid);
	g_autoptr(json_t) res = NULL;

	assert_int_equal(add_repo(c, c->t->admin_token, "nightly", c->repo_dir), 201);
	assert_int_equal(test_make_user(c->t, "alice", "[\"vm_manager\"]"), 201);
	alice = test_login(c->t, "alice", TEST_PASSWORD);
	hers = vm_of(c, alice, "alices");
	backed_vm(c, hers);
	st = backup(c, alice, hers, "{\"repository\": \"nightly\"}", &res);
	assert_string_equal(st, "succeeded");
	/* another's VM does not exist for her */
	assert_int_equal(test_status(c->t, "POST", admins, alice, "{\"repository\": \"nightly\"}"),
			 404);
	assert_int_equal(test_status(c->t, "GET", admins, alice, NULL), 404);
	/* readonly reads, does not run */
	assert_int_equal(test_make_user(c->t, "carol", "[\"readonly\"]"), 201);
	{
		g_autofree char *carol = test_login(c->t, "carol", TEST_PASSWORD);

		assert_int_equal(test_status(c->t, "GET", admins, carol, NULL), 200);
		assert_int_equal(test_status(c->t, "POST", admins, carol,
					     "{\"repository\": \"nightly\"}"),
				 403);
	}
}

typedef struct {
	Ctx *c;
	char *token;
	char *state;
} Racer;

static gpointer race(gpointer data)
{
	Racer *r = data;
	g_autofree char *path = g_strdup_printf("/api/v1/vms/%s/backups", r->c->vm_uuid);
	g_autoptr(TestResp) resp =
		test_http(r->c->t, "POST", path, r->token, "{\"repository\": \"nightly\"}");

	if (resp->status == 409) {
		r->state = g_strdup("refused");
		return NULL;
	}
	assert_int_equal(resp->status, 202);
	r->state = test_wait_task(r->c->t, r->c->t->admin_token,
				  json_integer_value(json_object_get(resp->json, "id")));
	return NULL;
}

/* Four users ask for a backup of the same VM at once: the ones asking
 * while another's is queued or running are refused (409), a task that
 * still meets another writer fails as busy, every task ends, and the
 * repository lists exactly the ones that succeeded, with no partial
 * directory left. */
static void test_concurrent_backups(void **state)
{
	Ctx *c = *state;
	g_autofree char *path = g_strdup_printf("/api/v1/vms/%s/backups", c->vm_uuid);
	Racer racers[4];
	GThread *threads[4];
	guint ok = 0;

	assert_int_equal(add_repo(c, c->t->admin_token, "nightly", c->repo_dir), 201);
	for (guint i = 0; i < 4; i++) {
		g_autofree char *user = g_strdup_printf("admin%u", i);

		assert_int_equal(test_make_user(c->t, user, "[\"administrator\"]"), 201);
		racers[i] = (Racer){ c, test_login(c->t, user, TEST_PASSWORD), NULL };
	}
	for (guint i = 0; i < 4; i++)
		threads[i] = g_thread_new("racer", race, &racers[i]);
	for (guint i = 0; i < 4; i++) {
		g_thread_join(threads[i]);
		assert_true(g_str_equal(racers[i].state, "succeeded") ||
			    g_str_equal(racers[i].state, "failed") ||
			    g_str_equal(racers[i].state, "refused"));
		ok += g_str_equal(racers[i].state, "succeeded");
		g_free(racers[i].state);
		g_free(racers[i].token);
	}
	assert_true(ok >= 1);
	{
		g_autoptr(TestResp) r = test_http(c->t, "GET", path, c->t->admin_token, NULL);
		g_autofree char *vmdir = g_build_filename(c->repo_dir, "vms", c->vm_uuid, NULL);
		g_autoptr(GDir) d = g_dir_open(vmdir, 0, NULL);
		const char *name;

		assert_int_equal(json_array_size(json_object_get(r->json, "backups")), ok);
		while ((name = g_dir_read_name(d)) != NULL)
			assert_false(g_str_has_suffix(name, ".partial"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_repositories, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backup_and_catalogue, setup, teardown),
		cmocka_unit_test_setup_teardown(test_owned_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_backups, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
