/*
 * vm.c: ocf:ics:vm, one VM as a Pacemaker primitive.
 *
 * The VM's definition lives on its shared pool (<pool>/.ics/vms/<uuid>/,
 * libicsvmdef); start regenerates the domain XML from the metadata and
 * creates a transient domain, whose <lease> makes libvirt's sanlock driver
 * take the VM's disk lease.  Before that, the lease is looked at: free or
 * this host's, start; held by another host, it is taken over only when
 * Pacemaker confirmed the host fenced and its delta lease then stood still
 * (ics_lease_takeover_run).  Any refusal is looked at again every 2 s for
 * as long as the start's timeout allows (150 s by default: until sanlock's
 * own expiry, 68 s at io_timeout 1, frees a dead owner's lease), so that a
 * refusal -- a manual confirmation, a fencing not yet confirmed, an owner
 * renewing late -- never leaves the VM stopped while waiting would have
 * started it; only a start that waited out its budget fails.  monitor tells
 * running, cleanly stopped, failed, crashed and paused-on-I/O-error apart
 * and applies the VM's crash policy; migrate_to/migrate_from do a live
 * peer-to-peer migration (a running backup job is aborted first: libvirt
 * runs one job per domain).  After a start or an incoming migration the
 * VM's backup checkpoints recorded on the pool are redefined, so
 * changed-block tracking survives both (libicsbackup).  The decisions are
 * in vm_logic.c, the libvirt
 * calls in vm_runtime.c; this file gathers facts from the cluster.
 *
 * Nothing may hang: every action runs under an alarm at the operation's
 * timeout minus 2 s that ends the process with "libvirtd on this node does
 * not answer" (Pacemaker then treats a failed stop by fencing, which is what
 * a node whose libvirtd hangs deserves).
 *
 * A marker per VM in ICS_VM_STATE_DIR (default /run/ics/vm) records that
 * this node started the VM and no stop was asked: a transient domain that
 * vanished without it was stopped cleanly, one that vanished with it failed.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "ics/backup.h"
#include "ics/error.h"
#include "ics/exec.h"
#include "ics/lock.h"
#include "ics/vmdef.h"
#include "ocf.h"
#include "vm_logic.h"
#include "vm_runtime.h"

#define DEFAULT_STATE_DIR "/run/ics/vm"
#define DEFAULT_QEMU_LOG_DIR "/var/log/libvirt/qemu"
#define TOOL_TIMEOUT_MS 10000
#define START_WAIT_MS 30000
#define START_TIMEOUT_MS 150000 /* default: covers sanlock's expiry (68 s), see check_lease */

static const OcfParam vm_params[] = {
	{ "uuid", OCF_TYPE_STRING, NULL, TRUE, TRUE, "VM uuid",
	  "The VM's uuid: its definition is <pool>/.ics/vms/<uuid>/vm.json and its "
	  "libvirt domain has this uuid." },
	{ "pool", OCF_TYPE_STRING, NULL, TRUE, FALSE, "Pool path",
	  "Mount point of the VM's pool (the path of its ocf:ics:pool clone), where "
	  ".ics/vms/<uuid>/ lives." },
	{ "libvirt_uri", OCF_TYPE_STRING, "qemu:///system", FALSE, FALSE, "libvirt URI",
	  "The libvirtd of this node." },
	{ "migration_uri_template", OCF_TYPE_STRING, "qemu+tcp://%s/system", FALSE, FALSE,
	  "Target libvirtd URI template",
	  "URI of the migration target's libvirtd; %s is replaced by the target: the "
	  "value of its CIB node attribute ics-addr when set (crm_attribute -t nodes -N "
	  "NODE -n ics-addr -v ADDR), else its node name." },
	{ "migration_bandwidth_mibps", OCF_TYPE_INTEGER, NULL, FALSE, FALSE,
	  "Migration bandwidth (MiB/s)",
	  "Overrides the VM metadata's migration bandwidth; unset = metadata, else "
	  "libvirt's default (unlimited)." },
	{ "migration_max_downtime_ms", OCF_TYPE_INTEGER, NULL, FALSE, FALSE,
	  "Migration max downtime (ms)",
	  "Overrides the VM metadata's max downtime; unset = metadata, else QEMU's "
	  "default (300 ms)." },
	{ "migration_unsafe", OCF_TYPE_BOOLEAN, "false", FALSE, FALSE,
	  "Allow migration with a cache mode libvirt deems unsafe",
	  "VIR_MIGRATE_UNSAFE (virsh migrate --unsafe). Needed when disk images with a "
	  "host cache live on storage libvirt does not recognise as shared (the lab's pool "
	  "directory on ext4). Safe only on storage that is in fact shared and coherent." },
	{ "shutdown_timeout", OCF_TYPE_INTEGER, "60", FALSE, FALSE,
	  "Seconds to wait for an ACPI shutdown",
	  "stop asks the guest to shut down and waits min(shutdown_timeout, stop timeout "
	  "- 5 s) before destroying it. 0 destroys at once." },
	{ "takeover", OCF_TYPE_BOOLEAN, "true", FALSE, FALSE, "Take over a dead host's lease",
	  "When the VM's lease is held by a host that no longer renews, take it over at "
	  "once (ics_lease_takeover), which acts only when Pacemaker confirmed that host "
	  "fenced (off or reboot) and its delta lease then stood still for 8 x io_timeout "
	  "+ 2.5 s (10.5 s at io_timeout 1). false: wait for sanlock's own expiry (8 x "
	  "io_timeout + 60 s). Either way a refused start waits, looking again every 2 s, "
	  "as long as its timeout allows." },
	{ "accept_manual_fencing", OCF_TYPE_BOOLEAN, "false", FALSE, FALSE,
	  "Count a manual fencing confirmation (operator override)",
	  "A manual confirmation (stonith_admin --confirm) fenced nothing: an operator "
	  "asserted that the host is down. By default the takeover refuses it "
	  "(refuse-manual) and start waits for sanlock's expiry (68 s at io_timeout 1, "
	  "within the 150 s start timeout). true: the operator "
	  "vouches for such confirmations; the takeover still requires the owner's delta "
	  "lease to stand still after it and still logs it as MANUAL. Set it only for the "
	  "time of a recovery, and remove it after (docs/lease-takeover.md)." },
	{ "lease", OCF_TYPE_BOOLEAN, "true", FALSE, FALSE, "Use the sanlock lease (tests only)",
	  "false drops the <lease> from the domain XML and skips the lease checks. FOR "
	  "TESTS ONLY (libvirt's test driver, labs without the sanlock lock driver): "
	  "without the lease nothing prevents a VM from running twice." },
	{ "quorum_check", OCF_TYPE_BOOLEAN, "true", FALSE, FALSE,
	  "Refuse start without quorum (tests only)",
	  "false skips the quorum check of start. FOR TESTS ONLY, outside a cluster." },
	{ NULL, 0, NULL, FALSE, FALSE, NULL, NULL },
};

