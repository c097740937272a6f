"""The CTS runner: scenarios as code on a real lab cluster.

A scenario is a small class: `setup` puts resources on the cluster, `fault`
breaks something real (power, cable, partition), `recovered` says when the
cluster is back to what the scenario promises, `teardown` undoes the fault.
While a scenario runs, a sampler thread looks every 100 ms at what is REALLY
active on each node -- not at what Pacemaker believes: a Dummy's state file
in the node's private /run, a floating address configured in the node's
network namespace -- and records every moment at which one resource was
active on two nodes.  After the scenario the cluster must be whole again:
every node online, one DC, quorum, no node unclean.

Timing is measured from the fault to the first sample at which the promise
holds, and is reported (JSON and a table); pass/fail depends only on the
invariants and on generous recovery bounds, never on a timing target --
targets are the benchmarks' business (bench/).
"""

import calendar
import json
import os
import re
import sys
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lab"))
import icslab  # noqa: E402

SAMPLE_INTERVAL = 0.1


class ScenarioFailed(Exception):
    pass


def required():
    """ICS_CTS_REQUIRED set (CI): a scenario that cannot run fails instead
    of being skipped, so a missing dependency cannot hide a failure."""
    return os.environ.get("ICS_CTS_REQUIRED", "") not in ("", "0")


class Tracked:
    """A resource whose real activity the sampler checks on every node."""

    cib = True      # a Pacemaker resource, removed from the CIB after the scenario

    def __init__(self, rid, kind, addr=None):
        self.rid, self.kind, self.addr = rid, kind, addr

    def evidence(self):
        """What the last active_on() saw, for the record of a violation
        (None: nothing more than the node names)."""
        return None

    def active_on(self, lab, nodes, holders):
        out = []
        for n in nodes:
            if self.kind == "dummy":
                pid = holders.get(n)
                if pid and os.path.exists("/proc/%d/root/run/Dummy-%s.state" % (pid, self.rid)):
                    out.append(n)
            elif self.kind == "ip":
                p = icslab.run(["ip", "-n", lab.node_ns(n), "-o", "-4", "addr", "show"],
                               check=False)
                if re.search(r"inet %s/" % re.escape(self.addr), p.stdout):
                    out.append(n)
        return out


class Sampler(threading.Thread):
    """Samples real resource activity every 100 ms until stopped."""

    def __init__(self, lab, tracked):
        super().__init__(daemon=True)
        self.lab, self.tracked = lab, tracked
        self.nodes = lab.nodes()
        self.stop_evt = threading.Event()
        self.lock = threading.Lock()
        self.samples = 0
        self.violations = []         # (time, rid, nodes, evidence)
        self.latest = {t.rid: [] for t in tracked}
        self.history = {t.rid: [] for t in tracked}   # (time, nodes) on change
        self.errors = []

    def run(self):
        while not self.stop_evt.is_set():
            t = time.monotonic()
            try:
                holders = {n: self.lab.holder_pid(n) for n in self.nodes}
                for tr in self.tracked:
                    on = tr.active_on(self.lab, self.nodes, holders)
                    with self.lock:
                        if len(on) > 1:
                            self.violations.append((t, tr.rid, on, tr.evidence()))
                        if on != self.latest[tr.rid]:
                            self.history[tr.rid].append((t, on))
                        self.latest[tr.rid] = on
                with self.lock:
                    self.samples += 1
            except Exception as e:      # a sampling error must not end sampling
                self.errors.append(repr(e))
            self.stop_evt.wait(max(0.0, SAMPLE_INTERVAL - (time.monotonic() - t)))

    def where(self, rid):
        with self.lock:
            return list(self.latest[rid])

    def stop(self):
        self.stop_evt.set()
        self.join(5)


