/*
 * test_vm_logic.c: the decisions of ocf:ics:vm -- parameters, migration
 * URIs, time budgets, state classification, crash policies, lease decisions,
 * libvirt log and quorum parsing -- without libvirt, sanlock or a cluster.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>
#include <libvirt/libvirt.h>

#include "ics/error.h"
#include "ocf.h"
#include "vm_logic.h"

#define UUID "6f1c3c0e-8a4b-4d5e-9f00-1234567890ab"

static const char *lookup_table(const char *name, gpointer data)
{
	const char *const *kv = data;

	for (; kv[0] != NULL; kv += 2)
		if (strcmp(kv[0], name) == 0)
			return kv[1];
	return NULL;
}

static gboolean parse(const char *const *kv, VmConfig *cfg, GError **error)
{
	return vm_config_parse(cfg, lookup_table, (gpointer)kv, error);
}

static void test_config_defaults(void **state)
{
	const char *kv[] = { "uuid", "6F1C3C0E-8A4B-4D5E-9F00-1234567890AB", "pool", "/srv/p/",
			     NULL };
	g_auto(VmConfig) cfg = { 0 };

	(void)state;
	assert_true(parse(kv, &cfg, NULL));
	assert_string_equal(cfg.uuid, UUID);
	assert_string_equal(cfg.pool, "/srv/p");
	assert_string_equal(cfg.libvirt_uri, "qemu:///system");
	assert_string_equal(cfg.migration_uri_template, "qemu+tcp://%s/system");
	assert_int_equal(cfg.shutdown_timeout_s, 60);
	assert_true(cfg.takeover);
	assert_true(cfg.lease);
	assert_true(cfg.quorum_check);
	assert_int_equal(cfg.migration_bandwidth_mibps, 0);
}

static void test_config_missing_uuid(void **state)
{
	const char *kv[] = { "pool", "/srv/p", NULL };
	g_auto(VmConfig) cfg = { 0 };
	g_autoptr(GError) err = NULL;

	(void)state;
	assert_false(parse(kv, &cfg, &err));
	assert_non_null(strstr(err->message, "uuid is required"));
}

static void test_config_bad_uuid(void **state)
{
	const char *kv[] = { "uuid", "web1", "pool", "/srv/p", NULL };
	g_auto(VmConfig) cfg = { 0 };
	g_autoptr(GError) err = NULL;

	(void)state;
	assert_false(parse(kv, &cfg, &err));
	assert_non_null(strstr(err->message, "not a uuid"));
}

static void test_config_relative_pool(void **state)
{
	const char *kv[] = { "uuid", UUID, "pool", "srv/p", NULL };
	g_auto(VmConfig) cfg = { 0 };
	g_autoptr(GError) err = NULL;

	(void)state;
	assert_false(parse(kv, &cfg, &err));
	assert_non_null(strstr(err->message, "absolute"));
}

static void test_config_missing_pool(void **state)
{
	const char *kv[] = { "uuid", UUID, NULL };
	g_auto(VmConfig) cfg = { 0 };
	g_autoptr(GError) err = NULL;

	(void)state;
	assert_false(parse(kv, &cfg, &err));
	assert_non_null(strstr(err->message, "pool is required"));
}

static void test_config_values(void **state)
{
	const char *kv[] = { "uuid",
			     UUID,
			     "pool",
			     "/p",
			     "migration_bandwidth_mibps",
			     "100",
			     "migration_max_downtime_ms",
			     "250",
			     "shutdown_timeout",
			     "0",
			     "takeover",
			     "no",
			     "lease",
			     "false",
			     "quorum_check",
			     "off",
			     "libvirt_uri",
			     "test:///default",
			     NULL };
	g_auto(VmConfig) cfg = { 0 };

	(void)state;
	assert_true(parse(kv, &cfg, NULL));
	assert_int_equal(cfg.migration_bandwidth_mibps, 100);
	assert_int_equal(cfg.migration_max_downtime_ms, 250);
	assert_int_equal(cfg.shutdown_timeout_s, 0);
	assert_false(cfg.takeover);
	assert_false(cfg.lease);
	assert_false(cfg.quorum_check);
	assert_string_equal(cfg.libvirt_uri, "test:///default");
}

static void test_config_bad_numbers(void **state)
{
	const char *bw[] = { "uuid", UUID, "pool", "/p", "migration_bandwidth_mibps", "0", NULL };
	const char *dt[] = { "uuid", UUID, "pool", "/p", "migration_max_downtime_ms", "x", NULL };
	const char *st[] = { "uuid", UUID, "pool", "/p", "shutdown_timeout", "99999", NULL };
	const char *bo[] = { "uuid", UUID, "pool", "/p", "takeover", "maybe", NULL };
	g_auto(VmConfig) cfg = { 0 };
	g_autoptr(GError) e1 = NULL, e2 = NULL, e3 = NULL, e4 = NULL;

	(void)state;
	assert_false(parse(bw, &cfg, &e1));
	assert_non_null(strstr(e1->message, "migration_bandwidth_mibps"));
	assert_false(parse(dt, &cfg, &e2));
	assert_non_null(strstr(e2->message, "migration_max_downtime_ms"));
	assert_false(parse(st, &cfg, &e3));
	assert_non_null(strstr(e3->message, "shutdown_timeout"));
	assert_false(parse(bo, &cfg, &e4));
	assert_non_null(strstr(e4->message, "takeover"));
}

static void test_config_bad_template(void **state)
{
	const char *kv[] = {
		"uuid", UUID, "pool", "/p", "migration_uri_template", "qemu+tcp://node/system", NULL
	};
	g_auto(VmConfig) cfg = { 0 };
	g_autoptr(GError) err = NULL;

	(void)state;
	assert_false(parse(kv, &cfg, &err));
	assert_non_null(strstr(err->message, "migration_uri_template"));
}

static void test_uuid_valid(void **state)
{
	(void)state;
	assert_true(vm_uuid_valid(UUID));
	assert_false(vm_uuid_valid(NULL));
	assert_false(vm_uuid_valid(""));
	assert_false(vm_uuid_valid("6f1c3c0e-8a4b-4d5e-9f00-1234567890a"));
	assert_false(vm_uuid_valid("6f1c3c0e_8a4b-4d5e-9f00-1234567890ab"));
	assert_false(vm_uuid_valid("6f1c3c0e-8a4b-4d5e-9f00-1234567890ag"));
}

static void test_migration_uri(void **state)
{
	g_autofree char *a = vm_migration_uri("qemu+tcp://%s/system", "node2", NULL);
	g_autofree char *b =
		vm_migration_uri("qemu+tls://%s:16514/system?x=100%%", "10.0.0.2", NULL);

	(void)state;
	assert_string_equal(a, "qemu+tcp://node2/system");
	assert_string_equal(b, "qemu+tls://10.0.0.2:16514/system?x=100%");
}

static void test_migration_uri_rejects(void **state)
{
	g_autoptr(GError) e1 = NULL, e2 = NULL, e3 = NULL, e4 = NULL, e5 = NULL;

	(void)state;
	assert_null(vm_migration_uri("qemu+tcp://%s/%s", "n", &e1));
	assert_non_null(strstr(e1->message, "exactly one"));
	assert_null(vm_migration_uri("qemu+tcp://%d/system", "n", &e2));
	assert_null(vm_migration_uri("qemu+tcp://%s/system", "", &e3));
	assert_null(vm_migration_uri("qemu+tcp://%s/system", "a/b", &e4));
	assert_null(vm_migration_uri("qemu+tcp://%s/system", "user@host", &e5));
}

static void test_effective_migration_settings(void **state)
{
	VmConfig cfg = { 0 };
	IcsVmMeta m = { 0 };

	(void)state;
	m.migration_bandwidth_mibps = 50;
	m.migration_max_downtime_ms = 300;
	assert_int_equal(vm_effective_bandwidth(&cfg, &m), 50);
	assert_int_equal(vm_effective_downtime(&cfg, &m), 300);
	cfg.migration_bandwidth_mibps = 10;
	cfg.migration_max_downtime_ms = 100;
	assert_int_equal(vm_effective_bandwidth(&cfg, &m), 10);
	assert_int_equal(vm_effective_downtime(&cfg, &m), 100);
	assert_int_equal(vm_effective_bandwidth(&(VmConfig){ 0 }, NULL), 0);
}

static void test_deadlines(void **state)
{
	(void)state;
	assert_int_equal(vm_action_deadline_ms(90000), 88000);
	assert_int_equal(vm_action_deadline_ms(2000), 1000);
	assert_int_equal(vm_shutdown_wait_ms(60, 90000), 60000);
	assert_int_equal(vm_shutdown_wait_ms(60, 20000), 15000);
	assert_int_equal(vm_shutdown_wait_ms(60, 4000), 0);
	assert_int_equal(vm_shutdown_wait_ms(0, 90000), 0);
	assert_int_equal(vm_migrate_abort_ms(180000), 170000);
	assert_int_equal(vm_migrate_abort_ms(20000), 10000);
	assert_int_equal(vm_migrate_abort_ms(10000), 5000);
}

static VmHealth classify(gboolean present, int st, int reason, gboolean started, const char *last)
{
	VmObservation o = { .present = present,
			    .state = st,
			    .reason = reason,
			    .started_here = started,
			    .last_stop = last };

	return vm_health_classify(&o);
}

static void test_classify_running_paused(void **state)
{
	(void)state;
	assert_int_equal(classify(TRUE, VIR_DOMAIN_RUNNING, 1, TRUE, NULL), VM_HEALTH_RUNNING);
	assert_int_equal(classify(TRUE, VIR_DOMAIN_BLOCKED, 0, TRUE, NULL), VM_HEALTH_RUNNING);
	assert_int_equal(classify(TRUE, VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_IOERROR, TRUE, NULL),
			 VM_HEALTH_PAUSED_IOERROR);
	assert_int_equal(classify(TRUE, VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_MIGRATION, TRUE, NULL),
			 VM_HEALTH_RUNNING);
	assert_int_equal(classify(TRUE, VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_USER, TRUE, NULL),
			 VM_HEALTH_PAUSED);
	assert_int_equal(classify(TRUE, VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_CRASHED, TRUE, NULL),
			 VM_HEALTH_CRASHED_KEPT);
	assert_int_equal(classify(TRUE, VIR_DOMAIN_CRASHED, 1, TRUE, NULL), VM_HEALTH_CRASHED_KEPT);
	assert_int_equal(classify(TRUE, VIR_DOMAIN_SHUTDOWN, 1, TRUE, NULL), VM_HEALTH_STOPPING);
}

static void test_classify_shutoff(void **state)
{
	(void)state;
	assert_int_equal(
		classify(TRUE, VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_SHUTDOWN, FALSE, NULL),
		VM_HEALTH_ABSENT);
	assert_int_equal(
		classify(TRUE, VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_DESTROYED, TRUE, NULL),
		VM_HEALTH_STOPPED);
	assert_int_equal(classify(TRUE, VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_CRASHED, TRUE, NULL),
			 VM_HEALTH_CRASHED);
	assert_int_equal(classify(TRUE, VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_FAILED, FALSE, NULL),
			 VM_HEALTH_FAILED);
}

static void test_classify_gone(void **state)
{
	(void)state;
	assert_int_equal(classify(FALSE, 0, 0, FALSE, NULL), VM_HEALTH_ABSENT);
	assert_int_equal(classify(FALSE, 0, 0, FALSE, "crashed"), VM_HEALTH_ABSENT);
	assert_int_equal(classify(FALSE, 0, 0, TRUE, NULL), VM_HEALTH_FAILED);
	assert_int_equal(classify(FALSE, 0, 0, TRUE, "crashed"), VM_HEALTH_CRASHED);
	assert_int_equal(classify(FALSE, 0, 0, TRUE, "shutdown"), VM_HEALTH_STOPPED);
	assert_int_equal(classify(FALSE, 0, 0, TRUE, "destroyed"), VM_HEALTH_STOPPED);
	assert_int_equal(classify(FALSE, 0, 0, TRUE, "failed"), VM_HEALTH_FAILED);
}

static int decide(VmHealth h, IcsVmCrashPolicy p, gboolean probe, VmMonitorVerdict *v)
{
	vm_monitor_decide(h, p, probe, "web1", v);
	return v->rc;
}

static void test_monitor_plain_states(void **state)
{
	g_auto(VmMonitorVerdict) a = { 0 }, b = { 0 }, c = { 0 }, d = { 0 }, e = { 0 };

	(void)state;
	assert_int_equal(decide(VM_HEALTH_RUNNING, ICS_VM_CRASH_HA, FALSE, &a), OCF_SUCCESS);
	assert_int_equal(decide(VM_HEALTH_ABSENT, ICS_VM_CRASH_HA, TRUE, &b), OCF_NOT_RUNNING);
	assert_false(b.forget_start);
	assert_int_equal(decide(VM_HEALTH_STOPPED, ICS_VM_CRASH_HA, FALSE, &c), OCF_NOT_RUNNING);
	assert_true(c.forget_start);
	assert_non_null(strstr(c.message, "cleanly stopped"));
	assert_int_equal(decide(VM_HEALTH_PAUSED, ICS_VM_CRASH_HA, FALSE, &d), OCF_SUCCESS);
	assert_int_equal(decide(VM_HEALTH_STOPPING, ICS_VM_CRASH_HA, FALSE, &e), OCF_SUCCESS);
}

static void test_monitor_ioerror(void **state)
{
	g_auto(VmMonitorVerdict) v = { 0 };

	(void)state;
	assert_int_equal(decide(VM_HEALTH_PAUSED_IOERROR, ICS_VM_CRASH_NONE, FALSE, &v),
			 OCF_ERR_GENERIC);
	assert_non_null(strstr(v.message, "paused on I/O error"));
	assert_false(v.forget_start);
}

static void test_crash_ha_restart(void **state)
{
	g_auto(VmMonitorVerdict) a = { 0 }, b = { 0 }, c = { 0 };

	(void)state;
	assert_int_equal(decide(VM_HEALTH_CRASHED, ICS_VM_CRASH_HA, FALSE, &a), OCF_ERR_GENERIC);
	assert_non_null(strstr(a.message, "crash policy ha"));
	assert_non_null(strstr(a.message, "crashed"));
	assert_true(a.forget_start);
	assert_false(a.keep_stopped);
	assert_int_equal(decide(VM_HEALTH_CRASHED, ICS_VM_CRASH_RESTART, FALSE, &b),
			 OCF_ERR_GENERIC);
	assert_non_null(strstr(b.message, "on this node"));
	assert_int_equal(decide(VM_HEALTH_FAILED, ICS_VM_CRASH_HA, TRUE, &c), OCF_ERR_GENERIC);
	assert_non_null(strstr(c.message, "failed"));
}

static void test_crash_poweroff(void **state)
{
	g_auto(VmMonitorVerdict) v = { 0 };

	(void)state;
	assert_int_equal(decide(VM_HEALTH_CRASHED, ICS_VM_CRASH_POWEROFF, FALSE, &v),
			 OCF_NOT_RUNNING);
	assert_true(v.keep_stopped);
	assert_true(v.forget_start);
	assert_non_null(strstr(v.message, "clean stop"));
}

static void test_crash_none(void **state)
{
	g_auto(VmMonitorVerdict) kept = { 0 }, gone = { 0 }, kept_ha = { 0 };

	(void)state;
	/* QEMU alive and paused with the evidence: report running. */
	assert_int_equal(decide(VM_HEALTH_CRASHED_KEPT, ICS_VM_CRASH_NONE, FALSE, &kept),
			 OCF_SUCCESS);
	assert_int_equal(kept.level, ICS_LOG_WARNING);
	/* QEMU gone: nothing to keep, not running, logged. */
	assert_int_equal(decide(VM_HEALTH_CRASHED, ICS_VM_CRASH_NONE, FALSE, &gone),
			 OCF_NOT_RUNNING);
	assert_false(gone.keep_stopped);
	assert_int_equal(gone.level, ICS_LOG_WARNING);
	/* kept but the policy says ha (on_crash changed by hand): fail, keep marker */
	assert_int_equal(decide(VM_HEALTH_CRASHED_KEPT, ICS_VM_CRASH_HA, FALSE, &kept_ha),
			 OCF_ERR_GENERIC);
	assert_false(kept_ha.forget_start);
}