static int vm_start(const OcfAgent *agent);
static int vm_stop(const OcfAgent *agent);
static int vm_monitor(const OcfAgent *agent);
static int vm_migrate_to(const OcfAgent *agent);
static int vm_migrate_from(const OcfAgent *agent);
static int vm_validate(const OcfAgent *agent);

static const OcfAction vm_actions[] = {
	{ "start", vm_start, 150, 0, -1 },
	{ "stop", vm_stop, 90, 0, -1 },
	{ "monitor", vm_monitor, 30, 10, 0 },
	{ "migrate_to", vm_migrate_to, 180, 0, -1 },
	{ "migrate_from", vm_migrate_from, 60, 0, -1 },
	{ "validate-all", vm_validate, 30, 0, -1 },
	{ "meta-data", NULL, 5, 0, -1 },
	{ NULL, NULL, 0, 0, 0 },
};

static const OcfAgent vm_agent = {
	.name = "vm",
	.version = PACKAGE_VERSION,
	.shortdesc = "ICS virtual machine (libvirt/QEMU, sanlock lease)",
	.longdesc =
		"One ICS VM. Its definition (vm.json, the source of truth, and the domain XML "
		"generated from it) lives on its shared pool under .ics/vms/<uuid>/, so any node "
		"that has the pool can start it. start creates a transient libvirt domain from "
		"XML regenerated from the metadata; its <lease> makes libvirt's sanlock driver "
		"take the VM's lease, so the VM never runs twice. A lease held by a dead host "
		"is taken over only when Pacemaker confirmed that host fenced; every refusal "
		"is looked at again every 2 s until sanlock's own expiry frees the lease or "
		"the start's budget (its timeout minus 50 s) ends, and only then fails "
		"(OCF_ERR_GENERIC). start refuses without quorum. "
		"A node without the pool or the definition answers OCF_ERR_INSTALLED (this node "
		"only). stop: ACPI shutdown, bounded wait, destroy. monitor: running = "
		"OCF_SUCCESS; not running = OCF_NOT_RUNNING; paused on I/O error = "
		"OCF_ERR_GENERIC; a crash or a QEMU that ended without a stop follows the VM's "
		"crash policy: ha and restart = OCF_ERR_GENERIC (Pacemaker recovers), poweroff = "
		"OCF_NOT_RUNNING and target-role=Stopped, none = kept for inspection. Every "
		"action ends before its timeout, with \"libvirtd on this node does not answer\" "
		"when libvirtd hangs. See ocf_ics_vm(7).\n"
		"Recommended: meta allow-migrate=true; utilization cpu=<vcpus> "
		"memory=<MiB>; op monitor interval=10s timeout=30s; op start timeout=150s (at "
		"least 8 x io_timeout + 60 s + 50 s: the wait for sanlock's expiry); op "
		"stop timeout=90s; op migrate_to timeout=180s; op migrate_from timeout=60s; "
		"order and colocate after the pool clone (order pool-clone then vm, colocation "
		"vm with pool-clone), which is what guarantees the pool on a migration target. "
		"Crash policy restart: meta resource-stickiness=INFINITY (or a high value) and "
		"migration-threshold above 1 keep the restart on this node; ha: "
		"migration-threshold=1 moves the VM after its first failure.",
	.params = vm_params,
	.actions = vm_actions,
};

/* ---- facts ------------------------------------------------------------ */

static const char *lookup_param(const char *name, gpointer data)
{
	return ocf_param((const OcfAgent *)data, name);
}

static int load_config(const OcfAgent *agent, VmConfig *cfg)
{
	g_autoptr(GError) error = NULL;

	if (!vm_config_parse(cfg, lookup_param, (gpointer)agent, &error)) {
		ocf_exit_reason("%s", error->message);
		return OCF_ERR_CONFIGURED;
	}
	return OCF_SUCCESS;
}

