// backups.tsx: backup repositories -- the directories VMs are backed up
// into (register one: administrators, it is a host path; unregister: the
// backups stay on disk) --, backup policies (scheduled backups of a list
// of VMs or all of them, with a retention; backup.admin makes, runs,
// pauses and deletes them), the manager's own backups (system.backup:
// they hold every secret) with "back up the manager now", and a VM's
// backups with "back up now" and "restore" (to a new VM, over the stopped
// VM's disks, or one disk to a volume), shown on the VM's page.  The
// backups themselves are read from the repositories at each request
// (docs/backup-format.md); a backup or a restore is a task whose progress
// shows here, and the list reloads when one ends.
import { useState } from "preact/hooks";
import { api, type Backup, type RestoreRequest, type Task, type WhoAmI } from "../api";
import { Badge, bytes, ErrorBox, Loading, TaskProgress, useAction, useEvent, useResource, when } from "../ui";

export function BackupReposPage({ me }: { params: Record<string, string>; me: WhoAmI }) {
  const repos = useResource(() => api.backupRepos(), []);
  const act = useAction();
  const admin = me.permissions.includes("backup.admin");
  const add = (ev: Event) => {
    ev.preventDefault();
    const form = ev.target as HTMLFormElement;
    const f = new FormData(form);
    act.run(async () => {
      await api.addBackupRepo(String(f.get("name")), String(f.get("path")));
      form.reset();
      repos.reload();
    });
  };
  const remove = (name: string) => {
    if (!confirm(`Unregister repository ${name}? Its backups stay on disk.`)) return;
    act.run(async () => { await api.removeBackupRepo(name); repos.reload(); });
  };
  return (
    <>
      <h1>Backup repositories</h1>
      <p class="note">Directories VMs are backed up into. Each describes its backups itself: <code>ics-backup</code> lists, verifies and restores them without the manager. A VM's backups are on its page.</p>
      <ErrorBox error={repos.error} />
      {!repos.data && !repos.error && <Loading what="repositories" />}
      {repos.data && (repos.data.length ? (
        <table aria-label="Backup repositories">
          <thead><tr><th scope="col">Name</th><th scope="col">Path</th><th scope="col">Registered</th><th scope="col">By</th>{admin && <th scope="col">Actions</th>}</tr></thead>
          <tbody>{repos.data.map((r) => (
            <tr key={r.name}>
              <td>{r.name}</td><td><code>{r.path}</code></td><td>{when(r.created)}</td><td>{r.created_by}</td>
              {admin && <td><button class="secondary outline" disabled={act.busy} onClick={() => remove(r.name)} aria-label={`Unregister ${r.name}`}>Unregister</button></td>}
            </tr>
          ))}</tbody>
        </table>
      ) : <p class="note">No repository yet{admin ? ": register a directory below." : "."}</p>)}
      {admin && (
        <form onSubmit={add} aria-label="Register a repository">
          <h2>Register a repository</h2>
          <div class="grid">
            <label>Name<input name="name" required pattern="[A-Za-z0-9][A-Za-z0-9._\-]{0,62}" autocomplete="off" /></label>
            <label>Directory (absolute; on a pool, or mounted at the same path on every host)<input name="path" required placeholder="/srv/ics/pools/shared/backups" autocomplete="off" /></label>
          </div>
          <button type="submit" disabled={act.busy}>Register</button>
        </form>
      )}
      <ErrorBox error={act.error} />
      <BackupPolicies admin={admin} repos={repos.data?.map((r) => r.name) ?? []} />
      {me.permissions.includes("system.backup") && <SystemBackups />}
    </>
  );
}

