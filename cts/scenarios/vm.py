"""VM scenarios: real TCG guests as ocf:ics:vm resources.

Each VM is the lab guest (cts/guest): its init counts in memory and writes
boots/counter/uptime to sector 0 of its disk every second.  The sampler
checks, every 100 ms, that a VM runs at most once in the cluster -- by its
QEMU process (found in the nodes' network namespaces) AND by its sanlock
lease -- and the scenarios read the disk header to prove what the guest
saw: a crash restart finds the data written before (boots + 1, counter
kept), a live migration keeps the guest's memory (same boot, uptime goes on).
"""

import contextlib
import json
import os
import re
import shutil
import subprocess
import threading
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
    (when it takes the lease): two QEMUs of which the newer was started with
    -incoming are a migration, not a double run.  (The older one may carry
    -incoming too: it arrived by an earlier migration.)  The lease invariant
    stays strict."""
    cib = True

    def __init__(self, rid, uuid):
        super().__init__(rid, "qemu")
        self.uuid = uuid

    # One scan of the nodes' QEMU processes serves every tracked VM of a
    # sample (a scan reads every process's namespace link: with 20 VMs,
    # scanning per VM cost more CPU than the guests).
    _scan_lock = threading.Lock()
    _scan = {"t": 0.0, "nodes": None, "by_uuid": {}}

    @classmethod
    def scan(cls, lab, nodes):
        """{uuid: [(start time, node, incoming)]} of all QEMU processes, at most 50 ms old."""
        with cls._scan_lock:
            now = time.monotonic()
            if now - cls._scan["t"] < 0.05 and cls._scan["nodes"] == tuple(nodes):
                return cls._scan["by_uuid"]
            by_uuid = {}
            for n in nodes:
                ino = icslab.ns_inode(lab.node_ns(n))
                if ino is None:
                    continue
                for pid in icslab.pids_in_netns(ino):
                    try:
                        with open("/proc/%d/cmdline" % pid, "rb") as f:
                            argv = f.read().split(b"\0")
                        if not argv or b"qemu-system" not in argv[0] or b"-uuid" not in argv:
                            continue
                        with open("/proc/%d/stat" % pid) as f:
                            started = int(f.read().rsplit(")", 1)[1].split()[19])
                        u = argv[argv.index(b"-uuid") + 1].decode()
                    except (OSError, IndexError, ValueError):
                        continue
                    by_uuid.setdefault(u, []).append((started, n, b"-incoming" in argv))
            cls._scan.update(t=time.monotonic(), nodes=tuple(nodes), by_uuid=by_uuid)
            return by_uuid

    def processes(self, lab, nodes):
        """[(start time, node, incoming)] of this VM's QEMU processes, oldest first."""
        return sorted(self.scan(lab, nodes).get(self.uuid, []))

    def active_on(self, lab, nodes, holders):
        procs = self.processes(lab, nodes)
        if len(procs) == 2 and procs[1][2] and procs[0][1] != procs[1][1]:
            return [procs[0][1]]                           # a migration in progress
        return [n for _, n, _ in procs]


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


def define_vm(ctx, name, memory_mib=128, crash_policy="ha", started=True, load_mib=0,
              bandwidth_mibps=0, disk_beside_pool=False, disk_format="raw"):
    """A VM definition on the pool (vm.json; the agent generates the domain
    XML from it), its lease slot, and its CIB primitive ordered after the pool,
    named after the VM as ICS names it (docs/vm-definition.md, "Resource ids":
    CTS names are ids), so crm_resource and the sampler address it by name.
    A primitive of that name an aborted run left is removed first.
    load_mib > 0 makes the guest keep rewriting that much of its memory;
    bandwidth_mibps > 0 caps its live migrations (metadata, read at migrate time).
    disk_beside_pool puts the disk on the same shared directory but reached
    without the nodes' fault injector: the pool's storage can fail (sanlock
    loses its lockspace) while the guest's disk keeps working.
    disk_format "qcow2" converts the guest's disk (for backups: bitmaps need
    qcow2); read its header with read_header_qcow2()."""
    u = str(uuidlib.uuid4())
    kdir = guest_ready(ctx)
    host_pool = ctx.lab.require_state()["pool"]["host_path"]
    vdir_host = os.path.join(host_pool, ".ics", "vms", u)
    disk_rel = "vms/%s/disk0.%s" % (u, disk_format)
    os.makedirs(os.path.join(host_pool, "vms", u), exist_ok=True)
    raw = os.path.join(host_pool, "vms", u, "disk0.raw")
    subprocess.run([os.path.join(GUEST_DIR, "guest-disk"), raw], check=True, capture_output=True)
    if disk_format != "raw":
        subprocess.run(["qemu-img", "convert", "-f", "raw", "-O", disk_format, raw,
                        os.path.join(host_pool, disk_rel)], check=True, capture_output=True)
        os.unlink(raw)
    slot = ctx.crm(["ics-lease", "slot", "alloc", POOL, u]).stdout.strip().split()[-1]
    slot = int("".join(c for c in slot if c.isdigit()))
    meta = {"format": 1, "uuid": u, "name": name, "vcpus": 1, "memory_mib": memory_mib,
            "virt_type": "qemu", "machine": "pc",
            "kernel": {"path": kdir + "/vmlinux", "initrd": kdir + "/initrd.img",
                       "cmdline": "console=ttyS0 quiet ics_tick=1" +
                                  (" ics_load=%d" % load_mib if load_mib else "")},
            "disks": [{"path": os.path.join(host_pool, disk_rel), "format": disk_format,
                       "shared_outside_pool": True} if disk_beside_pool else
                      {"path": POOL + "/" + disk_rel, "format": disk_format}],
            "crash_policy": crash_policy,
            "lease": {"lockspace": storage.LOCKSPACE, "name": u,
                      "path": POOL + "/.ics/leases", "offset": slot * 1048576}}
    if bandwidth_mibps:
        meta["migration"] = {"bandwidth_mibps": bandwidth_mibps}
    os.makedirs(vdir_host, exist_ok=True)
    with open(os.path.join(vdir_host, "vm.json.tmp"), "w") as f:
        json.dump(meta, f, indent=2)
    os.rename(os.path.join(vdir_host, "vm.json.tmp"), os.path.join(vdir_host, "vm.json"))
    rid = name
    left = leftover_uuid(ctx, rid)
    if left:
        undefine_vm(ctx, rid, left)
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
         '<nvpair id="%(r)s-ft" name="failure-timeout" value="300s"/>'
         '</meta_attributes><operations>'
         '<op id="%(r)s-start" name="start" interval="0" timeout="150s"/>'
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


