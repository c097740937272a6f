/*
 * test_console_proxy.c: VM consoles in the browser -- tickets (one-time,
 * expiry on the manager's movable clock, binding to VM, kind, client and
 * user, the authorization rows, audit records) and the WebSocket proxy end
 * to end on loopback against a real QEMU VNC server with a password: the
 * RFB handshake completes through the proxy (which answers QEMU's VNC
 * authentication itself) and a framebuffer update arrives; malformed and
 * oversized frames close only their own session while another goes on; a
 * VM that moves ends its session with 4001 "the VM moved to node2".
 * The serial route relays bytes both ways between the WebSocket and the
 * socket vm_serial answers (here one end of a socketpair the test plays
 * the console on; the libvirt stream behind it in production needs a real
 * libvirtd: console/tests/cts.mjs reads the lab guest's counter line), a
 * console held elsewhere is 409, and a VM that stops -- its console
 * ending first, as QEMU exits before the cluster says so -- ends the
 * session with 4002 "the VM stopped".
 *
 * The WebSocket client is wslay's client side over a plain socket.  The
 * cluster is a fake whose vm_vnc answers QEMU's address and password and
 * whose vm_status says where the VM runs (the test moves it).
 * Without qemu-system-x86_64 the proxy tests are skipped.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <cmocka.h>
#include <wslay/wslay.h>

#include "ics/manager/console_proxy.h"
#include "ics/manager/console_ticket.h"
#include "ics/manager/timestamp.h"
#include "mgr_test_util.h"

#define VNC_PASSWORD "Vm9+/xQz"

/* ---- the fake cluster ---------------------------------------------------- */

typedef struct {
	FakeCluster base;
	IcsClusterOps ops;
	guint16 vnc_port;
	GMutex lock;
	char *host; /* where the VM runs (guarded by lock) */
	int serial_fd; /* the test's end of the last serial console, -1 */
	gboolean serial_busy;
} ConsoleCluster;

static ConsoleCluster cc;

static gboolean cc_status(void *self, const char *uuid, char **state, char **host, GError **error)
{
	g_mutex_lock(&cc.lock);
	*state = g_strdup(cc.host ? "running" : "stopped");
	*host = g_strdup(cc.host);
	g_mutex_unlock(&cc.lock);
	return TRUE;
}

static gboolean cc_vnc(void *self, const char *uuid, IcsVncEndpoint *out, GError **error)
{
	if (cc.vnc_port == 0) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT, "VM %s does not run", uuid);
		return FALSE;
	}
	g_mutex_lock(&cc.lock);
	out->host = g_strdup(cc.host);
	g_mutex_unlock(&cc.lock);
	out->address = g_strdup("127.0.0.1");
	out->port = cc.vnc_port;
	out->password = g_strdup(VNC_PASSWORD);
	return TRUE;
}

static int cc_serial(void *self, const char *uuid, char **host, GError **error)
{
	int sv[2];

	if (cc.serial_busy) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
			    "VM %s on node1: another session holds its serial console", uuid);
		return -1;
	}
	g_assert(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	if (cc.serial_fd >= 0)
		close(cc.serial_fd);
	cc.serial_fd = sv[0];
	g_mutex_lock(&cc.lock);
	*host = g_strdup(cc.host);
	g_mutex_unlock(&cc.lock);
	return sv[1];
}

static void cc_move(const char *host)
{
	g_mutex_lock(&cc.lock);
	g_free(cc.host);
	cc.host = g_strdup(host);
	g_mutex_unlock(&cc.lock);
}

/* ---- fixture: manager, users, a VM, QEMU ------------------------------- */

typedef struct {
	TestMgr *t;
	char *vm;	/* owned by admin */
	char *other_vm; /* owned by vmm */
	char *tok_ro, *tok_vmm;
	GPid qemu;
} Ctx;

static guint16 free_vnc_port(void)
{
	for (guint tries = 0; tries < 200; tries++) {
		guint16 port = (guint16)g_random_int_range(5900 + 200, 5900 + 3000);
		struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		gboolean ok;

		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		ok = bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
		close(fd);
		if (ok)
			return port;
	}
	return 0;
}

static gboolean start_qemu(Ctx *c)
{
	g_autofree char *qemu = g_find_program_in_path("qemu-system-x86_64");
	guint16 port = free_vnc_port();
	g_autofree char *vnc = g_strdup_printf("127.0.0.1:%u,password-secret=vncpw", port - 5900);
	const char *argv[] = { qemu, "-machine", "pc", "-accel", "tcg", "-nodefaults", "-vga",
			       "std", "-m", "32", "-display", "none", "-S", "-object",
			       "secret,id=vncpw,data=" VNC_PASSWORD, "-vnc", vnc, NULL };
	g_autoptr(GError) err = NULL;

	if (qemu == NULL || port == 0)
		return FALSE;
	if (!g_spawn_async(NULL, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
			   &c->qemu, &err))
		g_error("qemu: %s", err->message);
	/* Wait until it listens. */
	for (int i = 0; i < 100; i++) {
		g_autoptr(GError) e = NULL;
		struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
			close(fd);
			cc.vnc_port = port;
			return TRUE;
		}
		close(fd);
		g_usleep(100000);
	}
	g_error("qemu did not listen on VNC port %u", port);
	return FALSE;
}

