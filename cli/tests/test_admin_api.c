/*
 * test_admin_api.c: ics-admin's manager commands, run in process against a
 * real ics-managerd over HTTPS -- login, whoami and logout with the
 * session file (mode 0600, the token never printed), refusal of private
 * files others can read, precedence of flags over environment over
 * admin.conf, users and roles, VMs through the API (inventory only: power
 * operations answer 503 and exit 1 with the manager's message), audit
 * export, access keys (a signed request accepted, a wrong secret
 * refused), events, and the exit status of each kind of failure.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "admin_api_test_util.h"
#include "ics/manager/tls_cert.h"

static int setup(void **state)
{
	*state = api_test_start(FALSE);
	return 0;
}

static int teardown(void **state)
{
	api_test_stop(*state);
	return 0;
}

static char *session_file(const ApiTest *t)
{
	return g_build_filename(t->home, ".config", "ics", "session", NULL);
}

static void test_login_whoami_logout(void **state)
{
	ApiTest *t = *state;
	g_auto(CliRun) r = { 0 };
	g_autofree char *path = session_file(t);
	g_autofree char *text = NULL;
	g_autofree char *input = g_strconcat(t->admin_password, "\n", NULL);
	g_autoptr(json_t) saved = NULL;
	const char *token;
	struct stat st;

	/* Not logged in yet. */
	assert_int_equal(cli_run(&r, NULL, "whoami", NULL), ICS_ADMIN_EXIT_AUTH);
	assert_non_null(strstr(r.err, "not logged in"));
	/* A wrong password: 401, exit 5, no session file. */
	assert_int_equal(
		cli_run(&r, "wrong-password\n", "login", "admin", "--password-stdin", NULL),
		ICS_ADMIN_EXIT_AUTH);
	assert_non_null(strstr(r.err, "invalid user name, password or code"));
	assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
	/* No password at all. */
	assert_int_equal(cli_run(&r, "", "login", "admin", "--password-stdin", NULL),
			 ICS_ADMIN_EXIT_USAGE);

	assert_int_equal(cli_run(&r, input, "login", "admin", "--password-stdin", NULL), 0);
	assert_non_null(strstr(r.out, "logged in"));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_true(g_file_get_contents(path, &text, NULL, NULL));
	saved = json_loads(text, 0, NULL);
	token = json_string_value(json_object_get(saved, "token"));
	assert_non_null(token);
	assert_int_equal(strlen(token), 64);
	assert_string_equal(json_string_value(json_object_get(saved, "url")), t->url);
	/* Neither the token nor the password is ever printed. */
	assert_null(strstr(r.out, token));
	assert_null(strstr(r.err, token));
	assert_null(strstr(r.out, t->admin_password));
	assert_int_equal(cli_run(&r, input, "login", "admin", "--password-stdin", "--json", NULL),
			 0);
	assert_null(strstr(r.out, "token"));

	assert_int_equal(cli_run(&r, NULL, "whoami", NULL), 0);
	assert_non_null(strstr(r.out, "admin"));
	assert_non_null(strstr(r.out, "administrator"));
	assert_non_null(strstr(r.out, "session"));
	assert_int_equal(cli_run(&r, NULL, "whoami", "--json", NULL), 0);
	{
		g_autoptr(json_t) me = json_loads(r.out, 0, NULL);

		assert_non_null(me);
		assert_string_equal(json_string_value(json_object_get(me, "user")), "admin");
		assert_string_equal(json_string_value(json_object_get(me, "auth")), "session");
	}

	assert_int_equal(cli_run(&r, NULL, "logout", NULL), 0);
	assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
	assert_int_equal(cli_run(&r, NULL, "whoami", NULL), ICS_ADMIN_EXIT_AUTH);
	/* Logging out twice is fine. */
	assert_int_equal(cli_run(&r, NULL, "logout", NULL), 0);
}

static void test_ended_session(void **state)
{
	ApiTest *t = *state;
	g_auto(CliRun) r = { 0 };
	g_autoptr(GError) err = NULL;

	/* A session file with a token the manager does not know. */
	assert_true(ics_admin_session_save(t->url, "admin",
					   "0123456789abcdef0123456789abcdef"
					   "0123456789abcdef0123456789abcdef",
					   NULL, &err));
	assert_int_equal(cli_run(&r, NULL, "whoami", NULL), ICS_ADMIN_EXIT_AUTH);
	assert_non_null(strstr(r.err, "ics-admin login"));
	/* A token is only sent to the manager that issued it. */
	api_test_login_admin(t);
	assert_int_equal(cli_run(&r, NULL, "whoami", "--url", "https://127.0.0.2:1", NULL),
			 ICS_ADMIN_EXIT_AUTH);
	assert_non_null(strstr(r.err, "not logged in to https://127.0.0.2:1"));
}

