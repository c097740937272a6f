/*
 * ics/manager/tls_cert.h: the manager's TLS certificate.
 *
 * TLS is on by default.  Without a configured certificate the manager
 * makes a self-signed one on first start (ECDSA P-256, ten years, the
 * host name, "localhost", 127.0.0.1 and ::1 as subject alternative names)
 * and keeps it in the state directory (tls-cert.pem 0644, tls-key.pem
 * 0600), so clients can pin it; later starts reuse it.
 */
#ifndef ICS_MANAGER_TLS_CERT_H
#define ICS_MANAGER_TLS_CERT_H

#include <glib.h>

/* Read @cert_path and @key_path (PEM) into @cert_pem and @key_pem,
 * generating both when neither exists and @generate is TRUE. */
gboolean ics_tls_cert_load(const char *cert_path, const char *key_path, gboolean generate,
			   char **cert_pem, char **key_pem, GError **error);

#endif /* ICS_MANAGER_TLS_CERT_H */
