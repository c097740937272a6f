/*
 * test_repository.c: a repository on a temporary directory with real
 * qemu-img images -- init/open, a stopped VM's backups (full, and
 * incremental from the bitmap the last one left in its image), the catalogue
 * (partial and foreign directories not listed), the writer's lock,
 * verify finding a damaged byte and a relinked chain, restore refusing to
 * overwrite, and a chain of 30 incrementals (made as the live path makes
 * them: each image backed by its parent's) restoring bit-identical to a
 * reference disk that saw the same writes; retention (which backups each
 * rule keeps, chains never cut) and prune.
 */
#include "config.h"

#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <glib/gstdio.h>
#include <sys/stat.h>

#include "backup_internal.h"
#include "ics/error.h"
#include "ics/exec.h"
#include "ics/json.h"

#define UUID "6f1c3c0e-8a4b-4d5e-9f00-1234567890ab"

typedef struct {
	char *tmp;
	char *repo_path;
	char *pool;
	char *disk;
	IcsBackupRepo *repo;
	IcsVmMeta *vm;
} Fx;

static void run_ok(const char *const *argv)
{
	g_autoptr(GError) err = NULL;

	if (!ics_exec_simple(argv, 60000, NULL, &err))
		fail_msg("%s: %s", argv[0], err ? err->message : "failed");
}

static void qemu_io_write(const char *image, const char *fmt, guint pattern, guint64 off,
			  guint64 len)
{
	g_autofree char *cmd = g_strdup_printf("write -P %u %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT,
					       pattern, off, len);
	const char *argv[] = { "qemu-io", "-f", fmt, "-c", cmd, image, NULL };

	run_ok(argv);
}

static int setup(void **state)
{
	Fx *f = g_new0(Fx, 1);
	g_autoptr(GError) err = NULL;
	g_autofree char *json = NULL;
	g_autofree char *vms = NULL;

	f->tmp = g_dir_make_tmp("ics-backup-XXXXXX", NULL);
	f->repo_path = g_build_filename(f->tmp, "repo", NULL);
	f->pool = g_build_filename(f->tmp, "pool", NULL);
	g_mkdir(f->repo_path, 0700);
	g_mkdir(f->pool, 0700);
	f->disk = g_build_filename(f->pool, "vda.qcow2", NULL);
	{
		const char *argv[] = { "qemu-img", "create", "-q", "-f", "qcow2", f->disk, "4M", NULL };

		run_ok(argv);
	}
	qemu_io_write(f->disk, "qcow2", 0x11, 0, 65536);
	json = g_strdup_printf("{\"uuid\": \"" UUID "\", \"name\": \"web1\", \"vcpus\": 1,"
			       " \"memory_mib\": 128, \"disks\": [{\"path\": \"%s\", \"format\": "
			       "\"qcow2\"}]}",
			       f->disk);
	f->vm = ics_vm_meta_parse(json, NULL, &err);
	if (f->vm == NULL)
		fail_msg("%s", err->message);
	f->repo = ics_backup_repo_init(f->repo_path, &err);
	assert_non_null(f->repo);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	Fx *f = *state;
	const char *argv[] = { "rm", "-rf", f->tmp, NULL };

	ics_exec_simple(argv, 60000, NULL, NULL);
	ics_backup_repo_free(f->repo);
	ics_vm_meta_free(f->vm);
	g_free(f->tmp);
	g_free(f->repo_path);
	g_free(f->pool);
	g_free(f->disk);
	g_free(f);
	return 0;
}

static void test_init_open(void **state)
{
	Fx *f = *state;
	g_autoptr(GError) err = NULL;
	g_autoptr(IcsBackupRepo) again = ics_backup_repo_init(f->repo_path, &err);
	g_autoptr(IcsBackupRepo) none = NULL;
	g_autofree char *newer = g_build_filename(f->tmp, "newer", NULL);

	assert_non_null(again);
	assert_string_equal(ics_backup_repo_id(again), ics_backup_repo_id(f->repo));
	none = ics_backup_repo_open(f->pool, &err);
	assert_null(none);
	assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_NOT_FOUND));
	assert_non_null(strstr(err->message, "is not a backup repository"));
	g_clear_error(&err);
	g_mkdir(newer, 0700);
	{
		g_autofree char *file = g_build_filename(newer, ICS_BACKUP_REPO_FILE, NULL);

		g_file_set_contents(file,
				    "{\"format\": 2, \"id\": \"" UUID "\", \"created\": \"x\"}",
				    -1, NULL);
	}
	none = ics_backup_repo_open(newer, &err);
	assert_null(none);
	assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT));
	g_clear_error(&err);
	none = ics_backup_repo_open("relative/path", &err);
	assert_null(none);
	assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT));
}

