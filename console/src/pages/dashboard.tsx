// dashboard.tsx: the cluster at a glance -- hosts online and the DC, each
// pool's capacity and its hosts' disk heartbeats, VMs by state, CPU and
// memory capacity against what the VMs take, running tasks and the events
// seen since the page opened.  Quorum, the DC, whether fencing is
// configured and the VMs counted by state come from GET /cluster (the
// cluster's summary; without a cluster the VMs are counted from the
// inventory).  Read once, then kept current by the event stream: host and
// VM events re-read the summary (at most once a second), task.updated
// moves the tasks, host.state and host.fenced re-read the hosts.  The API
// has no event history; recent events are those seen since the page opened.
import { useRef, useState } from "preact/hooks";
import { api, type ClusterSummary, type HostDetail, type Task, type VmSummary, type WhoAmI } from "../api";
import { recent, type IcsEvent } from "../events";
import { Badge, bytes, ErrorBox, Loading, Section, useEvent, useResource, when } from "../ui";

// The cluster's summary, re-read on host and VM events, at most once a
// second (a mass start sends thousands of vm.state events); null when the
// manager has no cluster or the user may not read hosts (never asked then).
function useSummary(allowed: boolean) {
  const summary = useResource(() => (allowed ? api.cluster().catch(() => null) : Promise.resolve(null)), [allowed]);
  const pending = useRef<number | null>(null);
  useEvent(["host.state", "host.fenced", "vm.state", "vm.created", "vm.deleted"], () => {
    if (pending.current === null) pending.current = window.setTimeout(() => { pending.current = null; summary.reload(); }, 1000);
  });
  return summary.data;
}

function Fencing({ f }: { f: ClusterSummary["fencing"] }) {
  if (!f.enabled) return <p>Fencing: <Badge value="disabled" /> <span class="note">a lost host's VMs are not recovered while it may still run them</span></p>;
  if (!f.configured) return <p>Fencing: <Badge value="unconfigured" /> <span class="note">no fencing device: a lost host stays unclean and its VMs stay down</span></p>;
  return (
    <p>Fencing: <Badge value="configured" /> ({f.action}) {f.devices.map((d) => <span key={d.id}><code>{d.id}</code>{d.failed ? <> <Badge value="failed" /></> : d.active_on.length ? ` on ${d.active_on.join(", ")}` : " (not started)"} </span>)}</p>
  );
}

function Hosts({ summary }: { summary: ClusterSummary | null | undefined }) {
  const hosts = useResource(async () => {
    const list = await api.hosts();
    return Promise.all(list.map((h) => api.host(h.name).catch(() => ({ ...h, vms: [], stats: null } as HostDetail))));
  });
  useEvent(["host.state", "host.fenced", "vm.state"], (e) => { if (e.type !== "vm.state") hosts.reload(); });
  if (hosts.error) return <ErrorBox error={hosts.error} />;
  if (!hosts.data) return <Loading what="hosts" />;
  const list = hosts.data;
  const online = list.filter((h) => h.state === "online").length;
  const dc = summary?.dc ?? list.find((h) => h.dc)?.name ?? "none";
  let cpus = 0, vcpus = 0, mem = 0, memFree = 0, memVm = 0;
  for (const h of list) {
    if (!h.stats) continue;
    cpus += h.stats.cpus; mem += h.stats.memory_total_kib * 1024; memFree += h.stats.memory_free_kib * 1024;
    for (const d of h.stats.domains) if (d.active) { vcpus += d.vcpus; memVm += d.memory_kib * 1024; }
  }
  return (
    <div class="grid-cards">
      <article aria-label="Cluster">
        <header><strong>Cluster</strong></header>
        <p><strong>{online}</strong> of {list.length} hosts online</p>
        <p>Designated controller: <strong>{dc}</strong></p>
        {summary && <p>Quorum: <Badge value={summary.quorum ? "quorate" : "no-quorum"} /></p>}
        {summary && <Fencing f={summary.fencing} />}
        <ul>{list.map((h) => <li key={h.name}><a href={"#/hosts/" + encodeURIComponent(h.name)}>{h.name}</a> <Badge value={h.state} /> {h.vm_count} VMs</li>)}</ul>
      </article>
      <article aria-label="Capacity">
        <header><strong>Capacity and use</strong></header>
        <p>CPU: {vcpus} vCPUs running on {cpus} cores</p>
        <p>Memory: {bytes(mem - memFree)} used of {bytes(mem)} ({bytes(memVm)} given to VMs)</p>
        <label>Memory in use<progress value={mem - memFree} max={mem || 1} /></label>
        {list.some((h) => !h.stats) && <p class="note">No statistics from {list.filter((h) => !h.stats).map((h) => h.name).join(", ")}.</p>}
      </article>
    </div>
  );
}

