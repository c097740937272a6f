"""The ICS one-machine cluster lab.

A lab is N real cluster nodes on this one machine.  Each node is a network
namespace (its own addresses, routes and abstract unix sockets) plus a private
mount namespace (its own /run, /dev/shm, /var/lib/pacemaker, /etc/corosync,
/etc/libvirt, /var/log ...), created by a "holder" process.  Every daemon of a
node -- corosync, pacemakerd, sanlock, virtlogd, virtlockd, libvirtd -- is the
unmodified Debian binary started inside those namespaces with nsenter.

Nodes are cabled to a bridge in a separate switch namespace; a client
namespace on the same bridge plays the operator's workstation.  One shared
pool directory of the lab is bind-mounted at the same path on every node.

Power is a property of the processes: "off" stops and kills every process
whose network namespace is the node's (SIGSTOP first so no daemon sees its
peers die and respawns them), then takes the NIC down; the private mount
namespace, with its tmpfs /run and /dev/shm, dies with the holder exactly as
RAM does.  The persistent per-node directories play the node's disk.  "on"
boots a new holder and the daemons again.

The network is a property of the switch: "cut" takes the node's switch port
down; "partition" installs blackhole routes between groups of nodes.

Nothing is created outside the lab's own namespaces and the lab directory
(/var/tmp/ics-lab/<name>), and "down" removes all of it.  A process in the
switch namespace but in the host's mount namespace (the "anchor") lets code
running inside a node -- the lab fence agent -- reach back to the host's mount
namespace with `nsenter -t <anchor> -m` to power nodes on and off.
"""

import contextlib
import errno
import fcntl
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid

# Not under /etc, /var/lib or /var/cache: nodes overlay those, with upper
# layers inside the lab directory.
LAB_ROOT = os.environ.get("ICS_LAB_ROOT", "/var/tmp/ics-lab")
MAX_NODES = 5
SUBNET = "10.211.0"          # exists only inside the lab's namespaces
NODE_ADDR_BASE = 10          # node i has SUBNET.(10+i)
CLIENT_ADDR = SUBNET + ".250"
VIP_ADDR = SUBNET + ".100"   # free address for floating IPs in tests and demos
POOL_PATH = "/srv/ics/pools/shared"   # where every node sees the shared pool

# executable -> Debian package, checked before anything is created
REQUIRED = {
    "ip": "iproute2", "nsenter": "util-linux", "unshare": "util-linux",
    "setsid": "util-linux", "corosync": "corosync", "corosync-cfgtool": "corosync",
    "pacemakerd": "pacemaker", "crm_mon": "pacemaker-cli-utils",
    "cibadmin": "pacemaker-cli-utils", "sanlock": "sanlock",
    "libvirtd": "libvirt-daemon", "virtlogd": "libvirt-daemon",
    "virtlockd": "libvirt-daemon",
}
OPTIONAL_LIBVIRT_QEMU = "/usr/lib/x86_64-linux-gnu/libvirt/connection-driver/libvirt_driver_qemu.so"

DAEMONS = ("corosync", "pacemakerd", "sanlock", "virtlogd", "virtlockd", "libvirtd")


class LabError(Exception):
    """One clear line for the operator; the CLI prints it and exits non-zero."""


def log(msg):
    if os.environ.get("ICS_LAB_QUIET") != "1":
        print(msg, file=sys.stderr, flush=True)


def run(argv, check=True, capture=True, timeout=30, env=None, input=None):
    try:
        p = subprocess.run(argv, stdout=subprocess.PIPE if capture else None,
                           stderr=subprocess.PIPE if capture else None,
                           text=True, timeout=timeout, env=env, input=input)
    except FileNotFoundError:
        raise LabError("%s: command not found" % argv[0])
    except subprocess.TimeoutExpired:
        raise LabError("%s: timed out after %ss" % (" ".join(argv), timeout))
    if check and p.returncode != 0:
        err = (p.stderr or "").strip().splitlines()
        raise LabError("%s failed (exit %d)%s" % (" ".join(argv), p.returncode,
                                                  ": " + err[-1] if err else ""))
    return p


def write_file(path, text, mode=0o644):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.chmod(tmp, mode)
    os.rename(tmp, path)


def ns_inode(nsname):
    try:
        return os.stat("/run/netns/" + nsname).st_ino
    except FileNotFoundError:
        return None


def pids_in_netns(inode):
    """PIDs whose network namespace is `inode` (zombies have no ns link)."""
    want = "net:[%d]" % inode
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            if os.readlink("/proc/%s/ns/net" % d) == want:
                pids.append(int(d))
        except OSError:
            continue
    return pids


def proc_comm(pid):
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except OSError:
        return None