static void test_stopped_backup_restore(void **state)
{
	Fx *f = *state;
	g_autoptr(GError) err = NULL;
	IcsBackupRunOptions opts = { .pool_path = f->pool };
	g_autoptr(IcsBackupManifest) m = ics_backup_run_stopped(f->repo, f->vm, &opts, &err);
	g_autoptr(GPtrArray) list = NULL;
	g_autofree char *dest = g_build_filename(f->tmp, "restored.raw", NULL);

	if (m == NULL)
		fail_msg("%s", err->message);
	assert_false(m->incremental);
	assert_string_equal(m->consistency, "stopped");
	assert_non_null(strstr(m->full_reason, "first backup"));
	/* the VM has no directory on the pool: no record, so no checkpoint */
	assert_null(m->checkpoint);
	list = ics_backup_repo_list(f->repo, UUID, NULL, &err);
	assert_int_equal(list->len, 1);
	assert_string_equal(((IcsBackupManifest *)g_ptr_array_index(list, 0))->id, m->id);
	assert_true(ics_backup_verify(f->repo, m, NULL, NULL, &err));
	assert_true(ics_backup_restore_disk(f->repo, m, "vda", dest, "raw", FALSE, &err));
	{
		const char *argv[] = { "qemu-img", "compare", "-q", "-f", "qcow2", "-F", "raw",
				       f->disk, dest, NULL };

		run_ok(argv);
	}
	/* never over an existing file */
	assert_false(ics_backup_restore_disk(f->repo, m, "vda", dest, "raw", FALSE, &err));
	assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_CONFLICT));
	g_clear_error(&err);
	assert_false(ics_backup_restore_disk(f->repo, m, "vdz", "/tmp/x", "raw", FALSE, &err));
	assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_NOT_FOUND));
}

/* The bitmaps qemu-img lists in @image, space-separated. */
static char *bitmaps_of(const char *image)
{
	const char *argv[] = { "qemu-img", "info", "--output=json", image, NULL };
	g_autofree char *out = NULL;
	g_autoptr(GError) err = NULL;
	g_autoptr(json_t) root = NULL;
	GString *names = g_string_new(NULL);
	json_t *data;
	size_t i;
	json_t *b;

	if (!ics_exec_simple(argv, 60000, &out, &err))
		fail_msg("%s", err->message);
	root = json_loads(out, 0, NULL);
	data = json_object_get(json_object_get(root, "format-specific"), "data");
	json_array_foreach(json_object_get(data, "bitmaps"), i, b)
		g_string_append_printf(names, "%s%s", names->len ? " " : "",
				       json_string_value(json_object_get(b, "name")));
	return g_string_free(names, FALSE);
}

/* A stopped VM on a pool is tracked as a running one: its backup adds a
 * bitmap to the image and records the checkpoint; the next backup copies
 * only what changed and restores identical to the disk; the older bitmap
 * and record go; a bitmap removed by hand makes the next backup full,
 * saying why. */
static void test_stopped_incremental(void **state)
{
	Fx *f = *state;
	g_autoptr(GError) err = NULL;
	g_autofree char *vm_dir = ics_vm_dir(f->pool, UUID);
	g_autofree char *cp_dir = ics_backup_checkpoint_dir(vm_dir);
	g_autofree char *dest = g_build_filename(f->tmp, "restored.raw", NULL);
	g_autofree char *bitmaps = NULL;
	g_autofree char *record = NULL;
	IcsBackupRunOptions opts = { .pool_path = f->pool };
	g_autoptr(IcsBackupManifest) full = NULL;
	g_autoptr(IcsBackupManifest) incr = NULL;
	g_autoptr(IcsBackupManifest) again = NULL;

	assert_int_equal(g_mkdir_with_parents(vm_dir, 0755), 0);
	full = ics_backup_run_stopped(f->repo, f->vm, &opts, &err);
	if (full == NULL)
		fail_msg("%s", err->message);
	assert_false(full->incremental);
	assert_non_null(full->checkpoint);
	bitmaps = bitmaps_of(f->disk);
	assert_string_equal(bitmaps, full->checkpoint);
	record = g_strdup_printf("%s/%s.xml", cp_dir, full->checkpoint);
	assert_true(g_file_test(record, G_FILE_TEST_IS_REGULAR));

	qemu_io_write(f->disk, "qcow2", 0x22, 1048576, 65536);
	incr = ics_backup_run_stopped(f->repo, f->vm, &opts, &err);
	if (incr == NULL)
		fail_msg("%s", err->message);
	assert_true(incr->incremental);
	assert_null(incr->full_reason);
	assert_string_equal(incr->parent, full->id);
	/* the changed 64 KiB, not the 4 MiB disk */
	assert_true(incr->bytes_written < 1048576);
	g_free(bitmaps);
	bitmaps = bitmaps_of(f->disk);
	assert_string_equal(bitmaps, incr->checkpoint);
	assert_false(g_file_test(record, G_FILE_TEST_EXISTS));
	assert_true(ics_backup_verify(f->repo, incr, NULL, NULL, &err));
	assert_true(ics_backup_restore_disk(f->repo, incr, "vda", dest, "raw", FALSE, &err));
	{
		const char *argv[] = { "qemu-img", "compare", "-q", "-f", "qcow2", "-F", "raw",
				       f->disk, dest, NULL };

		run_ok(argv);
	}

	{
		const char *argv[] = { "qemu-img", "bitmap", "--remove", f->disk,
				       incr->checkpoint, NULL };

		run_ok(argv);
	}
	again = ics_backup_run_stopped(f->repo, f->vm, &opts, &err);
	if (again == NULL)
		fail_msg("%s", err->message);
	assert_false(again->incremental);
	assert_non_null(strstr(again->full_reason, "is not in the image"));

	/* a bitmap disabled by hand no longer tracks: full */
	{
		const char *argv[] = { "qemu-img", "bitmap", "--disable", f->disk,
				       again->checkpoint, NULL };
		g_autoptr(IcsBackupManifest) m = NULL;

		run_ok(argv);
		m = ics_backup_run_stopped(f->repo, f->vm, &opts, &err);
		if (m == NULL)
			fail_msg("%s", err->message);
		assert_false(m->incremental);
		assert_non_null(strstr(m->full_reason, "is disabled"));
		g_clear_pointer(&again, ics_backup_manifest_free);
		again = g_steal_pointer(&m);
	}
	/* a disk resized outside ICS (shrunk and grown back: the bitmap never
	 * saw the regrown range written): full */
	{
		const char *shrink[] = { "qemu-img", "resize", "-q", "--shrink", f->disk, "2M", NULL };
		const char *grow[] = { "qemu-img", "resize", "-q", f->disk, "6M", NULL };
		g_autoptr(IcsBackupManifest) m = NULL;

		run_ok(shrink);
		run_ok(grow);
		m = ics_backup_run_stopped(f->repo, f->vm, &opts, &err);
		if (m == NULL)
			fail_msg("%s", err->message);
		assert_false(m->incremental);
		assert_non_null(strstr(m->full_reason, "was resized"));
	}
}