static gboolean migration_unsafe(const OcfAgent *agent)
{
	gboolean v = FALSE;

	return ocf_parse_bool("migration_unsafe", ocf_param(agent, "migration_unsafe"), &v, NULL) &&
	       v;
}

/* The whole action ends before Pacemaker's timeout, whatever blocks. */
static const char deadline_msg[] = "ocf-exit-reason:libvirtd on this node does not answer "
				   "(operation deadline reached)\n";

static void on_deadline(int sig)
{
	(void)sig;
	if (write(STDERR_FILENO, deadline_msg, sizeof(deadline_msg) - 1) < 0) {
		/* nothing left to do */
	}
	_exit(OCF_ERR_GENERIC);
}

static void arm_deadline(guint def_timeout_ms)
{
	guint ms = vm_action_deadline_ms(ocf_timeout_ms(def_timeout_ms));

	signal(SIGALRM, on_deadline);
	alarm(MAX(1u, ms / 1000));
}

static char *marker_path(const VmConfig *cfg)
{
	const char *dir = g_getenv("ICS_VM_STATE_DIR");
	g_autofree char *file = g_strconcat(cfg->uuid, ".started", NULL);

	return g_build_filename(dir && dir[0] ? dir : DEFAULT_STATE_DIR, file, NULL);
}

static gboolean marker_present(const VmConfig *cfg)
{
	g_autofree char *path = marker_path(cfg);

	return g_file_test(path, G_FILE_TEST_EXISTS);
}

static void marker_write(const VmConfig *cfg)
{
	g_autofree char *path = marker_path(cfg);
	g_autofree char *dir = g_path_get_dirname(path);

	if (g_mkdir_with_parents(dir, 0755) < 0 || !g_file_set_contents(path, "", 0, NULL))
		ocf_log(ICS_LOG_WARNING,
			"cannot write %s: a later crash of the VM will look "
			"like a clean stop",
			path);
}

static void marker_remove(const VmConfig *cfg)
{
	g_autofree char *path = marker_path(cfg);

	if (g_unlink(path) < 0 && errno != ENOENT)
		ocf_log(ICS_LOG_WARNING, "cannot remove %s: %s", path, g_strerror(errno));
}

/* stdout of a cluster tool, NULL on failure (logged). */
static char *tool_output(const char *const *argv, gboolean need_success)
{
	IcsExecOptions opts = { .argv = argv, .timeout_ms = TOOL_TIMEOUT_MS };
	g_auto(IcsExecResult) res = { 0 };
	g_autoptr(GError) error = NULL;

	if (!ics_exec_run(&opts, &res, &error) ||
	    (need_success && !ics_exec_check_exit(&res, argv[0], &error))) {
		ocf_log(ICS_LOG_WARNING, "%s: %s", argv[0], error->message);
		return NULL;
	}
	return g_strdup(res.out);
}

static char *local_node_name(void)
{
	const char *argv[] = { "crm_node", "-n", NULL };
	char *out = tool_output(argv, TRUE);

	if (out != NULL && g_strstrip(out)[0] != '\0')
		return out;
	g_free(out);
	return g_strdup(g_get_host_name());
}

/* Is a QEMU of this VM alive in this node's network namespace?  (The lab's
 * nodes share one PID namespace.)  Used when libvirtd does not answer. */
static gboolean qemu_alive(const char *uuid)
{
	g_autofree char *self_ns = g_file_read_link("/proc/self/ns/net", NULL);
	DIR *d = opendir("/proc");
	struct dirent *e;
	gboolean found = FALSE;

	if (d == NULL)
		return TRUE; /* cannot tell: assume the worst */
	while (!found && (e = readdir(d)) != NULL) {
		g_autofree char *cmdline_path = NULL, *ns_path = NULL, *ns = NULL;
		g_autofree char *cmd = NULL;
		gsize len = 0;

		if (!g_ascii_isdigit(e->d_name[0]))
			continue;
		cmdline_path = g_strdup_printf("/proc/%s/cmdline", e->d_name);
		if (!g_file_get_contents(cmdline_path, &cmd, &len, NULL) || len == 0)
			continue;
		if (strstr(cmd, "qemu") == NULL)
			continue;
		for (gsize i = 0; i + 1 < len; i++)
			if (cmd[i] == '\0')
				cmd[i] = ' ';
		if (strstr(cmd, uuid) == NULL)
			continue;
		ns_path = g_strdup_printf("/proc/%s/ns/net", e->d_name);
		ns = g_file_read_link(ns_path, NULL);
		found = ns != NULL && self_ns != NULL && strcmp(ns, self_ns) == 0;
	}
	closedir(d);
	return found;
}

/* The reason libvirt logged when the domain's QEMU last ended. */
static char *last_stop_reason(const char *vm_name)
{
	const char *dir = g_getenv("ICS_QEMU_LOG_DIR");
	g_autofree char *file = g_strconcat(vm_name, ".log", NULL);
	g_autofree char *path =
		g_build_filename(dir && dir[0] ? dir : DEFAULT_QEMU_LOG_DIR, file, NULL);
	g_autofree char *text = NULL;

	if (!g_file_get_contents(path, &text, NULL, NULL))
		return NULL;
	return vm_log_last_stop_reason(text);
}

