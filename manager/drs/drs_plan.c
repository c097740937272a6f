/*
 * drs_plan.c: the balancing plan, greedy best move first.
 *
 * The search is hbal's hill climbing on the same score, with ICS's hard
 * constraints (memory within capacity less the HA reserve, pinning,
 * affinity, anti-affinity) and its penalties, which make repairs
 * (evacuating a host in maintenance, breaking up an anti-affinity pair)
 * win over balance.  Each step takes the single migration with the largest
 * gain in
 *
 *     objective + theta x (VMs away from their host at the start)
 *
 * where theta is the level's price of one migration, and the search stops
 * when no move gains anything on that sum.  A VM that has not moved must
 * gain more than theta; one already moved may move again for any gain (the
 * plan still migrates it once); going home is taken if it loses less than
 * theta.  The path is then turned into one direct migration per moved VM,
 * in an order in which each fits when it runs.
 *
 * Why it cannot ping-pong: each step lowers a bounded sum, so the search
 * ends, in a state where no single move gains anything on it.  Planning
 * again from there, with that state as the start, only makes moves dearer
 * (a VM moved before now pays theta again, going back is no longer free),
 * so the new plan is empty; load must change by more than a migration's
 * worth before anything moves back.
 *
 * Cost.  A candidate is priced in O(1): the score is a sum of standard
 * deviations, each a function of the sum and the sum of squares of the
 * per-host values, and a move changes two hosts.  Within hosts of one size
 * the score after a move is monotone in each of the target's values
 * (allocated memory, vcpus, CPU use, memory use), and so is whether the VM
 * fits; so for a VM without rules the best target is on the Pareto front
 * of its size class (or its second layer, for a VM on a front host),
 * computed once per step.  Small clusters re-price every VM at every step
 * (exact greedy).  Large ones keep the VMs' best moves in a queue and
 * re-price eagerly only what a move can have made better; a stale price is
 * corrected when it comes to the top, all are re-priced every REFRESH
 * steps and before the search ends.  8,000 VMs on 128 hosts take seconds.
 *
 * Finally moves are grouped into waves: a host takes part in at most
 * moves_per_host migrations of a wave, a move into a host never shares a
 * wave with an earlier move out of it (the memory it needs is freed
 * first), and moves keep the order of the plan where they share a host.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "drs_internal.h"

double ics_drs_level_threshold(const IcsDrsCluster *c, guint level)
{
	static const double factor[] = { 0.005, 0.0, 0.05, 0.005, 0.001, 0.0002 };
	guint hosts = 0;

	for (guint h = 0; h < c->hosts->len; h++)
		hosts += drs_host_active(drs_host(c, h));
	return factor[level <= 5 ? level : 3] * sqrt(MAX(hosts, 1u)) / MAX(c->vms->len, 1u);
}

void ics_drs_plan_free(IcsDrsPlan *p)
{
	if (!p)
		return;
	g_array_free(p->moves, TRUE);
	g_free(p->explanation);
	g_free(p);
}

typedef struct {
	double jgain; /* gain in objective + theta x (VMs away from home, before - after) */
	double gain;  /* gain in objective */
	guint vm, to;
	gboolean found;
} Best;

/* A VM's best move as last priced, queued by jgain. */
typedef struct {
	Best best;
	guint stamp; /* the search step it was priced at */
	GSequenceIter *iter;
} VmCache;

/* Steps after which every VM is re-priced, whatever the moves touched;
 * small clusters are re-priced at every step (exact greedy). */
#define REFRESH 64
#define EXACT_BELOW 64000 /* VMs x hosts */

/* Host size classes: hosts of equal cores and memory. */
typedef struct {
	GArray *members; /* guint host indexes */
	GArray *front;	 /* guint: the members no other member dominates */
	GArray *layer2;	 /* guint: the front of the members not on the front */
} SizeClass;

typedef struct {
	const IcsDrsCluster *c;
	DrsState *s;
	guint n_active;
	double *x; /* per host: DRS_TERMS values */
	double *inv_mem, *inv_cores;
	gint64 *cap;	 /* per host: memory a plan may fill */
	guint *class_of; /* per active host: its size class */
	double sum[DRS_TERMS], sq[DRS_TERMS], sd_total, inv_n;
	GArray *classes; /* SizeClass */
	gboolean *on_front;
	guint *active;	   /* the active host indexes */
	const guint *home; /* per VM: its host before the plan */
	double theta;	   /* the level's threshold: the price of one migration */
	gboolean repairs_only;
	VmCache *cache;	  /* per VM */
	GSequence *queue; /* VmCache *, best jgain first */
	guint step, last_full, refresh;
} Planner;

