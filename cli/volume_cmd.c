/*
 * volume_cmd.c: `ics-admin volume ...` -- disk volumes on the cluster's
 * pools, through ics-managerd (/api/v1/pools/{pool}/volumes).
 *
 * The manager checks everything (names, sizes, formats, grow-only resize,
 * volumes in use); this file maps argv to requests and prints the answers.
 * Sizes are passed on as typed ("10G"), so the manager's rule is the only
 * one.  A thick creation and every resize are tasks, followed like the
 * power operations of `manager vm` (progress, --no-wait, --timeout).
 */
#include "config.h"

#include "api_cmd.h"

#include <string.h>

#include "ics/error.h"
#include "ics/json.h"

static char *volumes_path(const char *pool, const char *volume, const char *action)
{
	g_autofree char *p = g_uri_escape_string(pool, NULL, FALSE);
	g_autofree char *v = volume ? g_uri_escape_string(volume, NULL, FALSE) : NULL;

	return g_strconcat("/api/v1/pools/", p, "/volumes", v ? "/" : "", v ? v : "",
			   action ? "/" : "", action ? action : "", NULL);
}

/* "10.0G" for people; "-" when absent. */
static char *size_text(const json_t *obj, const char *key)
{
	static const char units[] = "KMGT";
	json_t *v = json_object_get(obj, key);
	double n;
	int u = -1;

	if (!json_is_integer(v))
		return g_strdup("-");
	n = (double)json_integer_value(v);
	while (n >= 1024 && u < 3) {
		n /= 1024;
		u++;
	}
	return u < 0 ? g_strdup_printf("%.0f", n) : g_strdup_printf("%.1f%c", n, units[u]);
}

static int cmd_list(int argc, char **argv)
{
	g_auto(IcsAdminCommon) c = { 0 };
	g_autoptr(GError) error = NULL;
	g_autoptr(IcsRest) rest = NULL;
	g_autoptr(json_t) all = NULL;
	g_autoptr(GPtrArray) t = NULL;
	g_autofree char *path = NULL;
	json_t *v;
	size_t i;

	if (!ics_admin_parse(&argc, &argv, &c, "POOL", "List the volumes of a pool.", NULL, 1, 1,
			     &error) ||
	    (rest = ics_admin_connect(&c, TRUE, &error)) == NULL)
		return ics_admin_finish(error);
	path = volumes_path(argv[1], NULL, NULL);
	all = ics_rest_call(rest, "GET", path, NULL, NULL, &error);
	if (all == NULL)
		return ics_admin_finish(error);
	if (c.json) {
		ics_admin_print_json(all);
		return ICS_ADMIN_EXIT_OK;
	}
	t = ics_admin_table_new("NAME", "FORMAT", "CAPACITY", "ALLOCATED", NULL);
	json_array_foreach(json_object_get(all, "items"), i, v)
	{
		g_autofree char *cap = size_text(v, "capacity_bytes");
		g_autofree char *alloc = size_text(v, "allocation_bytes");

		ics_admin_table_add(t, ics_admin_str(v, "name", "?"),
				    ics_admin_str(v, "format", "-"), cap, alloc, NULL);
	}
	ics_admin_table_print(t);
	return ICS_ADMIN_EXIT_OK;
}

static int cmd_show(int argc, char **argv)
{
	g_auto(IcsAdminCommon) c = { 0 };
	g_autoptr(GError) error = NULL;
	g_autoptr(IcsRest) rest = NULL;
	g_autoptr(json_t) v = NULL;
	g_autofree char *path = NULL, *cap = NULL, *alloc = NULL, *users = NULL;

	if (!ics_admin_parse(&argc, &argv, &c, "POOL VOLUME",
			     "Show a volume and the VMs that use it.", NULL, 2, 2, &error) ||
	    (rest = ics_admin_connect(&c, TRUE, &error)) == NULL)
		return ics_admin_finish(error);
	path = volumes_path(argv[1], argv[2], NULL);
	v = ics_rest_call(rest, "GET", path, NULL, NULL, &error);
	if (v == NULL)
		return ics_admin_finish(error);
	if (c.json) {
		ics_admin_print_json(v);
		return ICS_ADMIN_EXIT_OK;
	}
	cap = size_text(v, "capacity_bytes");
	alloc = size_text(v, "allocation_bytes");
	users = ics_admin_join(json_object_get(v, "used_by"));
	printf("name:      %s\n", ics_admin_str(v, "name", "?"));
	printf("pool:      %s\n", ics_admin_str(v, "pool", "?"));
	printf("path:      %s\n", ics_admin_str(v, "path", "-"));
	printf("format:    %s\n", ics_admin_str(v, "format", "-"));
	printf("capacity:  %s\n", cap);
	printf("allocated: %s\n", alloc);
	printf("used by:   %s\n", users);
	return ICS_ADMIN_EXIT_OK;
}

/* A 201 (the volume) or 202 (a task to follow). */
static int created_or_task(IcsRest *rest, json_t *answer, gboolean no_wait, gboolean json,
			   gint timeout)
{
	if (json_object_get(answer, "kind"))
		return ics_admin_task_follow(rest, answer, no_wait, json, (guint)timeout);
	if (json)
		ics_admin_print_json(answer);
	else
		printf("%s\n", ics_admin_str(answer, "path", "?"));
	return ICS_ADMIN_EXIT_OK;
}

static gboolean check_timeout(const char *cmd, gint timeout, GError **error)
{
	if (timeout > 0)
		return TRUE;
	return ics_error_invalid(error, "%s: --timeout must be positive", cmd);
}

