/*
 * test_openapi.c: the server against its description, docs/openapi.yaml.
 *
 * The document is read with libyaml into a JSON tree.  Then, with a
 * manager serving on 127.0.0.1 (and a fake cluster adapter, so power
 * operations succeed), every documented operation is called with a valid
 * request -- path parameters naming fixtures made beforehand, the body
 * from the operation's example -- and must answer a documented 2xx status
 * whose body matches the documented schema (required members, types,
 * enums, nullability).  Every authenticated operation must also answer
 * 401 with the error schema when called without credentials.  The other
 * direction: every route the server has is documented, a documented path
 * with an undocumented method is 405, and undocumented paths are 404.
 *
 * Authorization, route by route and role by role: every documented
 * operation says who may call it (x-ics-access, x-ics-object-permission),
 * the authorization table of the code (authz_rules.c) says the same, and
 * each builtin role (and a custom one) calling it is refused by the
 * dispatcher (403 "forbidden") exactly when the document says the role
 * lacks the permission; a role holding a permission only for its own
 * objects gets 404 for an object of someone else's.  The table in
 * docs/manager-security.md is the code's table, word for word.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <oath.h>
#include <yaml.h>

#include "api.h"
#include "ics/exec.h"
#include "ics/manager/backup_repos.h"
#include "ics/manager/task.h"
#include "ics/manager/timestamp.h"
#include "ics/manager/totp.h"
#include "mgr_test_util.h"

#define FIXTURE_UUID "6f1c3c0e-8a4b-4d5e-9f00-1234567890ab"

/* ---- YAML to JSON ------------------------------------------------------ */

static json_t *plain_scalar(const char *s)
{
	char *end;

	if (g_str_equal(s, "true"))
		return json_true();
	if (g_str_equal(s, "false"))
		return json_false();
	if (g_str_equal(s, "null") || g_str_equal(s, "~") || s[0] == '\0')
		return json_null();
	if (g_regex_match_simple("^-?[0-9]+$", s, 0, 0))
		return json_integer(g_ascii_strtoll(s, NULL, 10));
	if (g_regex_match_simple("^-?[0-9]+\\.[0-9]+$", s, 0, 0))
		return json_real(g_ascii_strtod(s, &end));
	return json_string(s);
}