/* The children of this process (any thread's). */
static GArray *children(void)
{
	GArray *pids = g_array_new(FALSE, FALSE, sizeof(int));
	g_autoptr(GDir) tasks = g_dir_open("/proc/self/task", 0, NULL);
	const char *tid;

	while (tasks && (tid = g_dir_read_name(tasks)) != NULL) {
		g_autofree char *path = g_strdup_printf("/proc/self/task/%s/children", tid);
		g_autofree char *text = NULL;
		g_auto(GStrv) words = NULL;

		if (!g_file_get_contents(path, &text, NULL, NULL))
			continue;
		words = g_strsplit(g_strstrip(text), " ", -1);
		for (guint i = 0; words[i]; i++)
			if (words[i][0]) {
				int pid = atoi(words[i]);

				g_array_append_val(pids, pid);
			}
	}
	return pids;
}

/* A qemu-storage-daemon that dies under us: the next command fails with
 * an error (no SIGPIPE kills the caller), and stop reaps it. */
static void test_qsd_dies(void **state)
{
	Fx *f = *state;
	g_autoptr(GError) err = NULL;
	g_autoptr(GPtrArray) devs = g_ptr_array_new_with_free_func((GDestroyNotify)json_decref);
	g_autoptr(GArray) before = children();
	g_autoptr(GArray) after = NULL;
	BackupQsd *q;
	int pid = 0;

	g_ptr_array_add(devs, json_pack("{s:s,s:s,s:b,s:{s:s,s:s}}", "driver", "qcow2", "node-name",
					"src0", "read-only", 1, "file", "driver", "file",
					"filename", f->disk));
	q = backup_qsd_start(devs, NULL, NULL, &err);
	if (q == NULL)
		fail_msg("%s", err->message);
	assert_true(backup_qsd_run(q, "query-jobs", NULL, &err));
	after = children();
	for (guint i = 0; i < after->len; i++) {
		gboolean old = FALSE;

		for (guint j = 0; j < before->len; j++)
			old |= g_array_index(before, int, j) == g_array_index(after, int, i);
		if (!old)
			pid = g_array_index(after, int, i);
	}
	assert_true(pid > 0);
	assert_int_equal(kill(pid, SIGKILL), 0);
	for (int i = 0; i < 100 && backup_qsd_run(q, "query-jobs", NULL, NULL); i++)
		g_usleep(10000);
	assert_false(backup_qsd_run(q, "query-jobs", NULL, &err));
	assert_non_null(err);
	backup_qsd_stop(q);
	assert_int_equal(kill(pid, 0), -1); /* reaped */
}

/* Without the VM's lease (no ICS pool here, or no ics-lease at all) the
 * holder's renames do not happen: FALSE saying why, every file where it
 * was. */
static void test_lease_rename_refused(void **state)
{
	Fx *f = *state;
	g_autoptr(GError) err = NULL;
	g_autoptr(GPtrArray) from = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GPtrArray) to = g_ptr_array_new_with_free_func(g_free);
	guint done = 7;

	g_ptr_array_add(from, g_build_filename(f->tmp, "restored", NULL));
	g_ptr_array_add(to, g_strdup(f->disk));
	assert_true(g_file_set_contents(from->pdata[0], "new", -1, NULL));
	assert_false(ics_backup_lease_rename(f->pool, UUID, from, to, NULL, NULL, &done, &err));
	assert_non_null(err);
	assert_non_null(strstr(err->message, "lease"));
	assert_int_equal(done, 0);
	assert_true(g_file_test(from->pdata[0], G_FILE_TEST_IS_REGULAR));
	{
		const char *argv[] = { "qemu-img", "info", "-f", "qcow2", f->disk, NULL };

		run_ok(argv); /* the disk is still the qcow2 image */
	}
}