static int cmd_create(int argc, char **argv)
{
	g_auto(IcsAdminCommon) c = { 0 };
	g_autoptr(GError) error = NULL;
	g_autoptr(IcsRest) rest = NULL;
	g_autoptr(json_t) body = NULL, answer = NULL;
	g_autofree char *size = NULL, *format = NULL, *path = NULL;
	gboolean thick = FALSE, no_wait = FALSE;
	gint timeout = ICS_ADMIN_DEFAULT_TASK_WAIT_S;
	GOptionEntry extra[] = {
		{ "size", 0, 0, G_OPTION_ARG_STRING, &size, "Capacity: bytes or K, M, G, T (10G)",
		  "SIZE" },
		{ "format", 0, 0, G_OPTION_ARG_STRING, &format, "qcow2 (default) or raw",
		  "FORMAT" },
		{ "thick", 0, 0, G_OPTION_ARG_NONE, &thick,
		  "Reserve every block now (thick-lazy; a task)", NULL },
		{ "no-wait", 0, 0, G_OPTION_ARG_NONE, &no_wait,
		  "With --thick: print the task id and return", NULL },
		{ "timeout", 0, 0, G_OPTION_ARG_INT, &timeout, "Seconds to wait for the task (600)",
		  "S" },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};

	if (!ics_admin_parse(&argc, &argv, &c, "POOL VOLUME",
			     "Create a volume (thin unless --thick).", extra, 2, 2, &error) ||
	    !check_timeout(argv[0], timeout, &error))
		return ics_admin_finish(error);
	if (size == NULL) {
		ics_error_invalid(&error, "volume create: --size is required (e.g. --size 10G)");
		return ics_admin_finish(error);
	}
	body = json_pack("{s:s, s:s, s:s, s:s}", "name", argv[2], "capacity", size, "format",
			 format ? format : "qcow2", "provisioning", thick ? "thick-lazy" : "thin");
	path = volumes_path(argv[1], NULL, NULL);
	if ((rest = ics_admin_connect(&c, TRUE, &error)) == NULL ||
	    (answer = ics_rest_call(rest, "POST", path, NULL, body, &error)) == NULL)
		return ics_admin_finish(error);
	return created_or_task(rest, answer, no_wait, c.json, timeout);
}

static int cmd_resize(int argc, char **argv)
{
	g_auto(IcsAdminCommon) c = { 0 };
	g_autoptr(GError) error = NULL;
	g_autoptr(IcsRest) rest = NULL;
	g_autoptr(json_t) body = NULL, task = NULL;
	g_autofree char *size = NULL, *path = NULL;
	gboolean no_wait = FALSE;
	gint timeout = ICS_ADMIN_DEFAULT_TASK_WAIT_S;
	GOptionEntry extra[] = {
		{ "size", 0, 0, G_OPTION_ARG_STRING, &size, "The new, larger capacity (20G)",
		  "SIZE" },
		{ "no-wait", 0, 0, G_OPTION_ARG_NONE, &no_wait, "Print the task id and return",
		  NULL },
		{ "timeout", 0, 0, G_OPTION_ARG_INT, &timeout, "Seconds to wait for the task (600)",
		  "S" },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};

	if (!ics_admin_parse(&argc, &argv, &c, "POOL VOLUME",
			     "Grow a volume (volumes never shrink; a task).", extra, 2, 2,
			     &error) ||
	    !check_timeout(argv[0], timeout, &error))
		return ics_admin_finish(error);
	if (size == NULL) {
		ics_error_invalid(&error, "volume resize: --size is required (e.g. --size 20G)");
		return ics_admin_finish(error);
	}
	body = json_pack("{s:s}", "capacity", size);
	path = volumes_path(argv[1], argv[2], "resize");
	if ((rest = ics_admin_connect(&c, TRUE, &error)) == NULL ||
	    (task = ics_rest_call(rest, "POST", path, NULL, body, &error)) == NULL)
		return ics_admin_finish(error);
	return ics_admin_task_follow(rest, task, no_wait, c.json, (guint)timeout);
}

static int cmd_delete(int argc, char **argv)
{
	g_auto(IcsAdminCommon) c = { 0 };
	g_autoptr(GError) error = NULL;
	g_autoptr(IcsRest) rest = NULL;
	g_autoptr(json_t) r = NULL;
	g_autofree char *path = NULL;

	if (!ics_admin_parse(&argc, &argv, &c, "POOL VOLUME",
			     "Delete a volume (refused while a VM definition uses it).", NULL, 2, 2,
			     &error) ||
	    (rest = ics_admin_connect(&c, TRUE, &error)) == NULL)
		return ics_admin_finish(error);
	path = volumes_path(argv[1], argv[2], NULL);
	r = ics_rest_call(rest, "DELETE", path, NULL, NULL, &error);
	return ics_admin_finish(error);
}

int ics_admin_volume_main(int argc, char **argv)
{
	static const IcsAdminCommand cmds[] = {
		{ "list", cmd_list },	  { "show", cmd_show },	    { "create", cmd_create },
		{ "resize", cmd_resize }, { "delete", cmd_delete }, { NULL, NULL },
	};

	return ics_admin_dispatch(
		"volume", cmds,
		"  list POOL\n"
		"  show POOL VOLUME\n"
		"  create POOL VOLUME --size SIZE [--format qcow2|raw] [--thick]\n"
		"         [--no-wait] [--timeout S]\n"
		"  resize POOL VOLUME --size SIZE [--no-wait] [--timeout S]\n"
		"  delete POOL VOLUME\n",
		argc, argv);
}