static json_t *yaml_load(const char *path)
{
	FILE *f = fopen(path, "rb");
	yaml_parser_t p;
	yaml_event_t ev;
	GPtrArray *stack = g_ptr_array_new();			  /* json_t* containers */
	GPtrArray *keys = g_ptr_array_new_with_free_func(g_free); /* pending key per level */
	json_t *root = NULL;
	gboolean done = FALSE;

	assert_non_null(f);
	yaml_parser_initialize(&p);
	yaml_parser_set_input_file(&p, f);
	while (!done) {
		json_t *v = NULL;

		if (!yaml_parser_parse(&p, &ev))
			fail_msg("%s:%zu: %s", path, p.problem_mark.line + 1, p.problem);
		switch (ev.type) {
		case YAML_MAPPING_START_EVENT:
			v = json_object();
			break;
		case YAML_SEQUENCE_START_EVENT:
			v = json_array();
			break;
		case YAML_SCALAR_EVENT: {
			const char *s = (const char *)ev.data.scalar.value;
			json_t *top = stack->len ? g_ptr_array_index(stack, stack->len - 1) : NULL;

			if (json_is_object(top) && g_ptr_array_index(keys, keys->len - 1) == NULL) {
				g_ptr_array_index(keys, keys->len - 1) = g_strdup(s);
				yaml_event_delete(&ev);
				continue;
			}
			v = ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE ? plain_scalar(s)
									    : json_string(s);
			break;
		}
		case YAML_MAPPING_END_EVENT:
		case YAML_SEQUENCE_END_EVENT:
			g_ptr_array_remove_index(stack, stack->len - 1);
			g_ptr_array_remove_index(keys, keys->len - 1);
			break;
		case YAML_STREAM_END_EVENT:
			done = TRUE;
			break;
		case YAML_ALIAS_EVENT:
			fail_msg("%s: aliases are not supported", path);
			break;
		default:
			break;
		}
		if (v) {
			json_t *top = stack->len ? g_ptr_array_index(stack, stack->len - 1) : NULL;

			if (top == NULL)
				root = json_incref(v);
			else if (json_is_array(top))
				json_array_append(top, v);
			else {
				char *k = g_ptr_array_index(keys, keys->len - 1);

				json_object_set(top, k, v);
				g_free(k);
				g_ptr_array_index(keys, keys->len - 1) = NULL;
			}
			if (json_is_object(v) || json_is_array(v)) {
				g_ptr_array_add(stack, v);
				g_ptr_array_add(keys, NULL);
			}
			json_decref(v);
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	fclose(f);
	g_ptr_array_unref(stack);
	g_ptr_array_unref(keys);
	return root;
}

/* ---- a small JSON Schema checker (the OpenAPI 3.0 subset used) --------- */

static json_t *doc;

static json_t *resolve(json_t *node)
{
	const char *ref = json_string_value(json_object_get(node, "$ref"));

	if (ref == NULL)
		return node;
	assert_true(g_str_has_prefix(ref, "#/"));
	g_auto(GStrv) parts = g_strsplit(ref + 2, "/", -1);
	json_t *cur = doc;
	for (guint i = 0; parts[i]; i++) {
		cur = json_object_get(cur, parts[i]);
		if (cur == NULL)
			fail_msg("unresolved $ref %s", ref);
	}
	return resolve(cur);
}

static gboolean type_ok(const char *type, const json_t *v)
{
	if (g_str_equal(type, "object"))
		return json_is_object(v);
	if (g_str_equal(type, "array"))
		return json_is_array(v);
	if (g_str_equal(type, "string"))
		return json_is_string(v);
	if (g_str_equal(type, "integer"))
		return json_is_integer(v);
	if (g_str_equal(type, "number"))
		return json_is_number(v);
	if (g_str_equal(type, "boolean"))
		return json_is_boolean(v);
	return FALSE;
}

static void check_schema(json_t *schema, json_t *v, const char *where, GString *err)
{
	json_t *s = resolve(schema), *all = json_object_get(s, "allOf"), *x;
	const char *type = json_string_value(json_object_get(s, "type"));
	size_t i;

	/* Null first: "nullable" next to "allOf" makes the whole nullable. */
	if (json_is_null(v)) {
		if (!json_is_true(json_object_get(s, "nullable")) && (type || all))
			g_string_append_printf(err, "%s: null but not nullable; ", where);
		return;
	}
	json_array_foreach(all, i, x) check_schema(x, v, where, err);
	if (type && !type_ok(type, v)) {
		g_string_append_printf(err, "%s: expected %s, got %s; ", where, type,
				       ics_json_type_name(v));
		return;
	}
	if ((x = json_object_get(s, "enum"))) {
		gboolean found = FALSE;
		json_t *e;

		json_array_foreach(x, i, e) found |= json_equal(e, v);
		if (!found)
			g_string_append_printf(err, "%s: value not in enum; ", where);
	}
	if (json_is_object(v)) {
		json_t *req = json_object_get(s, "required"),
		       *props = json_object_get(s, "properties");
		const char *k;

		json_array_foreach(req, i, x) if (json_object_get(v, json_string_value(x)) == NULL)
			g_string_append_printf(err, "%s: missing required \"%s\"; ", where,
					       json_string_value(x));
		json_object_foreach(props, k, x)
		{
			json_t *m = json_object_get(v, k);
			g_autofree char *w = g_strdup_printf("%s.%s", where, k);

			if (m)
				check_schema(x, m, w, err);
		}
	}
	if (json_is_array(v) && (x = json_object_get(s, "items"))) {
		json_t *item;

		json_array_foreach(v, i, item)
		{
			g_autofree char *w = g_strdup_printf("%s[%zu]", where, i);

			check_schema(x, item, w, err);
		}
	}
}

/* ---- the walk ---------------------------------------------------------- */

typedef struct {
	TestMgr *t;
	FakeCluster fake;
	IcsClusterOps ops;
	char *key_id;
	char *task_id;
	char *totp_secret; /* erin's, while she has one */
	char *backup_dir;  /* the backup repository's directory */
	char *policy_dir;  /* the repository the policy example backs up into */
	char *pool_dir;	   /* pool "shared" */
	char *backup_id;   /* a backup of the fixture VM in policy_dir: {backup} */
} Ctx;

/* Volumes on libvirt's in-memory test driver. */
static void volume_test_driver(IcsManagerConfig *cfg)
{
	g_free(cfg->volume_uri);
	cfg->volume_uri = g_strdup("test:///default");
}

/* A backup of the fixture VM (a 1 MiB qcow2 disk on pool "shared") in the
 * policies' repository: {backup}, restored by its operation. */
static void fixture_backup(Ctx *c)
{
	g_autofree char *disk = g_build_filename(c->pool_dir, "web1-vda.qcow2", NULL);
	g_autofree char *json = g_strdup_printf(
		"{\"uuid\": \"" FIXTURE_UUID "\", \"name\": \"web1\", \"vcpus\": 1,"
		" \"memory_mib\": 128, \"disks\": [{\"path\": \"%s\", \"format\": \"qcow2\"}]}",
		disk);
	const char *create[] = { "qemu-img", "create", "-q", "-f", "qcow2", disk, "1M", NULL };
	g_autoptr(GError) err = NULL;
	g_autoptr(TestResp) r = NULL;
	g_autoptr(TestResp) list = NULL;
	g_autofree char *st = NULL;

	assert_true(ics_exec_simple(create, 30000, NULL, &err));
	c->fake.backup_vm = ics_vm_meta_parse(json, NULL, &err);
	assert_non_null(c->fake.backup_vm);
	r = test_http(c->t, "POST", "/api/v1/vms/" FIXTURE_UUID "/backups", c->t->admin_token,
		      "{\"repository\": \"for-policies\"}");
	assert_int_equal(r->status, 202);
	st = test_wait_task(c->t, c->t->admin_token,
			    json_integer_value(json_object_get(r->json, "id")));
	assert_string_equal(st, "succeeded");
	list = test_http(c->t, "GET", "/api/v1/vms/" FIXTURE_UUID "/backups", c->t->admin_token,
			 NULL);
	c->backup_id = g_strdup(json_string_value(
		json_object_get(json_array_get(json_object_get(list->json, "backups"), 0), "id")));
	assert_non_null(c->backup_id);
}

static int setup(void **state)
{
	Ctx *c = g_new0(Ctx, 1);
	g_autofree char *spec =
		g_build_filename(g_getenv("ICS_SRCDIR") ? g_getenv("ICS_SRCDIR") : "..", "docs",
				 "openapi.yaml", NULL);
	g_autoptr(GError) err = NULL;
	g_autoptr(json_t) params = json_pack("{s:i, s:i}", "ms", 600000, "steps", 600);
	gint64 id;

	doc = yaml_load(spec);
	assert_non_null(doc);
	c->ops = test_fake_ops(&c->fake);
	c->pool_dir = g_dir_make_tmp("ics-openapi-pool-XXXXXX", NULL);
	c->fake.pool_path = c->pool_dir;
	c->t = test_mgr_start_in(NULL, &c->ops, volume_test_driver);
	/* Fixtures the operations' parameters and examples name. */
	assert_int_equal(test_status(c->t, "PATCH", "/api/v1/users/admin", c->t->admin_token,
				     "{\"password\": \"" TEST_PASSWORD "\"}"),
			 200);
	g_free(c->t->admin_token);
	c->t->admin_token = test_login(c->t, "admin", TEST_PASSWORD);
	assert_int_equal(test_make_user(c->t, "alice", "[\"vm_manager\"]"), 201);
	assert_int_equal(test_status(c->t, "POST", "/api/v1/roles", c->t->admin_token,
				     "{\"name\": \"operators\", \"permissions\": [\"vm.power\"]}"),
			 201);
	assert_int_equal(test_status(c->t, "POST", "/api/v1/vms", c->t->admin_token,
				     "{\"definition\": {\"uuid\": \"" FIXTURE_UUID "\", \"name\":"
				     " \"web1\", \"vcpus\": 1, \"memory_mib\": 128}}"),
			 201);
	/* a backup policy (and the repository it uses): {policy} */
	{
		g_autofree char *repo = NULL;

		c->policy_dir = g_dir_make_tmp("ics-openapi-policy-XXXXXX", NULL);
		repo = g_strdup_printf("{\"name\": \"for-policies\", \"path\": \"%s\"}",
				       c->policy_dir);
		assert_int_equal(test_status(c->t, "POST", "/api/v1/backup-repositories",
					     c->t->admin_token, repo),
				 201);
		assert_int_equal(test_status(c->t, "POST", "/api/v1/backup-policies",
					     c->t->admin_token,
					     "{\"name\": \"nightly-db\", \"schedule\": \"@daily\","
					     " \"repository\": \"for-policies\", \"all_vms\": true}"),
				 201);
	}
	fixture_backup(c);
	assert_int_equal(test_status(c->t, "POST", "/api/v1/pools/shared/volumes",
				     c->t->admin_token,
				     "{\"name\": \"disk1.qcow2\", \"capacity\": \"10G\"}"),
			 201);
	/* The key to delete belongs to a user whose password no operation
	 * changes (a password change revokes the user's keys). */
	assert_int_equal(test_make_user(c->t, "carol", "[\"readonly\"]"), 201);
	assert_int_equal(
		test_status(c->t, "POST", "/api/v1/directories", c->t->admin_token,
			    "{\"name\": \"corp\", \"url\": \"ldaps://127.0.0.1:1\","
			    " \"bind_dn\": \"cn=ics,dc=example,dc=com\", \"bind_password\":"
			    " \"x\", \"user_base\": \"dc=example,dc=com\"}"),
		201);
	/* The second factor's operations are self-service: erin's. */
	assert_int_equal(test_make_user(c->t, "erin", "[\"readonly\"]"), 201);
	g_autofree char *carol = test_login(c->t, "carol", TEST_PASSWORD);
	g_autoptr(TestResp) k = test_http(c->t, "POST", "/api/v1/apikeys", carol, "{}");
	c->key_id = g_strdup(test_str(k, "access_key_id"));
	assert_true(ics_store_begin(c->t->m->store, &err));
	id = ics_task_create(c->t->m->tasks, "test.sleep", NULL, NULL, 0, params, &err);
	assert_true(ics_store_commit(c->t->m->store, &err));
	c->task_id = g_strdup_printf("%" G_GINT64_FORMAT, id);
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	Ctx *c = *state;

	test_mgr_stop(c->t, FALSE);
	g_free(c->key_id);
	g_free(c->task_id);
	g_free(c->totp_secret);
	if (c->backup_dir)
		test_rm_rf(c->backup_dir);
	test_rm_rf(c->pool_dir);
	g_free(c->pool_dir);
	g_free(c->backup_id);
	ics_vm_meta_free(c->fake.backup_vm);
	g_free(c->backup_dir);
	if (c->policy_dir)
		test_rm_rf(c->policy_dir);
	g_free(c->policy_dir);
	g_free(c);
	g_clear_pointer(&doc, json_decref);
	return 0;
}

static const char *const methods[] = { "get", "post", "put", "patch", "delete" };

/* Order: reads and creations, then changes and actions, then deletions,
 * then logging out. */
static int phase(const char *method, const char *path)
{
	if (g_str_equal(method, "get") || (g_str_equal(method, "post") && !strchr(path, '{')))
		return 0;
	if (!g_str_equal(method, "delete"))
		return 1;
	return g_str_equal(path, "/api/v1/sessions/current") ? 3 : 2;
}

static char *concrete_path(Ctx *c, const char *tmpl)
{
	g_auto(GStrv) segs = g_strsplit(tmpl, "/", -1);

	for (guint i = 0; segs[i]; i++) {
		const char *v = NULL;

		if (!g_str_has_prefix(segs[i], "{"))
			continue;
		if (g_str_equal(segs[i], "{user}"))
			v = g_str_has_suffix(tmpl, "/password") ? "admin"
			    : strstr(tmpl, "/totp")		? "erin"
								: "alice";
		else if (g_str_equal(segs[i], "{directory}"))
			v = "corp";
		else if (g_str_equal(segs[i], "{role}"))
			v = "operators";
		else if (g_str_equal(segs[i], "{uuid}"))
			v = FIXTURE_UUID;
		else if (g_str_equal(segs[i], "{key_id}"))
			v = c->key_id;
		else if (g_str_equal(segs[i], "{task_id}"))
			v = c->task_id;
		else if (g_str_equal(segs[i], "{pool}"))
			v = "shared";
		else if (g_str_equal(segs[i], "{volume}"))
			v = "disk1.qcow2";
		else if (g_str_equal(segs[i], "{repository}"))
			v = "nightly";
		else if (g_str_equal(segs[i], "{backup}"))
			v = c->backup_id;
		else if (g_str_equal(segs[i], "{policy}"))
			v = "nightly-db";
		else if (g_str_equal(segs[i], "{name}"))
			v = g_str_has_prefix(tmpl, "/api/v1/pools/") ? "shared" : "node1";
		else
			fail_msg("%s: no fixture for %s", tmpl, segs[i]);
		g_free(segs[i]);
		segs[i] = g_strdup(v);
	}
	return g_strjoinv("/", segs);
}

static size_t stop_at_first(char *p, size_t size, size_t n, void *data)
{
	g_string_append_len(data, p, (gssize)(size * n));
	return 0;
}

/* GET a stream: status and content type from its first bytes. */
static long get_stream(Ctx *c, const char *path, char **ctype)
{
	CURL *h = curl_easy_init();
	g_autofree char *url = g_strconcat(c->t->base, path, NULL);
	g_autofree char *auth = g_strconcat("Authorization: Bearer ", c->t->admin_token, NULL);
	struct curl_slist *hl = curl_slist_append(NULL, auth);
	g_autoptr(GString) body = g_string_new(NULL);
	char *ct = NULL;
	long status = 0;

	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, stop_at_first);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, body);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct);
	*ctype = g_strdup(ct);
	curl_slist_free_all(hl);
	curl_easy_cleanup(h);
	return status;
}

