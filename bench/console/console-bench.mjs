// console-bench.mjs: the browser half of bench/console/bench-console --
// Debian's Chromium driven by playwright-core (console/tests/lib.mjs:
// `modules`, `launch`), never a downloaded browser.  bench-console runs the
// managers and hands this script a URL and a session token; one run of
// this script is one phase, its numbers one "BENCH-JSON {...}" line on
// stdout, progress on stderr.
//
// Timing is taken inside the page: an init script (before any script of
// the page) installs a MutationObserver that notes performance.now() when
// the awaited element first appears in the DOM, and the time of the first
// requestAnimationFrame after it -- the frame that paints it.  Both are
// measured from the navigation's start (performance.timeOrigin), so the
// browser's own start is not in them; the wall time around page.goto +
// waitForSelector (which includes playwright's round trips) is reported
// beside them.  The same init script puts the session token where the
// console keeps it (sessionStorage "ics.session"), so a page opens as a
// logged-in user would reopen it, and records long tasks (> 50 ms) with a
// PerformanceObserver.  Every measured load is a fresh Chromium with a
// fresh profile: cold HTTP cache, no connection kept.
//
// Phases (--mode):
//   paint   the dashboard (#/) until "N of M hosts online" shows, and
//           static.html -- a page of the same byte size as the dashboard's
//           HTML + JS + CSS, written by this script into --static-dir after
//           an unmeasured warm-up load told it what the dashboard fetched --
//           until the same text shows; alternating, --rounds each.  Every
//           dashboard load also records what the browser fetched: names,
//           bytes on the wire (sizes().responseBodySize), decoded bytes and
//           those gzip-compressed here at level 9.
//   vmlist  #/vms until the first row of VMs shows, then the list scrolled
//           to its end in steps (scrollTop += --step px, default one screen,
//           two frames between steps): long tasks while scrolling.
//   state   (--lab) the VM's page; then, for each "go STATE" line on stdin,
//           the wall time (ms since the epoch) at which the page's State
//           cell first shows STATE, one "@@ {json}" line each; "quit" ends.
import fs from "node:fs";
import path from "node:path";
import readline from "node:readline";
import { gzipSync } from "node:zlib";
import { launch, modules, parseArgs } from "../../console/tests/lib.mjs";

const args = parseArgs(process.argv.slice(2));
const { chromium } = modules(path.resolve(args.build));
const base = args.url.replace(/\/$/, "");
const origin = new URL(base).origin;
const rounds = Number(args.rounds ?? 5);
const tmp = path.resolve(args.tmp);
const token = args["token-file"] ? fs.readFileSync(args["token-file"], "utf8").trim() : null;
const log = (m) => process.stderr.write(m + "\n");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const HOSTS = { sel: "article[aria-label='Cluster'] p", text: "hosts online" };
const ROW = { sel: "[role=table][aria-label='Virtual machines'] [role=row][aria-rowindex='2']", text: null };

// Runs in the page before its scripts (context.addInitScript).
function benchInit(cfg) {
  if (window.__bench) return;
  const b = (window.__bench = { marks: {}, longtasks: [] });
  try {
    new PerformanceObserver((l) => { for (const e of l.getEntries()) b.longtasks.push([e.startTime, e.duration]); })
      .observe({ type: "longtask", buffered: true });
  } catch { /* no long task API: none recorded */ }
  if (cfg.session && location.origin === cfg.origin) sessionStorage.setItem("ics.session", JSON.stringify(cfg.session));
  const check = () => {
    for (const [name, m] of Object.entries(cfg.marks)) {
      if (b.marks[name]) continue;
      const el = document.querySelector(m.sel);
      if (!el || (m.text && !new RegExp(m.text).test(el.textContent))) continue;
      const mark = (b.marks[name] = { dom: performance.now() });
      requestAnimationFrame(() => { mark.frame = performance.now(); });
    }
  };
  new MutationObserver(check).observe(document, { childList: true, subtree: true, characterData: true });
}

let current = null;          // the open browser, closed on the way out
async function open(marks) {
  const profile = fs.mkdtempSync(path.join(tmp, "profile-"));
  const ctx = await launch(chromium, args.chromium, profile);
  current = { ctx, profile };
  await ctx.addInitScript(benchInit, { origin, marks, session: token ? { token, user: "admin", stage: "full" } : null });
  return ctx.pages()[0] ?? await ctx.newPage();
}
async function close() {
  if (!current) return;
  const { ctx, profile } = current;
  current = null;
  try { await ctx.close(); } catch { /* already gone */ }
  fs.rmSync(profile, { recursive: true, force: true, maxRetries: 5 });
}

