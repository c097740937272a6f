/*
 * ics/manager/tls_cert.h: the manager's TLS certificate.
 *
 * TLS is on by default.  Without a configured certificate the manager
 * makes a self-signed one on first start (ECDSA P-256, ten years, the
 * host name, "localhost", 127.0.0.1, ::1 and the configured names -- the
 * floating IP, the manager nodes -- as subject alternative names) and
 * keeps it in the state directory (tls-cert.pem 0644, tls-key.pem 0600),
 * so clients can pin it; later starts reuse it, or make it again when the
 * names changed.
 */
#ifndef ICS_MANAGER_TLS_CERT_H
#define ICS_MANAGER_TLS_CERT_H

#include <glib.h>

/* The file beside the certificate that says it was installed by the
 * operator (ics-admin manager cert install): never made again. */
#define ICS_TLS_USER_MARKER "tls-cert.installed"

/* Read @cert_path and @key_path (PEM) into @cert_pem and @key_pem.  With
 * @generate: both are made when neither exists, and made again when the
 * certificate (one of ours: no ICS_TLS_USER_MARKER beside it) does not
 * name every one of @names (host names or IP addresses; may be NULL). */
gboolean ics_tls_cert_load(const char *cert_path, const char *key_path, gboolean generate,
			   const char *const *names, char **cert_pem, char **key_pem,
			   GError **error);

/* Does the PEM certificate lack one of @names (DNS names match, wildcards
 * included; addresses match as addresses)?  *missing (may be NULL) lists
 * them. */
gboolean ics_tls_cert_names_missing(const char *cert_pem, const char *const *names,
				    char **missing);

#endif /* ICS_MANAGER_TLS_CERT_H */
