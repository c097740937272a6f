/*
 * vm_logic.c: the decisions of ocf:ics:vm (see vm_logic.h).
 *
 * The one subtle part is telling a clean stop from a failure.  ICS runs VMs
 * as transient domains, so a domain that ends -- shut down from inside,
 * destroyed, crashed with <on_crash>destroy</on_crash>, QEMU killed -- is
 * simply gone from libvirt.  Two facts recover what happened: a marker this
 * node writes at start and removes at stop ("started here": gone without a
 * stop having been asked for), and the reason libvirt writes into the
 * domain's log when QEMU ends ("shutting down, reason=crashed").  A marker
 * without a log reason counts as a failure: the safe side, since Pacemaker
 * then recovers the VM.
 */
#include "config.h"

#include <string.h>

#include <libvirt/libvirt.h>

#include "ics/error.h"
#include "ocf.h"
#include "vm_logic.h"

#define MAX_SHUTDOWN_TIMEOUT_S 3600
#define MAX_BANDWIDTH_MIBPS 1000000
#define MAX_DOWNTIME_MS 60000

void vm_config_clear(VmConfig *cfg)
{
	g_free(cfg->uuid);
	g_free(cfg->pool);
	g_free(cfg->libvirt_uri);
	g_free(cfg->migration_uri_template);
	memset(cfg, 0, sizeof(*cfg));
}

gboolean vm_uuid_valid(const char *uuid)
{
	if (uuid == NULL || strlen(uuid) != 36)
		return FALSE;
	for (int i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (uuid[i] != '-')
				return FALSE;
		} else if (!g_ascii_isxdigit(uuid[i])) {
			return FALSE;
		}
	}
	return TRUE;
}

static gboolean parse_uint_param(VmParamLookup lookup, gpointer data, const char *name, guint64 min,
				 guint64 max, guint *out, GError **error)
{
	const char *v = lookup(name, data);
	guint64 n = 0;

	if (v == NULL || v[0] == '\0') {
		*out = 0;
		return TRUE;
	}
	if (!ocf_parse_uint(name, v, min, max, &n, error))
		return FALSE;
	*out = (guint)n;
	return TRUE;
}

static gboolean parse_bool_param(VmParamLookup lookup, gpointer data, const char *name,
				 gboolean def, gboolean *out, GError **error)
{
	const char *v = lookup(name, data);

	if (v == NULL || v[0] == '\0') {
		*out = def;
		return TRUE;
	}
	return ocf_parse_bool(name, v, out, error);
}

gboolean vm_config_parse(VmConfig *cfg, VmParamLookup lookup, gpointer data, GError **error)
{
	const char *uuid = lookup("uuid", data);
	const char *pool = lookup("pool", data);
	const char *uri = lookup("libvirt_uri", data);
	const char *tmpl = lookup("migration_uri_template", data);
	g_autofree char *probe = NULL;

	memset(cfg, 0, sizeof(*cfg));
	if (uuid == NULL || uuid[0] == '\0') {
		g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT,
			    "parameter uuid is required");
		return FALSE;
	}
	if (!vm_uuid_valid(uuid)) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT,
			    "parameter uuid: \"%s\" is not a uuid (8-4-4-4-12 hex digits)", uuid);
		return FALSE;
	}
	if (pool == NULL || pool[0] == '\0') {
		g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT,
			    "parameter pool is required");
		return FALSE;
	}
	if (pool[0] != '/') {
		g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT,
			    "parameter pool: \"%s\" is not an absolute path", pool);
		return FALSE;
	}
	cfg->uuid = g_ascii_strdown(uuid, -1);
	cfg->pool = g_strdup(pool);
	while (strlen(cfg->pool) > 1 && g_str_has_suffix(cfg->pool, "/"))
		cfg->pool[strlen(cfg->pool) - 1] = '\0';
	cfg->libvirt_uri = g_strdup(uri && uri[0] ? uri : "qemu:///system");
	cfg->migration_uri_template = g_strdup(tmpl && tmpl[0] ? tmpl : "qemu+tcp://%s/system");
	probe = vm_migration_uri(cfg->migration_uri_template, "node", error);
	if (probe == NULL) {
		ics_error_prefix(error, "parameter migration_uri_template: ");
		goto fail;
	}
	if (!parse_uint_param(lookup, data, "migration_bandwidth_mibps", 1, MAX_BANDWIDTH_MIBPS,
			      &cfg->migration_bandwidth_mibps, error) ||
	    !parse_uint_param(lookup, data, "migration_max_downtime_ms", 1, MAX_DOWNTIME_MS,
			      &cfg->migration_max_downtime_ms, error) ||
	    !parse_uint_param(lookup, data, "shutdown_timeout", 0, MAX_SHUTDOWN_TIMEOUT_S,
			      &cfg->shutdown_timeout_s, error))
		goto fail;
	if (lookup("shutdown_timeout", data) == NULL)
		cfg->shutdown_timeout_s = 60;
	if (!parse_bool_param(lookup, data, "takeover", TRUE, &cfg->takeover, error) ||
	    !parse_bool_param(lookup, data, "accept_manual_fencing", FALSE,
			      &cfg->accept_manual_fencing, error) ||
	    !parse_bool_param(lookup, data, "lease", TRUE, &cfg->lease, error) ||
	    !parse_bool_param(lookup, data, "quorum_check", TRUE, &cfg->quorum_check, error))
		goto fail;
	return TRUE;
