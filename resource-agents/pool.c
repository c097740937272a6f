/*
 * pool.c: ocf:ics:pool, a shared storage pool on every node (run as a clone).
 *
 * start makes the pool's storage available (a directory as is, an NFS
 * export mounted, block pools designed but refused), checks that the path
 * holds the expected pool (pool.json uuid), and joins the pool's sanlock
 * lockspace with host id = corosync node id.  monitor checks that the
 * storage answers within monitor_timeout (in a child process, so a hung NFS
 * server cannot hang the agent) and that this host's own disk heartbeat
 * renews.  stop leaves the lockspace, refusing while VMs of this node hold
 * leases there, except after the heartbeat was lost: then it is a "soft
 * unmount" (white paper 4.3.2.3) that succeeds, so the node loses this pool
 * only and is not fenced for a failed stop.  The decisions are in
 * pool_health.c and pool_config.c; this file gathers the facts.
 *
 * A small marker file per pool in ICS_POOL_STATE_DIR (default
 * /run/ics/pool) records that start ran and with which host id: monitor and
 * stop must answer even when the storage does not.
 *
 * start also publishes whether this node's sanlock runs with a watchdog, as
 * the permanent node attribute ics-sanlock-watchdog (1 or 0; 0 as well when
 * the daemon cannot tell): storage fencing of this node is safe only with
 * one, and when this node is being fenced it cannot be asked
 * (fence_ics_storage reads the attribute; docs/storage-fencing.md).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "ics/error.h"
#include "ics/exec.h"
#include "ics/lock.h"
#include "ocf.h"
#include "pool_config.h"
#include "pool_health.h"

#define DEFAULT_STATE_DIR "/run/ics/pool"
#define CRM_NODE_TIMEOUT_MS 10000

static const OcfParam pool_params[] = {
	{ "name", OCF_TYPE_STRING, NULL, TRUE, TRUE, "Pool name",
	  "Name of the pool as given to 'ics-lease init' (a-z, 0-9, '_', '-'; at most 40). "
	  "The lockspace is ics-<name>." },
	{ "path", OCF_TYPE_STRING, NULL, TRUE, TRUE, "Mount point of the pool",
	  "Directory where the pool is available on every node, e.g. /srv/ics/pools/shared. "
	  "Its .ics/ subdirectory holds pool.json, the lockspace (ids) and the leases." },
	{ "type", OCF_TYPE_STRING, "dir", FALSE, FALSE, "Pool type: dir, nfs or block",
	  "dir: path is used as it is (it must exist and be a directory on shared storage "
	  "mounted by other means). nfs: source is mounted at path with options when not "
	  "mounted yet, and unmounted on stop. block: a shared block device; designed in "
	  "(validate-all checks source is a block device) but start returns "
	  "OCF_ERR_CONFIGURED \"block pools are not supported yet\"." },
	{ "source", OCF_TYPE_STRING, NULL, FALSE, FALSE, "What to mount (nfs, block)",
	  "nfs: server:/export. block: the block device path. Not allowed for dir." },
	{ "options", OCF_TYPE_STRING, NULL, FALSE, FALSE, "Mount options (nfs)",
	  "Options passed to mount -o, e.g. vers=4.2,hard,timeo=600." },
	{ "uuid", OCF_TYPE_STRING, NULL, FALSE, TRUE, "Expected pool uuid",
	  "When set, the pool found at path must carry this uuid in .ics/pool.json; "
	  "otherwise the path is not the shared pool (a local directory, a different "
	  "export) and start fails with OCF_ERR_CONFIGURED. Strongly recommended." },
	{ "host_id", OCF_TYPE_INTEGER, NULL, FALSE, FALSE, "sanlock host id (1..2000)",
	  "Host id of this node in the lockspace. Default: the corosync node id, from "
	  "crm_node -i. Set it only in tests: two nodes with one id corrupt the lockspace." },
	{ "monitor_timeout", OCF_TYPE_INTEGER, "10", FALSE, FALSE,
	  "Seconds a storage probe may take",
	  "monitor and start read .ics/pool.json in a child process; when it takes longer "
	  "than this the storage counts as unreachable. Keep it below the monitor "
	  "operation's timeout." },
	{ "force_stop", OCF_TYPE_BOOLEAN, "false", FALSE, FALSE,
	  "Leave even while this node holds leases",
	  "By default stop refuses (OCF_ERR_GENERIC) while processes of this node, i.e. "
	  "VMs, hold leases on the pool: order the VMs after the pool clone so Pacemaker "
	  "stops them first. With force_stop=true sanlock kills the holders." },
	{ NULL, 0, NULL, FALSE, FALSE, NULL, NULL },
};

static int pool_start(const OcfAgent *agent);
static int pool_stop(const OcfAgent *agent);
static int pool_monitor(const OcfAgent *agent);
static int pool_validate(const OcfAgent *agent);

static const OcfAction pool_actions[] = {
	{ "start", pool_start, 60, 0, -1 },    { "stop", pool_stop, 60, 0, -1 },
	{ "monitor", pool_monitor, 30, 5, 0 }, { "validate-all", pool_validate, 20, 0, -1 },
	{ "meta-data", NULL, 5, 0, -1 },       { NULL, NULL, 0, 0, 0 },
};

static const OcfAgent pool_agent = {
	.name = "pool",
	.version = PACKAGE_VERSION,
	.shortdesc = "ICS shared storage pool and its sanlock lockspace",
	.longdesc =
		"Makes an ICS storage pool available on a node and joins the pool's sanlock "
		"lockspace (host id = corosync node id), so that VMs on the pool can take "
		"their disk leases. Run it as a clone, one instance per node. start also "
		"publishes whether this node's sanlock runs with a watchdog (node attribute "
		"ics-sanlock-watchdog, 1 or 0), which storage fencing of this node requires.\n"
		"monitor: the storage answers (a bounded read of .ics/pool.json in a child "
		"process) and this host's disk heartbeat renews (sanlock reports it alive, last "
		"renewal at most 4 x io_timeout + 2 s ago). Otherwise OCF_ERR_GENERIC with "
		"\"heartbeat of host N not renewed\".\n"
		"stop: leaves the lockspace; refuses while VMs of this node hold leases there "
		"unless force_stop=true. Soft unmount (white paper 4.3.2.3): when the "
		"heartbeat is already lost (storage unreachable, or sanlock no longer renews) "
		"stop leaves with force and succeeds: sanlock has killed or is killing the "
		"lease holders, the node loses this pool only, its VMs are recovered "
		"elsewhere, and the node is not fenced for a failed stop.\n"
		"Types: dir and nfs are implemented; block is designed (validate-all) but "
		"start refuses it: block pools are not supported yet.\n"
		"Recommended: op monitor interval=5s timeout=30s on-fail=restart; op start "
		"timeout=60s; op stop timeout=60s; clone meta interleave=true; meta "
		"migration-threshold=1 so that a node that lost the pool does not retry in a "
		"loop (clear with crm_resource --cleanup once the storage is back). Order and "
		"colocate the VMs after the clone.",
	.params = pool_params,
	.actions = pool_actions,
};

/* ---- gathering facts -------------------------------------------------- */

