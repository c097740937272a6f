/*
 * test_apikey.c: AK/SK keys and signed requests -- a valid signature is
 * accepted (with query and body), and each of these is refused with 401:
 * a date outside the skew window, a replayed nonce, a tampered method,
 * path, query or body, a wrong secret, an unknown or deleted key, a
 * malformed header.  Secrets are returned once and stored sealed.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ics/manager/apikey.h"
#include "mgr_test_util.h"

typedef struct {
	TestMgr *t;
	char *key_id;
	char *secret;
	int nonce_seq;
} Ctx;

static int setup(void **state)
{
	Ctx *c = g_new0(Ctx, 1);

	c->t = test_mgr_start();
	g_autoptr(TestResp) r = test_http(c->t, "POST", "/api/v1/apikeys", c->t->admin_token,
					  "{\"description\": \"ci robot\"}");
	assert_int_equal(r->status, 201);
	c->key_id = g_strdup(test_str(r, "access_key_id"));
	c->secret = g_strdup(test_str(r, "secret"));
	assert_true(g_str_has_prefix(c->key_id, "AK"));
	assert_true(strlen(c->secret) >= 32);
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	Ctx *c = *state;

	test_mgr_stop(c->t, FALSE);
	g_free(c->key_id);
	g_free(c->secret);
	g_free(c);
	return 0;
}

typedef struct {
	const char *sign_method, *sign_path, *sign_body; /* NULL: same as sent */
	GPtrArray *sign_query;				 /* NULL: same as sent */
	gint64 date_offset;
	const char *nonce;	   /* NULL: a fresh one */
	const char *secret;	   /* NULL: the key's */
	const char *key_id;	   /* NULL: the key's */
	const char *authorization; /* overrides everything */
} Sig;

/* Send @method @path?@query with @body, signed as @sig says. */
static long signed_request(Ctx *c, const char *method, const char *path, const char *query,
			   const char *body, const Sig *sig, TestResp **out)
{
	g_autoptr(IcsRequest) req = ics_request_new(sig->sign_method ? sig->sign_method : method,
						    sig->sign_path ? sig->sign_path : path);
	g_autofree char *date = g_strdup_printf(
		"%" G_GINT64_FORMAT, g_get_real_time() / G_USEC_PER_SEC + sig->date_offset);
	g_autofree char *nonce = sig->nonce
					 ? g_strdup(sig->nonce)
					 : g_strdup_printf("nonce-%08d-abcdefgh", ++c->nonce_seq);
	const char *sbody = sig->sign_body ? sig->sign_body : (body ? body : "");

	g_free(req->body);
	req->body = g_strdup(sbody);
	req->body_len = strlen(sbody);
	if (sig->sign_query) {
		for (guint i = 0; i < sig->sign_query->len; i++)
			g_ptr_array_add(req->query,
					g_strdup(g_ptr_array_index(sig->sign_query, i)));
	} else if (query) {
		g_auto(GStrv) pairs = g_strsplit(query, "&", -1);

		for (guint i = 0; pairs[i]; i++) {
			g_auto(GStrv) kv = g_strsplit(pairs[i], "=", 2);

			g_ptr_array_add(req->query, g_uri_unescape_string(kv[0], NULL));
			g_ptr_array_add(req->query,
					g_uri_unescape_string(kv[1] ? kv[1] : "", NULL));
		}
	}
	g_autofree char *sts = ics_apikey_string_to_sign(req, date, nonce);
	g_autofree char *mac = ics_apikey_hmac(sig->secret ? sig->secret : c->secret, sts);
	g_autofree char *auth =
		sig->authorization
			? g_strdup_printf("Authorization: %s", sig->authorization)
			: g_strdup_printf("Authorization: ICS-HMAC-SHA256 Credential=%s, "
					  "Signature=%s",
					  sig->key_id ? sig->key_id : c->key_id, mac);
	g_autofree char *h_date = g_strdup_printf("X-ICS-Date: %s", date);
	g_autofree char *h_nonce = g_strdup_printf("X-ICS-Nonce: %s", nonce);
	const char *const headers[] = { auth, h_date, h_nonce, NULL };
	g_autofree char *url = query ? g_strdup_printf("%s?%s", path, query) : g_strdup(path);
	TestResp *r = test_http_full(c->t, method, url, NULL, body, -1, headers);
	long status = r->status;

	if (out)
		*out = r;
	else
		test_resp_free(r);
	return status;
}

static void test_valid(void **state)
{
	Ctx *c = *state;
	Sig sig = { 0 };
	TestResp *r = NULL;

	assert_int_equal(signed_request(c, "GET", "/api/v1/vms", NULL, NULL, &sig, &r), 200);
	test_resp_free(r);
	assert_int_equal(signed_request(c, "GET", "/api/v1/sessions/current", NULL, NULL, &sig, &r),
			 200);
	assert_string_equal(test_str(r, "auth"), "apikey");
	assert_string_equal(test_str(r, "user"), "admin");
	test_resp_free(r);
	assert_int_equal(signed_request(c, "GET", "/api/v1/audit",
					"user=admin&limit=5&action=vm.create", NULL, &sig, NULL),
			 200);
	g_autofree char *vm = test_vm_body("signed-vm", NULL);
	assert_int_equal(signed_request(c, "POST", "/api/v1/vms", NULL, vm, &sig, NULL), 201);
	/* Within the window either way. */
	sig.date_offset = -250;
	assert_int_equal(signed_request(c, "GET", "/api/v1/vms", NULL, NULL, &sig, NULL), 200);
	sig.date_offset = 250;
	assert_int_equal(signed_request(c, "GET", "/api/v1/vms", NULL, NULL, &sig, NULL), 200);
	/* Listed, without the secret. */
	g_autoptr(TestResp) l = test_http(c->t, "GET", "/api/v1/apikeys", c->t->admin_token, NULL);
	assert_null(strstr(l->body->str, c->secret));
	assert_non_null(strstr(l->body->str, c->key_id));
	assert_non_null(strstr(l->body->str, "ci robot"));
}

