/*
 * task.c: the task table and the worker pool that runs it.
 *
 * The database is the truth: a worker claims a task by moving it from
 * queued to running in one UPDATE guarded by the old state, so a task
 * submitted twice (recovery racing a creation, or an id submitted before
 * its transaction committed) runs once, and a task whose creating
 * transaction was rolled back is simply not found.  Cancellation is a flag
 * in the row plus an in-memory flag the running function polls.
 */
#include "config.h"

#include <string.h>

#include "ics/error.h"
#include "ics/json.h"
#include "ics/log.h"
#include "ics/manager/task.h"
#include "ics/manager/timestamp.h"

struct IcsTaskRunner {
	IcsStore *store;
	IcsEvents *events;
	GThreadPool *pool;
	GMutex lock;
	GHashTable *kinds;   /* name -> const IcsTaskKind* */
	GHashTable *running; /* id (gint64*) -> IcsTaskContext* */
	GPtrArray *pending;  /* ids created in the current transaction */
	gboolean stopping;
};

struct IcsTaskContext {
	IcsTaskRunner *runner;
	gint64 id;
	char *object_type;
	char *object_id;
	gint64 owner_id;
	const IcsTaskKind *kind;
	volatile gint cancelled;
};

static void publish(IcsTaskRunner *r, gint64 id)
{
	gint64 owner = 0;
	json_t *t;

	ics_store_lock(r->store);
	t = ics_task_get(r->store, id, &owner, NULL);
	ics_store_unlock(r->store);
	if (t && r->events)
		ics_events_publish(r->events, "task.updated", "task.read", owner, t);
	else if (t)
		json_decref(t);
}

