/*
 * test_events.c: events -- the ring (order, ids, bounded history, wake-up
 * on publish, close) and the Server-Sent Events stream: events arrive as
 * id/event/data lines, a vm_manager sees only its own VMs' events,
 * Last-Event-ID resumes after the given event, and a resume from an event
 * that left the ring starts with "event: reset".
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ics/manager/events.h"
#include "ics/manager/fence_events.h"
#include "ics/manager/vm_mirror.h"
#include "mgr_test_util.h"

static void test_ring(void **state)
{
	IcsEvents *ev = ics_events_new(4);
	gboolean gap, closed;
	IcsEvent *e;

	assert_null(ics_events_next(ev, 0, 1000, &gap, &closed));
	assert_false(closed);
	for (int i = 1; i <= 6; i++)
		assert_int_equal(ics_events_publish(ev, "t", NULL, 0, json_pack("{s:i}", "n", i)),
				 i);
	assert_int_equal(ics_events_last_id(ev), 6);
	/* 1 and 2 were dropped: asking after 1 gives 3 with a gap. */
	e = ics_events_next(ev, 1, 0, &gap, &closed);
	assert_int_equal(e->id, 3);
	assert_true(gap);
	assert_string_equal(e->data, "{\"n\":3}");
	ics_event_free(e);
	e = ics_events_next(ev, 4, 0, &gap, &closed);
	assert_int_equal(e->id, 5);
	assert_false(gap);
	ics_event_free(e);
	assert_null(ics_events_next(ev, 6, 1000, &gap, &closed));
	ics_events_close(ev);
	assert_null(ics_events_next(ev, 6, 10 * G_USEC_PER_SEC, &gap, &closed));
	assert_true(closed);
	ics_events_free(ev);
}

/* The cluster's VM changes become vm.state events in their order, with the
 * owner from the inventory (none for a VM the inventory does not know). */
static void test_runtime_events(void **state)
{
	g_autoptr(GError) e = NULL;
	g_autofree char *dir = g_dir_make_tmp("ics-rt-XXXXXX", NULL);
	g_autofree char *db = g_build_filename(dir, "ics.db", NULL);
	g_autofree char *rm = g_strdup_printf("rm -rf '%s'", dir);
	IcsStore *store = ics_store_open(db, &e);
	IcsEvents *ev = ics_events_new(16);
	IcsVmMirror *rt;
	gboolean gap, closed;
	IcsEvent *a, *b;

	(void)state;
	assert_non_null(store);
	rt = ics_vm_mirror_new(store, ev, NULL, NULL, 0);
	ics_vm_mirror_changed(rt, "6f1c3c0e-8d2a-4b7e-9c41-2f0d5e6a7b8c", "running", "node3",
			      "stopped", NULL);
	ics_vm_mirror_changed(rt, "6f1c3c0e-8d2a-4b7e-9c41-2f0d5e6a7b8c", "migrating", "node3",
			      "running", "node3");
	ics_vm_mirror_free(rt); /* publishes what is queued */
	a = ics_events_next(ev, 0, 0, &gap, &closed);
	b = ics_events_next(ev, 1, 0, &gap, &closed);
	assert_non_null(a);
	assert_non_null(b);
	assert_string_equal(a->type, "vm.state");
	assert_string_equal(a->permission, "vm.read");
	assert_int_equal(a->owner_id, 0);
	assert_string_equal(a->data, "{\"uuid\":\"6f1c3c0e-8d2a-4b7e-9c41-2f0d5e6a7b8c\","
				     "\"state\":\"running\",\"host\":\"node3\","
				     "\"previous_state\":\"stopped\",\"previous_host\":null}");
	assert_non_null(strstr(b->data, "\"state\":\"migrating\""));
	ics_event_free(a);
	ics_event_free(b);
	ics_events_free(ev);
	ics_store_close(store);
	assert_int_equal(system(rm), 0);
}

typedef struct {
	const TestMgr *t;
	char *token;
	char *last_event_id;
	int want; /* stop after this many "event:" lines */
	GString *text;
	GMutex lock;
	gboolean connected;
} Reader;

