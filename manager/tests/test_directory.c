/*
 * test_directory.c: LDAP directory domains against a real slapd started on
 * loopback (slapd_test_util.h): a sync creates the directory's users with
 * the roles their groups grant, a directory user logs in by a bind (a
 * wrong password refused the same way as a local one, and counted), a
 * user removed or disabled in the directory loses its account or its
 * sessions at the next sync, group changes change roles, a new directory
 * user logs in before any sync, the periodic sync runs when its period has
 * passed (the manager's clock moved by hand), deleting a domain deletes
 * its users; StartTLS and LDAPS verify the server against the domain's CA
 * (another CA: a clear error); bad settings are refused with the field's
 * name, and user input never reaches a filter unescaped.  Skipped when
 * slapd is not installed (tools/install-deps installs it).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ics/manager/directory_ldap.h"
#include "ics/manager/timestamp.h"
#include "mgr_test_util.h"
#include "slapd_test_util.h"

typedef struct {
	TestMgr *t;
	TestSlapd *s;
} Ctx;

static void tweak(IcsManagerConfig *cfg)
{
	cfg->policy.max_failures = 3;
	cfg->policy.lockout_seconds = 600;
	cfg->directory_check_ms = 50;
}

static int setup(void **state)
{
	Ctx *c = g_new0(Ctx, 1);

	c->s = test_slapd_start();
	if (c->s == NULL) {
		g_free(c);
		*state = NULL;
		return 0;
	}
	c->t = test_mgr_start_in(NULL, NULL, tweak);
	assert_non_null(c->t->admin_token);
	assert_int_equal(test_status(c->t, "POST", "/api/v1/roles", c->t->admin_token,
				     "{\"name\": \"operators\", \"permissions\": [\"vm.power\"]}"),
			 201);
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	Ctx *c = *state;

	if (c == NULL)
		return 0;
	test_mgr_stop(c->t, FALSE);
	test_slapd_stop(c->s);
	g_free(c);
	return 0;
}

#define SKIP_WITHOUT_SLAPD(c)                                                                      \
	do {                                                                                       \
		if ((c) == NULL) {                                                                 \
			print_message("slapd is not installed: skipped\n");                        \
			skip();                                                                    \
		}                                                                                  \
	} while (0)

/* The body of a domain "corp" on @url with @ca (NULL: none), plus @extra
 * members. */
static char *domain_body(const char *name, const char *url, const char *ca, json_t *extra)
{
	json_t *b = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:{s:[s], s:[s]}}", "name", name,
			      "url", url, "bind_dn", SLAPD_SVC_DN, "bind_password", SLAPD_SVC_PW,
			      "user_base", "ou=people," SLAPD_SUFFIX, "disabled_filter",
			      "(employeeType=disabled)", "group_base", "ou=groups," SLAPD_SUFFIX,
			      "group_roles", "cn=admins,ou=groups," SLAPD_SUFFIX, "administrator",
			      "cn=ops,ou=groups," SLAPD_SUFFIX, "operators");
	char *text;

	if (ca)
		json_object_set_new(b, "ca_certificate", json_string(ca));
	if (extra)
		json_object_update(b, extra);
	text = json_dumps(b, 0);
	json_decref(b);
	json_decref(extra);
	return text;
}

static void create_corp(Ctx *c)
{
	g_autofree char *body = domain_body("corp", c->s->url, c->s->ca_pem, NULL);
	g_autoptr(TestResp) r =
		test_http(c->t, "POST", "/api/v1/directories", c->t->admin_token, body);

	if (r->status != 201)
		fail_msg("create: %ld %s", r->status, r->body->str);
	assert_null(strstr(r->body->str, SLAPD_SVC_PW));
}

