/*
 * test_manager_agent.c: the built ocf_ics_manager run as Pacemaker runs
 * it, with tests/fake-managerd standing in for ics-managerd (same command
 * line, same HTTPS health endpoint with a self-signed certificate in the
 * state dir).  Covers meta-data, bad parameters, the start/monitor/stop
 * cycle, start when running, stop when stopped, a 503 health answer, a
 * daemon that dies, one that ignores SIGTERM, one that fails to start, and
 * the quorum-disk decision at start (backend=drbd) with real DRBD
 * metadata and a stand-in crm_node that says whether the peer is a member,
 * and a certificate the operator installed that does not name localhost
 * (pinned at start; replaced on disk while running; tls_ca instead).
 * backend=shared needs a sanlock daemon and is covered by CTS.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <glib/gstdio.h>
#include <libxml/parser.h>
#include <libxml/valid.h>

#include "drbd_fixture.h"
#include "ics/client.h"
#include "ics/exec.h"
#include "quorum_disk.h"
#include "tls_fixture.h"

#define RA_DTD "/usr/share/resource-agents/ra-api-1.dtd"
enum { RC_OK = 0, RC_GENERIC = 1, RC_INSTALLED = 5, RC_CONFIGURED = 6, RC_NOT_RUNNING = 7 };

typedef struct {
	char *dir, *state, *run, *bin, *md, *qd, *members;
	char *agent, *fake, *drbdmeta;
	char *listen;
	char *path_env;
} Fixture;

static guint free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	close(fd);
	return ntohs(sa.sin_port);
}

static void set_members(Fixture *f, const char *text)
{
	assert_true(g_file_set_contents(f->members, text, -1, NULL));
}

static int setup(void **state)
{
	Fixture *f = g_new0(Fixture, 1);
	const char *builddir = g_getenv("ICS_BUILDDIR");
	g_autofree char *crm_node = NULL;
	g_autofree char *script = NULL;

	f->dir = g_dir_make_tmp("test-manager-agent-XXXXXX", NULL);
	f->state = g_build_filename(f->dir, "state", NULL);
	f->run = g_build_filename(f->dir, "run", NULL);
	f->bin = g_build_filename(f->dir, "bin", NULL);
	f->md = g_build_filename(f->dir, "drbd-md", NULL);
	f->qd = g_build_filename(f->dir, "quorum", NULL);
	f->members = g_build_filename(f->dir, "members", NULL);
	assert_int_equal(g_mkdir(f->state, 0755), 0);
	assert_int_equal(g_mkdir(f->bin, 0755), 0);
	f->agent = g_build_filename(builddir ? builddir : ".", "resource-agents", "ocf_ics_manager",
				    NULL);
	f->fake = g_build_filename(builddir ? builddir : ".", "resource-agents", "tests",
				   "fake-managerd", NULL);
	f->drbdmeta = fixture_drbdmeta();
	f->listen = g_strdup_printf("127.0.0.1:%u", free_port());
	/* crm_node stand-in: -l prints the members file, -n this node. */
	crm_node = g_build_filename(f->bin, "crm_node", NULL);
	script = g_strdup_printf("#!/bin/sh\ncase \"$1\" in\n-l) cat '%s';;\n-n) echo node1;;\n"
				 "*) exit 1;;\nesac\n",
				 f->members);
	assert_true(g_file_set_contents(crm_node, script, -1, NULL));
	assert_int_equal(chmod(crm_node, 0755), 0);
	set_members(f, "1 node1 member\n2 node2 member\n");
	f->path_env = g_strdup_printf("PATH=%s:%s:/usr/sbin:/sbin", f->bin, g_getenv("PATH"));
	assert_true(g_file_set_contents(f->qd, "", 0, NULL));
	assert_int_equal(truncate(f->qd, QUORUM_DISK_MIN_SIZE), 0);
	*state = f;
	return 0;
}

static pid_t daemon_pid(const Fixture *f)
{
	g_autofree char *path = g_build_filename(f->run, "mgr.pid", NULL);
	g_autofree char *text = NULL;

	if (!g_file_get_contents(path, &text, NULL, NULL))
		return 0;
	return (pid_t)atoi(text);
}