static char *content_type(const TestResp *r)
{
	g_auto(GStrv) lines = g_strsplit(r->headers->str, "\r\n", -1);

	for (guint i = 0; lines[i]; i++)
		if (g_ascii_strncasecmp(lines[i], "Content-Type: ", 14) == 0)
			return g_strndup(lines[i] + 14, strcspn(lines[i] + 14, ";"));
	return NULL;
}

/* Check @status, @ctype and @body against the operation's responses. */
static void check_response(const char *what, json_t *op, long status, const char *ctype,
			   const TestResp *r)
{
	g_autofree char *code = g_strdup_printf("%ld", status);
	json_t *resp = json_object_get(json_object_get(op, "responses"), code), *content;

	if (resp == NULL)
		fail_msg("%s: status %ld is not documented (body %s)", what, status,
			 r ? r->body->str : "");
	resp = resolve(resp);
	content = json_object_get(resp, "content");
	if (content == NULL) {
		if (r && r->body->len != 0)
			fail_msg("%s: %ld documented without a body, got %s", what, status,
				 r->body->str);
		return;
	}
	json_t *media = ctype ? json_object_get(content, ctype) : NULL;
	if (media == NULL)
		fail_msg("%s: %ld content type %s is not documented", what, status,
			 ctype ? ctype : "(none)");
	if (r && g_str_equal(ctype, "application/json")) {
		g_autoptr(GString) err = g_string_new(NULL);

		if (r->json == NULL)
			fail_msg("%s: body is not JSON: %s", what, r->body->str);
		check_schema(json_object_get(media, "schema"), r->json, "body", err);
		if (err->len)
			fail_msg("%s: %ld: %s\n  body: %s", what, status, err->str, r->body->str);
	}
}