def leftover_uuid(ctx, rid):
    """The uuid parameter of primitive `rid` when the CIB has one, else None."""
    import xml.etree.ElementTree as ET
    p = ctx.crm(["cibadmin", "-Q", "-o", "resources"], check=False)
    if p.returncode != 0:
        return None
    for prim in ET.fromstring(p.stdout).iter("primitive"):
        if prim.get("id") == rid:
            for nv in prim.iter("nvpair"):
                if nv.get("name") == "uuid":
                    return nv.get("value")
    return None


def undefine_vm(ctx, rid, u):
    """Remove a VM define_vm() made: its constraints, then its primitive (the
    schema refuses to delete a primitive that constraints still name, so the
    runner's own delete fails while they exist), its lease slot and files."""
    for cid, tag in (("%s-after-pool" % rid, "rsc_order"), ("%s-with-pool" % rid, "rsc_colocation")):
        ctx.crm(["cibadmin", "-D", "-o", "constraints", "-X", '<%s id="%s"/>' % (tag, cid)],
                check=False)
    ctx.crm(["cibadmin", "-D", "-o", "resources", "-X", '<primitive id="%s"/>' % rid],
            check=False)
    ctx.crm(["crm_resource", "--cleanup", "--resource", rid], check=False)
    ctx.crm(["ics-lease", "slot", "free", POOL, u, "--force"], check=False)
    host_pool = ctx.lab.require_state()["pool"]["host_path"]
    for d in (os.path.join(host_pool, ".ics", "vms", u), os.path.join(host_pool, "vms", u)):
        shutil.rmtree(d, ignore_errors=True)


def read_header(disk):
    """The guest's disk header, read with O_DIRECT past the host page cache."""
    p = subprocess.run(["dd", "if=" + disk, "iflag=direct", "bs=512", "count=1", "status=none"],
                       capture_output=True, timeout=10)
    fields = dict(kv.split("=", 1) for kv in p.stdout.decode(errors="replace").split()
                  if "=" in kv)
    return {k: int(v) if v.isdigit() else v for k, v in fields.items()}


def read_header_qcow2(disk):
    """The guest's disk header from a qcow2 image, read with qemu-img (-U:
    the running QEMU holds the image's write lock)."""
    d = os.path.dirname(disk)
    out = os.path.join(d, ".header-%d" % os.getpid())
    try:
        p = subprocess.run(["qemu-img", "dd", "-U", "-f", "qcow2", "-O", "raw", "bs=512",
                            "count=1", "if=" + disk, "of=" + out], capture_output=True,
                           timeout=30)
        if p.returncode != 0:
            return {}
        return read_header(out)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(out)


def migration_stats(ctx, node, uuid):
    """QEMU's account of the last incoming migration of this VM on `node`, as
    the agent's migrate_from logged it: {"total_ms", "downtime_ms", "mib"}."""
    p = ctx.lab.node_run(node, ["grep", "-h", "migrated %s:" % uuid,
                                "/var/log/pacemaker/pacemaker.log"], check=False, timeout=10)
    found = re.findall(r"migrated \S+: (\d+) ms, downtime (\d+) ms, (\d+) MiB", p.stdout or "")
    if not found:
        return None
    total, down, mib = (int(x) for x in found[-1])
    return {"total_ms": total, "downtime_ms": down, "mib": mib}