/* Has @pid ended (gone, or a zombie waiting for its reaper)? */
static gboolean ended(pid_t pid)
{
	g_autofree char *path = g_strdup_printf("/proc/%d/stat", (int)pid);
	g_autofree char *text = NULL;
	const char *rp;

	if (!g_file_get_contents(path, &text, NULL, NULL))
		return TRUE;
	rp = strrchr(text, ')');
	return rp != NULL && (rp[2] == 'Z' || rp[2] == 'X');
}

/* Wait (bounded, no timing assertion) for @pid to end. */
static void wait_ended(pid_t pid)
{
	for (int i = 0; i < 300 && !ended(pid); i++)
		g_usleep(50 * G_TIME_SPAN_MILLISECOND);
	assert_true(ended(pid));
}

static int teardown(void **state)
{
	Fixture *f = *state;
	g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", f->dir);
	pid_t pid = daemon_pid(f);

	/* A daemon a failed test left behind: the one this test started. */
	if (pid > 0 && !ended(pid)) {
		kill(pid, SIGKILL);
		wait_ended(pid);
	}
	assert_int_equal(system(cmd), 0);
	g_free(f->dir);
	g_free(f->state);
	g_free(f->run);
	g_free(f->bin);
	g_free(f->md);
	g_free(f->qd);
	g_free(f->members);
	g_free(f->agent);
	g_free(f->fake);
	g_free(f->drbdmeta);
	g_free(f->listen);
	g_free(f->path_env);
	g_free(f);
	return 0;
}

/* Run "agent ACTION" with the drbd defaults of this fixture plus @env
 * (KEY=VALUE, NULL-terminated; later entries win). */
static int agent(const Fixture *f, const char *action, const char *const *env, IcsExecResult *res)
{
	g_autoptr(GPtrArray) all = g_ptr_array_new_with_free_func(g_free);
	const char *argv[] = { f->agent, action, NULL };
	IcsExecOptions opts = { .argv = argv, .timeout_ms = 60000 };

	g_ptr_array_add(all, g_strdup_printf("ICS_MANAGER_RUN_DIR=%s", f->run));
	g_ptr_array_add(all, g_strdup(f->path_env));
	g_ptr_array_add(all, g_strdup("OCF_RESOURCE_INSTANCE=mgr"));
	g_ptr_array_add(all, g_strdup("OCF_RESKEY_CRM_meta_on_node=node1"));
	g_ptr_array_add(all, g_strdup("ICS_LOG_LEVEL=error"));
	g_ptr_array_add(all, g_strdup_printf("OCF_RESKEY_state_dir=%s", f->state));
	g_ptr_array_add(all, g_strdup_printf("OCF_RESKEY_listen=%s", f->listen));
	g_ptr_array_add(all, g_strdup_printf("OCF_RESKEY_binary=%s", f->fake));
	g_ptr_array_add(all, g_strdup("OCF_RESKEY_backend=drbd"));
	g_ptr_array_add(all, g_strdup_printf("OCF_RESKEY_drbd_meta=%s", f->md));
	g_ptr_array_add(all, g_strdup_printf("OCF_RESKEY_quorum_disk=%s", f->qd));
	g_ptr_array_add(all, g_strdup("OCF_RESKEY_peer=node2"));
	g_ptr_array_add(all, g_strdup("OCF_RESKEY_CRM_meta_interval=10000"));
	for (guint i = 0; env != NULL && env[i] != NULL; i++)
		g_ptr_array_add(all, g_strdup(env[i]));
	g_ptr_array_add(all, NULL);
	opts.env = (const char *const *)all->pdata;
	assert_true(ics_exec_run(&opts, res, NULL));
	return res->exit_status;
}

#define RUN(f, action, want, ...)                                                                  \
	do {                                                                                       \
		g_auto(IcsExecResult) r_ = { 0 };                                                  \
		const char *env_[] = { __VA_ARGS__, NULL };                                        \
		int rc_ = agent((f), (action), env_, &r_);                                         \
		if (rc_ != (want))                                                                 \
			fail_msg("%s: rc %d, want %d; stderr: %s", (action), rc_, (want), r_.err); \
	} while (0)

