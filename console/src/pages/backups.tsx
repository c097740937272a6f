// backups.tsx: backup repositories -- the directories VMs are backed up
// into (register one: administrators, it is a host path; unregister: the
// backups stay on disk) --, the manager's own backups (system.backup:
// they hold every secret) with "back up the manager now", and a VM's
// backups with "back up now", shown on the VM's page.  The backups themselves are read from the repositories
// at each request (docs/backup-format.md); a backup is a task whose
// progress shows here, and the list reloads when one ends.
import { useState } from "preact/hooks";
import { api, type Task, type WhoAmI } from "../api";
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
      {me.permissions.includes("system.backup") && <SystemBackups />}
    </>
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

export function VmBackups({ uuid, me }: { uuid: string; me: WhoAmI }) {
  const list = useResource(() => api.vmBackups(uuid), [uuid]);
  const can = (p: string) => me.permissions.includes(p);
  const repos = useResource(() => (can("backup.run") ? api.backupRepos() : Promise.resolve([])), []);
  const [repo, setRepo] = useState("");
  const [full, setFull] = useState(false);
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
          <thead><tr><th scope="col">Created</th><th scope="col">Repository</th><th scope="col">Kind</th><th scope="col">Consistency</th><th scope="col">Written</th><th scope="col">Id</th></tr></thead>
          <tbody>{list.data.backups.map((b) => (
            <tr key={b.repository + b.id}>
              <td>{when(b.created)}</td><td>{b.repository}</td>
              <td><Badge value={b.kind} />{b.full_reason && <><br /><small>{b.full_reason}</small></>}</td>
              <td>{b.consistency}</td><td>{bytes(b.bytes_written)}</td><td><code>{b.id}</code></td>
            </tr>
          ))}</tbody>
        </table>
      ) : <p class="note">No backup of this VM in any repository.</p>)}
      {list.data?.problems.map((p) => <p key={p} class="error-box" role="alert">{p}</p>)}
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
