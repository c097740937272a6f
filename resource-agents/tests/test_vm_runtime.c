/*
 * test_vm_runtime.c: ocf:ics:vm against the real libvirt library, through
 * its in-process test driver (test:///default; no lease, no daemon).
 *
 * Part one calls the functions the agent uses (vm_runtime.c + vm_logic.c)
 * on one connection: start a transient domain from XML generated from a
 * definition on a temporary pool, observe and classify it (running, paused,
 * gone without a stop), stop it by ACPI and by destroy.  Part two runs the
 * built agent as Pacemaker does (OCF_RESKEY_*, lease=false,
 * quorum_check=false): meta-data, validation codes, a start, a monitor that
 * finds the VM gone without a stop (the test driver forgets everything
 * between processes, which is exactly a QEMU that vanished), stop, probe.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ics/error.h"
#include "ics/exec.h"
#include "ics/vmdef.h"
#include "ocf.h"
#include "vm_logic.h"
#include "vm_runtime.h"

#define UUID "6f1c3c0e-8a4b-4d5e-9f00-1234567890ab"

typedef struct {
	char *dir; /* temporary: the pool and the agent's state dir */
	char *pool;
	char *agent;
	IcsVmMeta *meta;
} Fixture;

static IcsVmMeta *define_vm(const char *pool, const char *policy)
{
	g_autofree char *json = g_strdup_printf(
		"{\"uuid\": \"%s\", \"name\": \"t-web1\", \"vcpus\": 1, \"memory_mib\": 128,"
		" \"virt_type\": \"qemu\", \"crash_policy\": \"%s\","
		" \"disks\": [{\"path\": \"%s/images/web1.qcow2\", \"format\": \"qcow2\"}],"
		" \"lease\": {\"lockspace\": \"ics-t\", \"name\": \"%s\","
		" \"path\": \"%s/.ics/leases\", \"offset\": 1048576}}",
		UUID, policy, pool, UUID, pool);
	g_autoptr(GError) err = NULL;
	IcsVmMeta *m = ics_vm_meta_parse(json, pool, &err);

	if (m == NULL)
		fail_msg("%s", err->message);
	if (!ics_vm_store_save(pool, m, &err))
		fail_msg("%s", err->message);
	return m;
}

static int setup(void **state)
{
	Fixture *f = g_new0(Fixture, 1);
	const char *builddir = g_getenv("ICS_BUILDDIR");

	f->dir = g_dir_make_tmp("test-vm-XXXXXX", NULL);
	assert_non_null(f->dir);
	f->pool = g_build_filename(f->dir, "pool", NULL);
	f->agent =
		g_build_filename(builddir ? builddir : ".", "resource-agents", "ocf_ics_vm", NULL);
	f->meta = define_vm(f->pool, "ha");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	Fixture *f = *state;
	g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", f->dir);

	assert_int_equal(system(cmd), 0);
	ics_vm_meta_free(f->meta);
	g_free(f->dir);
	g_free(f->pool);
	g_free(f->agent);
	g_free(f);
	return 0;
}

static char *xml_without_lease(IcsVmMeta *m)
{
	g_autoptr(GError) err = NULL;
	char *xml;

	m->has_lease = FALSE;
	xml = ics_domain_xml(m, &err);
	if (xml == NULL)
		fail_msg("%s", err->message);
	return xml;
}

static VmHealth health(virConnectPtr conn, gboolean started_here)
{
	VmObservation o = { .started_here = started_here };

	assert_true(vm_observe(conn, UUID, &o, NULL));
	return vm_health_classify(&o);
}

static void test_start_observe_stop(void **state)
{
	Fixture *f = *state;
	g_autofree char *xml = xml_without_lease(f->meta);
	g_autoptr(GError) err = NULL;
	virConnectPtr conn = vm_connect("test:///default", &err);
	gboolean forced = TRUE;

	assert_non_null(conn);
	assert_int_equal(health(conn, FALSE), VM_HEALTH_ABSENT);
	assert_true(vm_domain_start(conn, xml, 5000, &err));
	assert_int_equal(health(conn, TRUE), VM_HEALTH_RUNNING);
	/* ACPI shutdown works in the test driver: no destroy needed */
	assert_true(vm_domain_stop(conn, UUID, 5000, &forced, &err));
	assert_false(forced);
	assert_int_equal(health(conn, FALSE), VM_HEALTH_ABSENT);
	/* stop of a VM that is not there: success */
	assert_true(vm_domain_stop(conn, UUID, 5000, &forced, &err));
	virConnectClose(conn);
}

static void test_destroy_when_no_wait(void **state)
{
	Fixture *f = *state;
	g_autofree char *xml = xml_without_lease(f->meta);
	virConnectPtr conn = vm_connect("test:///default", NULL);
	gboolean forced = FALSE;

	assert_non_null(conn);
	assert_true(vm_domain_start(conn, xml, 5000, NULL));
	assert_true(vm_domain_stop(conn, UUID, 0, &forced, NULL));
	assert_true(forced);
	assert_int_equal(health(conn, FALSE), VM_HEALTH_ABSENT);
	virConnectClose(conn);
}