static int setup(void **state)
{
	Ctx *c = g_new0(Ctx, 1);
	g_autofree char *body = test_vm_body("screen1", NULL);
	g_autofree char *body2 = test_vm_body("screen2", NULL);

	g_mutex_init(&cc.lock);
	cc.host = g_strdup("node1");
	cc.ops = (IcsClusterOps){ .self = &cc.base,
				  .define_vm = fake_define,
				  .undefine_vm = fake_undefine,
				  .start_vm = fake_start,
				  .stop_vm = fake_stop,
				  .vm_status = cc_status,
				  .vm_vnc = cc_vnc,
				  .vm_serial = cc_serial };
	cc.serial_fd = -1;
	c->t = test_mgr_start_in(NULL, &cc.ops, NULL);
	assert_int_equal(test_make_user(c->t, "ro", "[\"readonly\"]"), 201);
	assert_int_equal(test_make_user(c->t, "vmm", "[\"vm_manager\"]"), 201);
	c->tok_ro = test_login(c->t, "ro", TEST_PASSWORD);
	c->tok_vmm = test_login(c->t, "vmm", TEST_PASSWORD);
	{
		g_autoptr(TestResp) r = test_http(c->t, "POST", "/api/v1/vms", c->t->admin_token,
						  body);

		assert_int_equal(r->status, 201);
		c->vm = g_strdup(test_str(r, "uuid"));
	}
	{
		g_autoptr(TestResp) r = test_http(c->t, "POST", "/api/v1/vms", c->tok_vmm, body2);

		assert_int_equal(r->status, 201);
		c->other_vm = g_strdup(test_str(r, "uuid"));
	}
	start_qemu(c);
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	Ctx *c = *state;

	test_mgr_stop(c->t, FALSE);
	if (c->qemu) {
		kill(c->qemu, SIGTERM);
		waitpid(c->qemu, NULL, 0);
		g_spawn_close_pid(c->qemu);
	}
	g_free(c->vm);
	g_free(c->other_vm);
	g_free(c->tok_ro);
	g_free(c->tok_vmm);
	g_free(c);
	g_free(cc.host);
	g_mutex_clear(&cc.lock);
	return 0;
}

/* ---- tickets ------------------------------------------------------------ */

static TestResp *ask_ticket(Ctx *c, const char *token, const char *vm, const char *kind)
{
	g_autofree char *path = g_strdup_printf("/api/v1/vms/%s/console/ticket", vm);
	g_autofree char *body = g_strdup_printf("{\"kind\": \"%s\"}", kind);

	return test_http(c->t, "POST", path, token, body);
}

static char *ticket(Ctx *c, const char *vm, const char *kind)
{
	g_autoptr(TestResp) r = ask_ticket(c, c->t->admin_token, vm, kind);

	assert_int_equal(r->status, 201);
	return g_strdup(test_str(r, "ticket"));
}

static void test_ticket_table(void **state)
{
	g_autoptr(IcsConsoleTickets) t = ics_console_tickets_new();
	IcsConsoleGrant g = { .user_id = 7,
			      .user = (char *)"alice",
			      .session_id = 1,
			      .vm_uuid = (char *)"vm-a",
			      .kind = ICS_CONSOLE_VNC,
			      .client = (char *)"127.0.0.1" };
	g_autofree char *a = ics_console_ticket_issue(t, &g, NULL);
	g_autofree char *b = ics_console_ticket_issue(t, &g, NULL);
	g_autofree char *c = ics_console_ticket_issue(t, &g, NULL);
	g_autofree char *d = ics_console_ticket_issue(t, &g, NULL);
	g_autofree char *e = ics_console_ticket_issue(t, &g, NULL);
	struct {
		const char *ticket, *vm;
		IcsConsoleKind kind;
		const char *client;
		IcsTicketVerdict want;
	} cases[] = {
		{ a, "vm-a", ICS_CONSOLE_VNC, "127.0.0.1", ICS_TICKET_OK },
		{ a, "vm-a", ICS_CONSOLE_VNC, "127.0.0.1", ICS_TICKET_UNKNOWN }, /* spent */
		{ b, "vm-b", ICS_CONSOLE_VNC, "127.0.0.1", ICS_TICKET_MISMATCH },
		{ b, "vm-a", ICS_CONSOLE_VNC, "127.0.0.1", ICS_TICKET_UNKNOWN }, /* burnt */
		{ c, "vm-a", ICS_CONSOLE_SERIAL, "127.0.0.1", ICS_TICKET_MISMATCH },
		{ d, "vm-a", ICS_CONSOLE_VNC, "10.0.0.9", ICS_TICKET_MISMATCH },
		{ "made-up", "vm-a", ICS_CONSOLE_VNC, "127.0.0.1", ICS_TICKET_UNKNOWN },
		{ NULL, "vm-a", ICS_CONSOLE_VNC, "127.0.0.1", ICS_TICKET_UNKNOWN },
	};

	assert_int_equal(strlen(a), 43);
	assert_string_not_equal(a, b);
	assert_int_equal(ics_console_tickets_count(t), 5);
	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_auto(IcsConsoleGrant) out = { 0 };
		g_autofree char *why = NULL;
		IcsTicketVerdict v = ics_console_ticket_redeem(t, cases[i].ticket, cases[i].vm,
							       cases[i].kind, cases[i].client,
							       &out, &why);

		if (v != cases[i].want)
			fail_msg("case %u: verdict %d, want %d (%s)", i, v, cases[i].want,
				 why ? why : "");
		if (v == ICS_TICKET_OK) {
			assert_string_equal(out.user, "alice");
			assert_int_equal(out.user_id, 7);
		}
	}
	/* e: valid until 30 s, then gone (the manager's clock moves). */
	ics_clock_advance_for_test(29 * G_USEC_PER_SEC);
	assert_int_equal(ics_console_tickets_count(t), 1);
	ics_clock_advance_for_test(2 * G_USEC_PER_SEC);
	assert_int_equal(ics_console_tickets_count(t), 0);
	{
		g_auto(IcsConsoleGrant) out = { 0 };
		g_autofree char *why = NULL;

		assert_int_equal(ics_console_ticket_redeem(t, e, "vm-a", ICS_CONSOLE_VNC,
							   "127.0.0.1", &out, &why),
				 ICS_TICKET_UNKNOWN);
	}
}