static void test_private_files(void **state)
{
	ApiTest *t = *state;
	g_auto(CliRun) r = { 0 };
	g_autofree char *path = session_file(t);
	g_autofree char *conf = g_build_filename(t->home, ".config", "ics", "admin.conf", NULL);
	g_autofree char *text = NULL;

	api_test_login_admin(t);
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(cli_run(&r, NULL, "whoami", NULL), ICS_ADMIN_EXIT_AUTH);
	assert_non_null(strstr(r.err, "accessible by other users"));
	assert_non_null(strstr(r.err, "chmod 600"));
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(cli_run(&r, NULL, "whoami", NULL), 0);

	/* admin.conf: refused when others may read it, used when private. */
	text = g_strdup_printf("[manager]\nurl = %s\nca = %s\n", t->url, t->ca);
	assert_true(g_file_set_contents(conf, text, -1, NULL));
	assert_int_equal(chmod(conf, 0640), 0);
	assert_int_equal(cli_run(&r, NULL, "whoami", NULL), ICS_ADMIN_EXIT_AUTH);
	assert_non_null(strstr(r.err, "admin.conf"));
	assert_non_null(strstr(r.err, "chmod 600"));
	assert_int_equal(chmod(conf, 0600), 0);
	g_unsetenv("ICS_URL");
	g_unsetenv("ICS_CA");
	assert_int_equal(cli_run(&r, NULL, "whoami", NULL), 0);
	/* The environment overrides admin.conf, flags override both. */
	g_setenv("ICS_URL", "https://127.0.0.1:1", TRUE);
	assert_int_equal(cli_run(&r, NULL, "whoami", NULL), ICS_ADMIN_EXIT_AUTH);
	assert_int_equal(cli_run(&r, NULL, "whoami", "--url", t->url, NULL), 0);
	/* --config names another file, which must exist. */
	assert_int_equal(
		cli_run(&r, NULL, "whoami", "--url", t->url, "--config", "/nonexistent", NULL),
		ICS_ADMIN_EXIT_NOT_FOUND);
	g_setenv("ICS_URL", t->url, TRUE);
}

static void test_transport_failures(void **state)
{
	ApiTest *t = *state;
	g_auto(CliRun) r = { 0 };
	g_autofree char *other = g_build_filename(t->home, "other.pem", NULL);
	g_autofree char *junk = g_build_filename(t->home, "junk.pem", NULL);

	api_test_login_admin(t);
	/* Nothing listens there: exit 1 with the URL. */
	assert_int_equal(cli_run(&r, NULL, "vm", "list", "--url", "https://127.0.0.1:1", NULL),
			 ICS_ADMIN_EXIT_AUTH); /* no session for that URL */
	{
		g_autofree char *in = g_strconcat(t->admin_password, "\n", NULL);

		assert_int_equal(cli_run(&r, in, "login", "admin", "--password-stdin", "--url",
					 "https://127.0.0.1:1", NULL),
				 ICS_ADMIN_EXIT_ERROR);
		assert_non_null(strstr(r.err, "cannot reach the manager at https://127.0.0.1:1"));
		/* Not a URL, or plain http off loopback: usage. */
		assert_int_equal(cli_run(&r, in, "login", "admin", "--password-stdin", "--url",
					 "not a url", NULL),
				 ICS_ADMIN_EXIT_USAGE);
		assert_non_null(strstr(r.err, "not a URL"));
		assert_int_equal(cli_run(&r, in, "login", "admin", "--password-stdin", "--url",
					 "http://192.0.2.1:8443", NULL),
				 ICS_ADMIN_EXIT_USAGE);
		assert_non_null(strstr(r.err, "plain http is refused"));
		/* TLS: the system store does not know the self-signed certificate. */
		g_unsetenv("ICS_CA");
		assert_int_equal(cli_run(&r, in, "login", "admin", "--password-stdin", NULL),
				 ICS_ADMIN_EXIT_ERROR);
		assert_non_null(strstr(r.err, "cannot verify the TLS certificate"));
		assert_non_null(strstr(r.err, "--ca FILE"));
		/* Another manager's certificate. */
		{
			g_autofree char *key = g_build_filename(t->home, "other-key.pem", NULL);
			g_autofree char *cert_pem = NULL, *key_pem = NULL;
			g_autoptr(GError) err = NULL;

			assert_true(ics_tls_cert_load(other, key, TRUE, NULL, &cert_pem, &key_pem,
						      &err));
		}
		assert_int_equal(
			cli_run(&r, in, "login", "admin", "--password-stdin", "--ca", other, NULL),
			ICS_ADMIN_EXIT_ERROR);
		assert_non_null(strstr(r.err, "cannot verify the TLS certificate"));
		/* A CA file that is no certificate. */
		assert_true(g_file_set_contents(junk, "junk\n", -1, NULL));
		assert_int_equal(
			cli_run(&r, in, "login", "admin", "--password-stdin", "--ca", junk, NULL),
			ICS_ADMIN_EXIT_ERROR);
		assert_non_null(strstr(r.err, "--ca FILE"));
		g_setenv("ICS_CA", t->ca, TRUE);
	}
}

