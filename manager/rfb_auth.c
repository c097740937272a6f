/*
 * rfb_auth.c: the client side of the RFB 3.8 handshake up to the security
 * result (see rfb_auth.h).
 *
 * Blocking reads with a deadline (poll), because the proxy does this once
 * per session on the session's own thread before any byte is relayed.
 * DES is nettle's; RFB uses the 8 password bytes (zero-padded) as the DES
 * key with the bits of each byte reversed, which is a historical accident
 * of the original VNC code that every server keeps.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include <nettle/des.h>

#include "ics/error.h"
#include "ics/manager/rfb_auth.h"

#define SEC_NONE 1
#define SEC_VNC 2

static gboolean read_exact(int fd, void *buf, gsize len, guint timeout_ms, const char *what,
			   GError **error)
{
	guint8 *p = buf;
	gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

	while (len > 0) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		gint64 left = (deadline - g_get_monotonic_time()) / 1000;
		ssize_t n;

		if (left <= 0 || poll(&pfd, 1, (int)left) == 0) {
			g_set_error(error, ICS_ERROR, ICS_ERROR_TIMEOUT,
				    "VNC server: no %s within %u ms", what, timeout_ms);
			return FALSE;
		}
		n = read(fd, p, len);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0) {
			if (n == 0)
				g_set_error(error, ICS_ERROR, ICS_ERROR_IO,
					    "VNC server: closed the connection before its %s",
					    what);
			else
				ics_error_set_errno(error, errno, "VNC server: reading its %s",
						    what);
			return FALSE;
		}
		p += n;
		len -= (gsize)n;
	}
	return TRUE;
}

static gboolean write_all(int fd, const void *buf, gsize len, GError **error)
{
	const guint8 *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			if (errno == EAGAIN) {
				struct pollfd pfd = { fd, POLLOUT, 0 };

				(void)poll(&pfd, 1, 1000);
				continue;
			}
			ics_error_set_errno(error, errno, "VNC server: writing");
			return FALSE;
		}
		p += n;
		len -= (gsize)n;
	}
	return TRUE;
}

static guint8 mirror(guint8 b)
{
	guint8 r = 0;

	for (int i = 0; i < 8; i++)
		if (b & (1u << i))
			r |= (guint8)(0x80u >> i);
	return r;
}

void ics_rfb_vnc_response(const char *password, const guint8 challenge[16], guint8 out[16])
{
	guint8 key[DES_KEY_SIZE] = { 0 };
	struct des_ctx ctx;
	gsize len = password ? strlen(password) : 0;

	for (gsize i = 0; i < DES_KEY_SIZE && i < len; i++)
		key[i] = mirror((guint8)password[i]);
	/* des_set_key() returns 0 for the few weak keys; RFB uses them all
	 * the same (the context is set up either way). */
	(void)des_set_key(&ctx, key);
	des_encrypt(&ctx, 16, out, challenge);
	memset(key, 0, sizeof key);
	memset(&ctx, 0, sizeof ctx);
}

/* The server's reason string after a failure (RFB 3.8), for the error. */
static char *failure_reason(int fd, guint timeout_ms)
{
	guint8 lenbuf[4];
	guint32 len;
	char *text;

	if (!read_exact(fd, lenbuf, 4, timeout_ms, "reason", NULL))
		return g_strdup("no reason given");
	len = (guint32)lenbuf[0] << 24 | (guint32)lenbuf[1] << 16 | (guint32)lenbuf[2] << 8 |
	      lenbuf[3];
	len = MIN(len, 256u);
	text = g_malloc0(len + 1);
	if (!read_exact(fd, text, len, timeout_ms, "reason", NULL))
		text[0] = '\0';
	return g_utf8_make_valid(text, -1);
}

gboolean ics_rfb_client_auth(int fd, const char *password, guint timeout_ms, GError **error)
{
	char version[ICS_RFB_VERSION_LEN + 1] = { 0 };
	guint8 ntypes, types[255], chosen = 0, result[4];

	if (!read_exact(fd, version, ICS_RFB_VERSION_LEN, timeout_ms, "protocol version", error))
		return FALSE;
	if (strncmp(version, "RFB 003.", 8) != 0 || strcmp(version + 8, "008\n") < 0) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_PARSE,
			    "VNC server: speaks \"%.11s\", not RFB 3.8 or later", version);
		return FALSE;
	}
	if (!write_all(fd, ICS_RFB_VERSION, ICS_RFB_VERSION_LEN, error) ||
	    !read_exact(fd, &ntypes, 1, timeout_ms, "security types", error))
		return FALSE;
	if (ntypes == 0) {
		g_autofree char *why = failure_reason(fd, timeout_ms);

		g_set_error(error, ICS_ERROR, ICS_ERROR_UNAVAILABLE, "VNC server: refused: %s",
			    why);
		return FALSE;
	}
	if (!read_exact(fd, types, ntypes, timeout_ms, "security types", error))
		return FALSE;
	for (guint i = 0; i < ntypes; i++)
		if (types[i] == (password ? SEC_VNC : SEC_NONE))
			chosen = types[i];
	if (chosen == 0) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_UNAVAILABLE,
			    "VNC server: does not offer %s authentication",
			    password ? "VNC (password)" : "no");
		return FALSE;
	}
	if (!write_all(fd, &chosen, 1, error))
		return FALSE;
	if (chosen == SEC_VNC) {
		guint8 challenge[16], response[16];

		if (!read_exact(fd, challenge, 16, timeout_ms, "challenge", error))
			return FALSE;
		ics_rfb_vnc_response(password, challenge, response);
		if (!write_all(fd, response, 16, error))
			return FALSE;
	}
	if (!read_exact(fd, result, 4, timeout_ms, "security result", error))
		return FALSE;
	if (result[0] | result[1] | result[2] | result[3]) {
		g_autofree char *why = failure_reason(fd, timeout_ms);

		g_set_error(error, ICS_ERROR, ICS_ERROR_PERMISSION,
			    "VNC server: authentication failed: %s", why);
		return FALSE;
	}
	return TRUE;
}