function Pools() {
  const pools = useResource(async () => Promise.all((await api.pools()).map((p) => api.pool(p.name))));
  if (pools.error) return <ErrorBox error={pools.error} />;
  if (!pools.data) return <Loading what="pools" />;
  if (!pools.data.length) return <p>No storage pool is configured.</p>;
  return (
    <div class="grid-cards">
      {pools.data.map((p) => (
        <article key={p.name} aria-label={"Pool " + p.name}>
          <header><a href={"#/pools/" + encodeURIComponent(p.name)}><strong>{p.name}</strong></a> active on {p.active_on.length} hosts</header>
          {p.capacity ? <p>{bytes(p.capacity.used_bytes)} used of {bytes(p.capacity.total_bytes)}</p> : <p class="note">Capacity: {p.capacity_error ?? "unknown"}</p>}
          {p.heartbeat ? (
            <ul aria-label="Disk heartbeats">{p.heartbeat.map((h) => <li key={h.host_id}>{h.name ?? "host " + h.host_id} <Badge value={h.state} /> {h.age_s >= 0 ? h.age_s + " s ago" : ""}</li>)}</ul>
          ) : <p class="note">Heartbeats: {p.heartbeat_error ?? "unknown"}</p>}
        </article>
      ))}
    </div>
  );
}

function VmStates({ summary }: { summary: ClusterSummary | null | undefined }) {
  if (summary) {
    const by = Object.entries(summary.vms.by_state).filter(([, n]) => n > 0).sort();
    return <p><a href="#/vms">{summary.vms.total} VM{summary.vms.total === 1 ? "" : "s"}</a> in the cluster: {by.map(([s, n]) => <span key={s}><Badge value={s} /> {n}{" "}</span>)}</p>;
  }
  return summary === null ? <InventoryVmStates /> : <Loading what="VMs" />;
}

function InventoryVmStates() {
  const vms = useResource(() => api.vms());
  useEvent(["vm.state", "vm.created", "vm.deleted"], (e: IcsEvent) => {
    if (e.type === "reset" || e.type === "vm.created" || e.type === "vm.deleted") return vms.reload();
    const list = vms.data;
    if (!list) return;
    vms.setData(list.map((v): VmSummary => v.uuid === e.data.uuid ? { ...v, runtime: { ...(v.runtime ?? { pool: null }), state: e.data.state, host: e.data.host } } : v));
  });
  if (vms.error) return <ErrorBox error={vms.error} />;
  if (!vms.data) return <Loading what="VMs" />;
  const by: Record<string, number> = {};
  for (const v of vms.data) { const s = v.broken ? "broken" : v.runtime?.state ?? "undefined"; by[s] = (by[s] ?? 0) + 1; }
  return (
    <p><a href="#/vms">{vms.data.length} VMs</a>: {Object.entries(by).sort().map(([s, n]) => <span key={s}><Badge value={s} /> {n}{" "}</span>)}</p>
  );
}

function RunningTasks() {
  const tasks = useResource(() => api.tasks());
  const [live, setLive] = useState<Map<number, Task>>(new Map());
  useEvent(["task.updated"], (e) => {
    if (e.type === "reset") return tasks.reload();
    setLive((m) => new Map(m).set(e.data.id, e.data as Task));
  });
  if (tasks.error) return <ErrorBox error={tasks.error} />;
  if (!tasks.data) return <Loading what="tasks" />;
  const all = new Map<number, Task>();
  for (const t of tasks.data.items) all.set(t.id, t);
  live.forEach((t, id) => all.set(id, t));
  const running = [...all.values()].filter((t) => t.state === "queued" || t.state === "running").sort((a, b) => b.id - a.id);
  if (!running.length) return <p>No task is running. <a href="#/tasks">All tasks</a></p>;
  return (
    <ul>{running.map((t) => <li key={t.id}>{t.kind} {t.object_id} <Badge value={t.state} /> <progress value={t.progress} max={100} aria-label={`Task ${t.id} progress`} /> {t.message}</li>)}</ul>
  );
}

function RecentEvents() {
  const [, setN] = useState(0);
  useEvent(["*"], () => setN((n) => n + 1));
  if (!recent.length) return <p class="note">No event since this page opened (the API keeps no event history to show).</p>;
  return (
    <table><thead><tr><th scope="col">Time</th><th scope="col">Event</th><th scope="col">Object</th></tr></thead>
      <tbody>{recent.slice(0, 10).map((e) => <tr key={e.id}><td>{when(e.at.toISOString())}</td><td>{e.type}</td><td><code>{describe(e)}</code></td></tr>)}</tbody></table>
  );
}

export function describe(e: IcsEvent): string {
  const d = e.data ?? {};
  if (e.type === "task.updated") return `#${d.id} ${d.kind} ${d.state} ${d.progress}%`;
  if (e.type === "vm.state") return `${d.uuid}: ${d.previous_state ?? "?"} → ${d.state}${d.host ? " on " + d.host : ""}`;
  if (e.type === "host.state") return `${d.host}: ${d.previous_state ?? "?"} → ${d.state}`;
  if (e.type === "host.fenced") return `${d.host} (${d.action}${d.manual ? ", confirmed by hand" : ""})`;
  return JSON.stringify(d);
}

export function DashboardPage({ me }: { me: WhoAmI }) {
  const can = (p: string) => me.permissions.includes(p);
  const summary = useSummary(can("host.read"));
  return (
    <>
      <h1>Dashboard</h1>
      {can("host.read") && <Section title="Hosts and capacity"><Hosts summary={summary} /></Section>}
      {can("host.read") && <Section title="Pools"><Pools /></Section>}
      {can("vm.read") && <Section title="Virtual machines"><VmStates summary={summary} /></Section>}
      {can("task.read") && <Section title="Running tasks"><RunningTasks /></Section>}
      {can("event.read") && <Section title="Recent events"><RecentEvents /></Section>}
    </>
  );
}
