"""Storage scenarios: pools, disk leases and fence-aware takeover.

The shared pool of the lab is initialized once (ics-lease init) and run as
the clone `ics-pool-shared` of ocf:ics:pool on every node.  Leases are held
by `ics-lease hold POOL NAME -- sleep` processes inside nodes, standing in
for the VMs of the next issue.  The sampler asks every node's own sanlock
daemon which leases its processes hold; two nodes holding one lease at the
same moment breaks the invariant.
"""

import json
import os
import re
import subprocess
import threading
import time

import icslab
from ctslib.runner import Scenario, ScenarioFailed, Tracked

POOL = icslab.POOL_PATH
POOL_NAME = "shared"
LOCKSPACE = "ics-" + POOL_NAME
CLONE = "ics-pool-shared"
EXIT_BUSY = 3


class LeaseTracked(Tracked):
    """A lease: held on a node when that node's sanlock daemon says so."""
    cib = False

    def __init__(self, name, lockspace=None):
        super().__init__(name, "lease")
        self.lockspace = lockspace or LOCKSPACE

    # One `sanlock client status` per node serves every tracked lease of a
    # sample (with twelve VMs, asking per lease cost more than the guests).
    _scan_lock = threading.Lock()
    _scan = {"t": 0.0, "key": None, "out": {}}

    @classmethod
    def status(cls, lab, nodes, holders):
        """{node: `sanlock client status` text}, at most 50 ms old."""
        key = tuple((n, holders.get(n)) for n in nodes)
        with cls._scan_lock:
            if time.monotonic() - cls._scan["t"] < 0.05 and cls._scan["key"] == key:
                return cls._scan["out"]
            out = {}
            for n in nodes:
                if not holders.get(n):
                    continue
                p = icslab.run(["nsenter", "-t", str(holders[n]), "-m", "-u", "-n", "--",
                                "sanlock", "client", "status"], check=False, timeout=5)
                out[n] = p.stdout
            cls._scan.update(t=time.monotonic(), key=key, out=out)
            return out

    def active_on(self, lab, nodes, holders):
        out = []
        self.seen = {}
        for n, text in self.status(lab, nodes, holders).items():
            # "r LS:NAME:PATH:OFFSET:LVER p PID [ADD|REM|ORPHAN]" (sanlock's
            # client_cmd.c): ADD = an acquire still in progress (it may
            # fail), REM = a release in progress (its process gone, or an
            # acquire that failed being cleaned up): neither is a process
            # holding the lease.  ORPHAN (a lease kept without a process)
            # counts as held.
            for m in re.finditer(r"^r %s:%s:\S* p \d+(.*)$" % (re.escape(self.lockspace),
                                                               re.escape(self.rid)),
                                 text, re.M):
                self.seen.setdefault(n, []).append(m.group(0))
                if not {"ADD", "REM"} & set(m.group(1).split()):
                    out.append(n)
                    break
        return out

    def evidence(self):
        return "; ".join("%s: %s" % (n, " | ".join(lines))
                         for n, lines in sorted(getattr(self, "seen", {}).items()))


def pool_ready(ctx):
    """Initialize the shared pool once and run its clone on every node."""
    lab = ctx.lab
    st = lab.require_state()
    meta = os.path.join(st["pool"]["host_path"], ".ics", "pool.json")
    if not os.path.exists(meta):
        ctx.crm(["ics-lease", "init", POOL, "--name", POOL_NAME])
    with open(meta) as f:
        uuid = json.load(f)["uuid"]
    c = ctx.cluster()
    if CLONE + "-rsc" not in c["resources"]:
        x = ('<clone id="%(c)s"><meta_attributes id="%(c)s-meta">'
             '<nvpair id="%(c)s-interleave" name="interleave" value="true"/>'
             '<nvpair id="%(c)s-mt" name="migration-threshold" value="1"/>'
             '</meta_attributes>'
             '<primitive id="%(c)s-rsc" class="ocf" provider="ics" type="pool">'
             '<instance_attributes id="%(c)s-ia">'
             '<nvpair id="%(c)s-name" name="name" value="%(n)s"/>'
             '<nvpair id="%(c)s-path" name="path" value="%(p)s"/>'
             '<nvpair id="%(c)s-uuid" name="uuid" value="%(u)s"/>'
             '</instance_attributes><operations>'
             '<op id="%(c)s-start" name="start" interval="0" timeout="60s"/>'
             '<op id="%(c)s-stop" name="stop" interval="0" timeout="60s"/>'
             '<op id="%(c)s-mon" name="monitor" interval="5s" timeout="30s" on-fail="restart"/>'
             '</operations></primitive></clone>'
             % {"c": CLONE, "n": POOL_NAME, "p": POOL, "u": uuid})
        ctx.crm(["cibadmin", "-C", "-o", "resources", "-X", x])
    pool_everywhere(ctx, "the pool clone running on every node")
    return uuid


