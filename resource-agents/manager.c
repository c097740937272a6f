/*
 * manager.c: ocf:ics:manager, ics-managerd as a Pacemaker resource.
 *
 * The manager must survive the loss of its node without losing an
 * acknowledged write (white paper 5.4).  It runs in a group with its state
 * volume and a floating IP; this agent starts, stops and monitors the
 * daemon and guards the one thing the group cannot see: whether this
 * node's copy of the state may be written.
 *
 *  - backend=shared: the database lives on a shared pool.  Only the
 *    holder of the manager's sanlock lease (libicslock, slot named by
 *    lease=) may write it.  The lease belongs to a process, so the agent
 *    forks, the child acquires the lease (fence-aware takeover when the
 *    holder stopped renewing) and then execs ics-managerd: the daemon IS
 *    the lease holder (same pid, registration fd kept across exec, as
 *    `ics-lease hold -- CMD` does).  When the daemon dies the lease goes
 *    with it; if this host loses the pool, sanlock kills the daemon.
 *  - backend=drbd: the database lives on a DRBD volume promoted and
 *    mounted by the resources before this one in the group.  When the
 *    peer manager node is not a cluster member at start, the quorum-disk
 *    decision (manager_quorum.h) must allow starting alone.  start (before
 *    the daemon serves), every monitor, and stop record this node's GIs
 *    on the quorum disk; a monitor that cannot record fails, so a node
 *    that cannot leave a trace does not keep acknowledging writes.
 *
 * The daemon is started in its own session with stdout/stderr appended to
 * RUN_DIR/<instance>.log; RUN_DIR/<instance>.pid holds "PID STARTTIME" so
 * a recycled pid is never mistaken for the daemon.  RUN_DIR is
 * $ICS_MANAGER_RUN_DIR or /run/ics/manager.
 *
 * Health is asked through libicsclient (manager_health.h) with the
 * daemon's public key pinned: the key of tls_cert (the state directory's
 * certificate) as start found it when the daemon first answered, kept in
 * RUN_DIR/<instance>.pin for the monitors.  A certificate replaced on disk
 * while the daemon runs (ics-admin manager cert install, before it
 * restarts the resource) therefore does not fail the monitor of the daemon
 * that still serves the old one; the next start pins the new key.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "drbd_gi.h"
#include "ics/client.h"
#include "ics/error.h"
#include "ics/exec.h"
#include "ics/lock.h"
#include "manager_health.h"
#include "manager_quorum.h"
#include "ocf.h"
#include "quorum_disk.h"

#ifndef ICS_SBINDIR
#define ICS_SBINDIR "/usr/sbin"
#endif
#define DEFAULT_RUN_DIR "/run/ics/manager"
#define CRM_NODE_TIMEOUT_MS 10000
#define KILL_WAIT_MS 10000

static const OcfParam manager_params[] = {
	{ "state_dir", OCF_TYPE_STRING, NULL, TRUE, TRUE, "State directory of ics-managerd",
	  "Passed as --state-dir: holds the database (manager.db) and the TLS certificate "
	  "(tls-cert.pem). backend=drbd: on the Filesystem mounted from the DRBD device; "
	  "backend=shared: on the shared pool." },
	{ "listen", OCF_TYPE_STRING, "0.0.0.0:8443", FALSE, FALSE, "Address and port to serve on",
	  "Passed as --listen ADDR:PORT. The console and API are published on the group's "
	  "floating IP; 0.0.0.0 serves on it whichever node runs the manager. The health check "
	  "connects to this address (127.0.0.1 for 0.0.0.0)." },
	{ "binary", OCF_TYPE_STRING, ICS_SBINDIR "/ics-managerd", FALSE, FALSE,
	  "The ics-managerd program", "Absolute path of the daemon." },
	{ "config", OCF_TYPE_STRING, NULL, FALSE, FALSE, "Configuration file",
	  "Passed as --config FILE when set." },
	{ "tls_names", OCF_TYPE_STRING, NULL, FALSE, FALSE,
	  "Names the generated certificate carries",
	  "Passed as --tls-names: comma-separated host names and IP addresses clients use "
	  "(the floating IP, the manager nodes' names and addresses), besides the host, "
	  "localhost and the loopback addresses. ics-admin manager setup sets it; when it "
	  "changes, the daemon makes its self-signed certificate again at its next start." },
	{ "tls_cert", OCF_TYPE_STRING, NULL, FALSE, FALSE,
	  "Certificate whose key the health check pins",
	  "PEM file of the daemon's certificate. Default: STATE_DIR/tls-cert.pem, the one the "
	  "daemon generates or `ics-admin manager cert install` installs. The check pins its "
	  "public key (as start found it), so it verifies the daemon whatever names the "
	  "certificate carries. Set it when the daemon's [tls] cert is elsewhere." },
	{ "tls_ca", OCF_TYPE_STRING, NULL, FALSE, FALSE,
	  "CA the health check verifies against instead",
	  "PEM CA file: when set, the check verifies the daemon's certificate against it and the "
	  "name \"localhost\" instead of pinning tls_cert's key." },
	{ "health_timeout", OCF_TYPE_INTEGER, "10", FALSE, FALSE,
	  "Seconds the health request may take", "Keep it below the monitor timeout." },
	{ "stop_timeout", OCF_TYPE_INTEGER, "30", FALSE, FALSE,
	  "Seconds between SIGTERM and SIGKILL on stop",
	  "Bounded by the stop operation's timeout minus 5 s." },
	{ "backend", OCF_TYPE_STRING, NULL, TRUE, FALSE, "State backend: drbd or shared",
	  "drbd: the state volume is DRBD (production); the quorum-disk decision guards a "
	  "start without the peer. shared: the state is on a shared pool; the manager's "
	  "sanlock lease guards it." },
	{ "drbd_resource", OCF_TYPE_STRING, "ics-manager", FALSE, FALSE, "DRBD resource name",
	  "Recorded on the quorum disk; used to read GIs with drbdsetup when the volume is "
	  "attached." },
	{ "drbd_minor", OCF_TYPE_STRING, "0", FALSE, FALSE, "DRBD minor (drbdmeta's DEVICE)",
	  "Minor number or /dev/drbdN of the volume." },
	{ "drbd_meta", OCF_TYPE_STRING, NULL, FALSE, FALSE, "DRBD metadata device or file",
	  "The backing device (internal metadata) or metadata device that drbdmeta reads. "
	  "Required for backend=drbd." },
	{ "drbd_meta_index", OCF_TYPE_STRING, "internal", FALSE, FALSE, "drbdmeta metadata index",
	  "internal, flex-external or an index number." },
	{ "drbd_format", OCF_TYPE_STRING, "v09", FALSE, FALSE, "Metadata format: v09 or v08",
	  "v09 for DRBD 9." },
	{ "drbd_peer_id", OCF_TYPE_INTEGER, "1", FALSE, FALSE, "DRBD node id of the peer",
	  "Used with drbdsetup get-gi RESOURCE PEER 0 when drbdmeta cannot read the attached "
	  "volume." },
	{ "quorum_disk", OCF_TYPE_STRING, NULL, FALSE, FALSE, "Quorum disk (file or device)",
	  "Small shared disk or file (>= 16 KiB, zero-filled) on which both manager nodes record "
	  "their DRBD generation identifiers. Required for backend=drbd." },
	{ "peer", OCF_TYPE_STRING, NULL, FALSE, FALSE, "The other manager node",
	  "Cluster node name of the other manager node, or both manager nodes' names "
	  "separated by a comma (node1,node2): the agent takes the one that is not itself, "
	  "so one primitive serves both nodes. Required for backend=drbd." },
	{ "override_quorum", OCF_TYPE_BOOLEAN, "false", FALSE, FALSE,
	  "Start alone without proof (operator only)",
	  "true lets start proceed when the quorum disk cannot prove this node is not behind "
	  "(peer record missing, damaged, possibly stale, clocks disagree). It never starts a "
	  "node that is known to be behind or split-brained. Set it for one start, then "
	  "remove it." },
	{ "record_period", OCF_TYPE_INTEGER, "10", FALSE, FALSE,
	  "Seconds between quorum-disk records",
	  "Must equal the monitor interval: the decision treats two records less than one "
	  "period apart as simultaneous." },
	{ "clock_margin", OCF_TYPE_INTEGER, "2", FALSE, FALSE, "Clock skew allowance (s)",
	  "Allowed difference between the two nodes' clocks." },
	{ "pool", OCF_TYPE_STRING, NULL, FALSE, FALSE, "Shared pool path (backend=shared)",
	  "Mount point of the ICS pool that holds the state and the manager's lease; the "
	  "ocf:ics:pool clone must run on this node." },
	{ "lease", OCF_TYPE_STRING, "ics-manager", FALSE, FALSE, "Lease name (backend=shared)",
	  "Owner name of the manager's lease slot in the pool." },
	{ NULL, 0, NULL, FALSE, FALSE, NULL, NULL },
};

static int manager_start(const OcfAgent *agent);
static int manager_stop(const OcfAgent *agent);
static int manager_monitor(const OcfAgent *agent);
static int manager_validate(const OcfAgent *agent);

static const OcfAction manager_actions[] = {
	{ "start", manager_start, 90, 0, -1 },	   { "stop", manager_stop, 60, 0, -1 },
	{ "monitor", manager_monitor, 30, 10, 0 }, { "validate-all", manager_validate, 20, 0, -1 },
	{ "meta-data", NULL, 5, 0, -1 },	   { NULL, NULL, 0, 0, 0 },
};

static const OcfAgent manager_agent = {
	.name = "manager",
	.version = PACKAGE_VERSION,
	.shortdesc = "ICS manager (ics-managerd) with its state guard",
	.longdesc =
		"Runs ics-managerd, the ICS management server, in a group with its state volume "
		"and an IPaddr2 floating IP on which the console and API are published "
		"(docs/manager-ha.md).\n"
		"monitor: the daemon's process is alive and GET /api/v1/health on the listen "
		"address answers 200 with db \"writable\" (TLS verified by pinning the public key "
		"of tls_cert, by default the state directory's certificate, or against tls_ca); "
		"otherwise OCF_ERR_GENERIC. Not started: OCF_NOT_RUNNING.\n"
		"backend=shared: start acquires the manager's sanlock lease in the pool (taking it "
		"over from a host Pacemaker confirmed fenced) in the process that then becomes "
		"ics-managerd, so only the lease holder can write the database.\n"
		"backend=drbd: when the peer manager node is not a cluster member, start runs the "
		"quorum-disk decision: it starts alone only if this node's DRBD generation "
		"identifiers contain the peer's last recorded current GI, and refuses otherwise "
		"with a reason naming both GIs. start, every monitor and stop record this node's "
		"GIs on the quorum disk; a monitor that cannot record fails.\n"
		"stop: SIGTERM, up to stop_timeout, then SIGKILL.\n"
		"Recommended: op monitor interval=10s timeout=30s (= record_period); op start "
		"timeout=90s; op stop timeout=60s; backend=drbd: also op monitor interval=11s "
		"role=Stopped, so the standby records its GIs too (probes never write), and a "
		"location constraint keeping the group on the two manager nodes.",
	.params = manager_params,
	.actions = manager_actions,
};

/* ---- configuration ---------------------------------------------------- */