static void test_users_and_roles(void **state)
{
	ApiTest *t = *state;
	g_auto(CliRun) r = { 0 };
	g_autofree char *home = g_strdup(t->home);

	api_test_login_admin(t);
	assert_int_equal(cli_run(&r, API_TEST_PASSWORD "\n", "user", "create", "bob", "--role",
				 "readonly", "--password-stdin", NULL),
			 0);
	assert_int_equal(cli_run(&r, API_TEST_PASSWORD "\n", "user", "create", "bob",
				 "--password-stdin", NULL),
			 ICS_ADMIN_EXIT_CONFLICT);
	/* The manager's password rules: 400, exit 2, its message. */
	assert_int_equal(
		cli_run(&r, "short\n", "user", "create", "carol", "--password-stdin", NULL),
		ICS_ADMIN_EXIT_USAGE);
	assert_non_null(strstr(r.err, "password"));
	assert_int_equal(cli_run(&r, NULL, "user", "list", NULL), 0);
	assert_non_null(strstr(r.out, "NAME"));
	assert_non_null(strstr(r.out, "bob"));
	assert_non_null(strstr(r.out, "readonly"));
	assert_int_equal(cli_run(&r, NULL, "user", "list", "--json", NULL), 0);
	{
		g_autoptr(json_t) j = json_loads(r.out, 0, NULL);

		assert_int_equal(json_array_size(json_object_get(j, "items")), 2);
	}
	assert_int_equal(cli_run(&r, NULL, "user", "show", "nobody", NULL),
			 ICS_ADMIN_EXIT_NOT_FOUND);
	assert_int_equal(cli_run(&r, NULL, "role", "create", "auditors", "audit.read", "vm.read",
				 "--description", "auditors", NULL),
			 0);
	assert_int_equal(cli_run(&r, NULL, "role", "create", "bad", "no.such", NULL),
			 ICS_ADMIN_EXIT_USAGE);
	assert_int_equal(
		cli_run(&r, NULL, "user", "set-roles", "bob", "readonly", "auditors", NULL), 0);
	assert_non_null(strstr(r.out, "auditors"));
	assert_int_equal(cli_run(&r, NULL, "role", "list", NULL), 0);
	assert_non_null(strstr(r.out, "auditors"));
	/* Held by bob: 409. */
	assert_int_equal(cli_run(&r, NULL, "role", "delete", "auditors", NULL),
			 ICS_ADMIN_EXIT_CONFLICT);

	/* bob (readonly) may read, not create: 403, exit 5. */
	assert_int_equal(
		cli_run(&r, API_TEST_PASSWORD "\n", "login", "bob", "--password-stdin", NULL), 0);
	assert_int_equal(cli_run(&r, NULL, "user", "list", NULL), 0);
	assert_int_equal(cli_run(&r, API_TEST_PASSWORD "\n", "user", "create", "eve",
				 "--password-stdin", NULL),
			 ICS_ADMIN_EXIT_AUTH);
	assert_non_null(strstr(r.err, "lacks permission user.admin"));
	/* bob changes his own password, proving the old one. */
	assert_int_equal(cli_run(&r, API_TEST_PASSWORD "\nAn0ther-Passw0rd!\n", "user", "passwd",
				 "bob", "--old", "--password-stdin", NULL),
			 0);
	assert_int_equal(
		cli_run(&r, "An0ther-Passw0rd!\n", "login", "bob", "--password-stdin", NULL), 0);

	api_test_login_admin(t);
	assert_int_equal(cli_run(&r, NULL, "user", "delete", "bob", NULL), 0);
	assert_int_equal(cli_run(&r, NULL, "user", "show", "bob", NULL), ICS_ADMIN_EXIT_NOT_FOUND);
	assert_int_equal(cli_run(&r, NULL, "role", "delete", "auditors", NULL), 0);
	assert_string_equal(home, t->home);
}