static gboolean finish(IcsTaskRunner *r, gint64 id, const char *state, json_t *result,
		       const char *errmsg)
{
	g_autoptr(GError) err = NULL;
	g_autofree char *text = result ? json_dumps(result, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
	gboolean ok;

	ics_store_lock(r->store);
	{
		g_autoptr(IcsStmt) st = ics_store_stmt(
			r->store,
			"UPDATE tasks SET state = ?, result = ?, error = ?, ended_us = ?,"
			" progress = CASE WHEN ? = 'succeeded' THEN 100 ELSE progress END WHERE id "
			"= ?",
			&err);

		ok = st != NULL;
		if (ok) {
			ics_stmt_bind_text(st, 1, state);
			ics_stmt_bind_text(st, 2, text);
			ics_stmt_bind_text(st, 3, errmsg);
			ics_stmt_bind_int(st, 4, ics_now_us());
			ics_stmt_bind_text(st, 5, state);
			ics_stmt_bind_int(st, 6, id);
			ok = ics_stmt_run(st, &err);
		}
	}
	ics_store_unlock(r->store);
	if (!ok)
		ics_error("task %" G_GINT64_FORMAT ": cannot record its end: %s", id, err->message);
	return ok;
}

/* Claim task @id; returns its context with *params, or NULL when it is not
 * (or no longer) queued. */
static IcsTaskContext *claim(IcsTaskRunner *r, gint64 id, json_t **params)
{
	g_autoptr(GError) err = NULL;
	IcsTaskContext *ctx = NULL;
	g_autofree char *kind = NULL;

	ics_store_lock(r->store);
	{
		g_autoptr(IcsStmt) up = ics_store_stmt(
			r->store,
			"UPDATE tasks SET state = 'running', started_us = ? WHERE id = ? AND"
			" state = 'queued' AND cancel_requested = 0",
			&err);

		if (up) {
			ics_stmt_bind_int(up, 1, ics_now_us());
			ics_stmt_bind_int(up, 2, id);
		}
		if (up == NULL || !ics_stmt_run(up, &err) || ics_store_changes(r->store) == 0) {
			ics_store_unlock(r->store);
			return NULL;
		}
	}
	{
		g_autoptr(IcsStmt) st = ics_store_stmt(
			r->store,
			"SELECT kind, object_type, object_id, owner_id, params FROM tasks"
			" WHERE id = ?",
			&err);

		if (st) {
			ics_stmt_bind_int(st, 1, id);
			if (ics_stmt_step(st, &err) == SQLITE_ROW) {
				ctx = g_new0(IcsTaskContext, 1);
				ctx->runner = r;
				ctx->id = id;
				kind = g_strdup(ics_stmt_text(st, 0));
				ctx->object_type = g_strdup(ics_stmt_text(st, 1));
				ctx->object_id = g_strdup(ics_stmt_text(st, 2));
				ctx->owner_id = sqlite3_column_int64(st, 3);
				*params = json_loads(ics_stmt_text(st, 4), 0, NULL);
			}
		}
	}
	ics_store_unlock(r->store);
	if (ctx == NULL)
		return NULL;
	g_mutex_lock(&r->lock);
	ctx->kind = g_hash_table_lookup(r->kinds, kind);
	g_mutex_unlock(&r->lock);
	if (ctx->kind == NULL)
		ics_warning("task %" G_GINT64_FORMAT ": unknown kind \"%s\"", id, kind);
	return ctx;
}

static void context_free(IcsTaskContext *ctx)
{
	g_free(ctx->object_type);
	g_free(ctx->object_id);
	g_free(ctx);
}

static void worker(gpointer data, gpointer user_data)
{
	IcsTaskRunner *r = user_data;
	gint64 id = GPOINTER_TO_SIZE(data);
	g_autoptr(json_t) params = NULL;
	g_autoptr(json_t) result = NULL;
	g_autoptr(GError) err = NULL;
	IcsTaskContext *ctx = claim(r, id, &params);
	const char *state;

	if (ctx == NULL)
		return;
	publish(r, id);
	g_mutex_lock(&r->lock);
	g_hash_table_insert(r->running, &ctx->id, ctx);
	if (r->stopping)
		g_atomic_int_set(&ctx->cancelled, 1);
	g_mutex_unlock(&r->lock);

	if (params == NULL)
		params = json_object();
	if (ctx->kind == NULL)
		g_set_error(&err, ICS_ERROR, ICS_ERROR_NOT_FOUND, "no task kind of this name");
	else
		result = ctx->kind->run(ctx, params, &err);
	if (result)
		state = "succeeded";
	else if (g_atomic_int_get(&ctx->cancelled))
		state = "cancelled";
	else
		state = "failed";
	if (err && result == NULL)
		ics_info("task %" G_GINT64_FORMAT " (%s) %s: %s", id,
			 ctx->kind ? ctx->kind->name : "?", state, err->message);

	g_mutex_lock(&r->lock);
	g_hash_table_remove(r->running, &ctx->id);
	g_mutex_unlock(&r->lock);
	finish(r, id, state, result, result ? NULL : (err ? err->message : "failed"));
	publish(r, id);
	context_free(ctx);
}

IcsTaskRunner *ics_task_runner_new(IcsStore *store, IcsEvents *events, guint threads)
{
	IcsTaskRunner *r = g_new0(IcsTaskRunner, 1);

	r->store = store;
	r->events = events;
	g_mutex_init(&r->lock);
	r->kinds = g_hash_table_new(g_str_hash, g_str_equal);
	r->running = g_hash_table_new(g_int64_hash, g_int64_equal);
	r->pool = g_thread_pool_new(worker, r, threads ? (gint)threads : 2, FALSE, NULL);
	return r;
}

void ics_task_runner_free(IcsTaskRunner *r)
{
	GHashTableIter it;
	gpointer v;

	if (r == NULL)
		return;
	g_mutex_lock(&r->lock);
	r->stopping = TRUE;
	g_hash_table_iter_init(&it, r->running);
	while (g_hash_table_iter_next(&it, NULL, &v))
		g_atomic_int_set(&((IcsTaskContext *)v)->cancelled, 1);
	g_mutex_unlock(&r->lock);
	/* Queued-but-unstarted ids are dropped; their rows stay queued. */
	g_thread_pool_free(r->pool, TRUE, TRUE);
	g_hash_table_unref(r->kinds);
	g_hash_table_unref(r->running);
	g_mutex_clear(&r->lock);
	g_free(r);
}

void ics_task_runner_register(IcsTaskRunner *r, const IcsTaskKind *kind)
{
	g_mutex_lock(&r->lock);
	g_hash_table_replace(r->kinds, (gpointer)kind->name, (gpointer)kind);
	g_mutex_unlock(&r->lock);
}

static void submit(IcsTaskRunner *r, gint64 id)
{
	g_thread_pool_push(r->pool, GSIZE_TO_POINTER((gsize)id), NULL);
}

gboolean ics_task_runner_recover(IcsTaskRunner *r, GError **error)
{
	g_autoptr(GArray) requeue = g_array_new(FALSE, FALSE, sizeof(gint64));
	g_autoptr(GArray) failed = g_array_new(FALSE, FALSE, sizeof(gint64));

	if (!ics_store_begin(r->store, error))
		return FALSE;
	{
		g_autoptr(IcsStmt) st = ics_store_stmt(
			r->store, "SELECT id, kind FROM tasks WHERE state = 'running'", error);
		int rc;

		if (st == NULL)
			goto fail;
		while ((rc = ics_stmt_step(st, error)) == SQLITE_ROW) {
			gint64 id = sqlite3_column_int64(st, 0);
			const IcsTaskKind *k = g_hash_table_lookup(r->kinds, ics_stmt_text(st, 1));

			g_array_append_val(k && k->idempotent ? requeue : failed, id);
		}
		if (rc < 0)
			goto fail;
	}
	for (guint i = 0; i < requeue->len + failed->len; i++) {
		gboolean again = i < requeue->len;
		gint64 id = again ? g_array_index(requeue, gint64, i)
				  : g_array_index(failed, gint64, i - requeue->len);
		g_autoptr(IcsStmt) st = ics_store_stmt(
			r->store,
			"UPDATE tasks SET state = CASE WHEN ?1 THEN 'queued' ELSE 'failed' END,"
			" error = CASE WHEN ?1 THEN NULL ELSE 'manager restarted while the task was"
			" running' END, ended_us = CASE WHEN ?1 THEN NULL ELSE ?2 END WHERE id = "
			"?3",
			error);

		if (st == NULL)
			goto fail;
		ics_stmt_bind_int(st, 1, again);
		ics_stmt_bind_int(st, 2, ics_now_us());
		ics_stmt_bind_int(st, 3, id);
		if (!ics_stmt_run(st, error))
			goto fail;
		if (!again)
			ics_warning("task %" G_GINT64_FORMAT
				    " failed: manager restarted while it ran",
				    id);
	}
	g_array_set_size(requeue, 0);
	{
		g_autoptr(IcsStmt) st = ics_store_stmt(
			r->store, "SELECT id FROM tasks WHERE state = 'queued' ORDER BY id", error);
		int rc;

		if (st == NULL)
			goto fail;
		while ((rc = ics_stmt_step(st, error)) == SQLITE_ROW) {
			gint64 id = sqlite3_column_int64(st, 0);

			g_array_append_val(requeue, id);
		}
		if (rc < 0)
			goto fail;
	}
	if (!ics_store_commit(r->store, error))
		return FALSE;
	for (guint i = 0; i < requeue->len; i++)
		submit(r, g_array_index(requeue, gint64, i));
	return TRUE;
fail:
	ics_store_rollback(r->store);
	return FALSE;
}

gint64 ics_task_create(IcsTaskRunner *r, const char *kind, const char *object_type,
		       const char *object_id, gint64 owner_id, const json_t *params, GError **error)
{
	g_autoptr(IcsStmt) st = ics_store_stmt(
		r->store,
		"INSERT INTO tasks (kind, object_type, object_id, owner_id, state, params,"
		" created_us) VALUES (?, ?, ?, ?, 'queued', ?, ?)",
		error);
	g_autofree char *text = params ? json_dumps(params, JSON_COMPACT) : g_strdup("{}");
	gint64 id;

	if (st == NULL)
		return -1;
	ics_stmt_bind_text(st, 1, kind);
	ics_stmt_bind_text(st, 2, object_type);
	ics_stmt_bind_text(st, 3, object_id);
	if (owner_id)
		ics_stmt_bind_int(st, 4, owner_id);
	ics_stmt_bind_text(st, 5, text);
	ics_stmt_bind_int(st, 6, ics_now_us());
	if (!ics_stmt_run(st, error))
		return -1;
	id = ics_store_last_insert_id(r->store);
	/* The worker waits for the store lock, which the creating
	 * transaction holds until it ends; see claim(). */
	submit(r, id);
	return id;
}

gboolean ics_task_cancel(IcsTaskRunner *r, gint64 id, GError **error)
{
	g_autoptr(IcsStmt) st =
		ics_store_stmt(r->store, "SELECT state FROM tasks WHERE id = ?", error);
	g_autofree char *state = NULL;
	int rc;

	if (st == NULL)
		return FALSE;
	ics_stmt_bind_int(st, 1, id);
	rc = ics_stmt_step(st, error);
	if (rc < 0)
		return FALSE;
	if (rc == SQLITE_DONE) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND,
			    "task %" G_GINT64_FORMAT " does not exist", id);
		return FALSE;
	}
	state = g_strdup(ics_stmt_text(st, 0));
	ics_stmt_release(g_steal_pointer(&st));
	if (!g_str_equal(state, "queued") && !g_str_equal(state, "running")) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
			    "task %" G_GINT64_FORMAT " already ended (%s)", id, state);
		return FALSE;
	}
	{
		g_autoptr(IcsStmt) up = ics_store_stmt(
			r->store,
			"UPDATE tasks SET cancel_requested = 1,"
			" state = CASE WHEN state = 'queued' THEN 'cancelled' ELSE state END,"
			" ended_us = CASE WHEN state = 'queued' THEN ? ELSE ended_us END WHERE id "
			"= ?",
			error);

		if (up == NULL)
			return FALSE;
		ics_stmt_bind_int(up, 1, ics_now_us());
		ics_stmt_bind_int(up, 2, id);
		if (!ics_stmt_run(up, error))
			return FALSE;
	}
	g_mutex_lock(&r->lock);
	IcsTaskContext *ctx = g_hash_table_lookup(r->running, &id);
	if (ctx)
		g_atomic_int_set(&ctx->cancelled, 1);
	g_mutex_unlock(&r->lock);
	return TRUE;
}

