/*
 * ics/manager/rfb_auth.h: the RFB (VNC) handshake the console proxy does on
 * the user's behalf.
 *
 * The VM's VNC server asks for VNC authentication (RFB 3.8, security type
 * 2: DES of a 16-byte challenge keyed with the password).  The proxy
 * answers it with the password read from the node's libvirtd, so the
 * browser never sees the password, and then offers the browser a server
 * that needs no authentication (security type 1): the ticket was the
 * browser's authentication.  RFC 6143 sections 7.1 and 7.2.
 */
#ifndef ICS_MANAGER_RFB_AUTH_H
#define ICS_MANAGER_RFB_AUTH_H

#include <glib.h>

#define ICS_RFB_VERSION "RFB 003.008\n"
#define ICS_RFB_VERSION_LEN 12

/* On @fd, a blocking connection to a VNC server that has sent nothing yet:
 * agree on RFB 3.8 and authenticate with @password (NULL: the server must
 * offer "None").  Afterwards the server waits for the ClientInit message.
 * Every read waits at most @timeout_ms.  FALSE with @error naming what the
 * server did (never the password). */
gboolean ics_rfb_client_auth(int fd, const char *password, guint timeout_ms, GError **error);

/* The VNC authentication response: DES-ECB of @challenge with the password
 * as the key, each key byte's bits mirrored (the RFB quirk). */
void ics_rfb_vnc_response(const char *password, const guint8 challenge[16], guint8 out[16]);

#endif /* ICS_MANAGER_RFB_AUTH_H */
