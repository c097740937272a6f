/*
 * cib_nodes.c: permanent node attributes read from the CIB (see
 * cib_nodes.h): <nodes><node uname="node2"><instance_attributes>
 * <nvpair name="ics-sanlock-watchdog" value="1"/>, as crm_attribute
 * --type nodes writes it.  Plain nvpairs only (no rules); the first
 * instance_attributes set that has the name wins, as Pacemaker evaluates
 * sets without rules in order.
 */
#include "config.h"

#include <string.h>

#include <crm/common/xml.h>

#include "cib_nodes.h"
#include "cib_read.h"

static char *prop(xmlNode *n, const char *name)
{
	xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
	char *out = v ? g_strdup((const char *)v) : NULL;

	xmlFree(v);
	return out;
}

static gboolean is(xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

static char *node_value(xmlNode *node, const char *name)
{
	for (xmlNode *ia = node->children; ia; ia = ia->next) {
		if (!is(ia, "instance_attributes"))
			continue;
		for (xmlNode *nv = ia->children; nv; nv = nv->next) {
			g_autofree char *n = NULL;

			if (!is(nv, "nvpair"))
				continue;
			n = prop(nv, "name");
			if (n && strcmp(n, name) == 0)
				return prop(nv, "value");
		}
	}
	return NULL;
}

GHashTable *cib_node_attr_read(const char *name, GError **error)
{
	xmlNode *conf = cib_read_configuration("the nodes' attributes", error);
	GHashTable *out;

	if (!conf)
		return NULL;
	out = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	for (xmlNode *sec = conf->children; sec; sec = sec->next) {
		if (!is(sec, "nodes"))
			continue;
		for (xmlNode *node = sec->children; node; node = node->next) {
			char *uname, *value;

			if (!is(node, "node"))
				continue;
			uname = prop(node, "uname");
			value = uname ? node_value(node, name) : NULL;
			if (uname && value)
				g_hash_table_replace(out, uname, value);
			else {
				g_free(uname);
				g_free(value);
			}
		}
	}
	free_xml(conf);
	return out;
}