static void test_log_stop_reason(void **state)
{
	const char *log = "2026-11-26 10:00:00.000+0000: starting up libvirt version: 9.0.0\n"
			  "2026-11-26 10:01:00.000+0000: shutting down, reason=shutdown\n"
			  "2026-11-26 10:02:00.000+0000: starting up\n"
			  "2026-11-26 10:03:00.000+0000: shutting down, reason=crashed\n";
	g_autofree char *r = vm_log_last_stop_reason(log);
	g_autofree char *none = vm_log_last_stop_reason("starting up\n");
	g_autofree char *empty = vm_log_last_stop_reason("shutting down, reason=\n");

	(void)state;
	assert_string_equal(r, "crashed");
	assert_null(none);
	assert_null(empty);
	assert_null(vm_log_last_stop_reason(NULL));
}

static void test_rc_for_load_error(void **state)
{
	g_autoptr(GError) nf = g_error_new(ICS_ERROR, ICS_ERROR_NOT_FOUND, "x");
	g_autoptr(GError) inv = g_error_new(ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT, "x");
	g_autoptr(GError) parse = g_error_new(ICS_ERROR, ICS_ERROR_PARSE, "x");
	g_autoptr(GError) io = g_error_new(ICS_ERROR, ICS_ERROR_IO, "x");

	(void)state;
	assert_int_equal(vm_rc_for_load_error(nf), OCF_ERR_INSTALLED);
	assert_int_equal(vm_rc_for_load_error(inv), OCF_ERR_CONFIGURED);
	assert_int_equal(vm_rc_for_load_error(parse), OCF_ERR_CONFIGURED);
	assert_int_equal(vm_rc_for_load_error(io), OCF_ERR_GENERIC);
	assert_int_equal(vm_rc_for_load_error(NULL), OCF_ERR_GENERIC);
}

