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

/* A VM whose backup is queued or running cannot be deleted (409, saying
 * why): it would copy disks being deleted.  Once the backup has ended, it
 * can. */
static void test_delete_while_backup(void **state)
{
	Ctx *c = *state;
	g_autofree char *path = g_strdup_printf("/api/v1/vms/%s/backups", c->vm_uuid);
	g_autofree char *vm = g_strdup_printf("/api/v1/vms/%s", c->vm_uuid);
	g_autoptr(TestResp) r = NULL;
	g_autoptr(TestResp) del = NULL;
	g_autofree char *st = NULL;

	assert_int_equal(add_repo(c, c->t->admin_token, "nightly", c->repo_dir), 201);
	g_atomic_int_set(&c->fake.hold_backups, 1);
	r = test_http(c->t, "POST", path, c->t->admin_token, "{\"repository\": \"nightly\"}");
	assert_int_equal(r->status, 202);
	del = test_http(c->t, "DELETE", vm, c->t->admin_token, NULL);
	assert_int_equal(del->status, 409);
	assert_non_null(strstr(del->body->str, "a backup of VM"));
	assert_non_null(strstr(del->body->str, "delete the VM when it has ended"));
	g_atomic_int_set(&c->fake.hold_backups, 0);
	st = test_wait_task(c->t, c->t->admin_token,
			    json_integer_value(json_object_get(r->json, "id")));
	assert_string_equal(st, "succeeded");
	assert_int_equal(test_status(c->t, "DELETE", vm, c->t->admin_token, NULL), 204);
}

/* ---- restore ------------------------------------------------------------ */

/* A VM whose definition names its disk on pool "shared" (c->tmp): the one
 * an in-place restore writes over.  Its uuid. */
static char *vm_with_disk(Ctx *c, const char *token, const char *name)
{
	g_autofree char *disk = g_strdup_printf("%s/%s-disk.qcow2", c->tmp, name);
	g_autofree char *body = g_strdup_printf(
		"{\"definition\": {\"name\": \"%s\", \"vcpus\": 1, \"memory_mib\": 128,"
		" \"nics\": [{\"source\": {\"type\": \"bridge\", \"name\": \"br0\"}}],"
		" \"disks\": [{\"path\": \"%s\", \"format\": \"qcow2\"}]}}",
		name, disk);
	const char *create[] = { "qemu-img", "create", "-q", "-f", "qcow2", disk, "2M", NULL };
	const char *write[] = { "qemu-io", "-f", "qcow2", "-c", "write -P 7 0 65536", disk, NULL };
	g_autoptr(GError) err = NULL;
	g_autoptr(TestResp) r = NULL;
	g_autofree char *json = NULL;

	assert_true(ics_exec_simple(create, 30000, NULL, &err));
	assert_true(ics_exec_simple(write, 30000, NULL, &err));
	r = test_http(c->t, "POST", "/api/v1/vms", token, body);
	if (r->status != 201)
		fail_msg("POST /api/v1/vms: %ld %s", r->status, r->body->str);
	json = json_dumps(json_object_get(r->json, "definition"), 0);
	ics_vm_meta_free(c->fake.backup_vm);
	c->fake.backup_vm = ics_vm_meta_parse(json, NULL, &err);
	assert_non_null(c->fake.backup_vm);
	return g_strdup(test_str(r, "uuid"));
}

/* Write pattern @pattern at the start of @disk. */
static void scribble(const char *disk, int pattern)
{
	g_autofree char *cmd = g_strdup_printf("write -P %d 0 65536", pattern);
	const char *argv[] = { "qemu-io", "-f", "qcow2", "-c", cmd, disk, NULL };
	g_autoptr(GError) err = NULL;

	assert_true(ics_exec_simple(argv, 30000, NULL, &err));
}

/* Do images @a and @b hold the same data? */
static gboolean same_data(const char *a, const char *b)
{
	const char *argv[] = { "qemu-img", "compare", "-q", a, b, NULL };

	return ics_exec_simple(argv, 30000, NULL, NULL);
}

/* POST a restore of backup @id of @uuid: the HTTP status; when 202, the
 * task's final state and result. */