class _Vm(Scenario):
    timeout = 90
    load_mib = 0

    def setup(self, ctx):
        storage.pool_ready(ctx)
        self.rid, self.uuid, self.disk = define_vm(ctx, "cts-" + self.name,
                                                   load_mib=self.load_mib)
        self.qemu = QemuTracked(self.rid, self.uuid)
        return [self.qemu, storage.LeaseTracked(self.uuid)]

    def header(self):
        """The guest's disk header now."""
        return read_header(self.disk)

    def wait_counting(self, ctx, boots, timeout=60):
        """Until the guest has written a header with this boot count."""
        ctx.wait(lambda: self.header().get("boots") == boots and
                 self.header().get("counter", 0) > 0, timeout,
                 "the guest to count (boot %d)" % boots)
        return self.header()

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
    description = "live-migrate a guest that keeps 8 MiB of its memory dirty, with " \
                  "crm_resource --move: same boot, uptime continues, the lease moves"
    load_mib = 8

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
        # the agent's line reaches pacemaker.log when the daemon flushes its log
        try:
            ctx.wait(lambda: migration_stats(ctx, self.target, self.uuid), 15,
                     "QEMU's migration statistics in %s's log" % self.target)
        except ScenarioFailed:
            pass
        ctx.info["qemu"] = migration_stats(ctx, self.target, self.uuid)
        ctx.info.update({"from": self.node, "to": self.target,
                         "uptime_before_ms": self.before["uptime_ms"],
                         "uptime_after_ms": after["uptime_ms"]})

    def teardown(self, ctx):
        ctx.crm(["crm_resource", "--clear", "--resource", self.rid], check=False)


class VmMigrationTargetCrash(_Vm):
    """The guest dirties memory faster than its migration bandwidth cap, so
    the migration cannot finish before the fault: the target is powered off
    while its incoming QEMU receives.  The source's migrate_to fails, the
    target is fenced, and Pacemaker recovers the failed resource (stop,
    start) -- so the guest may reboot, but it never runs twice, its lease is
    where it runs, and what it wrote is there."""
    name = "vm-migrate-target-crash"
    description = "power off the target during a live migration: the target is fenced, " \
                  "the VM runs once, with its lease and its data"
    load_mib = 16
    timeout = 150

    def setup(self, ctx):
        storage.pool_ready(ctx)
        self.rid, self.uuid, self.disk = define_vm(ctx, "cts-" + self.name,
                                                   load_mib=self.load_mib,
                                                   bandwidth_mibps=16)
        self.qemu = QemuTracked(self.rid, self.uuid)
        return [self.qemu, storage.LeaseTracked(self.uuid)]

    def fault(self, ctx):
        self.before, self.t_before = self.counting_now(ctx)
        self.node = ctx.sampler.where(self.rid)[0]
        self.target = [n for n in ctx.lab.nodes() if n != self.node][0]
        ctx.crm(["crm_resource", "--move", "--resource", self.rid, "--node", self.target])
        ctx.wait(lambda: any(inc for _, n, inc in self.qemu.processes(ctx.lab, [self.target])),
                 60, "the incoming QEMU on %s" % self.target)
        time.sleep(1)                      # well into the transfer
        self.t0 = time.monotonic()
        ctx.info["t_crash_wall"] = time.time()
        ctx.lab.power_off(self.target)

    def recovered(self, ctx):
        ctx.wait(lambda: [e for e in ctx.fence_events(ctx.info["t_crash_wall"],
                                                       exclude=(self.target,))
                          if e.get("target") == self.target], 60,
                 "%s to be fenced" % self.target)
        ctx.info["fenced_s"] = round(time.monotonic() - self.t0, 2)
        # the move constraint names the dead target; an operator clears it
        ctx.crm(["crm_resource", "--clear", "--resource", self.rid], node=self.node)
        settled(ctx)
        # anywhere, the target too: fencing rebooted it and it rejoined
        where = ctx.wait_started(self.rid, self.timeout)
        ctx.wait(lambda: ctx.sampler.where(self.uuid) == [where], 60,
                 "the lease held where the VM runs")
        ctx.info["running_s"] = round(time.monotonic() - self.t0, 2)
        # a header written from now on tells how the guest came through
        h0 = read_header(self.disk)
        ctx.wait(lambda: read_header(self.disk) != h0, 60, "the guest to write again")
        h = read_header(self.disk)
        if h.get("boots") == 1:            # kept running: the same memory, uptime goes on
            el = (time.monotonic() - self.t_before) * 1000
            if h.get("uptime_ms", 0) < self.before["uptime_ms"] + el - 3000:
                raise ScenarioFailed("boot 1 but uptime %s after %s" % (h, self.before))
        elif h.get("boots") != 2:          # restarted: it read the header it wrote before
            raise ScenarioFailed("unexpected boot count in %s" % h)
        ctx.info.update({"from": self.node, "to": self.target, "now_on": where,
                         "boots": h.get("boots"), "counter_before": self.before["counter"]})

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