static void test_vms(void **state)
{
	ApiTest *t = *state;
	g_auto(CliRun) r = { 0 };
	g_autofree char *uuid = NULL;

	api_test_login_admin(t);
	assert_int_equal(cli_run(&r, NULL, "vm", "create", "--name", "db1", "--vcpus", "2",
				 "--memory", "256", "--tag", "prod", "--tag", "eu", NULL),
			 0);
	uuid = g_strstrip(g_strdup(r.out));
	assert_true(g_uuid_string_is_valid(uuid));
	assert_int_equal(cli_run(&r, NULL, "vm", "create", "--name", "db1", "--vcpus", "2",
				 "--memory", "256", NULL),
			 ICS_ADMIN_EXIT_CONFLICT);
	assert_int_equal(cli_run(&r, NULL, "vm", "create", "--name", "db2", "--vcpus", "0",
				 "--memory", "256", NULL),
			 ICS_ADMIN_EXIT_USAGE);
	assert_non_null(strstr(r.err, "vcpus"));
	assert_int_equal(cli_run(&r, NULL, "vm", "create", "--name", "db2", NULL),
			 ICS_ADMIN_EXIT_USAGE);
	assert_int_equal(cli_run(&r, NULL, "vm", "create", "--name", "web1", "--vcpus", "1",
				 "--memory", "128", "--json", NULL),
			 0);
	{
		g_autoptr(json_t) vm = json_loads(r.out, 0, NULL);

		assert_non_null(vm);
		assert_string_equal(json_string_value(json_object_get(vm, "name")), "web1");
		assert_non_null(json_object_get(vm, "definition"));
	}

	assert_int_equal(cli_run(&r, NULL, "vm", "list", NULL), 0);
	assert_non_null(strstr(r.out, "NAME"));
	assert_non_null(strstr(r.out, "db1"));
	assert_non_null(strstr(r.out, "web1"));
	assert_non_null(strstr(r.out, uuid));
	assert_int_equal(cli_run(&r, NULL, "vm", "list", "--json", NULL), 0);
	{
		/* The records of the direct way, by name; no cluster: state unknown. */
		g_autoptr(json_t) j = json_loads(r.out, 0, NULL);
		json_t *first = json_array_get(j, 0);

		assert_int_equal(json_array_size(j), 2);
		assert_string_equal(json_string_value(json_object_get(first, "name")), "db1");
		assert_string_equal(json_string_value(json_object_get(first, "state")), "unknown");
		assert_string_equal(json_string_value(json_object_get(first, "owner")), "admin");
		for (const char *const *k = (const char *const[]){ "uuid", "pool", "vcpus",
								   "memory_mib", "node", NULL };
		     *k; k++)
			assert_non_null(json_object_get(first, *k));
	}
	assert_int_equal(cli_run(&r, NULL, "vm", "list", "--json", "--limit", "1", NULL), 0);
	{
		g_autoptr(json_t) j = json_loads(r.out, 0, NULL);

		assert_int_equal(json_array_size(j), 1);
	}
	/* The old spelling: a deprecation line, the same answer. */
	assert_int_equal(cli_run(&r, NULL, "manager", "vm", "list", NULL), 0);
	assert_non_null(strstr(r.out, "web1"));
	assert_non_null(strstr(r.err, "deprecated"));
	assert_int_equal(cli_run(&r, NULL, "manager", "vm", "list", "--direct", NULL),
			 ICS_ADMIN_EXIT_USAGE);
	/* By name and by uuid. */
	assert_int_equal(cli_run(&r, NULL, "vm", "show", "db1", NULL), 0);
	assert_non_null(strstr(r.out, uuid));
	assert_non_null(strstr(r.out, "256 MiB"));
	assert_non_null(strstr(r.out, "tags:         prod,eu"));
	assert_int_equal(cli_run(&r, NULL, "vm", "show", uuid, "--json", NULL), 0);
	{
		g_autoptr(json_t) vm = json_loads(r.out, 0, NULL);

		assert_string_equal(json_string_value(json_object_get(vm, "name")), "db1");
	}
	assert_int_equal(cli_run(&r, NULL, "vm", "show", "nope", NULL), ICS_ADMIN_EXIT_NOT_FOUND);
	assert_int_equal(
		cli_run(&r, NULL, "vm", "show", "00000000-0000-4000-8000-000000000000", NULL),
		ICS_ADMIN_EXIT_NOT_FOUND);
	/* Inventory only: power operations are 503, exit 1, the manager's words. */
	assert_int_equal(cli_run(&r, NULL, "vm", "start", "db1", NULL), ICS_ADMIN_EXIT_ERROR);
	assert_non_null(strstr(r.err, "no cluster adapter"));
	assert_int_equal(cli_run(&r, NULL, "vm", "stop", "db1", "--force", NULL),
			 ICS_ADMIN_EXIT_ERROR);
	assert_int_equal(cli_run(&r, NULL, "vm", "migrate", "db1", "node2", "--no-wait", NULL),
			 ICS_ADMIN_EXIT_ERROR);
	assert_int_equal(cli_run(&r, NULL, "vm", "migrate", "db1", NULL), ICS_ADMIN_EXIT_USAGE);
	assert_int_equal(cli_run(&r, NULL, "vm", "delete", "db1", NULL), 0);
	assert_int_equal(cli_run(&r, NULL, "vm", "show", uuid, NULL), ICS_ADMIN_EXIT_NOT_FOUND);
	assert_int_equal(cli_run(&r, NULL, "vm", "frobnicate", NULL), ICS_ADMIN_EXIT_USAGE);
	assert_int_equal(cli_run(&r, NULL, "vm", "define", NULL), ICS_ADMIN_EXIT_USAGE);
	assert_non_null(strstr(r.err, "--name"));
	/* Options of the direct way only: one clear refusal, nothing created. */
	assert_int_equal(cli_run(&r, NULL, "vm", "create", "--name", "u1", "--vcpus", "1",
				 "--memory", "64", "--migration-unsafe", NULL),
			 ICS_ADMIN_EXIT_USAGE);
	assert_non_null(strstr(r.err, "--direct"));
	assert_int_equal(cli_run(&r, NULL, "vm", "show", "u1", NULL), ICS_ADMIN_EXIT_NOT_FOUND);
	/* A pool the manager does not have. */
	assert_int_equal(cli_run(&r, NULL, "vm", "create", "--name", "u1", "--vcpus", "1",
				 "--memory", "64", "--pool", "nosuchpool", NULL),
			 ICS_ADMIN_EXIT_ERROR);
	assert_int_equal(cli_run(&r, NULL, "vm", "show", "u1", NULL), ICS_ADMIN_EXIT_NOT_FOUND);
}

