"""Foundation scenarios on plain Pacemaker resources (Dummy, IPaddr2).

Each breaks one real thing in the lab and checks, from what really runs on
the nodes, that the resource comes back on exactly one node and that the
cluster is whole again afterwards.  The fenced node is rebooted by the lab
fence agent (stonith-action=reboot), so it rejoins by itself.
"""

import icslab
from ctslib.runner import Scenario, ScenarioFailed


class _Recover(Scenario):
    """Common shape: a Dummy on a victim node, a fault on that node, the Dummy
    running elsewhere, the victim fenced and back in the cluster."""
    rid = "cts-d1"
    victim_is_dc = False

    def setup(self, ctx):
        self.tr = ctx.add_dummy(self.rid)
        return [self.tr]

    def pick_victim(self, ctx):
        where = ctx.sampler.where(self.rid)
        if self.victim_is_dc:
            return ctx.cluster()["dc"]
        return where[0]

    def recovered(self, ctx):
        ctx.info["from"] = self.victim
        ctx.info["to"] = ctx.wait_started(self.rid, self.timeout, not_on=(self.victim,))
        ctx.mark("recovered")
        ev = [e for e in ctx.fence_events(ctx.wall0, exclude=(self.victim,))
              if e["target"] == self.victim and e["status"] == "success"]
        if self.expect_fencing and not ev:
            # the fence history may lag the resource start by a moment
            ctx.wait(lambda: any(e["target"] == self.victim and e["status"] == "success"
                                 for e in ctx.fence_events(ctx.wall0, exclude=(self.victim,))),
                     30,
                     "a successful fencing of %s in the history" % self.victim)
        ctx.info["fenced"] = self.victim if self.expect_fencing else "-"

    expect_fencing = True


class NodeCrash(_Recover):
    name = "node-crash"
    description = "power off the node running a Dummy: fenced, Dummy restarted elsewhere"

    def fault(self, ctx):
        self.victim = self.pick_victim(ctx)
        ctx.lab.power_off(self.victim)


class CableCut(_Recover):
    name = "cable-cut"
    description = "cut the cable of the node running a Dummy: fenced, Dummy elsewhere, heal"

    def fault(self, ctx):
        self.victim = self.pick_victim(ctx)
        ctx.lab.cut(self.victim)

    def teardown(self, ctx):
        ctx.lab.heal(self.victim)


class DCCrash(_Recover):
    name = "dc-crash"
    description = "power off the DC (which runs the Dummy): new DC, Dummy elsewhere"
    victim_is_dc = True

    def setup(self, ctx):
        dc = ctx.cluster()["dc"]
        self.tr = ctx.add_dummy(self.rid, prefer=dc)
        return [self.tr]

    def fault(self, ctx):
        self.victim = ctx.cluster()["dc"]
        ctx.info["old_dc"] = self.victim
        ctx.lab.power_off(self.victim)

    def recovered(self, ctx):
        super().recovered(ctx)
        c = ctx.cluster(exclude=(self.victim,))
        ctx.wait(lambda: (ctx.cluster(exclude=(self.victim,)) or {}).get("dc") not in
                 (None, self.victim), 30, "a new DC")
        ctx.info["new_dc"] = (c or ctx.cluster(exclude=(self.victim,)))["dc"]


class VipFailover(Scenario):
    name = "vip-failover"
    description = "power off the node holding an IPaddr2 VIP: it answers from another node"
    rid = "cts-vip"

    def setup(self, ctx):
        self.addr = icslab.VIP_ADDR
        return [ctx.add_vip(self.rid, self.addr)]

    def answers(self, ctx):
        st = ctx.lab.require_state()
        p = icslab.run(["nsenter", "--net=/run/netns/" + st["client"]["ns"], "ping", "-c", "1", "-W", "1",
                        self.addr], check=False, timeout=5)
        return p.returncode == 0

    def fault(self, ctx):
        if not self.answers(ctx):
            raise ScenarioFailed("VIP %s does not answer before the fault" % self.addr)
        self.victim = ctx.sampler.where(self.rid)[0]
        ctx.lab.power_off(self.victim)

    def recovered(self, ctx):
        ctx.info["from"] = self.victim
        ctx.info["to"] = ctx.wait_started(self.rid, self.timeout, not_on=(self.victim,))
        ctx.wait(lambda: self.answers(ctx), 30, "the VIP to answer ping from the client")


class RebootRejoin(Scenario):
    name = "reboot-rejoin"
    description = "reboot a node that runs nothing: it rejoins, resources stay put"
    rid = "cts-d1"

    def setup(self, ctx):
        return [ctx.add_dummy(self.rid)]

    def fault(self, ctx):
        where = ctx.sampler.where(self.rid)[0]
        self.victim = [n for n in ctx.lab.nodes() if n != where][0]
        self.where = where
        ctx.lab.power_off(self.victim)
        # the peers notice the node is gone before it comes back
        ctx.wait(lambda: not (ctx.cluster(exclude=(self.victim,)) or {"nodes": {}})["nodes"]
                 .get(self.victim, {}).get("online", True), 30, "%s seen offline" % self.victim)
        ctx.mark("seen_offline")
        ctx.lab.power_on(self.victim)   # no-op if fencing already rebooted it

    def recovered(self, ctx):
        ctx.wait_whole(90)
        ctx.info["rebooted"] = self.victim
        if ctx.sampler.where(self.rid) != [self.where]:
            raise ScenarioFailed("%s moved from %s to %s on a reboot of %s" % (
                self.rid, self.where, ctx.sampler.where(self.rid), self.victim))


class PartitionHeal(_Recover):
    name = "partition-heal"
    description = "partition the Dummy's node from the majority: fenced, Dummy on the " \
                  "majority side; heal: cluster whole"

    def fault(self, ctx):
        self.victim = self.pick_victim(ctx)
        rest = [n for n in ctx.lab.nodes() if n != self.victim]
        spec = "%s/%s" % (",".join(rest), self.victim)
        ctx.info["partition"] = spec
        ctx.lab.partition(spec)

    def teardown(self, ctx):
        ctx.lab.heal()


SCENARIOS = [NodeCrash, CableCut, DCCrash, VipFailover, RebootRejoin, PartitionHeal]
