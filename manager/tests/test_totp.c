/*
 * test_totp.c: the TOTP second factor -- RFC 6238's test vectors through
 * liboath, enrolment and its confirmation, the two ways of logging in
 * with a code, the skew window, replay refusal (also between parallel
 * requests), recovery codes, lockout counting of wrong codes, enforcement
 * by role and by account (a session limited to enrolment), removal and
 * the administrator's reset with its "hold what you reset" rule.  The
 * manager's clock is moved by hand (ics_clock_advance_for_test), never
 * waited for.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <oath.h>

#include "ics/manager/timestamp.h"
#include "ics/manager/totp.h"
#include "mgr_test_util.h"

static void tweak(IcsManagerConfig *cfg)
{
	cfg->policy.max_failures = 4;
	cfg->policy.lockout_seconds = 600;
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

/* The code of @secret (base32) at the manager's clock + @offset_s. */
static char *code_at(const char *secret, gint64 offset_s)
{
	char *raw = NULL;
	size_t len = 0;
	char *c;

	assert_int_equal(oath_base32_decode(secret, strlen(secret), &raw, &len), OATH_OK);
	c = ics_totp_code((const guint8 *)raw, len, ics_now_us() / G_USEC_PER_SEC + offset_s, 6);
	free(raw);
	assert_non_null(c);
	return c;
}

/* The next 30-second step, so a new code is accepted. */
static void next_step(void)
{
	ics_clock_advance_for_test(ICS_TOTP_STEP_S * G_USEC_PER_SEC);
}

static TestResp *post(TestMgr *t, const char *path, const char *token, const char *fmt, ...)
	G_GNUC_PRINTF(4, 5);
static TestResp *post(TestMgr *t, const char *path, const char *token, const char *fmt, ...)
{
	va_list ap;
	g_autofree char *body = NULL;

	va_start(ap, fmt);
	body = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	return test_http(t, "POST", path, token, body);
}

/* Enrol @user (logged in as @token): its secret; the recovery codes in
 * @codes when not NULL. */
static char *enrol(TestMgr *t, const char *user, const char *token, json_t **codes)
{
	g_autofree char *path = g_strdup_printf("/api/v1/users/%s/totp", user);
	g_autofree char *cpath = g_strdup_printf("/api/v1/users/%s/totp/confirm", user);
	g_autoptr(TestResp) r = test_http(t, "POST", path, token, NULL);
	g_autofree char *code = NULL;
	char *secret;

	assert_int_equal(r->status, 201);
	secret = g_strdup(test_str(r, "secret"));
	assert_true(g_str_has_prefix(test_str(r, "otpauth_uri"), "otpauth://totp/ICS:"));
	assert_non_null(strstr(test_str(r, "otpauth_uri"), secret));
	assert_true(g_str_has_prefix(test_str(r, "qr_svg"), "<svg "));
	code = code_at(secret, 0);
	g_autoptr(TestResp) c = post(t, cpath, token, "{\"code\": \"%s\"}", code);
	assert_int_equal(c->status, 200);
	assert_int_equal(json_array_size(json_object_get(c->json, "recovery_codes")), 10);
	if (codes)
		*codes = json_incref(json_object_get(c->json, "recovery_codes"));
	next_step();
	return secret;
}

static TestResp *login(TestMgr *t, const char *user, const char *password, const char *code)
{
	if (code)
		return post(t, "/api/v1/sessions", NULL,
			    "{\"username\": \"%s\", \"password\": \"%s\", \"code\": \"%s\"}", user,
			    password, code);
	return post(t, "/api/v1/sessions", NULL, "{\"username\": \"%s\", \"password\": \"%s\"}",
		    user, password);
}

static void test_rfc6238_vectors(void **state)
{
	static const struct {
		gint64 t;
		const char *code;
	} v[] = {
		{ 59, "94287082" },	    { 1111111109, "07081804" }, { 1111111111, "14050471" },
		{ 1234567890, "89005924" }, { 2000000000, "69279037" }, { 20000000000, "65353130" },
	};
	const guint8 *secret = (const guint8 *)"12345678901234567890";

	for (guint i = 0; i < G_N_ELEMENTS(v); i++) {
		g_autofree char *c8 = ics_totp_code(secret, 20, v[i].t, 8);
		g_autofree char *c6 = ics_totp_code(secret, 20, v[i].t, 6);

		assert_string_equal(c8, v[i].code);
		assert_string_equal(c6, v[i].code + 2);
	}
	assert_null(ics_totp_code(secret, 20, 59, 5));
}

