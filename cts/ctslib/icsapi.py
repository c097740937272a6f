"""icsapi: the one Python client of the ics-managerd REST API (/api/v1),
shared by the CTS scenarios and the benchmarks.  Standard library only.

    api = Client("https://10.211.0.100:8443", cafile=cert, netns="icslab-cts-client")
    api.login("admin", password)
    vms = api.list_all("/api/v1/vms")
    vm = api.call("POST", "/api/v1/vms", {"definition": {...}})

- One keep-alive connection per Client (http.client), opened on first use
  and again after a failure; keepalive=False opens one per request (the
  failover scenarios measure what a new connection sees).  A Client is not
  thread-safe: give each thread its own (Client.copy()).
- TLS is verified by default against the CA file given (the manager's
  self-signed certificate is its own CA), for the URL's host name;
  connect_to connects to another address while still verifying that name.
  verify=False turns verification off (never use it against a real
  manager).  http:// URLs are plain HTTP (ics-managerd --insecure-http).
- netns: the connection's socket is created inside that network namespace
  (/run/netns/NAME) by a short-lived thread -- a socket keeps the namespace
  it was created in, so the calling thread stays where it is.  Needs root.
- Timeouts: connect_timeout for the TCP connect, timeout for every read
  and write after it.
- Authentication: a session token (login(), or token=), sent as
  "Authorization: Bearer".  (AK/SK request signing is not implemented: no
  test or bench uses it; ics-admin does, see docs/manager-security.md.)
- request() returns a Response whatever its status; call() returns the
  parsed JSON of a 2xx and raises ApiError otherwise, carrying the status
  and the server's {"error": {"code", "message"}}.  Transport failures
  (refused, reset, timeout, TLS) are OSError or http.client.HTTPException:
  TRANSPORT_ERRORS.
"""

import ctypes
import http.client
import json
import os
import socket
import ssl
import threading
import urllib.parse

TRANSPORT_ERRORS = (OSError, http.client.HTTPException)
CLONE_NEWNET = 0x40000000
_libc = None


def enter_netns(ns):
    """Move the calling THREAD (only) into network namespace @ns."""
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open("/run/netns/" + ns, os.O_RDONLY)
    try:
        if _libc.setns(fd, CLONE_NEWNET) != 0:
            e = ctypes.get_errno()
            raise OSError(e, "setns %s: %s" % (ns, os.strerror(e)))
    finally:
        os.close(fd)


def in_netns(ns, fn, timeout=None):
    """fn() run by a thread inside network namespace @ns; its result, or
    its exception raised here.  TimeoutError when it has not returned
    after @timeout seconds (the thread is left to finish on its own)."""
    box = {}

    def go():
        try:
            enter_netns(ns)
            box["r"] = fn()
        except BaseException as e:      # handed to the caller
            box["e"] = e
    t = threading.Thread(target=go, daemon=True, name="netns-" + ns)
    t.start()
    t.join(timeout)
    if "e" in box:
        raise box["e"]
    if "r" not in box:
        raise TimeoutError("no answer within %s s (in %s)" % (timeout, ns))
    return box["r"]


class ApiError(Exception):
    """A non-2xx answer: .status, .code and .message from the server's
    {"error": {...}} (code None when the body is not one), .body."""

    def __init__(self, status, code, message, body=None, method=None, path=None):
        self.status, self.code, self.message, self.body = status, code, message, body
        self.method, self.path = method, path
        where = "%s %s: " % (method, path) if method else ""
        super().__init__("%sHTTP %d %s: %s" % (where, status, code or "-", message))


class Response:
    """One answer: .status, .headers, .data (bytes), .body (parsed JSON, or
    None when empty or not JSON)."""

    def __init__(self, status, headers, data):
        self.status, self.headers, self.data = status, headers, data
        self.body = None
        if data:
            try:
                self.body = json.loads(data)
            except ValueError:
                pass

    @property
    def ok(self):
        return 200 <= self.status < 300

    def error(self, method=None, path=None):
        """This answer as an ApiError."""
        err = self.body.get("error") if isinstance(self.body, dict) else None
        if isinstance(err, dict):
            code, msg = err.get("code"), err.get("message")
        else:
            code, msg = None, self.data[:200].decode(errors="replace")
        return ApiError(self.status, code, msg, self.body, method, path)


class _HTTPS(http.client.HTTPSConnection):
    """HTTPS whose socket is made by the Client (netns, other address)."""

    def __init__(self, client, host, port, **kw):
        super().__init__(host, port, **kw)
        self._client = client

    def connect(self):
        sock = self._client._socket()
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


class _HTTP(http.client.HTTPConnection):
    def __init__(self, client, host, port, **kw):
        super().__init__(host, port, **kw)
        self._client = client

    def connect(self):
        self.sock = self._client._socket()


