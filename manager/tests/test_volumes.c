/*
 * test_volumes.c: volumes on pools -- the validation of names, sizes,
 * formats and provisioning; the API over libvirt's test driver
 * (test:///default keeps storage pools and volumes in memory, so no file
 * is written): thin creation within the request, thick creation as a task
 * whose volume is fully allocated, listing, detail with the VMs using it,
 * duplicate names, resize refusing to shrink, delete refused while a VM
 * definition uses the volume, permissions, audit, and 503 without a
 * cluster adapter.  The test driver cannot resize, so growing is checked
 * only up to the queued task here.
 *
 * With ICS_TEST_VOLUME_URI set (tests/lab-volumes.test: a private libvirtd)
 * the same lifecycle runs against real files in a temporary pool directory
 * and also checks what lands on disk: a qcow2 header, a fully allocated
 * thick file, a sparse thin one, a grown volume, the .ics/ area and
 * subdirectories not listed.
 */
#include "config.h"

#include <sys/stat.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <libvirt/libvirt.h>

#include "ics/manager/volumes.h"
#include "mgr_test_util.h"

#define VOLS "/api/v1/pools/shared/volumes"

/* The pool "shared": a path the test driver never touches, or a temporary
 * directory with a real libvirtd. */
static const char *real_uri;
static char *pool_dir;

static void test_driver(IcsManagerConfig *cfg)
{
	g_free(cfg->volume_uri);
	cfg->volume_uri = g_strdup(real_uri ? real_uri : "test:///default");
}

static json_t *pools_here(void *self, GError **error)
{
	return json_pack("[{s:s, s:s, s:s, s:[s]}, {s:s, s:s, s:[]}]", "name", "shared", "path",
			 pool_dir, "resource", "ics-pool-shared", "active_on", "node1", "name",
			 "moved", "path", "/srv/ics/pools/moved", "active_on");
}

static char *in_pool(const char *name)
{
	return g_build_filename(pool_dir, name, NULL);
}

typedef struct {
	FakeCluster fake;
	IcsClusterOps ops;
	TestMgr *t;
} Ctx;