static void test_partial_and_lock(void **state)
{
	Fx *f = *state;
	g_autoptr(GError) err = NULL;
	g_autoptr(BackupStaging) s = backup_staging_begin(f->repo, UUID, &err);
	g_autoptr(BackupStaging) s2 = NULL;
	g_autoptr(GPtrArray) list = NULL;
	g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
	g_autofree char *partial = NULL;
	g_autofree char *foreign = NULL;

	assert_non_null(s);
	partial = g_strdup(s->dir);
	/* a second writer of the same VM is refused while the first runs */
	s2 = backup_staging_begin(f->repo, UUID, &err);
	assert_null(s2);
	assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_BUSY));
	g_clear_error(&err);
	/* a directory without a good manifest is not a backup */
	foreign = g_build_filename(s->vm_dir, "20200101T000000Z-dead", NULL);
	g_mkdir(foreign, 0700);
	{
		g_autofree char *mf = g_build_filename(foreign, ICS_BACKUP_MANIFEST, NULL);

		g_file_set_contents(mf, "{\"format\": 9}", -1, NULL);
	}
	list = ics_backup_repo_list(f->repo, UUID, problems, &err);
	assert_int_equal(list->len, 0);
	assert_int_equal(problems->len, 1);
	assert_non_null(strstr(g_ptr_array_index(problems, 0), "newer"));
	/* a writer that dies leaves its .partial; the next one removes it */
	g_clear_pointer(&s->dir, g_free); /* as if the process died: dir kept */
	g_clear_pointer(&s, backup_staging_end);
	assert_true(g_file_test(partial, G_FILE_TEST_IS_DIR));
	s2 = backup_staging_begin(f->repo, UUID, &err);
	assert_non_null(s2);
	assert_false(g_file_test(partial, G_FILE_TEST_EXISTS));
}

/* Commit an incremental backup on top of @parent whose image gets one
 * write; the reference image gets the same write. */
static IcsBackupManifest *fake_incremental(Fx *f, const IcsBackupManifest *parent,
					   const char *reference, guint n)
{
	g_autoptr(GError) err = NULL;
	g_autoptr(BackupStaging) s = backup_staging_begin(f->repo, UUID, &err);
	IcsBackupManifest *m = backup_manifest_new(f->vm);
	IcsBackupDisk *d = g_new0(IcsBackupDisk, 1);
	g_autofree char *path = NULL;
	g_autofree char *backing = g_strdup_printf("../%s/vda.qcow2", parent->id);
	guint64 off = (guint64)(n * 7 % 60) * 65536;

	assert_non_null(s);
	path = g_build_filename(s->dir, "vda.qcow2", NULL);
	{
		const char *argv[] = { "qemu-img", "create", "-q", "-f", "qcow2", "-b", backing,
				       "-F", "qcow2", path, "4M", NULL };

		run_ok(argv);
	}
	qemu_io_write(path, "qcow2", 0x20 + n, off, 65536 + n * 512);
	qemu_io_write(reference, "raw", 0x20 + n, off, 65536 + n * 512);
	m->incremental = TRUE;
	m->parent = g_strdup(parent->id);
	m->checkpoint = g_strdup_printf("ics-x-%u", n);
	m->consistency = g_strdup("crash-consistent");
	d->target = g_strdup("vda");
	d->source = g_strdup(f->disk);
	d->source_format = g_strdup("qcow2");
	d->virtual_size = 4 << 20;
	d->file = g_strdup("vda.qcow2");
	g_ptr_array_add(m->disks, d);
	if (!backup_staging_commit(s, m, NULL, NULL, NULL, &err))
		fail_msg("%s", err->message);
	return m;
}

