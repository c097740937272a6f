"""The web console in a real browser against the real lab (issue 14,
"Browser tests in CI").

The manager runs as the cluster resource (manager.setup_manager, as the
manager scenarios set it up) and serves the build's console: a
configuration file on the pool names console_dir = the build's
console/dist, which every node sees at the same path (the nodes' mount
namespaces are copies of the host's), and the daemon primitive is given it
as `config` (tools/demo does the same).  The browser creates the VM with
the console's wizard, by the keyboard alone: a cheap diskless TCG guest
booting the lab guest's kernel from the pool (cts/guest), which prints its
counter line on the serial console.

Debian's Chromium, driven by playwright-core (console/tests/cts.mjs), runs
in the lab's client namespace -- the operator's workstation -- and speaks
https to https://VIP:8443 with certificate verification on.  Trust: the
manager's own certificate (tls-cert.pem on the pool, self-signed, naming
the VIP) is imported into an NSS database in the browser's fresh $HOME
(~/.pki/nssdb, where Chromium on Linux reads user trust) as a trusted CA
and peer.  Chosen over --ignore-certificate-errors-spki-list because the
browser then verifies the certificate as it would for a user who imported
the CA -- name, validity, chain -- instead of skipping every check for one
key.

The browser's steps are TAP checks (cts.mjs says which); they are the
scenario's result (info["checks"]), with the screenshots and the browser's
log in the scenario's artifact directory.  The script asks the scenario on
stdout for what only the lab can do (power a node off, then on and wait
for the whole cluster); stonith-action=off keeps the fenced node off until
then.  Any failed check fails the scenario.  The sampler checks that the
manager runs at most once throughout.
"""

import json
import os
import queue
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid as uuidlib

import icslab
from ctslib import icsapi
from ctslib.runner import Scenario, ScenarioFailed
from scenarios import manager, storage, vm

CHROMIUM = os.environ.get("ICS_CHROMIUM", "/usr/bin/chromium")
SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DRIVER = os.path.join(SRC, "console", "tests", "cts.mjs")
CONF_REL = "manager/managerd.conf"         # on the pool
BROWSER_BOUND = 600                        # the whole browser run, generous


def console_dist():
    return os.path.join(icslab.find_builddir(), "console", "dist")


def serve_console(ctx, api):
    """The manager serves the build's console: the configuration file on the
    pool, the daemon primitive's config parameter, and the wait until
    /console/ answers on the VIP (the parameter's change restarts it)."""
    host_pool = ctx.lab.require_state()["pool"]["host_path"]
    conf = os.path.join(host_pool, CONF_REL)
    os.makedirs(os.path.dirname(conf), exist_ok=True)
    with open(conf + ".tmp", "w") as f:
        f.write("[manager]\nconsole_dir=%s\n" % console_dist())
    os.rename(conf + ".tmp", conf)
    ctx.crm(["crm_resource", "-r", manager.GROUP + "-daemon", "-p", "config", "-v",
             storage.POOL + "/" + CONF_REL])

    def serves():
        try:
            r = api.request("GET", "/console/")
        except icsapi.TRANSPORT_ERRORS:
            return False
        return r.status == 200 and b"<html" in r.data.lower()
    ctx.wait(serves, 120, "the manager to serve the console on the VIP")


def trust_store(home, cafile):
    """An NSS database in @home that trusts the manager's certificate."""
    db = "sql:" + os.path.join(home, ".pki", "nssdb")
    os.makedirs(os.path.join(home, ".pki", "nssdb"))
    for argv in (["certutil", "-N", "-d", db, "--empty-password"],
                 ["certutil", "-A", "-d", db, "-n", "ics-manager", "-t", "CP,,", "-i", cafile]):
        p = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        if p.returncode != 0:
            raise ScenarioFailed("%s: %s" % (" ".join(argv[:2]), (p.stderr or p.stdout).strip()))


