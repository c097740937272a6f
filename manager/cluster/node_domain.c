/*
 * node_domain.c: acting on one domain through its node's libvirtd.
 *
 * Pacemaker has no "power off now": stopping a VM runs the vm agent's
 * stop, which asks the guest for an ACPI shutdown and destroys the domain
 * only after its shutdown timeout.  A forced stop sets target-role Stopped
 * (so Pacemaker does not recover what disappears) and then destroys the
 * domain on the node that runs it; the agent's stop then finds it gone.
 * This is the one read-write use of a node's libvirtd by the manager.
 */
#include "config.h"

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "cluster_internal.h"
#include "ics/error.h"

static void silent(void *user, virErrorPtr err)
{
	(void)user;
	(void)err;
}

gboolean ics_cluster_node_destroy_domain(const char *node, const char *uri, const char *uuid,
					 GError **error)
{
	g_autofree char *own = uri ? NULL : ics_node_libvirt_uri(node);
	virConnectPtr conn;
	virDomainPtr dom;
	gboolean ok = FALSE;

	virSetErrorFunc(NULL, silent);
	conn = virConnectOpen(uri ? uri : own);
	if (conn == NULL) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_UNAVAILABLE,
			    "node %s: cannot reach libvirtd at %s: %s", node, uri ? uri : own,
			    virGetLastErrorMessage());
		return FALSE;
	}
	dom = virDomainLookupByUUIDString(conn, uuid);
	if (dom == NULL) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND,
			    "node %s: no domain %s (stopped already?)", node, uuid);
	} else if (virDomainIsActive(dom) == 1 && virDomainDestroy(dom) != 0) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_IO, "node %s: cannot destroy domain %s: %s",
			    node, uuid, virGetLastErrorMessage());
	} else {
		ok = TRUE;
	}
	if (dom)
		virDomainFree(dom);
	virConnectClose(conn);
	return ok;
}
