/*
 * tls_fixture.c: a self-signed certificate with GnuTLS's x509 API, for
 * the test servers (fake-managerd, test_manager_health) and the
 * certificates an operator installs (named otherwise than localhost).
 */
#include "config.h"

#include <arpa/inet.h>
#include <string.h>
#include <time.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "ics/error.h"
#include "tls_fixture.h"

static gboolean save(const char *path, const gnutls_datum_t *d, int mode, GError **error)
{
	g_autoptr(GError) err = NULL;

	if (!g_file_set_contents_full(path, (const char *)d->data, d->size,
				      G_FILE_SET_CONTENTS_CONSISTENT, mode, &err)) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_IO, "%s", err->message);
		return FALSE;
	}
	return TRUE;
}

gboolean tls_fixture_make_cert(const char *cert_path, const char *key_path, GError **error)
{
	return tls_fixture_make_cert_named(cert_path, key_path, NULL, error);
}

gboolean tls_fixture_make_cert_named(const char *cert_path, const char *key_path, const char *name,
				     GError **error)
{
	const char *cn = name ? name : "localhost";
	gnutls_x509_privkey_t key = NULL;
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t kpem = { 0 }, cpem = { 0 };
	guint8 serial[8] = { 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x01 };
	struct in_addr lo4;
	struct in6_addr lo6;
	time_t now = time(NULL);
	gboolean ok = FALSE;
	int rc;

	inet_pton(AF_INET, "127.0.0.1", &lo4);
	inet_pton(AF_INET6, "::1", &lo6);
	if ((rc = gnutls_x509_privkey_init(&key)) < 0 ||
	    (rc = gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
					       GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1),
					       0)) < 0 ||
	    (rc = gnutls_x509_crt_init(&crt)) < 0 ||
	    (rc = gnutls_x509_crt_set_version(crt, 3)) < 0 ||
	    (rc = gnutls_x509_crt_set_serial(crt, serial, sizeof(serial))) < 0 ||
	    (rc = gnutls_x509_crt_set_activation_time(crt, now - 3600)) < 0 ||
	    (rc = gnutls_x509_crt_set_expiration_time(crt, now + 86400)) < 0 ||
	    (rc = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, cn,
						strlen(cn))) < 0 ||
	    (rc = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, cn, strlen(cn),
						       GNUTLS_FSAN_SET)) < 0 ||
	    (name == NULL &&
	     (rc = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, &lo4,
							sizeof(lo4), GNUTLS_FSAN_APPEND)) < 0) ||
	    (name == NULL &&
	     (rc = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, &lo6,
							sizeof(lo6), GNUTLS_FSAN_APPEND)) < 0) ||
	    (rc = gnutls_x509_crt_set_basic_constraints(crt, 0, -1)) < 0 ||
	    (rc = gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE)) < 0 ||
	    (rc = gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER, 0)) < 0 ||
	    (rc = gnutls_x509_crt_set_key(crt, key)) < 0 ||
	    (rc = gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0)) < 0 ||
	    (rc = gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, &kpem)) < 0 ||
	    (rc = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &cpem)) < 0) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_IO, "test certificate: %s",
			    gnutls_strerror(rc));
		goto out;
	}
	ok = save(key_path, &kpem, 0600, error) && save(cert_path, &cpem, 0644, error);
out:
	gnutls_free(kpem.data);
	gnutls_free(cpem.data);
	if (crt)
		gnutls_x509_crt_deinit(crt);
	if (key)
		gnutls_x509_privkey_deinit(key);
	return ok;
}