static long restore(Ctx *c, const char *token, const char *uuid, const char *id,
		    const char *body, char **state, json_t **result)
{
	g_autofree char *path = g_strdup_printf("/api/v1/vms/%s/backups/%s/restore", uuid, id);
	g_autoptr(TestResp) r = test_http(c->t, "POST", path, token, body);
	gint64 task;

	if (r->status != 202 || state == NULL)
		return r->status;
	task = json_integer_value(json_object_get(r->json, "id"));
	assert_string_equal(test_str(r, "kind"), "vm.restore");
	*state = test_wait_task(c->t, c->t->admin_token, task);
	if (result) {
		g_autofree char *tp = g_strdup_printf("/api/v1/tasks/%" G_GINT64_FORMAT, task);
		g_autoptr(TestResp) t = test_http(c->t, "GET", tp, c->t->admin_token, NULL);
		json_t *res = json_object_get(t->json, "result");

		*result = json_incref(res && !json_is_null(res) ? res
							  : json_object_get(t->json, "error"));
	}
	return r->status;
}

/* A backup of @uuid into "nightly": its id. */
static char *backup_id(Ctx *c, const char *uuid)
{
	g_autoptr(json_t) res = NULL;
	g_autofree char *st = backup(c, c->t->admin_token, uuid, "{\"repository\": \"nightly\"}", &res);

	assert_string_equal(st, "succeeded");
	return g_strdup(json_string_value(json_object_get(res, "id")));
}

/* VM db1 on pool "shared" (c->tmp), backed up into "nightly", then its
 * disk changed: a copy of the disk as it was at the backup (g_free it). */
static char *db1_backed_up_then_changed(Ctx *c, char **uuid, char **id)
{
	g_autofree char *disk = g_strdup_printf("%s/db1-disk.qcow2", c->tmp);
	char *then = g_strdup_printf("%s/then.qcow2", c->tmp);
	const char *argv[] = { "qemu-img", "convert", "-O", "qcow2", disk, then, NULL };

	c->fake.pool_path = c->tmp;
	assert_int_equal(add_repo(c, c->t->admin_token, "nightly", c->repo_dir), 201);
	*uuid = vm_with_disk(c, c->t->admin_token, "db1");
	*id = backup_id(c, *uuid);
	assert_true(ics_exec_simple(argv, 30000, NULL, NULL));
	scribble(disk, 9);
	return then;
}

/* To a new VM: the disk as it was at the backup, a new uuid, name, MAC
 * and lease, the caller's; the same name again, a file in the way and a
 * failed create leave nothing behind. */
static void test_restore_new_vm(void **state)
{
	Ctx *c = *state;
	g_autofree char *uuid = NULL, *id = NULL, *st = NULL, *st2 = NULL, *then = NULL;
	g_autofree char *disk = g_strdup_printf("%s/db1-disk.qcow2", c->tmp);
	g_autofree char *copy = g_strdup_printf("%s/db1-copy-vda.qcow2", c->tmp);
	g_autoptr(json_t) res = NULL, res2 = NULL;
	const char *new_uuid;

	then = db1_backed_up_then_changed(c, &uuid, &id);
	assert_false(same_data(disk, then));
	assert_int_equal(restore(c, c->t->admin_token, uuid, id,
				 "{\"repository\": \"nightly\", \"name\": \"db1-copy\"}", &st,
				 &res),
			 202);
	assert_string_equal(st, "succeeded");
	assert_string_equal(json_string_value(json_object_get(res, "to")), "new-vm");
	new_uuid = json_string_value(json_object_get(json_object_get(res, "vm"), "uuid"));
	assert_non_null(new_uuid);
	assert_string_not_equal(new_uuid, uuid);
	assert_true(same_data(copy, then));
	{
		g_autofree char *p = g_strdup_printf("/api/v1/vms/%s", new_uuid);
		g_autoptr(TestResp) r = test_http(c->t, "GET", p, c->t->admin_token, NULL);
		json_t *def = json_object_get(r->json, "definition");
		json_t *d0 = json_array_get(json_object_get(def, "disks"), 0);
		json_t *n0 = json_array_get(json_object_get(def, "nics"), 0);
		g_autofree char *mac = ics_vm_default_mac(new_uuid, 0);

		assert_int_equal(r->status, 200);
		assert_string_equal(test_str(r, "name"), "db1-copy");
		assert_string_equal(json_string_value(json_object_get(d0, "path")), copy);
		assert_string_equal(json_string_value(json_object_get(n0, "mac")), mac);
	}
	/* the name is taken now, and so is the file */
	assert_int_equal(restore(c, c->t->admin_token, uuid, id,
				 "{\"repository\": \"nightly\", \"name\": \"db1-copy\"}", NULL,
				 NULL),
			 409);
	assert_int_equal(restore(c, c->t->admin_token, uuid, id,
				 "{\"repository\": \"nightly\", \"name\": \"db1\"}", NULL, NULL),
			 409);
	/* the cluster refuses the VM: the restored disk goes again */
	c->fake.fail_define = TRUE;
	assert_int_equal(restore(c, c->t->admin_token, uuid, id,
				 "{\"repository\": \"nightly\", \"name\": \"db1-again\"}", &st2,
				 &res2),
			 202);
	c->fake.fail_define = FALSE;
	assert_string_equal(st2, "failed");
	{
		g_autofree char *again = g_strdup_printf("%s/db1-again-vda.qcow2", c->tmp);

		assert_false(g_file_test(again, G_FILE_TEST_EXISTS));
	}
}

