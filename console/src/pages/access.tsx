// access.tsx: users (list, create), roles (list with their permissions)
// and API keys (the caller's, or all with apikey.admin: list, create --
// the secret is shown once -- and delete).
import { useState } from "preact/hooks";
import { api, type WhoAmI } from "../api";
import { Badge, ErrorBox, Loading, useResource, when } from "../ui";

export function AccessPage({ me }: { me: WhoAmI }) {
  const users = useResource(() => api.users());
  const roles = useResource(() => (me.permissions.includes("role.read") ? api.roles() : Promise.resolve([])));
  const keys = useResource(() => api.apikeys());
  const [error, setError] = useState<Error | null>(null);
  const [secret, setSecret] = useState<{ id: string; secret: string } | null>(null);
  const addUser = (ev: Event) => {
    ev.preventDefault();
    const form = ev.target as HTMLFormElement, f = new FormData(form);
    setError(null);
    api.createUser(String(f.get("name")), String(f.get("password")), f.get("role") ? [String(f.get("role"))] : [])
      .then(() => { form.reset(); users.reload(); }, setError);
  };
  const addKey = (ev: Event) => {
    ev.preventDefault();
    const f = new FormData(ev.target as HTMLFormElement);
    setError(null);
    api.createApikey(String(f.get("description"))).then((k) => { setSecret({ id: k.access_key_id, secret: k.secret }); keys.reload(); }, setError);
  };
  return (
    <>
      <h1>Users, roles and API keys</h1>
      <ErrorBox error={error} />
      <h2>Users</h2>
      <ErrorBox error={users.error} />
      {users.data ? (
        <table>
          <thead><tr><th scope="col">User</th><th scope="col">Roles</th><th scope="col">State</th><th scope="col">Second factor</th><th scope="col">Directory</th><th scope="col">Created</th></tr></thead>
          <tbody>{users.data.map((u) => (
            <tr key={u.name}><td>{u.name}</td><td>{u.roles.join(", ")}</td><td>{u.enabled ? (u.locked ? <Badge value="locked" /> : "enabled") : "disabled"}</td>
              <td>{u.second_factor_enrolled ? "enrolled" : "—"}</td><td>{u.directory ?? "local"}</td><td>{when(u.created_at)}</td></tr>
          ))}</tbody>
        </table>
      ) : !users.error && <Loading what="users" />}
      {me.permissions.includes("user.admin") && (
        <form onSubmit={addUser} class="toolbar" aria-label="New user">
          <label>Name<input name="name" required autoComplete="off" /></label>
          <label>Password<input name="password" type="password" required autoComplete="new-password" /></label>
          <label>Role<select name="role"><option value="">none</option>{(roles.data ?? []).map((r) => <option key={r.name}>{r.name}</option>)}</select></label>
          <button type="submit">Create user</button>
        </form>
      )}
      <h2>Roles</h2>
      {roles.data && (
        <table>
          <thead><tr><th scope="col">Role</th><th scope="col">Description</th><th scope="col">Permissions</th></tr></thead>
          <tbody>{roles.data.map((r) => <tr key={r.name}><td>{r.name}{r.builtin ? " (builtin)" : ""}</td><td>{r.description}</td><td><small>{r.permissions.join(", ")}</small></td></tr>)}</tbody>
        </table>
      )}
      <h2>API keys</h2>
      <ErrorBox error={keys.error} />
      {secret && <p role="alert" class="error-box">New key <code>{secret.id}</code>, secret <code>{secret.secret}</code> — copy it now, it is not shown again.</p>}
      {keys.data && (
        <table>
          <thead><tr><th scope="col">Key</th><th scope="col">User</th><th scope="col">Description</th><th scope="col">Created</th><th scope="col">Last used</th><th scope="col"><span class="note">Delete</span></th></tr></thead>
          <tbody>{keys.data.map((k) => (
            <tr key={k.access_key_id}><td><code>{k.access_key_id}</code></td><td>{k.user}</td><td>{k.description}</td><td>{when(k.created_at)}</td><td>{when(k.last_used_at)}</td>
              <td><button class="contrast outline" style="width:auto;margin:0" onClick={() => confirm(`Delete key ${k.access_key_id}?`) && api.deleteApikey(k.access_key_id).then(keys.reload, setError)}>Delete</button></td></tr>
          ))}</tbody>
        </table>
      )}
      <form onSubmit={addKey} class="toolbar" aria-label="New API key">
        <label>Description<input name="description" maxLength={256} /></label>
        <button type="submit">Create API key</button>
      </form>
    </>
  );
}
