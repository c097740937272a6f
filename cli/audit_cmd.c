/*
 * audit_cmd.c: `ics-admin audit list|export` -- the manager's audit trail.
 *
 * Filters map one to one to the API's query parameters; times are passed
 * as given (RFC 3339) and the manager says which one it cannot read.
 * Export writes the manager's CSV or JSON lines unchanged, to standard
 * output or a file (created 0600: an audit trail names users and clients).
 */
#include "config.h"

#include "api_cmd.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "ics/error.h"
#include "ics/json.h"

typedef struct {
	char *user, *action, *object_type, *object_id, *result, *since, *until;
} Filters;

static void filters_clear(Filters *f)
{
	g_free(f->user);
	g_free(f->action);
	g_free(f->object_type);
	g_free(f->object_id);
	g_free(f->result);
	g_free(f->since);
	g_free(f->until);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Filters, filters_clear)

/* The filter options followed by @more (copied; at most 4). */
static GOptionEntry *entries(Filters *f, const GOptionEntry *more)
{
	const GOptionEntry base[] = {
		{ "user", 0, 0, G_OPTION_ARG_STRING, &f->user, "Only this user's actions", "USER" },
		{ "action", 0, 0, G_OPTION_ARG_STRING, &f->action,
		  "Only this action (vm.create, ...)", "ACTION" },
		{ "object-type", 0, 0, G_OPTION_ARG_STRING, &f->object_type,
		  "Only this object type", "TYPE" },
		{ "object-id", 0, 0, G_OPTION_ARG_STRING, &f->object_id, "Only this object", "ID" },
		{ "result", 0, 0, G_OPTION_ARG_STRING, &f->result, "success or failure", "RESULT" },
		{ "since", 0, 0, G_OPTION_ARG_STRING, &f->since, "From this time (RFC 3339)",
		  "TIME" },
		{ "until", 0, 0, G_OPTION_ARG_STRING, &f->until, "Before this time (RFC 3339)",
		  "TIME" },
	};
	GOptionEntry *all = g_new0(GOptionEntry, G_N_ELEMENTS(base) + 5);
	guint n = 0;

	for (guint i = 0; i < G_N_ELEMENTS(base); i++)
		all[n++] = base[i];
	for (guint i = 0; more && more[i].long_name && i < 4; i++)
		all[n++] = more[i];
	return all;
}

static GPtrArray *query(const Filters *f)
{
	GPtrArray *q = ics_rest_query_new();

	ics_rest_query_add(q, "user", f->user);
	ics_rest_query_add(q, "action", f->action);
	ics_rest_query_add(q, "object_type", f->object_type);
	ics_rest_query_add(q, "object_id", f->object_id);
	ics_rest_query_add(q, "result", f->result);
	ics_rest_query_add(q, "since", f->since);
	ics_rest_query_add(q, "until", f->until);
	return q;
}

static int audit_list(int argc, char **argv)
{
	g_auto(IcsAdminCommon) c = { 0 };
	g_auto(Filters) f = { 0 };
	g_autoptr(GError) error = NULL;
	g_autoptr(IcsRest) rest = NULL;
	g_autoptr(json_t) all = NULL;
	g_autoptr(GPtrArray) q = NULL, t = NULL;
	gint limit = 100;
	const GOptionEntry more[] = {
		{ "limit", 0, 0, G_OPTION_ARG_INT, &limit, "At most N records (default 100)", "N" },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};
	g_autofree GOptionEntry *opts = entries(&f, more);
	json_t *r;
	size_t i;

	if (!ics_admin_parse(&argc, &argv, &c, "", "Search the audit trail, newest first.", opts, 0,
			     0, &error))
		return ics_admin_finish(error);
	if (limit <= 0) {
		ics_error_invalid(&error, "audit list: --limit must be positive");
		return ics_admin_finish(error);
	}
	q = query(&f);
	if ((rest = ics_admin_connect(&c, TRUE, &error)) == NULL ||
	    (all = ics_admin_list_pages(rest, "/api/v1/audit", q, "before", limit, &error)) == NULL)
		return ics_admin_finish(error);
	if (c.json) {
		ics_admin_print_json(all);
		return ICS_ADMIN_EXIT_OK;
	}
	t = ics_admin_table_new("ID", "TIME", "USER", "ACTION", "OBJECT", "RESULT", "STATUS",
				"CLIENT", "REASON", NULL);
	json_array_foreach(json_object_get(all, "items"), i, r)
	{
		g_autofree char *id = g_strdup_printf("%" JSON_INTEGER_FORMAT,
						      json_integer_value(json_object_get(r, "id")));
		g_autofree char *status =
			g_strdup_printf("%" JSON_INTEGER_FORMAT,
					json_integer_value(json_object_get(r, "http_status")));
		g_autofree char *object =
			json_is_string(json_object_get(r, "object_id"))
				? g_strdup_printf("%s %s", ics_admin_str(r, "object_type", "?"),
						  ics_admin_str(r, "object_id", "?"))
				: g_strdup("-");

		ics_admin_table_add(t, id, ics_admin_str(r, "started_at", "?"),
				    ics_admin_str(r, "user", "-"), ics_admin_str(r, "action", "?"),
				    object, ics_admin_str(r, "result", "?"), status,
				    ics_admin_str(r, "client", "-"),
				    ics_admin_str(r, "reason", "-"), NULL);
	}
	ics_admin_table_print(t);
	return ICS_ADMIN_EXIT_OK;
}

