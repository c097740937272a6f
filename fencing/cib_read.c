/*
 * cib_read.c: the CIB's configuration section for storage fencing (see
 * cib_read.h).  The agent runs on a cluster node, whose local copy is what
 * its fencer acts on, so the query is local (cib_scope_local) and
 * synchronous; one query serves everything one action needs to know.
 */
#include "config.h"

#include <crm/cib.h>
#include <crm/common/xml.h>

#include "cib_read.h"
#include "ics/error.h"

xmlNode *cib_read_configuration(const char *what, GError **error)
{
	cib_t *cib;
	xmlNode *out = NULL;
	int rc;

	/* Pacemaker's XML settings and schemas (a file CIB is validated on
	 * signon); Pacemaker's tools do the same at start.  Idempotent. */
	crm_xml_init();
	cib = cib_new();
	if (!cib) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_UNAVAILABLE,
			    "cannot create a CIB connection");
		return NULL;
	}
	rc = cib->cmds->signon(cib, "fence_ics_storage", cib_query);
	if (rc != pcmk_ok) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_UNAVAILABLE,
			    "cannot read the CIB for %s: %s; is Pacemaker running on this node?",
			    what, pcmk_strerror(rc));
		goto out;
	}
	rc = cib->cmds->query(cib, "/cib/configuration", &out,
			      cib_sync_call | cib_scope_local | cib_xpath);
	if (rc != pcmk_ok || !out) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_UNAVAILABLE,
			    "cannot query the CIB's configuration for %s: %s", what,
			    pcmk_strerror(rc));
		if (out)
			free_xml(out);
		out = NULL;
	}
out:
	cib->cmds->signoff(cib);
	cib_delete(cib);
	return out;
}
