/*
 * directory_ldap.c: connections to directory servers through libldap.
 *
 * TLS: an ldaps:// URL speaks TLS from the first byte, an ldap:// URL is
 * upgraded with StartTLS before anything is sent, and in both cases the
 * server's certificate must verify (LDAP_OPT_X_TLS_HARD: a chain to the
 * domain's CA certificate, or to the system's trust store when the domain
 * has none, and the URL's host name in the certificate).  libldap takes a
 * CA only from a file, so the domain's PEM is written to a private
 * temporary file, loaded into the connection's own TLS context
 * (LDAP_OPT_X_TLS_NEWCTX) and removed at once; the per-connection context
 * also keeps one domain's CA from being trusted for another.  Plain
 * ldap:// happens only with the domain's "insecure" flag, which the
 * configuration refuses for anything but a loopback address.
 *
 * User input reaches a filter only through ics_ldap_filter_escape
 * (ldap_bv2escaped_filter_value): a login name like "*)(uid=*" matches
 * nothing rather than everyone.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <ldap.h>

#include "ics/error.h"
#include "ics/manager/directory_ldap.h"

#define CONNECT_TIMEOUT_S 5
#define OP_TIMEOUT_S 10

struct IcsLdap {
	LDAP *ld;
	char *what; /* directory "corp": ldaps://host */
};

void ics_ldap_entry_free(IcsLdapEntry *e)
{
	if (e == NULL)
		return;
	g_free(e->dn);
	g_strfreev(e->values);
	g_free(e);
}

void ics_ldap_close(IcsLdap *l)
{
	if (l == NULL)
		return;
	if (l->ld)
		ldap_unbind_ext_s(l->ld, NULL, NULL);
	g_free(l->what);
	g_free(l);
}

/* "<what>: <libldap's message> (<the server's diagnostic>)". */
static void ldap_fail(IcsLdap *l, int rc, int code, const char *doing, const char *hint,
		      GError **error)
{
	char *diag = NULL;

	if (l->ld)
		ldap_get_option(l->ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag);
	g_set_error(error, ICS_ERROR, code, "%s: %s: %s%s%s%s%s%s", l->what, doing,
		    ldap_err2string(rc), diag && *diag ? " (" : "", diag && *diag ? diag : "",
		    diag && *diag ? ")" : "", hint ? "; " : "", hint ? hint : "");
	if (diag)
		ldap_memfree(diag);
}

/* Load @pem as the only CA of @ld's own TLS context. */
static gboolean load_ca(IcsLdap *l, const char *pem, GError **error)
{
	g_autoptr(GError) err = NULL;
	g_autofree char *path = NULL;
	int fd = g_file_open_tmp("ics-ldap-ca-XXXXXX.pem", &path, &err);
	int rc;

	if (fd < 0) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_IO,
			    "%s: cannot write the CA certificate: %s", l->what, err->message);
		return FALSE;
	}
	if (write(fd, pem, strlen(pem)) != (ssize_t)strlen(pem)) {
		ics_error_set_errno(error, errno, "%s: cannot write the CA certificate to %s",
				    l->what, path);
		close(fd);
		unlink(path);
		return FALSE;
	}
	close(fd);
	ldap_set_option(l->ld, LDAP_OPT_X_TLS_CACERTFILE, path);
	{
		int server = 0;

		rc = ldap_set_option(l->ld, LDAP_OPT_X_TLS_NEWCTX, &server);
	}
	unlink(path);
	if (rc != LDAP_OPT_SUCCESS) {
		ldap_fail(l, rc, ICS_ERROR_INVALID_ARGUMENT, "loading the CA certificate",
			  "check ca_certificate", error);
		return FALSE;
	}
	return TRUE;
}

static gboolean tls_setup(IcsLdap *l, const IcsDirectoryConfig *cfg, GError **error)
{
	int hard = LDAP_OPT_X_TLS_HARD, min = LDAP_OPT_X_TLS_PROTOCOL_TLS1_2;

	ldap_set_option(l->ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &hard);
	ldap_set_option(l->ld, LDAP_OPT_X_TLS_PROTOCOL_MIN, &min);
	if (cfg->ca_certificate)
		return load_ca(l, cfg->ca_certificate, error);
	{
		int server = 0, rc = ldap_set_option(l->ld, LDAP_OPT_X_TLS_NEWCTX, &server);

		if (rc != LDAP_OPT_SUCCESS) {
			ldap_fail(l, rc, ICS_ERROR_IO, "setting up TLS", NULL, error);
			return FALSE;
		}
	}
	return TRUE;
}

static gboolean simple_bind(IcsLdap *l, const char *dn, const char *password, int *rc_out)
{
	struct berval cred = { strlen(password), (char *)password };

	*rc_out = ldap_sasl_bind_s(l->ld, dn, LDAP_SASL_SIMPLE, &cred, NULL, NULL, NULL);
	return *rc_out == LDAP_SUCCESS;
}

