/*
 * event_stream.c: following a Server-Sent Events stream of the manager
 * (GET /api/v1/events and the per-VM streams).
 *
 * The stream is parsed as it arrives, line by line, per the HTML
 * specification's event-stream format: "id:", "event:" and "data:" fields
 * (several data lines joined by newlines), comments (the manager's
 * keep-alives) ignored, a blank line dispatching the event.  The callback
 * can stop the stream at any event: the write function then returns short
 * and libcurl ends the transfer, which is not an error.  An error answer
 * (not 200) is collected whole and mapped like any other request's.
 * There is no overall deadline, only a silence limit.
 */
#include "config.h"

#include <string.h>

#include <curl/curl.h>

#include "client_internal.h"
#include "ics/client.h"

#define SILENCE_LIMIT_S 60L

typedef struct {
	CURL *c;
	long status;
	GString *raw;  /* the body of an error answer */
	GString *line; /* the line being received */
	char *id, *type;
	GString *data;
	gboolean have_data, stopped;
	IcsRestEventFn fn;
	gpointer user;
} Sse;

static void sse_field(Sse *s, const char *line)
{
	const char *colon = strchr(line, ':');
	g_autofree char *name = colon ? g_strndup(line, colon - line) : g_strdup(line);
	const char *value = colon ? colon + 1 : "";

	if (*value == ' ')
		value++;
	if (g_str_equal(name, "id")) {
		g_free(s->id);
		s->id = g_strdup(value);
	} else if (g_str_equal(name, "event")) {
		g_free(s->type);
		s->type = g_strdup(value);
	} else if (g_str_equal(name, "data")) {
		if (s->have_data)
			g_string_append_c(s->data, '\n');
		g_string_append(s->data, value);
		s->have_data = TRUE;
	}
}

/* One complete line (without its end): a field, a comment or the blank
 * line that dispatches the event. */
static void sse_line(Sse *s, const char *line)
{
	if (*line == ':')
		return;
	if (*line != '\0') {
		sse_field(s, line);
		return;
	}
	if (s->have_data && !s->stopped &&
	    !s->fn(s->id, s->type ? s->type : "message", s->data->str, s->user))
		s->stopped = TRUE;
	g_clear_pointer(&s->type, g_free);
	g_string_truncate(s->data, 0);
	s->have_data = FALSE;
}

static size_t sse_write(char *p, size_t size, size_t n, void *data)
{
	Sse *s = data;
	size_t len = size * n;

	if (s->status == 0)
		curl_easy_getinfo(s->c, CURLINFO_RESPONSE_CODE, &s->status);
	if (s->status != 200) {
		g_string_append_len(s->raw, p, (gssize)len);
		return len;
	}
	for (size_t i = 0; i < len && !s->stopped; i++) {
		if (p[i] == '\n') {
			if (s->line->len && s->line->str[s->line->len - 1] == '\r')
				g_string_truncate(s->line, s->line->len - 1);
			sse_line(s, s->line->str);
			g_string_truncate(s->line, 0);
		} else {
			g_string_append_c(s->line, p[i]);
		}
	}
	return s->stopped ? 0 : len;
}

gboolean ics_rest_stream(IcsRest *rest, const char *path, const GPtrArray *query,
			 const char *last_event_id, IcsRestEventFn fn, gpointer user,
			 GError **error)
{
	Sse s = { 0 };
	struct curl_slist *headers = NULL;
	char errbuf[CURL_ERROR_SIZE];
	gboolean ok = TRUE;
	CURLcode rc;

	s.c = ics_client_handle_new(rest, "GET", path, query, NULL, 0, &headers, errbuf);
	s.raw = g_string_new(NULL);
	s.line = g_string_new(NULL);
	s.data = g_string_new(NULL);
	s.fn = fn;
	s.user = user;
	headers = curl_slist_append(headers, "Accept: text/event-stream");
	if (last_event_id) {
		g_autofree char *h = g_strconcat("Last-Event-ID: ", last_event_id, NULL);

		headers = curl_slist_append(headers, h);
	}
	curl_easy_setopt(s.c, CURLOPT_HTTPHEADER, headers);
	/* No overall deadline; a connection silent for a minute (the manager
	 * sends a keep-alive every 15 s) is dead. */
	curl_easy_setopt(s.c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(s.c, CURLOPT_LOW_SPEED_TIME, SILENCE_LIMIT_S);
	curl_easy_setopt(s.c, CURLOPT_WRITEFUNCTION, sse_write);
	curl_easy_setopt(s.c, CURLOPT_WRITEDATA, &s);
	rc = curl_easy_perform(s.c);
	if (s.status == 0)
		curl_easy_getinfo(s.c, CURLINFO_RESPONSE_CODE, &s.status);
	if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && s.stopped)) {
		ics_client_transport_error(error, rest, rc, errbuf);
		ok = FALSE;
	} else if (s.status != 200) {
		IcsRestResponse r = { .status = s.status, .body = s.raw };

		r.json = json_loadb(s.raw->str, s.raw->len, 0, NULL);
		ics_rest_set_http_error(error, rest, "GET", path, &r);
		if (r.json)
			json_decref(r.json);
		ok = FALSE;
	}
	curl_slist_free_all(headers);
	curl_easy_cleanup(s.c);
	g_string_free(s.raw, TRUE);
	g_string_free(s.line, TRUE);
	g_string_free(s.data, TRUE);
	g_free(s.id);
	g_free(s.type);
	return ok;
}
