/*
 * cib_pools.c: the ICS pools the cluster configures, read from the CIB
 * through libcib (see cib_pools.h for why the CIB and not a list).
 *
 * A pool is an ocf:ics:pool primitive, written either directly (class,
 * provider and type on the primitive, as ICS writes it) or through a
 * resource template (<template class="ocf" provider="ics" type="pool">
 * and <primitive template="...">, as an operator may write it with crmsh
 * or pcs): then the primitive's own instance attributes override the
 * template's, as Pacemaker applies them.  Parameters are read from plain
 * nvpairs (no rules, no id-refs); a pool whose path cannot be found that
 * way is an error, never a pool silently left out.
 */
#include "config.h"

#include <string.h>

#include <crm/common/xml.h>
#include <libxml/xpath.h>

#include "cib_pools.h"
#include "cib_read.h"
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
	if (!prim)
		return NULL;
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

/* The primitive's parameter, else its template's. */
static char *param(xmlNode *prim, xmlNode *tmpl, const char *name)
{
	char *v = nvpair(prim, name);

	return v ? v : nvpair(tmpl, name);
}

static gboolean attr_is(xmlNode *n, const char *attr, const char *value)
{
	xmlChar *v = xmlGetProp(n, (const xmlChar *)attr);
	gboolean is = v && strcmp((const char *)v, value) == 0;

	xmlFree(v);
	return is;
}

static gboolean is_pool_type(xmlNode *n)
{
	return attr_is(n, "class", "ocf") && attr_is(n, "provider", "ics") &&
	       attr_is(n, "type", "pool");
}

/* Every element named @name below @top (resources may nest in groups,
 * clones and bundles). */
static void collect(xmlNode *top, const char *name, GPtrArray *out)
{
	for (xmlNode *n = top->children; n; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (strcmp((const char *)n->name, name) == 0)
			g_ptr_array_add(out, n);
		collect(n, name, out);
	}
}

GPtrArray *cib_pools_read(GError **error)
{
	xmlNode *conf = cib_read_configuration("the cluster's pools", error);
	g_autoptr(GPtrArray) tmpls = g_ptr_array_new();
	g_autoptr(GPtrArray) prims = g_ptr_array_new();
	g_autoptr(GHashTable) pool_tmpls =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	GPtrArray *pools;

	if (!conf)
		return NULL;
	collect(conf, "template", tmpls);
	for (guint i = 0; i < tmpls->len; i++) {
		xmlNode *t = g_ptr_array_index(tmpls, i);
		xmlChar *id = xmlGetProp(t, (const xmlChar *)"id");

		if (id && is_pool_type(t))
			g_hash_table_insert(pool_tmpls, g_strdup((const char *)id), t);
		xmlFree(id);
	}
	collect(conf, "primitive", prims);
	pools = g_ptr_array_new_with_free_func((GDestroyNotify)cib_pool_free);
	for (guint i = 0; i < prims->len; i++) {
		xmlNode *prim = g_ptr_array_index(prims, i);
		xmlChar *tid = xmlGetProp(prim, (const xmlChar *)"template");
		xmlNode *tmpl = tid ? g_hash_table_lookup(pool_tmpls, (const char *)tid) : NULL;
		xmlChar *id;
		CibPool *p;

		xmlFree(tid);
		if (!tmpl && !is_pool_type(prim))
			continue;
		id = xmlGetProp(prim, (const xmlChar *)"id");
		p = g_new0(CibPool, 1);
		p->id = g_strdup(id ? (const char *)id : "?");
		xmlFree(id);
		p->path = param(prim, tmpl, "path");
		p->uuid = param(prim, tmpl, "uuid");
		if (!p->path || p->path[0] != '/') {
			g_set_error(error, ICS_ERROR, ICS_ERROR_PARSE,
				    "pool resource %s in the CIB has no absolute path parameter: "
				    "storage fencing cannot know where it is",
				    p->id);
			cib_pool_free(p);
			g_clear_pointer(&pools, g_ptr_array_unref);
			break;
		}
		g_ptr_array_add(pools, p);
	}
	free_xml(conf);
	return pools;
}