function BackupPolicies({ admin, repos }: { admin: boolean; repos: string[] }) {
  const list = useResource(() => api.backupPolicies(), []);
  const act = useAction();
  const [all, setAll] = useState(true);
  const create = (ev: Event) => {
    ev.preventDefault();
    const form = ev.target as HTMLFormElement;
    const f = new FormData(form);
    const names = (k: string) => String(f.get(k) ?? "").split(/[\s,]+/).filter(Boolean);
    const [vms, pools, hosts, tags] = [names("vms"), names("pools"), names("hosts"), names("tags")];
    const retention = String(f.get("retention") ?? "").trim();
    const window = String(f.get("window") ?? "").trim();
    act.run(async () => {
      await api.createBackupPolicy({
        name: String(f.get("name")), schedule: String(f.get("schedule")), repository: String(f.get("repository")),
        ...(all ? { all_vms: true } : { ...(vms.length ? { vms } : {}), ...(pools.length ? { pools } : {}), ...(hosts.length ? { hosts } : {}), ...(tags.length ? { tags } : {}) }),
        ...(retention ? { retention } : {}), ...(window ? { window } : {}),
        max_concurrent: Number(f.get("max_concurrent")) || 2,
      });
      form.reset();
      setAll(true);
      list.reload();
    });
  };
  const remove = (name: string) => {
    if (!confirm(`Delete backup policy ${name}? Its backups stay.`)) return;
    act.run(async () => { await api.deleteBackupPolicy(name); list.reload(); });
  };
  return (
    <section aria-label="Backup policies">
      <h2>Backup policies</h2>
      <p class="note">Scheduled backups: the VMs of a policy (every VM, or those it names, those with one of its tags and those on its pools or hosts when its time comes) are backed up into its repository whenever its schedule comes (cron, UTC), as many at once as it allows; its retention then prunes each VM's backups there, never cutting a chain.</p>
      <ErrorBox error={list.error} />
      {!list.data && !list.error && <Loading what="backup policies" />}
      {list.data && (list.data.length ? (
        <table aria-label="Backup policies">
          <thead><tr><th scope="col">Name</th><th scope="col">Schedule (UTC)</th><th scope="col">Repository</th><th scope="col">VMs</th><th scope="col">Retention</th><th scope="col">Next run</th><th scope="col">Due</th>{admin && <th scope="col">Actions</th>}</tr></thead>
          <tbody>{list.data.map((p) => (
            <tr key={p.name}>
              <td>{p.name}{!p.enabled && <> <Badge value="disabled" /></>}</td><td><code>{p.schedule}</code></td><td>{p.repository}</td>
              <td>{p.all_vms ? "all" : [p.vms.length ? String(p.vms.length) : "", p.pools.length ? `pools ${p.pools.join(", ")}` : "", p.hosts.length ? `hosts ${p.hosts.join(", ")}` : "", p.tags.length ? `tags ${p.tags.join(", ")}` : ""].filter(Boolean).join("; ")}</td><td>{p.retention ?? "keep all"}{p.window && <><br /><small>starts {p.window} UTC</small></>}</td><td>{p.enabled ? when(p.next_run) : "—"}</td><td>{p.due}</td>
              {admin && <td class="actions">
                <button class="secondary outline" disabled={act.busy} onClick={() => act.run(async () => { await api.runBackupPolicy(p.name); list.reload(); })} aria-label={`Run now: ${p.name}`}>Run now</button>
                <button class="secondary outline" disabled={act.busy} onClick={() => act.run(async () => { await api.updateBackupPolicy(p.name, { enabled: !p.enabled }); list.reload(); })} aria-label={`${p.enabled ? "Disable" : "Enable"} ${p.name}`}>{p.enabled ? "Disable" : "Enable"}</button>
                <button class="secondary outline" disabled={act.busy} onClick={() => remove(p.name)} aria-label={`Delete ${p.name}`}>Delete</button>
              </td>}
            </tr>
          ))}</tbody>
        </table>
      ) : <p class="note">No backup policy yet.</p>)}
      {admin && repos.length > 0 && (
        <form onSubmit={create} aria-label="Create a backup policy">
          <h3>Create a backup policy</h3>
          <div class="grid">
            <label>Name<input name="name" required pattern="[A-Za-z0-9][A-Za-z0-9._\-]{0,62}" autocomplete="off" /></label>
            <label>Schedule (cron, UTC)<input name="schedule" required placeholder="0 2 * * *  or  @daily" autocomplete="off" /></label>
            <label>Repository<select name="repository">{repos.map((r) => <option key={r} value={r}>{r}</option>)}</select></label>
          </div>
          <div class="grid">
            <label><input type="checkbox" role="switch" checked={all} onChange={(e) => setAll((e.target as HTMLInputElement).checked)} /> Every VM</label>
            {!all && <label>VMs (names or uuids, comma-separated)<input name="vms" autocomplete="off" /></label>}
            {!all && <label>Pools (their VMs when it runs)<input name="pools" autocomplete="off" /></label>}
            {!all && <label>Hosts (the VMs running there when it runs)<input name="hosts" autocomplete="off" /></label>}
            {!all && <label>Tags (the VMs with one when it runs)<input name="tags" autocomplete="off" /></label>}
            <label>Retention<input name="retention" placeholder="last=7,daily=7,weekly=4,monthly=6" autocomplete="off" /></label>
            <label>At once<input name="max_concurrent" type="number" min="1" max="64" value="2" /></label>
            <label>Window (UTC)<input name="window" placeholder="22:00-06:00" pattern="[0-9]{2}:[0-9]{2}-[0-9]{2}:[0-9]{2}" autocomplete="off" /></label>
          </div>
          <button type="submit" disabled={act.busy}>Create</button>
        </form>
      )}
      <ErrorBox error={act.error} />
    </section>
  );
}