#define TASK_COLUMNS                                                                               \
	"id, kind, object_type, object_id, owner_id, state, progress, message, result, error,"     \
	" cancel_requested, created_us, started_us, ended_us"

static json_t *time_or_null(IcsStmt *st, int col)
{
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return json_null();
	g_autofree char *t = ics_timestamp_format(sqlite3_column_int64(st, col));
	return json_string(t);
}

static json_t *task_json(IcsStmt *st)
{
	const char *result = ics_stmt_text(st, 8);
	json_t *res = result ? json_loads(result, JSON_DECODE_ANY, NULL) : NULL;
	g_autofree char *created = ics_timestamp_format(sqlite3_column_int64(st, 11));

	return json_pack("{s:I, s:s, s:s?, s:s?, s:s, s:i, s:s, s:o, s:s?, s:b, s:s, s:o, s:o}",
			 "id", (json_int_t)sqlite3_column_int64(st, 0), "kind",
			 ics_stmt_text(st, 1), "object_type", ics_stmt_text(st, 2), "object_id",
			 ics_stmt_text(st, 3), "state", ics_stmt_text(st, 5), "progress",
			 sqlite3_column_int(st, 6), "message", ics_stmt_text(st, 7), "result",
			 res ? res : json_null(), "error", ics_stmt_text(st, 9), "cancel_requested",
			 sqlite3_column_int(st, 10), "created_at", created, "started_at",
			 time_or_null(st, 12), "ended_at", time_or_null(st, 13));
}

