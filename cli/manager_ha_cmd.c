/*
 * manager_ha_cmd.c: `ics-admin manager setup|status|move` (manager_ha.h),
 * and the restart a new certificate needs (manager_cert_cmd.c).
 *
 * setup writes the manager group (manager_group.h) into the CIB with
 * cibadmin: each object is created, or replaced when its id exists with
 * other content, or left alone when it is the same -- so running setup
 * twice changes nothing, and running it with other options reconfigures.
 * Input is checked before anything is written: the pool must be an
 * ocf:ics:pool clone of this cluster, the VIP an IPv4 host address, the
 * nodes cluster nodes.
 *
 * The first administrator (shared backend): ics-managerd creates "admin"
 * with a generated password only on an empty database, and prints it on
 * its standard output -- which, under the resource agent, is a log file.
 * So setup makes the database before the cluster ever starts the manager:
 * it takes the manager's lease itself (the only writer of the state), runs
 * `ics-managerd --bootstrap-admin` on loopback, reads the password from
 * the pipe, stops the daemon and releases the lease.  The password goes to
 * setup's standard output, or to a new 0600 file (--admin-password-file),
 * never to a log.
 *
 * status and move read crm_mon for where the group runs and ask the API on
 * the VIP: GET /api/v1/health through libicsclient with the public key of
 * the daemon's certificate (STATE_DIR/tls-cert.pem) pinned -- the same
 * check as the agent's monitor, made from outside the node, and good for
 * a generated or an installed certificate alike -- or, with --ca FILE,
 * verified against that CA for the VIP's address.  The pin is read again
 * at every probe: the daemon makes its certificate again when its names
 * changed, at the start setup waits for.
 * move is crm_resource --move (or, without a node, away from the current
 * one), then a wait with progress until the manager answers on the VIP
 * from its new node, then crm_resource --clear.
 */
#include "config.h"

#include "manager_ha.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include "api_cmd.h"
#include "cib_ops.h"
#include "ics/client.h"
#include "ics/error.h"
#include "ics/exec.h"
#include "ics/json.h"
#include "ics/lock.h"
#include "ics/xml.h"
#include "manager_group.h"

#define BOOTSTRAP_TIMEOUT_S 60
#define DEFAULT_WAIT_S 120
#define HEALTH_TIMEOUT_MS 3000

G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlBuffer, xmlBufferFree)

/* ---- the health of the API on the VIP ---------------------------------- */

typedef struct {
	gboolean ok;
	long http_status;
	char *db;    /* "writable", ... */
	char *error; /* why not ok */
	double ms;
} Health;

static void health_clear(Health *h)
{
	g_free(h->db);
	g_free(h->error);
	memset(h, 0, sizeof(*h));
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Health, health_clear)

/* How the probe trusts the manager: the key of @cert pinned, or @ca (the
 * chain, and the VIP's address as the name). */
typedef struct {
	const char *cert, *ca;
} Trust;

static void probe_health(const char *vip, guint port, const Trust *trust, Health *h)
{
	g_autofree char *url = g_strdup_printf("https://%s:%u", vip, port);
	g_autofree char *pin = NULL;
	g_autoptr(GError) e = NULL;
	g_autoptr(IcsRest) rest = NULL;
	g_autoptr(IcsRestResponse) resp = NULL;
	IcsRestConfig rc = { .url = url,
			     .connect_host = vip, /* straight there: never a proxy */
			     .ca_file = trust->ca,
			     .timeout_ms = HEALTH_TIMEOUT_MS,
			     .user_agent = ICS_ADMIN_USER_AGENT,
			     .hint_url = "is the manager running (crm_mon -1)?",
			     .hint_trust = "give the CA of the manager's certificate with --ca "
					   "FILE, or leave --ca out to pin the state directory's "
					   "tls-cert.pem" };
	gint64 t0 = g_get_monotonic_time();
	const char *st, *db;

	memset(h, 0, sizeof(*h));
	if (trust->ca == NULL) {
		if (trust->cert == NULL ||
		    (pin = ics_rest_pin_from_cert_file(trust->cert, &e)) == NULL) {
			h->error = g_strdup_printf("cannot verify the manager: %s (give --ca FILE)",
						   e ? e->message
						     : "no state directory, so no certificate");
			return;
		}
		rc.pinned_key = pin;
	}
	if ((rest = ics_rest_new(&rc, &e)) == NULL ||
	    (resp = ics_rest_request(rest, "GET", "/api/v1/health", NULL, NULL, &e)) == NULL) {
		h->ms = (double)(g_get_monotonic_time() - t0) / 1000.0;
		h->error = g_strdup_printf("asking %s:%u: %s", vip, port, e->message);
		return;
	}
	h->ms = (double)(g_get_monotonic_time() - t0) / 1000.0;
	st = json_string_value(json_object_get(resp->json, "status"));
	db = json_string_value(json_object_get(resp->json, "db"));
	h->http_status = resp->status;
	h->db = g_strdup(db ? db : "?");
	h->ok = h->http_status == 200 && g_strcmp0(st, "ok") == 0 && g_strcmp0(db, "writable") == 0;
	if (!h->ok)
		h->error = g_strdup_printf("answered HTTP %ld, status %s, db %s", h->http_status,
					   st ? st : "?", h->db);
}