static void test_parse_quorate(void **state)
{
	const char *yes = "Quorum information\n------------------\nDate: x\n"
			  "Quorate:          Yes\n\nVotequorum information\n";
	const char *no = "Quorum information\nQuorate:          No\n";

	(void)state;
	assert_int_equal(vm_parse_quorate(yes), 1);
	assert_int_equal(vm_parse_quorate(no), 0);
	assert_int_equal(vm_parse_quorate("Cannot initialize QUORUM service\n"), -1);
	assert_int_equal(vm_parse_quorate(NULL), -1);
}

static void test_lease_decide(void **state)
{
	(void)state;
	assert_int_equal(vm_lease_decide(0, 1, ICS_HOST_UNKNOWN, TRUE), VM_LEASE_FREE);
	assert_int_equal(vm_lease_decide(1, 1, ICS_HOST_ALIVE, TRUE), VM_LEASE_MINE);
	/* a crashed owner still looks alive for 8 x io_timeout: fencing decides */
	assert_int_equal(vm_lease_decide(2, 1, ICS_HOST_ALIVE, TRUE), VM_LEASE_TAKEOVER);
	assert_int_equal(vm_lease_decide(2, 1, ICS_HOST_ALIVE, FALSE), VM_LEASE_REFUSE_ALIVE);
	assert_int_equal(vm_lease_decide(2, 1, ICS_HOST_FREE, TRUE), VM_LEASE_FREE);
	assert_int_equal(vm_lease_decide(2, 1, ICS_HOST_DEAD, TRUE), VM_LEASE_TAKEOVER);
	assert_int_equal(vm_lease_decide(2, 1, ICS_HOST_FAILING, TRUE), VM_LEASE_TAKEOVER);
	assert_int_equal(vm_lease_decide(2, 1, ICS_HOST_UNKNOWN, TRUE), VM_LEASE_TAKEOVER);
	/* without takeover: sanlock's own expiry (DEAD) grants it; failing waits */
	assert_int_equal(vm_lease_decide(2, 1, ICS_HOST_DEAD, FALSE), VM_LEASE_FREE);
	assert_int_equal(vm_lease_decide(2, 1, ICS_HOST_FAILING, FALSE),
			 VM_LEASE_REFUSE_NO_TAKEOVER);
	/* own id unknown: never "mine" */
	assert_int_equal(vm_lease_decide(2, 0, ICS_HOST_ALIVE, FALSE), VM_LEASE_REFUSE_ALIVE);
	assert_int_equal(vm_lease_decide(1, 0, ICS_HOST_ALIVE, TRUE), VM_LEASE_TAKEOVER);
}

