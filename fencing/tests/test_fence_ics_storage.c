/*
 * test_fence_ics_storage.c: the storage fencing verdict and the agent's
 * actions, with libicslock replaced by a fake world of pools and hosts.
 *
 * The agent's source is included so its static decision functions can be
 * called directly; the few libicslock functions it uses are defined here
 * over a table (pool path -> io_timeout, the hosts the "local daemon"
 * reports, with a host's state changing after a number of polls, and what
 * each host's delta lease reads on disk; corosync's node list; the
 * lockspaces joined; the local daemon's watchdog), so the off/reboot loop,
 * status, list, host_map and the pool set run for real without sanlock.
 * The pool set (direct primitives and resource templates) and the
 * watchdog each node published (node attribute ics-sanlock-watchdog) are
 * read from a real CIB file through libcib (CIB_file), as every Pacemaker
 * tool can be pointed at one.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <glib/gstdio.h>

int fence_ics_storage_main(int argc, char **argv);
#define main fence_ics_storage_main
#include "../fence_ics_storage.c"
#undef main

#include "ics/xml.h"

/* ---- the fake libicslock ---------------------------------------------- */

typedef struct {
	guint64 id;
	const char *name;
	IcsHostState state;
	gint64 age_s;
	int dies_after;	   /* polls until it turns DEAD; 0 = never changes */
	gboolean hidden;   /* on disk (not free), but the daemon does not list it */
	gboolean released; /* on disk, free (a takeover released it, or it left);
			    * the daemon does not list it */
} FakeHost;

typedef struct {
	const char *path;
	gboolean missing;    /* ics_pool_open fails */
	gboolean not_joined; /* ics_pool_hosts fails */
	guint io_timeout;
	FakeHost hosts[4];
	guint n_hosts;
} FakePool;

struct IcsPool {
	FakePool *fake;
};

static FakePool world[4];
static guint world_len;
static GPtrArray *opened;	/* paths given to ics_pool_open */
static GPtrArray *opened_uuids; /* the uuid each was opened with ("" = none) */
static const char *joined[4];	/* what ics_joined_pool_paths reports */
static gboolean fake_watchdog;
static gboolean no_corosync;
static char *cib_file;

static const IcsCorosyncNode corosync[] = {
	{ 1, (char *)"node1", NULL },
	{ 2, (char *)"node2", NULL },
	{ 3, (char *)"node3", NULL },
};

IcsPool *ics_pool_open(const char *path, const char *expect_uuid, GError **error)
{
	g_ptr_array_add(opened, g_strdup(path));
	g_ptr_array_add(opened_uuids, g_strdup(expect_uuid ? expect_uuid : ""));
	for (guint i = 0; i < world_len; i++) {
		if (strcmp(world[i].path, path) != 0)
			continue;
		if (world[i].missing)
			break;
		IcsPool *p = g_new0(IcsPool, 1);

		p->fake = &world[i];
		return p;
	}
	g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND, "%s: no pool here", path);
	return NULL;
}

void ics_pool_free(IcsPool *pool)
{
	g_free(pool);
}

guint ics_pool_io_timeout(const IcsPool *pool)
{
	return pool->fake->io_timeout;
}

void ics_host_info_free(IcsHostInfo *h)
{
	g_free(h->name);
	g_free(h);
}

GPtrArray *ics_pool_hosts(IcsPool *pool, GError **error)
{
	GPtrArray *a;

	if (pool->fake->not_joined) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_UNAVAILABLE, "lockspace not joined");
		return NULL;
	}
	a = g_ptr_array_new_with_free_func((GDestroyNotify)ics_host_info_free);
	for (guint i = 0; i < pool->fake->n_hosts; i++) {
		FakeHost *fh = &pool->fake->hosts[i];
		IcsHostInfo *h;

		if (fh->hidden || fh->released)
			continue;
		h = g_new0(IcsHostInfo, 1);
		if (fh->dies_after > 0 && --fh->dies_after == 0) {
			fh->state = ICS_HOST_DEAD;
			fh->age_s = 70;
		}
		h->host_id = fh->id;
		h->name = g_strdup(fh->name);
		h->state = fh->state;
		h->age_s = fh->age_s;
		g_ptr_array_add(a, h);
	}
	return a;
}

/* A host's delta lease is blank on disk when the pool does not know it,
 * free when it left cleanly or was released; anything else the fake world
 * lists is held. */
gboolean ics_delta_read(IcsPool *pool, guint64 host_id, IcsDeltaLease *out, GError **error)
{
	memset(out, 0, sizeof(*out));
	out->valid = TRUE;
	out->free = TRUE;
	out->blank = TRUE;
	for (guint i = 0; i < pool->fake->n_hosts; i++) {
		const FakeHost *fh = &pool->fake->hosts[i];

		if (fh->id != host_id)
			continue;
		out->blank = FALSE;
		g_strlcpy(out->name, fh->name, sizeof(out->name));
		if (fh->state != ICS_HOST_FREE && !fh->released)
			out->free = FALSE;
	}
	return TRUE;
}

