"""The manager's TLS certificate: an operator's certificate installed on a
running manager (issue 13, point 7).

A CA and a server certificate it issued are made for the test with openssl:
the server certificate names what `manager setup` gave the daemon to name
(the VIP, the manager nodes and their addresses), not localhost.
`ics-admin manager cert install` (the real command, on a node) puts it in
the manager's state directory on the pool and restarts the manager through
the cluster, waiting until the VIP answers with the new key.  Then, from
the lab's client namespace (the operator's workstation), `ics-admin login
--url https://VIP:8443 --ca CA` must succeed -- the VIP presents the
installed certificate and it verifies against the CA for the VIP's
address -- and `ics-admin manager status` on a node must find it healthy
(pinned).  The agent's monitor must keep passing although the certificate
does not name localhost: no operation of the manager's primitives may fail.
Afterwards the generated certificate is put back (the three files removed,
the manager restarted) and the manager removed.  The sampler checks that
the manager runs at most once throughout.
"""

import os
import shutil
import subprocess
import tempfile
import time

import icslab
from ctslib.runner import Scenario, ScenarioFailed
from scenarios import manager, storage

CERT_DIR = "cts-cert"            # on the pool, so every node sees the files
MONITOR_WAIT_S = 25              # two monitors of the daemon (interval 10 s)


def openssl(args, cwd):
    p = subprocess.run(["openssl"] + args, cwd=cwd, capture_output=True, text=True,
                       timeout=60)
    if p.returncode != 0:
        raise ScenarioFailed("openssl %s: %s" % (args[0], p.stderr.strip()[-300:]))


def make_certs(host_dir, names):
    """ca.pem, and server.pem + server-key.pem issued by it for @names."""
    os.makedirs(host_dir, exist_ok=True)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    openssl(["req", "-x509"] + ec + ["-keyout", "ca-key.pem", "-out", "ca.pem", "-days", "2",
             "-subj", "/CN=ICS CTS CA", "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign"], host_dir)
    openssl(["req"] + ec + ["-keyout", "server-key.pem", "-out", "server.csr",
             "-subj", "/CN=ics-manager"], host_dir)
    with open(os.path.join(host_dir, "ext.cnf"), "w") as f:
        f.write("subjectAltName=%s\nextendedKeyUsage=serverAuth\n"
                "keyUsage=critical,digitalSignature\n" % ",".join(
                    ("IP:" if n[0].isdigit() else "DNS:") + n for n in names))
    openssl(["x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca-key.pem",
             "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf"],
            host_dir)


