"""Manager HA scenarios: ics-managerd as the cluster resource group that
`ics-admin manager setup --backend shared` writes (ocf:ics:manager holding
its sanlock lease on the lab pool, then an IPaddr2 floating IP).

While a scenario runs, a writer in the lab's client namespace (the
operator's workstation) creates roles through the REST API on the VIP, one
request per TLS connection, and records every answer: a 2xx whose body is
what was written is an acknowledged write; a connection error (refused,
reset, timeout) is what a failover may cause; anything else -- an HTTP
error, or a 2xx with other data -- is a wrong answer.  After recovery every
acknowledged write must be readable through the VIP, and there must be no
wrong answer.  A prober in the same namespace asks GET /api/v1/health every
100 ms; the time from the fault to its first 200 is "API answering on the
VIP again".  The sampler checks, every 100 ms, that the manager runs at
most once: its daemon process, its sanlock lease and its floating IP are
each on at most one node.

TLS: the client pins the daemon's self-signed certificate (on the pool) and
verifies it on the VIP's address, which the certificate names (ics-admin
manager setup gives the daemon its tls_names: the VIP, the manager nodes).
"""

import json
import os
import threading
import time
import uuid as uuidlib

import icslab
from ctslib import icsapi
from ctslib.runner import Scenario, ScenarioFailed, Tracked
from scenarios import storage

VIP = icslab.VIP_ADDR
PORT = 8443
URL = "https://%s:%d" % (VIP, PORT)
GROUP = "ics-manager"
LEASE = "ics-manager"
MANAGER_NODES = ("node1", "node2")


def api(lab, token=None, timeout=2.0, connect_timeout=None, keepalive=False):
    """A client of the API on the VIP from the lab's client namespace, the
    certificate pinned.  One TLS connection per request by default: a
    failover is measured as a new client sees it."""
    return icsapi.Client(URL, cafile=cafile(lab), token=token, timeout=timeout,
                         connect_timeout=connect_timeout, netns=lab.client_ns,
                         keepalive=keepalive)


TRANSPORT_ERRORS = icsapi.TRANSPORT_ERRORS
WRITERS = 3                     # concurrent writers, each one request at a time


def netns_usable(api):
    """OSError when the client's network namespace cannot be entered."""
    if api.netns:
        icsapi.in_netns(api.netns, lambda: None, timeout=10)


class Writer(threading.Thread):
    """Creates roles through the VIP until stopped (bounded: max_writes)."""

    def __init__(self, api, run_id, max_writes=5000, pause=0.01):
        super().__init__(daemon=True)
        self.api, self.run_id = api, run_id
        self.max_writes, self.pause = max_writes, pause
        self.stop_evt = threading.Event()
        self.lock = threading.Lock()
        self.acked = []            # (name, description, monotonic time of the answer)
        self.conn_errors = []      # (time, repr)
        self.wrong = []            # (time, name, status, body)
        self.attempts = 0
        self.failure = None

    def run(self):
        try:
            netns_usable(self.api)
        except OSError as e:
            self.failure = str(e)
            return
        for i in range(self.max_writes):
            if self.stop_evt.is_set():
                break
            name = "cts-%s-%05d" % (self.run_id, i)
            desc = "write %d of run %s" % (i, self.run_id)
            try:
                r = self.api.request("POST", "/api/v1/roles",
                                     {"name": name, "permissions": ["vm.read"],
                                      "description": desc})
                st, body = r.status, r.body
            except TRANSPORT_ERRORS as e:
                with self.lock:
                    self.attempts += 1
                    self.conn_errors.append((time.monotonic(), repr(e)[:120]))
                self.stop_evt.wait(0.1)
                continue
            with self.lock:
                self.attempts += 1
                if 200 <= st < 300 and isinstance(body, dict) and body.get("name") == name \
                        and body.get("description") == desc:
                    self.acked.append((name, desc, time.monotonic()))
                else:
                    self.wrong.append((time.monotonic(), name, st, body))
            self.stop_evt.wait(self.pause)

    def acked_count(self):
        with self.lock:
            return len(self.acked)

    def acked_since(self, t):
        with self.lock:
            return sum(1 for a in self.acked if a[2] > t)

    def stop(self):
        self.stop_evt.set()
        self.join(10)


