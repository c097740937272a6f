/*
 * manager_health.h: is ics-managerd serving, and is its database writable?
 *
 * ics-managerd answers GET /api/v1/health without authentication: 200
 * {"status":"ok","db":"writable"} when its SQLite database accepts
 * writes, 503 otherwise.  It speaks HTTPS with a certificate from its
 * state directory (self-signed and generated on first start unless one is
 * configured).  The check trusts exactly that certificate (CURLOPT_CAINFO
 * = the certificate file): peer and host verification stay on, so the
 * agent never talks to something else listening on the port.  The request
 * goes to the name "localhost" (in the self-signed certificate's subject
 * alternative names) but is connected to the listen address
 * (CURLOPT_CONNECT_TO), so a listen address that is a floating IP or
 * 0.0.0.0 needs no name in the certificate.
 */
#ifndef ICS_MANAGER_HEALTH_H
#define ICS_MANAGER_HEALTH_H

#include <glib.h>

typedef struct {
	const char *host; /* address to connect to ("127.0.0.1", "::1", VIP) */
	guint port;
	const char *ca_file; /* PEM the server certificate must chain to; NULL: plain HTTP */
	const char *name;    /* TLS name to verify; NULL = "localhost" */
	guint timeout_ms;    /* whole request; 0 = 10 s */
} ManagerHealthTarget;

/*
 * TRUE when the endpoint answers 200 with status "ok" and db "writable".
 * Otherwise ICS_ERROR_UNAVAILABLE (connection refused, timeout, TLS
 * failure: the message has curl's explanation), or ICS_ERROR_CONFLICT for
 * an answer that says unhealthy (HTTP status and the body's db value).
 * *http_status (may be NULL) gets the HTTP status, 0 when none.
 */
gboolean manager_health_check(const ManagerHealthTarget *target, long *http_status, GError **error);

/* "ADDR:PORT" / "[V6]:PORT" -> host to connect to (0.0.0.0 -> 127.0.0.1,
 * :: -> ::1) and port. */
gboolean manager_listen_parse(const char *listen, char **connect_host, guint *port, GError **error);

#endif /* ICS_MANAGER_HEALTH_H */
