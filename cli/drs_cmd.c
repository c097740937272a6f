/*
 * drs_cmd.c: `ics-admin drs plan|apply|history|config` -- DRS through
 * ics-managerd.
 *
 * The manager measures, plans and migrates; this file maps argv to the
 * /api/v1/drs requests and prints their answers for people (the moves as
 * a table, the hosts' load before and after, DPM's proposals) or, with
 * --json, unchanged for scripts.  Applying is a task: waited for with
 * progress unless --no-wait.
 */
#include "config.h"

#include "api_cmd.h"

#include <string.h>

#include "ics/error.h"
#include "ics/json.h"

static char *int_text(const json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	return json_is_integer(v) ? g_strdup_printf("%" JSON_INTEGER_FORMAT, json_integer_value(v))
				  : g_strdup("-");
}

static double num(const json_t *obj, const char *key)
{
	return json_number_value(json_object_get(obj, key));
}

static void print_hosts(const char *title, const json_t *hosts)
{
	g_autoptr(GPtrArray) t =
		ics_admin_table_new("HOST", "STATE", "VMS", "CPU%", "CPU USED", "MEMORY", NULL);
	json_t *h;
	size_t i;

	printf("%s:\n", title);
	json_array_foreach(hosts, i, h)
	{
		g_autofree char *vms = int_text(h, "vm_count");
		g_autofree char *cpu = g_strdup_printf("%.0f", num(h, "cpu_load_pct"));
		g_autofree char *used = g_strdup_printf(
			"%.1f/%" JSON_INTEGER_FORMAT, num(h, "cpu_used_milli") / 1000.0,
			json_integer_value(json_object_get(h, "cores")));
		g_autofree char *mem = g_strdup_printf(
			"%" JSON_INTEGER_FORMAT "/%" JSON_INTEGER_FORMAT "M",
			json_integer_value(json_object_get(h, "memory_allocated_mib")),
			json_integer_value(json_object_get(h, "memory_mib")));

		ics_admin_table_add(t, ics_admin_str(h, "name", "?"),
				    ics_admin_str(h, "state", "?"), vms, cpu, used, mem, NULL);
	}
	ics_admin_table_print(t);
}

static void print_moves(const json_t *moves)
{
	g_autoptr(GPtrArray) t =
		ics_admin_table_new("WAVE", "VM", "FROM", "TO", "GAIN", "STATE", NULL);
	json_t *m;
	size_t i;

	json_array_foreach(moves, i, m)
	{
		g_autofree char *wave = int_text(m, "wave");
		g_autofree char *gain = g_strdup_printf("%.6f", num(m, "gain"));
		const char *name = ics_admin_str(m, "name", NULL);
		const char *state = ics_admin_str(m, "state", "?");
		g_autofree char *st =
			json_is_string(json_object_get(m, "error"))
				? g_strdup_printf("%s: %s", state, ics_admin_str(m, "error", ""))
				: g_strdup(state);

		ics_admin_table_add(t, wave, name ? name : ics_admin_str(m, "vm", "?"),
				    ics_admin_str(m, "from", "?"), ics_admin_str(m, "to", "?"),
				    gain, st, NULL);
	}
	ics_admin_table_print(t);
}

