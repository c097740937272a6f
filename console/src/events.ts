// events.ts: the live event stream, GET /api/v1/events (Server-Sent Events).
//
// EventSource cannot send the Authorization header, so the stream is read
// with fetch() and a streaming reader, parsed line by line ("id:",
// "event:", "data:", blank line ends an event; ":" lines are keep-alives).
// One stream per tab serves every page (the manager caps streams per user):
// pages subscribe to event types.  When the stream breaks it reconnects
// after a growing delay (1 s doubling to 15 s), resuming with
// ?last_event_id=; "event: reset" (events missed) tells the pages to read
// their resources again; "event: end" (credentials changed) ends the
// session.  Nothing polls: between events the page does not call the API.
import { session } from "./session";

export interface IcsEvent { id: number; type: string; data: any; at: Date }
type Handler = (e: IcsEvent) => void;
export type StreamState = "connecting" | "live" | "reconnecting" | "off";

const handlers = new Map<string, Set<Handler>>();
const stateListeners = new Set<(s: StreamState) => void>();
export const recent: IcsEvent[] = [];
const RECENT_MAX = 200;

let lastId = 0;
let controller: AbortController | null = null;
let state: StreamState = "off";
let delay = 1000;
let retryTimer: number | undefined;

function setState(s: StreamState) {
  state = s;
  stateListeners.forEach((l) => l(s));
}

export function streamState(): StreamState {
  return state;
}

export function onStreamState(l: (s: StreamState) => void): () => void {
  stateListeners.add(l);
  return () => stateListeners.delete(l);
}

// Subscribe to one event type, "*" for all; returns the unsubscribe.
export function subscribe(type: string, h: Handler): () => void {
  if (!handlers.has(type)) handlers.set(type, new Set());
  handlers.get(type)!.add(h);
  return () => handlers.get(type)!.delete(h);
}

function dispatch(e: IcsEvent) {
  if (e.type !== "reset" && e.type !== "end") {
    recent.unshift(e);
    if (recent.length > RECENT_MAX) recent.pop();
  }
  handlers.get(e.type)?.forEach((h) => h(e));
  handlers.get("*")?.forEach((h) => h(e));
}

async function run(signal: AbortSignal) {
  const token = session.token();
  if (!token) return;
  setState(state === "off" ? "connecting" : "reconnecting");
  const resp = await fetch("/api/v1/events" + (lastId ? "?last_event_id=" + lastId : ""), {
    headers: { Authorization: "Bearer " + token, Accept: "text/event-stream" },
    signal,
  });
  if (resp.status === 401) {
    stop();
    session.expired();
    return;
  }
  if (!resp.ok || !resp.body) throw new Error("event stream: HTTP " + resp.status);
  setState("live");
  delay = 1000;
  const reader = resp.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "", id = 0, type = "message", data: string[] = [];
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += value;
    let nl: number;
    while ((nl = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, nl).replace(/\r$/, "");
      buf = buf.slice(nl + 1);
      if (line === "") {
        if (data.length || type !== "message") {
          let parsed: unknown = null;
          try { parsed = data.length ? JSON.parse(data.join("\n")) : null; } catch { parsed = data.join("\n"); }
          if (id) lastId = id;
          dispatch({ id, type, data: parsed, at: new Date() });
          if (type === "end") {
            stop();
            session.expired();
            return;
          }
        }
        id = 0; type = "message"; data = [];
      } else if (line.startsWith(":")) {
        continue;
      } else {
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const val = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "id") id = Number(val) || 0;
        else if (field === "event") type = val;
        else if (field === "data") data.push(val);
      }
    }
  }
  throw new Error("event stream closed");
}

export function start() {
  if (controller) return;
  const c = new AbortController();
  controller = c;
  run(c.signal).then(() => {
    if (controller === c) stop();
  }, () => {
    if (controller !== c) return;
    controller = null;
    setState("reconnecting");
    retryTimer = window.setTimeout(start, delay);
    delay = Math.min(delay * 2, 15000);
  });
}

export function stop() {
  window.clearTimeout(retryTimer);
  controller?.abort();
  controller = null;
  setState("off");
}