static void planner_stats(Planner *p)
{
	memset(p->sum, 0, sizeof(p->sum));
	memset(p->sq, 0, sizeof(p->sq));
	for (guint i = 0; i < p->n_active; i++) {
		guint h = p->active[i];
		double *x = &p->x[h * DRS_TERMS];
		drs_state_terms(p->s, h, x);
		for (int t = 0; t < DRS_TERMS; t++) {
			p->sum[t] += x[t];
			p->sq[t] += x[t] * x[t];
		}
	}
	p->sd_total = 0;
	p->inv_n = 1.0 / p->n_active;
	for (int t = 0; t < DRS_TERMS; t++) {
		double mean = p->sum[t] / p->n_active;
		p->sd_total += sqrt(MAX(0.0, p->sq[t] / p->n_active - mean * mean));
	}
}

/* Does host @a dominate @b: no worse in every value, better in one (or
 * equal in all and first)? */
static gboolean dominates(const DrsState *s, guint a, guint b)
{
	gint64 va[] = { s->alloc_mem[a], s->vcpus[a], s->cpu_used[a], s->mem_used[a] };
	gint64 vb[] = { s->alloc_mem[b], s->vcpus[b], s->cpu_used[b], s->mem_used[b] };
	gboolean better = FALSE;

	for (int t = 0; t < DRS_TERMS; t++) {
		if (va[t] > vb[t])
			return FALSE;
		better |= va[t] < vb[t];
	}
	return better || a < b;
}

/* The members of @from (those with @skip unset) that no other such member
 * dominates, into @out. */
static void pareto(const DrsState *s, const GArray *from, const gboolean *skip, GArray *out)
{
	g_array_set_size(out, 0);
	for (guint i = 0; i < from->len; i++) {
		guint b = g_array_index(from, guint, i);
		gboolean dominated = FALSE;
		if (skip && skip[b])
			continue;
		for (guint j = 0; !dominated && j < from->len; j++) {
			guint a = g_array_index(from, guint, j);
			dominated = a != b && !(skip && skip[a]) && dominates(s, a, b);
		}
		if (!dominated)
			g_array_append_val(out, b);
	}
}

/*
 * Per size class, the front (where the best target of a VM from another
 * host is) and the second layer (with the front less the VM's own host,
 * where the best target of a VM on a front host is: a host dominated only
 * through its own host is dominated by a second-layer host or on it).
 */
static void planner_fronts(Planner *p)
{
	memset(p->on_front, 0, sizeof(gboolean) * p->s->n_hosts);
	for (guint k = 0; k < p->classes->len; k++) {
		SizeClass *sc = &g_array_index(p->classes, SizeClass, k);
		pareto(p->s, sc->members, NULL, sc->front);
		for (guint i = 0; i < sc->front->len; i++)
			p->on_front[g_array_index(sc->front, guint, i)] = TRUE;
		pareto(p->s, sc->members, p->on_front, sc->layer2);
	}
}

