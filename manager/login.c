/*
 * login.c: the login protocol -- count, check the first factor, decide the
 * session's stage, check the second factor -- and the code proofs that
 * guard changes to a second factor.
 *
 * Order and locks: the attempt is counted in its own transaction
 * (login_policy.c); the first factor is checked with no lock held
 * (yescrypt takes tens of milliseconds, a directory bind a network round
 * trip); then one write transaction reads whether the account has or
 * needs a second factor, checks the code when one was sent (its step is
 * recorded in the same transaction, so a code is accepted once however
 * many requests carry it), clears the count when the proof is complete
 * and creates the session.  Nothing is left half-done: a refused code
 * rolls back everything but the counted attempt.
 *
 * A directory user's password is checked by binding to its directory as
 * the user (directory_sync.c), which also reads its groups and state
 * again; a name the manager does not know is looked up in the directories
 * before the login is refused, so a user added to the directory can log
 * in before the next sync.
 */
#include "config.h"

#include <string.h>

#include "ics/error.h"
#include "ics/json.h"
#include "ics/log.h"
#include "ics/manager/directory_sync.h"
#include "ics/manager/login.h"
#include "ics/manager/login_policy.h"
#include "ics/manager/password.h"
#include "ics/manager/totp.h"
#include "ics/manager/users.h"

void ics_login_result_clear(IcsLoginResult *r)
{
	g_free(r->token);
	g_free(r->user);
	g_free(r->refused);
	memset(r, 0, sizeof(*r));
}

static gboolean refused(IcsLoginResult *res, const char *reason)
{
	g_free(res->refused);
	res->refused = g_strdup(reason);
	return TRUE;
}

const char *ics_login_gate_reason(IcsLoginGate gate)
{
	switch (gate) {
	case ICS_LOGIN_NO_USER:
		return "no such user";
	case ICS_LOGIN_DISABLED:
		return "account disabled";
	case ICS_LOGIN_LOCKED:
		return "account locked";
	case ICS_LOGIN_OPEN:
		break;
	}
	return "refused";
}

/* Is @password the first factor of @user?  FALSE with @error set only
 * when the check itself failed. */
static gboolean first_factor(IcsManager *m, const IcsUser *user, const char *password, gboolean *ok,
			     GError **error)
{
	if (user->directory_id != 0)
		return ics_directory_authenticate(m, user, password, ok, error);
	*ok = ics_password_verify(password, user->password_hash);
	return TRUE;
}

/* Was @error a refused proof (not a failure of the manager)? */
static gboolean is_refusal(const GError *error)
{
	return error->domain == ICS_ERROR &&
	       (error->code == ICS_ERROR_PERMISSION || error->code == ICS_ERROR_NOT_FOUND);
}

gboolean ics_login(IcsManager *m, const char *name, const char *password, const char *code,
		   const char *client, IcsLoginResult *res, GError **error)
{
	IcsLoginPolicy *policy = &m->cfg.policy;
	g_autoptr(IcsUser) user = NULL;
	g_autoptr(GError) err = NULL;
	gboolean ok, enrolled, required;
	IcsLoginGate gate;

	user = ics_login_attempt(m->store, policy, name, &gate, error);
	if (user == NULL && gate == ICS_LOGIN_NO_USER) {
		/* Perhaps a directory user not synced yet. */
		gboolean created;

		if (!ics_directory_provision(m, name, &created, error))
			return FALSE;
		if (created)
			user = ics_login_attempt(m->store, policy, name, &gate, error);
	}
	if (user == NULL) {
		if (gate == ICS_LOGIN_OPEN)
			return FALSE;
		ics_password_verify_dummy(password);
		return refused(res, ics_login_gate_reason(gate));
	}
	if (!first_factor(m, user, password, &ok, error))
		return FALSE;
	if (!ok)
		return refused(res, "wrong password");

	if (!ics_store_begin(m->store, error))
		return FALSE;
	if (!ics_totp_enrolled(m->store, user->id, &enrolled, error) ||
	    !ics_totp_required(m->store, user->id, &required, error))
		goto fail;
	if (enrolled && code == NULL) {
		/* Half a proof: the count stays until the code comes. */
		res->stage = ICS_SESSION_SECOND_FACTOR;
	} else {
		if (enrolled &&
		    !ics_totp_verify(m->sealer, m->store, user->id, code, TRUE, NULL, &err)) {
			ics_store_rollback(m->store);
			if (!is_refusal(err)) {
				g_propagate_error(error, g_steal_pointer(&err));
				return FALSE;
			}
			return refused(res, err->message);
		}
		res->stage = enrolled || !required ? ICS_SESSION_FULL : ICS_SESSION_ENROL;
		if (!ics_login_record_success(m->store, user->id, error))
			goto fail;
	}
	res->token = ics_session_create(m->store, policy, user->id, res->stage, client,
					&res->expires_us, error);
	if (res->token == NULL)
		goto fail;
	if (!ics_store_commit(m->store, error)) {
		g_clear_pointer(&res->token, g_free);
		return FALSE;
	}
	res->user = g_strdup(user->name);
	return TRUE;
fail:
	ics_store_rollback(m->store);
	return FALSE;
}