/* ---- the second factor's fixtures --------------------------------------- */

/* A fresh code of erin's secret (at the next step: codes are single-use). */
static char *erin_code(Ctx *c)
{
	char *raw = NULL;
	size_t len = 0;
	char *code;

	ics_clock_advance_for_test(ICS_TOTP_STEP_S * G_USEC_PER_SEC);
	assert_int_equal(oath_base32_decode(c->totp_secret, strlen(c->totp_secret), &raw, &len),
			 OATH_OK);
	code = ics_totp_code((const guint8 *)raw, len, ics_now_us() / G_USEC_PER_SEC, 6);
	free(raw);
	return code;
}

/* erin's token: a full session, or one waiting for the code. */
static char *erin_token(Ctx *c, gboolean full)
{
	g_autofree char *code = c->totp_secret && full ? erin_code(c) : NULL;
	g_autofree char *body = g_strdup_printf(
		"{\"username\": \"erin\", \"password\": \"" TEST_PASSWORD "\"%s%s%s}",
		code ? ", \"code\": \"" : "", code ? code : "", code ? "\"" : "");
	g_autoptr(TestResp) r = test_http(c->t, "POST", "/api/v1/sessions", NULL, body);

	assert_int_equal(r->status, 201);
	return g_strdup(test_str(r, "token"));
}