static void planner_init(Planner *p, const IcsDrsCluster *c, DrsState *s)
{
	guint nh = c->hosts->len;
	g_autoptr(GHashTable) by_size =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

	memset(p, 0, sizeof(*p));
	p->c = c;
	p->s = s;
	p->x = g_new0(double, (gsize)nh *DRS_TERMS);
	p->inv_mem = g_new0(double, nh);
	p->inv_cores = g_new0(double, nh);
	p->on_front = g_new0(gboolean, nh);
	p->cap = g_new0(gint64, nh);
	p->class_of = g_new0(guint, nh);
	p->active = g_new0(guint, nh);
	p->classes = g_array_new(FALSE, TRUE, sizeof(SizeClass));
	p->cache = g_new0(VmCache, c->vms->len);
	p->queue = g_sequence_new(NULL);
	for (guint h = 0; h < nh; h++) {
		const DrsHost *host = drs_host(c, h);
		p->inv_mem[h] = 1.0 / (double)host->mem_mib;
		p->inv_cores[h] = 1.0 / (double)host->cores;
		p->cap[h] = drs_host_capacity(host, s->ha_reserve_pct);
		if (!drs_state_active(s, h))
			continue;
		p->active[p->n_active++] = h;
		g_autofree char *key = g_strdup_printf("%" G_GINT64_FORMAT "/%" G_GINT64_FORMAT,
						       host->cores, host->mem_mib);
		gpointer k = g_hash_table_lookup(by_size, key);
		if (!k) {
			SizeClass sc = { g_array_new(FALSE, FALSE, sizeof(guint)),
					 g_array_new(FALSE, FALSE, sizeof(guint)),
					 g_array_new(FALSE, FALSE, sizeof(guint)) };
			g_array_append_val(p->classes, sc);
			k = GUINT_TO_POINTER(p->classes->len);
			g_hash_table_insert(by_size, g_steal_pointer(&key), k);
		}
		p->class_of[h] = GPOINTER_TO_UINT(k) - 1;
		g_array_append_val(g_array_index(p->classes, SizeClass, p->class_of[h]).members, h);
	}
}

static void planner_clear(Planner *p)
{
	for (guint k = 0; k < p->classes->len; k++) {
		g_array_free(g_array_index(p->classes, SizeClass, k).members, TRUE);
		g_array_free(g_array_index(p->classes, SizeClass, k).front, TRUE);
		g_array_free(g_array_index(p->classes, SizeClass, k).layer2, TRUE);
	}
	g_array_free(p->classes, TRUE);
	g_sequence_free(p->queue);
	g_free(p->cache);
	g_free(p->x);
	g_free(p->inv_mem);
	g_free(p->inv_cores);
	g_free(p->on_front);
	g_free(p->cap);
	g_free(p->class_of);
	g_free(p->active);
}

typedef struct {
	/* sum and sum of squares of each term once the VM left its host */
	double s1[DRS_TERMS], s2[DRS_TERMS];
	double add[DRS_TERMS]; /* what it adds to a host: MiB, vcpus, CPU and memory load */
	double pen_from;       /* penalty change at the source (rule-free VMs) */
	gint64 mem_mib;
	guint vm, from;
	gboolean full; /* rules: price the whole penalty per target */
} Candidate;

static void candidate_source(const Planner *p, guint vm, Candidate *k)
{
	const DrsState *s = p->s;
	const DrsVm *v = drs_vm(p->c, vm);
	guint a = s->placement[vm];

	memset(k, 0, sizeof(*k));
	k->vm = vm;
	k->from = a;
	k->mem_mib = v->mem_mib;
	k->full = v->groups || v->pinned;
	k->add[0] = (double)v->mem_mib;
	k->add[1] = (double)v->vcpus;
	k->add[2] = (double)v->cpu_used / 1000.0 / s->mean_cores;
	k->add[3] = (double)v->mem_used / s->mean_mem;
	memcpy(k->s1, p->sum, sizeof(k->s1));
	memcpy(k->s2, p->sq, sizeof(k->s2));
	if (drs_state_active(s, a)) {
		const double *x = &p->x[a * DRS_TERMS];
		double y[DRS_TERMS] = {
			x[0] + k->add[0] * p->inv_mem[a],
			x[1] - k->add[1] * p->inv_cores[a],
			x[2] - k->add[2],
			x[3] - k->add[3],
		};
		for (int t = 0; t < DRS_TERMS; t++) {
			k->s1[t] += y[t] - x[t];
			k->s2[t] += y[t] * y[t] - x[t] * x[t];
		}
	} else {
		k->pen_from -= DRS_W_EVACUATE;
	}
	k->pen_from += drs_overcommit_penalty(s, a, s->alloc_mem[a] - v->mem_mib) -
		       drs_overcommit_penalty(s, a, s->alloc_mem[a]);
}

static inline double sd_of(double s1, double s2, double inv_n)
{
	double mean = s1 * inv_n;

	return sqrt(MAX(0.0, s2 * inv_n - mean * mean));
}

/* Gain in objective of moving the candidate's VM to @b, or -infinity when
 * the move is not allowed.  *@penalty gets the penalty change. */