static void test_chain_of_30(void **state)
{
	Fx *f = *state;
	g_autoptr(GError) err = NULL;
	IcsBackupRunOptions opts = { .pool_path = f->pool };
	g_autoptr(GPtrArray) all =
		g_ptr_array_new_with_free_func((GDestroyNotify)ics_backup_manifest_free);
	g_autofree char *reference = g_build_filename(f->tmp, "reference.raw", NULL);
	IcsBackupManifest *full = ics_backup_run_stopped(f->repo, f->vm, &opts, &err);

	assert_non_null(full);
	g_ptr_array_add(all, full);
	{
		const char *argv[] = { "qemu-img", "convert", "-f", "qcow2", "-O", "raw",
				       f->disk, reference, NULL };

		run_ok(argv);
	}
	for (guint n = 1; n <= 30; n++) {
		g_autofree char *dest = g_strdup_printf("%s/restore-%u.raw", f->tmp, n);

		g_ptr_array_add(all, fake_incremental(f, g_ptr_array_index(all, n - 1), reference,
						      n));
		/* restore a few points of the chain, the last one included */
		if (n % 10 != 0)
			continue;
		if (!ics_backup_restore_disk(f->repo, g_ptr_array_index(all, n), "vda", dest,
					     "raw", FALSE, &err))
			fail_msg("%s", err->message);
		{
			const char *argv[] = { "cmp", "-s", dest, reference, NULL };

			run_ok(argv);
		}
	}
	{
		g_autoptr(GPtrArray) chain = ics_backup_chain(f->repo, g_ptr_array_index(all, 30),
							      &err);

		assert_int_equal(chain->len, 31);
		assert_string_equal(((IcsBackupManifest *)g_ptr_array_index(chain, 0))->id,
				    full->id);
	}
	/* a byte changed in the middle of the chain: verify names it, restore refuses */
	{
		IcsBackupManifest *mid = g_ptr_array_index(all, 15);
		g_autofree char *file = g_build_filename(mid->dir, "vda.qcow2", NULL);
		g_autofree char *dest = g_build_filename(f->tmp, "never.raw", NULL);
		FILE *fp = fopen(file, "r+b");

		assert_non_null(fp);
		fseek(fp, 300000, SEEK_SET);
		fputc(0x77, fp);
		fclose(fp);
		assert_false(ics_backup_verify(f->repo, g_ptr_array_index(all, 30), NULL, NULL,
					       &err));
		assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_IO));
		assert_non_null(strstr(err->message, mid->id));
		assert_non_null(strstr(err->message, "damaged"));
		g_clear_error(&err);
		assert_false(ics_backup_restore_disk(f->repo, g_ptr_array_index(all, 30), "vda",
						     dest, "raw", FALSE, &err));
		assert_false(g_file_test(dest, G_FILE_TEST_EXISTS));
		g_clear_error(&err);
		/* backups before the damage are still good */
		assert_true(ics_backup_verify(f->repo, g_ptr_array_index(all, 14), NULL, NULL,
					      &err));
	}
	/* an incremental relinked by hand to another parent: refused */
	{
		IcsBackupManifest *b = g_ptr_array_index(all, 5);
		IcsBackupManifest *other = g_ptr_array_index(all, 2);
		g_autofree char *file = g_build_filename(b->dir, "vda.qcow2", NULL);
		g_autofree char *backing = g_strdup_printf("../%s/vda.qcow2", other->id);
		const char *argv[] = { "qemu-img", "rebase", "-u", "-b", backing, "-F", "qcow2",
				       file, NULL };

		run_ok(argv);
		assert_false(ics_backup_verify(f->repo, b, NULL, NULL, &err));
		assert_non_null(strstr(err->message, "is backed by"));
	}
}

/* A repository from elsewhere: its images may name anything.  Nothing of
 * it is followed: a full backup's image backed by a host file, an image
 * with an external data file, an image that is a symbolic link, a
 * .partial "directory" that is a link to a directory of the host. */
