"""Backup scenarios: ics-backup on a real TCG guest that writes to its disk.

The guest (cts/guest) rewrites the header of its qcow2 disk every second,
so every backup has something new, and a restored disk tells by its header
which moment it holds.  The scenario walks a chain through what used to
break changed-block tracking -- a live migration, a clean stop and start
(with a backup of the stopped VM between them), a crash of QEMU -- and
checks after each which kind of backup ICS made and why, then restores the
stopped VM's and the paused guest's backups bit-identical to their disk.
"""

import contextlib
import json
import os
import shutil
import subprocess
import time

import icslab
from ctslib import icsapi
from ctslib.runner import ScenarioFailed
from scenarios import manager, storage
from scenarios.vm import (QemuTracked, _Vm, define_vm, read_header, read_header_qcow2,
                          settled)

POOL = storage.POOL
REPO = POOL + "/cts-backups"


class VmBackupChain(_Vm):
    name = "vm-backup-chain"
    description = ("ics-backup on a guest writing to its qcow2 disk: full, incremental, "
                   "incremental after a live migration, while stopped and after the start, "
                   "full (and why) after QEMU is killed, restores bit-identical to the "
                   "stopped and the paused guest's disk")
    timeout = 120

    def prepare_disk(self):
        """Before the VM starts (QEMU then holds the image's write lock)."""

    def setup(self, ctx):
        storage.pool_ready(ctx)
        self.rid, self.uuid, self.disk = define_vm(ctx, "cts-" + self.name,
                                                   disk_format="qcow2", started=False)
        self.prepare_disk()
        ctx.crm(["crm_resource", "--resource", self.rid, "--meta", "--set-parameter",
                 "target-role", "--parameter-value", "Started"])
        host_pool = ctx.lab.require_state()["pool"]["host_path"]
        self.node_disk = POOL + self.disk[len(host_pool):]
        self.host_repo = os.path.join(host_pool, "cts-backups")
        shutil.rmtree(self.host_repo, ignore_errors=True)
        os.makedirs(self.host_repo)
        self.tool(ctx, ["init", REPO])
        self.qemu = QemuTracked(self.rid, self.uuid)
        return [self.qemu, storage.LeaseTracked(self.uuid)]

    # ---- helpers ---------------------------------------------------------
    def tool(self, ctx, args, node=None, rc=0):
        node = node or ctx.any_node()
        # checksums of whole disks take their time
        p = ctx.lab.node_run(node, ["ics-backup"] + args, check=False, timeout=300)
        if rc is not None and p.returncode != rc:
            raise ScenarioFailed("ics-backup %s: exit %d, expected %d: %s"
                                 % (" ".join(args), p.returncode, rc,
                                    (p.stderr or p.stdout).strip()[-400:]))
        return p

    def header(self):
        return read_header_qcow2(self.disk)

    def wait_newer(self, ctx, than):
        ctx.wait(lambda: self.header().get("counter", 0) > than.get("counter", 0) or
                 self.header().get("boots", 0) != than.get("boots"), 30,
                 "the guest to write a newer header")
        return self.header()

    def node(self, ctx):
        where = ctx.sampler.where(self.rid)
        if len(where) != 1:
            raise ScenarioFailed("the VM runs on %s" % where)
        return where[0]

    def backup(self, ctx, label, node=None, stopped=False):
        """A backup on the node that runs the VM (any node when it is
        stopped): its JSON summary."""
        node = node or (ctx.any_node() if stopped else self.node(ctx))
        p = self.tool(ctx, ["run", REPO, "--vm", self.uuid, "--pool", POOL, "--json"] +
                      (["--stopped"] if stopped else []), node=node)
        b = json.loads(p.stdout)
        b["label"] = label
        b["node"] = node
        self.backups.append(b)
        return b

    def expect(self, b, kind, reason=None):
        if b["kind"] != kind or (reason and reason not in (b.get("full_reason") or "")):
            raise ScenarioFailed("backup '%s' is %s (%s), expected %s%s"
                                 % (b["label"], b["kind"], b.get("full_reason"), kind,
                                    " because '%s'" % reason if reason else ""))

    def virsh(self, ctx, node, *args):
        return ctx.lab.node_run(node, ["virsh", "-c", "qemu:///system"] + list(args),
                                check=False, timeout=30)

    def paused_backup_restored(self, ctx, node):
        """A backup of the paused guest (its disk stands still), incremental,
        restored to raw and compared with the disk: (the backup, the
        restored file's path on the nodes)."""
        p = self.virsh(ctx, node, "suspend", self.uuid)
        if p.returncode != 0:
            raise ScenarioFailed("virsh suspend: %s" % p.stderr.strip())
        try:
            b = self.backup(ctx, "paused", node=node)
            self.expect(b, "incremental")
            restored = self.restored_identical(ctx, b, node, "the paused guest's")
        finally:
            self.virsh(ctx, node, "resume", self.uuid)
        return b, restored

    def restored_identical(self, ctx, b, node, whose):
        """Backup @b restored to raw on @node and compared with the disk,
        which stands still meanwhile: the restored file's path on the nodes."""
        restored = REPO + "/restored-%s.raw" % b["id"]
        self.tool(ctx, ["restore", REPO, b["id"], "--format", "raw", "--to", restored],
                  node=node)
        p = ctx.lab.node_run(node, ["qemu-img", "compare", "-U", "-f", "qcow2", "-F",
                                    "raw", self.node_disk, restored],
                             check=False, timeout=120)
        if p.returncode != 0:
            raise ScenarioFailed("the restored disk differs from %s: %s"
                                 % (whose, (p.stdout + p.stderr).strip()[-300:]))
        ctx.info.setdefault("identical", []).append("%s: %s" % (b["label"], p.stdout.strip()))
        return restored

    # ---- the walk ------------------------------------------------------------
    def fault(self, ctx):
        self.backups = []
        h = self.wait_counting(ctx, 1)
        b1 = self.backup(ctx, "first")
        self.expect(b1, "full", "first backup")
        h = self.wait_newer(ctx, h)
        b2 = self.backup(ctx, "second")
        self.expect(b2, "incremental")
        if b2["parent"] != b1["id"]:
            raise ScenarioFailed("the second backup's parent is %s, not %s"
                                 % (b2["parent"], b1["id"]))
        # another node refuses: the VM does not run there
        other = [n for n in ctx.lab.nodes() if n != b2["node"]][0]
        p = self.tool(ctx, ["run", REPO, "--vm", self.uuid, "--pool", POOL], node=other, rc=2)
        ctx.info["elsewhere_refused"] = (p.stderr or "").strip()[-120:]
        # a backup "of the stopped VM" while it runs: its lease refuses it
        p = self.tool(ctx, ["run", REPO, "--vm", self.uuid, "--pool", POOL, "--stopped"],
                      node=other, rc=3)
        if "lease is held" not in (p.stderr or ""):
            raise ScenarioFailed("--stopped on the running VM: %s" % p.stderr.strip())
        ctx.info["stopped_refused"] = (p.stderr or "").strip()[-160:]

        # live migration: libvirt forgets the checkpoint, the agent redefines it
        src = self.node(ctx)
        target = [n for n in ctx.lab.nodes() if n != src][0]
        ctx.crm(["crm_resource", "--move", "--resource", self.rid, "--node", target])
        ctx.wait(lambda: ctx.sampler.where(self.rid) == [target], 90, "the VM on %s" % target)
        # the migration ends with migrate_from: a CIB change before it would
        # make Pacemaker recover the VM by a stop and a start
        settled(ctx)
        ctx.crm(["crm_resource", "--clear", "--resource", self.rid], check=False)
        h = self.wait_newer(ctx, self.header())
        b3 = self.backup(ctx, "after migration", node=target)
        self.expect(b3, "incremental")
        self.after_migration = h

        # clean stop and start: the bitmap is stored in the image at stop;
        # the stopped VM's backup reads it (qemu-storage-daemon), adds the
        # next checkpoint's, and restores identical to the still disk; the
        # agent redefines that checkpoint at the start
        for role in ("Stopped", "Started"):
            ctx.crm(["crm_resource", "--resource", self.rid, "--meta", "--set-parameter",
                     "target-role", "--parameter-value", role])
            if role == "Stopped":
                ctx.wait(lambda: ctx.sampler.where(self.rid) == [], 90, "the VM stopped")
                bs = self.backup(ctx, "while stopped", stopped=True)
                self.expect(bs, "incremental")
                self.restored_identical(ctx, bs, bs["node"], "the stopped VM's")
        ctx.wait_started(self.rid, 90)
        h = self.wait_counting(ctx, 2, 60)
        b4 = self.backup(ctx, "after stop/start")
        self.expect(b4, "incremental")
        if b4["parent"] != bs["id"]:
            raise ScenarioFailed("the backup after the start has parent %s, not the stopped "
                                 "VM's %s" % (b4["parent"], bs["id"]))

        # QEMU killed: the bitmap is marked in use, not trusted; the next is full
        node = self.node(ctx)
        ino = icslab.ns_inode(ctx.lab.node_ns(node))
        for pid in icslab.pids_in_netns(ino):
            with contextlib.suppress(OSError), open("/proc/%d/cmdline" % pid, "rb") as f:
                if self.uuid.encode() in f.read().split(b"\0"):
                    os.kill(pid, 9)
        ctx.wait(lambda: ctx.sampler.where(self.rid) == [], 30, "QEMU gone")
        ctx.wait_started(self.rid, 90)
        self.wait_counting(ctx, 3, 60)
        b5 = self.backup(ctx, "after QEMU was killed")
        self.expect(b5, "full", "did not survive")

    def recovered(self, ctx):
        # the paused guest: its disk stands still; backup, restore, compare
        node = self.node(ctx)
        b6, restored = self.paused_backup_restored(ctx, node)
        # restoring onto an existing file is refused, the file untouched
        self.tool(ctx, ["restore", REPO, b6["id"], "--format", "raw", "--to", restored],
                  node=node, rc=3)
        # an older point: the backup after the migration holds that boot's header
        b3 = self.backups[2]
        older = REPO + "/restored-%s.raw" % b3["id"]
        self.tool(ctx, ["restore", REPO, b3["id"], "--format", "raw", "--to", older],
                  node=node)
        hh = read_header(os.path.join(self.host_repo, "restored-%s.raw" % b3["id"]))
        if hh.get("boots") != 1 or hh.get("counter", 0) < self.after_migration["counter"]:
            raise ScenarioFailed("the restore of '%s' holds %s, expected boot 1, counter >= %d"
                                 % (b3["label"], hh, self.after_migration["counter"]))
        p = self.tool(ctx, ["verify", REPO])
        if p.stdout.count(": ok") != len(self.backups):
            raise ScenarioFailed("verify: %s" % p.stdout.strip())
        listed = json.loads(self.tool(ctx, ["list", REPO, "--json"]).stdout)
        if len(listed["backups"]) != len(self.backups) or listed["problems"]:
            raise ScenarioFailed("list: %s" % listed)
        ctx.info["chain"] = ["%s: %s%s (%d B)" % (b["label"], b["kind"],
                                                   " - " + b["full_reason"]
                                                   if b.get("full_reason") else "",
                                                   b["bytes_written"])
                             for b in self.backups]
        ctx.info["restored_older"] = {"boots": hh.get("boots"), "counter": hh.get("counter")}

    def cleanup(self, ctx):
        super().cleanup(ctx)
        shutil.rmtree(self.host_repo, ignore_errors=True)
        # a backup writes disks' worth of data to the pool: flushed before
        # the next scenario, whose sanlock renewals (io_timeout 1 s in the
        # lab) must not queue behind it
        subprocess.run(["sync"], timeout=300, check=False)


