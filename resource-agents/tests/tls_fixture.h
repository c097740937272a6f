/*
 * tls_fixture.h: a self-signed TLS certificate for test servers.
 *
 * The same kind of certificate ics-managerd generates in its state
 * directory (ECDSA P-256, subject alternative names localhost, 127.0.0.1
 * and ::1), so the agent's health check is tested against what it meets
 * in production: a certificate it must pin, not skip.
 */
#ifndef ICS_TEST_TLS_FIXTURE_H
#define ICS_TEST_TLS_FIXTURE_H

#include <glib.h>

/* Write @cert_path (0644) and @key_path (0600), PEM. */
gboolean tls_fixture_make_cert(const char *cert_path, const char *key_path, GError **error);

/* The same naming only @name (CN and the one subject alternative name),
 * like a certificate an operator installs for the manager's VIP; NULL:
 * localhost and the loopback addresses, as above. */
gboolean tls_fixture_make_cert_named(const char *cert_path, const char *key_path, const char *name,
				     GError **error);

#endif /* ICS_TEST_TLS_FIXTURE_H */