// One cold load of @url until @mark shows: in-page and wall times.
async function load(url, mark, playwrightSel, onResponse) {
  const page = await open({ m: mark });
  if (onResponse) page.on("response", onResponse);
  const t0 = Date.now();
  await page.goto(url, { waitUntil: "commit", timeout: 30000 });
  await page.waitForSelector(playwrightSel, { timeout: 30000 });
  const wall = Date.now() - t0;
  const m = await (await page.waitForFunction(() => window.__bench.marks.m?.frame !== undefined && window.__bench.marks.m, null,
    { timeout: 10000 })).jsonValue();
  const fcp = await page.evaluate(() => performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? null);
  return { page, r: { frame_ms: m.frame, dom_ms: m.dom, wall_ms: wall, fcp_ms: fcp } };
}

// What a dashboard load fetched from /console/: [{name, type, wire, decoded, gzip9, encoding}].
function fetchedRecorder() {
  const seen = [];
  return {
    seen,
    on: (resp) => { if (new URL(resp.url()).pathname.startsWith("/console/")) seen.push(resp); },
    async files() {
      const out = [];
      for (const resp of seen) {
        await resp.finished();
        const body = await resp.body();
        const sizes = await resp.request().sizes();
        const p = new URL(resp.url()).pathname;
        out.push({ name: p.endsWith("/") ? "index.html" : path.basename(p), type: resp.request().resourceType(),
          status: resp.status(), encoding: resp.headers()["content-encoding"] ?? null, wire: sizes.responseBodySize,
          decoded: body.length, gzip9: gzipSync(body, { level: 9 }).length, body });
      }
      return out;
    },
  };
}

// static.html: the dashboard's own JS and CSS text (escaped, inert in a
// hidden <pre>) cut to the dashboard's decoded HTML + JS + CSS size, the
// "hosts online" text at its end, and its gzip twin as the build makes them.
function writeStatic(files) {
  const size = files.reduce((n, f) => n + f.decoded, 0);
  const head = "<!doctype html>\n<!-- static.html: bench/console's peer of the dashboard, same size -->\n" +
    "<html lang=\"en\"><head><meta charset=\"utf-8\"><title>static</title></head><body><pre hidden>";
  const tail = "</pre><article aria-label=\"Cluster\"><p><strong>3</strong> of 3 hosts online</p></article></body></html>\n";
  const esc = files.filter((f) => f.type !== "document").map((f) => f.body.toString("utf8")).join("\n")
    .replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/hosts online/g, "hosts_online");
  let filler = Buffer.from(esc, "utf8").subarray(0, Math.max(0, size - head.length - tail.length));
  while (filler.length < size - head.length - tail.length) filler = Buffer.concat([filler, Buffer.from(" ".repeat(size - head.length - tail.length - filler.length))]);
  const html = Buffer.concat([Buffer.from(head), filler, Buffer.from(tail)]);
  fs.writeFileSync(path.join(args["static-dir"], "static.html"), html);
  fs.writeFileSync(path.join(args["static-dir"], "static.html.gz"), gzipSync(html, { level: 9 }));
  return { bytes: html.length, gzip9: gzipSync(html, { level: 9 }).length };
}

async function paint() {
  const dash = base + "/console/#/", stat = base + "/console/static.html";
  log("warm-up load of the dashboard (not measured)");
  const warm = fetchedRecorder();
  await load(dash, HOSTS, "text=/hosts online/", warm.on);
  await sleep(1500);
  const staticPage = writeStatic(await warm.files());
  await close();
  log(`static.html written: ${staticPage.bytes} bytes (${staticPage.gzip9} gzip)`);
  const out = { dashboard: [], static: [], static_page: staticPage };
  for (let i = 0; i < rounds; i++) {
    for (const kind of i % 2 ? ["static", "dashboard"] : ["dashboard", "static"]) {
      const rec = kind === "dashboard" ? fetchedRecorder() : null;
      const { r } = await load(kind === "dashboard" ? dash : stat, HOSTS, "text=/hosts online/", rec?.on);
      if (rec) {
        await sleep(1500);                 // anything fetched just after the paint counts too
        r.files = (await rec.files()).map(({ body, ...f }) => f);
      }
      await close();
      out[kind].push(r);
      log(`round ${i + 1} ${kind}: shown in frame at ${r.frame_ms.toFixed(0)} ms (in DOM ${r.dom_ms.toFixed(0)} ms, wall ${r.wall_ms} ms, FCP ${r.fcp_ms?.toFixed(0)} ms)`);
    }
  }
  return out;
}