function SystemBackups() {
  const list = useResource(() => api.systemBackups(), []);
  const act = useAction();
  useEvent(["task.updated"], (e) => {
    const t = e.data as Task | undefined;
    if (e.type === "reset" || (t?.kind === "manager.backup" && t.state !== "running" && t.state !== "queued")) list.reload();
  });
  const period = list.data?.period_seconds;
  return (
    <section aria-label="Manager backups">
      <h2>Manager backups</h2>
      <p class="note">The manager's own database, sealing key and TLS files: {period ? `one every ${period % 86400 === 0 ? `${period / 86400} day(s)` : `${period} s`}` : "on demand only"}, the newest {list.data?.keep ?? "…"} kept. <code>ics-managerd --restore</code> rebuilds a manager from one.</p>
      <ErrorBox error={list.error} />
      {!list.data && !list.error && <Loading what="manager backups" />}
      {list.data && (list.data.backups.length ? (
        <table aria-label="Manager backups">
          <thead><tr><th scope="col">Created</th><th scope="col">Name</th><th scope="col">Size</th><th scope="col">Schema</th><th scope="col">ICS</th></tr></thead>
          <tbody>{list.data.backups.map((b) => (
            <tr key={b.name}><td>{when(b.created)}</td><td><code>{b.name}</code></td><td>{bytes(b.bytes)}</td><td>{b.schema_version}</td><td>{b.ics_version}</td></tr>
          ))}</tbody>
        </table>
      ) : <p class="note">No manager backup yet.</p>)}
      {list.data?.problems.map((p) => <p key={p} class="error-box" role="alert">{p}</p>)}
      <button disabled={act.busy} onClick={() => act.run(() => api.backupSystem())}>Back up the manager now</button>
      <ErrorBox error={act.error} />
      <TaskProgress id={act.taskId} label="Manager backup" />
    </section>
  );
}