static void erin_enrolled(Ctx *c, gboolean enrolled)
{
	if (!enrolled && c->totp_secret) {
		assert_int_equal(test_status(c->t, "DELETE", "/api/v1/users/erin/totp",
					     c->t->admin_token, NULL),
				 204);
		g_clear_pointer(&c->totp_secret, g_free);
	} else if (enrolled && !c->totp_secret) {
		g_autofree char *tok = erin_token(c, TRUE);
		g_autoptr(TestResp) e =
			test_http(c->t, "POST", "/api/v1/users/erin/totp", tok, NULL);
		g_autofree char *code = NULL, *body = NULL;

		assert_int_equal(e->status, 201);
		c->totp_secret = g_strdup(test_str(e, "secret"));
		code = erin_code(c);
		body = g_strdup_printf("{\"code\": \"%s\"}", code);
		assert_int_equal(
			test_status(c->t, "POST", "/api/v1/users/erin/totp/confirm", tok, body),
			200);
	}
}

/* No backup of the fixture VM is queued or running. */
static gboolean backups_idle(Ctx *c)
{
	gboolean idle;

	ics_store_read_begin(c->t->m->store);
	idle = ics_backup_none_pending(c->t->m->store, FIXTURE_UUID, "", NULL);
	ics_store_read_end(c->t->m->store);
	return idle;
}

/* Before operation @what: put erin in the state it needs, and give the
 * token (NULL: the admin's) and body it is called with. */
static void prepare(Ctx *c, const char *what, char **token, char **body)
{
	gboolean code_body = FALSE;

	if (g_str_equal(what, "post /api/v1/sessions/current/second-factor")) {
		erin_enrolled(c, TRUE);
		*token = erin_token(c, FALSE);
		code_body = TRUE;
	} else if (g_str_equal(what, "post /api/v1/users/{user}/totp")) {
		erin_enrolled(c, FALSE);
		*token = erin_token(c, TRUE);
	} else if (g_str_equal(what, "post /api/v1/users/{user}/totp/confirm")) {
		*token = erin_token(c, TRUE);
		code_body = TRUE;
	} else if (g_str_has_prefix(what, "post /api/v1/users/{user}/totp/")) {
		erin_enrolled(c, TRUE);
		*token = erin_token(c, TRUE);
		code_body = TRUE;
	} else if (g_str_equal(what, "delete /api/v1/users/{user}/totp")) {
		erin_enrolled(c, TRUE);
	} else if (g_str_equal(what, "get /api/v1/users/{user}/totp")) {
		*token = erin_token(c, TRUE);
	} else if (g_str_equal(what, "post /api/v1/backup-repositories")) {
		/* the example's path is a pool's; here a directory of the test's
		 * (beside the state directory: a repository may not be in it) */
		if (c->backup_dir == NULL)
			c->backup_dir = g_dir_make_tmp("ics-openapi-backups-XXXXXX", NULL);
		g_free(*body);
		*body = g_strdup_printf("{\"name\": \"nightly\", \"path\": \"%s\"}",
					c->backup_dir);
	} else if (g_str_equal(what, "post /api/v1/vms/{uuid}/backups/{backup}/restore")) {
		/* the fixture's backup is in the policies' repository; the
		 * backup the operation before queued ends first (one at a time) */
		for (int i = 0; i < 3000 && !backups_idle(c); i++)
			g_usleep(10000);
		g_free(*body);
		*body = g_strdup("{\"repository\": \"for-policies\", \"to\": \"new-vm\","
				 " \"name\": \"web1-restored\"}");
	} else if (g_str_equal(what, "post /api/v1/backup-policies")) {
		/* the example's repository is registered after this (its own
		 * example), and its name is the fixture's: another policy into
		 * the fixture's repository */
		g_free(*body);
		*body = g_strdup("{\"name\": \"nightly-db-2\", \"schedule\": \"0 2 * * *\","
				 " \"repository\": \"for-policies\", \"vms\": [\"web1\"],"
				 " \"retention\": \"last=7,weekly=4\"}");
	}
	if (code_body) {
		g_autofree char *code = erin_code(c);

		g_free(*body);
		*body = g_strdup_printf("{\"code\": \"%s\"}", code);
	}
}

