/*
 * manager_health.h: is ics-managerd serving, and is its database writable?
 *
 * ics-managerd answers GET /api/v1/health without authentication: 200
 * {"status":"ok","db":"writable"} when its SQLite database accepts
 * writes, 503 otherwise.  It speaks HTTPS with the certificate of its
 * state directory (generated on first start, or installed by the
 * operator with `ics-admin manager cert install`).  The check is a request
 * of libicsclient (ics/client.h), connected to the listen address and
 * verified one of two ways:
 *  - by pinning the daemon's public key (@pin, "sha256//..."): only the
 *    holder of that key passes, whatever names its certificate carries --
 *    so an installed certificate that names the VIP and the nodes but not
 *    "localhost" is verified too, and nothing else listening on the port
 *    is ever taken for the manager;
 *  - or against a CA file (@ca_file): the certificate must chain to it and
 *    name @name ("localhost" by default), as with a CA-signed certificate.
 * With both, both apply.
 */
#ifndef ICS_MANAGER_HEALTH_H
#define ICS_MANAGER_HEALTH_H

#include <glib.h>

typedef struct {
	const char *host; /* address to connect to ("127.0.0.1", "::1", VIP) */
	guint port;
	const char *pin;     /* the daemon's public key, "sha256//BASE64"; or NULL */
	const char *ca_file; /* PEM CA the certificate must chain to; or NULL */
	const char *name;    /* TLS name verified with @ca_file; NULL = "localhost" */
	guint timeout_ms;    /* whole request; 0 = 10 s */
} ManagerHealthTarget;

/*
 * TRUE when the endpoint answers 200 with status "ok" and db "writable".
 * Otherwise ICS_ERROR_UNAVAILABLE (connection refused, timeout, a
 * certificate that does not verify, a key that is not the pinned one: the
 * message says which), ICS_ERROR_CONFLICT for an answer that says
 * unhealthy (HTTP status and the body's db value), or
 * ICS_ERROR_INVALID_ARGUMENT for a target with neither @pin nor @ca_file
 * or a malformed pin.  *http_status (may be NULL) gets the HTTP status, 0
 * when none.
 */
gboolean manager_health_check(const ManagerHealthTarget *target, long *http_status, GError **error);

/* "ADDR:PORT" / "[V6]:PORT" -> host to connect to (0.0.0.0 -> 127.0.0.1,
 * :: -> ::1) and port. */
gboolean manager_listen_parse(const char *listen, char **connect_host, guint *port, GError **error);

#endif /* ICS_MANAGER_HEALTH_H */
