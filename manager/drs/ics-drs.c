/*
 * ics-drs: the DRS/DPM engine on a cluster state file, so that anyone can
 * run it, and compare it, on their own data (format in ics-drs(1)).
 *
 *   ics-drs plan  [--level N] [--moves-per-host N] [--ha-reserve PCT] [--json] FILE|-
 *   ics-drs score [--ha-reserve PCT] [--json] FILE|-
 *   ics-drs dpm   [--low PCT] [--high PCT] [--min-hosts N] [--ha-reserve PCT] [--json] FILE|-
 *
 * A thin main over libicsdrs.  Exit codes: 0 ok (an infeasible state is a
 * valid answer: an empty plan with its reason), 1 bad input or error,
 * 2 usage.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "ics/drs.h"
#include "ics/error.h"
#include "ics/json.h"

enum { EXIT_OK = 0, EXIT_ERROR = 1, EXIT_USAGE = 2 };

static gboolean opt_json;
static int opt_level = 3, opt_moves_per_host = 1, opt_ha_reserve, opt_max_moves;
static double opt_min_gain;
static int opt_low = 30, opt_high = 80, opt_min_hosts = 2;

static GOptionEntry entries[] = {
	{ "json", 'j', 0, G_OPTION_ARG_NONE, &opt_json, "Print JSON", NULL },
	{ "level", 'l', 0, G_OPTION_ARG_INT, &opt_level,
	  "Migration threshold level 1 (repairs only) .. 5 (aggressive); default 3", "N" },
	{ "moves-per-host", 'm', 0, G_OPTION_ARG_INT, &opt_moves_per_host,
	  "Concurrent migrations in or out of a host; default 1", "N" },
	{ "ha-reserve", 'r', 0, G_OPTION_ARG_INT, &opt_ha_reserve,
	  "Percent of each host's memory kept free for HA admission control; default 0", "PCT" },
	{ "min-gain", 'g', 0, G_OPTION_ARG_DOUBLE, &opt_min_gain,
	  "Least gain in score a migration must bring (overrides --level)", "X" },
	{ "max-moves", 0, 0, G_OPTION_ARG_INT, &opt_max_moves,
	  "Stop after N moves; default no limit", "N" },
	{ "low", 0, 0, G_OPTION_ARG_INT, &opt_low, "DPM: power off below this demand; default 30",
	  "PCT" },
	{ "high", 0, 0, G_OPTION_ARG_INT, &opt_high, "DPM: power on above this demand; default 80",
	  "PCT" },
	{ "min-hosts", 0, 0, G_OPTION_ARG_INT, &opt_min_hosts,
	  "DPM: never fewer hosts on; default 2", "N" },
	{ NULL },
};

static int fail(GError *err)
{
	fprintf(stderr, "ics-drs: %s\n", err->message);
	return EXIT_ERROR;
}

static int usage(const char *msg)
{
	fprintf(stderr, "ics-drs: %s (see ics-drs --help or ics-drs(1))\n", msg);
	return EXIT_USAGE;
}

static json_t *score_json(const IcsDrsScore *s)
{
	return json_pack("{s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:i}", "hbal", s->hbal, "objective",
			 s->objective, "free_mem_sd", s->free_mem_sd, "vcpu_sd", s->vcpu_sd,
			 "cpu_load_sd", s->cpu_load_sd, "mem_load_sd", s->mem_load_sd, "penalty",
			 s->penalty, "violations", (int)s->violations);
}

static json_t *moves_json(const IcsDrsCluster *c, const GArray *moves)
{
	json_t *a = json_array();

	for (guint i = 0; i < moves->len; i++) {
		const IcsDrsMove *m = &g_array_index(moves, IcsDrsMove, i);
		json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:f, s:i}", "vm",
						   ics_drs_vm_name(c, m->vm), "from",
						   ics_drs_host_name(c, m->from), "to",
						   ics_drs_host_name(c, m->to), "gain", m->gain,
						   "wave", (int)m->wave));
	}
	return a;
}

static void print_json(json_t *j)
{
	g_autofree char *s =
		json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));

	printf("%s\n", s);
}

static void print_score_line(const char *when, const IcsDrsScore *s)
{
	printf("# score %s hbal %.8f objective %.8f violations %u\n", when, s->hbal, s->objective,
	       s->violations);
}

static int cmd_plan(const IcsDrsCluster *c)
{
	IcsDrsPolicy pol = { .level = (guint)opt_level,
			     .moves_per_host = (guint)opt_moves_per_host,
			     .ha_reserve_pct = (guint)opt_ha_reserve,
			     .max_moves = (guint)opt_max_moves,
			     .min_gain = opt_min_gain };
	g_autoptr(IcsDrsPlan) plan = ics_drs_plan(c, &pol);

	if (plan->explanation)
		fprintf(stderr, "ics-drs: %s\n", plan->explanation);
	if (opt_json) {
		g_autoptr(json_t) j =
			json_pack("{s:o, s:i, s:i, s:{s:o, s:o}, s:s?}", "moves",
				  moves_json(c, plan->moves), "waves", (int)plan->n_waves, "level",
				  opt_level, "score", "initial", score_json(&plan->before), "final",
				  score_json(&plan->after), "explanation", plan->explanation);
		print_json(j);
		return EXIT_OK;
	}
	for (guint i = 0; i < plan->moves->len; i++) {
		const IcsDrsMove *m = &g_array_index(plan->moves, IcsDrsMove, i);
		if (i == 0 || m->wave != g_array_index(plan->moves, IcsDrsMove, i - 1).wave)
			printf("# wave %u\n", m->wave + 1);
		printf("%s\t%s\t%s\n", ics_drs_vm_name(c, m->vm), ics_drs_host_name(c, m->from),
		       ics_drs_host_name(c, m->to));
	}
	print_score_line("initial", &plan->before);
	print_score_line("final", &plan->after);
	printf("# moves %u waves %u level %d\n", plan->moves->len, plan->n_waves, opt_level);
	if (plan->explanation)
		printf("# explanation %s\n", plan->explanation);
	return EXIT_OK;
}

static int cmd_score(const IcsDrsCluster *c)
{
	IcsDrsScore s;

	ics_drs_score(c, (guint)opt_ha_reserve, &s);
	if (opt_json) {
		g_autoptr(json_t) j = score_json(&s);
		print_json(j);
		return EXIT_OK;
	}
	printf("# score hbal %.8f objective %.8f violations %u\n", s.hbal, s.objective,
	       s.violations);
	printf("free_mem_sd\t%.8f\nvcpu_sd\t%.8f\ncpu_load_sd\t%.8f\nmem_load_sd\t%.8f\n"
	       "penalty\t%.8f\n",
	       s.free_mem_sd, s.vcpu_sd, s.cpu_load_sd, s.mem_load_sd, s.penalty);
	return EXIT_OK;
}

static int cmd_dpm(const IcsDrsCluster *c)
{
	IcsDrsDpmPolicy pol = { .low_pct = (guint)opt_low,
				.high_pct = (guint)opt_high,
				.min_hosts = (guint)opt_min_hosts,
				.ha_reserve_pct = (guint)opt_ha_reserve };
	g_autoptr(IcsDrsDpmPlan) plan = ics_drs_dpm(c, &pol);
	g_autoptr(json_t) actions = json_array();

	for (guint i = 0; i < plan->actions->len; i++) {
		const IcsDrsPowerAction *a = g_ptr_array_index(plan->actions, i);
		if (opt_json) {
			json_array_append_new(
				actions,
				json_pack("{s:s, s:s, s:o}", "host", ics_drs_host_name(c, a->host),
					  "action", a->power_on ? "power-on" : "power-off",
					  "evacuation", moves_json(c, a->evacuation)));
			continue;
		}
		printf("# %s %s\n", a->power_on ? "power-on" : "power-off",
		       ics_drs_host_name(c, a->host));
		for (guint j = 0; j < a->evacuation->len; j++) {
			const IcsDrsMove *m = &g_array_index(a->evacuation, IcsDrsMove, j);
			printf("%s\t%s\t%s\n", ics_drs_vm_name(c, m->vm),
			       ics_drs_host_name(c, m->from), ics_drs_host_name(c, m->to));
		}
	}
	if (opt_json) {
		g_autoptr(json_t) j =
			json_pack("{s:O, s:f, s:f, s:s?}", "actions", actions, "demand_before",
				  plan->demand_before, "demand_after", plan->demand_after,
				  "explanation", plan->explanation);
		print_json(j);
		return EXIT_OK;
	}
	printf("# demand before %.1f%% after %.1f%%\n", plan->demand_before, plan->demand_after);
	if (plan->explanation)
		printf("# explanation %s\n", plan->explanation);
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	g_autoptr(GOptionContext) ctx = g_option_context_new("plan|score|dpm FILE|-");
	g_autoptr(GError) err = NULL;

	g_option_context_add_main_entries(ctx, entries, NULL);
	g_option_context_set_summary(ctx, "Plan live migrations (DRS) and power actions (DPM) "
					  "for a cluster state file; see ics-drs(1).");
	if (!g_option_context_parse(ctx, &argc, &argv, &err))
		return usage(err->message);
	if (argc != 3)
		return usage("expected a command (plan, score, dpm) and a FILE or -");
	if (opt_level < 1 || opt_level > 5)
		return usage("--level must be 1..5");
	if (opt_moves_per_host < 1 || opt_ha_reserve < 0 || opt_ha_reserve > 90 ||
	    opt_max_moves < 0)
		return usage("--moves-per-host must be >= 1, --ha-reserve 0..90, --max-moves >= 0");
	if (opt_low < 1 || opt_high > 100 || opt_low >= opt_high || opt_min_hosts < 1)
		return usage(
			"--low and --high must satisfy 1 <= low < high <= 100, --min-hosts >= 1");

	const char *cmd = argv[1];
	if (!g_str_equal(cmd, "plan") && !g_str_equal(cmd, "score") && !g_str_equal(cmd, "dpm"))
		return usage("unknown command");
	g_autoptr(IcsDrsCluster) c = ics_drs_cluster_load(argv[2], &err);
	if (!c)
		return fail(err);
	if (g_str_equal(cmd, "plan"))
		return cmd_plan(c);
	if (g_str_equal(cmd, "score"))
		return cmd_score(c);
	return cmd_dpm(c);
}
