/*
 * test_admin_backup.c: `ics-admin backup repo list|add|remove`, `backup
 * list` and `backup run` against a real in-process ics-managerd whose
 * cluster adapter backs a VM up by really copying a qcow2 disk (the
 * stopped-VM path of libicsbackup): the table, JSON and one-line outputs,
 * a VM named by its name, and the exit status of bad paths and names (2),
 * unknown VMs and repositories (3), a repository registered twice (4);
 * `backup policy ...` on scheduled backups; `backup system run|list` on
 * the manager's own backups; `backup restore` to a new VM and a volume.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "admin_api_test_util.h"
#include "ics/backup.h"
#include "ics/exec.h"

static char *disk; /* the one disk every VM of this test has */

static gboolean defined(void *self, const IcsVmMeta *vm, GError **error)
{
	(void)self, (void)vm, (void)error;
	return TRUE;
}

static json_t *backed_up(void *self, const char *uuid, IcsBackupRepo *repo,
			 const IcsBackupRunOptions *opts, GError **error)
{
	g_autofree char *json = g_strdup_printf(
		"{\"uuid\": \"%s\", \"name\": \"db1\", \"vcpus\": 1, \"memory_mib\": 128,"
		" \"disks\": [{\"path\": \"%s\", \"format\": \"qcow2\"}]}",
		uuid, disk);
	g_autoptr(IcsVmMeta) vm = ics_vm_meta_parse(json, NULL, error);
	g_autoptr(IcsBackupManifest) m = NULL;

	(void)self;
	if (vm == NULL || (m = ics_backup_run_stopped(repo, vm, opts, error)) == NULL)
		return NULL;
	return ics_backup_manifest_to_json(m);
}

/* One pool, "shared": the test's home, where the disk is. */
static json_t *pools(void *self, GError **error)
{
	g_autofree char *dir = g_path_get_dirname(disk);

	(void)self, (void)error;
	return json_pack("[{s:s, s:s}]", "name", "shared", "path", dir);
}

static gboolean stopped(void *self, const char *uuid, char **state, char **host,
			GError **error)
{
	(void)self, (void)uuid, (void)error;
	*state = g_strdup("stopped");
	*host = NULL;
	return TRUE;
}

static const IcsClusterOps ops = {
	.define_vm = defined,
	.vm_backup = backed_up,
	.pools = pools,
	.vm_status = stopped,
};

static int setup(void **state)
{
	ApiTest *t = api_test_start_with(TRUE, &ops);
	const char *argv[] = { "qemu-img", "create", "-q", "-f", "qcow2", NULL, "1M", NULL };
	g_autoptr(GError) err = NULL;

	disk = g_build_filename(t->home, "db1.qcow2", NULL);
	argv[5] = disk;
	assert_true(ics_exec_simple(argv, 30000, NULL, &err));
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	api_test_stop(*state);
	g_clear_pointer(&disk, g_free);
	return 0;
}

static void test_backup_commands(void **state)
{
	ApiTest *t = *state;
	g_auto(CliRun) r = { 0 };
	g_autoptr(json_t) j = NULL;
	g_autofree char *repo = g_build_filename(t->home, "repo", NULL);

	g_mkdir(repo, 0700);
	api_test_login_admin(t);
	assert_int_equal(cli_run(&r, NULL, "backup", "repo", "add", "nightly", repo, NULL), 0);
	assert_non_null(strstr(r.out, "repository nightly at"));
	assert_int_equal(cli_run(&r, NULL, "backup", "repo", "add", "weekly", "rel/dir", NULL), 2);
	assert_non_null(strstr(r.err, "absolute"));
	assert_int_equal(cli_run(&r, NULL, "backup", "repo", "add", "again", repo, NULL), 4);
	assert_int_equal(cli_run(&r, NULL, "backup", "repo", "list", NULL), 0);
	assert_non_null(strstr(r.out, "NAME"));
	assert_non_null(strstr(r.out, "nightly"));
	assert_int_equal(cli_run(&r, NULL, "vm", "create", "--name", "db1", "--vcpus", "1",
				 "--memory", "128", NULL),
			 0);
	assert_int_equal(cli_run(&r, NULL, "backup", "run", "db1", "--repository", "nightly", NULL),
			 0);
	assert_non_null(strstr(r.out, ": full (the first backup"));
	assert_int_equal(cli_run(&r, NULL, "backup", "run", "db1", NULL), 2);
	assert_non_null(strstr(r.err, "--repository"));
	assert_int_equal(cli_run(&r, NULL, "backup", "run", "nope", "--repository", "nightly",
				 NULL),
			 3);
	assert_int_equal(cli_run(&r, NULL, "backup", "run", "db1", "--repository", "nope", NULL),
			 3);
	assert_int_equal(cli_run(&r, NULL, "backup", "list", "db1", NULL), 0);
	assert_non_null(strstr(r.out, "REPOSITORY"));
	assert_non_null(strstr(r.out, "nightly"));
	assert_non_null(strstr(r.out, "full"));
	assert_int_equal(cli_run(&r, NULL, "backup", "list", "db1", "--json", NULL), 0);
	j = json_loads(r.out, 0, NULL);
	assert_non_null(j);
	assert_int_equal(json_array_size(json_object_get(j, "backups")), 1);
	assert_int_equal(cli_run(&r, NULL, "backup", "repo", "remove", "nightly", NULL), 0);
	assert_int_equal(cli_run(&r, NULL, "backup", "repo", "remove", "nightly", NULL), 3);
	assert_int_equal(cli_run(&r, NULL, "backup", "frobnicate", NULL), 2);
}