def kill_netns(inode, deadline=10.0):
    """Stop, then kill, every process in a network namespace until none is left
    -- never this process itself, whatever namespace it was started in."""
    end = time.monotonic() + deadline
    me = os.getpid()
    while True:
        pids = [p for p in pids_in_netns(inode) if p != me]
        if not pids:
            return
        if time.monotonic() > end:
            raise LabError("processes %s survive SIGKILL" % pids)
        for sig in (signal.SIGSTOP, signal.SIGKILL):
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, sig)
        time.sleep(0.01)


def find_builddir():
    """Where the built ICS agents are: $ICS_BUILDDIR, the source tree, or build/."""
    here = os.path.dirname(os.path.abspath(__file__))
    top = os.path.dirname(os.path.dirname(here))
    cands = [os.environ.get("ICS_BUILDDIR"), top, os.path.join(top, "build")]
    for c in cands:
        if c and os.path.exists(os.path.join(c, "fencing", "fence_ics_lab")):
            return c
    raise LabError("fence_ics_lab is not built: run 'make' first "
                   "(or set ICS_BUILDDIR to the build directory)")


class Lab:
    def __init__(self, name="ics"):
        if not re.fullmatch(r"[a-z][a-z0-9]{0,11}", name):
            raise LabError("bad lab name %r: use 1-12 lowercase letters and digits" % name)
        self.name = name
        self.dir = os.path.join(LAB_ROOT, name)
        self.lockpath = os.path.join(LAB_ROOT, "." + name + ".lock")
        self.prefix = "icslab-%s-" % name
        self._lockfd = None

    # ------------------------------------------------------------------ state
    @property
    def sw(self):
        return self.prefix + "sw"

    @property
    def client_ns(self):
        return self.prefix + "client"

    def node_ns(self, node):
        return self.prefix + node

    def node_dir(self, node):
        return os.path.join(self.dir, "nodes.d", node)

    def state(self):
        try:
            with open(os.path.join(self.dir, "lab.json")) as f:
                return json.load(f)
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as e:
            raise LabError("lab %r: unreadable state %s/lab.json (%s); run 'ics-lab down'"
                           % (self.name, self.dir, e))

    def require_state(self):
        st = self.state()
        if st is None:
            raise LabError("lab %r is not up: run 'ics-lab up' first" % self.name)
        return st

    def nodes(self):
        return [n["name"] for n in self.require_state()["nodes"]]

    def node(self, name):
        for n in self.require_state()["nodes"]:
            if n["name"] == name:
                return n
        raise LabError("unknown node %r (lab %r has: %s)"
                       % (name, self.name, " ".join(self.nodes())))

    @contextlib.contextmanager
    def locked(self, timeout=120):
        if self._lockfd is not None:    # re-entrant within one process
            yield
            return
        os.makedirs(LAB_ROOT, exist_ok=True)
        fd = os.open(self.lockpath, os.O_RDWR | os.O_CREAT, 0o600)
        end = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > end:
                    os.close(fd)
                    raise LabError("lab %r is busy: another ics-lab command holds %s"
                                   % (self.name, self.lockpath))
                time.sleep(0.05)
        self._lockfd = fd
        try:
            yield
        finally:
            self._lockfd = None
            os.close(fd)

    # ------------------------------------------------------------------ anchor
    def anchor_pid(self):
        try:
            with open(os.path.join(self.dir, "anchor.pid")) as f:
                pid = int(f.read())
        except (OSError, ValueError):
            return None
        ino = ns_inode(self.sw)
        try:
            if ino and os.readlink("/proc/%d/ns/net" % pid) == "net:[%d]" % ino:
                return pid
        except OSError:
            pass
        return None

    # ------------------------------------------------------------------ holder
    def holder_pid(self, node):
        """PID of the node's holder if the node is powered on, else None.

        A stored PID is trusted only if it still lives in the node's netns
        (PIDs get reused)."""
        try:
            with open(os.path.join(self.node_dir(node), "holder.pid")) as f:
                pid = int(f.read())
        except (OSError, ValueError):
            return None
        ino = ns_inode(self.node_ns(node))
        try:
            if ino and os.readlink("/proc/%d/ns/net" % pid) == "net:[%d]" % ino \
                    and proc_comm(pid) == "sleep":
                return pid
        except OSError:
            pass
        return None

    def nsenter(self, node):
        pid = self.holder_pid(node)
        if pid is None:
            raise LabError("node %s is powered off" % node)
        return ["nsenter", "-t", str(pid), "-m", "-u", "-n", "--"]

    def node_run(self, node, argv, **kw):
        return run(self.nsenter(node) + argv, **kw)

    # ------------------------------------------------------------------ checks
    @staticmethod
    def preflight():
        if os.geteuid() != 0:
            raise LabError("must run as root (the lab creates network and mount namespaces)")
        for exe, pkg in REQUIRED.items():
            if shutil.which(exe) is None:
                raise LabError("%s not found: install the Debian package %s "
                               "(or run tools/install-deps)" % (exe, pkg))
        if not os.path.exists(OPTIONAL_LIBVIRT_QEMU):
            raise LabError("libvirt's QEMU driver is missing: install the Debian package "
                           "libvirt-daemon-driver-qemu (or run tools/install-deps)")

    # ------------------------------------------------------------------ up
    def up(self, count=3, owner="default"):
        if not isinstance(count, int) or not 1 <= count <= MAX_NODES:
            raise LabError("bad node count %r: the lab runs 1 to %d nodes" % (count, MAX_NODES))
        if not re.fullmatch(r"[A-Za-z0-9_.:-]{1,64}", owner):
            raise LabError("bad owner %r" % owner)
        self.preflight()
        builddir = find_builddir()
        with self.locked():
            st = self.state()
            if st is not None:
                if st.get("owner") != owner:
                    raise LabError("lab %r is owned by %r (created %s): use another --lab "
                                   "or run 'ics-lab --lab %s down' first"
                                   % (self.name, st.get("owner"), st.get("created"), self.name))
                if len(st["nodes"]) != count:
                    raise LabError("lab %r is up with %d nodes, not %d: run 'ics-lab down' first"
                                   % (self.name, len(st["nodes"]), count))
                if self.anchor_pid() is None or any(ns_inode(self.node_ns(n["name"])) is None
                                                    for n in st["nodes"]):
                    log("lab %r: recovering from an aborted run" % self.name)
                    self._teardown()
                    st = None
            fresh = st is None
            try:
                if fresh:
                    self._teardown()    # leftovers of a run that died before lab.json
                    st = self._create(count, owner, builddir)
                else:
                    self._install_agents(builddir)
                for n in st["nodes"]:
                    if self.holder_pid(n["name"]) is None:
                        self.power_on(n["name"])
            except BaseException:
                if fresh:               # nothing half-created is left behind
                    with contextlib.suppress(Exception):
                        self._teardown()
                raise
        return st

    def _create(self, count, owner, builddir):
        os.makedirs(self.dir, mode=0o755)
        nodes = [{"name": "node%d" % i, "id": i,
                  "addr": "%s.%d" % (SUBNET, NODE_ADDR_BASE + i)} for i in range(1, count + 1)]
        st = {"name": self.name, "owner": owner, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
              "dir": self.dir, "subnet": SUBNET + ".0/24", "vip": VIP_ADDR,
              "client": {"ns": self.client_ns, "addr": CLIENT_ADDR},
              "pool": {"host_path": os.path.join(self.dir, "pool"), "node_path": POOL_PATH},
              "nodes": nodes}
        # network: switch with a bridge, one veth per node, a client
        run(["ip", "netns", "add", self.sw])
        run(["ip", "-n", self.sw, "link", "add", "br0", "type", "bridge",
             "forward_delay", "0", "stp_state", "0"])
        run(["ip", "-n", self.sw, "link", "set", "br0", "up"])
        run(["ip", "-n", self.sw, "link", "set", "lo", "up"])
        for n in nodes + [{"name": "client", "addr": CLIENT_ADDR}]:
            ns = self.client_ns if n["name"] == "client" else self.node_ns(n["name"])
            port = "p-" + n["name"]
            run(["ip", "netns", "add", ns])
            run(["ip", "-n", self.sw, "link", "add", port, "type", "veth",
                 "peer", "name", "eth0", "netns", ns])
            run(["ip", "-n", self.sw, "link", "set", port, "master", "br0", "up"])
            run(["ip", "-n", ns, "link", "set", "lo", "up"])
            if n["name"] == "client":
                run(["ip", "-n", ns, "addr", "add", n["addr"] + "/24", "dev", "eth0"])
                run(["ip", "-n", ns, "link", "set", "eth0", "up"])
        # the anchor: in the switch netns, in the host's mount namespace
        p = subprocess.Popen(["setsid", "nsenter", "--net=/run/netns/" + self.sw, "--",
                              "sleep", "infinity"], stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        write_file(os.path.join(self.dir, "anchor.pid"), "%d\n" % p.pid)
        for _ in range(100):
            if self.anchor_pid():
                break
            time.sleep(0.01)
        # files every node shares
        os.makedirs(os.path.join(self.dir, "pool"), mode=0o755)
        os.makedirs(os.path.join(self.dir, "etc"))
        self._passwd_copies()
        self._install_agents(builddir)
        write_file(os.path.join(self.dir, "nodes"), "".join(n["name"] + "\n" for n in nodes))
        os.symlink(os.path.join(os.path.dirname(os.path.abspath(__file__)), "ics-lab"),
                   os.path.join(self.dir, "ics-lab"))
        for n in nodes:
            self._node_disk(n, nodes)
        write_file(os.path.join(self.dir, "lab.json"), json.dumps(st, indent=2) + "\n")
        return st

    def _passwd_copies(self):
        """passwd/group for the nodes with the libvirt-qemu user Debian's QEMU
        driver wants, without touching the host's /etc/passwd."""
        for f, line in (("passwd", "libvirt-qemu:x:64055:64055:Libvirt Qemu:/var/lib/libvirt:"
                         "/usr/sbin/nologin\n"), ("group", "libvirt-qemu:x:64055:\n")):
            with open("/etc/" + f) as src:
                text = src.read()
            if not re.search(r"^libvirt-qemu:", text, re.M):
                text += line
            write_file(os.path.join(self.dir, "etc", f), text)

    def _install_agents(self, builddir):
        """Copy ICS's own OCF and fence agents where only the nodes see them:
        overlays in each node put these directories over /usr/sbin and
        /usr/lib/ocf/resource.d."""
        sbin = os.path.join(self.dir, "agents", "sbin")
        ocf = os.path.join(self.dir, "agents", "ocf", "ics")
        os.makedirs(sbin, exist_ok=True)
        os.makedirs(ocf, exist_ok=True)

        def install(src, dst):
            shutil.copy2(src, dst + ".new")
            os.rename(dst + ".new", dst)

        def programs(sub, prefix):
            d = os.path.join(builddir, sub)
            if not os.path.isdir(d):
                return []
            return [f for f in sorted(os.listdir(d)) if f.startswith(prefix)
                    and os.path.isfile(os.path.join(d, f)) and os.access(os.path.join(d, f), os.X_OK)
                    and not f.endswith((".o", ".c", ".h", ".la", ".lo"))]

        for f in programs("fencing", "fence_"):
            install(os.path.join(builddir, "fencing", f), os.path.join(sbin, f))
        for sub in ("storage-lock", "backup", "cli", "manager"):
            for f in programs(sub, "ics-"):
                install(os.path.join(builddir, sub, f), os.path.join(sbin, f))
        for f in programs("resource-agents", "ocf_ics_"):
            install(os.path.join(builddir, "resource-agents", f),
                    os.path.join(ocf, f[len("ocf_ics_"):]))
        faultfs = os.path.join(builddir, "cts", "faultfs", "ics-faultfs")
        if os.path.isfile(faultfs):
            install(faultfs, os.path.join(self.dir, "agents", "ics-faultfs"))

    def _node_disk(self, n, nodes):
        """The node's 'disk': the upper layers of copy-on-write overlays of the
        host's /etc, /var/lib and /var/cache, plus its own /var/log."""
        d = self.node_dir(n["name"])
        for sub in ("etc", "var-lib", "var-cache", "var-log", "work/etc", "work/var-lib",
                    "work/var-cache"):
            os.makedirs(os.path.join(d, sub), exist_ok=True)
        etc, varlib = os.path.join(d, "etc"), os.path.join(d, "var-lib")
        hac = int(run(["id", "-u", "hacluster"]).stdout)
        hag = int(run(["id", "-g", "hacluster"]).stdout)
        for sub in ("cib", "pengine", "blackbox", "cores"):
            p = os.path.join(varlib, "pacemaker", sub)
            os.makedirs(p, exist_ok=True)
            os.chown(p, hac, hag)
            os.chmod(p, 0o750)
        for sub in ("libvirt", "corosync"):
            os.makedirs(os.path.join(varlib, sub), exist_ok=True)
        for sub, mode in (("pacemaker", 0o770), ("corosync", 0o755), ("libvirt", 0o755),
                          ("crmsh", 0o755), ("libvirt/qemu", 0o755), ("sanlock", 0o755)):
            p = os.path.join(d, "var-log", sub)
            os.makedirs(p, exist_ok=True)
            os.chmod(p, mode)
        os.chown(os.path.join(d, "var-log", "pacemaker"), hac, hag)
        for f in ("passwd", "group"):
            shutil.copy2(os.path.join(self.dir, "etc", f), os.path.join(etc, f))
        # cluster nodes resolve each other by name (libvirt's migration URIs)
        with open("/etc/hosts") as f:
            hosts = f.read()
        write_file(os.path.join(etc, "hosts"), hosts.rstrip("\n") + "\n# ics-lab nodes\n" +
                   "".join("%s %s\n" % (x["addr"], x["name"]) for x in nodes))
        os.makedirs(os.path.join(etc, "corosync"), exist_ok=True)
        write_file(os.path.join(etc, "corosync", "corosync.conf"), self._corosync_conf(nodes))
        cib = os.path.join(varlib, "pacemaker", "cib", "cib.xml")
        write_file(cib, self._seed_cib(nodes), 0o600)
        os.chown(cib, hac, hag)
        lv = os.path.join(etc, "libvirt")
        os.makedirs(lv, exist_ok=True)
        write_file(os.path.join(lv, "libvirtd.conf"), LIBVIRTD_CONF % {
            "addr": n["addr"], "uuid": str(uuid.uuid5(uuid.NAMESPACE_URL,
                                                      "ics-lab:%s:%s" % (self.name, n["name"])))})
        write_file(os.path.join(lv, "qemu.conf"), QEMU_CONF % {"addr": n["addr"]})
        write_file(os.path.join(lv, "qemu-sanlock.conf"), QEMU_SANLOCK_CONF)
        write_file(os.path.join(lv, "virtlogd.conf"),
                   "log_outputs = \"3:file:/var/log/libvirt/virtlogd.log\"\n")
        write_file(os.path.join(lv, "virtlockd.conf"),
                   "log_outputs = \"3:file:/var/log/libvirt/virtlockd.log\"\n")

    def _corosync_conf(self, nodes):
        nl = "".join("    node {\n        name: %s\n        nodeid: %d\n        ring0_addr: %s\n"
                     "    }\n" % (n["name"], n["id"], n["addr"]) for n in nodes)
        two = "    two_node: 1\n" if len(nodes) == 2 else ""
        return COROSYNC_CONF % {"cluster": "icslab-" + self.name, "nodelist": nl, "two": two}

    def _seed_cib(self, nodes):
        hosts = " ".join(n["name"] for n in nodes)
        return SEED_CIB % {"hosts": hosts, "labdir": self.dir, "cluster": "icslab-" + self.name}

    # ------------------------------------------------------------------ power
    def power_on(self, node):
        n = self.node(node)
        with self.locked():
            if self.holder_pid(node):
                return
            ns = self.node_ns(node)
            ino = ns_inode(ns)
            if ino is None:
                raise LabError("node %s has no network namespace: run 'ics-lab down' and 'up'" % node)
            kill_netns(ino)                      # leftovers of an aborted power-off
            run(["ip", "-n", ns, "addr", "flush", "dev", "eth0"])
            run(["ip", "-n", ns, "addr", "add", n["addr"] + "/24", "dev", "eth0"])
            run(["ip", "-n", ns, "link", "set", "eth0", "up"])
            self._boot(n)
            self._power_log(node, "on")

    def _boot(self, n):
        d = self.node_dir(n["name"])
        script = BOOT_SCRIPT % {"node": n["name"], "nd": d, "lab": self.dir, "pool": POOL_PATH}
        with open(os.path.join(d, "boot.log"), "a") as bl:
            p = subprocess.Popen(["setsid", "nsenter", "--net=/run/netns/" + self.node_ns(n["name"]),
                                  "--", "unshare", "--mount", "--uts", "--propagation", "private",
                                  "--", "/bin/sh", "-c", script],
                                 stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=bl,
                                 text=True)
            line = p.stdout.readline().split()
            p.stdout.close()
        if len(line) != 2 or line[0] != "ready":
            raise LabError("node %s failed to boot: see %s/boot.log" % (n["name"], d))
        write_file(os.path.join(d, "holder.pid"), line[1] + "\n")
        for _ in range(200):                 # until the shell has exec'd sleep
            if self.holder_pid(n["name"]):
                break
            time.sleep(0.005)
        pcmk_env = ["env", "PCMK_logfile=/var/log/pacemaker/pacemaker.log",
                    "PCMK_debug=no", "HA_LOGFACILITY=none", "PCMK_logfacility=none"]
        # A large CIB (~1,000 resources) no longer fits Pacemaker's default
        # IPC buffer (128 KiB, compressed): the daemons refuse whole-CIB
        # queries with "Message too long".  The caller's value, if any, goes
        # to the daemons (and through execd to the agents and the manager);
        # clients run by node_run() inherit it from the caller.
        if os.environ.get("PCMK_ipc_buffer"):
            pcmk_env.append("PCMK_ipc_buffer=" + os.environ["PCMK_ipc_buffer"])
        self._spawn(n, ["corosync", "-f"], "corosync.out")
        self._spawn(n, ["env", "SANLOCK_PRIVILEGED=0", "sanlock", "daemon", "-D", "-w", "0",
                        "-l", "0", "-U", "0", "-G", "0", "-e", n["name"]], "sanlock.out")
        self._spawn(n, ["virtlogd", "-f", "/etc/libvirt/virtlogd.conf"], "virtlogd.out")
        self._spawn(n, ["virtlockd", "-f", "/etc/libvirt/virtlockd.conf"], "virtlockd.out")
        self._spawn(n, ["libvirtd", "--listen", "-f", "/etc/libvirt/libvirtd.conf"], "libvirtd.out")
        # pacemakerd needs corosync's IPC; corosync is up in ~0.1-0.5 s
        end = time.monotonic() + 20
        while self.node_run(n["name"], ["corosync-cfgtool", "-s"], check=False).returncode != 0:
            if time.monotonic() > end:
                raise LabError("corosync did not start on %s: see %s/var-log/corosync/corosync.log"
                               % (n["name"], d))
            time.sleep(0.05)
        self._spawn(n, pcmk_env + ["pacemakerd"], "pacemakerd.out")

    def _spawn(self, n, argv, out):
        """Start a daemon inside the node, detached (setsid -f: we keep no child)."""
        path = os.path.join(self.node_dir(n["name"]), "var-log", out)
        with open(path, "a") as f:
            subprocess.run(["setsid", "-f"] + self.nsenter(n["name"]) + argv,
                           stdin=subprocess.DEVNULL, stdout=f, stderr=f, check=True)

    def power_off(self, node):
        self.node(node)
        with self.locked():
            ns = self.node_ns(node)
            ino = ns_inode(ns)
            if ino is None:
                raise LabError("node %s has no network namespace" % node)
            kill_netns(ino)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(os.path.join(self.node_dir(node), "holder.pid"))
            # a powered-off NIC holds no address (floating IPs included)
            run(["ip", "-n", ns, "addr", "flush", "dev", "eth0"])
            run(["ip", "-n", ns, "link", "set", "eth0", "down"])
            self._power_log(node, "off")

    def _power_log(self, node, event):
        """Append to <lab>/power.log: when each node went off or came on
        (wall clock), for benchmarks that time recovery from a power event."""
        with open(os.path.join(self.dir, "power.log"), "a") as f:
            f.write(json.dumps({"t": time.time(), "node": node, "event": event}) + "\n")

    def power_events(self, node=None, since=0.0):
        try:
            with open(os.path.join(self.dir, "power.log")) as f:
                evs = [json.loads(line) for line in f if line.strip()]
        except FileNotFoundError:
            return []
        return [e for e in evs if e["t"] >= since and (node is None or e["node"] == node)]

    def power_status(self, node):
        self.node(node)
        return "on" if self.holder_pid(node) else "off"

    # ------------------------------------------------------------------ network
    def cut(self, node):
        self.node(node)
        run(["ip", "-n", self.sw, "link", "set", "p-" + node, "down"])

    def heal(self, node=None):
        """Cables in, partitions gone, storage paths mended (all, or one node)."""
        nodes = [node] if node else self.nodes()
        for x in nodes:
            self.node(x)
            run(["ip", "-n", self.sw, "link", "set", "p-" + x, "up"])
            if self.storage_mode(x) != "ok":
                write_file(os.path.join(self.node_dir(x), "storage.mode"), "ok\n")
        for x in self.nodes():
            for r in self._blackholes(x):
                peer = r.split("/")[0]
                if node is None or x == node or peer == self.node(node)["addr"]:
                    run(["ip", "-n", self.node_ns(x), "route", "del", "blackhole", r], check=False)

    def _blackholes(self, node):
        out = run(["ip", "-n", self.node_ns(node), "route", "show", "type", "blackhole"]).stdout
        return [line.split()[1] for line in out.splitlines() if line.startswith("blackhole")]

    def partition(self, spec):
        groups = [g.split(",") for g in spec.split("/")]
        flat = [x for g in groups for x in g]
        if len(groups) < 2 or any(not x for x in flat):
            raise LabError("bad partition %r: write groups like node1,node2/node3" % spec)
        if len(set(flat)) != len(flat):
            raise LabError("bad partition %r: a node is in two groups" % spec)
        for x in flat:
            self.node(x)
        for i, g in enumerate(groups):
            for a in g:
                for j, h in enumerate(groups):
                    if i == j:
                        continue
                    for b in h:
                        addr = self.node(b)["addr"] + "/32"
                        if addr not in self._blackholes(a):
                            run(["ip", "-n", self.node_ns(a), "route", "add", "blackhole", addr])

    # ------------------------------------------------------------------ storage
    STORAGE_MODES = ("ok", "eio", "hang")

    def storage(self, node, mode):
        """Set the node's path to the shared pool: ok, eio (every I/O fails)
        or hang (I/O blocks).  Like a cable, it survives power cycles."""
        self.node(node)
        if mode not in self.STORAGE_MODES:
            raise LabError("bad storage mode %r: use %s" % (mode, ", ".join(self.STORAGE_MODES)))
        if not os.path.exists(os.path.join(self.dir, "agents", "ics-faultfs")):
            raise LabError("storage faults need ics-faultfs: build ICS with the CTS enabled "
                           "(libfuse3-dev) and run 'ics-lab up' again")
        write_file(os.path.join(self.node_dir(node), "storage.mode"), mode + "\n")

    def storage_mode(self, node):
        try:
            with open(os.path.join(self.node_dir(node), "storage.mode")) as f:
                return f.read().strip() or "ok"
        except FileNotFoundError:
            return "ok"

    # ------------------------------------------------------------------ status
    def daemons(self, node):
        ino = ns_inode(self.node_ns(node))
        found = {}
        if ino is None:
            return found
        for pid in pids_in_netns(ino):
            c = proc_comm(pid)
            if c in DAEMONS and c not in found:
                found[c] = pid
        return found

    def cluster(self, via=None):
        """What Pacemaker says, asked on the first powered-on node (or `via`)."""
        for x in ([via] if via else self.nodes()):
            if self.holder_pid(x) is None:
                continue
            p = self.node_run(x, ["crm_mon", "-1", "--output-as=xml"], check=False, timeout=10)
            if p.returncode not in (0,) or not p.stdout:
                continue
            return parse_crm_mon(p.stdout)
        return None

    def status(self):
        st = self.require_state()
        links = run(["ip", "-n", self.sw, "-o", "link", "show"], check=False).stdout
        out = {"lab": self.name, "owner": st["owner"], "dir": self.dir, "vip": st["vip"],
               "client": st["client"], "pool": st["pool"], "nodes": []}
        for n in st["nodes"]:
            m = re.search(r"p-%s@\S+ <([^>]*)>" % n["name"], links)
            up = bool(m and "UP" in m.group(1).split(","))
            out["nodes"].append({"name": n["name"], "id": n["id"], "addr": n["addr"],
                                 "power": self.power_status(n["name"]),
                                 "link": "up" if up else "cut",
                                 "blackholes": self._blackholes(n["name"]),
                                 "storage": self.storage_mode(n["name"]),
                                 "daemons": self.daemons(n["name"])})
        out["cluster"] = self.cluster()
        return out

    # ------------------------------------------------------------------ down
    def down(self):
        if os.geteuid() != 0:
            raise LabError("must run as root")
        with self.locked():
            self._teardown()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.lockpath)
        with contextlib.suppress(OSError):
            os.rmdir(LAB_ROOT)

    def _teardown(self):
        names = [x.split()[0] for x in run(["ip", "netns", "list"]).stdout.splitlines() if x]
        mine = [x for x in names if x.startswith(self.prefix)]
        # kill nodes first, the switch (anchor) last
        mine.sort(key=lambda x: x == self.sw)
        for ns in mine:
            ino = ns_inode(ns)
            if ino:
                kill_netns(ino)
        for ns in mine:
            run(["ip", "netns", "del", ns], check=False)
        if os.path.isdir(self.dir):
            shutil.rmtree(self.dir)


