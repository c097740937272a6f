/*
 * manager_group.h: the CIB objects of the highly available manager, and
 * the DRBD resource file of its drbd backend (internal to ics-admin).
 *
 * The manager runs as one Pacemaker group "ics-manager": ocf:ics:manager
 * ("ics-manager-daemon") then an IPaddr2 floating IP ("ics-manager-vip")
 * on which the console and the API are published (docs/manager-ha.md).
 *
 *  - shared backend: the group is ordered after and colocated with the
 *    pool's clone "ics-pool-<name>" (the state and the manager's lease are
 *    on the pool), and prefers the named manager nodes;
 *  - drbd backend: a promotable ocf:linbit:drbd clone, and the group
 *    (Filesystem, manager, VIP) runs where it is promoted, on the two
 *    manager nodes only.
 *
 * Everything here is pure: it builds XML documents (libxml2, never pasted
 * strings) and text from a validated IcsManagerSpec, and reads the spec
 * back from a CIB, so the unit tests check exactly what `ics-admin manager
 * setup` writes without a cluster.
 */
#ifndef ICS_ADMIN_MANAGER_GROUP_H
#define ICS_ADMIN_MANAGER_GROUP_H

#include <glib.h>
#include <libxml/tree.h>

#define ICS_MGR_GROUP_ID "ics-manager"
#define ICS_MGR_DAEMON_ID "ics-manager-daemon"
#define ICS_MGR_VIP_ID "ics-manager-vip"
#define ICS_MGR_FS_ID "ics-manager-fs"
#define ICS_MGR_DRBD_ID "ics-manager-drbd"
#define ICS_MGR_DRBD_CLONE_ID "ics-manager-drbd-clone"
#define ICS_MGR_ORDER_ID "ics-manager-order"
#define ICS_MGR_COLOCATION_ID "ics-manager-colocation"
#define ICS_MGR_LOCATION_ID "ics-manager-nodes"
#define ICS_MGR_LEASE "ics-manager"
#define ICS_MGR_DEFAULT_PORT 8443
#define ICS_MGR_DEFAULT_MOUNT "/var/lib/ics/manager"
#define ICS_MGR_DRBD_DEFAULT_PORT 7789

typedef enum { ICS_MGR_SHARED, ICS_MGR_DRBD } IcsManagerBackend;

typedef struct {
	IcsManagerBackend backend;
	char *vip;    /* IPv4 address, canonical form */
	guint prefix; /* 1..32 */
	char *nic;    /* NULL: IPaddr2 finds it from the routes */
	guint port;   /* the API's port on the VIP */
	GStrv nodes;  /* manager nodes (shared: preferred; drbd: exactly two) */
	char *binary; /* ics-managerd on the nodes; NULL: the agent's default */
	char *state_dir;
	/* shared */
	char *pool_name;
	char *pool_path;
	/* drbd */
	char *drbd_resource;
	guint drbd_minor;
	char *drbd_disk;  /* backing device of the DRBD volume (internal metadata) */
	GStrv drbd_addrs; /* replication address of each of @nodes */
	guint drbd_port;
	char *quorum_disk;
	char *fstype;
	/* The names the manager's certificate carries (the daemon's
	 * tls_names): set by ics_manager_tls_names(). */
	char *tls_names;
} IcsManagerSpec;
void ics_manager_spec_clear(IcsManagerSpec *spec);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(IcsManagerSpec, ics_manager_spec_clear)

/* "ADDR/PREFIX" (IPv4) into @spec->vip and @spec->prefix; INVALID_ARGUMENT
 * naming what is wrong. */
gboolean ics_manager_parse_vip(const char *text, IcsManagerSpec *spec, GError **error);

/* "n1,n2,..." into @spec->nodes: names checked (letters, digits, '-',
 * '_', '.'), no duplicates; @exactly > 0 demands that many. */
gboolean ics_manager_parse_nodes(const char *text, guint exactly, IcsManagerSpec *spec,
				 GError **error);

/*
 * The names clients reach the manager by, for its certificate: the VIP,
 * then each manager node's name and its addresses as corosync's node list
 * says (@cmap: the output of `corosync-cmapctl -b nodelist.node`, may be
 * NULL); every cluster node of @cmap when the spec names no nodes.
 * Comma-separated, each once (g_free).
 */
char *ics_manager_tls_names(const IcsManagerSpec *spec, const char *cmap);

/* Whole-spec checks before anything is written (drbd: two nodes, their
 * addresses, absolute device paths, a resource name DRBD accepts). */
gboolean ics_manager_spec_check(const IcsManagerSpec *spec, GError **error);

/* The pool named @name in a CIB <resources> (or whole CIB) document: the
 * path of the ocf:ics:pool primitive in clone "ics-pool-<name>" (g_free).
 * NOT_FOUND listing the pools the CIB has. */
char *ics_manager_pool_path(xmlDoc *resources, const char *name, GError **error);

/* The objects, each a document whose root is the element to create:
 * resources first (the drbd clone, then the group), then constraints. */
GPtrArray *ics_manager_resources(const IcsManagerSpec *spec);	/* of xmlDoc* */
GPtrArray *ics_manager_constraints(const IcsManagerSpec *spec); /* of xmlDoc* */

/* The DRBD resource file (/etc/drbd.d/<resource>.res) of the drbd backend:
 * protocol C, DRBD's own fencing through Pacemaker (resource-and-stonith,
 * crm-fence-peer.9.sh), internal metadata. */
char *ics_manager_drbd_res(const IcsManagerSpec *spec);

/* What the CIB says about the manager: the spec back from the group's
 * primitives (backend, state_dir, port, pool, VIP, nodes, tls_names);
 * NOT_FOUND when there is no group "ics-manager". */
gboolean ics_manager_spec_from_cib(xmlDoc *cib, IcsManagerSpec *spec, GError **error);

#endif /* ICS_ADMIN_MANAGER_GROUP_H */