static void print_run(const json_t *run, gboolean detail)
{
	json_t *score = json_object_get(run, "score");
	json_t *power = json_object_get(run, "power");
	json_t *moves = json_object_get(run, "moves"), *a;
	size_t i;

	printf("run %" JSON_INTEGER_FORMAT ": %s, %s, level %" JSON_INTEGER_FORMAT ", %s",
	       json_integer_value(json_object_get(run, "id")), ics_admin_str(run, "trigger", "?"),
	       ics_admin_str(run, "state", "?"), json_integer_value(json_object_get(run, "level")),
	       ics_admin_str(run, "created_at", "?"));
	if (json_is_integer(json_object_get(run, "task_id")))
		printf(", task %" JSON_INTEGER_FORMAT,
		       json_integer_value(json_object_get(run, "task_id")));
	printf("\n");
	if (json_is_string(json_object_get(run, "error")))
		printf("error: %s\n", ics_admin_str(run, "error", ""));
	if (score)
		printf("score: hbal %.8f -> %.8f, violations %" JSON_INTEGER_FORMAT
		       " -> %" JSON_INTEGER_FORMAT "\n",
		       num(json_object_get(score, "before"), "hbal"),
		       num(json_object_get(score, "after"), "hbal"),
		       json_integer_value(
			       json_object_get(json_object_get(score, "before"), "violations")),
		       json_integer_value(
			       json_object_get(json_object_get(score, "after"), "violations")));
	if (json_is_string(json_object_get(run, "explanation")))
		printf("explanation: %s\n", ics_admin_str(run, "explanation", ""));
	if (json_array_size(moves) == 0)
		printf("moves: none\n");
	else {
		printf("moves: %zu in %" JSON_INTEGER_FORMAT " wave(s)\n", json_array_size(moves),
		       json_integer_value(json_object_get(run, "waves")));
		print_moves(moves);
	}
	if (!detail)
		return;
	if (json_object_get(run, "hosts"))
		print_hosts("hosts now", json_object_get(run, "hosts"));
	if (json_array_size(moves) && json_object_get(run, "hosts_after"))
		print_hosts("hosts after the plan", json_object_get(run, "hosts_after"));
	if (power) {
		printf("power (DPM, proposals only): demand %.1f%% -> %.1f%%\n",
		       num(power, "demand_before_pct"), num(power, "demand_after_pct"));
		json_array_foreach(json_object_get(power, "actions"), i, a)
			printf("  %s %s (%zu VM(s) to move first)\n",
			       ics_admin_str(a, "action", "?"), ics_admin_str(a, "host", "?"),
			       json_array_size(json_object_get(a, "evacuation")));
		if (json_is_string(json_object_get(power, "explanation")))
			printf("  %s\n", ics_admin_str(power, "explanation", ""));
	}
}

static int cmd_plan(int argc, char **argv)
{
	g_auto(IcsAdminCommon) c = { 0 };
	g_autoptr(GError) error = NULL;
	g_autoptr(IcsRest) rest = NULL;
	g_autoptr(json_t) r = NULL;
	gboolean now = FALSE;
	json_t *plan;
	GOptionEntry extra[] = {
		{ "now", 0, 0, G_OPTION_ARG_NONE, &now,
		  "Measure and plan now (else: show the current plan)", NULL },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};

	if (!ics_admin_parse(&argc, &argv, &c, "", "Show DRS's current plan, or make one (--now).",
			     extra, 0, 0, &error) ||
	    (rest = ics_admin_connect(&c, TRUE, &error)) == NULL ||
	    (r = ics_rest_call(rest, now ? "POST" : "GET", "/api/v1/drs/plan", NULL, NULL,
			       &error)) == NULL)
		return ics_admin_finish(error);
	if (c.json) {
		ics_admin_print_json(r);
		return ICS_ADMIN_EXIT_OK;
	}
	plan = json_object_get(r, "plan");
	if (!json_is_object(plan))
		printf("no plan yet; 'ics-admin drs plan --now' makes one\n");
	else
		print_run(plan, TRUE);
	return ICS_ADMIN_EXIT_OK;
}