/* After operation @what answered @r: note what changed. */
static void after(Ctx *c, const char *what, const TestResp *r)
{
	if (g_str_equal(what, "post /api/v1/users/{user}/totp")) {
		g_free(c->totp_secret);
		c->totp_secret = g_strdup(test_str(r, "secret"));
	} else if (g_str_equal(what, "post /api/v1/users/{user}/totp/disable") ||
		   g_str_equal(what, "delete /api/v1/users/{user}/totp")) {
		g_clear_pointer(&c->totp_secret, g_free);
	}
}

static gint by_phase(gconstpointer a, gconstpointer b)
{
	char *const *x = a, *const *y = b;
	g_auto(GStrv) xa = g_strsplit(*x, " ", 2), ya = g_strsplit(*y, " ", 2);
	int d = phase(xa[0], xa[1]) - phase(ya[0], ya[1]);

	return d ? d : strcmp(*x, *y);
}

static void test_every_operation(void **state)
{
	Ctx *c = *state;
	json_t *paths = json_object_get(doc, "paths"), *item;
	g_autoptr(GPtrArray) ops = g_ptr_array_new_with_free_func(g_free);
	const char *tmpl;

	json_object_foreach(paths, tmpl, item) for (guint m = 0; m < G_N_ELEMENTS(methods);
						    m++) if (json_object_get(item, methods[m]))
		g_ptr_array_add(ops, g_strdup_printf("%s %s", methods[m], tmpl));
	assert_true(ops->len >= 30);
	g_ptr_array_sort(ops, by_phase);

	for (guint i = 0; i < ops->len; i++) {
		g_auto(GStrv) mp = g_strsplit(g_ptr_array_index(ops, i), " ", 2);
		json_t *op = json_object_get(json_object_get(paths, mp[1]), mp[0]);
		g_autofree char *method = g_ascii_strup(mp[0], -1);
		g_autofree char *path = concrete_path(c, mp[1]);
		json_t *example = json_object_get(
			json_object_get(
				json_object_get(json_object_get(op, "requestBody"), "content"),
				"application/json"),
			"example");
		g_autofree char *body = example ? json_dumps(example, 0) : NULL;
		json_t *sec = json_object_get(op, "security");
		gboolean public = json_is_array(sec) && json_array_size(sec) == 0;
		json_t *ok = json_object_get(json_object_get(op, "responses"), "200");
		gboolean stream = ok && json_object_get(json_object_get(resolve(ok), "content"),
							"text/event-stream");
		const char *what = g_ptr_array_index(ops, i);

		if (json_object_get(op, "requestBody") && body == NULL)
			fail_msg("%s: the request body has no example", what);
		/* Without credentials first (before a DELETE removes the object). */
		if (!public) {
			g_autoptr(TestResp) r = test_http(c->t, method, path, NULL, body);
			g_autofree char *ct = content_type(r);

			if (r->status != 401)
				fail_msg("%s without credentials: %ld, expected 401", what,
					 r->status);
			check_response(what, op, r->status, ct, r);
		}
		if (stream) {
			g_autofree char *ct = NULL;
			long st = get_stream(c, path, &ct);

			check_response(what, op, st, ct, NULL);
			assert_int_equal(st, 200);
			continue;
		}
		if (json_is_true(json_object_get(op, "x-ics-websocket"))) {
			/* A WebSocket (tested end to end in test_console_proxy):
			 * a plain GET is refused as not a WebSocket request. */
			g_autoptr(TestResp) r = test_http(c->t, method, path, NULL, NULL);
			g_autofree char *ct = content_type(r);

			check_response(what, op, r->status, ct, r);
			assert_int_equal(r->status, 400);
			continue;
		}
		g_autofree char *token = NULL;
		prepare(c, what, &token, &body);
		g_autoptr(TestResp) r =
			test_http(c->t, method, path, token ? token : c->t->admin_token, body);
		g_autofree char *ct = content_type(r);
		if (r->status < 200 || r->status > 299)
			fail_msg("%s: a valid request got %ld: %s", what, r->status, r->body->str);
		check_response(what, op, r->status, ct, r);
		after(c, what, r);
	}
}

static void test_every_route_documented(void **state)
{
	json_t *paths = json_object_get(doc, "paths");
	guint n = 0;

	for (const IcsApiRoute *const *t = ics_api_route_tables(); *t; t++) {
		for (const IcsApiRoute *r = *t; r->method; r++, n++) {
			if (!g_str_has_prefix(r->pattern, "/api/"))
				continue; /* the console's files, not the API */
			g_autofree char *m = g_ascii_strdown(r->method, -1);

			if (json_object_get(json_object_get(paths, r->pattern), m) == NULL)
				fail_msg("route %s %s is not in docs/openapi.yaml", r->method,
					 r->pattern);
		}
	}
	assert_true(n >= 30);
}

