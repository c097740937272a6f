/*
 * fence_ics_storage.c: storage fencing, a fence agent for a second fencing
 * level where no power fencing exists.
 *
 * It never touches the target.  It reports a host fenced only when the
 * local sanlock daemon shows that host DEAD (no delta-lease renewal for
 * 8 x io_timeout + 60 s: sanlock itself then treats the host's leases as
 * free) or FREE (left cleanly) on every pool the host had joined.  A host
 * that cannot renew on a pool is killed by its own sanlock/watchdog
 * (wdmd) before that point, so by then it holds no lease and writes to no
 * VM disk.  This is only safe with a hardware watchdog: without one (the
 * lab) nothing guarantees that a hung host is dead.  See
 * docs/storage-fencing.md for the timing and the configuration.
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

#include "fence_args.h"
#include "ics/error.h"
#include "ics/lock.h"
#include "ics/log.h"

#define AGENT "fence_ics_storage"
#define DEFAULT_POOLS_DIR "/srv/ics/pools"
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
	{ "verbose", NULL, FALSE, 'v', "verbose", TRUE },
	{ NULL, NULL, FALSE, 0, NULL, FALSE },
};

/* ---- the decision ----------------------------------------------------- */

/* What one pool says about the target. */
typedef struct {
	const char *pool;    /* path, for messages */
	gboolean readable;   /* the local daemon listed the pool's hosts */
	const char *error;   /* why not, when !readable */
	gboolean seen;       /* the target is in the list */
	IcsHostState state;
	gint64 age_s;        /* since the target's last renewal, -1 unknown */
	guint io_timeout;
} TargetOnPool;

typedef enum {
	STORAGE_FENCED,      /* dead or free on every pool it joined */
	STORAGE_WAIT,        /* alive, failing, unknown, or a pool unreadable */
	STORAGE_NEVER_SEEN,  /* on no pool at all: nothing can be confirmed */
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

/*
 * The verdict for @node from @n pools.  *why (may be NULL) gets one
 * sentence: what is still awaited, or why nothing can be confirmed.
 */
static StorageVerdict storage_fence_decide(const char *node, const TargetOnPool *v, guint n,
					   char **why)
{
	g_autoptr(GString) wait = g_string_new(NULL);
	guint seen = 0;

	for (guint i = 0; i < n; i++) {
		if (!v[i].readable) {
			g_string_append_printf(wait, "%spool %s unreadable (%s)",
					       wait->len ? "; " : "", v[i].pool,
					       v[i].error ? v[i].error : "?");
			continue;
		}
		if (!v[i].seen)
			continue;
		seen++;
		if (v[i].state == ICS_HOST_DEAD || v[i].state == ICS_HOST_FREE)
			continue;
		if (v[i].age_s >= 0) {
			gint64 left = (gint64)dead_after_s(v[i].io_timeout) - v[i].age_s;

			g_string_append_printf(wait,
					       "%s%s on %s, last renewal %" G_GINT64_FORMAT
					       " s ago, dead in ~%" G_GINT64_FORMAT " s",
					       wait->len ? "; " : "", ics_host_state_name(v[i].state),
					       v[i].pool, v[i].age_s, MAX(left, (gint64)0));
		} else {
			g_string_append_printf(wait, "%s%s on %s", wait->len ? "; " : "",
					       ics_host_state_name(v[i].state), v[i].pool);
		}
	}
	if (wait->len > 0) {
		if (why != NULL)
			*why = g_strdup_printf("%s: %s", node, wait->str);
		return STORAGE_WAIT;
	}
	if (seen == 0) {
		if (why != NULL)
			*why = g_strdup_printf("%s was never seen on any of the %u pool(s): "
					       "storage fencing cannot confirm anything (wrong "
					       "port, host_map or pools?)",
					       node, n);
		return STORAGE_NEVER_SEEN;
	}
	if (why != NULL)
		*why = g_strdup_printf("%s is dead or gone on all %u pool(s) it joined", node,
				       seen);
	return STORAGE_FENCED;
}

/* Power status: ON while the target renews anywhere (0), OFF when it is
 * dead or free on all the pools it joined (2), unknown otherwise (1). */
static int storage_power_status(const TargetOnPool *v, guint n)
{
	gboolean any_unknown = FALSE;
	guint seen = 0;

	for (guint i = 0; i < n; i++) {
		if (!v[i].readable) {
			any_unknown = TRUE;
			continue;
		}
		if (!v[i].seen)
			continue;
		seen++;
		if (v[i].state == ICS_HOST_ALIVE || v[i].state == ICS_HOST_FAILING)
			return EXIT_OK;
		if (v[i].state == ICS_HOST_UNKNOWN)
			any_unknown = TRUE;
	}
	return (any_unknown || seen == 0) ? EXIT_FAIL : EXIT_STATUS_OFF;
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
	GPtrArray *paths;    /* char* */
	GPtrArray *pools;    /* IcsPool* or NULL when it could not be opened */
	GPtrArray *errors;   /* char*: why a pool could not be opened, or NULL */
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

/* Every directory under @dir holding .ics/pool.json. */
static GPtrArray *discover_pools(const char *dir, GError **error)
{
	g_autoptr(GDir) d = NULL;
	g_autoptr(GError) derr = NULL;
	GPtrArray *paths = g_ptr_array_new_with_free_func(g_free);
	const char *name;

	d = g_dir_open(dir, 0, &derr);
	if (d == NULL) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND,
			    "no pools given and %s cannot be listed: %s (set pools)", dir,
			    derr->message);
		g_ptr_array_unref(paths);
		return NULL;
	}
	while ((name = g_dir_read_name(d)) != NULL) {
		g_autofree char *path = g_build_filename(dir, name, NULL);
		g_autofree char *meta = g_build_filename(path, ".ics", "pool.json", NULL);

		if (g_file_test(meta, G_FILE_TEST_IS_REGULAR))
			g_ptr_array_add(paths, g_steal_pointer(&path));
	}
	if (paths->len == 0) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND,
			    "no pools given and none found under %s (set pools)", dir);
		g_ptr_array_unref(paths);
		return NULL;
	}
	return paths;
}

