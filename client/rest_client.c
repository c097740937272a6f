/*
 * rest_client.c: HTTPS requests to ics-managerd with libcurl.
 *
 * Each request is a fresh easy handle: a client makes a handful of calls,
 * a probe one, so connection reuse would buy little and a handle per
 * request keeps every request's options explicit.  Certificate and host
 * name verification stay on (libcurl's defaults, set again here so no
 * environment can weaken them); the caller only chooses what to trust: a
 * CA file (then only that file: no CA directory beside it), the system's
 * store, or a pinned public key.  A pin alone replaces the chain and name
 * checks -- it is a stronger statement than either ("this very key"), and
 * it lets a probe verify a manager whose certificate names none of the
 * addresses the probe uses.
 *
 * The body is serialised once, and those very bytes are both hashed for a
 * signature and sent, so what is signed is what the manager receives.
 * Transport failures are reported once, here, with the URL and the option
 * that fixes them (--url, --ca); HTTP errors carry the manager's message.
 */
#include "config.h"

#include <string.h>

#include <curl/curl.h>

#include "client_internal.h"
#include "ics/client.h"
#include "ics/error.h"
#include "ics/request_signature.h"

#define CONNECT_TIMEOUT_MS 10000u
#define PIN_PREFIX "sha256//"

/* The library's own words for what to do, when the program gave none. */
#define DEFAULT_HINT_URL "the URL must be https://HOST[:PORT] of a running ics-managerd"
#define DEFAULT_HINT_TRUST                                                                         \
	"trust the manager's certificate (its state directory's tls-cert.pem) or its CA "          \
	"(ca_file), or pin its key (pinned_key)"
#define DEFAULT_HINT_LOGIN "log in again"

gboolean ics_rest_global_init(GError **error)
{
	CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);

	if (rc != CURLE_OK) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_IO, "cannot initialise libcurl: %s",
			    curl_easy_strerror(rc));
		return FALSE;
	}
	return TRUE;
}

void ics_rest_global_cleanup(void)
{
	curl_global_cleanup();
}

static void free_secret(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		g_free(s);
	}
}

void ics_rest_free(IcsRest *rest)
{
	if (rest == NULL)
		return;
	g_free(rest->url);
	g_free(rest->path);
	g_free(rest->ca_file);
	g_free(rest->pinned_key);
	curl_slist_free_all(rest->connect_to);
	g_free(rest->user_agent);
	g_free(rest->hint_url);
	g_free(rest->hint_trust);
	g_free(rest->hint_login);
	free_secret(rest->token);
	g_free(rest->access_key);
	free_secret(rest->secret_key);
	g_free(rest);
}

static gboolean loopback(const char *host)
{
	return g_str_has_prefix(host, "127.") || g_str_equal(host, "::1") ||
	       g_str_equal(host, "[::1]") || g_ascii_strcasecmp(host, "localhost") == 0;
}

/* "sha256//BASE64" (of 32 bytes), several joined by ';'. */
static gboolean pins_valid(const char *pins, GError **error)
{
	g_auto(GStrv) each = g_strsplit(pins, ";", -1);

	if (each[0] == NULL)
		return ics_error_invalid(error,
					 "the pinned key is empty (expected sha256//BASE64)");
	for (guint i = 0; each[i]; i++) {
		const char *b64 =
			g_str_has_prefix(each[i], PIN_PREFIX) ? each[i] + strlen(PIN_PREFIX) : NULL;
		g_autofree guchar *raw = NULL;
		gsize len = 0;

		if (b64 == NULL || strlen(b64) != 44 ||
		    strspn(b64,
			   "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") !=
			    44 ||
		    (raw = g_base64_decode(b64, &len)) == NULL || len != 32)
			return ics_error_invalid(
				error,
				"pinned key \"%s\" is not sha256//BASE64 (the "
				"SHA-256 of a public key, as ics_rest_pin_from_cert_file "
				"or 'ics-admin manager cert show' print it)",
				each[i]);
	}
	return TRUE;
}

/* A CURLOPT_CONNECT_TO list sending every connection to @host (an
 * address or name; IPv6 with or without brackets) on the URL's port. */
static struct curl_slist *connect_to_list(const char *host, GError **error)
{
	gboolean v6 = strchr(host, ':') != NULL && host[0] != '[';
	g_autofree char *entry = NULL;