/* Which way `vm` goes: the manager when configured; when its address does
 * not answer, one line and this node's cluster (cibadmin), else the error. */
static void test_vm_way(void **state)
{
	ApiTest *t = *state;
	g_auto(CliRun) r = { 0 };
	g_autofree char *cibadmin = g_find_program_in_path("cibadmin");

	(void)t;
	g_setenv("ICS_URL", "https://127.0.0.1:1", TRUE);
	g_setenv("ICS_ACCESS_KEY", "AKNOTHING", TRUE);
	g_setenv("ICS_SECRET_KEY", "nothing", TRUE);
	assert_int_not_equal(cli_run(&r, NULL, "vm", "list", NULL), 0);
	if (cibadmin)
		assert_non_null(strstr(r.err, "the manager at https://127.0.0.1:1 does not answer; "
					      "acting directly"));
	else
		assert_non_null(strstr(r.err, "cannot reach the manager at https://127.0.0.1:1"));
	/* The old spelling never goes directly. */
	assert_int_equal(cli_run(&r, NULL, "manager", "vm", "list", NULL), ICS_ADMIN_EXIT_ERROR);
	assert_non_null(strstr(r.err, "cannot reach the manager"));
	assert_null(strstr(r.err, "acting directly"));
	g_unsetenv("ICS_ACCESS_KEY");
	g_unsetenv("ICS_SECRET_KEY");
	/* Configured but not logged in: exit 5, with both ways out. */
	assert_int_equal(cli_run(&r, NULL, "vm", "list", NULL), ICS_ADMIN_EXIT_AUTH);
	assert_non_null(strstr(r.err, "--direct"));
	/* Nothing configured: straight to the cluster, never a word of a manager. */
	g_unsetenv("ICS_URL");
	assert_int_not_equal(cli_run(&r, NULL, "vm", "list", NULL), ICS_ADMIN_EXIT_AUTH);
	assert_null(strstr(r.err, "manager at"));
	/* --direct, whatever is configured. */
	g_setenv("ICS_URL", t->url, TRUE);
	api_test_login_admin(t);
	assert_int_not_equal(cli_run(&r, NULL, "vm", "list", "--direct", NULL), ICS_ADMIN_EXIT_OK);
	assert_null(strstr(r.err, "manager at"));
	/* The last login's manager is the default. */
	g_unsetenv("ICS_URL");
	assert_int_equal(cli_run(&r, NULL, "vm", "list", NULL), ICS_ADMIN_EXIT_OK);
	assert_int_equal(cli_run(&r, NULL, "whoami", NULL), ICS_ADMIN_EXIT_OK);
	g_setenv("ICS_URL", t->url, TRUE);
}