/* Only FREE, MINE and a takeover that allowed or found it not needed let
 * start go on; every refusal is waited out (issue: a refusal left the VM
 * stopped for good once every survivor had refused). */
static void test_lease_go(void **state)
{
	(void)state;
	assert_true(vm_lease_go(VM_LEASE_FREE, ICS_TAKEOVER_REFUSE_UNKNOWN));
	assert_true(vm_lease_go(VM_LEASE_MINE, ICS_TAKEOVER_REFUSE_UNKNOWN));
	assert_true(vm_lease_go(VM_LEASE_TAKEOVER, ICS_TAKEOVER_ALLOW));
	assert_true(vm_lease_go(VM_LEASE_TAKEOVER, ICS_TAKEOVER_NOT_NEEDED));
	for (IcsTakeoverVerdict v = ICS_TAKEOVER_REFUSE_ALIVE; v <= ICS_TAKEOVER_WATCH; v++)
		assert_false(vm_lease_go(VM_LEASE_TAKEOVER, v));
	assert_false(vm_lease_go(VM_LEASE_REFUSE_ALIVE, ICS_TAKEOVER_ALLOW));
	assert_false(vm_lease_go(VM_LEASE_REFUSE_NO_TAKEOVER, ICS_TAKEOVER_ALLOW));
}