static IcsVmMeta *load_definition(const VmConfig *cfg, int *rc)
{
	g_autoptr(GError) error = NULL;
	IcsVmMeta *m;

	if (!g_file_test(cfg->pool, G_FILE_TEST_IS_DIR)) {
		ocf_exit_reason("vm %s: pool %s is not available on this node", cfg->uuid,
				cfg->pool);
		*rc = OCF_ERR_INSTALLED;
		return NULL;
	}
	m = ics_vm_store_load(cfg->pool, cfg->uuid, &error);
	if (m == NULL) {
		ocf_exit_reason("vm %s: cannot load its definition from pool %s: %s", cfg->uuid,
				cfg->pool, error->message);
		*rc = vm_rc_for_load_error(error);
	}
	return m;
}

/* The domain XML; @for_start: with this start's fresh VNC password (the
 * XML then holds a secret, so it is never logged; libvirtd keeps it in the
 * live definition, where only a read-write connection sees it). */
static char *domain_xml(const VmConfig *cfg, IcsVmMeta *m, gboolean for_start, int *rc)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *password = NULL;
	char *xml = NULL;

	if (!cfg->lease)
		m->has_lease = FALSE;
	if (!for_start)
		xml = ics_domain_xml(m, &error);
	else if ((password = ics_vnc_password_new(&error)) != NULL)
		xml = ics_domain_xml_start(m, password, &error);
	if (xml == NULL) {
		ocf_exit_reason("vm %s: cannot generate its domain XML: %s", m->name,
				error->message);
		*rc = OCF_ERR_CONFIGURED;
	}
	return xml;
}

/* ---- the lease -------------------------------------------------------- */

#define LEASE_POLL_MS 2000
#define LEASE_PROGRESS_MS 10000

/* The lease's name: the metadata's, else the VM's uuid. */
static const char *lease_name(const VmConfig *cfg, const IcsVmMeta *m)
{
	return m->lease_name ? m->lease_name : cfg->uuid;
}

/*
 * One look at the VM's lease: TRUE (*go) to start now, *took_over when a
 * takeover freed it; otherwise *why (g_free) says what holds it.  FALSE
 * with the reason in *why when the lease cannot be read at all.  With
 * takeover=true ics_lease_takeover_run gathers and decides everything
 * itself (the local daemon's view included); without, the owner's state as
 * the local daemon sees it decides (vm_lease_decide).
 */
static gboolean lease_look(const VmConfig *cfg, const IcsVmMeta *m, IcsPool *pool, guint64 self_id,
			   gboolean *go, gboolean *took_over, char **why)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) hosts = NULL;
	IcsLeaseInfo info = { 0 };
	IcsHostState owner_state = ICS_HOST_UNKNOWN;
	IcsTakeoverVerdict verdict = ICS_TAKEOVER_REFUSE_UNKNOWN;
	g_autofree char *reason = NULL;
	VmLeaseAction action;

	*go = *took_over = FALSE;
	*why = NULL;
	if (!ics_lease_inspect(pool, lease_name(cfg, m), &info, &error)) {
		*why = g_strdup_printf("cannot read its lease: %s", error->message);
		return FALSE;
	}
	if (info.owner_host_id && info.owner_host_id != self_id && !cfg->takeover) {
		hosts = ics_pool_hosts(pool, &error);
		for (guint i = 0; hosts != NULL && i < hosts->len; i++) {
			const IcsHostInfo *h = g_ptr_array_index(hosts, i);

			if (h->host_id == info.owner_host_id)
				owner_state = h->state;
		}
		g_clear_error(&error);
	}
	action = vm_lease_decide(info.owner_host_id, self_id, owner_state, cfg->takeover);
	if (action == VM_LEASE_TAKEOVER) {
		IcsTakeoverOptions topts = { .clock_margin_s = ICS_LOCK_DEFAULT_CLOCK_MARGIN,
					     .accept_manual = cfg->accept_manual_fencing };

		if (!ics_lease_takeover_run(pool, lease_name(cfg, m), &topts, &verdict, &reason,
					    &error)) {
			*why = g_strdup_printf("lease held by host %" G_GUINT64_FORMAT
					       "; takeover failed: %s",
					       info.owner_host_id, error->message);
			ics_lease_info_clear(&info);
			return FALSE;
		}
	}
	*go = vm_lease_go(action, verdict);
	*took_over = *go && action == VM_LEASE_TAKEOVER && verdict == ICS_TAKEOVER_ALLOW;
	if (action == VM_LEASE_TAKEOVER)
		*why = g_strdup_printf("lease held by host %" G_GUINT64_FORMAT ": takeover %s: %s",
				       info.owner_host_id, ics_takeover_verdict_name(verdict),
				       reason);
	else if (!*go)
		*why = g_strdup_printf("lease held by host %" G_GUINT64_FORMAT
				       " (%s); takeover=false: "
				       "waiting for sanlock's expiry",
				       info.owner_host_id, ics_host_state_name(owner_state));
	ics_lease_info_clear(&info);
	return TRUE;
}

/*
 * Wait until the VM's lease may be taken (see vm_lease_go): look, and look
 * again every LEASE_POLL_MS until @deadline (monotonic us).  A refusal is
 * never final before the deadline: sanlock's own expiry frees a dead
 * owner's lease, a fencing may complete, a host list may be read.  Returns
 * OCF_SUCCESS (*took_over when a takeover freed it), else OCF_ERR_GENERIC
 * with the last reason given.
 */
