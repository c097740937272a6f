/*
 * test_vm_store.c: the definition on its pool -- save writes both files
 * atomically and leaves nothing half-written, load validates and names a
 * missing VM NOT_FOUND, list and delete, uuids that would escape the pool.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <glib/gstdio.h>

#include "ics/error.h"
#include "ics/vmdef.h"
#include "vmdef_test_util.h"

#define UUID2 "0e2b7c2a-1111-4222-8333-444455556666"

static int setup(void **state)
{
	*state = g_dir_make_tmp("ics-vmdef-XXXXXX", NULL);
	return *state ? 0 : -1;
}

static void rm_rf(const char *path)
{
	GDir *d = g_dir_open(path, 0, NULL);
	const char *name;

	if (d == NULL) {
		g_unlink(path);
		return;
	}
	while ((name = g_dir_read_name(d)) != NULL) {
		g_autofree char *p = g_build_filename(path, name, NULL);

		rm_rf(p);
	}
	g_dir_close(d);
	g_rmdir(path);
}

static int teardown(void **state)
{
	rm_rf(*state);
	g_free(*state);
	return 0;
}

/* The maximal definition, moved to @pool and given @uuid. */
static IcsVmMeta *vm_on(const char *pool, const char *uuid)
{
	g_autofree char *text = maximal_json(pool);
	g_autofree char *patch = g_strdup_printf(
		"{\"uuid\": \"%s\", \"lease\": {\"lockspace\": \"ics-t\", \"name\": \"%s\","
		" \"path\": \"%s/.ics/leases\", \"offset\": 1048576}}",
		uuid, uuid, pool);
	g_autofree char *json = patched_json(text, patch);
	g_autoptr(GError) err = NULL;
	IcsVmMeta *m = ics_vm_meta_parse(json, pool, &err);

	if (m == NULL)
		fail_msg("%s", err->message);
	return m;
}

static void test_dir(void **state)
{
	g_autofree char *d = ics_vm_dir("/srv/p", TEST_UUID);

	assert_string_equal(d, "/srv/p/.ics/vms/" TEST_UUID);
}

static void test_save_load(void **state)
{
	const char *pool = *state;
	g_autoptr(IcsVmMeta) m = vm_on(pool, TEST_UUID);
	g_autoptr(IcsVmMeta) back = NULL;
	g_autoptr(GError) err = NULL;
	g_autofree char *dir = ics_vm_dir(pool, TEST_UUID);
	g_autofree char *xml_path = g_build_filename(dir, "domain.xml", NULL);
	g_autofree char *xml = NULL;
	g_autofree char *want = ics_domain_xml(m, NULL);
	GDir *d;
	const char *name;
	int files = 0;

	assert_true(ics_vm_store_save(pool, m, &err));
	back = ics_vm_store_load(pool, TEST_UUID, &err);
	assert_non_null(back);
	assert_true(ics_vm_meta_equal(m, back));
	assert_string_equal(back->pool_path, pool);
	assert_true(g_file_get_contents(xml_path, &xml, NULL, NULL));
	assert_string_equal(xml, want);
	/* Exactly the two files: no temporaries left behind. */
	d = g_dir_open(dir, 0, NULL);
	while ((name = g_dir_read_name(d)) != NULL) {
		files++;
		assert_true(strcmp(name, "vm.json") == 0 || strcmp(name, "domain.xml") == 0);
	}
	g_dir_close(d);
	assert_int_equal(files, 2);
	/* Saving again replaces in place. */
	m->vcpus = 2;
	assert_true(ics_vm_store_save(pool, m, &err));
	g_clear_pointer(&back, ics_vm_meta_free);
	back = ics_vm_store_load(pool, TEST_UUID, &err);
	assert_int_equal(back->vcpus, 2);
}

static void test_load_missing(void **state)
{
	g_autoptr(GError) err = NULL;
	g_autoptr(IcsVmMeta) m = ics_vm_store_load(*state, TEST_UUID, &err);

	assert_null(m);
	assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_NOT_FOUND));
	assert_non_null(strstr(err->message, TEST_UUID));
	assert_non_null(strstr(err->message, "is not defined on pool"));
}

static void test_load_corrupt(void **state)
{
	const char *pool = *state;
	g_autofree char *dir = ics_vm_dir(pool, TEST_UUID);
	g_autofree char *path = g_build_filename(dir, "vm.json", NULL);
	g_autoptr(GError) err = NULL;
	g_autoptr(IcsVmMeta) m = NULL;

	assert_int_equal(g_mkdir_with_parents(dir, 0755), 0);
	assert_true(
		g_file_set_contents(path, "{\"uuid\": \"" TEST_UUID "\", \"name\": ", -1, NULL));
	m = ics_vm_store_load(pool, TEST_UUID, &err);
	assert_null(m);
	assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_PARSE));
	assert_true(g_str_has_prefix(err->message, path));
	g_clear_error(&err);
	/* Valid JSON, invalid VM: the file is named in front of the reason. */
	assert_true(g_file_set_contents(path, minimal_json, -1, NULL));
	m = ics_vm_store_load(pool, TEST_UUID, &err);
	assert_null(m);
	assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT));
	assert_true(g_str_has_prefix(err->message, path));
	assert_non_null(strstr(err->message, "lease is required"));
}

