/*
 * node_serial.c: a VM's serial console as a socket -- the libvirt stream of
 * virDomainOpenConsole() on the node that runs the VM, bridged to one end
 * of a socketpair whose other end the caller gets.  The console proxy
 * (console_proxy.c) then treats it like the VNC server's socket: the same
 * session, thread, bounds and close codes.
 *
 * How the stream is driven: libvirt's client reads a stream only while an
 * event loop runs (or while a thread blocks inside a call on it).  Blocking
 * use would need a thread per direction and has no way to wake a
 * virStreamRecv() waiting on a quiet console when the browser leaves, so
 * the bridge uses libvirt's default event implementation, registered once
 * per process on one thread ("libvirt-events", the same pattern as the vm
 * agent's vm_runtime.c), with the stream in VIR_STREAM_NONBLOCK mode.
 * Every bridge lives on that thread: a stream callback receives (up to
 * BRIDGE_BUF bytes) and writes to the socketpair; a handle callback on the
 * socketpair reads what the browser typed and sends it.  Each direction
 * holds at most one buffer: while it is not written out, that direction's
 * source is not watched, so a slow browser slows the console (and a
 * console that does not take input slows the browser) without memory
 * growing here.  Nothing blocks the HTTP server's threads: they only open
 * the connection and the console (bounded by libvirt's own timeouts, as
 * the VNC path's XML read is).
 *
 * SAFE, not FORCE: VIR_DOMAIN_CONSOLE_SAFE refuses (CONFLICT) when another
 * client -- another browser, or `virsh console` on the node -- holds the
 * console.  FORCE would silently cut that session off, and two people
 * typing into one root shell is worse than a clear "in use".  libvirtd
 * releases a holder when its connection drops, so a manager that died
 * does not keep the console taken.
 *
 * Threads: the opening thread (an HTTP request) opens the connection and
 * the console, then hands the bridge to libvirt's event thread, which
 * registers its callbacks itself (a one-shot timeout): from then on only
 * that thread touches the bridge, so a callback that ends it cannot race
 * with its setup.
 *
 * Ending: EOF or an error on the stream closes our end of the socketpair
 * (the session sees the console close and asks the cluster why: 4001/4002
 * when the VM moved or stopped); the session closing its end makes us
 * abort the stream.  Teardown (abort, free, virConnectClose: RPCs) runs on
 * a short thread of its own, after the callbacks are removed on the event
 * thread, so the event loop never waits on the network.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "cluster_internal.h"
#include "node_domain.h"
#include "ics/error.h"
#include "ics/log.h"

#define BRIDGE_BUF 16384

typedef struct {
	virConnectPtr conn;
	virDomainPtr dom;
	virStreamPtr st;
	int fd;	   /* our end of the socketpair */
	int watch; /* its handle in the event loop, -1 once removed */
	int timer; /* the one-shot that registers the callbacks, -1 after */
	gboolean stream_cb, eof, ended;
	char *what;	      /* "VM UUID on NODE", for the log */
	char out[BRIDGE_BUF]; /* console -> browser, not yet written */
	gsize out_len, out_off;
	char in[BRIDGE_BUF]; /* browser -> console, not yet sent */
	gsize in_len, in_off;
} SerialBridge;

static gpointer event_loop(gpointer data)
{
	(void)data;
	for (;;)
		virEventRunDefaultImpl();
	return NULL;
}

/* The process's libvirt event loop, started once; before any connection
 * that streams is opened. */
static gboolean event_loop_start(GError **error)
{
	static gsize once = 0;
	static gboolean ok;

	if (g_once_init_enter(&once)) {
		ok = virEventRegisterDefaultImpl() == 0;
		if (ok)
			g_thread_unref(g_thread_new("libvirt-events", event_loop, NULL));
		g_once_init_leave(&once, 1);
	}
	if (!ok)
		g_set_error(error, ICS_ERROR, ICS_ERROR_IO, "cannot start libvirt's event loop: %s",
			    virGetLastErrorMessage());
	return ok;
}

