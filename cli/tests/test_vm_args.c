/*
 * test_vm_args.c: `vm define` options into a vm.json draft and IcsVmMeta --
 * every option lands in its field, --disk sub-options and relative paths,
 * --from-json with overrides and its lease dropped, usage errors and the
 * exit status each error kind maps to.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>
#include <glib/gstdio.h>

#include "ics/error.h"
#include "ics/json.h"
#include "vm_cmd.h"

#define UUID "6f1c3c0e-8d2a-4b7e-9c41-2f0d5e6a7b8c"

/* Parse a NULL-terminated argv (without the leading "define"). */
static gboolean parse(IcsAdminDefine *req, gboolean *json, GError **error, ...)
{
	g_autoptr(GPtrArray) av = g_ptr_array_new();
	g_autofree char **copy = NULL;
	va_list ap;
	const char *a;
	gboolean ok;

	g_ptr_array_add(av, "define");
	va_start(ap, error);
	while ((a = va_arg(ap, const char *)) != NULL)
		g_ptr_array_add(av, (gpointer)a);
	va_end(ap);
	g_ptr_array_add(av, NULL);
	/* GOption rearranges argv: hand it a copy of the pointer array. */
	copy = g_memdup2(av->pdata, av->len * sizeof(char *));
	{
		g_auto(IcsAdminVmArgs) args = { 0 };

		ok = ics_admin_parse_define((int)av->len - 1, copy, req, &args, error);
		*json = args.json;
	}
	return ok;
}

/* The definition as the direct way reads it: with a uuid (the parser
 * leaves a missing one to the way). */
static IcsVmMeta *meta_of(IcsAdminDefine *req, GError **error)
{
	if (json_object_get(req->definition, "uuid") == NULL)
		json_object_set_new(req->definition, "uuid", json_string(UUID));
	return ics_vm_meta_from_json(req->definition, NULL, error);
}

static void test_full(void **state)
{
	g_auto(IcsAdminDefine) req = { 0 };
	g_autoptr(GError) e = NULL;
	g_autoptr(IcsVmMeta) m = NULL;
	gboolean json = FALSE;
	IcsVmDisk *d;

	(void)state;
	assert_true(parse(&req, &json, &e, "--pool", "/srv/ics/pools/shared", "--name", "web1",
			  "--vcpus", "2", "--memory", "256", "--disk",
			  "/srv/ics/pools/shared/web1.qcow2,format=qcow2,bus=sata", "--disk",
			  "data.img,readonly", "--kernel", "/srv/ics/pools/shared/guest/vmlinux",
			  "--initrd", "/srv/ics/pools/shared/guest/initrd.img", "--cmdline",
			  "console=ttyS0", "--virt-type", "qemu", "--crash-policy", "restart",
			  "--uuid", UUID, "--tag", "prod", "--tag", "eu", "--start",
			  "--migration-unsafe", "--json", NULL));
	assert_true(json);
	assert_true(req.start);
	assert_int_equal(req.migration_unsafe, ICS_ADMIN_UNSAFE_YES);
	assert_string_equal(req.pool_path, "/srv/ics/pools/shared");
	assert_null(json_object_get(req.definition, "lease"));
	m = meta_of(&req, &e);
	assert_non_null(m);
	assert_string_equal(m->uuid, UUID);
	assert_string_equal(m->name, "web1");
	assert_int_equal(m->vcpus, 2);
	assert_int_equal(m->memory_mib, 256);
	assert_string_equal(m->virt_type, "qemu");
	assert_int_equal(m->crash_policy, ICS_VM_CRASH_RESTART);
	assert_int_equal(g_strv_length(m->tags), 2);
	assert_string_equal(m->tags[1], "eu");
	assert_string_equal(m->kernel_path, "/srv/ics/pools/shared/guest/vmlinux");
	assert_string_equal(m->kernel_initrd, "/srv/ics/pools/shared/guest/initrd.img");
	assert_string_equal(m->kernel_cmdline, "console=ttyS0");
	assert_int_equal(m->disks->len, 2);
	d = m->disks->pdata[0];
	assert_string_equal(d->format, "qcow2");
	assert_string_equal(d->bus, "sata");
	assert_string_equal(d->target, "sda");
	d = m->disks->pdata[1];
	/* Relative to the pool. */
	assert_string_equal(d->path, "/srv/ics/pools/shared/data.img");
	assert_true(d->readonly);
	assert_string_equal(d->format, "raw");
	assert_string_equal(d->bus, "virtio");
}

