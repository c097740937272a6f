/*
 * fence_ics_storage.c: storage fencing, a fence agent for a second fencing
 * level where no power fencing exists.
 *
 * It never touches the target.  It reports a host fenced only when no pool
 * of the cluster holds a lease of it any more: on every pool the target is
 * either DEAD for the local sanlock daemon (no delta-lease renewal for
 * 8 x io_timeout + 60 s: sanlock itself then treats the host's leases as
 * free; a host that cannot renew is killed by its own sanlock/watchdog
 * before that point) or its delta lease on disk reads free (it holds no
 * lease there).
 *
 * What "every pool" is decides whether the answer is true, so it is not a
 * list the operator keeps: it is every ocf:ics:pool resource of the CIB
 * (cib_pools.c, direct or through a template), every ICS lockspace the
 * local daemon has joined, and the optional `pools` parameter on top.  On
 * each of them the target is
 *   - DEAD for the local daemon: proven;
 *   - not listed by the daemon (or this node has not joined the pool: a
 *     disabled pool, a clone limited to other nodes) and its delta lease
 *     on disk reads free (never joined, left cleanly, released by a
 *     takeover): it holds nothing there;
 *   - anything else -- alive, failing, listed as free but not free on disk,
 *     a pool unmounted or unreadable, not joined here and held on disk --
 *     not proven.
 * The target's host id comes from corosync's node list (host id = node
 * id), checked to be unique both ways (or from host_map).  At least one
 * pool must have known that host id -- DEAD there, or a delta lease
 * written there, even if free now --, else nothing can be confirmed (a
 * wrong port or host_map, a host that never joined any pool): NEVER_SEEN.
 * A target that holds nothing anywhere
 * (after a takeover released it, or it left every pool) is fenced in the
 * sense this agent proves: no lease of it remains.  That proves nothing
 * about resources not under a lease (docs/storage-fencing.md).
 *
 * This is only safe if the TARGET's sanlock runs with a watchdog: without
 * one nothing guarantees that a hung host is dead.  Every node publishes
 * its own as the node attribute ics-sanlock-watchdog (ocf:ics:pool start),
 * and off/reboot refuse unless the target published 1, unless the device
 * sets unsafe_no_watchdog=yes (the lab, which has no watchdog device).
 * monitor fails when the local daemon or any node that published runs
 * without one.  See docs/storage-fencing.md for the timing and
 * configuration.
 *
 * "off"/"reboot" poll every second until the verdict is "fenced" or the
 * action times out; "on" succeeds without doing anything (the host rejoins
 * its pools by itself when it comes back); "status" is ON while the host
 * renews on any pool.  The verdict is a pure function of per-pool facts
 * (storage_fence_decide) so that every case is unit-tested.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cib_nodes.h"
#include "cib_pools.h"
#include "fence_args.h"
#include "ics/error.h"
#include "ics/lock.h"
#include "ics/log.h"

#define AGENT "fence_ics_storage"
#define EXIT_OK 0
#define EXIT_FAIL 1
#define EXIT_STATUS_OFF 2
/* Added to the longest expiry when no power_timeout is given. */
#define TIMEOUT_MARGIN_S 30

/* Poll period of off/reboot; a variable so the unit tests can shorten it. */
static guint poll_interval_ms = 1000;

static const FenceParam params[] = {
	{ "action", NULL, FALSE, 'o', "action", FALSE },
	{ "option", "action", FALSE, 0, NULL, FALSE },
	{ "port", NULL, FALSE, 'n', "plug", FALSE },
	{ "plug", "port", FALSE, 0, NULL, FALSE },
	{ "nodename", "port", TRUE, 0, NULL, FALSE },
	{ "pools", NULL, FALSE, 0, "pools", FALSE },
	{ "host_map", NULL, FALSE, 0, "host-map", FALSE },
	{ "wait", NULL, FALSE, 0, "wait", FALSE },
	{ "power_timeout", NULL, FALSE, 0, "power-timeout", FALSE },
	{ "unsafe_no_watchdog", NULL, FALSE, 0, "unsafe-no-watchdog", FALSE },
	{ "verbose", NULL, FALSE, 'v', "verbose", TRUE },
	{ NULL, NULL, FALSE, 0, NULL, FALSE },
};

/* ---- the decision ----------------------------------------------------- */

/* What one pool says about the target. */
typedef struct {
	const char *pool;  /* path, for messages */
	gboolean readable; /* the local daemon listed the pool's hosts */
	const char *error; /* why not, when !readable */
	gboolean seen;	   /* the target is in the daemon's list */
	IcsHostState state;
	gint64 age_s; /* since the target's last renewal, -1 unknown */
	guint io_timeout;
	gboolean disk_read;  /* the target's delta lease was read from the pool */
	gboolean disk_free;  /* ... and reads free */
	gboolean disk_blank; /* ... never written (the host id never joined) */
} TargetOnPool;