static size_t on_data(char *p, size_t size, size_t n, void *data)
{
	Reader *r = data;
	int events = 0;

	g_mutex_lock(&r->lock);
	g_string_append_len(r->text, p, (gssize)(size * n));
	r->connected = TRUE;
	for (const char *s = r->text->str; (s = strstr(s, "\nevent: ")) != NULL; s++)
		events++;
	if (g_str_has_prefix(r->text->str, "event: "))
		events++;
	g_mutex_unlock(&r->lock);
	return events >= r->want ? 0 : size * n; /* 0 ends the transfer */
}

static gpointer reader_thread(gpointer data)
{
	Reader *r = data;
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	g_autofree char *url = g_strconcat(r->t->base, "/api/v1/events", NULL);
	g_autofree char *auth = g_strconcat("Authorization: Bearer ", r->token, NULL);
	g_autofree char *last =
		r->last_event_id ? g_strconcat("Last-Event-ID: ", r->last_event_id, NULL) : NULL;

	h = curl_slist_append(h, auth);
	if (last)
		h = curl_slist_append(h, last);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_perform(c);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return NULL;
}

static GThread *start_reader(Reader *r)
{
	GThread *th;

	r->text = g_string_new(NULL);
	g_mutex_init(&r->lock);
	th = g_thread_new("sse", reader_thread, r);
	for (int i = 0; i < 3000; i++) {
		gboolean ok;

		g_mutex_lock(&r->lock);
		ok = r->connected;
		g_mutex_unlock(&r->lock);
		if (ok)
			return th;
		g_usleep(10000);
	}
	fail_msg("the event stream did not start");
	return th;
}

static char *finish_reader(Reader *r, GThread *th)
{
	g_thread_join(th);
	g_mutex_clear(&r->lock);
	g_free(r->token);
	g_free(r->last_event_id);
	return g_string_free(r->text, FALSE);
}

static int setup(void **state)
{
	TestMgr *t = test_mgr_start();

	assert_non_null(t->admin_token);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	test_mgr_stop(*state, FALSE);
	return 0;
}

static void test_stream(void **state)
{
	TestMgr *t = *state;
	Reader admin = { .t = t, .token = g_strdup(t->admin_token), .want = 2 };
	Reader vmm = { .t = t, .want = 1 };
	GThread *ta, *tv;
	g_autofree char *b1 = test_vm_body("ev1", NULL), *b2 = test_vm_body("ev2", NULL);

	assert_int_equal(test_make_user(t, "vmm", "[\"vm_manager\"]"), 201);
	vmm.token = test_login(t, "vmm", TEST_PASSWORD);
	ta = start_reader(&admin);
	tv = start_reader(&vmm);
	assert_int_equal(test_status(t, "POST", "/api/v1/vms", t->admin_token, b1), 201);
	assert_int_equal(test_status(t, "POST", "/api/v1/vms", vmm.token, b2), 201);
	g_autofree char *a = finish_reader(&admin, ta);
	g_autofree char *v = finish_reader(&vmm, tv);

	assert_true(g_str_has_prefix(a, "retry: 3000\n\n"));
	assert_non_null(strstr(a, "event: vm.created\ndata: {\"uuid\":"));
	assert_non_null(strstr(a, "\nid: "));
	/* The vm_manager got its own VM's event and not the admin's. */
	g_autoptr(TestResp) mine = test_http(t, "GET", "/api/v1/vms", t->admin_token, NULL);
	json_t *items = json_object_get(mine->json, "items");
	const char *u0 = json_string_value(json_object_get(json_array_get(items, 0), "uuid"));
	const char *u1 = json_string_value(json_object_get(json_array_get(items, 1), "uuid"));
	const char *n0 = json_string_value(json_object_get(json_array_get(items, 0), "name"));
	const char *vmm_uuid = g_str_equal(n0, "ev2") ? u0 : u1;
	const char *adm_uuid = g_str_equal(n0, "ev2") ? u1 : u0;
	assert_non_null(strstr(v, vmm_uuid));
	assert_null(strstr(v, adm_uuid));
	/* Readers without event.read are refused. */
	assert_int_equal(test_make_user(t, "nobody", "[]"), 201);
	g_autofree char *nb = test_login(t, "nobody", TEST_PASSWORD);
	assert_int_equal(test_status(t, "GET", "/api/v1/events", nb, NULL), 403);
}

