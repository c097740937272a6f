/*
 * test_session.c: sessions and the login policy through the API -- login,
 * logout, absolute expiry and idle timeout (with the manager's clock moved
 * forward), the per-user session limit, lockout after repeated failures and
 * its end, disabled users, and that every refusal looks the same.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ics/manager/session.h"
#include "ics/manager/timestamp.h"
#include "ics/manager/users.h"
#include "mgr_test_util.h"

static void tweak(IcsManagerConfig *cfg)
{
	cfg->policy.max_failures = 3;
	cfg->policy.lockout_seconds = 600;
	cfg->policy.max_sessions_per_user = 2;
	cfg->policy.session_idle_seconds = 300;
	cfg->policy.session_lifetime_seconds = 3600;
}

static int setup(void **state)
{
	TestMgr *t = test_mgr_start_in(NULL, NULL, tweak);

	assert_non_null(t->admin_token);
	assert_int_equal(test_make_user(t, "alice", "[\"readonly\"]"), 201);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	test_mgr_stop(*state, FALSE);
	return 0;
}

static void test_login_logout(void **state)
{
	TestMgr *t = *state;
	g_autofree char *tok = test_login(t, "alice", TEST_PASSWORD);
	g_autoptr(TestResp) me = NULL;

	assert_non_null(tok);
	assert_int_equal(strlen(tok), 64);
	me = test_http(t, "GET", "/api/v1/sessions/current", tok, NULL);
	assert_int_equal(me->status, 200);
	assert_string_equal(test_str(me, "user"), "alice");
	assert_string_equal(test_str(me, "auth"), "session");
	assert_int_equal(test_status(t, "DELETE", "/api/v1/sessions/current", tok, NULL), 204);
	assert_int_equal(test_status(t, "GET", "/api/v1/sessions/current", tok, NULL), 401);
	/* Not a token at all, and no credentials at all. */
	assert_int_equal(test_status(t, "GET", "/api/v1/vms", "nonsense", NULL), 401);
	assert_int_equal(test_status(t, "GET", "/api/v1/vms", NULL, NULL), 401);
}

static void test_refusals_look_the_same(void **state)
{
	TestMgr *t = *state;
	g_autoptr(TestResp) a = test_http(t, "POST", "/api/v1/sessions", NULL,
					  "{\"username\": \"nobody\", \"password\": \"x\"}");
	g_autoptr(TestResp) b = test_http(t, "POST", "/api/v1/sessions", NULL,
					  "{\"username\": \"alice\", \"password\": \"wrong\"}");

	assert_int_equal(a->status, 401);
	assert_int_equal(b->status, 401);
	assert_string_equal(a->body->str, b->body->str);
}

static void test_expiry_and_idle(void **state)
{
	TestMgr *t = *state;
	g_autofree char *tok = test_login(t, "alice", TEST_PASSWORD);

	assert_int_equal(test_status(t, "GET", "/api/v1/vms", tok, NULL), 200);
	/* Used every 200 s (below the idle limit): alive until its lifetime. */
	for (int i = 0; i < 17; i++) {
		ics_clock_advance_for_test(200 * G_USEC_PER_SEC);
		assert_int_equal(test_status(t, "GET", "/api/v1/vms", tok, NULL), 200);
	}
	ics_clock_advance_for_test(200 * G_USEC_PER_SEC); /* 3600 s: expired */
	g_autoptr(TestResp) r = test_http(t, "GET", "/api/v1/vms", tok, NULL);
	assert_int_equal(r->status, 401);
	assert_non_null(strstr(r->body->str, "expired"));

	g_free(tok);
	tok = test_login(t, "alice", TEST_PASSWORD);
	ics_clock_advance_for_test(301 * G_USEC_PER_SEC); /* idle too long */
	assert_int_equal(test_status(t, "GET", "/api/v1/vms", tok, NULL), 401);
}