class VmBackupFaults(VmBackupChain):
    """Faults while a backup runs, on a guest whose 512 MiB disk is full of
    data (so a full backup lasts long enough to be hit): a live migration
    (the agent aborts the backup, which fails cleanly; the chain stays
    valid and the next backup is incremental), then a power-off of the
    VM's host (the backup dies with it and leaves only a .partial
    directory; the VM fails over; the next backup is full, says why,
    removes the leftovers, and restores bit-identical)."""
    name = "vm-backup-faults"
    description = ("backups hit by a live migration (aborted cleanly, the next one "
                   "incremental) and by a power-off of the VM's host (nothing half-written "
                   "listed; the next one full, correct)")
    timeout = 150

    def prepare_disk(self):
        # 512 MiB, written full (the guest's header sector left alone)
        subprocess.run(["qemu-img", "resize", "-q", "-f", "qcow2", self.disk, "512M"],
                       check=True, capture_output=True, timeout=60)
        subprocess.run(["qemu-io", "-f", "qcow2", "-c", "write -P 0x5a 1M 508M", self.disk],
                       check=True, capture_output=True, timeout=120)

    def in_background(self, ctx, node, full=True):
        argv = ctx.lab.nsenter(node) + ["ics-backup", "run", REPO, "--vm", self.uuid,
                                        "--pool", POOL, "--json"] + (["--full"] if full else [])
        return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def partial(self):
        d = os.path.join(self.host_repo, "vms", self.uuid)
        return [n for n in os.listdir(d) if n.endswith(".partial")] if os.path.isdir(d) else []

    def copying(self, ctx, bg):
        """Until the backup in flight has written some of its image."""
        def ok():
            if bg.poll() is not None:
                raise ScenarioFailed("the backup ended before the fault (exit %d; the VM on "
                                     "%s): %s"
                                     % (bg.returncode, ctx.sampler.where(self.rid),
                                        (bg.stderr.read() or bg.stdout.read()).strip()[-300:]))
            for n in self.partial():
                f = os.path.join(self.host_repo, "vms", self.uuid, n, "vda.qcow2")
                if os.path.exists(f) and os.stat(f).st_blocks * 512 > (16 << 20):
                    return True
            return False
        ctx.wait(ok, 30, "the backup to be copying")

    def fault(self, ctx):
        self.backups = []
        self.wait_counting(ctx, 1)
        t0 = time.monotonic()
        b1 = self.backup(ctx, "first")
        self.expect(b1, "full", "first backup")
        ctx.info["full_512m_s"] = round(time.monotonic() - t0, 1)

        # a live migration while a full backup copies
        src = self.node(ctx)
        target = [n for n in ctx.lab.nodes() if n != src][0]
        bg = self.in_background(ctx, src)
        self.copying(ctx, bg)
        ctx.crm(["crm_resource", "--move", "--resource", self.rid, "--node", target])
        out, err = bg.communicate(timeout=120)
        ctx.wait(lambda: ctx.sampler.where(self.rid) == [target], 90, "the VM on %s" % target)
        settled(ctx)
        ctx.crm(["crm_resource", "--clear", "--resource", self.rid], check=False)
        if bg.returncode == 0:
            raise ScenarioFailed("the backup survived the migration it should have given way "
                                 "to: %s" % out.strip()[-200:])
        ctx.info["backup_during_migration"] = err.strip()[-200:]
        if self.partial():
            raise ScenarioFailed("the aborted backup left %s" % self.partial())
        b2 = self.backup(ctx, "after the aborted one", node=target)
        self.expect(b2, "incremental")
        if b2["parent"] != b1["id"]:
            raise ScenarioFailed("the backup after the aborted one is relative to %s, not %s"
                                 % (b2["parent"], b1["id"]))

        # the VM's host powered off while a full backup copies
        self.wait_newer(ctx, self.header())
        bg = self.in_background(ctx, target)
        self.copying(ctx, bg)
        ctx.lab.power_off(target)
        bg.communicate(timeout=60)
        self.crashed = target
        if not self.partial():
            raise ScenarioFailed("no .partial directory after the host died mid-backup")
        self.leftover = self.partial()

    def recovered(self, ctx):
        where = ctx.wait_started(self.rid, self.timeout, not_on=(self.crashed,))
        self.wait_counting(ctx, 2, 90)
        listed = json.loads(self.tool(ctx, ["list", REPO, "--json"], node=where).stdout)
        if len(listed["backups"]) != 2:
            raise ScenarioFailed("the backup cut by the power-off is listed: %s"
                                 % [b["id"] for b in listed["backups"]])
        b3 = self.backup(ctx, "after the host died", node=where)
        self.expect(b3, "full", "did not survive")
        if self.partial():
            raise ScenarioFailed("the next backup left the dead one's %s" % self.partial())
        # correct: of the paused guest, bit-identical
        b4, _ = self.paused_backup_restored(ctx, where)
        p = self.tool(ctx, ["verify", REPO, b4["id"]], node=where)
        ctx.info.update({"from": self.crashed, "to": where, "left_by_the_dead": self.leftover,
                         "chain": ["%s: %s (%d MiB)" % (b["label"], b["kind"],
                                                        b["bytes_written"] >> 20)
                                   for b in self.backups]})