/* In place: refused while the VM runs; stopped, its disk is the backup's
 * again. */
static void test_restore_in_place(void **state)
{
	Ctx *c = *state;
	g_autofree char *uuid = NULL, *id = NULL, *st = NULL, *then = NULL;
	g_autofree char *disk = g_strdup_printf("%s/db1-disk.qcow2", c->tmp);
	g_autoptr(json_t) res = NULL;
	const char *body = "{\"repository\": \"nightly\", \"to\": \"in-place\"}";

	then = db1_backed_up_then_changed(c, &uuid, &id);
	/* running (the fake's default): refused, nothing written */
	assert_int_equal(restore(c, c->t->admin_token, uuid, id, body, NULL, NULL), 409);
	assert_false(same_data(disk, then));
	/* a name or a pool makes no sense in place */
	c->fake.vm_state = "stopped";
	assert_int_equal(restore(c, c->t->admin_token, uuid, id,
				 "{\"repository\": \"nightly\", \"to\": \"in-place\","
				 " \"name\": \"x\"}",
				 NULL, NULL),
			 400);
	assert_int_equal(restore(c, c->t->admin_token, uuid, id, body, &st, &res), 202);
	assert_string_equal(st, "succeeded");
	assert_true(same_data(disk, then));
	assert_string_equal(json_string_value(json_object_get(json_object_get(res, "vm"), "uuid")),
			    uuid);
	/* a disk another VM shares is not written over */
	{
		g_autofree char *sharer = g_strdup_printf(
			"{\"definition\": {\"name\": \"sharer\", \"vcpus\": 1, \"memory_mib\": 128,"
			" \"disks\": [{\"path\": \"%s\", \"format\": \"qcow2\"}]}}",
			disk);
		g_autoptr(TestResp) r =
			test_http(c->t, "POST", "/api/v1/vms", c->t->admin_token, sharer);

		assert_int_equal(r->status, 201);
		assert_int_equal(restore(c, c->t->admin_token, uuid, id, body, NULL, NULL), 409);
	}
	/* no hidden file is left beside the disk */
	{
		g_autoptr(GDir) d = g_dir_open(c->tmp, 0, NULL);
		const char *name;

		while ((name = g_dir_read_name(d)) != NULL)
			assert_false(g_str_has_prefix(name, "."));
	}
}

/* One disk to a volume; bad requests; who may restore what, also after
 * the VM was deleted. */