/* The wait budget covers sanlock's expiry (68 s at io_timeout 1) with the
 * start timeout vmpool writes (150 s), not with the old 90 s. */
static void test_lease_wait_budget(void **state)
{
	(void)state;
	assert_int_equal(vm_lease_wait_budget_ms(150000, 30000), 100000);
	assert_true(vm_lease_wait_budget_ms(150000, 30000) > 68000 + 10500);
	assert_true(vm_lease_wait_budget_ms(90000, 30000) < 68000);
	assert_int_equal(vm_lease_wait_budget_ms(50000, 30000), 0);
	assert_int_equal(vm_lease_wait_budget_ms(1000, 30000), 0);
}

static void test_migration_progress(void **state)
{
	g_autofree char *l =
		vm_migration_progress("web1", 64ull << 20, 64ull << 20, 128ull << 20, 2500);
	g_autofree char *z = vm_migration_progress("web1", 0, 0, 0, 0);

	(void)state;
	assert_string_equal(l, "migration of web1: 50% of 128 MiB, 64 MiB remaining, 2.5 s");
	assert_non_null(strstr(z, "0%"));
}

static void test_migration_target_problem(void **state)
{
	g_autofree char *none = vm_migration_target_problem(NULL, "n1", TRUE, TRUE);
	g_autofree char *self = vm_migration_target_problem("n1", "n1", TRUE, TRUE);
	g_autofree char *stranger = vm_migration_target_problem("x", "n1", FALSE, FALSE);
	g_autofree char *offline = vm_migration_target_problem("n2", "n1", TRUE, FALSE);
	g_autofree char *ok = vm_migration_target_problem("n2", "n1", TRUE, TRUE);

	(void)state;
	assert_non_null(strstr(none, "no migration target"));
	assert_non_null(strstr(self, "is this node"));
	assert_non_null(strstr(stranger, "not a cluster node"));
	assert_non_null(strstr(offline, "not online"));
	assert_null(ok);
}