static void test_defaults(void **state)
{
	g_auto(IcsAdminDefine) req = { 0 };
	g_autoptr(GError) e = NULL;
	g_autoptr(IcsVmMeta) m = NULL;
	gboolean json = FALSE;

	(void)state;
	assert_true(parse(&req, &json, &e, "--pool", "/p/./x/", "--name", "a", "--vcpus", "1",
			  "--memory", "64", NULL));
	assert_false(json);
	assert_false(req.start);
	assert_int_equal(req.migration_unsafe, ICS_ADMIN_UNSAFE_AUTO);
	assert_string_equal(req.pool_path, "/p/x");
	/* No uuid: the manager picks it, or the direct way makes one up. */
	assert_null(json_object_get(req.definition, "uuid"));
	m = meta_of(&req, &e);
	assert_non_null(m);
	assert_string_equal(m->virt_type, "kvm");
	assert_int_equal(m->crash_policy, ICS_VM_CRASH_HA);
	assert_int_equal(m->disks->len, 0);
}

static void expect_usage(const char *what, GError *e)
{
	assert_non_null(e);
	if (ics_admin_exit_code(e) != ICS_ADMIN_EXIT_USAGE)
		fail_msg("%s: exit %d for %s", what, ics_admin_exit_code(e), e->message);
}

/* A pool by name, or none: relative disks wait for the way to know the
 * pool's path; ics_admin_define_set_pool() makes them absolute. */
static void test_pool_name_and_relative_disks(void **state)
{
	g_auto(IcsAdminDefine) req = { 0 };
	g_autoptr(GError) e = NULL;
	gboolean json = FALSE;
	json_t *disks;

	(void)state;
	assert_true(parse(&req, &json, &e, "--pool", "shared", "--name", "a", "--vcpus", "1",
			  "--memory", "64", "--disk", "vms/a/disk0.raw", "--disk", "/abs/b.raw",
			  NULL));
	assert_null(req.pool_path);
	assert_string_equal(req.pool_name, "shared");
	disks = json_object_get(req.definition, "disks");
	assert_string_equal(json_string_value(json_object_get(json_array_get(disks, 0), "path")),
			    "vms/a/disk0.raw");
	ics_admin_define_set_pool(&req, "/srv/ics/pools/shared/");
	assert_string_equal(req.pool_path, "/srv/ics/pools/shared");
	assert_string_equal(json_string_value(json_object_get(json_array_get(disks, 0), "path")),
			    "/srv/ics/pools/shared/vms/a/disk0.raw");
	assert_string_equal(json_string_value(json_object_get(json_array_get(disks, 1), "path")),
			    "/abs/b.raw");
}

static void test_no_pool(void **state)
{
	g_auto(IcsAdminDefine) req = { 0 };
	g_autoptr(GError) e = NULL;
	gboolean json = FALSE;

	(void)state;
	assert_true(parse(&req, &json, &e, "--name", "a", "--vcpus", "1", "--memory", "64", NULL));
	assert_null(req.pool_path);
	assert_null(req.pool_name);
}