GPtrArray *ics_joined_pool_paths(GError **error)
{
	GPtrArray *a = g_ptr_array_new_with_free_func(g_free);

	for (guint i = 0; i < G_N_ELEMENTS(joined) && joined[i]; i++)
		g_ptr_array_add(a, g_strdup(joined[i]));
	return a;
}

gboolean ics_sanlock_watchdog(gboolean *on, GError **error)
{
	*on = fake_watchdog;
	return TRUE;
}

void ics_corosync_node_free(IcsCorosyncNode *n)
{
	g_free(n->name);
	g_free(n);
}

GPtrArray *ics_corosync_nodes(GError **error)
{
	GPtrArray *a;

	if (no_corosync) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_UNAVAILABLE, "corosync is not running");
		return NULL;
	}
	a = g_ptr_array_new_with_free_func((GDestroyNotify)ics_corosync_node_free);
	for (guint i = 0; i < G_N_ELEMENTS(corosync); i++) {
		IcsCorosyncNode *n = g_new0(IcsCorosyncNode, 1);

		n->node_id = corosync[i].node_id;
		n->name = g_strdup(corosync[i].name);
		g_ptr_array_add(a, n);
	}
	return a;
}

/* The real check is libicslock's (unit-tested in test_takeover); here a
 * name and an id of the fixed list either match or do not. */
gboolean ics_corosync_node_check(const GPtrArray *nodes, guint64 host_id, const char *name,
				 char **why)
{
	for (guint i = 0; i < nodes->len; i++) {
		const IcsCorosyncNode *n = g_ptr_array_index(nodes, i);

		if (n->node_id == host_id && strcmp(n->name, name) == 0)
			return TRUE;
	}
	*why = g_strdup_printf("node name \"%s\" is not in corosync's node list", name);
	return FALSE;
}

/* What each node published as ics-sanlock-watchdog (NULL: nothing). */
static const char *published[4];

static void published_all(const char *v)
{
	for (guint i = 1; i <= 3; i++)
		published[i] = v;
}

/* Point libcib at a CIB file whose resources are @resources, with the
 * nodes' published watchdogs. */
static void write_cib(const char *resources)
{
	g_autoptr(GString) nodes = g_string_new("<nodes>");
	g_autofree char *xml = NULL;

	for (guint i = 1; i <= 3; i++) {
		g_string_append_printf(nodes, "<node id=\"%u\" uname=\"node%u\">", i, i);
		if (published[i])
			g_string_append_printf(nodes,
					       "<instance_attributes id=\"nodes-%u\">"
					       "<nvpair id=\"nodes-%u-wd\" name=\"ics-sanlock-"
					       "watchdog\" value=\"%s\"/></instance_attributes>",
					       i, i, published[i]);
		g_string_append(nodes, "</node>");
	}
	g_string_append(nodes, "</nodes>");
	xml = g_strdup_printf(
		"<cib crm_feature_set=\"3.16.1\" validate-with=\"pacemaker-3.9\" epoch=\"1\" "
		"num_updates=\"0\" admin_epoch=\"0\"><configuration><crm_config/>%s"
		"<resources>%s</resources><constraints/></configuration><status/></cib>",
		nodes->str, resources);
	assert_true(g_file_set_contents(cib_file, xml, -1, NULL));
	g_setenv("CIB_file", cib_file, TRUE);
}

/* The XML of a cloned ocf:ics:pool resource at @path. */
static char *pool_clone(const char *name, const char *path, const char *uuid)
{
	GString *x = g_string_new(NULL);

	g_string_append_printf(x,
			       "<clone id=\"ics-pool-%s\"><primitive id=\"ics-pool-%s-rsc\" "
			       "class=\"ocf\" provider=\"ics\" type=\"pool\">"
			       "<instance_attributes id=\"%s-ia\">"
			       "<nvpair id=\"%s-n\" name=\"name\" value=\"%s\"/>"
			       "<nvpair id=\"%s-p\" name=\"path\" value=\"%s\"/>",
			       name, name, name, name, name, name, path);
	if (uuid)
		g_string_append_printf(x, "<nvpair id=\"%s-u\" name=\"uuid\" value=\"%s\"/>", name,
				       uuid);
	g_string_append(x, "</instance_attributes></primitive></clone>");
	return g_string_free(x, FALSE);
}

static int reset_world(void **state)
{
	int fd;

	memset(world, 0, sizeof(world));
	memset(joined, 0, sizeof(joined));
	world_len = 0;
	opened = g_ptr_array_new_with_free_func(g_free);
	opened_uuids = g_ptr_array_new_with_free_func(g_free);
	poll_interval_ms = 20;
	fake_watchdog = TRUE;
	no_corosync = FALSE;
	published_all("1");
	cib_file = g_strdup("/tmp/test-fis-cib-XXXXXX");
	fd = g_mkstemp(cib_file);
	assert_true(fd >= 0);
	close(fd);
	write_cib("");
	return 0;
}