def pool_everywhere(ctx, what, timeout=120):
    """Until the pool clone runs on every node.  A node that lost the pool
    gets it back once its failure is cleared (migration-threshold=1 keeps it
    from retrying alone), as an operator would after mending the storage."""
    last_cleanup = [time.monotonic()]

    def ok():
        if set((ctx.cluster() or {}).get("resources", {}).get(CLONE + "-rsc", [])) \
                >= set(ctx.lab.nodes()):
            return True
        if time.monotonic() - last_cleanup[0] > 15:
            ctx.crm(["crm_resource", "--cleanup", "--resource", CLONE], check=False)
            last_cleanup[0] = time.monotonic()
        return False
    ctx.wait(ok, timeout, what)


class Holder:
    """`ics-lease hold` on a node: the process holds the lease while it lives."""

    def __init__(self, ctx, node, name, takeover=False, quorum=True, pool=POOL, extra=()):
        self.node, self.name = node, name
        ctx.crm(["ics-lease", "slot", "alloc", pool, name], node=node)
        argv = ctx.lab.nsenter(node) + ["ics-lease", "hold", pool, name]
        if takeover:
            argv.append("--takeover")
        argv += list(extra)
        if quorum:
            argv.append("--quorum")
        argv += ["--", "sleep", "3600"]
        self.p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, start_new_session=True)

    def refused(self, timeout=15):
        """Wait for the hold to end; returns (exit code, stderr) or None if still holding."""
        try:
            rc = self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            return None
        return rc, self.p.stderr.read().strip()

    def stop(self):
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait()


class _Lease(Scenario):
    lease = "cts-lease-1"

    def setup(self, ctx):
        pool_ready(ctx)
        self.holders = []
        self.a = ctx.any_node()
        h = self.hold(ctx, self.a, self.lease)
        r = h.refused(timeout=2)
        if r is not None:
            raise ScenarioFailed("%s could not hold %s: exit %d: %s" % (self.a, self.lease, r[0],
                                                                        r[1]))
        return [LeaseTracked(self.lease)]

    def hold(self, ctx, node, name, **kw):
        h = Holder(ctx, node, name, **kw)
        self.holders.append(h)
        return h

    def teardown(self, ctx):
        for h in self.holders:
            h.stop()

    def others(self, ctx, exclude):
        return [n for n in ctx.lab.nodes() if n not in exclude and ctx.lab.holder_pid(n)]

    def takeover_until_held(self, ctx, node, timeout):
        """What a recovering VM agent does: hold with --takeover until it works.
        A hold that is still running may be watching the owner's delta lease
        (10.5 s) or holding: it holds when the node's sanlock says so."""
        end = time.monotonic() + timeout
        tries = 0
        last = None
        while time.monotonic() < end:
            tries += 1
            h = self.hold(ctx, node, self.lease, takeover=True)
            while time.monotonic() < end:
                r = h.refused(timeout=0.2)
                if r is not None:
                    last = r
                    break
                if ctx.sampler.where(self.lease) == [node]:
                    ctx.info["takeover_tries"] = tries
                    return h
            time.sleep(0.2)
        raise ScenarioFailed("%s never got %s within %ds (last: %s)" % (node, self.lease,
                                                                       timeout, last))


class LeaseContention(_Lease):
    name = "lease-contention"
    description = "two hosts contend for one lease: the second is refused, naming the owner"

    def fault(self, ctx):
        self.b = self.others(ctx, (self.a,))[0]
        p = ctx.crm(["ics-lease", "acquire", POOL, self.lease], node=self.b, check=False)
        self.probe = (p.returncode, (p.stderr or p.stdout).strip())
        h = self.hold(ctx, self.b, self.lease, takeover=True)
        self.second = h.refused()
        # right after the pool started, b's daemon may not have read a's
        # heartbeat yet (refuse-unknown); once it has: refuse-alive
        self.verdicts = []
        end = time.monotonic() + 15
        while time.monotonic() < end:
            p = ctx.crm(["ics-lease", "takeover", POOL, self.lease, "--dry-run", "--json"],
                        node=self.b, check=False)
            try:
                v = json.loads(p.stdout)["verdict"]
            except (ValueError, KeyError):
                v = "unparsable: %r %r" % (p.stdout, p.stderr)
            self.verdicts.append(v)
            if v == "refuse-alive" or not v.startswith("refuse-"):
                break
            time.sleep(0.5)

    def recovered(self, ctx):
        rc, msg = self.probe
        if rc != EXIT_BUSY or self.a not in msg:
            raise ScenarioFailed("acquire on %s: exit %d %r, expected %d naming %s"
                                 % (self.b, rc, msg, EXIT_BUSY, self.a))
        if self.second is None or self.second[0] != EXIT_BUSY:
            raise ScenarioFailed("hold --takeover on %s was not refused: %s" % (self.b, self.second))
        v = self.verdicts[-1]
        if v != "refuse-alive" or any(not x.startswith("refuse-") for x in self.verdicts):
            raise ScenarioFailed("takeover verdicts on a live owner: %s" % self.verdicts)
        if ctx.sampler.where(self.lease) != [self.a]:
            raise ScenarioFailed("lease moved: %s" % ctx.sampler.where(self.lease))
        ctx.info.update({"owner": self.a, "refused": self.b, "verdict": v})


