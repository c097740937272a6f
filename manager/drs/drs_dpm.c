/*
 * drs_dpm.c: distributed power management proposals.
 *
 * Demand is the larger of CPU use over cores and allocated memory over
 * memory, across the hosts that take VMs.  Below the low mark, DPM proposes
 * to power hosts off, emptiest first, each with its evacuation (largest VM
 * first, to the allowed host that keeps its affinity groups together and
 * has the most usable memory, under the same hard constraints as the
 * planner); above the high mark, it proposes to power hosts on, largest
 * first.
 *
 * A host is only powered off if afterwards
 *  - its VMs all found a place,
 *  - the remaining hosts still hold every VM with the largest of them
 *    failed (the HA reserve: one host's worth of memory stays free), and
 *  - demand stays at or below the middle of the low and high marks,
 * and hosts are only powered on until demand is back at that middle.  The
 * gap between the marks and the middle target is the hysteresis: a power
 * action never brings the cluster to where the opposite action starts.
 */
#include "config.h"

#include <string.h>

#include "drs_internal.h"

void ics_drs_dpm_plan_free(IcsDrsDpmPlan *p)
{
	if (!p)
		return;
	g_ptr_array_free(p->actions, TRUE);
	g_free(p->explanation);
	g_free(p);
}

static void action_free(gpointer p)
{
	IcsDrsPowerAction *a = p;

	g_array_free(a->evacuation, TRUE);
	g_free(a);
}

/* Percent demand over the hosts that take VMs. */
static double demand(const DrsState *s)
{
	gint64 cores = 0, mem = 0, cpu = 0, alloc = 0;

	for (guint h = 0; h < s->n_hosts; h++) {
		if (!drs_state_active(s, h))
			continue;
		cores += drs_host(s->c, h)->cores;
		mem += drs_host(s->c, h)->mem_mib;
		cpu += s->cpu_used[h];
		alloc += s->alloc_mem[h];
	}
	if (cores == 0 || mem == 0)
		return 100.0;
	return 100.0 * MAX((double)cpu / 1000.0 / (double)cores, (double)alloc / (double)mem);
}

/* Do the active hosts hold every VM even without the largest of them? */
static gboolean ha_reserve_kept(const DrsState *s)
{
	gint64 cap = 0, largest = 0, alloc = 0;

	for (guint h = 0; h < s->n_hosts; h++) {
		gint64 c;
		if (!drs_state_active(s, h))
			continue;
		c = drs_host_capacity(drs_host(s->c, h), s->ha_reserve_pct);
		cap += c;
		largest = MAX(largest, c);
		alloc += s->alloc_mem[h];
	}
	return alloc <= cap - largest;
}

static gint cmp_vm_mem_desc(gconstpointer a, gconstpointer b, gpointer data)
{
	const IcsDrsCluster *c = data;
	gint64 ma = drs_vm(c, *(const guint *)a)->mem_mib,
	       mb = drs_vm(c, *(const guint *)b)->mem_mib;

	return ma < mb ? 1 : ma > mb ? -1 : 0;
}

/*
 * Try to power @h off in @s: evacuate it and check the conditions.  On
 * success the moves are in @moves and @s is the state after; on failure @s
 * is restored.
 */
static gboolean try_power_off(DrsState *s, guint h, double target, GArray *moves)
{
	const IcsDrsCluster *c = s->c;
	g_autoptr(GArray) vms = g_array_new(FALSE, FALSE, sizeof(guint));

	for (guint i = 0; i < c->vms->len; i++) {
		if (s->placement[i] == h)
			g_array_append_val(vms, i);
	}
	g_array_sort_with_data(vms, cmp_vm_mem_desc, (gpointer)c);
	s->state[h] = ICS_DRS_HOST_OFF;
	s->n_active--;
	gboolean ok = TRUE;
	for (guint i = 0; ok && i < vms->len; i++) {
		guint vm = g_array_index(vms, guint, i);
		guint best = G_MAXUINT;
		double best_pen = 0;
		gint64 best_free = -1;
		for (guint t = 0; t < s->n_hosts; t++) {
			gint64 free_mem;
			double pen;
			if (!drs_state_move_allowed(s, vm, t))
				continue;
			/* Fewest new violations (affinity groups stay together),
			 * then the most usable memory. */
			pen = drs_state_penalty_delta(s, vm, t);
			free_mem = drs_host_capacity(drs_host(c, t), s->ha_reserve_pct) -
				   s->alloc_mem[t];
			if (best == G_MAXUINT || pen < best_pen - 1e-9 ||
			    (pen < best_pen + 1e-9 && free_mem > best_free)) {
				best_pen = pen;
				best_free = free_mem;
				best = t;
			}
		}
		if (best == G_MAXUINT) {
			ok = FALSE;
			break;
		}
		IcsDrsMove m = { .vm = vm, .from = h, .to = best, .wave = i };
		g_array_append_val(moves, m);
		drs_state_move(s, vm, best);
	}
	if (ok && ha_reserve_kept(s) && demand(s) <= target)
		return TRUE;
	for (guint i = moves->len; i-- > 0;)
		drs_state_move(s, g_array_index(moves, IcsDrsMove, i).vm, h);
	g_array_set_size(moves, 0);
	s->state[h] = ICS_DRS_HOST_ON;
	s->n_active++;
	return FALSE;
}