static int free_world(void **state)
{
	g_ptr_array_unref(opened);
	g_ptr_array_unref(opened_uuids);
	g_unlink(cib_file);
	g_free(cib_file);
	g_unsetenv("CIB_file");
	return 0;
}

static FakePool *add_pool(const char *path, guint io_timeout)
{
	FakePool *p = &world[world_len++];

	p->path = path;
	p->io_timeout = io_timeout;
	return p;
}

static FakeHost *add_host(FakePool *p, guint64 id, const char *name, IcsHostState state,
			  gint64 age_s)
{
	FakeHost *h = &p->hosts[p->n_hosts++];

	h->id = id;
	h->name = name;
	h->state = state;
	h->age_s = age_s;
	return h;
}

/* Run an action given as stdin text; error message into *msg. */
static int run(const char *text, char **msg)
{
	g_autoptr(FenceArgs) args = fence_args_new(params);
	g_autoptr(GError) error = NULL;
	FenceAction action;
	int rc;

	assert_true(fence_args_parse_text(args, text, strlen(text), NULL));
	assert_true(fence_args_action(args, &action, NULL));
	rc = run_action(action, args, &error);
	if (msg != NULL)
		*msg = error ? g_strdup(error->message) : NULL;
	return rc;
}

/* ---- the pure decision ------------------------------------------------ */

static TargetOnPool fact(const char *pool, IcsHostState st, gint64 age)
{
	TargetOnPool f = { .pool = pool,
			   .readable = TRUE,
			   .seen = TRUE,
			   .state = st,
			   .age_s = age,
			   .io_timeout = 1,
			   .disk_read = TRUE };
	return f;
}

static void test_decide_dead_everywhere(void **state)
{
	TargetOnPool f[] = { fact("/a", ICS_HOST_DEAD, 70), fact("/b", ICS_HOST_DEAD, 75) };
	g_autofree char *why = NULL;

	assert_int_equal(storage_fence_decide("node2", f, 2, &why), STORAGE_FENCED);
	assert_non_null(strstr(why, "dead on 2 of 2 pool(s)"));
}

static void test_decide_alive_somewhere_waits(void **state)
{
	IcsHostState not_yet[] = { ICS_HOST_ALIVE, ICS_HOST_FAILING, ICS_HOST_UNKNOWN };

	for (guint i = 0; i < G_N_ELEMENTS(not_yet); i++) {
		TargetOnPool f[] = { fact("/a", ICS_HOST_DEAD, 70), fact("/b", not_yet[i], 20) };
		g_autofree char *why = NULL;

		assert_int_equal(storage_fence_decide("node2", f, 2, &why), STORAGE_WAIT);
		assert_non_null(strstr(why, "on /b, last renewal 20 s ago, dead in ~48 s"));
	}
}

static void test_decide_holds_nothing(void **state)
{
	TargetOnPool f[] = { fact("/a", ICS_HOST_DEAD, 70), fact("/b", ICS_HOST_ALIVE, 1) };
	g_autofree char *why = NULL;

	/* not listed on /b and its delta lease there reads free: it holds
	 * nothing on /b (never joined, left cleanly, or released) */
	f[1].seen = FALSE;
	f[1].disk_free = TRUE;
	assert_int_equal(storage_fence_decide("node2", f, 2, &why), STORAGE_FENCED);
	assert_non_null(strstr(why, "dead on 1 of 2 pool(s) and holds nothing on the others"));
	/* listed as free by the daemon, free on disk: the same */
	f[1].seen = TRUE;
	f[1].state = ICS_HOST_FREE;
	assert_int_equal(storage_fence_decide("node2", f, 2, NULL), STORAGE_FENCED);
	/* listed as free by the daemon, NOT free on disk: not proven (the
	 * "FREE counts as fenced" branch that was never reachable) */
	f[1].disk_free = FALSE;
	assert_int_equal(storage_fence_decide("node2", f, 2, NULL), STORAGE_WAIT);
	/* not listed, but its delta lease there is held or unreadable */
	f[1].seen = FALSE;
	g_clear_pointer(&why, g_free);
	assert_int_equal(storage_fence_decide("node2", f, 2, &why), STORAGE_WAIT);
	assert_non_null(strstr(why, "pool /b not proven (not listed by the local daemon, but "
				    "its delta lease there is not free)"));
	f[1].disk_read = FALSE;
	g_clear_pointer(&why, g_free);
	assert_int_equal(storage_fence_decide("node2", f, 2, &why), STORAGE_WAIT);
	assert_non_null(strstr(why, "cannot be read"));
}

