/*
 * drs_internal.h: the cluster state as the engine's files share it.
 *
 * Hosts and VMs are arrays indexed by position (the order of the input), so
 * a placement is one host index per VM and per-host sums are arrays.  Rules
 * are groups of VM indexes; a VM knows the groups it is in.  Nothing here is
 * visible outside libicsdrs.
 */
#ifndef ICS_DRS_INTERNAL_H
#define ICS_DRS_INTERNAL_H

#include "ics/drs.h"

typedef struct {
	char *name;
	gint64 cores;
	gint64 mem_mib;
	IcsDrsHostState state;
} DrsHost;

typedef struct {
	char *name;
	gint64 vcpus;
	gint64 mem_mib;
	gint64 cpu_used; /* millicores */
	gint64 mem_used; /* MiB */
	guint host;
	GArray *groups; /* guint rule indexes, NULL when in none */
	GArray *pinned; /* guint host indexes allowed, NULL when any */
} DrsVm;

typedef struct {
	char *name;
	IcsDrsRuleKind kind;
	GArray *vms; /* guint */
} DrsRule;

struct IcsDrsCluster {
	GArray *hosts;		/* DrsHost */
	GArray *vms;		/* DrsVm */
	GArray *rules;		/* DrsRule */
	GHashTable *host_index; /* name -> index + 1 */
	GHashTable *vm_index;
	GHashTable *rule_index;
};

static inline DrsHost *drs_host(const IcsDrsCluster *c, guint i)
{
	return &g_array_index(c->hosts, DrsHost, i);
}

static inline DrsVm *drs_vm(const IcsDrsCluster *c, guint i)
{
	return &g_array_index(c->vms, DrsVm, i);
}

static inline DrsRule *drs_rule(const IcsDrsCluster *c, guint i)
{
	return &g_array_index(c->rules, DrsRule, i);
}

/* Does the host take VMs (on and not in maintenance)? */
static inline gboolean drs_host_active(const DrsHost *h)
{
	return h->state == ICS_DRS_HOST_ON;
}

/* Memory a plan may fill on @h: its size less the HA reserve. */
static inline gint64 drs_host_capacity(const DrsHost *h, guint ha_reserve_pct)
{
	return h->mem_mib - h->mem_mib * (gint64)ha_reserve_pct / 100;
}

gboolean drs_vm_may_run_on(const DrsVm *v, guint host);

/*
 * Running statistics of the placement: per-host sums and per-rule counts
 * per host, with the penalty weights of the objective.  drs_score.c fills
 * it; drs_plan.c and drs_dpm.c update it move by move.
 */
#define DRS_TERMS 4 /* free memory, vcpu ratio, CPU load, memory load */

/* Weights of the penalties in the objective, after hbal's own count
 * components (16 for an instance on an offline node). */
#define DRS_W_EVACUATE 16.0
#define DRS_W_OVERCOMMIT 16.0
#define DRS_W_RULE 4.0

typedef struct {
	const IcsDrsCluster *c;
	guint n_hosts, n_active;
	guint ha_reserve_pct;
	double mean_cores, mean_mem; /* over active hosts: the load normalisers */
	gint64 *alloc_mem, *vcpus, *cpu_used, *mem_used; /* per host */
	IcsDrsHostState *state; /* per host, so DPM can try powering one off */
	guint *placement;	/* per VM: current host in this state */
	guint **rule_count;	/* per rule: per host, members there */
} DrsState;

static inline gboolean drs_state_active(const DrsState *s, guint host)
{
	return s->state[host] == ICS_DRS_HOST_ON;
}

DrsState *drs_state_new(const IcsDrsCluster *c, guint ha_reserve_pct);
void drs_state_free(DrsState *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DrsState, drs_state_free)

/* Per-host term values x[t] of @host in @s. */
void drs_state_terms(const DrsState *s, guint host, double x[DRS_TERMS]);
/* The score of the whole state (O(hosts + VMs with rules)). */
void drs_state_score(const DrsState *s, IcsDrsScore *out);
/* Penalty change (after - before) if @vm moved to @to. */
double drs_state_penalty_delta(const DrsState *s, guint vm, guint to);
/* Would moving @vm to @to keep every hard constraint (memory, rules)? */
gboolean drs_state_move_allowed(const DrsState *s, guint vm, guint to);
void drs_state_move(DrsState *s, guint vm, guint to);
/* Penalty of one host's overcommit. */
double drs_overcommit_penalty(const DrsState *s, guint host, gint64 alloc);

#endif /* ICS_DRS_INTERNAL_H */
