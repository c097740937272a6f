/*
 * api.h: what the API handler files share (internal to manager/).
 *
 * Each api_*.c file defines the routes of one resource as a table of
 * IcsApiRoute; api_dispatch.c routes, authenticates, checks the route's
 * permission, calls the handler and writes the audit record of mutating
 * routes.  A handler either fills @resp and returns TRUE (any status), or
 * returns FALSE with a GError, which the dispatcher maps to a status and a
 * JSON error body.  A mutating handler does all its writes in one
 * ics_store_begin() ... ics_store_commit() transaction, after any slow
 * work (password hashing) is done.
 */
#ifndef ICS_MANAGER_API_H
#define ICS_MANAGER_API_H

#include <glib.h>
#include <jansson.h>

#include "ics/json.h"
#include "ics/manager/authz.h"
#include "ics/manager/http.h"
#include "ics/manager/login.h"
#include "ics/manager/login_policy.h"
#include "ics/manager/manager.h"
#include "ics/manager/request_schema.h"

typedef gboolean (*IcsApiHandler)(IcsManager *m, IcsRequest *req, IcsResponse *resp,
				  GError **error);

enum {
	ICS_API_MUTATING = 1 << 1, /* audited */
};

/* A route: what serves it and how it is audited.  Who may call it is its
 * row in the authorization table (authz_rules.c), found when the route is
 * registered. */
typedef struct {
	const char *method;
	const char *pattern;
	IcsApiHandler handler;
	guint flags;
	const char *action;	  /* audit action, "vm.create" */
	const char *object_type;  /* audit object type, "vm" */
	const char *object_param; /* path parameter holding the object id */
} IcsApiRoute;

/* A route with its authorization row, as the router holds it. */
typedef struct {
	const IcsApiRoute *route;
	const IcsRouteRule *rule;
} IcsBoundRoute;

/* Route tables, each ending with an entry whose method is NULL. */
extern const IcsApiRoute ics_api_health_routes[];
extern const IcsApiRoute ics_api_session_routes[];
extern const IcsApiRoute ics_api_user_routes[];
extern const IcsApiRoute ics_api_totp_routes[];
extern const IcsApiRoute ics_api_directory_routes[];
extern const IcsApiRoute ics_api_role_routes[];
extern const IcsApiRoute ics_api_apikey_routes[];
extern const IcsApiRoute ics_api_audit_routes[];
extern const IcsApiRoute ics_api_task_routes[];
extern const IcsApiRoute ics_api_event_routes[];
extern const IcsApiRoute ics_api_vm_routes[];
extern const IcsApiRoute ics_api_cluster_routes[];
extern const IcsApiRoute ics_api_host_routes[];
extern const IcsApiRoute ics_api_pool_routes[];
extern const IcsApiRoute ics_api_drs_routes[];
extern const IcsApiRoute ics_api_volume_routes[];
extern const IcsApiRoute ics_api_backup_routes[];
extern const IcsApiRoute ics_api_system_routes[];
extern const IcsApiRoute ics_api_backup_policy_routes[];
extern const IcsApiRoute ics_api_console_routes[];
/* A console asset named after its content hash (cached as immutable). */
gboolean ics_console_name_hashed(const char *name);
extern const IcsApiRoute ics_api_vm_console_routes[];

/* Register the task kinds of api_vms.c (power operations) and api_hosts.c
 * (maintenance). */
void ics_vm_tasks_register(IcsManager *m);
void ics_host_tasks_register(IcsManager *m);
/* ... and api_volumes.c (volume creation and resize). */
void ics_volume_tasks_register(IcsManager *m);

/* Every route table, NULL-terminated. */
const IcsApiRoute *const *ics_api_route_tables(void);
/* Register every table with @router, each route with its row of the
 * authorization table; a route without a row is a programming error
 * (aborts).  The bound routes are added to @bound (kept alive by it). */
void ics_api_register(IcsRouter *router, GPtrArray *bound);
/* The permission the authorization table checks on the object of the
 * request's route (NULL: none). */
const char *ics_api_object_permission(const IcsRequest *req);

/* Answer with the Server-Sent Events stream (api_events.c), only the
 * events about @uuid when it is not NULL. */
gboolean ics_api_event_stream(IcsManager *m, IcsRequest *req, IcsResponse *resp, const char *uuid,
			      GError **error);

/* The request body checked against @schema. */
json_t *ics_api_body(const IcsRequest *req, const IcsSchema *schema, GError **error);
/* The strings of a JSON array (checked by a schema), NULL-terminated and
 * borrowed from it; g_free the vector.  NULL @array gives an empty one. */
const char **ics_api_strv(const json_t *array);
/* ?limit= (1..1000, default 100). */
gboolean ics_api_limit(const IcsRequest *req, gint64 *limit, GError **error);
/* A positive integer path parameter or query value. */
gboolean ics_api_int(const char *text, const char *what, gint64 *out, GError **error);
/* The owner filter a list gets for @perm: 0 (all) or the principal's id. */
gint64 ics_api_owner_filter(const IcsPrincipal *p, const char *perm);

/* The {uuid} path parameter of a VM route, checked and lower-cased in
 * place (INVALID_ARGUMENT when not a uuid). */
gboolean ics_api_vm_uuid(IcsRequest *req, const char **uuid, GError **error);
/* In the caller's read or transaction: NOT_FOUND unless the principal
 * holds the route's object permission (authz_rules.c) on VM @uuid; its
 * owner in @owner (may be NULL). */
gboolean ics_api_vm_access(IcsManager *m, const IcsRequest *req, const char *uuid, gint64 *owner,
			   GError **error);
/* ics_api_vm_access() in a read of its own. */
gboolean ics_api_vm_access_read(IcsManager *m, const IcsRequest *req, const char *uuid,
				GError **error);
/* Inside the write transaction the caller began: create a task (as
 * ics_task_create()), commit and answer 202 with it.  On failure the
 * transaction is rolled back. */
gboolean ics_api_task_accepted(IcsManager *m, IcsResponse *resp, const char *kind,
			       const char *object_type, const char *object_id, gint64 owner_id,
			       const json_t *params, GError **error);
/* Map an error to an HTTP status. */
guint ics_api_status(const GError *error);

#endif /* ICS_MANAGER_API_H */
