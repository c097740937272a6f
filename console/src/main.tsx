// main.tsx: the console's shell -- the session gate, the navigation, the
// live-stream indicator and the route table.  Pages are components named
// after the domain's nouns (pages/*.tsx); only the VM console page is
// loaded on demand (it pulls noVNC and xterm.js, which the other pages
// never need).
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { api, type WhoAmI } from "./api";
import { onStreamState, start, stop, streamState, type StreamState } from "./events";
import { match, navigate, useRoute } from "./router";
import { session } from "./session";
import { ErrorBox } from "./ui";
import { LoginPage } from "./pages/login";
import { DashboardPage } from "./pages/dashboard";
import { HostsPage, HostPage } from "./pages/hosts";
import { VmListPage } from "./pages/vm_list";
import { VmPage } from "./pages/vm";
import { VmCreatePage } from "./pages/vm_create";
import { PoolsPage, PoolPage } from "./pages/pools";
import { BackupReposPage } from "./pages/backups";
import { TasksPage, EventsPage } from "./pages/tasks";
import { DrsPage } from "./pages/drs";
import { AccessPage } from "./pages/access";
import { AuditPage } from "./pages/audit";

// The VM console page and its libraries, fetched on the first visit.
let consoleModule: Promise<typeof import("./pages/vm_console")> | null = null;
function VmConsolePage(p: { params: Record<string, string>; me: WhoAmI }) {
  const [Comp, setComp] = useState<Page | null>(null);
  const [error, setError] = useState<Error | null>(null);
  useEffect(() => {
    (consoleModule ??= import("./pages/vm_console")).then((m) => setComp(() => m.VmConsolePage), setError);
  }, []);
  if (error) return <ErrorBox error={error} />;
  return Comp ? <Comp {...p} /> : <p aria-busy="true">Loading the console…</p>;
}

interface NavItem { route: string; label: string; perm?: string }
const NAV: NavItem[] = [
  { route: "/", label: "Dashboard" },
  { route: "/hosts", label: "Hosts", perm: "host.read" },
  { route: "/vms", label: "Virtual machines", perm: "vm.read" },
  { route: "/pools", label: "Pools and volumes", perm: "host.read" },
  { route: "/backups", label: "Backups", perm: "backup.read" },
  { route: "/tasks", label: "Tasks", perm: "task.read" },
  { route: "/events", label: "Events", perm: "event.read" },
  { route: "/drs", label: "DRS", perm: "drs.read" },
  { route: "/access", label: "Users and keys", perm: "user.read" },
  { route: "/audit", label: "Audit", perm: "audit.read" },
];

type Page = (p: { params: Record<string, string>; me: WhoAmI }) => preact.JSX.Element;
const ROUTES: [string, Page][] = [
  ["/", DashboardPage],
  ["/hosts", HostsPage],
  ["/hosts/:name", HostPage],
  ["/vms", VmListPage],
  ["/vms/new", VmCreatePage],
  ["/vms/:uuid", VmPage],
  ["/vms/:uuid/console", (p) => <VmConsolePage {...p} />],
  ["/pools", PoolsPage],
  ["/pools/:name", PoolPage],
  ["/backups", BackupReposPage],
  ["/tasks", TasksPage],
  ["/events", EventsPage],
  ["/drs", DrsPage],
  ["/access", AccessPage],
  ["/audit", AuditPage],
];

function StreamIndicator() {
  const [s, setS] = useState<StreamState>(streamState());
  useEffect(() => {
    setS(streamState()); // it may have changed between the render and now
    return onStreamState(setS);
  }, []);
  const text = { connecting: "connecting…", live: "live", reconnecting: "reconnecting…", off: "off" }[s];
  return <p role="status" aria-live="polite" id="stream-state" data-state={s}><small>Live updates: <span class={"badge " + (s === "live" ? "online" : "standby")}>{text}</span></small></p>;
}

function Shell({ me }: { me: WhoAmI }) {
  const route = useRoute();
  const path = route.split("?")[0];
  let page: preact.JSX.Element = <p>No such page: {route}. <a href="#/">Back to the dashboard</a>.</p>;
  for (const [pattern, Comp] of ROUTES) {
    const params = match(pattern, route);
    if (params) { page = <Comp params={params} me={me} />; break; }
  }
  const logout = async () => {
    stop(); // before the manager ends the stream with "event: end"
    try { await api.logout(); } catch { /* the session may be gone already */ }
    session.set(null);
    navigate("/login");
  };
  useEffect(() => { document.getElementById("main")?.focus(); }, [path]);
  const can = (p?: string) => !p || me.permissions.includes(p);
  return (
    <>
      <a class="skip" href="#main" onClick={(e) => { e.preventDefault(); document.getElementById("main")?.focus(); }}>Skip to content</a>
      <nav class="side" aria-label="Main">
        <p><strong>ICS</strong></p>
        <ul>
          {NAV.filter((n) => can(n.perm)).map((n) => {
            const current = n.route === "/" ? path === "/" : path === n.route || path.startsWith(n.route + "/");
            return <li key={n.route}><a href={"#" + n.route} aria-current={current ? "page" : undefined}>{n.label}</a></li>;
          })}
        </ul>
      </nav>
      <main class="page" id="main" tabIndex={-1}>
        <header class="top">
          <StreamIndicator />
          <p><small>Signed in as <strong>{me.user}</strong> ({me.roles.join(", ") || "no role"})</small>{" "}
            <button class="secondary outline" style="width:auto;padding:0.2rem 0.7rem;margin:0" onClick={logout}>Log out</button></p>
        </header>
        {page}
      </main>
    </>
  );
}

function App() {
  const route = useRoute();
  const [me, setMe] = useState<WhoAmI | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [stored, setStored] = useState(session.get());
  useEffect(() => session.subscribe(() => setStored(session.get())), []);
  const full = stored !== null && stored.stage === "full";

  useEffect(() => {
    document.body.classList.toggle("bare", !full || route.startsWith("/login"));
    if (!full) {
      setMe(null);
      if (!route.startsWith("/login")) navigate("/login?next=" + encodeURIComponent(route));
      return;
    }
    if (route.startsWith("/login")) return;
    if (me) return;
    api.whoami().then((w) => { setMe(w); start(); }, setError);
  }, [full, route]);

  if (route.startsWith("/login")) return <LoginPage route={route} />;
  if (!full) return null;
  if (error) return <main class="page"><ErrorBox error={error} /></main>;
  if (!me) return <main class="page"><p aria-busy="true">Loading…</p></main>;
  return <Shell me={me} />;
}

render(<App />, document.getElementById("app")!);