static double candidate_gain(const Planner *p, const Candidate *k, guint b, double *penalty)
{
	const DrsState *s = p->s;
	double pen;

	if (k->full) {
		if (!drs_state_move_allowed(s, k->vm, b))
			return -INFINITY;
		pen = drs_state_penalty_delta(s, k->vm, b);
	} else {
		if (b == k->from || s->alloc_mem[b] + k->mem_mib > p->cap[b])
			return -INFINITY;
		pen = k->pen_from;
	}
	const double *x = &p->x[b * DRS_TERMS];
	double d0 = -k->add[0] * p->inv_mem[b], d1 = k->add[1] * p->inv_cores[b];
	double sd = sd_of(k->s1[0] + d0, k->s2[0] + d0 * (2 * x[0] + d0), p->inv_n) +
		    sd_of(k->s1[1] + d1, k->s2[1] + d1 * (2 * x[1] + d1), p->inv_n) +
		    sd_of(k->s1[2] + k->add[2], k->s2[2] + k->add[2] * (2 * x[2] + k->add[2]),
			  p->inv_n) +
		    sd_of(k->s1[3] + k->add[3], k->s2[3] + k->add[3] * (2 * x[3] + k->add[3]),
			  p->inv_n);
	*penalty = pen;
	return p->sd_total - sd - pen;
}

static void consider(const Planner *p, const Candidate *k, guint b, Best *best)
{
	double pen = 0;
	double gain = candidate_gain(p, k, b, &pen);
	guint home = p->home[k->vm];

	if (gain == -INFINITY || (p->repairs_only && pen > -1e-9))
		return;
	double jgain = gain + p->theta * ((k->from != home) - (b != home));
	if (!best->found || jgain > best->jgain + 1e-12) {
		best->jgain = jgain;
		best->gain = gain;
		best->vm = k->vm;
		best->to = b;
		best->found = TRUE;
	}
}

/* The best move of one VM at the current state. */
static void vm_best(const Planner *p, guint vm, Best *best)
{
	Candidate k;

	memset(best, 0, sizeof(*best));
	candidate_source(p, vm, &k);
	if (k.full || !drs_state_active(p->s, k.from)) {
		for (guint i = 0; i < p->n_active; i++)
			consider(p, &k, p->active[i], best);
		return;
	}
	for (guint j = 0; j < p->classes->len; j++) {
		const SizeClass *sc = &g_array_index(p->classes, SizeClass, j);
		for (guint i = 0; i < sc->front->len; i++)
			consider(p, &k, g_array_index(sc->front, guint, i), best);
		if (p->on_front[k.from] && p->class_of[k.from] == j) {
			for (guint i = 0; i < sc->layer2->len; i++)
				consider(p, &k, g_array_index(sc->layer2, guint, i), best);
		}
	}
	/* Going home saves a migration: priced apart from the front. */
	if (k.from != p->home[vm] && drs_state_active(p->s, p->home[vm]))
		consider(p, &k, p->home[vm], best);
}

static gint cache_cmp(gconstpointer a, gconstpointer b, gpointer data)
{
	const VmCache *x = a, *y = b;

	if (x->best.jgain != y->best.jgain)
		return x->best.jgain > y->best.jgain ? -1 : 1;
	return x->best.vm < y->best.vm ? -1 : x->best.vm > y->best.vm;
}

/* Price @vm's best move now and requeue it. */
static void vm_price(Planner *p, guint vm)
{
	VmCache *e = &p->cache[vm];

	if (e->iter)
		g_sequence_remove(e->iter);
	e->iter = NULL;
	vm_best(p, vm, &e->best);
	e->best.vm = vm;
	e->stamp = p->step;
	if (e->best.found)
		e->iter = g_sequence_insert_sorted(p->queue, e, cache_cmp, NULL);
}

static void price_all(Planner *p)
{
	for (guint vm = 0; vm < p->c->vms->len; vm++)
		vm_price(p, vm);
	p->last_full = p->step;
}

/*
 * The best move now.  Lazy: a queued price is at most REFRESH steps old;
 * the top is re-priced until it is fresh.  Before the search ends on "no
 * move worth it", every VM is re-priced, so the end state is a true local
 * optimum (what the no-ping-pong argument needs).
 */