static void test_decide_unreadable_pool_waits(void **state)
{
	TargetOnPool f[] = { fact("/a", ICS_HOST_DEAD, 70), fact("/b", ICS_HOST_DEAD, 70) };
	g_autofree char *why = NULL;

	/* The target may have joined /b: without the list, and with its delta
	 * lease there held, nothing is proven. */
	f[1].readable = FALSE;
	f[1].seen = FALSE;
	f[1].error = "lockspace not joined";
	assert_int_equal(storage_fence_decide("node2", f, 2, &why), STORAGE_WAIT);
	assert_non_null(strstr(why, "pool /b not proven (lockspace not joined, and its delta "
				    "lease there is not free)"));
	/* unreadable from disk as well */
	g_clear_pointer(&why, g_free);
	f[1].disk_read = FALSE;
	assert_int_equal(storage_fence_decide("node2", f, 2, &why), STORAGE_WAIT);
	assert_non_null(strstr(why, "pool /b not proven (lockspace not joined)"));
	/* a pool not joined here (disabled, a clone limited to other nodes)
	 * where the target's delta lease reads free: it holds nothing there */
	f[1].disk_read = TRUE;
	f[1].disk_free = TRUE;
	assert_int_equal(storage_fence_decide("node2", f, 2, NULL), STORAGE_FENCED);
}

static void test_decide_never_seen(void **state)
{
	TargetOnPool f[] = { fact("/a", ICS_HOST_DEAD, 70), fact("/b", ICS_HOST_DEAD, 70) };
	g_autofree char *why = NULL;

	/* a host id that never joined any pool: nothing can be confirmed */
	f[0].seen = f[1].seen = FALSE;
	f[0].disk_free = f[1].disk_free = TRUE;
	f[0].disk_blank = f[1].disk_blank = TRUE;
	assert_int_equal(storage_fence_decide("node9", f, 2, &why), STORAGE_NEVER_SEEN);
	assert_non_null(strstr(why, "never joined any of the 2 pool(s)"));
}

/* After a takeover released the target's delta leases (or it left every
 * pool) it holds nothing anywhere: a later storage fencing of the same
 * node succeeds -- no lease of it remains -- instead of failing forever. */
static void test_decide_released_everywhere(void **state)
{
	TargetOnPool f[] = { fact("/a", ICS_HOST_DEAD, 70), fact("/b", ICS_HOST_DEAD, 70) };
	g_autofree char *why = NULL;

	f[0].seen = f[1].seen = FALSE;
	f[0].disk_free = f[1].disk_free = TRUE;
	f[1].disk_blank = TRUE; /* never joined /b, released on /a */
	assert_int_equal(storage_fence_decide("node2", f, 2, &why), STORAGE_FENCED);
	assert_non_null(strstr(why, "holds nothing on any of the 2 pool(s)"));
	assert_non_null(strstr(why, "no lease of it remains"));
	/* ... but not while the local daemon lists it renewing there */
	f[0].seen = TRUE;
	f[0].state = ICS_HOST_ALIVE;
	assert_int_equal(storage_fence_decide("node2", f, 2, NULL), STORAGE_WAIT);
}

static void test_decide_expiry_by_io_timeout(void **state)
{
	TargetOnPool f[] = { fact("/a", ICS_HOST_FAILING, 100) };
	g_autofree char *why = NULL;

	f[0].io_timeout = 10; /* dead after 140 s */
	assert_int_equal(storage_fence_decide("n", f, 1, &why), STORAGE_WAIT);
	assert_non_null(strstr(why, "dead in ~40 s"));
	assert_int_equal(dead_after_s(1), 68);
	assert_int_equal(dead_after_s(10), 140);
}

static void test_power_status(void **state)
{
	TargetOnPool f[] = { fact("/a", ICS_HOST_DEAD, 70), fact("/b", ICS_HOST_FAILING, 30) };

	assert_int_equal(storage_power_status("n", f, 2), EXIT_OK);
	f[1].state = ICS_HOST_DEAD;
	assert_int_equal(storage_power_status("n", f, 2), EXIT_STATUS_OFF);
	f[1].readable = FALSE;
	assert_int_equal(storage_power_status("n", f, 2), EXIT_FAIL);
	f[1].readable = TRUE;
	f[0].seen = f[1].seen = FALSE;
	f[0].disk_free = f[1].disk_free = TRUE;
	f[0].disk_blank = f[1].disk_blank = TRUE;
	assert_int_equal(storage_power_status("n", f, 2), EXIT_FAIL); /* never seen */
	f[0].disk_blank = FALSE;
	assert_int_equal(storage_power_status("n", f, 2), EXIT_STATUS_OFF); /* released */
}

static void test_host_map(void **state)
{
	g_autoptr(GError) error = NULL;
	guint64 id = 99;

	assert_true(host_map_lookup("node1:1 node2:2,node3:2000", "node2", &id, NULL));
	assert_int_equal(id, 2);
	assert_true(host_map_lookup("node1:1 node2:2", "node7", &id, NULL));
	assert_int_equal(id, 0);
	assert_true(host_map_lookup(NULL, "node1", &id, NULL));
	assert_int_equal(id, 0);
	assert_false(host_map_lookup("node1", "node1", &id, &error));
	assert_non_null(strstr(error->message, "'node1' is not NODE:HOSTID"));
	g_clear_error(&error);
	assert_false(host_map_lookup("node1:0", "node1", &id, &error));
	assert_non_null(strstr(error->message, "1..2000"));
	g_clear_error(&error);
	assert_false(host_map_lookup("node1:2001", NULL, &id, NULL));
	assert_false(host_map_lookup("node1:", NULL, &id, NULL));
	assert_false(host_map_lookup(":3", NULL, &id, NULL));
}

