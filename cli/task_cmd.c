/*
 * task_cmd.c: `ics-admin task list|show|cancel|wait` and `ics-admin events`.
 *
 * Long operations are tasks in the manager; `task wait` polls one until it
 * ends (with progress on a terminal) and exits non-zero when it failed or
 * was cancelled, so a script can chain on it.  `events` follows the
 * manager's Server-Sent Events stream and prints one line per event as it
 * arrives (stdout is flushed per line so a pipe sees it at once).
 */
#include "config.h"

#include "api_cmd.h"

#include <string.h>

#include "ics/error.h"
#include "ics/json.h"

static void print_task(const json_t *t)
{
	json_t *result = json_object_get(t, "result");

	printf("id:         %" JSON_INTEGER_FORMAT "\n",
	       json_integer_value(json_object_get(t, "id")));
	printf("kind:       %s\n", ics_admin_str(t, "kind", "?"));
	printf("object:     %s %s\n", ics_admin_str(t, "object_type", "-"),
	       ics_admin_str(t, "object_id", "-"));
	printf("state:      %s%s\n", ics_admin_str(t, "state", "?"),
	       json_is_true(json_object_get(t, "cancel_requested")) ? " (cancel requested)" : "");
	printf("progress:   %" JSON_INTEGER_FORMAT "%%\n",
	       json_integer_value(json_object_get(t, "progress")));
	printf("message:    %s\n", ics_admin_str(t, "message", ""));
	printf("error:      %s\n", ics_admin_str(t, "error", "-"));
	if (result && !json_is_null(result)) {
		g_autofree char *r = json_dumps(result, JSON_COMPACT | JSON_ENCODE_ANY);

		printf("result:     %s\n", r);
	}
	printf("created:    %s\n", ics_admin_str(t, "created_at", "?"));
	printf("started:    %s\n", ics_admin_str(t, "started_at", "-"));
	printf("ended:      %s\n", ics_admin_str(t, "ended_at", "-"));
}

static gboolean task_id(const char *text, gint64 *id, GError **error)
{
	guint64 v;

	if (!g_ascii_string_to_unsigned(text, 10, 1, G_MAXINT64, &v, NULL))
		return ics_error_invalid(error, "task id \"%s\" must be a positive integer", text);
	*id = (gint64)v;
	return TRUE;
}

static int task_list(int argc, char **argv)
{
	g_auto(IcsAdminCommon) c = { 0 };
	g_autoptr(GError) error = NULL;
	g_autoptr(IcsRest) rest = NULL;
	g_autoptr(json_t) all = NULL;
	g_autoptr(GPtrArray) t = NULL;
	gint limit = 100;
	json_t *k;
	size_t i;
	GOptionEntry extra[] = {
		{ "limit", 0, 0, G_OPTION_ARG_INT, &limit, "At most N tasks (default 100)", "N" },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};

	if (!ics_admin_parse(&argc, &argv, &c, "", "List tasks, newest first.", extra, 0, 0,
			     &error))
		return ics_admin_finish(error);
	if (limit <= 0) {
		ics_error_invalid(&error, "task list: --limit must be positive");
		return ics_admin_finish(error);
	}
	if ((rest = ics_admin_connect(&c, TRUE, &error)) == NULL ||
	    (all = ics_admin_list_pages(rest, "/api/v1/tasks", NULL, "before", limit, &error)) ==
		    NULL)
		return ics_admin_finish(error);
	if (c.json) {
		ics_admin_print_json(all);
		return ICS_ADMIN_EXIT_OK;
	}
	t = ics_admin_table_new("ID", "KIND", "OBJECT", "STATE", "PROGRESS", "CREATED", "MESSAGE",
				NULL);
	json_array_foreach(json_object_get(all, "items"), i, k)
	{
		g_autofree char *id = g_strdup_printf("%" JSON_INTEGER_FORMAT,
						      json_integer_value(json_object_get(k, "id")));
		g_autofree char *pct =
			g_strdup_printf("%" JSON_INTEGER_FORMAT "%%",
					json_integer_value(json_object_get(k, "progress")));

		ics_admin_table_add(
			t, id, ics_admin_str(k, "kind", "?"), ics_admin_str(k, "object_id", "-"),
			ics_admin_str(k, "state", "?"), pct, ics_admin_str(k, "created_at", "?"),
			json_is_string(json_object_get(k, "error"))
				? ics_admin_str(k, "error", "")
				: ics_admin_str(k, "message", ""),
			NULL);
	}
	ics_admin_table_print(t);
	return ICS_ADMIN_EXIT_OK;
}

static int task_one(int argc, char **argv, gboolean cancel)
{
	g_auto(IcsAdminCommon) c = { 0 };
	g_autoptr(GError) error = NULL;
	g_autoptr(IcsRest) rest = NULL;
	g_autoptr(json_t) t = NULL;
	g_autofree char *path = NULL;
	gint64 id = 0;

	if (!ics_admin_parse(&argc, &argv, &c, "ID",
			     cancel ? "Cancel a queued or running task." : "Show a task.", NULL, 1,
			     1, &error) ||
	    !task_id(argv[1], &id, &error) || (rest = ics_admin_connect(&c, TRUE, &error)) == NULL)
		return ics_admin_finish(error);
	path = g_strdup_printf("/api/v1/tasks/%" G_GINT64_FORMAT "%s", id, cancel ? "/cancel" : "");
	t = ics_rest_call(rest, cancel ? "POST" : "GET", path, NULL, NULL, &error);
	if (t == NULL)
		return ics_admin_finish(error);
	if (c.json)
		ics_admin_print_json(t);
	else
		print_task(t);
	return ICS_ADMIN_EXIT_OK;
}