class VmRestoreDeleted(_Vm):
    """Through the manager on the VIP: a running guest backed up (the
    manager asks the libvirtd of its host), stopped, deleted, its disk
    removed from the pool; its backup is still listed, restored to a new VM
    (new name, uuid and lease), which is backed up while stopped and
    restored in place from that backup (each under its lease), then starts
    and boots from the restored disk: the guest's header counts boot 2 of
    the disk it wrote in boot 1."""
    name = "vm-restore-deleted"
    description = ("a guest backed up through the manager, deleted with its disk, restored "
                   "to a new VM that boots from the restored disk")
    timeout = 150

    def setup(self, ctx):
        self.manager_ready(ctx)
        storage.pool_ready(ctx)
        self.rid, self.uuid, self.disk = define_vm(ctx, "cts-" + self.name, disk_format="qcow2")
        self.repository_ready(ctx)
        return [QemuTracked(self.rid, self.uuid), storage.LeaseTracked(self.uuid),
                manager.ProcessTracked(), storage.LeaseTracked(manager.LEASE)]

    def manager_ready(self, ctx):
        """The manager set up, and a client of its API logged in."""
        self.password = manager.setup_manager(ctx)
        self.api = manager.api(ctx.lab, manager.login(ctx, self.password), timeout=30,
                               connect_timeout=5)
        self.restored = None

    def repository_ready(self, ctx):
        """An empty repository on the pool, registered as cts-mgr."""
        host_pool = ctx.lab.require_state()["pool"]["host_path"]
        self.host_repo = os.path.join(host_pool, "cts-mgr-backups")
        shutil.rmtree(self.host_repo, ignore_errors=True)
        os.makedirs(self.host_repo)
        self.call("POST", "/api/v1/backup-repositories",
                  {"name": "cts-mgr", "path": POOL + "/cts-mgr-backups"})

    def header(self):
        return read_header_qcow2(self.disk)

    # ---- the API -----------------------------------------------------------
    def call(self, method, path, body=None):
        try:
            return self.api.call(method, path, body)
        except (icsapi.ApiError,) + icsapi.TRANSPORT_ERRORS as e:
            raise ScenarioFailed("%s %s: %s" % (method, path, e))

    def task(self, ctx, method, path, body=None, timeout=120):
        """A call answered by a task: the task once it ended well."""
        t = self.call(method, path, body)
        last = {}

        def ended():
            last.update(self.call("GET", "/api/v1/tasks/%d" % t["id"]))
            return last["state"] not in ("queued", "running")
        ctx.wait(ended, timeout, "task %d (%s %s)" % (t["id"], method, path))
        if last["state"] != "succeeded":
            raise ScenarioFailed("%s %s: task %s: %s" % (method, path, last["state"],
                                                         last.get("error")))
        return last.get("result") or {}

    def state(self, u):
        try:
            return (self.api.get("/api/v1/vms/" + u).get("runtime") or {}).get("state")
        except (icsapi.ApiError,) + icsapi.TRANSPORT_ERRORS:
            return None

    # ---- the walk ------------------------------------------------------------
    def fault(self, ctx):
        h = self.wait_counting(ctx, 1)
        ctx.wait(lambda: self.state(self.uuid) == "running", 30, "the manager to see the VM")
        b = self.task(ctx, "POST", "/api/v1/vms/%s/backups" % self.uuid,
                      {"repository": "cts-mgr"})
        if b.get("kind") != "full":
            raise ScenarioFailed("the first backup is %s" % b)
        self.backup = b
        self.counter_before = h["counter"]
        self.task(ctx, "POST", "/api/v1/vms/%s/stop" % self.uuid)
        ctx.wait(lambda: self.state(self.uuid) == "stopped", 60, "the VM stopped")
        self.call("DELETE", "/api/v1/vms/" + self.uuid)
        os.unlink(self.disk)
        listed = self.call("GET", "/api/v1/vms/%s/backups" % self.uuid)
        if [x["id"] for x in listed["backups"]] != [b["id"]]:
            raise ScenarioFailed("the deleted VM's backups: %s" % listed)

    def recovered(self, ctx):
        r = self.task(ctx, "POST", "/api/v1/vms/%s/backups/%s/restore"
                      % (self.uuid, self.backup["id"]),
                      {"repository": "cts-mgr", "name": "cts-restored"}, timeout=180)
        self.restored = r["vm"]["uuid"]
        host_pool = ctx.lab.require_state()["pool"]["host_path"]
        disk = os.path.join(host_pool, "cts-restored-vda.qcow2")
        h = read_header_qcow2(disk)
        if h.get("boots") != 1 or h.get("counter", 0) < self.counter_before:
            raise ScenarioFailed("the restored disk holds %s, expected boot 1, counter >= %d"
                                 % (h, self.counter_before))
        # the new VM, stopped: a backup of it (through the manager, under
        # its lease) and that backup restored in place (renamed in under its
        # lease); both let the lease go, or the start below fails
        b = self.task(ctx, "POST", "/api/v1/vms/%s/backups" % self.restored,
                      {"repository": "cts-mgr"})
        if not b.get("checkpoint"):
            raise ScenarioFailed("the stopped VM's backup made no checkpoint (its lease not "
                                 "taken?): %s" % b)
        self.task(ctx, "POST", "/api/v1/vms/%s/backups/%s/restore" % (self.restored, b["id"]),
                  {"repository": "cts-mgr", "to": "in-place"}, timeout=180)
        if read_header_qcow2(disk) != h:
            raise ScenarioFailed("the disk restored in place holds %s, not %s"
                                 % (read_header_qcow2(disk), h))
        self.task(ctx, "POST", "/api/v1/vms/%s/start" % self.restored)
        ctx.wait(lambda: read_header_qcow2(disk).get("boots") == 2, 90,
                 "the restored guest to boot from its disk")
        where = QemuTracked("cts-restored", self.restored).active_on(ctx.lab, ctx.lab.nodes(),
                                                                     {})
        if len(where) != 1:
            raise ScenarioFailed("the restored VM runs on %s" % where)
        ctx.info.update({"backup": self.backup["id"], "restored": self.restored,
                         "restored_header": h, "runs_on": where})

    def cleanup(self, ctx):
        """Also after a setup that stopped half-way."""
        api = getattr(self, "api", None)
        if api and getattr(self, "restored", None):
            with contextlib.suppress(ScenarioFailed):
                self.task(ctx, "POST", "/api/v1/vms/%s/stop?force=true" % self.restored)
            with contextlib.suppress(icsapi.ApiError, *icsapi.TRANSPORT_ERRORS):
                api.call("DELETE", "/api/v1/vms/" + self.restored)
        if api:
            with contextlib.suppress(icsapi.ApiError, *icsapi.TRANSPORT_ERRORS):
                api.call("DELETE", "/api/v1/backup-repositories/cts-mgr")
        if getattr(self, "rid", None):
            super().cleanup(ctx)
        host_pool = ctx.lab.require_state()["pool"]["host_path"]
        with contextlib.suppress(FileNotFoundError):
            os.unlink(os.path.join(host_pool, "cts-restored-vda.qcow2"))
        shutil.rmtree(os.path.join(host_pool, "cts-mgr-backups"), ignore_errors=True)
        manager.remove_manager(ctx)


