/*
 * cluster_internal.h: what the files of libicscluster share, and nothing
 * another component may include.
 */
#ifndef ICS_CLUSTER_INTERNAL_H
#define ICS_CLUSTER_INTERNAL_H

#include <glib.h>
#include <libxml/tree.h>

#include "ics/cluster.h"

/* The name the library signs on to the CIB manager with. */
#define ICS_CLUSTER_CLIENT_NAME "ics-managerd"

/* Deadline of one crm_mon run on a CIB file. */
#define ICS_CLUSTER_CRM_MON_TIMEOUT_MS 20000u

/* Attribute @name of @node as a g_malloc'd string, NULL when absent. */
char *ics_xml_prop(const xmlNode *node, const char *name);

/* TRUE when @node is an element named @name. */
gboolean ics_xml_is(const xmlNode *node, const char *name);

/* First child element named @name, or NULL. */
xmlNode *ics_xml_child(const xmlNode *parent, const char *name);

/* A Pacemaker boolean ("true", "on", "yes", "1", "y"; case-insensitive). */
gboolean ics_pcmk_true(const char *value);

/* Set @error from a legacy Pacemaker return code (negative errno or
 * -pcmk_err_*) for an operation described by @what. */
void ics_cluster_set_pcmk_error(GError **error, int rc, const char *what);

/* libcib's connection of @cluster (a cib_t *), for the write operations. */
gpointer ics_cluster_cib(IcsCluster *cluster, GError **error);

#endif /* ICS_CLUSTER_INTERNAL_H */