typedef enum {
	STORAGE_FENCED,	    /* on every pool dead or holding nothing; known on one */
	STORAGE_WAIT,	    /* alive, failing, unknown, or a pool not proven */
	STORAGE_NEVER_SEEN, /* no pool knows the target: nothing can be confirmed */
} StorageVerdict;

/* sanlock's expiry: a host is DEAD this long after its last renewal. */
static guint dead_after_s(guint io_timeout)
{
	return 8 * MAX(io_timeout, 1u) + 60;
}

static const char *verdict_name(StorageVerdict v)
{
	switch (v) {
	case STORAGE_FENCED:
		return "fenced";
	case STORAGE_WAIT:
		return "wait";
	case STORAGE_NEVER_SEEN:
		return "never-seen";
	}
	return "?";
}

/* The target holds nothing on this pool: its delta lease on disk reads
 * free, and the local daemon does not list it as renewing (not listed,
 * listed free, or this node has not joined the pool). */
static gboolean holds_nothing(const TargetOnPool *v)
{
	return v->disk_read && v->disk_free &&
	       (!v->readable || !v->seen || v->state == ICS_HOST_FREE);
}

/*
 * The verdict for @node from @n pools.  *why (may be NULL) gets one
 * sentence: what is still awaited, or why nothing can be confirmed.
 */
static StorageVerdict storage_fence_decide(const char *node, const TargetOnPool *v, guint n,
					   char **why)
{
	g_autoptr(GString) wait = g_string_new(NULL);
	guint dead = 0, nothing = 0, known = 0;

	for (guint i = 0; i < n; i++) {
		const char *sep = wait->len ? "; " : "";

		if (holds_nothing(&v[i])) {
			nothing++;
			known += !v[i].disk_blank;
			continue;
		}
		if (!v[i].readable) {
			g_string_append_printf(
				wait, "%spool %s not proven (%s%s)", sep, v[i].pool,
				v[i].error ? v[i].error : "?",
				v[i].disk_read ? ", and its delta lease there is not free" : "");
			continue;
		}
		if (!v[i].seen || v[i].state == ICS_HOST_FREE) {
			g_string_append_printf(wait,
					       "%spool %s not proven (%s by the local daemon, "
					       "but its delta lease there %s)",
					       sep, v[i].pool, v[i].seen ? "free" : "not listed",
					       v[i].disk_read ? "is not free" : "cannot be read");
			continue;
		}
		if (v[i].state == ICS_HOST_DEAD) {
			dead++;
			known++;
			continue;
		}
		if (v[i].age_s >= 0) {
			gint64 left = (gint64)dead_after_s(v[i].io_timeout) - v[i].age_s;

			g_string_append_printf(wait,
					       "%s%s on %s, last renewal %" G_GINT64_FORMAT
					       " s ago, dead in ~%" G_GINT64_FORMAT " s",
					       sep, ics_host_state_name(v[i].state), v[i].pool,
					       v[i].age_s, MAX(left, (gint64)0));
		} else {
			g_string_append_printf(wait, "%s%s on %s", sep,
					       ics_host_state_name(v[i].state), v[i].pool);
		}
	}
	if (wait->len > 0) {
		if (why != NULL)
			*why = g_strdup_printf("%s: %s", node, wait->str);
		return STORAGE_WAIT;
	}
	if (known == 0) {
		if (why != NULL)
			*why = g_strdup_printf(
				"%s never joined any of the %u pool(s) (its host id's "
				"delta lease is blank on all): storage fencing cannot "
				"confirm anything about it (wrong port or host_map, or "
				"not an ICS host)",
				node, n);
		return STORAGE_NEVER_SEEN;
	}
	if (why != NULL) {
		if (dead == 0)
			*why = g_strdup_printf(
				"%s holds nothing on any of the %u pool(s) (its delta "
				"leases read free: released by a takeover, left, or "
				"never joined): no lease of it remains",
				node, n);
		else
			*why = g_strdup_printf("%s is dead on %u of %u pool(s)%s", node, dead, n,
					       nothing ? " and holds nothing on the others" : "");
	}
	return STORAGE_FENCED;
}

/* Power status: ON while the target renews anywhere (0), OFF when the
 * verdict would be "fenced" (2), unknown otherwise (1). */