/* --ca, else the state directory's certificate (its key pinned). */
static Trust trust_of(const IcsManagerSpec *s, const char *ca, char **cert)
{
	*cert = s->state_dir ? g_build_filename(s->state_dir, "tls-cert.pem", NULL) : NULL;
	return (Trust){ .cert = *cert, .ca = ca };
}

/* ---- where the group runs ---------------------------------------------- */

typedef struct {
	char *daemon_role, *daemon_node, *vip_role, *vip_node;
} Placement;

static void placement_clear(Placement *p)
{
	g_free(p->daemon_role);
	g_free(p->daemon_node);
	g_free(p->vip_role);
	g_free(p->vip_node);
	memset(p, 0, sizeof(*p));
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Placement, placement_clear)

static gboolean placement_read(IcsCib *cib, Placement *p, xmlDoc **status_out, GError **error)
{
	g_autoptr(xmlDoc) status = ics_cib_status(cib, error);

	memset(p, 0, sizeof(*p));
	if (status == NULL)
		return FALSE;
	ics_cib_resource_state(status, ICS_MGR_DAEMON_ID, &p->daemon_role, &p->daemon_node);
	ics_cib_resource_state(status, ICS_MGR_VIP_ID, &p->vip_role, &p->vip_node);
	if (status_out)
		*status_out = g_steal_pointer(&status);
	return TRUE;
}

static gboolean running_on(const Placement *p, const char *node)
{
	return g_strcmp0(p->daemon_role, "Started") == 0 &&
	       g_strcmp0(p->vip_role, "Started") == 0 && p->daemon_node != NULL &&
	       g_strcmp0(p->daemon_node, p->vip_node) == 0 &&
	       (node == NULL || g_str_equal(p->daemon_node, node));
}

/* The lease's holder (shared backend), as the pool's leader record says:
 * "node2" or "host 2"; NULL when free or unreadable (@why says). */
static char *lease_holder(const IcsManagerSpec *s, guint64 *host_id, char **why)
{
	g_autoptr(GError) e = NULL;
	g_autoptr(IcsPool) pool = NULL;
	g_autoptr(GPtrArray) hosts = NULL;
	IcsLeaseInfo info = { 0 };
	char *name = NULL;

	*host_id = 0;
	if (s->pool_path == NULL)
		return NULL;
	pool = ics_pool_open(s->pool_path, NULL, &e);
	if (pool == NULL || !ics_lease_inspect(pool, ICS_MGR_LEASE, &info, &e)) {
		*why = g_strdup(e->message);
		return NULL;
	}
	*host_id = info.owner_host_id;
	ics_lease_info_clear(&info);
	if (*host_id == 0)
		return NULL;
	hosts = ics_pool_hosts(pool, NULL);
	for (guint i = 0; hosts && i < hosts->len; i++) {
		const IcsHostInfo *h = hosts->pdata[i];

		if (h->host_id == *host_id && h->name)
			name = g_strdup(h->name);
	}
	return name ? name : g_strdup_printf("host %" G_GUINT64_FORMAT, *host_id);
}