/* One user cannot take every ticket or session: each has a share of the
 * tables (the others still get theirs), and a refusal says whose share is
 * full. */
static void drop_session(IcsConsoleSession *s)
{
	IcsRequest req = { 0 };

	req.headers = g_hash_table_new(g_str_hash, g_str_equal);
	/* not a WebSocket request: the session is dropped */
	assert_false(ics_console_session_respond(s, &req, NULL, NULL));
	g_hash_table_destroy(req.headers);
}

static IcsConsoleSession *session_for(IcsConsoleProxy *p, const char *user, GError **error)
{
	int sv[2];
	IcsConsoleSessionSpec spec = { .kind = ICS_CONSOLE_SERIAL, .vm_uuid = "vm-a", .user = user,
				       .client = "127.0.0.1", .host = "node1" };

	if (!ics_console_proxy_reserve(p, user, error))
		return NULL;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	close(sv[1]);
	spec.console_fd = sv[0];
	return ics_console_session_new(p, &spec);
}

static void test_per_user_bounds(void **state)
{
	g_autoptr(IcsConsoleTickets) t = ics_console_tickets_new();
	IcsConsoleGrant alice = { .user_id = 7, .user = (char *)"alice", .session_id = 1,
				  .vm_uuid = (char *)"vm-a", .kind = ICS_CONSOLE_VNC,
				  .client = "127.0.0.1" };
	IcsConsoleGrant bob = alice;
	IcsConsoleProxy *p = ics_console_proxy_new(0);
	IcsConsoleSession *mine[ICS_CONSOLE_MAX_SESSIONS_PER_USER];
	g_autoptr(GError) e1 = NULL, e2 = NULL;
	g_autofree char *b = NULL, *again = NULL;
	IcsConsoleSession *s;

	(void)state;
	bob.user_id = 8;
	bob.user = (char *)"bob";
	for (guint i = 0; i < ICS_CONSOLE_TICKET_MAX_PER_USER; i++)
		g_free(ics_console_ticket_issue(t, &alice, NULL));
	assert_null(ics_console_ticket_issue(t, &alice, &e1));
	assert_true(g_error_matches(e1, ICS_ERROR, ICS_ERROR_LIMIT));
	assert_non_null(strstr(e1->message, "alice has 64 console tickets"));
	b = ics_console_ticket_issue(t, &bob, NULL);
	assert_non_null(b);

	for (guint i = 0; i < G_N_ELEMENTS(mine); i++) {
		mine[i] = session_for(p, "alice", NULL);
		assert_non_null(mine[i]);
	}
	assert_null(session_for(p, "alice", &e2));
	assert_true(g_error_matches(e2, ICS_ERROR, ICS_ERROR_LIMIT));
	assert_non_null(strstr(e2->message, "alice has 16 console sessions open"));
	s = session_for(p, "bob", NULL);
	assert_non_null(s);
	assert_int_equal(ics_console_proxy_sessions(p), 17);
	/* an open that fails after its reservation gives it back */
	assert_true(ics_console_proxy_reserve(p, "carol", NULL));
	assert_int_equal(ics_console_proxy_sessions(p), 18);
	ics_console_proxy_release(p, "carol");
	assert_int_equal(ics_console_proxy_sessions(p), 17);
	/* one of alice's ends: she may open one again */
	drop_session(mine[0]);
	mine[0] = session_for(p, "alice", NULL);
	assert_non_null(mine[0]);
	drop_session(s);
	for (guint i = 0; i < G_N_ELEMENTS(mine); i++)
		drop_session(mine[i]);
	assert_int_equal(ics_console_proxy_sessions(p), 0);
	ics_console_proxy_free(p);
}

/* Reservations from many threads at once, four users: the counts stay
 * within each user's share and the proxy's bound, and all come back. */
typedef struct {
	IcsConsoleProxy *p;
	const char *user;
	gint over; /* a reservation beyond the user's share was granted */
	guint *held; /* the user's reservations now, under its mutex */
	GMutex *lock;
} Reserver;

