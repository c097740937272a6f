/*
 * admin_api_test_util.h: what ics-admin's API tests share -- a real
 * ics-managerd in process (libicsmanager, HTTPS with its generated
 * certificate, 127.0.0.1 and an ephemeral port, a temporary state
 * directory), a temporary HOME per test, and a way to run ics-admin's
 * main in process with its standard input, output and error captured.
 */
#ifndef ICS_ADMIN_API_TEST_UTIL_H
#define ICS_ADMIN_API_TEST_UTIL_H

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <jansson.h>

#include "api_cmd.h"
#include "ics/error.h"
#include "ics/json.h"
#include "ics/manager/manager.h"

#define API_TEST_PASSWORD "Str0ng-Passw0rd!"

typedef struct {
	char *state_dir;
	char *home;
	IcsManager *m;
	char *url;
	char *ca; /* the manager's certificate */
	char *admin_password;
} ApiTest;

static G_GNUC_UNUSED void api_test_rm_rf(const char *dir)
{
	g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", dir);

	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

/* A manager (TLS unless @plain_http; inventory only unless @cluster) and a
 * fresh HOME; ICS_URL and ICS_CA point at the manager, no other ICS_*
 * variable is set. */
static G_GNUC_UNUSED ApiTest *api_test_start_with(gboolean plain_http, const IcsClusterOps *cluster)
{
	ApiTest *t = g_new0(ApiTest, 1);
	g_autoptr(GError) err = NULL;
	IcsManagerConfig cfg;

	t->state_dir = g_dir_make_tmp("ics-admin-mgr-XXXXXX", NULL);
	t->home = g_dir_make_tmp("ics-admin-home-XXXXXX", NULL);
	g_assert_nonnull(t->state_dir);
	g_assert_nonnull(t->home);
	ics_manager_config_init(&cfg);
	g_free(cfg.state_dir);
	cfg.state_dir = g_strdup(t->state_dir);
	g_free(cfg.listen_address);
	cfg.listen_address = g_strdup("127.0.0.1");
	cfg.port = 0;
	cfg.insecure_http = plain_http;
	cfg.sse_keepalive_ms = 200;
	t->m = ics_manager_new(&cfg, cluster, &err);
	ics_manager_config_clear(&cfg);
	if (t->m == NULL)
		g_error("manager: %s", err->message);
	if (!ics_manager_bootstrap_admin(t->m, &t->admin_password, &err))
		g_error("bootstrap: %s", err->message);
	if (!ics_manager_listen(t->m, &err))
		g_error("listen: %s", err->message);
	t->url = g_strdup_printf("%s://127.0.0.1:%u", plain_http ? "http" : "https",
				 ics_manager_port(t->m));
	t->ca = g_build_filename(t->state_dir, "tls-cert.pem", NULL);
	g_setenv("HOME", t->home, TRUE);
	g_unsetenv("XDG_CONFIG_HOME");
	g_unsetenv("ICS_CONFIG");
	g_unsetenv("ICS_ACCESS_KEY");
	g_unsetenv("ICS_SECRET_KEY");
	g_setenv("ICS_URL", t->url, TRUE);
	if (plain_http)
		g_unsetenv("ICS_CA");
	else
		g_setenv("ICS_CA", t->ca, TRUE);
	return t;
}

static G_GNUC_UNUSED ApiTest *api_test_start(gboolean plain_http)
{
	return api_test_start_with(plain_http, NULL);
}

static G_GNUC_UNUSED void api_test_stop(ApiTest *t)
{
	ics_manager_free(t->m);
	api_test_rm_rf(t->state_dir);
	api_test_rm_rf(t->home);
	g_free(t->state_dir);
	g_free(t->home);
	g_free(t->url);
	g_free(t->ca);
	g_free(t->admin_password);
	g_free(t);
}

typedef struct {
	int status;
	char *out;
	char *err;
} CliRun;

static G_GNUC_UNUSED void cli_run_clear(CliRun *r)
{
	g_free(r->out);
	g_free(r->err);
	memset(r, 0, sizeof(*r));
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(CliRun, cli_run_clear)

static G_GNUC_UNUSED int redirect(int fd, const char *path, int flags)
{
	int saved = dup(fd);
	int f = open(path, flags, 0600);

	g_assert_cmpint(saved, >=, 0);
	g_assert_cmpint(f, >=, 0);
	g_assert_cmpint(dup2(f, fd), ==, fd);
	close(f);
	return saved;
}

static G_GNUC_UNUSED void restore(int fd, int saved)
{
	g_assert_cmpint(dup2(saved, fd), ==, fd);
	close(saved);
}

/* When >= 0, cli_run() gives ics-admin this descriptor as its standard
 * error (a terminal, say) instead of capturing it. */
static int cli_run_stderr_fd = -1;

/* Run "ics-admin ARGS..." (NULL-terminated) in process with @input on its
 * standard input (may be NULL: empty); the exit status.  Output and
 * errors are in @r. */
static G_GNUC_UNUSED int cli_run(CliRun *r, const char *input, const char *first, ...)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
	g_autofree char *dir = g_dir_make_tmp("ics-admin-io-XXXXXX", NULL);
	g_autofree char *in = g_build_filename(dir, "in", NULL);
	g_autofree char *out = g_build_filename(dir, "out", NULL);
	g_autofree char *err = g_build_filename(dir, "err", NULL);
	g_autofree char **copy = NULL;
	int s0, s1, s2;
	va_list ap;

	cli_run_clear(r);
	g_ptr_array_add(argv, g_strdup("ics-admin"));
	va_start(ap, first);
	for (const char *a = first; a; a = va_arg(ap, const char *))
		g_ptr_array_add(argv, g_strdup(a));
	va_end(ap);
	/* main may permute argv (GOption); keep our own pointers to free. */
	copy = g_new0(char *, argv->len + 1);
	memcpy(copy, argv->pdata, argv->len * sizeof(char *));
	g_assert_true(g_file_set_contents(in, input ? input : "", -1, NULL));
	fflush(stdout);
	fflush(stderr);
	s0 = redirect(STDIN_FILENO, in, O_RDONLY);
	s1 = redirect(STDOUT_FILENO, out, O_WRONLY | O_CREAT | O_TRUNC);
	if (cli_run_stderr_fd >= 0) {
		s2 = dup(STDERR_FILENO);
		g_assert_cmpint(dup2(cli_run_stderr_fd, STDERR_FILENO), ==, STDERR_FILENO);
	} else {
		s2 = redirect(STDERR_FILENO, err, O_WRONLY | O_CREAT | O_TRUNC);
	}
	r->status = ics_admin_main((int)argv->len, copy);
	fflush(stdout);
	fflush(stderr);
	restore(STDIN_FILENO, s0);
	restore(STDOUT_FILENO, s1);
	restore(STDERR_FILENO, s2);
	g_assert_true(g_file_get_contents(out, &r->out, NULL, NULL));
	if (cli_run_stderr_fd >= 0)
		r->err = g_strdup("");
	else
		g_assert_true(g_file_get_contents(err, &r->err, NULL, NULL));
	api_test_rm_rf(dir);
	if (g_getenv("ICS_TEST_VERBOSE"))
		fprintf(stderr, "ics-admin %s... -> %d\n%s%s", first, r->status, r->out, r->err);
	return r->status;
}

/* Log in as admin with the CLI; asserts success. */
static G_GNUC_UNUSED void api_test_login_admin(ApiTest *t)
{
	g_auto(CliRun) r = { 0 };
	g_autofree char *input = g_strconcat(t->admin_password, "\n", NULL);

	if (cli_run(&r, input, "login", "admin", "--password-stdin", NULL) != 0)
		g_error("login failed: %s", r.err);
}

#endif /* ICS_ADMIN_API_TEST_UTIL_H */