static const char *lookup_env(const char *name, gpointer data)
{
	return ocf_param((const OcfAgent *)data, name);
}

static int load_config(const OcfAgent *agent, PoolConfig *cfg)
{
	g_autoptr(GError) error = NULL;

	if (!pool_config_parse(cfg, lookup_env, (gpointer)agent, &error)) {
		ocf_exit_reason("%s", error->message);
		return OCF_ERR_CONFIGURED;
	}
	return OCF_SUCCESS;
}

static char *marker_path(const PoolConfig *cfg)
{
	const char *dir = getenv("ICS_POOL_STATE_DIR");
	g_autofree char *file = g_strconcat(cfg->name, ".started", NULL);

	return g_build_filename(dir && dir[0] ? dir : DEFAULT_STATE_DIR, file, NULL);
}

/* Was start run?  Fills the host id it used and the time since. */
static gboolean marker_read(const PoolConfig *cfg, guint64 *host_id, gint64 *age_s)
{
	g_autofree char *path = marker_path(cfg);
	g_autofree char *text = NULL;
	struct stat st;

	if (stat(path, &st) < 0 || !g_file_get_contents(path, &text, NULL, NULL))
		return FALSE;
	*age_s = MAX((gint64)0, (gint64)time(NULL) - (gint64)st.st_mtime);
	if (!pool_parse_node_id(text, host_id, NULL))
		*host_id = 0;
	return TRUE;
}