/* Without a cluster adapter, the cluster's routes answer 503 as documented. */
static void test_no_cluster(void **state)
{
	TestMgr *t = test_mgr_start();
	json_t *paths = json_object_get(doc, "paths");
	static const char *const routes[][3] = {
		{ "get", "/api/v1/hosts", NULL },
		{ "get", "/api/v1/hosts/{name}", "/api/v1/hosts/node1" },
		{ "post", "/api/v1/hosts/{name}/maintenance", "/api/v1/hosts/node1/maintenance" },
		{ "get", "/api/v1/pools", NULL },
		{ "get", "/api/v1/pools/{name}", "/api/v1/pools/shared" },
		{ "get", "/api/v1/pools/{pool}/volumes", "/api/v1/pools/shared/volumes" },
	};

	(void)state;
	for (guint i = 0; i < G_N_ELEMENTS(routes); i++) {
		const char *path = routes[i][2] ? routes[i][2] : routes[i][1];
		json_t *op = json_object_get(json_object_get(paths, routes[i][1]), routes[i][0]);
		g_autofree char *method = g_ascii_strup(routes[i][0], -1);
		g_autoptr(TestResp) r =
			test_http(t, method, path, t->admin_token,
				  g_str_equal(routes[i][0], "post") ? "{\"enter\": true}" : NULL);
		g_autofree char *ct = content_type(r);

		assert_non_null(op);
		if (r->status != 503)
			fail_msg("%s %s without a cluster: %ld, expected 503", method, path,
				 r->status);
		check_response(path, op, r->status, ct, r);
	}
	test_mgr_stop(t, FALSE);
}

static void test_undocumented(void **state)
{
	Ctx *c = *state;
	json_t *paths = json_object_get(doc, "paths"), *item;
	const char *tmpl;
	static const char *const unknown[] = {
		"/api",
		"/api/v1",
		"/api/v2/vms",
		"/api/v1/vm",
		"/api/v1/vms/" FIXTURE_UUID "/x",
		"/api/v1/users/alice/roles",
		"/api/v1/health/deep",
		"/api/v1/debug/tasks",
	};

	for (guint i = 0; i < G_N_ELEMENTS(unknown); i++) {
		g_autoptr(TestResp) r = test_http(c->t, "GET", unknown[i], c->t->admin_token, NULL);

		if (r->status != 404)
			fail_msg("GET %s: %ld, expected 404", unknown[i], r->status);
		assert_non_null(json_object_get(r->json, "error"));
	}
	json_object_foreach(paths, tmpl, item)
	{
		g_autofree char *path = concrete_path(c, tmpl);

		for (guint m = 0; m < G_N_ELEMENTS(methods); m++) {
			g_autofree char *method = g_ascii_strup(methods[m], -1);

			if (json_object_get(item, methods[m]))
				continue;
			g_autoptr(TestResp) r =
				test_http(c->t, method, path, c->t->admin_token, NULL);
			if (r->status != 405)
				fail_msg("%s %s (undocumented): %ld, expected 405", method, tmpl,
					 r->status);
			assert_non_null(strstr(r->headers->str, "Allow: "));
		}
	}
}

/* ---- authorization, route by route and role by role -------------------- */

typedef struct {
	const char *user;
	const char *roles;   /* JSON array */
	IcsPrincipal *model; /* what the table says the role holds */
} Role;

/* Does the document let @r call @op (before the handler looks at the
 * object)?  x-ics-access: public, any-user or a permission. */
static gboolean documented_allows(json_t *op, const Role *r)
{
	const char *access = json_string_value(json_object_get(op, "x-ics-access"));

	assert_non_null(access);
	return g_str_equal(access, "public") || g_str_equal(access, "any-user") ||
	       ics_principal_scope(r->model, access) != ICS_SCOPE_NONE;
}

/* The code's table says what the document says, operation by operation. */
static void same_as_document(const char *method, const char *tmpl, json_t *op,
			     const IcsRouteRule *rule)
{
	const char *access = json_string_value(json_object_get(op, "x-ics-access"));
	const char *objp = json_string_value(json_object_get(op, "x-ics-object-permission"));
	const char *code = rule->access == ICS_ACCESS_PUBLIC	 ? "public"
			   : rule->access == ICS_ACCESS_ANY_USER ? "any-user"
								 : rule->permission;

	if (g_strcmp0(access, code) != 0 || g_strcmp0(objp, rule->object_permission) != 0)
		fail_msg("%s %s: docs/openapi.yaml says access %s, object %s; authz_rules.c says "
			 "%s, %s",
			 method, tmpl, access ? access : "(none)", objp ? objp : "(none)", code,
			 rule->object_permission ? rule->object_permission : "(none)");
}