	if (*host == '\0' || strpbrk(host, " /?#@") != NULL) {
		ics_error_invalid(error, "connect host \"%s\" is not an address or host name",
				  host);
		return NULL;
	}
	entry = g_strdup_printf("::%s%s%s:", v6 ? "[" : "", host, v6 ? "]" : "");
	return curl_slist_append(NULL, entry);
}

IcsRest *ics_rest_new(const IcsRestConfig *cfg, GError **error)
{
	const char *url = cfg->url ? cfg->url : ICS_REST_DEFAULT_URL;
	g_autoptr(IcsRest) rest = g_new0(IcsRest, 1);
	g_autoptr(GUri) uri = NULL;
	g_autoptr(GError) err = NULL;
	const char *scheme, *host, *path;

	uri = g_uri_parse(url, G_URI_FLAGS_NONE, &err);
	if (uri == NULL) {
		ics_error_invalid(error, "manager URL \"%s\" is not a URL (%s); %s", url,
				  err->message, cfg->hint_url ? cfg->hint_url : DEFAULT_HINT_URL);
		return NULL;
	}
	scheme = g_uri_get_scheme(uri);
	host = g_uri_get_host(uri);
	if (host == NULL || *host == '\0' || g_uri_get_query(uri) || g_uri_get_fragment(uri) ||
	    g_uri_get_userinfo(uri)) {
		ics_error_invalid(error,
				  "manager URL \"%s\" must be https://HOST[:PORT] (no user, "
				  "query or fragment)",
				  url);
		return NULL;
	}
	if (g_ascii_strcasecmp(scheme, "http") == 0) {
		if (!loopback(host)) {
			ics_error_invalid(error,
					  "manager URL \"%s\": plain http is refused except on "
					  "loopback (passwords and tokens would cross the network "
					  "in clear); use https://",
					  url);
			return NULL;
		}
	} else if (g_ascii_strcasecmp(scheme, "https") != 0) {
		ics_error_invalid(error, "manager URL \"%s\": the scheme must be https", url);
		return NULL;
	}
	if ((cfg->access_key == NULL) != (cfg->secret_key == NULL)) {
		ics_error_invalid(error, "an access key needs its secret key and the other way "
					 "round (access_key and secret_key)");
		return NULL;
	}
	rest->url = g_strdup(url);
	while (g_str_has_suffix(rest->url, "/"))
		rest->url[strlen(rest->url) - 1] = '\0';
	path = g_uri_get_path(uri);
	rest->path = g_strdup(path ? path : "");
	while (g_str_has_suffix(rest->path, "/"))
		rest->path[strlen(rest->path) - 1] = '\0';
	if (cfg->pinned_key && !pins_valid(cfg->pinned_key, error))
		return NULL;
	if (cfg->connect_host &&
	    (rest->connect_to = connect_to_list(cfg->connect_host, error)) == NULL)
		return NULL;
	rest->ca_file = g_strdup(cfg->ca_file);
	rest->pinned_key = g_strdup(cfg->pinned_key);
	rest->token = g_strdup(cfg->token);
	rest->access_key = g_strdup(cfg->access_key);
	rest->secret_key = g_strdup(cfg->secret_key);
	rest->user_agent =
		g_strdup(cfg->user_agent ? cfg->user_agent : "ics-client/" PACKAGE_VERSION);
	rest->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : ICS_REST_DEFAULT_TIMEOUT_MS;
	rest->hint_url = g_strdup(cfg->hint_url ? cfg->hint_url : DEFAULT_HINT_URL);
	rest->hint_trust = g_strdup(cfg->hint_trust ? cfg->hint_trust : DEFAULT_HINT_TRUST);
	rest->hint_login = g_strdup(cfg->hint_login ? cfg->hint_login : DEFAULT_HINT_LOGIN);
	return g_steal_pointer(&rest);
}

const char *ics_rest_url(const IcsRest *rest)
{
	return rest->url;
}

void ics_rest_response_free(IcsRestResponse *resp)
{
	if (resp == NULL)
		return;
	g_free(resp->content_type);
	if (resp->body)
		g_string_free(resp->body, TRUE);
	if (resp->json)
		json_decref(resp->json);
	g_free(resp);
}

GPtrArray *ics_rest_query_new(void)
{
	return g_ptr_array_new_with_free_func(g_free);
}

