/*
 * session.c: session tokens, stored hashed, with expiry, idle timeout and a
 * per-user limit.
 *
 * The last-seen time is written at most once every IDLE_GRANULARITY so a
 * busy client does not turn every read into a database write; the idle
 * timeout is correspondingly approximate by that much.
 *
 * A session has a stage (session.h): the sessions of a login still
 * waiting for a second factor, or limited to enrolling one, are rows like
 * the others -- they end the same ways and count towards the limit -- with
 * a short lifetime, and are promoted in place once the code is proved.
 */
#include "config.h"

#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "ics/error.h"
#include "ics/json.h"
#include "ics/manager/session.h"
#include "ics/manager/timestamp.h"

#define TOKEN_BYTES 32
#define IDLE_GRANULARITY_US (30 * G_USEC_PER_SEC)

static char *token_hash(const char *token)
{
	return g_compute_checksum_for_string(G_CHECKSUM_SHA256, token, -1);
}

static gboolean token_well_formed(const char *token)
{
	if (strlen(token) != TOKEN_BYTES * 2)
		return FALSE;
	for (const char *p = token; *p; p++)
		if (!g_ascii_isxdigit(*p))
			return FALSE;
	return TRUE;
}

const char *ics_session_stage_name(IcsSessionStage stage)
{
	switch (stage) {
	case ICS_SESSION_SECOND_FACTOR:
		return "second_factor";
	case ICS_SESSION_ENROL:
		return "enrol";
	case ICS_SESSION_FULL:
		break;
	}
	return "full";
}

static IcsSessionStage stage_from_name(const char *name)
{
	if (g_strcmp0(name, "second_factor") == 0)
		return ICS_SESSION_SECOND_FACTOR;
	if (g_strcmp0(name, "enrol") == 0)
		return ICS_SESSION_ENROL;
	return ICS_SESSION_FULL;
}

char *ics_session_create(IcsStore *store, const IcsLoginPolicy *policy, gint64 user_id,
			 IcsSessionStage stage, const char *client, gint64 *expires_us,
			 GError **error)
{
	guint8 rnd[TOKEN_BYTES];
	g_autofree char *token = g_malloc0(TOKEN_BYTES * 2 + 1);
	g_autofree char *hash = NULL;
	gint64 now = ics_now_us();
	gint64 n = ics_session_count(store, user_id, error);

	if (n < 0)
		return NULL;
	if (n >= policy->max_sessions_per_user) {
		g_autoptr(IcsStmt) del = ics_store_stmt(store,
							"DELETE FROM sessions WHERE id IN (SELECT "
							"id FROM sessions WHERE user_id = ?"
							" ORDER BY created_us, id LIMIT ?)",
							error);

		if (del == NULL)
			return NULL;
		ics_stmt_bind_int(del, 1, user_id);
		ics_stmt_bind_int(del, 2, n - policy->max_sessions_per_user + 1);
		if (!ics_stmt_run(del, error))
			return NULL;
	}
	if (gnutls_rnd(GNUTLS_RND_KEY, rnd, sizeof(rnd)) != 0) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_IO, "no random bytes for a session token");
		return NULL;
	}
	{
		gnutls_datum_t d = { rnd, sizeof(rnd) };
		size_t size = TOKEN_BYTES * 2 + 1;

		gnutls_hex_encode(&d, token, &size);
	}
	explicit_bzero(rnd, sizeof(rnd));
	hash = token_hash(token);

	g_autoptr(IcsStmt) st = ics_store_stmt(
		store,
		"INSERT INTO sessions (user_id, token_hash, client, created_us, last_seen_us,"
		" expires_us, stage) VALUES (?, ?, ?, ?, ?, ?, ?)",
		error);
	if (st == NULL)
		return NULL;
	*expires_us = now + (gint64)(stage == ICS_SESSION_FULL ? policy->session_lifetime_seconds
							       : ICS_SESSION_PENDING_SECONDS) *
				    G_USEC_PER_SEC;
	ics_stmt_bind_int(st, 1, user_id);
	ics_stmt_bind_text(st, 2, hash);
	ics_stmt_bind_text(st, 3, client);
	ics_stmt_bind_int(st, 4, now);
	ics_stmt_bind_int(st, 5, now);
	ics_stmt_bind_int(st, 6, *expires_us);
	ics_stmt_bind_text(st, 7, ics_session_stage_name(stage));
	if (!ics_stmt_run(st, error))
		return NULL;
	return g_steal_pointer(&token);
}

gboolean ics_session_promote(IcsStore *store, const IcsLoginPolicy *policy, gint64 session_id,
			     gint64 *expires_us, GError **error)
{
	g_autoptr(IcsStmt) st = ics_store_stmt(
		store, "UPDATE sessions SET stage = 'full', expires_us = ? WHERE id = ?", error);

	if (st == NULL)
		return FALSE;
	*expires_us = ics_now_us() + (gint64)policy->session_lifetime_seconds * G_USEC_PER_SEC;
	ics_stmt_bind_int(st, 1, *expires_us);
	ics_stmt_bind_int(st, 2, session_id);
	return ics_stmt_run(st, error);
}

