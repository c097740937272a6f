/*
 * ics/manager/console_ticket.h: one-time tickets that open a VM's screen or
 * serial console.
 *
 * A browser cannot put an Authorization header on a WebSocket, and a
 * session token in a URL would end up in logs and histories.  So an
 * authenticated, authorized and audited call (POST .../console/ticket)
 * asks for a ticket, and the WebSocket URL carries only that ticket.  A
 * ticket is 32 random bytes (URL-safe base64), bound to the user, the VM,
 * the kind of console and the client address that asked for it, valid
 * ICS_CONSOLE_TICKET_TTL_S seconds, and spent by its first use, whatever
 * the verdict: a ticket presented with the wrong VM, kind or address is
 * burnt too, so a ticket that leaked is worth one refused attempt.
 *
 * Tickets live only in memory (a manager failover forgets them, which costs
 * a new ticket), in one table guarded by one mutex, IcsConsoleTickets.lock;
 * every function takes it itself and no callback runs under it.
 */
#ifndef ICS_MANAGER_CONSOLE_TICKET_H
#define ICS_MANAGER_CONSOLE_TICKET_H

#include <glib.h>

#define ICS_CONSOLE_TICKET_TTL_S 30
/* Outstanding tickets at most: asking for more refuses (BUSY) until some
 * are spent or expire, so the table cannot be grown without bound. */
#define ICS_CONSOLE_TICKET_MAX 4096
/* ... and one user's share of them, so one user cannot fill the table. */
#define ICS_CONSOLE_TICKET_MAX_PER_USER 64

typedef enum {
	ICS_CONSOLE_VNC,
	ICS_CONSOLE_SERIAL,
} IcsConsoleKind;

typedef struct IcsConsoleTickets IcsConsoleTickets;

/* What a ticket was issued for. */
typedef struct {
	gint64 user_id;
	char *user;
	/* The credential that asked: a login session (session_id) or an API
	 * key (apikey_id); an open console ends when it does. */
	gint64 session_id;
	char *apikey_id;
	char *vm_uuid;
	IcsConsoleKind kind;
	char *client; /* the address that asked for it */
	gint64 expires_us;
} IcsConsoleGrant;

void ics_console_grant_clear(IcsConsoleGrant *g);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(IcsConsoleGrant, ics_console_grant_clear)

IcsConsoleTickets *ics_console_tickets_new(void);
void ics_console_tickets_free(IcsConsoleTickets *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(IcsConsoleTickets, ics_console_tickets_free)

/* "vnc" / "serial" and back (FALSE for another name). */
const char *ics_console_kind_name(IcsConsoleKind kind);
gboolean ics_console_kind_parse(const char *name, IcsConsoleKind *kind);

/* A new ticket for @grant (copied; expires_us is set here from the
 * manager's clock); g_free it.  NULL with BUSY when the table is full. */
char *ics_console_ticket_issue(IcsConsoleTickets *t, const IcsConsoleGrant *grant,
			       GError **error);

typedef enum {
	ICS_TICKET_OK,
	ICS_TICKET_UNKNOWN,  /* never issued, spent or expired: HTTP 401 */
	ICS_TICKET_MISMATCH, /* issued for another VM, kind or client: 403 */
} IcsTicketVerdict;

/* Spend @ticket for @kind on @vm_uuid from @client.  With OK or MISMATCH
 * *@out says what it was issued for (the caller clears it); *@why (g_free)
 * says what was wrong, for the audit and the answer. */
IcsTicketVerdict ics_console_ticket_redeem(IcsConsoleTickets *t, const char *ticket,
					   const char *vm_uuid, IcsConsoleKind kind,
					   const char *client, IcsConsoleGrant *out, char **why);

/* Outstanding tickets (expired ones are dropped first). */
guint ics_console_tickets_count(IcsConsoleTickets *t);

#endif /* ICS_MANAGER_CONSOLE_TICKET_H */