static void test_every_operation_every_role(void **state)
{
	Ctx *c = *state;
	Role roles[] = {
		{ "r-none", "[]", NULL },
		{ "r-vmm", "[\"vm_manager\"]", NULL },
		{ "r-ro", "[\"readonly\"]", NULL },
		{ "r-ops", "[\"operators\"]", NULL }, /* custom: vm.power */
	};
	json_t *paths = json_object_get(doc, "paths"), *item;
	g_autoptr(GPtrArray) ops = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GError) err = NULL;
	const char *tmpl;
	guint checked = 0;

	json_object_foreach(paths, tmpl, item) for (guint m = 0; m < G_N_ELEMENTS(methods);
						    m++) if (json_object_get(item, methods[m]))
		g_ptr_array_add(ops, g_strdup_printf("%s %s", methods[m], tmpl));
	g_ptr_array_sort(ops, by_phase);
	for (guint k = 0; k < G_N_ELEMENTS(roles); k++) {
		g_autoptr(json_t) names = json_loads(roles[k].roles, 0, NULL);
		g_autofree const char **v = g_new0(const char *, json_array_size(names) + 1);
		g_autofree char *tok = NULL;

		for (size_t i = 0; i < json_array_size(names); i++)
			v[i] = json_string_value(json_array_get(names, i));
		assert_int_equal(test_make_user(c->t, roles[k].user, roles[k].roles), 201);
		ics_store_read_begin(c->t->m->store);
		roles[k].model = ics_principal_of_roles(c->t->m->store, v, &err);
		ics_store_read_end(c->t->m->store);
		assert_non_null(roles[k].model);
		tok = test_login(c->t, roles[k].user, TEST_PASSWORD);
		assert_non_null(tok);
		for (guint i = 0; i < ops->len; i++) {
			g_auto(GStrv) mp = g_strsplit(g_ptr_array_index(ops, i), " ", 2);
			json_t *op = json_object_get(json_object_get(paths, mp[1]), mp[0]);
			g_autofree char *method = g_ascii_strup(mp[0], -1);
			g_autofree char *path = concrete_path(c, mp[1]);
			json_t *example = json_object_get(
				json_object_get(json_object_get(json_object_get(op, "requestBody"),
								"content"),
						"application/json"),
				"example");
			g_autofree char *body = example ? json_dumps(example, 0) : NULL;
			const IcsRouteRule *rule = ics_route_rule_find(method, mp[1]);
			gboolean allowed, refused, stream;
			json_t *ok = json_object_get(json_object_get(op, "responses"), "200");
			const char *objp;
			long status;
			const char *code;

			if (rule == NULL)
				fail_msg("%s %s has no row in the authorization table", method,
					 mp[1]);
			same_as_document(method, mp[1], op, rule);
			allowed = documented_allows(op, &roles[k]);
			stream = ok && json_object_get(json_object_get(resolve(ok), "content"),
						       "text/event-stream");
			if (stream) {
				g_autofree char *ct = NULL;
				g_autofree char *auth = c->t->admin_token;

				/* get_stream() sends the admin token: swap in ours. */
				c->t->admin_token = tok;
				status = get_stream(c, path, &ct);
				c->t->admin_token = g_steal_pointer(&auth);
				refused = status == 403;
			} else {
				g_autoptr(TestResp) r = test_http(c->t, method, path, tok, body);

				status = r->status;
				code = json_string_value(
					json_object_get(json_object_get(r->json, "error"), "code"));
				refused = status == 403 && g_strcmp0(code, "forbidden") == 0;
			}
			if (refused == allowed)
				fail_msg("%s %s as %s: %ld, but docs/openapi.yaml %s it", method,
					 mp[1], roles[k].user, status,
					 allowed ? "allows" : "forbids");
			/* Only owned objects: someone else's is absent. */
			objp = json_string_value(json_object_get(op, "x-ics-object-permission"));
			if (allowed && objp &&
			    ics_principal_scope(roles[k].model, objp) == ICS_SCOPE_OWNED &&
			    status != 404)
				fail_msg("%s %s as %s: %ld for another user's object, expected 404",
					 method, mp[1], roles[k].user, status);
			checked++;
		}
		ics_principal_free(roles[k].model);
	}
	assert_true(checked >= 4 * 40);
}

/* docs/manager-security.md shows the authorization table as the code has
 * it, between two markers. */
static void test_table_documented(void **state)
{
	g_autofree char *path =
		g_build_filename(g_getenv("ICS_SRCDIR") ? g_getenv("ICS_SRCDIR") : "..", "docs",
				 "manager-security.md", NULL);
	g_autofree char *text = NULL;
	g_autofree char *table = ics_authz_table_markdown();
	const char *begin, *end;

	(void)state;
	assert_true(g_file_get_contents(path, &text, NULL, NULL));
	begin = strstr(text, "<!-- authz-table:begin -->\n");
	end = strstr(text, "<!-- authz-table:end -->");
	if (begin == NULL || end == NULL || end < begin)
		fail_msg("%s lacks the authz-table markers", path);
	begin += strlen("<!-- authz-table:begin -->\n");
	if (strncmp(begin, table, (gsize)(end - begin)) != 0 ||
	    strlen(table) != (gsize)(end - begin))
		fail_msg("the authorization table in %s differs from manager/authz_rules.c; "
			 "the code's table is:\n%s",
			 path, table);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_every_route_documented, setup, teardown),
		cmocka_unit_test_setup_teardown(test_undocumented, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_cluster, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_operation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_operation_every_role, setup, teardown),
		cmocka_unit_test(test_table_documented),
	};
	curl_global_init(CURL_GLOBAL_DEFAULT);
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
