/*
 * cib_pools.c: the ICS pools the cluster configures, read from the CIB
 * through libcib (see cib_pools.h for why the CIB and not a list).
 *
 * The query is the whole configuration section of the local CIB copy: the
 * agent runs on a cluster node, whose copy is what its fencer acts on.
 * Parameters are read from the primitive's instance_attributes nvpairs;
 * ICS writes them plainly (no rules, no id-refs), and an unusual form --
 * a primitive whose path cannot be found -- is an error, never a pool
 * silently left out.
 */
#include "config.h"

#include <string.h>

#include <crm/cib.h>
#include <crm/common/xml.h>
#include <libxml/xpath.h>

#include "cib_pools.h"
#include "ics/error.h"

void cib_pool_free(CibPool *p)
{
	if (!p)
		return;
	g_free(p->id);
	g_free(p->path);
	g_free(p->uuid);
	g_free(p);
}

static char *nvpair(xmlNode *prim, const char *name)
{
	for (xmlNode *ia = prim->children; ia; ia = ia->next) {
		if (ia->type != XML_ELEMENT_NODE ||
		    strcmp((const char *)ia->name, "instance_attributes") != 0)
			continue;
		for (xmlNode *nv = ia->children; nv; nv = nv->next) {
			g_autofree char *n = NULL;

			if (nv->type != XML_ELEMENT_NODE ||
			    strcmp((const char *)nv->name, "nvpair") != 0)
				continue;
			n = (char *)xmlGetProp(nv, (const xmlChar *)"name");
			if (n && strcmp(n, name) == 0) {
				xmlChar *v = xmlGetProp(nv, (const xmlChar *)"value");
				char *out = g_strdup((const char *)v);

				xmlFree(v);
				return out;
			}
		}
	}
	return NULL;
}

GPtrArray *cib_pools_read(GError **error)
{
	cib_t *cib;
	xmlNode *out = NULL;
	xmlXPathContext *ctx = NULL;
	xmlXPathObject *res = NULL;
	GPtrArray *pools = NULL;
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
			    "cannot read the CIB for the cluster's pools: %s; is Pacemaker running "
			    "on this node?",
			    pcmk_strerror(rc));
		goto out;
	}
	rc = cib->cmds->query(cib, "/cib/configuration/resources", &out,
			      cib_sync_call | cib_scope_local | cib_xpath);
	if (rc != pcmk_ok || !out) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_UNAVAILABLE,
			    "cannot query the CIB's resources for the cluster's pools: %s",
			    pcmk_strerror(rc));
		goto out;
	}
	ctx = xmlXPathNewContext(out->doc);
	ctx->node = out;
	res = xmlXPathEvalExpression((const xmlChar *)".//primitive[@class='ocf' and "
						      "@provider='ics' and @type='pool']",
				     ctx);
	pools = g_ptr_array_new_with_free_func((GDestroyNotify)cib_pool_free);
	for (int i = 0; res && res->nodesetval && i < res->nodesetval->nodeNr; i++) {
		xmlNode *prim = res->nodesetval->nodeTab[i];
		xmlChar *id = xmlGetProp(prim, (const xmlChar *)"id");
		CibPool *p = g_new0(CibPool, 1);

		p->id = g_strdup(id ? (const char *)id : "?");
		xmlFree(id);
		p->path = nvpair(prim, "path");
		p->uuid = nvpair(prim, "uuid");
		if (!p->path || p->path[0] != '/') {
			g_set_error(error, ICS_ERROR, ICS_ERROR_PARSE,
				    "pool resource %s in the CIB has no absolute path parameter: "
				    "storage fencing cannot know where it is",
				    p->id);
			cib_pool_free(p);
			g_clear_pointer(&pools, g_ptr_array_unref);
			goto out;
		}
		g_ptr_array_add(pools, p);
	}
out:
	if (res)
		xmlXPathFreeObject(res);
	if (ctx)
		xmlXPathFreeContext(ctx);
	if (out)
		free_xml(out);
	cib->cmds->signoff(cib);
	cib_delete(cib);
	return pools;
}