fail:
	vm_config_clear(cfg);
	return FALSE;
}

char *vm_migration_uri(const char *tmpl, const char *host, GError **error)
{
	GString *out;
	guint slots = 0;

	if (tmpl == NULL || tmpl[0] == '\0') {
		g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT, "empty template");
		return NULL;
	}
	if (host == NULL || host[0] == '\0' || strpbrk(host, "/@ \t\n%") != NULL) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT,
			    "\"%s\" is not a host name or address", host ? host : "");
		return NULL;
	}
	out = g_string_new(NULL);
	for (const char *p = tmpl; *p; p++) {
		if (*p != '%') {
			g_string_append_c(out, *p);
			continue;
		}
		if (p[1] == '%') {
			g_string_append_c(out, '%');
			p++;
		} else if (p[1] == 's') {
			g_string_append(out, host);
			slots++;
			p++;
		} else {
			g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT,
				    "\"%s\": only %%s (the target) and %%%% may follow a %%", tmpl);
			g_string_free(out, TRUE);
			return NULL;
		}
	}
	if (slots != 1) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT,
			    "\"%s\" must hold exactly one %%s (the target), not %u", tmpl, slots);
		g_string_free(out, TRUE);
		return NULL;
	}
	return g_string_free(out, FALSE);
}

guint vm_effective_bandwidth(const VmConfig *cfg, const IcsVmMeta *m)
{
	if (cfg->migration_bandwidth_mibps)
		return cfg->migration_bandwidth_mibps;
	return m ? m->migration_bandwidth_mibps : 0;
}

guint vm_effective_downtime(const VmConfig *cfg, const IcsVmMeta *m)
{
	if (cfg->migration_max_downtime_ms)
		return cfg->migration_max_downtime_ms;
	return m ? m->migration_max_downtime_ms : 0;
}

/* ---- time budgets ----------------------------------------------------- */

guint vm_action_deadline_ms(guint op_timeout_ms)
{
	return op_timeout_ms > 3000 ? op_timeout_ms - 2000 : 1000;
}

guint vm_shutdown_wait_ms(guint shutdown_timeout_s, guint op_timeout_ms)
{
	guint64 want = (guint64)shutdown_timeout_s * 1000;
	guint64 room = op_timeout_ms > 5000 ? op_timeout_ms - 5000 : 0;

	return (guint)MIN(want, room);
}

guint vm_migrate_abort_ms(guint op_timeout_ms)
{
	if (op_timeout_ms < 20000)
		return op_timeout_ms / 2;
	return op_timeout_ms - 10000;
}

/* ---- the domain's state ----------------------------------------------- */

const char *vm_health_name(VmHealth h)
{
	switch (h) {
	case VM_HEALTH_RUNNING:
		return "running";
	case VM_HEALTH_PAUSED:
		return "paused";
	case VM_HEALTH_PAUSED_IOERROR:
		return "paused on I/O error";
	case VM_HEALTH_STOPPING:
		return "shutting down";
	case VM_HEALTH_ABSENT:
		return "not running";
	case VM_HEALTH_STOPPED:
		return "cleanly stopped";
	case VM_HEALTH_CRASHED_KEPT:
		return "crashed (kept for inspection)";
	case VM_HEALTH_CRASHED:
		return "crashed";
	case VM_HEALTH_FAILED:
		return "failed";
	}
	return "unknown";
}