/* ---- status ------------------------------------------------------------- */

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static int cmd_status(int argc, char **argv)
{
	g_autoptr(GOptionContext) ctx = g_option_context_new("- where the manager runs");
	g_autoptr(GError) error = NULL;
	g_autoptr(xmlDoc) conf = NULL;
	g_auto(IcsManagerSpec) s = { 0 };
	g_auto(Placement) p = { 0 };
	g_auto(Health) h = { 0 };
	g_autofree char *ca = NULL, *cert = NULL, *holder = NULL, *why = NULL, *nodes = NULL;
	g_autofree char *url = NULL;
	gboolean json = FALSE;
	guint64 host_id = 0;
	IcsCib cib = { 0 };
	Trust trust;
	GOptionEntry entries[] = {
		{ "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON", NULL },
		{ "ca", 0, 0, G_OPTION_ARG_FILENAME, &ca,
		  "CA of the manager's certificate, verified for the VIP (default: the key of "
		  "STATE_DIR/tls-cert.pem pinned)",
		  "FILE" },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};

	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!g_option_context_parse(ctx, &argc, &argv, &error))
		return ics_admin_finish(error);
	if (argc > 1) {
		ics_error_invalid(&error, "manager status: unexpected argument \"%s\"", argv[1]);
		return ics_admin_finish(error);
	}
	if ((conf = ics_cib_query(&cib, "configuration", &error)) == NULL ||
	    !ics_manager_spec_from_cib(conf, &s, &error) || !placement_read(&cib, &p, NULL, &error))
		return ics_admin_finish(error);
	trust = trust_of(&s, ca, &cert);
	if (s.vip)
		probe_health(s.vip, s.port, &trust, &h);
	else
		h.error = g_strdup("the group has no VIP");
	if (s.backend == ICS_MGR_SHARED)
		holder = lease_holder(&s, &host_id, &why);
	nodes = s.nodes && s.nodes[0] ? g_strjoinv(",", s.nodes) : g_strdup("-");
	url = g_strdup_printf("https://%s:%u/", s.vip ? s.vip : "?", s.port);
	if (json) {
		g_autoptr(json_t) o = json_object();
		json_t *jn = json_array();

		for (guint i = 0; s.nodes && s.nodes[i]; i++)
			json_array_append_new(jn, json_string(s.nodes[i]));
		json_object_set_new(o, "group", json_string(ICS_MGR_GROUP_ID));
		json_object_set_new(o, "backend",
				    json_string(s.backend == ICS_MGR_DRBD ? "drbd" : "shared"));
		json_object_set_new(o, "node",
				    str_or_null(running_on(&p, NULL) ? p.daemon_node : NULL));
		json_object_set_new(o, "daemon",
				    json_pack("{s:o, s:o}", "role", str_or_null(p.daemon_role),
					      "node", str_or_null(p.daemon_node)));
		json_object_set_new(o, "vip",
				    json_pack("{s:o, s:i, s:o, s:o}", "address", str_or_null(s.vip),
					      "prefix", (int)s.prefix, "role",
					      str_or_null(p.vip_role), "node",
					      str_or_null(p.vip_node)));
		json_object_set_new(o, "port", json_integer(s.port));
		json_object_set_new(o, "url", json_string(url));
		json_object_set_new(o, "state_dir", str_or_null(s.state_dir));
		json_object_set_new(o, "pool",
				    json_pack("{s:o, s:o}", "name", str_or_null(s.pool_name),
					      "path", str_or_null(s.pool_path)));
		json_object_set_new(o, "nodes", jn);
		json_object_set_new(o, "health",
				    json_pack("{s:b, s:I, s:o, s:f, s:o}", "ok", h.ok,
					      "http_status", (json_int_t)h.http_status, "db",
					      str_or_null(h.db), "ms", h.ms, "error",
					      str_or_null(h.error)));
		json_object_set_new(
			o, "lease",
			s.backend == ICS_MGR_SHARED
				? json_pack("{s:s, s:o, s:I, s:o}", "name", ICS_MGR_LEASE, "holder",
					    str_or_null(holder), "host_id", (json_int_t)host_id,
					    "error", str_or_null(why))
				: json_null());
		ics_admin_print_json(o);
	} else {
		printf("manager:   group %s, backend %s", ICS_MGR_GROUP_ID,
		       s.backend == ICS_MGR_DRBD ? "drbd" : "shared");
		if (s.backend == ICS_MGR_SHARED)
			printf(" (pool %s at %s)", s.pool_name ? s.pool_name : "?",
			       s.pool_path ? s.pool_path : "?");
		printf("\nrunning:   %s (daemon %s on %s, VIP %s on %s)\n",
		       running_on(&p, NULL) ? p.daemon_node : "nowhere",
		       p.daemon_role ? p.daemon_role : "?", p.daemon_node ? p.daemon_node : "-",
		       p.vip_role ? p.vip_role : "?", p.vip_node ? p.vip_node : "-");
		printf("VIP:       %s/%u, API and console %s\n", s.vip ? s.vip : "?", s.prefix,
		       url);
		if (h.ok)
			printf("health:    ok, database writable (answered on the VIP in %.0f "
			       "ms)\n",
			       h.ms);
		else
			printf("health:    NOT OK: %s\n", h.error);
		if (s.backend == ICS_MGR_SHARED)
			printf("lease:     %s %s\n", ICS_MGR_LEASE,
			       holder ? holder
			       : why  ? why
				      : "free");
		printf("nodes:     %s (%s)\n", nodes,
		       s.backend == ICS_MGR_DRBD ? "the two DRBD nodes" : "preferred");
		printf("state:     %s\n", s.state_dir ? s.state_dir : "?");
	}
	return h.ok ? ICS_ADMIN_EXIT_OK : ICS_ADMIN_EXIT_ERROR;
}

/* ---- waiting for the manager on the VIP ------------------------------- */

/* Until the group runs on @node (any node but @not_on when NULL) and the
 * API answers healthy on the VIP.  Progress lines on stderr as the phase
 * changes.  TIMEOUT naming the last thing seen. */
static gboolean wait_healthy(IcsCib *cib, const IcsManagerSpec *s, const Trust *trust,
			     const char *node, const char *not_on, guint timeout_s, char **where,
			     GError **error)
{
	gint64 t0 = g_get_monotonic_time();
	gint64 deadline = t0 + (gint64)timeout_s * G_USEC_PER_SEC;
	g_autofree char *last = NULL;

	for (;;) {
		g_auto(Placement) p = { 0 };
		g_auto(Health) h = { 0 };
		g_autoptr(GError) e = NULL;
		g_autofree char *phase = NULL;
		double el = (double)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC;

		if (!placement_read(cib, &p, NULL, &e))
			phase = g_strdup_printf("cluster status unavailable: %s", e->message);
		else if (!running_on(&p, node) || (not_on && g_strcmp0(p.daemon_node, not_on) == 0))
			phase = g_strdup_printf(
				"manager %s%s%s, VIP %s%s%s",
				p.daemon_role ? p.daemon_role : "unknown",
				p.daemon_node ? " on " : "", p.daemon_node ? p.daemon_node : "",
				p.vip_role ? p.vip_role : "unknown", p.vip_node ? " on " : "",
				p.vip_node ? p.vip_node : "");
		else {
			probe_health(s->vip, s->port, trust, &h);
			if (h.ok) {
				g_printerr("manager: healthy on %s, answering on %s:%u (%.1f s)\n",
					   p.daemon_node, s->vip, s->port, el);
				*where = g_strdup(p.daemon_node);
				return TRUE;
			}
			phase = g_strdup_printf("running on %s, API on the VIP: %s", p.daemon_node,
						h.error);
		}
		if (g_strcmp0(phase, last) != 0) {
			g_printerr("manager: %5.1f s  %s\n", el, phase);
			g_free(last);
			last = g_steal_pointer(&phase);
		}
		if (g_get_monotonic_time() >= deadline) {
			g_set_error(error, ICS_ERROR, ICS_ERROR_TIMEOUT,
				    "the manager is not healthy on the VIP after %u s (%s)",
				    timeout_s, last);
			return FALSE;
		}
		g_usleep(500 * G_TIME_SPAN_MILLISECOND);
	}
}

