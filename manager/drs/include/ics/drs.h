/*
 * ics/drs.h: the DRS/DPM balancing engine (libicsdrs).
 *
 * The engine is a pure function of a cluster state: hosts (cores, memory,
 * power state, maintenance), VMs (size, measured use, current host) and
 * rules (affinity and anti-affinity groups, pinning to hosts).  From it, it
 * computes
 *
 *  - a score: Ganeti hbal's cluster score restricted to what a
 *    shared-storage cluster with dynamic load has (free-memory, vcpu/core,
 *    CPU-use and memory-use balance), and ICS's objective, which is that
 *    score plus penalties for rule violations, VMs on hosts that must be
 *    evacuated and overcommitted memory;
 *  - a plan: an ordered list of live migrations, each with the gain in
 *    objective that justifies it, grouped in waves in which a host takes
 *    part in at most a given number of migrations;
 *  - a DPM proposal: hosts to power off (with their evacuation) when the
 *    cluster stays under a low utilisation, hosts to power on above a high
 *    one.
 *
 * The engine never proposes a move that would overcommit memory or create a
 * rule violation, and it is stateless: a plan's final state has no move
 * worth its threshold, so planning again on unchanged load proposes nothing.
 * The manager daemon feeds it measured state and executes its plans; the
 * ics-drs command feeds it the tab-separated file format of ics-drs(1).
 */
#ifndef ICS_DRS_H
#define ICS_DRS_H

#include <stdio.h>

#include <glib.h>

typedef enum {
	ICS_DRS_HOST_ON,	  /* powered on, takes VMs */
	ICS_DRS_HOST_MAINTENANCE, /* powered on, must be evacuated, takes nothing */
	ICS_DRS_HOST_OFF,	  /* powered off (by DPM or the operator) */
} IcsDrsHostState;

typedef enum {
	ICS_DRS_AFFINITY,      /* keep the group's VMs on one host */
	ICS_DRS_ANTI_AFFINITY, /* no two of the group's VMs on one host */
} IcsDrsRuleKind;

/* ---- cluster state (drs_model.c) ---- */

typedef struct IcsDrsCluster IcsDrsCluster;

