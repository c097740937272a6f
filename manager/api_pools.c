/*
 * api_pools.c: /api/v1/pools -- the cluster's storage pools, read-only.
 *
 * Like hosts, pools are the cluster adapter's reading at request time: the
 * pool clones in the CIB and where they are active, the capacity of the
 * mount on the manager's node, and each host's disk heartbeat in the pool's
 * lockspace.  Reading them needs host.read; 503 without an adapter.
 */
#include "config.h"

#include "ics/error.h"

#include "api.h"

static gboolean need_pools(IcsManager *m, GError **error)
{
	if (m->cluster == NULL || m->cluster->pools == NULL || m->cluster->pool == NULL) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_UNAVAILABLE,
			    "no cluster adapter: this manager keeps the inventory only and knows "
			    "no pools");
		return FALSE;
	}
	return TRUE;
}

static gboolean list_pools(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	json_t *items;

	(void)req;
	if (!need_pools(m, error))
		return FALSE;
	items = m->cluster->pools(m->cluster->self, error);
	if (items == NULL)
		return FALSE;
	ics_response_json(resp, 200, json_pack("{s:o}", "items", items));
	return TRUE;
}

static gboolean get_pool(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	const char *name = ics_request_param(req, "name");
	json_t *out;

	if (!ics_name_check("pool name", name, error) || !need_pools(m, error))
		return FALSE;
	out = m->cluster->pool(m->cluster->self, name, error);
	if (out == NULL)
		return FALSE;
	ics_response_json(resp, 200, out);
	return TRUE;
}

const IcsApiRoute ics_api_pool_routes[] = {
	{ "GET", "/api/v1/pools", list_pools, 0, NULL, NULL, NULL },
	{ "GET", "/api/v1/pools/{name}", get_pool, 0, NULL, NULL, NULL },
	{ 0 },
};