static void test_restore_volume_and_access(void **state)
{
	Ctx *c = *state;
	g_autofree char *uuid = NULL, *id = NULL, *st = NULL, *alice = NULL, *hers = NULL,
			*her_id = NULL, *st2 = NULL;
	g_autofree char *vol = g_strdup_printf("%s/restored.qcow2", c->tmp);
	g_autofree char *list = NULL, *vm_path = NULL;

	c->fake.pool_path = c->tmp;
	assert_int_equal(add_repo(c, c->t->admin_token, "nightly", c->repo_dir), 201);
	uuid = vm_with_disk(c, c->t->admin_token, "db1");
	id = backup_id(c, uuid);
	/* bad requests: each one message, nothing written */
	{
		static const struct {
			const char *body;
			long status;
		} bad[] = {
			{ "{}", 400 },
			{ "{\"repository\": \"nightly\", \"to\": \"sideways\", \"name\": \"x\"}", 400 },
			{ "{\"repository\": \"nightly\"}", 400 }, /* a new VM needs a name */
			{ "{\"repository\": \"nightly\", \"name\": \"x\", \"disks\": [\"vdz\"]}", 400 },
			{ "{\"repository\": \"nightly\", \"name\": \"x\", \"disks\": []}", 400 },
			{ "{\"repository\": \"nightly\", \"name\": \"../x\"}", 400 },
			{ "{\"repository\": \"nightly\", \"to\": \"volume\"}", 400 },
			{ "{\"repository\": \"nope\", \"name\": \"x\"}", 404 },
			{ "{\"repository\": \"nightly\", \"name\": \"x\", \"pool\": \"nope\"}", 404 },
		};

		for (guint i = 0; i < G_N_ELEMENTS(bad); i++)
			if (restore(c, c->t->admin_token, uuid, id, bad[i].body, NULL, NULL) !=
			    bad[i].status)
				fail_msg("%s: not %ld", bad[i].body, bad[i].status);
		assert_int_equal(restore(c, c->t->admin_token, uuid,
					 "20260101T000000.000000Z-0000000000000000",
					 "{\"repository\": \"nightly\", \"name\": \"x\"}", NULL, NULL),
				 404);
	}
	assert_int_equal(restore(c, c->t->admin_token, uuid, id,
				 "{\"repository\": \"nightly\", \"to\": \"volume\","
				 " \"disks\": [\"vda\"], \"name\": \"restored.qcow2\"}",
				 &st, NULL),
			 202);
	assert_string_equal(st, "succeeded");
	assert_true(g_file_test(vol, G_FILE_TEST_IS_REGULAR));
	/* alice (vm_manager): not admin's VM; her own, to a new VM, but no
	 * volume (volume.write) */
	assert_int_equal(test_make_user(c->t, "alice", "[\"vm_manager\"]"), 201);
	alice = test_login(c->t, "alice", TEST_PASSWORD);
	assert_int_equal(restore(c, alice, uuid, id,
				 "{\"repository\": \"nightly\", \"name\": \"mine\"}", NULL, NULL),
			 404);
	hers = vm_with_disk(c, alice, "alices");
	her_id = backup_id(c, hers);
	assert_int_equal(restore(c, alice, hers, her_id,
				 "{\"repository\": \"nightly\", \"to\": \"volume\","
				 " \"disks\": [\"vda\"], \"name\": \"hers.qcow2\"}",
				 NULL, NULL),
			 403);
	assert_int_equal(restore(c, alice, hers, her_id,
				 "{\"repository\": \"nightly\", \"name\": \"alices-copy\"}", &st2,
				 NULL),
			 202);
	assert_string_equal(st2, "succeeded");
	{
		g_autoptr(TestResp) r = test_http(c->t, "GET", "/api/v1/vms?limit=100", alice, NULL);

		assert_non_null(strstr(r->body->str, "alices-copy"));
	}
	/* a backup operator (backup.run and backup.read on every VM, vm.write
	 * on its own) may not copy a VM it cannot read into one it owns */
	assert_int_equal(test_status(c->t, "POST", "/api/v1/roles", c->t->admin_token,
				     "{\"name\": \"backup-ops\", \"permissions\":"
				     " [\"backup.run\", \"backup.read\"]}"),
			 201);
	assert_int_equal(test_make_user(c->t, "carol", "[\"vm_manager\", \"backup-ops\"]"), 201);
	{
		g_autofree char *carol = test_login(c->t, "carol", TEST_PASSWORD);

		assert_int_equal(restore(c, carol, uuid, id,
					 "{\"repository\": \"nightly\", \"name\": \"carols\"}", NULL,
					 NULL),
				 403);
	}
	/* the VM is deleted: its backups stay, listed and restored by
	 * administrators only */
	vm_path = g_strdup_printf("/api/v1/vms/%s", uuid);
	assert_int_equal(test_status(c->t, "DELETE", vm_path, c->t->admin_token, NULL), 204);
	list = g_strdup_printf("/api/v1/vms/%s/backups", uuid);
	{
		g_autoptr(TestResp) r = test_http(c->t, "GET", list, c->t->admin_token, NULL);

		assert_int_equal(r->status, 200);
		assert_int_equal(json_array_size(json_object_get(r->json, "backups")), 1);
	}
	assert_int_equal(test_status(c->t, "GET", list, alice, NULL), 404);
	{
		g_autofree char *st3 = NULL;

		assert_int_equal(restore(c, c->t->admin_token, uuid, id,
					 "{\"repository\": \"nightly\", \"name\": \"db1\"}", &st3,
					 NULL),
				 202);
		assert_string_equal(st3, "succeeded");
	}
}