typedef enum { BACKEND_DRBD, BACKEND_SHARED } Backend;

typedef struct {
	const char *state_dir, *listen, *binary, *config, *tls_names, *tls_ca;
	char *tls_cert;
	char *connect_host;
	guint port;
	guint64 health_timeout_s, stop_timeout_s;
	Backend backend;
	const char *drbd_resource, *drbd_minor, *drbd_meta, *drbd_meta_index, *drbd_format;
	const char *quorum_disk, *peer;
	guint64 drbd_peer_id, record_period_s, clock_margin_s;
	gboolean override_quorum;
	const char *pool, *lease;
	char *self, *peer_name; /* resolved by resolve_nodes() (drbd) */
} ManagerConfig;

static void manager_config_clear(ManagerConfig *cfg)
{
	g_free(cfg->tls_cert);
	g_free(cfg->connect_host);
	g_free(cfg->self);
	g_free(cfg->peer_name);
	memset(cfg, 0, sizeof(*cfg));
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(ManagerConfig, manager_config_clear)

static gboolean need(const char *name, const char *value, const char *backend, GError **error)
{
	if (value != NULL)
		return TRUE;
	return ics_error_invalid(error, "parameter %s is required with backend=%s", name, backend);
}

static gboolean absolute(const char *name, const char *value, GError **error)
{
	if (value == NULL || g_path_is_absolute(value))
		return TRUE;
	return ics_error_invalid(error, "parameter %s must be an absolute path, not \"%s\"", name,
				 value);
}

static gboolean config_parse(const OcfAgent *agent, ManagerConfig *cfg, GError **error)
{
	const char *backend = ocf_param(agent, "backend");
	const char *fmt;

	memset(cfg, 0, sizeof(*cfg));
	if (!ocf_check_required(agent, error))
		return FALSE;
	cfg->state_dir = ocf_param(agent, "state_dir");
	cfg->listen = ocf_param(agent, "listen");
	cfg->binary = ocf_param(agent, "binary");
	cfg->config = ocf_param(agent, "config");
	cfg->tls_names = ocf_param(agent, "tls_names");
	if (!absolute("state_dir", cfg->state_dir, error) ||
	    !absolute("binary", cfg->binary, error) || !absolute("config", cfg->config, error) ||
	    !manager_listen_parse(cfg->listen, &cfg->connect_host, &cfg->port, error) ||
	    !ocf_parse_uint("health_timeout", ocf_param(agent, "health_timeout"), 1, 300,
			    &cfg->health_timeout_s, error) ||
	    !ocf_parse_uint("stop_timeout", ocf_param(agent, "stop_timeout"), 1, 3600,
			    &cfg->stop_timeout_s, error))
		return FALSE;
	cfg->tls_ca = ocf_param(agent, "tls_ca");
	cfg->tls_cert = ocf_param(agent, "tls_cert")
				? g_strdup(ocf_param(agent, "tls_cert"))
				: g_build_filename(cfg->state_dir, "tls-cert.pem", NULL);
	if (!absolute("tls_cert", cfg->tls_cert, error) ||
	    (cfg->tls_ca && !absolute("tls_ca", cfg->tls_ca, error)))
		return FALSE;

	if (strcmp(backend, "drbd") == 0) {
		cfg->backend = BACKEND_DRBD;
		cfg->drbd_resource = ocf_param(agent, "drbd_resource");
		cfg->drbd_minor = ocf_param(agent, "drbd_minor");
		cfg->drbd_meta = ocf_param(agent, "drbd_meta");
		cfg->drbd_meta_index = ocf_param(agent, "drbd_meta_index");
		cfg->quorum_disk = ocf_param(agent, "quorum_disk");
		cfg->peer = ocf_param(agent, "peer");
		fmt = ocf_param(agent, "drbd_format");
		if (!need("drbd_meta", cfg->drbd_meta, backend, error) ||
		    !need("quorum_disk", cfg->quorum_disk, backend, error) ||
		    !need("peer", cfg->peer, backend, error) ||
		    !absolute("drbd_meta", cfg->drbd_meta, error) ||
		    !absolute("quorum_disk", cfg->quorum_disk, error) ||
		    !ocf_parse_uint("drbd_peer_id", ocf_param(agent, "drbd_peer_id"), 0, 31,
				    &cfg->drbd_peer_id, error) ||
		    !ocf_parse_uint("record_period", ocf_param(agent, "record_period"), 1, 3600,
				    &cfg->record_period_s, error) ||
		    !ocf_parse_uint("clock_margin", ocf_param(agent, "clock_margin"), 0, 600,
				    &cfg->clock_margin_s, error) ||
		    !ocf_parse_bool("override_quorum", ocf_param(agent, "override_quorum"),
				    &cfg->override_quorum, error))
			return FALSE;
		if (strcmp(fmt, "v09") != 0 && strcmp(fmt, "v08") != 0)
			return ics_error_invalid(error,
						 "drbd_format must be v09 or v08, not \"%s\"", fmt);
		cfg->drbd_format = fmt;
		if (cfg->drbd_resource[0] == '\0' || strpbrk(cfg->drbd_resource, " \t\n/") != NULL)
			return ics_error_invalid(error,
						 "drbd_resource \"%s\" is not a DRBD resource "
						 "name",
						 cfg->drbd_resource);
	} else if (strcmp(backend, "shared") == 0) {
		cfg->backend = BACKEND_SHARED;
		cfg->pool = ocf_param(agent, "pool");
		cfg->lease = ocf_param(agent, "lease");
		if (!need("pool", cfg->pool, backend, error) || !absolute("pool", cfg->pool, error))
			return FALSE;
		if (strlen(cfg->lease) > 48 || strchr(cfg->lease, '/') != NULL)
			return ics_error_invalid(
				error, "lease \"%s\": at most 48 characters, no '/'", cfg->lease);
	} else {
		return ics_error_invalid(error, "backend must be drbd or shared, not \"%s\"",
					 backend);
	}
	return TRUE;
}

static int load_config(const OcfAgent *agent, ManagerConfig *cfg)
{
	g_autoptr(GError) error = NULL;

	if (!config_parse(agent, cfg, &error)) {
		ocf_exit_reason("%s", error->message);
		return OCF_ERR_CONFIGURED;
	}
	return OCF_SUCCESS;
}

/* ---- the daemon process ----------------------------------------------- */

static char *run_path(const char *suffix)
{
	const char *dir = g_getenv("ICS_MANAGER_RUN_DIR");
	g_autofree char *file = g_strconcat(ocf_resource_instance(&manager_agent), suffix, NULL);

	return g_build_filename(dir && dir[0] ? dir : DEFAULT_RUN_DIR, file, NULL);
}

/* Field 22 of /proc/PID/stat (start time in clock ticks); 0 when the
 * process does not exist or is a zombie. */
static guint64 proc_starttime(pid_t pid)
{
	g_autofree char *path = g_strdup_printf("/proc/%d/stat", (int)pid);
	g_autofree char *text = NULL;
	g_auto(GStrv) f = NULL;
	const char *rp;

	if (pid <= 0 || !g_file_get_contents(path, &text, NULL, NULL))
		return 0;
	rp = strrchr(text, ')');
	if (rp == NULL)
		return 0;
	f = g_strsplit(rp + 2, " ", 0);
	/* f[0] is field 3 (state); field 22 is f[19]. */
	if (g_strv_length(f) < 20 || f[0][0] == 'Z' || f[0][0] == 'X')
		return 0;
	return g_ascii_strtoull(f[19], NULL, 10);
}

typedef struct {
	gboolean recorded; /* a pid file exists */
	pid_t pid;
	gboolean alive;
} DaemonState;

static DaemonState daemon_state(void)
{
	g_autofree char *path = run_path(".pid");
	g_autofree char *text = NULL;
	DaemonState st = { 0 };
	guint64 start = 0;
	int pid = 0;

	if (!g_file_get_contents(path, &text, NULL, NULL))
		return st;
	st.recorded = TRUE;
	if (sscanf(text, "%d %" G_GUINT64_FORMAT, &pid, &start) == 2 && pid > 0) {
		st.pid = pid;
		st.alive = proc_starttime(pid) == start;
	}
	return st;
}

static gboolean pidfile_write(pid_t pid, GError **error)
{
	g_autofree char *path = run_path(".pid");
	g_autofree char *dir = g_path_get_dirname(path);
	g_autofree char *text =
		g_strdup_printf("%d %" G_GUINT64_FORMAT "\n", (int)pid, proc_starttime(pid));
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

static void pidfile_remove(void)
{
	g_autofree char *path = run_path(".pid");

	if (g_unlink(path) < 0 && errno != ENOENT)
		ocf_log(ICS_LOG_WARNING, "cannot remove %s: %s", path, g_strerror(errno));
}

/* The last line the daemon wrote to its log, for exit reasons. */
static char *log_tail(void)
{
	g_autofree char *path = run_path(".log");
	g_autofree char *text = NULL;
	char *end, *start;

	if (!g_file_get_contents(path, &text, NULL, NULL))
		return g_strdup("no log");
	end = text + strlen(text);
	while (end > text && (end[-1] == '\n' || end[-1] == ' '))
		*--end = '\0';
	start = strrchr(text, '\n');
	return g_strdup(start ? start + 1 : text);
}

/*
 * In the child, before exec: take the manager's lease (backend=shared),
 * over from a fenced holder when needed.  Returns an error message, or
 * NULL when the lease is held.  Some refusals are a moment of the
 * failover: the daemon has just joined and not read the hosts yet
 * (ics_lease_takeover reads them again for up to 2 x io_timeout + 1 s
 * before it refuses), the holder's fencing is not confirmed yet
 * (REFUSE_NOT_CONFIRMED, retried here for up to @wait_ms).  The others are
 * this node's answer and fail at once, so that Pacemaker tries another
 * node: the holder is alive, or this node cannot order the holder's
 * incarnation against its fencing (a node that re-joined after the holder
 * died never saw it alive: "stale fencing" -- measured in the lab when
 * crashes follow each other; a node that watched the holder live allows
 * the takeover).
 */
static char *child_acquire(IcsPool *pool, const char *owner, guint wait_ms)
{
	gint64 deadline = g_get_monotonic_time() + (gint64)wait_ms * G_TIME_SPAN_MILLISECOND;
	g_autofree char *last = NULL;
	IcsLease *lease = NULL;

	for (;;) {
		g_autoptr(GError) err = NULL;
		g_autoptr(GError) terr = NULL;
		IcsTakeoverVerdict v;

		lease = ics_lease_acquire(pool, owner, &err);
		if (lease != NULL)
			break;
		if (!g_error_matches(err, ICS_ERROR, ICS_ERROR_BUSY)) {
			g_free(last);
			last = g_strdup_printf("cannot acquire lease \"%s\": %s", owner,
					       err->message);
		} else if (!ics_lease_takeover(pool, owner, ICS_LOCK_DEFAULT_CLOCK_MARGIN, &v,
					       &terr)) {
			g_free(last);
			last = g_strdup_printf("lease \"%s\" is busy (%s) and cannot be taken "
					       "over: %s",
					       owner, err->message, terr->message);
			if (g_error_matches(terr, ICS_ERROR, ICS_ERROR_CONFLICT) &&
			    v != ICS_TAKEOVER_REFUSE_NOT_CONFIRMED)
				return g_steal_pointer(&last);
		} else {
			/* freed (or found free): acquire again after a moment */
			g_free(last);
			last = g_strdup_printf("lease \"%s\" is still busy after a takeover (%s: "
					       "%s)",
					       owner, ics_takeover_verdict_name(v), err->message);
		}
		if (g_get_monotonic_time() >= deadline)
			return g_steal_pointer(&last);
		g_usleep((terr ? 500 : 100) * G_TIME_SPAN_MILLISECOND);
	}
	/* Deliberately not freed: the registration fd stays open across exec
	 * and the daemon holds the lease until it exits. */
	(void)lease;
	return NULL;
}

/*
 * Fork; the child starts a session, sends its output to the log, takes the
 * lease (when @pool) and execs the daemon.  A CLOEXEC pipe carries a
 * failure message back; end of file means exec succeeded.
 */
static gboolean spawn_daemon(const ManagerConfig *cfg, IcsPool *pool, pid_t *out, GError **error)
{
	g_autofree char *log = run_path(".log");
	g_autofree char *dir = g_path_get_dirname(log);
	/* --foreground: a daemon that forked away would leave the pid the
	 * agent watches, and the lease registered to it, behind. */
	g_autoptr(GPtrArray) args = g_ptr_array_new();
	const char *const *argv;
	g_autoptr(GString) msg = g_string_new(NULL);
	/* Up to 30 s for the lease, leaving the rest of the start's timeout
	 * (90 s recommended) to the daemon's start. */
	guint timeout_ms = ocf_timeout_ms(90000);
	guint lease_wait_ms = timeout_ms > 31000 ? MIN(timeout_ms - 30000, 30000) : 1000;
	char buf[512];
	int pfd[2], logfd, nullfd, status;
	ssize_t n;
	pid_t pid;

	g_ptr_array_add(args, (gpointer)cfg->binary);
	g_ptr_array_add(args, (gpointer) "--foreground");
	g_ptr_array_add(args, (gpointer) "--state-dir");
	g_ptr_array_add(args, (gpointer)cfg->state_dir);
	g_ptr_array_add(args, (gpointer) "--listen");
	g_ptr_array_add(args, (gpointer)cfg->listen);
	if (cfg->config) {
		g_ptr_array_add(args, (gpointer) "--config");
		g_ptr_array_add(args, (gpointer)cfg->config);
	}
	if (cfg->tls_names) {
		g_ptr_array_add(args, (gpointer) "--tls-names");
		g_ptr_array_add(args, (gpointer)cfg->tls_names);
	}
	g_ptr_array_add(args, NULL);
	argv = (const char *const *)args->pdata;
	if (g_mkdir_with_parents(dir, 0755) < 0) {
		ics_error_set_errno(error, errno, "cannot create %s", dir);
		return FALSE;
	}
	logfd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (logfd < 0 || nullfd < 0 || pipe2(pfd, O_CLOEXEC) < 0) {
		ics_error_set_errno(error, errno, "cannot prepare to start %s (log %s)",
				    cfg->binary, log);
		if (logfd >= 0)
			close(logfd);
		if (nullfd >= 0)
			close(nullfd);
		return FALSE;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		ics_error_set_errno(error, errno, "cannot fork");
		close(logfd);
		close(nullfd);
		close(pfd[0]);
		close(pfd[1]);
		return FALSE;
	}
	if (pid == 0) {
		sigset_t none;
		char *why = NULL;

		close(pfd[0]);
		setsid();
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		if (dup2(nullfd, 0) < 0 || dup2(logfd, 1) < 0 || dup2(logfd, 2) < 0)
			_exit(126);
		if (pool != NULL &&
		    (why = child_acquire(pool, cfg->lease, lease_wait_ms)) != NULL) {
			if (write(pfd[1], why, strlen(why)) < 0)
				_exit(125);
			_exit(125);
		}
		execv(argv[0], (char *const *)argv);
		why = g_strdup_printf("cannot run %s: %s", argv[0], g_strerror(errno));
		if (write(pfd[1], why, strlen(why)) < 0)
			_exit(127);
		_exit(127);
	}
	close(pfd[1]);
	close(logfd);
	close(nullfd);
	while ((n = read(pfd[0], buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR))
		if (n > 0)
			g_string_append_len(msg, buf, n);
	close(pfd[0]);
	if (msg->len > 0) {
		waitpid(pid, &status, 0);
		g_set_error(error, ICS_ERROR, pool ? ICS_ERROR_BUSY : ICS_ERROR_EXEC, "%s",
			    msg->str);
		return FALSE;
	}
	*out = pid;
	return TRUE;
}

/* The pin of the key the daemon served when start found it healthy. */
static char *pinfile_read(void)
{
	g_autofree char *path = run_path(".pin");
	g_autofree char *text = NULL;

	if (!g_file_get_contents(path, &text, NULL, NULL))
		return NULL;
	return g_strdup(g_strstrip(text));
}

static void pinfile_write(const char *pin)
{
	g_autofree char *path = run_path(".pin");
	g_autofree char *text = g_strconcat(pin, "\n", NULL);
	g_autoptr(GError) ferr = NULL;

	/* Without it the monitors pin the file's key: still verified. */
	if (!g_file_set_contents(path, text, -1, &ferr))
		ocf_log(ICS_LOG_WARNING, "cannot keep the daemon's pin: %s", ferr->message);
}

static void pinfile_remove(void)
{
	g_autofree char *path = run_path(".pin");

	if (g_unlink(path) < 0 && errno != ENOENT)
		ocf_log(ICS_LOG_WARNING, "cannot remove %s: %s", path, g_strerror(errno));
}

/*
 * Ask the daemon's health.  With tls_ca, against that CA; else pinned to
 * @pin, or (NULL) to the key of tls_cert as it is now, which is then
 * returned in *@pinned (may be NULL) so that start can keep it.
 */
static gboolean health(const ManagerConfig *cfg, guint timeout_ms, const char *pin, char **pinned,
		       GError **error)
{
	g_autofree char *from_file = NULL;
	ManagerHealthTarget t = { .host = cfg->connect_host,
				  .port = cfg->port,
				  .ca_file = cfg->tls_ca,
				  .timeout_ms = timeout_ms };

	if (cfg->tls_ca == NULL) {
		if (pin == NULL) {
			from_file = ics_rest_pin_from_cert_file(cfg->tls_cert, error);
			if (from_file == NULL) {
				g_prefix_error(error, "the daemon's certificate (tls_cert): ");
				return FALSE;
			}
		}
		t.pin = pin ? pin : from_file;
	}
	if (!manager_health_check(&t, NULL, error))
		return FALSE;
	if (pinned)
		*pinned = g_steal_pointer(&from_file);
	return TRUE;
}

/* Signal the daemon's process group (it is a session leader). */
static void signal_daemon(pid_t pid, int sig)
{
	if (getpgid(pid) == pid)
		kill(-pid, sig);
	else
		kill(pid, sig);
}

static gboolean wait_gone(pid_t pid, guint64 start, gint64 deadline_us)
{
	while (proc_starttime(pid) == start) {
		if (g_get_monotonic_time() >= deadline_us)
			return FALSE;
		g_usleep(100 * G_TIME_SPAN_MILLISECOND);
	}
	return TRUE;
}

/* ---- DRBD and the quorum disk ----------------------------------------- */

static char *node_name(void)
{
	const char *env = g_getenv("OCF_RESKEY_CRM_meta_on_node");
	const char *argv[] = { "crm_node", "-n", NULL };
	g_autofree char *out = NULL;

	if (env != NULL && env[0] != '\0')
		return g_strdup(env);
	if (ics_exec_simple(argv, CRM_NODE_TIMEOUT_MS, &out, NULL) && out && out[0])
		return g_strdup(g_strstrip(out));
	return g_strdup(g_get_host_name());
}

/* Is @peer a member of the cluster now (crm_node -l: "ID NAME STATE")?
 * When crm_node cannot answer, the peer counts as absent: the decision
 * then runs, which can only refuse more. */
static gboolean peer_is_member(const char *peer)
{
	const char *argv[] = { "crm_node", "-l", NULL };
	g_autofree char *out = NULL;
	g_autoptr(GError) error = NULL;
	g_auto(GStrv) lines = NULL;

	if (!ics_exec_simple(argv, CRM_NODE_TIMEOUT_MS, &out, &error)) {
		ocf_log(ICS_LOG_WARNING, "crm_node -l: %s; treating peer %s as absent",
			error->message, peer);
		return FALSE;
	}
	lines = g_strsplit(out, "\n", -1);
	for (char **l = lines; *l != NULL; l++) {
		g_auto(GStrv) f = g_strsplit_set(g_strstrip(*l), " \t", -1);

		if (g_strv_length(f) >= 3 && strcmp(f[1], peer) == 0)
			return strcmp(f[2], "member") == 0;
	}
	return FALSE;
}

/* This node's name and the peer's, from peer= (one name, or both). */
static gboolean resolve_nodes(ManagerConfig *cfg, GError **error)
{
	g_auto(GStrv) names = g_strsplit_set(cfg->peer, ", ", -1);
	g_autoptr(GPtrArray) list = g_ptr_array_new();

	cfg->self = node_name();
	for (char **n = names; *n != NULL; n++)
		if ((*n)[0] != '\0')
			g_ptr_array_add(list, *n);
	if (list->len == 1 && strcmp(g_ptr_array_index(list, 0), cfg->self) != 0) {
		cfg->peer_name = g_strdup(g_ptr_array_index(list, 0));
		return TRUE;
	}
	if (list->len == 2) {
		const char *a = g_ptr_array_index(list, 0), *b = g_ptr_array_index(list, 1);

		if (strcmp(a, cfg->self) == 0 && strcmp(b, cfg->self) != 0)
			cfg->peer_name = g_strdup(b);
		else if (strcmp(b, cfg->self) == 0 && strcmp(a, cfg->self) != 0)
			cfg->peer_name = g_strdup(a);
		if (cfg->peer_name != NULL)
			return TRUE;
		return ics_error_invalid(error,
					 "peer=%s must name this node (%s) and the other "
					 "manager node",
					 cfg->peer, cfg->self);
	}
	if (list->len == 1)
		return ics_error_invalid(error,
					 "peer=%s is this node; set it to the other "
					 "manager node",
					 cfg->peer);
	return ics_error_invalid(error,
				 "peer=%s: expected the other manager node's name or "
				 "both names separated by a comma",
				 cfg->peer);
}

static int load_nodes(ManagerConfig *cfg)
{
	g_autoptr(GError) error = NULL;

	if (cfg->backend != BACKEND_DRBD || resolve_nodes(cfg, &error))
		return OCF_SUCCESS;
	ocf_exit_reason("%s", error->message);
	return OCF_ERR_CONFIGURED;
}

/* This node's GIs: drbdmeta while the volume is detached, drbdsetup
 * get-gi once DRBD has it attached. */
static gboolean read_gi(const ManagerConfig *cfg, DrbdGi *gi, GError **error)
{
	DrbdMetaSource src = { .minor = cfg->drbd_minor,
			       .format = cfg->drbd_format,
			       .meta = cfg->drbd_meta,
			       .index = cfg->drbd_meta_index };
	g_autofree char *peer_id = g_strdup_printf("%" G_GUINT64_FORMAT, cfg->drbd_peer_id);
	const char *argv[] = { "drbdsetup", "get-gi", cfg->drbd_resource, peer_id, "0", NULL };
	g_autofree char *out = NULL;

	if (drbd_gi_read_meta(&src, gi, error))
		return TRUE;
	if (!ics_exec_simple(argv, 10000, &out, NULL) || !drbd_gi_parse_line(out, gi, NULL))
		return FALSE;
	g_clear_error(error);
	return TRUE;
}

static gboolean record_gi(const ManagerConfig *cfg, gboolean serving, GError **error)
{
	g_auto(QuorumRecord) rec = { 0 };

	if (!read_gi(cfg, &rec.gi, error))
		return FALSE;
	rec.node = g_strdup(cfg->self);
	rec.resource = g_strdup(cfg->drbd_resource);
	rec.written = g_get_real_time() / G_USEC_PER_SEC;
	rec.period_s = (guint)cfg->record_period_s;
	rec.serving = serving;
	return quorum_disk_write(cfg->quorum_disk, quorum_slot_of(cfg->self, cfg->peer_name), &rec,
				 error);
}

/* The quorum-disk decision; OCF_SUCCESS when this node may start. */
static int drbd_may_start(const ManagerConfig *cfg)
{
	const char *self = cfg->self, *peer = cfg->peer_name;
	g_auto(QuorumRecord) self_rec = { 0 };
	g_auto(QuorumRecord) peer_rec = { 0 };
	g_autoptr(GError) error = NULL;
	g_autoptr(GError) self_err = NULL;
	g_autoptr(GError) peer_err = NULL;
	g_autofree char *reason = NULL;
	gboolean have_self, have_peer;
	ManagerQuorumVerdict v;
	DrbdGi gi;

	if (peer_is_member(peer)) {
		ocf_log(ICS_LOG_INFO,
			"peer %s is a cluster member: DRBD resynchronizes with it, "
			"no quorum-disk decision",
			peer);
		return OCF_SUCCESS;
	}
	if (!read_gi(cfg, &gi, &error)) {
		ocf_exit_reason("cannot read this node's DRBD generation identifiers: %s",
				error->message);
		return OCF_ERR_GENERIC;
	}
	have_self = quorum_disk_read(cfg->quorum_disk, quorum_slot_of(self, peer), self, &self_rec,
				     &self_err);
	if (!have_self && !g_error_matches(self_err, ICS_ERROR, ICS_ERROR_NOT_FOUND))
		ocf_log(ICS_LOG_WARNING, "this node's own record: %s", self_err->message);
	have_peer = quorum_disk_read(cfg->quorum_disk, quorum_slot_of(peer, self), peer, &peer_rec,
				     &peer_err);
	ManagerQuorumFacts facts = {
		.self_name = self,
		.peer_name = peer,
		.self_gi = &gi,
		.self_record = have_self ? &self_rec : NULL,
		.peer_record = have_peer ? &peer_rec : NULL,
		.peer_problem = have_peer ? NULL : peer_err->message,
		.now = g_get_real_time() / G_USEC_PER_SEC,
		.margin_s = (guint)cfg->clock_margin_s,
		.override = cfg->override_quorum,
	};
	v = manager_quorum_decide(&facts, &reason);
	if (!manager_quorum_verdict_starts(v)) {
		ocf_exit_reason("%s", reason);
		return OCF_ERR_GENERIC;
	}
	ocf_log(v == MQ_START_OVERRIDE ? ICS_LOG_WARNING : ICS_LOG_NOTICE,
		"peer %s is not a "
		"cluster member; quorum disk: %s: %s",
		peer, manager_quorum_verdict_name(v), reason);
	return OCF_SUCCESS;
}

/* ---- actions ---------------------------------------------------------- */

static int check_installed(const ManagerConfig *cfg)
{
	if (!g_file_test(cfg->binary, G_FILE_TEST_IS_EXECUTABLE)) {
		ocf_exit_reason("%s is not installed (binary=)", cfg->binary);
		return OCF_ERR_INSTALLED;
	}
	return OCF_SUCCESS;
}

static int manager_monitor_cfg(ManagerConfig *cfg, gboolean record)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *pin = NULL;
	DaemonState st = daemon_state();

	if (!st.recorded)
		return OCF_NOT_RUNNING;
	if (!st.alive) {
		if (ocf_is_probe())
			return OCF_NOT_RUNNING;
		g_autofree char *tail = log_tail();

		ocf_exit_reason("ics-managerd (pid %d) is gone; last log line: %s", (int)st.pid,
				tail);
		return OCF_ERR_GENERIC;
	}
	pin = pinfile_read();
	if (!health(cfg, (guint)cfg->health_timeout_s * 1000, pin, NULL, &error)) {
		ocf_exit_reason("ics-managerd (pid %d) is not healthy: %s", (int)st.pid,
				error->message);
		return OCF_ERR_GENERIC;
	}
	if (record && cfg->backend == BACKEND_DRBD) {
		if (!record_gi(cfg, TRUE, &error)) {
			ocf_exit_reason("cannot record this node's DRBD GIs on the quorum disk: %s",
					error->message);
			return OCF_ERR_GENERIC;
		}
	}
	return OCF_SUCCESS;
}

/* A monitor Pacemaker repeats (interval > 0): not a probe, not a manual run. */
static gboolean recurring_monitor(void)
{
	const char *interval = g_getenv("OCF_RESKEY_CRM_meta_interval");

	return interval != NULL && interval[0] != '\0' && strcmp(interval, "0") != 0;
}

static int manager_monitor(const OcfAgent *agent)
{
	g_auto(ManagerConfig) cfg = { 0 };
	int rc = load_config(agent, &cfg);

	if (rc != OCF_SUCCESS || (rc = load_nodes(&cfg)) != OCF_SUCCESS)
		return rc;
	rc = manager_monitor_cfg(&cfg, TRUE);
	/* A recurring monitor where the manager is stopped (op monitor
	 * role=Stopped, configured on the two manager nodes only) keeps the
	 * standby's record fresh, so that its last record tells when it went
	 * down.  Best effort: the standby acknowledges nothing.  Probes never
	 * write. */
	if (rc == OCF_NOT_RUNNING && cfg.backend == BACKEND_DRBD && recurring_monitor()) {
		g_autoptr(GError) error = NULL;

		if (!record_gi(&cfg, FALSE, &error))
			ocf_log(ICS_LOG_WARNING, "standby record on the quorum disk: %s",
				error->message);
	}
	return rc;
}

static int manager_start(const OcfAgent *agent)
{
	g_auto(ManagerConfig) cfg = { 0 };
	g_autoptr(GError) error = NULL;
	g_autoptr(IcsPool) pool = NULL;
	g_autofree char *pin = NULL;
	DaemonState st;
	gint64 t_begin = g_get_monotonic_time(), deadline;
	guint64 start_time;
	pid_t pid;
	int rc = load_config(agent, &cfg);

	if (rc != OCF_SUCCESS || (rc = check_installed(&cfg)) != OCF_SUCCESS ||
	    (rc = load_nodes(&cfg)) != OCF_SUCCESS)
		return rc;
	st = daemon_state();
	if (st.alive) {
		ocf_log(ICS_LOG_INFO, "ics-managerd already running (pid %d)", (int)st.pid);
		rc = manager_monitor_cfg(&cfg, TRUE);
		return rc == OCF_NOT_RUNNING ? OCF_ERR_GENERIC : rc;
	}
	if (!g_file_test(cfg.state_dir, G_FILE_TEST_IS_DIR)) {
		ocf_exit_reason("state_dir %s is not a directory on this node (is the state "
				"volume mounted?)",
				cfg.state_dir);
		return OCF_ERR_GENERIC;
	}
	if (cfg.backend == BACKEND_DRBD) {
		if ((rc = drbd_may_start(&cfg)) != OCF_SUCCESS)
			return rc;
		/* Recorded before the daemon can acknowledge a write. */
		if (!record_gi(&cfg, TRUE, &error)) {
			ocf_exit_reason("cannot record this node's DRBD GIs on the quorum disk %s: "
					"%s",
					cfg.quorum_disk, error->message);
			return OCF_ERR_GENERIC;
		}
	} else {
		pool = ics_pool_open(cfg.pool, NULL, &error);
		if (pool == NULL || ics_slot_alloc(pool, cfg.lease, &error) < 0) {
			ocf_exit_reason("pool %s: %s", cfg.pool, error->message);
			return OCF_ERR_GENERIC;
		}
	}
	if (!spawn_daemon(&cfg, pool, &pid, &error)) {
		ocf_exit_reason("%s", error->message);
		return OCF_ERR_GENERIC;
	}
	start_time = proc_starttime(pid);
	pinfile_remove(); /* a new daemon: its key is pinned once it answers */
	if (!pidfile_write(pid, &error)) {
		signal_daemon(pid, SIGKILL);
		ocf_exit_reason("cannot record the daemon's pid: %s", error->message);
		return OCF_ERR_GENERIC;
	}
	ocf_log(ICS_LOG_INFO, "started %s (pid %d) on %s", cfg.binary, (int)pid, cfg.listen);
	/* Until healthy, keeping 5 s of the operation to report (counted from
	 * the start of the action: the lease may have taken a while). */
	deadline = t_begin +
		   ((gint64)MAX(ocf_timeout_ms(90000), 10000u) - 5000) * G_TIME_SPAN_MILLISECOND;
	for (;;) {
		g_clear_error(&error);
		if (proc_starttime(pid) != start_time) {
			g_autofree char *tail = log_tail();

			ocf_exit_reason("ics-managerd exited during start: %s", tail);
			pidfile_remove();
			return OCF_ERR_GENERIC;
		}
		if (health(&cfg, 2000, NULL, &pin, &error)) {
			if (pin)
				pinfile_write(pin);
			return OCF_SUCCESS;
		}
		if (g_get_monotonic_time() >= deadline)
			break;
		g_usleep(200 * G_TIME_SPAN_MILLISECOND);
	}
	ocf_exit_reason("ics-managerd (pid %d) did not become healthy in time: %s", (int)pid,
			error->message);
	return OCF_ERR_GENERIC;
}

static int manager_stop(const OcfAgent *agent)
{
	g_auto(ManagerConfig) cfg = { 0 };
	g_autoptr(GError) error = NULL;
	DaemonState st;
	guint64 start;
	gint64 term_ms, deadline;
	int rc = load_config(agent, &cfg);

	if (rc != OCF_SUCCESS)
		return rc;
	st = daemon_state();
	if (st.alive) {
		start = proc_starttime(st.pid);
		term_ms = MIN((gint64)cfg.stop_timeout_s * 1000,
			      MAX((gint64)ocf_timeout_ms(60000) - 5000 - KILL_WAIT_MS, 1000));
		ocf_log(ICS_LOG_INFO, "stopping ics-managerd (pid %d)", (int)st.pid);
		signal_daemon(st.pid, SIGTERM);
		deadline = g_get_monotonic_time() + term_ms * G_TIME_SPAN_MILLISECOND;
		if (!wait_gone(st.pid, start, deadline)) {
			ocf_log(ICS_LOG_WARNING,
				"ics-managerd (pid %d) ignored SIGTERM for %" G_GINT64_FORMAT
				" ms: SIGKILL",
				(int)st.pid, term_ms);
			signal_daemon(st.pid, SIGKILL);
			deadline = g_get_monotonic_time() + KILL_WAIT_MS * G_TIME_SPAN_MILLISECOND;
			if (!wait_gone(st.pid, start, deadline)) {
				ocf_exit_reason("ics-managerd (pid %d) survived SIGKILL",
						(int)st.pid);
				return OCF_ERR_GENERIC;
			}
		}
	}
	pidfile_remove();
	pinfile_remove();
	if (cfg.backend == BACKEND_DRBD) {
		/* Best effort: a node that stopped serving cannot lose writes. */
		if (!resolve_nodes(&cfg, &error) || !record_gi(&cfg, FALSE, &error))
			ocf_log(ICS_LOG_WARNING, "cannot record the stop on the quorum disk: %s",
				error->message);
	}
	return OCF_SUCCESS;
}

static int manager_validate(const OcfAgent *agent)
{
	g_auto(ManagerConfig) cfg = { 0 };
	g_autofree char *drbdmeta = NULL;
	int rc = load_config(agent, &cfg);

	if (rc != OCF_SUCCESS || (rc = check_installed(&cfg)) != OCF_SUCCESS)
		return rc;
	if (cfg.backend == BACKEND_DRBD) {
		drbdmeta = g_find_program_in_path("drbdmeta");
		if (drbdmeta == NULL) {
			ocf_exit_reason("drbdmeta is not installed (drbd-utils)");
			return OCF_ERR_INSTALLED;
		}
		if (!g_file_test(cfg.quorum_disk, G_FILE_TEST_EXISTS)) {
			ocf_exit_reason("quorum disk %s does not exist on this node",
					cfg.quorum_disk);
			return OCF_ERR_INSTALLED;
		}
	} else if (!g_file_test(cfg.pool, G_FILE_TEST_IS_DIR)) {
		ocf_exit_reason("pool %s is not a directory on this node", cfg.pool);
		return OCF_ERR_INSTALLED;
	}
	return OCF_SUCCESS;
}

int main(int argc, char **argv)
{
	return ocf_main(&manager_agent, argc, argv);
}