static int storage_power_status(const char *node, const TargetOnPool *v, guint n)
{
	for (guint i = 0; i < n; i++)
		if (v[i].readable && v[i].seen &&
		    (v[i].state == ICS_HOST_ALIVE || v[i].state == ICS_HOST_FAILING))
			return EXIT_OK;
	return storage_fence_decide(node, v, n, NULL) == STORAGE_FENCED ? EXIT_STATUS_OFF
									: EXIT_FAIL;
}

/*
 * Parse host_map ("node1:1 node2:2", blanks, commas or semicolons between
 * entries) and find @node's host id.  0 with no error when @node is not in
 * the map.
 */
static gboolean host_map_lookup(const char *map, const char *node, guint64 *id, GError **error)
{
	g_auto(GStrv) entries = g_strsplit_set(map ? map : "", " \t\n,;", -1);

	*id = 0;
	for (char **e = entries; *e != NULL; e++) {
		const char *colon = strrchr(*e, ':');
		g_autofree char *name = NULL;
		char *end = NULL;
		guint64 v;

		if ((*e)[0] == '\0')
			continue;
		if (colon == NULL || colon == *e || colon[1] == '\0') {
			g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT,
				    "host_map entry '%s' is not NODE:HOSTID", *e);
			return FALSE;
		}
		v = g_ascii_strtoull(colon + 1, &end, 10);
		if (*end != '\0' || !g_ascii_isdigit(colon[1]) || v < 1 ||
		    v > ICS_LOCK_MAX_HOST_ID) {
			g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT,
				    "host_map entry '%s': host id must be 1..%d", *e,
				    ICS_LOCK_MAX_HOST_ID);
			return FALSE;
		}
		name = g_strndup(*e, (gsize)(colon - *e));
		if (node != NULL && strcmp(name, node) == 0 && *id == 0)
			*id = v;
	}
	return TRUE;
}

/* ---- gathering facts -------------------------------------------------- */

typedef struct {
	GPtrArray *paths;  /* char* */
	GPtrArray *pools;  /* IcsPool* or NULL when it could not be opened */
	GPtrArray *errors; /* char*: why a pool could not be opened, or NULL */
	const char *host_map;
} Pools;

static void pools_clear(Pools *p)
{
	if (p->paths)
		g_ptr_array_unref(p->paths);
	if (p->pools)
		g_ptr_array_unref(p->pools);
	if (p->errors)
		g_ptr_array_unref(p->errors);
	memset(p, 0, sizeof(*p));
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Pools, pools_clear)

static void pool_free_or_null(gpointer p)
{
	if (p != NULL)
		ics_pool_free(p);
}

/* Add @path (with the uuid the CIB expects, or NULL) unless already there. */
static void add_path(Pools *p, GPtrArray *uuids, const char *path, const char *uuid)
{
	g_autofree char *clean = g_strdup(path);
	gsize len = strlen(clean);

	while (len > 1 && clean[len - 1] == '/')
		clean[--len] = '\0';
	for (guint i = 0; i < p->paths->len; i++) {
		if (strcmp(g_ptr_array_index(p->paths, i), clean) == 0) {
			if (uuid && !g_ptr_array_index(uuids, i))
				uuids->pdata[i] = g_strdup(uuid);
			return;
		}
	}
	g_ptr_array_add(p->paths, g_steal_pointer(&clean));
	g_ptr_array_add(uuids, g_strdup(uuid));
}

/*
 * The pools the target may hold leases on: every ocf:ics:pool of the CIB,
 * every ICS lockspace the local daemon has joined, and the pools parameter
 * (extra paths, never a restriction).  The CIB must be readable: without
 * it the set is unknown and nothing can be proven.
 */