static IcsHostInfo *host(const char *name, IcsHostState state)
{
	IcsHostInfo *h = g_new0(IcsHostInfo, 1);

	h->name = g_strdup(name);
	h->state = state;
	return h;
}

static void host_free(gpointer p)
{
	IcsHostInfo *h = p;

	g_free(h->name);
	g_free(h);
}

static void test_target_pool_problem(void **state)
{
	g_autoptr(GPtrArray) hosts = g_ptr_array_new_with_free_func(host_free);
	g_autofree char *ok = NULL, *failing = NULL, *absent = NULL, *none = NULL;

	(void)state;
	g_ptr_array_add(hosts, host("n1", ICS_HOST_ALIVE));
	g_ptr_array_add(hosts, host("n2", ICS_HOST_ALIVE));
	g_ptr_array_add(hosts, host("n3", ICS_HOST_FAILING));
	ok = vm_target_pool_problem(hosts, "gold", "n2");
	failing = vm_target_pool_problem(hosts, "gold", "n3");
	absent = vm_target_pool_problem(hosts, "gold", "n4");
	none = vm_target_pool_problem(NULL, "gold", "n2");
	assert_null(ok);
	assert_non_null(strstr(failing, "pool gold is not active on n3"));
	assert_non_null(strstr(failing, "failing"));
	assert_non_null(strstr(absent, "never joined"));
	assert_non_null(strstr(none, "never joined"));
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(vm_health_name(VM_HEALTH_PAUSED_IOERROR), "paused on I/O error");
	assert_string_equal(vm_health_name(VM_HEALTH_STOPPED), "cleanly stopped");
	assert_string_equal(vm_lease_action_name(VM_LEASE_TAKEOVER), "takeover");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_defaults),
		cmocka_unit_test(test_config_missing_uuid),
		cmocka_unit_test(test_config_bad_uuid),
		cmocka_unit_test(test_config_relative_pool),
		cmocka_unit_test(test_config_missing_pool),
		cmocka_unit_test(test_config_values),
		cmocka_unit_test(test_config_bad_numbers),
		cmocka_unit_test(test_config_bad_template),
		cmocka_unit_test(test_uuid_valid),
		cmocka_unit_test(test_migration_uri),
		cmocka_unit_test(test_migration_uri_rejects),
		cmocka_unit_test(test_effective_migration_settings),
		cmocka_unit_test(test_deadlines),
		cmocka_unit_test(test_classify_running_paused),
		cmocka_unit_test(test_classify_shutoff),
		cmocka_unit_test(test_classify_gone),
		cmocka_unit_test(test_monitor_plain_states),
		cmocka_unit_test(test_monitor_ioerror),
		cmocka_unit_test(test_crash_ha_restart),
		cmocka_unit_test(test_crash_poweroff),
		cmocka_unit_test(test_crash_none),
		cmocka_unit_test(test_log_stop_reason),
		cmocka_unit_test(test_rc_for_load_error),
		cmocka_unit_test(test_parse_quorate),
		cmocka_unit_test(test_lease_decide),
		cmocka_unit_test(test_lease_go),
		cmocka_unit_test(test_lease_wait_budget),
		cmocka_unit_test(test_migration_progress),
		cmocka_unit_test(test_migration_target_problem),
		cmocka_unit_test(test_target_pool_problem),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