static void test_audit_tasks_events(void **state)
{
	ApiTest *t = *state;
	g_auto(CliRun) r = { 0 };

	api_test_login_admin(t);
	assert_int_equal(cli_run(&r, NULL, "vm", "create", "--name", "a1", "--vcpus", "1",
				 "--memory", "128", NULL),
			 0);
	assert_int_equal(cli_run(&r, NULL, "audit", "export", "--action", "vm.create", NULL), 0);
	assert_true(g_str_has_prefix(r.out, "\""));
	assert_non_null(strstr(r.out, "vm.create"));
	assert_null(strstr(r.out, "session.login"));
	assert_int_equal(cli_run(&r, NULL, "audit", "export", "--format", "jsonl", NULL), 0);
	{
		g_auto(GStrv) lines = g_strsplit(g_strstrip(r.out), "\n", -1);

		assert_true(g_strv_length(lines) >= 2);
		for (guint i = 0; lines[i]; i++) {
			g_autoptr(json_t) rec = json_loads(lines[i], 0, NULL);

			assert_non_null(rec);
			assert_non_null(json_object_get(rec, "action"));
		}
	}
	assert_int_equal(cli_run(&r, NULL, "audit", "export", "--format", "xml", NULL),
			 ICS_ADMIN_EXIT_USAGE);
	assert_int_equal(cli_run(&r, NULL, "audit", "list", "--since", "yesterday", NULL),
			 ICS_ADMIN_EXIT_USAGE);
	assert_int_equal(
		cli_run(&r, NULL, "audit", "list", "--user", "admin", "--limit", "3", NULL), 0);
	assert_non_null(strstr(r.out, "ACTION"));
	assert_int_equal(cli_run(&r, NULL, "audit", "list", "--json", "--limit", "2", NULL), 0);
	{
		g_autoptr(json_t) j = json_loads(r.out, 0, NULL);

		assert_int_equal(json_array_size(json_object_get(j, "items")), 2);
	}

	assert_int_equal(cli_run(&r, NULL, "task", "list", NULL), 0);
	assert_int_equal(cli_run(&r, NULL, "task", "show", "999", NULL), ICS_ADMIN_EXIT_NOT_FOUND);
	assert_int_equal(cli_run(&r, NULL, "task", "show", "x", NULL), ICS_ADMIN_EXIT_USAGE);

	/* Events from the start of the ring: the VM created above. */
	assert_int_equal(cli_run(&r, NULL, "events", "--last-event-id", "0", "--count", "1", NULL),
			 0);
	assert_non_null(strstr(r.out, "vm.created"));
	assert_int_equal(
		cli_run(&r, NULL, "events", "--last-event-id", "0", "--count", "1", "--json", NULL),
		0);
	{
		g_autoptr(json_t) e = json_loads(r.out, 0, NULL);

		assert_non_null(e);
		assert_string_equal(json_string_value(json_object_get(e, "type")), "vm.created");
	}
}

static void test_apikeys(void **state)
{
	ApiTest *t = *state;
	g_auto(CliRun) r = { 0 };
	g_autoptr(json_t) key = NULL;
	g_autofree char *secret = NULL, *id = NULL, *bad = NULL;

	api_test_login_admin(t);
	assert_int_equal(
		cli_run(&r, NULL, "apikey", "create", "--description", "robot", "--json", NULL), 0);
	key = json_loads(r.out, 0, NULL);
	id = g_strdup(json_string_value(json_object_get(key, "access_key_id")));
	secret = g_strdup(json_string_value(json_object_get(key, "secret")));
	assert_non_null(id);
	assert_non_null(secret);
	assert_int_equal(cli_run(&r, NULL, "apikey", "list", NULL), 0);
	assert_non_null(strstr(r.out, id));
	assert_null(strstr(r.out, secret));
	assert_int_equal(cli_run(&r, NULL, "logout", NULL), 0);

	/* Signed requests: GET, and POST with a body. */
	g_setenv("ICS_ACCESS_KEY", id, TRUE);
	g_setenv("ICS_SECRET_KEY", secret, TRUE);
	assert_int_equal(cli_run(&r, NULL, "whoami", "--json", NULL), 0);
	{
		g_autoptr(json_t) me = json_loads(r.out, 0, NULL);

		assert_string_equal(json_string_value(json_object_get(me, "auth")), "apikey");
	}
	assert_int_equal(cli_run(&r, NULL, "vm", "create", "--name", "signed", "--vcpus", "1",
				 "--memory", "128", NULL),
			 0);
	assert_int_equal(cli_run(&r, NULL, "audit", "list", "--action", "vm.create", "--user",
				 "admin", NULL),
			 0);
	assert_non_null(strstr(r.out, "vm.create"));
	assert_null(strstr(r.out, secret));
	assert_null(strstr(r.err, secret));
	/* A wrong secret: refused, exit 5. */
	bad = g_strdup(secret);
	bad[0] = bad[0] == 'A' ? 'B' : 'A';
	g_setenv("ICS_SECRET_KEY", bad, TRUE);
	assert_int_equal(cli_run(&r, NULL, "whoami", NULL), ICS_ADMIN_EXIT_AUTH);
	assert_non_null(strstr(r.err, "signature does not match"));
	assert_null(strstr(r.err, bad));
	/* Half a key pair. */
	g_unsetenv("ICS_SECRET_KEY");
	assert_int_equal(cli_run(&r, NULL, "whoami", NULL), ICS_ADMIN_EXIT_USAGE);
	g_unsetenv("ICS_ACCESS_KEY");

	api_test_login_admin(t);
	assert_int_equal(cli_run(&r, NULL, "apikey", "delete", id, NULL), 0);
	assert_int_equal(cli_run(&r, NULL, "apikey", "delete", id, NULL), ICS_ADMIN_EXIT_NOT_FOUND);
}