static gboolean pools_open(Pools *p, const FenceArgs *args, GError **error)
{
	const char *list = fence_args_get(args, "pools");
	g_autoptr(GPtrArray) uuids = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GPtrArray) cib = NULL;
	g_autoptr(GPtrArray) joined = NULL;
	g_autoptr(GError) jerr = NULL;
	guint64 dummy;

	p->host_map = fence_args_get(args, "host_map");
	if (!host_map_lookup(p->host_map, NULL, &dummy, error))
		return FALSE;
	p->paths = g_ptr_array_new_with_free_func(g_free);
	cib = cib_pools_read(error);
	if (cib == NULL) {
		ics_error_prefix(error, "the cluster's pools are unknown, so nothing can be "
					"proven: ");
		return FALSE;
	}
	for (guint i = 0; i < cib->len; i++) {
		const CibPool *cp = g_ptr_array_index(cib, i);

		add_path(p, uuids, cp->path, cp->uuid);
	}
	joined = ics_joined_pool_paths(&jerr);
	if (joined == NULL)
		ics_debug("joined lockspaces unknown: %s", jerr->message);
	for (guint i = 0; joined && i < joined->len; i++)
		add_path(p, uuids, g_ptr_array_index(joined, i), NULL);
	if (list != NULL && list[0] != '\0') {
		g_auto(GStrv) parts = g_strsplit_set(list, " \t\n,", -1);

		for (char **s = parts; *s != NULL; s++)
			if ((*s)[0] != '\0')
				add_path(p, uuids, *s, NULL);
	}
	if (p->paths->len == 0) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND,
			    "the CIB configures no ocf:ics:pool resource and this node has joined "
			    "no ICS pool: there is nothing storage fencing could prove");
		return FALSE;
	}
	p->pools = g_ptr_array_new_with_free_func(pool_free_or_null);
	p->errors = g_ptr_array_new_with_free_func(g_free);
	for (guint i = 0; i < p->paths->len; i++) {
		g_autoptr(GError) perr = NULL;
		IcsPool *pool = ics_pool_open(g_ptr_array_index(p->paths, i),
					      g_ptr_array_index(uuids, i), &perr);

		g_ptr_array_add(p->pools, pool);
		g_ptr_array_add(p->errors, pool ? NULL : g_strdup(perr->message));
	}
	return TRUE;
}

/* Ask the local daemon and the pool about host @id on every pool; fills
 * @facts (one per pool) and the strings they borrow into @keep. */
static void gather(const Pools *p, guint64 id, TargetOnPool *facts, GPtrArray *keep)
{
	for (guint i = 0; i < p->paths->len; i++) {
		IcsPool *pool = g_ptr_array_index(p->pools, i);
		TargetOnPool *f = &facts[i];
		g_autoptr(GError) error = NULL;
		g_autoptr(GPtrArray) hosts = NULL;
		IcsDeltaLease d;

		memset(f, 0, sizeof(*f));
		f->pool = g_ptr_array_index(p->paths, i);
		f->age_s = -1;
		f->io_timeout = ICS_LOCK_DEFAULT_IO_TIMEOUT;
		if (pool == NULL) {
			f->error = g_ptr_array_index(p->errors, i);
			continue;
		}
		f->io_timeout = ics_pool_io_timeout(pool);
		hosts = ics_pool_hosts(pool, &error);
		if (hosts == NULL) {
			/* not joined here: the disk alone can still show it holds nothing */
			char *msg = g_strdup(error->message);

			g_ptr_array_add(keep, msg);
			f->error = msg;
		}
		f->readable = hosts != NULL;
		for (guint j = 0; hosts && j < hosts->len; j++) {
			const IcsHostInfo *h = g_ptr_array_index(hosts, j);

			if (h->host_id != id)
				continue;
			f->seen = TRUE;
			f->state = h->state;
			f->age_s = h->age_s;
		}
		f->disk_read = ics_delta_read(pool, id, &d, NULL) && d.valid;
		f->disk_free = f->disk_read && d.free;
		f->disk_blank = f->disk_read && d.blank;
	}
}

/*
 * The target's host id: from host_map when given, else corosync's node id
 * of that name -- which must be unique both ways in corosync's node list.
 */
static gboolean target_id(const Pools *p, const char *port, guint64 *id, GError **error)
{
	g_autoptr(GPtrArray) nodes = NULL;
	g_autofree char *why = NULL;

	*id = 0;
	if (port == NULL || port[0] == '\0') {
		g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT,
			    "no node given (set port=NODE on stdin or use -n NODE)");
		return FALSE;
	}
	if (!host_map_lookup(p->host_map, port, id, error))
		return FALSE;
	if (p->host_map != NULL) {
		if (*id == 0)
			g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND,
				    "node '%s' is not in host_map '%s'", port, p->host_map);
		return *id != 0;
	}
	nodes = ics_corosync_nodes(error);
	if (nodes == NULL)
		return FALSE;
	for (guint i = 0; i < nodes->len; i++) {
		const IcsCorosyncNode *n = g_ptr_array_index(nodes, i);

		if (n->name && strcmp(n->name, port) == 0)
			*id = n->node_id;
	}
	if (!ics_corosync_node_check(nodes, *id, port, &why)) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND,
			    "cannot tell which sanlock host is node '%s': %s", port, why);
		*id = 0;
		return FALSE;
	}
	return TRUE;
}

static gboolean unsafe_no_watchdog(const FenceArgs *args)
{
	return fence_args_get(args, "unsafe_no_watchdog") &&
	       fence_args_get_bool(args, "unsafe_no_watchdog");
}

