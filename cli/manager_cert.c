/*
 * manager_cert.c: reading, checking and installing the manager's TLS
 * certificate (manager_cert.h), with GnuTLS's x509 API.
 *
 * Everything that can be wrong with the operator's files is found before
 * anything is written: a key that is not the certificate's (their public
 * key ids differ), a certificate or chain member that is expired or not
 * yet valid, a chain out of order, a file that cannot be read or holds no
 * PEM.  Each is one INVALID_ARGUMENT error naming the file, so the command
 * exits 2 with one line and the state directory is untouched.
 *
 * Installing writes the marker first: once it exists the daemon never
 * makes its own certificate again, so a crash between the files can never
 * end with a generated certificate replacing the operator's.  Key and
 * certificate are both written to temporary files before either is
 * renamed, so the daemon never finds the new key beside the old
 * certificate unless a rename in its own directory fails.
 */
#include "config.h"

#include "manager_cert.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "ics/client.h"
#include "ics/error.h"

void ics_admin_cert_info_free(IcsAdminCertInfo *info)
{
	if (info == NULL)
		return;
	g_free(info->subject);
	g_free(info->issuer);
	g_strfreev(info->names);
	g_free(info->fingerprint);
	g_free(info->pin);
	g_free(info);
}

void ics_admin_cert_bundle_clear(IcsAdminCertBundle *b)
{
	g_free(b->cert_pem);
	if (b->key_pem) {
		explicit_bzero(b->key_pem, strlen(b->key_pem));
		g_free(b->key_pem);
	}
	if (b->certs)
		g_ptr_array_unref(b->certs);
	memset(b, 0, sizeof(*b));
}

/* ---- reading ------------------------------------------------------------ */

typedef struct {
	gnutls_x509_crt_t *list;
	unsigned int n;
} CrtList;