json_t *ics_task_get(IcsStore *store, gint64 id, gint64 *owner_id, GError **error)
{
	g_autoptr(IcsStmt) st =
		ics_store_stmt(store, "SELECT " TASK_COLUMNS " FROM tasks WHERE id = ?", error);
	int rc;

	if (st == NULL)
		return NULL;
	ics_stmt_bind_int(st, 1, id);
	rc = ics_stmt_step(st, error);
	if (rc < 0)
		return NULL;
	if (rc == SQLITE_DONE) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND,
			    "task %" G_GINT64_FORMAT " does not exist", id);
		return NULL;
	}
	if (owner_id)
		*owner_id = sqlite3_column_int64(st, 4);
	return task_json(st);
}

json_t *ics_task_list(IcsStore *store, gint64 before, gint64 limit, gint64 owner_id, GError **error)
{
	g_autoptr(IcsStmt) st =
		ics_store_stmt(store,
			       "SELECT " TASK_COLUMNS " FROM tasks WHERE (?1 = 0 OR id < ?1)"
			       " AND (?2 = 0 OR owner_id = ?2) ORDER BY id DESC LIMIT ?3",
			       error);
	g_autoptr(json_t) items = json_array();
	gint64 last = 0;
	int rc, n = 0;

	if (st == NULL)
		return NULL;
	ics_stmt_bind_int(st, 1, before);
	ics_stmt_bind_int(st, 2, owner_id);
	ics_stmt_bind_int(st, 3, limit + 1);
	while ((rc = ics_stmt_step(st, error)) == SQLITE_ROW) {
		if (n++ == limit)
			break;
		last = sqlite3_column_int64(st, 0);
		json_array_append_new(items, task_json(st));
	}
	if (rc < 0)
		return NULL;
	return json_pack("{s:O, s:o}", "items", items, "next",
			 rc == SQLITE_ROW ? json_integer(last) : json_null());
}