def parse_crm_mon(xml_text):
    import xml.etree.ElementTree as ET
    try:
        root = ET.fromstring(xml_text)
    except ET.ParseError:
        return None
    summ = root.find("summary")
    dc = summ.find("current_dc") if summ is not None else None
    res = {"dc": dc.get("name") if dc is not None and dc.get("present") == "true" else None,
           "quorum": dc is not None and dc.get("with_quorum") == "true",
           "stonith_enabled": None, "nodes": {}, "resources": {}}
    opts = summ.find("cluster_options") if summ is not None else None
    if opts is not None:
        res["stonith_enabled"] = opts.get("stonith-enabled") == "true"
    for nd in root.iter("node"):
        if nd.get("type") in ("member", None) and nd.get("online") is not None:
            res["nodes"][nd.get("name")] = {"online": nd.get("online") == "true",
                                            "standby": nd.get("standby") == "true",
                                            "unclean": nd.get("unclean") == "true",
                                            "dc": nd.get("is_dc") == "true"}
    rs = root.find("resources")
    if rs is not None:
        for r in rs.iter("resource"):
            on = [x.get("name") for x in r.findall("node")]
            started = r.get("active") == "true" and r.get("failed") != "true" and \
                r.get("role") in ("Started", "Promoted", "Unpromoted")
            res["resources"].setdefault(r.get("id"), []).extend(on if started else [])
    return res


