/*
 * manager_cert_cmd.c: `ics-admin manager cert install|show` -- the
 * manager's TLS certificate (manager_ha.h; the files: manager_cert.h).
 *
 * The manager generates a self-signed certificate naming the VIP and its
 * nodes; an operator who wants clients to trust a CA of their own installs
 * a certificate and key from that CA instead.  install checks them first
 * (the key is the certificate's, nothing expired, the chain in order;
 * any refusal exits 2 with nothing written), warns in one line when the
 * certificate does not name what this cluster's clients use (the
 * daemon's tls_names, else the VIP and the manager nodes), writes them
 * into the manager's state directory with the marker that stops the
 * daemon from ever replacing them, and restarts the daemon through the
 * cluster (it reads its certificate at start; there is no reload), then
 * waits until it answers on the VIP with the new key pinned.
 *
 * The state directory is the manager primitive's state_dir in the CIB, as
 * `manager status` finds it; on a drbd backend it is mounted on the node
 * that runs the manager only, so that is where to run install.
 * --state-dir DIR works on a manager outside the cluster (nothing is
 * restarted then).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "api_cmd.h"
#include "cib_ops.h"
#include "ics/error.h"
#include "ics/json.h"
#include "ics/xml.h"
#include "manager_cert.h"
#include "manager_group.h"
#include "manager_ha.h"

#define DEFAULT_RESTART_TIMEOUT_S 120

static const char usage_text[] =
	"usage: ics-admin manager cert install --cert FILE --key FILE [--chain FILE]\n"
	"                                      [--state-dir DIR] [--no-restart] [--timeout S]\n"
	"       ics-admin manager cert show [--state-dir DIR | --cert FILE] [--json]\n"
	"install checks the certificate and key, puts them in the manager's state directory\n"
	"and restarts the manager; show prints the certificate the manager serves.\n";

/* The manager's state directory: @given, else the CIB's (then *@s is the
 * manager's spec, for its names and the restart). */
static char *state_dir_of(const char *given, IcsCib *cib, IcsManagerSpec *s, GError **error)
{
	g_autoptr(xmlDoc) conf = NULL;

	if (given) {
		if (!g_file_test(given, G_FILE_TEST_IS_DIR)) {
			g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND,
				    "--state-dir %s is not a directory", given);
			return NULL;
		}
		return g_strdup(given);
	}
	if ((conf = ics_cib_query(cib, "configuration", error)) == NULL ||
	    !ics_manager_spec_from_cib(conf, s, error))
		return NULL;
	if (s->state_dir == NULL || !g_file_test(s->state_dir, G_FILE_TEST_IS_DIR)) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND,
			    "the manager's state directory %s is not on this node: run this where "
			    "it is mounted (%s), or give --state-dir DIR",
			    s->state_dir ? s->state_dir : "(none in the CIB)",
			    s->backend == ICS_MGR_DRBD ? "drbd: the node the manager runs on"
						       : "shared: a node of its pool");
		return NULL;
	}
	return g_strdup(s->state_dir);
}

/* What this cluster's clients use: the daemon's tls_names (VIP, manager
 * nodes and their addresses), else the VIP and the nodes. */
static GStrv expected_names(const IcsManagerSpec *s)
{
	g_autoptr(GStrvBuilder) b = g_strv_builder_new();

	if (s->tls_names && *s->tls_names)
		return g_strsplit(s->tls_names, ",", -1);
	if (s->vip)
		g_strv_builder_add(b, s->vip);
	for (guint i = 0; s->nodes && s->nodes[i]; i++)
		g_strv_builder_add(b, s->nodes[i]);
	return g_strv_builder_end(b);
}

static char *utc(gint64 t, gboolean iso)
{
	g_autoptr(GDateTime) d = g_date_time_new_from_unix_utc(t);

	if (d == NULL)
		return g_strdup("?");
	return g_date_time_format(d, iso ? "%Y-%m-%dT%H:%M:%SZ" : "%Y-%m-%d %H:%M:%S UTC");
}

/* ---- install -------------------------------------------------------------- */

