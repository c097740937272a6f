// vm.tsx: one VM -- where it runs and in what state (live, from vm.state
// events), who holds its sanlock lease (read from the pool with the VM,
// again after each of its vm.state events), its definition and tags (edited in
// place by vm.write holders), the power actions with their task's progress
// (start, stop or power off, reboot, live migration to a chosen host),
// deletion, the link to its screen and serial console, its backups (with
// "back up now", backups.tsx), and the events about it seen since the page
// opened.
import { useState } from "preact/hooks";
import { api, type WhoAmI } from "../api";
import type { IcsEvent } from "../events";
import { navigate } from "../router";
import { Badge, ErrorBox, Loading, TaskProgress, useAction, useEvent, useResource, when } from "../ui";
import { VmBackups } from "./backups";
import { describe } from "./dashboard";

export function VmPage({ params, me }: { params: Record<string, string>; me: WhoAmI }) {
  const uuid = params.uuid;
  const vm = useResource(() => api.vm(uuid), [uuid]);
  const hosts = useResource(() => (me.permissions.includes("host.read") ? api.hosts() : Promise.resolve([])), []);
  const [events, setEvents] = useState<IcsEvent[]>([]);
  const [target, setTarget] = useState("");
  const act = useAction();
  const can = (p: string) => me.permissions.includes(p);

  useEvent(["vm.state", "vm.updated", "vm.deleted", "task.updated"], (e) => {
    if (e.type === "reset") return vm.reload();
    const d = e.data ?? {};
    const mine = d.uuid === uuid || (e.type === "task.updated" && d.object_id === uuid);
    if (!mine) return;
    setEvents((l) => [e, ...l].slice(0, 50));
    if (e.type === "vm.state" && vm.data) vm.setData({ ...vm.data, runtime: { pool: vm.data.runtime?.pool ?? null, ...vm.data.runtime, state: d.state, host: d.host } });
    if (e.type === "vm.updated" || e.type === "vm.state") vm.reload();   // the lease moves with it
  });

  const v = vm.data;
  const rt = v?.runtime;
  const remove = () => {
    if (!v || !confirm(`Delete VM ${v.name}? Its definition is removed; its disks stay on the pool.`)) return;
    act.run(async () => { await api.deleteVm(uuid); navigate("/vms"); });
  };
  return (
    <>
      <h1>VM {v?.name ?? uuid}</h1>
      <p><a href="#/vms">All VMs</a></p>
      <ErrorBox error={vm.error} />
      {!v && !vm.error && <Loading what="the VM" />}
      {v && (
        <>
          {v.broken && <p class="error-box" role="alert">This VM cannot be used: {v.broken}</p>}
          <table aria-label="Where it runs">
            <tbody>
              <tr><th scope="row">State</th><td><Badge value={rt?.state ?? "undefined"} /></td></tr>
              <tr><th scope="row">Host</th><td>{rt?.host ? <a href={"#/hosts/" + encodeURIComponent(rt.host)}>{rt.host}</a> : "—"}</td></tr>
              <tr><th scope="row">Lease holder</th><td>{v.lease ? (v.lease.holder ?? (v.lease.host_id ? `host id ${v.lease.host_id} (no node of that id)` : "free")) : <span class="note">{v.lease_error ?? "—"}</span>}</td></tr>
              <tr><th scope="row">Pool</th><td>{rt?.pool ?? "—"}</td></tr>
              <tr><th scope="row">Cluster resource</th><td>{rt?.resource ?? "—"}</td></tr>
              <tr><th scope="row">vCPUs, memory</th><td>{v.vcpus}, {v.memory_mib} MiB</td></tr>
              <tr><th scope="row">Owner</th><td>{v.owner ?? "—"}</td></tr>
              <tr><th scope="row">Tags</th><td>{can("vm.write") ? <TagsForm uuid={uuid} definition={v.definition} onSaved={vm.reload} />
                : ((v.definition?.tags as string[] | undefined) ?? []).join(", ") || "—"}</td></tr>
              <tr><th scope="row">UUID</th><td><code>{v.uuid}</code></td></tr>
              <tr><th scope="row">Created, updated</th><td>{when(v.created_at)}, {when(v.updated_at)}</td></tr>
            </tbody>
          </table>
          {can("vm.power") && (
            <section aria-label="Actions">
              <h2>Actions</h2>
              <div class="actions">
                <button disabled={act.busy} onClick={() => act.run(() => api.startVm(uuid))}>Start</button>
                <button class="secondary" disabled={act.busy} onClick={() => act.run(() => api.stopVm(uuid, false))}>Shut down</button>
                <button class="secondary" disabled={act.busy} onClick={() => confirm("Power off without a guest shutdown?") && act.run(() => api.stopVm(uuid, true))}>Power off</button>
                <button class="secondary" disabled={act.busy} onClick={() => act.run(() => api.rebootVm(uuid))}>Reboot</button>
                <a role="button" class="contrast" href={`#/vms/${uuid}/console`}>Console</a>
                {can("vm.write") && <button class="contrast outline" disabled={act.busy} onClick={remove}>Delete</button>}
              </div>
              <form class="toolbar" onSubmit={(e) => { e.preventDefault(); if (target) act.run(() => api.migrateVm(uuid, target)); }}>
                <label>Migrate to
                  <select value={target} onChange={(e) => setTarget((e.target as HTMLSelectElement).value)}>
                    <option value="">choose a host</option>
                    {(hosts.data ?? []).filter((h) => h.name !== rt?.host).map((h) => <option key={h.name} value={h.name}>{h.name} ({h.state})</option>)}
                  </select>
                </label>
                <button type="submit" disabled={!target || act.busy}>Migrate</button>
              </form>
              <ErrorBox error={act.error} />
              <TaskProgress id={act.taskId} />
            </section>
          )}
          {can("backup.read") && <VmBackups uuid={uuid} me={me} />}
          <h2>Events</h2>
          {events.length ? <ul>{events.map((e) => <li key={e.id}>{when(e.at.toISOString())} {e.type}: <code>{describe(e)}</code></li>)}</ul>
            : <p class="note">No event about this VM since the page opened.</p>}
          <details>
            <summary>Definition</summary>
            <pre class="json" tabIndex={0} aria-label="VM definition (JSON)">{JSON.stringify(v.definition, null, 2)}</pre>
          </details>
        </>
      )}
    </>
  );
}

// A VM's tags, saved as its definition with new tags (PUT /vms/{uuid}).
function TagsForm({ uuid, definition, onSaved }: { uuid: string; definition: Record<string, unknown>; onSaved: () => void }) {
  const current = ((definition?.tags as string[] | undefined) ?? []).join(", ");
  const [text, setText] = useState(current);
  const act = useAction();
  const save = (ev: Event) => {
    ev.preventDefault();
    const tags = text.split(/[\s,]+/).filter(Boolean);
    const d: Record<string, unknown> = { ...definition };
    if (tags.length) d.tags = tags; else delete d.tags;
    act.run(async () => { await api.updateVm(uuid, d); onSaved(); });
  };
  return (
    <form class="toolbar" onSubmit={save} aria-label="Tags">
      <input value={text} aria-label="Tags (comma-separated)" pattern="[A-Za-z0-9._\-, ]*" onInput={(e) => setText((e.target as HTMLInputElement).value)} />
      <button type="submit" class="secondary outline" disabled={act.busy || text === current}>Save tags</button>
      <ErrorBox error={act.error} />
    </form>
  );
}