static int cmd_apply(int argc, char **argv)
{
	g_auto(IcsAdminCommon) c = { 0 };
	g_autoptr(GError) error = NULL;
	g_autoptr(IcsRest) rest = NULL;
	g_autoptr(json_t) task = NULL, body = json_object();
	gboolean no_wait = FALSE;
	gint timeout = ICS_ADMIN_DEFAULT_TASK_WAIT_S;
	guint64 run = 0;
	GOptionEntry extra[] = {
		{ "no-wait", 0, 0, G_OPTION_ARG_NONE, &no_wait, "Print the task id and return",
		  NULL },
		{ "timeout", 0, 0, G_OPTION_ARG_INT, &timeout, "Seconds to wait for the task (600)",
		  "S" },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};

	if (!ics_admin_parse(&argc, &argv, &c, "[RUN]",
			     "Apply plan RUN, or the current plan (planning one when there is "
			     "none), as a task.",
			     extra, 0, 1, &error))
		return ics_admin_finish(error);
	if (argc > 1 && !g_ascii_string_to_unsigned(argv[1], 10, 1, G_MAXINT64, &run, NULL)) {
		ics_error_invalid(&error,
				  "%s: RUN must be a run id (a positive integer), not \"%s\"",
				  argv[0], argv[1]);
		return ics_admin_finish(error);
	}
	if (timeout <= 0) {
		ics_error_invalid(&error, "%s: --timeout must be positive", argv[0]);
		return ics_admin_finish(error);
	}
	if (run)
		json_object_set_new(body, "run_id", json_integer((json_int_t)run));
	if ((rest = ics_admin_connect(&c, TRUE, &error)) == NULL ||
	    (task = ics_rest_call(rest, "POST", "/api/v1/drs/apply", NULL, body, &error)) == NULL)
		return ics_admin_finish(error);
	return ics_admin_task_follow(rest, task, no_wait, c.json, (guint)timeout);
}

static int cmd_history(int argc, char **argv)
{
	g_auto(IcsAdminCommon) c = { 0 };
	g_autoptr(GError) error = NULL;
	g_autoptr(IcsRest) rest = NULL;
	g_autoptr(json_t) r = NULL;
	g_autoptr(GPtrArray) q = ics_rest_query_new();
	g_autofree char *limit_text = NULL;
	gint limit = 20;
	gboolean moves = FALSE;
	json_t *run;
	size_t i;
	GOptionEntry extra[] = {
		{ "limit", 0, 0, G_OPTION_ARG_INT, &limit, "At most N runs (20)", "N" },
		{ "moves", 0, 0, G_OPTION_ARG_NONE, &moves, "Show each run's migrations", NULL },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};

	if (!ics_admin_parse(&argc, &argv, &c, "", "DRS runs and their migrations, newest first.",
			     extra, 0, 0, &error))
		return ics_admin_finish(error);
	if (limit < 1 || limit > 1000) {
		ics_error_invalid(&error, "%s: --limit must be 1 to 1000", argv[0]);
		return ics_admin_finish(error);
	}
	limit_text = g_strdup_printf("%d", limit);
	ics_rest_query_add(q, "limit", limit_text);
	if ((rest = ics_admin_connect(&c, TRUE, &error)) == NULL ||
	    (r = ics_rest_call(rest, "GET", "/api/v1/drs/history", q, NULL, &error)) == NULL)
		return ics_admin_finish(error);
	if (c.json) {
		ics_admin_print_json(r);
		return ICS_ADMIN_EXIT_OK;
	}
	if (moves) {
		json_array_foreach(json_object_get(r, "items"), i, run)
		{
			if (i)
				printf("\n");
			print_run(run, FALSE);
		}
		return ICS_ADMIN_EXIT_OK;
	}
	{
		g_autoptr(GPtrArray) t = ics_admin_table_new("RUN", "CREATED", "TRIGGER", "STATE",
							     "MOVES", "DONE", "HBAL", NULL);

		json_array_foreach(json_object_get(r, "items"), i, run)
		{
			g_autofree char *id = int_text(run, "id");
			json_t *score = json_object_get(run, "score"), *m;
			g_autofree char *n = g_strdup_printf(
				"%zu", json_array_size(json_object_get(run, "moves")));
			g_autofree char *hbal =
				score ? g_strdup_printf(
						"%.4f->%.4f",
						num(json_object_get(score, "before"), "hbal"),
						num(json_object_get(score, "after"), "hbal"))
				      : g_strdup("-");
			g_autofree char *done = NULL;
			size_t k, d = 0;

			json_array_foreach(json_object_get(run, "moves"), k, m) d +=
				g_strcmp0(ics_admin_str(m, "state", ""), "done") == 0;
			done = g_strdup_printf("%zu", d);
			ics_admin_table_add(t, id, ics_admin_str(run, "created_at", "?"),
					    ics_admin_str(run, "trigger", "?"),
					    ics_admin_str(run, "state", "?"), n, done, hbal, NULL);
		}
		ics_admin_table_print(t);
	}
	return ICS_ADMIN_EXIT_OK;
}

