/*
 * test_manifest.c: the manifest format (round trip, strictness, newer
 * formats refused, a fuzz of mutations) and the full-or-incremental
 * decision with each of its reasons.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "backup_internal.h"
#include "ics/error.h"
#include "ics/json.h"

#define UUID "6f1c3c0e-8a4b-4d5e-9f00-1234567890ab"
#define SHA "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static const char good[] =
	"{\"format\": 1, \"ics_version\": \"0.1.0\", \"id\": \"20261207T142933Z-1a2b\",\n"
	" \"vm\": {\"uuid\": \"" UUID "\", \"name\": \"web1\"},\n"
	" \"created\": \"2026-12-07T14:29:33Z\", \"completed\": \"2026-12-07T14:29:40Z\",\n"
	" \"kind\": \"incremental\", \"parent\": \"20261206T000000Z-0000\",\n"
	" \"full_reason\": null, \"checkpoint\": \"ics-12345678-20261207T142933Z-1a2b\",\n"
	" \"consistency\": \"crash-consistent\", \"bytes_written\": 4096, \"duration_ms\": 7,\n"
	" \"disks\": [{\"target\": \"vda\", \"source\": \"/p/vda.qcow2\", \"source_format\": "
	"\"qcow2\", \"virtual_size\": 1048576, \"file\": \"vda.qcow2\", \"file_size\": 4096,"
	" \"sha256\": \"" SHA "\"}],\n"
	" \"definition\": {\"uuid\": \"" UUID "\", \"name\": \"web1\"}}";

static void test_round_trip(void **state)
{
	g_autoptr(GError) err = NULL;
	g_autoptr(IcsBackupManifest) m = ics_backup_manifest_parse(good, "t", &err);
	g_autoptr(IcsBackupManifest) again = NULL;
	g_autofree char *text = NULL;
	g_autofree char *text2 = NULL;

	(void)state;
	assert_non_null(m);
	assert_true(m->incremental);
	assert_string_equal(m->parent, "20261206T000000Z-0000");
	assert_null(m->full_reason);
	assert_int_equal(m->disks->len, 1);
	assert_int_equal(ics_backup_manifest_disk(m, "vda")->virtual_size, 1048576);
	assert_null(ics_backup_manifest_disk(m, "vdb"));
	text = ics_backup_manifest_serialize(m);
	again = ics_backup_manifest_parse(text, "t2", &err);
	assert_non_null(again);
	text2 = ics_backup_manifest_serialize(again);
	assert_string_equal(text, text2);
}

/* @good with @from replaced by @to, parsed: the error (NULL when parsed). */
static GError *mutated(const char *from, const char *to)
{
	GError *err = NULL;
	g_autofree char *text = NULL;
	const char *at = strstr(good, from);
	IcsBackupManifest *m;

	assert_non_null(at);
	text = g_strdup_printf("%.*s%s%s", (int)(at - good), good, to, at + strlen(from));
	m = ics_backup_manifest_parse(text, "t", &err);
	ics_backup_manifest_free(m);
	return err;
}

static void expect_refused(const char *from, const char *to, int code, const char *words)
{
	g_autoptr(GError) err = mutated(from, to);

	assert_non_null(err);
	if (!g_error_matches(err, ICS_ERROR, code) || strstr(err->message, words) == NULL)
		fail_msg("%s -> %s: %s", from, to, err->message);
}

static void test_newer_format_refused(void **state)
{
	(void)state;
	expect_refused("\"format\": 1", "\"format\": 2", ICS_ERROR_INVALID_ARGUMENT,
		       "manifest format 2 is newer than this ICS understands (1)");
	expect_refused("\"format\": 1", "\"format\": 0", ICS_ERROR_INVALID_ARGUMENT,
		       "not valid");
}

static void test_strict(void **state)
{
	(void)state;
	expect_refused("\"file\": \"vda.qcow2\"", "\"file\": \"../../etc/passwd\"",
		       ICS_ERROR_INVALID_ARGUMENT, "plain file names");
	expect_refused("\"file\": \"vda.qcow2\"", "\"file\": \".hidden\"",
		       ICS_ERROR_INVALID_ARGUMENT, "plain file names");
	expect_refused("\"id\": \"20261207T142933Z-1a2b\"", "\"id\": \"a/b\"",
		       ICS_ERROR_INVALID_ARGUMENT, "plain name");
	expect_refused("\"parent\": \"20261206T000000Z-0000\"", "\"parent\": \"../x\"",
		       ICS_ERROR_INVALID_ARGUMENT, "parent");
	expect_refused("\"parent\": \"20261206T000000Z-0000\"", "\"parent\": null",
		       ICS_ERROR_INVALID_ARGUMENT, "names its parent");
	expect_refused("\"checkpoint\": \"ics-", "\"checkpoint\": \"../../ics-",
		       ICS_ERROR_INVALID_ARGUMENT, "checkpoint name");
	expect_refused("\"checkpoint\": \"ics-", "\"checkpoint\": \"user-",
		       ICS_ERROR_INVALID_ARGUMENT, "checkpoint name");
	expect_refused("\"kind\": \"incremental\"", "\"kind\": \"diff\"",
		       ICS_ERROR_INVALID_ARGUMENT, "\"kind\" must be");
	expect_refused(SHA, "0123", ICS_ERROR_INVALID_ARGUMENT, "sha256");
	expect_refused("\"sha256\": \"0", "\"sha256\": \"A", ICS_ERROR_INVALID_ARGUMENT,
		       "lower-case");
	expect_refused("\"virtual_size\": 1048576", "\"virtual_size\": -1",
		       ICS_ERROR_INVALID_ARGUMENT, "negative");
	expect_refused("\"uuid\": \"" UUID "\", \"name\": \"web1\"}",
		       "\"uuid\": \"x\", \"name\": \"web1\"}",
		       ICS_ERROR_INVALID_ARGUMENT, "uuid");
	expect_refused("\"disks\": [", "\"disks\": [], \"x\": [", ICS_ERROR_PARSE,
		       "non-empty array");
	expect_refused("\"format\": 1,", "", ICS_ERROR_NOT_FOUND, "format");
}

