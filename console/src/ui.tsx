// ui.tsx: the pieces every page uses -- loading a resource (useResource),
// reacting to live events (useEvent), an error box, state badges, sizes
// and dates, and the progress of a task.  Tasks a page started are
// followed through "task.updated" events (no polling): taskStore keeps
// the newest copy of each, and TaskProgress draws one.
import type { ComponentChildren } from "preact";
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import type { Task } from "./api";
import { subscribe, type IcsEvent } from "./events";

export function useResource<T>(load: () => Promise<T>, deps: unknown[] = []) {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [loading, setLoading] = useState(true);
  const seq = useRef(0);
  const reload = useCallback(() => {
    const mine = ++seq.current;
    setLoading(true);
    load().then(
      (d) => { if (mine === seq.current) { setData(d); setError(null); setLoading(false); } },
      (e: Error) => { if (mine === seq.current) { setError(e); setLoading(false); } },
    );
  }, deps);
  useEffect(reload, [reload]);
  return { data, error, loading, reload, setData };
}

// Call @h for every event of @types while the component is shown; "reset"
// (events were missed) is always passed on so the page can read again.
export function useEvent(types: string[], h: (e: IcsEvent) => void) {
  const ref = useRef(h);
  ref.current = h;
  useEffect(() => {
    const offs = [...types, "reset"].map((t) => subscribe(t, (e) => ref.current(e)));
    return () => offs.forEach((o) => o());
  }, [types.join(",")]);
}

export function ErrorBox({ error }: { error: Error | null | undefined }) {
  if (!error) return null;
  return <p class="error-box" role="alert">{error.message}</p>;
}

export function Loading({ what }: { what: string }) {
  return <p aria-busy="true">Loading {what}…</p>;
}

export function Badge({ value }: { value: string | null | undefined }) {
  return <span class={"badge " + (value ?? "")}>{value ?? "—"}</span>;
}

export function Section({ title, children }: { title: string; children: ComponentChildren }) {
  return <section aria-label={title}><h2>{title}</h2>{children}</section>;
}

export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return "—";
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let i = 0, v = n;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return (i ? v.toFixed(1) : String(v)) + " " + units[i];
}

export function when(iso: string | null | undefined): string {
  if (!iso) return "—";
  const d = new Date(iso);
  return isNaN(d.getTime()) ? iso : d.toLocaleString();
}

// ---- tasks followed live ---------------------------------------------------

type TaskListener = (t: Task) => void;
const taskListeners = new Set<TaskListener>();
export const taskStore = new Map<number, Task>();

subscribe("task.updated", (e) => {
  const t = e.data as Task;
  if (!t || typeof t.id !== "number") return;
  taskStore.set(t.id, t);
  taskListeners.forEach((l) => l(t));
});

export function trackTask(t: Task) {
  const known = taskStore.get(t.id);
  // an event may have overtaken the answer that created the task
  if (!known || known.progress <= t.progress) taskStore.set(t.id, t);
  taskListeners.forEach((l) => l(taskStore.get(t.id)!));
}

export function useTask(id: number | null): Task | null {
  const [task, setTask] = useState<Task | null>(id === null ? null : taskStore.get(id) ?? null);
  useEffect(() => {
    if (id === null) return;
    setTask(taskStore.get(id) ?? null);
    const l = (t: Task) => { if (t.id === id) setTask(t); };
    taskListeners.add(l);
    return () => { taskListeners.delete(l); };
  }, [id]);
  return task;
}

export function TaskProgress({ id, label }: { id: number | null; label?: string }) {
  const t = useTask(id);
  if (id === null || !t) return null;
  const name = label ?? `${t.kind} ${t.object_id ?? ""}`;
  return (
    <div class="task" role="status" aria-live="polite">
      <small>{name}: <Badge value={t.state} /> {t.progress}% {t.message}{t.error ? " — " + t.error : ""}</small>
      <progress value={t.progress} max={100} aria-label={`Progress of ${name}`} />
    </div>
  );
}

// Run an action that answers a task; the task id to follow, errors shown.
export function useAction() {
  const [taskId, setTaskId] = useState<number | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [busy, setBusy] = useState(false);
  const run = useCallback(async (f: () => Promise<Task | void>) => {
    setError(null);
    setBusy(true);
    try {
      const t = await f();
      if (t && typeof (t as Task).id === "number") {
        trackTask(t as Task);
        setTaskId((t as Task).id);
      }
    } catch (e) {
      setError(e as Error);
    } finally {
      setBusy(false);
    }
  }, []);
  return { run, taskId, error, busy };
}