static void test_enrol_and_login(void **state)
{
	TestMgr *t = *state;
	g_autofree char *tok = test_login(t, "alice", TEST_PASSWORD);
	g_autofree char *secret = NULL, *code = NULL;

	/* Before confirmation nothing changes: a password still suffices. */
	g_autoptr(TestResp) e = test_http(t, "POST", "/api/v1/users/alice/totp", tok, NULL);
	assert_int_equal(e->status, 201);
	g_autoptr(TestResp) wrong =
		post(t, "/api/v1/users/alice/totp/confirm", tok, "{\"code\": \"000000\"}");
	assert_int_equal(wrong->status, 403);
	{
		g_autoptr(TestResp) l = login(t, "alice", TEST_PASSWORD, NULL);
		assert_string_equal(test_str(l, "stage"), "full");
	}
	/* Nobody else may enrol alice or see her secret. */
	assert_int_equal(test_status(t, "POST", "/api/v1/users/alice/totp", t->admin_token, NULL),
			 403);
	secret = enrol(t, "alice", tok, NULL);

	g_autoptr(TestResp) st = test_http(t, "GET", "/api/v1/users/alice/totp", tok, NULL);
	assert_true(json_is_true(json_object_get(st->json, "enrolled")));
	assert_int_equal(json_integer_value(json_object_get(st->json, "recovery_codes_left")), 10);
	/* Enrolled twice: refused. */
	assert_int_equal(test_status(t, "POST", "/api/v1/users/alice/totp", tok, NULL), 409);

	/* Password only: a session waiting for the code, good for nothing else. */
	g_autoptr(TestResp) l1 = login(t, "alice", TEST_PASSWORD, NULL);
	assert_int_equal(l1->status, 201);
	assert_string_equal(test_str(l1, "stage"), "second_factor");
	const char *pending = test_str(l1, "token");
	g_autoptr(TestResp) denied = test_http(t, "GET", "/api/v1/vms", pending, NULL);
	assert_int_equal(denied->status, 403);
	assert_non_null(strstr(denied->body->str, "second-factor"));
	assert_int_equal(test_status(t, "GET", "/api/v1/users", pending, NULL), 403);
	g_autoptr(TestResp) bad = post(t, "/api/v1/sessions/current/second-factor", pending,
				       "{\"code\": \"123456\"}");
	assert_int_equal(bad->status, 401);
	code = code_at(secret, 0);
	g_autoptr(TestResp) ok = post(t, "/api/v1/sessions/current/second-factor", pending,
				      "{\"code\": \"%s\"}", code);
	assert_int_equal(ok->status, 200);
	assert_string_equal(test_str(ok, "stage"), "full");
	assert_int_equal(test_status(t, "GET", "/api/v1/vms", pending, NULL), 200);

	/* The same code again (same step): refused, in either form. */
	g_autoptr(TestResp) replay = login(t, "alice", TEST_PASSWORD, code);
	assert_int_equal(replay->status, 401);

	/* One step: password and code together. */
	next_step();
	g_free(code);
	code = code_at(secret, 0);
	g_autoptr(TestResp) one = login(t, "alice", TEST_PASSWORD, code);
	assert_int_equal(one->status, 201);
	assert_string_equal(test_str(one, "stage"), "full");

	/* Skew: the next step's code is accepted, two steps away is not; the
	 * previous step's is accepted when it is newer than the last step
	 * accepted. */
	next_step();
	g_free(code);
	code = code_at(secret, 60);
	g_autoptr(TestResp) far = login(t, "alice", TEST_PASSWORD, code);
	assert_int_equal(far->status, 401);
	g_free(code);
	code = code_at(secret, 30);
	g_autoptr(TestResp) ahead = login(t, "alice", TEST_PASSWORD, code);
	assert_int_equal(ahead->status, 201);
	next_step();
	next_step();
	next_step();
	g_free(code);
	code = code_at(secret, -30);
	g_autoptr(TestResp) behind = login(t, "alice", TEST_PASSWORD, code);
	assert_int_equal(behind->status, 201);
	/* A wrong password with a right code: refused, the same way. */
	next_step();
	g_free(code);
	code = code_at(secret, 0);
	g_autoptr(TestResp) wp = login(t, "alice", "Wrong-Passw0rd!", code);
	assert_int_equal(wp->status, 401);
	assert_string_equal(wp->body->str, bad->body->str);
}

