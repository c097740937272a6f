"""bench/console/state_change.py: bench-console --lab -- a VM's state change
in the CIB until an open VM page shows it (issue target: median <= 1 s).

Needs a real cluster, so a lab of its own (--lab-name, 3 nodes), brought up
the way bench/inventory does (its module is loaded for the lab, the
manager's setup and its CIB status reader, Bench.last_ops): the manager as
the cluster resource (scenarios.manager.setup_manager), serving the
build's console (scenarios.console.serve_console, as the CTS scenario
console-browser does), one diskless TCG VM defined through the API on the
VIP, stopped, with shutdown_timeout=2 (a diskless guest ignores ACPI; the
stop would wait the whole default for nothing).

The browser is console-bench.mjs --mode state, run in the lab's client
namespace (the operator's workstation) with a fresh $HOME whose NSS
database trusts the manager's own certificate (scenarios.console's
trust_store): https://VIP:8443, certificate verified.  It opens the VM's
page, then for each round arms a watch of the State cell and answers the
wall time (performance.timeOrigin + now, the same clock as time.time() in
this process) at which the cell first shows the new state (the DOM change
and the frame after it).

A round: start (target-role Started, until "running"), then stop
(Stopped, until "stopped"), each `crm_resource --meta -p target-role` run
in a node by this process.  Times are taken from the call:
  page_s      the call -> the page shows the state (the target);
  cluster_s   the call -> the CIB's status holds what makes the manager
              say the new state: for a start the operation recorded (the
              manager says "running" once the cluster has placed the VM,
              while its start is still pending), for a stop its result
              (cibadmin polled every 20 ms, counted at the poll before the
              one that saw it: Pacemaker's part);
  after_cib_s page_s - cluster_s: the manager noticing the CIB change,
              its event, the browser drawing it;
  cib_recorded_s, cib_done_s: the operation recorded (pending), and its
              result (done), both from the call.
"""

import importlib.machinery
import importlib.util
import json
import os
import queue
import shutil
import subprocess
import threading
import time
import types

POLL_S = 0.02


def _lines(proc):
    """The driver's stdout lines on a queue (None at its end)."""
    q = queue.Queue()

    def pump():
        for line in proc.stdout:
            q.put(line)
        q.put(None)
    threading.Thread(target=pump, daemon=True).start()
    return q


def _answer(q, timeout):
    """The next '@@ {json}' line of the driver."""
    end = time.monotonic() + timeout
    while True:
        try:
            line = q.get(timeout=max(0.1, end - time.monotonic()))
        except queue.Empty:
            raise RuntimeError("the browser said nothing within %d s" % timeout)
        if line is None:
            raise RuntimeError("the browser ended")
        if line.startswith("@@ "):
            return json.loads(line[3:])
        if time.monotonic() > end:
            raise RuntimeError("the browser said nothing within %d s" % timeout)


def _cib_result(b, rid, op, t_ref, stop, seen):
    """Poll the CIB's status for @op of @rid: seen['recorded'] when it is
    first recorded (pending, op-status -1, or already done), seen['done']
    when its result is; each the wall time of the poll before the one that
    saw it."""
    prev = t_ref
    while not stop.is_set():
        t = time.time()
        ops = [(rc, st) for o, rc, st in b.last_ops(rid) if o == op]
        if ops and "recorded" not in seen:
            seen["recorded"] = prev
        if any(rc == "0" and st == "0" for rc, st in ops):
            seen["done"] = prev
            return
        if any(st not in ("0", "-1") or rc != "0" and st == "0" for rc, st in ops):
            seen["failed"] = ops
            return
        prev = t
        stop.wait(POLL_S)


def load_inventory():
    """bench/inventory/bench-inventory as a module (it puts cts/ and
    cts/lab on the path: icslab, ctslib, scenarios)."""
    path = os.path.join(os.path.dirname(os.path.dirname(os.path.realpath(__file__))),
                        "inventory", "bench-inventory")
    loader = importlib.machinery.SourceFileLoader("bench_inventory", path)
    mod = importlib.util.module_from_spec(importlib.util.spec_from_loader(loader.name, loader))
    loader.exec_module(mod)
    return mod


