/*
 * manager_health.c: the health request, through libicsclient.
 *
 * One client and one connection per check, no reuse: a monitor runs every
 * few seconds in a fresh agent process anyway.  The URL names "localhost"
 * and the connection goes to the listen address (the library's connect
 * host: never through a proxy), so with a CA file the name checked is the
 * one a CA-signed certificate for the local daemon carries, and with a pin
 * the name does not matter.  libcurl's signals are off (the library sets
 * CURLOPT_NOSIGNAL) because the agent may run with Pacemaker's alarm
 * handling; the timeout bounds the whole request.
 */
#include "config.h"

#include <string.h>

#include "ics/client.h"
#include "ics/error.h"
#include "ics/json.h"
#include "manager_health.h"

#define DEFAULT_TIMEOUT_MS 10000u

gboolean manager_listen_parse(const char *listen, char **connect_host, guint *port, GError **error)
{
	const char *colon;
	g_autofree char *host = NULL;
	guint64 p;
	char *end = NULL;

	if (listen == NULL || listen[0] == '\0')
		return ics_error_invalid(error, "listen is empty (expected ADDR:PORT)");
	if (listen[0] == '[') {
		const char *close = strchr(listen, ']');

		if (close == NULL || close[1] != ':')
			return ics_error_invalid(error, "listen \"%s\": expected [IPV6]:PORT",
						 listen);
		host = g_strndup(listen + 1, (gsize)(close - listen - 1));
		colon = close + 1;
	} else {
		colon = strrchr(listen, ':');
		if (colon == NULL || colon == listen ||
		    memchr(listen, ':', (gsize)(colon - listen)))
			return ics_error_invalid(error, "listen \"%s\": expected ADDR:PORT",
						 listen);
		host = g_strndup(listen, (gsize)(colon - listen));
	}
	p = g_ascii_strtoull(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || p == 0 || p > 65535)
		return ics_error_invalid(error, "listen \"%s\": port must be 1..65535", listen);
	*port = (guint)p;
	if (strcmp(host, "0.0.0.0") == 0 || host[0] == '\0')
		*connect_host = g_strdup("127.0.0.1");
	else if (strcmp(host, "::") == 0)
		*connect_host = g_strdup("::1");
	else
		*connect_host = g_steal_pointer(&host);
	return TRUE;
}

gboolean manager_health_check(const ManagerHealthTarget *t, long *http_status, GError **error)
{
	const char *name = t->name ? t->name : "localhost";
	g_autofree char *url = g_strdup_printf("https://%s:%u", name, t->port);
	IcsRestConfig rc = {
		.url = url,
		.pinned_key = t->pin,
		.ca_file = t->ca_file,
		.connect_host = t->host,
		.timeout_ms = t->timeout_ms ? t->timeout_ms : DEFAULT_TIMEOUT_MS,
		.user_agent = "ocf:ics:manager",
		.hint_url = "is ics-managerd serving on the agent's listen address?",
		.hint_trust = "the daemon's certificate must chain to tls_ca and name localhost; "
			      "unset tls_ca to pin the certificate of the state directory",
	};
	g_autoptr(GError) err = NULL;
	g_autoptr(IcsRest) rest = NULL;
	g_autoptr(IcsRestResponse) resp = NULL;
	const char *status, *db;

	if (http_status)
		*http_status = 0;
	if (t->pin == NULL && t->ca_file == NULL)
		return ics_error_invalid(error, "the health check needs the daemon's pinned key or "
						"a CA file to verify it");
	if ((rest = ics_rest_new(&rc, error)) == NULL)
		return FALSE;
	resp = ics_rest_request(rest, "GET", "/api/v1/health", NULL, NULL, &err);
	if (resp == NULL) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_UNAVAILABLE,
			    "health endpoint at %s port %u did not answer: %s", t->host, t->port,
			    err->message);
		return FALSE;
	}
	if (http_status)
		*http_status = resp->status;
	status = json_string_value(json_object_get(resp->json, "status"));
	db = json_string_value(json_object_get(resp->json, "db"));
	if (resp->status == 200 && g_strcmp0(status, "ok") == 0 && g_strcmp0(db, "writable") == 0)
		return TRUE;
	g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
		    "health endpoint answered HTTP %ld, status \"%s\", db \"%s\"", resp->status,
		    status ? status : "?", db ? db : "?");
	return FALSE;
}
