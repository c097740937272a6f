"""Inventory scenarios: the manager sees every VM of the cluster.

VMs are defined in the four ways users have -- the API on the VIP,
`ics-admin vm define --direct` on a node, `crm configure primitive`, `pcs
resource create` (the last two with the definition put on the pool by hand,
as an operator moving a VM's files would) -- and deleted the same four ways;
after each change the API must list exactly what the cluster has, with the
VM's state.  `ics-admin vm list` through the manager (logged in from the
lab's client namespace, on the VIP) and `ics-admin vm list --direct` on a
node must print the same VMs with the same states.  In the middle the manager's node is powered off: after the failover
the inventory again equals the cluster, including the VMs defined while no
manager ran.  The sampler keeps checking that the manager runs at most once.

How long each change took to show in the API is reported (the 2 s target is
bench/manager's business); the scenario fails only on a change not shown
within a generous bound.
"""

import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import uuid as uuidlib

import icslab
from ctslib.runner import Scenario, ScenarioFailed
from scenarios import manager, storage

POOL = storage.POOL
SHOW_TIMEOUT = 30      # generous: a VM not in the API after this is a failure


def in_client(ctx, fn, timeout=30):
    """Run fn() in the lab's client namespace (the operator's workstation)."""
    box = {}

    def go():
        try:
            manager.enter_netns(ctx.lab.client_ns)
            box["r"] = fn()
        except Exception as e:          # reported below
            box["e"] = e
    t = threading.Thread(target=go, daemon=True)
    t.start()
    t.join(timeout)
    if "r" not in box:
        raise ScenarioFailed("through the VIP: %s" % (box.get("e") or "no answer"))
    return box["r"]


