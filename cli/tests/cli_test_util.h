/*
 * cli_test_util.h: a fake Pacemaker for ics-admin's tests and temporary
 * pools.  The fake records every tool call as one line (argv joined by
 * spaces), answers crm_mon and cibadmin --query with canned XML (without
 * any: the last <configuration> written with --modify, as a CIB would),
 * and fails the first call that contains a given text with a given exit
 * status.
 */
#ifndef ICS_CLI_TEST_UTIL_H
#define ICS_CLI_TEST_UTIL_H

#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "cib_ops.h"
#include "ics/error.h"
#include "ics/json.h"
#include "ics/lock.h"

typedef struct {
	GPtrArray *calls; /* char*: "cibadmin --create ..." */
	const char *fail_match;
	int fail_status;
	const char *mon_xml;
	const char *query_xml;
	char *written; /* the last --modify --scope configuration's XML */
} FakeCib;

#define FAKE_MON_EMPTY "<pacemaker-result><resources/></pacemaker-result>"
#define FAKE_QUERY_EMPTY "<resources/>"

static G_GNUC_UNUSED gboolean fake_run(const IcsExecOptions *opts, IcsExecResult *res,
				       gpointer user, GError **error)
{
	FakeCib *f = user;
	g_autofree char *line = g_strjoinv(" ", (char **)opts->argv);
	const char *out = "";

	(void)error;
	memset(res, 0, sizeof(*res));
	g_ptr_array_add(f->calls, g_strdup(line));
	if (f->fail_match && strstr(line, f->fail_match)) {
		f->fail_match = NULL; /* once */
		res->exit_status = f->fail_status;
		res->out = g_strdup("");
		res->err = g_strdup("fake failure");
		return TRUE;
	}
	if (strcmp(opts->argv[0], "crm_mon") == 0)
		out = f->mon_xml ? f->mon_xml : FAKE_MON_EMPTY;
	else if (strstr(line, "cibadmin --query"))
		out = f->query_xml ? f->query_xml : f->written ? f->written : FAKE_QUERY_EMPTY;
	else if (strstr(line, "cibadmin --modify --allow-create --scope configuration")) {
		g_free(f->written);
		f->written = g_strdup(opts->argv[6]);
	}
	res->out = g_strdup(out);
	res->out_len = strlen(out);
	res->err = g_strdup("");
	return TRUE;
}

static G_GNUC_UNUSED void fake_init(FakeCib *f, IcsCib *cib)
{
	memset(f, 0, sizeof(*f));
	f->calls = g_ptr_array_new_with_free_func(g_free);
	cib->run = fake_run;
	cib->user = f;
	cib->timeout_ms = 1000;
}

static G_GNUC_UNUSED void fake_clear(FakeCib *f)
{
	g_ptr_array_unref(f->calls);
	g_free(f->written);
}

/* Index of the first recorded call containing @text, -1 when none. */
static G_GNUC_UNUSED int fake_find(const FakeCib *f, const char *text)
{
	for (guint i = 0; i < f->calls->len; i++)
		if (strstr(f->calls->pdata[i], text))
			return (int)i;
	return -1;
}

static G_GNUC_UNUSED void test_rm_rf(const char *path)
{
	const char *argv[] = { "rm", "-rf", path, NULL };

	g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL,
		     NULL);
}

/* An initialized pool @name at <parent>/<name>; g_free the path. */
static G_GNUC_UNUSED char *test_make_pool(const char *parent, const char *name)
{
	char *path = g_build_filename(parent, name, NULL);
	IcsPoolInitOptions o = { 0 };
	g_autoptr(GError) e = NULL;

	g_assert(g_mkdir_with_parents(path, 0755) == 0);
	o.name = name;
	o.lease_slots = 16;
	if (!ics_pool_init(path, &o, &e))
		g_error("pool init %s: %s", path, e->message);
	return path;
}

#endif