static gboolean best_move(Planner *p, Best *best)
{
	for (;;) {
		GSequenceIter *top = g_sequence_get_begin_iter(p->queue);
		if (g_sequence_iter_is_end(top) ||
		    ((VmCache *)g_sequence_get(top))->best.jgain <= 1e-9) {
			if (p->last_full == p->step)
				return FALSE;
			price_all(p);
			continue;
		}
		VmCache *e = g_sequence_get(top);
		if (e->stamp == p->step) {
			*best = e->best;
			return TRUE;
		}
		vm_price(p, e->best.vm);
	}
}

/*
 * After @vm moved from @a to @b: re-price what the move may have made
 * better: VMs on @a or @b, VMs that would go to @a (now emptier), VMs
 * whose way home leads to @a or @b, and the moved VM's rule groups.  A VM
 * that would go to @b can only have lost (b is fuller): its queued price
 * is too high, which the lazy queue corrects when it comes to the top.
 */
static void planner_moved(Planner *p, guint vm, guint a, guint b)
{
	const IcsDrsCluster *c = p->c;
	const DrsVm *v = drs_vm(c, vm);

	p->step++;
	planner_stats(p);
	planner_fronts(p);
	if (p->step - p->last_full >= p->refresh) {
		price_all(p);
		return;
	}
	for (guint i = 0; i < c->vms->len; i++) {
		guint h = p->s->placement[i];
		const VmCache *e = &p->cache[i];
		if (h == a || h == b || (e->best.found && e->best.to == a) ||
		    ((p->home[i] == a || p->home[i] == b) && h != p->home[i]))
			vm_price(p, i);
	}
	for (guint g = 0; v->groups && g < v->groups->len; g++) {
		const DrsRule *r = drs_rule(c, g_array_index(v->groups, guint, g));
		for (guint i = 0; i < r->vms->len; i++)
			vm_price(p, g_array_index(r->vms, guint, i));
	}
}

/* Why the state cannot be planned at all, or NULL. */
static char *infeasible(const IcsDrsCluster *c, guint ha_reserve_pct)
{
	gint64 demand = 0, capacity = 0;

	for (guint h = 0; h < c->hosts->len; h++) {
		if (drs_host_active(drs_host(c, h)))
			capacity += drs_host_capacity(drs_host(c, h), ha_reserve_pct);
	}
	for (guint i = 0; i < c->vms->len; i++) {
		const DrsVm *v = drs_vm(c, i);
		gint64 largest = 0;
		demand += v->mem_mib;
		for (guint h = 0; h < c->hosts->len; h++) {
			if (drs_host_active(drs_host(c, h)) && drs_vm_may_run_on(v, h))
				largest = MAX(largest,
					      drs_host_capacity(drs_host(c, h), ha_reserve_pct));
		}
		if (v->mem_mib > largest)
			return g_strdup_printf(
				"VM \"%s\" needs %" G_GINT64_FORMAT
				" MiB but the largest host it may run on takes %" G_GINT64_FORMAT
				" MiB (HA reserve %u%%)",
				v->name, v->mem_mib, largest, ha_reserve_pct);
	}
	if (demand > capacity)
		return g_strdup_printf("VMs need %" G_GINT64_FORMAT
				       " MiB of memory but the hosts that take VMs "
				       "offer %" G_GINT64_FORMAT " MiB (HA reserve %u%%)",
				       demand, capacity, ha_reserve_pct);
	return NULL;
}

/* What is still wrong after the plan, for the explanation, or NULL. */
static char *remaining(const IcsDrsCluster *c, const DrsState *s, guint violations)
{
	for (guint i = 0; i < c->vms->len; i++) {
		const DrsVm *v = drs_vm(c, i);
		const DrsHost *h = drs_host(c, s->placement[i]);
		if (!drs_state_active(s, s->placement[i]))
			return g_strdup_printf(
				"violations left: %u; VM \"%s\" stays on host \"%s\" "
				"(maintenance): no host has room for it under the rules",
				violations, v->name, h->name);
	}
	for (guint h = 0; h < s->n_hosts; h++) {
		if (drs_overcommit_penalty(s, h, s->alloc_mem[h]) > 0)
			return g_strdup_printf(
				"violations left: %u; host \"%s\" stays overcommitted "
				"(%" G_GINT64_FORMAT " MiB allocated, %" G_GINT64_FORMAT
				" MiB usable)",
				violations, drs_host(c, h)->name, s->alloc_mem[h],
				drs_host_capacity(drs_host(c, h), s->ha_reserve_pct));
	}
	return g_strdup_printf("violations left: %u; rules that no single move can repair "
			       "without breaking another rule",
			       violations);
}