static gboolean write_all(int fd, const char *data, gsize len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return FALSE;
		data += n;
		len -= (gsize)n;
	}
	return TRUE;
}

static int audit_export(int argc, char **argv)
{
	g_auto(IcsAdminCommon) c = { 0 };
	g_auto(Filters) f = { 0 };
	g_autoptr(GError) error = NULL;
	g_autoptr(IcsRest) rest = NULL;
	g_autoptr(IcsRestResponse) resp = NULL;
	g_autoptr(GPtrArray) q = NULL;
	g_autofree char *format = NULL, *output = NULL;
	const GOptionEntry more[] = {
		{ "format", 0, 0, G_OPTION_ARG_STRING, &format, "csv (default) or jsonl",
		  "FORMAT" },
		{ "output", 'o', 0, G_OPTION_ARG_FILENAME, &output,
		  "Write to FILE (created 0600) instead of standard output", "FILE" },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};
	g_autofree GOptionEntry *opts = entries(&f, more);
	int fd = STDOUT_FILENO;

	if (!ics_admin_parse(&argc, &argv, &c, "",
			     "Export every matching audit record, oldest first.", opts, 0, 0,
			     &error))
		return ics_admin_finish(error);
	if (format && !g_str_equal(format, "csv") && !g_str_equal(format, "jsonl")) {
		ics_error_invalid(&error, "audit export: --format must be csv or jsonl");
		return ics_admin_finish(error);
	}
	q = query(&f);
	ics_rest_query_add(q, "format", format ? format : "csv");
	if ((rest = ics_admin_connect(&c, TRUE, &error)) == NULL ||
	    (resp = ics_rest_request(rest, "GET", "/api/v1/audit/export", q, NULL, &error)) == NULL)
		return ics_admin_finish(error);
	if (resp->status != 200) {
		ics_rest_set_http_error(&error, rest, "GET", "/api/v1/audit/export", resp);
		return ics_admin_finish(error);
	}
	if (output) {
		fd = open(output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0) {
			ics_error_set_errno(&error, errno, "cannot create %s", output);
			return ics_admin_finish(error);
		}
	}
	fflush(stdout);
	if (!write_all(fd, resp->body->str, resp->body->len))
		ics_error_set_errno(&error, errno, "cannot write %s",
				    output ? output : "standard output");
	if (output && close(fd) != 0 && error == NULL)
		ics_error_set_errno(&error, errno, "cannot write %s", output);
	return ics_admin_finish(error);
}

int ics_admin_audit_main(int argc, char **argv)
{
	static const IcsAdminCommand cmds[] = {
		{ "list", audit_list },
		{ "export", audit_export },
		{ NULL, NULL },
	};

	return ics_admin_dispatch(
		"audit", cmds,
		"  list [--user U] [--action A] [--object-type T] [--object-id ID]\n"
		"       [--result success|failure] [--since TIME] [--until TIME] "
		"[--limit N]\n"
		"  export [--format csv|jsonl] [--output FILE] [the same filters]\n",
		argc, argv);
}
