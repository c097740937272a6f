// tasks.tsx: tasks (newest first, older pages on demand, each row updated
// live by task.updated; cancel a queued or running one) and the live
// event log (every event of the stream since the console was opened: the
// API keeps no event history to read back).
import { useState } from "preact/hooks";
import { api, type Task, type WhoAmI } from "../api";
import { recent } from "../events";
import { Badge, ErrorBox, Loading, useEvent, useResource, when } from "../ui";
import { describe } from "./dashboard";

export function TasksPage({ me }: { me: WhoAmI }) {
  const first = useResource(() => api.tasks());
  const [older, setOlder] = useState<Task[]>([]);
  const [next, setNext] = useState<number | null | undefined>(undefined);
  const [live, setLive] = useState<Map<number, Task>>(new Map());
  const [error, setError] = useState<Error | null>(null);
  useEvent(["task.updated"], (e) => {
    if (e.type === "reset") { setOlder([]); setNext(undefined); return first.reload(); }
    setLive((m) => new Map(m).set(e.data.id, e.data as Task));
  });
  if (first.error) return <><h1>Tasks</h1><ErrorBox error={first.error} /></>;
  if (!first.data) return <><h1>Tasks</h1><Loading what="tasks" /></>;
  const byId = new Map<number, Task>();
  [...first.data.items, ...older].forEach((t) => byId.set(t.id, t));
  live.forEach((t, id) => byId.set(id, t));
  const list = [...byId.values()].sort((a, b) => b.id - a.id);
  const cursor = next === undefined ? first.data.next : next;
  const more = async () => {
    try { const p = await api.tasks(cursor); setOlder([...older, ...p.items]); setNext(p.next); } catch (e) { setError(e as Error); }
  };
  const cancel = (id: number) => api.cancelTask(id).then((t) => setLive((m) => new Map(m).set(t.id, t)), setError);
  return (
    <>
      <h1>Tasks</h1>
      <ErrorBox error={error} />
      <table>
        <thead><tr><th scope="col">#</th><th scope="col">Kind</th><th scope="col">Object</th><th scope="col">State</th><th scope="col">Progress</th><th scope="col">Message</th><th scope="col">Created</th><th scope="col"><span class="note">Cancel</span></th></tr></thead>
        <tbody>{list.map((t) => (
          <tr key={t.id}>
            <td>{t.id}</td><td>{t.kind}</td><td>{t.object_type} {t.object_id}</td><td><Badge value={t.state} /></td>
            <td><progress value={t.progress} max={100} aria-label={`Task ${t.id} progress`} /></td>
            <td>{t.error ?? t.message}</td><td>{when(t.created_at)}</td>
            <td>{me.permissions.includes("task.cancel") && (t.state === "queued" || t.state === "running") && !t.cancel_requested &&
              <button class="secondary" style="width:auto;margin:0" onClick={() => cancel(t.id)}>Cancel</button>}</td>
          </tr>
        ))}</tbody>
      </table>
      {list.length === 0 && <p>No task yet.</p>}
      {cursor !== null && <button class="secondary" onClick={more}>Older tasks</button>}
    </>
  );
}

export function EventsPage() {
  const [, setN] = useState(0);
  useEvent(["*"], () => setN((n) => n + 1));
  return (
    <>
      <h1>Events</h1>
      <p class="note">Events arrive live; the list holds those seen since the console was opened (the API has no event history).</p>
      <div role="log" aria-live="polite" aria-label="Event log">
        {recent.length ? (
          <table>
            <thead><tr><th scope="col">#</th><th scope="col">Time</th><th scope="col">Type</th><th scope="col">What</th></tr></thead>
            <tbody>{recent.map((e) => <tr key={e.id}><td>{e.id}</td><td>{when(e.at.toISOString())}</td><td>{e.type}</td><td><code>{describe(e)}</code></td></tr>)}</tbody>
          </table>
        ) : <p>No event yet.</p>}
      </div>
    </>
  );
}