async function vmlist() {
  const url = base + "/console/#/vms";
  const sel = "[role=table][aria-label='Virtual machines'] [role=row][aria-rowindex='2']";
  log("warm-up load of the VM list (not measured)");
  await load(url, ROW, sel);
  await close();
  const out = { rounds: [] };
  for (let i = 0; i < rounds; i++) {
    const { page, r } = await load(url, ROW, sel);
    r.vms_shown = await page.locator("[role=status]", { hasText: "VMs shown" }).first().textContent();
    const s = await page.evaluate(async ({ step, maxSteps }) => {
      const el = document.querySelector("[role=table][aria-label='Virtual machines']");
      const frames = () => new Promise((res) => requestAnimationFrame(() => requestAnimationFrame(res)));
      const px = step > 0 ? step : el.clientHeight;
      const t0 = performance.now();
      let steps = 0;
      while (el.scrollTop + el.clientHeight < el.scrollHeight - 1 && steps < maxSteps) {
        el.scrollTop += px;
        steps++;
        await frames();
      }
      const t1 = performance.now();
      await new Promise((res) => setTimeout(res, 300));      // the observer's last entries
      const rows = el.getAttribute("aria-rowcount");
      return { t0, t1, steps, step_px: px, scroll_height: el.scrollHeight, client_height: el.clientHeight,
        last_row_shown: el.querySelector(`[role=row][aria-rowindex='${rows}']`) !== null, rowcount: Number(rows),
        longtasks: window.__bench.longtasks };
    }, { step: Number(args.step ?? 0), maxSteps: 20000 });
    await close();
    const during = s.longtasks.filter(([t]) => t >= s.t0 && t <= s.t1).map(([, d]) => d);
    const before = s.longtasks.filter(([t]) => t < s.t0).map(([, d]) => d);
    Object.assign(r, { scroll_ms: s.t1 - s.t0, steps: s.steps, step_px: s.step_px, scroll_height: s.scroll_height,
      client_height: s.client_height, last_row_shown: s.last_row_shown, rowcount: s.rowcount,
      scroll_longtasks: during.length, scroll_longest_ms: during.length ? Math.max(...during) : 0,
      load_longtasks: before.length, load_longest_ms: before.length ? Math.max(...before) : 0 });
    out.rounds.push(r);
    log(`round ${i + 1}: first rows in frame at ${r.frame_ms.toFixed(0)} ms (wall ${r.wall_ms} ms, ${r.vms_shown.trim()}); ` +
      `scroll ${s.steps} steps in ${r.scroll_ms.toFixed(0)} ms: ${during.length} long tasks, longest ${r.scroll_longest_ms.toFixed(0)} ms; ` +
      `while loading ${before.length}, longest ${r.load_longest_ms.toFixed(0)} ms`);
  }
  return out;
}

// The VM's page; a "go STATE" line on stdin arms a watch of the State cell
// (registered before bench-console changes the cluster), answered with the
// wall time at which STATE first shows (in the DOM and in the frame).
async function state() {
  const page = await open({});
  await page.goto(base + "/console/#/vms/" + args.vm, { timeout: 60000 });
  const cell = "table[aria-label='Where it runs'] tr:has(th:text-is('State')) td";
  await page.waitForSelector(cell, { timeout: 60000 });
  console.log("@@ " + JSON.stringify({ ready: true, state: (await page.locator(cell).textContent()).trim() }));
  const lines = readline.createInterface({ input: process.stdin });
  for await (const line of lines) {
    const [op, want] = line.trim().split(/\s+/);
    if (op !== "go") break;
    await page.evaluate((w) => {
      const el = () => [...document.querySelectorAll("table[aria-label='Where it runs'] tr")]
        .find((tr) => tr.querySelector("th")?.textContent.trim() === "State")?.querySelector("td");
      window.__benchState = new Promise((resolve) => {
        const check = () => {
          if (el()?.textContent.trim() !== w) return false;
          const dom = performance.timeOrigin + performance.now();
          requestAnimationFrame(() => resolve({ dom, frame: performance.timeOrigin + performance.now() }));
          return true;
        };
        if (check()) return;
        const mo = new MutationObserver(() => { if (check()) mo.disconnect(); });
        mo.observe(document.body, { childList: true, subtree: true, characterData: true });
      });
    }, want);
    console.log("@@ " + JSON.stringify({ armed: want }));
    const seen = await Promise.race([page.evaluate(() => window.__benchState), sleep(Number(args["state-timeout"] ?? 180) * 1000).then(() => null)]);
    console.log("@@ " + JSON.stringify(seen ? { state: want, ...seen } : { state: want, error: "not shown in time" }));
  }
  await close();
  return {};
}

const deadline = setTimeout(async () => { log("console-bench: over its time bound"); await close(); process.exit(3); },
  Number(args.bound ?? 1800) * 1000);
let code = 0;
try {
  const phases = { paint, vmlist, state };
  if (!phases[args.mode]) throw new Error("unknown --mode " + args.mode);
  const out = await phases[args.mode]();
  console.log("BENCH-JSON " + JSON.stringify(out));
} catch (e) {
  log("console-bench: " + (e.stack || e));
  code = 1;
}
await close();
clearTimeout(deadline);
process.exit(code);