class Writers:
    """Several writers seen as one."""

    def __init__(self, writers):
        self.writers = writers

    def start(self):
        for w in self.writers:
            w.start()

    def stop(self):
        for w in self.writers:
            w.stop_evt.set()
        for w in self.writers:
            w.join(10)

    def _all(self, attr):
        out = []
        for w in self.writers:
            with w.lock:
                out += list(getattr(w, attr))
        return out

    @property
    def acked(self):
        return self._all("acked")

    @property
    def wrong(self):
        return self._all("wrong")

    @property
    def conn_errors(self):
        return self._all("conn_errors")

    @property
    def failure(self):
        return next((w.failure for w in self.writers if w.failure), None)

    def acked_count(self):
        return sum(w.acked_count() for w in self.writers)

    def acked_since(self, t):
        return sum(w.acked_since(t) for w in self.writers)


class HealthProbe(threading.Thread):
    """GET /api/v1/health on the VIP every 100 ms; records when the answer
    changes between healthy and not."""

    def __init__(self, api):
        super().__init__(daemon=True)
        self.api = api
        self.stop_evt = threading.Event()
        self.lock = threading.Lock()
        self.changes = []          # (monotonic time, healthy)
        self.healthy = None
        self.last_error = None

    def run(self):
        try:
            netns_usable(self.api)
        except OSError as e:
            self.last_error = str(e)
            return
        for _ in range(100000):                  # bounded: ~3 hours at 10 Hz
            if self.stop_evt.is_set():
                break
            t = time.monotonic()
            try:
                r = self.api.request("GET", "/api/v1/health")
                st, body = r.status, r.body
                ok = st == 200 and isinstance(body, dict) and body.get("db") == "writable"
            except TRANSPORT_ERRORS as e:
                ok = False
                self.last_error = repr(e)[:120]
            except Exception as e:           # must not end the probe
                ok = False
                self.last_error = "unexpected: %r" % e
            with self.lock:
                if ok != self.healthy:        # healthy: when the answer came
                    self.changes.append((time.monotonic() if ok else t, ok))
                    self.healthy = ok
            self.stop_evt.wait(max(0.0, 0.1 - (time.monotonic() - t)))

    def first_healthy_after(self, t0):
        """When the API answered again after failing since t0: the first
        healthy answer after t0 that follows a failed one."""
        with self.lock:
            prev = None
            for t, ok in self.changes:
                if t > t0 and ok and prev is False:
                    return t
                prev = ok
        return None

    def stop(self):
        self.stop_evt.set()
        self.join(10)


class ProcessTracked(Tracked):
    """The manager daemon: a process named ics-managerd in the node's netns."""
    cib = False

    def __init__(self):
        super().__init__("ics-managerd", "process")

    def active_on(self, lab, nodes, holders):
        out = []
        for n in nodes:
            ino = icslab.ns_inode(lab.node_ns(n))
            if ino and any(icslab.proc_comm(p) == "ics-managerd"
                           for p in icslab.pids_in_netns(ino)):
                out.append(n)
        return out


class VipTracked(Tracked):
    cib = False

    def __init__(self):
        super().__init__(GROUP + "-vip", "ip", VIP)


def password_file(lab):
    return os.path.join(lab.require_state()["dir"], "manager-admin.pw")


def cafile(lab):
    return os.path.join(lab.require_state()["pool"]["host_path"], "manager", "tls-cert.pem")


def setup_manager(ctx, node=None, again=False, nodes=MANAGER_NODES):
    """The lab pool, then `ics-admin manager setup` (the real command) with
    the admin's password into a file of the lab directory; the manager may
    run on @nodes."""
    storage.pool_ready(ctx)
    pw = password_file(ctx.lab)
    db = os.path.join(ctx.lab.require_state()["pool"]["host_path"], "manager", "manager.db")
    if os.path.exists(db) and not os.path.exists(pw):
        raise ScenarioFailed("the manager's database exists on the pool but its admin "
                             "password is unknown (%s missing): use a fresh lab" % pw)
    argv = ["ics-admin", "manager", "setup", "--backend", "shared", "--pool",
            storage.POOL_NAME, "--vip", VIP + "/24", "--nic", "eth0", "--nodes",
            ",".join(nodes), "--timeout", "90"]
    if not os.path.exists(pw):
        argv += ["--admin-password-file", pw]
    p = ctx.crm(argv, node=node or ctx.any_node(), check=False)
    if p.returncode != 0:
        raise ScenarioFailed("ics-admin manager setup: exit %d: %s"
                             % (p.returncode, (p.stderr or p.stdout).strip()[-400:]))
    if again:           # idempotent: a second run changes nothing
        p = ctx.crm(argv[:-2] if "--admin-password-file" in argv else argv, check=False)
        changed = [x for x in p.stdout.splitlines()
                   if x.startswith(("created", "updated"))]
        if p.returncode != 0 or changed:
            raise ScenarioFailed("a second manager setup was not a no-op: exit %d, %s"
                                 % (p.returncode, changed or p.stderr.strip()[-200:]))
        ctx.info["setup_again"] = "unchanged"
        exercise_status_move(ctx)
    with open(pw) as f:
        return f.read().strip()