IcsLdap *ics_ldap_connect(const IcsDirectoryConfig *cfg, GError **error)
{
	g_autoptr(IcsLdap) l = g_new0(IcsLdap, 1);
	struct timeval net = { CONNECT_TIMEOUT_S, 0 }, op = { OP_TIMEOUT_S, 0 };
	int v3 = LDAP_VERSION3, rc;

	l->what = g_strdup_printf("directory \"%s\": %s", cfg->name, cfg->url);
	rc = ldap_initialize(&l->ld, cfg->url);
	if (rc != LDAP_SUCCESS) {
		ldap_fail(l, rc, ICS_ERROR_INVALID_ARGUMENT, "bad URL", NULL, error);
		return NULL;
	}
	ldap_set_option(l->ld, LDAP_OPT_PROTOCOL_VERSION, &v3);
	ldap_set_option(l->ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
	ldap_set_option(l->ld, LDAP_OPT_NETWORK_TIMEOUT, &net);
	ldap_set_option(l->ld, LDAP_OPT_TIMEOUT, &op);
	if (!cfg->insecure) {
		if (!tls_setup(l, cfg, error))
			return NULL;
		if (g_str_has_prefix(cfg->url, "ldap://")) {
			rc = ldap_start_tls_s(l->ld, NULL, NULL);
			if (rc != LDAP_SUCCESS) {
				ldap_fail(l, rc, ICS_ERROR_UNAVAILABLE, "StartTLS failed",
					  "the server must offer StartTLS with a certificate "
					  "that verifies against ca_certificate",
					  error);
				return NULL;
			}
		}
	}
	if (!simple_bind(l, cfg->bind_dn, cfg->bind_password, &rc)) {
		if (rc == LDAP_INVALID_CREDENTIALS || rc == LDAP_INAPPROPRIATE_AUTH ||
		    rc == LDAP_UNWILLING_TO_PERFORM)
			ldap_fail(l, rc, ICS_ERROR_PERMISSION, "service bind refused",
				  "check bind_dn and bind_password", error);
		else
			ldap_fail(l, rc, ICS_ERROR_UNAVAILABLE, "cannot connect",
				  g_str_has_prefix(cfg->url, "ldaps://")
					  ? "check the URL and that the server's certificate "
					    "verifies against ca_certificate"
					  : "check the URL",
				  error);
		return NULL;
	}
	return g_steal_pointer(&l);
}

GPtrArray *ics_ldap_search(IcsLdap *l, const char *base, const char *filter, const char *attr,
			   guint max, GError **error)
{
	g_autoptr(GPtrArray) out =
		g_ptr_array_new_with_free_func((GDestroyNotify)ics_ldap_entry_free);
	char *attrs[] = { (char *)(attr ? attr : LDAP_NO_ATTRS), NULL };
	struct timeval tv = { OP_TIMEOUT_S, 0 };
	LDAPMessage *res = NULL;
	int rc;

	rc = ldap_search_ext_s(l->ld, base, LDAP_SCOPE_SUBTREE, filter, attrs, 0, NULL, NULL, &tv,
			       (int)max + 1, &res);
	if (rc == LDAP_SIZELIMIT_EXCEEDED) {
		g_autofree char *doing =
			g_strdup_printf("searching %s for %s: more than %u entries, or more than "
					"the server lets the service account read",
					base, filter, max);
		ldap_msgfree(res);
		ldap_fail(l, rc, ICS_ERROR_LIMIT, doing,
			  "narrow the filter or raise the server's size limit", error);
		return NULL;
	}
	if (rc != LDAP_SUCCESS && rc != LDAP_NO_SUCH_OBJECT) {
		g_autofree char *doing = g_strdup_printf("searching %s for %s", base, filter);

		ldap_msgfree(res);
		ldap_fail(l, rc,
			  rc == LDAP_SERVER_DOWN || rc == LDAP_TIMEOUT ? ICS_ERROR_UNAVAILABLE
								       : ICS_ERROR_IO,
			  doing, NULL, error);
		return NULL;
	}
	for (LDAPMessage *e = ldap_first_entry(l->ld, res); e; e = ldap_next_entry(l->ld, e)) {
		IcsLdapEntry *entry = g_new0(IcsLdapEntry, 1);
		char *dn = ldap_get_dn(l->ld, e);
		g_autoptr(GPtrArray) vals = g_ptr_array_new();

		entry->dn = g_strdup(dn ? dn : "");
		if (dn)
			ldap_memfree(dn);
		if (attr) {
			struct berval **bv = ldap_get_values_len(l->ld, e, attr);

			for (guint i = 0; bv && bv[i]; i++)
				if (memchr(bv[i]->bv_val, '\0', bv[i]->bv_len) == NULL)
					g_ptr_array_add(vals,
							g_strndup(bv[i]->bv_val, bv[i]->bv_len));
			if (bv)
				ldap_value_free_len(bv);
		}
		g_ptr_array_add(vals, NULL);
		entry->values = (GStrv)g_ptr_array_free(g_steal_pointer(&vals), FALSE);
		g_ptr_array_add(out, entry);
	}
	ldap_msgfree(res);
	return g_steal_pointer(&out);
}

gboolean ics_ldap_check_password(IcsLdap *l, const char *dn, const char *password, gboolean *ok,
				 GError **error)
{
	int rc;

	*ok = FALSE;
	if (password == NULL || password[0] == '\0' || dn == NULL || dn[0] == '\0')
		return TRUE;
	if (simple_bind(l, dn, password, &rc)) {
		*ok = TRUE;
		return TRUE;
	}
	if (rc == LDAP_INVALID_CREDENTIALS || rc == LDAP_INAPPROPRIATE_AUTH ||
	    rc == LDAP_UNWILLING_TO_PERFORM || rc == LDAP_CONSTRAINT_VIOLATION)
		return TRUE;
	ldap_fail(l, rc, ICS_ERROR_UNAVAILABLE, "user bind", NULL, error);
	return FALSE;
}

char *ics_ldap_filter_escape(const char *value)
{
	struct berval in = { strlen(value), (char *)value }, out = { 0, NULL };
	char *s;

	if (ldap_bv2escaped_filter_value(&in, &out) != 0)
		return NULL;
	s = g_strndup(out.bv_val, out.bv_len);
	ber_memfree(out.bv_val);
	return s;
}

char *ics_ldap_dn_normalize(const char *dn)
{
	LDAPDN parsed = NULL;
	char *text = NULL, *out;

	if (dn == NULL || ldap_str2dn(dn, &parsed, LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS)
		return NULL;
	if (ldap_dn2str(parsed, &text, LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS) {
		ldap_dnfree(parsed);
		return NULL;
	}
	ldap_dnfree(parsed);
	out = text ? g_utf8_strdown(text, -1) : NULL;
	if (text)
		ldap_memfree(text);
	if (out && !g_utf8_validate(out, -1, NULL))
		g_clear_pointer(&out, g_free);
	return out;
}

static gboolean loopback(const char *host)
{
	return g_str_equal(host, "localhost") || g_str_has_prefix(host, "127.") ||
	       g_str_equal(host, "::1") || g_str_equal(host, "[::1]");
}

gboolean ics_ldap_url_check(const char *url, gboolean insecure, GError **error)
{
	LDAPURLDesc *lud = NULL;
	gboolean ok = FALSE;

	if (ldap_url_parse(url, &lud) != LDAP_URL_SUCCESS)
		return ics_error_invalid(error,
					 "url \"%s\" is not an LDAP URL "
					 "(ldaps://host[:port] or ldap://host[:port])",
					 url);
	if (g_strcmp0(lud->lud_scheme, "ldap") != 0 && g_strcmp0(lud->lud_scheme, "ldaps") != 0)
		ics_error_invalid(error, "url \"%s\": the scheme must be ldaps or ldap", url);
	else if (lud->lud_host == NULL || lud->lud_host[0] == '\0')
		ics_error_invalid(error, "url \"%s\" names no host", url);
	else if ((lud->lud_dn && lud->lud_dn[0]) || lud->lud_attrs || lud->lud_filter ||
		 lud->lud_exts)
		ics_error_invalid(error,
				  "url \"%s\": only scheme, host and port are allowed; "
				  "bases and filters are fields of their own",
				  url);
	else if (insecure && g_str_equal(lud->lud_scheme, "ldaps"))
		ics_error_invalid(error, "insecure applies to ldap:// only; an ldaps:// URL "
					 "always verifies the server");
	else if (insecure && !loopback(lud->lud_host))
		ics_error_invalid(error,
				  "insecure (no TLS) is allowed only to a loopback address, not "
				  "to %s: passwords would cross the network in clear",
				  lud->lud_host);
	else
		ok = TRUE;
	ldap_free_urldesc(lud);
	return ok;
}

gboolean ics_ldap_filter_check(const char *filter, GError **error)
{
	int depth = 0;
	gsize n = strlen(filter);

	if (n < 3 || n > 1024 || filter[0] != '(' || filter[n - 1] != ')')
		goto bad;
	for (const char *p = filter; *p; p++) {
		if (*p == '(')
			depth++;
		else if (*p == ')' && --depth < 0)
			goto bad;
		else if (*p == '\\' && !(g_ascii_isxdigit(p[1]) && g_ascii_isxdigit(p[2])))
			goto bad;
		if (depth == 0 && p[1] != '\0')
			goto bad;
	}
	if (depth == 0 && g_utf8_validate(filter, -1, NULL))
		return TRUE;
bad:
	return ics_error_invalid(error,
				 "filter \"%.64s\" is not a parenthesised LDAP filter (RFC 4515), "
				 "at most 1024 characters, e.g. (objectClass=inetOrgPerson)",
				 filter);
}