static gpointer reserver(gpointer data)
{
	Reserver *r = data;

	/* Six threads of a user hold up to four each: more than its share,
	 * so refusals happen while others come back. */
	for (guint i = 0; i < 500; i++) {
		guint got = 0;

		for (guint k = 0; k < 4; k++) {
			if (!ics_console_proxy_reserve(r->p, r->user, NULL))
				continue;
			got++;
			g_mutex_lock(r->lock);
			if (++*r->held > ICS_CONSOLE_MAX_SESSIONS_PER_USER)
				g_atomic_int_set(&r->over, 1);
			g_mutex_unlock(r->lock);
		}
		g_thread_yield();
		g_mutex_lock(r->lock);
		*r->held -= got;
		g_mutex_unlock(r->lock);
		while (got--)
			ics_console_proxy_release(r->p, r->user);
	}
	return NULL;
}

static void test_reserve_threads(void **state)
{
	static const char *users[] = { "alice", "bob", "carol", "dave" };
	IcsConsoleProxy *p = ics_console_proxy_new(0);
	guint held[G_N_ELEMENTS(users)] = { 0 };
	GMutex locks[G_N_ELEMENTS(users)];
	Reserver rs[24];
	GThread *th[G_N_ELEMENTS(rs)];

	(void)state;
	for (guint u = 0; u < G_N_ELEMENTS(users); u++)
		g_mutex_init(&locks[u]);
	for (guint i = 0; i < G_N_ELEMENTS(rs); i++) {
		guint u = i % G_N_ELEMENTS(users);

		rs[i] = (Reserver){ p, users[u], 0, &held[u], &locks[u] };
		th[i] = g_thread_new("reserver", reserver, &rs[i]);
	}
	for (guint i = 0; i < G_N_ELEMENTS(rs); i++) {
		g_thread_join(th[i]);
		assert_int_equal(g_atomic_int_get(&rs[i].over), 0);
	}
	assert_int_equal(ics_console_proxy_sessions(p), 0);
	for (guint u = 0; u < G_N_ELEMENTS(users); u++)
		g_mutex_clear(&locks[u]);
	ics_console_proxy_free(p);
}

static void test_ticket_route(void **state)
{
	Ctx *c = *state;
	g_autoptr(TestResp) ok = ask_ticket(c, c->t->admin_token, c->vm, "vnc");
	g_autoptr(TestResp) ro = ask_ticket(c, c->tok_ro, c->vm, "vnc");
	g_autoptr(TestResp) vmm_other = ask_ticket(c, c->tok_vmm, c->vm, "vnc");
	g_autoptr(TestResp) vmm_own = ask_ticket(c, c->tok_vmm, c->other_vm, "serial");
	g_autoptr(TestResp) anon = ask_ticket(c, NULL, c->vm, "vnc");
	g_autoptr(TestResp) bad = ask_ticket(c, c->t->admin_token, c->vm, "spice");
	g_autofree char *url = g_strdup_printf("/api/v1/vms/%s/console/vnc?ticket=%s", c->vm,
					       test_str(ok, "ticket"));
	g_autoptr(TestResp) audit =
		test_http(c->t, "GET", "/api/v1/audit?action=vm.console.ticket&limit=100",
			  c->t->admin_token, NULL);

	assert_int_equal(ok->status, 201);
	assert_int_equal(json_integer_value(json_object_get(ok->json, "expires_in")), 30);
	assert_string_equal(test_str(ok, "url"), url);
	assert_int_equal(ro->status, 403);	  /* readonly lacks vm.console */
	assert_int_equal(vmm_other->status, 404); /* not the vm_manager's VM */
	assert_int_equal(vmm_own->status, 201);
	assert_int_equal(anon->status, 401);
	assert_int_equal(bad->status, 400);
	/* Every ask is audited, refusals included; never the ticket itself. */
	assert_int_equal(audit->status, 200);
	assert_true(json_array_size(json_object_get(audit->json, "items")) >= 6);
	assert_null(strstr(audit->body->str, test_str(ok, "ticket")));
}

/* ---- a WebSocket client (wslay) ----------------------------------------- */

typedef struct {
	int fd;
	wslay_event_context_ptr ws;
	GByteArray *in;
	int close_code; /* 0: open */
	char *close_reason;
	gboolean broken;
} Ws;

static ssize_t c_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *d)
{
	Ws *w = d;
	ssize_t n = recv(w->fd, buf, len, MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	if (n <= 0) {
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
		return -1;
	}
	return n;
}

static ssize_t c_send(wslay_event_context_ptr ctx, const uint8_t *buf, size_t len, int flags,
		      void *d)
{
	ssize_t n = send(((Ws *)d)->fd, buf, len, MSG_NOSIGNAL);

	if (n < 0) {
		wslay_event_set_error(ctx, errno == EAGAIN ? WSLAY_ERR_WOULDBLOCK
							   : WSLAY_ERR_CALLBACK_FAILURE);
		return -1;
	}
	return n;
}

static int c_mask(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, void *d)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)g_random_int();
	return 0;
}

static void c_msg(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg,
		  void *d)
{
	Ws *w = d;

	if (arg->opcode == WSLAY_CONNECTION_CLOSE) {
		w->close_code = arg->status_code ? arg->status_code : 1005;
		g_free(w->close_reason);
		/* The payload: the 2-byte code, then the reason. */
		w->close_reason = arg->msg_length >= 2 ? g_strndup((const char *)arg->msg + 2,
								   arg->msg_length - 2)
						       : g_strdup("");
	} else if (arg->opcode == WSLAY_BINARY_FRAME) {
		g_byte_array_append(w->in, arg->msg, (guint)arg->msg_length);
	}
}

