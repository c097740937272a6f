/*
 * host_state.c: the hosts of a pool's lockspace as the local daemon sees
 * them -- alive, failing, dead -- and when each was last seen renewing.
 *
 * sanlock_get_hosts gives generation, timestamp and state; but a delta-lease
 * timestamp is the owner's own monotonic clock, meaningless on another host.
 * What the takeover decision needs is *our* wall-clock time of the last
 * renewal we observed, to order it against Pacemaker's fencing completion.
 * The daemon records that as last_live (its monotonic seconds when it last
 * saw the timestamp change) in `sanlock client host_status -D`; as the
 * daemon runs on this host, our CLOCK_MONOTONIC is its clock, and
 * wall = now_wall - (now_mono - last_live).  The conversion rounds to whole
 * seconds, which is why the decision takes a margin.  The host name comes
 * from the same output (owner_name), or from the delta lease on disk.
 *
 * The observer: sanlock keeps no record of when a host's generation (its
 * incarnation) appeared, yet that is what orders an incarnation against a
 * fencing.  Every listing merges the hosts into a small JSON file in RAM
 * ($ICS_LOCK_STATE_DIR/<lockspace>.json, default /run/ics/locks): a
 * generation not seen before is stamped with the current wall time, an
 * unchanged one keeps its stamp.  The stamp is an upper bound of the join;
 * losing the file (reboot) only makes stamps later, i.e. refusals likelier.
 * The file names the pool's uuid and this host's boot id: a pool
 * re-initialised under the same name restarts its generations at 1, so
 * stamps of the old pool must not be taken for the new one's, and a stamp
 * of an earlier boot is not ours to trust (normally /run is gone by then).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <stdint.h>

#include <sanlock.h>
#include <sanlock_admin.h>

#include <glib/gstdio.h>
#include <jansson.h>

#include "ics/error.h"
#include "ics/exec.h"
#include "ics/json.h"
#include "ics/log.h"
#include "lock_internal.h"

void ics_host_info_free(IcsHostInfo *h)
{
	if (!h)
		return;
	g_free(h->name);
	g_free(h);
}

typedef struct {
	guint64 last_live;
	char *owner_name;
} HostStatus;

static void host_status_free(gpointer p)
{
	HostStatus *s = p;

	g_free(s->owner_name);
	g_free(s);
}

/*
 * Parse `sanlock client host_status -s LS -D`:
 *   "<host_id> timestamp <ts>" then indented "key=value" lines.
 * Returns host_id -> HostStatus.
 */
static GHashTable *host_status_read(const IcsPool *pool)
{
	const char *argv[] = { "sanlock", "client", "host_status", "-s", pool->lockspace, "-D", NULL };
	g_autofree char *out = NULL;
	GHashTable *map = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, host_status_free);
	HostStatus *cur = NULL;

	if (!ics_exec_simple(argv, 10000, &out, NULL) || !out)
		return map;
	g_auto(GStrv) lines = g_strsplit(out, "\n", -1);
	for (char **l = lines; *l; l++) {
		const char *line = *l;
		if (g_ascii_isdigit(line[0]) && strstr(line, " timestamp ")) {
			gint64 *key = g_new(gint64, 1);
			*key = (gint64)g_ascii_strtoull(line, NULL, 10);
			cur = g_new0(HostStatus, 1);
			g_hash_table_replace(map, key, cur);
			continue;
		}
		if (!cur)
			continue;
		while (*line == ' ' || *line == '\t')
			line++;
		if (g_str_has_prefix(line, "last_live="))
			cur->last_live = g_ascii_strtoull(line + 10, NULL, 10);
		else if (g_str_has_prefix(line, "owner_name=")) {
			g_free(cur->owner_name);
			cur->owner_name = g_strdup(line + 11);
		}
	}
	return map;
}

static IcsHostState state_from_flags(guint32 flags)
{
	switch (flags & SANLK_HOST_MASK) {
	case SANLK_HOST_FREE: return ICS_HOST_FREE;
	case SANLK_HOST_LIVE: return ICS_HOST_ALIVE;
	case SANLK_HOST_FAIL: return ICS_HOST_FAILING;
	case SANLK_HOST_DEAD: return ICS_HOST_DEAD;
	default: return ICS_HOST_UNKNOWN;
	}
}

static gint host_cmp(gconstpointer a, gconstpointer b)
{
	const IcsHostInfo *x = *(IcsHostInfo *const *)a, *y = *(IcsHostInfo *const *)b;

	return x->host_id < y->host_id ? -1 : x->host_id > y->host_id;
}

/* This boot's id (the kernel's random boot_id); "" when unreadable. */
static char *boot_id(void)
{
	g_autofree char *s = NULL;

	if (!g_file_get_contents("/proc/sys/kernel/random/boot_id", &s, NULL, NULL))
		return g_strdup("");
	return g_strdup(g_strstrip(s));
}

static char *observer_path(const IcsPool *pool)
{
	const char *dir = g_getenv("ICS_LOCK_STATE_DIR");

	return g_strdup_printf("%s/%s.json", dir && *dir ? dir : "/run/ics/locks", pool->lockspace);
}