/* ---- move ---------------------------------------------------------------- */

static int cmd_move(int argc, char **argv)
{
	g_autoptr(GOptionContext) ctx = g_option_context_new("[NODE] - move the manager");
	g_autoptr(GError) error = NULL;
	g_autoptr(xmlDoc) conf = NULL, status = NULL;
	g_auto(IcsManagerSpec) s = { 0 };
	g_auto(Placement) p = { 0 };
	g_autofree char *ca = NULL, *cert = NULL, *where = NULL, *from = NULL;
	gboolean keep = FALSE;
	gint timeout = DEFAULT_WAIT_S;
	const char *node;
	const char *const ban_argv[] = { "crm_resource", "--resource", ICS_MGR_GROUP_ID, "--move",
					 NULL };
	IcsCib cib = { 0 };
	Trust trust;
	GOptionEntry entries[] = {
		{ "timeout", 0, 0, G_OPTION_ARG_INT, &timeout,
		  "Seconds to wait for the manager on its new node (120)", "S" },
		{ "keep-constraint", 0, 0, G_OPTION_ARG_NONE, &keep,
		  "Leave the move constraint in place", NULL },
		{ "ca", 0, 0, G_OPTION_ARG_FILENAME, &ca,
		  "CA of the manager's certificate, verified for the VIP (default: the key of "
		  "STATE_DIR/tls-cert.pem pinned)",
		  "FILE" },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};

	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!g_option_context_parse(ctx, &argc, &argv, &error))
		return ics_admin_finish(error);
	if (argc > 2 || timeout <= 0) {
		ics_error_invalid(&error, argc > 2 ? "manager move: expected at most one NODE"
						   : "manager move: --timeout must be positive");
		return ics_admin_finish(error);
	}
	node = argc == 2 ? argv[1] : NULL;
	if ((conf = ics_cib_query(&cib, "configuration", &error)) == NULL ||
	    !ics_manager_spec_from_cib(conf, &s, &error) ||
	    !placement_read(&cib, &p, &status, &error) ||
	    (node && !ics_cib_node_usable(status, node, &error)))
		return ics_admin_finish(error);
	if (!running_on(&p, NULL)) {
		g_set_error(&error, ICS_ERROR, ICS_ERROR_CONFLICT,
			    "the manager is not running (manager %s, VIP %s): see 'crm_mon -1' and "
			    "'ics-admin manager status'",
			    p.daemon_role ? p.daemon_role : "unknown",
			    p.vip_role ? p.vip_role : "unknown");
		return ics_admin_finish(error);
	}
	from = g_strdup(p.daemon_node);
	if (node && g_str_equal(node, from)) {
		g_set_error(&error, ICS_ERROR, ICS_ERROR_CONFLICT, "the manager runs on %s already",
			    node);
		return ics_admin_finish(error);
	}
	if (node) {
		if (!ics_cib_move(&cib, ICS_MGR_GROUP_ID, node, &error))
			return ics_admin_finish(error);
	} else {
		g_auto(IcsExecResult) r = { 0 };
		IcsExecOptions o = { .argv = ban_argv, .timeout_ms = ICS_CIB_DEFAULT_TIMEOUT_MS };

		if (!ics_exec_run(&o, &r, &error) ||
		    !ics_exec_check_exit(&r, "crm_resource", &error))
			return ics_admin_finish(error);
	}
	g_printerr("manager: moving from %s to %s\n", from, node ? node : "another node");
	trust = trust_of(&s, ca, &cert);
	if (!wait_healthy(&cib, &s, &trust, node, from, (guint)timeout, &where, &error)) {
		g_printerr("ics-admin: %s; the move constraint stays: when the move is done or "
			   "abandoned, remove it with 'crm_resource --clear --resource %s'\n",
			   error->message, ICS_MGR_GROUP_ID);
		return ics_admin_exit_code(error);
	}
	if (keep) {
		printf("%s\n", where);
		g_printerr(
			"manager: the move constraint stays; 'crm_resource --clear --resource %s' "
			"removes it\n",
			ICS_MGR_GROUP_ID);
		return ICS_ADMIN_EXIT_OK;
	}
	if (!ics_cib_clear(&cib, ICS_MGR_GROUP_ID, &error)) {
		g_printerr("ics-admin: the manager moved to %s but its move constraint could not "
			   "be removed (%s): run 'crm_resource --clear --resource %s'\n",
			   where, error->message, ICS_MGR_GROUP_ID);
		return ics_admin_exit_code(error);
	}
	printf("%s\n", where);
	return ICS_ADMIN_EXIT_OK;
}

/* ---- setup: the first administrator ------------------------------------ */