static void test_hostile_repository(void **state)
{
	Fx *f = *state;
	g_autoptr(GError) err = NULL;
	IcsBackupRunOptions opts = { .pool_path = f->pool };
	g_autoptr(IcsBackupManifest) m = ics_backup_run_stopped(f->repo, f->vm, &opts, &err);
	g_autofree char *img = NULL, *dest = NULL, *victim_dir = NULL, *victim = NULL;
	g_autofree char *link = NULL, *secret = NULL;

	assert_non_null(m);
	img = g_build_filename(m->dir, "vda.qcow2", NULL);
	dest = g_build_filename(f->tmp, "out.raw", NULL);
	secret = g_build_filename(f->tmp, "host-secret", NULL);
	g_file_set_contents(secret, "root:password", -1, NULL);
	/* the full backup's image now backed by a host file (the checksum
	 * of the image is updated too: only the link check can see it) */
	{
		const char *argv[] = { "qemu-img", "rebase", "-u", "-b", secret, "-F", "raw", img,
				       NULL };

		run_ok(argv);
	}
	assert_false(ics_backup_restore_disk(f->repo, m, "vda", dest, "raw", TRUE, &err));
	assert_non_null(strstr(err->message, "has a backing file"));
	assert_false(g_file_test(dest, G_FILE_TEST_EXISTS));
	g_clear_error(&err);
	/* an external data file */
	{
		const char *rm[] = { "rm", "-f", img, NULL };
		g_autofree char *opt = g_strdup_printf("data_file=%s", secret);
		const char *argv[] = { "qemu-img", "create", "-q", "-f", "qcow2", "-o", opt, img,
				       "1M", NULL };

		run_ok(rm);
		run_ok(argv);
	}
	assert_false(ics_backup_restore_disk(f->repo, m, "vda", dest, "raw", TRUE, &err));
	assert_non_null(strstr(err->message, "external data file"));
	g_clear_error(&err);
	/* a symbolic link instead of the image */
	g_unlink(img);
	assert_int_equal(symlink(f->disk, img), 0);
	assert_false(ics_backup_verify(f->repo, m, NULL, NULL, &err));
	assert_non_null(strstr(err->message, "symbolic link"));
	g_clear_error(&err);
	/* a link named like a failed backup's directory: the next backup
	 * cleans up, and the host directory it points to keeps its files */
	victim_dir = g_build_filename(f->tmp, "host-dir", NULL);
	g_mkdir(victim_dir, 0700);
	victim = g_build_filename(victim_dir, "keep-me", NULL);
	g_file_set_contents(victim, "x", -1, NULL);
	link = g_strdup_printf("%s/vms/%s/.20200101T000000.000000Z-0.partial", f->repo_path, UUID);
	assert_int_equal(symlink(victim_dir, link), 0);
	{
		g_autoptr(BackupStaging) s = backup_staging_begin(f->repo, UUID, &err);

		assert_non_null(s);
	}
	assert_true(g_file_test(victim, G_FILE_TEST_EXISTS));
	/* a manifest that is a link (to a host file) or a FIFO is no backup */
	{
		g_autofree char *mf = g_build_filename(m->dir, ICS_BACKUP_MANIFEST, NULL);
		g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
		g_autoptr(GPtrArray) list = NULL;

		g_unlink(mf);
		assert_int_equal(mkfifo(mf, 0600), 0);
		list = ics_backup_repo_list(f->repo, UUID, problems, &err);
		assert_non_null(list);
		assert_int_equal(list->len, 0);
		assert_int_equal(problems->len, 1);
		g_unlink(mf);
		assert_int_equal(symlink(secret, mf), 0);
		g_clear_pointer(&list, g_ptr_array_unref);
		list = ics_backup_repo_list(f->repo, UUID, NULL, &err);
		assert_int_equal(list->len, 0);
	}
	/* a VM directory that is a link, a repository others may write: refused */
	{
		g_autofree char *vmdir = g_strdup_printf("%s/vms/%s", f->repo_path, UUID);
		g_autofree char *moved = g_strdup_printf("%s.moved", vmdir);
		g_autoptr(GPtrArray) list = NULL;
		g_autoptr(IcsBackupRepo) again = NULL;

		assert_int_equal(g_rename(vmdir, moved), 0);
		assert_int_equal(symlink(victim_dir, vmdir), 0);
		list = ics_backup_repo_list(f->repo, UUID, NULL, &err);
		assert_null(list);
		assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_PERMISSION));
		g_clear_error(&err);
		assert_null(backup_staging_begin(f->repo, UUID, &err));
		g_clear_error(&err);
		assert_int_equal(g_chmod(f->repo_path, 0777), 0);
		again = ics_backup_repo_open(f->repo_path, &err);
		assert_null(again);
		assert_non_null(strstr(err->message, "writable"));
		g_chmod(f->repo_path, 0700);
	}
}

/* A backup that must not be kept: unlisted, its files gone. */
static void test_discard(void **state)
{
	Fx *f = *state;
	g_autoptr(GError) err = NULL;
	IcsBackupRunOptions opts = { .pool_path = f->pool };
	g_autoptr(IcsBackupManifest) m = ics_backup_run_stopped(f->repo, f->vm, &opts, &err);
	g_autoptr(GPtrArray) list = NULL;

	assert_non_null(m);
	assert_true(ics_backup_discard(f->repo, m, &err));
	assert_false(g_file_test(m->dir, G_FILE_TEST_EXISTS));
	list = ics_backup_repo_list(f->repo, UUID, NULL, &err);
	assert_int_equal(list->len, 0);
}

/* A backup as the retention sees it: an id, a time, a parent. */
static IcsBackupManifest *fake(const char *id, const char *created, const char *parent)
{
	IcsBackupManifest *m = g_new0(IcsBackupManifest, 1);

	m->id = g_strdup(id);
	m->created = g_strdup(created);
	m->incremental = parent != NULL;
	m->parent = g_strdup(parent);
	return m;
}

static GPtrArray *decide_for(GPtrArray *list, const char *rules, const char *policy)
{
	IcsBackupRetention r;
	g_autoptr(GError) err = NULL;

	if (!ics_backup_retention_parse(rules, &r, &err))
		fail_msg("%s: %s", rules, err->message);
	return ics_backup_retention_decide(list, &r, policy);
}

static GPtrArray *decide(GPtrArray *list, const char *rules)
{
	return decide_for(list, rules, NULL);
}

#define WHY(w, i) ((const char *)g_ptr_array_index((w), (i)))