/* ---- actions on the fake world ---------------------------------------- */

static void test_off_waits_until_dead(void **state)
{
	FakePool *a = add_pool("/p/a", 1), *b = add_pool("/p/b", 1);
	g_autofree char *msg = NULL;

	add_host(a, 1, "node1", ICS_HOST_ALIVE, 1);
	add_host(a, 2, "node2", ICS_HOST_DEAD, 70);
	add_host(b, 1, "node1", ICS_HOST_ALIVE, 1);
	add_host(b, 2, "node2", ICS_HOST_FAILING, 40);
	b->hosts[1].dies_after = 3;
	assert_int_equal(run("action=off\nport=node2\npools=/p/a /p/b\n", &msg), EXIT_OK);
	assert_null(msg);
	assert_int_equal(b->hosts[1].dies_after, 0); /* it polled until the change */
}

static void test_off_no_wait(void **state)
{
	FakePool *a = add_pool("/p/a", 1);
	g_autofree char *msg = NULL;

	add_host(a, 2, "node2", ICS_HOST_ALIVE, 1);
	assert_int_equal(run("action=reboot\nport=node2\npools=/p/a\nwait=no\n", &msg), EXIT_FAIL);
	assert_non_null(strstr(msg, "not fenced (wait=off): node2: alive on /p/a"));
}

static void test_off_times_out(void **state)
{
	FakePool *a = add_pool("/p/a", 1);
	g_autofree char *msg = NULL;
	gint64 start = g_get_monotonic_time();

	add_host(a, 2, "node2", ICS_HOST_ALIVE, 1);
	assert_int_equal(run("action=off\nport=node2\npools=/p/a\npower_timeout=1\n", &msg),
			 EXIT_FAIL);
	assert_non_null(strstr(msg, "not fenced before the timeout"));
	assert_true(g_get_monotonic_time() - start >= G_USEC_PER_SEC);
}

static void test_off_never_seen_fails_at_once(void **state)
{
	FakePool *a = add_pool("/p/a", 1);
	g_autofree char *msg = NULL;

	add_host(a, 1, "node1", ICS_HOST_ALIVE, 1);
	assert_int_equal(run("action=off\nport=node2\npools=/p/a\n", &msg), EXIT_FAIL);
	assert_non_null(strstr(msg, "never joined any"));
}

static void test_off_unopenable_pool_is_not_proof(void **state)
{
	FakePool *a = add_pool("/p/a", 1);
	g_autofree char *msg = NULL;

	add_host(a, 2, "node2", ICS_HOST_DEAD, 70);
	add_pool("/p/gone", 1)->missing = TRUE;
	assert_int_equal(run("action=off\nport=node2\npools=/p/a /p/gone\nwait=no\n", &msg),
			 EXIT_FAIL);
	assert_non_null(strstr(msg, "pool /p/gone not proven"));
}

static void test_host_map_by_id(void **state)
{
	FakePool *a = add_pool("/p/a", 1);

	/* The daemon recorded another name; the map says node2 is host 2. */
	add_host(a, 2, "n2.example", ICS_HOST_DEAD, 70);
	add_host(a, 3, "node2", ICS_HOST_ALIVE, 1);
	assert_int_equal(run("action=off\nport=node2\npools=/p/a\nhost_map=node2:2\n", NULL),
			 EXIT_OK);
	assert_int_equal(run("action=off\nport=node4\npools=/p/a\nhost_map=node2:2\n", NULL),
			 EXIT_FAIL);
}

static void test_status_and_on(void **state)
{
	FakePool *a = add_pool("/p/a", 1);

	add_host(a, 1, "node1", ICS_HOST_ALIVE, 1);
	add_host(a, 2, "node2", ICS_HOST_DEAD, 80);
	assert_int_equal(run("action=status\nport=node1\npools=/p/a\n", NULL), EXIT_OK);
	assert_int_equal(run("action=status\nport=node2\npools=/p/a\n", NULL), EXIT_STATUS_OFF);
	assert_int_equal(run("action=status\nport=node3\npools=/p/a\n", NULL), EXIT_FAIL);
	assert_int_equal(run("action=on\nport=node2\n", NULL), EXIT_OK);
	assert_int_equal(run("action=status\npools=/p/a\n", NULL), EXIT_FAIL); /* no port */
}

