/*
 * pacemaker_status.c: Pacemaker's own reading of a CIB's status section.
 *
 * crm_mon reads the CIB named by the CIB_file environment variable instead
 * of asking the CIB manager, and then runs the same status computation it
 * runs on a live cluster.  The adapter gives it the very CIB it just
 * queried, written to a private temporary file, so the configuration and
 * the placement of a snapshot always describe one CIB version, and the unit
 * tests can run the same path on captured CIBs.  (Why crm_mon and not our
 * own reading of the operation history: see cib_snapshot.c.)
 *
 * crm_mon is not a long-lived helper: one run per snapshot, ~30 ms here, with
 * a deadline (ics_exec_run), so a hung crm_mon cannot hang the manager.  The
 * CIB can hold secrets (fence device passwords): the file is created 0600 by
 * g_file_open_tmp() and unlinked as soon as crm_mon has read it.
 */
#include "config.h"

#include <errno.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "cluster_internal.h"
#include "ics/error.h"
#include "ics/exec.h"
#include "ics/xml.h"

/* Write @doc to a new private temporary file; its path, to be unlinked. */
static char *write_temp(xmlDoc *doc, GError **error)
{
	g_autofree char *path = NULL;
	xmlChar *text = NULL;
	int len = 0, fd;
	gboolean ok;

	fd = g_file_open_tmp("ics-cib-XXXXXX.xml", &path, error);
	if (fd < 0) {
		g_prefix_error(error, "CIB snapshot: ");
		return NULL;
	}
	xmlDocDumpMemory(doc, &text, &len);
	ok = text != NULL && write(fd, text, (size_t)len) == len;
	if (!ok)
		ics_error_set_errno(error, text ? errno : ENOMEM, "CIB snapshot: cannot write %s",
				    path);
	xmlFree(text);
	if (close(fd) != 0 && ok) {
		ics_error_set_errno(error, errno, "CIB snapshot: cannot write %s", path);
		ok = FALSE;
	}
	if (!ok) {
		g_unlink(path);
		return NULL;
	}
	return g_steal_pointer(&path);
}

xmlDoc *ics_cluster_status_of(xmlDoc *cib, GError **error)
{
	g_autofree char *path = NULL, *env_file = NULL;
	const char *argv[] = { "crm_mon", "--output-as=xml", "--inactive", NULL };
	const char *env[] = { NULL, "CIB_shadow=", NULL };
	IcsExecOptions opts = { 0 };
	g_auto(IcsExecResult) res = { 0 };
	gboolean ran;

	path = write_temp(cib, error);
	if (path == NULL)
		return NULL;
	env_file = g_strdup_printf("CIB_file=%s", path);
	env[0] = env_file;
	opts.argv = argv;
	opts.env = env;
	opts.timeout_ms = ICS_CLUSTER_CRM_MON_TIMEOUT_MS;
	ran = ics_exec_run(&opts, &res, error);
	g_unlink(path);
	if (!ran || !ics_exec_check_exit(&res, "crm_mon", error)) {
		g_prefix_error(error, "Pacemaker's status of the CIB: ");
		return NULL;
	}
	return ics_xml_parse_string(res.out, (gssize)res.out_len, "crm_mon --output-as=xml", error);
}

IcsClusterSnapshot *ics_cluster_snapshot_from_cib(xmlDoc *cib, GError **error)
{
	g_autoptr(xmlDoc) mon = ics_cluster_status_of(cib, error);

	if (mon == NULL)
		return NULL;
	return ics_cluster_snapshot_parse(cib, mon, error);
}
