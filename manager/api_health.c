/*
 * api_health.c: GET /api/v1/health, unauthenticated, for load balancers and
 * the manager's resource agent: 200 when the database takes writes, with
 * the manager's version (one version for the tree: ics-admin --version and
 * the agents' meta-data say the same).
 */
#include "config.h"

#include "ics/log.h"

#include "api.h"

static gboolean get_health(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	g_autoptr(GError) err = NULL;

	if (!ics_store_writable(m->store, &err)) {
		ics_warning("health: database not writable: %s", err->message);
		ics_response_json(resp, 503,
				  json_pack("{s:s, s:s, s:s}", "status", "error", "db", "unavailable",
					    "version", PACKAGE_VERSION));
		return TRUE;
	}
	ics_response_json(resp, 200,
			  json_pack("{s:s, s:s, s:s}", "status", "ok", "db", "writable", "version",
				    PACKAGE_VERSION));
	return TRUE;
}

const IcsApiRoute ics_api_health_routes[] = {
	{ "GET", "/api/v1/health", get_health, 0, NULL, NULL, NULL },
	{ 0 },
};
