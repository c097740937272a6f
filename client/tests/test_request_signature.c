/*
 * test_request_signature.c: AK/SK signatures against a real ics-managerd
 * over HTTPS -- the canonical string is byte for byte the manager's
 * (manager/apikey.c's own function), a signed request (with query and
 * body) is accepted, the same signature on an altered or replayed request
 * is refused, and a wrong secret is refused with the manager's message.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "client_test_util.h"
#include "ics/client.h"
#include "ics/error.h"
#include "ics/json.h"
#include "ics/manager/apikey.h"
#include "ics/request_signature.h"

typedef struct {
	ClientTest *t;
	char *token;
	char *key_id, *secret;
} Ctx;

static int setup(void **state)
{
	Ctx *c = g_new0(Ctx, 1);

	c->t = client_test_start();
	c->token = client_test_login(c->t);
	client_test_apikey(c->t, c->token, &c->key_id, &c->secret);
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	Ctx *c = *state;

	client_test_stop(c->t);
	g_free(c->token);
	g_free(c->key_id);
	g_free(c->secret);
	g_free(c);
	return 0;
}

static IcsRest *signed_client(Ctx *c)
{
	IcsRestConfig rc = { .url = c->t->url,
			     .ca_file = c->t->ca,
			     .access_key = c->key_id,
			     .secret_key = c->secret };
	g_autoptr(GError) err = NULL;
	IcsRest *rest = ics_rest_new(&rc, &err);

	assert_non_null(rest);
	return rest;
}

static void test_canonical_string(void **state)
{
	static const char *const pairs[] = { "user",  "b ob", "action",	     "vm.create", "user",
					     "alice", "x",    "a/b&c=d+e~f", "",	  "" };
	g_autoptr(IcsRequest) req = ics_request_new("POST", "/api/v1/vms");
	g_autoptr(GPtrArray) q = ics_rest_query_new();
	const char *body = "{\"definition\": {\"name\": \"x\"}}";
	g_autofree char *mine = NULL, *theirs = NULL, *empty_mine = NULL, *empty_theirs = NULL;

	(void)state;
	for (guint i = 0; i < G_N_ELEMENTS(pairs); i += 2) {
		ics_rest_query_add(q, pairs[i], pairs[i + 1]);
		g_ptr_array_add(req->query, g_strdup(pairs[i]));
		g_ptr_array_add(req->query, g_strdup(pairs[i + 1]));
	}
	g_free(req->body);
	req->body = g_strdup(body);
	req->body_len = strlen(body);
	mine = ics_rest_signature_string("POST", "/api/v1/vms", q, "1764170000",
					 "nonce-0123456789ab", body, strlen(body));
	theirs = ics_apikey_string_to_sign(req, "1764170000", "nonce-0123456789ab");
	assert_string_equal(mine, theirs);
	assert_non_null(
		strstr(mine, "\n=&action=vm.create&user=alice&user=b%20ob&x=a%2Fb%26c%3Dd%2Be~f"));

	/* No query, no body. */
	{
		g_autoptr(IcsRequest) get = ics_request_new("GET", "/api/v1/users");

		empty_mine =
			ics_rest_signature_string("GET", "/api/v1/users", NULL, "1", "n", NULL, 0);
		empty_theirs = ics_apikey_string_to_sign(get, "1", "n");
		assert_string_equal(empty_mine, empty_theirs);
	}
}

static size_t collect(char *p, size_t size, size_t n, void *data)
{
	g_string_append_len(data, p, (gssize)(size * n));
	return size * n;
}

/* Send GET @url_path with @headers through plain libcurl; the status. */
static long raw_get(Ctx *c, const char *url_path, char **headers)
{
	CURL *h = curl_easy_init();
	struct curl_slist *list = NULL;
	g_autofree char *url = g_strconcat(c->t->url, url_path, NULL);
	g_autoptr(GString) sink = g_string_new(NULL);
	long status = 0;

	for (guint i = 0; headers[i]; i++)
		list = curl_slist_append(list, headers[i]);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CAINFO, c->t->ca);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, list);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, sink);
	if (curl_easy_perform(h) == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(list);
	curl_easy_cleanup(h);
	return status;
}

static void test_tampered_refused(void **state)
{
	Ctx *c = *state;
	g_autoptr(GPtrArray) q = ics_rest_query_new();
	g_auto(GStrv) h1 = NULL, h2 = NULL, h3 = NULL;
	ics_rest_query_add(q, "limit", "5");
	/* Signed for ?limit=5, sent with ?limit=6: refused. */
	h1 = ics_rest_signature_headers(c->key_id, c->secret, "GET", "/api/v1/vms", q, NULL, 0);
	assert_int_equal(raw_get(c, "/api/v1/vms?limit=6", h1), 401);
	/* Signed for /api/v1/vms, sent to /api/v1/users: refused. */
	h2 = ics_rest_signature_headers(c->key_id, c->secret, "GET", "/api/v1/vms", q, NULL, 0);
	assert_int_equal(raw_get(c, "/api/v1/users?limit=5", h2), 401);
	/* As signed: accepted once, then a replay is refused. */
	h3 = ics_rest_signature_headers(c->key_id, c->secret, "GET", "/api/v1/vms", q, NULL, 0);
	assert_int_equal(raw_get(c, "/api/v1/vms?limit=5", h3), 200);
	assert_int_equal(raw_get(c, "/api/v1/vms?limit=5", h3), 401);
}

static void test_wrong_secret(void **state)
{
	Ctx *c = *state;
	IcsRestConfig rc = { .url = c->t->url,
			     .ca_file = c->t->ca,
			     .access_key = c->key_id,
			     .secret_key = "not-the-secret" };
	g_autoptr(GError) err = NULL;
	g_autoptr(IcsRest) rest = ics_rest_new(&rc, &err);
	g_autoptr(json_t) r = NULL;

	assert_non_null(rest);
	r = ics_rest_call(rest, "GET", "/api/v1/vms", NULL, NULL, &err);
	assert_null(r);
	assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_PERMISSION));
	assert_non_null(strstr(err->message, "signature does not match"));
}

static void test_signed_accepted(void **state)
{
	Ctx *c = *state;
	g_autoptr(IcsRest) rest = signed_client(c);
	g_autoptr(GError) err = NULL;
	g_autoptr(json_t) me = NULL, vm = NULL, page = NULL;
	g_autoptr(json_t) body = json_pack("{s:{s:s, s:i, s:i}}", "definition", "name", "s1",
					   "vcpus", 1, "memory_mib", 128);
	g_autoptr(GPtrArray) q = ics_rest_query_new();

	me = ics_rest_call(rest, "GET", "/api/v1/sessions/current", NULL, NULL, &err);
	assert_non_null(me);
	assert_string_equal(json_string_value(json_object_get(me, "auth")), "apikey");
	vm = ics_rest_call(rest, "POST", "/api/v1/vms", NULL, body, &err);
	assert_non_null(vm);
	ics_rest_query_add(q, "user", "admin");
	ics_rest_query_add(q, "action", "vm.create");
	ics_rest_query_add(q, "since", "2020-01-01T00:00:00Z");
	ics_rest_query_add(q, "limit", "5");
	page = ics_rest_call(rest, "GET", "/api/v1/audit", q, NULL, &err);
	assert_non_null(page);
	assert_int_equal(json_array_size(json_object_get(page, "items")), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_canonical_string),
		cmocka_unit_test_setup_teardown(test_signed_accepted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tampered_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_secret, setup, teardown),
	};
	int rc;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