static gboolean read_password(int fd, gint64 deadline, char **password, GError **error)
{
	g_autoptr(GString) out = g_string_new(NULL);
	char buf[256];

	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		gint64 left = (deadline - g_get_monotonic_time()) / 1000;
		const char *line, *nl;
		ssize_t n;

		if ((line = strstr(out->str, "admin password: ")) != NULL &&
		    (nl = strchr(line, '\n')) != NULL) {
			line += strlen("admin password: ");
			*password = g_strndup(line, nl - line);
			explicit_bzero(out->str, out->len);
			return TRUE;
		}
		if (left <= 0) {
			g_set_error(
				error, ICS_ERROR, ICS_ERROR_TIMEOUT,
				"ics-managerd --bootstrap-admin printed no password within %d s",
				BOOTSTRAP_TIMEOUT_S);
			return FALSE;
		}
		if (poll(&pfd, 1, (int)MIN(left, 1000)) < 0 && errno != EINTR)
			break;
		if (!(pfd.revents & (POLLIN | POLLHUP)))
			continue;
		n = read(fd, buf, sizeof(buf));
		if (n <= 0)
			break;
		g_string_append_len(out, buf, n);
		explicit_bzero(buf, sizeof(buf));
	}
	explicit_bzero(out->str, out->len);
	g_set_error(error, ICS_ERROR, ICS_ERROR_EXEC,
		    "ics-managerd --bootstrap-admin ended without printing a password");
	return FALSE;
}

/* Run the daemon once on an empty state dir, holding the manager's lease
 * meanwhile; *password (NULL when the database existed) is admin's. */
static gboolean bootstrap_admin(const IcsManagerSpec *s, char **password, GError **error)
{
	g_autofree char *db = g_build_filename(s->state_dir, "manager.db", NULL);
	g_autoptr(IcsPool) pool = NULL;
	g_autoptr(IcsLease) lease = NULL;
	const char *argv[] = {
		s->binary,    "--foreground", "--no-cluster", "--bootstrap-admin", "--state-dir",
		s->state_dir, "--listen",     "127.0.0.1:0",  "--insecure-http",   NULL
	};
	g_autoptr(GString) err = g_string_new(NULL);
	char buf[512];
	ssize_t n;
	GPid pid;
	int out_fd, err_fd, status = 0;
	gboolean ok;

	*password = NULL;
	if (g_file_test(db, G_FILE_TEST_EXISTS))
		return TRUE;
	if (g_mkdir_with_parents(s->state_dir, 0700) != 0) {
		ics_error_set_errno(error, errno, "cannot create the state directory %s",
				    s->state_dir);
		return FALSE;
	}
	if ((pool = ics_pool_open(s->pool_path, NULL, error)) == NULL ||
	    ics_slot_alloc(pool, ICS_MGR_LEASE, error) < 0)
		return FALSE;
	lease = ics_lease_acquire(pool, ICS_MGR_LEASE, error);
	if (lease == NULL) {
		g_prefix_error(
			error,
			"cannot create the first administrator: the manager's lease \"%s\": ",
			ICS_MGR_LEASE);
		return FALSE;
	}
	if (!g_spawn_async_with_pipes(NULL, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL,
				      NULL, &pid, NULL, &out_fd, &err_fd, error)) {
		g_prefix_error(error, "cannot run %s: ", s->binary);
		return FALSE;
	}
	ok = read_password(out_fd, g_get_monotonic_time() + BOOTSTRAP_TIMEOUT_S * G_USEC_PER_SEC,
			   password, error);
	kill(pid, SIGTERM);
	close(out_fd);
	waitpid(pid, &status, 0);
	g_spawn_close_pid(pid);
	/* Its log lines (stderr, a few hundred bytes) matter only on failure. */
	while ((n = read(err_fd, buf, sizeof(buf))) > 0)
		g_string_append_len(err, buf, n);
	close(err_fd);
	if (!ok) {
		g_auto(GStrv) lines = g_strsplit(g_strstrip(err->str), "\n", -1);
		guint nl = g_strv_length(lines);

		g_prefix_error(error, "%s: ", s->binary);
		if (nl > 0 && lines[nl - 1][0])
			g_prefix_error(error, "%s; ", lines[nl - 1]);
	}
	return ok && ics_lease_release(lease, error);
}

static gboolean save_password(const char *path, const char *password, GError **error)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	g_autofree char *line = g_strconcat(password, "\n", NULL);
	gboolean ok;

	if (fd < 0) {
		ics_error_set_errno(
			error, errno,
			"--admin-password-file %s: cannot create it (it must not exist)", path);
		return FALSE;
	}
	ok = write(fd, line, strlen(line)) == (ssize_t)strlen(line) && fsync(fd) == 0;
	explicit_bzero(line, strlen(line));
	if (!ok)
		ics_error_set_errno(error, errno, "cannot write %s", path);
	close(fd);
	return ok;
}

/* ---- setup: the CIB -------------------------------------------------------- */

static char *element_text(xmlNode *n)
{
	g_autoptr(xmlBuffer) buf = xmlBufferCreate();

	xmlNodeDump(buf, n->doc, n, 0, 0);
	return g_strdup((const char *)xmlBufferContent(buf));
}

/* @n's XML without the indentation the CIB's tools add, for comparing. */
static char *element_compact(xmlNode *n)
{
	g_autofree char *text = element_text(n);
	g_autoptr(GRegex) blanks = g_regex_new(">\\s+<", 0, 0, NULL);

	return g_regex_replace_literal(blanks, text, -1, 0, "><", 0, NULL);
}

