/*
 * ics/manager/authz.h: permissions, roles, and who may do what.
 *
 * A permission names one kind of operation ("vm.write").  A role is a set
 * of permissions; a user holds roles.  Three roles are built in and
 * mutually exclusive -- a user holds at most one of them:
 *   administrator  every permission;
 *   readonly       every *.read permission except audit.read and
 *                  directory.read (a directory's settings name its service
 *                  account and layout);
 *   vm_manager     vm.read, vm.write, vm.power, task.read, event.read, but
 *                  only on the VMs (and their tasks and events) the user
 *                  owns.
 * Custom roles are any set of permissions and add to a user's builtin role;
 * what they grant is not limited to owned objects.
 *
 * A principal is an authenticated caller with its permission set, each
 * permission held with a scope: everything, or only what the user owns.
 * Nobody grants what they do not hold: assigning roles, creating or
 * deleting a role, and changing a user all require the caller to hold
 * every permission involved (ics_principal_covers).  Which permission
 * guards which route and which request field is the table of
 * authz_rules.c.
 */
#ifndef ICS_MANAGER_AUTHZ_H
#define ICS_MANAGER_AUTHZ_H

#include <glib.h>
#include <jansson.h>

#include "ics/manager/store.h"

/* Every permission, NULL-terminated. */
extern const char *const ics_permissions[];
gboolean ics_permission_known(const char *name);

typedef enum {
	ICS_SCOPE_NONE,
	ICS_SCOPE_OWNED, /* only objects whose owner is the principal */
	ICS_SCOPE_ALL,
} IcsScope;

struct IcsPrincipal {
	gint64 user_id;
	char *name;
	GHashTable *permissions; /* name -> GINT_TO_POINTER(IcsScope) */
	char *auth;		 /* "session" or "apikey" */
	gint64 session_id;	 /* for logout; 0 with an API key */
	/* The session's IcsSessionStage (session.h); a session that is not
	 * full holds no permission. */
	int stage;
	char *apikey_id;
};
typedef struct IcsPrincipal IcsPrincipal;

/* Load the user's roles and permissions (the caller holds the lock). */
IcsPrincipal *ics_principal_load(IcsStore *store, gint64 user_id, GError **error);
void ics_principal_free(IcsPrincipal *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(IcsPrincipal, ics_principal_free)

IcsScope ics_principal_scope(const IcsPrincipal *p, const char *permission);
/* May @p do @permission on an object owned by @owner_id (0 = no owner)? */
gboolean ics_principal_can_on(const IcsPrincipal *p, const char *permission, gint64 owner_id);
/* Does @p hold every permission of @other, each at least at @other's
 * scope?  The rule behind "nobody grants what they do not hold". */
gboolean ics_principal_covers(const IcsPrincipal *p, const IcsPrincipal *other);

/* The permissions @roles (names) would give, as a principal (user id 0);
 * INVALID_ARGUMENT for an unknown role.  The caller holds the lock or a
 * reader. */
IcsPrincipal *ics_principal_of_roles(IcsStore *store, const char *const *roles, GError **error);
/* The permissions user @user_id holds, enabled or not (NOT_FOUND when the
 * user does not exist).  The caller holds the lock or a reader. */
IcsPrincipal *ics_principal_of_user(IcsStore *store, gint64 user_id, GError **error);
/* PERMISSION, naming what @p lacks, unless @p covers @other; @what says
 * what was asked ("grant role \"x\""). */
gboolean ics_principal_check_covers(const IcsPrincipal *p, const IcsPrincipal *other,
				    const char *what, GError **error);

/* ---- the authorization table (authz_rules.c) --------------------------- */

typedef enum {
	ICS_ACCESS_PUBLIC,     /* no authentication */
	ICS_ACCESS_ANY_USER,   /* any authenticated caller (own objects only) */
	ICS_ACCESS_PERMISSION, /* the permission, at any scope */
} IcsAccess;

typedef struct IcsRouteRule {
	const char *method;
	const char *pattern;
	IcsAccess access;
	const char *permission;	       /* ICS_ACCESS_PERMISSION */
	const char *object_permission; /* checked on the owner of the object the
					* route names (NULL: none) */
	const char *note;	       /* what else the handler checks */
	/* Also open to a session that is not full -- waiting for a second
	 * factor, or limited to enrolling one (session.h); the handler
	 * decides what such a session may do.  Every other route answers
	 * such a session 403 "second-factor-required". */
	gboolean partial_session;
} IcsRouteRule;

typedef struct {
	const char *id;		/* "host-path" */
	const char *permission; /* NULL: never allowed */
	const char *what;
} IcsFieldRule;

/* Every route's row, NULL-terminated; and the field rules. */
extern const IcsRouteRule ics_route_rules[];
extern const IcsFieldRule ics_field_rules[];
/* The row of a route (NULL: none -- a route without a row never serves). */
const IcsRouteRule *ics_route_rule_find(const char *method, const char *pattern);
/* The field rule @id (aborts on an unknown id: a programming error). */
const IcsFieldRule *ics_field_rule(const char *id);
/* May @p do what field rule @id guards (its permission on every object)?
 * FALSE with PERMISSION, "@what: needs permission ..." or "not allowed to
 * anyone", otherwise. */
gboolean ics_field_rule_check(const IcsPrincipal *p, const char *id, const char *what,
			      GError **error);
const char *ics_access_name(IcsAccess access);
/* Both tables as Markdown, as docs/manager-security.md shows them. */
char *ics_authz_table_markdown(void);

/* ---- roles ------------------------------------------------------------- */

/* Replace the roles of @user_id with @roles (names).  INVALID_ARGUMENT for
 * an unknown role, CONFLICT when two builtin roles are asked for.  The
 * caller holds a write transaction. */
gboolean ics_user_set_roles(IcsStore *store, gint64 user_id, const char *const *roles,
			    GError **error);

/* A custom role; CONFLICT when the name is taken, INVALID_ARGUMENT for an
 * unknown permission.  @second_factor: its holders must use a second
 * factor (totp.h). */
gboolean ics_role_create(IcsStore *store, const char *name, const char *description,
			 const char *const *permissions, gboolean second_factor, GError **error);
/* Set whether holders of role @name (builtin or custom) must use a second
 * factor; NOT_FOUND. */
gboolean ics_role_set_second_factor(IcsStore *store, const char *name, gboolean required,
				    GError **error);
/* CONFLICT for a builtin role or one still held by a user. */
gboolean ics_role_delete(IcsStore *store, const char *name, GError **error);
/* {"name", "builtin", "description", "permissions": [...],
 * "second_factor_required"}; NOT_FOUND. */
json_t *ics_role_get(IcsStore *store, const char *name, GError **error);
/* {"items": [role...]} in name order. */
json_t *ics_role_list(IcsStore *store, GError **error);

#endif /* ICS_MANAGER_AUTHZ_H */