/*
 * Fill first_seen_wall of every host from the observer file and record
 * generations seen for the first time.  Failing to persist is logged, not
 * fatal: the stamps then stay "now", which only delays takeovers.
 */
void ics_observer_merge(const IcsPool *pool, GPtrArray *hosts, gint64 now_wall)
{
	g_autofree char *path = observer_path(pool);
	g_autofree char *dir = g_path_get_dirname(path);
	g_autofree char *tmp = g_strdup_printf("%s.%d.tmp", path, (int)getpid());
	g_autoptr(json_t) root = json_load_file(path, 0, NULL);
	g_autofree char *boot = boot_id();
	const char *uuid = pool->uuid ? pool->uuid : "";
	json_t *known;
	gboolean changed = FALSE;

	if (!json_is_object(root) ||
	    g_strcmp0(json_string_value(json_object_get(root, "pool_uuid")), uuid) != 0 ||
	    g_strcmp0(json_string_value(json_object_get(root, "boot_id")), boot) != 0) {
		json_decref(root);
		root = json_pack("{s:s,s:s}", "pool_uuid", uuid, "boot_id", boot);
		changed = TRUE;
	}
	known = json_object_get(root, "hosts");
	if (!json_is_object(known)) {
		known = json_object();
		json_object_set_new(root, "hosts", known);
	}
	for (guint i = 0; i < hosts->len; i++) {
		IcsHostInfo *h = g_ptr_array_index(hosts, i);
		char key[24];
		json_t *e;

		g_snprintf(key, sizeof(key), "%" G_GUINT64_FORMAT, h->host_id);
		e = json_object_get(known, key);
		if (json_is_object(e) &&
		    json_integer_value(json_object_get(e, "generation")) == (json_int_t)h->generation &&
		    json_integer_value(json_object_get(e, "first_seen")) > 0) {
			h->first_seen_wall = json_integer_value(json_object_get(e, "first_seen"));
			continue;
		}
		if (h->generation == 0 || h->state == ICS_HOST_FREE)
			continue;
		h->first_seen_wall = now_wall;
		json_object_set_new(known, key, json_pack("{s:I,s:I}", "generation",
							  (json_int_t)h->generation, "first_seen",
							  (json_int_t)now_wall));
		changed = TRUE;
	}
	if (!changed)
		return;
	if (g_mkdir_with_parents(dir, 0700) != 0 ||
	    json_dump_file(root, tmp, JSON_COMPACT) != 0 || g_rename(tmp, path) != 0) {
		ics_log(ICS_LOG_WARNING, "pool \"%s\": cannot record host generations in %s: %s",
			pool->name, path, g_strerror(errno));
		g_unlink(tmp);
	}
}

GPtrArray *ics_pool_hosts(IcsPool *pool, GError **error)
{
	struct sanlk_host *hss = NULL;
	int count = 0;
	int rv = sanlock_get_hosts(pool->lockspace, 0, &hss, &count, 0);
	struct timespec mono;

	if (rv == -EAGAIN) {
		free(hss);
		g_set_error(error, ICS_ERROR, ICS_ERROR_BUSY,
			    "pool \"%s\": hosts not ready, retry (the daemon has just joined %s)",
			    pool->name, pool->lockspace);
		return NULL;
	}
	if (rv < 0) {
		free(hss);
		if (rv == -ENOENT)
			g_set_error(error, ICS_ERROR, ICS_ERROR_UNAVAILABLE,
				    "pool \"%s\": this host has not joined lockspace %s (or the "
				    "sanlock daemon is not running); run 'ics-lease join'",
				    pool->name, pool->lockspace);
		else
			ics_sanlock_error(error, rv, ICS_ERROR_IO, "pool \"%s\": cannot list hosts",
					  pool->name);
		return NULL;
	}
	g_autoptr(GHashTable) status = host_status_read(pool);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	gint64 now_wall = g_get_real_time() / G_USEC_PER_SEC;
	GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)ics_host_info_free);
	for (int i = 0; i < count; i++) {
		gint64 id = (gint64)hss[i].host_id;
		HostStatus *st = g_hash_table_lookup(status, &id);
		IcsHostInfo *h = g_new0(IcsHostInfo, 1);
		h->host_id = hss[i].host_id;
		h->generation = hss[i].generation;
		h->timestamp = hss[i].timestamp;
		h->state = state_from_flags(hss[i].flags);
		if (st && st->owner_name && *st->owner_name)
			h->name = g_strdup(st->owner_name);
		else
			h->name = ics_pool_host_disk_name(pool, h->host_id);
		h->age_s = -1;
		if (st && st->last_live > 0) {
			gint64 ago = (gint64)mono.tv_sec - (gint64)st->last_live;
			h->last_renewal_wall = now_wall - MAX(ago, 0);
			h->age_s = MAX(ago, 0);
		}
		g_ptr_array_add(out, h);
	}
	free(hss);
	g_ptr_array_sort(out, host_cmp);
	ics_observer_merge(pool, out, now_wall);
	return out;
}