static void test_retention_decide(void **state)
{
	g_autoptr(GPtrArray) l = g_ptr_array_new_with_free_func((GDestroyNotify)ics_backup_manifest_free);
	IcsBackupRetention r;
	g_autoptr(GError) err = NULL;

	(void)state;
	/* two a day from Monday 2026-11-30 to Sunday 2026-12-13 (ISO weeks
	 * 49 and 50), then one on 2027-01-04: 29 fulls, oldest first */
	for (guint day = 0; day < 14; day++)
		for (guint h = 0; h < 2; h++) {
			g_autoptr(GDateTime) base = g_date_time_new_utc(2026, 11, 30, 6, 0, 0);
			g_autoptr(GDateTime) t = g_date_time_add_hours(base, (gint)(day * 24 + h * 12));
			g_autofree char *created = g_date_time_format(t, "%Y-%m-%dT%H:%M:%SZ");
			g_autofree char *id = g_strdup_printf("b%02u", day * 2 + h);

			g_ptr_array_add(l, fake(id, created, NULL));
		}
	g_ptr_array_add(l, fake("b28", "2027-01-04T06:00:00Z", NULL));
	{
		g_autoptr(GPtrArray) w = decide(l, "last=3");

		for (guint i = 0; i < l->len; i++)
			assert_true((WHY(w, i) != NULL) == (i >= 26));
		assert_string_equal(WHY(w, 28), "last");
	}
	{
		/* the newest of each of the 3 newest days: 2027-01-04, 12-13, 12-12 */
		g_autoptr(GPtrArray) w = decide(l, "daily=3");

		for (guint i = 0; i < l->len; i++)
			assert_true((WHY(w, i) != NULL) == (i == 28 || i == 27 || i == 25));
	}
	{
		/* ISO weeks: 2027-W01, 2026-W50 (its newest: b27), 2026-W49 (b13) */
		g_autoptr(GPtrArray) w = decide(l, "weekly=5");

		for (guint i = 0; i < l->len; i++)
			assert_true((WHY(w, i) != NULL) == (i == 28 || i == 27 || i == 13));
	}
	{
		/* months: 2027-01 (b28), 2026-12 (b27), 2026-11 (b1, the 30th's newest) */
		g_autoptr(GPtrArray) w = decide(l, "monthly=12,last=1");

		for (guint i = 0; i < l->len; i++)
			assert_true((WHY(w, i) != NULL) == (i == 28 || i == 27 || i == 1));
		assert_string_equal(WHY(w, 28), "last, monthly");
	}
	/* rules that keep nothing, and what is not a rule */
	assert_false(ics_backup_retention_parse("last=0", &r, &err));
	assert_non_null(strstr(err->message, "must keep something"));
	g_clear_error(&err);
	assert_false(ics_backup_retention_parse("", &r, &err));
	g_clear_error(&err);
	assert_false(ics_backup_retention_parse("hourly=3", &r, &err));
	assert_non_null(strstr(err->message, "unknown rule"));
	g_clear_error(&err);
	assert_false(ics_backup_retention_parse("last=-1", &r, &err));
	g_clear_error(&err);
	assert_false(ics_backup_retention_parse("last", &r, &err));
	g_clear_error(&err);
}

static void test_retention_chains(void **state)
{
	g_autoptr(GPtrArray) l = g_ptr_array_new_with_free_func((GDestroyNotify)ics_backup_manifest_free);
	g_autoptr(GPtrArray) w = NULL;

	(void)state;
	/* F1 <- i1 <- i2 <- i3, F2 <- j1 <- j2, all on one day */
	g_ptr_array_add(l, fake("a0", "2026-12-07T01:00:00Z", NULL));
	g_ptr_array_add(l, fake("a1", "2026-12-07T02:00:00Z", "a0"));
	g_ptr_array_add(l, fake("a2", "2026-12-07T03:00:00Z", "a1"));
	g_ptr_array_add(l, fake("a3", "2026-12-07T04:00:00Z", "a2"));
	g_ptr_array_add(l, fake("c0", "2026-12-07T05:00:00Z", NULL));
	g_ptr_array_add(l, fake("c1", "2026-12-07T06:00:00Z", "c0"));
	g_ptr_array_add(l, fake("c2", "2026-12-07T07:00:00Z", "c1"));
	/* the newest needs its whole chain, the older chain goes */
	w = decide(l, "last=1");
	assert_null(WHY(w, 0));
	assert_null(WHY(w, 3));
	assert_string_equal(WHY(w, 6), "last");
	assert_string_equal(WHY(w, 5), "needed by c2");
	assert_string_equal(WHY(w, 4), "needed by c2");
	g_clear_pointer(&w, g_ptr_array_unref);
	/* the newest 5 reach into the older chain: all of it stays */
	w = decide(l, "last=5");
	for (guint i = 0; i < l->len; i++)
		assert_non_null(WHY(w, i));
	assert_string_equal(WHY(w, 1), "needed by a2");
	assert_string_equal(WHY(w, 0), "needed by a2");
	g_clear_pointer(&w, g_ptr_array_unref);

	/* a policy's retention governs its own backups only: the person's c0
	 * and c2 and the other policy's e0 stay; of the hourly policy's (a0..a3,
	 * c1), last=1 keeps c1 (which c2 would need anyway) and a0..a3 go */
	for (guint i = 0; i < 4; i++)
		((IcsBackupManifest *)g_ptr_array_index(l, i))->policy = g_strdup("hourly");
	((IcsBackupManifest *)g_ptr_array_index(l, 5))->policy = g_strdup("hourly");
	g_ptr_array_add(l, fake("e0", "2026-12-07T08:00:00Z", NULL));
	((IcsBackupManifest *)g_ptr_array_index(l, 7))->policy = g_strdup("weekly");
	w = decide_for(l, "last=1", "hourly");
	assert_string_equal(WHY(w, 4), "not policy hourly's");
	assert_string_equal(WHY(w, 6), "not policy hourly's");
	assert_string_equal(WHY(w, 7), "not policy hourly's");
	assert_string_equal(WHY(w, 5), "last");
	for (guint i = 0; i < 4; i++)
		assert_null(WHY(w, i));
	g_clear_pointer(&w, g_ptr_array_unref);
	w = decide_for(l, "last=2", "hourly");
	/* the policy's newest two: c1, a3 (and a3's chain) */
	assert_string_equal(WHY(w, 3), "last");
	assert_string_equal(WHY(w, 0), "needed by a3");
}