static int check_lease(const VmConfig *cfg, const IcsVmMeta *m, gint64 deadline,
		       gboolean *took_over)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(IcsPool) pool = NULL;
	const char *argv[] = { "crm_node", "-i", NULL };
	g_autofree char *self_out = NULL;
	g_autofree char *last = NULL;
	gint64 t0 = g_get_monotonic_time(), last_report = t0;
	guint64 self_id = 0;
	guint looks = 0;

	*took_over = FALSE;
	pool = ics_pool_open(cfg->pool, NULL, &error);
	if (pool == NULL) {
		ocf_exit_reason("vm %s: cannot open pool %s: %s", m->name, cfg->pool,
				error->message);
		return OCF_ERR_GENERIC;
	}
	self_out = tool_output(argv, TRUE);
	if (self_out != NULL)
		self_id = g_ascii_strtoull(g_strstrip(self_out), NULL, 10);
	for (;;) {
		g_autofree char *why = NULL;
		gboolean go = FALSE;
		gint64 now;

		looks++;
		if (!lease_look(cfg, m, pool, self_id, &go, took_over, &why) &&
		    g_strcmp0(why, last) != 0)
			ocf_log(ICS_LOG_WARNING, "vm %s: %s", m->name, why);
		if (go) {
			if (why != NULL || looks > 1)
				ocf_log(*took_over ? ICS_LOG_WARNING : ICS_LOG_INFO, "vm %s: %s%s",
					m->name, why ? why : "lease free",
					looks > 1 ? " (after waiting)" : "");
			return OCF_SUCCESS;
		}
		now = g_get_monotonic_time();
		if (looks == 1 || now - last_report >= LEASE_PROGRESS_MS * 1000) {
			ocf_log(ICS_LOG_INFO,
				"vm %s: waiting for its lease (%" G_GINT64_FORMAT " s left): %s",
				m->name, MAX((gint64)0, (deadline - now) / G_USEC_PER_SEC), why);
			last_report = now;
		}
		g_free(last);
		last = g_steal_pointer(&why);
		if (now + LEASE_POLL_MS * 1000 >= deadline)
			break;
		g_usleep(LEASE_POLL_MS * 1000);
	}
	ocf_exit_reason("vm %s: %s (waited %" G_GINT64_FORMAT " s; sanlock's own expiry frees "
			"a dead owner's lease 8 x io_timeout + 60 s after its last renewal: a "
			"later start succeeds then)",
			m->name, last, (g_get_monotonic_time() - t0) / G_USEC_PER_SEC);
	return OCF_ERR_GENERIC;
}

static int check_quorum(const VmConfig *cfg, const char *vm)
{
	const char *argv[] = { "corosync-quorumtool", "-s", NULL };
	g_autofree char *out = NULL;

	if (!cfg->quorum_check)
		return OCF_SUCCESS;
	out = tool_output(argv, FALSE);
	switch (vm_parse_quorate(out)) {
	case 1:
		return OCF_SUCCESS;
	case 0:
		ocf_exit_reason("vm %s: this node is not quorate: refusing to start", vm);
		return OCF_ERR_GENERIC;
	default:
		ocf_exit_reason("vm %s: cannot learn this node's quorum (corosync-quorumtool "
				"-s): refusing to start",
				vm);
		return OCF_ERR_GENERIC;
	}
}

/* ---- changed-block tracking (docs/backup-format.md) -------------------- */

/* Redefine on the domain now running here the checkpoints recorded on the
 * pool: libvirt forgets them with a transient domain's stop or migration,
 * the bitmaps stay in the images.  A bitmap that did not survive is logged
 * and marked; the next backup is then full and says why.  Never fails the
 * action: a backup chain is not worth a VM. */
static void redefine_checkpoints(virConnectPtr conn, const VmConfig *cfg, const char *name)
{
	g_autofree char *dir = ics_vm_dir(cfg->pool, cfg->uuid);
	g_autoptr(GString) report = g_string_new(NULL);
	g_auto(GStrv) lines = NULL;
	virDomainPtr dom = virDomainLookupByUUIDString(conn, cfg->uuid);
	guint n;

	if (dom == NULL)
		return;
	n = ics_backup_checkpoints_redefine(dom, dir, report);
	virDomainFree(dom);
	lines = g_strsplit(report->str, "\n", -1);
	for (guint i = 0; lines[i] != NULL; i++)
		if (lines[i][0])
			ocf_log(ICS_LOG_WARNING, "vm %s: %s", name, lines[i]);
	if (n > 0)
		ocf_log(ICS_LOG_INFO, "vm %s: %u backup checkpoint%s redefined", name, n,
			n == 1 ? "" : "s");
}

/* A backup job running on the domain is aborted: @why (a migration) goes
 * first.  The backup fails cleanly and its chain stays valid. */
static void abort_backup(virConnectPtr conn, const VmConfig *cfg, const char *name,
			 const char *why)
{
	g_autoptr(GError) error = NULL;
	virDomainPtr dom = virDomainLookupByUUIDString(conn, cfg->uuid);
	gboolean aborted = FALSE;

	if (dom == NULL)
		return;
	if (!ics_backup_abort_job(dom, &aborted, &error))
		ocf_log(ICS_LOG_WARNING, "vm %s: %s", name, error->message);
	else if (aborted)
		ocf_log(ICS_LOG_NOTICE, "vm %s: aborted its running backup: the %s goes first",
			name, why);
	virDomainFree(dom);
}