static gboolean marker_write(const PoolConfig *cfg, guint64 host_id, GError **error)
{
	g_autofree char *path = marker_path(cfg);
	g_autofree char *dir = g_path_get_dirname(path);
	g_autofree char *text = g_strdup_printf("%" G_GUINT64_FORMAT "\n", host_id);
	g_autoptr(GError) ferr = NULL;

	if (g_mkdir_with_parents(dir, 0755) < 0) {
		ics_error_set_errno(error, errno, "cannot create %s", dir);
		return FALSE;
	}
	if (!g_file_set_contents(path, text, -1, &ferr)) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_IO, "%s", ferr->message);
		return FALSE;
	}
	return TRUE;
}

static void marker_remove(const PoolConfig *cfg)
{
	g_autofree char *path = marker_path(cfg);

	if (g_unlink(path) < 0 && errno != ENOENT)
		ocf_log(ICS_LOG_WARNING, "cannot remove %s: %s", path, g_strerror(errno));
}

/* This node's host id: the parameter, else crm_node -i. */
static gboolean resolve_host_id(const PoolConfig *cfg, guint64 *id, GError **error)
{
	const char *argv[] = { "crm_node", "-i", NULL };
	g_autofree char *out = NULL;

	if (cfg->host_id != 0) {
		*id = cfg->host_id;
		return TRUE;
	}
	if (!ics_exec_simple(argv, CRM_NODE_TIMEOUT_MS, &out, error)) {
		ics_error_prefix(error, "cannot learn this node's corosync node id: ");
		return FALSE;
	}
	if (!pool_parse_node_id(out, id, error)) {
		ics_error_prefix(error, "crm_node -i: ");
		return FALSE;
	}
	return TRUE;
}

/* Fill @f; *@pool is the opened pool when the storage answered. */
static void gather_facts(const PoolConfig *cfg, PoolFacts *f, IcsPool **pool, char **unreachable)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) hosts = NULL;
	guint64 marker_id = 0;

	memset(f, 0, sizeof(*f));
	f->pool = cfg->name;
	f->started_age_s = -1;
	f->self_age_s = -1;
	f->joined = -1;
	f->io_timeout = ICS_LOCK_DEFAULT_IO_TIMEOUT;
	f->started = marker_read(cfg, &marker_id, &f->started_age_s);
	f->host_id = marker_id ? marker_id : cfg->host_id;
	*pool = NULL;
	*unreachable = NULL;

	if (!pool_probe_storage(cfg->path, cfg->monitor_timeout_s * 1000, &error)) {
		*unreachable = g_strconcat("storage unreachable: ", error->message, NULL);
		f->unreachable = *unreachable;
		return;
	}
	f->reachable = TRUE;
	*pool = ics_pool_open(cfg->path, cfg->uuid, &error);
	if (*pool == NULL) {
		*unreachable = g_strdup(error->message);
		f->unreachable = *unreachable;
		f->reachable = FALSE;
		return;
	}
	f->io_timeout = ics_pool_io_timeout(*pool);
	if (f->host_id == 0 && !resolve_host_id(cfg, &f->host_id, &error)) {
		ocf_log(ICS_LOG_WARNING, "%s", error->message);
		return;
	}
	f->joined = ics_pool_joined(*pool, f->host_id, &error);
	if (f->joined < 0) {
		ocf_log(ICS_LOG_WARNING, "pool %s: %s", cfg->name, error->message);
		return;
	}
	if (f->joined == 0)
		return;
	hosts = ics_pool_hosts(*pool, &error);
	if (hosts == NULL) {
		if (g_error_matches(error, ICS_ERROR, ICS_ERROR_BUSY)) {
			f->hosts_busy = TRUE;
		} else {
			ocf_log(ICS_LOG_WARNING, "pool %s: %s", cfg->name, error->message);
			f->joined = -1;
		}
		return;
	}
	for (guint i = 0; i < hosts->len; i++) {
		const IcsHostInfo *h = g_ptr_array_index(hosts, i);

		if (h->host_id != f->host_id)
			continue;
		f->self_seen = TRUE;
		f->self_state = h->state;
		f->self_age_s = h->age_s;
	}
}

/* ---- NFS -------------------------------------------------------------- */

/* Is something mounted exactly at @path?  (/proc/self/mountinfo, field 5,
 * with mount(8)'s octal escapes for blanks.) */
