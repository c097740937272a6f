/*
 * console_ticket.c: the table of console tickets (see console_ticket.h).
 *
 * One GHashTable from ticket text to grant, one mutex.  Expired tickets
 * are dropped lazily, on every issue, redeem and count, so no timer is
 * needed and the table is bounded by ICS_CONSOLE_TICKET_MAX plus nothing;
 * each user's share by ICS_CONSOLE_TICKET_MAX_PER_USER, counted by a walk
 * of the table at each issue (4,096 entries at most, under the lock).
 * The clock is the manager's (ics_now_us), which tests can move, so
 * expiry is tested without sleeping.  The ticket text is compared only as
 * a hash key: it is 256 random bits, a guess is not a timing game.
 */
#include "config.h"

#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "ics/error.h"
#include "ics/manager/console_ticket.h"
#include "ics/manager/timestamp.h"

#define TICKET_BYTES 32

struct IcsConsoleTickets {
	GMutex lock;	  /* guards table, and nothing else */
	GHashTable *table; /* ticket text -> IcsConsoleGrant* (owned) */
};

void ics_console_grant_clear(IcsConsoleGrant *g)
{
	g_clear_pointer(&g->user, g_free);
	g_clear_pointer(&g->apikey_id, g_free);
	g_clear_pointer(&g->vm_uuid, g_free);
	g_clear_pointer(&g->client, g_free);
}

static void grant_free(gpointer p)
{
	ics_console_grant_clear(p);
	g_free(p);
}

static void grant_copy(IcsConsoleGrant *to, const IcsConsoleGrant *from)
{
	*to = *from;
	to->user = g_strdup(from->user);
	to->apikey_id = g_strdup(from->apikey_id);
	to->vm_uuid = g_strdup(from->vm_uuid);
	to->client = g_strdup(from->client);
}

IcsConsoleTickets *ics_console_tickets_new(void)
{
	IcsConsoleTickets *t = g_new0(IcsConsoleTickets, 1);

	g_mutex_init(&t->lock);
	t->table = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, grant_free);
	return t;
}

void ics_console_tickets_free(IcsConsoleTickets *t)
{
	if (t == NULL)
		return;
	g_hash_table_unref(t->table);
	g_mutex_clear(&t->lock);
	g_free(t);
}

const char *ics_console_kind_name(IcsConsoleKind kind)
{
	return kind == ICS_CONSOLE_VNC ? "vnc" : "serial";
}

gboolean ics_console_kind_parse(const char *name, IcsConsoleKind *kind)
{
	if (g_strcmp0(name, "vnc") == 0)
		*kind = ICS_CONSOLE_VNC;
	else if (g_strcmp0(name, "serial") == 0)
		*kind = ICS_CONSOLE_SERIAL;
	else
		return FALSE;
	return TRUE;
}

static gboolean expired(gpointer key, gpointer value, gpointer now)
{
	return ((IcsConsoleGrant *)value)->expires_us <= *(gint64 *)now;
}

/* Drop expired tickets; the caller holds the lock. */
static void prune(IcsConsoleTickets *t, gint64 now)
{
	g_assert(!g_mutex_trylock(&t->lock)); /* held by the caller */
	g_hash_table_foreach_remove(t->table, expired, &now);
}

/* How many of the outstanding tickets are @user_id's; the lock is held. */
static guint user_tickets(IcsConsoleTickets *t, gint64 user_id)
{
	GHashTableIter it;
	gpointer value;
	guint n = 0;

	g_hash_table_iter_init(&it, t->table);
	while (g_hash_table_iter_next(&it, NULL, &value))
		if (((IcsConsoleGrant *)value)->user_id == user_id)
			n++;
	return n;
}

char *ics_console_ticket_issue(IcsConsoleTickets *t, const IcsConsoleGrant *grant,
			       GError **error)
{
	guint8 rnd[TICKET_BYTES];
	g_autofree char *b64 = NULL;
	IcsConsoleGrant *g;
	gint64 now = ics_now_us();

	if (gnutls_rnd(GNUTLS_RND_KEY, rnd, sizeof rnd) != 0) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_IO, "cannot draw a console ticket");
		return NULL;
	}
	b64 = g_base64_encode(rnd, sizeof rnd);
	/* URL-safe without padding: it travels in a query string. */
	g_strdelimit(b64, "+", '-');
	g_strdelimit(b64, "/", '_');
	b64[strcspn(b64, "=")] = '\0';

	g = g_new0(IcsConsoleGrant, 1);
	grant_copy(g, grant);
	g->expires_us = now + (gint64)ICS_CONSOLE_TICKET_TTL_S * G_USEC_PER_SEC;
	g_mutex_lock(&t->lock);
	prune(t, now);
	if (user_tickets(t, grant->user_id) >= ICS_CONSOLE_TICKET_MAX_PER_USER) {
		g_mutex_unlock(&t->lock);
		grant_free(g);
		g_set_error(error, ICS_ERROR, ICS_ERROR_LIMIT,
			    "%s has %d console tickets outstanding, the most one user may; "
			    "try again in %d s",
			    grant->user, ICS_CONSOLE_TICKET_MAX_PER_USER, ICS_CONSOLE_TICKET_TTL_S);
		return NULL;
	}
	if (g_hash_table_size(t->table) >= ICS_CONSOLE_TICKET_MAX) {
		g_mutex_unlock(&t->lock);
		grant_free(g);
		g_set_error(error, ICS_ERROR, ICS_ERROR_LIMIT,
			    "%d console tickets are outstanding; try again in %d s",
			    ICS_CONSOLE_TICKET_MAX, ICS_CONSOLE_TICKET_TTL_S);
		return NULL;
	}
	g_hash_table_insert(t->table, g_strdup(b64), g);
	g_mutex_unlock(&t->lock);
	return g_steal_pointer(&b64);
}

IcsTicketVerdict ics_console_ticket_redeem(IcsConsoleTickets *t, const char *ticket,
					   const char *vm_uuid, IcsConsoleKind kind,
					   const char *client, IcsConsoleGrant *out, char **why)
{
	gpointer key = NULL, value = NULL;
	g_autofree IcsConsoleGrant *g = NULL;
	gboolean found;

	memset(out, 0, sizeof *out);
	*why = NULL;
	g_mutex_lock(&t->lock);
	prune(t, ics_now_us());
	found = ticket != NULL && g_hash_table_steal_extended(t->table, ticket, &key, &value);
	g_mutex_unlock(&t->lock);
	if (!found) {
		*why = g_strdup("no such console ticket (never issued, used already or expired "
				"after " G_STRINGIFY(ICS_CONSOLE_TICKET_TTL_S) " s)");
		return ICS_TICKET_UNKNOWN;
	}
	g_free(key);
	g = value;
	*out = *g; /* takes the strings */
	if (g_strcmp0(out->vm_uuid, vm_uuid) != 0)
		*why = g_strdup_printf("the ticket was issued for VM %s", out->vm_uuid);
	else if (out->kind != kind)
		*why = g_strdup_printf("the ticket was issued for the %s console",
				       ics_console_kind_name(out->kind));
	else if (g_strcmp0(out->client, client) != 0)
		*why = g_strdup_printf("the ticket was issued to client %s, not %s", out->client,
				       client ? client : "-");
	return *why ? ICS_TICKET_MISMATCH : ICS_TICKET_OK;
}

guint ics_console_tickets_count(IcsConsoleTickets *t)
{
	guint n;

	g_mutex_lock(&t->lock);
	prune(t, ics_now_us());
	n = g_hash_table_size(t->table);
	g_mutex_unlock(&t->lock);
	return n;
}
