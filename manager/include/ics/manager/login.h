/*
 * ics/manager/login.h: proving who one is -- a password (or, for a
 * directory user, a bind to the directory) and, when the account has one,
 * a second factor -- and the session that proof opens.
 *
 * Every proof of a user's secret is counted before it is checked
 * (ics_login_attempt): passwords, directory binds, TOTP codes and recovery
 * codes all count towards the same lockout, and only a complete proof
 * clears the count.  A right password alone does not clear it for a user
 * with a second factor, so the count also bounds the guessing of codes.
 *
 * A login gives (see session.h):
 *   - a full session when the account needs no second factor, or when the
 *     request also carries a right "code" (TOTP or recovery code);
 *   - a session waiting for the second factor when the account has one and
 *     no code was sent: POST /api/v1/sessions/current/second-factor with a
 *     code makes it full;
 *   - a session limited to enrolling a second factor when the account must
 *     use one (its flag or a role's) but has none yet: confirming the
 *     enrolment makes it full.
 */
#ifndef ICS_MANAGER_LOGIN_H
#define ICS_MANAGER_LOGIN_H

#include <glib.h>

#include "ics/manager/authz.h"
#include "ics/manager/manager.h"
#include "ics/manager/session.h"

typedef struct {
	char *token; /* NULL when refused */
	char *user;
	gint64 expires_us;
	IcsSessionStage stage;
	/* Why it was refused, for the audit log only: every refusal looks
	 * the same to the client. */
	char *refused;
} IcsLoginResult;

void ics_login_result_clear(IcsLoginResult *r);

/* The audit reason of a refused attempt ("account locked"). */
const char *ics_login_gate_reason(IcsLoginGate gate);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(IcsLoginResult, ics_login_result_clear)

/* Log @name in with @password and, optionally, @code (NULL: none).  TRUE
 * with the session in @res, or TRUE with res->refused; FALSE with @error
 * only when something broke (database, directory unreachable). */
gboolean ics_login(IcsManager *m, const char *name, const char *password, const char *code,
		   const char *client, IcsLoginResult *res, GError **error);

/* The second step of a login: @p's session waits for a second factor;
 * prove @code (TOTP or recovery code) and make the session full.  A
 * refusal is counted like a wrong password; when the account is (or
 * becomes) locked or disabled the waiting session ends. */
gboolean ics_login_second_factor(IcsManager *m, const IcsPrincipal *p, const char *code,
				 IcsLoginResult *res, GError **error);

/*
 * A second-factor proof that guards another change (confirming an
 * enrolment, removing the factor, new recovery codes): counted like a
 * login, then, in one write transaction, @code is checked -- as a code of
 * the pending enrolment with @enrolment, else of the active factor (TOTP
 * codes only) -- and @then runs.  On success the count is cleared and the
 * transaction committed; the value @then returned (may be NULL) is in
 * @out.  PERMISSION "wrong second factor code" (or the account's lock)
 * when the proof fails.
 */
typedef gboolean (*IcsProofThen)(IcsManager *m, gint64 user_id, void *data, json_t **out,
				 GError **error);
gboolean ics_login_prove_code(IcsManager *m, const char *name, const char *code, gboolean enrolment,
			      IcsProofThen then, void *data, json_t **out, GError **error);

#endif /* ICS_MANAGER_LOGIN_H */