class ManagerUserCert(Scenario):
    name = "manager-user-cert"
    description = "install an operator's certificate (a test CA's, naming the VIP and the " \
                  "nodes, not localhost) on the running manager: login with --ca CA on the " \
                  "VIP from the client namespace, status healthy, monitors keep passing"
    timeout = 180

    def setup(self, ctx):
        if shutil.which("openssl") is None:
            raise ScenarioFailed("openssl is needed to make the test's certificates")
        self.password = manager.setup_manager(ctx)
        state = ctx.lab.require_state()
        self.host_dir = os.path.join(state["pool"]["host_path"], CERT_DIR)
        self.node_dir = os.path.join(state["pool"]["node_path"], CERT_DIR)
        self.state_host = os.path.join(state["pool"]["host_path"], "manager")
        self.home = tempfile.mkdtemp(prefix="cts-cert-home-")
        # What setup gave the daemon to name: the VIP, the nodes, their addresses.
        p = ctx.crm(["crm_resource", "--resource", manager.GROUP + "-daemon",
                     "--get-parameter", "tls_names"], check=False)
        last = (p.stdout.strip().splitlines() or [""])[-1] if p.returncode == 0 else ""
        names = [n for n in last.strip().split(",") if n]
        if manager.VIP not in names:
            raise ScenarioFailed("the manager's tls_names do not name the VIP: %r"
                                 % p.stdout.strip())
        make_certs(self.host_dir, names)
        shutil.copy(os.path.join(self.state_host, "tls-cert.pem"),
                    os.path.join(self.host_dir, "generated.pem"))
        return [manager.ProcessTracked(), storage.LeaseTracked(manager.LEASE),
                manager.VipTracked()]

    def admin_on(self, ctx, node, args, timeout=240):
        return ctx.lab.node_run(node, ["ics-admin"] + args, check=False, timeout=timeout)

    def fault(self, ctx):
        """The change: install the certificate on the node that runs the manager."""
        self.node = manager.manager_node(ctx)
        before = manager.failed_starts(ctx)
        if before:
            raise ScenarioFailed("the manager had failed operations before: %s" % before)
        t0 = time.monotonic()
        p = self.admin_on(ctx, self.node, [
            "manager", "cert", "install",
            "--cert", os.path.join(self.node_dir, "server.pem"),
            "--key", os.path.join(self.node_dir, "server-key.pem"),
            "--chain", os.path.join(self.node_dir, "ca.pem")])
        ctx.info["install_s"] = round(time.monotonic() - t0, 1)
        ctx.info["install_stderr"] = p.stderr.strip()[-300:]
        if p.returncode != 0 or "with the new certificate" not in p.stdout:
            raise ScenarioFailed("ics-admin manager cert install: exit %d: %s%s"
                                 % (p.returncode, p.stdout.strip()[-300:],
                                    p.stderr.strip()[-300:]))
        if "warning" in p.stderr:
            raise ScenarioFailed("install warned for a certificate naming the VIP and the "
                                 "nodes: %s" % p.stderr.strip())

    def login_on_vip(self, ctx, ca):
        env = dict(os.environ, HOME=self.home)
        for k in ("XDG_CONFIG_HOME", "ICS_URL", "ICS_CA", "ICS_CONFIG", "ICS_ACCESS_KEY",
                  "ICS_SECRET_KEY"):
            env.pop(k, None)
        argv = ["ip", "netns", "exec", ctx.lab.client_ns,
                os.path.join(icslab.find_builddir(), "cli", "ics-admin"), "login", "admin",
                "--password-stdin", "--url", "https://%s:%d" % (manager.VIP, manager.PORT),
                "--ca", ca]
        return subprocess.run(argv, input=self.password + "\n", env=env,
                              capture_output=True, text=True, timeout=60)

    def recovered(self, ctx):
        ca = os.path.join(self.host_dir, "ca.pem")
        p = self.login_on_vip(ctx, ca)
        if p.returncode != 0:
            raise ScenarioFailed("ics-admin login --url https://%s:%d --ca CA from the client "
                                 "namespace: exit %d: %s" % (manager.VIP, manager.PORT,
                                                             p.returncode, p.stderr.strip()))
        # The generated certificate no longer verifies: the VIP serves the new one.
        p = self.login_on_vip(ctx, os.path.join(self.host_dir, "generated.pem"))
        if p.returncode == 0 or "cannot verify the TLS certificate" not in p.stderr:
            raise ScenarioFailed("login trusting the generated certificate after the install: "
                                 "exit %d: %s" % (p.returncode, p.stderr.strip()))
        rc, st = manager.admin_status(ctx)
        if rc != 0 or not st["health"]["ok"]:
            raise ScenarioFailed("ics-admin manager status after the install: exit %d: %s"
                                 % (rc, st.get("health")))
        time.sleep(MONITOR_WAIT_S)
        failed = manager.failed_starts(ctx)
        if failed:
            raise ScenarioFailed("the manager's operations failed with the installed "
                                 "certificate: %s" % failed)
        p = ctx.lab.node_run(self.node, ["ics-admin", "manager", "cert", "show", "--json"],
                             check=False, timeout=30)
        ctx.info["cert_show"] = p.stdout.strip()[-400:] if p.returncode else "ok"
        if p.returncode != 0 or '"installed": true' not in p.stdout:
            raise ScenarioFailed("ics-admin manager cert show: exit %d: %s"
                                 % (p.returncode, (p.stderr or p.stdout).strip()[-300:]))

    def teardown(self, ctx):
        """The generated certificate back: the files removed, the manager restarted."""
        for f in ("tls-cert.pem", "tls-key.pem", "tls-cert.installed"):
            try:
                os.unlink(os.path.join(self.state_host, f))
            except FileNotFoundError:
                pass
        ctx.lab.node_run(ctx.any_node(), ["crm_resource", "--restart", "--resource",
                                          manager.GROUP + "-daemon", "--timeout", "120s"],
                         check=False, timeout=150)
        shutil.rmtree(self.host_dir, ignore_errors=True)
        shutil.rmtree(self.home, ignore_errors=True)

    def cleanup(self, ctx):
        manager.remove_manager(ctx)


SCENARIOS = [ManagerUserCert]