static int cmd_config(int argc, char **argv)
{
	g_auto(IcsAdminCommon) c = { 0 };
	g_autoptr(GError) error = NULL;
	g_autoptr(IcsRest) rest = NULL;
	g_autoptr(json_t) r = NULL, body = json_object();
	g_autofree char *mode = NULL;
	gint level = -1, period = -1, reserve = -1;
	GOptionEntry extra[] = {
		{ "mode", 0, 0, G_OPTION_ARG_STRING, &mode, "off, manual or automatic", "MODE" },
		{ "level", 0, 0, G_OPTION_ARG_INT, &level,
		  "Threshold level 1 (repairs only) to 5 (any gain)", "N" },
		{ "period", 0, 0, G_OPTION_ARG_INT, &period, "Seconds between runs (10-86400)",
		  "S" },
		{ "ha-reserve", 0, 0, G_OPTION_ARG_INT, &reserve,
		  "Percent of every host's memory kept free for HA (0-90)", "PCT" },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};

	if (!ics_admin_parse(&argc, &argv, &c, "",
			     "Show DRS's configuration, or change it with the options.", extra, 0,
			     0, &error))
		return ics_admin_finish(error);
	if (mode)
		json_object_set_new(body, "mode", json_string(mode));
	if (level >= 0)
		json_object_set_new(body, "level", json_integer(level));
	if (period >= 0)
		json_object_set_new(body, "period_s", json_integer(period));
	if (reserve >= 0)
		json_object_set_new(body, "ha_reserve_pct", json_integer(reserve));
	if ((rest = ics_admin_connect(&c, TRUE, &error)) == NULL ||
	    (r = ics_rest_call(rest, json_object_size(body) ? "PUT" : "GET", "/api/v1/drs/config",
			       NULL, json_object_size(body) ? body : NULL, &error)) == NULL)
		return ics_admin_finish(error);
	if (c.json) {
		ics_admin_print_json(r);
		return ICS_ADMIN_EXIT_OK;
	}
	{
		g_autofree char *lv = int_text(r, "level"), *pd = int_text(r, "period_s");
		g_autofree char *hr = int_text(r, "ha_reserve_pct"),
				*cd = int_text(r, "cooldown_s");

		printf("mode:        %s\n", ics_admin_str(r, "mode", "?"));
		printf("level:       %s\n", lv);
		printf("period:      %s s\n", pd);
		printf("HA reserve:  %s%%\n", hr);
		printf("cooldown:    %s s\n", cd);
		printf("updated:     %s\n", ics_admin_str(r, "updated_at", "never"));
	}
	return ICS_ADMIN_EXIT_OK;
}

int ics_admin_drs_main(int argc, char **argv)
{
	static const IcsAdminCommand cmds[] = {
		{ "plan", cmd_plan },	  { "apply", cmd_apply }, { "history", cmd_history },
		{ "config", cmd_config }, { NULL, NULL },
	};

	return ics_admin_dispatch("drs", cmds,
				  "  plan [--now]                 the current plan, or a new one\n"
				  "  apply [RUN] [--no-wait] [--timeout S]\n"
				  "  history [--limit N] [--moves]\n"
				  "  config [--mode off|manual|automatic] [--level N] [--period S] "
				  "[--ha-reserve PCT]\n",
				  argc, argv);
}