/* Run, and require @needle in the exit reason. */
#define RUN_REASON(f, action, want, needle, ...)                                                   \
	do {                                                                                       \
		g_auto(IcsExecResult) r_ = { 0 };                                                  \
		const char *env_[] = { __VA_ARGS__, NULL };                                        \
		int rc_ = agent((f), (action), env_, &r_);                                         \
		if (rc_ != (want))                                                                 \
			fail_msg("%s: rc %d, want %d; stderr: %s", (action), rc_, (want), r_.err); \
		if (strstr(r_.err, "ocf-exit-reason:") == NULL ||                                  \
		    strstr(r_.err, (needle)) == NULL)                                              \
			fail_msg("%s: '%s' not in the exit reason: %s", (action), (needle),        \
				 r_.err);                                                          \
	} while (0)

static void need_drbdmeta(Fixture *f, const char *uuids)
{
	if (f->drbdmeta == NULL) {
		print_message("drbdmeta not installed (drbd-utils)\n");
		skip();
	}
	assert_true(fixture_create_md(f->drbdmeta, "v09", f->md));
	if (uuids != NULL)
		assert_true(fixture_set_gi(f->drbdmeta, "v09", f->md, uuids));
}

static void test_metadata(void **state)
{
	Fixture *f = *state;
	g_auto(IcsExecResult) res = { 0 };
	const char *names[] = {
		"state_dir",  "listen",	   "binary",	  "backend", "drbd_resource",
		"drbd_minor", "drbd_meta", "quorum_disk", "peer",    "override_quorum",
		"pool",	      "lease",	   NULL
	};
	xmlDoc *doc;

	assert_int_equal(agent(f, "meta-data", NULL, &res), RC_OK);
	for (guint i = 0; names[i] != NULL; i++) {
		g_autofree char *attr = g_strdup_printf("<parameter name=\"%s\"", names[i]);

		if (strstr(res.out, attr) == NULL)
			fail_msg("parameter %s missing from meta-data", names[i]);
	}
	doc = xmlReadMemory(res.out, (int)res.out_len, "meta-data", NULL, XML_PARSE_NONET);
	assert_non_null(doc);
	if (g_file_test(RA_DTD, G_FILE_TEST_EXISTS)) {
		xmlDtd *dtd = xmlParseDTD(NULL, BAD_CAST RA_DTD);
		xmlValidCtxt *ctxt = xmlNewValidCtxt();

		assert_int_equal(xmlValidateDtd(ctxt, doc, dtd), 1);
		xmlFreeValidCtxt(ctxt);
		xmlFreeDtd(dtd);
	}
	xmlFreeDoc(doc);
}

static void test_bad_params(void **state)
{
	Fixture *f = *state;

	RUN_REASON(f, "start", RC_CONFIGURED, "backend", "OCF_RESKEY_backend=nfs");
	RUN_REASON(f, "monitor", RC_CONFIGURED, "backend", "OCF_RESKEY_backend=");
	RUN_REASON(f, "start", RC_CONFIGURED, "listen", "OCF_RESKEY_listen=8443");
	RUN_REASON(f, "start", RC_CONFIGURED, "absolute", "OCF_RESKEY_state_dir=state");
	RUN_REASON(f, "start", RC_CONFIGURED, "peer", "OCF_RESKEY_peer=");
	RUN_REASON(f, "start", RC_CONFIGURED, "quorum_disk", "OCF_RESKEY_quorum_disk=");
	RUN_REASON(f, "stop", RC_CONFIGURED, "override_quorum", "OCF_RESKEY_override_quorum=maybe");
	RUN_REASON(f, "validate-all", RC_CONFIGURED, "drbd_format", "OCF_RESKEY_drbd_format=v10");
	RUN_REASON(f, "start", RC_CONFIGURED, "pool", "OCF_RESKEY_backend=shared");
	/* This node named as its own peer. */
	need_drbdmeta(f, NULL);
	RUN_REASON(f, "start", RC_CONFIGURED, "is this node", "OCF_RESKEY_peer=node1");
	RUN_REASON(f, "monitor", RC_CONFIGURED, "must name this node",
		   "OCF_RESKEY_peer=node2,node3");
	RUN_REASON(f, "start", RC_CONFIGURED, "expected", "OCF_RESKEY_peer=a,b,c");
}

