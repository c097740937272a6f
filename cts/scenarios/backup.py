"""Backup scenarios: ics-backup on a real TCG guest that writes to its disk.

The guest (cts/guest) rewrites the header of its qcow2 disk every second,
so every backup has something new, and a restored disk tells by its header
which moment it holds.  The scenario walks a chain through what used to
break changed-block tracking -- a live migration, a clean stop and start, a
crash of QEMU -- and checks after each which kind of backup ICS made and
why, then restores a backup of the paused guest bit-identical to its disk.
"""

import contextlib
import json
import os
import shutil

import icslab
from ctslib.runner import ScenarioFailed
from scenarios import storage
from scenarios.vm import QemuTracked, _Vm, define_vm, read_header, read_header_qcow2

POOL = storage.POOL
REPO = POOL + "/cts-backups"


class VmBackupChain(_Vm):
    name = "vm-backup-chain"
    description = ("ics-backup on a guest writing to its qcow2 disk: full, incremental, "
                   "incremental after a live migration and after a stop/start, full (and why) "
                   "after QEMU is killed, a restore bit-identical to the paused guest's disk")
    timeout = 120

    def setup(self, ctx):
        storage.pool_ready(ctx)
        self.rid, self.uuid, self.disk = define_vm(ctx, "cts-" + self.name,
                                                   disk_format="qcow2")
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
        p = ctx.crm(["ics-backup"] + args, node=node, check=False)
        if rc is not None and p.returncode != rc:
            raise ScenarioFailed("ics-backup %s: exit %d, expected %d: %s"
                                 % (" ".join(args), p.returncode, rc,
                                    (p.stderr or p.stdout).strip()[-400:]))
        return p

    def header(self):
        return read_header_qcow2(self.disk)

    def wait_counting(self, ctx, boots, timeout=60):
        ctx.wait(lambda: self.header().get("boots") == boots and
                 self.header().get("counter", 0) > 0, timeout,
                 "the guest to count (boot %d)" % boots)
        return self.header()

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

    def backup(self, ctx, label, node=None):
        """A backup on the node that runs the VM: its JSON summary."""
        node = node or self.node(ctx)
        p = self.tool(ctx, ["run", REPO, "--vm", self.uuid, "--pool", POOL, "--json"],
                      node=node)
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

        # live migration: libvirt forgets the checkpoint, the agent redefines it
        src = self.node(ctx)
        target = [n for n in ctx.lab.nodes() if n != src][0]
        ctx.crm(["crm_resource", "--move", "--resource", self.rid, "--node", target])
        ctx.wait(lambda: ctx.sampler.where(self.rid) == [target], 90, "the VM on %s" % target)
        ctx.crm(["crm_resource", "--clear", "--resource", self.rid], check=False)
        h = self.wait_newer(ctx, self.header())
        b3 = self.backup(ctx, "after migration", node=target)
        self.expect(b3, "incremental")
        self.after_migration = h

        # clean stop and start: the bitmap is stored in the image at stop
        for role in ("Stopped", "Started"):
            ctx.crm(["crm_resource", "--resource", self.rid, "--meta", "--set-parameter",
                     "target-role", "--parameter-value", role])
            if role == "Stopped":
                ctx.wait(lambda: ctx.sampler.where(self.rid) == [], 90, "the VM stopped")
        ctx.wait_started(self.rid, 90)
        h = self.wait_counting(ctx, 2, 60)
        b4 = self.backup(ctx, "after stop/start")
        self.expect(b4, "incremental")

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
        p = self.virsh(ctx, node, "suspend", self.uuid)
        if p.returncode != 0:
            raise ScenarioFailed("virsh suspend: %s" % p.stderr.strip())
        try:
            b6 = self.backup(ctx, "paused", node=node)
            self.expect(b6, "incremental")
            restored = REPO + "/restored-%s.raw" % b6["id"]
            self.tool(ctx, ["restore", REPO, b6["id"], "--format", "raw", "--to", restored],
                      node=node)
            p = ctx.lab.node_run(node, ["qemu-img", "compare", "-U", "-f", "qcow2", "-F",
                                        "raw", self.node_disk, restored],
                                 check=False, timeout=60)
            if p.returncode != 0:
                raise ScenarioFailed("the restored disk differs from the paused guest's: %s"
                                     % (p.stdout + p.stderr).strip()[-300:])
            ctx.info["identical"] = p.stdout.strip()
            # restoring onto an existing file is refused, the file untouched
            self.tool(ctx, ["restore", REPO, b6["id"], "--format", "raw", "--to", restored],
                      node=node, rc=3)
        finally:
            self.virsh(ctx, node, "resume", self.uuid)
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


SCENARIOS = [VmBackupChain]