static void test_recovery_codes(void **state)
{
	TestMgr *t = *state;
	g_autofree char *tok = test_login(t, "alice", TEST_PASSWORD);
	g_autoptr(json_t) codes = NULL;
	g_autofree char *secret = enrol(t, "alice", tok, &codes);
	const char *first = json_string_value(json_array_get(codes, 0));
	g_autofree char *upper = g_ascii_strup(first, -1);

	/* Case and dashes do not matter; each code works once. */
	g_autoptr(TestResp) r1 = login(t, "alice", TEST_PASSWORD, upper);
	assert_int_equal(r1->status, 201);
	g_autoptr(TestResp) r2 = login(t, "alice", TEST_PASSWORD, first);
	assert_int_equal(r2->status, 401);
	g_autoptr(TestResp) st = test_http(t, "GET", "/api/v1/users/alice/totp", tok, NULL);
	assert_int_equal(json_integer_value(json_object_get(st->json, "recovery_codes_left")), 9);
	/* A recovery code does not renew recovery codes: a TOTP code does. */
	g_autoptr(TestResp) no =
		post(t, "/api/v1/users/alice/totp/recovery-codes", tok, "{\"code\": \"%s\"}",
		     json_string_value(json_array_get(codes, 1)));
	assert_int_equal(no->status, 403);
	g_autofree char *code = code_at(secret, 0);
	g_autoptr(TestResp) renew =
		post(t, "/api/v1/users/alice/totp/recovery-codes", tok, "{\"code\": \"%s\"}", code);
	assert_int_equal(renew->status, 200);
	assert_int_equal(json_array_size(json_object_get(renew->json, "recovery_codes")), 10);
	g_autoptr(TestResp) old =
		login(t, "alice", TEST_PASSWORD, json_string_value(json_array_get(codes, 2)));
	assert_int_equal(old->status, 401);
	g_autoptr(TestResp) fresh =
		login(t, "alice", TEST_PASSWORD,
		      json_string_value(
			      json_array_get(json_object_get(renew->json, "recovery_codes"), 0)));
	assert_int_equal(fresh->status, 201);
}

static void test_wrong_codes_lock(void **state)
{
	TestMgr *t = *state;
	g_autofree char *tok = test_login(t, "alice", TEST_PASSWORD);
	g_autofree char *secret = enrol(t, "alice", tok, NULL);
	g_autofree char *code = NULL;
	g_autoptr(TestResp) l = login(t, "alice", TEST_PASSWORD, NULL); /* counted: 1 */
	const char *pending = test_str(l, "token");

	/* A right password without its code does not clear the count: with
	 * 4 allowed failures, the pending login and three wrong codes lock. */
	for (int i = 0; i < 3; i++) {
		g_autoptr(TestResp) w = post(t, "/api/v1/sessions/current/second-factor", pending,
					     "{\"code\": \"00000%d\"}", i);
		assert_int_equal(w->status, 401);
	}
	g_autoptr(TestResp) u = test_http(t, "GET", "/api/v1/users/alice", t->admin_token, NULL);
	assert_true(json_is_true(json_object_get(u->json, "locked")));
	/* Locked: the right code is refused and the waiting session ends. */
	code = code_at(secret, 0);
	g_autoptr(TestResp) right = post(t, "/api/v1/sessions/current/second-factor", pending,
					 "{\"code\": \"%s\"}", code);
	assert_int_equal(right->status, 401);
	assert_int_equal(test_status(t, "GET", "/api/v1/sessions/current", pending, NULL), 401);
	g_autoptr(TestResp) one = login(t, "alice", TEST_PASSWORD, code);
	assert_int_equal(one->status, 401);
	/* Wrong codes guarding a change count too. */
	ics_clock_advance_for_test(601 * G_USEC_PER_SEC);
	g_free(t->admin_token);
	t->admin_token = test_login(t, "admin", t->admin_password);
	g_free(code);
	code = code_at(secret, 0);
	g_autoptr(TestResp) in = login(t, "alice", TEST_PASSWORD, code);
	assert_int_equal(in->status, 201);
	const char *full = test_str(in, "token");
	for (int i = 0; i < 4; i++) {
		g_autoptr(TestResp) w = post(t, "/api/v1/users/alice/totp/disable", full,
					     "{\"code\": \"99999%d\"}", i);
		assert_int_equal(w->status, 403);
	}
	g_autoptr(TestResp) u2 = test_http(t, "GET", "/api/v1/users/alice", t->admin_token, NULL);
	assert_true(json_is_true(json_object_get(u2->json, "locked")));
}

