/*
 * tls_cert.c: a self-signed certificate made with GnuTLS's x509 API.
 *
 * ECDSA P-256 because it is fast to generate (first start must not stall)
 * and every TLS client accepts it.  The key is written first with mode
 * 0600 through a temporary file and rename, then the certificate, so a
 * crash leaves either nothing or a usable pair: a key without a
 * certificate is regenerated.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "ics/error.h"
#include "ics/log.h"
#include "ics/manager/tls_cert.h"

/* Through "<path>.tmp", created exclusively and never through a symbolic
 * link: a leftover of a crash is removed first, and a link planted there
 * is refused rather than followed into another file. */
static gboolean write_file(const char *path, const void *data, gsize len, int mode, GError **error)
{
	g_autofree char *tmp = g_strconcat(path, ".tmp", NULL);
	int fd;

	if (unlink(tmp) != 0 && errno != ENOENT) {
		ics_error_set_errno(error, errno, "cannot remove the stale %s", tmp);
		return FALSE;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0) {
		ics_error_set_errno(error, errno, "cannot create %s", tmp);
		return FALSE;
	}
	if (write(fd, data, len) != (ssize_t)len || fsync(fd) != 0) {
		ics_error_set_errno(error, errno, "cannot write %s", tmp);
		close(fd);
		unlink(tmp);
		return FALSE;
	}
	close(fd);
	if (rename(tmp, path) != 0) {
		ics_error_set_errno(error, errno, "cannot rename %s to %s", tmp, path);
		unlink(tmp);
		return FALSE;
	}
	return TRUE;
}

static gboolean gnutls_failed(GError **error, const char *what, int rc)
{
	g_set_error(error, ICS_ERROR, ICS_ERROR_IO, "TLS certificate generation: %s: %s", what,
		    gnutls_strerror(rc));
	return FALSE;
}

static gboolean generate(const char *cert_path, const char *key_path, GError **error)
{
	gnutls_x509_privkey_t key = NULL;
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t kpem = { 0 }, cpem = { 0 };
	guint8 serial[16];
	struct in_addr lo4;
	struct in6_addr lo6;
	const char *host = g_get_host_name();
	time_t now = time(NULL);
	gboolean ok = FALSE;
	int rc;

	if ((rc = gnutls_x509_privkey_init(&key)) < 0 ||
	    (rc = gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
					       GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1),
					       0)) < 0) {
		gnutls_failed(error, "key", rc);
		goto out;
	}
	if ((rc = gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof(serial))) != 0) {
		gnutls_failed(error, "serial number", rc);
		goto out;
	}
	serial[0] &= 0x7f;
	inet_pton(AF_INET, "127.0.0.1", &lo4);
	inet_pton(AF_INET6, "::1", &lo6);
	if ((rc = gnutls_x509_crt_init(&crt)) < 0 ||
	    (rc = gnutls_x509_crt_set_version(crt, 3)) < 0 ||
	    (rc = gnutls_x509_crt_set_serial(crt, serial, sizeof(serial))) < 0 ||
	    (rc = gnutls_x509_crt_set_activation_time(crt, now - 3600)) < 0 ||
	    (rc = gnutls_x509_crt_set_expiration_time(crt, now + 10L * 365 * 86400)) < 0 ||
	    (rc = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, host,
						strlen(host))) < 0 ||
	    (rc = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_ORGANIZATION_NAME, 0,
						"ics-managerd", strlen("ics-managerd"))) < 0 ||
	    (rc = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, host, strlen(host),
						       GNUTLS_FSAN_SET)) < 0 ||
	    (rc = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, "localhost", 9,
						       GNUTLS_FSAN_APPEND)) < 0 ||
	    (rc = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, &lo4, sizeof(lo4),
						       GNUTLS_FSAN_APPEND)) < 0 ||
	    (rc = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, &lo6, sizeof(lo6),
						       GNUTLS_FSAN_APPEND)) < 0 ||
	    (rc = gnutls_x509_crt_set_basic_constraints(crt, 0, -1)) < 0 ||
	    (rc = gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE)) < 0 ||
	    (rc = gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER, 0)) < 0 ||
	    (rc = gnutls_x509_crt_set_key(crt, key)) < 0 ||
	    (rc = gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0)) < 0) {
		gnutls_failed(error, "certificate", rc);
		goto out;
	}
	if ((rc = gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, &kpem)) < 0 ||
	    (rc = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &cpem)) < 0) {
		gnutls_failed(error, "export", rc);
		goto out;
	}
	ok = write_file(key_path, kpem.data, kpem.size, 0600, error) &&
	     write_file(cert_path, cpem.data, cpem.size, 0644, error);
	if (ok)
		ics_notice("generated a self-signed TLS certificate %s for \"%s\"", cert_path,
			   host);
out:
	if (kpem.data) {
		explicit_bzero(kpem.data, kpem.size);
		gnutls_free(kpem.data);
	}
	gnutls_free(cpem.data);
	if (crt)
		gnutls_x509_crt_deinit(crt);
	if (key)
		gnutls_x509_privkey_deinit(key);
	return ok;
}

gboolean ics_tls_cert_load(const char *cert_path, const char *key_path, gboolean gen,
			   char **cert_pem, char **key_pem, GError **error)
{
	g_autoptr(GError) err = NULL;

	if (gen && !g_file_test(cert_path, G_FILE_TEST_EXISTS) &&
	    !generate(cert_path, key_path, error))
		return FALSE;
	if (!g_file_get_contents(cert_path, cert_pem, NULL, &err) ||
	    !g_file_get_contents(key_path, key_pem, NULL, &err)) {
		g_clear_pointer(cert_pem, g_free);
		g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND,
			    "TLS: %s; configure readable PEM files ([tls] cert and key) or remove "
			    "both to have a self-signed pair generated",
			    err->message);
		return FALSE;
	}
	return TRUE;
}
