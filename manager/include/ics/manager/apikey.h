/*
 * ics/manager/apikey.h: access keys (AK/SK) and signed requests.
 *
 * An API client holds an access key id ("AK...") and a secret shown once,
 * at creation.  Each request carries
 *   X-ICS-Date: <unix seconds>
 *   X-ICS-Nonce: <16..64 characters [A-Za-z0-9_-], never reused>
 *   Authorization: ICS-HMAC-SHA256 Credential=<key id>, Signature=<hex>
 * where the signature is HMAC-SHA256(secret, string to sign) and the
 * string to sign is these lines joined by "\n":
 *   ICS-HMAC-SHA256, METHOD, path, canonical query, date, nonce,
 *   hex SHA-256 of the body
 * (canonical query: decoded pairs sorted by key then value, each side
 * percent-encoded except A-Za-z0-9-._~, joined as k=v&k=v).  A request is
 * refused when its date is more than 300 s away from the manager's clock
 * or its nonce was already used with the key within that window, so a
 * captured request cannot be replayed.  See docs/manager-security.md.
 *
 * The manager must know the secret to check an HMAC, so secrets are stored
 * sealed (seal.h: AES-256-GCM under the server key apikey.key), never in
 * clear in the database.
 */
#ifndef ICS_MANAGER_APIKEY_H
#define ICS_MANAGER_APIKEY_H

#include <glib.h>
#include <jansson.h>

#include "ics/manager/http.h"
#include "ics/manager/seal.h"
#include "ics/manager/store.h"

#define ICS_APIKEY_MAX_SKEW_S 300

typedef struct IcsApiKeys IcsApiKeys;

/* Keys whose secrets are sealed with @sealer (borrowed; it outlives them). */
IcsApiKeys *ics_apikeys_new(IcsSealer *sealer);
void ics_apikeys_free(IcsApiKeys *keys);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(IcsApiKeys, ics_apikeys_free)

/* A new key for @user_id (the caller holds a write transaction):
 * {"access_key_id", "secret", "description", "created_at"}.  The only
 * place the secret ever appears. */
json_t *ics_apikey_create(IcsApiKeys *keys, IcsStore *store, gint64 user_id,
			  const char *description, GError **error);
/* The owner of key @id; NOT_FOUND. */
gboolean ics_apikey_owner(IcsStore *store, const char *id, gint64 *user_id, GError **error);
gboolean ics_apikey_delete(IcsStore *store, const char *id, GError **error);
/* Delete every key of @user_id (its credentials were revoked). */
gboolean ics_apikey_delete_user(IcsStore *store, gint64 user_id, GError **error);
/* {"items": [{"access_key_id", "user", "description", "created_at",
 * "last_used_at"}...]}: all keys, or @user_id's when not 0. */
json_t *ics_apikey_list(IcsStore *store, gint64 user_id, GError **error);

/* Check the signature of @req (takes the store lock itself; records the
 * nonce).  On success @user_id and @key_id (g_free it) say who signed.
 * ICS_ERROR_PERMISSION with the reason otherwise. */
gboolean ics_apikey_verify(IcsApiKeys *keys, IcsStore *store, const IcsRequest *req,
			   gint64 *user_id, char **key_id, GError **error);

/* The string to sign for @req with @date and @nonce; g_free it. */
char *ics_apikey_string_to_sign(const IcsRequest *req, const char *date, const char *nonce);
/* Hex HMAC-SHA256 of @text under @secret; g_free it. */
char *ics_apikey_hmac(const char *secret, const char *text);

#endif /* ICS_MANAGER_APIKEY_H */