static void test_monitor_and_validate(void **state)
{
	FakePool *a = add_pool("/p/a", 1), *b = add_pool("/p/b", 1);
	g_autofree char *msg = NULL;

	add_host(a, 1, "node1", ICS_HOST_ALIVE, 1);
	add_host(b, 1, "node1", ICS_HOST_ALIVE, 1);
	assert_int_equal(run("action=monitor\npools=/p/a /p/b\n", NULL), EXIT_OK);
	assert_int_equal(
		run("action=validate-all\npools=/p/a\nhost_map=node1:1\nport=node1\n", NULL),
		EXIT_OK);
	assert_int_equal(run("action=validate-all\npools=/p/a\nhost_map=node1\n", NULL), EXIT_FAIL);
	b->not_joined = TRUE;
	assert_int_equal(run("action=monitor\npools=/p/a /p/b\n", &msg), EXIT_FAIL);
	assert_non_null(strstr(msg, "pool /p/b: this node cannot see the lockspace"));
	g_clear_pointer(&msg, g_free);
	assert_int_equal(run("action=validate-all\npools=/p/a /p/nope\n", &msg), EXIT_FAIL);
	assert_non_null(strstr(msg, "/p/nope"));
}

/* The pool set is the CIB's ocf:ics:pool resources: a pool the device's
 * pools parameter leaves out is proven all the same (hole 3 of issue 24:
 * the target alive on an unlisted pool was declared fenced). */
static void test_pool_set_from_cib(void **state)
{
	FakePool *a = add_pool("/p/a", 1), *b = add_pool("/p/b", 1);
	g_autofree char *ca = pool_clone("a", "/p/a", "uuid-a");
	g_autofree char *cb = pool_clone("b", "/p/b/", NULL);
	g_autofree char *both = g_strconcat(ca, cb, NULL);
	g_autofree char *msg = NULL;

	add_host(a, 2, "node2", ICS_HOST_DEAD, 70);
	add_host(b, 2, "node2", ICS_HOST_ALIVE, 1);
	write_cib(both);
	assert_int_equal(run("action=off\nport=node2\npools=/p/a\nwait=no\n", &msg), EXIT_FAIL);
	assert_non_null(strstr(msg, "alive on /p/b"));
	/* every CIB pool opened once (trailing '/' folded), with its uuid */
	assert_int_equal(opened->len, 2);
	assert_string_equal(g_ptr_array_index(opened, 0), "/p/a");
	assert_string_equal(g_ptr_array_index(opened_uuids, 0), "uuid-a");
	assert_string_equal(g_ptr_array_index(opened, 1), "/p/b");
	assert_string_equal(g_ptr_array_index(opened_uuids, 1), "");
	/* once it is dead there too: fenced, without any pools parameter */
	b->hosts[0].state = ICS_HOST_DEAD;
	assert_int_equal(run("action=off\nport=node2\nwait=no\n", NULL), EXIT_OK);
	/* a CIB pool that is not mounted here is not proven */
	g_clear_pointer(&msg, g_free);
	b->missing = TRUE;
	assert_int_equal(run("action=off\nport=node2\nwait=no\n", &msg), EXIT_FAIL);
	assert_non_null(strstr(msg, "pool /p/b not proven"));
}

/* A lockspace this node joined counts even when the CIB does not list it. */
static void test_pool_set_joined(void **state)
{
	FakePool *a = add_pool("/p/a", 1), *b = add_pool("/p/b", 1);
	g_autofree char *ca = pool_clone("a", "/p/a", NULL);
	g_autofree char *msg = NULL;

	add_host(a, 2, "node2", ICS_HOST_DEAD, 70);
	add_host(b, 2, "node2", ICS_HOST_FAILING, 20);
	write_cib(ca);
	joined[0] = "/p/b";
	assert_int_equal(run("action=off\nport=node2\nwait=no\n", &msg), EXIT_FAIL);
	assert_non_null(strstr(msg, "failing on /p/b"));
}

/* Without the CIB the pool set is unknown: nothing is proven. */
static void test_pool_set_unknown(void **state)
{
	FakePool *a = add_pool("/p/a", 1);
	g_autofree char *msg = NULL;

	add_host(a, 2, "node2", ICS_HOST_DEAD, 70);
	g_setenv("CIB_file", "/nonexistent/ics-test-cib.xml", TRUE);
	assert_int_equal(run("action=off\nport=node2\npools=/p/a\n", &msg), EXIT_FAIL);
	assert_non_null(strstr(msg, "the cluster's pools are unknown"));
	/* a CIB without any pool and nothing joined: nothing to prove */
	g_clear_pointer(&msg, g_free);
	write_cib("");
	assert_int_equal(run("action=off\nport=node2\n", &msg), EXIT_FAIL);
	assert_non_null(strstr(msg, "no ocf:ics:pool resource"));
	/* a pool resource without a path is an error, not a pool left out */
	g_clear_pointer(&msg, g_free);
	write_cib("<primitive id=\"bad\" class=\"ocf\" provider=\"ics\" type=\"pool\"/>");
	assert_int_equal(run("action=off\nport=node2\npools=/p/a\n", &msg), EXIT_FAIL);
	assert_non_null(strstr(msg, "pool resource bad in the CIB has no absolute path"));
}

/* Storage fencing refuses unless the TARGET's sanlock runs with a
 * watchdog, as the target published it; the fencing node's own watchdog
 * does not stand in for it.  The lab's device says unsafe_no_watchdog. */