class LeaseCrashFenced(_Lease):
    name = "lease-crash"
    description = "the host holding a lease crashes: after fencing a survivor takes it at once"
    timeout = 60

    def fault(self, ctx):
        self.b = self.others(ctx, (self.a,))[0]
        self.t_off = time.time()
        ctx.lab.power_off(self.a)

    def recovered(self, ctx):
        self.takeover_until_held(ctx, self.b, self.timeout)
        ctx.wait(lambda: ctx.sampler.where(self.lease) == [self.b], 10,
                 "%s to hold the lease" % self.b)
        # when the sampler first saw b holding it (not when the retry loop noticed)
        with ctx.sampler.lock:
            t_mono = next(t for t, on in ctx.sampler.history[self.lease] if on == [self.b])
        t_held = time.time() - (time.monotonic() - t_mono)
        ev = [e for e in ctx.lab.power_events(self.a, since=self.t_off) if e["event"] == "on"]
        ctx.info.update({"from": self.a, "to": self.b})
        if ev:      # the reboot's power-on ends the fencing action
            ctx.info["held_after_fencing_s"] = round(t_held - ev[0]["t"], 2)


class LeaseCrashOff(LeaseCrashFenced):
    """The same with stonith-action=off, production's setting: the fenced
    host stays off, so nothing re-joins and frees its incarnation's leases
    (with reboot fencing the lab's host re-joins ~3 s after its power-on,
    which frees them first).  The survivor takes the lease through the
    whole path: the fencing done, the owner's delta lease standing still
    for the full renewal watch, freed in-process, then acquired."""
    name = "lease-crash-off"
    description = "stonith-action=off: the host holding a lease crashes and stays off; a " \
                  "survivor takes it after the renewal watch"

    def setup(self, ctx):
        tracked = super().setup(ctx)
        ctx.cluster_option("stonith-action", "off")
        return tracked

    def recovered(self, ctx):
        h = self.takeover_until_held(ctx, self.b, self.timeout)
        with ctx.sampler.lock:
            t_mono = next(t for t, on in ctx.sampler.history[self.lease] if on == [self.b])
        t_held = time.time() - (time.monotonic() - t_mono)
        # the crash is the first "off"; the fence agent's off of the dead node the next
        offs = [e for e in ctx.lab.power_events(self.a, since=self.t_off) if e["event"] == "off"]
        ctx.info.update({"from": self.a, "to": self.b})
        if len(offs) >= 2:
            ctx.info["held_after_fencing_s"] = round(t_held - offs[1]["t"], 2)
        if ctx.lab.holder_pid(self.a):
            raise ScenarioFailed("%s was powered on again: stonith-action=off not in effect"
                                 % self.a)
        out = h.p.stderr.readline() if h.p.stderr else ""
        ctx.info["takeover"] = out.strip()[:160]

    def teardown(self, ctx):
        super().teardown(ctx)
        ctx.cluster_option("stonith-action", None)
        ctx.lab.power_on(self.a)


class LeaseCrashUnfenced(_Lease):
    name = "lease-expiry"
    description = "no fencing (stonith disabled): takeover refused; the lease moves only " \
                  "after sanlock's expiry"
    timeout = 150

    def setup(self, ctx):
        tracked = super().setup(ctx)
        ctx.cluster_option("stonith-enabled", "false")
        return tracked

    def fault(self, ctx):
        self.b = self.others(ctx, (self.a,))[0]
        self.t_off = time.monotonic()
        ctx.lab.power_off(self.a)

    def recovered(self, ctx):
        # the survivor's pacemaker sees the node gone; nobody fences it
        ctx.wait(lambda: not (ctx.cluster(exclude=(self.a,)) or {"nodes": {}})["nodes"]
                 .get(self.a, {}).get("online", True), 30, "%s seen offline" % self.a)
        p = ctx.crm(["ics-lease", "takeover", POOL, self.lease, "--dry-run", "--json"],
                    node=self.b, check=False)
        try:
            v = json.loads(p.stdout)["verdict"].lower().replace("-", "_")
        except (ValueError, KeyError):
            raise ScenarioFailed("takeover --dry-run printed %r %r" % (p.stdout, p.stderr))
        if v == "allow":
            raise ScenarioFailed("takeover allowed without fencing")
        ctx.info["verdict_unfenced"] = v
        early = self.hold(ctx, self.b, self.lease, takeover=True).refused(timeout=2)
        if early is None:
            raise ScenarioFailed("%s got the lease without fencing before expiry" % self.b)
        self.takeover_until_held(ctx, self.b, self.timeout)
        ctx.info["held_after_crash_s"] = round(time.monotonic() - self.t_off, 1)
        ctx.info["from"], ctx.info["to"] = self.a, self.b

    def teardown(self, ctx):
        super().teardown(ctx)
        ctx.cluster_option("stonith-enabled", "true")
        ctx.lab.power_on(self.a)


