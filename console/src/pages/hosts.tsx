// hosts.tsx: the hosts -- Pacemaker's state of each, its VMs, and
// maintenance: entering has DRS evacuate the host by live migration and
// then puts it in standby; the task's progress is the share of its VMs
// that have left, followed live here.  host.state, vm.state and
// host.fenced events re-read the host so its state follows standby and
// rejoins and its VM list empties as the VMs leave, and so does every
// update of its maintenance task.
import { api, type WhoAmI } from "../api";
import { Badge, bytes, ErrorBox, Loading, TaskProgress, useAction, useEvent, useResource } from "../ui";

export function HostsPage() {
  const hosts = useResource(() => api.hosts());
  useEvent(["host.state", "host.fenced", "vm.state"], () => hosts.reload());
  if (hosts.error) return <><h1>Hosts</h1><ErrorBox error={hosts.error} /></>;
  if (!hosts.data) return <><h1>Hosts</h1><Loading what="hosts" /></>;
  return (
    <>
      <h1>Hosts</h1>
      <table>
        <thead><tr><th scope="col">Host</th><th scope="col">Node id</th><th scope="col">State</th><th scope="col">DC</th><th scope="col">Standby</th><th scope="col">VMs</th></tr></thead>
        <tbody>{hosts.data.map((h) => (
          <tr key={h.name}><td><a href={"#/hosts/" + encodeURIComponent(h.name)}>{h.name}</a></td><td>{h.id}</td><td><Badge value={h.state} /></td>
            <td>{h.dc ? "yes" : ""}</td><td>{h.standby ? "yes" : ""}</td><td>{h.vm_count}</td></tr>
        ))}</tbody>
      </table>
    </>
  );
}

export function HostPage({ params, me }: { params: Record<string, string>; me: WhoAmI }) {
  const host = useResource(() => api.host(params.name), [params.name]);
  const act = useAction();
  // read the host again when its state changes or its maintenance task
  // moves on
  useEvent(["host.state", "host.fenced", "vm.state", "task.updated"], (e) => {
    if (e.type === "task.updated" && !(e.data?.kind === "host.maintenance" && e.data?.object_id === params.name)) return;
    if (e.type === "host.state" && e.data?.host !== params.name) return;
    host.reload();
  });
  const h = host.data;
  return (
    <>
      <h1>Host {params.name}</h1>
      <p><a href="#/hosts">All hosts</a></p>
      <ErrorBox error={host.error} />
      {!h && !host.error && <Loading what="the host" />}
      {h && (
        <>
          <p>State <Badge value={h.state} /> {h.dc && "(designated controller)"} {h.standby && "— in standby (ICS maintenance)"} {h.maintenance && "— Pacemaker maintenance (resources unmanaged)"}</p>
          {me.permissions.includes("host.maintenance") && (
            <div class="actions">
              <button disabled={act.busy || h.standby} onClick={() => act.run(() => api.maintenance(h.name, true))}>Enter maintenance</button>
              <button class="secondary" disabled={act.busy || !h.standby} onClick={() => act.run(() => api.maintenance(h.name, false))}>Leave maintenance</button>
            </div>
          )}
          <ErrorBox error={act.error} />
          <TaskProgress id={act.taskId} label={"Maintenance of " + h.name} />
          <h2>VMs on this host</h2>
          {h.vms.length ? (
            <ul>{h.vms.map((v) => <li key={v.resource}>{v.uuid ? <a href={"#/vms/" + v.uuid}>{v.resource}</a> : v.resource} <Badge value={v.state} /></li>)}</ul>
          ) : <p>No VM runs here.</p>}
          <h2>Statistics</h2>
          {h.stats ? (
            <p>{h.stats.cpus} cores; memory {bytes(h.stats.memory_total_kib * 1024)}, {bytes(h.stats.memory_free_kib * 1024)} free; {h.stats.domains.filter((d) => d.active).length} running domains</p>
          ) : <p class="note">No statistics: {h.stats_error ?? "the host's libvirtd does not answer"}</p>}
        </>
      )}
    </>
  );
}