static int setup(void **state)
{
	Ctx *c = g_new0(Ctx, 1);

	c->ops = test_fake_ops(&c->fake);
	c->ops.pools = pools_here;
	c->t = test_mgr_start_in(NULL, &c->ops, test_driver);
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

static void test_validation(void **state)
{
	static const struct {
		const char *text;
		guint64 bytes; /* 0: refused */
	} sizes[] = {
		{ "10G", G_GUINT64_CONSTANT(10) << 30 },
		{ "10GiB", G_GUINT64_CONSTANT(10) << 30 },
		{ "512m", G_GUINT64_CONSTANT(512) << 20 },
		{ "1T", G_GUINT64_CONSTANT(1) << 40 },
		{ "64T", G_GUINT64_CONSTANT(64) << 40 },
		{ "1048576", 1048576 },
		{ "1M", 1048576 },
		{ "65T", 0 },
		{ "18446744073709551615", 0 },
		{ "99999999999999999999999", 0 },
		{ "1048577", 0 }, /* not a multiple of 512 */
		{ "1023K", 0 },	  /* below 1 MiB */
		{ "0", 0 },
		{ "", 0 },
		{ "G", 0 },
		{ "-1G", 0 },
		{ "1.5G", 0 },
		{ "10 G", 0 },
		{ "10GB", 0 },
		{ "10P", 0 },
	};
	static const char *const bad_names[] = {
		"",	".",
		"..",	"../etc",
		"a/b",	".hidden",
		"/abs", "a b",
		"x\n",	"0123456789012345678901234567890123456789012345678901234567890123",
	};
	GError *err = NULL;

	(void)state;
	for (guint i = 0; i < G_N_ELEMENTS(sizes); i++) {
		guint64 v = 0;
		gboolean ok = ics_volume_size_parse(sizes[i].text, &v, &err);

		if (ok != (sizes[i].bytes != 0) || (ok && v != sizes[i].bytes))
			fail_msg("size \"%s\": %s %" G_GUINT64_FORMAT, sizes[i].text,
				 ok ? "accepted" : err->message, v);
		if (!ok)
			assert_int_equal(err->code, ICS_ERROR_INVALID_ARGUMENT);
		g_clear_error(&err);
	}
	for (guint i = 0; i < G_N_ELEMENTS(bad_names); i++) {
		if (ics_volume_name_check(bad_names[i], &err))
			fail_msg("name \"%s\" accepted", bad_names[i]);
		g_clear_error(&err);
	}
	assert_true(ics_volume_name_check("disk-1.qcow2", NULL));
	assert_true(ics_volume_format_check("qcow2", NULL));
	assert_true(ics_volume_format_check("raw", NULL));
	assert_false(ics_volume_format_check("vmdk", NULL));
	assert_false(ics_volume_format_check(NULL, NULL));
	assert_true(ics_volume_provisioning_check("thin", NULL));
	assert_true(ics_volume_provisioning_check("thick-lazy", NULL));
	assert_false(ics_volume_provisioning_check("thick", NULL));
}

/* The item named @name of a list response, or NULL. */
static json_t *find_item(const TestResp *r, const char *name)
{
	json_t *items = json_object_get(r->json, "items"), *it;
	size_t i;

	json_array_foreach(items, i, it)
	{
		if (g_strcmp0(json_string_value(json_object_get(it, "name")), name) == 0)
			return it;
	}
	return NULL;
}

static gint64 int_member(const TestResp *r, const char *key)
{
	return json_integer_value(json_object_get(r->json, key));
}

static void test_lifecycle(void **state)
{
	Ctx *c = *state;
	TestMgr *t = c->t;
	const char *tok = t->admin_token;

	/* Thin qcow2, within the request. */
	{
		g_autoptr(TestResp) r = test_http(
			t, "POST", VOLS, tok, "{\"name\": \"disk1.qcow2\", \"capacity\": \"10G\"}");

		assert_int_equal(r->status, 201);
		assert_string_equal(test_str(r, "format"), "qcow2");
		assert_string_equal(test_str(r, "pool"), "shared");
		g_autofree char *path = in_pool("disk1.qcow2");

		assert_string_equal(test_str(r, "path"), path);
		assert_int_equal(int_member(r, "capacity_bytes"), G_GINT64_CONSTANT(10) << 30);
		assert_true(int_member(r, "allocation_bytes") < (1 << 20));
	}
	assert_int_equal(test_status(t, "POST", VOLS, tok,
				     "{\"name\": \"disk1.qcow2\", \"capacity\": \"1G\", "
				     "\"format\": \"raw\"}"),
			 409);

	/* Thick-lazy raw, as a task; fully allocated. */
	{
		g_autoptr(TestResp) r = test_http(t, "POST", VOLS, tok,
						  "{\"name\": \"thick.raw\", \"capacity\": \"1G\", "
						  "\"format\": \"raw\", \"provisioning\": "
						  "\"thick-lazy\"}");
		g_autofree char *st = NULL;

		assert_int_equal(r->status, 202);
		assert_string_equal(test_str(r, "kind"), "volume.create");
		assert_string_equal(test_str(r, "object_id"), "shared/thick.raw");
		st = test_wait_task(t, tok, int_member(r, "id"));
		assert_string_equal(st, "succeeded");
	}
	{
		g_autoptr(TestResp) r = test_http(t, "GET", VOLS "/thick.raw", tok, NULL);

		assert_int_equal(r->status, 200);
		assert_string_equal(test_str(r, "format"), "raw");
		assert_true(int_member(r, "allocation_bytes") >= 1 << 30);
		assert_int_equal(int_member(r, "capacity_bytes"), 1 << 30);
		assert_int_equal(json_array_size(json_object_get(r->json, "used_by")), 0);
	}
	/* A thick creation over an existing file is refused at once. */
	assert_int_equal(test_status(t, "POST", VOLS, tok,
				     "{\"name\": \"thick.raw\", \"capacity\": \"2G\", "
				     "\"provisioning\": \"thick-lazy\"}"),
			 409);
	{
		g_autoptr(TestResp) r = test_http(t, "GET", VOLS, tok, NULL);

		assert_int_equal(r->status, 200);
		assert_non_null(find_item(r, "disk1.qcow2"));
		assert_non_null(find_item(r, "thick.raw"));
	}

	/* Resize: only up; growing is a task. */
	{
		g_autoptr(TestResp) r = test_http(t, "POST", VOLS "/disk1.qcow2/resize", tok,
						  "{\"capacity\": \"5G\"}");

		assert_int_equal(r->status, 409);
		assert_non_null(strstr(r->body->str, "only grow"));
	}
	assert_int_equal(
		test_status(t, "POST", VOLS "/disk1.qcow2/resize", tok, "{\"capacity\": \"10G\"}"),
		409);
	assert_int_equal(
		test_status(t, "POST", VOLS "/nope.qcow2/resize", tok, "{\"capacity\": \"20G\"}"),
		404);
	{
		g_autoptr(TestResp) r = test_http(t, "POST", VOLS "/disk1.qcow2/resize", tok,
						  "{\"capacity\": \"20G\"}");
		g_autofree char *st = NULL;

		assert_int_equal(r->status, 202);
		assert_string_equal(test_str(r, "kind"), "volume.resize");
		st = test_wait_task(t, tok, int_member(r, "id"));
		assert_string_not_equal(st, "timeout");
		if (real_uri) {
			g_autoptr(TestResp) g = test_http(t, "GET", VOLS "/disk1.qcow2", tok, NULL);

			assert_string_equal(st, "succeeded");
			assert_int_equal(int_member(g, "capacity_bytes"), G_GINT64_CONSTANT(20)
										  << 30);
		}
	}

	/* A VM uses disk1: delete refused, detail names the VM. */
	{
		g_autofree char *path = in_pool("disk1.qcow2");
		g_autofree char *vm = g_strdup_printf(
			"{\"definition\": {\"name\": \"db1\", \"vcpus\": 1, \"memory_mib\": 128, "
			"\"disks\": [{\"path\": \"%s\", \"format\": \"qcow2\"}]}}",
			path);

		assert_int_equal(test_status(t, "POST", "/api/v1/vms", tok, vm), 201);
	}
	{
		g_autoptr(TestResp) r = test_http(t, "DELETE", VOLS "/disk1.qcow2", tok, NULL);

		assert_int_equal(r->status, 409);
		assert_non_null(strstr(r->body->str, "db1"));
	}
	{
		g_autoptr(TestResp) r = test_http(t, "GET", VOLS "/disk1.qcow2", tok, NULL);

		assert_string_equal(
			json_string_value(json_array_get(json_object_get(r->json, "used_by"), 0)),
			"db1");
	}
	assert_int_equal(test_status(t, "DELETE", VOLS "/thick.raw", tok, NULL), 204);
	assert_int_equal(test_status(t, "GET", VOLS "/thick.raw", tok, NULL), 404);
	assert_int_equal(test_status(t, "DELETE", VOLS "/thick.raw", tok, NULL), 404);

	/* Audited with pool/volume as the object. */
	{
		g_autoptr(TestResp) r = test_http(
			t, "GET", "/api/v1/audit?action=volume.delete&object_id=shared/disk1.qcow2",
			tok, NULL);
		json_t *rec = json_array_get(json_object_get(r->json, "items"), 0);

		assert_int_equal(r->status, 200);
		assert_non_null(rec);
		assert_int_equal(json_integer_value(json_object_get(rec, "http_status")), 409);
	}
}

/* What a real libvirtd leaves on disk. */
static void check_files(Ctx *c)
{
	TestMgr *t = c->t;
	const char *tok = t->admin_token;
	g_autofree char *qcow = in_pool("thin.qcow2"), *raw = in_pool("thin.raw");
	g_autofree char *thick = in_pool("thick.qcow2"), *ics = in_pool(".ics");
	g_autofree char *sub = in_pool("isos"), *data = NULL;
	struct stat st;
	gsize len;

	assert_int_equal(g_mkdir_with_parents(ics, 0700), 0);
	assert_int_equal(g_mkdir_with_parents(sub, 0700), 0);
	assert_int_equal(test_status(t, "POST", VOLS, tok,
				     "{\"name\": \"thin.qcow2\", \"capacity\": \"2G\"}"),
			 201);
	assert_true(g_file_get_contents(qcow, &data, &len, NULL));
	assert_true(len >= 4 && memcmp(data, "QFI\xfb", 4) == 0);
	assert_int_equal(test_status(t, "POST", VOLS, tok,
				     "{\"name\": \"thin.raw\", \"capacity\": \"2G\", "
				     "\"format\": \"raw\"}"),
			 201);
	assert_int_equal(stat(raw, &st), 0);
	assert_int_equal(st.st_size, G_GINT64_CONSTANT(2) << 30);
	assert_true((gint64)st.st_blocks * 512 < (1 << 20));
	{
		g_autoptr(TestResp) r = test_http(t, "POST", VOLS, tok,
						  "{\"name\": \"thick.qcow2\", \"capacity\": "
						  "\"256M\", \"provisioning\": \"thick-lazy\"}");
		g_autofree char *s = test_wait_task(t, tok, int_member(r, "id"));

		assert_string_equal(s, "succeeded");
	}
	assert_int_equal(stat(thick, &st), 0);
	assert_true((gint64)st.st_blocks * 512 >= 256 << 20);
	{
		g_autoptr(TestResp) r = test_http(t, "GET", VOLS, tok, NULL);

		assert_non_null(find_item(r, "thin.qcow2"));
		assert_null(find_item(r, ".ics"));
		assert_null(find_item(r, "isos"));
	}
	/* Grow a thin raw file: still sparse. */
	{
		g_autoptr(TestResp) r = test_http(t, "POST", VOLS "/thin.raw/resize", tok,
						  "{\"capacity\": \"3G\"}");
		g_autofree char *s = test_wait_task(t, tok, int_member(r, "id"));

		assert_string_equal(s, "succeeded");
	}
	assert_int_equal(stat(raw, &st), 0);
	assert_int_equal(st.st_size, G_GINT64_CONSTANT(3) << 30);
	assert_true((gint64)st.st_blocks * 512 < (1 << 20));
	assert_int_equal(test_status(t, "DELETE", VOLS "/thin.raw", tok, NULL), 204);
	assert_false(g_file_test(raw, G_FILE_TEST_EXISTS));
	/* Grow a thick raw file: the new space is reserved too. */
	{
		g_autofree char *fat = in_pool("fat.raw"), *s1 = NULL, *s2 = NULL;
		g_autoptr(TestResp) r =
			test_http(t, "POST", VOLS, tok,
				  "{\"name\": \"fat.raw\", \"capacity\": \"64M\", "
				  "\"format\": \"raw\", \"provisioning\": \"thick-lazy\"}");
		g_autoptr(TestResp) g = NULL;

		s1 = test_wait_task(t, tok, int_member(r, "id"));
		assert_string_equal(s1, "succeeded");
		g = test_http(t, "POST", VOLS "/fat.raw/resize", tok, "{\"capacity\": \"128M\"}");
		s2 = test_wait_task(t, tok, int_member(g, "id"));
		assert_string_equal(s2, "succeeded");
		assert_int_equal(stat(fat, &st), 0);
		assert_int_equal(st.st_size, 128 << 20);
		assert_true((gint64)st.st_blocks * 512 >= 128 << 20);
	}
}

/* Only with a real libvirtd (skip() before anything is allocated). */
static void test_files(void **state)
{
	if (real_uri == NULL)
		skip();
	check_files(*state);
}

static void test_bad_input(void **state)
{
	Ctx *c = *state;
	TestMgr *t = c->t;
	const char *tok = t->admin_token;
	static const char *const bodies[] = {
		"{\"name\": \"../etc\", \"capacity\": \"1G\"}",
		"{\"name\": \"a/b\", \"capacity\": \"1G\"}",
		"{\"name\": \".hidden\", \"capacity\": \"1G\"}",
		"{\"name\": \"x\", \"capacity\": \"1G\", \"format\": \"vmdk\"}",
		"{\"name\": \"x\", \"capacity\": \"1G\", \"provisioning\": \"thick\"}",
		"{\"name\": \"x\", \"capacity\": \"65T\"}",
		"{\"name\": \"x\", \"capacity\": \"ten\"}",
		"{\"name\": \"x\", \"capacity\": 1073741824}",
		"{\"name\": \"x\"}",
		"{\"name\": \"x\", \"capacity\": \"1G\", \"path\": \"/etc/passwd\"}",
		"[]",
	};

	for (guint i = 0; i < G_N_ELEMENTS(bodies); i++) {
		g_autoptr(TestResp) r = test_http(t, "POST", VOLS, tok, bodies[i]);

		if (r->status != 400)
			fail_msg("%s: %ld %s", bodies[i], r->status, r->body->str);
		assert_non_null(json_object_get(r->json, "error"));
	}
	assert_int_equal(test_status(t, "GET", VOLS "/.hidden", tok, NULL), 400);
	assert_int_equal(test_status(t, "GET", VOLS "/..", tok, NULL), 404); /* path normalised */
	assert_int_equal(test_status(t, "GET", "/api/v1/pools/nope/volumes", tok, NULL), 404);
	assert_int_equal(test_status(t, "GET", "/api/v1/pools/.x/volumes", tok, NULL), 400);
	assert_int_equal(test_status(t, "POST", VOLS "/x/resize", tok, "{\"capacity\": \"1\"}"),
			 400);
}

/* A libvirt pool of our name over another directory is not used. */
static void test_foreign_pool(void **state)
{
	Ctx *c = *state;
	virConnectPtr conn;
	virStoragePoolPtr p;

	if (real_uri)
		skip();
	conn = virConnectOpen("test:///default");
	assert_non_null(conn);
	p = virStoragePoolCreateXML(conn,
				    "<pool type='dir'><name>ics-moved</name><target>"
				    "<path>/srv/old/moved</path></target></pool>",
				    0);
	assert_non_null(p);
	{
		g_autoptr(TestResp) r = test_http(c->t, "GET", "/api/v1/pools/moved/volumes",
						  c->t->admin_token, NULL);

		assert_int_equal(r->status, 409);
		assert_non_null(strstr(r->body->str, "virsh pool-destroy ics-moved"));
	}
	virStoragePoolDestroy(p);
	virStoragePoolFree(p);
	virConnectClose(conn);
}

static void test_permissions(void **state)
{
	Ctx *c = *state;
	TestMgr *t = c->t;
	g_autofree char *ro = NULL, *vmm = NULL;

	assert_int_equal(test_make_user(t, "reader", "[\"readonly\"]"), 201);
	assert_int_equal(test_make_user(t, "vmm", "[\"vm_manager\"]"), 201);
	ro = test_login(t, "reader", TEST_PASSWORD);
	vmm = test_login(t, "vmm", TEST_PASSWORD);
	assert_int_equal(test_status(t, "GET", VOLS, ro, NULL), 200);
	assert_int_equal(
		test_status(t, "POST", VOLS, ro, "{\"name\": \"x.raw\", \"capacity\": \"1G\"}"),
		403);
	assert_int_equal(test_status(t, "GET", VOLS, vmm, NULL), 403);
	assert_int_equal(test_status(t, "GET", VOLS, NULL, NULL), 401);
}

static void test_no_cluster(void **state)
{
	TestMgr *t = test_mgr_start_in(NULL, NULL, test_driver);

	(void)state;
	assert_int_equal(test_status(t, "GET", VOLS, t->admin_token, NULL), 503);
	assert_int_equal(test_status(t, "POST", VOLS, t->admin_token,
				     "{\"name\": \"x.raw\", \"capacity\": \"1G\"}"),
			 503);
	test_mgr_stop(t, FALSE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_validation),
		cmocka_unit_test_setup_teardown(test_lifecycle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreign_pool, setup, teardown),
		cmocka_unit_test_setup_teardown(test_permissions, setup, teardown),
		cmocka_unit_test(test_no_cluster),
	};
	int rc;

	real_uri = g_getenv("ICS_TEST_VOLUME_URI");
	pool_dir = real_uri ? g_dir_make_tmp("ics-volumes-XXXXXX", NULL)
			    : g_strdup("/srv/ics/pools/shared");
	g_assert_nonnull(pool_dir);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	if (real_uri)
		test_rm_rf(pool_dir);
	g_free(pool_dir);
	return rc;
}
