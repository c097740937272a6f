/*
 * node_names.c: which node a sanlock host id and a node name denote,
 * according to corosync's node list.
 *
 * A lease names its owner by host id; Pacemaker's fencer names its target
 * by node name; sanlock's delta lease carries the name the host gave its
 * daemon (-e).  ICS sets host id = corosync node id and sanlock name = node
 * name, but nothing in sanlock enforces it: a host started with another
 * host's name (a copied configuration, a typo) would make the fencing of one
 * node look like the fencing of another.  So the takeover and storage
 * fencing trust the pair (host id, name) only when corosync's own node list
 * -- the configuration every node of the cluster agrees on -- has exactly
 * one entry with that id, exactly one with that name, and they are the same
 * entry.  The list is read from the running corosync with libcmap (the
 * field's API, as corosync-cmapctl and Pacemaker do); the check itself is a
 * pure function so that every conflict is unit-tested.
 *
 * A nodelist entry without a name is named the way Pacemaker names it
 * (pcmk__corosync_name): by its ring0_addr unless that is an IP address;
 * otherwise Pacemaker uses the node's own `uname -n` and records it in the
 * CIB's <nodes> section under the corosync node id -- so that is where the
 * name is read from (`cibadmin --query --scope nodes`).  A node neither
 * gives a name keeps none, and the check refuses it saying what to add to
 * corosync.conf: a fencing record names a node by Pacemaker's name, and
 * matching it to an address would refuse every takeover.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <corosync/cmap.h>

#include "ics/error.h"
#include "ics/exec.h"
#include "ics/xml.h"
#include "lock_internal.h"

#define CIBADMIN_TIMEOUT_MS 10000

void ics_corosync_node_free(IcsCorosyncNode *n)
{
	if (!n)
		return;
	g_free(n->name);
	g_free(n->ring0_addr);
	g_free(n);
}

/* Pacemaker's node_name_is_valid(): an IPv4 or IPv6 address is no name. */
static gboolean address_literal(const char *s)
{
	int a, b, c, d;

	return sscanf(s, "%d.%d.%d.%d", &a, &b, &c, &d) == 4 || strchr(s, ':') != NULL;
}

void ics_corosync_nodes_name(GPtrArray *nodes, const char *cib_nodes_xml)
{
	g_autoptr(xmlDoc) doc = NULL;

	for (guint i = 0; i < nodes->len; i++) {
		IcsCorosyncNode *n = g_ptr_array_index(nodes, i);
		g_autofree char *xpath = NULL;

		if (n->name)
			continue;
		if (n->ring0_addr && *n->ring0_addr && !address_literal(n->ring0_addr)) {
			n->name = g_strdup(n->ring0_addr);
			continue;
		}
		if (!cib_nodes_xml || n->node_id == 0)
			continue;
		if (!doc)
			doc = ics_xml_parse_string(cib_nodes_xml, -1, "the CIB's nodes", NULL);
		if (!doc)
			return;
		xpath = g_strdup_printf("//node[@id='%" G_GUINT64_FORMAT "']/@uname", n->node_id);
		if (ics_xml_xpath_count(doc, xpath, NULL) == 1)
			n->name = ics_xml_xpath_string(doc, xpath, NULL);
	}
}

/* The CIB's <nodes> section (NULL when Pacemaker does not answer). */
static char *cib_nodes(void)
{
	const char *argv[] = { "cibadmin", "--query", "--scope", "nodes", NULL };
	char *out = NULL;

	if (!ics_exec_simple(argv, CIBADMIN_TIMEOUT_MS, &out, NULL)) {
		g_free(out);
		return NULL;
	}
	return out;
}

/* The entry of @nodes for corosync's position @idx, created on first use. */
static IcsCorosyncNode *node_at(GHashTable *by_idx, GPtrArray *nodes, guint idx)
{
	IcsCorosyncNode *n = g_hash_table_lookup(by_idx, GUINT_TO_POINTER(idx + 1));

	if (!n) {
		n = g_new0(IcsCorosyncNode, 1);
		g_ptr_array_add(nodes, n);
		g_hash_table_insert(by_idx, GUINT_TO_POINTER(idx + 1), n);
	}
	return n;
}