static void test_required_by_role_and_account(void **state)
{
	TestMgr *t = *state;
	g_autofree char *secret = NULL;

	assert_int_equal(test_status(t, "POST", "/api/v1/roles", t->admin_token,
				     "{\"name\": \"secure\", \"permissions\": [\"vm.read\"],"
				     " \"second_factor_required\": true}"),
			 201);
	assert_int_equal(test_make_user(t, "bob", "[\"secure\"]"), 201);
	g_autoptr(TestResp) l = login(t, "bob", TEST_PASSWORD, NULL);
	assert_int_equal(l->status, 201);
	assert_string_equal(test_str(l, "stage"), "enrol");
	const char *tok = test_str(l, "token");
	g_autoptr(TestResp) denied = test_http(t, "GET", "/api/v1/vms", tok, NULL);
	assert_int_equal(denied->status, 403);
	assert_non_null(strstr(denied->body->str, "enrol"));
	g_autoptr(TestResp) me = test_http(t, "GET", "/api/v1/sessions/current", tok, NULL);
	assert_int_equal(me->status, 200);
	assert_int_equal(json_array_size(json_object_get(me->json, "permissions")), 0);
	/* The limited session enrols; confirming makes it full. */
	secret = enrol(t, "bob", tok, NULL);
	assert_int_equal(test_status(t, "GET", "/api/v1/vms", tok, NULL), 200);
	/* Required: bob cannot remove it himself. */
	g_autofree char *code = code_at(secret, 0);
	g_autoptr(TestResp) rm =
		post(t, "/api/v1/users/bob/totp/disable", tok, "{\"code\": \"%s\"}", code);
	assert_int_equal(rm->status, 409);

	/* The account's own flag, on a builtin role's holder. */
	assert_int_equal(test_status(t, "PATCH", "/api/v1/users/alice", t->admin_token,
				     "{\"second_factor_required\": true}"),
			 200);
	g_autoptr(TestResp) a = login(t, "alice", TEST_PASSWORD, NULL);
	assert_string_equal(test_str(a, "stage"), "enrol");
	/* A flag on a builtin role applies to its holders. */
	assert_int_equal(test_status(t, "PATCH", "/api/v1/roles/readonly", t->admin_token,
				     "{\"second_factor_required\": true}"),
			 200);
	assert_int_equal(test_make_user(t, "carol", "[\"readonly\"]"), 201);
	g_autoptr(TestResp) c = login(t, "carol", TEST_PASSWORD, NULL);
	assert_string_equal(test_str(c, "stage"), "enrol");
	g_autoptr(TestResp) role =
		test_http(t, "GET", "/api/v1/roles/readonly", t->admin_token, NULL);
	assert_true(json_is_true(json_object_get(role->json, "second_factor_required")));
}