static int cmd_install(int argc, char **argv)
{
	g_autoptr(GOptionContext) ctx = g_option_context_new("- install the manager's certificate");
	g_autoptr(GError) error = NULL;
	g_autofree char *cert = NULL, *key = NULL, *chain = NULL, *given_dir = NULL;
	g_autofree char *dir = NULL, *missing = NULL, *expires = NULL, *where = NULL;
	g_auto(IcsAdminCertBundle) b = { 0 };
	g_auto(IcsManagerSpec) s = { 0 };
	gboolean no_restart = FALSE;
	gint timeout = DEFAULT_RESTART_TIMEOUT_S;
	const IcsAdminCertInfo *own;
	IcsCib cib = { 0 };
	GOptionEntry entries[] = {
		{ "cert", 0, 0, G_OPTION_ARG_FILENAME, &cert,
		  "The certificate (PEM; its chain may follow it)", "FILE" },
		{ "key", 0, 0, G_OPTION_ARG_FILENAME, &key, "Its private key (PEM, unencrypted)",
		  "FILE" },
		{ "chain", 0, 0, G_OPTION_ARG_FILENAME, &chain,
		  "The issuers' certificates (PEM), each followed by its own issuer", "FILE" },
		{ "state-dir", 0, 0, G_OPTION_ARG_FILENAME, &given_dir,
		  "The manager's state directory (default: from the CIB); nothing is restarted",
		  "DIR" },
		{ "no-restart", 0, 0, G_OPTION_ARG_NONE, &no_restart,
		  "Do not restart the manager (it uses the certificate from its next start)",
		  NULL },
		{ "timeout", 0, 0, G_OPTION_ARG_INT, &timeout,
		  "Seconds for the restart until the manager answers on the VIP (120)", "S" },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};

	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!g_option_context_parse(ctx, &argc, &argv, &error))
		return ics_admin_finish(error);
	if (argc > 1)
		ics_error_invalid(&error, "manager cert install: unexpected argument \"%s\"",
				  argv[1]);
	else if (cert == NULL || key == NULL)
		ics_error_invalid(&error, "manager cert install: --cert FILE and --key FILE are "
					  "required");
	else if (timeout <= 0)
		ics_error_invalid(&error, "manager cert install: --timeout must be positive");
	if (error)
		return ics_admin_finish(error);
	/* Everything the files can get wrong, before anything is looked up. */
	if (!ics_admin_cert_bundle_load(&b, cert, key, chain, g_get_real_time() / G_USEC_PER_SEC,
					&error) ||
	    (dir = state_dir_of(given_dir, &cib, &s, &error)) == NULL)
		return ics_admin_finish(error);
	own = b.certs->pdata[0];
	if (given_dir == NULL) {
		g_auto(GStrv) names = expected_names(&s);

		missing = ics_admin_cert_missing_names(b.cert_pem, (const char *const *)names);
		if (missing)
			g_printerr("ics-admin: warning: the certificate does not name %s, which "
				   "this cluster's clients use: they will refuse it there\n",
				   missing);
	}
	if (!ics_admin_cert_install(&b, dir, &error))
		return ics_admin_finish(error);
	expires = utc(own->not_after, FALSE);
	printf("installed %s/%s: %s, expires %s, pin %s\n", dir, ICS_ADMIN_TLS_CERT, own->subject,
	       expires, own->pin ? own->pin : "?");
	fflush(stdout);
	if (given_dir || no_restart) {
		printf("the manager uses it from its next start (in a cluster: crm_resource "
		       "--restart --resource %s)\n",
		       ICS_MGR_DAEMON_ID);
		return ICS_ADMIN_EXIT_OK;
	}
	if (!ics_admin_manager_restart(&cib, &s, (guint)timeout, &where, &error)) {
		g_printerr("ics-admin: the certificate is installed, but %s\n", error->message);
		return ics_admin_exit_code(error);
	}
	if (where)
		printf("the manager answers on %s:%u from %s with the new certificate\n", s.vip,
		       s.port, where);
	else
		printf("the manager is not running: it uses the certificate when it starts\n");
	return ICS_ADMIN_EXIT_OK;
}

/* ---- show ------------------------------------------------------------------- */