/* ---- actions ---------------------------------------------------------- */

static virConnectPtr connect_or_reason(const VmConfig *cfg)
{
	g_autoptr(GError) error = NULL;
	virConnectPtr conn = vm_connect(cfg->libvirt_uri, &error);

	if (conn == NULL)
		ocf_exit_reason("libvirtd on this node does not answer: %s", error->message);
	return conn;
}

static int vm_start(const OcfAgent *agent)
{
	g_auto(VmConfig) cfg = { 0 };
	g_autoptr(IcsVmMeta) m = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *xml = NULL;
	VmObservation o = { 0 };
	virConnectPtr conn = NULL;
	gboolean took_over = FALSE;
	gint64 t0 = g_get_monotonic_time(), lease_deadline;
	int rc = load_config(agent, &cfg);

	if (rc != OCF_SUCCESS)
		return rc;
	arm_deadline(START_TIMEOUT_MS);
	lease_deadline = t0 + (gint64)vm_lease_wait_budget_ms(ocf_timeout_ms(START_TIMEOUT_MS),
							      START_WAIT_MS) *
				      1000;
	m = load_definition(&cfg, &rc);
	if (m == NULL)
		return rc;
	if ((rc = check_quorum(&cfg, m->name)) != OCF_SUCCESS)
		return rc;
	xml = domain_xml(&cfg, m, TRUE, &rc);
	if (xml == NULL)
		return rc;
	conn = connect_or_reason(&cfg);
	if (conn == NULL)
		return OCF_ERR_GENERIC;
	if (!vm_observe(conn, cfg.uuid, &o, &error)) {
		ocf_exit_reason("vm %s: %s", m->name, error->message);
		rc = OCF_ERR_GENERIC;
		goto out;
	}
	if (o.present && vm_health_classify(&o) == VM_HEALTH_RUNNING) {
		ocf_log(ICS_LOG_INFO, "vm %s already runs here", m->name);
		marker_write(&cfg);
		redefine_checkpoints(conn, &cfg, m->name);
		goto out;
	}
	/* The lease: looked at (and waited for) before the domain starts; if
	 * libvirt's sanlock driver still finds it busy, looked at again. */
	for (;;) {
		if (cfg.lease && m->has_lease &&
		    (rc = check_lease(&cfg, m, lease_deadline, &took_over)) != OCF_SUCCESS)
			goto out;
		g_clear_error(&error);
		if (vm_domain_start(conn, xml, START_WAIT_MS, &error))
			break;
		if (!(cfg.lease && g_error_matches(error, ICS_ERROR, ICS_ERROR_BUSY)) ||
		    g_get_monotonic_time() >= lease_deadline) {
			ocf_exit_reason("vm %s: %s%s", m->name,
					g_error_matches(error, ICS_ERROR, ICS_ERROR_BUSY)
						? "the lease is busy: "
						: "",
					error->message);
			rc = OCF_ERR_GENERIC;
			goto out;
		}
		ocf_log(ICS_LOG_WARNING, "vm %s: %s; looking at the lease again", m->name,
			error->message);
		g_usleep(LEASE_POLL_MS * 1000);
	}
	marker_write(&cfg);
	redefine_checkpoints(conn, &cfg, m->name);
	ocf_log(ICS_LOG_INFO, "vm %s started in %" G_GINT64_FORMAT " ms%s", m->name,
		(g_get_monotonic_time() - t0) / 1000, took_over ? " (lease taken over)" : "");
out:
	virConnectClose(conn);
	return rc;
}

static int vm_stop(const OcfAgent *agent)
{
	g_auto(VmConfig) cfg = { 0 };
	g_autoptr(GError) error = NULL;
	virConnectPtr conn;
	gboolean forced = FALSE;
	gint64 t0 = g_get_monotonic_time();
	guint wait_ms;
	int rc = load_config(agent, &cfg);

	if (rc != OCF_SUCCESS)
		return rc;
	arm_deadline(90000);
	wait_ms = vm_shutdown_wait_ms(cfg.shutdown_timeout_s, ocf_timeout_ms(90000));
	conn = connect_or_reason(&cfg);
	if (conn == NULL)
		return OCF_ERR_GENERIC;
	if (!vm_domain_stop(conn, cfg.uuid, wait_ms, &forced, &error)) {
		ocf_exit_reason("vm %s: %s", cfg.uuid, error->message);
		virConnectClose(conn);
		return OCF_ERR_GENERIC;
	}
	virConnectClose(conn);
	marker_remove(&cfg);
	ocf_log(ICS_LOG_INFO, "vm %s stopped in %" G_GINT64_FORMAT " ms%s", cfg.uuid,
		(g_get_monotonic_time() - t0) / 1000,
		forced ? " (destroyed: no ACPI shutdown in time)" : "");
	return OCF_SUCCESS;
}

/* poweroff crash policy: keep the resource stopped. */
static void keep_stopped(const OcfAgent *agent)
{
	const char *argv[] = { "crm_resource",
			       "--resource",
			       ocf_resource_instance(agent),
			       "--meta",
			       "--set-parameter",
			       "target-role",
			       "--parameter-value",
			       "Stopped",
			       NULL };
	g_autofree char *out = tool_output(argv, TRUE);

	if (out == NULL)
		ocf_log(ICS_LOG_WARNING,
			"could not set target-role=Stopped on %s: Pacemaker "
			"may restart the VM",
			ocf_resource_instance(agent));
}