/* The element of @conf with @obj's name and id, or NULL. */
static xmlNode *find_same_id(xmlDoc *conf, xmlDoc *obj)
{
	xmlNode *root = xmlDocGetRootElement(obj);
	g_autoptr(xmlChar) id = xmlGetProp(root, BAD_CAST "id");
	g_autoptr(xmlXPathContext) ctx = xmlXPathNewContext(conf);
	g_autoptr(xmlXPathObject) r = NULL;
	g_autofree char *expr = g_strdup_printf("//%s[@id=$id]", (const char *)root->name);

	xmlXPathRegisterVariable(ctx, BAD_CAST "id", xmlXPathNewString(id));
	r = xmlXPathEvalExpression(BAD_CAST expr, ctx);
	if (r == NULL || r->nodesetval == NULL || r->nodesetval->nodeNr == 0)
		return NULL;
	return r->nodesetval->nodeTab[0];
}

/* Create, replace or leave @obj; *what says which. */
static gboolean put_object(IcsCib *cib, xmlDoc *conf, const char *scope, xmlDoc *obj,
			   const char **what, GError **error)
{
	xmlNode *old = find_same_id(conf, obj);
	g_autofree char *a = NULL, *b = NULL;

	if (old == NULL) {
		*what = "created";
		return ics_cib_create(cib, scope, obj, error);
	}
	a = element_compact(old);
	b = element_compact(xmlDocGetRootElement(obj));
	if (g_str_equal(a, b)) {
		*what = "unchanged";
		return TRUE;
	}
	*what = "updated";
	return ics_cib_replace(cib, scope, obj, error);
}

static gboolean write_file_atomic(const char *path, const char *text, GError **error)
{
	g_autofree char *dir = g_path_get_dirname(path);

	if (g_mkdir_with_parents(dir, 0755) != 0) {
		ics_error_set_errno(error, errno, "cannot create %s", dir);
		return FALSE;
	}
	return g_file_set_contents_full(path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0644,
					error);
}

static void print_objects(const GPtrArray *objs)
{
	for (guint i = 0; i < objs->len; i++) {
		g_autofree char *t = element_text(xmlDocGetRootElement(objs->pdata[i]));

		printf("%s\n", t);
	}
}

static char *find_binary(const char *given, GError **error)
{
	char *found;

	if (given)
		return g_strdup(given);
	found = g_find_program_in_path("ics-managerd");
	if (found == NULL || !g_path_is_absolute(found)) {
		g_free(found);
		g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND,
			    "ics-managerd is not installed on this node (not in PATH): install "
			    "it on the manager nodes or give --binary PATH");
		return NULL;
	}
	return found;
}