IcsDrsCluster *ics_drs_cluster_new(void);
void ics_drs_cluster_free(IcsDrsCluster *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(IcsDrsCluster, ics_drs_cluster_free)

/*
 * Builders.  Each validates its own input (positive sizes, unique names,
 * known references) and fails with ICS_ERROR_INVALID_ARGUMENT naming the
 * object.  VMs reference hosts and rules reference VMs and hosts that were
 * added before.  Sizes: cores and vcpus in units, memory in MiB, CPU use in
 * millicores (1000 = one core busy), memory use in MiB.
 */
gboolean ics_drs_cluster_add_host(IcsDrsCluster *c, const char *name, gint64 cores, gint64 mem_mib,
				  IcsDrsHostState state, GError **error);
gboolean ics_drs_cluster_add_vm(IcsDrsCluster *c, const char *name, gint64 vcpus, gint64 mem_mib,
				gint64 cpu_used_milli, gint64 mem_used_mib, const char *host,
				GError **error);
gboolean ics_drs_cluster_add_rule(IcsDrsCluster *c, const char *group, IcsDrsRuleKind kind,
				  const char *const *vms, GError **error);
gboolean ics_drs_cluster_pin(IcsDrsCluster *c, const char *vm, const char *const *hosts,
			     GError **error);

/*
 * Whole-state checks that no single builder can make: contradictory rules
 * (two VMs both in an affinity and an anti-affinity group, an affinity
 * group whose pinnings share no host, an anti-affinity group larger than
 * the hosts its members may run on).  ICS_ERROR_CONFLICT with the groups'
 * names.
 */
gboolean ics_drs_cluster_validate(const IcsDrsCluster *c, GError **error);

guint ics_drs_cluster_n_hosts(const IcsDrsCluster *c);
guint ics_drs_cluster_n_vms(const IcsDrsCluster *c);
const char *ics_drs_host_name(const IcsDrsCluster *c, guint host);
IcsDrsHostState ics_drs_host_state(const IcsDrsCluster *c, guint host);
const char *ics_drs_vm_name(const IcsDrsCluster *c, guint vm);
guint ics_drs_vm_host(const IcsDrsCluster *c, guint vm);
/* Index of a host or VM by name; FALSE when unknown. */
gboolean ics_drs_host_lookup(const IcsDrsCluster *c, const char *name, guint *out);
gboolean ics_drs_vm_lookup(const IcsDrsCluster *c, const char *name, guint *out);

/* Place @vm on @host without any check (to apply a plan or replay moves). */
void ics_drs_cluster_move(IcsDrsCluster *c, guint vm, guint host);
void ics_drs_cluster_set_host_state(IcsDrsCluster *c, guint host, IcsDrsHostState state);

/* ---- the file format (drs_input.c), see ics-drs(1) ---- */

/*
 * Parse a cluster state in the tab-separated format.  @what names the
 * input in messages ("FILE:LINE: ...").  Any inconsistency is an
 * ICS_ERROR_PARSE (syntax, sizes, unknown references, duplicates) or
 * ICS_ERROR_CONFLICT (contradictory rules) error; nothing is half-loaded.
 */
IcsDrsCluster *ics_drs_cluster_parse(const char *text, gsize len, const char *what, GError **error);
IcsDrsCluster *ics_drs_cluster_load(const char *path, GError **error);
/* Write @c back in the same format (a round trip parses to the same state). */
void ics_drs_cluster_write(const IcsDrsCluster *c, FILE *out);

/* ---- scores (drs_score.c) ---- */

typedef struct {
	double free_mem_sd; /* sd over hosts of free memory / memory */
	double vcpu_sd;	    /* sd of vcpus / cores */
	double cpu_load_sd; /* sd of CPU use / mean host cores */
	double mem_load_sd; /* sd of memory use / mean host memory */
	double hbal;	    /* the sum of the four: hbal's cluster score */
	double penalty;	    /* rule violations, VMs to evacuate, overcommit */
	double objective;   /* hbal + penalty: what the planner minimises */
	guint violations;   /* VMs off their pinned hosts, anti-affinity pairs
			     * together, affinity pairs apart, VMs on hosts
			     * in maintenance or off, overcommitted hosts */
} IcsDrsScore;

/*
 * Score the current placement with @ha_reserve_pct percent of every host's
 * memory kept free for HA admission control (counts in overcommit only).
 * Statistics run over the hosts that take VMs (on, not in maintenance), as
 * hbal's do over online nodes.
 */
void ics_drs_score(const IcsDrsCluster *c, guint ha_reserve_pct, IcsDrsScore *out);

/* ---- plans (drs_plan.c) ---- */

typedef struct {
	guint level;	      /* 1 (conservative) .. 5 (aggressive); 0 means 3 */
	guint moves_per_host; /* concurrent migrations in or out of a host; 0 means 1 */
	guint ha_reserve_pct; /* percent of each host's memory never planned into */
	guint max_moves;      /* 0: no limit */
	double min_gain;      /* > 0: overrides the level's threshold */
} IcsDrsPolicy;

/*
 * The price of one migration at @level (1..5), in objective: a VM is
 * planned to move only if that gains more than this (moving it again on
 * its way is free, bringing it back saves the price).  It is a fraction (0.05,
 * 0.005, 0.001, 0.0002 for levels 2..5) of sqrt(hosts) / VMs, the scale of
 * what the load of one average VM changes in the score, so a level means
 * the same on 8 hosts as on 128.  Level 1 plans repairs only (rule
 * violations, evacuations, overcommit).
 */
double ics_drs_level_threshold(const IcsDrsCluster *c, guint level);

typedef struct {
	guint vm, from, to;
	double gain; /* objective before minus objective after this move */
	guint wave;  /* 0-based; moves of one wave may run together */
} IcsDrsMove;

typedef struct {
	GArray *moves; /* IcsDrsMove, in execution order (by wave) */
	guint n_waves;
	IcsDrsScore before, after;
	char *explanation; /* why the plan is empty or incomplete; NULL if not */
} IcsDrsPlan;

void ics_drs_plan_free(IcsDrsPlan *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(IcsDrsPlan, ics_drs_plan_free)

/*
 * Compute a plan for @c (left unchanged).  Never fails on a valid cluster:
 * an infeasible state (more VM memory than the hosts that take VMs can
 * hold, a VM larger than any host it may run on) gives an empty plan with
 * the reason in explanation.
 */
IcsDrsPlan *ics_drs_plan(const IcsDrsCluster *c, const IcsDrsPolicy *policy);

/* Apply every move of @p to @c. */
void ics_drs_plan_apply(IcsDrsCluster *c, const IcsDrsPlan *p);

/* ---- DPM (drs_dpm.c) ---- */

typedef struct {
	guint low_pct;	 /* power hosts off while demand stays below; 0 means 30 */
	guint high_pct;	 /* power hosts on above; 0 means 80 */
	guint min_hosts; /* never fewer hosts on; 0 means 2 */
	guint ha_reserve_pct;
} IcsDrsDpmPolicy;

typedef struct {
	guint host;
	gboolean power_on;  /* FALSE: power off after its evacuation */
	GArray *evacuation; /* IcsDrsMove, the host's VMs to their new hosts */
} IcsDrsPowerAction;

typedef struct {
	GPtrArray *actions;   /* IcsDrsPowerAction *, in execution order */
	double demand_before; /* percent: max of CPU and memory use over capacity */
	double demand_after;
	char *explanation; /* why nothing is proposed; NULL otherwise */
} IcsDrsDpmPlan;

void ics_drs_dpm_plan_free(IcsDrsDpmPlan *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(IcsDrsDpmPlan, ics_drs_dpm_plan_free)

/* Compute power actions for @c (left unchanged). */
IcsDrsDpmPlan *ics_drs_dpm(const IcsDrsCluster *c, const IcsDrsDpmPolicy *policy);

#endif /* ICS_DRS_H */