/*
 * Storage fencing is safe only if the target's sanlock runs with a
 * watchdog (see the top of this file): refuse unless the target published
 * ics-sanlock-watchdog=1, or the device says unsafe_no_watchdog=yes.
 */
static gboolean target_watchdog_ok(const FenceArgs *args, const char *port, GError **error)
{
	g_autoptr(GHashTable) published = NULL;
	const char *v;

	if (unsafe_no_watchdog(args))
		return TRUE;
	published = cib_node_attr_read(CIB_NODE_ATTR_WATCHDOG, error);
	if (!published) {
		ics_error_prefix(error, "cannot learn whether %s's sanlock runs with a watchdog: ",
				 port ? port : "the target");
		return FALSE;
	}
	v = port ? g_hash_table_lookup(published, port) : NULL;
	if (v == NULL) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
			    "%s never published whether its sanlock runs with a watchdog (node "
			    "attribute " CIB_NODE_ATTR_WATCHDOG
			    ", set by ocf:ics:pool start): without "
			    "that, a host whose heartbeat stopped is not certainly dead; start its "
			    "pools with this version (unsafe_no_watchdog=yes only in a test lab)",
			    port ? port : "the target");
		return FALSE;
	}
	if (strcmp(v, "1") != 0) {
		g_set_error(
			error, ICS_ERROR, ICS_ERROR_CONFLICT,
			"%s's sanlock runs without a watchdog (it published " CIB_NODE_ATTR_WATCHDOG
			"=%s): a host whose heartbeat stopped is not "
			"certainly dead, so storage fencing proves nothing; run sanlock with "
			"wdmd and a watchdog device on every host (unsafe_no_watchdog=yes only "
			"in a test lab)",
			port, v);
		return FALSE;
	}
	return TRUE;
}

/*
 * The health check: the local daemon, and every node that published, run
 * sanlock with a watchdog (or the device says unsafe_no_watchdog=yes).
 */
static gboolean monitor_watchdogs_ok(const FenceArgs *args, GError **error)
{
	g_autoptr(GHashTable) published = NULL;
	g_autoptr(GString) without = g_string_new(NULL);
	g_autoptr(GList) names = NULL;
	gboolean on = FALSE;

	if (unsafe_no_watchdog(args))
		return TRUE;
	if (!ics_sanlock_watchdog(&on, error))
		return FALSE;
	if (!on) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
			    "the local sanlock daemon runs without a watchdog: a host whose "
			    "heartbeat stopped is not certainly dead, so storage fencing proves "
			    "nothing; run sanlock with wdmd and a watchdog device on every host "
			    "(unsafe_no_watchdog=yes only in a test lab)");
		return FALSE;
	}
	published = cib_node_attr_read(CIB_NODE_ATTR_WATCHDOG, error);
	if (!published)
		return FALSE;
	names = g_list_sort(g_hash_table_get_keys(published), (GCompareFunc)strcmp);
	for (GList *l = names; l; l = l->next)
		if (strcmp(g_hash_table_lookup(published, l->data), "1") != 0)
			g_string_append_printf(without, "%s%s", without->len ? ", " : "",
					       (const char *)l->data);
	if (without->len) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
			    "sanlock runs without a watchdog on %s (node "
			    "attribute " CIB_NODE_ATTR_WATCHDOG
			    "): storage fencing of those nodes is refused; "
			    "run wdmd with a watchdog device there",
			    without->str);
		return FALSE;
	}
	return TRUE;
}

static gboolean parse_timeout(const char *text, guint *s, GError **error)
{
	char *end = NULL;
	double v;

	errno = 0;
	v = g_ascii_strtod(text, &end);
	if (errno != 0 || end == text || *end != '\0' || !(v > 0) || v > 86400) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT,
			    "power_timeout '%s' is not a number of seconds between 0 and 86400",
			    text);
		return FALSE;
	}
	*s = (guint)(v + 0.999);
	return TRUE;
}

/* ---- actions ---------------------------------------------------------- */