/* A domain that is gone: what the marker and the log say. */
static VmHealth classify_gone(const VmObservation *o)
{
	if (!o->started_here)
		return VM_HEALTH_ABSENT;
	if (o->last_stop == NULL)
		return VM_HEALTH_FAILED;
	if (strcmp(o->last_stop, "crashed") == 0)
		return VM_HEALTH_CRASHED;
	if (strcmp(o->last_stop, "shutdown") == 0 || strcmp(o->last_stop, "destroyed") == 0 ||
	    strcmp(o->last_stop, "migrated") == 0 || strcmp(o->last_stop, "saved") == 0)
		return VM_HEALTH_STOPPED;
	return VM_HEALTH_FAILED;
}

VmHealth vm_health_classify(const VmObservation *o)
{
	if (!o->present)
		return classify_gone(o);
	switch (o->state) {
	case VIR_DOMAIN_RUNNING:
	case VIR_DOMAIN_BLOCKED:
		return VM_HEALTH_RUNNING;
	case VIR_DOMAIN_PAUSED:
		switch (o->reason) {
		case VIR_DOMAIN_PAUSED_IOERROR:
			return VM_HEALTH_PAUSED_IOERROR;
		case VIR_DOMAIN_PAUSED_CRASHED:
			return VM_HEALTH_CRASHED_KEPT;
		case VIR_DOMAIN_PAUSED_MIGRATION:
		case VIR_DOMAIN_PAUSED_POSTCOPY:
		case VIR_DOMAIN_PAUSED_STARTING_UP:
			return VM_HEALTH_RUNNING;
		default:
			return VM_HEALTH_PAUSED;
		}
	case VIR_DOMAIN_SHUTDOWN:
		return VM_HEALTH_STOPPING;
	case VIR_DOMAIN_CRASHED:
		return VM_HEALTH_CRASHED_KEPT;
	case VIR_DOMAIN_SHUTOFF:
		switch (o->reason) {
		case VIR_DOMAIN_SHUTOFF_CRASHED:
			return VM_HEALTH_CRASHED;
		case VIR_DOMAIN_SHUTOFF_FAILED:
			return VM_HEALTH_FAILED;
		default:
			return o->started_here ? VM_HEALTH_STOPPED : VM_HEALTH_ABSENT;
		}
	case VIR_DOMAIN_PMSUSPENDED:
		return VM_HEALTH_PAUSED;
	default:
		return VM_HEALTH_FAILED;
	}
}

void vm_monitor_verdict_clear(VmMonitorVerdict *v)
{
	g_free(v->message);
	memset(v, 0, sizeof(*v));
}

static void verdict(VmMonitorVerdict *out, int rc, IcsLogLevel level, char *message)
{
	out->rc = rc;
	out->level = level;
	out->message = message;
}

/* A crash (or failure) that ended QEMU, by the VM's crash policy. */
static void decide_crash(VmHealth h, IcsVmCrashPolicy policy, const char *vm, VmMonitorVerdict *out)
{
	const char *what = h == VM_HEALTH_CRASHED
				   ? "crashed (guest panic, watchdog or QEMU killed)"
				   : "failed (QEMU ended without a stop: killed or crashed)";

	out->forget_start = TRUE;
	switch (policy) {
	case ICS_VM_CRASH_HA:
		verdict(out, OCF_ERR_GENERIC, ICS_LOG_ERROR,
			g_strdup_printf("vm %s %s; crash policy ha: Pacemaker recovers it, on "
					"another node if its failure count says so",
					vm, what));
		return;
	case ICS_VM_CRASH_RESTART:
		verdict(out, OCF_ERR_GENERIC, ICS_LOG_ERROR,
			g_strdup_printf("vm %s %s; crash policy restart: Pacemaker restarts it "
					"on this node",
					vm, what));
		return;
	case ICS_VM_CRASH_POWEROFF:
		out->keep_stopped = TRUE;
		verdict(out, OCF_NOT_RUNNING, ICS_LOG_WARNING,
			g_strdup_printf("vm %s %s; crash policy poweroff: recorded as a clean "
					"stop, the VM stays off (target-role=Stopped)",
					vm, what));
		return;
	case ICS_VM_CRASH_NONE:
		verdict(out, OCF_NOT_RUNNING, ICS_LOG_WARNING,
			g_strdup_printf("vm %s %s; crash policy none: left as it is, QEMU is "
					"gone so nothing is kept to inspect",
					vm, what));
		return;
	}
}

