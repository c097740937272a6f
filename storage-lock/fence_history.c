/*
 * fence_history.c: what Pacemaker's fencer says about one node -- the
 * newest fencing action against it, and whether it completed.
 *
 * This is the only evidence the takeover decision accepts that a host is
 * dead, so it is read from the fencer itself (libstonithd, synchronous
 * history query), not from logs or the CIB.  Only actions that end a host
 * count: "off" and "reboot".  An "on" (unfencing, `stonith_admin --unfence`)
 * powers a node on or re-grants it access; it says nothing about a host
 * being dead and is skipped.  Among the rest the newest entry wins: an old
 * success followed by a pending request is "pending".  A manual
 * confirmation (`stonith_admin --confirm`) is recorded by Pacemaker 2.1 as a
 * done "off" whose delegate is the literal "a human" (fenced_remote.c,
 * fenced_handle_manual_confirmation): nothing was powered off, an operator
 * asserted it; the record carries that as `manual`.  So does a done record
 * without any delegate: it names no device that acted, and the takeover
 * must not take it for one (ics_fence_delegate_manual).  A fencer that cannot
 * be reached is UNAVAILABLE, never "no fencing".  The time this host read
 * the history (its monotonic clock) is kept: the fencing completed before
 * it, whatever the clocks of the cluster say.
 */
#include "config.h"

#include <string.h>

#include <crm/crm.h>
#include <crm/stonith-ng.h>

#include "ics/error.h"
#include "lock_internal.h"

#define FENCE_HISTORY_TIMEOUT_S 10
/* Pacemaker's delegate of a manual confirmation (fenced_remote.c). */
#define MANUAL_DELEGATE "a human"

gboolean ics_fence_delegate_manual(const char *delegate)
{
	return delegate == NULL || delegate[0] == '\0' || strcmp(delegate, MANUAL_DELEGATE) == 0;
}

/* Only an action that ends the host counts as fencing. */
static gboolean ends_host(const char *action)
{
	return action && (strcmp(action, "off") == 0 || strcmp(action, "reboot") == 0);
}

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
		g_set_error(
			error, ICS_ERROR, ICS_ERROR_UNAVAILABLE,
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
		if (!h->target || strcmp(h->target, node) != 0 || !ends_host(h->action))
			continue;
		if (!best || newer(h, best))
			best = h;
	}
	rec->state = ICS_FENCE_NONE;
	rec->target = g_strdup(node);
	rec->seen_mono = g_get_monotonic_time();
	if (best) {
		rec->state = best->state == st_done	? ICS_FENCE_DONE
			     : best->state == st_failed ? ICS_FENCE_FAILED
							: ICS_FENCE_PENDING;
		rec->action = g_strdup(best->action);
		rec->delegate = g_strdup(best->delegate);
		/* only a done record has an executor to judge */
		rec->manual =
			rec->state == ICS_FENCE_DONE && ics_fence_delegate_manual(best->delegate);
		if (rec->state != ICS_FENCE_PENDING)
			rec->completed = (gint64)best->completed;
	}
out:
	stonith_history_free(hist);
	st->cmds->disconnect(st);
	stonith_api_delete(st);
	return rc == pcmk_ok;
}