static int fence_off(const Pools *p, const char *port, guint64 id, const FenceArgs *args,
		     GError **error)
{
	const char *wait_arg = fence_args_get(args, "wait");
	const char *t = fence_args_get(args, "power_timeout");
	gboolean wait = TRUE;
	guint timeout_s = 0;
	gint64 deadline;
	gint64 last_report = 0;

	if (wait_arg != NULL)
		wait = fence_args_get_bool(args, "wait");
	if (t != NULL && !parse_timeout(t, &timeout_s, error))
		return EXIT_FAIL;
	if (timeout_s == 0) {
		for (guint i = 0; i < p->pools->len; i++) {
			IcsPool *pool = g_ptr_array_index(p->pools, i);
			guint io = pool ? ics_pool_io_timeout(pool) : ICS_LOCK_DEFAULT_IO_TIMEOUT;

			timeout_s = MAX(timeout_s, dead_after_s(io) + TIMEOUT_MARGIN_S);
		}
	}
	deadline = g_get_monotonic_time() + (gint64)timeout_s * G_USEC_PER_SEC;
	for (;;) {
		g_autofree TargetOnPool *facts = g_new0(TargetOnPool, p->paths->len);
		g_autoptr(GPtrArray) keep = g_ptr_array_new_with_free_func(g_free);
		g_autofree char *why = NULL;
		StorageVerdict v;
		gint64 now;

		gather(p, id, facts, keep);
		v = storage_fence_decide(port, facts, p->paths->len, &why);
		ics_debug("verdict %s: %s", verdict_name(v), why);
		if (v == STORAGE_FENCED) {
			fprintf(stderr, AGENT ": %s\n", why);
			return EXIT_OK;
		}
		if (v == STORAGE_NEVER_SEEN) {
			g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND, "%s", why);
			return EXIT_FAIL;
		}
		now = g_get_monotonic_time();
		if (!wait || now >= deadline) {
			g_set_error(error, ICS_ERROR, wait ? ICS_ERROR_TIMEOUT : ICS_ERROR_BUSY,
				    "not fenced%s: %s",
				    wait ? " before the timeout" : " (wait=off)", why);
			return EXIT_FAIL;
		}
		if (now - last_report >= 5 * G_USEC_PER_SEC) {
			fprintf(stderr, AGENT ": waiting: %s\n", why);
			last_report = now;
		}
		g_usleep(MIN((gint64)poll_interval_ms * 1000, deadline - now));
	}
}

static void print_metadata(void);

static int run_action(FenceAction action, const FenceArgs *args, GError **error)
{
	g_auto(Pools) p = { 0 };
	const char *port = fence_args_get(args, "port");
	guint64 id = 0;

	switch (action) {
	case FENCE_ACTION_METADATA:
		print_metadata();
		return EXIT_OK;

	case FENCE_ACTION_ON:
		/* Nothing to do: a host that comes back rejoins its pools by
		 * itself (ocf:ics:pool start) and is then ALIVE again. */
		fprintf(stderr, AGENT ": on: nothing to do, the host rejoins its pools when it "
				      "starts\n");
		return EXIT_OK;

	case FENCE_ACTION_LIST: {
		g_autoptr(GHashTable) names = g_hash_table_new(g_str_hash, g_str_equal);
		g_autoptr(GPtrArray) infos =
			g_ptr_array_new_with_free_func((GDestroyNotify)g_ptr_array_unref);
		g_autoptr(GList) sorted = NULL;

		if (!pools_open(&p, args, error))
			return EXIT_FAIL;
		for (guint i = 0; i < p.pools->len; i++) {
			IcsPool *pool = g_ptr_array_index(p.pools, i);
			GPtrArray *hosts = pool ? ics_pool_hosts(pool, NULL) : NULL;

			if (hosts == NULL)
				continue;
			g_ptr_array_add(infos, hosts);
			for (guint j = 0; j < hosts->len; j++) {
				const IcsHostInfo *h = g_ptr_array_index(hosts, j);

				if (h->name != NULL && h->name[0] != '\0')
					g_hash_table_add(names, h->name);
			}
		}
		sorted = g_list_sort(g_hash_table_get_keys(names), (GCompareFunc)strcmp);
		for (GList *l = sorted; l != NULL; l = l->next)
			printf("%s\n", (const char *)l->data);
		return EXIT_OK;
	}

	case FENCE_ACTION_MONITOR:
		if (!monitor_watchdogs_ok(args, error) || !pools_open(&p, args, error))
			return EXIT_FAIL;
		for (guint i = 0; i < p.pools->len; i++) {
			IcsPool *pool = g_ptr_array_index(p.pools, i);
			const char *path = g_ptr_array_index(p.paths, i);
			g_autoptr(GPtrArray) hosts = NULL;

			if (pool == NULL) {
				g_set_error(error, ICS_ERROR, ICS_ERROR_UNAVAILABLE,
					    "pool %s unreadable: %s", path,
					    (const char *)g_ptr_array_index(p.errors, i));
				return EXIT_FAIL;
			}
			hosts = ics_pool_hosts(pool, error);
			/* BUSY: joined, the daemon has not read the other hosts yet. */
			if (hosts == NULL && g_error_matches(*error, ICS_ERROR, ICS_ERROR_BUSY)) {
				g_clear_error(error);
				continue;
			}
			if (hosts == NULL) {
				ics_error_prefix(error,
						 "pool %s: this node cannot see the lockspace "
						 "(not joined?): ",
						 path);
				return EXIT_FAIL;
			}
		}
		return EXIT_OK;

	case FENCE_ACTION_VALIDATE_ALL:
		if (!pools_open(&p, args, error))
			return EXIT_FAIL;
		for (guint i = 0; i < p.pools->len; i++) {
			if (g_ptr_array_index(p.pools, i) == NULL) {
				g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND, "pool %s: %s",
					    (const char *)g_ptr_array_index(p.paths, i),
					    (const char *)g_ptr_array_index(p.errors, i));
				return EXIT_FAIL;
			}
		}
		if (port != NULL && !target_id(&p, port, &id, error))
			return EXIT_FAIL;
		return EXIT_OK;

	case FENCE_ACTION_STATUS: {
		g_autofree TargetOnPool *facts = NULL;
		g_autoptr(GPtrArray) keep = g_ptr_array_new_with_free_func(g_free);
		g_autofree char *why = NULL;
		int status;

		if (!pools_open(&p, args, error) || !target_id(&p, port, &id, error))
			return EXIT_FAIL;
		facts = g_new0(TargetOnPool, p.paths->len);
		gather(&p, id, facts, keep);
		status = storage_power_status(port, facts, p.paths->len);
		if (status == EXIT_OK) {
			printf("Status: ON\n");
		} else if (status == EXIT_STATUS_OFF) {
			printf("Status: OFF\n");
		} else {
			storage_fence_decide(port, facts, p.paths->len, &why);
			g_set_error(error, ICS_ERROR, ICS_ERROR_UNAVAILABLE,
				    "status of '%s' unknown: %s", port, why);
		}
		return status;
	}

	case FENCE_ACTION_OFF:
	case FENCE_ACTION_REBOOT:
		if (!pools_open(&p, args, error) || !target_id(&p, port, &id, error) ||
		    !target_watchdog_ok(args, port, error))
			return EXIT_FAIL;
		return fence_off(&p, port, id, args, error);
	}
	g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT, "unsupported action");
	return EXIT_FAIL;
}