static gpointer bridge_teardown(gpointer data)
{
	SerialBridge *b = data;

	if (b->st) {
		if (b->eof)
			(void)virStreamFinish(b->st);
		else
			(void)virStreamAbort(b->st);
		virStreamFree(b->st);
	}
	if (b->dom)
		virDomainFree(b->dom);
	if (b->conn)
		virConnectClose(b->conn);
	if (b->fd >= 0)
		close(b->fd);
	ics_info("serial console of %s: stream closed", b->what);
	g_free(b->what);
	g_free(b);
	return NULL;
}

/* On the event thread: stop watching, close our end, hand the rest over. */
static void bridge_end(SerialBridge *b)
{
	if (b->ended)
		return;
	b->ended = TRUE;
	if (b->watch >= 0)
		virEventRemoveHandle(b->watch);
	b->watch = -1;
	if (b->stream_cb)
		(void)virStreamEventRemoveCallback(b->st);
	b->stream_cb = FALSE;
	/* The session sees EOF now, not after the RPCs of the teardown. */
	shutdown(b->fd, SHUT_RDWR);
	g_thread_unref(g_thread_new("serial-close", bridge_teardown, b));
}

/* Watch what can move: a direction whose buffer is full waits for its
 * sink, not its source. */
static void bridge_interest(SerialBridge *b)
{
	int st_ev = (b->out_len == 0 ? VIR_STREAM_EVENT_READABLE : 0) |
		    (b->in_len > 0 ? VIR_STREAM_EVENT_WRITABLE : 0);
	int fd_ev = (b->in_len == 0 ? VIR_EVENT_HANDLE_READABLE : 0) |
		    (b->out_len > 0 ? VIR_EVENT_HANDLE_WRITABLE : 0);

	(void)virStreamEventUpdateCallback(b->st, st_ev);
	virEventUpdateHandle(b->watch, fd_ev);
}

/* Write the console's bytes to the session; FALSE when it is gone. */
static gboolean flush_out(SerialBridge *b)
{
	while (b->out_off < b->out_len) {
		ssize_t n = send(b->fd, b->out + b->out_off, b->out_len - b->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return TRUE;
		if (n < 0)
			return FALSE;
		b->out_off += (gsize)n;
	}
	b->out_len = b->out_off = 0;
	return TRUE;
}

/* Send the browser's bytes to the console; FALSE on a stream error. */
static gboolean flush_in(SerialBridge *b)
{
	while (b->in_off < b->in_len) {
		int n = virStreamSend(b->st, b->in + b->in_off, b->in_len - b->in_off);

		if (n == -2)
			return TRUE;
		if (n < 0)
			return FALSE;
		b->in_off += (gsize)n;
	}
	b->in_len = b->in_off = 0;
	return TRUE;
}

static void on_stream(virStreamPtr st, int events, void *opaque)
{
	SerialBridge *b = opaque;

	if (b->ended)
		return;
	if ((events & VIR_STREAM_EVENT_WRITABLE) && !flush_in(b)) {
		ics_warning("serial console of %s: cannot write: %s", b->what,
			    virGetLastErrorMessage());
		bridge_end(b);
		return;
	}
	if ((events &
	     (VIR_STREAM_EVENT_READABLE | VIR_STREAM_EVENT_HANGUP | VIR_STREAM_EVENT_ERROR)) &&
	    b->out_len == 0) {
		int n = virStreamRecv(st, b->out, sizeof b->out);

		if (n == 0 || (n < 0 && n != -2)) {
			b->eof = n == 0;
			if (n < 0)
				ics_warning("serial console of %s: %s", b->what,
					    virGetLastErrorMessage());
			bridge_end(b);
			return;
		}
		if (n > 0) {
			b->out_len = (gsize)n;
			if (!flush_out(b)) {
				bridge_end(b);
				return;
			}
		}
	}
	bridge_interest(b);
}

static void on_socket(int watch, int fd, int events, void *opaque)
{
	SerialBridge *b = opaque;

	(void)watch;
	if (b->ended)
		return;
	if ((events & VIR_EVENT_HANDLE_WRITABLE) && !flush_out(b)) {
		bridge_end(b);
		return;
	}
	/* The session left: end now, whatever is still buffered towards the
	 * console (a stream that does not drain must not keep it taken). */
	if ((events & (VIR_EVENT_HANDLE_HANGUP | VIR_EVENT_HANDLE_ERROR)) && b->in_len > 0) {
		bridge_end(b);
		return;
	}
	if ((events &
	     (VIR_EVENT_HANDLE_READABLE | VIR_EVENT_HANDLE_HANGUP | VIR_EVENT_HANDLE_ERROR)) &&
	    b->in_len == 0) {
		ssize_t n = recv(fd, b->in, sizeof b->in, MSG_DONTWAIT);

		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			bridge_end(b); /* the session left */
			return;
		}
		if (n > 0) {
			b->in_len = (gsize)n;
			if (!flush_in(b)) {
				bridge_end(b);
				return;
			}
		}
	}
	bridge_interest(b);
}