void vm_monitor_decide(VmHealth h, IcsVmCrashPolicy policy, gboolean probe, const char *vm,
		       VmMonitorVerdict *out)
{
	memset(out, 0, sizeof(*out));
	switch (h) {
	case VM_HEALTH_RUNNING:
		verdict(out, OCF_SUCCESS, ICS_LOG_DEBUG, g_strdup_printf("vm %s running", vm));
		return;
	case VM_HEALTH_PAUSED:
		verdict(out, OCF_SUCCESS, ICS_LOG_WARNING,
			g_strdup_printf("vm %s is paused (not by an I/O error): it still holds "
					"its lease; resume it or stop it",
					vm));
		return;
	case VM_HEALTH_STOPPING:
		verdict(out, OCF_SUCCESS, ICS_LOG_INFO,
			g_strdup_printf("vm %s is shutting down", vm));
		return;
	case VM_HEALTH_PAUSED_IOERROR:
		verdict(out, OCF_ERR_GENERIC, ICS_LOG_ERROR,
			g_strdup_printf("vm %s paused on I/O error: its storage failed on this "
					"node",
					vm));
		return;
	case VM_HEALTH_ABSENT:
		(void)probe; /* never seen here: not running, probe or not */
		verdict(out, OCF_NOT_RUNNING, ICS_LOG_DEBUG,
			g_strdup_printf("vm %s not running", vm));
		return;
	case VM_HEALTH_STOPPED:
		out->forget_start = TRUE;
		verdict(out, OCF_NOT_RUNNING, ICS_LOG_WARNING,
			g_strdup_printf("vm %s cleanly stopped outside the cluster (shut down "
					"from inside the guest or destroyed by hand)",
					vm));
		return;
	case VM_HEALTH_CRASHED_KEPT:
		if (policy == ICS_VM_CRASH_NONE) {
			verdict(out, OCF_SUCCESS, ICS_LOG_WARNING,
				g_strdup_printf("vm %s crashed and is kept for inspection (crash "
						"policy none): reported running so the evidence "
						"stays; stop it when done",
						vm));
			return;
		}
		/* e.g. on_crash changed by hand: the crash policy still decides */
		decide_crash(VM_HEALTH_CRASHED, policy, vm, out);
		out->forget_start = FALSE; /* QEMU is alive: stop must destroy it */
		return;
	case VM_HEALTH_CRASHED:
	case VM_HEALTH_FAILED:
		/* Also in a probe: the marker says this node ran it since boot. */
		decide_crash(h, policy, vm, out);
		return;
	}
	verdict(out, OCF_ERR_GENERIC, ICS_LOG_ERROR, g_strdup_printf("vm %s: unknown state", vm));
}

char *vm_log_last_stop_reason(const char *log_text)
{
	static const char key[] = "shutting down, reason=";
	const char *last = NULL;
	const char *end;

	if (log_text == NULL)
		return NULL;
	for (const char *p = strstr(log_text, key); p != NULL; p = strstr(p + 1, key))
		last = p + strlen(key);
	if (last == NULL)
		return NULL;
	end = last;
	while (*end && (g_ascii_isalnum(*end) || *end == '-' || *end == '_'))
		end++;
	return end > last ? g_strndup(last, (gsize)(end - last)) : NULL;
}

/* ---- start ------------------------------------------------------------ */

int vm_rc_for_load_error(const GError *error)
{
	if (error == NULL)
		return OCF_ERR_GENERIC;
	if (g_error_matches(error, ICS_ERROR, ICS_ERROR_NOT_FOUND))
		return OCF_ERR_INSTALLED;
	if (g_error_matches(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT) ||
	    g_error_matches(error, ICS_ERROR, ICS_ERROR_PARSE))
		return OCF_ERR_CONFIGURED;
	return OCF_ERR_GENERIC;
}

int vm_parse_quorate(const char *out)
{
	g_auto(GStrv) lines = NULL;

	if (out == NULL)
		return -1;
	lines = g_strsplit(out, "\n", -1);
	for (char **l = lines; *l; l++) {
		g_autofree char *s = g_strstrip(g_strdup(*l));

		if (!g_str_has_prefix(s, "Quorate:"))
			continue;
		g_strstrip(s + strlen("Quorate:"));
		return g_ascii_strcasecmp(s + strlen("Quorate:"), "Yes") == 0 ? 1 : 0;
	}
	return -1;
}

const char *vm_lease_action_name(VmLeaseAction a)
{
	switch (a) {
	case VM_LEASE_FREE:
		return "free";
	case VM_LEASE_MINE:
		return "mine";
	case VM_LEASE_REFUSE_ALIVE:
		return "refuse-alive";
	case VM_LEASE_TAKEOVER:
		return "takeover";
	case VM_LEASE_REFUSE_NO_TAKEOVER:
		return "refuse-no-takeover";
	}
	return "unknown";
}