gint64 ics_task_id(IcsTaskContext *ctx)
{
	return ctx->id;
}

const char *ics_task_object_id(IcsTaskContext *ctx)
{
	return ctx->object_id;
}

void *ics_task_data(IcsTaskContext *ctx)
{
	return ctx->kind ? ctx->kind->data : NULL;
}

gboolean ics_task_cancelled(IcsTaskContext *ctx)
{
	return g_atomic_int_get(&ctx->cancelled) != 0;
}

const volatile gint *ics_task_cancel_flag(IcsTaskContext *ctx)
{
	return &ctx->cancelled;
}

void ics_task_set_cancelled_error(GError **error)
{
	g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT, "cancelled");
}

void ics_task_progress(IcsTaskContext *ctx, guint percent, const char *message)
{
	IcsTaskRunner *r = ctx->runner;
	g_autoptr(GError) err = NULL;

	ics_store_lock(r->store);
	{
		g_autoptr(IcsStmt) st = ics_store_stmt(
			r->store, "UPDATE tasks SET progress = ?, message = ? WHERE id = ?", &err);

		if (st) {
			ics_stmt_bind_int(st, 1, MIN(percent, 100));
			ics_stmt_bind_text(st, 2, message ? message : "");
			ics_stmt_bind_int(st, 3, ctx->id);
			ics_stmt_run(st, &err);
		}
	}
	ics_store_unlock(r->store);
	if (err)
		ics_warning("task %" G_GINT64_FORMAT ": cannot record progress: %s", ctx->id,
			    err->message);
	publish(r, ctx->id);
}

static json_t *test_sleep(IcsTaskContext *ctx, const json_t *params, GError **error)
{
	gint64 ms = json_integer_value(json_object_get(params, "ms"));
	gint64 steps = json_integer_value(json_object_get(params, "steps"));

	steps = CLAMP(steps, 1, 100);
	for (gint64 i = 0; i < steps; i++) {
		if (ics_task_cancelled(ctx)) {
			ics_task_set_cancelled_error(error);
			return NULL;
		}
		g_usleep(CLAMP(ms, 0, 600000) * 1000 / steps);
		ics_task_progress(ctx, (guint)((i + 1) * 100 / steps), "sleeping");
	}
	if (json_is_true(json_object_get(params, "fail"))) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_IO, "failed as asked");
		return NULL;
	}
	return json_pack("{s:I}", "slept_ms", (json_int_t)ms);
}

const IcsTaskKind ics_task_kind_test_sleep = { "test.sleep", test_sleep, TRUE, NULL };
