"""VM scenarios: real TCG guests as ocf:ics:vm resources.

Each VM is the lab guest (cts/guest): its init counts in memory and writes
boots/counter/uptime to sector 0 of its disk every second.  The sampler
checks, every 100 ms, that a VM runs at most once in the cluster -- by its
QEMU process (found in the nodes' network namespaces) AND by its sanlock
lease -- and the scenarios read the disk header to prove what the guest
saw: a crash restart finds the data written before (boots + 1, counter
kept), a live migration keeps the guest's memory (same boot, uptime goes on).
"""

import json
import os
import subprocess
import time
import uuid as uuidlib

import icslab
from ctslib.runner import Scenario, ScenarioFailed, Tracked
from scenarios import storage

HERE = os.path.dirname(os.path.abspath(__file__))
GUEST_DIR = os.path.join(os.path.dirname(HERE), "guest")
GUEST_CACHE = os.environ.get("ICS_GUEST_CACHE", "/var/cache/ics-lab/guest")
POOL = storage.POOL


class QemuTracked(Tracked):
    """A VM runs on a node when a QEMU process with its uuid lives in the
    node's network namespace.  During a live migration the destination's
    QEMU exists too, started with -incoming and paused until the switchover
    (when it takes the lease): one incoming QEMU beside one other is a
    migration, not a double run.  The lease invariant stays strict."""
    cib = True

    def __init__(self, rid, uuid):
        super().__init__(rid, "qemu")
        self.uuid = uuid

    def processes(self, lab, nodes):
        """[(node, incoming)] of this VM's QEMU processes."""
        out = []
        for n in nodes:
            ino = icslab.ns_inode(lab.node_ns(n))
            if ino is None:
                continue
            for pid in icslab.pids_in_netns(ino):
                try:
                    with open("/proc/%d/cmdline" % pid, "rb") as f:
                        argv = f.read().split(b"\0")
                except OSError:
                    continue
                if argv and b"qemu-system" in argv[0] and self.uuid.encode() in argv:
                    out.append((n, b"-incoming" in argv))
        return out

    def active_on(self, lab, nodes, holders):
        procs = self.processes(lab, nodes)
        if len(procs) == 2 and sum(inc for _, inc in procs) == 1:
            return [n for n, inc in procs if not inc]     # a migration in progress
        return [n for n, _ in procs]