/* backup restore: to a new VM, to a volume; a name taken (4), a bad kind
 * or no repository (2), in place over a disk the VM does not have (4). */
static void test_restore_commands(void **state)
{
	ApiTest *t = *state;
	g_auto(CliRun) r = { 0 };
	g_autoptr(json_t) j = NULL;
	g_autofree char *repo = g_build_filename(t->home, "repo", NULL);
	g_autofree char *id = NULL;

	g_mkdir(repo, 0700);
	api_test_login_admin(t);
	assert_int_equal(cli_run(&r, NULL, "backup", "repo", "add", "nightly", repo, NULL), 0);
	assert_int_equal(cli_run(&r, NULL, "vm", "create", "--name", "db1", "--vcpus", "1",
				 "--memory", "128", NULL),
			 0);
	assert_int_equal(cli_run(&r, NULL, "backup", "run", "db1", "--repository", "nightly", NULL),
			 0);
	assert_int_equal(cli_run(&r, NULL, "backup", "list", "db1", "--json", NULL), 0);
	j = json_loads(r.out, 0, NULL);
	id = g_strdup(json_string_value(
		json_object_get(json_array_get(json_object_get(j, "backups"), 0), "id")));
	assert_non_null(id);
	assert_int_equal(cli_run(&r, NULL, "backup", "restore", "db1", id, "--repository",
				 "nightly", "--name", "db2", NULL),
			 0);
	assert_non_null(strstr(r.out, "to the new VM db2"));
	assert_int_equal(cli_run(&r, NULL, "backup", "restore", "db1", id, "--repository",
				 "nightly", "--name", "db2", NULL),
			 4);
	assert_non_null(strstr(r.err, "taken"));
	assert_int_equal(cli_run(&r, NULL, "backup", "restore", "db1", id, "--repository",
				 "nightly", "--to", "volume", "--disk", "vda", "--name", "v.qcow2",
				 NULL),
			 0);
	assert_non_null(strstr(r.out, "to volume v.qcow2 on pool shared"));
	assert_int_equal(cli_run(&r, NULL, "backup", "restore", "db1", id, "--repository",
				 "nightly", "--to", "sideways", "--name", "x", NULL),
			 2);
	assert_int_equal(cli_run(&r, NULL, "backup", "restore", "db1", id, NULL), 2);
	assert_non_null(strstr(r.err, "--repository"));
	assert_int_equal(cli_run(&r, NULL, "backup", "restore", "db1", id, "--repository",
				 "nightly", "--to", "in-place", NULL),
			 4);
	assert_non_null(strstr(r.err, "has no disk vda"));
}

/* Backup policies: create (names resolved, bad schedule 2), list, show,
 * disable, run, delete (twice: 3). */
