/*
 * manager_ha.h: `ics-admin manager setup|status|move` -- the manager as a
 * cluster resource (internal to ics-admin; manager_ha_cmd.c).
 *
 * Unlike `manager vm`, these do not talk to the manager's API for their
 * work: they write and read the CIB with Pacemaker's tools on a cluster
 * node (the manager may be down, or not set up yet), and use the API only
 * to see whether the manager answers on its floating IP.
 */
#ifndef ICS_ADMIN_MANAGER_HA_H
#define ICS_ADMIN_MANAGER_HA_H

#include <glib.h>

/* TRUE for "setup", "status" and "move". */
gboolean ics_admin_manager_ha_command(const char *name);

/* Run one of them; argv[0] is the command's name. */
int ics_admin_manager_ha_main(int argc, char **argv);

#endif /* ICS_ADMIN_MANAGER_HA_H */