static void power_off(DrsState *s, const IcsDrsDpmPolicy *pol, double target, GPtrArray *actions)
{
	for (;;) {
		guint chosen = G_MAXUINT;
		g_autoptr(GArray) moves = g_array_new(FALSE, FALSE, sizeof(IcsDrsMove));
		g_autofree guint *order = NULL;
		guint n = 0;

		if (s->n_active <= pol->min_hosts || demand(s) >= pol->low_pct)
			return;
		/* Emptiest host first: the least to evacuate. */
		order = g_new0(guint, s->n_hosts);
		for (guint h = 0; h < s->n_hosts; h++) {
			if (drs_state_active(s, h))
				order[n++] = h;
		}
		for (guint i = 1; i < n; i++) {
			for (guint j = i;
			     j > 0 && s->alloc_mem[order[j]] < s->alloc_mem[order[j - 1]]; j--) {
				guint t = order[j];
				order[j] = order[j - 1];
				order[j - 1] = t;
			}
		}
		for (guint i = 0; i < n && chosen == G_MAXUINT; i++) {
			if (try_power_off(s, order[i], target, moves))
				chosen = order[i];
		}
		if (chosen == G_MAXUINT)
			return;
		IcsDrsPowerAction *a = g_new0(IcsDrsPowerAction, 1);
		a->host = chosen;
		a->power_on = FALSE;
		a->evacuation = g_steal_pointer(&moves);
		g_ptr_array_add(actions, a);
	}
}

static void power_on(DrsState *s, double target, GPtrArray *actions)
{
	while (demand(s) > target) {
		guint best = G_MAXUINT;
		for (guint h = 0; h < s->n_hosts; h++) {
			if (s->state[h] != ICS_DRS_HOST_OFF)
				continue;
			if (best == G_MAXUINT ||
			    drs_host(s->c, h)->mem_mib > drs_host(s->c, best)->mem_mib)
				best = h;
		}
		if (best == G_MAXUINT)
			return;
		s->state[best] = ICS_DRS_HOST_ON;
		s->n_active++;
		IcsDrsPowerAction *a = g_new0(IcsDrsPowerAction, 1);
		a->host = best;
		a->power_on = TRUE;
		a->evacuation = g_array_new(FALSE, FALSE, sizeof(IcsDrsMove));
		g_ptr_array_add(actions, a);
	}
}

IcsDrsDpmPlan *ics_drs_dpm(const IcsDrsCluster *c, const IcsDrsDpmPolicy *policy)
{
	IcsDrsDpmPolicy pol = policy ? *policy : (IcsDrsDpmPolicy){ 0 };
	IcsDrsDpmPlan *plan = g_new0(IcsDrsDpmPlan, 1);
	g_autoptr(DrsState) s = NULL;

	if (pol.low_pct == 0)
		pol.low_pct = 30;
	if (pol.high_pct == 0)
		pol.high_pct = 80;
	if (pol.min_hosts == 0)
		pol.min_hosts = 2;
	plan->actions = g_ptr_array_new_with_free_func(action_free);
	s = drs_state_new(c, pol.ha_reserve_pct);
	plan->demand_before = demand(s);
	double target = (pol.low_pct + pol.high_pct) / 2.0;

	if (pol.low_pct >= pol.high_pct) {
		plan->explanation = g_strdup_printf("low mark %u%% is not below high mark %u%%",
						    pol.low_pct, pol.high_pct);
	} else if (plan->demand_before > pol.high_pct) {
		power_on(s, target, plan->actions);
		if (plan->actions->len == 0)
			plan->explanation =
				g_strdup_printf("demand %.1f%% is above %u%% but no host is off",
						plan->demand_before, pol.high_pct);
	} else if (plan->demand_before < pol.low_pct) {
		power_off(s, &pol, target, plan->actions);
		if (plan->actions->len == 0)
			plan->explanation = g_strdup_printf(
				"demand %.1f%% is below %u%% but no host can be powered off: its "
				"VMs "
				"would not fit, the HA reserve (one host) would be lost, demand "
				"would "
				"exceed %.0f%%, or only %u hosts are on",
				plan->demand_before, pol.low_pct, target, pol.min_hosts);
	} else {
		plan->explanation = g_strdup_printf("demand %.1f%% is between %u%% and %u%%",
						    plan->demand_before, pol.low_pct, pol.high_pct);
	}
	plan->demand_after = demand(s);
	return plan;
}