/* Group moves in waves (see the top of the file) and order them by wave. */
static guint assign_waves(GArray *moves, guint n_hosts, guint per_host)
{
	g_autofree guint *last = g_new0(guint, n_hosts);	 /* last wave + 1, 0: none */
	g_autofree guint *count = g_new0(guint, n_hosts);	 /* moves in that wave */
	g_autofree gboolean *out_in = g_new0(gboolean, n_hosts); /* a move out in that wave */
	guint n_waves = 0;

	for (guint i = 0; i < moves->len; i++) {
		IcsDrsMove *m = &g_array_index(moves, IcsDrsMove, i);
		guint wf =
			last[m->from] == 0 ? 0 : last[m->from] - 1 + (count[m->from] >= per_host);
		guint wt = last[m->to] == 0
				   ? 0
				   : last[m->to] - 1 + (count[m->to] >= per_host || out_in[m->to]);
		guint w = MAX(wf, wt);
		guint hosts[2] = { m->from, m->to };
		for (int j = 0; j < 2; j++) {
			guint h = hosts[j];
			if (last[h] != w + 1) {
				last[h] = w + 1;
				count[h] = 0;
				out_in[h] = FALSE;
			}
			count[h]++;
		}
		out_in[m->from] = TRUE;
		m->wave = w;
		n_waves = MAX(n_waves, w + 1);
	}

	g_autofree guint *start = g_new0(guint, n_waves + 1);
	for (guint i = 0; i < moves->len; i++)
		start[g_array_index(moves, IcsDrsMove, i).wave + 1]++;
	for (guint w = 0; w < n_waves; w++)
		start[w + 1] += start[w];
	g_autoptr(GArray) sorted = g_array_sized_new(FALSE, FALSE, sizeof(IcsDrsMove), moves->len);
	g_array_set_size(sorted, moves->len);
	for (guint i = 0; i < moves->len; i++) {
		IcsDrsMove m = g_array_index(moves, IcsDrsMove, i);
		g_array_index(sorted, IcsDrsMove, start[m.wave]++) = m;
	}
	if (moves->len)
		memcpy(moves->data, sorted->data, sizeof(IcsDrsMove) * moves->len);
	return n_waves;
}

/* May @vm go to @to now, in the middle of executing a plan?  Memory and
 * hard rules, but not the "affinity members only join more of their group"
 * preference, which an ordering of direct moves may have to cross. */
static gboolean step_allowed(const DrsState *s, guint vm, guint to)
{
	const IcsDrsCluster *c = s->c;
	const DrsVm *v = drs_vm(c, vm);

	if (!drs_state_active(s, to) || !drs_vm_may_run_on(v, to) ||
	    s->alloc_mem[to] + v->mem_mib > drs_host_capacity(drs_host(c, to), s->ha_reserve_pct))
		return FALSE;
	for (guint i = 0; v->groups && i < v->groups->len; i++) {
		guint r = g_array_index(v->groups, guint, i);
		if (drs_rule(c, r)->kind == ICS_DRS_ANTI_AFFINITY && s->rule_count[r][to] > 0)
			return FALSE;
	}
	return TRUE;
}

/*
 * Turn the search's path into one direct migration per VM that ends away
 * from home, in an order where each fits when it runs: repeatedly the
 * first pending move (in order of first appearance in the path) that is
 * allowed now.  FALSE when the moves block each other (a cycle through full
 * hosts); the caller then keeps the path itself, which is feasible step by
 * step.
 */