static void test_disable_and_reset(void **state)
{
	TestMgr *t = *state;
	g_autofree char *tok = test_login(t, "alice", TEST_PASSWORD);
	g_autofree char *secret = enrol(t, "alice", tok, NULL);
	g_autofree char *code = code_at(secret, 0);

	/* Self-service removal needs a code. */
	g_autoptr(TestResp) w =
		post(t, "/api/v1/users/alice/totp/disable", tok, "{\"code\": \"111111\"}");
	assert_int_equal(w->status, 403);
	g_autoptr(TestResp) ok =
		post(t, "/api/v1/users/alice/totp/disable", tok, "{\"code\": \"%s\"}", code);
	assert_int_equal(ok->status, 204);
	g_autoptr(TestResp) l = login(t, "alice", TEST_PASSWORD, NULL);
	assert_string_equal(test_str(l, "stage"), "full");

	/* Reset by someone holding user.admin and every permission of the
	 * user: alice's sessions end. */
	g_free(secret);
	g_free(tok);
	tok = test_login(t, "alice", TEST_PASSWORD);
	secret = enrol(t, "alice", tok, NULL);
	assert_int_equal(test_status(t, "POST", "/api/v1/roles", t->admin_token,
				     "{\"name\": \"helpdesk\", \"permissions\": [\"user.admin\","
				     " \"user.read\"]}"),
			 201);
	assert_int_equal(test_make_user(t, "dave", "[\"helpdesk\"]"), 201);
	g_autofree char *dave = test_login(t, "dave", TEST_PASSWORD);
	/* alice (readonly) holds vm.read, which dave does not. */
	g_autoptr(TestResp) no = test_http(t, "DELETE", "/api/v1/users/alice/totp", dave, NULL);
	assert_int_equal(no->status, 403);
	assert_non_null(strstr(no->body->str, "do not"));
	assert_int_equal(test_status(t, "DELETE", "/api/v1/users/admin/totp", dave, NULL), 403);
	/* alice herself cannot use the reset. */
	assert_int_equal(test_status(t, "DELETE", "/api/v1/users/alice/totp", tok, NULL), 403);
	assert_int_equal(test_status(t, "DELETE", "/api/v1/users/alice/totp", t->admin_token, NULL),
			 204);
	assert_int_equal(test_status(t, "GET", "/api/v1/vms", tok, NULL), 401);
	g_autoptr(TestResp) after = login(t, "alice", TEST_PASSWORD, NULL);
	assert_string_equal(test_str(after, "stage"), "full");
	assert_int_equal(test_status(t, "DELETE", "/api/v1/users/alice/totp", t->admin_token, NULL),
			 404);
	/* Audited, without the codes. */
	g_autoptr(TestResp) audit =
		test_http(t, "GET", "/api/v1/audit?action=totp.reset", t->admin_token, NULL);
	assert_int_equal(audit->status, 200);
	assert_true(json_array_size(json_object_get(audit->json, "items")) >= 3);
	assert_null(strstr(audit->body->str, code));
}

typedef struct {
	TestMgr *t;
	const char *code;
	gint *created;
} Racer;

static gpointer race_login(gpointer data)
{
	Racer *r = data;
	g_autoptr(TestResp) l = login(r->t, "alice", TEST_PASSWORD, r->code);

	if (l->status == 201)
		g_atomic_int_inc(r->created);
	else
		g_assert_cmpint(l->status, ==, 401);
	return NULL;
}

/* One code sent by eight clients at once opens one session. */
static void test_parallel_replay(void **state)
{
	TestMgr *t = *state;
	g_autofree char *tok = test_login(t, "alice", TEST_PASSWORD);
	g_autofree char *secret = enrol(t, "alice", tok, NULL);
	g_autofree char *code = code_at(secret, 0);
	gint created = 0;
	Racer r = { t, code, &created };
	GThread *th[8];

	t->m->cfg.policy.max_failures = 100;
	for (guint i = 0; i < G_N_ELEMENTS(th); i++)
		th[i] = g_thread_new("racer", race_login, &r);
	for (guint i = 0; i < G_N_ELEMENTS(th); i++)
		g_thread_join(th[i]);
	assert_int_equal(created, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc6238_vectors),
		cmocka_unit_test_setup_teardown(test_enrol_and_login, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recovery_codes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_codes_lock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_required_by_role_and_account, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disable_and_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parallel_replay, setup, teardown),
	};
	curl_global_init(CURL_GLOBAL_DEFAULT);
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