class VmHostOffMany(Scenario):
    """Issue 24, point 4: with stonith-action=off (production's setting) a
    host with many VMs is powered off and stays off.  The first takeover's
    release_id frees the host's delta lease, after which the survivors'
    sanlock no longer lists the host; every later start must find the lease
    not needed (its owner's delta lease reads free) rather than refuse.
    Every VM must run elsewhere, each exactly once (QEMU and lease sampled
    every 100 ms)."""
    name = "vm-host-off-many"
    description = "stonith-action=off: a host with 12 VMs is powered off and kept off; " \
                  "every VM runs on a survivor, once"
    count = 12
    timeout = 300

    def setup(self, ctx):
        storage.pool_ready(ctx)
        self.node = ctx.any_node()
        self.vms = []
        tracked = []
        for i in range(self.count):
            rid, u, disk = define_vm(ctx, "cts-off-%02d" % i, started=False)
            self.vms.append((rid, u, disk))
            ctx.prefer(rid, self.node)
            tracked += [QemuTracked(rid, u), storage.LeaseTracked(u)]
        for rid, _, _ in self.vms:
            ctx.crm(["crm_resource", "--resource", rid, "--meta", "--set-parameter",
                     "target-role", "--parameter-value", "Started"])
        ctx.cluster_option("stonith-action", "off")
        return tracked

    def fault(self, ctx):
        ctx.wait(lambda: all(ctx.sampler.where(rid) == [self.node] for rid, _, _ in self.vms),
                 120, "all %d VMs on %s" % (self.count, self.node))
        self.t0 = time.monotonic()
        ctx.info["t_off_wall"] = time.time()
        ctx.lab.power_off(self.node)

    def recovered(self, ctx):
        last = {}

        def all_elsewhere():
            for rid, u, _ in self.vms:
                w = ctx.sampler.where(rid)
                if len(w) != 1 or w[0] == self.node:
                    return False
                last.setdefault(rid, time.monotonic() - self.t0)
            return True
        ctx.wait(all_elsewhere, self.timeout, "all %d VMs running elsewhere" % self.count)
        ctx.info["last_vm_running_s"] = round(max(last.values()), 2)
        ctx.wait(lambda: all(ctx.sampler.where(u) == ctx.sampler.where(rid)
                             for rid, u, _ in self.vms), 60, "every lease held where its VM runs")
        if ctx.lab.holder_pid(self.node):
            raise ScenarioFailed("%s was powered on again: stonith-action=off not in effect"
                                 % self.node)
        spread = {}
        for rid, _, _ in self.vms:
            spread[ctx.sampler.where(rid)[0]] = spread.get(ctx.sampler.where(rid)[0], 0) + 1
        ctx.info.update({"from": self.node, "vms": self.count, "now_on": spread})

    def teardown(self, ctx):
        ctx.cluster_option("stonith-action", None)
        ctx.lab.power_on(self.node)                     # kept off by the fencing
        for rid, _, _ in self.vms:
            ctx.crm(["crm_resource", "--resource", rid, "--meta", "--set-parameter",
                     "target-role", "--parameter-value", "Stopped"], check=False)

    def cleanup(self, ctx):
        for rid, u, _ in self.vms:
            undefine_vm(ctx, rid, u)