static int cmd_setup(int argc, char **argv)
{
	g_autoptr(GOptionContext) ctx = g_option_context_new("- make the manager a cluster "
							     "resource");
	g_autoptr(GError) error = NULL;
	g_autoptr(xmlDoc) conf = NULL, status = NULL;
	g_autoptr(GPtrArray) resources = NULL, constraints = NULL;
	g_auto(IcsManagerSpec) s = { 0 };
	g_autofree char *backend = NULL, *vip = NULL, *nodes = NULL, *pool = NULL;
	g_autofree char *binary = NULL, *addrs = NULL, *drbd_conf = NULL, *pw_file = NULL;
	g_autofree char *password = NULL, *cert = NULL, *where = NULL, *res_text = NULL;
	gint port = ICS_MGR_DEFAULT_PORT, minor = 0, drbd_port = ICS_MGR_DRBD_DEFAULT_PORT;
	gint timeout = DEFAULT_WAIT_S;
	gboolean dry_run = FALSE, no_wait = FALSE;
	IcsCib cib = { 0 };
	Trust trust;
	GOptionEntry entries[] = {
		{ "backend", 0, 0, G_OPTION_ARG_STRING, &backend, "shared or drbd", "B" },
		{ "vip", 0, 0, G_OPTION_ARG_STRING, &vip, "Floating IP of the API and console",
		  "ADDR/PREFIX" },
		{ "nodes", 0, 0, G_OPTION_ARG_STRING, &nodes,
		  "Manager nodes (shared: preferred; drbd: the two DRBD nodes)", "N1,N2" },
		{ "port", 0, 0, G_OPTION_ARG_INT, &port, "API port (8443)", "PORT" },
		{ "nic", 0, 0, G_OPTION_ARG_STRING, &s.nic,
		  "Interface of the VIP (default: by route)", "NIC" },
		{ "binary", 0, 0, G_OPTION_ARG_FILENAME, &binary,
		  "ics-managerd on the nodes (default: found in PATH)", "PATH" },
		{ "state-dir", 0, 0, G_OPTION_ARG_FILENAME, &s.state_dir,
		  "State directory (shared: POOL/manager; drbd: " ICS_MGR_DEFAULT_MOUNT ")",
		  "DIR" },
		{ "pool", 0, 0, G_OPTION_ARG_STRING, &pool, "shared: the pool (ocf:ics:pool clone)",
		  "NAME" },
		{ "admin-password-file", 0, 0, G_OPTION_ARG_FILENAME, &pw_file,
		  "shared: write the first administrator's password to this new file (0600) "
		  "instead of standard output",
		  "FILE" },
		{ "drbd-resource", 0, 0, G_OPTION_ARG_STRING, &s.drbd_resource,
		  "drbd: resource name (ics-manager)", "R" },
		{ "device", 0, 0, G_OPTION_ARG_FILENAME, &s.drbd_disk,
		  "drbd: backing block device (internal metadata)", "DEV" },
		{ "minor", 0, 0, G_OPTION_ARG_INT, &minor, "drbd: minor, /dev/drbdN (0)", "N" },
		{ "drbd-addresses", 0, 0, G_OPTION_ARG_STRING, &addrs,
		  "drbd: replication address of each node of --nodes", "A1,A2" },
		{ "drbd-port", 0, 0, G_OPTION_ARG_INT, &drbd_port, "drbd: replication port (7789)",
		  "PORT" },
		{ "quorum-disk", 0, 0, G_OPTION_ARG_FILENAME, &s.quorum_disk,
		  "drbd: the quorum disk (docs/manager-ha.md)", "PATH" },
		{ "fstype", 0, 0, G_OPTION_ARG_STRING, &s.fstype, "drbd: file system (xfs)", "T" },
		{ "drbd-conf", 0, 0, G_OPTION_ARG_FILENAME, &drbd_conf,
		  "drbd: resource file to write (/etc/drbd.d/R.res)", "FILE" },
		{ "dry-run", 0, 0, G_OPTION_ARG_NONE, &dry_run,
		  "Print the CIB objects (and DRBD file) instead of writing them", NULL },
		{ "no-wait", 0, 0, G_OPTION_ARG_NONE, &no_wait,
		  "Do not wait for the manager to answer on the VIP", NULL },
		{ "timeout", 0, 0, G_OPTION_ARG_INT, &timeout, "Seconds to wait (120)", "S" },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};

	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!g_option_context_parse(ctx, &argc, &argv, &error))
		return ics_admin_finish(error);
	if (argc > 1)
		ics_error_invalid(&error, "manager setup: unexpected argument \"%s\"", argv[1]);
	else if (backend == NULL)
		ics_error_invalid(&error, "manager setup: --backend shared|drbd is required");
	else if (!g_str_equal(backend, "shared") && !g_str_equal(backend, "drbd"))
		ics_error_invalid(&error, "--backend must be shared or drbd, not \"%s\"", backend);
	else if (port <= 0 || port > 65535 || minor < 0 || drbd_port <= 0 || drbd_port > 65535 ||
		 timeout <= 0)
		ics_error_invalid(&error,
				  "--port, --drbd-port (1-65535), --minor and --timeout must be "
				  "positive");
	if (error)
		return ics_admin_finish(error);
	s.backend = g_str_equal(backend, "drbd") ? ICS_MGR_DRBD : ICS_MGR_SHARED;
	s.port = (guint)port;
	s.drbd_minor = (guint)minor;
	s.drbd_port = (guint)drbd_port;
	if (vip == NULL) {
		ics_error_invalid(&error, "manager setup: --vip ADDRESS/PREFIX is required");
		return ics_admin_finish(error);
	}
	if (!ics_manager_parse_vip(vip, &s, &error) ||
	    (nodes &&
	     !ics_manager_parse_nodes(nodes, s.backend == ICS_MGR_DRBD ? 2 : 0, &s, &error)))
		return ics_admin_finish(error);
	if (s.backend == ICS_MGR_DRBD) {
		if (pool || pw_file) {
			ics_error_invalid(&error, "--pool and --admin-password-file are for "
						  "--backend shared");
			return ics_admin_finish(error);
		}
		if (s.drbd_resource == NULL)
			s.drbd_resource = g_strdup("ics-manager");
		if (s.fstype == NULL)
			s.fstype = g_strdup("xfs");
		if (s.state_dir == NULL)
			s.state_dir = g_strdup(ICS_MGR_DEFAULT_MOUNT);
		if (addrs)
			s.drbd_addrs = g_strsplit(addrs, ",", -1);
	} else {
		if (pool == NULL) {
			ics_error_invalid(&error, "--backend shared needs --pool NAME");
			return ics_admin_finish(error);
		}
		if (s.drbd_resource || s.drbd_disk || s.quorum_disk || addrs || drbd_conf) {
			ics_error_invalid(&error, "--drbd-resource, --device, --drbd-addresses, "
						  "--quorum-disk and --drbd-conf are for --backend "
						  "drbd");
			return ics_admin_finish(error);
		}
		s.pool_name = g_strdup(pool);
	}
	/* drbd --dry-run needs no cluster: the objects depend on the options only. */
	if (!(dry_run && s.backend == ICS_MGR_DRBD)) {
		if ((conf = ics_cib_query(&cib, "configuration", &error)) == NULL ||
		    (status = ics_cib_status(&cib, &error)) == NULL)
			return ics_admin_finish(error);
		for (guint i = 0; s.nodes && s.nodes[i]; i++) {
			g_autoptr(GError) e = NULL;

			if (!ics_cib_node_usable(status, s.nodes[i], &e) &&
			    g_error_matches(e, ICS_ERROR, ICS_ERROR_NOT_FOUND)) {
				g_propagate_error(&error, g_steal_pointer(&e));
				return ics_admin_finish(error);
			}
		}
		if (s.backend == ICS_MGR_SHARED &&
		    (s.pool_path = ics_manager_pool_path(conf, pool, &error)) == NULL)
			return ics_admin_finish(error);
	}
	if (s.backend == ICS_MGR_SHARED && s.state_dir == NULL)
		s.state_dir = g_build_filename(s.pool_path, "manager", NULL);
	if ((s.binary = find_binary(binary, &error)) == NULL) {
		if (!dry_run)
			return ics_admin_finish(error);
		g_clear_error(&error); /* the agent's default, shown as such */
	}
	if (!ics_manager_spec_check(&s, &error))
		return ics_admin_finish(error);
	{
		/* The certificate names the VIP and the manager nodes with their
		 * addresses (corosync's node list), so clients verify it on the
		 * names they use. */
		const char *cmapctl[] = { "corosync-cmapctl", "-b", "nodelist.node", NULL };
		g_autofree char *cmap = NULL;

		if (!ics_exec_simple(cmapctl, 10000, &cmap, NULL))
			g_clear_pointer(&cmap, g_free);
		s.tls_names = ics_manager_tls_names(&s, cmap);
	}
	resources = ics_manager_resources(&s);
	constraints = ics_manager_constraints(&s);
	if (s.backend == ICS_MGR_DRBD) {
		res_text = ics_manager_drbd_res(&s);
		if (drbd_conf == NULL)
			drbd_conf = g_strdup_printf("/etc/drbd.d/%s.res", s.drbd_resource);
	}
	if (dry_run) {
		if (res_text)
			printf("# %s\n%s", drbd_conf, res_text);
		print_objects(resources);
		print_objects(constraints);
		return ICS_ADMIN_EXIT_OK;
	}
	if (s.backend == ICS_MGR_SHARED) {
		if (!g_file_test(s.pool_path, G_FILE_TEST_IS_DIR)) {
			g_set_error(&error, ICS_ERROR, ICS_ERROR_NOT_FOUND,
				    "pool \"%s\" is not mounted on this node (%s): run setup on a "
				    "node where the pool's clone runs",
				    pool, s.pool_path);
			return ics_admin_finish(error);
		}
		if (!bootstrap_admin(&s, &password, &error))
			return ics_admin_finish(error);
		if (password && pw_file && !save_password(pw_file, password, &error)) {
			g_printerr("ics-admin: %s\nics-admin: the administrator \"admin\" was "
				   "created with password: %s\n",
				   error->message, password);
			explicit_bzero(password, strlen(password));
			return ics_admin_exit_code(error);
		}
	} else if (!write_file_atomic(drbd_conf, res_text, &error)) {
		return ics_admin_finish(error);
	} else {
		printf("wrote %s: copy it to both manager nodes, then 'drbdadm create-md %s' and "
		       "'drbdadm up %s' on each, and make the file system once on the first "
		       "Primary\n",
		       drbd_conf, s.drbd_resource, s.drbd_resource);
	}
	for (guint pass = 0; pass < 2; pass++) {
		const GPtrArray *objs = pass == 0 ? resources : constraints;
		const char *scope = pass == 0 ? "resources" : "constraints";

		for (guint i = 0; i < objs->len; i++) {
			xmlNode *root = xmlDocGetRootElement(objs->pdata[i]);
			g_autoptr(xmlChar) id = xmlGetProp(root, BAD_CAST "id");
			const char *what = "";

			if (!put_object(&cib, conf, scope, objs->pdata[i], &what, &error)) {
				g_prefix_error(&error, "%s %s: ", (const char *)root->name,
					       (const char *)id);
				return ics_admin_finish(error);
			}
			printf("%-14s %s %s\n", what, (const char *)root->name, (const char *)id);
		}
	}
	if (password) {
		if (pw_file)
			printf("administrator: admin (password in %s)\n", pw_file);
		else
			printf("administrator: admin\nadmin password: %s\n", password);
		explicit_bzero(password, strlen(password));
	}
	printf("API and console: https://%s:%u/\n", s.vip, s.port);
	fflush(stdout);
	if (no_wait)
		return ICS_ADMIN_EXIT_OK;
	trust = trust_of(&s, NULL, &cert);
	if (!wait_healthy(&cib, &s, &trust, NULL, NULL, (guint)timeout, &where, &error))
		return ics_admin_finish(error);
	return ICS_ADMIN_EXIT_OK;
}

