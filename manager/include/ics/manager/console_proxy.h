/*
 * ics/manager/console_proxy.h: WebSocket sessions between a browser and a
 * VM's console (VNC screen or serial port).
 *
 * A session is a WebSocket (RFC 6455, framed by wslay) on one side and a
 * byte stream to the console on the other, opened and -- for VNC --
 * authenticated by the caller before the 101 answer, so every failure to
 * reach the console is an HTTP status.  For VNC the proxy then plays an
 * RFB 3.8 server that needs no authentication towards the browser (the
 * ticket authenticated it; see rfb_auth.h) and relays bytes both ways.
 *
 * Threading: one thread per session, started from the upgrade; it polls
 * its two sockets and, every second, asks @locate where the VM runs.
 * Sessions share nothing but the proxy's registry: IcsConsoleProxy.lock
 * guards the count, the stopping flag and the condition the shutdown waits
 * on; a session takes it to register and to leave, never while it relays.
 *
 * Closing (the close frame's code and reason, UTF-8, at most 123 bytes):
 *   1000 the console closed the connection (the VM's VNC server or serial
 *        stream ended);
 *   1001 the manager is stopping;
 *   1002 a malformed frame (wslay), 1009 a message over
 *        ICS_CONSOLE_MAX_MESSAGE bytes: that session only;
 *   1011 an error on the console side;
 *   4001 "the VM moved to <node>" (migration or failover: ask a new
 *        ticket, the new host's console is another connection);
 *   4002 "the VM stopped".
 */
#ifndef ICS_MANAGER_CONSOLE_PROXY_H
#define ICS_MANAGER_CONSOLE_PROXY_H

#include <glib.h>

#include "ics/manager/console_ticket.h"
#include "ics/manager/http.h"

#define ICS_CONSOLE_DEFAULT_MAX_SESSIONS 64
/* One user's share, so that one user cannot deny the others the console. */
#define ICS_CONSOLE_MAX_SESSIONS_PER_USER 16
/* The biggest message a browser may send: RFB client messages are small
 * (the largest, a long ClientCutText, is capped here too). */
#define ICS_CONSOLE_MAX_MESSAGE (64 * 1024)
#define ICS_CONSOLE_CLOSE_MOVED 4001
#define ICS_CONSOLE_CLOSE_STOPPED 4002
#define ICS_CONSOLE_CLOSE_REVOKED 4003

typedef struct IcsConsoleProxy IcsConsoleProxy;

/* Where the VM @uuid runs now: TRUE with *@host (g_free; NULL when it does
 * not run), FALSE when that cannot be told now (the session goes on). */
typedef gboolean (*IcsConsoleLocateFn)(void *data, const char *uuid, char **host);

/* May the session's user still use the console?  FALSE with *@why
 * (g_free) ends the session with 4003. */
typedef gboolean (*IcsConsoleAllowedFn)(void *data, char **why);

typedef struct {
	IcsConsoleKind kind;
	const char *vm_uuid;
	const char *user;
	const char *client;
	const char *host; /* the node the console is on */
	int console_fd;	  /* connected (VNC: authenticated); the session owns it */
	IcsConsoleLocateFn locate;
	void *locate_data;
	/* Asked every second with the location; the session owns @allowed_data
	 * and frees it with @allowed_free. */
	IcsConsoleAllowedFn allowed;
	void *allowed_data;
	GDestroyNotify allowed_free;
} IcsConsoleSessionSpec;

typedef struct IcsConsoleSession IcsConsoleSession;

IcsConsoleProxy *ics_console_proxy_new(guint max_sessions);
/* Refuse new sessions (UNAVAILABLE), close every open one (1001) and wait
 * for their threads.  Call before the HTTP server stops (the sessions hold
 * upgraded connections); a request the server is still handling then is
 * refused, not served by a freed proxy. */
void ics_console_proxy_stop(IcsConsoleProxy *p);
/* Stop (if not yet), then free.  Call after the HTTP server stopped. */
void ics_console_proxy_free(IcsConsoleProxy *p);
guint ics_console_proxy_sessions(IcsConsoleProxy *p);

/* Count a session of @user against the bounds before anything is opened
 * for it (LIMIT when the proxy or the user's share is full, UNAVAILABLE
 * when stopping), so a refused open costs no connection to a node. */
gboolean ics_console_proxy_reserve(IcsConsoleProxy *p, const char *user, GError **error);
/* Give back a reservation that no session took (the open failed). */
void ics_console_proxy_release(IcsConsoleProxy *p, const char *user);

/* A session for @spec, on the reservation made for @spec->user (which it
 * owns from now on, and gives back when it ends); it owns
 * @spec->console_fd.  Hand it to the HTTP layer with
 * ics_console_session_respond(). */
IcsConsoleSession *ics_console_session_new(IcsConsoleProxy *p, const IcsConsoleSessionSpec *spec);

/* The 101 answer for the WebSocket handshake of @req (Sec-WebSocket-Key,
 * version 13, subprotocol "binary" when offered) that starts @s; on a bad
 * handshake 400 (the session is dropped).  Takes @s in every case. */
gboolean ics_console_session_respond(IcsConsoleSession *s, const IcsRequest *req,
				     IcsResponse *resp, GError **error);

/* Check that @req asks for a WebSocket (before any ticket is spent). */
gboolean ics_websocket_request_check(const IcsRequest *req, GError **error);

/* Connect to @address:@port (TCP, within @timeout_ms): a blocking socket,
 * or -1 with @error. */
int ics_console_tcp_connect(const char *address, guint16 port, guint timeout_ms, GError **error);

#endif /* ICS_MANAGER_CONSOLE_PROXY_H */