static int compare_paths(gconstpointer a, gconstpointer b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static gboolean pools_open(Pools *p, const FenceArgs *args, GError **error)
{
	const char *list = fence_args_get(args, "pools");
	guint64 dummy;

	p->host_map = fence_args_get(args, "host_map");
	if (!host_map_lookup(p->host_map, NULL, &dummy, error))
		return FALSE;
	if (list != NULL && list[0] != '\0') {
		g_auto(GStrv) parts = g_strsplit_set(list, " \t\n,", -1);

		p->paths = g_ptr_array_new_with_free_func(g_free);
		for (char **s = parts; *s != NULL; s++)
			if ((*s)[0] != '\0')
				g_ptr_array_add(p->paths, g_strdup(*s));
	} else {
		const char *dir = getenv("ICS_POOLS_DIR");

		p->paths = discover_pools(dir && dir[0] ? dir : DEFAULT_POOLS_DIR, error);
		if (p->paths == NULL)
			return FALSE;
	}
	if (p->paths->len == 0) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT, "pools is empty");
		return FALSE;
	}
	g_ptr_array_sort(p->paths, compare_paths);
	p->pools = g_ptr_array_new_with_free_func(pool_free_or_null);
	p->errors = g_ptr_array_new_with_free_func(g_free);
	for (guint i = 0; i < p->paths->len; i++) {
		g_autoptr(GError) perr = NULL;
		IcsPool *pool = ics_pool_open(g_ptr_array_index(p->paths, i), NULL, &perr);

		g_ptr_array_add(p->pools, pool);
		g_ptr_array_add(p->errors, pool ? NULL : g_strdup(perr->message));
	}
	return TRUE;
}

/* Ask the local daemon about @node on every pool; fills @facts (one per
 * pool) and the strings they borrow into @keep. */
