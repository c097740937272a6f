/*
 * api_vm_consoles.c: a VM's screen and serial console in the browser --
 * POST /api/v1/vms/{uuid}/console/ticket and the WebSocket routes
 * GET /api/v1/vms/{uuid}/console/vnc|serial?ticket=...
 *
 * The handlers only parse, authorize and call the services: tickets
 * (console_ticket.h), the cluster's VNC endpoint of the VM (cluster_ops.h,
 * vm_vnc) or its serial console as a socket (vm_serial), the RFB handshake (rfb_auth.h) and the session (console_proxy.h).
 * The WebSocket routes are public in the authorization table because a
 * browser cannot authenticate a WebSocket with a header: the ticket is the
 * credential, and the handler checks, for the user it was issued to, that
 * the user still exists and still holds vm.console on the VM.  Both kinds
 * of route are audited whatever the outcome (docs/console-security.md).
 */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include "ics/error.h"
#include "ics/manager/apikey.h"
#include "ics/manager/console_proxy.h"
#include "ics/manager/console_ticket.h"
#include "ics/manager/rfb_auth.h"
#include "ics/manager/session.h"
#include "ics/manager/timestamp.h"
#include "ics/manager/vm_inventory.h"

#include "api.h"

#define VNC_CONNECT_MS 3000
#define VNC_HANDSHAKE_MS 5000

static const IcsField ticket_fields[] = {
	{ "kind", ICS_FIELD_STRING, TRUE, 1, 16 },
	{ 0 },
};
static const IcsSchema ticket_schema = { "console ticket request", ticket_fields };

static gboolean uuid_of(IcsRequest *req, char **uuid, GError **error)
{
	const char *v = ics_request_param(req, "uuid");

	if (v == NULL || !g_uuid_string_is_valid(v))
		return ics_error_invalid(error, "VM id must be a UUID");
	*uuid = g_ascii_strdown(v, -1);
	return TRUE;
}

/* NOT_FOUND unless @p holds vm.console on the VM (the inventory's owner). */
static gboolean may_console(IcsManager *m, const IcsPrincipal *p, const char *uuid,
			    GError **error)
{
	gint64 owner = 0;
	gboolean ok;

	ics_store_read_begin(m->store);
	ok = ics_vm_inventory_owner(m->store, uuid, &owner, error);
	ics_store_read_end(m->store);
	if (ok && !ics_principal_can_on(p, "vm.console", owner)) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND, "VM %s does not exist", uuid);
		ok = FALSE;
	}
	return ok;
}

static gboolean ticket_vm(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	g_autofree char *uuid = NULL, *ticket = NULL, *url = NULL;
	g_autoptr(json_t) body = NULL;
	IcsConsoleGrant grant = { 0 };
	const char *kind_name;

	if (!uuid_of(req, &uuid, error) || !may_console(m, req->principal, uuid, error))
		return FALSE;
	body = ics_api_body(req, &ticket_schema, error);
	if (body == NULL)
		return FALSE;
	kind_name = json_string_value(json_object_get(body, "kind"));
	if (!ics_console_kind_parse(kind_name, &grant.kind))
		return ics_error_invalid(error, "kind must be \"vnc\" or \"serial\"");
	grant.user_id = req->principal->user_id;
	grant.user = req->principal->name;
	grant.session_id = req->principal->session_id;
	grant.apikey_id = req->principal->apikey_id;
	grant.vm_uuid = uuid;
	grant.client = req->client;
	ticket = ics_console_ticket_issue(m->console_tickets, &grant, error);
	if (ticket == NULL)
		return FALSE;
	url = g_strdup_printf("/api/v1/vms/%s/console/%s?ticket=%s", uuid, kind_name, ticket);
	ics_response_json(resp, 201,
			  json_pack("{s:s, s:i, s:s, s:s}", "ticket", ticket, "expires_in",
				    ICS_CONSOLE_TICKET_TTL_S, "url", url, "kind", kind_name));
	return TRUE;
}