class Client:
    def __init__(self, url, cafile=None, verify=True, token=None, timeout=10.0,
                 connect_timeout=None, connect_to=None, netns=None, source_address=None,
                 keepalive=True):
        u = urllib.parse.urlsplit(url)
        if u.scheme not in ("http", "https") or not u.hostname:
            raise ValueError("bad manager URL %r: want https://HOST[:PORT]" % url)
        self.url = url
        self.tls = u.scheme == "https"
        self.host = u.hostname
        self.port = u.port or (8443 if self.tls else 80)
        self.prefix = u.path.rstrip("/")
        self.cafile, self.verify = cafile, verify
        self.token = token
        self.timeout = timeout
        self.connect_timeout = connect_timeout or timeout
        self.connect_to = connect_to
        self.netns = netns
        self.source_address = source_address
        self.keepalive = keepalive
        self._ctx = None
        if self.tls:
            if verify:
                self._ctx = ssl.create_default_context(cafile=cafile)
            else:
                self._ctx = ssl.create_default_context()
                self._ctx.check_hostname = False
                self._ctx.verify_mode = ssl.CERT_NONE
        self._conn = None

    # -- connections -------------------------------------------------------
    def copy(self, **changes):
        """A new Client with the same settings (its own connection) and the
        same token, with @changes applied (e.g. token=None, timeout=2)."""
        kw = dict(url=self.url, cafile=self.cafile, verify=self.verify, token=self.token,
                  timeout=self.timeout, connect_timeout=self.connect_timeout,
                  connect_to=self.connect_to, netns=self.netns,
                  source_address=self.source_address, keepalive=self.keepalive)
        kw.update(changes)
        return Client(**kw)

    def _socket(self):
        addr = (self.connect_to or self.host, self.port)

        def make():
            return socket.create_connection(addr, self.connect_timeout,
                                            source_address=self.source_address)
        sock = in_netns(self.netns, make) if self.netns else make()
        sock.settimeout(self.timeout)
        # as http.client's own connect(): no Nagle delay between a request's
        # writes (40 ms per request with delayed ACKs otherwise)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    def _new_conn(self):
        if self.tls:
            return _HTTPS(self, self.host, self.port, context=self._ctx,
                          timeout=self.timeout)
        return _HTTP(self, self.host, self.port, timeout=self.timeout)

    def close(self):
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- requests ------------------------------------------------------------
    def request(self, method, path, body=None, headers=None, query=None):
        """One request; the Response whatever its status.  @body: a dict or
        list (sent as JSON), bytes or str (sent as is); @query: a dict."""
        if query:
            path += ("&" if "?" in path else "?") + urllib.parse.urlencode(query)
        hdrs = {"Accept": "application/json"}
        if self.token:
            hdrs["Authorization"] = "Bearer " + self.token
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
            hdrs["Content-Type"] = "application/json"
        if not self.keepalive:
            hdrs["Connection"] = "close"
        if headers:
            hdrs.update(headers)
        # A kept connection the server has closed meanwhile fails at once:
        # a GET or HEAD is sent again on a new one (they change nothing).
        retry = self._conn is not None and method in ("GET", "HEAD")
        while True:
            if self._conn is None:
                self._conn = self._new_conn()
            c = self._conn
            try:
                c.request(method, self.prefix + path, body=body, headers=hdrs)
                r = c.getresponse()
                data = r.read()
            except (http.client.RemoteDisconnected, BrokenPipeError,
                    ConnectionResetError) as e:
                self.close()
                if retry:
                    retry = False
                    continue
                raise e
            except BaseException:
                self.close()
                raise
            resp = Response(r.status, r.headers, data)
            if not self.keepalive or r.will_close:
                self.close()
            return resp

    def call(self, method, path, body=None, query=None):
        """The parsed JSON of a 2xx (None when empty); ApiError otherwise."""
        r = self.request(method, path, body, query=query)
        if not r.ok:
            raise r.error(method, path)
        return r.body

    def get(self, path, query=None):
        return self.call("GET", path, query=query)

    def post(self, path, body=None):
        return self.call("POST", path, body)

    def put(self, path, body=None):
        return self.call("PUT", path, body)

    def patch(self, path, body=None):
        return self.call("PATCH", path, body)

    def delete(self, path):
        return self.call("DELETE", path)

    def list_all(self, path, limit=1000, max_pages=1000):
        """Every item of a keyset-paginated list (following "next" as
        "after"), at most @max_pages pages."""
        items, after = [], None
        for _ in range(max_pages):
            q = {"limit": limit}
            if after:
                q["after"] = after
            page = self.get(path, q)
            items += page["items"]
            after = page.get("next")
            if not after:
                return items
        raise ApiError(0, None, "more than %d pages" % max_pages, None, "GET", path)

    # -- sessions --------------------------------------------------------------
    def login(self, username, password, code=None):
        """POST /api/v1/sessions; keeps and returns the token."""
        body = {"username": username, "password": password}
        if code is not None:
            body["code"] = code
        self.token = None
        s = self.call("POST", "/api/v1/sessions", body)
        self.token = s["token"]
        return self.token

    def logout(self):
        """DELETE /api/v1/sessions/current; forgets the token."""
        try:
            self.call("DELETE", "/api/v1/sessions/current")
        finally:
            self.token = None