gboolean ics_login_second_factor(IcsManager *m, const IcsPrincipal *p, const char *code,
				 IcsLoginResult *res, GError **error)
{
	g_autoptr(IcsUser) user = NULL;
	g_autoptr(GError) err = NULL;
	IcsLoginGate gate;

	if (p->stage != ICS_SESSION_SECOND_FACTOR) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
			    "this session is not waiting for a second factor");
		return FALSE;
	}
	user = ics_login_attempt(m->store, &m->cfg.policy, p->name, &gate, error);
	if (user == NULL) {
		if (gate == ICS_LOGIN_OPEN)
			return FALSE;
		/* Locked or disabled meanwhile: the waiting session ends. */
		if (!ics_store_begin(m->store, error))
			return FALSE;
		if (!ics_session_delete(m->store, p->session_id, error)) {
			ics_store_rollback(m->store);
			return FALSE;
		}
		if (!ics_store_commit(m->store, error))
			return FALSE;
		ics_manager_credentials_revoked(m);
		return refused(res, ics_login_gate_reason(gate));
	}
	if (!ics_store_begin(m->store, error))
		return FALSE;
	if (!ics_totp_verify(m->sealer, m->store, user->id, code, TRUE, NULL, &err)) {
		ics_store_rollback(m->store);
		if (!is_refusal(err)) {
			g_propagate_error(error, g_steal_pointer(&err));
			return FALSE;
		}
		return refused(res, err->message);
	}
	if (!ics_login_record_success(m->store, user->id, error) ||
	    !ics_session_promote(m->store, &m->cfg.policy, p->session_id, &res->expires_us,
				 error)) {
		ics_store_rollback(m->store);
		return FALSE;
	}
	if (!ics_store_commit(m->store, error))
		return FALSE;
	res->stage = ICS_SESSION_FULL;
	res->user = g_strdup(user->name);
	return TRUE;
}

gboolean ics_login_prove_code(IcsManager *m, const char *name, const char *code, gboolean enrolment,
			      IcsProofThen then, void *data, json_t **out, GError **error)
{
	g_autoptr(IcsUser) user = NULL;
	g_autoptr(json_t) result = NULL;
	IcsLoginGate gate;

	*out = NULL;
	user = ics_login_attempt(m->store, &m->cfg.policy, name, &gate, error);
	if (user == NULL) {
		if (gate != ICS_LOGIN_OPEN)
			g_set_error(error, ICS_ERROR, ICS_ERROR_PERMISSION,
				    "cannot check the code: %s", ics_login_gate_reason(gate));
		return FALSE;
	}
	if (!ics_store_begin(m->store, error))
		return FALSE;
	if (enrolment)
		result = ics_totp_confirm(m->sealer, m->store, user->id, code, error);
	if ((enrolment && result == NULL) ||
	    (!enrolment &&
	     !ics_totp_verify(m->sealer, m->store, user->id, code, FALSE, NULL, error)) ||
	    (then && !then(m, user->id, data, out, error)) ||
	    !ics_login_record_success(m->store, user->id, error)) {
		ics_store_rollback(m->store);
		g_clear_pointer(out, json_decref);
		return FALSE;
	}
	if (!ics_store_commit(m->store, error)) {
		g_clear_pointer(out, json_decref);
		return FALSE;
	}
	if (enrolment && *out == NULL)
		*out = g_steal_pointer(&result);
	else if (enrolment && json_is_object(*out))
		json_object_update_missing(*out, result);
	return TRUE;
}