static void gather(const Pools *p, const char *node, guint64 mapped_id, TargetOnPool *facts,
		   GPtrArray *keep)
{
	for (guint i = 0; i < p->paths->len; i++) {
		IcsPool *pool = g_ptr_array_index(p->pools, i);
		TargetOnPool *f = &facts[i];
		g_autoptr(GError) error = NULL;
		g_autoptr(GPtrArray) hosts = NULL;

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
			char *msg = g_strdup(error->message);

			g_ptr_array_add(keep, msg);
			f->error = msg;
			continue;
		}
		f->readable = TRUE;
		for (guint j = 0; j < hosts->len; j++) {
			const IcsHostInfo *h = g_ptr_array_index(hosts, j);
			gboolean match = mapped_id ? h->host_id == mapped_id
						   : g_strcmp0(h->name, node) == 0;

			if (!match)
				continue;
			f->seen = TRUE;
			f->state = h->state;
			f->age_s = h->age_s;
		}
	}
}

static gboolean target_id(const Pools *p, const char *port, guint64 *id, GError **error)
{
	if (port == NULL || port[0] == '\0') {
		g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT,
			    "no node given (set port=NODE on stdin or use -n NODE)");
		return FALSE;
	}
	if (!host_map_lookup(p->host_map, port, id, error))
		return FALSE;
	if (p->host_map != NULL && *id == 0) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND,
			    "node '%s' is not in host_map '%s'", port, p->host_map);
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

		gather(p, port, id, facts, keep);
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
				    "not fenced%s: %s", wait ? " before the timeout" : " (wait=off)",
				    why);
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
		g_autoptr(GPtrArray) infos = g_ptr_array_new_with_free_func(
			(GDestroyNotify)g_ptr_array_unref);
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
		if (!pools_open(&p, args, error))
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
		gather(&p, port, id, facts, keep);
		status = storage_power_status(facts, p.paths->len);
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
		if (!pools_open(&p, args, error) || !target_id(&p, port, &id, error))
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
	      "fenced only when the local sanlock daemon shows it DEAD (no disk heartbeat for "
	      "8 x io_timeout + 60 s; sanlock then frees its leases) or FREE (left cleanly) on "
	      "every ICS pool it had joined. Use it as a further fencing level where no power "
	      "fencing exists. It is slow by nature: 68 s at io_timeout 1, 140 s at 10; set "
	      "pcmk_off_timeout and pcmk_reboot_timeout to at least 8 x io_timeout + 60 + 30 "
	      "seconds. It is safe only with a hardware watchdog (wdmd) on every host: "
	      "without one nothing guarantees that a hung host stopped writing. 'on' does "
	      "nothing (the host rejoins its pools by itself).</longdesc>\n"
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
	      "\t\t<shortdesc lang=\"en\">Space-separated pool paths; default: every directory "
	      "under " DEFAULT_POOLS_DIR " holding .ics/pool.json</shortdesc>\n"
	      "\t</parameter>\n"
	      "\t<parameter name=\"host_map\" unique=\"0\" required=\"0\">\n"
	      "\t\t<getopt mixed=\"--host-map=[map]\" />\n"
	      "\t\t<content type=\"string\" />\n"
	      "\t\t<shortdesc lang=\"en\">Node to sanlock host id map, e.g. \"node1:1 "
	      "node2:2\"; default: match the host name recorded in the delta "
	      "lease</shortdesc>\n"
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
	       "       [--wait yes|no] [--power-timeout S] [-v]\n"
	       "       " AGENT " < key=value lines (action, port, pools, host_map, wait, "
	       "power_timeout)\n"
	       "\n"
	       "Storage fencing: off/reboot succeed once sanlock shows NODE dead (or gone) on\n"
	       "every ICS pool it joined; on does nothing; status is ON while NODE renews.\n"
	       "Exit status: 0 success (status: on), 1 failure, 2 status: off.\n");
}

int main(int argc, char **argv)
{
	return fence_agent_main(AGENT, params, print_usage, run_action, argc, argv);
}