static void crt_list_clear(CrtList *l)
{
	for (unsigned int i = 0; i < l->n; i++)
		gnutls_x509_crt_deinit(l->list[i]);
	gnutls_free(l->list);
	memset(l, 0, sizeof(*l));
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(CrtList, crt_list_clear)

static gboolean crt_list_import(CrtList *l, const char *pem, gsize len, const char *what,
				GError **error)
{
	gnutls_datum_t d = { (unsigned char *)pem, (unsigned int)len };
	int rc = gnutls_x509_crt_list_import2(&l->list, &l->n, &d, GNUTLS_X509_FMT_PEM, 0);

	if (rc < 0 || l->n == 0) {
		l->n = 0;
		return ics_error_invalid(error, "%s holds no PEM certificate (%s)", what,
					 rc < 0 ? gnutls_strerror(rc) : "empty");
	}
	return TRUE;
}

static char *dn_of(gnutls_x509_crt_t crt, gboolean issuer)
{
	gnutls_datum_t dn = { 0 };
	char *out;
	int rc = issuer ? gnutls_x509_crt_get_issuer_dn3(crt, &dn, 0)
			: gnutls_x509_crt_get_dn3(crt, &dn, 0);

	if (rc < 0)
		return g_strdup("");
	out = g_strndup((const char *)dn.data, dn.size);
	gnutls_free(dn.data);
	return out;
}

static GStrv names_of(gnutls_x509_crt_t crt)
{
	g_autoptr(GStrvBuilder) b = g_strv_builder_new();

	for (unsigned int seq = 0;; seq++) {
		char buf[1024];
		size_t size = sizeof(buf) - 1;
		unsigned int type = 0;
		int rc = gnutls_x509_crt_get_subject_alt_name2(crt, seq, buf, &size, &type, NULL);

		if (rc == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (rc < 0)
			continue; /* too long, or unparsable: not a name a client uses */
		if (type == GNUTLS_SAN_DNSNAME) {
			buf[size] = '\0';
			g_strv_builder_add(b, buf);
		} else if (type == GNUTLS_SAN_IPADDRESS && (size == 4 || size == 16)) {
			char text[INET6_ADDRSTRLEN];

			if (inet_ntop(size == 4 ? AF_INET : AF_INET6, buf, text, sizeof(text)))
				g_strv_builder_add(b, text);
		}
	}
	return g_strv_builder_end(b);
}

static char *fingerprint_of(gnutls_x509_crt_t crt)
{
	guint8 fp[32];
	size_t size = sizeof(fp);
	GString *s;

	if (gnutls_x509_crt_get_fingerprint(crt, GNUTLS_DIG_SHA256, fp, &size) < 0)
		return g_strdup("");
	s = g_string_new(NULL);
	for (size_t i = 0; i < size; i++)
		g_string_append_printf(s, "%s%02X", i ? ":" : "", fp[i]);
	return g_string_free(s, FALSE);
}

static IcsAdminCertInfo *info_of(gnutls_x509_crt_t crt)
{
	IcsAdminCertInfo *info = g_new0(IcsAdminCertInfo, 1);
	gnutls_datum_t pem = { 0 };

	info->subject = dn_of(crt, FALSE);
	info->issuer = dn_of(crt, TRUE);
	info->self_signed = gnutls_x509_crt_check_issuer(crt, crt) != 0;
	info->names = names_of(crt);
	info->not_before = (gint64)gnutls_x509_crt_get_activation_time(crt);
	info->not_after = (gint64)gnutls_x509_crt_get_expiration_time(crt);
	info->fingerprint = fingerprint_of(crt);
	if (gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &pem) >= 0) {
		info->pin = ics_rest_pin_from_pem((const char *)pem.data, pem.size, NULL);
		gnutls_free(pem.data);
	}
	return info;
}

GPtrArray *ics_admin_cert_read(const char *pem, gsize len, const char *what, GError **error)
{
	g_auto(CrtList) l = { 0 };
	GPtrArray *out;

	if (!crt_list_import(&l, pem, len, what, error))
		return NULL;
	out = g_ptr_array_new_with_free_func((GDestroyNotify)ics_admin_cert_info_free);
	for (unsigned int i = 0; i < l.n; i++)
		g_ptr_array_add(out, info_of(l.list[i]));
	return out;
}

char *ics_admin_cert_missing_names(const char *pem, const char *const *names)
{
	g_auto(CrtList) l = { 0 };
	g_autoptr(GString) out = g_string_new(NULL);

	if (!crt_list_import(&l, pem, strlen(pem), "the certificate", NULL))
		return NULL;
	for (guint i = 0; names && names[i]; i++) {
		struct in_addr a4;
		struct in6_addr a6;
		unsigned int has;

		if (*names[i] == '\0')
			continue;
		if (inet_pton(AF_INET, names[i], &a4) == 1)
			has = gnutls_x509_crt_check_ip(l.list[0], (unsigned char *)&a4, sizeof(a4),
						       0);
		else if (inet_pton(AF_INET6, names[i], &a6) == 1)
			has = gnutls_x509_crt_check_ip(l.list[0], (unsigned char *)&a6, sizeof(a6),
						       0);
		else
			has = gnutls_x509_crt_check_hostname(l.list[0], names[i]);
		if (!has)
			g_string_append_printf(out, "%s%s", out->len ? ", " : "", names[i]);
	}
	return out->len ? g_strdup(out->str) : NULL;
}

/* ---- checking ----------------------------------------------------------- */

/* A file's contents for @option; every failure is INVALID_ARGUMENT, so a
 * bad command line exits 2 whatever the errno. */
static char *read_input(const char *option, const char *path, gsize *len, GError **error)
{
	g_autoptr(GError) err = NULL;
	char *text = NULL;

	if (!g_file_get_contents(path, &text, len, &err)) {
		ics_error_invalid(error, "%s: %s", option, err->message);
		return NULL;
	}
	return text;
}

static char *utc(gint64 t)
{
	g_autoptr(GDateTime) d = g_date_time_new_from_unix_utc(t);

	return d ? g_date_time_format(d, "%Y-%m-%d %H:%M:%S UTC") : g_strdup("?");
}

static gboolean check_times(const IcsAdminCertInfo *info, const char *what, gint64 now,
			    GError **error)
{
	if (info->not_after < now) {
		g_autofree char *when = utc(info->not_after);

		return ics_error_invalid(error, "%s (%s) expired on %s", what, info->subject, when);
	}
	if (info->not_before > now) {
		g_autofree char *when = utc(info->not_before);

		return ics_error_invalid(error, "%s (%s) is not valid before %s", what,
					 info->subject, when);
	}
	return TRUE;
}

static gboolean key_matches(gnutls_x509_crt_t crt, const char *key_pem, gsize key_len,
			    const char *key_file, const char *cert_file, GError **error)
{
	gnutls_datum_t d = { (unsigned char *)key_pem, (unsigned int)key_len };
	gnutls_x509_privkey_t key = NULL;
	guint8 crt_id[64], key_id[64];
	size_t crt_len = sizeof(crt_id), key_id_len = sizeof(key_id);
	gboolean ok;
	int rc;

	if ((rc = gnutls_x509_privkey_init(&key)) < 0 ||
	    (rc = gnutls_x509_privkey_import2(key, &d, GNUTLS_X509_FMT_PEM, NULL, 0)) < 0) {
		if (key)
			gnutls_x509_privkey_deinit(key);
		return ics_error_invalid(error,
					 "--key %s is not an unencrypted PEM private key (%s); the "
					 "daemon reads it unattended, so it must not need a "
					 "passphrase",
					 key_file, gnutls_strerror(rc));
	}
	ok = gnutls_x509_crt_get_key_id(crt, GNUTLS_KEYID_USE_SHA256, crt_id, &crt_len) >= 0 &&
	     gnutls_x509_privkey_get_key_id(key, GNUTLS_KEYID_USE_SHA256, key_id, &key_id_len) >=
		     0 &&
	     crt_len == key_id_len && memcmp(crt_id, key_id, crt_len) == 0;
	gnutls_x509_privkey_deinit(key);
	if (!ok)
		return ics_error_invalid(error,
					 "--key %s is not the key of the certificate %s (their "
					 "public keys differ)",
					 key_file, cert_file);
	return TRUE;
}

gboolean ics_admin_cert_bundle_load(IcsAdminCertBundle *b, const char *cert_file,
				    const char *key_file, const char *chain_file, gint64 now,
				    GError **error)
{
	g_autofree char *cert_text = NULL, *chain_text = NULL;
	g_autoptr(GString) all = g_string_new(NULL);
	g_auto(CrtList) l = { 0 };
	gsize cert_len = 0, chain_len = 0, key_len = 0;

	memset(b, 0, sizeof(*b));
	if ((cert_text = read_input("--cert", cert_file, &cert_len, error)) == NULL ||
	    (b->key_pem = read_input("--key", key_file, &key_len, error)) == NULL ||
	    (chain_file &&
	     (chain_text = read_input("--chain", chain_file, &chain_len, error)) == NULL))
		return FALSE;
	{
		g_autofree char *what = g_strdup_printf("--cert %s", cert_file);
		g_auto(CrtList) own = { 0 };

		if (!crt_list_import(&own, cert_text, cert_len, what, error))
			return FALSE;
	}
	if (chain_text) {
		g_autofree char *what = g_strdup_printf("--chain %s", chain_file);
		g_auto(CrtList) chain = { 0 };

		if (!crt_list_import(&chain, chain_text, chain_len, what, error))
			return FALSE;
	}
	/* tls-cert.pem: the certificate and its chain, each ending its line. */
	g_string_append_len(all, cert_text, (gssize)cert_len);
	if (all->len && all->str[all->len - 1] != '\n')
		g_string_append_c(all, '\n');
	if (chain_text) {
		g_string_append_len(all, chain_text, (gssize)chain_len);
		if (all->len && all->str[all->len - 1] != '\n')
			g_string_append_c(all, '\n');
	}
	if (!crt_list_import(&l, all->str, all->len, "the certificate", error))
		return FALSE;
	b->certs = g_ptr_array_new_with_free_func((GDestroyNotify)ics_admin_cert_info_free);
	for (unsigned int i = 0; i < l.n; i++)
		g_ptr_array_add(b->certs, info_of(l.list[i]));
	if (!key_matches(l.list[0], b->key_pem, key_len, key_file, cert_file, error))
		return FALSE;
	for (unsigned int i = 0; i < l.n; i++) {
		g_autofree char *what = i == 0 ? g_strdup_printf("the certificate %s", cert_file)
					       : g_strdup_printf("chain certificate %u", i);

		if (!check_times(b->certs->pdata[i], what, now, error))
			return FALSE;
		if (i > 0 && !gnutls_x509_crt_check_issuer(l.list[i - 1], l.list[i])) {
			const IcsAdminCertInfo *prev = b->certs->pdata[i - 1];
			const IcsAdminCertInfo *cur = b->certs->pdata[i];

			return ics_error_invalid(error,
						 "the chain is out of order: %s (%s) did not issue "
						 "%s (issuer %s); give the server's certificate "
						 "first, then each issuer in turn",
						 what, cur->subject, prev->subject, prev->issuer);
		}
	}
	b->cert_pem = g_string_free(g_steal_pointer(&all), FALSE);
	return TRUE;
}

/* ---- installing ------------------------------------------------------- */

/* "<path>.tmp" with @data, mode @mode exactly, synced; the leftover of a
 * crash is removed first and a symbolic link there is refused. */
static char *write_tmp(const char *path, const char *data, int mode, GError **error)
{
	g_autofree char *tmp = g_strconcat(path, ".tmp", NULL);
	gsize len = strlen(data), done = 0;
	int fd;

	if (unlink(tmp) != 0 && errno != ENOENT) {
		ics_error_set_errno(error, errno, "cannot remove the stale %s", tmp);
		return NULL;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0) {
		ics_error_set_errno(error, errno, "cannot create %s", tmp);
		return NULL;
	}
	while (done < len) {
		ssize_t n = write(fd, data + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		done += (gsize)n;
	}
	if (done != len || fchmod(fd, (mode_t)mode) != 0 || fsync(fd) != 0) {
		ics_error_set_errno(error, errno ? errno : EIO, "cannot write %s", tmp);
		close(fd);
		unlink(tmp);
		return NULL;
	}
	close(fd);
	return g_steal_pointer(&tmp);
}

static gboolean rename_into(const char *tmp, const char *path, GError **error)
{
	if (rename(tmp, path) != 0) {
		ics_error_set_errno(error, errno, "cannot rename %s to %s", tmp, path);
		unlink(tmp);
		return FALSE;
	}
	return TRUE;
}

static void sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

gboolean ics_admin_cert_install(const IcsAdminCertBundle *b, const char *state_dir, GError **error)
{
	const IcsAdminCertInfo *own = b->certs->pdata[0];
	g_autofree char *cert = g_build_filename(state_dir, ICS_ADMIN_TLS_CERT, NULL);
	g_autofree char *key = g_build_filename(state_dir, ICS_ADMIN_TLS_KEY, NULL);
	g_autofree char *marker = g_build_filename(state_dir, ICS_ADMIN_TLS_MARKER, NULL);
	g_autofree char *key_tmp = NULL, *cert_tmp = NULL, *marker_tmp = NULL, *note = NULL;
	g_autoptr(GDateTime) now = g_date_time_new_now_utc();
	g_autofree char *when = g_date_time_format(now, "%Y-%m-%d %H:%M:%S UTC");
	gboolean had_marker = g_file_test(marker, G_FILE_TEST_EXISTS);

	note = g_strdup_printf("installed by ics-admin manager cert install on %s\nsubject: %s\n"
			       "pin: %s\n",
			       when, own->subject, own->pin ? own->pin : "?");
	if ((key_tmp = write_tmp(key, b->key_pem, 0600, error)) == NULL)
		return FALSE;
	if ((cert_tmp = write_tmp(cert, b->cert_pem, 0644, error)) == NULL ||
	    (marker_tmp = write_tmp(marker, note, 0644, error)) == NULL) {
		unlink(key_tmp);
		if (cert_tmp)
			unlink(cert_tmp);
		return FALSE;
	}
	/* The marker first: from now on the daemon never makes its own. */
	if (!rename_into(marker_tmp, marker, error)) {
		unlink(key_tmp);
		unlink(cert_tmp);
		return FALSE;
	}
	if (!rename_into(key_tmp, key, error)) {
		unlink(cert_tmp);
		if (!had_marker)
			unlink(marker);
		return FALSE;
	}
	if (!rename_into(cert_tmp, cert, error)) {
		ics_error_prefix(error, "the new key is in place but not its certificate, so the "
					"manager cannot start with them: run the command again; ");
		return FALSE;
	}
	sync_dir(state_dir);
	return TRUE;
}
