/*
 * ics/manager/seal.h: secrets the manager must be able to read back,
 * sealed with AES-256-GCM under one server key.
 *
 * Some secrets cannot be stored as one-way hashes because the manager
 * needs them again: API key secrets (to recompute HMACs), TOTP secrets (to
 * compute codes), a directory's bind password (to bind).  They are stored
 * sealed: a fresh 96-bit nonce, the ciphertext and the 128-bit tag, under a
 * 32-byte key kept in the state directory (apikey.key, mode 0600, created
 * on first start).  The caller gives associated data naming the row the
 * secret belongs to ("apikey:AK...", "totp:12"), so a sealed blob copied to
 * another row does not open.  A stolen database alone opens nothing.
 */
#ifndef ICS_MANAGER_SEAL_H
#define ICS_MANAGER_SEAL_H

#include <glib.h>

typedef struct IcsSealer IcsSealer;

/* Load the key at @key_path, creating it (0600, O_EXCL) when absent. */
IcsSealer *ics_sealer_open(const char *key_path, GError **error);
void ics_sealer_free(IcsSealer *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(IcsSealer, ics_sealer_free)

/* Seal @len bytes of @plain bound to @aad: a blob of *@blob_len bytes
 * (g_free it).  ICS_ERROR_IO when no random nonce can be had. */
guint8 *ics_seal(IcsSealer *s, const char *aad, const void *plain, gsize len, gsize *blob_len,
		 GError **error);
/* Open a blob sealed with the same @aad: the plain text, NUL-terminated
 * (free it with ics_unsealed_free, which wipes it), its length in *@len
 * (may be NULL).  ICS_ERROR_IO when the blob is damaged, was sealed for
 * another row or under another key. */
char *ics_unseal(IcsSealer *s, const char *aad, const guint8 *blob, gsize blob_len, gsize *len,
		 GError **error);
void ics_unsealed_free(char *plain);

#endif /* ICS_MANAGER_SEAL_H */
