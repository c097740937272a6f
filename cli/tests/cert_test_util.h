/*
 * cert_test_util.h: certificates made in the test with GnuTLS, for what
 * `ics-admin manager cert` must accept and refuse: a CA and a server
 * certificate it issued, self-signed ones, expired and not-yet-valid
 * ones, and keys that are encrypted or belong to another certificate.
 * ECDSA P-256 keys: fast to make, accepted by every TLS stack.
 */
#ifndef ICS_CERT_TEST_UTIL_H
#define ICS_CERT_TEST_UTIL_H

#include <arpa/inet.h>
#include <string.h>
#include <time.h>

#include <glib.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

typedef struct {
	const char *cn;
	const char *const *names;    /* DNS names or IP addresses; may be NULL */
	gint64 valid_from, valid_to; /* seconds from now; 0, 0: an hour ago to a year on */
	gboolean ca;		     /* a CA certificate (may sign others) */
	const char *issuer_cert;     /* PEM files of the issuer; NULL: self-signed */
	const char *issuer_key;
	const char *key_password; /* the key written encrypted (PKCS#8) with it */
} TestCert;

static G_GNUC_UNUSED gnutls_datum_t test_cert_file(const char *path)
{
	gnutls_datum_t d = { 0 };
	gchar *text = NULL;
	gsize len = 0;

	g_assert_true(g_file_get_contents(path, &text, &len, NULL));
	d.data = (unsigned char *)text;
	d.size = (unsigned int)len;
	return d;
}

/* Write @cert_path and @key_path (PEM) for @tc; aborts the test on error. */
static G_GNUC_UNUSED void test_cert_make(const TestCert *tc, const char *cert_path,
					 const char *key_path)
{
	gnutls_x509_privkey_t key = NULL, ikey = NULL;
	gnutls_x509_crt_t crt = NULL, icrt = NULL;
	gnutls_datum_t cpem = { 0 }, kpem = { 0 };
	static guint8 serial = 1;
	guint8 sn[4] = { 0x10, 0x20, 0x30, 0 };
	time_t now = time(NULL);
	gint64 from = tc->valid_from || tc->valid_to ? tc->valid_from : -3600;
	gint64 to = tc->valid_from || tc->valid_to ? tc->valid_to : 365 * 86400;

	sn[3] = serial++;
	g_assert_cmpint(gnutls_x509_privkey_init(&key), >=, 0);
	g_assert_cmpint(
		gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
					     GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0),
		>=, 0);
	g_assert_cmpint(gnutls_x509_crt_init(&crt), >=, 0);
	g_assert_cmpint(gnutls_x509_crt_set_version(crt, 3), >=, 0);
	g_assert_cmpint(gnutls_x509_crt_set_serial(crt, sn, sizeof(sn)), >=, 0);
	g_assert_cmpint(gnutls_x509_crt_set_activation_time(crt, now + from), >=, 0);
	g_assert_cmpint(gnutls_x509_crt_set_expiration_time(crt, now + to), >=, 0);
	g_assert_cmpint(gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, tc->cn,
						      strlen(tc->cn)),
			>=, 0);
	for (guint i = 0; tc->names && tc->names[i]; i++) {
		struct in_addr a4;
		int rc;

		if (inet_pton(AF_INET, tc->names[i], &a4) == 1)
			rc = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, &a4,
								  sizeof(a4), GNUTLS_FSAN_APPEND);
		else
			rc = gnutls_x509_crt_set_subject_alt_name(
				crt, GNUTLS_SAN_DNSNAME, tc->names[i], strlen(tc->names[i]),
				GNUTLS_FSAN_APPEND);
		g_assert_cmpint(rc, >=, 0);
	}
	g_assert_cmpint(gnutls_x509_crt_set_basic_constraints(crt, tc->ca ? 1 : 0, -1), >=, 0);
	g_assert_cmpint(gnutls_x509_crt_set_key_usage(crt, tc->ca ? GNUTLS_KEY_KEY_CERT_SIGN
								  : GNUTLS_KEY_DIGITAL_SIGNATURE),
			>=, 0);
	if (!tc->ca)
		g_assert_cmpint(
			gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER, 0), >=,
			0);
	g_assert_cmpint(gnutls_x509_crt_set_key(crt, key), >=, 0);
	if (tc->issuer_cert) {
		gnutls_datum_t ic = test_cert_file(tc->issuer_cert);
		gnutls_datum_t ik = test_cert_file(tc->issuer_key);

		g_assert_cmpint(gnutls_x509_crt_init(&icrt), >=, 0);
		g_assert_cmpint(gnutls_x509_crt_import(icrt, &ic, GNUTLS_X509_FMT_PEM), >=, 0);
		g_assert_cmpint(gnutls_x509_privkey_init(&ikey), >=, 0);
		g_assert_cmpint(gnutls_x509_privkey_import(ikey, &ik, GNUTLS_X509_FMT_PEM), >=, 0);
		g_assert_cmpint(gnutls_x509_crt_sign2(crt, icrt, ikey, GNUTLS_DIG_SHA256, 0), >=,
				0);
		g_free(ic.data);
		g_free(ik.data);
		gnutls_x509_crt_deinit(icrt);
		gnutls_x509_privkey_deinit(ikey);
	} else {
		g_assert_cmpint(gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0), >=, 0);
	}
	g_assert_cmpint(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &cpem), >=, 0);
	if (tc->key_password)
		g_assert_cmpint(gnutls_x509_privkey_export2_pkcs8(key, GNUTLS_X509_FMT_PEM,
								  tc->key_password,
								  GNUTLS_PKCS_PBES2_AES_256, &kpem),
				>=, 0);
	else
		g_assert_cmpint(gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, &kpem), >=,
				0);
	g_assert_true(g_file_set_contents(cert_path, (const char *)cpem.data, cpem.size, NULL));
	g_assert_true(g_file_set_contents(key_path, (const char *)kpem.data, kpem.size, NULL));
	gnutls_free(cpem.data);
	gnutls_free(kpem.data);
	gnutls_x509_crt_deinit(crt);
	gnutls_x509_privkey_deinit(key);
}

#endif /* ICS_CERT_TEST_UTIL_H */