static void sync_corp(Ctx *c, const char *expect)
{
	g_autoptr(TestResp) r =
		test_http(c->t, "POST", "/api/v1/directories/corp/sync", c->t->admin_token, NULL);
	g_autofree char *state = NULL;

	assert_int_equal(r->status, 202);
	state = test_wait_task(c->t, c->t->admin_token,
			       json_integer_value(json_object_get(r->json, "id")));
	assert_string_equal(state, expect);
}

static TestResp *user(Ctx *c, const char *name)
{
	g_autofree char *path = g_strconcat("/api/v1/users/", name, NULL);

	return test_http(c->t, "GET", path, c->t->admin_token, NULL);
}

static char *roles(Ctx *c, const char *name)
{
	g_autoptr(TestResp) r = user(c, name);
	g_autofree char *s = json_dumps(json_object_get(r->json, "roles"), JSON_COMPACT);

	return g_strdup(s ? s : "");
}

/* @secret is in no file of the state directory and no audit record. */
static void assert_no_secret(Ctx *c, const char *secret)
{
	static const char *const files[] = { "manager.db", "manager.db-wal", NULL };
	g_autoptr(TestResp) audit = test_http(c->t, "GET", "/api/v1/audit/export?format=jsonl",
					      c->t->admin_token, NULL);

	assert_int_equal(audit->status, 200);
	assert_true(audit->body->len > 0);
	assert_null(strstr(audit->body->str, secret));
	for (guint i = 0; files[i]; i++) {
		g_autofree char *path = g_build_filename(c->t->dir, files[i], NULL);
		g_autofree char *data = NULL;
		gsize len = 0;

		if (!g_file_get_contents(path, &data, &len, NULL))
			continue;
		assert_null(memmem(data, len, secret, strlen(secret)));
	}
}