static void test_resume(void **state)
{
	TestMgr *t = *state;
	guint64 first = 0;

	for (int i = 0; i < 3; i++) {
		guint64 id = ics_events_publish(t->m->events, "test.tick", NULL, 0,
						json_pack("{s:i}", "n", i));

		if (i == 0)
			first = id;
	}
	/* After the first: the second and third come at once. */
	Reader r = { .t = t, .token = g_strdup(t->admin_token), .want = 2 };
	r.last_event_id = g_strdup_printf("%" G_GUINT64_FORMAT, first);
	GThread *th = start_reader(&r);
	g_autofree char *text = finish_reader(&r, th);
	assert_null(strstr(text, "\"n\":0"));
	assert_non_null(strstr(text, "\"n\":1"));
	assert_non_null(strstr(text, "\"n\":2"));

	/* Far behind the ring: a reset first. */
	for (int i = 0; i < 1100; i++)
		ics_events_publish(t->m->events, "test.tick", NULL, 0, NULL);
	Reader late = { .t = t, .token = g_strdup(t->admin_token), .want = 1 };
	late.last_event_id = g_strdup_printf("%" G_GUINT64_FORMAT, first);
	th = start_reader(&late);
	g_autofree char *text2 = finish_reader(&late, th);
	assert_non_null(strstr(text2, "event: reset"));
	assert_int_equal(
		test_status(t, "GET", "/api/v1/events?last_event_id=x", t->admin_token, NULL), 400);
}

/* A fencing history the fake fencer answers. */
static gint64 fake_completed;
static gboolean fake_manual;

static json_t *fake_history(void *self, const char *name, GError **error)
{
	return json_pack("{s:s, s:s, s:s, s:b, s:I}", "state", "done", "action", "off",
			 "delegate", fake_manual ? "a human" : "node1", "manual", fake_manual,
			 "completed", (json_int_t)fake_completed);
}

/* A host that leaves the cluster: "host.fenced", manual confirmations
 * flagged; an old fencing, or a host that did not leave, gives nothing.
 * Every change is also a "host.state" (published at once, so its order
 * against the worker's host.fenced is not fixed). */
static void test_fence_events(void **state)
{
	IcsEvents *ev = ics_events_new(16);
	IcsClusterOps ops = { .fence_history = fake_history };
	IcsFenceEvents *fe = ics_fence_events_new(ev, &ops);
	const char *want_states[] = {
		"{\"host\":\"node2\",\"state\":\"offline\",\"previous_state\":\"unclean\"}",
		"{\"host\":\"node3\",\"state\":\"standby\",\"previous_state\":\"online\"}",
		"{\"host\":\"node2\",\"state\":\"offline\",\"previous_state\":\"online\"}",
	};
	guint states = 0, fenced = 0;
	gboolean gap, closed;
	guint64 last = 0;
	IcsEvent *a;

	(void)state;
	fake_completed = g_get_real_time() / G_USEC_PER_SEC - 2;
	fake_manual = TRUE;
	ics_fence_events_node_changed(fe, "node2", "offline", "unclean");
	ics_fence_events_node_changed(fe, "node3", "standby", "online"); /* not a departure */
	ics_fence_events_free(fe);
	fe = ics_fence_events_new(ev, &ops);
	fake_completed -= 3600; /* an old fencing: not this departure's */
	ics_fence_events_node_changed(fe, "node2", "offline", "online");
	ics_fence_events_free(fe);
	while ((a = ics_events_next(ev, last, 0, &gap, &closed)) != NULL) {
		last = a->id;
		assert_string_equal(a->permission, "host.read");
		if (strcmp(a->type, "host.state") == 0) {
			assert_true(states < G_N_ELEMENTS(want_states));
			assert_string_equal(a->data, want_states[states]);
			states++;
		} else {
			assert_string_equal(a->type, "host.fenced");
			assert_non_null(strstr(a->data, "\"host\":\"node2\""));
			assert_non_null(strstr(a->data, "\"manual\":true"));
			assert_non_null(strstr(a->data, "\"delegate\":\"a human\""));
			fenced++;
		}
		ics_event_free(a);
	}
	assert_int_equal(states, 3);
	assert_int_equal(fenced, 1);
	ics_events_free(ev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ring),
		cmocka_unit_test(test_runtime_events),
		cmocka_unit_test(test_fence_events),
		cmocka_unit_test_setup_teardown(test_stream, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resume, setup, teardown),
	};
	curl_global_init(CURL_GLOBAL_DEFAULT);
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
