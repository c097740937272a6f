/*
 * ics/manager/directory.h: LDAP directory domains -- where directory users
 * come from, how their passwords are checked and which ICS roles their
 * groups grant.
 *
 * A domain names an LDAP server (ldaps://, or ldap:// upgraded with
 * StartTLS; plain ldap:// only with "insecure" and only to a loopback
 * address), the CA certificate that must have signed the server's
 * certificate (none: the system's trust store), a service account (bind
 * DN and password, the password stored sealed), where and how to find
 * users (base, filter, login attribute, optionally a filter of disabled
 * users) and groups (base, filter, member attribute), and a mapping from
 * group DNs to ICS roles.
 *
 * Directory users are rows of the users table marked with their domain:
 * their password is never stored (a login binds to the directory as the
 * user), their roles and enabled flag come from the directory and change
 * only by a sync.  Deleting a domain deletes its users, and with them
 * their sessions, keys and roles.
 *
 * The functions on the table (create, update, delete, get, list) run in
 * the caller's transaction or reader; ics_directory_load opens the sealed
 * password for a connection.
 */
#ifndef ICS_MANAGER_DIRECTORY_H
#define ICS_MANAGER_DIRECTORY_H

#include <glib.h>
#include <jansson.h>

#include "ics/manager/seal.h"
#include "ics/manager/store.h"

typedef struct {
	char *group_dn; /* normalised */
	char *role;
} IcsDirectoryGrant;

/* A domain's settings, its bind password open (wiped on free). */
typedef struct {
	gint64 id;
	char *name;
	char *url;
	gboolean insecure;
	char *ca_certificate; /* PEM, or NULL */
	char *bind_dn;
	char *bind_password;
	char *user_base;
	char *user_filter;
	char *login_attribute;
	char *disabled_filter; /* or NULL */
	char *group_base;      /* or NULL: no group search, no roles */
	char *group_filter;
	char *member_attribute;
	guint sync_period_s; /* 0: no periodic sync */
	GPtrArray *grants;   /* IcsDirectoryGrant* */
} IcsDirectoryConfig;

void ics_directory_config_free(IcsDirectoryConfig *cfg);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(IcsDirectoryConfig, ics_directory_config_free)

/* Create domain @body (the API's DirectoryCreate) in the caller's write
 * transaction: INVALID_ARGUMENT naming the field, CONFLICT when the name
 * is taken or a group maps to two builtin roles. */
gboolean ics_directory_create(IcsSealer *sealer, IcsStore *store, const json_t *body,
			      GError **error);
/* Change the fields of @body (DirectoryUpdate) of domain @name. */
gboolean ics_directory_update(IcsSealer *sealer, IcsStore *store, const char *name,
			      const json_t *body, GError **error);
/* Delete domain @name and its users; NOT_FOUND. */
gboolean ics_directory_delete(IcsStore *store, const char *name, GError **error);
/* The domain as JSON, never its password; NOT_FOUND. */
json_t *ics_directory_get(IcsStore *store, const char *name, GError **error);
/* {"items": [...]} in name order. */
json_t *ics_directory_list(IcsStore *store, GError **error);
/* The settings of domain @name (or, with @name NULL, of id @id), the
 * password unsealed (the caller holds a reader or the lock); NOT_FOUND. */
IcsDirectoryConfig *ics_directory_load(IcsSealer *sealer, IcsStore *store, const char *name,
				       gint64 id, GError **error);
/* The names of every domain (g_strfreev). */
GStrv ics_directory_names(IcsStore *store, GError **error);

/* Record the outcome of a sync of domain @id (the caller holds a write
 * transaction): @error_text NULL for a success. */
gboolean ics_directory_record_sync(IcsStore *store, gint64 id, gint64 users, const char *error_text,
				   GError **error);

#endif /* ICS_MANAGER_DIRECTORY_H */
