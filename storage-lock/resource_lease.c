/*
 * resource_lease.c: holding the lease of one slot -- the thing that makes a
 * VM's disks this host's and no one else's.
 *
 * A lease belongs to a process registered with the local daemon: the
 * registration socket is the lease's lifetime (closing it or dying
 * releases it), which is why the fd is kept across exec for `ics-lease hold
 * -- CMD`.  Acquire never waits for a dead owner to expire inside the daemon
 * (that blocks ~70 s): SANLK_ACQUIRE_OWNER_NOWAIT returns at once and the
 * answer is turned into a BUSY error that names the owner host and says
 * whether it is alive (-243) or has stopped renewing (-247), so the caller
 * knows whether fence-aware takeover can help.  Inspect reads the leader
 * record from disk and needs no daemon.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <stdint.h>

#include <sanlock.h>
#include <sanlock_resource.h>
#include <sanlock_rv.h>

#include "ics/error.h"
#include "lock_internal.h"

struct IcsLease {
	IcsPool *pool;          /* borrowed; must outlive the lease */
	struct sanlk_resource *res;
	int sock;
	gboolean held;
};

int ics_lease_fd(const IcsLease *lease)
{
	return lease->sock;
}

void ics_lease_info_clear(IcsLeaseInfo *info)
{
	if (!info)
		return;
	g_free(info->owner);
	memset(info, 0, sizeof(*info));
}

gboolean ics_lease_inspect(IcsPool *pool, const char *owner, IcsLeaseInfo *info, GError **error)
{
	int k = ics_slot_lookup(pool, owner, error);

	memset(info, 0, sizeof(*info));
	if (k < 0)
		return FALSE;
	return ics_lease_inspect_slot(pool, owner, (guint)k, info, error);
}

gboolean ics_lease_inspect_slot(IcsPool *pool, const char *owner, guint k, IcsLeaseInfo *info,
				GError **error)
{
	IcsLeaderRecord lr;

	memset(info, 0, sizeof(*info));
	if (k < 1 || k > pool->lease_slots) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT,
			    "pool \"%s\": no lease slot %u (1..%u)", pool->name, k, pool->lease_slots);
		return FALSE;
	}
	if (!ics_leader_read(pool->leases_path, ics_slot_offset((guint)k), &lr, error))
		return FALSE;
	g_autofree char *what = g_strdup_printf("pool \"%s\": lease of slot %u in %s", pool->name, k,
						pool->leases_path);
	if (!ics_leader_check(&lr, ICS_PAXOS_MAGIC, pool->lockspace, what, error))
		return FALSE;
	if (strcmp(lr.resource_name, owner) != 0) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
			    "%s is named \"%s\", not \"%s\": slot record and lease disagree; free and "
			    "re-allocate the slot",
			    what, lr.resource_name, owner);
		return FALSE;
	}
	info->owner = g_strdup(owner);
	info->slot = k;
	info->lver = lr.lver;
	/* A released lease keeps owner_id with timestamp 0: report it free. */
	if (lr.timestamp != 0) {
		info->owner_host_id = lr.owner_id;
		info->owner_generation = lr.owner_generation;
		info->owner_timestamp = lr.timestamp;
	}
	return TRUE;
}

static void set_acquire_error(GError **error, IcsPool *pool, const char *owner, int rv)
{
	IcsLeaseInfo info;
	g_autofree char *host = NULL;
	guint64 id = 0;

	if (ics_lease_inspect(pool, owner, &info, NULL)) {
		id = info.owner_host_id;
		ics_lease_info_clear(&info);
	}
	host = id ? ics_pool_host_disk_name(pool, id) : g_strdup("");
	g_autofree char *who = id ? g_strdup_printf("host %" G_GUINT64_FORMAT " (%s)", id,
						    *host ? host : "name unknown")
				  : g_strdup("another host");
	switch (rv) {
	case SANLK_ACQUIRE_IDLIVE:
	case SANLK_ACQUIRE_OWNED:
	case SANLK_ACQUIRE_OTHER:
	case -EAGAIN:
		g_set_error(error, ICS_ERROR, ICS_ERROR_BUSY,
			    "pool \"%s\": lease of \"%s\" is held by %s, alive", pool->name, owner, who);
		break;
	case SANLK_ACQUIRE_OWNED_RETRY:
		g_set_error(error, ICS_ERROR, ICS_ERROR_BUSY,
			    "pool \"%s\": lease of \"%s\" is held by %s, owner not renewing: needs "
			    "fencing confirmation or expiry ('ics-lease takeover')",
			    pool->name, owner, who);
		break;
	case -ENOSPC:
	case SANLK_ACQUIRE_LOCKSPACE:
		g_set_error(error, ICS_ERROR, ICS_ERROR_UNAVAILABLE,
			    "pool \"%s\": this host has not joined lockspace %s; run 'ics-lease join'",
			    pool->name, pool->lockspace);
		break;
	case -EEXIST:
		g_set_error(error, ICS_ERROR, ICS_ERROR_BUSY,
			    "pool \"%s\": lease of \"%s\" is already held on this host (by another "
			    "process)",
			    pool->name, owner);
		break;
	default:
		ics_sanlock_error(error, rv, ICS_ERROR_IO, "pool \"%s\": cannot acquire the lease of \"%s\"",
				  pool->name, owner);
	}
}

IcsLease *ics_lease_acquire(IcsPool *pool, const char *owner, GError **error)
{
	int k = ics_slot_lookup(pool, owner, error);
	int sock, rv;

	if (k < 0)
		return NULL;
	sock = sanlock_register();
	if (sock < 0) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_UNAVAILABLE,
			    "pool \"%s\": cannot register with the local sanlock daemon: %s", pool->name,
			    g_strerror(-sock));
		return NULL;
	}
	/* The registration must survive exec: the lease belongs to the process. */
	int fl = fcntl(sock, F_GETFD);
	if (fl >= 0)
		fcntl(sock, F_SETFD, fl & ~FD_CLOEXEC);
	struct sanlk_resource *res = ics_pool_resource_new(pool, owner, (guint)k);
	struct sanlk_resource *list[1] = { res };
	rv = sanlock_acquire(sock, -1, SANLK_ACQUIRE_OWNER_NOWAIT, 1, list, NULL);
	if (rv < 0) {
		close(sock);
		g_free(res);
		set_acquire_error(error, pool, owner, rv);
		return NULL;
	}
	IcsLease *lease = g_new0(IcsLease, 1);
	lease->pool = pool;
	lease->res = res;
	lease->sock = sock;
	lease->held = TRUE;
	return lease;
}

gboolean ics_lease_release(IcsLease *lease, GError **error)
{
	struct sanlk_resource *list[1] = { lease->res };
	int rv;

	if (!lease->held)
		return TRUE;
	rv = sanlock_release(lease->sock, -1, 0, 1, list);
	lease->held = FALSE;
	close(lease->sock);
	lease->sock = -1;
	if (rv < 0) {
		ics_sanlock_error(error, rv, ICS_ERROR_IO,
				  "pool \"%s\": releasing the lease of \"%.48s\" failed (closing the "
				  "registration released it anyway)",
				  lease->pool->name, lease->res->name);
		return FALSE;
	}
	return TRUE;
}

void ics_lease_free(IcsLease *lease)
{
	if (!lease)
		return;
	if (lease->held)
		ics_lease_release(lease, NULL);
	if (lease->sock >= 0)
		close(lease->sock);
	g_free(lease->res);
	g_free(lease);
}