// Restore backup @b of VM @uuid: what to restore to, and where.
function RestoreForm({ uuid, b, me, onDone }: { uuid: string; b: Backup; me: WhoAmI; onDone: () => void }) {
  const can = (p: string) => me.permissions.includes(p);
  const [to, setTo] = useState<RestoreRequest["to"]>("new-vm");
  const act = useAction();
  const submit = (ev: Event) => {
    ev.preventDefault();
    const f = new FormData(ev.target as HTMLFormElement);
    const body: RestoreRequest = { repository: b.repository, to };
    const name = String(f.get("name") ?? "").trim(), pool = String(f.get("pool") ?? "").trim();
    const disks = b.disks.map((d) => d.target).filter((t) => f.get("disk-" + t) !== null);
    if (to !== "in-place") { body.name = name; if (pool) body.pool = pool; }
    if (to === "in-place" && !confirm(`Write backup ${b.id} over this VM's disks (${disks.join(", ")})? What they hold now is lost.`)) return;
    if (disks.length !== b.disks.length || to === "volume") body.disks = disks;
    act.run(() => api.restoreBackup(uuid, b.id, body));
  };
  return (
    <form aria-label={`Restore backup ${b.id}`} onSubmit={submit}>
      <h3>Restore backup <code>{b.id}</code></h3>
      <fieldset>
        <legend>Restore to</legend>
        {can("vm.write") && <label><input type="radio" name="to" checked={to === "new-vm"} onChange={() => setTo("new-vm")} /> a new VM</label>}
        {can("vm.write") && <label><input type="radio" name="to" checked={to === "in-place"} onChange={() => setTo("in-place")} /> this VM, over its disks (stopped)</label>}
        {can("volume.write") && <label><input type="radio" name="to" checked={to === "volume"} onChange={() => setTo("volume")} /> a volume (one disk)</label>}
      </fieldset>
      {to !== "in-place" && <>
        <label>{to === "volume" ? "Volume name" : "New VM name"}<input name="name" required pattern="[A-Za-z0-9][A-Za-z0-9._\-]{0,62}" autocomplete="off" /></label>
        <label>Pool (empty: the VM's)<input name="pool" autocomplete="off" /></label>
      </>}
      <fieldset>
        <legend>Disks</legend>
        {b.disks.map((d, i) => (
          <label key={d.target}><input type={to === "volume" ? "radio" : "checkbox"} name={"disk-" + d.target} defaultChecked={to !== "volume" || i === 0} /> {d.target} ({bytes(d.virtual_size)})</label>
        ))}
      </fieldset>
      <div class="toolbar">
        <button type="submit" disabled={act.busy}>Restore</button>
        <button type="button" class="secondary" onClick={onDone}>Close</button>
      </div>
      <ErrorBox error={act.error} />
      <TaskProgress id={act.taskId} label="Restore" />
    </form>
  );
}

export function VmBackups({ uuid, me }: { uuid: string; me: WhoAmI }) {
  const list = useResource(() => api.vmBackups(uuid), [uuid]);
  const can = (p: string) => me.permissions.includes(p);
  const repos = useResource(() => (can("backup.run") ? api.backupRepos() : Promise.resolve([])), []);
  const [repo, setRepo] = useState("");
  const [full, setFull] = useState(false);
  const [restoring, setRestoring] = useState<Backup | null>(null);
  const act = useAction();
  useEvent(["task.updated"], (e) => {
    const t = e.data as Task | undefined;
    if (e.type === "reset" || (t?.kind === "vm.backup" && t.object_id === uuid && t.state !== "running" && t.state !== "queued")) list.reload();
  });
  const chosen = repo || repos.data?.[0]?.name || "";
  return (
    <section aria-label="Backups">
      <h2>Backups</h2>
      <ErrorBox error={list.error} />
      {!list.data && !list.error && <Loading what="backups" />}
      {list.data && (list.data.backups.length ? (
        <table aria-label="Backups of this VM">
          <thead><tr><th scope="col">Created</th><th scope="col">Repository</th><th scope="col">Kind</th><th scope="col">Consistency</th><th scope="col">Written</th><th scope="col">Id</th>{can("backup.run") && <th scope="col">Actions</th>}</tr></thead>
          <tbody>{list.data.backups.map((b) => (
            <tr key={b.repository + b.id}>
              <td>{when(b.created)}</td><td>{b.repository}</td>
              <td><Badge value={b.kind} />{b.full_reason && <><br /><small>{b.full_reason}</small></>}</td>
              <td>{b.consistency}</td><td>{bytes(b.bytes_written)}</td><td><code>{b.id}</code></td>
              {can("backup.run") && <td><button type="button" onClick={() => setRestoring(b)} aria-label={`Restore backup ${b.id}`}>Restore…</button></td>}
            </tr>
          ))}</tbody>
        </table>
      ) : <p class="note">No backup of this VM in any repository.</p>)}
      {list.data?.problems.map((p) => <p key={p} class="error-box" role="alert">{p}</p>)}
      {restoring && <RestoreForm key={restoring.repository + restoring.id} uuid={uuid} b={restoring} me={me} onDone={() => setRestoring(null)} />}
      {can("backup.run") && (
        repos.data?.length ? (
          <form class="toolbar" onSubmit={(e) => { e.preventDefault(); act.run(() => api.backupVm(uuid, chosen, full)); }}>
            <label>Repository
              <select value={chosen} onChange={(e) => setRepo((e.target as HTMLSelectElement).value)}>
                {repos.data.map((r) => <option key={r.name} value={r.name}>{r.name}</option>)}
              </select>
            </label>
            <label><input type="checkbox" role="switch" checked={full} onChange={(e) => setFull((e.target as HTMLInputElement).checked)} /> Full</label>
            <button type="submit" disabled={act.busy || !chosen}>Back up now</button>
          </form>
        ) : repos.data && <p class="note">No backup repository is registered{can("backup.admin") ? <>: <a href="#/backups">register one</a>.</> : "."}</p>
      )}
      <ErrorBox error={act.error} />
      <TaskProgress id={act.taskId} label="Backup" />
    </section>
  );
}
