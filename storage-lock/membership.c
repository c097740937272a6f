/*
 * membership.c: this host joining and leaving a pool's lockspace.
 *
 * Joining = the local sanlock daemon starts renewing this host's delta
 * lease (sanlock_add_lockspace_timeout with the pool's io_timeout; the
 * io_timeout written at init wins anyway).  The host name recorded in the
 * delta lease is the daemon's -e option, which the node's start-up sets to
 * the cluster node name; it is not per lockspace, so it is not an argument.
 * Before joining, the daemon's lockspaces are compared with ours: the same
 * lockspace name from another path is a name clash (two pools called the
 * same, or the pool reached through two paths) and another host id means
 * the node is misconfigured -- both CONFLICT, never "fixed" silently.
 * Leaving asks sanlock to refuse while leases are held (SANLK_REM_UNUSED);
 * forcing it makes the daemon kill the holders, which is what it would do
 * anyway if the storage failed.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <stdint.h>

#include <sanlock.h>
#include <sanlock_admin.h>
#include <sanlock_rv.h>

#include "ics/error.h"
#include "ics/exec.h"
#include "lock_internal.h"

static void set_daemon_error(GError **error, int rv, const IcsPool *pool, const char *what)
{
	if (ics_sanlock_rv_no_daemon(rv))
		g_set_error(error, ICS_ERROR, ICS_ERROR_UNAVAILABLE,
			    "pool \"%s\": cannot %s: the local sanlock daemon is not running "
			    "(SANLOCK_RUN_DIR=%s)",
			    pool->name, what, g_getenv("SANLOCK_RUN_DIR") ?: "/run/sanlock");
	else
		ics_sanlock_error(error, rv, ICS_ERROR_IO, "pool \"%s\": cannot %s", pool->name, what);
}

/* Compare the daemon's lockspaces with ours: 1 joined, 2 joining or
 * leaving, 0 not joined, -1 error. */
static int lockspace_lookup(IcsPool *pool, guint64 host_id, GError **error)
{
	struct sanlk_lockspace *lss = NULL;
	int count = 0;
	int rv = sanlock_get_lockspaces(&lss, &count, 0);
	int found = 0;

	if (rv < 0 && rv != -ENOSPC) {
		free(lss);
		set_daemon_error(error, rv, pool, "list the lockspaces");
		return -1;
	}
	for (int i = 0; i < count && found == 0; i++) {
		const struct sanlk_lockspace *ls = &lss[i];
		if (strncmp(ls->name, pool->lockspace, SANLK_NAME_LEN) != 0)
			continue;
		if (strcmp(ls->host_id_disk.path, pool->ids_path) != 0) {
			g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
				    "pool \"%s\": lockspace name clash: \"%s\" is already joined from "
				    "%s, not %s; two pools have the same name or the pool is mounted "
				    "twice",
				    pool->name, pool->lockspace, ls->host_id_disk.path, pool->ids_path);
			found = -1;
		} else if (ls->host_id != host_id) {
			g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
				    "pool \"%s\": already joined as host id %" G_GUINT64_FORMAT
				    ", not %" G_GUINT64_FORMAT "; leave first",
				    pool->name, (guint64)ls->host_id, host_id);
			found = -1;
		} else {
			found = (ls->flags & (SANLK_LSF_ADD | SANLK_LSF_REM)) ? 2 : 1;
		}
	}
	free(lss);
	return found;
}

gboolean ics_pool_join(IcsPool *pool, guint64 host_id, GError **error)
{
	struct sanlk_lockspace ls;
	int rv;

	if (!ics_lock_host_id_valid(host_id, error))
		return FALSE;
	rv = lockspace_lookup(pool, host_id, error);
	if (rv == 2) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_BUSY,
			    "pool \"%s\": a join or leave of lockspace %s is in progress; retry",
			    pool->name, pool->lockspace);
		return FALSE;
	}
	if (rv != 0)
		return rv > 0;
	ics_pool_lockspace_fill(pool, host_id, &ls);
	rv = sanlock_add_lockspace_timeout(&ls, 0, pool->io_timeout);
	if (rv == 0 || rv == -EEXIST)
		return TRUE;
	if (rv == SANLK_HOSTID_BUSY) {
		g_autofree char *other = ics_pool_host_disk_name(pool, host_id);
		g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
			    "pool \"%s\": host id %" G_GUINT64_FORMAT " is in use by another live host "
			    "(%s): two nodes have the same node id",
			    pool->name, host_id, *other ? other : "name unknown");
		return FALSE;
	}
	if (rv == -EINPROGRESS || rv == -EAGAIN) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_BUSY,
			    "pool \"%s\": a join or leave of lockspace %s is in progress; retry",
			    pool->name, pool->lockspace);
		return FALSE;
	}
	set_daemon_error(error, rv, pool, "join the lockspace");
	return FALSE;
}