def guest_ready(ctx):
    """Build (cached) the lab guest and put its kernel on the shared pool."""
    p = subprocess.run([os.path.join(GUEST_DIR, "build-guest"), "--no-boot-check", GUEST_CACHE],
                       capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        raise ScenarioFailed("build-guest failed: %s" % (p.stderr or p.stdout).strip()[-300:])
    host_pool = ctx.lab.require_state()["pool"]["host_path"]
    dst = os.path.join(host_pool, "guest")
    os.makedirs(dst, exist_ok=True)
    for f in ("vmlinux", "initrd.img"):
        src = os.path.realpath(os.path.join(GUEST_CACHE, f))
        if not os.path.exists(os.path.join(dst, f)):
            subprocess.run(["cp", src, os.path.join(dst, f + ".tmp")], check=True)
            os.rename(os.path.join(dst, f + ".tmp"), os.path.join(dst, f))
    return POOL + "/guest"


def define_vm(ctx, name, memory_mib=128, crash_policy="ha", started=True):
    """A VM definition on the pool (vm.json; the agent generates the domain
    XML from it), its lease slot, and its CIB primitive ordered after the pool."""
    u = str(uuidlib.uuid4())
    kdir = guest_ready(ctx)
    host_pool = ctx.lab.require_state()["pool"]["host_path"]
    vdir_host = os.path.join(host_pool, ".ics", "vms", u)
    disk_rel = "vms/%s/disk0.raw" % u
    os.makedirs(os.path.join(host_pool, "vms", u), exist_ok=True)
    subprocess.run([os.path.join(GUEST_DIR, "guest-disk"), os.path.join(host_pool, disk_rel)],
                   check=True, capture_output=True)
    slot = ctx.crm(["ics-lease", "slot", "alloc", POOL, u]).stdout.strip().split()[-1]
    slot = int("".join(c for c in slot if c.isdigit()))
    meta = {"format": 1, "uuid": u, "name": name, "vcpus": 1, "memory_mib": memory_mib,
            "virt_type": "qemu", "machine": "pc",
            "kernel": {"path": kdir + "/vmlinux", "initrd": kdir + "/initrd.img",
                       "cmdline": "console=ttyS0 quiet ics_tick=1"},
            "disks": [{"path": POOL + "/" + disk_rel, "format": "raw"}],
            "crash_policy": crash_policy,
            "lease": {"lockspace": storage.LOCKSPACE, "name": u,
                      "path": POOL + "/.ics/leases", "offset": slot * 1048576}}
    os.makedirs(vdir_host, exist_ok=True)
    with open(os.path.join(vdir_host, "vm.json.tmp"), "w") as f:
        json.dump(meta, f, indent=2)
    os.rename(os.path.join(vdir_host, "vm.json.tmp"), os.path.join(vdir_host, "vm.json"))
    rid = "vm-" + u
    x = ('<primitive id="%(r)s" class="ocf" provider="ics" type="vm">'
         '<instance_attributes id="%(r)s-ia">'
         '<nvpair id="%(r)s-uuid" name="uuid" value="%(u)s"/>'
         '<nvpair id="%(r)s-pool" name="pool" value="%(p)s"/>'
         '<nvpair id="%(r)s-unsafe" name="migration_unsafe" value="true"/>'
         '</instance_attributes>'
         '<meta_attributes id="%(r)s-meta">'
         '<nvpair id="%(r)s-am" name="allow-migrate" value="true"/>'
         '<nvpair id="%(r)s-tr" name="target-role" value="%(role)s"/>'
         '<nvpair id="%(r)s-st" name="resource-stickiness" value="1000"/>'
         '</meta_attributes><operations>'
         '<op id="%(r)s-start" name="start" interval="0" timeout="90s"/>'
         '<op id="%(r)s-stop" name="stop" interval="0" timeout="90s"/>'
         '<op id="%(r)s-mon" name="monitor" interval="5s" timeout="30s"/>'
         '<op id="%(r)s-mt" name="migrate_to" interval="0" timeout="120s"/>'
         '<op id="%(r)s-mf" name="migrate_from" interval="0" timeout="120s"/>'
         '</operations></primitive>' % {"r": rid, "u": u, "p": POOL,
                                         "role": "Started" if started else "Stopped"})
    ctx.crm(["cibadmin", "-C", "-o", "resources", "-X", x])
    for x in ('<rsc_order id="%s-after-pool" first="%s" then="%s" kind="Mandatory"/>'
              % (rid, storage.CLONE, rid),
              '<rsc_colocation id="%s-with-pool" rsc="%s" with-rsc="%s" score="INFINITY"/>'
              % (rid, rid, storage.CLONE)):
        ctx.crm(["cibadmin", "-C", "-o", "constraints", "-X", x])
    return rid, u, os.path.join(host_pool, disk_rel)


def undefine_vm(ctx, rid, u):
    for cid, tag in (("%s-after-pool" % rid, "rsc_order"), ("%s-with-pool" % rid, "rsc_colocation")):
        ctx.crm(["cibadmin", "-D", "-o", "constraints", "-X", '<%s id="%s"/>' % (tag, cid)],
                check=False)
    ctx.crm(["ics-lease", "slot", "free", POOL, u, "--force"], check=False)


def read_header(disk):
    """The guest's disk header, read with O_DIRECT past the host page cache."""
    p = subprocess.run(["dd", "if=" + disk, "iflag=direct", "bs=512", "count=1", "status=none"],
                       capture_output=True, timeout=10)
    fields = dict(kv.split("=", 1) for kv in p.stdout.decode(errors="replace").split()
                  if "=" in kv)
    return {k: int(v) if v.isdigit() else v for k, v in fields.items()}


class _Vm(Scenario):
    timeout = 90

    def setup(self, ctx):
        storage.pool_ready(ctx)
        self.rid, self.uuid, self.disk = define_vm(ctx, "cts-" + self.name)
        self.qemu = QemuTracked(self.rid, self.uuid)
        return [self.qemu, storage.LeaseTracked(self.uuid)]

    def wait_counting(self, ctx, boots, timeout=60):
        """Until the guest has written a header with this boot count."""
        ctx.wait(lambda: read_header(self.disk).get("boots") == boots and
                 read_header(self.disk).get("counter", 0) > 0, timeout,
                 "the guest to count (boot %d)" % boots)
        return read_header(self.disk)

    def teardown(self, ctx):
        pass

    def counting_now(self, ctx):
        h = self.wait_counting(ctx, 1)
        return h, time.monotonic()

    def continuous(self, ctx, before, t_before, timeout=30):
        """The guest kept running through a migration: a header written
        after it, by the same boot, whose uptime covers the time since
        `before` was read (a cold restart would start again from zero)."""
        def ok():
            h = read_header(self.disk)
            if h.get("boots", 1) != 1:
                raise ScenarioFailed("the guest rebooted: %s" % h)
            elapsed_ms = (time.monotonic() - t_before) * 1000
            return h if h.get("uptime_ms", 0) >= before["uptime_ms"] + elapsed_ms - 3000 \
                and h.get("uptime_ms", 0) > before["uptime_ms"] + 1000 else None
        ctx.wait(ok, timeout, "the guest's uptime to continue")
        return read_header(self.disk)

    def cleanup(self, ctx):
        undefine_vm(ctx, self.rid, self.uuid)


class VmCrash(_Vm):
    name = "vm-crash"
    description = "kill QEMU: the VM is restarted and finds the data it wrote"

    def fault(self, ctx):
        self.before = self.wait_counting(ctx, 1)
        self.node = ctx.sampler.where(self.rid)[0]
        self.t0 = time.monotonic()
        ino = icslab.ns_inode(ctx.lab.node_ns(self.node))
        for pid in icslab.pids_in_netns(ino):
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                if self.uuid.encode() in f.read().split(b"\0"):
                    os.kill(pid, 9)

    def recovered(self, ctx):
        ctx.wait(lambda: ctx.sampler.where(self.rid) == [], 30, "QEMU gone")
        ctx.wait_started(self.rid, self.timeout)
        ctx.info["running_again_s"] = round(time.monotonic() - self.t0, 2)
        after = self.wait_counting(ctx, 2, self.timeout)
        ctx.info.update({"node": self.node, "now_on": ctx.sampler.where(self.rid),
                         "counter_before": self.before["counter"], "boots": after["boots"]})


class VmHostCrash(_Vm):
    name = "vm-host-crash"
    description = "power off the VM's host: fenced, the VM runs on a survivor with its lease " \
                  "and finds its data"

    def fault(self, ctx):
        self.before = self.wait_counting(ctx, 1)
        self.node = ctx.sampler.where(self.rid)[0]
        self.t0 = time.monotonic()
        ctx.info["t_crash_wall"] = time.time()
        ctx.lab.power_off(self.node)

    def recovered(self, ctx):
        where = ctx.wait_started(self.rid, self.timeout, not_on=(self.node,))
        ctx.info["running_elsewhere_s"] = round(time.monotonic() - self.t0, 2)
        ctx.wait(lambda: ctx.sampler.where(self.uuid) == [where], 30,
                 "the lease held where the VM runs")
        ctx.info["lease_elsewhere_s"] = round(time.monotonic() - self.t0, 2)
        after = self.wait_counting(ctx, 2, 60)
        ctx.info.update({"from": self.node, "to": where, "boots": after["boots"],
                         "counter_before": self.before["counter"]})


class VmLiveMigration(_Vm):
    name = "vm-migrate"
    description = "live-migrate a counting guest with crm_resource --move: same boot, " \
                  "uptime continues, the lease moves"

    def fault(self, ctx):
        self.before, self.t_before = self.counting_now(ctx)
        self.node = ctx.sampler.where(self.rid)[0]
        self.target = [n for n in ctx.lab.nodes() if n != self.node][0]
        self.t0 = time.monotonic()
        ctx.crm(["crm_resource", "--move", "--resource", self.rid, "--node", self.target])

    def recovered(self, ctx):
        ctx.wait(lambda: ctx.sampler.where(self.rid) == [self.target], self.timeout,
                 "the VM on %s" % self.target)
        ctx.info["migrated_s"] = round(time.monotonic() - self.t0, 2)
        ctx.wait(lambda: ctx.sampler.where(self.uuid) == [self.target], 30,
                 "the lease on %s" % self.target)
        after = self.continuous(ctx, self.before, self.t_before)
        ctx.info.update({"from": self.node, "to": self.target,
                         "uptime_before_ms": self.before["uptime_ms"],
                         "uptime_after_ms": after["uptime_ms"]})

    def teardown(self, ctx):
        ctx.crm(["crm_resource", "--clear", "--resource", self.rid], check=False)


class VmCableCut(VmHostCrash):
    name = "vm-cable-cut"
    description = "cut the cable of the VM's host: fenced, the VM runs on a survivor once"

    def fault(self, ctx):
        self.before = self.wait_counting(ctx, 1)
        self.node = ctx.sampler.where(self.rid)[0]
        self.t0 = time.monotonic()
        ctx.info["t_crash_wall"] = time.time()
        ctx.lab.cut(self.node)

    def teardown(self, ctx):
        ctx.lab.heal(self.node)


class VmLibvirtdKilled(_Vm):
    name = "vm-libvirtd-killed"
    description = "kill libvirtd on the VM's host: the VM never runs twice and runs " \
                  "somewhere afterwards, with its data"

    def fault(self, ctx):
        self.before = self.wait_counting(ctx, 1)
        self.node = ctx.sampler.where(self.rid)[0]
        pid = ctx.lab.daemons(self.node).get("libvirtd")
        if not pid:
            raise ScenarioFailed("no libvirtd on %s" % self.node)
        os.kill(pid, 9)

    def recovered(self, ctx):
        # the agent cannot ask libvirtd: Pacemaker recovers (stop fails ->
        # fencing -> start elsewhere); the sampler guards against doubles
        time.sleep(12)
        ctx.wait(lambda: len(ctx.sampler.where(self.rid)) == 1 and
                 ctx.sampler.where(self.uuid) == ctx.sampler.where(self.rid), self.timeout,
                 "the VM running once, with its lease")
        h = read_header(self.disk)
        ctx.info.update({"from": self.node, "now_on": ctx.sampler.where(self.rid),
                         "boots": h.get("boots")})


SCENARIOS = [VmCrash, VmHostCrash, VmLiveMigration, VmCableCut, VmLibvirtdKilled]