/* A cluster that defines and starts anything and fails every stop. */
static gboolean fake_define(void *self, const IcsVmMeta *vm, GError **error)
{
	return TRUE;
}

static gboolean fake_undefine(void *self, const char *uuid, GError **error)
{
	return TRUE;
}

static gboolean fake_start(void *self, const char *uuid, const volatile gint *cancelled,
			   GError **error)
{
	return TRUE;
}

static gboolean fake_stop(void *self, const char *uuid, gboolean force,
			  const volatile gint *cancelled, GError **error)
{
	g_set_error(error, ICS_ERROR, ICS_ERROR_TIMEOUT,
		    "fake cluster: the guest did not shut down");
	return FALSE;
}

/* ...reboots nothing (the VM does not run) and has a serial console. */
static gboolean fake_reboot(void *self, const char *uuid, GError **error)
{
	g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT, "VM %s is not running", uuid);
	return FALSE;
}

static json_t *fake_console(void *self, const char *uuid, GError **error)
{
	return json_pack("{s:s, s:s, s:[], s:[{s:s, s:s, s:s}]}", "host", "node2", "libvirt_uri",
			 "qemu+tcp://node2/system", "graphics", "serial", "type", "pty", "port",
			 "0", "path", "/dev/pts/4");
}

static const IcsClusterOps fake_cluster = {
	.define_vm = fake_define,
	.undefine_vm = fake_undefine,
	.start_vm = fake_start,
	.stop_vm = fake_stop,
	.reboot_vm = fake_reboot,
	.vm_console = fake_console,
};

static int setup_cluster(void **state)
{
	*state = api_test_start_with(FALSE, &fake_cluster);
	return 0;
}