static gboolean is_mounted(const char *path)
{
	g_autofree char *text = NULL;
	g_auto(GStrv) lines = NULL;

	if (!g_file_get_contents("/proc/self/mountinfo", &text, NULL, NULL))
		return FALSE;
	lines = g_strsplit(text, "\n", -1);
	for (char **l = lines; *l != NULL; l++) {
		g_auto(GStrv) fields = g_strsplit(*l, " ", 6);
		g_autofree char *mnt = NULL;

		if (g_strv_length(fields) < 5)
			continue;
		mnt = g_strcompress(fields[4]);
		if (strcmp(mnt, path) == 0)
			return TRUE;
	}
	return FALSE;
}

static gboolean run_tool(const char *const *argv, guint timeout_ms, GError **error)
{
	IcsExecOptions opts = { .argv = argv, .timeout_ms = timeout_ms };
	g_auto(IcsExecResult) res = { 0 };

	return ics_exec_run(&opts, &res, error) && ics_exec_check_exit(&res, argv[0], error);
}

static gboolean nfs_mount(const PoolConfig *cfg, guint timeout_ms, GError **error)
{
	const char *argv[] = { "mount",	     "-t",	  "nfs",     "-o",
			       cfg->options, cfg->source, cfg->path, NULL };

	if (is_mounted(cfg->path))
		return TRUE;
	if (g_mkdir_with_parents(cfg->path, 0755) < 0) {
		ics_error_set_errno(error, errno, "cannot create mount point %s", cfg->path);
		return FALSE;
	}
	if (cfg->options == NULL) {
		argv[3] = cfg->source;
		argv[4] = cfg->path;
		argv[5] = NULL;
	}
	ocf_log(ICS_LOG_INFO, "mounting %s at %s", cfg->source, cfg->path);
	return run_tool(argv, timeout_ms, error);
}

static gboolean nfs_umount(const PoolConfig *cfg, gboolean lazy, guint timeout_ms, GError **error)
{
	const char *plain[] = { "umount", cfg->path, NULL };
	const char *forced[] = { "umount", "-f", "-l", cfg->path, NULL };

	if (!is_mounted(cfg->path))
		return TRUE;
	return run_tool(lazy ? forced : plain, timeout_ms, error);
}

/* ---- actions ---------------------------------------------------------- */

static int rc_for_open_error(const GError *error)
{
	if (g_error_matches(error, ICS_ERROR, ICS_ERROR_CONFLICT) ||
	    g_error_matches(error, ICS_ERROR, ICS_ERROR_PARSE))
		return OCF_ERR_CONFIGURED;
	if (g_error_matches(error, ICS_ERROR, ICS_ERROR_NOT_FOUND))
		return OCF_ERR_INSTALLED;
	return OCF_ERR_GENERIC;
}

#define WATCHDOG_ATTR "ics-sanlock-watchdog"

/* Set this node's permanent attribute @name to @value unless it has it. */
static void node_attr_publish(const char *pool, const char *name, const char *value)
{
	const char *node_argv[] = { "crm_node", "-n", NULL };
	g_autofree char *node = NULL, *have = NULL;
	g_autoptr(GError) error = NULL;

	if (!ics_exec_simple(node_argv, CRM_NODE_TIMEOUT_MS, &node, &error) ||
	    g_strstrip(node)[0] == '\0') {
		ocf_log(ICS_LOG_WARNING,
			"pool %s: cannot publish %s: this node's name is unknown%s%s", pool, name,
			error ? ": " : "", error ? error->message : "");
		return;
	}
	const char *query[] = { "crm_attribute", "--type", "nodes",   "--node",	 node,
				"--name",	 name,	   "--query", "--quiet", NULL };
	if (ics_exec_simple(query, CRM_NODE_TIMEOUT_MS, &have, NULL) &&
	    strcmp(g_strstrip(have), value) == 0)
		return;
	const char *update[] = { "crm_attribute", "--type", "nodes",	"--node", node,
				 "--name",	  name,	    "--update", value,	  NULL };
	if (!ics_exec_simple(update, CRM_NODE_TIMEOUT_MS, NULL, &error))
		ocf_log(ICS_LOG_WARNING,
			"pool %s: cannot publish %s=%s for %s: %s; storage fencing of this node "
			"will refuse",
			pool, name, value, node, error->message);
}