static gboolean lookup_locked(IcsStore *store, const IcsLoginPolicy *policy, const char *token,
			      gint64 *user_id, gint64 *session_id, IcsSessionStage *stage,
			      GError **error)
{
	g_autofree char *hash = token_hash(token);
	g_autoptr(IcsStmt) st =
		ics_store_stmt(store,
			       "SELECT id, user_id, last_seen_us, expires_us, stage FROM sessions"
			       " WHERE token_hash = ?",
			       error);
	gint64 now = ics_now_us(), last_seen, expires;
	int rc;

	if (st == NULL)
		return FALSE;
	ics_stmt_bind_text(st, 1, hash);
	rc = ics_stmt_step(st, error);
	if (rc < 0)
		return FALSE;
	if (rc == SQLITE_DONE) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_PERMISSION, "invalid session token");
		return FALSE;
	}
	*session_id = sqlite3_column_int64(st, 0);
	*user_id = sqlite3_column_int64(st, 1);
	last_seen = sqlite3_column_int64(st, 2);
	expires = sqlite3_column_int64(st, 3);
	*stage = stage_from_name(ics_stmt_text(st, 4));
	ics_stmt_release(g_steal_pointer(&st));

	if (now >= expires ||
	    now - last_seen > (gint64)policy->session_idle_seconds * G_USEC_PER_SEC) {
		ics_session_delete(store, *session_id, NULL);
		g_set_error(error, ICS_ERROR, ICS_ERROR_PERMISSION,
			    "session expired; log in again");
		return FALSE;
	}
	if (now - last_seen > IDLE_GRANULARITY_US) {
		g_autoptr(IcsStmt) up = ics_store_stmt(
			store, "UPDATE sessions SET last_seen_us = ? WHERE id = ?", error);

		if (up == NULL)
			return FALSE;
		ics_stmt_bind_int(up, 1, now);
		ics_stmt_bind_int(up, 2, *session_id);
		if (!ics_stmt_run(up, error))
			return FALSE;
	}
	return TRUE;
}

gboolean ics_session_lookup(IcsStore *store, const IcsLoginPolicy *policy, const char *token,
			    gint64 *user_id, gint64 *session_id, IcsSessionStage *stage,
			    GError **error)
{
	gboolean ok;

	if (!token_well_formed(token)) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_PERMISSION, "invalid session token");
		return FALSE;
	}
	ics_store_lock(store);
	ok = lookup_locked(store, policy, token, user_id, session_id, stage, error);
	ics_store_unlock(store);
	return ok;
}

static gboolean delete_by(IcsStore *store, const char *sql, gint64 id, GError **error)
{
	g_autoptr(IcsStmt) st = ics_store_stmt(store, sql, error);

	if (st == NULL)
		return FALSE;
	ics_stmt_bind_int(st, 1, id);
	return ics_stmt_run(st, error);
}

gboolean ics_session_delete(IcsStore *store, gint64 session_id, GError **error)
{
	return delete_by(store, "DELETE FROM sessions WHERE id = ?", session_id, error);
}

gboolean ics_session_delete_user(IcsStore *store, gint64 user_id, gint64 except_session_id,
				 GError **error)
{
	g_autoptr(IcsStmt) st =
		ics_store_stmt(store, "DELETE FROM sessions WHERE user_id = ? AND id != ?", error);

	if (st == NULL)
		return FALSE;
	ics_stmt_bind_int(st, 1, user_id);
	ics_stmt_bind_int(st, 2, except_session_id);
	return ics_stmt_run(st, error);
}

gboolean ics_session_alive(IcsStore *store, gint64 session_id, gint64 *expires_us, GError **error)
{
	g_autoptr(IcsStmt) st =
		ics_store_stmt(store, "SELECT expires_us FROM sessions WHERE id = ?", error);
	int rc;

	if (st == NULL)
		return FALSE;
	ics_stmt_bind_int(st, 1, session_id);
	rc = ics_stmt_step(st, error);
	if (rc < 0)
		return FALSE;
	if (rc == SQLITE_DONE || sqlite3_column_int64(st, 0) <= ics_now_us()) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_PERMISSION, "the session has ended");
		return FALSE;
	}
	*expires_us = sqlite3_column_int64(st, 0);
	return TRUE;
}

gint64 ics_session_count(IcsStore *store, gint64 user_id, GError **error)
{
	g_autoptr(IcsStmt) st =
		ics_store_stmt(store, "SELECT count(*) FROM sessions WHERE user_id = ?", error);

	if (st == NULL)
		return -1;
	ics_stmt_bind_int(st, 1, user_id);
	if (ics_stmt_step(st, error) != SQLITE_ROW)
		return -1;
	return sqlite3_column_int64(st, 0);
}
