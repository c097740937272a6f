/*
 * drs_score.c: how good a placement is, and what one move changes.
 *
 * The balance part is Ganeti hbal's cluster score, so ICS and hbal can be
 * compared on the same state.  For a shared-storage cluster (no DRBD
 * secondaries, no local disks, no tags) with dynamic load, every hbal
 * component is zero except four population standard deviations over the
 * online nodes, each with total weight 1 (hbal counts free memory and the
 * vcpu ratio twice with weight 0.5, as now and as "forthcoming"):
 *
 *   free memory / memory        (hbal free_mem_cv)
 *   vcpus / cores               (vcpu_ratio_cv)
 *   CPU use / mean host cores   (cpu_load_cv; hbal takes the per-instance
 *   memory use / mean host mem   loads of -U as given, the benchmark feeds
 *                                it use normalised by the mean host size)
 *
 * ICS's objective adds penalties for what must be repaired, weighted like
 * hbal's count components so they dominate any balance gain: VMs on hosts
 * in maintenance (16 each, hbal's offline_pri_cnt), memory overcommit (16
 * per host-size overcommitted), and rule violations (4 per VM off its pinned
 * hosts, per anti-affinity pair together, per affinity pair apart).
 *
 * A move changes two hosts only, so the planner keeps per-host sums here
 * and prices a candidate in O(1) from the sums and sums of squares of the
 * host terms (drs_plan.c); this file computes the full score and the
 * penalty side of a move.
 */
#include "config.h"

#include <math.h>

#include "drs_internal.h"

DrsState *drs_state_new(const IcsDrsCluster *c, guint ha_reserve_pct)
{
	DrsState *s = g_new0(DrsState, 1);
	guint nh = c->hosts->len;
	double cores = 0, mem = 0;

	s->c = c;
	s->n_hosts = nh;
	s->ha_reserve_pct = MIN(ha_reserve_pct, 90u);
	s->alloc_mem = g_new0(gint64, nh);
	s->vcpus = g_new0(gint64, nh);
	s->cpu_used = g_new0(gint64, nh);
	s->mem_used = g_new0(gint64, nh);
	s->state = g_new0(IcsDrsHostState, nh);
	s->placement = g_new0(guint, c->vms->len);
	s->rule_count = g_new0(guint *, c->rules->len);
	for (guint r = 0; r < c->rules->len; r++)
		s->rule_count[r] = g_new0(guint, nh);

	for (guint h = 0; h < nh; h++) {
		const DrsHost *host = drs_host(c, h);
		s->state[h] = host->state;
		if (!drs_host_active(host))
			continue;
		s->n_active++;
		cores += (double)host->cores;
		mem += (double)host->mem_mib;
	}
	s->mean_cores = s->n_active ? cores / s->n_active : 1.0;
	s->mean_mem = s->n_active ? mem / s->n_active : 1.0;

	for (guint i = 0; i < c->vms->len; i++) {
		const DrsVm *v = drs_vm(c, i);
		guint h = v->host;
		s->placement[i] = h;
		s->alloc_mem[h] += v->mem_mib;
		s->vcpus[h] += v->vcpus;
		s->cpu_used[h] += v->cpu_used;
		s->mem_used[h] += v->mem_used;
		for (guint g = 0; v->groups && g < v->groups->len; g++)
			s->rule_count[g_array_index(v->groups, guint, g)][h]++;
	}
	return s;
}

void drs_state_free(DrsState *s)
{
	if (!s)
		return;
	for (guint r = 0; r < s->c->rules->len; r++)
		g_free(s->rule_count[r]);
	g_free(s->rule_count);
	g_free(s->alloc_mem);
	g_free(s->vcpus);
	g_free(s->cpu_used);
	g_free(s->mem_used);
	g_free(s->placement);
	g_free(s->state);
	g_free(s);
}

void drs_state_terms(const DrsState *s, guint host, double x[DRS_TERMS])
{
	const DrsHost *h = drs_host(s->c, host);

	x[0] = (double)(h->mem_mib - s->alloc_mem[host]) / (double)h->mem_mib;
	x[1] = (double)s->vcpus[host] / (double)h->cores;
	x[2] = (double)s->cpu_used[host] / 1000.0 / s->mean_cores;
	x[3] = (double)s->mem_used[host] / s->mean_mem;
}

double drs_overcommit_penalty(const DrsState *s, guint host, gint64 alloc)
{
	gint64 cap = drs_host_capacity(drs_host(s->c, host), s->ha_reserve_pct);

	if (alloc <= cap)
		return 0.0;
	return DRS_W_OVERCOMMIT * (double)(alloc - cap) / (double)MAX(cap, 1);
}