static void test_not_installed(void **state)
{
	Fixture *f = *state;

	RUN_REASON(f, "validate-all", RC_INSTALLED, "not installed",
		   "OCF_RESKEY_binary=/nonexistent/ics-managerd");
	RUN_REASON(f, "start", RC_INSTALLED, "not installed",
		   "OCF_RESKEY_binary=/nonexistent/ics-managerd");
	RUN(f, "validate-all", RC_OK, NULL);
}

static void test_cycle(void **state)
{
	Fixture *f = *state;
	g_auto(QuorumRecord) rec = { 0 };
	g_autofree char *args_file = g_build_filename(f->state, "fake-managerd.args", NULL);
	g_autofree char *args = NULL;
	pid_t pid;

	need_drbdmeta(f, NULL);
	/* A probe writes nothing; a recurring monitor on the stopped node
	 * (role=Stopped) records it as standby. */
	RUN(f, "monitor", RC_NOT_RUNNING, "OCF_RESKEY_CRM_meta_interval=0");
	assert_false(
		quorum_disk_read(f->qd, quorum_slot_of("node1", "node2"), "node1", &rec, NULL));
	RUN(f, "monitor", RC_NOT_RUNNING, NULL);
	assert_true(quorum_disk_read(f->qd, quorum_slot_of("node1", "node2"), "node1", &rec, NULL));
	assert_false(rec.serving);
	quorum_record_clear(&rec);
	RUN(f, "stop", RC_OK, NULL); /* stop when stopped */
	/* One primitive for both nodes: peer= names both. */
	RUN(f, "start", RC_OK, "OCF_RESKEY_peer=node2,node1");
	pid = daemon_pid(f);
	assert_true(pid > 0 && !ended(pid));
	assert_true(g_file_get_contents(args_file, &args, NULL, NULL));
	assert_non_null(strstr(args, "--foreground\n"));
	assert_non_null(strstr(args, "--state-dir\n"));
	assert_non_null(strstr(args, f->state));
	assert_non_null(strstr(args, f->listen));
	RUN(f, "monitor", RC_OK, NULL);
	/* The monitor recorded this node as serving. */
	assert_true(quorum_disk_read(f->qd, quorum_slot_of("node1", "node2"), "node1", &rec, NULL));
	assert_true(rec.serving);
	assert_int_equal(rec.gi.current, DRBD_GI_JUST_CREATED);
	quorum_record_clear(&rec);
	/* start when running: success, same daemon. */
	RUN(f, "start", RC_OK, NULL);
	assert_int_equal(daemon_pid(f), pid);
	RUN(f, "stop", RC_OK, NULL);
	wait_ended(pid);
	RUN(f, "monitor", RC_NOT_RUNNING, NULL);
	RUN(f, "stop", RC_OK, NULL);
	assert_true(quorum_disk_read(f->qd, quorum_slot_of("node1", "node2"), "node1", &rec, NULL));
	assert_false(rec.serving);
}

static char *run_file(const Fixture *f, const char *name)
{
	g_autofree char *path = g_build_filename(f->run, name, NULL);
	char *text = NULL;

	if (!g_file_get_contents(path, &text, NULL, NULL))
		return NULL;
	return g_strstrip(text);
}

/* The operator installed a certificate for the VIP's name (not localhost)
 * in the state directory: start pins its key and the monitors pass.  A
 * certificate replaced on disk while the daemon runs does not fail the
 * monitor (the daemon still serves the key start pinned); the next start
 * pins the new one.  tls_ca verifies names instead, and fails on it. */