static int vm_monitor(const OcfAgent *agent)
{
	g_auto(VmConfig) cfg = { 0 };
	g_autoptr(GError) error = NULL;
	g_autoptr(IcsVmMeta) m = NULL;
	g_autofree char *stop_reason = NULL;
	g_auto(VmMonitorVerdict) v = { 0 };
	VmObservation o = { 0 };
	virConnectPtr conn;
	VmHealth h;
	const char *name;
	int rc = load_config(agent, &cfg);

	if (rc != OCF_SUCCESS)
		return rc;
	arm_deadline(30000);
	o.started_here = marker_present(&cfg);
	/* A probe where this VM never started since boot and no QEMU of it
	 * runs: not running, without a libvirtd connection.  Pacemaker probes
	 * every new VM on every node and every VM on a node that joins, so
	 * this is most probes; what libvirtd would add (a domain without a
	 * QEMU process) cannot be running here. */
	if (ocf_is_probe() && !o.started_here && !qemu_alive(cfg.uuid))
		return OCF_NOT_RUNNING;
	conn = vm_connect(cfg.libvirt_uri, &error);
	if (conn == NULL) {
		if (!o.started_here && !qemu_alive(cfg.uuid)) {
			ocf_log(ICS_LOG_WARNING,
				"vm %s: libvirtd does not answer (%s); no QEMU "
				"of this VM here: not running",
				cfg.uuid, error->message);
			return OCF_NOT_RUNNING;
		}
		ocf_exit_reason("libvirtd on this node does not answer: %s", error->message);
		return OCF_ERR_GENERIC;
	}
	if (!vm_observe(conn, cfg.uuid, &o, &error)) {
		virConnectClose(conn);
		ocf_exit_reason("libvirtd on this node does not answer: %s", error->message);
		return OCF_ERR_GENERIC;
	}
	virConnectClose(conn);
	h = vm_health_classify(&o);
	/* Only a stop or a crash needs the definition (name, crash policy). */
	if (h != VM_HEALTH_RUNNING && h != VM_HEALTH_ABSENT) {
		m = ics_vm_store_load(cfg.pool, cfg.uuid, NULL);
		if (m != NULL && !o.present) {
			stop_reason = last_stop_reason(m->name);
			o.last_stop = stop_reason;
			h = vm_health_classify(&o);
		}
	}
	name = m ? m->name : cfg.uuid;
	vm_monitor_decide(h, m ? m->crash_policy : ICS_VM_CRASH_HA, ocf_is_probe(), name, &v);
	if (v.rc != OCF_SUCCESS && v.rc != OCF_NOT_RUNNING)
		ocf_exit_reason("%s", v.message);
	else if (v.level != ICS_LOG_DEBUG || v.rc == OCF_NOT_RUNNING)
		ocf_log(v.level, "%s%s%s", v.message, stop_reason ? "; libvirt: reason=" : "",
			stop_reason ? stop_reason : "");
	if (v.keep_stopped)
		keep_stopped(agent);
	if (v.forget_start)
		marker_remove(&cfg);
	return v.rc;
}

static char *target_address(const char *target)
{
	const char *argv[] = { "crm_attribute", "-t", "nodes", "-N", target, "-n",
			       "ics-addr",	"-G", "-q",    NULL };
	char *out = tool_output(argv, FALSE);

	if (out != NULL && g_strstrip(out)[0] != '\0' && strchr(out, ' ') == NULL)
		return out;
	g_free(out);
	return g_strdup(target);
}

/* crm_node -l: "ID NAME STATE" per node. */
static void target_membership(const char *target, gboolean *member, gboolean *online)
{
	const char *argv[] = { "crm_node", "-l", NULL };
	g_autofree char *out = tool_output(argv, TRUE);
	g_auto(GStrv) lines = NULL;

	*member = *online = FALSE;
	if (out == NULL)
		return;
	lines = g_strsplit(out, "\n", -1);
	for (char **l = lines; *l; l++) {
		g_auto(GStrv) f = g_strsplit_set(g_strstrip(*l), " \t", -1);

		if (g_strv_length(f) >= 2 && strcmp(f[1], target) == 0) {
			*member = TRUE;
			*online = g_strv_length(f) < 3 || strcmp(f[2], "member") == 0;
		}
	}
}

/* The pool as the target has it, read from the pool's lockspace on disk
 * (through this node's sanlock): more direct than the clone's CIB state. */
static char *target_pool_problem(const VmConfig *cfg, const char *target)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(IcsPool) pool = ics_pool_open(cfg->pool, NULL, &error);
	g_autoptr(GPtrArray) hosts = NULL;

	if (pool == NULL)
		return g_strdup_printf("cannot open pool %s: %s", cfg->pool, error->message);
	hosts = ics_pool_hosts(pool, &error);
	if (hosts == NULL)
		return g_strdup_printf("cannot read the hosts of pool %s: %s", cfg->pool,
				       error->message);
	return vm_target_pool_problem(hosts, ics_pool_name(pool), target);
}

static void log_progress(const char *line, gpointer data)
{
	(void)data;
	ocf_log(ICS_LOG_INFO, "%s", line);
}

