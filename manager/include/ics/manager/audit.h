/*
 * ics/manager/audit.h: the audit trail of mutating API calls.
 *
 * One record per mutating call, written after the call ended whatever its
 * outcome -- including calls refused for lack of authentication or
 * permission and calls with a malformed body: who (user name or the name
 * tried at login, "-" when unknown), what (the route's action, "vm.create"),
 * on which object (type and id), the result and HTTP status, the reason of
 * a failure (the error message, which never holds a request body), when it
 * started and ended, and the client address.  Request bodies are never
 * recorded: they may hold passwords.
 */
#ifndef ICS_MANAGER_AUDIT_H
#define ICS_MANAGER_AUDIT_H

#include <glib.h>
#include <jansson.h>

#include "ics/manager/store.h"

typedef struct {
	const char *user;
	const char *action;
	const char *object_type;
	const char *object_id;
	guint http_status;
	const char *reason; /* NULL on success */
	const char *client;
	gint64 started_us;
	gint64 ended_us;
} IcsAuditRecord;

/* Append @rec (takes the store lock itself; its own transaction).  Text
 * that is not UTF-8 is stored repaired (U+FFFD for bad bytes). */
gboolean ics_audit_append(IcsStore *store, const IcsAuditRecord *rec, GError **error);

/* Retention: delete the records older than @max_age_days and those beyond
 * the newest @max_rows, in one transaction, then record the purge itself
 * (action "audit.retention", object id saying how many and why) when it
 * deleted anything.  *purged gets the count.  Takes the lock itself. */
gboolean ics_audit_apply_retention(IcsStore *store, guint max_age_days, guint max_rows,
				   gint64 *purged, GError **error);

typedef struct {
	const char *user;
	const char *action;
	const char *object_type;
	const char *object_id;
	const char *result; /* "success" | "failure" */
	gint64 since_us;    /* 0 = no bound */
	gint64 until_us;    /* 0 = no bound */
	gint64 before_id;   /* keyset: records with a smaller id; 0 = newest */
	gint64 limit;
} IcsAuditQuery;

/* {"items": [record...], "next": id-or-null}, newest first (the caller holds
 * the lock). */
json_t *ics_audit_search(IcsStore *store, const IcsAuditQuery *q, GError **error);

typedef enum { ICS_AUDIT_CSV, ICS_AUDIT_JSONL } IcsAuditFormat;
/* Every matching record (ignoring limit), oldest first, as CSV with a
 * header line or as JSON lines. */
GString *ics_audit_export(IcsStore *store, const IcsAuditQuery *q, IcsAuditFormat format,
			  GError **error);

#endif /* ICS_MANAGER_AUDIT_H */