static void test_installed_certificate(void **state)
{
	Fixture *f = *state;
	g_autofree char *cert = g_build_filename(f->state, "tls-cert.pem", NULL);
	g_autofree char *key = g_build_filename(f->state, "tls-key.pem", NULL);
	g_autofree char *pin_file = g_build_filename(f->run, "mgr.pin", NULL);
	g_autofree char *pin1 = NULL, *pin2 = NULL, *kept = NULL, *ca_env = NULL;
	pid_t pid;

	need_drbdmeta(f, NULL);
	assert_true(tls_fixture_make_cert_named(cert, key, "manager.example.com", NULL));
	pin1 = ics_rest_pin_from_cert_file(cert, NULL);
	assert_non_null(pin1);
	RUN(f, "start", RC_OK, NULL);
	pid = daemon_pid(f);
	kept = run_file(f, "mgr.pin");
	assert_non_null(kept);
	assert_string_equal(kept, pin1);
	RUN(f, "monitor", RC_OK, NULL);
	/* Installed while running, before the restart. */
	assert_true(tls_fixture_make_cert_named(cert, key, "manager.example.com", NULL));
	pin2 = ics_rest_pin_from_cert_file(cert, NULL);
	assert_string_not_equal(pin1, pin2);
	RUN(f, "monitor", RC_OK, NULL);
	/* A daemon that no longer serves the key start pinned is not healthy. */
	assert_true(g_file_set_contents(pin_file, pin2, -1, NULL));
	RUN_REASON(f, "monitor", RC_GENERIC, "is not the pinned one", NULL);
	RUN(f, "stop", RC_OK, NULL);
	wait_ended(pid);
	assert_false(g_file_test(pin_file, G_FILE_TEST_EXISTS));
	RUN(f, "start", RC_OK, NULL);
	g_free(kept);
	kept = run_file(f, "mgr.pin");
	assert_string_equal(kept, pin2);
	RUN(f, "monitor", RC_OK, NULL);
	/* tls_ca: chain and the name localhost, which this certificate lacks. */
	ca_env = g_strdup_printf("OCF_RESKEY_tls_ca=%s", cert);
	RUN_REASON(f, "monitor", RC_GENERIC, "cannot verify the TLS certificate", ca_env);
	RUN(f, "stop", RC_OK, NULL);
}

static void test_health_503(void **state)
{
	Fixture *f = *state;
	g_autofree char *ctl = g_build_filename(f->state, "fake-health", NULL);

	need_drbdmeta(f, NULL);
	RUN(f, "start", RC_OK, NULL);
	assert_true(g_file_set_contents(ctl, "503", -1, NULL));
	RUN_REASON(f, "monitor", RC_GENERIC, "HTTP 503", NULL);
	assert_int_equal(g_unlink(ctl), 0);
	RUN(f, "monitor", RC_OK, NULL);
	RUN(f, "stop", RC_OK, NULL);
}

static void test_daemon_dies(void **state)
{
	Fixture *f = *state;
	pid_t pid;

	need_drbdmeta(f, NULL);
	RUN(f, "start", RC_OK, NULL);
	pid = daemon_pid(f);
	assert_int_equal(kill(pid, SIGKILL), 0);
	wait_ended(pid);
	RUN_REASON(f, "monitor", RC_GENERIC, "is gone", NULL);
	/* A probe (interval 0) after a reboot-like loss: not running. */
	RUN(f, "monitor", RC_NOT_RUNNING, "OCF_RESKEY_CRM_meta_interval=0");
	RUN(f, "stop", RC_OK, NULL);
	RUN(f, "monitor", RC_NOT_RUNNING, NULL);
}

static void test_sigterm_ignored(void **state)
{
	Fixture *f = *state;
	g_autofree char *ctl = g_build_filename(f->state, "fake-ignore-term", NULL);
	pid_t pid;

	need_drbdmeta(f, NULL);
	assert_true(g_file_set_contents(ctl, "", 0, NULL));
	RUN(f, "start", RC_OK, NULL);
	pid = daemon_pid(f);
	RUN(f, "stop", RC_OK, "OCF_RESKEY_stop_timeout=1");
	wait_ended(pid);
	RUN(f, "monitor", RC_NOT_RUNNING, NULL);
}

static void test_start_fails(void **state)
{
	Fixture *f = *state;
	g_autofree char *ctl = g_build_filename(f->state, "fake-fail-start", NULL);

	need_drbdmeta(f, NULL);
	assert_true(g_file_set_contents(ctl, "database is locked", -1, NULL));
	RUN_REASON(f, "start", RC_GENERIC, "database is locked", NULL);
	RUN(f, "monitor", RC_NOT_RUNNING, NULL);
	RUN_REASON(f, "start", RC_GENERIC, "state_dir",
		   "OCF_RESKEY_state_dir=/nonexistent/manager-state");
}