/* On the event thread, once: watch both ends.  Registering here and not on
 * the opening thread means the bridge is touched by one thread only from
 * the hand-over on: a callback can end (and free) it at any moment. */
static void bridge_register(int timer, void *opaque)
{
	SerialBridge *b = opaque;

	virEventRemoveTimeout(timer);
	b->timer = -1;
	b->watch = virEventAddHandle(b->fd, VIR_EVENT_HANDLE_READABLE, on_socket, b, NULL);
	if (b->watch >= 0 &&
	    virStreamEventAddCallback(b->st, VIR_STREAM_EVENT_READABLE, on_stream, b, NULL) == 0) {
		b->stream_cb = TRUE;
		return;
	}
	ics_warning("serial console of %s: cannot watch it: %s", b->what,
		    virGetLastErrorMessage());
	bridge_end(b); /* the session sees the console close */
}

int ics_cluster_node_open_serial(const char *node, const char *uri, const char *uuid,
				 GError **error)
{
	SerialBridge *b;
	int sv[2];

	if (!event_loop_start(error))
		return -1;
	b = g_new0(SerialBridge, 1);
	b->fd = -1;
	b->watch = -1;
	b->timer = -1;
	b->what = g_strdup_printf("VM %s on %s", uuid, node);
	b->dom = ics_node_domain_open(node, uri, uuid, FALSE, &b->conn, error);
	if (b->dom == NULL)
		goto fail;
	b->st = virStreamNew(b->conn, VIR_STREAM_NONBLOCK);
	if (b->st == NULL ||
	    virDomainOpenConsole(b->dom, NULL, b->st, VIR_DOMAIN_CONSOLE_SAFE) != 0) {
		virErrorPtr e = virGetLastError();
		gboolean busy = e && e->code == VIR_ERR_OPERATION_FAILED && e->message &&
				strstr(e->message, "console session exists") != NULL;

		g_set_error(error, ICS_ERROR, busy ? ICS_ERROR_CONFLICT : ICS_ERROR_UNAVAILABLE,
			    "VM %s on %s: cannot open its serial console%s: %s", uuid, node,
			    busy ? " (another session holds it: a browser or virsh console)" : "",
			    virGetLastErrorMessage());
		goto fail;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) != 0) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_IO, "socketpair: %s", g_strerror(errno));
		goto fail;
	}
	b->fd = sv[0];
	/* From here on the bridge belongs to the event thread: it registers
	 * the callbacks itself (bridge_register), this thread touches b no
	 * more. */
	b->timer = virEventAddTimeout(0, bridge_register, b, NULL);
	if (b->timer < 0) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_IO,
			    "VM %s on %s: cannot watch the serial console: %s", uuid, node,
			    virGetLastErrorMessage());
		close(sv[1]);
		goto fail;
	}
	return sv[1];
fail:
	b->watch = -1;
	b->ended = TRUE;
	bridge_teardown(b);
	return -1;
}