static void test_sync_login_and_changes(void **state)
{
	Ctx *c = *state;
	SKIP_WITHOUT_SLAPD(c);
	g_autofree char *r = NULL, *dan = NULL, *gina = NULL;

	create_corp(c);
	sync_corp(c, "succeeded");
	r = roles(c, "dan");
	assert_string_equal(r, "[\"administrator\"]");
	g_free(r);
	r = roles(c, "erin");
	assert_string_equal(r, "[\"operators\"]");
	{
		g_autoptr(TestResp) d = user(c, "dan");
		g_autoptr(TestResp) f = user(c, "frank");
		g_autoptr(TestResp) g = user(c, "gina");

		assert_string_equal(test_str(d, "directory"), "corp");
		assert_true(json_is_false(json_object_get(f->json, "enabled")));
		assert_true(json_is_true(json_object_get(g->json, "enabled")));
		assert_int_equal(json_array_size(json_object_get(g->json, "roles")), 0);
	}
	g_autoptr(TestResp) dir =
		test_http(c->t, "GET", "/api/v1/directories/corp", c->t->admin_token, NULL);
	assert_int_equal(json_integer_value(json_object_get(dir->json, "users")), 4);
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(dir->json, "last_sync"), "result")),
			    "succeeded");
	assert_null(strstr(dir->body->str, SLAPD_SVC_PW));

	/* Login by bind; a wrong password is the same 401 as an unknown user,
	 * and counted. */
	dan = test_login(c->t, "dan", "Dan-Passw0rd!");
	assert_non_null(dan);
	assert_int_equal(test_status(c->t, "GET", "/api/v1/users", dan, NULL), 200);
	g_autoptr(TestResp) bad = test_http(c->t, "POST", "/api/v1/sessions", NULL,
					    "{\"username\": \"gina\", \"password\": \"nope\"}");
	g_autoptr(TestResp) nobody =
		test_http(c->t, "POST", "/api/v1/sessions", NULL,
			  "{\"username\": \"nobody\", \"password\": \"nope\"}");
	assert_int_equal(bad->status, 401);
	assert_string_equal(bad->body->str, nobody->body->str);
	assert_null(test_login(c->t, "gina", "Wrong-1"));
	assert_null(test_login(c->t, "gina", "Wrong-2"));
	assert_null(test_login(c->t, "gina", "Gina-Passw0rd!")); /* locked after 3 */
	{
		g_autoptr(TestResp) g = user(c, "gina");
		assert_true(json_is_true(json_object_get(g->json, "locked")));
	}
	/* A directory-disabled user cannot log in. */
	assert_null(test_login(c->t, "frank", "Frank-Passw0rd!"));
	/* The directory owns password and roles. */
	assert_int_equal(test_status(c->t, "PATCH", "/api/v1/users/erin", c->t->admin_token,
				     "{\"roles\": [\"readonly\"]}"),
			 409);
	assert_int_equal(test_status(c->t, "DELETE", "/api/v1/users/erin", c->t->admin_token, NULL),
			 409);

	/* Removed, disabled, regrouped in the directory: applied at the sync. */
	g_free(r);
	r = roles(c, "erin");
	g_autofree char *erin = test_login(c->t, "erin", "Erin-Passw0rd!");
	assert_non_null(erin);
	ics_clock_advance_for_test(601 * G_USEC_PER_SEC); /* gina's lock ends */
	g_free(c->t->admin_token);
	c->t->admin_token = test_login(c->t, "admin", c->t->admin_password);
	g_free(dan);
	dan = test_login(c->t, "dan", "Dan-Passw0rd!");
	gina = test_login(c->t, "gina", "Gina-Passw0rd!");
	assert_non_null(gina);
	test_slapd_modify(c->s, "dn: uid=dan,ou=people," SLAPD_SUFFIX "\nchangetype: delete\n\n"
				"dn: uid=gina,ou=people," SLAPD_SUFFIX "\nchangetype: modify\n"
				"add: employeeType\nemployeeType: disabled\n\n"
				"dn: cn=admins,ou=groups," SLAPD_SUFFIX "\nchangetype: modify\n"
				"replace: member\nmember: uid=erin,ou=people," SLAPD_SUFFIX "\n");
	sync_corp(c, "succeeded");
	{
		g_autoptr(TestResp) d = user(c, "dan");
		g_autoptr(TestResp) g = user(c, "gina");

		assert_int_equal(d->status, 404);
		assert_true(json_is_false(json_object_get(g->json, "enabled")));
	}
	assert_int_equal(test_status(c->t, "GET", "/api/v1/vms", dan, NULL), 401);
	assert_int_equal(test_status(c->t, "GET", "/api/v1/vms", gina, NULL), 401);
	g_free(r);
	r = roles(c, "erin");
	assert_string_equal(r, "[\"administrator\",\"operators\"]");
	/* erin's session sees her new role at once. */
	assert_int_equal(test_status(c->t, "GET", "/api/v1/audit", erin, NULL), 200);
	/* Neither the service password nor a user's is in the database (nor
	 * its journal) or the audit trail. */
	assert_no_secret(c, SLAPD_SVC_PW);
	assert_no_secret(c, "Dan-Passw0rd!");
	assert_no_secret(c, "Erin-Passw0rd!");
}

static void test_login_before_sync_and_delete(void **state)
{
	Ctx *c = *state;
	SKIP_WITHOUT_SLAPD(c);
	g_autofree char *erin = NULL;

	create_corp(c);
	/* Never synced: erin logs in, is created with her group's role. */
	erin = test_login(c->t, "erin", "Erin-Passw0rd!");
	assert_non_null(erin);
	g_autofree char *r = roles(c, "erin");
	assert_string_equal(r, "[\"operators\"]");
	/* The role is read again at each login. */
	test_slapd_modify(c->s, "dn: cn=admins,ou=groups," SLAPD_SUFFIX "\nchangetype: modify\n"
				"add: member\nmember: uid=erin,ou=people," SLAPD_SUFFIX "\n");
	g_autofree char *again = test_login(c->t, "erin", "Erin-Passw0rd!");
	assert_non_null(again);
	g_free(r);
	r = roles(c, "erin");
	assert_string_equal(r, "[\"administrator\",\"operators\"]");
	/* An unknown name stays unknown. */
	assert_null(test_login(c->t, "zed", "Zed-Passw0rd!"));
	g_autoptr(TestResp) zed = user(c, "zed");
	assert_int_equal(zed->status, 404);

	/* Deleting the domain deletes its users and their sessions. */
	assert_int_equal(
		test_status(c->t, "DELETE", "/api/v1/directories/corp", c->t->admin_token, NULL),
		204);
	assert_int_equal(test_status(c->t, "GET", "/api/v1/vms", erin, NULL), 401);
	g_autoptr(TestResp) gone = user(c, "erin");
	assert_int_equal(gone->status, 404);
	assert_int_equal(
		test_status(c->t, "GET", "/api/v1/directories/corp", c->t->admin_token, NULL), 404);
}