void ics_rest_query_add(GPtrArray *query, const char *key, const char *value)
{
	if (value == NULL)
		return;
	g_ptr_array_add(query, g_strdup(key));
	g_ptr_array_add(query, g_strdup(value));
}

static char *full_url(const IcsRest *rest, const char *path, const GPtrArray *query)
{
	GString *u = g_string_new(rest->url);

	g_string_append(u, path);
	for (guint i = 0; query && i + 1 < query->len; i += 2) {
		g_autofree char *k = g_uri_escape_string(query->pdata[i], NULL, FALSE);
		g_autofree char *v = g_uri_escape_string(query->pdata[i + 1], NULL, FALSE);

		g_string_append_printf(u, "%c%s=%s", i ? '&' : '?', k, v);
	}
	return g_string_free(u, FALSE);
}

void ics_client_transport_error(GError **error, const IcsRest *rest, CURLcode rc,
				const char *detail)
{
	const char *msg = detail && *detail ? detail : curl_easy_strerror(rc);

	switch (rc) {
	case CURLE_PEER_FAILED_VERIFICATION:
#if LIBCURL_VERSION_NUM < 0x073e00
	case CURLE_SSL_CACERT:
#endif
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
		g_set_error(error, ICS_ERROR, ICS_ERROR_IO,
			    "cannot verify the TLS certificate of the manager at %s (%s); %s",
			    rest->url, msg, rest->hint_trust);
		break;
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
		g_set_error(
			error, ICS_ERROR, ICS_ERROR_IO,
			"the server at %s is not the manager expected: its public key is not "
			"the pinned one (%s); if the manager's certificate was replaced, pin the "
			"new one ('ics-admin manager cert show' prints its pin)",
			rest->url, rest->pinned_key);
		break;
	case CURLE_SSL_CONNECT_ERROR:
		g_set_error(error, ICS_ERROR, ICS_ERROR_IO,
			    "TLS handshake with the manager at %s failed (%s); is it an HTTPS "
			    "server (ics-managerd) at that address and port?",
			    rest->url, msg);
		break;
	case CURLE_OPERATION_TIMEDOUT:
		g_set_error(error, ICS_ERROR, ICS_ERROR_TIMEOUT,
			    "the manager at %s did not answer in time (%s)", rest->url, msg);
		break;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
		/* Nothing was sent: the caller may try another way. */
		g_set_error(error, ICS_ERROR, ICS_ERROR_UNREACHABLE,
			    "cannot reach the manager at %s (%s); %s", rest->url, msg,
			    rest->hint_url);
		break;
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL:
		g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT,
			    "manager URL %s is not usable (%s); %s", rest->url, msg,
			    rest->hint_url);
		break;
	default:
		g_set_error(error, ICS_ERROR, ICS_ERROR_IO,
			    "no answer from the manager at %s (%s); %s", rest->url, msg,
			    rest->hint_url);
		break;
	}
}

static size_t collect(char *p, size_t size, size_t n, void *data)
{
	g_string_append_len(data, p, (gssize)(size * n));
	return size * n;
}

CURL *ics_client_handle_new(const IcsRest *rest, const char *method, const char *path,
			    const GPtrArray *query, const char *body, gsize body_len,
			    struct curl_slist **headers, char *errbuf)
{
	CURL *c = curl_easy_init();
	g_autofree char *url = full_url(rest, path, query);
	g_autofree char *sign_path = g_strconcat(rest->path, path, NULL);
	g_autofree char *agent = g_strconcat("User-Agent: ", rest->user_agent, NULL);
	gboolean pin_only = rest->pinned_key && rest->ca_file == NULL;

