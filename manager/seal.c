/*
 * seal.c: AES-256-GCM sealing of the secrets the manager must read back
 * (API key secrets, TOTP secrets, directory bind passwords).
 *
 * One key for all of them, in the state directory: what protects one
 * protects the others, and a backup that holds the database but not the
 * key file holds no usable secret.  GCM needs a nonce that never repeats
 * under a key; 96 random bits per seal keep the chance of a repeat
 * negligible for far more seals than a manager ever makes.  The associated
 * data binds each blob to its row, so swapping blobs between rows is
 * detected as tampering.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "ics/error.h"
#include "ics/manager/seal.h"

#define SEAL_KEY_BYTES 32
#define SEAL_NONCE_BYTES 12
#define SEAL_TAG_BYTES 16

struct IcsSealer {
	guint8 key[SEAL_KEY_BYTES];
	char *path;
};

void ics_sealer_free(IcsSealer *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s->key, sizeof(s->key));
	g_free(s->path);
	g_free(s);
}

IcsSealer *ics_sealer_open(const char *key_path, GError **error)
{
	g_autoptr(IcsSealer) s = g_new0(IcsSealer, 1);
	g_autofree char *data = NULL;
	gsize len = 0;
	int fd;

	s->path = g_strdup(key_path);
	if (g_file_get_contents(key_path, &data, &len, NULL)) {
		if (len != SEAL_KEY_BYTES) {
			explicit_bzero(data, len);
			g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT,
				    "sealing key %s has %" G_GSIZE_FORMAT
				    " bytes, expected %d; restore it from backup (API keys, "
				    "second factors and directory passwords cannot be read "
				    "without it)",
				    key_path, len, SEAL_KEY_BYTES);
			return NULL;
		}
		memcpy(s->key, data, SEAL_KEY_BYTES);
		explicit_bzero(data, len);
		return g_steal_pointer(&s);
	}
	if (gnutls_rnd(GNUTLS_RND_KEY, s->key, SEAL_KEY_BYTES) != 0) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_IO, "no random bytes for %s", key_path);
		return NULL;
	}
	fd = open(key_path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		ics_error_set_errno(error, errno, "cannot create %s", key_path);
		return NULL;
	}
	if (write(fd, s->key, SEAL_KEY_BYTES) != SEAL_KEY_BYTES || fsync(fd) != 0) {
		ics_error_set_errno(error, errno, "cannot write %s", key_path);
		close(fd);
		unlink(key_path);
		return NULL;
	}
	close(fd);
	return g_steal_pointer(&s);
}

static gboolean aead(IcsSealer *s, gboolean seal, const char *aad, const void *in, gsize in_len,
		     void *out, gsize *out_len, const guint8 *nonce)
{
	gnutls_datum_t k = { s->key, SEAL_KEY_BYTES };
	gnutls_aead_cipher_hd_t h;
	int rc;

	if (gnutls_aead_cipher_init(&h, GNUTLS_CIPHER_AES_256_GCM, &k) < 0)
		return FALSE;
	if (seal)
		rc = gnutls_aead_cipher_encrypt(h, nonce, SEAL_NONCE_BYTES, aad, strlen(aad),
						SEAL_TAG_BYTES, in, in_len, out, out_len);
	else
		rc = gnutls_aead_cipher_decrypt(h, nonce, SEAL_NONCE_BYTES, aad, strlen(aad),
						SEAL_TAG_BYTES, in, in_len, out, out_len);
	gnutls_aead_cipher_deinit(h);
	return rc >= 0;
}

guint8 *ics_seal(IcsSealer *s, const char *aad, const void *plain, gsize len, gsize *blob_len,
		 GError **error)
{
	gsize total = SEAL_NONCE_BYTES + len + SEAL_TAG_BYTES, ct_len = len + SEAL_TAG_BYTES;
	g_autofree guint8 *blob = g_malloc(total);

	if (gnutls_rnd(GNUTLS_RND_NONCE, blob, SEAL_NONCE_BYTES) != 0) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_IO, "no random bytes to seal a secret");
		return NULL;
	}
	if (!aead(s, TRUE, aad, plain, len, blob + SEAL_NONCE_BYTES, &ct_len, blob)) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_IO, "cannot seal the secret of %s", aad);
		return NULL;
	}
	*blob_len = SEAL_NONCE_BYTES + ct_len;
	return g_steal_pointer(&blob);
}

char *ics_unseal(IcsSealer *s, const char *aad, const guint8 *blob, gsize blob_len, gsize *len,
		 GError **error)
{
	gsize out_len;
	char *plain;

	if (blob == NULL || blob_len < SEAL_NONCE_BYTES + SEAL_TAG_BYTES) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_IO, "the sealed secret of %s is damaged",
			    aad);
		return NULL;
	}
	out_len = blob_len - SEAL_NONCE_BYTES;
	plain = g_malloc0(out_len + 1);
	if (!aead(s, FALSE, aad, blob + SEAL_NONCE_BYTES, blob_len - SEAL_NONCE_BYTES, plain,
		  &out_len, blob)) {
		g_free(plain);
		g_set_error(error, ICS_ERROR, ICS_ERROR_IO,
			    "the sealed secret of %s cannot be opened (damaged, or %s is not "
			    "the key it was sealed with)",
			    aad, s->path);
		return NULL;
	}
	plain[out_len] = '\0';
	if (len)
		*len = out_len;
	return plain;
}

void ics_unsealed_free(char *plain)
{
	if (plain == NULL)
		return;
	explicit_bzero(plain, strlen(plain));
	g_free(plain);
}
