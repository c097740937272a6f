/*
 * ics/manager/directory_ldap.h: talking to a directory server (OpenLDAP's
 * libldap): connect with TLS and certificate verification, bind, search,
 * check a user's password by binding as the user.
 *
 * Every connection is made for one job and closed after it: nothing is
 * shared between threads, and a server that went away costs one failed
 * connection, not a broken pool.  Connections time out (5 s to connect,
 * 10 s per operation) so a dead server cannot hold a login or a sync
 * forever.  Errors name the domain, the server and what failed
 * ("directory \"corp\": ldaps://ldap1:636: TLS: certificate verification
 * failed; check ca_certificate").
 */
#ifndef ICS_MANAGER_DIRECTORY_LDAP_H
#define ICS_MANAGER_DIRECTORY_LDAP_H

#include <glib.h>

#include "ics/manager/directory.h"

typedef struct IcsLdap IcsLdap;

/* An entry found: its DN and the values of the one attribute asked for. */
typedef struct {
	char *dn;
	GStrv values;
} IcsLdapEntry;

void ics_ldap_entry_free(IcsLdapEntry *e);

/* Connect to @cfg's server (TLS as configured) and bind with its service
 * account.  UNAVAILABLE when the server cannot be reached or TLS fails,
 * PERMISSION when the service bind is refused. */
IcsLdap *ics_ldap_connect(const IcsDirectoryConfig *cfg, GError **error);
void ics_ldap_close(IcsLdap *l);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(IcsLdap, ics_ldap_close)

/* Entries under @base (subtree) matching @filter, with the values of
 * @attr (NULL: none), at most @max (more is an error: a partial list must
 * never be taken for the whole).  IcsLdapEntry* in a GPtrArray. */
GPtrArray *ics_ldap_search(IcsLdap *l, const char *base, const char *filter, const char *attr,
			   guint max, GError **error);

/* Bind on @l as @dn with @password: *@ok FALSE when the directory refuses
 * the credentials (FALSE returned only when the bind could not be
 * tried).  An empty password is refused without asking (it would be an
 * anonymous bind).  @l is no longer bound as the service account after. */
gboolean ics_ldap_check_password(IcsLdap *l, const char *dn, const char *password, gboolean *ok,
				 GError **error);

/* @value escaped for use inside a search filter (RFC 4515); g_free it. */
char *ics_ldap_filter_escape(const char *value);
/* @dn in the canonical form used to compare DNs (RFC 4514, attribute
 * types and values as given but without insignificant spaces, lower
 * case); NULL when it is not a DN. */
char *ics_ldap_dn_normalize(const char *dn);
/* Is @url an ldap:// or ldaps:// URL with a host and nothing else, and,
 * with @insecure, an ldap:// URL to a loopback address?  INVALID_ARGUMENT
 * saying why not. */
gboolean ics_ldap_url_check(const char *url, gboolean insecure, GError **error);
/* Is @filter a parenthesised LDAP filter (balanced, escapes well formed)? */
gboolean ics_ldap_filter_check(const char *filter, GError **error);

#endif /* ICS_MANAGER_DIRECTORY_LDAP_H */