static void print_metadata(void)
{
	fputs("<?xml version=\"1.0\" ?>\n"
	      "<resource-agent name=\"" AGENT
	      "\" shortdesc=\"Storage fencing: waits until sanlock shows the host dead on "
	      "every pool\">\n"
	      "<longdesc>fence_ics_storage does not act on the target. It reports the target "
	      "fenced only when no ICS pool of the cluster (the CIB's ocf:ics:pool resources) "
	      "holds a lease of it: on each pool the local sanlock daemon shows it DEAD (no "
	      "disk heartbeat for 8 x io_timeout + 60 s; sanlock then frees its leases) or its "
	      "delta lease reads free. Use it as a further fencing level where no power "
	      "fencing exists. It is slow by nature: 68 s at io_timeout 1, 140 s at 10; set "
	      "pcmk_off_timeout and pcmk_reboot_timeout to at least 8 x io_timeout + 60 + 30 "
	      "seconds. It is safe only with a hardware watchdog (wdmd) on the target: "
	      "without one nothing guarantees that a hung host stopped writing; off and "
	      "reboot refuse unless the target published the node attribute "
	      "ics-sanlock-watchdog=1 (ocf:ics:pool start does). It proves nothing about "
	      "resources that are not under a lease. 'on' does nothing (the host rejoins its "
	      "pools by itself).</longdesc>\n"
	      "<vendor-url>https://example.invalid/ics</vendor-url>\n"
	      "<parameters>\n"
	      "\t<parameter name=\"action\" unique=\"0\" required=\"1\">\n"
	      "\t\t<getopt mixed=\"-o, --action=[action]\" />\n"
	      "\t\t<content type=\"string\" default=\"reboot\" />\n"
	      "\t\t<shortdesc lang=\"en\">Fencing action</shortdesc>\n"
	      "\t</parameter>\n"
	      "\t<parameter name=\"port\" unique=\"0\" required=\"0\">\n"
	      "\t\t<getopt mixed=\"-n, --plug=[name]\" />\n"
	      "\t\t<content type=\"string\" />\n"
	      "\t\t<shortdesc lang=\"en\">Cluster node to fence (its sanlock host name, or a "
	      "host_map entry)</shortdesc>\n"
	      "\t</parameter>\n"
	      "\t<parameter name=\"plug\" unique=\"0\" required=\"0\" obsoletes=\"port\">\n"
	      "\t\t<getopt mixed=\"-n, --plug=[name]\" />\n"
	      "\t\t<content type=\"string\" />\n"
	      "\t\t<shortdesc lang=\"en\">Cluster node to fence (alias of port)</shortdesc>\n"
	      "\t</parameter>\n"
	      "\t<parameter name=\"pools\" unique=\"0\" required=\"0\">\n"
	      "\t\t<getopt mixed=\"--pools=[paths]\" />\n"
	      "\t\t<content type=\"string\" />\n"
	      "\t\t<shortdesc lang=\"en\">Extra pool paths to prove (space-separated), on top of "
	      "every ocf:ics:pool resource of the CIB and every ICS lockspace this node has "
	      "joined; never a restriction</shortdesc>\n"
	      "\t</parameter>\n"
	      "\t<parameter name=\"host_map\" unique=\"0\" required=\"0\">\n"
	      "\t\t<getopt mixed=\"--host-map=[map]\" />\n"
	      "\t\t<content type=\"string\" />\n"
	      "\t\t<shortdesc lang=\"en\">Node to sanlock host id map, e.g. \"node1:1 "
	      "node2:2\"; default: the node's id in corosync's node list</shortdesc>\n"
	      "\t</parameter>\n"
	      "\t<parameter name=\"wait\" unique=\"0\" required=\"0\">\n"
	      "\t\t<getopt mixed=\"--wait=[yes|no]\" />\n"
	      "\t\t<content type=\"boolean\" default=\"yes\" />\n"
	      "\t\t<shortdesc lang=\"en\">off/reboot: poll every second until the host is dead "
	      "on every pool (yes) or answer from one look (no)</shortdesc>\n"
	      "\t</parameter>\n"
	      "\t<parameter name=\"power_timeout\" unique=\"0\" required=\"0\">\n"
	      "\t\t<getopt mixed=\"--power-timeout=[seconds]\" />\n"
	      "\t\t<content type=\"second\" />\n"
	      "\t\t<shortdesc lang=\"en\">Seconds off/reboot wait at most; default: 8 x "
	      "io_timeout + 60 + 30 of the slowest pool</shortdesc>\n"
	      "\t</parameter>\n"
	      "\t<parameter name=\"unsafe_no_watchdog\" unique=\"0\" required=\"0\">\n"
	      "\t\t<getopt mixed=\"--unsafe-no-watchdog=[yes|no]\" />\n"
	      "\t\t<content type=\"boolean\" default=\"no\" />\n"
	      "\t\t<shortdesc lang=\"en\">Test labs only: act although the target's sanlock runs "
	      "without a watchdog, or never published whether it does (then a hung host is "
	      "not certainly dead)</shortdesc>\n"
	      "\t</parameter>\n"
	      "\t<parameter name=\"verbose\" unique=\"0\" required=\"0\">\n"
	      "\t\t<getopt mixed=\"-v, --verbose\" />\n"
	      "\t\t<content type=\"boolean\" />\n"
	      "\t\t<shortdesc lang=\"en\">Verbose mode</shortdesc>\n"
	      "\t</parameter>\n"
	      "</parameters>\n"
	      "<actions>\n"
	      "\t<action name=\"on\" automatic=\"0\" />\n"
	      "\t<action name=\"off\" />\n"
	      "\t<action name=\"reboot\" />\n"
	      "\t<action name=\"status\" />\n"
	      "\t<action name=\"list\" />\n"
	      "\t<action name=\"monitor\" />\n"
	      "\t<action name=\"metadata\" />\n"
	      "\t<action name=\"validate-all\" />\n"
	      "</actions>\n"
	      "</resource-agent>\n",
	      stdout);
}

static void print_usage(void)
{
	printf("Usage: " AGENT " [-o ACTION] [-n NODE] [--pools 'P1 P2'] [--host-map 'n1:1 n2:2']\n"
	       "       [--wait yes|no] [--power-timeout S] [--unsafe-no-watchdog yes|no] [-v]\n"
	       "       " AGENT " < key=value lines (action, port, pools, host_map, wait, "
	       "power_timeout, unsafe_no_watchdog)\n"
	       "\n"
	       "Storage fencing: off/reboot succeed once no ICS pool of the cluster (the CIB's\n"
	       "ocf:ics:pool resources, the lockspaces joined here, --pools) holds a lease of\n"
	       "NODE: DEAD for the local sanlock or free on disk on every one; they refuse\n"
	       "unless NODE published ics-sanlock-watchdog=1. on does nothing; status is ON\n"
	       "while NODE renews.\n"
	       "Exit status: 0 success (status: on), 1 failure, 2 status: off.\n");
}

int main(int argc, char **argv)
{
	return fence_agent_main(AGENT, params, print_usage, run_action, argc, argv);
}