static int task_show(int argc, char **argv)
{
	return task_one(argc, argv, FALSE);
}

static int task_cancel(int argc, char **argv)
{
	return task_one(argc, argv, TRUE);
}

static int task_wait(int argc, char **argv)
{
	g_auto(IcsAdminCommon) c = { 0 };
	g_autoptr(GError) error = NULL;
	g_autoptr(IcsRest) rest = NULL;
	g_autoptr(json_t) t = NULL, last = NULL;
	gint timeout = ICS_ADMIN_DEFAULT_TASK_WAIT_S;
	gint64 id = 0;
	GOptionEntry extra[] = {
		{ "timeout", 0, 0, G_OPTION_ARG_INT, &timeout, "Seconds to wait (default 600)",
		  "S" },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};

	if (!ics_admin_parse(&argc, &argv, &c, "ID", "Wait until a task ends; fail if it failed.",
			     extra, 1, 1, &error) ||
	    !task_id(argv[1], &id, &error))
		return ics_admin_finish(error);
	if (timeout <= 0) {
		ics_error_invalid(&error, "task wait: --timeout must be positive");
		return ics_admin_finish(error);
	}
	if ((rest = ics_admin_connect(&c, TRUE, &error)) == NULL)
		return ics_admin_finish(error);
	t = ics_admin_task_wait(rest, id, (guint)timeout, &last, &error);
	if (c.json && last)
		ics_admin_print_json(last);
	else if (t)
		printf("task %" G_GINT64_FORMAT " succeeded\n", id);
	return ics_admin_finish(error);
}

int ics_admin_task_main(int argc, char **argv)
{
	static const IcsAdminCommand cmds[] = {
		{ "list", task_list }, { "show", task_show }, { "cancel", task_cancel },
		{ "wait", task_wait }, { NULL, NULL },
	};

	return ics_admin_dispatch("task", cmds,
				  "  list [--limit N]\n"
				  "  show ID\n"
				  "  cancel ID\n"
				  "  wait ID [--timeout S]\n",
				  argc, argv);
}

/* ---- events -------------------------------------------------------------- */

typedef struct {
	gboolean json;
	gint64 count;  /* events still to print; <= 0: no limit */
	char *last_id; /* of the last event printed */
} EventsOut;

static gboolean on_event(const char *id, const char *type, const char *data, gpointer user)
{
	EventsOut *o = user;
	g_autoptr(json_t) d = json_loads(data, JSON_DECODE_ANY, NULL);

	if (o->json) {
		guint64 n;
		g_autoptr(json_t) e = json_pack("{s:s, s:O?}", "type", type, "data", d);

		/* Event ids are integers; keep them so in JSON. */
		if (id && g_ascii_string_to_unsigned(id, 10, 0, G_MAXINT64, &n, NULL))
			json_object_set_new(e, "id", json_integer((json_int_t)n));
		else
			json_object_set_new(e, "id", id ? json_string(id) : json_null());
		g_autofree char *s = json_dumps(e, JSON_COMPACT);

		printf("%s\n", s);
	} else {
		GString *line = g_string_new(NULL);
		const char *k;
		json_t *v;

		g_string_append_printf(line, "%s %s", id ? id : "-", type);
		json_object_foreach(d, k, v)
		{
			g_autofree char *text =
				json_is_string(v) ? g_strdup(json_string_value(v))
						  : json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

			g_string_append_printf(line, " %s=%s", k, text);
		}
		printf("%s\n", line->str);
		g_string_free(line, TRUE);
	}
	fflush(stdout);
	if (id) {
		g_free(o->last_id);
		o->last_id = g_strdup(id);
	}
	return !(o->count > 0 && --o->count == 0);
}

int ics_admin_events_main(int argc, char **argv)
{
	g_auto(IcsAdminCommon) c = { 0 };
	g_autoptr(GError) error = NULL;
	g_autoptr(IcsRest) rest = NULL;
	g_autofree char *last = NULL, *vm = NULL, *path = NULL;
	gint count = 0;
	EventsOut o = { 0 };
	GOptionEntry extra[] = {
		{ "last-event-id", 0, 0, G_OPTION_ARG_STRING, &last,
		  "Start after this event (default: only new events)", "ID" },
		{ "vm", 0, 0, G_OPTION_ARG_STRING, &vm, "Only the events of this VM", "UUID" },
		{ "count", 0, 0, G_OPTION_ARG_INT, &count, "Stop after N events", "N" },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};

	if (!ics_admin_parse(
		    &argc, &argv, &c, "",
		    "Follow the manager's events; one line per event (ID TYPE KEY=VALUE...).",
		    extra, 0, 0, &error) ||
	    (rest = ics_admin_connect(&c, TRUE, &error)) == NULL)
		return ics_admin_finish(error);
	if (vm && !g_uuid_string_is_valid(vm)) {
		ics_error_invalid(&error, "--vm: \"%s\" is not a VM uuid", vm);
		return ics_admin_finish(error);
	}
	path = vm ? g_strdup_printf("/api/v1/vms/%s/events", vm) : g_strdup("/api/v1/events");
	o.json = c.json;
	o.count = count;
	if (ics_rest_stream(rest, path, NULL, last, on_event, &o, &error) &&
	    !(count > 0 && o.count == 0))
		g_set_error(&error, ICS_ERROR, ICS_ERROR_IO,
			    "the manager at %s closed the event stream", ics_rest_url(rest));
	if (error && o.last_id) {
		char *m = g_strdup_printf("%s; resume with --last-event-id %s", error->message,
					  o.last_id);

		g_free(error->message);
		error->message = m;
	}
	g_free(o.last_id);
	return ics_admin_finish(error);
}