static void test_tasks(void **state)
{
	ApiTest *t = *state;
	g_auto(CliRun) r = { 0 };
	g_autofree char *id = NULL;

	api_test_login_admin(t);
	assert_int_equal(cli_run(&r, NULL, "vm", "create", "--name", "t1", "--vcpus", "1",
				 "--memory", "128", NULL),
			 0);
	/* Waited for: exit 0; --json prints the VM afterwards. */
	assert_int_equal(cli_run(&r, NULL, "vm", "start", "t1", NULL), 0);
	assert_int_equal(cli_run(&r, NULL, "vm", "start", "t1", "--json", NULL), 0);
	{
		g_autoptr(json_t) vm = json_loads(r.out, 0, NULL);

		assert_non_null(vm);
		assert_string_equal(json_string_value(json_object_get(vm, "name")), "t1");
	}
	assert_int_equal(cli_run(&r, NULL, "task", "list", "--json", "--limit", "1", NULL), 0);
	{
		g_autoptr(json_t) j = json_loads(r.out, 0, NULL);
		json_t *task = json_array_get(json_object_get(j, "items"), 0);

		assert_string_equal(json_string_value(json_object_get(task, "state")), "succeeded");
		assert_int_equal(json_integer_value(json_object_get(task, "progress")), 100);
	}
	/* --no-wait prints the task id; task wait follows it. */
	assert_int_equal(cli_run(&r, NULL, "vm", "start", "t1", "--no-wait", NULL), 0);
	id = g_strstrip(g_strdup(r.out));
	assert_true(g_ascii_isdigit(id[0]));
	assert_int_equal(cli_run(&r, NULL, "task", "wait", id, NULL), 0);
	assert_non_null(strstr(r.out, "succeeded"));
	assert_int_equal(cli_run(&r, NULL, "task", "show", id, NULL), 0);
	assert_non_null(strstr(r.out, "succeeded"));
	/* A failed task: exit 1 with the task's error, nothing on stdout. */
	assert_int_equal(cli_run(&r, NULL, "vm", "stop", "t1", "--json", NULL),
			 ICS_ADMIN_EXIT_ERROR);
	assert_non_null(strstr(r.err, "the guest did not shut down"));
	assert_string_equal(r.out, "");
	assert_int_equal(cli_run(&r, NULL, "task", "list", NULL), 0);
	assert_non_null(strstr(r.out, "failed"));
	assert_non_null(strstr(r.out, "succeeded"));
	assert_int_equal(cli_run(&r, NULL, "task", "list", "--json", "--limit", "2", NULL), 0);
	{
		g_autoptr(json_t) j = json_loads(r.out, 0, NULL);

		assert_int_equal(json_array_size(json_object_get(j, "items")), 2);
	}
	/* On a terminal, a progress line on standard error. */
	{
		int master = posix_openpt(O_RDWR | O_NOCTTY), slave;
		char buf[4096];
		ssize_t n;

		assert_true(master >= 0);
		assert_int_equal(grantpt(master), 0);
		assert_int_equal(unlockpt(master), 0);
		slave = open(ptsname(master), O_RDWR | O_NOCTTY);
		assert_true(slave >= 0);
		cli_run_stderr_fd = slave;
		assert_int_equal(cli_run(&r, NULL, "vm", "start", "t1", NULL), 0);
		cli_run_stderr_fd = -1;
		close(slave);
		n = read(master, buf, sizeof(buf) - 1);
		close(master);
		assert_true(n > 0);
		buf[n] = '\0';
		assert_non_null(strstr(buf, "\rtask "));
		assert_non_null(strstr(buf, "100% succeeded"));
	}
	/* Not on a terminal: none. */
	assert_int_equal(cli_run(&r, NULL, "vm", "start", "t1", NULL), 0);
	assert_null(strstr(r.err, "succeeded"));
	/* An ended task cannot be cancelled. */
	assert_int_equal(cli_run(&r, NULL, "task", "cancel", id, NULL), ICS_ADMIN_EXIT_CONFLICT);
	/* reboot is a task too; the cluster's refusal is its error. */
	assert_int_equal(cli_run(&r, NULL, "vm", "reboot", "t1", NULL), ICS_ADMIN_EXIT_ERROR);
	assert_non_null(strstr(r.err, "is not running"));
	/* console: where, and the command that reaches it. */
	assert_int_equal(cli_run(&r, NULL, "vm", "console", "t1", NULL), 0);
	assert_non_null(strstr(r.out, "node2"));
	assert_non_null(strstr(r.out, "/dev/pts/4"));
	assert_non_null(strstr(r.out, "virsh -c qemu+tcp://node2/system console "));
	assert_int_equal(cli_run(&r, NULL, "vm", "console", "t1", "--json", NULL), 0);
	{
		g_autoptr(json_t) j = json_loads(r.out, 0, NULL);

		assert_string_equal(json_string_value(json_object_get(j, "host")), "node2");
	}
	assert_int_equal(cli_run(&r, NULL, "events", "--vm", "t1", NULL), ICS_ADMIN_EXIT_USAGE);
}

static void test_usage(void **state)
{
	g_auto(CliRun) r = { 0 };

	(void)state;
	assert_int_equal(cli_run(&r, NULL, NULL), ICS_ADMIN_EXIT_USAGE);
	assert_int_equal(cli_run(&r, NULL, "frob", NULL), ICS_ADMIN_EXIT_USAGE);
	assert_int_equal(cli_run(&r, NULL, "user", NULL), ICS_ADMIN_EXIT_USAGE);
	assert_int_equal(cli_run(&r, NULL, "user", "help", NULL), 0);
	assert_non_null(strstr(r.out, "set-roles"));
	assert_int_equal(cli_run(&r, NULL, "user", "show", NULL), ICS_ADMIN_EXIT_USAGE);
	assert_int_equal(cli_run(&r, NULL, "user", "show", "a", "b", NULL), ICS_ADMIN_EXIT_USAGE);
	assert_int_equal(cli_run(&r, NULL, "whoami", "--bogus", NULL), ICS_ADMIN_EXIT_USAGE);
	assert_int_equal(cli_run(&r, NULL, "manager", NULL), ICS_ADMIN_EXIT_USAGE);
	assert_int_equal(cli_run(&r, NULL, "--version", NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_login_whoami_logout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ended_session, setup, teardown),
		cmocka_unit_test_setup_teardown(test_private_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transport_failures, setup, teardown),
		cmocka_unit_test_setup_teardown(test_users_and_roles, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vms, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vm_way, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_tasks_events, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apikeys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tasks, setup_cluster, teardown),
		cmocka_unit_test_setup_teardown(test_usage, setup, teardown),
	};
	int rc;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