/* The session's view of where the VM runs (IcsConsoleLocateFn). */
static gboolean locate(void *data, const char *uuid, char **host)
{
	IcsManager *m = data;
	g_autofree char *state = NULL;
	g_autoptr(GError) err = NULL;

	if (m->cluster == NULL || m->cluster->vm_status == NULL ||
	    !m->cluster->vm_status(m->cluster->self, uuid, &state, host, &err))
		return FALSE;
	if (g_strcmp0(state, "migrating") == 0 || g_strcmp0(state, "unknown") == 0) {
		g_clear_pointer(host, g_free);
		return FALSE; /* not decided yet: ask again */
	}
	/* "starting": placed on that host, its start not yet confirmed --
	 * QEMU (and so this console) may already be there. */
	if (g_strcmp0(state, "running") != 0 && g_strcmp0(state, "starting") != 0)
		g_clear_pointer(host, g_free);
	return TRUE;
}

/* Who an open console is for, asked again every second (allowed). */
typedef struct {
	IcsManager *m;
	gint64 user_id, session_id;
	char *apikey_id, *uuid;
} ConsoleAccess;

static void access_free(gpointer p)
{
	ConsoleAccess *a = p;

	g_free(a->apikey_id);
	g_free(a->uuid);
	g_free(a);
}

/* The credential that asked for the ticket is still good, the user still
 * loads and still holds vm.console on the VM's owner now (IcsConsoleAllowedFn;
 * on the session's thread). */
static gboolean allowed(void *data, char **why)
{
	ConsoleAccess *a = data;
	IcsStore *store = a->m->store;
	g_autoptr(IcsPrincipal) who = NULL;
	g_autoptr(GError) err = NULL;
	gboolean ok = TRUE;

	ics_store_read_begin(store);
	if (a->session_id != 0) {
		gint64 expires_us = 0;

		ok = ics_session_alive(store, a->session_id, &expires_us, &err);
	} else if (a->apikey_id != NULL) {
		gint64 owner = 0;

		ok = ics_apikey_owner(store, a->apikey_id, &owner, &err) && owner == a->user_id;
		if (!ok && err == NULL)
			g_set_error(&err, ICS_ERROR, ICS_ERROR_PERMISSION, "the API key was deleted");
	}
	if (ok)
		who = ics_principal_load(store, a->user_id, &err);
	ics_store_read_end(store);
	if (!ok || who == NULL || !may_console(a->m, who, a->uuid, &err)) {
		*why = g_strdup(err ? err->message : "no longer allowed");
		return FALSE;
	}
	return TRUE;
}

/* Spend the ticket of @req; 401/403 answered in @resp (TRUE returned with
 * *@ok FALSE), the grant in @grant when it may go on. */
static gboolean redeem(IcsManager *m, IcsRequest *req, const char *uuid, IcsConsoleKind kind,
		       IcsResponse *resp, IcsConsoleGrant *grant, gboolean *ok)
{
	g_autofree char *why = NULL;
	IcsTicketVerdict v = ics_console_ticket_redeem(m->console_tickets,
						       ics_request_query(req, "ticket"), uuid,
						       kind, req->client, grant, &why);
	const char *auth = ics_request_header(req, "Authorization");

	*ok = FALSE;
	if (grant->user)
		req->audit_user = g_strdup(grant->user);
	if (v == ICS_TICKET_UNKNOWN) {
		ics_response_error(resp, 401, "unauthenticated", "%s", why);
		return TRUE;
	}
	/* Credentials of another user beside the ticket: not that user's. */
	if (v == ICS_TICKET_OK && auth && g_ascii_strncasecmp(auth, "Bearer ", 7) == 0) {
		gint64 user_id = 0, session_id = 0;
		IcsSessionStage stage;
		g_autoptr(GError) err = NULL;

		if (!ics_session_lookup(m->store, &m->cfg.policy, auth + 7, &user_id, &session_id,
					&stage, &err) ||
		    user_id != grant->user_id) {
			v = ICS_TICKET_MISMATCH;
			why = g_strdup_printf("the ticket was issued to user %s, not to the caller",
					      grant->user);
		}
	}
	if (v == ICS_TICKET_MISMATCH) {
		ics_response_error(resp, 403, "forbidden", "%s", why);
		return TRUE;
	}
	*ok = TRUE;
	return TRUE;
}

/* A connected console of VM @uuid on the node that runs it (*@host): the
 * serial console's socket, or the VNC server's, authenticated; -1 with
 * @error. */
