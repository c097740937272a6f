/*
 * drbd_fixture.h: real DRBD metadata in files, for tests.
 *
 * The kernel side of DRBD cannot run on the test machines, but drbdmeta
 * works on plain files: create-md writes real metadata and set-gi sets
 * the generation identifiers DRBD would have produced.  Tests read those
 * files back through the agent's own reader, never through hand-written
 * strings.  When drbdmeta is not installed the tests skip (CI installs
 * drbd-utils with tools/install-deps).
 */
#ifndef ICS_TEST_DRBD_FIXTURE_H
#define ICS_TEST_DRBD_FIXTURE_H

#include <stdio.h>
#include <unistd.h>

#include <glib.h>

#include "ics/exec.h"

/* drbdmeta's path, or NULL (also looked up in /usr/sbin and /sbin). */
static inline char *fixture_drbdmeta(void)
{
	char *p = g_find_program_in_path("drbdmeta");

	if (p == NULL && g_file_test("/usr/sbin/drbdmeta", G_FILE_TEST_IS_EXECUTABLE))
		p = g_strdup("/usr/sbin/drbdmeta");
	if (p == NULL && g_file_test("/sbin/drbdmeta", G_FILE_TEST_IS_EXECUTABLE))
		p = g_strdup("/sbin/drbdmeta");
	return p;
}

/* Run drbdmeta --force 0 FORMAT FILE internal ARGS...; stdout in *out. */
static inline gboolean fixture_drbdmeta_run(const char *drbdmeta, const char *format,
					    const char *file, const char *const *args, char **out)
{
	const char *argv[16] = { drbdmeta, "--force", "0", format, file, "internal" };
	guint n = 6;
	IcsExecOptions opts = { .argv = argv, .timeout_ms = 30000 };
	IcsExecResult res = { 0 };
	gboolean ok;

	for (guint i = 0; args[i] != NULL && n < 15; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	ok = ics_exec_run(&opts, &res, NULL) && res.exit_status == 0;
	if (!ok)
		g_printerr("# drbdmeta %s %s failed: %s\n", format, args[0],
			   res.err ? res.err : "");
	if (out != NULL)
		*out = g_steal_pointer(&res.out);
	ics_exec_result_clear(&res);
	return ok;
}

/* A 4 MiB file with fresh metadata of @format ("v08", "v09": 2 peers). */
static inline gboolean fixture_create_md(const char *drbdmeta, const char *format, const char *file)
{
	const char *v09[] = { "create-md", "2", NULL };
	const char *v08[] = { "create-md", NULL };
	FILE *f = fopen(file, "w");

	if (f == NULL || ftruncate(fileno(f), 4 << 20) != 0) {
		if (f)
			fclose(f);
		return FALSE;
	}
	fclose(f);
	return fixture_drbdmeta_run(drbdmeta, format, file, g_str_equal(format, "v08") ? v08 : v09,
				    NULL);
}

/* set-gi "CURRENT:BITMAP:H1:H2:flags" (flags filled in per format). For
 * v09 the bitmap UUID goes to the slot of peer node id 1. */
static inline gboolean fixture_set_gi(const char *drbdmeta, const char *format, const char *file,
				      const char *uuids)
{
	gboolean v08 = g_str_equal(format, "v08");
	g_autofree char *gi =
		g_strconcat(uuids, v08 ? ":1:1:0:0:1:0:0" : ":1:1:0:0:1:0:0:0:0:0:0:0", NULL);
	const char *a09[] = { "set-gi", "--node-id", "1", gi, NULL };
	const char *a08[] = { "set-gi", gi, NULL };

	return fixture_drbdmeta_run(drbdmeta, format, file, v08 ? a08 : a09, NULL);
}

#endif /* ICS_TEST_DRBD_FIXTURE_H */
