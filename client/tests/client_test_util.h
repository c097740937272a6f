/*
 * client_test_util.h: a real ics-managerd in process for the client
 * library's tests (libicsmanager: HTTPS with its generated certificate,
 * 127.0.0.1 and an ephemeral port, a temporary state directory, the
 * administrator created with a generated password).
 *
 * The client is tested against the server it talks to in production, not
 * a stand-in: a signature, a status mapping or a TLS check that drifts
 * from the manager fails here.
 */
#ifndef ICS_CLIENT_TEST_UTIL_H
#define ICS_CLIENT_TEST_UTIL_H

#include <stdio.h>
#include <stdlib.h>

#include <glib.h>

#include "ics/client.h"
#include "ics/json.h"
#include "ics/manager/manager.h"

typedef struct {
	char *state_dir;
	IcsManager *m;
	guint port;
	char *url;
	char *ca; /* the manager's certificate, STATE_DIR/tls-cert.pem */
	char *admin_password;
} ClientTest;

static G_GNUC_UNUSED void client_test_rm_rf(const char *dir)
{
	g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", dir);

	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

/* A manager with TLS (plain http with @plain_http) whose generated
 * certificate also names @tls_names ("a,b"; may be NULL). */
static G_GNUC_UNUSED ClientTest *client_test_start_with(gboolean plain_http, const char *tls_names)
{
	ClientTest *t = g_new0(ClientTest, 1);
	g_autoptr(GError) err = NULL;
	IcsManagerConfig cfg;

	t->state_dir = g_dir_make_tmp("ics-client-mgr-XXXXXX", NULL);
	g_assert_nonnull(t->state_dir);
	ics_manager_config_init(&cfg);
	g_free(cfg.state_dir);
	cfg.state_dir = g_strdup(t->state_dir);
	g_free(cfg.listen_address);
	cfg.listen_address = g_strdup("127.0.0.1");
	cfg.port = 0;
	cfg.insecure_http = plain_http;
	cfg.sse_keepalive_ms = 200;
	if (tls_names && !ics_manager_config_set_tls_names(&cfg, tls_names, &err))
		g_error("tls names: %s", err->message);
	t->m = ics_manager_new(&cfg, NULL, &err);
	ics_manager_config_clear(&cfg);
	if (t->m == NULL)
		g_error("manager: %s", err->message);
	if (!ics_manager_bootstrap_admin(t->m, &t->admin_password, &err))
		g_error("bootstrap: %s", err->message);
	if (!ics_manager_listen(t->m, &err))
		g_error("listen: %s", err->message);
	t->port = ics_manager_port(t->m);
	t->url = g_strdup_printf("%s://127.0.0.1:%u", plain_http ? "http" : "https", t->port);
	t->ca = g_build_filename(t->state_dir, "tls-cert.pem", NULL);
	return t;
}

static G_GNUC_UNUSED ClientTest *client_test_start(void)
{
	return client_test_start_with(FALSE, NULL);
}

static G_GNUC_UNUSED void client_test_stop(ClientTest *t)
{
	ics_manager_free(t->m);
	client_test_rm_rf(t->state_dir);
	g_free(t->state_dir);
	g_free(t->url);
	g_free(t->ca);
	g_free(t->admin_password);
	g_free(t);
}

/* A session token of admin's (g_free). */
static G_GNUC_UNUSED char *client_test_login(const ClientTest *t)
{
	IcsRestConfig rc = { .url = t->url, .ca_file = t->ca };
	g_autoptr(GError) err = NULL;
	g_autoptr(IcsRest) anon = ics_rest_new(&rc, &err);
	g_autoptr(json_t) body = NULL, session = NULL;

	g_assert_nonnull(anon);
	body = json_pack("{s:s, s:s}", "username", "admin", "password", t->admin_password);
	session = ics_rest_call(anon, "POST", "/api/v1/sessions", NULL, body, &err);
	if (session == NULL)
		g_error("login: %s", err->message);
	return g_strdup(json_string_value(json_object_get(session, "token")));
}

/* A new access key pair of admin's (g_free both). */
static G_GNUC_UNUSED void client_test_apikey(const ClientTest *t, const char *token, char **key_id,
					     char **secret)
{
	IcsRestConfig rc = { .url = t->url, .ca_file = t->ca, .token = token };
	g_autoptr(GError) err = NULL;
	g_autoptr(IcsRest) rest = ics_rest_new(&rc, &err);
	g_autoptr(json_t) req = json_pack("{s:s}", "description", "test");
	g_autoptr(json_t) key = NULL;

	g_assert_nonnull(rest);
	key = ics_rest_call(rest, "POST", "/api/v1/apikeys", NULL, req, &err);
	if (key == NULL)
		g_error("apikey: %s", err->message);
	*key_id = g_strdup(json_string_value(json_object_get(key, "access_key_id")));
	*secret = g_strdup(json_string_value(json_object_get(key, "secret")));
}

#endif /* ICS_CLIENT_TEST_UTIL_H */