class LeaseCableCut(_Lease):
    name = "lease-cable-cut"
    description = "the lease holder's cable is cut: it cannot take a new lease without " \
                  "quorum, is fenced, and a survivor takes its lease"
    timeout = 60

    def fault(self, ctx):
        self.b = self.others(ctx, (self.a,))[0]
        ctx.crm(["ics-lease", "slot", "alloc", POOL, "cts-lease-2"], node=self.a)
        ctx.lab.cut(self.a)
        # the isolated host, once it has lost quorum, must not get a new lease
        self.isolated_tries = []
        end = time.monotonic() + 10
        while time.monotonic() < end and ctx.lab.holder_pid(self.a):
            try:
                q = ctx.lab.node_run(self.a, ["corosync-quorumtool", "-s"], check=False,
                                     timeout=5)
            except icslab.LabError:
                break                          # fenced meanwhile
            if q.returncode == 0:              # still quorate: not isolated yet
                time.sleep(0.1)
                continue
            holder = ctx.lab.holder_pid(self.a)
            try:
                p = ctx.lab.node_run(self.a, ["ics-lease", "acquire", "--quorum", POOL,
                                              "cts-lease-2"], check=False, timeout=10)
            except icslab.LabError:
                break
            if p.returncode != 0 and ctx.lab.holder_pid(self.a) != holder:
                break       # fenced while trying: the attempt proves nothing either way
            self.isolated_tries.append((p.returncode, (p.stderr or "").strip()))
            break

    def recovered(self, ctx):
        for rc, msg in self.isolated_tries:
            if rc == 0:
                raise ScenarioFailed("the isolated %s acquired a lease without quorum" % self.a)
            if "quorate" not in msg:
                raise ScenarioFailed("the isolated %s was refused for another reason: %s"
                                     % (self.a, msg))
        ctx.info["isolated_refused"] = len(self.isolated_tries)
        self.takeover_until_held(ctx, self.b, self.timeout)
        ctx.wait(lambda: ctx.sampler.where(self.lease) == [self.b], 10,
                 "%s to hold the lease" % self.b)
        ctx.info.update({"from": self.a, "to": self.b})

    def teardown(self, ctx):
        super().teardown(ctx)
        ctx.lab.heal(self.a)


class PoolHeartbeatLoss(Scenario):
    name = "pool-soft-unmount"
    description = "one node loses its path to the pool: it drops that pool only, a " \
                  "dependent resource moves, the node is not fenced"
    timeout = 90
    rid = "cts-pool-user"

    def setup(self, ctx):
        pool_ready(ctx)
        self.tr = ctx.add_dummy(self.rid)
        for kind, x in (("order", '<rsc_order id="cts-pool-user-order" first="%s" then="%s"/>'
                         % (CLONE, self.rid)),
                        ("colocation", '<rsc_colocation id="cts-pool-user-col" rsc="%s" '
                         'with-rsc="%s" score="INFINITY"/>' % (self.rid, CLONE))):
            ctx.crm(["cibadmin", "-C", "-o", "constraints", "-X", x])
        return [self.tr]

    def fault(self, ctx):
        self.victim = ctx.sampler.where(self.rid)[0]
        self.holder_before = ctx.lab.holder_pid(self.victim)
        self.wall = time.time()
        ctx.lab.storage(self.victim, "eio")

    def recovered(self, ctx):
        ctx.info["from"] = self.victim
        ctx.info["to"] = ctx.wait_started(self.rid, self.timeout, not_on=(self.victim,))
        ctx.mark("recovered")
        c = ctx.cluster()
        on = c["resources"].get(CLONE + "-rsc", [])
        if self.victim in on:
            raise ScenarioFailed("pool still reported running on %s" % self.victim)
        if ctx.lab.holder_pid(self.victim) != self.holder_before:
            raise ScenarioFailed("%s was rebooted or fenced" % self.victim)
        if any(e["target"] == self.victim
               for e in ctx.fence_events(self.wall, exclude=(self.victim,))):
            raise ScenarioFailed("%s was fenced for a lost pool" % self.victim)
        others = [n for n in ctx.lab.nodes() if n != self.victim]
        if not set(others) <= set(on):
            raise ScenarioFailed("pool lost on healthy nodes too: running on %s" % on)
        ctx.info["not_fenced"] = self.victim

    def teardown(self, ctx):
        ctx.lab.heal(self.victim)
        for cid in ("cts-pool-user-order", "cts-pool-user-col"):
            ctx.crm(["cibadmin", "-D", "-o", "constraints", "-X",
                     '<rsc_order id="%s"/>' % cid if "order" in cid else
                     '<rsc_colocation id="%s"/>' % cid], check=False)
        ctx.crm(["crm_resource", "--cleanup", "--resource", CLONE], check=False)
        pool_everywhere(ctx, "the pool clone back on every node")


SCENARIOS = [LeaseContention, LeaseCrashFenced, LeaseCrashOff, LeaseCableCut, PoolHeartbeatLoss,
             LeaseCrashUnfenced]