def admin_status(ctx):
    p = ctx.crm(["ics-admin", "manager", "status", "--json"], check=False)
    try:
        return p.returncode, json.loads(p.stdout)
    except ValueError:
        raise ScenarioFailed("ics-admin manager status --json: exit %d: %s"
                             % (p.returncode, (p.stderr or p.stdout).strip()[-200:]))


def exercise_status_move(ctx):
    """status says where it runs and that it answers on the VIP; move (to
    no named node) takes it elsewhere, waits until it answers there and
    leaves no move constraint."""
    rc, st = admin_status(ctx)
    if rc != 0 or not st["health"]["ok"] or st["lease"]["holder"] != st["node"]:
        raise ScenarioFailed("ics-admin manager status: exit %d: %s" % (rc, st))
    p = ctx.crm(["ics-admin", "manager", "move", "--timeout", "60"], check=False)
    to = p.stdout.strip()
    if p.returncode != 0 or to in ("", st["node"]):
        raise ScenarioFailed("ics-admin manager move: exit %d, %r: %s"
                             % (p.returncode, to, p.stderr.strip()[-300:]))
    rc, st2 = admin_status(ctx)
    left = [x for x in ctx.crm(["cibadmin", "-Q", "-o", "constraints"]).stdout.split('"')
            if x.startswith(("cli-prefer-" + GROUP, "cli-ban-" + GROUP))]
    if rc != 0 or st2["node"] != to or left:
        raise ScenarioFailed("after ics-admin manager move to %s: status %s, constraints %s"
                             % (to, st2, left))
    ctx.info["moved"] = "%s->%s" % (st["node"], to)


def remove_manager(ctx):
    """Stop the group (the daemon releases its lease), then delete it."""
    ctx.crm(["crm_resource", "--resource", GROUP, "--meta", "--set-parameter", "target-role",
             "--parameter-value", "Stopped"], check=False)
    try:
        ctx.wait(lambda: not ProcessTracked().active_on(ctx.lab, ctx.lab.nodes(), {}), 60,
                 "the manager to stop")
    finally:
        for tag, cid in (("rsc_location", GROUP + "-nodes"), ("rsc_colocation",
                                                                GROUP + "-colocation"),
                         ("rsc_order", GROUP + "-order")):
            ctx.crm(["cibadmin", "-D", "-o", "constraints", "-X",
                     '<%s id="%s"/>' % (tag, cid)], check=False)
        ctx.crm(["cibadmin", "-D", "-o", "resources", "-X", '<group id="%s"/>' % GROUP],
                check=False)
        ctx.crm(["crm_resource", "--cleanup", "--resource", GROUP], check=False)


def login(ctx, password):
    """A session token, through the VIP from the client namespace."""
    try:
        return api(ctx.lab, timeout=10, connect_timeout=5).login("admin", password)
    except (icsapi.ApiError,) + TRANSPORT_ERRORS as e:
        raise ScenarioFailed("login through the VIP failed: %s" % e)


def verify(ctx, token, writer):
    """Every acknowledged write is there, with what was written."""
    try:
        roles = api(ctx.lab, token, timeout=10, connect_timeout=5).get("/api/v1/roles")
    except (icsapi.ApiError,) + TRANSPORT_ERRORS as e:
        raise ScenarioFailed("listing the roles through the VIP failed: %s" % e)
    have = {r["name"]: r.get("description") for r in roles["items"]}
    lost = [n for n, d, _ in writer.acked if have.get(n) != d]
    return lost


def failed_starts(ctx):
    """Failed operations of the manager's primitives Pacemaker recorded."""
    return ctx.failed_ops(GROUP)