static void ws_free(Ws *w)
{
	if (w == NULL)
		return;
	if (w->ws)
		wslay_event_context_free(w->ws);
	if (w->fd >= 0)
		close(w->fd);
	g_byte_array_unref(w->in);
	g_free(w->close_reason);
	g_free(w);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Ws, ws_free)

/* Open @path as a WebSocket from @from (a loopback address); *@status gets
 * the HTTP status; a Ws only with 101. */
/* The receive buffer of the next client socket (0: the kernel's). */
static int next_rcvbuf;

static Ws *ws_open(Ctx *c, const char *path, const char *from, const char *auth, long *status)
{
	struct wslay_event_callbacks cb = { c_recv, c_send, c_mask, NULL, NULL, NULL, c_msg };
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(ics_manager_port(c->t->m)) };
	struct sockaddr_in me = { .sin_family = AF_INET };
	g_autoptr(GString) head = g_string_new(NULL);
	g_autofree char *req = NULL;
	Ws *w = g_new0(Ws, 1);
	char ch;

	w->in = g_byte_array_new();
	w->fd = socket(AF_INET, SOCK_STREAM, 0);
	if (next_rcvbuf) {
		/* before connect, so the window never opens wider */
		assert_int_equal(setsockopt(w->fd, SOL_SOCKET, SO_RCVBUF, &next_rcvbuf,
					    sizeof next_rcvbuf),
				 0);
		next_rcvbuf = 0;
	}
	inet_pton(AF_INET, from, &me.sin_addr);
	assert_int_equal(bind(w->fd, (struct sockaddr *)&me, sizeof me), 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(w->fd, (struct sockaddr *)&sa, sizeof sa), 0);
	req = g_strdup_printf("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
			      "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
			      "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: binary\r\n"
			      "%s%s%s\r\n",
			      path, auth ? "Authorization: Bearer " : "", auth ? auth : "",
			      auth ? "\r\n" : "");
	assert_int_equal(send(w->fd, req, strlen(req), 0), (ssize_t)strlen(req));
	/* The answer's head, byte by byte: what follows is WebSocket. */
	while (!g_str_has_suffix(head->str, "\r\n\r\n") && recv(w->fd, &ch, 1, 0) == 1)
		g_string_append_c(head, ch);
	*status = strtol(head->str + strlen("HTTP/1.1 "), NULL, 10);
	if (*status != 101) {
		ws_free(w);
		return NULL;
	}
	assert_non_null(strstr(head->str, "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
	assert_non_null(strstr(head->str, "Sec-WebSocket-Protocol: binary"));
	assert_int_equal(wslay_event_context_client_init(&w->ws, &cb, w), 0);
	return w;
}

/* Pump until @w has @n bytes in, is closed, or @timeout_ms passes. */
static gboolean ws_wait(Ws *w, guint n, guint timeout_ms)
{
	gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

	while (w->in->len < n && !w->broken && g_get_monotonic_time() < deadline) {
		struct pollfd p = { w->fd, POLLIN, 0 };

		if (wslay_event_want_write(w->ws))
			wslay_event_send(w->ws);
		if (w->close_code)
			return FALSE;
		if (poll(&p, 1, 100) > 0 && wslay_event_recv(w->ws) != 0)
			w->broken = TRUE;
	}
	return w->in->len >= n;
}

static void ws_write(Ws *w, const void *data, size_t len)
{
	struct wslay_event_msg m = { WSLAY_BINARY_FRAME, data, len };

	assert_int_equal(wslay_event_queue_msg(w->ws, &m), 0);
	while (wslay_event_want_write(w->ws))
		assert_int_equal(wslay_event_send(w->ws), 0);
}

static void ws_take(Ws *w, guint n, guint8 *out)
{
	if (!ws_wait(w, n, 10000))
		fail_msg("waited for %u bytes, have %u (close %d %s)", n, w->in->len,
			 w->close_code, w->close_reason ? w->close_reason : "");
	if (out)
		memcpy(out, w->in->data, n);
	g_byte_array_remove_range(w->in, 0, n);
}

/* RFB through the proxy: the greeting (security None), ClientInit,
 * ServerInit; returns the framebuffer's size. */
/* The RFB handshake through the proxy; the ClientInit asks for a shared
 * session unless @exclusive. */
static void rfb_handshake_as(Ws *w, gboolean exclusive, guint *width, guint *height)
{
	guint8 v[12], types[2], result[4], init[24], client_init = exclusive ? 0 : 1, none = 1;
	guint32 name_len;

	ws_take(w, 12, v);
	assert_memory_equal(v, "RFB 003.008\n", 12);
	ws_write(w, "RFB 003.008\n", 12);
	ws_take(w, 2, types);
	assert_int_equal(types[0], 1);
	assert_int_equal(types[1], 1); /* None: the proxy did QEMU's VNC auth */
	ws_write(w, &none, 1);
	ws_take(w, 4, result);
	assert_int_equal(result[0] | result[1] | result[2] | result[3], 0);
	ws_write(w, &client_init, 1);
	ws_take(w, 24, init);
	*width = (guint)init[0] << 8 | init[1];
	*height = (guint)init[2] << 8 | init[3];
	name_len = (guint32)init[20] << 24 | (guint32)init[21] << 16 | (guint32)init[22] << 8 |
		   init[23];
	ws_take(w, name_len, NULL);
}

static void rfb_handshake(Ws *w, guint *width, guint *height)
{
	rfb_handshake_as(w, FALSE, width, height);
}

/* Ask for the whole framebuffer; the update's header must come. */
static void expect_framebuffer(Ws *w, guint width, guint height)
{
	guint8 req[10] = { 3, 0, 0, 0, 0, 0, (guint8)(width >> 8), (guint8)width,
			   (guint8)(height >> 8), (guint8)height };
	guint8 head[4];

	ws_write(w, req, sizeof req);
	ws_take(w, 4, head);
	assert_int_equal(head[0], 0); /* FramebufferUpdate */
	assert_true(((guint)head[2] << 8 | head[3]) >= 1);
	/* The rectangles follow; drop what has come. */
	g_byte_array_set_size(w->in, 0);
}

static Ws *open_vnc(Ctx *c, const char *vm)
{
	g_autofree char *t = ticket(c, vm, "vnc");
	g_autofree char *path = g_strdup_printf("/api/v1/vms/%s/console/vnc?ticket=%s", vm, t);
	long status = 0;
	Ws *w = ws_open(c, path, "127.0.0.1", NULL, &status);

	if (w == NULL)
		fail_msg("opening %s: HTTP %ld", path, status);
	return w;
}

#define NEED_QEMU(c)                                                                               \
	do {                                                                                       \
		if ((c)->qemu == 0) {                                                              \
			print_message("# qemu-system-x86_64 missing: skipped\n");                 \
			skip();                                                                    \
		}                                                                                  \
	} while (0)

static void test_vnc_end_to_end(void **state)
{
	Ctx *c = *state;
	g_autoptr(Ws) w = NULL;
	guint width = 0, height = 0;
	gint64 t0 = g_get_monotonic_time();

	NEED_QEMU(c);
	w = open_vnc(c, c->vm);
	rfb_handshake(w, &width, &height);
	assert_true(width > 0 && height > 0);
	expect_framebuffer(w, width, height);
	print_message("# ticket -> first framebuffer update: %" G_GINT64_FORMAT " ms (%ux%u)\n",
		      (g_get_monotonic_time() - t0) / 1000, width, height);
}

static void test_refusals(void **state)
{
	Ctx *c = *state;
	struct {
		const char *what, *vm, *kind_asked, *kind_used, *from;
		gboolean reuse, expire, other_user;
		long want;
	} cases[] = {
		{ "reused", c->vm, "vnc", "vnc", "127.0.0.1", TRUE, FALSE, FALSE, 401 },
		{ "expired", c->vm, "vnc", "vnc", "127.0.0.1", FALSE, TRUE, FALSE, 401 },
		{ "other VM", c->other_vm, "vnc", "vnc", "127.0.0.1", FALSE, FALSE, FALSE, 403 },
		{ "other kind", c->vm, "serial", "vnc", "127.0.0.1", FALSE, FALSE, FALSE, 403 },
		{ "other client", c->vm, "vnc", "vnc", "127.0.0.2", FALSE, FALSE, FALSE, 403 },
		{ "other user", c->vm, "vnc", "vnc", "127.0.0.1", FALSE, FALSE, TRUE, 403 },
		{ "no ticket", c->vm, NULL, "vnc", "127.0.0.1", FALSE, FALSE, FALSE, 401 },
	};
	g_autoptr(TestResp) audit = NULL;
	guint refused = 0;

	NEED_QEMU(c);
	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		/* The ticket is always asked for c->vm; "other VM" uses it on another. */
		g_autofree char *t = cases[i].kind_asked ? ticket(c, c->vm, cases[i].kind_asked)
							 : g_strdup("");
		g_autofree char *path = g_strdup_printf("/api/v1/vms/%s/console/%s?ticket=%s",
							cases[i].vm, cases[i].kind_used, t);
		long status = 0;

		if (cases[i].reuse) {
			g_autoptr(Ws) first = ws_open(c, path, "127.0.0.1", NULL, &status);

			assert_int_equal(status, 101);
		}
		if (cases[i].expire)
			ics_clock_advance_for_test(31 * G_USEC_PER_SEC);
		{
			g_autoptr(Ws) w = ws_open(c, path, cases[i].from,
						  cases[i].other_user ? c->tok_vmm : NULL, &status);

			if (status != cases[i].want)
				fail_msg("%s: HTTP %ld, want %ld", cases[i].what, status,
					 cases[i].want);
			refused++;
		}
	}
	audit = test_http(c->t, "GET", "/api/v1/audit?action=vm.console.open&limit=100",
			  c->t->admin_token, NULL);
	assert_int_equal(audit->status, 200);
	{
		json_t *items = json_object_get(audit->json, "items"), *it;
		size_t i;
		guint failures = 0;

		json_array_foreach (items, i, it)
			if (g_strcmp0(json_string_value(json_object_get(it, "result")),
				      "success") != 0)
				failures++;
		if (failures < refused)
			fail_msg("%u refusals audited, want %u: %s", failures, refused,
				 audit->body->str);
	}
}

