/*
 * node_backup.c: a backup of a domain through the libvirtd of the node
 * that runs it (libicsbackup does the work; see ics/backup.h).
 *
 * A read-write connection (the backup API needs one) with a keepalive, so
 * a node that dies during the backup ends the wait within seconds instead
 * of a TCP timeout: the backup then fails and nothing is committed.  The
 * repository and the VM's pool are paths this process sees at the same
 * place as the node does (shared pools, mounted on every node).
 */
#include "config.h"

#include "cluster_internal.h"
#include "node_domain.h"
#include "ics/backup.h"
#include "ics/cluster.h"
#include "ics/error.h"

#define KEEPALIVE_INTERVAL_S 5
#define KEEPALIVE_COUNT 3

IcsBackupManifest *ics_cluster_node_backup(const char *node, const char *uri, const char *uuid,
					   IcsBackupRepo *repo, const IcsVmMeta *vm,
					   const IcsBackupRunOptions *opts, GError **error)
{
	virConnectPtr conn = NULL;
	virDomainPtr dom = ics_node_domain_open(node, uri, uuid, FALSE, &conn, error);
	IcsBackupManifest *m = NULL;

	if (dom == NULL) {
		/* error set */
	} else if (virDomainIsActive(dom) != 1) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT, "node %s: domain %s is not running",
			    node, uuid);
	} else {
		/* without an event loop there is no keepalive: the wait is then
		 * bounded by TCP's own timeout only */
		virConnectSetKeepAlive(conn, KEEPALIVE_INTERVAL_S, KEEPALIVE_COUNT);
		m = ics_backup_run_live(repo, dom, vm, opts, error);
		if (m == NULL)
			ics_error_prefix(error, "node %s: ", node);
	}
	if (dom)
		virDomainFree(dom);
	if (conn)
		virConnectClose(conn);
	return m;
}
