/*
 * cib_nodes.h: what the cluster's nodes published about themselves as
 * permanent node attributes in the CIB.
 *
 * Storage fencing is safe only if the TARGET's sanlock runs with a
 * watchdog, and the target cannot be asked when it is being fenced.  So
 * every node publishes it while it can: ocf:ics:pool start sets the node
 * attribute ics-sanlock-watchdog (1 or 0) in the configuration section
 * (crm_attribute --type nodes, lifetime forever), which outlives the node's
 * membership, unlike a transient attribute that the cluster erases when the
 * node leaves.
 */
#ifndef ICS_FENCING_CIB_NODES_H
#define ICS_FENCING_CIB_NODES_H

#include <glib.h>

#define CIB_NODE_ATTR_WATCHDOG "ics-sanlock-watchdog"

/*
 * node name (uname) -> value of the permanent node attribute @name, for
 * every node of the CIB that has it (char* -> char*).  UNAVAILABLE when
 * the CIB cannot be read.
 */
GHashTable *cib_node_attr_read(const char *name, GError **error);

#endif