	if (c == NULL)
		g_error("curl_easy_init failed (out of memory)");
	errbuf[0] = '\0';
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)MIN(CONNECT_TIMEOUT_MS, rest->timeout_ms));
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	/* The pin alone is the trust, or the CA (file or store) with the name. */
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, pin_only ? 0L : 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, pin_only ? 0L : 2L);
	if (rest->pinned_key)
		curl_easy_setopt(c, CURLOPT_PINNEDPUBLICKEY, rest->pinned_key);
	if (rest->ca_file) {
		curl_easy_setopt(c, CURLOPT_CAINFO, rest->ca_file);
		curl_easy_setopt(c, CURLOPT_CAPATH, NULL);
	}
	if (rest->connect_to) {
		/* Straight to the given address, never through a proxy. */
		curl_easy_setopt(c, CURLOPT_CONNECT_TO, rest->connect_to);
		curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	}
	if (rest->access_key) {
		g_auto(GStrv) sig =
			ics_rest_signature_headers(rest->access_key, rest->secret_key, method,
						   sign_path, query, body, body_len);

		for (guint i = 0; sig[i]; i++)
			*headers = curl_slist_append(*headers, sig[i]);
	} else if (rest->token) {
		g_autofree char *auth = g_strconcat("Authorization: Bearer ", rest->token, NULL);

		*headers = curl_slist_append(*headers, auth);
		explicit_bzero(auth, strlen(auth));
	}
	if (body) {
		*headers = curl_slist_append(*headers, "Content-Type: application/json");
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
	}
	*headers = curl_slist_append(*headers, "Expect:");
	*headers = curl_slist_append(*headers, agent);
	return c;
}

IcsRestResponse *ics_rest_request(IcsRest *rest, const char *method, const char *path,
				  const GPtrArray *query, const json_t *body, GError **error)
{
	g_autoptr(IcsRestResponse) resp = g_new0(IcsRestResponse, 1);
	g_autofree char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	struct curl_slist *headers = NULL;
	char errbuf[CURL_ERROR_SIZE];
	const char *ctype = NULL;
	CURLcode rc;
	CURL *c;

	c = ics_client_handle_new(rest, method, path, query, text, text ? strlen(text) : 0,
				  &headers, errbuf);
	headers = curl_slist_append(headers, "Accept: application/json");
	resp->body = g_string_new(NULL);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)rest->timeout_ms);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, resp->body);
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK) {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
		curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ctype);
		resp->content_type = g_strdup(ctype);
	} else {
		ics_client_transport_error(error, rest, rc, errbuf);
	}
	curl_slist_free_all(headers);
	curl_easy_cleanup(c);
	if (text)
		explicit_bzero(text, strlen(text)); /* may hold a password */
	if (rc != CURLE_OK)
		return NULL;
	if (resp->body->len > 0)
		resp->json = json_loadb(resp->body->str, resp->body->len, JSON_DECODE_ANY, NULL);
	return g_steal_pointer(&resp);
}

void ics_rest_set_http_error(GError **error, const IcsRest *rest, const char *method,
			     const char *path, const IcsRestResponse *resp)
{
	json_t *e = json_object_get(resp->json, "error");
	const char *msg = json_string_value(json_object_get(e, "message"));
	IcsErrorCode code;

	switch (resp->status) {
	case 400:
	case 413:
	case 422:
		code = ICS_ERROR_INVALID_ARGUMENT;
		break;
	case 401:
	case 403:
		code = ICS_ERROR_PERMISSION;
		break;
	case 404:
		code = ICS_ERROR_NOT_FOUND;
		break;
	case 409:
		code = ICS_ERROR_CONFLICT;
		break;
	case 429:
		code = ICS_ERROR_LIMIT;
		break;
	case 503:
		code = ICS_ERROR_UNAVAILABLE;
		break;
	case 504:
		code = ICS_ERROR_TIMEOUT;
		break;
	default:
		code = ICS_ERROR_IO;
		break;
	}
	if (msg == NULL)
		g_set_error(error, ICS_ERROR, code, "%s %s%s: HTTP %ld from the manager", method,
			    rest->url, path, resp->status);
	else if (resp->status == 401 && rest->token && rest->access_key == NULL)
		g_set_error(error, ICS_ERROR, code, "%s (the session may have ended: %s)", msg,
			    rest->hint_login);
	else
		g_set_error(error, ICS_ERROR, code, "%s", msg);
}

json_t *ics_rest_call(IcsRest *rest, const char *method, const char *path, const GPtrArray *query,
		      const json_t *body, GError **error)
{
	g_autoptr(IcsRestResponse) resp = ics_rest_request(rest, method, path, query, body, error);

	if (resp == NULL)
		return NULL;
	if (resp->status < 200 || resp->status > 299) {
		ics_rest_set_http_error(error, rest, method, path, resp);
		return NULL;
	}
	if (resp->body->len == 0)
		return json_null();
	if (resp->json == NULL) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_PARSE,
			    "%s %s%s: the manager's answer is not JSON", method, rest->url, path);
		return NULL;
	}
	return g_steal_pointer(&resp->json);
}