/*
 * The health alarm of docs/storage-fencing.md: sanlock's expiry and storage
 * fencing assume that a host whose heartbeat stops is reset by its
 * watchdog.  A host without one is told so at every pool start (not a
 * failure: the lab runs without a watchdog device), and publishes it for
 * the storage fencing of this node.
 */
static void publish_watchdog(const char *pool)
{
	g_autoptr(GError) error = NULL;
	gboolean on = FALSE;

	if (!ics_sanlock_watchdog(&on, &error))
		ocf_log(ICS_LOG_WARNING, "pool %s: %s", pool, error->message);
	else if (!on)
		ocf_log(ICS_LOG_WARNING,
			"pool %s: the local sanlock daemon runs WITHOUT A WATCHDOG: a host whose "
			"heartbeat stopped is not certainly dead, so storage fencing refuses and "
			"sanlock's own expiry is unsafe; run wdmd with a watchdog device "
			"(docs/storage-fencing.md)",
			pool);
	node_attr_publish(pool, WATCHDOG_ATTR, on ? "1" : "0");
}

static int pool_start(const OcfAgent *agent)
{
	g_auto(PoolConfig) cfg = { 0 };
	g_autoptr(IcsPool) pool = NULL;
	g_autoptr(GError) error = NULL;
	guint timeout_ms = ocf_timeout_ms(60000);
	guint64 host_id = 0;
	int rc = load_config(agent, &cfg);

	if (rc != OCF_SUCCESS)
		return rc;
	switch (cfg.type) {
	case POOL_TYPE_BLOCK:
		ocf_exit_reason("pool %s: block pools are not supported yet", cfg.name);
		return OCF_ERR_CONFIGURED;
	case POOL_TYPE_NFS:
		if (!nfs_mount(&cfg, timeout_ms / 2, &error)) {
			ocf_exit_reason("pool %s: cannot mount %s at %s: %s", cfg.name, cfg.source,
					cfg.path, error->message);
			return OCF_ERR_GENERIC;
		}
		break;
	case POOL_TYPE_DIR:
		break;
	}
	if (!pool_probe_storage(cfg.path, cfg.monitor_timeout_s * 1000, &error)) {
		ocf_exit_reason("pool %s: %s", cfg.name, error->message);
		return g_error_matches(error, ICS_ERROR, ICS_ERROR_NOT_FOUND) ? OCF_ERR_INSTALLED
									      : OCF_ERR_GENERIC;
	}
	pool = ics_pool_open(cfg.path, cfg.uuid, &error);
	if (pool == NULL) {
		ocf_exit_reason("pool %s: %s", cfg.name, error->message);
		return rc_for_open_error(error);
	}
	if (!resolve_host_id(&cfg, &host_id, &error)) {
		ocf_exit_reason("pool %s: %s", cfg.name, error->message);
		return OCF_ERR_GENERIC;
	}
	/* The marker first: if the join times out, stop still cleans up. */
	if (!marker_write(&cfg, host_id, &error)) {
		ocf_exit_reason("pool %s: cannot record the start: %s", cfg.name, error->message);
		return OCF_ERR_GENERIC;
	}
	/* A leave of the same lockspace may still be finishing (after a lost
	 * heartbeat sanlock removes the lockspace itself): retry while the
	 * operation's timeout allows, keeping 5 s to report. */
	gint64 deadline = g_get_monotonic_time() +
			  ((gint64)ocf_timeout_ms(60000) - 5000) * G_TIME_SPAN_MILLISECOND;
	while (!ics_pool_join(pool, host_id, &error) &&
	       g_error_matches(error, ICS_ERROR, ICS_ERROR_BUSY) &&
	       g_get_monotonic_time() < deadline) {
		ocf_log(ICS_LOG_INFO, "pool %s: %s", cfg.name, error->message);
		g_clear_error(&error);
		g_usleep(500 * G_TIME_SPAN_MILLISECOND);
	}
	if (error) {
		ocf_exit_reason("pool %s: cannot join lockspace %s as host %" G_GUINT64_FORMAT
				": %s",
				cfg.name, ics_pool_lockspace(pool), host_id, error->message);
		return g_error_matches(error, ICS_ERROR, ICS_ERROR_CONFLICT) ? OCF_ERR_CONFIGURED
									     : OCF_ERR_GENERIC;
	}
	ocf_log(ICS_LOG_INFO, "pool %s at %s: joined lockspace %s as host %" G_GUINT64_FORMAT,
		cfg.name, cfg.path, ics_pool_lockspace(pool), host_id);
	publish_watchdog(cfg.name);
	return OCF_SUCCESS;
}