/* Names of the processes holding leases in the lockspace, from the daemon. */
static char *lease_holders(IcsPool *pool)
{
	const char *argv[] = { "sanlock", "client", "status", NULL };
	g_autofree char *out = NULL;
	g_autoptr(GString) who = g_string_new(NULL);
	g_autofree char *prefix = g_strdup_printf("r %s:", pool->lockspace);

	if (!ics_exec_simple(argv, 10000, &out, NULL) || !out)
		return g_strdup("unknown processes");
	g_auto(GStrv) lines = g_strsplit(out, "\n", -1);
	for (char **l = lines; *l; l++) {
		if (!g_str_has_prefix(*l, prefix))
			continue;
		g_auto(GStrv) f = g_strsplit(*l + 2, ":", 3);
		const char *pid = strstr(*l, " p ");
		g_string_append_printf(who, "%s%s (pid %s)", who->len ? ", " : "", f[1] ? f[1] : "?",
				       pid ? pid + 3 : "?");
	}
	return who->len ? g_string_free(g_steal_pointer(&who), FALSE) : g_strdup("unknown processes");
}

gboolean ics_pool_leave(IcsPool *pool, guint64 host_id, gboolean force, GError **error)
{
	struct sanlk_lockspace ls;
	int rv;

	if (!ics_lock_host_id_valid(host_id, error))
		return FALSE;
	rv = lockspace_lookup(pool, host_id, error);
	if (rv <= 0)
		return rv == 0;   /* not joined: nothing to do */
	if (rv == 2) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_BUSY,
			    "pool \"%s\": a join or leave of lockspace %s is in progress; retry",
			    pool->name, pool->lockspace);
		return FALSE;
	}
	ics_pool_lockspace_fill(pool, host_id, &ls);
	rv = sanlock_rem_lockspace(&ls, force ? 0 : SANLK_REM_UNUSED);
	if (rv == 0 || rv == -ENOENT)
		return TRUE;
	if (rv == -EBUSY) {
		g_autofree char *who = lease_holders(pool);
		g_set_error(error, ICS_ERROR, ICS_ERROR_BUSY,
			    "pool \"%s\": leases are held in lockspace %s by %s; stop them first, or "
			    "leave with --force (sanlock kills the holders)",
			    pool->name, pool->lockspace, who);
		return FALSE;
	}
	set_daemon_error(error, rv, pool, "leave the lockspace");
	return FALSE;
}

int ics_pool_joined(IcsPool *pool, guint64 host_id, GError **error)
{
	int rv;

	if (!ics_lock_host_id_valid(host_id, error))
		return -1;
	rv = lockspace_lookup(pool, host_id, error);
	return rv == 2 ? 0 : rv;
}

GPtrArray *ics_joined_pool_paths(GError **error)
{
	struct sanlk_lockspace *lss = NULL;
	int count = 0;
	int rv = sanlock_get_lockspaces(&lss, &count, 0);
	GPtrArray *out;

	if (rv < 0 && rv != -ENOSPC) {
		free(lss);
		if (ics_sanlock_rv_no_daemon(rv))
			g_set_error(error, ICS_ERROR, ICS_ERROR_UNAVAILABLE,
				    "cannot list the joined lockspaces: the local sanlock daemon is "
				    "not running (SANLOCK_RUN_DIR=%s)",
				    g_getenv("SANLOCK_RUN_DIR") ?: "/run/sanlock");
		else
			ics_sanlock_error(error, rv, ICS_ERROR_IO, "cannot list the joined lockspaces");
		return NULL;
	}
	out = g_ptr_array_new_with_free_func(g_free);
	for (int i = 0; i < count; i++) {
		const char *ids = lss[i].host_id_disk.path;
		g_autofree char *meta = NULL;

		/* ours: <pool>/.ics/ids, lockspace "ics-<name>" */
		if (strncmp(lss[i].name, "ics-", 4) != 0 || !g_str_has_suffix(ids, "/.ics/ids"))
			continue;
		meta = g_path_get_dirname(ids);
		g_ptr_array_add(out, g_path_get_dirname(meta));
	}
	free(lss);
	return out;
}