/* Peer absent, no record of it: refused, nothing started; the override
 * starts. */
static void test_quorum_refuses_without_peer_record(void **state)
{
	Fixture *f = *state;

	need_drbdmeta(f, "5A5A5A5A5A5A5A5A:0000000000000000:3030303030303030:0000000000000000");
	set_members(f, "1 node1 member\n2 node2 lost\n");
	RUN_REASON(f, "start", RC_GENERIC, "no usable quorum-disk record of peer node2", NULL);
	assert_int_equal(daemon_pid(f), 0);
	RUN(f, "start", RC_OK, "OCF_RESKEY_override_quorum=true");
	RUN(f, "stop", RC_OK, NULL);
}

/* Peer absent and it recorded newer data (this node is behind): refused
 * with both GIs, even with the override. */
static void test_quorum_refuses_behind(void **state)
{
	Fixture *f = *state;
	QuorumRecord peer = { .node = (char *)"node2",
			      .resource = (char *)"ics-manager",
			      .written = g_get_real_time() / G_USEC_PER_SEC - 600,
			      .period_s = 10,
			      .serving = TRUE };
	g_autoptr(GError) error = NULL;

	need_drbdmeta(f, "5A5A5A5A5A5A5A5A:0000000000000000:3030303030303030:0000000000000000");
	peer.gi.current = 0x9C9C9C9C9C9C9C9CULL;
	peer.gi.bitmap[peer.gi.n_bitmap++] = 0x5A5A5A5A5A5A5A5AULL;
	assert_true(quorum_disk_write(f->qd, quorum_slot_of("node2", "node1"), &peer, &error));
	set_members(f, "1 node1 member\n");
	RUN_REASON(f, "start", RC_GENERIC, "5A5A5A5A5A5A5A5A", NULL);
	RUN_REASON(f, "start", RC_GENERIC, "9C9C9C9C9C9C9C9C", "OCF_RESKEY_override_quorum=true");
	assert_int_equal(daemon_pid(f), 0);
	/* With the peer back in the cluster DRBD resynchronizes: no decision. */
	set_members(f, "1 node1 member\n2 node2 member\n");
	RUN(f, "start", RC_OK, NULL);
	RUN(f, "stop", RC_OK, NULL);
}

/* Peer absent; this node went on alone after it (ahead): starts. */
static void test_quorum_starts_ahead(void **state)
{
	Fixture *f = *state;
	QuorumRecord peer = { .node = (char *)"node2",
			      .resource = (char *)"ics-manager",
			      .written = g_get_real_time() / G_USEC_PER_SEC - 3600,
			      .period_s = 10,
			      .serving = TRUE };

	QuorumRecord self = peer;

	need_drbdmeta(f, "7B7B7B7B7B7B7B7A:5A5A5A5A5A5A5A5A:3030303030303030:0000000000000000");
	peer.gi.current = 0x5A5A5A5A5A5A5A5AULL;
	assert_true(quorum_disk_write(f->qd, quorum_slot_of("node2", "node1"), &peer, NULL));
	set_members(f, "1 node1 member\n2 node2 lost\n");
	/* Without a record of its own this node cannot tell that the serving
	 * peer stopped first. */
	RUN_REASON(f, "start", RC_GENERIC, "no record", NULL);
	/* It recorded (serving, GI 7B..) long after the peer's last record. */
	self.node = (char *)"node1";
	self.written = peer.written + 3000;
	self.gi.current = 0x7B7B7B7B7B7B7B7AULL;
	assert_true(quorum_disk_write(f->qd, quorum_slot_of("node1", "node2"), &self, NULL));
	RUN(f, "start", RC_OK, NULL);
	RUN(f, "monitor", RC_OK, NULL);
	RUN(f, "stop", RC_OK, NULL);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_metadata),
		T(test_bad_params),
		T(test_not_installed),
		T(test_cycle),
		T(test_installed_certificate),
		T(test_health_503),
		T(test_daemon_dies),
		T(test_sigterm_ignored),
		T(test_start_fails),
		T(test_quorum_refuses_without_peer_record),
		T(test_quorum_refuses_behind),
		T(test_quorum_starts_ahead),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