static void expect_refused(Ctx *c, const char *method, const char *path, const char *query,
			   const char *body, const Sig *sig, const char *why)
{
	TestResp *r = NULL;
	long st = signed_request(c, method, path, query, body, sig, &r);

	if (st != 401 || strstr(r->body->str, why) == NULL)
		fail_msg("expected 401 \"%s\", got %ld %s", why, st, r->body->str);
	test_resp_free(r);
}

static void test_expired(void **state)
{
	Ctx *c = *state;
	Sig old = { .date_offset = -301 }, future = { .date_offset = 3600 };

	expect_refused(c, "GET", "/api/v1/vms", NULL, NULL, &old, "300 s");
	expect_refused(c, "GET", "/api/v1/vms", NULL, NULL, &future, "300 s");
}

static void test_replayed(void **state)
{
	Ctx *c = *state;
	Sig sig = { .nonce = "the-same-nonce-0001" };

	assert_int_equal(signed_request(c, "GET", "/api/v1/vms", NULL, NULL, &sig, NULL), 200);
	expect_refused(c, "GET", "/api/v1/vms", NULL, NULL, &sig, "replayed");
	/* Also for another path: a nonce is single-use per key. */
	expect_refused(c, "GET", "/api/v1/tasks", NULL, NULL, &sig, "replayed");
}

static void test_tampered(void **state)
{
	Ctx *c = *state;
	g_autofree char *vm = test_vm_body("tampered", NULL);
	g_autoptr(GPtrArray) q = g_ptr_array_new();
	Sig method = { .sign_method = "GET" }, path = { .sign_path = "/api/v1/tasks" },
	    body = { .sign_body = "{}" }, query = { 0 }, secret = { .secret = "not-the-secret" };

	g_ptr_array_add(q, "user");
	g_ptr_array_add(q, "someone-else");
	query.sign_query = q;
	expect_refused(c, "POST", "/api/v1/vms", NULL, vm, &method, "does not match");
	expect_refused(c, "GET", "/api/v1/vms", NULL, NULL, &path, "does not match");
	expect_refused(c, "POST", "/api/v1/vms", NULL, vm, &body, "does not match");
	expect_refused(c, "GET", "/api/v1/audit", "user=admin", NULL, &query, "does not match");
	expect_refused(c, "GET", "/api/v1/vms", NULL, NULL, &secret, "does not match");
	/* Nothing was created by the refused POSTs. */
	g_autoptr(TestResp) l = test_http(c->t, "GET", "/api/v1/vms", c->t->admin_token, NULL);
	assert_int_equal(json_array_size(json_object_get(l->json, "items")), 0);
}

static void test_bad_keys_and_headers(void **state)
{
	Ctx *c = *state;
	Sig unknown = { .key_id = "AKNOSUCHKEY0000000000" };
	Sig malformed = { .authorization = "ICS-HMAC-SHA256 Credential=AKX" };
	Sig short_nonce = { .nonce = "short" };
	g_autofree char *path = g_strdup_printf("/api/v1/apikeys/%s", c->key_id);
	Sig ok = { 0 };

	expect_refused(c, "GET", "/api/v1/vms", NULL, NULL, &unknown, "unknown access key");
	expect_refused(c, "GET", "/api/v1/vms", NULL, NULL, &malformed, "malformed");
	expect_refused(c, "GET", "/api/v1/vms", NULL, NULL, &short_nonce, "X-ICS-Nonce");
	/* A deleted key stops working at once. */
	assert_int_equal(test_status(c->t, "DELETE", path, c->t->admin_token, NULL), 204);
	expect_refused(c, "GET", "/api/v1/vms", NULL, NULL, &ok, "unknown access key");
	assert_int_equal(test_status(c->t, "DELETE", path, c->t->admin_token, NULL), 404);
}

static void test_other_users_keys(void **state)
{
	Ctx *c = *state;

	assert_int_equal(test_make_user(c->t, "bob", "[\"readonly\"]"), 201);
	g_autofree char *bob = test_login(c->t, "bob", TEST_PASSWORD);
	g_autofree char *path = g_strdup_printf("/api/v1/apikeys/%s", c->key_id);
	g_autoptr(TestResp) l = test_http(c->t, "GET", "/api/v1/apikeys", bob, NULL);

	assert_int_equal(json_array_size(json_object_get(l->json, "items")), 0);
	assert_int_equal(test_status(c->t, "DELETE", path, bob, NULL), 404);
	/* The sealed secret is not in the database in clear. */
	g_autofree char *db = g_build_filename(c->t->dir, "manager.db", NULL);
	g_autofree char *wal = g_build_filename(c->t->dir, "manager.db-wal", NULL);
	g_autofree char *data = NULL;
	gsize len = 0;
	if (g_file_get_contents(wal, &data, &len, NULL))
		assert_null(memmem(data, len, c->secret, strlen(c->secret)));
	g_clear_pointer(&data, g_free);
	assert_true(g_file_get_contents(db, &data, &len, NULL));
	assert_null(memmem(data, len, c->secret, strlen(c->secret)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_valid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expired, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replayed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tampered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_keys_and_headers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_users_keys, setup, teardown),
	};
	curl_global_init(CURL_GLOBAL_DEFAULT);
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
