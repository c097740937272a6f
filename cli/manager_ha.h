/*
 * manager_ha.h: `ics-admin manager setup|status|move|cert` -- the manager
 * as a cluster resource (internal to ics-admin; manager_ha_cmd.c, and
 * manager_cert_cmd.c for its certificate).
 *
 * Unlike `manager vm`, these do not talk to the manager's API for their
 * work: they write and read the CIB with Pacemaker's tools on a cluster
 * node (the manager may be down, or not set up yet), and use the API only
 * to see whether the manager answers on its floating IP.
 */
#ifndef ICS_ADMIN_MANAGER_HA_H
#define ICS_ADMIN_MANAGER_HA_H

#include <glib.h>

#include "cib_ops.h"
#include "manager_group.h"

/* TRUE for "setup", "status", "move" and "cert". */
gboolean ics_admin_manager_ha_command(const char *name);

/* Run one of them; argv[0] is the command's name. */
int ics_admin_manager_ha_main(int argc, char **argv);

/* `manager cert install|show` (manager_cert_cmd.c); argv[0] = "cert". */
int ics_admin_manager_cert_main(int argc, char **argv);

/* Restart the manager's daemon through the cluster (crm_resource
 * --restart of its primitive, which takes the VIP with it) and wait until
 * it answers healthy on the VIP with the key of the state directory's
 * certificate pinned, within @timeout_s.  *@where gets the node, or NULL
 * when the manager was not running (nothing restarted). */
gboolean ics_admin_manager_restart(IcsCib *cib, const IcsManagerSpec *s, guint timeout_s,
				   char **where, GError **error);

#endif /* ICS_ADMIN_MANAGER_HA_H */