/* Prune on a real repository: a dry run touches nothing; then the older
 * chain goes, newest first, and what is left restores; a prune while a
 * backup of the VM runs is refused. */
static void test_prune(void **state)
{
	Fx *f = *state;
	g_autoptr(GError) err = NULL;
	IcsBackupRunOptions opts = { .pool_path = f->pool };
	g_autoptr(GPtrArray) all =
		g_ptr_array_new_with_free_func((GDestroyNotify)ics_backup_manifest_free);
	g_autofree char *reference = g_build_filename(f->tmp, "reference.raw", NULL);
	g_autofree char *dest = g_build_filename(f->tmp, "restored.raw", NULL);
	IcsBackupRetention r = { .last = 1 };
	g_autoptr(json_t) dry = NULL, done = NULL;
	g_autoptr(GPtrArray) left = NULL;

	for (guint chain = 0; chain < 2; chain++) {
		IcsBackupManifest *full = ics_backup_run_stopped(f->repo, f->vm, &opts, &err);
		/* each chain starts from the disk: the reference too */
		const char *argv[] = { "qemu-img", "convert", "-f", "qcow2", "-O", "raw",
				       f->disk, reference, NULL };

		g_unlink(reference);
		run_ok(argv);
		assert_non_null(full);
		g_ptr_array_add(all, full);
		for (guint n = 1; n <= 2; n++)
			g_ptr_array_add(all, fake_incremental(f, g_ptr_array_index(all, all->len - 1),
							      reference, chain * 10 + n));
	}
	dry = ics_backup_prune(f->repo, UUID, &r, NULL, TRUE, &err);
	assert_non_null(dry);
	assert_int_equal(json_array_size(json_object_get(json_array_get(json_object_get(dry, "vms"), 0),
							 "pruned")),
			 3);
	left = ics_backup_repo_list(f->repo, UUID, NULL, &err);
	assert_int_equal(left->len, 6);
	g_clear_pointer(&left, g_ptr_array_unref);
	/* a backup of the VM runs: that VM is not pruned, and says why */
	{
		int lock = backup_repo_vm_lock(f->repo, UUID, &err);
		g_autoptr(json_t) busy = NULL;
		json_t *vm;

		assert_true(lock >= 0);
		busy = ics_backup_prune(f->repo, UUID, &r, NULL, FALSE, &err);
		assert_non_null(busy);
		vm = json_array_get(json_object_get(busy, "vms"), 0);
		assert_non_null(strstr(json_string_value(json_object_get(vm, "error")),
				       "another backup"));
		assert_int_equal(json_array_size(json_object_get(vm, "pruned")), 0);
		close(lock);
	}
	assert_null(ics_backup_prune(f->repo, "../../etc", &r, NULL, FALSE, &err));
	assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT));
	g_clear_error(&err);
	done = ics_backup_prune(f->repo, NULL, &r, NULL, FALSE, &err);
	assert_non_null(done);
	left = ics_backup_repo_list(f->repo, UUID, NULL, &err);
	assert_int_equal(left->len, 3);
	for (guint i = 0; i < 3; i++)
		assert_string_equal(((IcsBackupManifest *)g_ptr_array_index(left, i))->id,
				    ((IcsBackupManifest *)g_ptr_array_index(all, 3 + i))->id);
	for (guint i = 0; i < 3; i++)
		assert_false(g_file_test(((IcsBackupManifest *)g_ptr_array_index(all, i))->dir,
					 G_FILE_TEST_EXISTS));
	assert_true(ics_backup_restore_disk(f->repo, g_ptr_array_index(left, 2), "vda", dest, "raw",
					    FALSE, &err));
	{
		const char *argv[] = { "cmp", "-s", dest, reference, NULL };

		run_ok(argv);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_init_open, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stopped_backup_restore, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stopped_incremental, setup, teardown),
		cmocka_unit_test_setup_teardown(test_qsd_dies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lease_rename_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_partial_and_lock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chain_of_30, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_repository, setup, teardown),
		cmocka_unit_test_setup_teardown(test_discard, setup, teardown),
		cmocka_unit_test(test_retention_decide),
		cmocka_unit_test(test_retention_chains),
		cmocka_unit_test_setup_teardown(test_prune, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