class PoolBadInput(Scenario):
    name = "pool-bad-input"
    description = "refusals against live daemons: lockspace name clash, host id out of range, " \
                  "re-init over live leases, a path that is not the shared pool"
    clash = POOL + "/cts-clash"

    def setup(self, ctx):
        pool_ready(ctx)
        self.node = ctx.any_node()
        return []

    def run(self, ctx, argv):
        p = ctx.lab.node_run(self.node, argv, check=False, timeout=60)
        return p.returncode, (p.stderr or p.stdout).strip()

    def fault(self, ctx):
        n = self.node
        ctx.lab.node_run(n, ["mkdir", "-p", self.clash])
        self.results = {
            # a second pool that is also called "shared": same lockspace name
            "init-clash": self.run(ctx, ["ics-lease", "init", self.clash, "--name", POOL_NAME]),
            "join-clash": self.run(ctx, ["ics-lease", "join", self.clash]),
            "host-id": self.run(ctx, ["ics-lease", "join", POOL, "--host-id", "2001"]),
            "missing": self.run(ctx, ["ics-lease", "status", POOL + "/no-such-pool"]),
            "reinit-live": self.run(ctx, ["ics-lease", "init", POOL, "--name", POOL_NAME]),
            "agent-not-shared": self.run(ctx, [
                "env", "OCF_ROOT=/usr/lib/ocf", "OCF_RESOURCE_INSTANCE=cts-bad",
                "OCF_RESKEY_name=shared", "OCF_RESKEY_path=" + POOL,
                "OCF_RESKEY_uuid=00000000-0000-4000-8000-000000000000",
                "/usr/lib/ocf/resource.d/ics/pool", "start"]),
        }

    def recovered(self, ctx):
        want = {"join-clash": (3, "clash"), "host-id": (None, "2001"),
                "missing": (None, "no-such-pool"), "reinit-live": (3, "in use"),
                "agent-not-shared": (6, "uuid")}
        if self.results["init-clash"][0] != 0:
            raise ScenarioFailed("init of the clashing pool failed: %s" % (self.results["init-clash"],))
        for k, (rc, words) in want.items():
            got_rc, msg = self.results[k]
            if got_rc == 0 or (rc is not None and got_rc != rc) or words not in msg:
                raise ScenarioFailed("%s: exit %d %r, expected %s with %r" % (
                    k, got_rc, msg, rc if rc is not None else "an error", words))
        ctx.info["refusals"] = len(want)
        ctx.info["messages"] = {k: v[1] for k, v in self.results.items()}

    def teardown(self, ctx):
        ctx.lab.node_run(self.node, ["rm", "-rf", self.clash], check=False)


SCENARIOS.append(PoolBadInput)


def takeover_verdict(ctx, node, lease, pool=POOL, extra=()):
    """`ics-lease takeover --dry-run --json` on node: (verdict, reason)."""
    p = ctx.crm(["ics-lease", "takeover", pool, lease, "--dry-run", "--json"] + list(extra),
                node=node, check=False)
    try:
        j = json.loads(p.stdout)
        return j["verdict"], j["reason"]
    except (ValueError, KeyError):
        raise ScenarioFailed("takeover --dry-run on %s printed %r %r" % (node, p.stdout, p.stderr))


def forget_fencing(ctx, target):
    """Clear the fencer's history of target.  A scenario that leaves a manual
    confirmation, an unfencing or a failed fencing of a node as its newest
    record changes every later takeover verdict about that node's live
    incarnations (refuse-manual, refuse-not-confirmed instead of
    refuse-alive): the manager scenarios, which wait for refuse-alive as
    the steady state, then time out whenever the manager runs there."""
    ctx.crm(["stonith_admin", "--history", target, "--cleanup"], check=False)


def fence_history(ctx, node, target):
    """The fencer's history of target as node sees it (stonith_admin's text)."""
    p = ctx.crm(["stonith_admin", "--history", target, "--verbose"], node=node, check=False)
    return (p.stdout or "") + (p.stderr or "")


class _HoleScenario(_Lease):
    """Issue 24's holes: a record that is not a device's fencing of a dead
    host, while the holder is alive and renewing.  The other node tries to
    take the lease the way a recovering VM would, for longer than the
    renewal watch, and must never hold it beside the live holder (the
    sampler reads both nodes' sanlock every 100 ms)."""
    attempts_s = 8

    def try_takeover(self, ctx, extra=()):
        end = time.monotonic() + self.attempts_s
        tries = []
        while time.monotonic() < end:
            h = self.hold(ctx, self.b, self.lease, takeover=True, extra=extra)
            r = h.refused(timeout=30)     # a renewal watch lasts 10.5 s
            if r is None:
                raise ScenarioFailed("%s took the lease from the live %s" % (self.b, self.a))
            tries.append(r)
        return tries

    def teardown(self, ctx):
        super().teardown(ctx)
        if getattr(self, "a", None):
            forget_fencing(ctx, self.a)


