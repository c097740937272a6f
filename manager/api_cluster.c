/*
 * api_cluster.c: GET /api/v1/cluster -- the cluster at a glance (DC,
 * quorum, hosts and VMs counted by state, whether fencing is configured),
 * for the console's dashboard and monitoring.  Like the hosts, it is not
 * inventory: the cluster adapter reads it from the cluster's current state
 * (cluster_summary.c); without an adapter the route answers 503.
 */
#include "config.h"

#include "ics/error.h"

#include "api.h"

static gboolean get_cluster(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	json_t *out;

	(void)req;
	if (m->cluster == NULL || m->cluster->summary == NULL) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_UNAVAILABLE,
			    "no cluster adapter: this manager keeps the inventory only and knows "
			    "no cluster");
		return FALSE;
	}
	out = m->cluster->summary(m->cluster->self, error);
	if (out == NULL)
		return FALSE;
	ics_response_json(resp, 200, out);
	return TRUE;
}

const IcsApiRoute ics_api_cluster_routes[] = {
	{ "GET", "/api/v1/cluster", get_cluster, 0, NULL, NULL, NULL },
	{ 0 },
};