static gboolean order_direct(const IcsDrsCluster *c, guint ha_reserve_pct, const GArray *path,
			     const guint *final, GArray *out)
{
	g_autoptr(DrsState) s = drs_state_new(c, ha_reserve_pct);
	g_autoptr(GArray) pending = g_array_new(FALSE, FALSE, sizeof(guint));
	g_autofree gboolean *listed = g_new0(gboolean, c->vms->len);
	IcsDrsScore before, after;

	for (guint i = 0; i < path->len; i++) {
		guint vm = g_array_index(path, IcsDrsMove, i).vm;
		if (!listed[vm] && final[vm] != drs_vm(c, vm)->host)
			g_array_append_val(pending, vm);
		listed[vm] = TRUE;
	}
	drs_state_score(s, &before);
	while (pending->len > 0) {
		guint i;
		for (i = 0; i < pending->len; i++) {
			guint vm = g_array_index(pending, guint, i);
			if (step_allowed(s, vm, final[vm]))
				break;
		}
		if (i == pending->len)
			return FALSE;
		guint vm = g_array_index(pending, guint, i);
		IcsDrsMove m = { .vm = vm, .from = s->placement[vm], .to = final[vm] };
		drs_state_move(s, vm, m.to);
		drs_state_score(s, &after);
		m.gain = before.objective - after.objective;
		before = after;
		g_array_append_val(out, m);
		g_array_remove_index(pending, i);
	}
	return TRUE;
}

IcsDrsPlan *ics_drs_plan(const IcsDrsCluster *c, const IcsDrsPolicy *policy)
{
	IcsDrsPolicy pol = policy ? *policy : (IcsDrsPolicy){ 0 };
	IcsDrsPlan *plan = g_new0(IcsDrsPlan, 1);
	g_autoptr(DrsState) s = NULL;
	g_autoptr(GArray) path = NULL;
	g_autofree guint *home = NULL;
	Planner p;

	if (pol.level == 0 || pol.level > 5)
		pol.level = 3;
	if (pol.moves_per_host == 0)
		pol.moves_per_host = 1;
	plan->moves = g_array_new(FALSE, FALSE, sizeof(IcsDrsMove));
	s = drs_state_new(c, pol.ha_reserve_pct);
	drs_state_score(s, &plan->before);
	plan->after = plan->before;
	plan->explanation = infeasible(c, s->ha_reserve_pct);
	if (plan->explanation || s->n_active == 0) {
		if (!plan->explanation)
			plan->explanation =
				g_strdup("no host takes VMs (all off or in maintenance)");
		return plan;
	}

	/* The search: best move first on objective + theta x migrations. */
	home = g_memdup2(s->placement, sizeof(guint) * c->vms->len);
	path = g_array_new(FALSE, FALSE, sizeof(IcsDrsMove));
	guint limit = 8 * c->vms->len + 16, moved = 0;
	planner_init(&p, c, s);
	p.home = home;
	p.theta = pol.min_gain > 0 ? pol.min_gain : ics_drs_level_threshold(c, pol.level);
	p.repairs_only = pol.level == 1;
	p.refresh = (guint64)c->vms->len * p.n_active <= EXACT_BELOW ? 1 : REFRESH;
	planner_stats(&p);
	planner_fronts(&p);
	price_all(&p);
	while (path->len < limit) {
		Best best;
		if (!best_move(&p, &best) || best.jgain <= 1e-9)
			break;
		guint vm = best.vm;
		/* A VM leaving home is one more migration: respect max_moves. */
		if (pol.max_moves && s->placement[vm] == home[vm] && moved >= pol.max_moves)
			break;
		IcsDrsMove m = {
			.vm = vm, .from = s->placement[vm], .to = best.to, .gain = best.gain
		};
		moved += (m.from == home[vm]) - (m.to == home[vm]);
		g_array_append_val(path, m);
		drs_state_move(s, vm, best.to);
		planner_moved(&p, vm, m.from, m.to);
	}
	planner_clear(&p);

	if (!order_direct(c, s->ha_reserve_pct, path, s->placement, plan->moves)) {
		g_array_set_size(plan->moves, 0);
		g_array_append_vals(plan->moves, path->data, path->len);
	}
	drs_state_score(s, &plan->after);
	if (plan->after.violations > 0)
		plan->explanation = remaining(c, s, plan->after.violations);
	plan->n_waves = assign_waves(plan->moves, c->hosts->len, pol.moves_per_host);
	return plan;
}

void ics_drs_plan_apply(IcsDrsCluster *c, const IcsDrsPlan *p)
{
	for (guint i = 0; i < p->moves->len; i++) {
		const IcsDrsMove *m = &g_array_index(p->moves, IcsDrsMove, i);
		ics_drs_cluster_move(c, m->vm, m->to);
	}
}