class LeaseUnfence(_HoleScenario):
    name = "lease-unfence"
    description = "an unfencing record ('on') of the live lease holder: no takeover"

    def fault(self, ctx):
        self.b = self.others(ctx, (self.a,))[0]
        self.wall = time.time()
        p = ctx.crm(["stonith_admin", "--unfence", self.a, "--timeout", "30"], node=self.b,
                    check=False)
        self.unfence = (p.returncode, (p.stderr or p.stdout).strip())

    def recovered(self, ctx):
        hist = fence_history(ctx, self.b, self.a)
        # stonith_admin words an "on" as "unfencing"
        if not re.search(r"\b(on|unfencing) of %s successful" % re.escape(self.a), hist):
            raise ScenarioFailed("no successful 'on' of %s in the history (stonith_admin "
                                 "--unfence: %s): %s" % (self.a, self.unfence, hist[-300:]))
        tries = self.try_takeover(ctx)
        v, why = takeover_verdict(ctx, self.b, self.lease)
        if v == "allow" or not v.startswith("refuse-"):
            raise ScenarioFailed("takeover after an unfencing: %s (%s)" % (v, why))
        ctx.info.update({"holder": self.a, "verdict": v, "refused_tries": len(tries)})


class LeaseManualConfirm(_HoleScenario):
    name = "lease-manual-confirm"
    description = "stonith_admin --confirm of the live, renewing lease holder: refused as " \
                  "manual, and with the operator's override the renewal watch refuses"

    def fault(self, ctx):
        self.b = self.others(ctx, (self.a,))[0]
        p = ctx.crm(["stonith_admin", "--confirm", self.a, "--timeout", "30"], node=self.b,
                    check=False)
        self.confirm = (p.returncode, (p.stderr or p.stdout).strip())

    def recovered(self, ctx):
        hist = fence_history(ctx, self.b, self.a)
        # Pacemaker 2.1 records a manual confirmation as an "off" by "a human"
        # (stonith_admin words an "off" as "turning off")
        if not re.search(r"\b(off|turning off) of %s successful: delegate=a human"
                         % re.escape(self.a), hist):
            raise ScenarioFailed("the confirmation is not in the history as expected "
                                 "(stonith_admin --confirm: %s): %s" % (self.confirm,
                                                                      hist[-300:]))
        tries = self.try_takeover(ctx)
        v, why = takeover_verdict(ctx, self.b, self.lease)
        if v != "refuse-manual" or "MANUAL" not in why:
            raise ScenarioFailed("takeover after a manual confirmation: %s (%s)" % (v, why))
        tries += self.try_takeover(ctx, extra=["--accept-manual-fencing"])
        v2, why2 = takeover_verdict(ctx, self.b, self.lease, extra=["--accept-manual-fencing"])
        if v2 != "refuse-renewing" or "MANUAL" not in why2:
            raise ScenarioFailed("with the override, against a renewing holder: %s (%s)"
                                 % (v2, why2))
        ctx.info.update({"holder": self.a, "verdict": v, "verdict_override": v2,
                         "refused_tries": len(tries)})

    def teardown(self, ctx):
        super().teardown(ctx)
        # the confirmed node's controller learnt it was "fenced" and stopped
        # Pacemaker there: power-cycle it as an operator would
        ctx.lab.power_off(self.a)
        ctx.lab.power_on(self.a)


class _DeltaGaps(threading.Thread):
    """Reads one host's delta lease straight from the shared pool (host side,
    O_DIRECT, every 50 ms) and records the gaps between the renewals it
    sees: what a renewal watch on another host would see."""

    def __init__(self, ids_path, host_id):
        super().__init__(daemon=True)
        self.ids, self.off = ids_path, (host_id - 1) * 512
        self.stop_evt = threading.Event()
        self.gaps = []

    def run(self):
        import mmap
        buf = mmap.mmap(-1, 4096)
        fd = os.open(self.ids, os.O_RDONLY | os.O_DIRECT)
        last, t_last = None, None
        try:
            while not self.stop_evt.is_set():
                os.preadv(fd, [memoryview(buf)[:512]], self.off)
                now, cur = time.monotonic(), bytes(buf[:512])
                if cur != last:
                    if last is not None:
                        self.gaps.append(now - t_last)
                    last, t_last = cur, now
                time.sleep(0.05)
        finally:
            os.close(fd)

    def stop(self):
        self.stop_evt.set()
        self.join(5)