class InventoryFourWays(Scenario):
    name = "inventory-four-ways"
    description = "VMs defined and deleted through the API, ics-admin, crm and pcs: the " \
                  "manager lists exactly the cluster's VMs each time, also across a " \
                  "failover of the manager"
    timeout = 120

    def setup(self, ctx):
        self.password = manager.setup_manager(ctx)
        self.token = manager.login(ctx, self.password)
        self.api = manager.Api(manager.cafile(ctx.lab), self.token, timeout=5,
                               connect_timeout=2)
        self.tag = uuidlib.uuid4().hex[:6]
        self.vms = {}            # way -> (name, uuid)
        self.shown_s = {}
        self.home = tempfile.mkdtemp(prefix="cts-inventory-home-")
        p = self.admin_via_vip(ctx, ["login", "admin", "--password-stdin"],
                               self.password + "\n")
        if p.returncode != 0:
            shutil.rmtree(self.home, ignore_errors=True)
            raise ScenarioFailed("ics-admin login on the VIP: %s" % p.stderr.strip())
        return [manager.ProcessTracked(), storage.LeaseTracked(manager.LEASE),
                manager.VipTracked()]

    # -- ics-admin as a user runs it ------------------------------------------
    def admin_via_vip(self, ctx, args, stdin=None):
        """ics-admin on the operator's workstation (the client namespace),
        through the manager on the VIP, with a HOME of its own."""
        env = dict(os.environ, HOME=self.home,
                   ICS_URL="https://%s:%d" % (manager.VIP, manager.PORT),
                   ICS_CA=manager.cafile(ctx.lab))
        env.pop("XDG_CONFIG_HOME", None)
        argv = ["ip", "netns", "exec", ctx.lab.client_ns,
                os.path.join(icslab.find_builddir(), "cli", "ics-admin")] + args
        return subprocess.run(argv, input=stdin, env=env, capture_output=True, text=True,
                              timeout=60)

    def admin_lists_agree(self, ctx, when):
        """`ics-admin vm list` through the manager and directly on a node:
        the same VMs (by uuid) with the same name, state and pool."""
        def records(p, how):
            if p.returncode != 0:
                raise ScenarioFailed("ics-admin vm list %s %s: %s" % (how, when,
                                                                    p.stderr.strip()))
            return {r["uuid"]: (r["name"], r["state"], r["pool"])
                    for r in json.loads(p.stdout) if r["state"] != "broken"}
        direct = records(ctx.crm(["ics-admin", "vm", "list", "--direct", "--json"],
                                 check=False), "--direct")
        last = None
        for _ in range(10):         # the mirror may be a moment behind
            managed = records(self.admin_via_vip(ctx, ["vm", "list", "--json"]),
                              "on the VIP")
            if managed == direct:
                return
            last = managed
            time.sleep(0.5)
        raise ScenarioFailed("%s: ics-admin vm list through the manager %s, directly %s" % (
            when, sorted(set(last.items()) - set(direct.items())),
            sorted(set(direct.items()) - set(last.items()))))

    # -- the API's view ----------------------------------------------------
    def api_vms(self, ctx):
        """{name: item} of the API's list, or None when it does not answer."""
        def go():
            try:
                st, body = self.api.call("GET", "/api/v1/vms?limit=1000")
            except manager.TRANSPORT_ERRORS:
                return None
            return {v["name"]: v for v in body["items"]} if st == 200 else None
        return in_client(ctx, go)

    def api_state(self, ctx, u):
        def go():
            try:
                st, body = self.api.call("GET", "/api/v1/vms/" + u)
            except manager.TRANSPORT_ERRORS:
                return None
            return ((body.get("runtime") or {}).get("state"), body.get("broken")) \
                if st == 200 else None
        return in_client(ctx, go)

    def cluster_vms(self, ctx):
        """The uuid parameter of every ocf:ics:vm primitive in the CIB."""
        import xml.etree.ElementTree as ET
        out = set()
        root = ET.fromstring(ctx.crm(["cibadmin", "-Q", "-o", "resources"]).stdout)
        for p in root.iter("primitive"):
            if p.get("provider") == "ics" and p.get("type") == "vm":
                for nv in p.iter("nvpair"):
                    if nv.get("name") == "uuid":
                        out.add(nv.get("value").lower())
        return out

    def wait_shown(self, ctx, name, present=True, broken=None):
        t = time.monotonic()

        def ok():
            v = self.api_vms(ctx)
            if v is None:
                return False
            if not present:
                return name not in v
            return name in v and (broken is None or ("broken" in v[name]) == broken)
        ctx.wait(ok, SHOW_TIMEOUT, "the API to %s %s" % ("list" if present else "drop", name))
        return round(time.monotonic() - t, 2)

    # -- the four ways -----------------------------------------------------
    def by_api(self, ctx, name):
        def go():
            return self.api.call("POST", "/api/v1/vms", {"definition": {
                "name": name, "vcpus": 1, "memory_mib": 32, "virt_type": "qemu"}})
        st, body = in_client(ctx, go)
        if st != 201:
            raise ScenarioFailed("POST /vms %s: %s %s" % (name, st, body))
        return body["uuid"]

    def by_ics_admin(self, ctx, name):
        p = ctx.crm(["ics-admin", "vm", "define", "--direct", "--pool", POOL, "--name", name,
                     "--vcpus", "1", "--memory", "32", "--virt-type", "qemu"], check=False)
        if p.returncode != 0:
            raise ScenarioFailed("ics-admin vm define %s: %s" % (name, p.stderr.strip()))
        return p.stdout.strip().splitlines()[-1]

    def put_definition(self, ctx, name):
        """An operator's copy of a definition onto the pool: a lease slot and
        vm.json, no primitive yet."""
        u = str(uuidlib.uuid4())
        slot = int(ctx.crm(["ics-lease", "slot", "alloc", POOL, u]).stdout.strip())
        st = ctx.lab.require_state()
        d = os.path.join(st["pool"]["host_path"], ".ics", "vms", u)
        os.makedirs(d)
        with open(os.path.join(d, "vm.json"), "w") as f:
            json.dump({"format": 1, "uuid": u, "name": name, "vcpus": 1, "memory_mib": 32,
                       "virt_type": "qemu",
                       "lease": {"lockspace": storage.LOCKSPACE, "name": u,
                                 "path": POOL + "/.ics/leases", "offset": slot * 1048576}},
                      f)
        return u

    def by_crm(self, ctx, name):
        u = self.put_definition(ctx, name)
        ctx.crm(["crm", "configure", "primitive", name, "ocf:ics:vm", "params", "uuid=" + u,
                 "pool=" + POOL, "meta", "target-role=Stopped"])
        return u

    def by_pcs(self, ctx, name):
        u = self.put_definition(ctx, name)
        ctx.crm(["pcs", "resource", "create", name, "ocf:ics:vm", "uuid=" + u, "pool=" + POOL,
                 "meta", "target-role=Stopped"])
        return u

    def remove_definition(self, ctx, u):
        st = ctx.lab.require_state()
        d = os.path.join(st["pool"]["host_path"], ".ics", "vms", u)
        for f in os.listdir(d):
            os.unlink(os.path.join(d, f))
        os.rmdir(d)
        ctx.crm(["ics-lease", "slot", "free", POOL, u], check=False)

    def define(self, ctx, way, fn):
        name = "inv-%s-%s" % (way, self.tag)
        u = fn(ctx, name)
        self.vms[way] = (name, u.lower())
        self.shown_s[way + "_defined"] = self.wait_shown(ctx, name, broken=False)

    # -- the scenario --------------------------------------------------------
    def fault(self, ctx):
        self.define(ctx, "api", self.by_api)
        self.define(ctx, "cli", self.by_ics_admin)
        # The manager's node goes; two VMs are defined while no manager runs.
        self.node = manager.manager_node(ctx)
        manager.observers_ready(ctx, self.node)
        self.t_crash = time.monotonic()
        ctx.lab.power_off(self.node)
        for way, fn in (("crm", self.by_crm), ("pcs", self.by_pcs)):
            name = "inv-%s-%s" % (way, self.tag)
            u = fn(ctx, name)
            self.vms[way] = (name, u.lower())

    def recovered(self, ctx):
        # After the failover: all four, each with its state.
        for way, (name, u) in self.vms.items():
            self.wait_shown(ctx, name, broken=False)
            ctx.wait(lambda: (self.api_state(ctx, u) or (None,))[0] == "stopped", SHOW_TIMEOUT,
                     "the API to show %s stopped" % name)
        self.shown_s["after_failover"] = round(time.monotonic() - self.t_crash, 2)
        self.check_equal(ctx, "after the failover")
        # Deleted the four ways.
        name, u = self.vms.pop("api")

        def go():
            return self.api.call("DELETE", "/api/v1/vms/" + u)
        st, body = in_client(ctx, go)
        if st != 204:
            raise ScenarioFailed("DELETE /vms/%s: %s %s" % (u, st, body))
        self.shown_s["api_deleted"] = self.wait_shown(ctx, name, present=False)
        name, u = self.vms.pop("cli")
        p = ctx.crm(["ics-admin", "vm", "delete", "--direct", name], check=False)
        if p.returncode != 0:
            raise ScenarioFailed("ics-admin vm delete %s: %s" % (name, p.stderr.strip()))
        self.shown_s["cli_deleted"] = self.wait_shown(ctx, name, present=False)
        for way, argv in (("crm", ["crm", "configure", "delete"]),
                          ("pcs", ["pcs", "resource", "delete"])):
            name, u = self.vms.pop(way)
            ctx.crm(argv + [name])
            # Its definition is still on the pool: shown broken until it goes.
            self.shown_s[way + "_broken"] = self.wait_shown(ctx, name, broken=True)
            self.remove_definition(ctx, u)
            self.shown_s[way + "_deleted"] = self.wait_shown(ctx, name, present=False)
        self.check_equal(ctx, "after the deletes")
        ctx.info.update({"crashed": self.node, "shown_s": self.shown_s})

    def check_equal(self, ctx, when):
        api = self.api_vms(ctx)
        if api is None:
            raise ScenarioFailed("the API does not answer %s" % when)
        # Every VM of the CIB is listed (broken when its definition is gone),
        # and every VM listed as usable has a primitive.
        listed = {v["uuid"] for v in api.values()}
        usable = {v["uuid"] for v in api.values() if "broken" not in v}
        cib = self.cluster_vms(ctx)
        if not cib <= listed or not usable <= cib:
            raise ScenarioFailed("%s the API lists %s without a primitive, the CIB has %s "
                                 "that the API does not list" % (
                                     when, sorted(usable - cib), sorted(cib - listed)))
        self.admin_lists_agree(ctx, when)

    def cleanup(self, ctx):
        """What a failed run left: the API's and ics-admin's VMs through
        ics-admin, the hand-made ones by hand."""
        for way, (name, u) in list(self.vms.items()):
            if way in ("api", "cli"):
                ctx.crm(["ics-admin", "vm", "delete", "--direct", name], check=False)
                continue
            ctx.crm(["cibadmin", "-D", "-o", "resources", "-X", '<primitive id="%s"/>' % name],
                    check=False)
            try:
                self.remove_definition(ctx, u)
            except OSError:
                pass
        manager.remove_manager(ctx)
        if getattr(self, "home", None):
            shutil.rmtree(self.home, ignore_errors=True)


SCENARIOS = [InventoryFourWays]
