// vm_console.tsx: a VM's screen (noVNC) and serial console (xterm.js) in
// the browser -- the only page that loads them (a chunk of its own).
//
// Each connection asks the manager for a one-time ticket (POST
// /api/v1/vms/{uuid}/console/ticket, valid for seconds, bound to the user,
// the VM and this client) and opens the WebSocket proxy with it
// (/api/v1/vms/{uuid}/console/vnc|serial?ticket=...); the bearer token
// never goes into a URL.  When the session closes -- the VM stopped, was
// migrated or failed over, or the manager moved -- the page says so and
// offers to reconnect, which takes a new ticket and so reaches the VM
// wherever it runs now.  A manager without the proxy answers 404 and the
// page says that instead of failing.
import { useEffect, useRef, useState } from "preact/hooks";
import RFB from "@novnc/novnc";
import { Terminal } from "@xterm/xterm";
import { FitAddon } from "@xterm/addon-fit";
import xtermCss from "@xterm/xterm/css/xterm.css";
import { api, ApiError, type WhoAmI } from "../api";
import { subscribe } from "../events";
import { ErrorBox, useResource } from "../ui";

type Kind = "vnc" | "serial";

if (!document.getElementById("xterm-css")) {
  const style = document.createElement("style");
  style.id = "xterm-css";
  style.textContent = xtermCss;
  document.head.appendChild(style);
}

// The ticket's URL on this page's origin, as ws: or wss: (docs/console-security.md).
async function socketUrl(uuid: string, kind: Kind): Promise<string> {
  const t = await api.consoleTicket(uuid, kind);
  return new URL(t.url, location.href).href.replace(/^http/, "ws");
}

function explain(e: unknown): Error {
  const err = e as ApiError;
  if (err.status === 404 && err.message.startsWith("no such resource"))
    return new Error("This manager has no console proxy yet: POST /api/v1/vms/{uuid}/console/ticket answered 404.");
  if (err.status === 409) return new Error("The VM does not run: " + err.message);
  if (err.status === 503) return new Error("Not available: " + err.message);
  return err;
}

// One connection: its state, a message when it ended, and reconnect.
function useConnection(uuid: string, kind: Kind, open: (url: string) => () => void) {
  const [status, setStatus] = useState<"idle" | "connecting" | "connected" | "closed">("idle");
  const [error, setError] = useState<Error | null>(null);
  const [closedWhy, setClosedWhy] = useState("");
  const closer = useRef<(() => void) | null>(null);
  const connect = async () => {
    closer.current?.();
    setError(null); setClosedWhy(""); setStatus("connecting");
    try {
      const url = await socketUrl(uuid, kind);
      closer.current = open(url);
    } catch (e) {
      setError(explain(e)); setStatus("closed");
    }
  };
  useEffect(() => () => closer.current?.(), []);
  return { status, setStatus, error, closedWhy, setClosedWhy, connect };
}

function Screen({ uuid }: { uuid: string }) {
  const target = useRef<HTMLDivElement>(null);
  const conn = useConnection(uuid, "vnc", (url) => {
    // The manager answers the VM's VNC password itself: noVNC sees no
    // authentication; "binary" is the proxy's subprotocol.
    const rfb = new RFB(target.current!, url, { shared: true, wsProtocols: ["binary"] });
    rfb.scaleViewport = true;
    rfb.addEventListener("connect", () => { conn.setStatus("connected"); rfb.focus(); });
    rfb.addEventListener("disconnect", ((e: CustomEvent) => {
      conn.setStatus("closed");
      conn.setClosedWhy(e.detail?.clean ? "The screen session closed (the VM stopped or moved to another host): reconnect to reach it where it runs now." : "The connection to the screen was lost.");
    }) as EventListener);
    rfb.addEventListener("securityfailure", ((e: CustomEvent) => conn.setClosedWhy("Refused: " + (e.detail?.reason ?? "security failure"))) as EventListener);
    return () => rfb.disconnect();
  });
  useEffect(() => { conn.connect(); }, [uuid]);
  return (
    <section aria-label="Screen">
      <h2>Screen</h2>
      <Status {...conn} />
      <div class="screen" ref={target} role="application" aria-label="VM screen (keyboard goes to the VM while focused)" />
    </section>
  );
}

function Serial({ uuid }: { uuid: string }) {
  const target = useRef<HTMLDivElement>(null);
  const conn = useConnection(uuid, "serial", (url) => {
    const term = new Terminal({ convertEol: false, cursorBlink: true, screenReaderMode: true });
    const fit = new FitAddon();
    term.loadAddon(fit);
    term.open(target.current!);
    fit.fit();
    const ws = new WebSocket(url);
    ws.binaryType = "arraybuffer";
    const enc = new TextEncoder();
    ws.onopen = () => { conn.setStatus("connected"); term.focus(); };
    ws.onmessage = (m) => term.write(typeof m.data === "string" ? m.data : new Uint8Array(m.data));
    ws.onclose = (e) => {
      conn.setStatus("closed");
      conn.setClosedWhy(e.reason ? "Closed: " + e.reason : "The serial console closed (the VM stopped or moved to another host).");
    };
    const input = term.onData((d) => ws.readyState === WebSocket.OPEN && ws.send(enc.encode(d)));
    return () => { input.dispose(); ws.close(); term.dispose(); };
  });
  useEffect(() => { conn.connect(); }, [uuid]);
  return (
    <section aria-label="Serial console">
      <h2>Serial console</h2>
      <Status {...conn} />
      <div class="term" ref={target} />
    </section>
  );
}

function Status({ status, error, closedWhy, connect }: ReturnType<typeof useConnection>) {
  return (
    <div role="status" aria-live="polite" class="actions">
      <span>{status === "connected" ? "Connected." : status === "connecting" ? "Connecting…" : status === "closed" ? closedWhy || "Not connected." : ""}</span>
      {status === "closed" && <button onClick={connect}>Reconnect</button>}
      <ErrorBox error={error} />
    </div>
  );
}

export function VmConsolePage({ params }: { params: Record<string, string>; me: WhoAmI }) {
  const uuid = params.uuid;
  const vm = useResource(() => api.vm(uuid), [uuid]);
  const [tab, setTab] = useState<Kind>("vnc");
  const [moved, setMoved] = useState("");
  useEffect(() => subscribe("vm.state", (e) => {
    if (e.data?.uuid === uuid && e.data.host !== e.data.previous_host)
      setMoved(e.data.host ? `The VM now runs on ${e.data.host}; reconnect to reach it there.` : "The VM stopped.");
  }), [uuid]);
  return (
    <>
      <h1>Console of {vm.data?.name ?? uuid}</h1>
      <p><a href={"#/vms/" + uuid}>Back to the VM</a></p>
      {moved && <p role="alert" class="error-box">{moved}</p>}
      <div role="tablist" aria-label="Console" class="actions">
        <button role="tab" aria-selected={tab === "vnc"} class={tab === "vnc" ? "" : "secondary"} onClick={() => setTab("vnc")}>Screen</button>
        <button role="tab" aria-selected={tab === "serial"} class={tab === "serial" ? "" : "secondary"} onClick={() => setTab("serial")}>Serial console</button>
      </div>
      <div role="tabpanel">{tab === "vnc" ? <Screen key="vnc" uuid={uuid} /> : <Serial key="serial" uuid={uuid} />}</div>
    </>
  );
}