class LeaseSlowRenewal(_HoleScenario):
    """Review finding 1: a live lease holder whose path to the pool stalls
    about 0.8 s at a time renews its delta lease late (measured gaps up to
    3.3 s, never a renewal error), longer than the old 3 s renewal watch.
    With its fencing confirmed by hand and the operator's override accepted,
    the other node keeps trying to take the lease over while the stalls go
    on; every attempt must be refused (the watch now lasts sanlock's own
    failing bound, 10.5 s), and the sampler must never see two holders.
    The stalls are a bounded loop of the lab's fault injector (hang 0.8 s,
    ok 0.4 s); the holder must still hold its lease at the end (its own
    sanlock never saw a failure)."""
    name = "lease-slow-renewal"
    description = "a live holder whose storage stalls 0.8 s at a time, its fencing " \
                  "confirmed by hand with the override: every takeover refused, never two " \
                  "holders"
    flap_s = 36
    hang_s, ok_s = 0.8, 0.4

    def flap(self, ctx):
        end = time.monotonic() + self.flap_s
        self.flaps = 0
        try:
            while time.monotonic() < end and not self.flap_stop.is_set():
                ctx.lab.storage(self.a, "hang")
                time.sleep(self.hang_s)
                ctx.lab.storage(self.a, "ok")
                time.sleep(self.ok_s)
                self.flaps += 1
        finally:
            ctx.lab.storage(self.a, "ok")

    def fault(self, ctx):
        self.b = self.others(ctx, (self.a,))[0]
        host_id = int(ctx.crm(["crm_node", "-i"], node=self.a).stdout.strip())
        ids = os.path.join(ctx.lab.require_state()["pool"]["host_path"], ".ics", "ids")
        self.gaps = _DeltaGaps(ids, host_id)
        self.gaps.start()
        p = ctx.crm(["stonith_admin", "--confirm", self.a, "--timeout", "30"], node=self.b,
                    check=False)
        self.confirm = (p.returncode, (p.stderr or p.stdout).strip())
        self.flap_stop = threading.Event()
        self.flapper = threading.Thread(target=self.flap, args=(ctx,), daemon=True)
        self.flapper.start()

    def recovered(self, ctx):
        verdicts = {}
        end = time.monotonic() + self.flap_s - 2
        while time.monotonic() < end:
            h = self.hold(ctx, self.b, self.lease, takeover=True,
                          extra=["--accept-manual-fencing"])
            r = h.refused(timeout=30)
            if r is None:
                raise ScenarioFailed("%s took the lease from the live %s (storage stalling)"
                                     % (self.b, self.a))
            m = re.search(r"refused \(([\w-]+)\)|takeover: ([\w-]+):", r[1])
            v = (m.group(1) or m.group(2)) if m else "exit %d: %s" % (r[0], r[1][-120:])
            verdicts[v] = verdicts.get(v, 0) + 1
        self.flapper.join(self.flap_s + 10)
        self.gaps.stop()
        if sum(verdicts.values()) < 2:
            raise ScenarioFailed("only %s takeover attempt(s) during the stalls" % verdicts)
        if any(v.startswith("allow") or v.startswith("not-needed") for v in verdicts):
            raise ScenarioFailed("takeover against the live holder: %s" % verdicts)
        holder = self.holders[0]
        if holder.p.poll() is not None:
            raise ScenarioFailed("the holder on %s lost its lease during the stalls (exit %s): "
                                 "the stalls were longer than sanlock tolerates, the test "
                                 "proves nothing" % (self.a, holder.p.returncode))
        ctx.info.update({"holder": self.a, "verdicts": verdicts, "flaps": self.flaps,
                         "max_renewal_gap_s": round(max(self.gaps.gaps or [0]), 2),
                         "renewals_seen": len(self.gaps.gaps)})

    def teardown(self, ctx):
        if getattr(self, "flap_stop", None):
            self.flap_stop.set()
            self.flapper.join(5)
        ctx.lab.storage(self.a, "ok")
        if getattr(self, "gaps", None):
            self.gaps.stop()
        super().teardown(ctx)
        # the confirmed node's controller stopped Pacemaker there: power-cycle it
        ctx.lab.power_off(self.a)
        ctx.lab.power_on(self.a)


POOL2 = POOL + "/cts-p2"
POOL2_NAME = "p2"
CLONE2 = "ics-pool-p2"
POOL3 = POOL + "/cts-p3"