static void test_disk_twice(void **state)
{
	g_autofree char *text = NULL;
	const char *disk = strstr(good, "{\"target\"");
	const char *end = strstr(disk, "}]");
	g_autoptr(GError) err = NULL;
	IcsBackupManifest *m;

	(void)state;
	text = g_strdup_printf("%.*s}, %.*s%s", (int)(end - good), good, (int)(end - disk), disk,
			       end);
	m = ics_backup_manifest_parse(text, "t", &err);
	assert_null(m);
	assert_non_null(strstr(err->message, "listed twice"));
}

/* Byte flips, truncations and insertions: each parses or is refused with
 * an error, never crashes (the ASan build catches what a crash would be). */
static void test_fuzz(void **state)
{
	GRand *r = g_rand_new_with_seed(20261207);
	size_t len = strlen(good);

	(void)state;
	for (int i = 0; i < 3000; i++) {
		g_autofree char *t = g_strdup(good);
		g_autoptr(GError) err = NULL;
		IcsBackupManifest *m;
		int kind = g_rand_int_range(r, 0, 3);
		size_t at = (size_t)g_rand_int_range(r, 0, (gint32)len);

		if (kind == 0)
			t[at] = (char)g_rand_int_range(r, 1, 256);
		else if (kind == 1)
			t[at] = '\0';
		else
			t[at] = "{}[]\",:0-9"[g_rand_int_range(r, 0, 10)];
		m = ics_backup_manifest_parse(t, "fuzz", &err);
		assert_true((m == NULL) == (err != NULL));
		ics_backup_manifest_free(m);
	}
	g_rand_free(r);
}

/* ---- the decision --------------------------------------------------- */

static IcsVmMeta *vm_with(const char *fmt1, const char *fmt2)
{
	g_autoptr(GError) err = NULL;
	g_autofree char *json = g_strdup_printf(
		"{\"uuid\": \"" UUID "\", \"name\": \"web1\", \"vcpus\": 1, \"memory_mib\": 128,"
		" \"disks\": [{\"path\": \"/p/a\", \"format\": \"%s\"}%s%s%s]}",
		fmt1, fmt2 ? ", {\"path\": \"/p/b\", \"format\": \"" : "", fmt2 ? fmt2 : "",
		fmt2 ? "\"}" : "");
	IcsVmMeta *vm = ics_vm_meta_parse(json, NULL, &err);

	assert_non_null(vm);
	return vm;
}

static void expect_reason(const BackupPlanInput *in, const char *words)
{
	g_autofree char *r = backup_full_reason(in);

	if (words == NULL) {
		if (r != NULL)
			fail_msg("expected an incremental, got: %s", r);
		return;
	}
	if (r == NULL || strstr(r, words) == NULL)
		fail_msg("expected \"%s\", got: %s", words, r ? r : "(incremental)");
}

static void test_decision(void **state)
{
	g_autoptr(IcsVmMeta) vm = vm_with("qcow2", NULL);
	g_autoptr(IcsVmMeta) raw = vm_with("qcow2", "raw");
	g_autoptr(IcsVmMeta) two = vm_with("qcow2", "qcow2");
	g_autoptr(GError) err = NULL;
	g_autoptr(IcsBackupManifest) last = ics_backup_manifest_parse(good, "t", &err);
	g_autoptr(IcsBackupManifest) stopped = ics_backup_manifest_parse(good, "t", &err);
	BackupPlanInput in = { .vm = vm, .last = last, .checkpoint_defined = TRUE };

	(void)state;
	expect_reason(&in, NULL);
	in.force_full = TRUE;
	expect_reason(&in, "asked for");
	in.force_full = FALSE;
	in.last = NULL;
	expect_reason(&in, "first backup");
	in.last = last;
	in.vm = raw;
	expect_reason(&in, "disk vdb is raw");
	in.vm = two;
	expect_reason(&in, "disk vdb is not in the last backup");
	in.vm = vm;
	g_clear_pointer(&stopped->checkpoint, g_free);
	g_free(stopped->consistency);
	stopped->consistency = g_strdup("stopped");
	in.last = stopped;
	expect_reason(&in, "of the stopped VM, without its lease, a directory on its pool");
	in.last = last;
	in.checkpoint_defined = FALSE;
	in.checkpoint_recorded = TRUE;
	in.broken = "checkpoint inconsistent: missing or broken bitmap";
	expect_reason(&in, "did not survive: checkpoint inconsistent");
	in.broken = NULL;
	expect_reason(&in, "recorded on the pool but not defined");
	in.checkpoint_recorded = FALSE;
	expect_reason(&in, "neither defined");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_newer_format_refused),
		cmocka_unit_test(test_strict),
		cmocka_unit_test(test_disk_twice),
		cmocka_unit_test(test_fuzz),
		cmocka_unit_test(test_decision),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
