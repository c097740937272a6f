/*
 * http_message.c: IcsRequest and IcsResponse, independent of the server
 * library so handlers, the fuzz target and tests build them directly.
 */
#include "config.h"

#include <string.h>

#include "ics/manager/http.h"

IcsRequest *ics_request_new(const char *method, const char *path)
{
	IcsRequest *req = g_new0(IcsRequest, 1);

	req->method = g_strdup(method);
	req->path = g_strdup(path);
	req->query = g_ptr_array_new_with_free_func(g_free);
	req->headers = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	req->params = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	req->body = g_strdup("");
	req->conn_fd = -1;
	return req;
}

void ics_request_free(IcsRequest *req)
{
	if (req == NULL)
		return;
	g_free(req->method);
	g_free(req->path);
	g_ptr_array_unref(req->query);
	g_hash_table_unref(req->headers);
	g_hash_table_unref(req->params);
	g_free(req->body);
	g_free(req->client);
	g_free(req->audit_user);
	g_free(req->audit_object_id);
	g_free(req->audit_reason);
	g_free(req->audit_action);
	g_free(req);
}

const char *ics_request_query(const IcsRequest *req, const char *key)
{
	for (guint i = 0; i + 1 < req->query->len; i += 2)
		if (g_str_equal(g_ptr_array_index(req->query, i), key))
			return g_ptr_array_index(req->query, i + 1);
	return NULL;
}

const char *ics_request_header(const IcsRequest *req, const char *name)
{
	g_autofree char *lower = g_ascii_strdown(name, -1);

	return g_hash_table_lookup(req->headers, lower);
}

const char *ics_request_param(const IcsRequest *req, const char *name)
{
	return g_hash_table_lookup(req->params, name);
}

void ics_response_clear(IcsResponse *resp)
{
	if (resp->json)
		json_decref(resp->json);
	g_free(resp->text);
	g_free(resp->content_type);
	if (resp->stream_free && resp->stream_data)
		resp->stream_free(resp->stream_data);
	/* An upgrade never handed to the server (an error after it was set). */
	if (resp->upgrade_free && resp->upgrade_data)
		resp->upgrade_free(resp->upgrade_data);
	if (resp->headers)
		g_ptr_array_unref(resp->headers);
	memset(resp, 0, sizeof(*resp));
}

void ics_response_json(IcsResponse *resp, guint status, json_t *body)
{
	if (resp->json)
		json_decref(resp->json);
	resp->status = status;
	resp->json = body;
}

void ics_response_error(IcsResponse *resp, guint status, const char *code, const char *fmt, ...)
{
	va_list ap;
	g_autofree char *msg = NULL;

	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_clear_pointer(&resp->text, g_free);
	ics_response_json(resp, status,
			  json_pack("{s:{s:s, s:s}}", "error", "code", code, "message", msg));
}

void ics_response_header(IcsResponse *resp, const char *name, const char *value)
{
	if (resp->headers == NULL)
		resp->headers = g_ptr_array_new_with_free_func(g_free);
	g_ptr_array_add(resp->headers, g_strdup(name));
	g_ptr_array_add(resp->headers, g_strdup(value));
}
