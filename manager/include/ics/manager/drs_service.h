/*
 * ics/manager/drs_service.h: DRS in the manager -- the balancing engine
 * (libicsdrs) fed with measured load and its plans executed through the
 * cluster.
 *
 * On every period (and when asked) the service reads the load of the hosts
 * and their running VMs from the cluster adapter (IcsClusterOps.load: the
 * CIB's view of where VMs run, each node's libvirtd for host size and VM
 * CPU time), turns CPU time into use over the time between two samples,
 * runs the engine and stores the result as a run: the plan (migrations in
 * waves, scores before and after, DPM's power proposals) and, once
 * applied, what each migration did.  Manual mode only plans; automatic
 * mode applies each plan that has moves as a task ("drs.apply"); off does
 * nothing on its own.  A plan is applied wave by wave, the migrations of a
 * wave together (at most one migration in or out of a host at a time), each
 * through the adapter's live migration (Pacemaker moves the ocf:ics:vm
 * resource), after checking that the VM is still where the plan found it.
 *
 * Host maintenance asks the service to place the host's VMs
 * (ics_drs_service_evacuate): the engine spreads them over the other
 * hosts by their resources instead of leaving the choice to Pacemaker.
 *
 * Configuration, runs and moves live in the manager's database; a
 * service without an adapter (or one without load) keeps its
 * configuration and history and refuses to plan with UNAVAILABLE.
 */
#ifndef ICS_MANAGER_DRS_SERVICE_H
#define ICS_MANAGER_DRS_SERVICE_H

#include <glib.h>
#include <jansson.h>

#include "ics/manager/cluster_ops.h"
#include "ics/manager/store.h"
#include "ics/manager/task.h"

typedef enum {
	ICS_DRS_MODE_OFF,
	ICS_DRS_MODE_MANUAL,	/* plan on the period, apply when asked */
	ICS_DRS_MODE_AUTOMATIC, /* plan on the period and apply */
} IcsDrsMode;

typedef struct {
	IcsDrsMode mode;
	guint level;	      /* engine threshold level 1..5 */
	guint period_s;	      /* between periodic runs, 10..86400 */
	guint ha_reserve_pct; /* memory of every host kept free for HA, 0..90 */
} IcsDrsSettings;

/* How long a VM that DRS moved stays where it went, in periods: balancing
 * leaves it alone that long (evacuation does not). */
#define ICS_DRS_COOLDOWN_PERIODS 3

typedef struct IcsDrsService IcsDrsService;

/* Load the configuration and register the "drs.apply" task kind with
 * @tasks (before the runner recovers).  @ops may be NULL. */
IcsDrsService *ics_drs_service_new(IcsStore *store, IcsTaskRunner *tasks, const IcsClusterOps *ops,
				   GError **error);
/* Start the periodic runs (a thread). */
void ics_drs_service_start(IcsDrsService *svc);
/* Stop the periodic runs (waits for a run in progress); before the task
 * runner is freed. */
void ics_drs_service_stop(IcsDrsService *svc);
void ics_drs_service_free(IcsDrsService *svc);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(IcsDrsService, ics_drs_service_free)

const char *ics_drs_mode_name(IcsDrsMode mode);

/* The configuration as JSON {"mode", "level", "period_s", "ha_reserve_pct",
 * "cooldown_s", "updated_at"}. */
json_t *ics_drs_service_config(IcsDrsService *svc, GError **error);
/* Change the members @patch has (checked: INVALID_ARGUMENT naming the
 * member), persist, and restart the period; returns the new configuration. */
json_t *ics_drs_service_configure(IcsDrsService *svc, const json_t *patch, GError **error);

/* Sample, plan and store a run now; the run as JSON (see plan()).
 * UNAVAILABLE without an adapter that reports load. */
json_t *ics_drs_service_run(IcsDrsService *svc, const char *trigger, GError **error);
/* The newest run that planned (any state), or json_null() when none. */
json_t *ics_drs_service_plan(IcsDrsService *svc, GError **error);
/* Queue the application of run @run_id (0: the newest plan still to
 * apply, planning one now when there is none) as a task owned by
 * @owner_id; the caller holds no transaction.  Returns the task's id.
 * CONFLICT when the run was applied or superseded, or another one is
 * being applied; NOT_FOUND for an unknown run. */
gint64 ics_drs_service_apply(IcsDrsService *svc, gint64 run_id, gint64 owner_id, GError **error);
/* Runs newest first (ids below @before, 0: from the newest), each with its
 * moves: {"items": [...], "next": id or null}. */
json_t *ics_drs_service_history(IcsDrsService *svc, gint64 before, gint64 limit, GError **error);

/*
 * Place the VMs of @host, which is about to enter maintenance, with the
 * engine (the host counts as in maintenance, only repairs are planned) and
 * migrate them, reporting progress.  Stored as a run (trigger
 * "maintenance").  TRUE when every VM left; FALSE with @error when the
 * service cannot plan, another plan is being applied (BUSY) or a
 * migration failed (the caller then leaves the rest to Pacemaker's
 * standby).
 */
gboolean ics_drs_service_evacuate(IcsDrsService *svc, const char *host,
				  IcsClusterProgressFn progress, void *progress_data,
				  const volatile gint *cancelled, GError **error);

#endif /* ICS_MANAGER_DRS_SERVICE_H */