COROSYNC_CONF = """# written by ics-lab
totem {
    version: 2
    cluster_name: %(cluster)s
    transport: knet
    token: 1000
    token_coefficient: 0
    crypto_cipher: none
    crypto_hash: none
}
nodelist {
%(nodelist)s}
quorum {
    provider: corosync_votequorum
%(two)s}
logging {
    to_logfile: yes
    logfile: /var/log/corosync/corosync.log
    to_syslog: no
    to_stderr: no
    timestamp: on
}
system {
    move_to_root_cgroup: no
}
"""

SEED_CIB = """<cib crm_feature_set="3.16.1" validate-with="pacemaker-3.9" epoch="1" num_updates="0" admin_epoch="0">
  <configuration>
    <crm_config>
      <cluster_property_set id="cib-bootstrap-options">
        <nvpair id="opt-stonith-enabled" name="stonith-enabled" value="true"/>
        <nvpair id="opt-dc-deadtime" name="dc-deadtime" value="2s"/>
        <nvpair id="opt-stonith-timeout" name="stonith-timeout" value="60s"/>
        <nvpair id="opt-cluster-name" name="cluster-name" value="%(cluster)s"/>
        <nvpair id="opt-load-threshold" name="load-threshold" value="1000%%"/>
        <nvpair id="opt-node-action-limit" name="node-action-limit" value="4"/>
      </cluster_property_set>
    </crm_config>
    <nodes/>
    <resources>
      <primitive id="fence-lab" class="stonith" type="fence_ics_lab">
        <instance_attributes id="fence-lab-ia">
          <nvpair id="fence-lab-hosts" name="pcmk_host_list" value="%(hosts)s"/>
          <nvpair id="fence-lab-check" name="pcmk_host_check" value="static-list"/>
          <nvpair id="fence-lab-dir" name="lab_dir" value="%(labdir)s"/>
        </instance_attributes>
        <operations>
          <op id="fence-lab-monitor" name="monitor" interval="60s"/>
        </operations>
      </primitive>
    </resources>
    <constraints/>
    <rsc_defaults>
      <meta_attributes id="rsc-defaults">
        <nvpair id="rsc-defaults-stickiness" name="resource-stickiness" value="100"/>
      </meta_attributes>
    </rsc_defaults>
  </configuration>
  <status/>
</cib>
"""