static void test_usage_errors(void **state)
{
	gboolean json;

	(void)state;
#define BAD(...)                                                                                   \
	do {                                                                                       \
		g_auto(IcsAdminDefine) r = { 0 };                                                  \
		g_autoptr(GError) e = NULL;                                                        \
		assert_false(parse(&r, &json, &e, __VA_ARGS__, NULL));                             \
		expect_usage(#__VA_ARGS__, e);                                                     \
	} while (0)
	BAD("--pool", "/p", "--vcpus", "1", "--memory", "64");		      /* no --name */
	BAD("--pool", "/p", "--name", "a", "--memory", "64");		      /* no --vcpus */
	BAD("--pool", "/p", "--name", "a", "--vcpus", "1");		      /* no --memory */
	BAD("--pool", "/p", "--name", "a", "--vcpus", "x", "--memory", "64"); /* not a number */
	BAD("--pool", "/p", "--name", "a", "--vcpus", "1", "--memory", "64", "--disk",
	    "/p/d,colour=red");
	BAD("--pool", "/p", "--name", "a", "--vcpus", "1", "--memory", "64", "--disk",
	    "/p/d,format");
	BAD("--pool", "/p", "--name", "a", "--vcpus", "1", "--memory", "64", "--initrd", "/p/i");
	BAD("--pool", "/p", "--name", "a", "--vcpus", "1", "--memory", "64", "--migration-unsafe",
	    "--no-migration-unsafe");
	BAD("--pool", "/p", "--name", "a", "--vcpus", "1", "--memory", "64", "extra");
	BAD("--pool", "/p", "--bogus");
#undef BAD
}

/* Values the parser passes through are judged by vmdef, as usage errors. */
static void test_invalid_values_rejected_by_vmdef(void **state)
{
	g_auto(IcsAdminDefine) req = { 0 };
	g_autoptr(GError) e = NULL;
	g_autoptr(IcsVmMeta) m = NULL;
	gboolean json;

	(void)state;
	assert_true(parse(&req, &json, &e, "--pool", "/p", "--name", "a", "--vcpus", "0",
			  "--memory", "64", "--virt-type", "xen", NULL));
	m = meta_of(&req, &e);
	assert_null(m);
	expect_usage("vcpus 0", e);
	assert_non_null(strstr(e->message, "vm \"a\""));
}

static void test_from_json(void **state)
{
	g_auto(IcsAdminDefine) req = { 0 };
	g_autoptr(GError) e = NULL;
	g_autoptr(IcsVmMeta) m = NULL;
	g_autofree char *dir = g_dir_make_tmp("ics-cli-XXXXXX", NULL);
	g_autofree char *file = g_build_filename(dir, "vm.json", NULL);
	gboolean json;
	const char *text =
		"{\"uuid\": \"" UUID "\", \"name\": \"old\", \"vcpus\": 4, "
		"\"memory_mib\": 512, \"lease\": {\"lockspace\": \"ics-x\", \"name\": \"" UUID
		"\", \"path\": \"/q/.ics/leases\", \"offset\": 1048576}}";

	(void)state;
	assert_true(g_file_set_contents(file, text, -1, NULL));
	assert_true(
		parse(&req, &json, &e, "--pool", "/p", "--from-json", file, "--name", "new", NULL));
	assert_null(json_object_get(req.definition, "lease"));
	m = meta_of(&req, &e);
	assert_non_null(m);
	assert_string_equal(m->name, "new");
	assert_string_equal(m->uuid, UUID);
	assert_int_equal(m->vcpus, 4);
	g_unlink(file);
	g_rmdir(dir);

	{
		g_auto(IcsAdminDefine) r2 = { 0 };
		g_autoptr(GError) e2 = NULL;

		assert_false(parse(&r2, &json, &e2, "--pool", "/p", "--from-json",
				   "/nonexistent/vm.json", NULL));
		assert_int_equal(ics_admin_exit_code(e2), ICS_ADMIN_EXIT_NOT_FOUND);
	}
}

static void test_exit_codes(void **state)
{
	static const struct {
		int code;
		int exit;
	} map[] = {
		{ ICS_ERROR_INVALID_ARGUMENT, 2 },
		{ ICS_ERROR_PARSE, 2 },
		{ ICS_ERROR_NOT_FOUND, 3 },
		{ ICS_ERROR_BUSY, 4 },
		{ ICS_ERROR_CONFLICT, 4 },
		{ ICS_ERROR_IO, 1 },
		{ ICS_ERROR_EXEC, 1 },
		{ ICS_ERROR_TIMEOUT, 1 },
	};

	(void)state;
	assert_int_equal(ics_admin_exit_code(NULL), 0);
	for (size_t i = 0; i < G_N_ELEMENTS(map); i++) {
		g_autoptr(GError) e = g_error_new_literal(ICS_ERROR, map[i].code, "x");

		assert_int_equal(ics_admin_exit_code(e), map[i].exit);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_pool_name_and_relative_disks),
		cmocka_unit_test(test_no_pool),
		cmocka_unit_test(test_usage_errors),
		cmocka_unit_test(test_invalid_values_rejected_by_vmdef),
		cmocka_unit_test(test_from_json),
		cmocka_unit_test(test_exit_codes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