GPtrArray *ics_corosync_nodes(GError **error)
{
	cmap_handle_t h;
	cmap_iter_handle_t it;
	cs_error_t rc;
	char key[CMAP_KEYNAME_MAXLEN + 1];
	size_t len;
	cmap_value_types_t type;
	g_autoptr(GHashTable) by_idx = g_hash_table_new(g_direct_hash, g_direct_equal);
	g_autoptr(GPtrArray) nodes =
		g_ptr_array_new_with_free_func((GDestroyNotify)ics_corosync_node_free);

	rc = cmap_initialize(&h);
	if (rc != CS_OK) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_UNAVAILABLE,
			    "cannot read corosync's node list (cmap error %d): is corosync running "
			    "on this node?",
			    (int)rc);
		return NULL;
	}
	rc = cmap_iter_init(h, "nodelist.node.", &it);
	if (rc != CS_OK) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_UNAVAILABLE,
			    "cannot list corosync's nodelist (cmap error %d)", (int)rc);
		cmap_finalize(h);
		return NULL;
	}
	while ((rc = cmap_iter_next(h, it, key, &len, &type)) == CS_OK) {
		guint idx;
		char field[CMAP_KEYNAME_MAXLEN + 1];
		IcsCorosyncNode *n;

		if (sscanf(key, "nodelist.node.%u.%255s", &idx, field) != 2)
			continue;
		if (strcmp(field, "nodeid") == 0) {
			uint32_t id = 0;

			if (cmap_get_uint32(h, key, &id) == CS_OK)
				node_at(by_idx, nodes, idx)->node_id = id;
		} else if (strcmp(field, "name") == 0 || strcmp(field, "ring0_addr") == 0) {
			char *s = NULL;

			if (cmap_get_string(h, key, &s) != CS_OK || !s)
				continue;
			n = node_at(by_idx, nodes, idx);
			if (strcmp(field, "name") == 0) {
				g_free(n->name);
				n->name = g_strdup(s);
			} else {
				g_free(n->ring0_addr);
				n->ring0_addr = g_strdup(s);
			}
			free(s);
		}
	}
	cmap_iter_finalize(h, it);
	cmap_finalize(h);
	if (rc != CS_ERR_NO_SECTIONS) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_UNAVAILABLE,
			    "reading corosync's nodelist failed (cmap error %d)", (int)rc);
		return NULL;
	}
	if (nodes->len == 0) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_UNAVAILABLE,
			    "corosync has no nodelist: ICS needs corosync.conf to list every node "
			    "with its nodeid and name");
		return NULL;
	}
	ics_corosync_nodes_name(nodes, NULL);
	for (guint i = 0; i < nodes->len; i++) {
		if (((IcsCorosyncNode *)g_ptr_array_index(nodes, i))->name)
			continue;
		/* a node named by nothing in corosync: Pacemaker's name, from the CIB */
		g_autofree char *cib = cib_nodes();

		ics_corosync_nodes_name(nodes, cib);
		break;
	}
	return g_steal_pointer(&nodes);
}

gboolean ics_corosync_node_check(const GPtrArray *nodes, guint64 host_id, const char *name,
				 char **why)
{
	const IcsCorosyncNode *by_id = NULL, *by_name = NULL;
	guint n_id = 0, n_name = 0;
	g_autoptr(GString) id_names = g_string_new(NULL);
	g_autoptr(GString) name_ids = g_string_new(NULL);

	if (why)
		*why = NULL;
	if (!nodes) {
		if (why)
			*why = g_strdup("corosync's node list is unknown");
		return FALSE;
	}
	if (!name || !*name) {
		if (why)
			*why = g_strdup_printf("host %" G_GUINT64_FORMAT " has no name to check "
					       "against corosync's node list",
					       host_id);
		return FALSE;
	}
	for (guint i = 0; i < nodes->len; i++) {
		const IcsCorosyncNode *n = g_ptr_array_index(nodes, i);

		if (n->node_id == host_id) {
			n_id++;
			by_id = n;
			g_string_append_printf(id_names, "%s\"%s\"", id_names->len ? ", " : "",
					       n->name ? n->name : "");
		}
		if (n->name && strcmp(n->name, name) == 0) {
			n_name++;
			by_name = n;
			g_string_append_printf(name_ids, "%s%" G_GUINT64_FORMAT,
					       name_ids->len ? ", " : "", n->node_id);
		}
	}
	if (n_id == 0) {
		if (why)
			*why = g_strdup_printf("host id %" G_GUINT64_FORMAT " (\"%s\") is not in "
					       "corosync's node list",
					       host_id, name);
		return FALSE;
	}
	if (n_id > 1) {
		if (why)
			*why = g_strdup_printf("host id %" G_GUINT64_FORMAT " maps to %u names in "
					       "corosync's node list (%s)",
					       host_id, n_id, id_names->str);
		return FALSE;
	}
	if (!by_id->name) {
		if (why)
			*why = g_strdup_printf(
				"corosync's node %" G_GUINT64_FORMAT " has no name: its "
				"nodelist entry has no 'name', its ring0_addr (%s) is "
				"an address, and Pacemaker's CIB names no node with "
				"that id; give every node 'name: <node name>' in "
				"corosync.conf's nodelist",
				host_id, by_id->ring0_addr ? by_id->ring0_addr : "none");
		return FALSE;
	}
	if (n_name == 0) {
		if (why)
			*why = g_strdup_printf(
				"node name \"%s\" (host id %" G_GUINT64_FORMAT ") is "
				"not in corosync's node list; node %" G_GUINT64_FORMAT
				" there is \"%s\"",
				name, host_id, host_id, by_id->name ? by_id->name : "");
		return FALSE;
	}
	if (n_name > 1) {
		if (why)
			*why = g_strdup_printf("node name \"%s\" appears %u times in corosync's "
					       "node list (node ids %s)",
					       name, n_name, name_ids->str);
		return FALSE;
	}
	if (by_id != by_name) {
		if (why)
			*why = g_strdup_printf(
				"host id %" G_GUINT64_FORMAT " calls itself \"%s\", but "
				"corosync's node %" G_GUINT64_FORMAT " is \"%s\" and "
				"\"%s\" is node %" G_GUINT64_FORMAT,
				host_id, name, host_id, by_id->name ? by_id->name : "", name,
				by_name->node_id);
		return FALSE;
	}
	return TRUE;
}