static void test_session_limit(void **state)
{
	TestMgr *t = *state;
	g_autofree char *s1 = test_login(t, "alice", TEST_PASSWORD);
	g_autofree char *s2 = test_login(t, "alice", TEST_PASSWORD);
	g_autofree char *s3 = NULL;
	gint64 n;

	ics_clock_advance_for_test(1);
	s3 = test_login(t, "alice", TEST_PASSWORD);
	assert_non_null(s3);
	/* The oldest made room. */
	assert_int_equal(test_status(t, "GET", "/api/v1/vms", s1, NULL), 401);
	assert_int_equal(test_status(t, "GET", "/api/v1/vms", s2, NULL), 200);
	assert_int_equal(test_status(t, "GET", "/api/v1/vms", s3, NULL), 200);
	ics_store_lock(t->m->store);
	g_autoptr(IcsUser) u = ics_user_get(t->m->store, "alice", NULL);
	n = ics_session_count(t->m->store, u->id, NULL);
	ics_store_unlock(t->m->store);
	assert_int_equal(n, 2);
}

static void test_lockout(void **state)
{
	TestMgr *t = *state;
	g_autofree char *tok = NULL;

	for (int i = 0; i < 3; i++)
		assert_null(test_login(t, "alice", "Wrong-Passw0rd!"));
	/* Locked: even the right password is refused, the same way. */
	assert_null(test_login(t, "alice", TEST_PASSWORD));
	g_autoptr(TestResp) u = test_http(t, "GET", "/api/v1/users/alice", t->admin_token, NULL);
	assert_true(json_is_true(json_object_get(u->json, "locked")));
	ics_clock_advance_for_test(601 * G_USEC_PER_SEC);
	/* admin's session idled out meanwhile; log in again. */
	g_free(t->admin_token);
	t->admin_token = test_login(t, "admin", t->admin_password);
	tok = test_login(t, "alice", TEST_PASSWORD);
	assert_non_null(tok);
	/* A success resets the count: two more failures do not lock. */
	for (int i = 0; i < 2; i++)
		assert_null(test_login(t, "alice", "Wrong-Passw0rd!"));
	g_free(tok);
	tok = test_login(t, "alice", TEST_PASSWORD);
	assert_non_null(tok);
}

static void test_admin_reset_and_disable(void **state)
{
	TestMgr *t = *state;
	g_autofree char *tok = test_login(t, "alice", TEST_PASSWORD);

	assert_int_equal(test_status(t, "PATCH", "/api/v1/users/alice", t->admin_token,
				     "{\"enabled\": false}"),
			 200);
	assert_int_equal(test_status(t, "GET", "/api/v1/vms", tok, NULL), 401);
	assert_null(test_login(t, "alice", TEST_PASSWORD));
	assert_int_equal(test_status(t, "PATCH", "/api/v1/users/alice", t->admin_token,
				     "{\"enabled\": true, \"password\": \"An0ther-Passw0rd\"}"),
			 200);
	assert_null(test_login(t, "alice", TEST_PASSWORD));
	g_free(tok);
	tok = test_login(t, "alice", "An0ther-Passw0rd");
	assert_non_null(tok);
	/* Own password change needs the old one. */
	assert_int_equal(
		test_status(t, "POST", "/api/v1/users/alice/password", tok,
			    "{\"old_password\": \"bad\", \"new_password\": \"Thrid-Passw0rd!\"}"),
		403);
	assert_int_equal(test_status(t, "POST", "/api/v1/users/alice/password", tok,
				     "{\"old_password\": \"An0ther-Passw0rd\","
				     " \"new_password\": \"Third-Passw0rd!\"}"),
			 204);
	assert_int_equal(
		test_status(t, "POST", "/api/v1/users/admin/password", tok,
			    "{\"old_password\": \"x\", \"new_password\": \"Third-Passw0rd!\"}"),
		403);
	g_free(tok);
	tok = test_login(t, "alice", "Third-Passw0rd!");
	assert_non_null(tok);
	/* A weak password is refused by the rules. */
	assert_int_equal(test_status(t, "PATCH", "/api/v1/users/alice", t->admin_token,
				     "{\"password\": \"weak\"}"),
			 400);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_login_logout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals_look_the_same, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expiry_and_idle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lockout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_admin_reset_and_disable, setup, teardown),
	};
	curl_global_init(CURL_GLOBAL_DEFAULT);
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
