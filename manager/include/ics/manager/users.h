/*
 * ics/manager/users.h: local user accounts in the manager database.
 *
 * A user has a unique name, a yescrypt password hash, an enabled flag and
 * the login-failure state of login_policy.c; roles are kept by authz.c.
 * Every function here expects the caller to hold the store lock (and a
 * write transaction for changes).
 */
#ifndef ICS_MANAGER_USERS_H
#define ICS_MANAGER_USERS_H

#include <glib.h>
#include <jansson.h>

#include "ics/manager/store.h"

typedef struct {
	gint64 id;
	char *name;
	char *password_hash;
	gboolean enabled;
	gint64 failed_logins;
	gint64 locked_until_us;
	gint64 created_us;
	gint64 updated_us;
	/* The account must use a second factor (totp.h). */
	gboolean second_factor_required;
	/* A directory user: its domain (id and name) and DN; 0 and NULL for a
	 * local user (directory.h). */
	gint64 directory_id;
	char *directory;
	char *directory_dn;
} IcsUser;

void ics_user_free(IcsUser *user);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(IcsUser, ics_user_free)

/* ICS_ERROR_NOT_FOUND 'user "x" does not exist'. */
IcsUser *ics_user_get(IcsStore *store, const char *name, GError **error);
IcsUser *ics_user_get_by_id(IcsStore *store, gint64 id, GError **error);
/* New user; ICS_ERROR_CONFLICT when the name is taken.  Returns the id or
 * -1. */
gint64 ics_user_insert(IcsStore *store, const char *name, const char *password_hash,
		       gboolean enabled, GError **error);
gboolean ics_user_set_password(IcsStore *store, gint64 id, const char *password_hash,
			       GError **error);
gboolean ics_user_set_enabled(IcsStore *store, gint64 id, gboolean enabled, GError **error);
gboolean ics_user_set_second_factor_required(IcsStore *store, gint64 id, gboolean required,
					     GError **error);
/* Delete; the user's sessions and keys go with it. */
gboolean ics_user_delete(IcsStore *store, gint64 id, GError **error);
gint64 ics_user_count(IcsStore *store, GError **error);
/* Enabled users holding the administrator role. */
gint64 ics_user_admin_count(IcsStore *store, GError **error);
/* Make @id a user of directory @directory_id with DN @dn. */
gboolean ics_user_set_directory(IcsStore *store, gint64 id, gint64 directory_id, const char *dn,
				GError **error);
/* A directory user's password, roles and enabled flag are the
 * directory's: CONFLICT saying so for @user (what: "roles"). */
gboolean ics_user_check_local(const IcsUser *user, const char *what, GError **error);

/* {"name", "enabled", "roles": [...], "locked", "created_at", "updated_at",
 * "second_factor_required", "second_factor_enrolled", "directory" (the
 * domain's name or null)}: never the hash. */
json_t *ics_user_to_json(IcsStore *store, const IcsUser *user, GError **error);
/* Users after @after (name order; NULL = from the start), at most @limit. */
json_t *ics_user_list(IcsStore *store, const char *after, gint64 limit, GError **error);

#endif /* ICS_MANAGER_USERS_H */