/* A raw frame on the session's socket, bypassing wslay's checks. */
static void raw_send(Ws *w, const guint8 *bytes, gsize len)
{
	assert_int_equal(send(w->fd, bytes, len, MSG_NOSIGNAL), (ssize_t)len);
}

static int wait_close(Ws *w)
{
	ws_wait(w, G_MAXUINT, 5000);
	return w->close_code ? w->close_code : (w->broken ? 1006 : 0);
}

static void test_bad_frames_close_one_session(void **state)
{
	Ctx *c = *state;
	g_autoptr(Ws) good = NULL, bad = NULL, big = NULL;
	guint w1, h1, w2, h2, w3, h3;
	/* An unmasked client frame (RFC 6455 5.1: the server must close). */
	static const guint8 unmasked[] = { 0x82, 0x03, 'a', 'b', 'c' };
	/* A masked binary frame of 1 MiB (over the 64 KiB bound): wslay counts
	 * what arrives and closes once the bound is passed. */
	static const guint8 huge[] = { 0x82, 0xff, 0, 0, 0, 0, 0, 0x10, 0, 0, 1, 2, 3, 4 };
	g_autofree guint8 *payload = g_malloc0(70 * 1024);

	NEED_QEMU(c);
	good = open_vnc(c, c->vm);
	bad = open_vnc(c, c->vm);
	big = open_vnc(c, c->vm);
	rfb_handshake(good, &w1, &h1);
	rfb_handshake(bad, &w2, &h2);
	rfb_handshake(big, &w3, &h3);

	raw_send(bad, unmasked, sizeof unmasked);
	assert_int_equal(wait_close(bad), 1002);
	raw_send(big, huge, sizeof huge);
	raw_send(big, payload, 70 * 1024);
	assert_int_equal(wait_close(big), 1009);
	/* The other session goes on. */
	expect_framebuffer(good, w1, h1);
}