def measure(a, cbuild, tmp, say, bm):
    """The rounds on a lab of their own: medians per operation (bm: the
    bench-manager module, for stats and loadavg) and the raw rounds."""
    bi = load_inventory()
    icslab, manager, runner = bi.icslab, bi.manager, bi.runner
    from scenarios import console as scons     # importable once bench-inventory set the path

    os.environ["ICS_BUILDDIR"] = a.builddir
    os.environ["ICS_LAB_QUIET"] = "1"
    dist = os.path.join(cbuild, "console", "dist")
    scons.console_dist = lambda: dist
    lab = icslab.Lab(a.lab_name)
    out = {"measured": False, "rounds": []}
    proc = None
    try:
        lab.down()
        t0 = time.monotonic()
        lab.up(3, owner="bench-console")
        ctx = runner.Context(lab)
        ctx.wait_whole(120)
        out["lab_up_s"] = round(time.monotonic() - t0, 1)
        say("lab %s up with 3 nodes in %.1f s" % (lab.name, out["lab_up_s"]))
        password = manager.setup_manager(ctx)
        api = manager.api(lab, timeout=10, connect_timeout=5, keepalive=True)
        scons.serve_console(ctx, api)
        token = api.login("admin", password)
        name = "conbench-%d" % os.getpid()
        r = api.request("POST", "/api/v1/vms", {"definition": {
            "name": name, "vcpus": 1, "memory_mib": 64, "virt_type": "qemu"}})
        if r.status != 201:
            raise RuntimeError("POST /vms %s: %s %s" % (name, r.status, r.body or r.data))
        uuid = r.body["uuid"]
        b = bi.Bench(lab, types.SimpleNamespace())
        b.node_run(["crm_resource", "--resource", name, "--set-parameter", "shutdown_timeout",
                    "--parameter-value", "2"])
        say("manager up, console served on %s, VM %s defined (load %s)"
            % (manager.URL, name, bm.loadavg()))

        home = os.path.join(tmp, "lab-home")
        os.makedirs(home)
        scons.trust_store(home, manager.cafile(lab))
        tokfile = os.path.join(home, "token")
        with open(os.open(tokfile, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write(token)
        argv = ["ip", "netns", "exec", lab.client_ns, "node",
                os.path.join(os.path.dirname(os.path.realpath(__file__)), "console-bench.mjs"),
                "--mode", "state", "--build", cbuild, "--chromium", a.chromium,
                "--url", manager.URL, "--token-file", tokfile, "--vm", uuid, "--tmp", home,
                "--bound", str(600 + 300 * a.rounds)]
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                bufsize=1, env=dict(os.environ, HOME=home, TMPDIR=home),
                                start_new_session=True)
        q = _lines(proc)
        ready = _answer(q, 120)
        say("the VM's page is open in Chromium in %s: %s" % (lab.client_ns, ready))
        for i in range(a.rounds):
            rnd = {}
            for op, role, state in (("start", "Started", "running"),
                                    ("stop", "Stopped", "stopped")):
                proc.stdin.write("go %s\n" % state)
                proc.stdin.flush()
                _answer(q, 30)                       # armed
                seen, stop = {}, threading.Event()
                t_call = time.time()
                w = threading.Thread(target=_cib_result, args=(b, name, op, t_call, stop, seen),
                                     daemon=True)
                w.start()
                b.node_run(["crm_resource", "--resource", name, "--meta", "--set-parameter",
                            "target-role", "--parameter-value", role], timeout=60)
                cmd_s = time.time() - t_call
                shown = _answer(q, 240)
                w.join(15)                           # its poll may be behind the page
                stop.set()
                if "error" in shown or "done" not in seen:
                    raise RuntimeError("round %d %s: page %s, CIB %s"
                                       % (i + 1, op, shown, seen.get("failed", "no result")))
                # what the manager shows: a VM is running as soon as the
                # cluster places it (its start recorded, even pending), and
                # stopped when its stop is done
                x = {"cmd_s": cmd_s, "page_s": shown["frame"] / 1e3 - t_call,
                     "page_dom_s": shown["dom"] / 1e3 - t_call,
                     "cluster_s": seen["recorded" if op == "start" else "done"] - t_call,
                     "cib_recorded_s": seen["recorded"] - t_call,
                     "cib_done_s": seen["done"] - t_call}
                x["after_cib_s"] = x["page_s"] - x["cluster_s"]
                rnd[op] = {k: round(v, 3) for k, v in x.items()}
                say("round %d %s: page %.3f s (cluster %.3f, manager+browser %.3f)"
                    % (i + 1, op, x["page_s"], x["cluster_s"], x["after_cib_s"]))
            out["rounds"].append(rnd)
        proc.stdin.write("quit\n")
        proc.stdin.flush()
        proc.wait(60)
        out["measured"] = True
        out["vm"] = name
        out["load_after_lab"] = bm.loadavg()
    finally:
        if proc is not None and proc.poll() is None:
            os.killpg(proc.pid, 9)              # our own child's group
            proc.wait(10)
        lab.down()
        shutil.rmtree(os.path.join(tmp, "lab-home"), ignore_errors=True)
    for op in ("start", "stop"):
        out[op] = {k: bm.stats([r[op][k] for r in out["rounds"]])
                   for k in ("page_s", "page_dom_s", "cluster_s", "after_cib_s", "cib_recorded_s",
                           "cib_done_s", "cmd_s")}
    return out