class ConsoleBrowser(Scenario):
    name = "console-browser"
    description = "the web console in Chromium on the VIP over verified https: login, " \
                  "dashboard, VM created by the wizard (keyboard only), start, VNC screen, " \
                  "serial console, live migration, host maintenance, a node " \
                  "powered off seen live, logout; axe-core and screenshots of every page"
    timeout = BROWSER_BOUND

    @classmethod
    def skip_reason(cls):
        build = icslab.find_builddir()
        for what, ok in (
                ("node is not installed", shutil.which("node")),
                ("%s is not installed (tools/install-deps)" % CHROMIUM,
                 os.access(CHROMIUM, os.X_OK)),
                ("certutil is not installed (libnss3-tools)", shutil.which("certutil")),
                ("the console is not built in %s (configure --enable-console)" % build,
                 os.path.isfile(os.path.join(console_dist(), "index.html"))),
                ("playwright-core is not installed in %s/console" % build,
                 os.path.isdir(os.path.join(build, "console", "node_modules",
                                            "playwright-core")))):
            if not ok:
                return what
        return None

    def setup(self, ctx):
        self.password = manager.setup_manager(ctx)
        self.api = manager.api(ctx.lab, timeout=10, connect_timeout=5, keepalive=True)
        serve_console(ctx, self.api)
        self.api.login("admin", self.password)
        # the browser creates the VM with the wizard: the lab guest's kernel
        # on the pool (its counter line on the serial console)
        self.vm_name = "console-%s" % uuidlib.uuid4().hex[:6]
        self.kernel_dir = vm.guest_ready(ctx)
        ctx.cluster_option("stonith-action", "off")    # the powered-off node stays off
        return [manager.ProcessTracked(), storage.LeaseTracked(manager.LEASE),
                manager.VipTracked()]

    # -- the browser -----------------------------------------------------
    def fault(self, ctx):
        """The browser run; the node power-off inside it is the fault."""
        self.checks, self.powered_off = [], None
        self.home = tempfile.mkdtemp(prefix="cts-console-home-")
        shots = ctx.artifact_dir()
        trust_store(self.home, manager.cafile(ctx.lab))
        pwfile = os.path.join(self.home, "admin.pw")
        with open(os.open(pwfile, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write(self.password)
        env = dict(os.environ, HOME=self.home, TMPDIR=self.home)
        argv = ["ip", "netns", "exec", ctx.lab.client_ns, "node", DRIVER,
                "--build", icslab.find_builddir(), "--chromium", CHROMIUM,
                "--url", manager.URL, "--password-file", pwfile, "--shots", shots,
                "--nodes", ",".join(ctx.lab.nodes()), "--pool", storage.POOL_NAME,
                "--manager-node", manager.manager_node(ctx), "--vm-name", self.vm_name,
                "--kernel-dir", self.kernel_dir]
        t0 = time.monotonic()
        with open(os.path.join(shots, "browser.log"), "w") as log:
            proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=log, env=env, text=True, bufsize=1,
                                    start_new_session=True)
            try:
                self.converse(ctx, proc, log)
            finally:
                if proc.poll() is None:             # our own child's process group
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
        ctx.info["browser_s"] = round(time.monotonic() - t0, 1)
        ctx.info["browser_exit"] = proc.returncode
        ctx.info["checks"] = self.checks
        ctx.info["artifacts"] = shots

    def converse(self, ctx, proc, log):
        """Read the script's TAP and requests until it ends (bounded)."""
        lines = queue.Queue()
        threading.Thread(target=lambda: [lines.put(x) for x in proc.stdout] + [lines.put(None)],
                         daemon=True).start()
        end = time.monotonic() + BROWSER_BOUND
        while True:
            try:
                line = lines.get(timeout=max(0.1, end - time.monotonic()))
            except queue.Empty:
                self.checks.append("not ok - the browser run ended within %d s" % BROWSER_BOUND)
                return
            if line is None:
                return
            line = line.rstrip("\n")
            log.write(line + "\n")
            log.flush()
            if line.startswith("@@ "):
                answer = self.serve(ctx, json.loads(line[3:]))
                proc.stdin.write(json.dumps(answer) + "\n")
                proc.stdin.flush()
            elif line.startswith(("ok ", "not ok ")):
                self.checks.append(line)

    def serve(self, ctx, req):
        """What the browser asked of the lab."""
        node = req.get("node")
        try:
            if node not in ctx.lab.nodes() or node == manager.manager_node(ctx):
                return {"error": "will not power %s: not a node or the manager's" % node}
            if req["op"] == "power-off":
                self.powered_off = node
                ctx.info["t_power_off_wall"] = time.time()
                ctx.lab.power_off(node)
                return {"ok": True}
            if req["op"] == "power-on":
                t = time.monotonic()
                ctx.lab.power_on(node)
                ctx.info["whole_after_power_on_s"] = round(ctx.wait_whole(180) - t, 1)
                self.powered_off = None
                return {"ok": True}
            return {"error": "unknown request %r" % req}
        except (ScenarioFailed, icslab.LabError) as e:
            return {"error": str(e)}

    def recovered(self, ctx):
        failed = [c for c in self.checks if c.startswith("not ok")]
        if failed or not self.checks:
            raise ScenarioFailed("%d of %d browser checks failed: %s" % (
                len(failed), len(self.checks), "; ".join(failed[:3]) or "no check ran"))
        if ctx.info["browser_exit"] != 0:
            raise ScenarioFailed("the browser script exited %s (log: %s/browser.log)"
                                 % (ctx.info["browser_exit"], ctx.artifacts))
        ctx.info["checks_passed"] = len(self.checks)

    def teardown(self, ctx):
        if getattr(self, "powered_off", None):
            ctx.lab.power_on(self.powered_off)
        # a run stopped in the middle of the maintenance step leaves a host
        # in standby (what the console's "Enter maintenance" sets)
        for n in ctx.lab.nodes():
            ctx.crm(["crm_attribute", "--node", n, "--name", "standby", "--delete"],
                    check=False)
        ctx.cluster_option("stonith-action", None)
        if getattr(self, "home", None):
            shutil.rmtree(self.home, ignore_errors=True)

    def cleanup(self, ctx):
        """The VM (stopped, then deleted through ics-admin on a node), the
        configuration file, the manager."""
        if getattr(self, "vm_name", None):
            ctx.crm(["crm_resource", "--resource", self.vm_name, "--meta", "--set-parameter",
                     "target-role", "--parameter-value", "Stopped"], check=False)
            def stopped():
                p = ctx.crm(["crm_resource", "--locate", "-r", self.vm_name], check=False)
                return "NOT running" in p.stdout + p.stderr
            try:
                ctx.wait(stopped, 90, "the VM %s to stop" % self.vm_name)
            finally:
                ctx.crm(["ics-admin", "vm", "delete", "--direct", self.vm_name], check=False)
        try:
            os.unlink(os.path.join(ctx.lab.require_state()["pool"]["host_path"], CONF_REL))
        except OSError:
            pass
        manager.remove_manager(ctx)


SCENARIOS = [ConsoleBrowser]