static void test_policy_commands(void **state)
{
	ApiTest *t = *state;
	g_auto(CliRun) r = { 0 };
	g_autofree char *repo = g_build_filename(t->home, "repo", NULL);

	g_mkdir(repo, 0700);
	api_test_login_admin(t);
	assert_int_equal(cli_run(&r, NULL, "backup", "repo", "add", "nightly", repo, NULL), 0);
	assert_int_equal(cli_run(&r, NULL, "vm", "create", "--name", "db1", "--vcpus", "1",
				 "--memory", "128", NULL),
			 0);
	assert_int_equal(cli_run(&r, NULL, "backup", "policy", "create", "p1", "--schedule",
				 "0 2 * * *", "--repository", "nightly", "--vm", "db1",
				 "--retention", "last=3,weekly=4", "--window", "22:00-06:00", NULL),
			 0);
	assert_non_null(strstr(r.out, "schedule:       0 2 * * * (UTC)"));
	assert_non_null(strstr(r.out, "window:         22:00-06:00"));
	assert_non_null(strstr(r.out, "T02:00:00"));
	assert_int_equal(cli_run(&r, NULL, "backup", "policy", "create", "p2", "--schedule",
				 "0 25 * * *", "--repository", "nightly", "--all-vms", NULL),
			 2);
	assert_non_null(strstr(r.err, "cron hour"));
	assert_int_equal(cli_run(&r, NULL, "backup", "policy", "create", "p2", "--repository",
				 "nightly", "--all-vms", NULL),
			 2);
	/* by pool too; a pool the cluster lacks is 2 */
	assert_int_equal(cli_run(&r, NULL, "backup", "policy", "create", "p3", "--schedule",
				 "@daily", "--repository", "nightly", "--vm", "db1", "--pool",
				 "shared", NULL),
			 0);
	assert_non_null(strstr(r.out, "pools:          shared"));
	assert_int_equal(cli_run(&r, NULL, "backup", "policy", "create", "p4", "--schedule",
				 "@daily", "--repository", "nightly", "--pool", "nope", NULL),
			 2);
	assert_non_null(strstr(r.err, "no pool nope"));
	/* by tag */
	assert_int_equal(cli_run(&r, NULL, "backup", "policy", "create", "p5", "--schedule",
				 "@daily", "--repository", "nightly", "--tag", "prod", NULL),
			 0);
	assert_non_null(strstr(r.out, "tags:           prod"));
	assert_int_equal(cli_run(&r, NULL, "backup", "policy", "list", NULL), 0);
	assert_non_null(strstr(r.out, "tags prod"));
	assert_int_equal(cli_run(&r, NULL, "backup", "policy", "delete", "p5", NULL), 0);
	assert_int_equal(cli_run(&r, NULL, "backup", "policy", "list", NULL), 0);
	assert_non_null(strstr(r.out, "NEXT RUN"));
	assert_non_null(strstr(r.out, "last=3,weekly=4"));
	assert_non_null(strstr(r.out, "1, pools shared"));
	assert_int_equal(cli_run(&r, NULL, "backup", "policy", "delete", "p3", NULL), 0);
	assert_int_equal(cli_run(&r, NULL, "backup", "policy", "run", "p1", NULL), 0);
	assert_non_null(strstr(r.out, "due:            1 VMs"));
	assert_int_equal(cli_run(&r, NULL, "backup", "policy", "disable", "p1", NULL), 0);
	assert_non_null(strstr(r.out, "enabled:        no"));
	/* a disabled policy does not run */
	assert_int_equal(cli_run(&r, NULL, "backup", "policy", "run", "p1", NULL), 4);
	assert_non_null(strstr(r.err, "disabled"));
	assert_int_equal(cli_run(&r, NULL, "backup", "policy", "show", "p1", "--json", NULL), 0);
	assert_non_null(strstr(r.out, "\"repository\": \"nightly\""));
	assert_int_equal(cli_run(&r, NULL, "backup", "repo", "remove", "nightly", NULL), 4);
	assert_int_equal(cli_run(&r, NULL, "backup", "policy", "delete", "p1", NULL), 0);
	assert_int_equal(cli_run(&r, NULL, "backup", "policy", "delete", "p1", NULL), 3);
}

/* The manager's own backups: run (waits for the task), list as a table
 * and as JSON, a bad --timeout. */
static void test_system_backup_commands(void **state)
{
	ApiTest *t = *state;
	g_auto(CliRun) r = { 0 };
	g_autoptr(json_t) j = NULL;

	api_test_login_admin(t);
	assert_int_equal(cli_run(&r, NULL, "backup", "system", "run", NULL), 0);
	assert_non_null(strstr(r.out, "system backup ics-manager-"));
	assert_non_null(strstr(r.out, " written"));
	assert_int_equal(cli_run(&r, NULL, "backup", "system", "run", "--timeout", "0", NULL), 2);
	assert_int_equal(cli_run(&r, NULL, "backup", "system", "list", NULL), 0);
	assert_non_null(strstr(r.out, "SCHEMA"));
	assert_non_null(strstr(r.out, "ics-manager-"));
	assert_int_equal(cli_run(&r, NULL, "backup", "system", "list", "--json", NULL), 0);
	j = json_loads(r.out, 0, NULL);
	assert_non_null(j);
	assert_int_equal(json_array_size(json_object_get(j, "backups")), 1);
	assert_int_equal(json_integer_value(json_object_get(j, "keep")), 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_backup_commands, setup, teardown),
		cmocka_unit_test_setup_teardown(test_system_backup_commands, setup, teardown),
		cmocka_unit_test_setup_teardown(test_policy_commands, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restore_commands, setup, teardown),
	};
	curl_global_init(CURL_GLOBAL_DEFAULT);
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