static void test_watchdog(void **state)
{
	FakePool *a = add_pool("/p/a", 1);
	g_autofree char *msg = NULL;

	add_host(a, 2, "node2", ICS_HOST_DEAD, 70);
	add_host(a, 1, "node1", ICS_HOST_ALIVE, 1);
	/* the target published 0; this node's daemon has a watchdog */
	published[2] = "0";
	write_cib("");
	fake_watchdog = TRUE;
	assert_int_equal(run("action=off\nport=node2\npools=/p/a\n", &msg), EXIT_FAIL);
	assert_non_null(strstr(msg, "node2's sanlock runs without a watchdog"));
	/* the target never published */
	g_clear_pointer(&msg, g_free);
	published[2] = NULL;
	write_cib("");
	assert_int_equal(run("action=reboot\nport=node2\npools=/p/a\n", &msg), EXIT_FAIL);
	assert_non_null(strstr(msg, "node2 never published"));
	/* the target published 1: this node's own watchdog does not matter */
	published[2] = "1";
	write_cib("");
	fake_watchdog = FALSE;
	assert_int_equal(run("action=off\nport=node2\npools=/p/a\n", NULL), EXIT_OK);
	/* the lab's explicit setting */
	published[2] = "0";
	write_cib("");
	assert_int_equal(run("action=off\nport=node2\npools=/p/a\nunsafe_no_watchdog=yes\n", NULL),
			 EXIT_OK);
	/* monitor alarms for this node's daemon ... */
	g_clear_pointer(&msg, g_free);
	published_all("1");
	write_cib("");
	assert_int_equal(run("action=monitor\npools=/p/a\n", &msg), EXIT_FAIL);
	assert_non_null(strstr(msg, "local sanlock daemon runs without a watchdog"));
	/* ... and for every node that published 0 */
	g_clear_pointer(&msg, g_free);
	fake_watchdog = TRUE;
	published[1] = "0";
	published[3] = "0";
	write_cib("");
	assert_int_equal(run("action=monitor\npools=/p/a\n", &msg), EXIT_FAIL);
	assert_non_null(strstr(msg, "without a watchdog on node1, node3"));
	assert_int_equal(run("action=monitor\npools=/p/a\nunsafe_no_watchdog=yes\n", NULL),
			 EXIT_OK);
	published_all("1");
	write_cib("");
	assert_int_equal(run("action=monitor\npools=/p/a\n", NULL), EXIT_OK);
}

/* A CIB pool this node has not joined (target-role Stopped, or a clone
 * limited to other nodes): the target's delta lease there reads free, so
 * it holds nothing there; held on disk, it is not proven. */
static void test_pool_not_joined_here(void **state)
{
	FakePool *a = add_pool("/p/a", 1), *b = add_pool("/p/b", 1);
	g_autofree char *ca = pool_clone("a", "/p/a", NULL);
	g_autofree char *cb = pool_clone("b", "/p/b", NULL);
	g_autofree char *both = g_strconcat(ca, cb, NULL);
	g_autofree char *msg = NULL;

	add_host(a, 2, "node2", ICS_HOST_DEAD, 70);
	b->not_joined = TRUE;
	write_cib(both);
	/* never joined /b: blank there */
	assert_int_equal(run("action=off\nport=node2\nwait=no\n", NULL), EXIT_OK);
	/* left /b, or released there: free there */
	add_host(b, 2, "node2", ICS_HOST_ALIVE, 1)->released = TRUE;
	assert_int_equal(run("action=off\nport=node2\nwait=no\n", NULL), EXIT_OK);
	/* holds a delta lease on /b, which this node cannot judge */
	b->hosts[0].released = FALSE;
	assert_int_equal(run("action=off\nport=node2\nwait=no\n", &msg), EXIT_FAIL);
	assert_non_null(strstr(msg, "pool /p/b not proven (lockspace not joined, and its "
				    "delta lease there is not free)"));
}

/* Storage fencing of a node whose leases a takeover already released
 * everywhere: fenced (nothing of it remains), not "never seen". */
static void test_off_after_release(void **state)
{
	FakePool *a = add_pool("/p/a", 1);
	g_autofree char *ca = pool_clone("a", "/p/a", NULL);

	write_cib(ca);
	add_host(a, 1, "node1", ICS_HOST_ALIVE, 1);
	add_host(a, 2, "node2", ICS_HOST_FAILING, 9)->released = TRUE;
	assert_int_equal(run("action=off\nport=node2\nwait=no\n", NULL), EXIT_OK);
	assert_int_equal(run("action=status\nport=node2\n", NULL), EXIT_STATUS_OFF);
	/* node3 never joined: nothing can be confirmed */
	assert_int_equal(run("action=off\nport=node3\nwait=no\n", NULL), EXIT_FAIL);
}

/* A pool written through a resource template is a pool too; the
 * primitive's own parameters override the template's. */
