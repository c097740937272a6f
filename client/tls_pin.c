/*
 * tls_pin.c: the pin of a certificate's public key, for
 * CURLOPT_PINNEDPUBLICKEY.
 *
 * A pin names a key, not a certificate: "sha256//" and the base64 of the
 * SHA-256 of the DER SubjectPublicKeyInfo (RFC 7469's pin-sha256, the form
 * libcurl and `curl --pinnedpubkey` take).  It survives a certificate
 * renewed on the same key and changes when the key does, which is what a
 * probe of "this manager" must notice.  GnuTLS parses the PEM and exports
 * the SubjectPublicKeyInfo; nothing here does ASN.1 by hand.
 */
#include "config.h"

#include <errno.h>

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "ics/client.h"
#include "ics/error.h"

char *ics_rest_pin_from_pem(const char *pem, gsize len, GError **error)
{
	gnutls_datum_t in = { (unsigned char *)pem, (unsigned int)len };
	gnutls_datum_t spki = { 0 };
	gnutls_x509_crt_t crt = NULL;
	gnutls_pubkey_t pub = NULL;
	guint8 digest[32];
	char *pin = NULL;
	int rc;

	if ((rc = gnutls_x509_crt_init(&crt)) < 0 || (rc = gnutls_pubkey_init(&pub)) < 0) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_IO, "GnuTLS: %s", gnutls_strerror(rc));
		goto out;
	}
	if ((rc = gnutls_x509_crt_import(crt, &in, GNUTLS_X509_FMT_PEM)) < 0) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_PARSE, "no PEM certificate (%s)",
			    gnutls_strerror(rc));
		goto out;
	}
	if ((rc = gnutls_pubkey_import_x509(pub, crt, 0)) < 0 ||
	    (rc = gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &spki)) < 0 ||
	    (rc = gnutls_hash_fast(GNUTLS_DIG_SHA256, spki.data, spki.size, digest)) < 0) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_PARSE,
			    "cannot read the certificate's public key (%s)", gnutls_strerror(rc));
		goto out;
	}
	{
		g_autofree char *b64 = g_base64_encode(digest, sizeof(digest));

		pin = g_strconcat("sha256//", b64, NULL);
	}
out:
	gnutls_free(spki.data);
	if (pub)
		gnutls_pubkey_deinit(pub);
	if (crt)
		gnutls_x509_crt_deinit(crt);
	return pin;
}

char *ics_rest_pin_from_cert_file(const char *cert_file, GError **error)
{
	g_autofree char *pem = NULL;
	g_autoptr(GError) err = NULL;
	gsize len = 0;
	char *pin;

	if (!g_file_get_contents(cert_file, &pem, &len, &err)) {
		int e = err->code == G_FILE_ERROR_NOENT	  ? ENOENT
			: err->code == G_FILE_ERROR_ACCES ? EACCES
							  : EIO;

		g_set_error(error, ICS_ERROR, ics_error_code_from_errno(e), "%s", err->message);
		return NULL;
	}
	pin = ics_rest_pin_from_pem(pem, len, error);
	if (pin == NULL)
		ics_error_prefix(error, "%s: ", cert_file);
	return pin;
}