static int pool_monitor(const OcfAgent *agent)
{
	g_auto(PoolConfig) cfg = { 0 };
	g_autoptr(IcsPool) pool = NULL;
	g_autofree char *unreachable = NULL;
	g_autofree char *reason = NULL;
	PoolFacts facts;
	int rc = load_config(agent, &cfg);

	if (rc != OCF_SUCCESS)
		return rc;
	gather_facts(&cfg, &facts, &pool, &unreachable);
	rc = pool_monitor_decide(&facts, &reason);
	if (reason != NULL && !(rc == OCF_NOT_RUNNING && ocf_is_probe()))
		ocf_exit_reason("%s", reason);
	return rc;
}

static int pool_stop(const OcfAgent *agent)
{
	g_auto(PoolConfig) cfg = { 0 };
	g_autoptr(IcsPool) pool = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *unreachable = NULL;
	g_autofree char *reason = NULL;
	guint timeout_ms = ocf_timeout_ms(60000);
	PoolFacts facts;
	PoolStopPlan plan;
	int rc = load_config(agent, &cfg);

	if (rc != OCF_SUCCESS)
		return rc;
	gather_facts(&cfg, &facts, &pool, &unreachable);
	plan = pool_stop_plan(&facts, cfg.force_stop);
	ocf_log(ICS_LOG_INFO, "pool %s: stop plan %s", cfg.name, pool_stop_plan_name(plan));
	switch (plan) {
	case POOL_STOP_NOTHING:
		break;
	case POOL_STOP_LEAVE:
	case POOL_STOP_LEAVE_FORCE:
		ics_pool_leave(pool, facts.host_id, plan == POOL_STOP_LEAVE_FORCE, &error);
		break;
	case POOL_STOP_SOFT_UNMOUNT: {
		g_autofree char *why = NULL;

		pool_monitor_decide(&facts, &why);
		ocf_log(ICS_LOG_WARNING,
			"soft unmount: %s; leaving with force (sanlock kills this node's lease "
			"holders); this node loses pool %s only",
			why ? why : "heartbeat lost", cfg.name);
		if (pool != NULL && facts.host_id != 0 &&
		    !ics_pool_leave(pool, facts.host_id, TRUE, &error))
			ocf_log(ICS_LOG_WARNING,
				"pool %s: forced leave failed (%s); sanlock "
				"drops the lockspace by itself once renewals fail",
				cfg.name, error->message);
		g_clear_error(&error);
		break;
	}
	}
	rc = pool_stop_outcome(&facts, plan, error, &reason);
	if (rc != OCF_SUCCESS) {
		ocf_exit_reason("%s", reason);
		return rc;
	}
	if (cfg.type == POOL_TYPE_NFS) {
		g_clear_error(&error);
		if (!nfs_umount(&cfg, plan == POOL_STOP_SOFT_UNMOUNT, timeout_ms / 2, &error)) {
			ocf_exit_reason("pool %s: left the lockspace but cannot unmount %s: %s",
					cfg.name, cfg.path, error->message);
			return OCF_ERR_GENERIC;
		}
	}
	marker_remove(&cfg);
	return OCF_SUCCESS;
}

static int pool_validate(const OcfAgent *agent)
{
	g_auto(PoolConfig) cfg = { 0 };
	struct stat st;
	int rc = load_config(agent, &cfg);

	if (rc != OCF_SUCCESS)
		return rc;
	if (cfg.type == POOL_TYPE_BLOCK && (stat(cfg.source, &st) < 0 || !S_ISBLK(st.st_mode))) {
		ocf_exit_reason("pool %s: source %s is not a block device", cfg.name, cfg.source);
		return OCF_ERR_INSTALLED;
	}
	if (cfg.type == POOL_TYPE_DIR && (stat(cfg.path, &st) < 0 || !S_ISDIR(st.st_mode))) {
		ocf_exit_reason("pool %s: path %s is not a directory on this node", cfg.name,
				cfg.path);
		return OCF_ERR_INSTALLED;
	}
	return OCF_SUCCESS;
}

int main(int argc, char **argv)
{
	return ocf_main(&pool_agent, argc, argv);
}
