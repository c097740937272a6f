/*
 * test_drbd_gi.c: reading DRBD generation identifiers from real drbdmeta
 * output (v08 and v09 metadata made with create-md and set-gi on files),
 * both the get-gi line and dump-md, through the agent's own reader
 * (drbd_gi_read_meta); plus the parser's refusals and DRBD's rule that
 * bit 0 of a UUID (primary flag) does not count when comparing.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "drbd_fixture.h"
#include "drbd_gi.h"
#include "ics/error.h"

typedef struct {
	char *dir;
	char *drbdmeta;
} Fixture;

static int setup(void **state)
{
	Fixture *f = g_new0(Fixture, 1);

	f->dir = g_dir_make_tmp("test-drbd-gi-XXXXXX", NULL);
	f->drbdmeta = fixture_drbdmeta();
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	Fixture *f = *state;
	g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", f->dir);

	assert_int_equal(system(cmd), 0);
	g_free(f->dir);
	g_free(f->drbdmeta);
	g_free(f);
	return 0;
}

#define NEED_DRBDMETA(f)                                                                           \
	do {                                                                                       \
		if ((f)->drbdmeta == NULL) {                                                       \
			print_message("drbdmeta not installed (drbd-utils)\n");                    \
			skip();                                                                    \
		}                                                                                  \
	} while (0)

static void assert_uuid(guint64 got, const char *want)
{
	g_autofree char *s = drbd_uuid_to_string(got);

	assert_string_equal(s, want);
}

static void test_fresh_v09(void **state)
{
	Fixture *f = *state;
	g_autofree char *file = g_build_filename(f->dir, "fresh09", NULL);
	DrbdMetaSource src = { .drbdmeta = f->drbdmeta, .minor = "0", .meta = file };
	g_autoptr(GError) error = NULL;
	DrbdGi gi;

	NEED_DRBDMETA(f);
	assert_true(fixture_create_md(f->drbdmeta, "v09", file));
	assert_true(drbd_gi_read_meta(&src, &gi, &error));
	assert_int_equal(gi.current, DRBD_GI_JUST_CREATED);
	assert_int_equal(gi.n_bitmap, 0);
	assert_int_equal(gi.n_history, 0);
}

static void test_v09_dump_and_line(void **state)
{
	Fixture *f = *state;
	g_autofree char *file = g_build_filename(f->dir, "md09", NULL);
	g_autofree char *line = NULL;
	const char *get_gi[] = { "get-gi", "--node-id", "1", NULL };
	const char *show_gi[] = { "show-gi", "--node-id", "1", NULL };
	g_autofree char *shown = NULL;
	DrbdMetaSource src = { .drbdmeta = f->drbdmeta, .minor = "0", .meta = file };
	g_autoptr(GError) error = NULL;
	DrbdGi gi, gl, gs;

	NEED_DRBDMETA(f);
	assert_true(fixture_create_md(f->drbdmeta, "v09", file));
	assert_true(fixture_set_gi(
		f->drbdmeta, "v09", file,
		"9A1B2C3D4E5F6071:5D4C3B2A19080706:3030303030303030:4040404040404040"));
	assert_true(drbd_gi_read_meta(&src, &gi, &error));
	assert_uuid(gi.current, "9A1B2C3D4E5F6071");
	assert_int_equal(gi.n_bitmap, 1);
	assert_uuid(gi.bitmap[0], "5D4C3B2A19080706");
	assert_int_equal(gi.n_history, 2);
	assert_uuid(gi.history[0], "3030303030303030");
	assert_uuid(gi.history[1], "4040404040404040");

	/* The get-gi line of the same metadata says the same. */
	assert_true(fixture_drbdmeta_run(f->drbdmeta, "v09", file, get_gi, &line));
	assert_true(drbd_gi_parse(line, &gl, &error));
	assert_int_equal(gl.current, gi.current);
	assert_int_equal(gl.bitmap[0], gi.bitmap[0]);
	assert_int_equal(gl.n_history, 2);
	/* show-gi: the line between its explanation lines. */
	assert_true(fixture_drbdmeta_run(f->drbdmeta, "v09", file, show_gi, &shown));
	assert_true(drbd_gi_parse_line(shown, &gs, &error));
	assert_int_equal(gs.current, gi.current);

	/* Ancestors; the primary flag (bit 0) does not count. */
	assert_true(drbd_gi_knows(&gi, 0x9A1B2C3D4E5F6070ULL));
	assert_true(drbd_gi_has_ancestor(&gi, 0x3030303030303031ULL));
	assert_false(drbd_gi_has_ancestor(&gi, 0x9A1B2C3D4E5F6071ULL));
	assert_false(drbd_gi_knows(&gi, 0x1111111111111110ULL));
	assert_false(drbd_gi_knows(&gi, 0));
}