static void test_paused_and_vanished(void **state)
{
	Fixture *f = *state;
	g_autofree char *xml = xml_without_lease(f->meta);
	virConnectPtr conn = vm_connect("test:///default", NULL);
	virDomainPtr dom;
	g_auto(VmMonitorVerdict) paused = { 0 }, gone = { 0 };

	assert_non_null(conn);
	assert_true(vm_domain_start(conn, xml, 5000, NULL));
	dom = virDomainLookupByUUIDString(conn, UUID);
	assert_non_null(dom);
	assert_int_equal(virDomainSuspend(dom), 0);
	vm_monitor_decide(health(conn, TRUE), ICS_VM_CRASH_HA, FALSE, "t-web1", &paused);
	assert_int_equal(paused.rc, OCF_SUCCESS);
	assert_int_equal(paused.level, ICS_LOG_WARNING);
	/* destroyed behind the agent's back, no stop asked: a failure */
	assert_int_equal(virDomainDestroy(dom), 0);
	virDomainFree(dom);
	vm_monitor_decide(health(conn, TRUE), ICS_VM_CRASH_HA, FALSE, "t-web1", &gone);
	assert_int_equal(gone.rc, OCF_ERR_GENERIC);
	assert_true(gone.forget_start);
	virConnectClose(conn);
}

static void test_start_twice_refused(void **state)
{
	Fixture *f = *state;
	g_autofree char *xml = xml_without_lease(f->meta);
	virConnectPtr conn = vm_connect("test:///default", NULL);
	g_autoptr(GError) err = NULL;

	assert_non_null(conn);
	assert_true(vm_domain_start(conn, xml, 5000, NULL));
	assert_false(vm_domain_start(conn, xml, 5000, &err));
	assert_non_null(strstr(err->message, "libvirt refused"));
	virConnectClose(conn);
}

static void test_connect_failure(void **state)
{
	g_autoptr(GError) err = NULL;

	(void)state;
	assert_null(vm_connect("qemu+unix:///system?socket=/nonexistent/sock", &err));
	assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_UNAVAILABLE));
	assert_non_null(strstr(err->message, "cannot connect"));
}

/* ---- the built agent -------------------------------------------------- */

static int agent(const Fixture *f, const char *action, const char *const *extra, IcsExecResult *res)
{
	g_autofree char *state_env = g_strdup_printf("ICS_VM_STATE_DIR=%s/state", f->dir);
	g_autofree char *log_env = g_strdup_printf("ICS_QEMU_LOG_DIR=%s/logs", f->dir);
	g_autofree char *pool_env = g_strdup_printf("OCF_RESKEY_pool=%s", f->pool);
	g_autoptr(GPtrArray) all = g_ptr_array_new();
	const char *argv[] = { f->agent, action, NULL };
	IcsExecOptions opts = { .argv = argv, .timeout_ms = 60000 };

	g_ptr_array_add(all, state_env);
	g_ptr_array_add(all, log_env);
	g_ptr_array_add(all, pool_env);
	g_ptr_array_add(all, "OCF_RESKEY_uuid=" UUID);
	g_ptr_array_add(all, "OCF_RESKEY_libvirt_uri=test:///default");
	g_ptr_array_add(all, "OCF_RESKEY_lease=false");
	g_ptr_array_add(all, "OCF_RESKEY_quorum_check=false");
	g_ptr_array_add(all, "OCF_RESOURCE_INSTANCE=vm-test");
	g_ptr_array_add(all, "ICS_LOG_LEVEL=error");
	for (guint i = 0; extra != NULL && extra[i] != NULL; i++)
		g_ptr_array_add(all, (gpointer)extra[i]);
	g_ptr_array_add(all, NULL);
	opts.env = (const char *const *)all->pdata;
	ics_exec_result_clear(res);
	assert_true(ics_exec_run(&opts, res, NULL));
	return res->exit_status;
}

static void test_agent_metadata(void **state)
{
	Fixture *f = *state;
	g_auto(IcsExecResult) res = { 0 };

	assert_int_equal(agent(f, "meta-data", NULL, &res), OCF_SUCCESS);
	assert_non_null(strstr(res.out, "<resource-agent name=\"vm\""));
	assert_non_null(strstr(res.out, "name=\"migrate_to\""));
	assert_non_null(strstr(res.out, "name=\"migrate_from\""));
	assert_non_null(strstr(res.out, "allow-migrate=true"));
	assert_non_null(strstr(res.out, "name=\"takeover\""));
}