typedef struct {
	Ctx *c;
	const char *uuid, *id;
	char *token;
	char *name;
	long status;
	char *state;
} Restorer;

static gpointer restore_racer(gpointer data)
{
	Restorer *r = data;
	g_autofree char *body =
		g_strdup_printf("{\"repository\": \"nightly\", \"name\": \"%s\"}", r->name);

	r->status = restore(r->c, r->token, r->uuid, r->id, body, &r->state, NULL);
	return NULL;
}

/* Four users restore the same backup at once, each to a VM of its own:
 * those asking while another's restore is queued or running are refused
 * (409), every accepted restore makes its VM, and the pool holds exactly
 * their disks. */
static void test_concurrent_restores(void **state)
{
	Ctx *c = *state;
	g_autofree char *uuid = NULL, *id = NULL;
	Restorer rs[4];
	GThread *th[4];
	guint accepted = 0;

	c->fake.pool_path = c->tmp;
	assert_int_equal(add_repo(c, c->t->admin_token, "nightly", c->repo_dir), 201);
	uuid = vm_with_disk(c, c->t->admin_token, "db1");
	id = backup_id(c, uuid);
	for (guint i = 0; i < 4; i++) {
		g_autofree char *user = g_strdup_printf("admin%u", i);

		assert_int_equal(test_make_user(c->t, user, "[\"administrator\"]"), 201);
		rs[i] = (Restorer){ c, uuid, id, test_login(c->t, user, TEST_PASSWORD),
				    g_strdup_printf("copy%u", i), 0, NULL };
	}
	for (guint i = 0; i < 4; i++)
		th[i] = g_thread_new("restore", restore_racer, &rs[i]);
	for (guint i = 0; i < 4; i++) {
		g_autofree char *disk = g_strdup_printf("%s/copy%u-vda.qcow2", c->tmp, i);
		g_autofree char *q = g_strdup_printf("/api/v1/vms?limit=100");
		g_autoptr(TestResp) r = NULL;

		g_thread_join(th[i]);
		if (rs[i].status == 409) {
			assert_false(g_file_test(disk, G_FILE_TEST_EXISTS));
		} else {
			assert_int_equal(rs[i].status, 202);
			assert_string_equal(rs[i].state, "succeeded");
			assert_true(g_file_test(disk, G_FILE_TEST_IS_REGULAR));
			r = test_http(c->t, "GET", q, c->t->admin_token, NULL);
			assert_non_null(strstr(r->body->str, rs[i].name));
			accepted++;
		}
		g_free(rs[i].token);
		g_free(rs[i].name);
		g_free(rs[i].state);
	}
	assert_true(accepted >= 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_repositories, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backup_and_catalogue, setup, teardown),
		cmocka_unit_test_setup_teardown(test_owned_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_backups, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete_while_backup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restore_new_vm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restore_in_place, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restore_volume_and_access, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_restores, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