static json_t *strv_json(const char *const *v)
{
	json_t *a = json_array();

	for (guint i = 0; v && v[i]; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static int cmd_show(int argc, char **argv)
{
	g_autoptr(GOptionContext) ctx = g_option_context_new("- the manager's certificate");
	g_autoptr(GError) error = NULL;
	g_autofree char *given_dir = NULL, *given_cert = NULL, *dir = NULL, *path = NULL;
	g_autofree char *pem = NULL, *missing = NULL, *marker = NULL;
	g_autofree char *from = NULL, *to = NULL, *from_iso = NULL, *to_iso = NULL;
	g_autoptr(GPtrArray) certs = NULL;
	g_auto(IcsManagerSpec) s = { 0 };
	gboolean json = FALSE, from_cib, expired;
	const IcsAdminCertInfo *own;
	gint64 now = g_get_real_time() / G_USEC_PER_SEC, days;
	gsize len = 0;
	IcsCib cib = { 0 };
	GOptionEntry entries[] = {
		{ "state-dir", 0, 0, G_OPTION_ARG_FILENAME, &given_dir,
		  "The manager's state directory (default: from the CIB)", "DIR" },
		{ "cert", 0, 0, G_OPTION_ARG_FILENAME, &given_cert,
		  "Show this PEM file instead of the manager's", "FILE" },
		{ "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON", NULL },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};

	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!g_option_context_parse(ctx, &argc, &argv, &error))
		return ics_admin_finish(error);
	if (argc > 1 || (given_dir && given_cert)) {
		ics_error_invalid(&error, argc > 1 ? "manager cert show: unexpected argument"
						   : "manager cert show: --state-dir or --cert, "
						     "not both");
		return ics_admin_finish(error);
	}
	from_cib = given_dir == NULL && given_cert == NULL;
	if (given_cert) {
		path = g_strdup(given_cert);
	} else {
		if ((dir = state_dir_of(given_dir, &cib, &s, &error)) == NULL)
			return ics_admin_finish(error);
		path = g_build_filename(dir, ICS_ADMIN_TLS_CERT, NULL);
		marker = g_build_filename(dir, ICS_ADMIN_TLS_MARKER, NULL);
	}
	{
		g_autoptr(GError) ferr = NULL;

		if (!g_file_get_contents(path, &pem, &len, &ferr)) {
			g_set_error(&error, ICS_ERROR,
				    ferr->code == G_FILE_ERROR_NOENT   ? ICS_ERROR_NOT_FOUND
				    : ferr->code == G_FILE_ERROR_ACCES ? ICS_ERROR_PERMISSION
								       : ICS_ERROR_IO,
				    "%s", ferr->message);
			return ics_admin_finish(error);
		}
	}
	if ((certs = ics_admin_cert_read(pem, len, path, &error)) == NULL)
		return ics_admin_finish(error);
	own = certs->pdata[0];
	if (from_cib) {
		g_auto(GStrv) names = expected_names(&s);

		missing = ics_admin_cert_missing_names(pem, (const char *const *)names);
	}
	expired = own->not_after < now;
	days = (own->not_after - now) / 86400;
	from = utc(own->not_before, FALSE);
	to = utc(own->not_after, FALSE);
	if (json) {
		g_autoptr(json_t) o = json_object();
		g_auto(GStrv) miss = missing ? g_strsplit(missing, ", ", -1) : NULL;
		json_t *chain = json_array();

		from_iso = utc(own->not_before, TRUE);
		to_iso = utc(own->not_after, TRUE);
		for (guint i = 1; i < certs->len; i++) {
			const IcsAdminCertInfo *c = certs->pdata[i];
			g_autofree char *c_to = utc(c->not_after, TRUE);

			json_array_append_new(chain,
					      json_pack("{s:s, s:s, s:s}", "subject", c->subject,
							"issuer", c->issuer, "not_after", c_to));
		}
		json_object_set_new(o, "path", json_string(path));
		json_object_set_new(o, "installed",
				    marker ? json_boolean(g_file_test(marker, G_FILE_TEST_EXISTS))
					   : json_null());
		json_object_set_new(o, "subject", json_string(own->subject));
		json_object_set_new(o, "issuer", json_string(own->issuer));
		json_object_set_new(o, "self_signed", json_boolean(own->self_signed));
		json_object_set_new(o, "names", strv_json((const char *const *)own->names));
		json_object_set_new(o, "not_before", json_string(from_iso));
		json_object_set_new(o, "not_after", json_string(to_iso));
		json_object_set_new(o, "expired", json_boolean(expired));
		json_object_set_new(o, "fingerprint_sha256", json_string(own->fingerprint));
		json_object_set_new(o, "pin", own->pin ? json_string(own->pin) : json_null());
		json_object_set_new(o, "chain", chain);
		json_object_set_new(o, "missing_names",
				    from_cib ? strv_json((const char *const *)miss) : json_null());
		ics_admin_print_json(o);
		return ICS_ADMIN_EXIT_OK;
	}
	printf("certificate: %s%s\n", path,
	       marker == NULL				 ? ""
	       : g_file_test(marker, G_FILE_TEST_EXISTS) ? " (installed by the operator)"
							 : " (generated by the manager)");
	printf("subject:     %s\n", own->subject);
	printf("issuer:      %s\n", own->self_signed ? "itself (self-signed)" : own->issuer);
	{
		g_autofree char *names = g_strjoinv(", ", own->names);

		printf("names:       %s\n", *names ? names : "-");
	}
	if (expired)
		printf("valid:       %s to %s (EXPIRED)\n", from, to);
	else
		printf("valid:       %s to %s (%" G_GINT64_FORMAT " days left)\n", from, to, days);
	printf("sha256:      %s\n", own->fingerprint);
	printf("pin:         %s\n", own->pin ? own->pin : "?");
	for (guint i = 1; i < certs->len; i++) {
		const IcsAdminCertInfo *c = certs->pdata[i];
		g_autofree char *c_to = utc(c->not_after, FALSE);

		printf("chain:       %s (expires %s)\n", c->subject, c_to);
	}
	if (missing)
		printf("not named:   %s (names this cluster's clients use)\n", missing);
	return ICS_ADMIN_EXIT_OK;
}

int ics_admin_manager_cert_main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;

	if (cmd == NULL || g_str_equal(cmd, "--help") || g_str_equal(cmd, "-h") ||
	    g_str_equal(cmd, "help")) {
		fputs(usage_text, cmd ? stdout : stderr);
		return cmd ? ICS_ADMIN_EXIT_OK : ICS_ADMIN_EXIT_USAGE;
	}
	if (g_str_equal(cmd, "install"))
		return cmd_install(argc - 1, argv + 1);
	if (g_str_equal(cmd, "show"))
		return cmd_show(argc - 1, argv + 1);
	g_printerr("ics-admin: manager cert: unknown command \"%s\"\n%s", cmd, usage_text);
	return ICS_ADMIN_EXIT_USAGE;
}