static void test_v08(void **state)
{
	Fixture *f = *state;
	g_autofree char *file = g_build_filename(f->dir, "md08", NULL);
	g_autofree char *line = NULL;
	const char *get_gi[] = { "get-gi", NULL };
	DrbdMetaSource src = {
		.drbdmeta = f->drbdmeta, .minor = "0", .format = "v08", .meta = file
	};
	g_autoptr(GError) error = NULL;
	DrbdGi gi, gl;

	NEED_DRBDMETA(f);
	assert_true(fixture_create_md(f->drbdmeta, "v08", file));
	assert_true(fixture_set_gi(
		f->drbdmeta, "v08", file,
		"1122334455667788:AABBCCDDEEFF0012:1111111111111110:2222222222222220"));
	assert_true(drbd_gi_read_meta(&src, &gi, &error));
	assert_uuid(gi.current, "1122334455667788");
	assert_uuid(gi.bitmap[0], "AABBCCDDEEFF0012");
	assert_int_equal(gi.n_history, 2);
	assert_true(fixture_drbdmeta_run(f->drbdmeta, "v08", file, get_gi, &line));
	assert_true(drbd_gi_parse(line, &gl, &error));
	assert_int_equal(gl.current, gi.current);
	assert_int_equal(gl.history[1], gi.history[1]);
}

static void test_read_errors(void **state)
{
	Fixture *f = *state;
	g_autofree char *empty = g_build_filename(f->dir, "empty", NULL);
	g_autofree char *missing = g_build_filename(f->dir, "missing", NULL);
	DrbdMetaSource src = { .drbdmeta = f->drbdmeta, .minor = "0", .meta = empty };
	DrbdMetaSource none = { .drbdmeta = "/nonexistent/drbdmeta", .minor = "0", .meta = empty };
	g_autoptr(GError) e1 = NULL;
	g_autoptr(GError) e2 = NULL;
	g_autoptr(GError) e3 = NULL;
	DrbdGi gi;

	assert_false(drbd_gi_read_meta(&none, &gi, &e3));
	assert_true(g_error_matches(e3, ICS_ERROR, ICS_ERROR_NOT_FOUND));
	NEED_DRBDMETA(f);
	assert_true(g_file_set_contents(empty, "", 0, NULL));
	assert_int_equal(truncate(empty, 1 << 20), 0);
	/* A file without metadata: drbdmeta's own reason, not its ioctl notice. */
	assert_false(drbd_gi_read_meta(&src, &gi, &e1));
	assert_true(g_error_matches(e1, ICS_ERROR, ICS_ERROR_EXEC));
	assert_non_null(strstr(e1->message, "No valid meta data found"));
	src.meta = missing;
	assert_false(drbd_gi_read_meta(&src, &gi, &e2));
	assert_non_null(strstr(e2->message, missing));
}

static void test_parse_refusals(void **state)
{
	const char *bad[] = {
		"",
		"garbage",
		/* wrong number of flags */
		"1122334455667788:AABBCCDDEEFF0012:1111111111111110:2222222222222220:1:1",
		/* short UUID */
		"112233445566778:AABBCCDDEEFF0012:1111111111111110:2222222222222220:1:1:0:0:1:0:0",
		/* flag that is not 0/1 */
		"1122334455667788:AABBCCDDEEFF0012:1111111111111110:2222222222222220:1:2:0:0:1:0:0",
		/* two GI lines */
		"1122334455667788:0000000000000000:0000000000000000:0000000000000000:0:0:0:0:0:0:"
		"0\n"
		"1122334455667789:0000000000000000:0000000000000000:0000000000000000:0:0:0:0:0:0:0",
		/* dump-md without version, with an unknown version, damaged */
		"# DRBD meta data dump\ncurrent-uuid 0x1122334455667788;\n",
		"# DRBD meta data dump\nversion \"v07\";\n",
		"# DRBD meta data dump\nversion \"v09\";\ncurrent-uuid 0x11223344;\n",
		"# DRBD meta data dump\nversion \"v09\";\ncurrent-uuid 0x1122334455667788;\n"
		"history-uuids {\n 0x1111111111111110; zz;\n}\n",
		"# DRBD meta data dump\nversion \"v09\";\ncurrent-uuid 0x1122334455667788;\n"
		"history-uuids {\n 0x1111111111111110;\n",
		"# DRBD meta data dump\nversion \"v08\";\nuuid {\n 0x1122334455667788;\n}\n",
		NULL,
	};

	(void)state;
	for (guint i = 0; bad[i] != NULL; i++) {
		g_autoptr(GError) error = NULL;
		DrbdGi gi;

		if (drbd_gi_parse(bad[i], &gi, &error))
			fail_msg("accepted bad input %u: %s", i, bad[i]);
		assert_true(g_error_matches(error, ICS_ERROR, ICS_ERROR_PARSE));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fresh_v09, setup, teardown),
		cmocka_unit_test_setup_teardown(test_v09_dump_and_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_v08, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_errors, setup, teardown),
		cmocka_unit_test(test_parse_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