/* ---- restart (a new certificate) ----------------------------------------- */

gboolean ics_admin_manager_restart(IcsCib *cib, const IcsManagerSpec *s, guint timeout_s,
				   char **where, GError **error)
{
	g_auto(Placement) p = { 0 };
	g_autofree char *cert = NULL;
	gint64 t0 = g_get_monotonic_time();
	guint left;
	Trust trust;

	*where = NULL;
	if (!placement_read(cib, &p, NULL, error))
		return FALSE;
	if (!running_on(&p, NULL))
		return TRUE;
	g_printerr("manager: restarting %s on %s\n", ICS_MGR_DAEMON_ID, p.daemon_node);
	if (!ics_cib_restart(cib, ICS_MGR_DAEMON_ID, timeout_s, error)) {
		g_prefix_error(error, "restarting %s: ", ICS_MGR_DAEMON_ID);
		return FALSE;
	}
	left = (guint)MAX((gint64)timeout_s - (g_get_monotonic_time() - t0) / G_USEC_PER_SEC, 10);
	trust = trust_of(s, NULL, &cert);
	return wait_healthy(cib, s, &trust, NULL, NULL, left, where, error);
}

gboolean ics_admin_manager_ha_command(const char *name)
{
	return g_strcmp0(name, "setup") == 0 || g_strcmp0(name, "status") == 0 ||
	       g_strcmp0(name, "move") == 0 || g_strcmp0(name, "cert") == 0;
}

int ics_admin_manager_ha_main(int argc, char **argv)
{
	if (g_str_equal(argv[0], "setup"))
		return cmd_setup(argc, argv);
	if (g_str_equal(argv[0], "status"))
		return cmd_status(argc, argv);
	if (g_str_equal(argv[0], "cert"))
		return ics_admin_manager_cert_main(argc, argv);
	return cmd_move(argc, argv);
}