class VmLeaseLostLibvirtdStopped(_Vm):
    """Issue 24, point 6: a host loses its lease while its libvirtd hangs
    (SIGSTOP).  The pool's storage fails on that host (sanlock's renewals
    fail, so past 8 x io_timeout sanlock must kill the lease holders) while
    the guest's disk, reached beside the fault injector, keeps working: the
    guest would go on writing.  With libvirt's default lock failure action
    sanlock kills QEMU itself; with on_lockfailure=poweroff the kill went
    through libvirt's helper and the hung libvirtd (issue 24: ~48 s).
    Proven with the guest's disk counter; the recovery bound is generous
    (sanlock acts after 8 s)."""
    name = "vm-lease-lost-libvirtd-hung"
    description = "libvirtd SIGSTOPped on a host whose pool storage fails: sanlock kills " \
                  "QEMU without libvirtd, the guest's disk counter stops"
    timeout = 30

    def setup(self, ctx):
        storage.pool_ready(ctx)
        self.rid, self.uuid, self.disk = define_vm(ctx, "cts-" + self.name,
                                                   disk_beside_pool=True)
        self.qemu = QemuTracked(self.rid, self.uuid)
        return [self.qemu, storage.LeaseTracked(self.uuid)]

    def fault(self, ctx):
        self.before = self.wait_counting(ctx, 1)
        self.node = ctx.sampler.where(self.rid)[0]
        self.libvirtd = ctx.lab.daemons(self.node).get("libvirtd")
        if not self.libvirtd:
            raise ScenarioFailed("no libvirtd on %s" % self.node)
        os.kill(self.libvirtd, 19)                      # SIGSTOP: libvirtd hangs
        self.t0 = time.monotonic()
        ctx.lab.storage(self.node, "eio")

    def recovered(self, ctx):
        def qemu_gone():
            return not [n for _, n, _ in self.qemu.processes(ctx.lab, [self.node])]
        try:
            ctx.wait(qemu_gone, self.timeout, "QEMU on %s to be killed" % self.node)
        finally:
            # how sanlock killed it (or tried): by signal, or through libvirt's kill path
            p = ctx.crm(["sh", "-c", "sanlock client log_dump | grep -E 'kill|helper|fail' "
                         "| tail -6"], node=self.node, check=False)
            ctx.info["sanlock_kill_log"] = (p.stdout or "").strip()[-600:]
        gone_s = round(time.monotonic() - self.t0, 2)
        h1 = read_header(self.disk)
        time.sleep(4)
        h2 = read_header(self.disk)
        if h2.get("boots") == h1.get("boots") and h2.get("counter") != h1.get("counter"):
            raise ScenarioFailed("the guest kept writing after QEMU was killed: %s -> %s"
                                 % (h1, h2))
        ctx.info.update({"node": self.node, "qemu_killed_s": gone_s,
                         "counter_at_kill": h1.get("counter")})

    def teardown(self, ctx):
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.libvirtd, 18)                  # SIGCONT
        ctx.lab.heal(self.node)
        ctx.lab.power_off(self.node)                    # its lockspace is gone: reset it
        ctx.lab.power_on(self.node)


class VmManualConfirm(_Vm):
    """Review finding 2: a refused takeover left the VM stopped for good.
    The VM's host is powered off and its power fencing fails (a fence
    device whose switch is unreachable, the only fencing level for that
    node); the operator confirms the host down by hand, as the standard
    procedure says (stonith_admin --confirm).  The takeover refuses a
    manual confirmation (refuse-manual, no override); the survivor's start
    must wait, looking again, until sanlock's own expiry frees the lease
    (about 68 s after the power-off) and start the VM then -- once, with
    its data -- instead of failing and leaving it stopped."""
    name = "vm-manual-confirm"
    description = "power fencing fails, the operator confirms by hand: the takeover refuses " \
                  "(manual), start waits for sanlock's expiry and runs the VM, once"
    timeout = 180
    device = "cts-broken-switch"

    def fault(self, ctx):
        self.before = self.wait_counting(ctx, 1)
        self.node = ctx.sampler.where(self.rid)[0]
        # a power switch that does not answer is the node's only fencing level
        x = ('<primitive id="%(d)s" class="stonith" type="fence_ics_lab">'
             '<instance_attributes id="%(d)s-ia">'
             '<nvpair id="%(d)s-hl" name="pcmk_host_list" value="%(n)s"/>'
             '<nvpair id="%(d)s-hc" name="pcmk_host_check" value="static-list"/>'
             '<nvpair id="%(d)s-dir" name="lab_dir" value="/nonexistent/cts-lab"/>'
             '</instance_attributes></primitive>' % {"d": self.device, "n": self.node})
        ctx.crm(["cibadmin", "-C", "-o", "resources", "-X", x])
        level = ('<fencing-level id="cts-fl-broken-%s" target="%s" index="1" devices="%s"/>'
                 % (self.node, self.node, self.device))
        if ctx.crm(["cibadmin", "-C", "-o", "fencing-topology", "-X", level],
                   check=False).returncode != 0:
            ctx.crm(["cibadmin", "-C", "-o", "configuration", "-X",
                     "<fencing-topology>%s</fencing-topology>" % level])
        self.t0 = time.monotonic()
        ctx.info["t_off_wall"] = time.time()
        ctx.lab.power_off(self.node)

    def recovered(self, ctx):
        survivor = next(n for n in ctx.lab.nodes() if n != self.node)
        # Pacemaker tries to fence the node and fails: no recovery yet.  Only
        # a failure completed after the power-off counts: the lab's history
        # keeps those of the scenarios before this one.
        ctx.wait(lambda: any(e["target"] == self.node and e["status"] == "failed"
                             for e in ctx.fence_events(ctx.info["t_off_wall"],
                                                       exclude=(self.node,))), 60,
                 "a failed fencing of %s on record" % self.node)
        elsewhere = [n for n in ctx.sampler.where(self.rid) if n != self.node]
        if elsewhere:
            raise ScenarioFailed("the VM ran elsewhere before any fencing succeeded: %s"
                                 % elsewhere)
        # the operator: "node is off, I checked" (the standard procedure)
        p = ctx.crm(["stonith_admin", "--confirm", self.node, "--timeout", "30"],
                    node=survivor, check=False)
        ctx.info["confirmed_after_s"] = round(time.monotonic() - self.t0, 1)
        if p.returncode != 0:
            raise ScenarioFailed("stonith_admin --confirm: %s" % (p.stderr or p.stdout))
        where = ctx.wait_started(self.rid, self.timeout, not_on=(self.node,))
        ctx.info["running_elsewhere_s"] = round(time.monotonic() - self.t0, 2)
        ctx.wait(lambda: ctx.sampler.where(self.uuid) == [where], 30,
                 "the lease held where the VM runs")
        after = self.wait_counting(ctx, 2, 60)
        log = ctx.lab.node_run(where, ["grep", "-h", "waiting for its lease",
                                       "/var/log/pacemaker/pacemaker.log"],
                               check=False, timeout=10).stdout or ""
        # The newest record of the node decides: the confirmation
        # (refuse-manual) or a retry of the broken device that failed after
        # it (refuse-not-confirmed); either way the start waited.
        refusals = sorted(set(re.findall(r"takeover (refuse-manual|refuse-not-confirmed)",
                                         log)))
        if not refusals:
            raise ScenarioFailed("the start on %s never waited on a refused takeover: %r"
                                 % (where, log[-300:]))
        ctx.info.update({"from": self.node, "to": where, "boots": after["boots"],
                         "waits_logged": log.count("waiting for its lease"),
                         "refusals": refusals})

    def teardown(self, ctx):
        if getattr(self, "node", None):
            ctx.crm(["cibadmin", "-D", "-o", "configuration", "-X",
                     '<fencing-level id="cts-fl-broken-%s"/>' % self.node], check=False)
        ctx.crm(["cibadmin", "-D", "-o", "resources", "-X",
                 '<primitive id="%s"/>' % self.device], check=False)
        if getattr(self, "node", None):
            ctx.lab.power_on(self.node)
            # its failed fencing and the manual confirmation stay behind
            storage.forget_fencing(ctx, self.node)