static void test_periodic_sync(void **state)
{
	Ctx *c = *state;
	SKIP_WITHOUT_SLAPD(c);
	gboolean synced = FALSE;

	create_corp(c);
	assert_int_equal(test_status(c->t, "PATCH", "/api/v1/directories/corp", c->t->admin_token,
				     "{\"sync_period_seconds\": 300}"),
			 200);
	/* Due at once (never synced); then not again until 300 s passed. */
	for (int i = 0; i < 600 && !synced; i++) {
		g_autoptr(TestResp) u = user(c, "dan");

		synced = u->status == 200;
		if (!synced)
			g_usleep(20000);
	}
	assert_true(synced);
	test_slapd_modify(c->s, "dn: uid=dan,ou=people," SLAPD_SUFFIX "\nchangetype: delete\n");
	ics_clock_advance_for_test(301 * G_USEC_PER_SEC);
	g_free(c->t->admin_token);
	c->t->admin_token = test_login(c->t, "admin", c->t->admin_password);
	for (int i = 0; i < 600 && synced; i++) {
		g_autoptr(TestResp) u = user(c, "dan");

		synced = u->status == 200;
		if (synced)
			g_usleep(20000);
	}
	assert_false(synced);
}

static void test_tls(void **state)
{
	Ctx *c = *state;
	SKIP_WITHOUT_SLAPD(c);
	struct {
		const char *name;
		const char *url;
		const char *ca;
		gboolean ok;
	} cases[] = {
		{ "starttls", c->s->url, c->s->ca_pem, TRUE },
		{ "ldaps", c->s->ldaps_url, c->s->ca_pem, TRUE },
		{ "starttls-wrong-ca", c->s->url, c->s->other_pem, FALSE },
		{ "ldaps-wrong-ca", c->s->ldaps_url, c->s->other_pem, FALSE },
		{ "ldaps-system-ca", c->s->ldaps_url, NULL, FALSE },
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *body = domain_body(cases[i].name, cases[i].url, cases[i].ca, NULL);
		g_autofree char *path =
			g_strdup_printf("/api/v1/directories/%s/test", cases[i].name);
		g_autoptr(TestResp) r = NULL;

		assert_int_equal(
			test_status(c->t, "POST", "/api/v1/directories", c->t->admin_token, body),
			201);
		r = test_http(c->t, "POST", path, c->t->admin_token, NULL);
		assert_int_equal(r->status, 200);
		if (json_is_true(json_object_get(r->json, "ok")) != cases[i].ok)
			fail_msg("%s: %s", cases[i].name, r->body->str);
		if (cases[i].ok) {
			assert_int_equal(json_integer_value(json_object_get(r->json, "users")), 4);
			/* groupOfNames only: the posixGroup is not one. */
			assert_int_equal(json_integer_value(json_object_get(r->json, "groups")), 2);
		} else {
			const char *e = test_str(r, "error");

			if (strstr(e, cases[i].name[0] == 's' ? "StartTLS" : "ca_certificate") ==
			    NULL)
				fail_msg("%s: unclear error: %s", cases[i].name, e);
		}
	}
	/* A wrong service password is told apart from a TLS failure. */
	g_autofree char *body = domain_body("badpw", c->s->ldaps_url, c->s->ca_pem,
					    json_pack("{s:s}", "bind_password", "nope"));
	assert_int_equal(test_status(c->t, "POST", "/api/v1/directories", c->t->admin_token, body),
			 201);
	g_autoptr(TestResp) r =
		test_http(c->t, "POST", "/api/v1/directories/badpw/test", c->t->admin_token, NULL);
	assert_non_null(strstr(test_str(r, "error"), "bind_password"));
	/* A failed sync says why and changes nothing. */
	g_autoptr(TestResp) s =
		test_http(c->t, "POST", "/api/v1/directories/badpw/sync", c->t->admin_token, NULL);
	g_autofree char *st = test_wait_task(c->t, c->t->admin_token,
					     json_integer_value(json_object_get(s->json, "id")));
	assert_string_equal(st, "failed");
	g_autoptr(TestResp) d =
		test_http(c->t, "GET", "/api/v1/directories/badpw", c->t->admin_token, NULL);
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(d->json, "last_sync"), "result")),
		"failed");
	assert_int_equal(json_integer_value(json_object_get(d->json, "users")), 0);
}

