/*
 * manager_cert.h: the manager's TLS certificate as files -- reading and
 * checking a certificate, its chain and its key, and installing them in
 * the manager's state directory (internal to ics-admin; used by
 * manager_cert_cmd.c).
 *
 * The state directory holds tls-cert.pem (the server's certificate, then
 * its chain), tls-key.pem (0600) and, when the operator installed them,
 * the marker tls-cert.installed: ics-managerd never makes a certificate
 * with a marker beside it again (manager/tls_cert.h, ICS_TLS_USER_MARKER;
 * the two names must stay equal, which test_manager_cert checks).
 */
#ifndef ICS_ADMIN_MANAGER_CERT_H
#define ICS_ADMIN_MANAGER_CERT_H

#include <glib.h>

#define ICS_ADMIN_TLS_CERT "tls-cert.pem"
#define ICS_ADMIN_TLS_KEY "tls-key.pem"
#define ICS_ADMIN_TLS_MARKER "tls-cert.installed"

/* One certificate, as `manager cert show` prints it. */
typedef struct {
	char *subject, *issuer; /* RFC 4514 distinguished names */
	gboolean self_signed;
	GStrv names;		      /* subject alternative names: DNS names and addresses */
	gint64 not_before, not_after; /* Unix seconds */
	char *fingerprint;	      /* SHA-256 of the DER, AA:BB:... */
	char *pin;		      /* sha256//... of its public key */
} IcsAdminCertInfo;
void ics_admin_cert_info_free(IcsAdminCertInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(IcsAdminCertInfo, ics_admin_cert_info_free)

/* Every certificate of PEM text @pem, in order (of IcsAdminCertInfo*);
 * PARSE when it holds none.  @what names the text in messages. */
GPtrArray *ics_admin_cert_read(const char *pem, gsize len, const char *what, GError **error);

/* A certificate, its chain and its key, read and checked for installing. */
typedef struct {
	char *cert_pem;	  /* the server's certificate, then the chain: tls-cert.pem */
	char *key_pem;	  /* tls-key.pem; wiped when cleared */
	GPtrArray *certs; /* of IcsAdminCertInfo*, [0] the server's own */
} IcsAdminCertBundle;
void ics_admin_cert_bundle_clear(IcsAdminCertBundle *b);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(IcsAdminCertBundle, ics_admin_cert_bundle_clear)

/*
 * Read @cert_file (the certificate, possibly followed by its chain),
 * @key_file (an unencrypted PEM private key) and @chain_file (may be NULL:
 * more of the chain) and check them at time @now: the key is the
 * certificate's, no certificate is expired or not yet valid, each one of
 * the chain issued the one before it.  Every refusal is
 * INVALID_ARGUMENT, naming the file and what is wrong.
 */
gboolean ics_admin_cert_bundle_load(IcsAdminCertBundle *b, const char *cert_file,
				    const char *key_file, const char *chain_file, gint64 now,
				    GError **error);

/* The names among @names (host names or IP addresses) the first
 * certificate of @pem does not carry, joined by ", "; NULL when it carries
 * them all.  DNS names match as TLS clients match them (wildcards
 * included), addresses as addresses -- like manager/tls_cert.c's
 * ics_tls_cert_names_missing(), which decides when the manager makes its
 * own certificate again. */
char *ics_admin_cert_missing_names(const char *pem, const char *const *names);

/*
 * Install @b in @state_dir: the marker, then tls-key.pem (0600) and
 * tls-cert.pem (0644), each written to "<name>.tmp" (created exclusively,
 * never through a symbolic link), synced and renamed over the old one.
 * Both files are written before either is renamed, so a failure leaves the
 * old pair in place.
 */
gboolean ics_admin_cert_install(const IcsAdminCertBundle *b, const char *state_dir, GError **error);

#endif /* ICS_ADMIN_MANAGER_CERT_H */