class ManagerCrashDuringBackup(VmRestoreDeleted):
    """A backup policy's backup of a guest with a 512 MiB disk full of data
    runs when the manager's node is powered off.  The manager comes back on
    the other node; the backup cut short is not listed and leaves nothing;
    the VM, still due, is backed up once more by the new manager; the
    policy's time fired once (its last run unchanged) -- neither lost nor
    doubled.  The guest runs on a node the manager does not."""
    name = "manager-crash-during-backup"
    description = ("the manager's node powered off during a backup policy's backup: after "
                   "the failover the VM is backed up once, nothing half-written is listed, "
                   "the schedule neither lost nor doubled")
    timeout = 240

    def setup(self, ctx):
        self.manager_ready(ctx)
        host_pool = ctx.lab.require_state()["pool"]["host_path"]
        # the scheduler looks every second (30 s by default)
        with open(os.path.join(host_pool, "cts-manager.conf"), "w") as f:
            f.write("[backup]\npolicy_check_seconds=1\n")
        ctx.crm(["crm_resource", "--resource", "ics-manager-daemon", "--set-parameter",
                 "config", "--parameter-value", POOL + "/cts-manager.conf"])
        storage.pool_ready(ctx)
        self.rid, self.uuid, self.disk = define_vm(ctx, "cts-" + self.name, disk_format="qcow2",
                                                   started=False)
        # 512 MiB full of data: a full backup lasts long enough to be hit
        subprocess.run(["qemu-img", "resize", "-q", "-f", "qcow2", self.disk, "512M"],
                       check=True, capture_output=True, timeout=60)
        subprocess.run(["qemu-io", "-f", "qcow2", "-c", "write -P 0x5a 1M 508M", self.disk],
                       check=True, capture_output=True, timeout=120)
        ctx.prefer(self.rid, "node3")
        ctx.crm(["crm_resource", "--resource", self.rid, "--meta", "--set-parameter",
                 "target-role", "--parameter-value", "Started"])
        ctx.wait(lambda: self.health(), 60, "the manager to answer with its new configuration")
        self.repository_ready(ctx)
        self.call("POST", "/api/v1/backup-policies",
                  {"name": "cts-failover", "schedule": "@yearly", "repository": "cts-mgr",
                   "vms": ["cts-" + self.name]})
        return [QemuTracked(self.rid, self.uuid), storage.LeaseTracked(self.uuid),
                manager.ProcessTracked(), storage.LeaseTracked(manager.LEASE),
                manager.VipTracked()]

    def health(self):
        try:
            self.api.get("/api/v1/health")
            return True
        except (icsapi.ApiError,) + icsapi.TRANSPORT_ERRORS:
            return False

    def try_get(self, path):
        try:
            return self.api.get(path)
        except (icsapi.ApiError,) + icsapi.TRANSPORT_ERRORS:
            return None

    def backup_tasks(self):
        items = [t for t in self.api.list_all("/api/v1/tasks", limit=200)
                 if t["kind"] == "vm.backup" and t.get("object_id") == self.uuid]
        return sorted(items, key=lambda t: t["id"])

    def partial(self):
        d = os.path.join(self.host_repo, "vms", self.uuid)
        return [n for n in os.listdir(d) if n.endswith(".partial")] if os.path.isdir(d) else []

    def copying(self):
        for n in self.partial():
            f = os.path.join(self.host_repo, "vms", self.uuid, n, "vda.qcow2")
            if os.path.exists(f) and os.stat(f).st_blocks * 512 > (16 << 20):
                return True
        return False

    def fault(self, ctx):
        self.wait_counting(ctx, 1, 90)
        where = ctx.sampler.where(self.rid)
        self.node = manager.manager_node(ctx)
        if where == [self.node] or len(where) != 1:
            raise ScenarioFailed("the VM runs on %s, the manager on %s" % (where, self.node))
        manager.observers_ready(ctx, self.node)
        self.call("POST", "/api/v1/backup-policies/cts-failover/run")
        self.fired = self.call("GET", "/api/v1/backup-policies/cts-failover")["last_run"]
        ctx.wait(self.copying, 60, "the policy's backup to be copying")
        self.first_task = self.backup_tasks()[-1]["id"]
        self.t0 = time.monotonic()
        ctx.lab.power_off(self.node)

    def recovered(self, ctx):
        ctx.wait(self.health, 120, "the API to answer on the VIP again")
        ctx.info["api_back_s"] = round(time.monotonic() - self.t0, 1)

        def backed_up():
            got = self.try_get("/api/v1/vms/%s/backups" % self.uuid)
            pol = self.try_get("/api/v1/backup-policies/cts-failover")
            return got and pol and len(got["backups"]) >= 1 and pol["due"] == 0
        ctx.wait(backed_up, 150, "the VM backed up again after the failover")
        got = self.call("GET", "/api/v1/vms/%s/backups" % self.uuid)
        pol = self.call("GET", "/api/v1/backup-policies/cts-failover")
        tasks = self.backup_tasks()
        ctx.info.update({"from": self.node, "to": manager.manager_node(ctx),
                         "tasks": ["%d %s %s" % (t["id"], t["state"], (t.get("error") or "")[:80])
                                   for t in tasks],
                         "backup": [b["id"] for b in got["backups"]]})
        if len(got["backups"]) != 1 or got["backups"][0].get("policy") != "cts-failover":
            raise ScenarioFailed("backups after the failover: %s" % got)
        if pol["last_run"] != self.fired:
            raise ScenarioFailed("the policy fired again: last run %s, was %s"
                                 % (pol["last_run"], self.fired))
        first = [t for t in tasks if t["id"] == self.first_task]
        done = [t for t in tasks if t["state"] == "succeeded"]
        if not first or first[0]["state"] != "failed" or len(done) != 1:
            raise ScenarioFailed("backup tasks: %s" % ctx.info["tasks"])
        if self.partial():
            raise ScenarioFailed("left behind: %s" % self.partial())

    def cleanup(self, ctx):
        if getattr(self, "api", None):
            with contextlib.suppress(icsapi.ApiError, *icsapi.TRANSPORT_ERRORS):
                self.api.call("DELETE", "/api/v1/backup-policies/cts-failover")
        ctx.crm(["cibadmin", "-D", "-o", "constraints", "-X",
                 '<rsc_location id="cts-prefer-cts-%s"/>' % self.name], check=False)
        super().cleanup(ctx)
        host_pool = ctx.lab.require_state()["pool"]["host_path"]
        with contextlib.suppress(FileNotFoundError):
            os.unlink(os.path.join(host_pool, "cts-manager.conf"))


SCENARIOS = [VmBackupChain, VmBackupFaults, VmRestoreDeleted, ManagerCrashDuringBackup]