static void test_bad_input(void **state)
{
	Ctx *c = *state;
	SKIP_WITHOUT_SLAPD(c);
	struct {
		json_t *extra;
		long status;
		const char *says;
	} cases[] = {
		{ json_pack("{s:s}", "url", "http://127.0.0.1/"), 400, "url" },
		{ json_pack("{s:s}", "url", "ldap://127.0.0.1/dc=x?uid"), 400, "url" },
		{ json_pack("{s:s, s:b}", "url", "ldap://ldap.example.com", "insecure", 1), 400,
		  "loopback" },
		{ json_pack("{s:s, s:b}", "url", "ldaps://127.0.0.1", "insecure", 1), 400,
		  "insecure" },
		{ json_pack("{s:s}", "user_filter", "objectClass=person"), 400, "filter" },
		{ json_pack("{s:s}", "user_filter", "(uid=a))(|(uid=*)"), 400, "filter" },
		{ json_pack("{s:s}", "user_base", "not a dn"), 400, "user_base" },
		{ json_pack("{s:s}", "login_attribute", "u id"), 400, "login_attribute" },
		{ json_pack("{s:s}", "ca_certificate", "-----BEGIN CERTIFICATE-----\nxx\n"), 400,
		  "ca_certificate" },
		{ json_pack("{s:{s:[s]}}", "group_roles", "cn=x,dc=example,dc=com", "nosuchrole"),
		  400, "nosuchrole" },
		{ json_pack("{s:{s:[s, s]}}", "group_roles", "cn=x,dc=example,dc=com",
			    "administrator", "readonly"),
		  409, "mutually exclusive" },
		{ json_pack("{s:i}", "sync_period_seconds", 5), 400, "sync_period_seconds" },
		{ json_pack("{s:s}", "surprise", "x"), 400, "surprise" },
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *body = domain_body("bad", c->s->url, NULL, cases[i].extra);
		g_autoptr(TestResp) r =
			test_http(c->t, "POST", "/api/v1/directories", c->t->admin_token, body);

		if (r->status != cases[i].status || strstr(r->body->str, cases[i].says) == NULL)
			fail_msg("case %u: %ld %s", i, r->status, r->body->str);
	}
	/* Nothing was half-written. */
	g_autoptr(TestResp) l =
		test_http(c->t, "GET", "/api/v1/directories", c->t->admin_token, NULL);
	assert_int_equal(json_array_size(json_object_get(l->json, "items")), 0);
	/* Insecure is allowed to loopback only, and works. */
	g_autofree char *ins =
		domain_body("plain", c->s->url, NULL, json_pack("{s:b}", "insecure", 1));
	assert_int_equal(test_status(c->t, "POST", "/api/v1/directories", c->t->admin_token, ins),
			 201);
	g_autoptr(TestResp) t =
		test_http(c->t, "POST", "/api/v1/directories/plain/test", c->t->admin_token, NULL);
	assert_true(json_is_true(json_object_get(t->json, "ok")));
	/* Only administrators may see or change domains. */
	assert_int_equal(test_make_user(c->t, "ro", "[\"readonly\"]"), 201);
	g_autofree char *ro = test_login(c->t, "ro", TEST_PASSWORD);
	assert_int_equal(test_status(c->t, "GET", "/api/v1/directories", ro, NULL), 403);
	assert_int_equal(test_status(c->t, "DELETE", "/api/v1/directories/plain", ro, NULL), 403);
	/* Filter values are escaped; names that are not user names never
	 * reach a filter at all. */
	g_autofree char *esc = ics_ldap_filter_escape("*)(uid=*");
	assert_string_equal(esc, "\\2A\\29\\28uid=\\2A");
	assert_int_equal(test_status(c->t, "POST", "/api/v1/sessions", NULL,
				     "{\"username\": \"*\", \"password\": \"x\"}"),
			 400);
	/* A role granted by a directory cannot be deleted. */
	g_autofree char *corp = domain_body("corp", c->s->url, c->s->ca_pem, NULL);
	assert_int_equal(test_status(c->t, "POST", "/api/v1/directories", c->t->admin_token, corp),
			 201);
	assert_int_equal(
		test_status(c->t, "DELETE", "/api/v1/roles/operators", c->t->admin_token, NULL),
		409);
}