def observers_ready(ctx, holder, timeout=60):
    """The steady state a crash is measured from: every other node has
    joined the pool and watched the holder's current incarnation renew
    (its takeover check says "refuse-alive").  A node that joined after the
    holder died could not order that incarnation against its fencing and
    refuses the takeover -- safe, and measured separately: right after a
    reboot a node is not yet a candidate."""
    t = time.monotonic()
    for n in ctx.lab.nodes():
        if n != holder:
            seen = {}

            def alive():
                seen["v"] = takeover_verdict(ctx, n, why=True)
                return seen["v"].startswith("refuse-alive")
            ctx.wait(alive, timeout,
                     "%s to watch the manager's lease holder %s renew" % (n, holder),
                     last=lambda: seen.get("v", "no verdict yet"))
    ctx.info["observers_wait_s"] = round(time.monotonic() - t, 1)


def manager_node(ctx):
    w = ctx.sampler.where("ics-managerd")
    if len(w) != 1:
        raise ScenarioFailed("the manager runs on %s" % (w or "no node"))
    return w[0]


class _ManagerFault(Scenario):
    """Set up, write through the VIP, break the manager's node, measure."""
    timeout = 120
    warmup_writes = 20
    after_writes = 10

    def setup(self, ctx):
        self.password = setup_manager(ctx, again=getattr(self, "check_idempotent", False))
        self.token = login(ctx, self.password)
        self.run_id = uuidlib.uuid4().hex[:8]
        self.writer = Writers([Writer(api(ctx.lab, self.token), "%s-%d" % (self.run_id, i))
                               for i in range(WRITERS)])
        self.probe = HealthProbe(api(ctx.lab, timeout=2.0, connect_timeout=0.3))
        self.writer.start()
        self.probe.start()
        return [ProcessTracked(), storage.LeaseTracked(LEASE), VipTracked()]

    def break_node(self, ctx, node):
        """The fault itself: each scenario below defines it (abstract)."""
        raise NotImplementedError

    def fault(self, ctx):
        ctx.wait(lambda: self.writer.acked_count() >= self.warmup_writes, 60,
                 "%d acknowledged writes" % self.warmup_writes)
        if self.writer.failure:
            raise ScenarioFailed("writer: %s" % self.writer.failure)
        self.node = manager_node(ctx)
        observers_ready(ctx, self.node)
        self.acked_before = self.writer.acked_count()
        ctx.info["t_fault_wall"] = time.time()
        self.t0 = time.monotonic()
        self.break_node(ctx, self.node)

    def recovered(self, ctx):
        try:
            ctx.wait(lambda: self.probe.first_healthy_after(self.t0) is not None,
                     self.timeout, "the API to answer on the VIP again")
        except ScenarioFailed:
            ctx.info["probe"] = {"alive": self.probe.is_alive(),
                                 "last_error": self.probe.last_error,
                                 "changes": [(round(t - self.t0, 2), ok)
                                             for t, ok in self.probe.changes[-6:]]}
            raise
        t_back = self.probe.first_healthy_after(self.t0)
        ctx.info["api_back_s"] = round(t_back - self.t0, 2)
        ctx.wait(lambda: self.writer.acked_since(t_back) >= self.after_writes, 60,
                 "%d writes acknowledged after the failover" % self.after_writes)
        self.writer.stop()
        self.probe.stop()
        # Anywhere, the crashed node too: the lab's fencing reboots it at once.
        now_on = manager_node(ctx)
        failed = failed_starts(ctx)
        if failed:
            ctx.info["failed_starts"] = failed
        lost = verify(ctx, self.token, self.writer)
        ctx.info.update({"from": self.node, "to": now_on, "acked": len(self.writer.acked),
                         "acked_before_fault": self.acked_before,
                         "conn_errors": len(self.writer.conn_errors),
                         "wrong": len(self.writer.wrong), "lost": len(lost)})
        if self.writer.wrong:
            raise ScenarioFailed("wrong answers (not connection errors): %s"
                                 % self.writer.wrong[:3])
        if lost:
            raise ScenarioFailed("%d acknowledged writes lost, e.g. %s" % (len(lost), lost[:5]))

    def teardown(self, ctx):
        for t in (getattr(self, "writer", None), getattr(self, "probe", None)):
            if t:
                t.stop()

    def cleanup(self, ctx):
        remove_manager(ctx)


