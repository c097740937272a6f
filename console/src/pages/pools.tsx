// pools.tsx: the storage pools (capacity, the hosts where each is active,
// each host's disk heartbeat in the pool's lockspace) and a pool's
// volumes: create (thin at once, thick-lazy as a task), grow, delete.
// volume.created/deleted events keep the list current.
import { useState } from "preact/hooks";
import { api, type Task, type WhoAmI } from "../api";
import { Badge, bytes, ErrorBox, Loading, TaskProgress, useAction, useEvent, useResource } from "../ui";

export function PoolsPage() {
  const pools = useResource(async () => Promise.all((await api.pools()).map((p) => api.pool(p.name))));
  return (
    <>
      <h1>Pools and volumes</h1>
      <ErrorBox error={pools.error} />
      {!pools.data && !pools.error && <Loading what="pools" />}
      {pools.data && (
        <table>
          <thead><tr><th scope="col">Pool</th><th scope="col">Path</th><th scope="col">Active on</th><th scope="col">Used / total</th><th scope="col">Heartbeats</th></tr></thead>
          <tbody>{pools.data.map((p) => (
            <tr key={p.name}>
              <td><a href={"#/pools/" + encodeURIComponent(p.name)}>{p.name}</a></td><td><code>{p.path}</code></td><td>{p.active_on.join(", ")}</td>
              <td>{p.capacity ? `${bytes(p.capacity.used_bytes)} / ${bytes(p.capacity.total_bytes)}` : p.capacity_error ?? "—"}</td>
              <td>{p.heartbeat ? p.heartbeat.map((h) => <span key={h.host_id}>{h.name ?? h.host_id} <Badge value={h.state} />{" "}</span>) : p.heartbeat_error ?? "—"}</td>
            </tr>
          ))}</tbody>
        </table>
      )}
    </>
  );
}

export function PoolPage({ params, me }: { params: Record<string, string>; me: WhoAmI }) {
  const name = params.name;
  const pool = useResource(() => api.pool(name), [name]);
  const vols = useResource(() => (me.permissions.includes("volume.read") ? api.volumes(name) : Promise.resolve([])), [name]);
  const act = useAction();
  const [grow, setGrow] = useState<Record<string, string>>({});
  useEvent(["volume.created", "volume.deleted", "task.updated"], (e) => {
    if (e.type === "reset" || e.data?.pool === name || (e.type === "task.updated" && (e.data as Task).kind?.startsWith("volume.") && (e.data as Task).state === "succeeded")) vols.reload();
  });
  const writable = me.permissions.includes("volume.write");
  const create = (ev: Event) => {
    ev.preventDefault();
    const f = new FormData(ev.target as HTMLFormElement);
    act.run(async () => {
      const r = await api.createVolume(name, { name: String(f.get("name")), capacity: String(f.get("capacity")), format: String(f.get("format")), provisioning: String(f.get("provisioning")) });
      vols.reload();
      return "id" in r ? (r as Task) : undefined;
    });
  };
  const p = pool.data;
  return (
    <>
      <h1>Pool {name}</h1>
      <p><a href="#/pools">All pools</a></p>
      <ErrorBox error={pool.error} />
      {p && (
        <>
          <p>Path <code>{p.path}</code>; active on {p.active_on.join(", ") || "no host"}.</p>
          {p.capacity ? <p>{bytes(p.capacity.used_bytes)} used, {bytes(p.capacity.free_bytes)} free of {bytes(p.capacity.total_bytes)}</p> : <p class="note">Capacity: {p.capacity_error}</p>}
          <h2>Disk heartbeats</h2>
          {p.heartbeat ? (
            <table><thead><tr><th scope="col">Host id</th><th scope="col">Host</th><th scope="col">State</th><th scope="col">Last renewal</th></tr></thead>
              <tbody>{p.heartbeat.map((h) => <tr key={h.host_id}><td>{h.host_id}</td><td>{h.name ?? "—"}</td><td><Badge value={h.state} /></td><td>{h.age_s >= 0 ? h.age_s + " s ago" : "unknown"}</td></tr>)}</tbody></table>
          ) : <p class="note">Not readable: {p.heartbeat_error}</p>}
        </>
      )}
      <h2>Volumes</h2>
      <ErrorBox error={vols.error} />
      {vols.data && (
        <table>
          <thead><tr><th scope="col">Volume</th><th scope="col">Format</th><th scope="col">Capacity</th><th scope="col">Allocated</th>{writable && <th scope="col">Actions</th>}</tr></thead>
          <tbody>{vols.data.map((v) => (
            <tr key={v.name}><td>{v.name}</td><td>{v.format}</td><td>{bytes(v.capacity_bytes)}</td><td>{bytes(v.allocation_bytes)}</td>
              {writable && <td class="actions">
                <input aria-label={`New size of ${v.name}`} placeholder="20G" style="width:6rem;margin:0" value={grow[v.name] ?? ""} onInput={(e) => setGrow({ ...grow, [v.name]: (e.target as HTMLInputElement).value })} />
                <button class="secondary" disabled={!grow[v.name]} onClick={() => act.run(() => api.resizeVolume(name, v.name, grow[v.name]))}>Grow</button>
                <button class="contrast outline" onClick={() => confirm(`Delete volume ${v.name}?`) && act.run(async () => { await api.deleteVolume(name, v.name); vols.reload(); })}>Delete</button>
              </td>}
            </tr>
          ))}</tbody>
        </table>
      )}
      {vols.data && !vols.data.length && <p>No volume.</p>}
      <ErrorBox error={act.error} />
      <TaskProgress id={act.taskId} />
      {writable && (
        <form onSubmit={create} aria-label="New volume" class="toolbar">
          <label>Name<input name="name" required /></label>
          <label>Capacity<input name="capacity" required placeholder="10G" /></label>
          <label>Format<select name="format"><option>qcow2</option><option>raw</option></select></label>
          <label>Provisioning<select name="provisioning"><option>thin</option><option value="thick-lazy">thick (lazy)</option></select></label>
          <button type="submit" disabled={act.busy}>Create volume</button>
        </form>
      )}
    </>
  );
}