/* Deleting the domain of the last enabled administrator is refused. */
static void test_last_admin(void **state)
{
	Ctx *c = *state;
	SKIP_WITHOUT_SLAPD(c);
	g_autofree char *dan = NULL;

	create_corp(c);
	sync_corp(c, "succeeded");
	dan = test_login(c->t, "dan", "Dan-Passw0rd!");
	assert_non_null(dan);
	assert_int_equal(test_status(c->t, "DELETE", "/api/v1/users/admin", dan, NULL), 204);
	/* dan is the only administrator left: the helpers act as him. */
	g_free(c->t->admin_token);
	c->t->admin_token = g_strdup(dan);
	g_autoptr(TestResp) r = test_http(c->t, "DELETE", "/api/v1/directories/corp", dan, NULL);
	assert_int_equal(r->status, 409);
	assert_non_null(strstr(r->body->str, "administrator"));
	/* ... and so is a sync that would take the role away. */
	test_slapd_modify(c->s, "dn: cn=admins,ou=groups," SLAPD_SUFFIX "\nchangetype: modify\n"
				"replace: member\nmember: uid=gina,ou=people," SLAPD_SUFFIX "\n");
	test_slapd_modify(c->s, "dn: uid=gina,ou=people," SLAPD_SUFFIX "\nchangetype: modify\n"
				"add: employeeType\nemployeeType: disabled\n");
	g_autoptr(TestResp) s = test_http(c->t, "POST", "/api/v1/directories/corp/sync", dan, NULL);
	g_autofree char *st =
		test_wait_task(c->t, dan, json_integer_value(json_object_get(s->json, "id")));
	assert_string_equal(st, "failed");
	/* Nothing changed: dan is still the administrator, gina still enabled. */
	g_autofree char *r2 = roles(c, "dan");
	assert_string_equal(r2, "[\"administrator\"]");
	assert_int_equal(test_status(c->t, "GET", "/api/v1/audit", dan, NULL), 200);
	g_autoptr(TestResp) g = user(c, "gina");
	assert_true(json_is_true(json_object_get(g->json, "enabled")));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sync_login_and_changes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_login_before_sync_and_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_periodic_sync, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_last_admin, setup, teardown),
	};
	curl_global_init(CURL_GLOBAL_DEFAULT);
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