class Context:
    """What a scenario sees: the lab, the sampler, helpers and a timeline."""

    def __init__(self, lab, artifacts=None):
        self.lab = lab
        self.artifacts = artifacts    # this scenario's directory for files it keeps
        self.sampler = None
        self.t0 = None
        self.marks = {}
        self.info = {}

    # -- cluster helpers -------------------------------------------------
    def any_node(self, exclude=()):
        for n in self.lab.nodes():
            if n not in exclude and self.lab.holder_pid(n):
                return n
        raise ScenarioFailed("no powered-on node")

    def cluster(self, exclude=()):
        for n in self.lab.nodes():
            if n in exclude or not self.lab.holder_pid(n):
                continue
            c = self.lab.cluster(via=n)
            if c:
                return c
        return None

    def crm(self, argv, node=None, check=True):
        return self.lab.node_run(node or self.any_node(), argv, check=check, timeout=30)

    def cluster_option(self, name, value=None, timeout=30):
        """Set the cluster property @name to @value, or delete it (None), and
        read it back until it is so: a teardown's delete that failed
        unnoticed once left stonith-action=off behind, and every scenario
        after it found its fenced node kept off."""
        def now():
            p = self.crm(["crm_attribute", "--type", "crm_config", "--name", name, "--query",
                          "--quiet"], check=False)
            return p.stdout.strip() if p.returncode == 0 else None
        end = time.monotonic() + timeout
        while True:
            try:
                if now() == value:
                    return
            except icslab.LabError:
                pass
            if time.monotonic() > end:
                raise ScenarioFailed("cluster property %s is not %s after %ds" % (
                    name, "unset" if value is None else "'%s'" % value, timeout))
            op = ["--delete"] if value is None else ["--update", value]
            try:
                self.crm(["crm_attribute", "--type", "crm_config", "--name", name] + op,
                         check=False)
            except icslab.LabError:
                pass
            time.sleep(0.5)

    def add_dummy(self, rid, prefer=None):
        x = ('<primitive id="%s" class="ocf" provider="pacemaker" type="Dummy">'
             '<operations><op id="%s-mon" name="monitor" interval="2s" timeout="20s"/>'
             '</operations></primitive>' % (rid, rid))
        self.crm(["cibadmin", "-C", "-o", "resources", "-X", x])
        if prefer:
            self.prefer(rid, prefer)
        return Tracked(rid, "dummy")

    def add_vip(self, rid, addr, prefer=None):
        x = ('<primitive id="%s" class="ocf" provider="heartbeat" type="IPaddr2">'
             '<instance_attributes id="%s-ia">'
             '<nvpair id="%s-ip" name="ip" value="%s"/>'
             '<nvpair id="%s-mask" name="cidr_netmask" value="24"/>'
             '<nvpair id="%s-nic" name="nic" value="eth0"/>'
             '</instance_attributes>'
             '<operations><op id="%s-mon" name="monitor" interval="2s" timeout="20s"/>'
             '</operations></primitive>' % ((rid,) * 3 + (addr,) + (rid,) * 3))
        self.crm(["cibadmin", "-C", "-o", "resources", "-X", x])
        if prefer:
            self.prefer(rid, prefer)
        return Tracked(rid, "ip", addr)

    def prefer(self, rid, node):
        x = ('<rsc_location id="cts-prefer-%s" rsc="%s" node="%s" score="50"/>'
             % (rid, rid, node))
        self.crm(["cibadmin", "-C", "-o", "constraints", "-X", x])

    def remove_resource(self, rid):
        n = self.any_node()
        self.crm(["cibadmin", "-D", "-o", "constraints", "-X",
                  '<rsc_location id="cts-prefer-%s"/>' % rid], node=n, check=False)
        self.crm(["crm_resource", "--resource", rid, "--set-parameter", "target-role",
                  "--meta", "--parameter-value", "Stopped"], node=n, check=False)
        self.wait(lambda: not self.sampler_or_truth(rid), 60, "%s to stop" % rid)
        self.crm(["cibadmin", "-D", "-o", "resources", "-X", '<primitive id="%s"/>' % rid],
                 node=n, check=False)
        self.crm(["crm_resource", "--cleanup", "--resource", rid], node=n, check=False)

    def sampler_or_truth(self, rid):
        return self.sampler.where(rid) if self.sampler else []

    def wait(self, pred, timeout, what, last=None):
        """Until pred() is true; on timeout the failure says what was
        awaited and, when given, what last() says the state was."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                if pred():
                    return time.monotonic()
            except icslab.LabError:
                pass
            time.sleep(0.1)
        state = ""
        if last is not None:
            try:
                state = " (last: %s)" % last()
            except icslab.LabError as e:
                state = " (last: %s)" % e
        raise ScenarioFailed("timed out after %ds waiting for %s%s" % (timeout, what, state))

    def failed_ops(self, prefix):
        """Failed operations Pacemaker recorded for resources whose id starts
        with prefix: "op_key status on node: exit reason"."""
        import xml.etree.ElementTree as ET
        try:
            p = self.crm(["crm_mon", "-1", "--output-as=xml"], check=False)
            root = ET.fromstring(p.stdout)
        except (icslab.LabError, ET.ParseError):
            return []
        return ["%s %s on %s: %s" % (f.get("op_key"), f.get("status"), f.get("node"),
                                     (f.get("exitreason") or "")[:600])
                for f in root.iter("failure") if f.get("op_key", "").startswith(prefix)]

    def wait_started(self, rid, timeout=60, not_on=()):
        """Until the resource is really active on exactly one node (not in not_on)."""
        def ok():
            w = self.sampler.where(rid)
            return len(w) == 1 and w[0] not in not_on
        self.wait(ok, timeout, "%s to run%s" % (rid, " off " + ",".join(not_on) if not_on else ""))
        return self.sampler.where(rid)[0]

    def cluster_whole(self):
        """Every node, asked itself, sees all nodes online, quorum and the same DC."""
        dcs = set()
        for x in self.lab.nodes():
            c = self.lab.cluster(via=x) if self.lab.holder_pid(x) else None
            if not c or not c["dc"] or not c["quorum"]:
                return False
            nodes = c["nodes"]
            if not all(nodes.get(n, {}).get("online") and not nodes[n].get("unclean")
                       for n in self.lab.nodes()):
                return False
            dcs.add(c["dc"])
        return len(dcs) == 1

    def wait_whole(self, timeout=90):
        since = time.time()
        try:
            return self.wait(self.cluster_whole, timeout, "the whole cluster online with a DC")
        except ScenarioFailed as e:
            raise ScenarioFailed("%s (%s)" % (e, self.whole_report(since - timeout))) from None

    def whole_report(self, since_wall):
        """Why the cluster is not whole, in one line: each node's power, daemons
        and view, and the lab's power events since `since_wall` (a fence loop
        shows as repeated off/on)."""
        parts = []
        for x in self.lab.nodes():
            if not self.lab.holder_pid(x):
                parts.append("%s: off" % x)
                continue
            missing = [d for d in ("corosync", "pacemakerd")
                       if d not in self.lab.daemons(x)]
            try:
                c = self.lab.cluster(via=x)
            except icslab.LabError as err:
                c, missing = None, missing + ["crm_mon: %s" % err]
            if not c:
                parts.append("%s: no crm_mon answer%s" % (
                    x, " (no %s)" % ",".join(missing) if missing else ""))
                continue
            bad = ["%s %s" % (n, "unclean" if v.get("unclean") else "offline")
                   for n, v in sorted(c["nodes"].items())
                   if not v.get("online") or v.get("unclean")]
            parts.append("%s: dc=%s quorum=%s%s%s" % (
                x, c["dc"] or "-", "yes" if c["quorum"] else "no",
                " sees " + ", ".join(bad) if bad else "",
                " (no %s)" % ",".join(missing) if missing else ""))
        evs = self.lab.power_events(since=since_wall)
        if evs:
            parts.append("power: " + " ".join("%s %s@%+.0fs" % (e["node"], e["event"],
                                                              e["t"] - time.time())
                                             for e in evs[-8:]))
        return "; ".join(parts)

    def artifact_dir(self):
        """The directory where this scenario leaves files for the reader of
        its result (screenshots, logs), created on first use."""
        if not self.artifacts:
            raise ScenarioFailed("no artifact directory (ics-cts --artifacts)")
        os.makedirs(self.artifacts, exist_ok=True)
        return self.artifacts

    def mark(self, name):
        self.marks[name] = time.monotonic()
        return self.marks[name]

    def fence_events(self, since_wall, exclude=()):
        """Fencing actions completed since a wall-clock time (stonith history),
        as a node not in `exclude` (the victim's own view may be partial) sees it."""
        c = None
        for n in self.lab.nodes():
            if n not in exclude and self.lab.holder_pid(n):
                p = self.lab.node_run(n, ["crm_mon", "-1", "--output-as=xml", "--fence-history=2"],
                                      check=False, timeout=10)
                if p.returncode == 0:
                    c = p.stdout
                    break
        if not c:
            return []
        import xml.etree.ElementTree as ET
        out = []
        for ev in ET.fromstring(c).iter("fence_event"):
            out.append({k: ev.get(k) for k in ("action", "target", "status", "delegate",
                                               "completed")})
        return [e for e in out if e.get("completed") and
                calendar.timegm(time.strptime(e["completed"][:19], "%Y-%m-%d %H:%M:%S"))
                >= since_wall - 1]


class Scenario:
    """Subclass and fill in.  `timeout` bounds recovery (generously)."""
    name = "scenario"
    description = ""
    timeout = 60
    tracked = ()

    @classmethod
    def skip_reason(cls):
        """Why this scenario cannot run on this machine (a missing program or
        build product), or None.  Asked before the lab is touched."""
        return None

    def setup(self, ctx):
        raise NotImplementedError

    def fault(self, ctx):
        raise NotImplementedError

    def recovered(self, ctx):
        raise NotImplementedError

    def teardown(self, ctx):
        pass


# Cluster properties some scenarios change, as the lab sets them (None:
# unset, Pacemaker's default).
LAB_OPTIONS = {"stonith-action": None, "stonith-enabled": "true"}


def ensure_clean(lab, ctx):
    """Before a scenario: all nodes on, network healed, cluster whole, the
    lab's cluster properties as the lab sets them."""
    for n in lab.nodes():
        if not lab.holder_pid(n):
            lab.power_on(n)
    lab.heal()
    ctx.wait_whole(120)
    for name, value in LAB_OPTIONS.items():
        ctx.cluster_option(name, value)


def run_scenario(lab, scen, artifacts=None):
    """Run one scenario; @artifacts is the parent of the per-scenario
    directories of kept files (ctx.artifact_dir())."""
    ctx = Context(lab, os.path.join(artifacts, scen.name) if artifacts else None)
    res = {"scenario": scen.name, "description": scen.description, "passed": False,
           "error": None, "violations": [], "timings": {}, "info": {}, "samples": 0}
    why = scen.skip_reason()
    if why:
        if required():
            res["error"] = "cannot run (ICS_CTS_REQUIRED is set): %s" % why
        else:
            res.update(passed=True, skipped=why)
        return res
    t_start = time.monotonic()
    torn = False
    tracked = []
    try:
        ensure_clean(lab, ctx)
        tracked = scen.setup(ctx) or []
        ctx.sampler = Sampler(lab, tracked)
        ctx.sampler.start()
        for tr in tracked:
            ctx.wait_started(tr.rid, 60)
        ctx.wall0 = time.time()
        ctx.t0 = ctx.mark("fault")
        scen.fault(ctx)
        scen.recovered(ctx)
        ctx.mark("recovered")
        torn = True
        scen.teardown(ctx)
        ctx.mark("teardown")
        ctx.wait_whole(120)
        ctx.mark("whole")
        res["passed"] = True
    except ScenarioFailed as e:
        res["error"] = str(e)
    except Exception as e:
        res["error"] = "%s: %s" % (type(e).__name__, e)
        res["trace"] = traceback.format_exc()
    finally:
        if not torn and ctx.sampler:
            try:
                scen.teardown(ctx)
            except Exception as e:
                res.setdefault("cleanup_errors", []).append("teardown: %s" % e)
        if ctx.sampler:
            for tr in tracked:
                if not tr.cib:
                    continue
                try:
                    ctx.remove_resource(tr.rid)
                except Exception as e:
                    res.setdefault("cleanup_errors", []).append(str(e))
            if hasattr(scen, "cleanup"):      # what the scenario made besides resources
                try:
                    scen.cleanup(ctx)
                except Exception as e:
                    res.setdefault("cleanup_errors", []).append("cleanup: %s" % e)
            ctx.sampler.stop()
            res["samples"] = ctx.sampler.samples
            res["violations"] = [{"t": round(t - (ctx.t0 or t_start), 3), "resource": r,
                                  "active_on": on, "evidence": ev}
                                 for t, r, on, ev in ctx.sampler.violations]
            res["history"] = {r: [(round(t - (ctx.t0 or t_start), 3), on) for t, on in h]
                              for r, h in ctx.sampler.history.items()}
            if ctx.sampler.errors:
                res["sampler_errors"] = ctx.sampler.errors[:5]
        if res["violations"]:
            res["passed"] = False
            v0 = res["violations"][0]
            res["error"] = (res["error"] or "") + (
                " INVARIANT BROKEN: %s active on %s at +%.1fs%s" % (
                    v0["resource"], ",".join(v0["active_on"]), v0["t"],
                    " (%s)" % v0["evidence"] if v0["evidence"] else ""))
        if ctx.t0:
            res["timings"] = {k: round(v - ctx.t0, 3) for k, v in ctx.marks.items()
                              if k != "fault"}
        res["info"] = ctx.info
        if ctx.artifacts and os.path.isdir(ctx.artifacts):
            res["artifacts"] = ctx.artifacts
        res["wall_s"] = round(time.monotonic() - t_start, 1)
        # a broken scenario must not poison the next one
        try:
            ensure_clean(lab, Context(lab))
        except Exception as e:
            res.setdefault("cleanup_errors", []).append("cluster not whole after scenario: %s" % e)
            res["passed"] = False
    return res


def print_table(results, out=sys.stdout):
    print("%-18s %-6s %10s %9s %7s  %s" % ("SCENARIO", "RESULT", "RECOVER_S", "WHOLE_S",
                                           "SAMPLES", "NOTES"), file=out)
    for r in results:
        t = r.get("timings", {})
        note = r["error"] or r.get("skipped") or \
            ", ".join("%s=%s" % kv for kv in sorted(r.get("info", {}).items()))
        print("%-18s %-6s %10s %9s %7d  %s" % (
            r["scenario"], "SKIP" if r.get("skipped") else "PASS" if r["passed"] else "FAIL",
            "%.2f" % t["recovered"] if "recovered" in t else "-",
            "%.2f" % t["whole"] if "whole" in t else "-", r["samples"], note), file=out)


def dump_json(results, path):
    with open(path, "w") as f:
        json.dump({"results": results,
                   "passed": sum(r["passed"] and not r.get("skipped") for r in results),
                   "skipped": sum(bool(r.get("skipped")) for r in results),
                   "failed": sum(not r["passed"] for r in results)}, f, indent=2)