SCENARIOS = [VmCrash, VmHostCrash, VmLiveMigration, VmMigrationTargetCrash, VmCableCut,
             VmLibvirtdKilled, VmLeaseLostLibvirtdStopped, VmHostOffMany, VmManualConfirm]


def standby(ctx, node, on):
    ctx.crm(["crm_attribute", "--node", node, "--name", "standby", "--update",
             "on" if on else "off"])


def settled(ctx, timeout=120):
    """Until the cluster has nothing left to do (no transition pending)."""
    p = ctx.crm(["crm_resource", "--wait", "--timeout", "%ds" % timeout], check=False)
    if p.returncode != 0:
        raise ScenarioFailed("the cluster did not settle within %ds: %s"
                             % (timeout, (p.stderr or p.stdout).strip()[-200:]))


class VmRollingMaintenance(Scenario):
    """Standby each node in turn with two counting guests.  Every move must be
    a live migration (same boot, uptime continuous), a node leaving standby
    must not pull a VM back by a restart, and the VMs never run twice."""
    name = "vm-rolling-maintenance"
    description = "standby each node in turn: its VMs live-migrate away (and onto the " \
                  "nodes that came back), never restart"
    timeout = 120

    def setup(self, ctx):
        storage.pool_ready(ctx)
        self.vms = []
        tracked = []
        for i in range(2):
            rid, u, disk = define_vm(ctx, "cts-%s-%d" % (self.name, i))
            self.vms.append((rid, u, disk))
            q = QemuTracked(rid, u)
            tracked += [q, storage.LeaseTracked(u)]
        return tracked

    def headers(self, ctx):
        out = {}
        for rid, u, disk in self.vms:
            ctx.wait(lambda: read_header(disk).get("counter", 0) > 0, 60,
                     "%s to count" % rid)
            out[rid] = (read_header(disk), time.monotonic())
        return out

    def check_continuous(self, ctx, before):
        for rid, u, disk in self.vms:
            h0, t0 = before[rid]

            def ok():
                h = read_header(disk)
                if h.get("boots", 1) != 1:
                    raise ScenarioFailed("%s restarted (boot %s); Pacemaker's failed "
                                         "operations: %s" % (rid, h.get("boots"),
                                                             "; ".join(ctx.failed_ops(rid))
                                                             or "none"))
                el = (time.monotonic() - t0) * 1000
                return h.get("uptime_ms", 0) >= h0["uptime_ms"] + el - 3000
            ctx.wait(ok, 30, "%s's uptime to continue" % rid)

    def fault(self, ctx):
        self.moves = []
        for node in ctx.lab.nodes():
            before = self.headers(ctx)
            where0 = {rid: ctx.sampler.where(rid) for rid, _, _ in self.vms}
            standby(ctx, node, True)
            for rid, u, _ in self.vms:
                ctx.wait(lambda: len(ctx.sampler.where(rid)) == 1 and
                         ctx.sampler.where(rid)[0] != node and
                         ctx.sampler.where(u) == ctx.sampler.where(rid), self.timeout,
                         "%s off %s with its lease" % (rid, node))
            settled(ctx)
            self.check_continuous(ctx, before)
            where1 = {rid: ctx.sampler.where(rid) for rid, _, _ in self.vms}
            self.moves += [(rid, where0[rid], where1[rid]) for rid in where0
                           if where0[rid] != where1[rid]]
            before = self.headers(ctx)
            standby(ctx, node, False)
            ctx.wait(lambda: set(ctx.cluster()["resources"].get(storage.CLONE + "-rsc", []))
                     >= set(ctx.lab.nodes()), 60, "the pool back on %s" % node)
            settled(ctx)
            self.check_continuous(ctx, before)
            where2 = {rid: ctx.sampler.where(rid) for rid, _, _ in self.vms}
            if where2 != where1:
                raise ScenarioFailed("%s leaving standby moved VMs: %s -> %s"
                                     % (node, where1, where2))

    def recovered(self, ctx):
        ctx.info["moves"] = ["%s %s->%s" % (r[:11], ",".join(a), ",".join(b))
                             for r, a, b in self.moves]
        # every node went to standby once, so every VM had to move at least once
        unmoved = [rid for rid, _, _ in self.vms if rid not in {m[0] for m in self.moves}]
        if unmoved:
            raise ScenarioFailed("never moved: %s" % ", ".join(unmoved))
        for rid, u, disk in self.vms:
            ctx.info[rid + "_boots"] = read_header(disk).get("boots")

    def teardown(self, ctx):
        for node in ctx.lab.nodes():
            standby(ctx, node, False)

    def cleanup(self, ctx):
        for rid, u, _ in self.vms:
            undefine_vm(ctx, rid, u)


