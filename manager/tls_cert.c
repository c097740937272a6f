/*
 * tls_cert.c: a self-signed certificate made with GnuTLS's x509 API.
 *
 * It names what clients connect to: the host, localhost, the loopback
 * addresses, and the names the manager is given ([tls] names,
 * --tls-names: in a cluster the floating IP and every manager node's name
 * and address, which `ics-admin manager setup` passes through the
 * resource's tls_names).  When the names change, the next start makes the
 * certificate again -- unless it was installed by the operator (a marker
 * file beside it) or configured ([tls] cert/key), which are never touched.
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

/* Add @name to @crt's subject alternative names: an IPv4 or IPv6 address
 * as an address, anything else as a DNS name. */
static int add_name(gnutls_x509_crt_t crt, const char *name)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (inet_pton(AF_INET, name, &a4) == 1)
		return gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, &a4,
							    sizeof(a4), GNUTLS_FSAN_APPEND);
	if (inet_pton(AF_INET6, name, &a6) == 1)
		return gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, &a6,
							    sizeof(a6), GNUTLS_FSAN_APPEND);
	return gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, name, strlen(name),
						    GNUTLS_FSAN_APPEND);
}

static gboolean generate(const char *cert_path, const char *key_path, const char *const *names,
			 GError **error)
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
						       GNUTLS_FSAN_APPEND)) < 0) {
		gnutls_failed(error, "certificate", rc);
		goto out;
	}
	for (guint i = 0; names && names[i]; i++)
		if ((rc = add_name(crt, names[i])) < 0) {
			gnutls_failed(error, names[i], rc);
			goto out;
		}
	if ((rc = gnutls_x509_crt_set_basic_constraints(crt, 0, -1)) < 0 ||
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
	if (ok) {
		g_autofree char *list = names ? g_strjoinv(", ", (char **)names) : NULL;

		ics_notice("generated a self-signed TLS certificate %s for \"%s\", localhost%s%s",
			   cert_path, host, list && *list ? ", " : "", list ? list : "");
	}
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

gboolean ics_tls_cert_names_missing(const char *cert_pem, const char *const *names, char **missing)
{
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t d = { (unsigned char *)cert_pem, (unsigned)strlen(cert_pem) };
	g_autoptr(GString) out = g_string_new(NULL);

	if (gnutls_x509_crt_init(&crt) < 0)
		return FALSE;
	if (gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM) < 0) {
		gnutls_x509_crt_deinit(crt);
		return FALSE;
	}
	for (guint i = 0; names && names[i]; i++) {
		struct in_addr a4;
		struct in6_addr a6;
		unsigned has;

		if (inet_pton(AF_INET, names[i], &a4) == 1)
			has = gnutls_x509_crt_check_ip(crt, (unsigned char *)&a4, sizeof(a4), 0);
		else if (inet_pton(AF_INET6, names[i], &a6) == 1)
			has = gnutls_x509_crt_check_ip(crt, (unsigned char *)&a6, sizeof(a6), 0);
		else
			has = gnutls_x509_crt_check_hostname(crt, names[i]);
		if (!has)
			g_string_append_printf(out, "%s%s", out->len ? ", " : "", names[i]);
	}
	gnutls_x509_crt_deinit(crt);
	if (missing)
		*missing = out->len ? g_strdup(out->str) : NULL;
	return out->len > 0;
}

gboolean ics_tls_cert_load(const char *cert_path, const char *key_path, gboolean gen,
			   const char *const *names, char **cert_pem, char **key_pem,
			   GError **error)
{
	g_autoptr(GError) err = NULL;
	g_autofree char *dir = g_path_get_dirname(cert_path);
	g_autofree char *marker = g_build_filename(dir, ICS_TLS_USER_MARKER, NULL);

	if (gen && !g_file_test(cert_path, G_FILE_TEST_EXISTS) &&
	    !generate(cert_path, key_path, names, error))
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
	/* A certificate of ours that lacks a name it must carry (the VIP
	 * moved, a manager node was added) is made again; one that was
	 * installed (ics-admin manager cert install) or configured never is. */
	if (gen && !g_file_test(marker, G_FILE_TEST_EXISTS)) {
		g_autofree char *missing = NULL;

		if (ics_tls_cert_names_missing(*cert_pem, names, &missing)) {
			ics_notice("TLS: %s does not name %s: making it again", cert_path,
				   missing);
			g_clear_pointer(cert_pem, g_free);
			explicit_bzero(*key_pem, strlen(*key_pem));
			g_clear_pointer(key_pem, g_free);
			if (!generate(cert_path, key_path, names, error) ||
			    !g_file_get_contents(cert_path, cert_pem, NULL, error) ||
			    !g_file_get_contents(key_path, key_pem, NULL, error)) {
				g_clear_pointer(cert_pem, g_free);
				return FALSE;
			}
		}
	}
	return TRUE;
}
