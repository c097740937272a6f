/*
 * password.c: yescrypt hashing through libxcrypt.
 *
 * crypt_gensalt_ra() with the "$y$" prefix and count 0 picks libxcrypt's
 * default yescrypt cost and reads the salt from the kernel's random source.
 * struct crypt_data is large (tens of KiB), so it is heap-allocated and
 * wiped after use: it held the clear-text password.
 */
#include "config.h"

#include <crypt.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "ics/error.h"
#include "ics/manager/password.h"

gboolean ics_secret_equal(const char *a, const char *b)
{
	gsize la = strlen(a);

	/* Lengths are public (hash and token formats fix them). */
	return la == strlen(b) && gnutls_memcmp(a, b, la) == 0;
}

static char *hash_with(const char *password, const char *setting)
{
	struct crypt_data *cd = g_new0(struct crypt_data, 1);
	const char *h = crypt_r(password, setting, cd);
	char *out = NULL;

	if (h != NULL && h[0] != '*')
		out = g_strdup(h);
	explicit_bzero(cd, sizeof(*cd));
	g_free(cd);
	return out;
}

char *ics_password_hash(const char *password, GError **error)
{
	char *setting = crypt_gensalt_ra("$y$", 0, NULL, 0);
	char *h;

	if (setting == NULL) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_IO,
			    "cannot make a yescrypt salt "
			    "(libxcrypt without yescrypt, or no random source)");
		return NULL;
	}
	h = hash_with(password, setting);
	free(setting);
	if (h == NULL)
		g_set_error(error, ICS_ERROR, ICS_ERROR_IO, "yescrypt hashing failed");
	return h;
}

gboolean ics_password_verify(const char *password, const char *hash)
{
	g_autofree char *h = NULL;

	if (hash == NULL || strncmp(hash, "$y$", 3) != 0)
		return FALSE;
	h = hash_with(password, hash);
	return h != NULL && ics_secret_equal(h, hash);
}

gboolean ics_password_verify_dummy(const char *password)
{
	static gsize once;
	static char *dummy;

	if (g_once_init_enter(&once)) {
		dummy = ics_password_hash("ics-dummy-password", NULL);
		g_once_init_leave(&once, 1);
	}
	if (dummy)
		ics_password_verify(password, dummy);
	return FALSE;
}

char *ics_password_generate(GError **error)
{
	static const char *const classes[] = { "abcdefghijkmnopqrstuvwxyz",
					       "ABCDEFGHJKLMNPQRSTUVWXYZ", "23456789", "-_.+=" };
	guint8 rnd[20];
	char *pw;

	if (gnutls_rnd(GNUTLS_RND_KEY, rnd, sizeof(rnd)) != 0) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_IO, "no random bytes for a password");
		return NULL;
	}
	pw = g_malloc0(sizeof(rnd) + 1);
	for (guint i = 0; i < sizeof(rnd); i++) {
		/* The first four characters cover every class. */
		const char *cls = classes[i < 4 ? i : rnd[i] % 3];

		pw[i] = cls[rnd[i] % strlen(cls)];
	}
	explicit_bzero(rnd, sizeof(rnd));
	return pw;
}
