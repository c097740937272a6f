/*
 * manager_health.c: the health request with libcurl.
 *
 * One easy handle per check, no connection reuse: a monitor runs every few
 * seconds in a fresh agent process anyway.  Signals are disabled
 * (CURLOPT_NOSIGNAL) because the agent may run with Pacemaker's alarm
 * handling; the total timeout bounds the request.
 */
#include "config.h"

#include <string.h>

#include <curl/curl.h>

#include "ics/error.h"
#include "ics/json.h"
#include "manager_health.h"

#define MAX_BODY 65536

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

static size_t collect(char *data, size_t size, size_t nmemb, void *user)
{
	GString *body = user;
	size_t n = size * nmemb;

	if (body->len + n > MAX_BODY)
		return 0;
	g_string_append_len(body, data, (gssize)n);
	return n;
}

gboolean manager_health_check(const ManagerHealthTarget *t, long *http_status, GError **error)
{
	const char *name = t->name ? t->name : "localhost";
	gboolean v6 = strchr(t->host, ':') != NULL;
	g_autofree char *url = g_strdup_printf("%s://%s:%u/api/v1/health",
					       t->ca_file ? "https" : "http", name, t->port);
	g_autofree char *connect_to = g_strdup_printf(
		"%s:%u:%s%s%s:%u", name, t->port, v6 ? "[" : "", t->host, v6 ? "]" : "", t->port);
	g_autoptr(GString) body = g_string_new(NULL);
	g_autoptr(json_t) j = NULL;
	struct curl_slist *ct = NULL;
	char errbuf[CURL_ERROR_SIZE] = "";
	const char *status, *db;
	long code = 0;
	CURLcode rc;
	CURL *curl;

	if (http_status)
		*http_status = 0;
	curl = curl_easy_init();
	if (curl == NULL) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_IO, "curl_easy_init failed");
		return FALSE;
	}
	ct = curl_slist_append(NULL, connect_to);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_CONNECT_TO, ct);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)(t->timeout_ms ? t->timeout_ms : 10000));
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, body);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	if (t->ca_file) {
		curl_easy_setopt(curl, CURLOPT_CAINFO, t->ca_file);
		curl_easy_setopt(curl, CURLOPT_CAPATH, NULL);
		curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
		curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
	}
	rc = curl_easy_perform(curl);
	if (rc == CURLE_OK)
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(curl);
	curl_slist_free_all(ct);
	if (http_status)
		*http_status = code;
	if (rc != CURLE_OK) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_UNAVAILABLE,
			    "health endpoint %s (at %s port %u) did not answer: %s", url, t->host,
			    t->port, errbuf[0] ? errbuf : curl_easy_strerror(rc));
		return FALSE;
	}
	j = json_loadb(body->str, body->len, 0, NULL);
	status = json_string_value(json_object_get(j, "status"));
	db = json_string_value(json_object_get(j, "db"));
	if (code == 200 && g_strcmp0(status, "ok") == 0 && g_strcmp0(db, "writable") == 0)
		return TRUE;
	g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
		    "health endpoint answered HTTP %ld, status \"%s\", db \"%s\"", code,
		    status ? status : "?", db ? db : "?");
	return FALSE;
}
