/*
 * ics/manager/task.h: long operations as persistent tasks.
 *
 * Every operation that can take longer than a request (power actions,
 * migrations, and later backups, clones) is a task: a row in the tasks
 * table with a state (queued, running, succeeded, failed, cancelled), a
 * progress 0..100 with a message, a JSON result or an error, and a cancel
 * request flag.  Tasks run on a small pool of worker threads; what a task
 * does is given by its kind, registered at start.  Every change is
 * published as a "task.updated" event.
 *
 * Restart: a task that was running when the manager stopped is re-queued
 * when its kind is idempotent, marked failed ("manager restarted")
 * otherwise; queued tasks are queued again.
 */
#ifndef ICS_MANAGER_TASK_H
#define ICS_MANAGER_TASK_H

#include <glib.h>
#include <jansson.h>

#include "ics/manager/events.h"
#include "ics/manager/store.h"

typedef struct IcsTaskRunner IcsTaskRunner;
typedef struct IcsTaskContext IcsTaskContext;

/* Do the work; return the result (a JSON value, reference given) or NULL
 * with @error.  Poll ics_task_cancelled() and fail with
 * ics_task_set_cancelled_error() when it is TRUE. */
typedef json_t *(*IcsTaskFn)(IcsTaskContext *ctx, const json_t *params, GError **error);

typedef struct {
	const char *name; /* "vm.start" */
	IcsTaskFn run;
	gboolean idempotent; /* safe to run again after a restart */
	void *data;	     /* ics_task_data() */
} IcsTaskKind;

IcsTaskRunner *ics_task_runner_new(IcsStore *store, IcsEvents *events, guint threads);
/* Stop: cancel running tasks, wait for the workers.  Tasks still queued
 * stay queued in the database for the next start. */
void ics_task_runner_free(IcsTaskRunner *runner);
/* Register @kind (kept by pointer). */
void ics_task_runner_register(IcsTaskRunner *runner, const IcsTaskKind *kind);
/* Apply the restart rules above and queue what is queued. */
gboolean ics_task_runner_recover(IcsTaskRunner *runner, GError **error);

/* A new queued task (the caller holds a write transaction; the task starts
 * once it is committed).  @params is borrowed.  Returns its id or -1. */
gint64 ics_task_create(IcsTaskRunner *runner, const char *kind, const char *object_type,
		       const char *object_id, gint64 owner_id, const json_t *params,
		       GError **error);
/* Ask task @id to stop (the caller holds a write transaction): a queued task
 * is cancelled at once, a running one is told to stop.  NOT_FOUND, or
 * CONFLICT when it already ended. */
gboolean ics_task_cancel(IcsTaskRunner *runner, gint64 id, GError **error);

/* The task as JSON (the caller holds the lock); NOT_FOUND.  @owner_id
 * receives its owner (0 = none). */
json_t *ics_task_get(IcsStore *store, gint64 id, gint64 *owner_id, GError **error);
/* Tasks newest first, ids below @before (0 = from the newest), at most
 * @limit, only those of @owner_id unless it is 0. */
json_t *ics_task_list(IcsStore *store, gint64 before, gint64 limit, gint64 owner_id,
		      GError **error);

/* ---- for task functions ------------------------------------------------ */

gint64 ics_task_id(IcsTaskContext *ctx);
const char *ics_task_object_id(IcsTaskContext *ctx);
void *ics_task_data(IcsTaskContext *ctx);
gboolean ics_task_cancelled(IcsTaskContext *ctx);
/* The flag itself, for cluster operations that poll it. */
const volatile gint *ics_task_cancel_flag(IcsTaskContext *ctx);
void ics_task_progress(IcsTaskContext *ctx, guint percent, const char *message);
/* Set the error a cancelled task ends with. */
void ics_task_set_cancelled_error(GError **error);

/* A test kind, "test.sleep" {"ms": total, "steps": n}: sleeps in steps,
 * reporting progress, honouring cancel.  Registered only in test mode. */
extern const IcsTaskKind ics_task_kind_test_sleep;

#endif /* ICS_MANAGER_TASK_H */