class ManagerNodeCrash(_ManagerFault):
    name = "manager-node-crash"
    description = "power off the manager's node under API writes: the API answers on the " \
                  "VIP from another node, no acknowledged write lost, no wrong answer"
    check_idempotent = True

    def break_node(self, ctx, node):
        ctx.lab.power_off(node)


class ManagerCableCut(_ManagerFault):
    name = "manager-cable-cut"
    description = "cut the manager node's cable under API writes: fenced, the API answers " \
                  "on the VIP from another node, no acknowledged write lost"

    def break_node(self, ctx, node):
        ctx.lab.cut(node)

    def teardown(self, ctx):
        super().teardown(ctx)
        if hasattr(self, "node"):
            ctx.lab.heal(self.node)


def takeover_verdict(ctx, node, why=False):
    """What `ics-lease takeover --dry-run` says about the manager's lease on
    `node` now (a verdict, with its reason when why, or why it cannot
    say)."""
    try:
        # a dry run that reaches the renewal watch lasts 10.5 s
        p = ctx.lab.node_run(node, ["ics-lease", "takeover", storage.POOL, LEASE,
                                    "--dry-run", "--json"], check=False, timeout=30)
    except icslab.LabError as e:
        return "n/a (%s)" % e
    try:
        j = json.loads(p.stdout)
        return "%s: %s" % (j["verdict"], j.get("reason")) if why else j["verdict"]
    except (ValueError, KeyError):
        err = (p.stderr or p.stdout).strip().splitlines()
        return "n/a (%s)" % (err[-1][:80] if err else "exit %d" % p.returncode)


class ManagerBothDownOneBack(_ManagerFault):
    """Both manager nodes go down at once; the third node alone has no
    quorum and does nothing.  The standby manager node comes back: with it
    the cluster has quorum again, fences the lost holder, and only then may
    the manager start -- the agent takes the lease over only from a host
    whose fencing Pacemaker confirmed.  While the node comes back, the
    scenario asks it every 0.3 s what a takeover of the lease would decide
    now, and checks that the lease was taken only after the holder's
    fencing completed."""
    name = "manager-both-down-one-back"
    description = "both manager nodes down, the standby one back: the manager starts there " \
                  "only once it may hold the lease (after the holder is fenced)"
    timeout = 150

    def break_node(self, ctx, node):
        self.standby = [n for n in MANAGER_NODES if n != node][0]
        ctx.lab.power_off(node)
        ctx.lab.power_off(self.standby)

    def recovered(self, ctx):
        time.sleep(3)                      # the survivor sees both gone (no quorum)
        c = ctx.cluster()
        ctx.info["survivor_quorum"] = bool(c and c["quorum"])
        if ctx.sampler.where("ics-managerd") or ctx.sampler.where(LEASE):
            raise ScenarioFailed("the manager or its lease is active with both manager "
                                 "nodes down")
        self.t_on = time.monotonic()
        t_on_wall = time.time()
        ctx.lab.power_on(self.standby)
        verdicts = []
        end = time.monotonic() + self.timeout
        while time.monotonic() < end and not ctx.sampler.where(LEASE):
            v = takeover_verdict(ctx, self.standby)
            if not verdicts or verdicts[-1][1] != v:
                verdicts.append((round(time.monotonic() - self.t_on, 1), v))
            time.sleep(0.3)
        ctx.info["verdicts_on_" + self.standby] = ["+%ss %s" % x for x in verdicts]
        ctx.wait(lambda: ctx.sampler.where(LEASE), 30, "the manager's lease held again")
        t_lease = time.monotonic()
        holder = ctx.sampler.where(LEASE)[0]
        fenced = [e for e in ctx.fence_events(t_on_wall - 5) if e.get("target") == self.node
                  and e.get("status") == "success"]
        if not fenced:
            raise ScenarioFailed("the lease is held on %s but %s's fencing is not on record"
                                 % (holder, self.node))
        ctx.info["holder_fenced"] = fenced[0].get("completed")
        ctx.info["lease_after_power_on_s"] = round(t_lease - self.t_on, 2)
        super().recovered(ctx)
        ctx.info["lease_on"] = holder

    def teardown(self, ctx):
        super().teardown(ctx)
        for n in MANAGER_NODES:
            if not ctx.lab.holder_pid(n):
                ctx.lab.power_on(n)


SCENARIOS = [ManagerNodeCrash, ManagerCableCut, ManagerBothDownOneBack]