static void test_agent_validate(void **state)
{
	Fixture *f = *state;
	g_auto(IcsExecResult) res = { 0 };
	const char *bad_uuid[] = { "OCF_RESKEY_uuid=web1", NULL };
	const char *unknown[] = { "OCF_RESKEY_uuid=00000000-0000-0000-0000-000000000000", NULL };
	const char *no_pool[] = { "OCF_RESKEY_pool=/nonexistent/pool", NULL };

	assert_int_equal(agent(f, "validate-all", NULL, &res), OCF_SUCCESS);
	assert_int_equal(agent(f, "validate-all", bad_uuid, &res), OCF_ERR_CONFIGURED);
	assert_non_null(strstr(res.err, "ocf-exit-reason:parameter uuid"));
	assert_int_equal(agent(f, "start", unknown, &res), OCF_ERR_INSTALLED);
	assert_non_null(strstr(res.err, "ocf-exit-reason:"));
	assert_int_equal(agent(f, "start", no_pool, &res), OCF_ERR_INSTALLED);
	assert_non_null(strstr(res.err, "is not available on this node"));
	assert_int_equal(agent(f, "frobnicate", NULL, &res), OCF_ERR_UNIMPLEMENTED);
}

static void test_agent_lifecycle(void **state)
{
	Fixture *f = *state;
	g_auto(IcsExecResult) res = { 0 };
	const char *probe[] = { "OCF_RESKEY_CRM_meta_interval=0", NULL };
	const char *recurring[] = { "OCF_RESKEY_CRM_meta_interval=10000", NULL };
	g_autofree char *logdir = g_build_filename(f->dir, "logs", NULL);
	g_autofree char *log = g_build_filename(logdir, "t-web1.log", NULL);

	assert_int_equal(agent(f, "monitor", probe, &res), OCF_NOT_RUNNING);
	assert_int_equal(agent(f, "start", NULL, &res), OCF_SUCCESS);
	/* a new process = a new test driver: the VM vanished without a stop */
	assert_int_equal(agent(f, "monitor", recurring, &res), OCF_ERR_GENERIC);
	assert_non_null(strstr(res.err, "ocf-exit-reason:vm t-web1 failed"));
	assert_non_null(strstr(res.err, "crash policy ha"));
	/* reported once: the marker is gone, the next answer is "not running" */
	assert_int_equal(agent(f, "monitor", recurring, &res), OCF_NOT_RUNNING);
	/* the same, with libvirt's log saying the guest crashed */
	assert_int_equal(agent(f, "start", NULL, &res), OCF_SUCCESS);
	assert_int_equal(g_mkdir_with_parents(logdir, 0755), 0);
	assert_true(g_file_set_contents(log, "x: shutting down, reason=crashed\n", -1, NULL));
	assert_int_equal(agent(f, "monitor", recurring, &res), OCF_ERR_GENERIC);
	assert_non_null(strstr(res.err, "crashed (guest panic"));
	/* and with libvirt saying it was shut down: clean */
	assert_int_equal(agent(f, "start", NULL, &res), OCF_SUCCESS);
	assert_true(g_file_set_contents(log, "x: shutting down, reason=shutdown\n", -1, NULL));
	assert_int_equal(agent(f, "monitor", recurring, &res), OCF_NOT_RUNNING);
	assert_null(strstr(res.err, "ocf-exit-reason"));
	assert_int_equal(agent(f, "stop", NULL, &res), OCF_SUCCESS);
	assert_int_equal(agent(f, "monitor", probe, &res), OCF_NOT_RUNNING);
}

static void test_agent_migrate_from_absent(void **state)
{
	Fixture *f = *state;
	g_auto(IcsExecResult) res = { 0 };

	assert_int_equal(agent(f, "migrate_from", NULL, &res), OCF_ERR_GENERIC);
	assert_non_null(strstr(res.err, "ocf-exit-reason:"));
}

static void test_agent_libvirtd_down(void **state)
{
	Fixture *f = *state;
	g_auto(IcsExecResult) res = { 0 };
	const char *down[] = { "OCF_RESKEY_libvirt_uri=qemu+unix:///system?socket=/nonexistent",
			       "OCF_RESKEY_CRM_meta_timeout=20000", NULL };

	assert_int_equal(agent(f, "stop", down, &res), OCF_ERR_GENERIC);
	assert_non_null(strstr(res.err, "ocf-exit-reason:libvirtd on this node does not answer"));
	/* probe: no QEMU of this VM here, nothing started: not running */
	assert_int_equal(agent(f, "monitor", down, &res), OCF_NOT_RUNNING);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_start_observe_stop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_destroy_when_no_wait, setup, teardown),
		cmocka_unit_test_setup_teardown(test_paused_and_vanished, setup, teardown),
		cmocka_unit_test_setup_teardown(test_start_twice_refused, setup, teardown),
		cmocka_unit_test(test_connect_failure),
		cmocka_unit_test_setup_teardown(test_agent_metadata, setup, teardown),
		cmocka_unit_test_setup_teardown(test_agent_validate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_agent_lifecycle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_agent_migrate_from_absent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_agent_libvirtd_down, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