LIBVIRTD_CONF = """# written by ics-lab
listen_tls = 0
listen_tcp = 1
listen_addr = "%(addr)s"
auth_tcp = "none"
auth_unix_ro = "none"
auth_unix_rw = "none"
host_uuid = "%(uuid)s"
log_outputs = "3:file:/var/log/libvirt/libvirtd.log"
"""

QEMU_CONF = """# written by ics-lab
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
security_driver = "none"
cgroup_controllers = [ ]
migration_address = "%(addr)s"
migration_host = "%(addr)s"
# VM screens listen on the node's cluster address (a per-start password;
# ics-managerd's console proxy connects here, docs/console-security.md)
vnc_listen = "%(addr)s"
# VM disk leases: libvirt's sanlock lock driver acquires each domain's
# <lease> through this node's sanlock daemon (ICS writes the leases; no
# automatic disk leases)
lock_manager = "sanlock"
"""

QEMU_SANLOCK_CONF = """# written by ics-lab
auto_disk_leases = 0
require_lease_for_disks = 0
user = "root"
group = "root"
"""

# Runs as the node's holder: builds the private mount namespace, then sleeps.
BOOT_SCRIPT = r"""
set -e
# mounts copied from the host that would pin other namespaces alive
for m in $(awk '$5 ~ "^/run/netns" {print $5}' /proc/self/mountinfo | sort -r); do
    umount -l "$m" 2>/dev/null || true
done
mount -t tmpfs -o mode=0755,size=256m tmpfs /run
mkdir -p /run/lock /run/crm /run/resource-agents /run/sanlock /run/libvirt
mount -t tmpfs -o mode=1777,size=512m tmpfs /dev/shm
# the node's disk: copy-on-write views of the host's /etc, /var/lib, /var/cache
for d in etc var-lib var-cache; do
    t=/$(echo $d | tr - /)
    mount -t overlay overlay -o lowerdir=$t,upperdir=%(nd)s/$d,workdir=%(nd)s/work/$d $t
done
mount --bind %(nd)s/var-log /var/log
mount -t overlay overlay -o lowerdir=%(lab)s/agents/sbin:/usr/sbin /usr/sbin
mount -t overlay overlay -o lowerdir=%(lab)s/agents/ocf:/usr/lib/ocf/resource.d /usr/lib/ocf/resource.d
mount -t tmpfs -o mode=0755,size=1m tmpfs /srv
mkdir -p %(pool)s
# the node's path to the shared pool: through a fault injector when built
if [ -x %(lab)s/agents/ics-faultfs ]; then
    [ -s %(nd)s/storage.mode ] || echo ok > %(nd)s/storage.mode
    %(lab)s/agents/ics-faultfs %(lab)s/pool %(pool)s --control %(nd)s/storage.mode
else
    mount --bind %(lab)s/pool %(pool)s
fi
hostname %(node)s
echo "ready $$"
exec sleep infinity >/dev/null 2>&1
"""
