/*
 * fence_history.c: what Pacemaker's fencer says about one node -- the
 * newest fencing action against it, and whether it completed.
 *
 * This is the only evidence the takeover decision accepts that a host is
 * dead, so it is read from the fencer itself (libstonithd, synchronous
 * history query), not from logs or the CIB.  The newest entry wins: an old
 * success followed by a pending request is "pending".  A fencer that cannot
 * be reached is UNAVAILABLE, never "no fencing".
 */
#include "config.h"

#include <string.h>

#include <crm/crm.h>
#include <crm/stonith-ng.h>

#include "ics/error.h"
#include "lock_internal.h"

#define FENCE_HISTORY_TIMEOUT_S 10

void ics_fence_record_clear(IcsFenceRecord *rec)
{
	if (!rec)
		return;
	g_free(rec->target);
	g_free(rec->action);
	g_free(rec->delegate);
	memset(rec, 0, sizeof(*rec));
}

/* Entries without a completion time are in progress: they are the newest. */
static gboolean newer(const stonith_history_t *a, const stonith_history_t *b)
{
	gboolean a_open = a->state != st_done && a->state != st_failed;
	gboolean b_open = b->state != st_done && b->state != st_failed;

	if (a_open != b_open)
		return a_open;
	if (a->completed != b->completed)
		return a->completed > b->completed;
	return a->completed_nsec > b->completed_nsec;
}

gboolean ics_fence_history_last(const char *node, IcsFenceRecord *rec, GError **error)
{
	stonith_t *st = stonith_api_new();
	stonith_history_t *hist = NULL;
	const stonith_history_t *best = NULL;
	int rc;

	memset(rec, 0, sizeof(*rec));
	if (!st) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_UNAVAILABLE,
			    "cannot create a fencer connection");
		return FALSE;
	}
	rc = st->cmds->connect(st, "ics-lease", NULL);
	if (rc != pcmk_ok) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_UNAVAILABLE,
			    "cannot reach Pacemaker's fencer to read the fencing history of %s: %s; "
			    "is Pacemaker running on this node?",
			    node, pcmk_strerror(rc));
		stonith_api_delete(st);
		return FALSE;
	}
	rc = st->cmds->history(st, st_opt_sync_call, node, &hist, FENCE_HISTORY_TIMEOUT_S);
	if (rc != pcmk_ok) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_UNAVAILABLE,
			    "cannot read the fencing history of %s: %s", node, pcmk_strerror(rc));
		goto out;
	}
	for (const stonith_history_t *h = hist; h; h = h->next) {
		if (!h->target || strcmp(h->target, node) != 0)
			continue;
		if (!best || newer(h, best))
			best = h;
	}
	rec->state = ICS_FENCE_NONE;
	rec->target = g_strdup(node);
	if (best) {
		rec->state = best->state == st_done     ? ICS_FENCE_DONE
			     : best->state == st_failed ? ICS_FENCE_FAILED
							: ICS_FENCE_PENDING;
		rec->action = g_strdup(best->action);
		rec->delegate = g_strdup(best->delegate);
		if (rec->state != ICS_FENCE_PENDING)
			rec->completed = (gint64)best->completed;
	}
out:
	stonith_history_free(hist);
	st->cmds->disconnect(st);
	stonith_api_delete(st);
	return rc == pcmk_ok;
}