static void test_pool_set_template(void **state)
{
	FakePool *a = add_pool("/p/a", 1), *t = add_pool("/p/t", 1);
	g_autofree char *ca = pool_clone("a", "/p/a", NULL);
	g_autofree char *res = g_strdup_printf(
		"%s<template id=\"pool-tmpl\" class=\"ocf\" provider=\"ics\" type=\"pool\">"
		"<instance_attributes id=\"pt-ia\"><nvpair id=\"pt-p\" name=\"path\" "
		"value=\"/p/wrong\"/><nvpair id=\"pt-u\" name=\"uuid\" value=\"uuid-t\"/>"
		"</instance_attributes></template>"
		"<clone id=\"ics-pool-t\"><primitive id=\"pool-t\" template=\"pool-tmpl\">"
		"<instance_attributes id=\"ptp-ia\"><nvpair id=\"ptp-p\" name=\"path\" "
		"value=\"/p/t\"/></instance_attributes></primitive></clone>"
		"<template id=\"other-tmpl\" class=\"ocf\" provider=\"heartbeat\" type=\"Dummy\"/>"
		"<primitive id=\"dummy\" template=\"other-tmpl\"/>",
		ca);
	g_autofree char *msg = NULL;

	add_host(a, 2, "node2", ICS_HOST_DEAD, 70);
	add_host(t, 2, "node2", ICS_HOST_ALIVE, 1);
	write_cib(res);
	assert_int_equal(run("action=off\nport=node2\nwait=no\n", &msg), EXIT_FAIL);
	assert_non_null(strstr(msg, "alive on /p/t"));
	assert_int_equal(opened->len, 2);
	assert_string_equal(g_ptr_array_index(opened, 1), "/p/t");
	assert_string_equal(g_ptr_array_index(opened_uuids, 1), "uuid-t");
}

/* Without host_map the target's host id is its corosync node id. */
static void test_target_from_corosync(void **state)
{
	FakePool *a = add_pool("/p/a", 1);
	g_autofree char *msg = NULL;

	add_host(a, 2, "renamed", ICS_HOST_DEAD, 70); /* -e gave another name */
	add_host(a, 3, "node2", ICS_HOST_ALIVE, 1);   /* ... or this one a wrong one */
	assert_int_equal(run("action=off\nport=node2\npools=/p/a\n", NULL), EXIT_OK);
	assert_int_equal(run("action=off\nport=node9\npools=/p/a\n", &msg), EXIT_FAIL);
	assert_non_null(strstr(msg, "cannot tell which sanlock host is node 'node9'"));
	g_clear_pointer(&msg, g_free);
	no_corosync = TRUE;
	assert_int_equal(run("action=off\nport=node2\npools=/p/a\n", &msg), EXIT_FAIL);
	assert_non_null(strstr(msg, "corosync is not running"));
}

static void test_metadata(void **state)
{
	char tmpl[] = "/tmp/test-fis-XXXXXX";
	int fd = mkstemp(tmpl), saved = dup(STDOUT_FILENO);
	char *argv[] = { "fence_ics_storage", "-o", "metadata", NULL };
	g_autofree char *out = NULL;
	g_autoptr(xmlDoc) doc = NULL;
	g_autofree char *def = NULL;
	int rc;

	fflush(stdout);
	dup2(fd, STDOUT_FILENO);
	rc = fence_ics_storage_main(3, argv);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	close(fd);
	assert_int_equal(rc, EXIT_OK);
	assert_true(g_file_get_contents(tmpl, &out, NULL, NULL));
	g_unlink(tmpl);
	doc = ics_xml_parse_string(out, -1, "metadata", NULL);
	assert_non_null(doc);
	assert_int_equal(ics_xml_xpath_count(doc, "//parameter[@name='port']", NULL), 1);
	assert_int_equal(ics_xml_xpath_count(doc, "//action[@name='off']", NULL), 1);
	def = ics_xml_xpath_string(doc, "//parameter[@name='wait']/content/@default", NULL);
	assert_string_equal(def, "yes");
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, reset_world, free_world)
	const struct CMUnitTest tests[] = {
		T(test_decide_dead_everywhere),
		T(test_decide_alive_somewhere_waits),
		T(test_decide_holds_nothing),
		T(test_decide_unreadable_pool_waits),
		T(test_decide_never_seen),
		T(test_decide_released_everywhere),
		T(test_decide_expiry_by_io_timeout),
		T(test_power_status),
		T(test_host_map),
		T(test_off_waits_until_dead),
		T(test_off_no_wait),
		T(test_off_times_out),
		T(test_off_never_seen_fails_at_once),
		T(test_off_unopenable_pool_is_not_proof),
		T(test_host_map_by_id),
		T(test_status_and_on),
		T(test_monitor_and_validate),
		T(test_pool_set_from_cib),
		T(test_pool_set_joined),
		T(test_pool_set_unknown),
		T(test_watchdog),
		T(test_pool_not_joined_here),
		T(test_off_after_release),
		T(test_pool_set_template),
		T(test_target_from_corosync),
		T(test_metadata),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
