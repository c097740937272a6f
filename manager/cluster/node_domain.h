/*
 * node_domain.h: one domain on a node's libvirtd, for the files of
 * manager/cluster that act on it (node_domain.c, node_serial.c).  Internal.
 */
#ifndef ICS_CLUSTER_NODE_DOMAIN_H
#define ICS_CLUSTER_NODE_DOMAIN_H

#include <glib.h>
#include <libvirt/libvirt.h>

/* The domain @uuid on @node's libvirtd at @uri (NULL: the node's own;
 * read-only for looking only), libvirt's error printing silenced; NULL
 * with @error set (UNAVAILABLE: libvirtd does not answer, NOT_FOUND: no
 * such domain).  *@conn, when set, must be closed by the caller, also on
 * failure. */
virDomainPtr ics_node_domain_open(const char *node, const char *uri, const char *uuid,
				  gboolean readonly, virConnectPtr *conn, GError **error);

#endif /* ICS_CLUSTER_NODE_DOMAIN_H */