class StorageFenceUnlisted(_Lease):
    """Hole 3: storage fencing configured with pools= naming one pool, the
    target holding a lease on another.  The listed pool is one the target
    never joined (and no node runs: not in the CIB), so an agent that looked
    only at pools= would find the target holding nothing anywhere it looked
    and declare it fenced.  The pool set now comes from the CIB: the agent
    must look at the unlisted pools, find the target alive there, and fail;
    the takeover there is refused."""
    name = "storage-fence-unlisted"
    description = "storage fencing whose pools= omits the pool where the live target holds " \
                  "a lease: the CIB's pool is proven too, fencing fails, no takeover"
    lease = "cts-lease-p2"
    device = "cts-storage-fence"

    def setup(self, ctx):
        pool_ready(ctx)
        host = ctx.lab.require_state()["pool"]["host_path"]
        if not os.path.exists(os.path.join(host, "cts-p2", ".ics", "pool.json")):
            ctx.crm(["mkdir", "-p", POOL2])
            ctx.crm(["ics-lease", "init", POOL2, "--name", POOL2_NAME])
        with open(os.path.join(host, "cts-p2", ".ics", "pool.json")) as f:
            uuid = json.load(f)["uuid"]
        x = ('<clone id="%(c)s"><meta_attributes id="%(c)s-meta">'
             '<nvpair id="%(c)s-interleave" name="interleave" value="true"/>'
             '</meta_attributes>'
             '<primitive id="%(c)s-rsc" class="ocf" provider="ics" type="pool">'
             '<instance_attributes id="%(c)s-ia">'
             '<nvpair id="%(c)s-name" name="name" value="%(n)s"/>'
             '<nvpair id="%(c)s-path" name="path" value="%(p)s"/>'
             '<nvpair id="%(c)s-uuid" name="uuid" value="%(u)s"/>'
             '</instance_attributes><operations>'
             '<op id="%(c)s-mon" name="monitor" interval="5s" timeout="30s"/>'
             '</operations></primitive></clone>'
             % {"c": CLONE2, "n": POOL2_NAME, "p": POOL2, "u": uuid})
        ctx.crm(["cibadmin", "-C", "-o", "resources", "-X", x], check=False)
        ctx.wait(lambda: set((ctx.cluster() or {}).get("resources", {}).get(CLONE2 + "-rsc", []))
                 >= set(ctx.lab.nodes()), 60, "the second pool on every node")
        # the pool the device lists: initialized, joined by no node, not in the CIB
        if not os.path.exists(os.path.join(host, "cts-p3", ".ics", "pool.json")):
            ctx.crm(["mkdir", "-p", POOL3])
            ctx.crm(["ics-lease", "init", POOL3, "--name", "p3"])
        self.holders = []
        self.a = ctx.any_node()
        h = self.hold(ctx, self.a, self.lease, pool=POOL2)
        if h.refused(timeout=2) is not None:
            raise ScenarioFailed("%s could not hold %s on %s" % (self.a, self.lease, POOL2))
        return [LeaseTracked(self.lease, "ics-" + POOL2_NAME)]

    def fault(self, ctx):
        self.b = self.others(ctx, (self.a,))[0]
        # the device as the old documentation configured it: one pool listed,
        # one where the target holds nothing
        x = ('<primitive id="%(d)s" class="stonith" type="fence_ics_storage">'
             '<instance_attributes id="%(d)s-ia">'
             '<nvpair id="%(d)s-pools" name="pools" value="%(p)s"/>'
             '<nvpair id="%(d)s-wait" name="wait" value="no"/>'
             '<nvpair id="%(d)s-wd" name="unsafe_no_watchdog" value="yes"/>'
             '<nvpair id="%(d)s-hl" name="pcmk_host_list" value="%(a)s"/>'
             '<nvpair id="%(d)s-hc" name="pcmk_host_check" value="static-list"/>'
             '</instance_attributes></primitive>' % {"d": self.device, "p": POOL3, "a": self.a})
        ctx.crm(["cibadmin", "-C", "-o", "resources", "-X", x])
        # storage fencing is the only level for the target (in the CIB, so
        # every node's fencer has it and its removal reaches them all)
        ctx.crm(["cibadmin", "-C", "-o", "configuration", "-X",
                 '<fencing-topology><fencing-level id="cts-fl-%s" target="%s" index="1" '
                 'devices="%s"/></fencing-topology>' % (self.a, self.a, self.device)])
        self.wall = time.time()
        p = ctx.crm(["stonith_admin", "--fence", self.a, "--timeout", "30"], node=self.b,
                    check=False)
        self.fence = (p.returncode, (p.stderr or p.stdout).strip())

    def recovered(self, ctx):
        if self.fence[0] == 0:
            raise ScenarioFailed("storage fencing of the live %s succeeded: %s"
                                 % (self.a, self.fence[1]))
        # the agent's own answer, from a node of the cluster, with the same device
        p = ctx.crm(["sh", "-c", "printf 'action=off\\nport=%s\\npools=%s\\nwait=no\\n"
                     "unsafe_no_watchdog=yes\\n' | fence_ics_storage" % (self.a, POOL3)],
                    node=self.b, check=False)
        msg = (p.stderr or p.stdout).strip()
        if p.returncode == 0 or POOL2 not in msg:
            raise ScenarioFailed("fence_ics_storage did not prove the unlisted pool %s: "
                                 "exit %d: %s" % (POOL2, p.returncode, msg))
        v, why = takeover_verdict(ctx, self.b, self.lease, pool=POOL2)
        if not v.startswith("refuse-"):
            raise ScenarioFailed("takeover on %s after the failed fencing: %s (%s)"
                                 % (POOL2, v, why))
        h = self.hold(ctx, self.b, self.lease, takeover=True, pool=POOL2)
        if h.refused(timeout=10) is None:
            raise ScenarioFailed("%s took the lease from the live %s" % (self.b, self.a))
        ctx.info.update({"holder": self.a, "agent": msg[-160:], "verdict": v})

    def teardown(self, ctx):
        super().teardown(ctx)
        ctx.crm(["cibadmin", "-D", "-o", "configuration", "-X",
                 '<fencing-level id="cts-fl-%s"/>' % self.a], check=False)
        ctx.crm(["cibadmin", "-D", "-o", "resources", "-X",
                 '<primitive id="%s"/>' % self.device], check=False)
        ctx.crm(["crm_resource", "--resource", CLONE2, "--meta", "--set-parameter",
                 "target-role", "--parameter-value", "Stopped"], check=False)
        ctx.wait(lambda: not (ctx.cluster() or {}).get("resources", {}).get(CLONE2 + "-rsc"),
                 60, "the second pool stopped")
        ctx.crm(["cibadmin", "-D", "-o", "resources", "-X", '<clone id="%s"/>' % CLONE2],
                check=False)


SCENARIOS += [LeaseUnfence, LeaseManualConfirm, LeaseSlowRenewal, StorageFenceUnlisted]