static int open_endpoint(IcsManager *m, IcsConsoleKind kind, const char *uuid, char **host,
			 GError **error)
{
	g_auto(IcsVncEndpoint) vnc = { 0 };
	int fd;

	if (kind == ICS_CONSOLE_SERIAL)
		return m->cluster->vm_serial(m->cluster->self, uuid, host, error);
	if (!m->cluster->vm_vnc(m->cluster->self, uuid, &vnc, error))
		return -1;
	fd = ics_console_tcp_connect(vnc.address, vnc.port, VNC_CONNECT_MS, error);
	if (fd < 0)
		return -1;
	if (!ics_rfb_client_auth(fd, vnc.password, VNC_HANDSHAKE_MS, error)) {
		close(fd);
		ics_error_prefix(error, "VM %s on %s: ", uuid, vnc.host);
		return -1;
	}
	*host = g_strdup(vnc.host);
	return fd;
}

static gboolean open_console(IcsManager *m, IcsRequest *req, IcsResponse *resp,
			     IcsConsoleKind kind, GError **error)
{
	g_autofree char *uuid = NULL, *host = NULL;
	g_auto(IcsConsoleGrant) grant = { 0 };
	g_autoptr(IcsPrincipal) who = NULL;
	IcsConsoleSessionSpec spec = { 0 };
	IcsConsoleSession *s;
	gboolean ok;
	int fd;

	if (!uuid_of(req, &uuid, error) || !ics_websocket_request_check(req, error))
		return FALSE;
	if (!redeem(m, req, uuid, kind, resp, &grant, &ok) || !ok)
		return TRUE;
	/* The user as now: still there, still allowed. */
	ics_store_read_begin(m->store);
	who = ics_principal_load(m->store, grant.user_id, error);
	ics_store_read_end(m->store);
	if (who == NULL || !may_console(m, who, uuid, error))
		return FALSE;
	if (m->cluster == NULL || m->cluster->vm_vnc == NULL ||
	    (kind == ICS_CONSOLE_SERIAL && m->cluster->vm_serial == NULL)) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_UNAVAILABLE,
			    "no cluster adapter: this manager keeps the inventory only");
		return FALSE;
	}
	/* The session's place first: a refusal (429) costs no connection to
	 * a node and never takes a serial console from anyone. */
	if (!ics_console_proxy_reserve(m->console_proxy, grant.user, error))
		return FALSE;
	fd = open_endpoint(m, kind, uuid, &host, error);
	if (fd < 0) {
		ics_console_proxy_release(m->console_proxy, grant.user);
		return FALSE;
	}
	spec.kind = kind;
	spec.vm_uuid = uuid;
	spec.user = grant.user;
	spec.client = req->client;
	spec.host = host;
	spec.console_fd = fd;
	spec.locate = locate;
	spec.locate_data = m;
	{
		ConsoleAccess *a = g_new0(ConsoleAccess, 1);

		a->m = m;
		a->user_id = grant.user_id;
		a->session_id = grant.session_id;
		a->apikey_id = g_strdup(grant.apikey_id);
		a->uuid = g_strdup(uuid);
		spec.allowed = allowed;
		spec.allowed_data = a;
		spec.allowed_free = access_free;
	}
	s = ics_console_session_new(m->console_proxy, &spec);
	return ics_console_session_respond(s, req, resp, error);
}

static gboolean vnc_vm(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	return open_console(m, req, resp, ICS_CONSOLE_VNC, error);
}

static gboolean serial_vm(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	return open_console(m, req, resp, ICS_CONSOLE_SERIAL, error);
}

const IcsApiRoute ics_api_vm_console_routes[] = {
	{ "POST", "/api/v1/vms/{uuid}/console/ticket", ticket_vm, ICS_API_MUTATING,
	  "vm.console.ticket", "vm", "uuid" },
	{ "GET", "/api/v1/vms/{uuid}/console/vnc", vnc_vm, ICS_API_MUTATING, "vm.console.open",
	  "vm", "uuid" },
	{ "GET", "/api/v1/vms/{uuid}/console/serial", serial_vm, ICS_API_MUTATING,
	  "vm.console.open", "vm", "uuid" },
	{ 0 },
};