SCENARIOS.append(VmRollingMaintenance)


class VmAdminLifecycle(_Vm):
    """ics-admin end to end on a real cluster, and the stock tools on its
    primitive, addressed by the VM's name (its resource id):
    define+start, list/show, migrate with ics-admin, with crmsh's
    `crm resource move NAME NODE` and with `pcs resource move NAME NODE`,
    `crm_resource --locate -r NAME` after each, refusals, a clean ACPI
    stop, undefine."""
    name = "vm-admin-lifecycle"
    description = "ics-admin define/start/list/show/migrate/stop/delete, crmsh's " \
                  "'crm resource move NAME' and 'pcs resource move NAME' on a real guest"
    vm_name = "cts-admin"

    def admin(self, ctx, args, node=None, rc=0):
        p = ctx.crm(["ics-admin", "vm"] + args + ["--direct"], node=node, check=False)
        if rc is not None and p.returncode != rc:
            raise ScenarioFailed("ics-admin vm %s: exit %d, expected %d: %s"
                                 % (" ".join(args), p.returncode, rc,
                                    (p.stderr or p.stdout).strip()[-300:]))
        return p

    def setup(self, ctx):
        storage.pool_ready(ctx)
        kdir = guest_ready(ctx)
        host_pool = ctx.lab.require_state()["pool"]["host_path"]
        disk_rel = "vms/%s/disk0.raw" % self.vm_name
        os.makedirs(os.path.join(host_pool, "vms", self.vm_name), exist_ok=True)
        self.disk = os.path.join(host_pool, disk_rel)
        if os.path.exists(self.disk):          # left by an aborted run
            os.remove(self.disk)
        subprocess.run([os.path.join(GUEST_DIR, "guest-disk"), self.disk],
                       check=True, capture_output=True)
        p = self.admin(ctx, ["define", "--pool", POOL, "--name", self.vm_name,
                             "--vcpus", "1", "--memory", "128", "--virt-type", "qemu",
                             "--disk", "%s/%s,format=raw" % (POOL, disk_rel),
                             "--kernel", kdir + "/vmlinux", "--initrd", kdir + "/initrd.img",
                             "--cmdline", "console=ttyS0 quiet ics_tick=1",
                             "--crash-policy", "ha", "--migration-unsafe", "--start", "--json"])
        rec = json.loads(p.stdout)
        self.uuid = rec["uuid"]
        # The primitive is named after the VM: crm and pcs take the name.
        self.rid = self.vm_name
        if rec.get("resource") != self.vm_name:
            raise ScenarioFailed("ics-admin vm define: resource %r, expected the name %s"
                                 % (rec.get("resource"), self.vm_name))
        self.qemu = QemuTracked(self.rid, self.uuid)
        return [self.qemu, storage.LeaseTracked(self.uuid)]

    def listed(self, ctx):
        vms = json.loads(self.admin(ctx, ["list", "--json"]).stdout)
        vms = vms.get("vms", vms) if isinstance(vms, dict) else vms
        mine = [v for v in vms if v.get("uuid") == self.uuid]
        if len(mine) != 1:
            raise ScenarioFailed("ics-admin vm list: %d entries for %s" % (len(mine), self.uuid))
        return mine[0]

    def located(self, ctx):
        """Where `crm_resource --locate -r NAME` says the VM runs."""
        out = ctx.crm(["crm_resource", "--locate", "-r", self.vm_name]).stdout
        return re.findall(r"is running on: (\S+)", out)

    def migrate_checked(self, ctx, how, target):
        before, t_before = read_header(self.disk), time.monotonic()
        how(target)
        ctx.wait(lambda: ctx.sampler.where(self.rid) == [target] and
                 ctx.sampler.where(self.uuid) == [target], self.timeout,
                 "the VM and its lease on %s" % target)
        self.continuous(ctx, before, t_before)
        settled(ctx)            # Pacemaker recorded the migration (migrate_from, stop)
        if self.located(ctx) != [target]:
            raise ScenarioFailed("crm_resource --locate -r %s: %s, the VM runs on %s"
                                 % (self.vm_name, self.located(ctx), target))

    def fault(self, ctx):
        self.wait_counting(ctx, 1)
        nodes = ctx.lab.nodes()
        node = ctx.sampler.where(self.rid)[0]
        v = self.listed(ctx)
        shown = json.loads(self.admin(ctx, ["show", self.vm_name, "--json"]).stdout)
        ctx.info["list"] = {k: v.get(k) for k in ("name", "state", "node") if k in v}
        if shown.get("uuid") != self.uuid or shown.get("resource") != self.vm_name:
            raise ScenarioFailed("ics-admin vm show: %s" % shown)
        if self.located(ctx) != [node]:
            raise ScenarioFailed("crm_resource --locate -r %s: %s, the VM runs on %s"
                                 % (self.vm_name, self.located(ctx), node))
        # refusals: nothing may move
        self.admin(ctx, ["migrate", self.vm_name, node], rc=4)       # already there
        self.admin(ctx, ["show", "no-such-vm"], rc=3)
        self.admin(ctx, ["migrate", self.vm_name, "no-such-node"], rc=3)
        other = [n for n in nodes if n != node][0]
        standby(ctx, other, True)
        try:
            self.admin(ctx, ["migrate", self.vm_name, other], rc=4)   # in standby
        finally:
            standby(ctx, other, False)
        storage.pool_everywhere(ctx, "the pool back on %s" % other)
        if ctx.sampler.where(self.rid) != [node]:
            raise ScenarioFailed("a refused command moved the VM")
        # ics-admin migrate (waits, clears its constraint)
        t1 = [n for n in nodes if n != node][0]
        self.migrate_checked(ctx, lambda t: self.admin(ctx, ["migrate", self.vm_name, t]), t1)
        # crmsh on the same primitive, by the VM's name
        t2 = [n for n in nodes if n not in (node, t1)][0]
        self.migrate_checked(ctx, lambda t: ctx.crm(["crm", "resource", "move", self.vm_name, t]),
                             t2)
        ctx.crm(["crm", "resource", "clear", self.vm_name])
        ctx.info["moves"] = [node, t1, t2]
        # pcs 0.11 without pcsd: 'resource move' moves, waits and drops its constraint
        if shutil.which("pcs"):
            self.migrate_checked(
                ctx, lambda t: ctx.crm(["pcs", "resource", "move", self.vm_name, t]), node)
            ctx.info["moves"].append(node)
            left = re.findall(r'id="(cli-[^"]*%s[^"]*)"' % re.escape(self.rid),
                              ctx.crm(["cibadmin", "-Q", "-o", "constraints"]).stdout)
            if left:
                raise ScenarioFailed("pcs resource move left constraints: %s" % left)
        else:
            ctx.info["pcs"] = "not installed"
        # clean stop: the guest sees the ACPI power button and writes "stopped"
        self.admin(ctx, ["stop", self.vm_name, "--wait"])
        ctx.wait(lambda: ctx.sampler.where(self.rid) == [] and
                 ctx.sampler.where(self.uuid) == [], 60, "the VM and its lease gone")
        if read_header(self.disk).get("state") != "stopped":
            raise ScenarioFailed("not a clean shutdown: %s" % read_header(self.disk))

    def recovered(self, ctx):
        self.admin(ctx, ["delete", self.vm_name])
        c = ctx.crm(["cibadmin", "-Q", "-o", "configuration"]).stdout
        if self.uuid in c:
            raise ScenarioFailed("undefine left CIB objects of %s" % self.uuid)
        host_pool = ctx.lab.require_state()["pool"]["host_path"]
        if os.path.exists(os.path.join(host_pool, ".ics", "vms", self.uuid)):
            raise ScenarioFailed("undefine left the definition on the pool")
        self.admin(ctx, ["show", self.vm_name], rc=3)

    def cleanup(self, ctx):
        self.admin(ctx, ["delete", self.vm_name, "--force"], rc=None)


SCENARIOS.append(VmAdminLifecycle)