static void test_load_wrong_dir(void **state)
{
	const char *pool = *state;
	g_autoptr(IcsVmMeta) m = vm_on(pool, TEST_UUID);
	g_autofree char *from = ics_vm_dir(pool, TEST_UUID);
	g_autofree char *to = ics_vm_dir(pool, UUID2);
	g_autoptr(GError) err = NULL;
	g_autoptr(IcsVmMeta) back = NULL;

	assert_true(ics_vm_store_save(pool, m, NULL));
	assert_int_equal(rename(from, to), 0);
	back = ics_vm_store_load(pool, UUID2, &err);
	assert_null(back);
	assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT));
	assert_non_null(strstr(err->message, "holds vm " TEST_UUID ", not " UUID2));
}

static void test_list_and_delete(void **state)
{
	const char *pool = *state;
	g_autoptr(IcsVmMeta) a = vm_on(pool, TEST_UUID);
	g_autoptr(IcsVmMeta) b = vm_on(pool, UUID2);
	g_autoptr(GPtrArray) list = ics_vm_store_list(pool, NULL);
	g_autoptr(GError) err = NULL;
	g_autofree char *stray = g_build_filename(pool, ".ics", "vms", "not-a-vm", NULL);

	assert_non_null(list);
	assert_int_equal(list->len, 0); /* no .ics/vms yet */
	g_clear_pointer(&list, g_ptr_array_unref);
	assert_true(ics_vm_store_save(pool, a, NULL));
	assert_true(ics_vm_store_save(pool, b, NULL));
	assert_int_equal(g_mkdir_with_parents(stray, 0755), 0);
	list = ics_vm_store_list(pool, &err);
	assert_int_equal(list->len, 2);
	assert_string_equal(list->pdata[0], UUID2); /* sorted */
	assert_string_equal(list->pdata[1], TEST_UUID);
	g_clear_pointer(&list, g_ptr_array_unref);

	/* what backups keep beside the definition goes with it: the
	 * checkpoint records, a lock, deeper directories; a symbolic link (to
	 * a file or a directory) is removed, its target left alone */
	{
		g_autofree char *dir = ics_vm_dir(pool, TEST_UUID);
		g_autofree char *cps = g_build_filename(dir, "checkpoints", NULL);
		g_autofree char *rec = g_build_filename(cps, "ics-1.xml", NULL);
		g_autofree char *lock = g_build_filename(dir, ".backup.lock", NULL);
		g_autofree char *outside = g_build_filename(pool, "outside", NULL);
		g_autofree char *link = g_build_filename(cps, "link", NULL);

		assert_int_equal(g_mkdir(cps, 0700), 0);
		assert_true(g_file_set_contents(rec, "<domaincheckpoint/>", -1, NULL));
		assert_true(g_file_set_contents(lock, "", -1, NULL));
		assert_true(g_file_set_contents(outside, "keep", -1, NULL));
		g_autofree char *nested = g_build_filename(cps, "a", "b", NULL);
		g_autofree char *away = g_build_filename(pool, "away", NULL);
		g_autofree char *away_file = g_build_filename(away, "kept", NULL);
		g_autofree char *dirlink = g_build_filename(dir, "to-away", NULL);

		assert_int_equal(symlink(outside, link), 0);
		assert_int_equal(g_mkdir_with_parents(nested, 0700), 0);
		assert_int_equal(g_mkdir(away, 0700), 0);
		assert_true(g_file_set_contents(away_file, "keep", -1, NULL));
		assert_int_equal(symlink(away, dirlink), 0);
		assert_true(ics_vm_store_delete(pool, TEST_UUID, &err));
		assert_false(g_file_test(dir, G_FILE_TEST_EXISTS));
		assert_true(g_file_test(outside, G_FILE_TEST_IS_REGULAR));
		assert_true(g_file_test(away_file, G_FILE_TEST_IS_REGULAR));
	}
	list = ics_vm_store_list(pool, NULL);
	assert_int_equal(list->len, 1);
	assert_string_equal(list->pdata[0], UUID2);
	assert_false(ics_vm_store_delete(pool, TEST_UUID, &err));
	assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_NOT_FOUND));
}

static void test_save_invalid_renders_nothing(void **state)
{
	const char *pool = *state;
	g_autoptr(IcsVmMeta) m = vm_on(pool, TEST_UUID);
	g_autoptr(GError) err = NULL;
	g_autofree char *dir = ics_vm_dir(pool, TEST_UUID);

	/* Validated for another pool: refused before anything is written. */
	assert_false(ics_vm_store_save("/srv/elsewhere", m, &err));
	assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT));
	assert_false(g_file_test(dir, G_FILE_TEST_EXISTS));
}

static void test_bad_uuid_cannot_escape(void **state)
{
	const char *pool = *state;
	g_autoptr(GError) err = NULL;
	g_autoptr(IcsVmMeta) m = ics_vm_store_load(pool, "../../etc", &err);

	assert_null(m);
	assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT));
	g_clear_error(&err);
	assert_false(ics_vm_store_delete(pool, "..", &err));
	assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT));
}

static void test_unwritable_pool(void **state)
{
	const char *pool = *state;
	g_autoptr(IcsVmMeta) m = vm_on(pool, TEST_UUID);
	g_autoptr(GError) err = NULL;
	g_autofree char *ics = g_build_filename(pool, ".ics", NULL);

	/* .ics is a file: the VM dir cannot be created. */
	assert_true(g_file_set_contents(ics, "x", -1, NULL));
	assert_false(ics_vm_store_save(pool, m, &err));
	assert_non_null(err);
	assert_non_null(strstr(err->message, "vm \"web1\""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dir),
		cmocka_unit_test_setup_teardown(test_save_load, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_corrupt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_wrong_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_and_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_save_invalid_renders_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_uuid_cannot_escape, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unwritable_pool, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