void drs_state_score(const DrsState *s, IcsDrsScore *out)
{
	const IcsDrsCluster *c = s->c;
	double sum[DRS_TERMS] = { 0 }, sq[DRS_TERMS] = { 0 }, sd[DRS_TERMS] = { 0 };
	double penalty = 0;
	guint violations = 0;

	for (guint h = 0; h < s->n_hosts; h++) {
		double x[DRS_TERMS];
		double oc = drs_overcommit_penalty(s, h, s->alloc_mem[h]);
		penalty += oc;
		violations += oc > 0;
		if (!drs_state_active(s, h))
			continue;
		drs_state_terms(s, h, x);
		for (int t = 0; t < DRS_TERMS; t++) {
			sum[t] += x[t];
			sq[t] += x[t] * x[t];
		}
	}
	if (s->n_active > 0) {
		for (int t = 0; t < DRS_TERMS; t++) {
			double mean = sum[t] / s->n_active;
			sd[t] = sqrt(MAX(0.0, sq[t] / s->n_active - mean * mean));
		}
	}
	for (guint i = 0; i < c->vms->len; i++) {
		const DrsVm *v = drs_vm(c, i);
		guint h = s->placement[i];
		if (!drs_state_active(s, h)) {
			penalty += DRS_W_EVACUATE;
			violations++;
		}
		if (!drs_vm_may_run_on(v, h)) {
			penalty += DRS_W_RULE;
			violations++;
		}
	}
	for (guint r = 0; r < c->rules->len; r++) {
		const DrsRule *rule = drs_rule(c, r);
		guint64 n = rule->vms->len, sumsq = 0, together = 0;
		for (guint h = 0; h < s->n_hosts; h++) {
			guint64 k = s->rule_count[r][h];
			sumsq += k * k;
			together += k * (k - (k > 0)) / 2;
		}
		guint64 pairs =
			rule->kind == ICS_DRS_ANTI_AFFINITY ? together : (n * n - sumsq) / 2;
		penalty += DRS_W_RULE * (double)pairs;
		violations += (guint)pairs;
	}

	out->free_mem_sd = sd[0];
	out->vcpu_sd = sd[1];
	out->cpu_load_sd = sd[2];
	out->mem_load_sd = sd[3];
	out->hbal = sd[0] + sd[1] + sd[2] + sd[3];
	out->penalty = penalty;
	out->objective = out->hbal + penalty;
	out->violations = violations;
}

double drs_state_penalty_delta(const DrsState *s, guint vm, guint to)
{
	const IcsDrsCluster *c = s->c;
	const DrsVm *v = drs_vm(c, vm);
	guint from = s->placement[vm];
	double d = 0;

	if (from == to)
		return 0;
	d -= drs_state_active(s, from) ? 0 : DRS_W_EVACUATE;
	d += drs_state_active(s, to) ? 0 : DRS_W_EVACUATE;
	if (v->pinned) {
		d -= drs_vm_may_run_on(v, from) ? 0 : DRS_W_RULE;
		d += drs_vm_may_run_on(v, to) ? 0 : DRS_W_RULE;
	}
	for (guint i = 0; v->groups && i < v->groups->len; i++) {
		guint r = g_array_index(v->groups, guint, i);
		double cf = s->rule_count[r][from], ct = s->rule_count[r][to];
		if (drs_rule(c, r)->kind == ICS_DRS_ANTI_AFFINITY)
			d += DRS_W_RULE * (ct - (cf - 1));
		else
			d -= DRS_W_RULE * (ct - cf + 1);
	}
	d += drs_overcommit_penalty(s, from, s->alloc_mem[from] - v->mem_mib) -
	     drs_overcommit_penalty(s, from, s->alloc_mem[from]);
	d += drs_overcommit_penalty(s, to, s->alloc_mem[to] + v->mem_mib) -
	     drs_overcommit_penalty(s, to, s->alloc_mem[to]);
	return d;
}

gboolean drs_state_move_allowed(const DrsState *s, guint vm, guint to)
{
	const IcsDrsCluster *c = s->c;
	const DrsVm *v = drs_vm(c, vm);
	const DrsHost *target = drs_host(c, to);
	guint from = s->placement[vm];

	if (to == from || !drs_state_active(s, to))
		return FALSE;
	if (s->alloc_mem[to] + v->mem_mib > drs_host_capacity(target, s->ha_reserve_pct))
		return FALSE;
	if (!drs_vm_may_run_on(v, to))
		return FALSE;
	for (guint i = 0; v->groups && i < v->groups->len; i++) {
		guint r = g_array_index(v->groups, guint, i);
		guint cf = s->rule_count[r][from], ct = s->rule_count[r][to];
		if (drs_rule(c, r)->kind == ICS_DRS_ANTI_AFFINITY && ct > 0)
			return FALSE;
		/* An affinity member only joins more of its group, unless it
		 * is being evacuated. */
		if (drs_rule(c, r)->kind == ICS_DRS_AFFINITY && ct < cf &&
		    drs_state_active(s, from))
			return FALSE;
	}
	return TRUE;
}

void drs_state_move(DrsState *s, guint vm, guint to)
{
	const DrsVm *v = drs_vm(s->c, vm);
	guint from = s->placement[vm];

	s->alloc_mem[from] -= v->mem_mib;
	s->vcpus[from] -= v->vcpus;
	s->cpu_used[from] -= v->cpu_used;
	s->mem_used[from] -= v->mem_used;
	s->alloc_mem[to] += v->mem_mib;
	s->vcpus[to] += v->vcpus;
	s->cpu_used[to] += v->cpu_used;
	s->mem_used[to] += v->mem_used;
	for (guint i = 0; v->groups && i < v->groups->len; i++) {
		guint r = g_array_index(v->groups, guint, i);
		s->rule_count[r][from]--;
		s->rule_count[r][to]++;
	}
	s->placement[vm] = to;
}

void ics_drs_score(const IcsDrsCluster *c, guint ha_reserve_pct, IcsDrsScore *out)
{
	g_autoptr(DrsState) s = drs_state_new(c, ha_reserve_pct);

	drs_state_score(s, out);
}