VmLeaseAction vm_lease_decide(guint64 owner_host_id, guint64 self_host_id, IcsHostState owner_state,
			      gboolean takeover)
{
	if (owner_host_id == 0)
		return VM_LEASE_FREE;
	if (self_host_id != 0 && owner_host_id == self_host_id)
		return VM_LEASE_MINE;
	switch (owner_state) {
	case ICS_HOST_FREE:
		/* the owner left the lockspace cleanly: its leases are free */
		return VM_LEASE_FREE;
	case ICS_HOST_ALIVE:
		/* Right after a crash the owner still looks alive to sanlock (its
		 * delta lease ages out only after 8 x io_timeout): confirmed fencing
		 * is what tells, and ics_lease_takeover asks Pacemaker for it. */
		return takeover ? VM_LEASE_TAKEOVER : VM_LEASE_REFUSE_ALIVE;
	case ICS_HOST_DEAD:
		/* sanlock's own expiry: it grants the lease without help */
		return takeover ? VM_LEASE_TAKEOVER : VM_LEASE_FREE;
	case ICS_HOST_UNKNOWN:
	case ICS_HOST_FAILING:
		return takeover ? VM_LEASE_TAKEOVER : VM_LEASE_REFUSE_NO_TAKEOVER;
	}
	return VM_LEASE_REFUSE_ALIVE;
}

gboolean vm_lease_go(VmLeaseAction a, IcsTakeoverVerdict v)
{
	switch (a) {
	case VM_LEASE_FREE:
	case VM_LEASE_MINE:
		return TRUE;
	case VM_LEASE_TAKEOVER:
		return v == ICS_TAKEOVER_ALLOW || v == ICS_TAKEOVER_NOT_NEEDED;
	case VM_LEASE_REFUSE_ALIVE:
	case VM_LEASE_REFUSE_NO_TAKEOVER:
		break;
	}
	return FALSE;
}

guint vm_lease_wait_budget_ms(guint op_timeout_ms, guint start_wait_ms)
{
	/* the deadline alarm, the domain start, the report, and one more look
	 * begun just before the end (a renewal watch: 10.5 s at io_timeout 1) */
	guint64 used = 2000 + (guint64)start_wait_ms + 3000 + 15000;

	return op_timeout_ms > used ? (guint)(op_timeout_ms - used) : 0;
}

/* ---- migration -------------------------------------------------------- */

char *vm_migration_progress(const char *vm, guint64 processed, guint64 remaining, guint64 total,
			    guint64 elapsed_ms)
{
	guint pct = total ? (guint)MIN((guint64)100, processed * 100 / total) : 0;

	return g_strdup_printf("migration of %s: %u%% of %" G_GUINT64_FORMAT
			       " MiB, %" G_GUINT64_FORMAT " MiB remaining, %" G_GUINT64_FORMAT
			       ".%" G_GUINT64_FORMAT " s",
			       vm, pct, total >> 20, remaining >> 20, elapsed_ms / 1000,
			       (elapsed_ms % 1000) / 100);
}

char *vm_migration_target_problem(const char *target, const char *local_node,
				  gboolean target_member, gboolean target_online)
{
	if (target == NULL || target[0] == '\0')
		return g_strdup("no migration target (OCF_RESKEY_CRM_meta_migrate_target unset)");
	if (local_node != NULL && strcmp(target, local_node) == 0)
		return g_strdup_printf("migration target %s is this node", target);
	if (!target_member)
		return g_strdup_printf("migration target %s is not a cluster node", target);
	if (!target_online)
		return g_strdup_printf("migration target %s is not online in the cluster", target);
	return NULL;
}

char *vm_target_pool_problem(const GPtrArray *hosts, const char *pool_name, const char *target)
{
	for (guint i = 0; hosts != NULL && i < hosts->len; i++) {
		const IcsHostInfo *h = g_ptr_array_index((GPtrArray *)hosts, i);

		if (h->name == NULL || strcmp(h->name, target) != 0)
			continue;
		if (h->state == ICS_HOST_ALIVE)
			return NULL;
		return g_strdup_printf("pool %s is not active on %s: its heartbeat there is %s",
				       pool_name, target, ics_host_state_name(h->state));
	}
	return g_strdup_printf("pool %s is not active on %s: %s never joined its lockspace",
			       pool_name, target, target);
}