/* A browser that pings and never reads: the proxy stops reading it once
 * its pongs pile up (the sender then blocks), instead of queueing a pong
 * per ping without end; another session goes on. */
static void test_ping_flood_bounded(void **state)
{
	Ctx *c = *state;
	g_autoptr(Ws) good = NULL, flood = NULL;
	guint w1, h1, w2, h2;
	/* A masked ping of 125 bytes (the most a control frame carries): each
	 * pong echoes them, so the proxy's socket fills soon. */
	guint8 ping[2 + 4 + 125] = { 0x89, 0x80 | 125, 1, 2, 3, 4 };
	guint8 burst[sizeof ping * 50];
	gsize sent = 0, limit = 64 * 1024 * 1024;
	gboolean blocked = FALSE;
	gint64 give_up = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;

	NEED_QEMU(c);
	good = open_vnc(c, c->vm);
	/* A small receive buffer: the pongs back up in the proxy soon (the
	 * kernel's buffers are bounded anyway; the proxy's queue must be). */
	next_rcvbuf = 4096;
	flood = open_vnc(c, c->vm);
	rfb_handshake(good, &w1, &h1);
	rfb_handshake(flood, &w2, &h2);
	for (gsize i = 0; i < sizeof burst; i += sizeof ping)
		memcpy(burst + i, ping, sizeof ping);
	while (sent < limit && g_get_monotonic_time() < give_up) {
		ssize_t n = send(flood->fd, burst, sizeof burst, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n > 0) {
			sent += (gsize)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			fail_msg("send: %s", g_strerror(errno));
		/* The socket buffers are full: still full a moment later means
		 * the proxy stopped reading. */
		g_usleep(200 * 1000);
		n = send(flood->fd, burst, sizeof burst, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			blocked = TRUE;
			break;
		}
		if (n > 0)
			sent += (gsize)n;
	}
	if (!blocked)
		fail_msg("the proxy read %zu bytes of pings (%zu pings) without stopping", sent,
			 sent / sizeof ping);
	expect_framebuffer(good, w1, h1);
}

/* A browser asking for the screen alone (ClientInit shared=0) does not
 * disconnect the VM's other viewers: the proxy relays it as shared. */
static void test_exclusive_init_shared(void **state)
{
	Ctx *c = *state;
	g_autoptr(Ws) first = NULL, second = NULL;
	guint w1, h1, w2, h2;

	NEED_QEMU(c);
	first = open_vnc(c, c->vm);
	second = open_vnc(c, c->vm);
	rfb_handshake(first, &w1, &h1);
	rfb_handshake_as(second, TRUE, &w2, &h2);
	expect_framebuffer(second, w2, h2);
	expect_framebuffer(first, w1, h1);
}

static void test_vm_moved_ends_session(void **state)
{
	Ctx *c = *state;
	g_autoptr(Ws) w = NULL;
	guint width, height;

	NEED_QEMU(c);
	w = open_vnc(c, c->vm);
	rfb_handshake(w, &width, &height);
	cc_move("node2");
	assert_int_equal(wait_close(w), 4001);
	if (g_strcmp0(w->close_reason, "the VM moved to node2") != 0)
		fail_msg("close reason \"%s\"", w->close_reason ? w->close_reason : "(none)");
	cc_move("node1");
}

/* An open console ends (4003) when the login that asked for its ticket
 * does: the user logged out here. */
static void test_logout_ends_session(void **state)
{
	Ctx *c = *state;
	g_autofree char *tok = test_login(c->t, "vmm", TEST_PASSWORD);
	g_autoptr(TestResp) r = NULL;
	g_autofree char *path = NULL;
	g_autoptr(Ws) w = NULL;
	guint width, height;
	long status = 0;

	NEED_QEMU(c);
	r = ask_ticket(c, tok, c->other_vm, "vnc");
	assert_int_equal(r->status, 201);
	path = g_strdup_printf("/api/v1/vms/%s/console/vnc?ticket=%s", c->other_vm,
			       test_str(r, "ticket"));
	w = ws_open(c, path, "127.0.0.1", NULL, &status);
	if (w == NULL)
		fail_msg("opening %s: HTTP %ld", path, status);
	rfb_handshake(w, &width, &height);
	expect_framebuffer(w, width, height);
	assert_int_equal(test_status(c->t, "DELETE", "/api/v1/sessions/current", tok, NULL), 204);
	assert_int_equal(wait_close(w), 4003);
	if (w->close_reason == NULL || !g_str_has_prefix(w->close_reason, "access revoked: "))
		fail_msg("close reason \"%s\"", w->close_reason ? w->close_reason : "(none)");
}

static Ws *open_serial(Ctx *c, const char *vm, long *status)
{
	g_autofree char *t = ticket(c, vm, "serial");
	g_autofree char *path = g_strdup_printf("/api/v1/vms/%s/console/serial?ticket=%s", vm, t);

	return ws_open(c, path, "127.0.0.1", NULL, status);
}

/* Read @len bytes the browser typed from the console's end. */
static void console_take(guint len, char *out)
{
	gsize got = 0;

	while (got < len) {
		struct pollfd p = { cc.serial_fd, POLLIN, 0 };
		ssize_t n;

		if (poll(&p, 1, 10000) <= 0)
			fail_msg("the console got %zu of %u bytes", got, len);
		n = read(cc.serial_fd, out + got, len - got);
		assert_true(n > 0);
		got += (gsize)n;
	}
}

static void test_serial_relay_and_stop(void **state)
{
	Ctx *c = *state;
	static const char line[] = "ics-guest boot=1 uptime_ms=1000 counter=1\r\n";
	g_autoptr(Ws) w = NULL;
	guint8 got[sizeof line - 1];
	char typed[6];
	long status = 0;

	w = open_serial(c, c->vm, &status);
	if (w == NULL)
		fail_msg("serial console: HTTP %ld", status);
	/* console -> browser */
	assert_int_equal(write(cc.serial_fd, line, sizeof line - 1), (ssize_t)(sizeof line - 1));
	ws_take(w, sizeof line - 1, got);
	assert_memory_equal(got, line, sizeof line - 1);
	/* browser -> console */
	ws_write(w, "root\r\n", 6);
	console_take(6, typed);
	assert_memory_equal(typed, "root\r\n", 6);
	/* The VM stops: QEMU (and its console) goes first, the cluster says
	 * so a moment later; the page must hear "stopped", not a bare 1000. */
	close(cc.serial_fd);
	cc.serial_fd = -1;
	g_usleep(300 * 1000);
	cc_move(NULL);
	assert_int_equal(wait_close(w), 4002);
	assert_string_equal(w->close_reason, "the VM stopped");
	cc_move("node1");
}

static void test_serial_busy_is_conflict(void **state)
{
	Ctx *c = *state;
	g_autoptr(Ws) w = NULL;
	long status = 0;

	cc.serial_busy = TRUE;
	w = open_serial(c, c->vm, &status);
	cc.serial_busy = FALSE;
	assert_null(w);
	assert_int_equal(status, 409);
}

static void test_serial_console_closed(void **state)
{
	Ctx *c = *state;
	g_autoptr(Ws) w = NULL;
	long status = 0;

	w = open_serial(c, c->vm, &status);
	assert_non_null(w);
	/* The console ends and the VM still runs here: 1000 after the grace. */
	close(cc.serial_fd);
	cc.serial_fd = -1;
	ws_wait(w, G_MAXUINT, 10000);
	assert_int_equal(w->close_code, 1000);
	assert_string_equal(w->close_reason, "the VM's serial console closed");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ticket_table),
		cmocka_unit_test(test_per_user_bounds),
		cmocka_unit_test(test_reserve_threads),
		cmocka_unit_test(test_ticket_route),
		cmocka_unit_test(test_vnc_end_to_end),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_bad_frames_close_one_session),
		cmocka_unit_test(test_ping_flood_bounded),
		cmocka_unit_test(test_exclusive_init_shared),
		cmocka_unit_test(test_logout_ends_session),
		cmocka_unit_test(test_vm_moved_ends_session),
		cmocka_unit_test(test_serial_relay_and_stop),
		cmocka_unit_test(test_serial_busy_is_conflict),
		cmocka_unit_test(test_serial_console_closed),
	};

	curl_global_init(CURL_GLOBAL_DEFAULT);
	return cmocka_run_group_tests(tests, setup, teardown);
}