static int vm_migrate_to(const OcfAgent *agent)
{
	g_auto(VmConfig) cfg = { 0 };
	g_autoptr(GError) error = NULL;
	g_autoptr(IcsVmMeta) m = NULL;
	g_autofree char *local = NULL, *addr = NULL, *uri = NULL, *problem = NULL;
	g_autofree char *peer_host = NULL;
	const char *target = g_getenv("OCF_RESKEY_CRM_meta_migrate_target");
	VmMigrateOptions opts = { 0 };
	VmObservation o = { 0 };
	virConnectPtr conn = NULL, peer = NULL;
	gboolean member = FALSE, online = FALSE;
	gint64 t0 = g_get_monotonic_time();
	guint op_ms = ocf_timeout_ms(180000);
	int rc = load_config(agent, &cfg);

	if (rc != OCF_SUCCESS)
		return rc;
	arm_deadline(180000);
	m = load_definition(&cfg, &rc);
	if (m == NULL)
		return rc;
	local = local_node_name();
	if (target != NULL && target[0] != '\0')
		target_membership(target, &member, &online);
	problem = vm_migration_target_problem(target, local, member, online);
	if (problem != NULL) {
		ocf_exit_reason("vm %s: %s", m->name, problem);
		return OCF_ERR_GENERIC;
	}
	problem = target_pool_problem(&cfg, target);
	if (problem != NULL) {
		ocf_exit_reason("vm %s: %s", m->name, problem);
		return OCF_ERR_GENERIC;
	}
	addr = target_address(target);
	uri = vm_migration_uri(cfg.migration_uri_template, addr, &error);
	if (uri == NULL) {
		ocf_exit_reason("vm %s: migration URI: %s", m->name, error->message);
		return OCF_ERR_CONFIGURED;
	}
	conn = connect_or_reason(&cfg);
	if (conn == NULL)
		return OCF_ERR_GENERIC;
	if (!vm_observe(conn, cfg.uuid, &o, &error) ||
	    vm_health_classify(&o) != VM_HEALTH_RUNNING) {
		ocf_exit_reason("vm %s does not run on this node: nothing to migrate", m->name);
		rc = OCF_ERR_GENERIC;
		goto out;
	}
	/* The target's libvirtd answers (its pool was checked above). */
	g_clear_error(&error);
	peer = vm_connect(uri, &error);
	if (peer == NULL) {
		ocf_exit_reason("vm %s: target %s: %s", m->name, target, error->message);
		rc = OCF_ERR_GENERIC;
		goto out;
	}
	peer_host = virConnectGetHostname(peer);
	virConnectClose(peer);
	ocf_log(ICS_LOG_INFO, "vm %s: migrating to %s (%s, libvirtd host %s)", m->name, target, uri,
		peer_host ? peer_host : "?");
	opts.dest_uri = uri;
	opts.bandwidth_mibps = vm_effective_bandwidth(&cfg, m);
	opts.max_downtime_ms = vm_effective_downtime(&cfg, m);
	opts.unsafe = migration_unsafe(agent);
	opts.abort_after_ms = vm_migrate_abort_ms(op_ms);
	opts.progress = log_progress;
	/* libvirt runs one job at a time on a domain */
	abort_backup(conn, &cfg, m->name, "migration");
	if (!vm_domain_migrate(conn, cfg.uuid, &opts, &error)) {
		ocf_exit_reason("vm %s: migration to %s: %s", m->name, target, error->message);
		rc = OCF_ERR_GENERIC;
		goto out;
	}
	marker_remove(&cfg);
	ocf_log(ICS_LOG_INFO, "vm %s migrated to %s in %" G_GINT64_FORMAT " ms", m->name, target,
		(g_get_monotonic_time() - t0) / 1000);
out:
	virConnectClose(conn);
	return rc;
}

static int vm_migrate_from(const OcfAgent *agent)
{
	g_auto(VmConfig) cfg = { 0 };
	g_autoptr(GError) error = NULL;
	VmObservation o = { 0 };
	virConnectPtr conn;
	int rc = load_config(agent, &cfg);

	if (rc != OCF_SUCCESS)
		return rc;
	arm_deadline(60000);
	conn = connect_or_reason(&cfg);
	if (conn == NULL)
		return OCF_ERR_GENERIC;
	if (!vm_observe(conn, cfg.uuid, &o, &error)) {
		ocf_exit_reason("vm %s: %s", cfg.uuid, error->message);
		virConnectClose(conn);
		return OCF_ERR_GENERIC;
	}
	vm_runtime_log_migration_stats(conn, cfg.uuid);
	if (vm_health_classify(&o) == VM_HEALTH_RUNNING)
		redefine_checkpoints(conn, &cfg, cfg.uuid);
	virConnectClose(conn);
	if (vm_health_classify(&o) != VM_HEALTH_RUNNING) {
		ocf_exit_reason("vm %s does not run on this node after the migration", cfg.uuid);
		return OCF_ERR_GENERIC;
	}
	marker_write(&cfg);
	return OCF_SUCCESS;
}

static int vm_validate(const OcfAgent *agent)
{
	g_auto(VmConfig) cfg = { 0 };
	g_autoptr(IcsVmMeta) m = NULL;
	g_autofree char *xml = NULL;
	int rc = load_config(agent, &cfg);

	if (rc != OCF_SUCCESS)
		return rc;
	m = load_definition(&cfg, &rc);
	if (m == NULL)
		return rc;
	xml = domain_xml(&cfg, m, FALSE, &rc);
	return xml ? OCF_SUCCESS : rc;
}

int main(int argc, char **argv)
{
	return ocf_main(&vm_agent, argc, argv);
}
