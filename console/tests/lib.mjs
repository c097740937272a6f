// lib.mjs: what the console's browser tests share -- TAP checks, bounded
// waits, Debian's Chromium launched by playwright-core with a fresh
// profile, the page watch that turns any browser console error, page error,
// failed request or HTTP error into a failure, and the axe-core audit with
// a screenshot of each page.  browser.mjs (a managerd on a CIB file) and
// cts.mjs (the real lab, from the CTS scenario console-browser) use it.
import { createRequire } from "node:module";
import fs from "node:fs";
import path from "node:path";

// "--name value" pairs of the command line.
export function parseArgs(argv) {
  return Object.fromEntries(argv.reduce((a, x, i, all) => (x.startsWith("--") ? [...a, [x.slice(2), all[i + 1]]] : a), []));
}

// TAP lines on stdout; .failed counts the failures.
export class Tap {
  constructor() { this.n = 0; this.failed = 0; this.started = Date.now(); }
  check(what, ok, detail = "") {
    this.n++;
    if (!ok) this.failed++;
    console.log(`${ok ? "ok" : "not ok"} ${this.n} - ${what}${!ok && detail ? " (" + String(detail).replace(/\n/g, " ") + ")" : ""}`);
    return ok;
  }
  plan(extra = "") {
    console.log(`1..${this.n}`);
    console.log(`# ${this.n - this.failed} passed, ${this.failed} failed in ${((Date.now() - this.started) / 1000).toFixed(1)} s${extra}`);
  }
}

// Until f() answers something true (exceptions count as "not yet"); a
// timeout throws naming what was awaited.
export async function until(what, f, ms = 20000) {
  const end = Date.now() + ms;
  for (;;) {
    try { const v = await f(); if (v) return v; } catch { /* not yet */ }
    if (Date.now() > end) throw new Error("timed out waiting for " + what);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// playwright-core and axe-core from the build's console/node_modules.
export function modules(build) {
  const require = createRequire(path.join(build, "console", "package.json"));
  return { chromium: require("playwright-core").chromium, axeSource: fs.readFileSync(require.resolve("axe-core/axe.min.js"), "utf8") };
}

// Chromium (never a downloaded browser) with a fresh --user-data-dir: a
// persistent context is how playwright takes one.  Certificate errors are
// never ignored (ignoreHTTPSErrors false): an https test must make the
// browser trust the server (cts.mjs: an NSS database in $HOME).
export async function launch(chromium, executablePath, profile) {
  return chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    ignoreHTTPSErrors: false,
    viewport: { width: 1280, height: 900 },
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  });
}

// Watch a page: console errors, page errors, failed requests and HTTP
// errors are collected; noProblems() checks none came since the last call
// and forget() drops the expected ones (a refused login's 401).
export function watch(page, tap) {
  const problems = [];
  page.on("console", (m) => { if (m.type() === "error") problems.push("console error: " + m.text()); });
  page.on("pageerror", (e) => problems.push("page error: " + e.message));
  page.on("requestfailed", (r) => {
    // a live stream cut by a navigation or the logout is not a failure
    if (r.url().includes("/api/v1/events") && /ABORTED/.test(r.failure()?.errorText ?? "")) return;
    problems.push(`request failed: ${r.method()} ${r.url()} ${r.failure()?.errorText}`);
  });
  page.on("response", (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.request().method()} ${r.url()}`); });
  return {
    problems,
    forget(re) { problems.splice(0, problems.length, ...problems.filter((p) => !re.test(p))); },
    noProblems(what) { tap.check(`${what}: no console error or failed request`, problems.length === 0, problems.join("; ")); problems.length = 0; },
  };
}

// An axe-core audit of the page as it is (serious or critical violations
// fail), then a full-page screenshot NAME.png in @shots.
export function auditor(page, tap, axeSource, shots) {
  return async (name) => {
    await page.addScriptTag({ content: axeSource });
    const res = await page.evaluate(async () => await window.axe.run(document, { resultTypes: ["violations"] }));
    const bad = res.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
    tap.check(`${name}: no serious or critical accessibility violation`, bad.length === 0,
      bad.map((v) => `${v.id}: ${v.help} (${v.nodes.map((x) => x.target.join(" ")).slice(0, 3).join(", ")})`).join("; "));
    await page.screenshot({ path: path.join(shots, name + ".png"), fullPage: true });
  };
}

// The accessible name of the focused element, near enough for the tests: its
// aria-label, else its first label's text (a select's label includes its
// options' texts), else its own text.
const focusedName = (page) => page.evaluate(() => {
  const el = document.activeElement;
  if (!el || el === document.body) return "";
  const label = el.labels && el.labels.length ? el.labels[0].textContent : "";
  return (el.getAttribute("aria-label") || label || el.textContent || "").replace(/\s+/g, " ").trim();
});

// Focus the element whose name starts with @want (or matches the RegExp)
// with the Tab key alone, the focused one first; at most @max presses.
export async function tabTo(page, want, max = 80) {
  const hit = (n) => (typeof want === "string" ? n.startsWith(want) : want.test(n));
  for (let i = 0; i <= max; i++) {
    // the console moves the focus to <main> after a page change: a press
    // that came before it settled is not lost, the name is asked again
    if (hit(await focusedName(page))) return i;
    await page.keyboard.press("Tab");
    await page.waitForTimeout(20);
  }
  throw new Error(`the Tab key never reached "${want}" in ${max} presses (last: "${await focusedName(page)}")`);
}

// The VM list's creation wizard driven by the keyboard alone (Tab, typing,
// arrow keys on the selects, Enter), from the VM list page to the new VM's
// page: @vm = { name, memoryMib, tcg, kernel: { path, initrd, cmdline },
// onReview(definition) on the review step }.
// Returns the review step's definition as the wizard showed it.
export async function wizardByKeyboard(page, vm) {
  const type = async (field, text) => {
    await tabTo(page, field);
    await page.keyboard.press("Control+A");
    await page.keyboard.type(text);
  };
  const next = async (title) => {
    await tabTo(page, "Next");
    await page.keyboard.press("Enter");
    await until(`the wizard's step ${title}`, async () => (await page.locator("nav[aria-label='Wizard steps'] [aria-current=step]").textContent()) === title, 10000)
      .catch(async (e) => { throw new Error(`${e.message}; the page says: ${(await page.locator("main").innerText()).slice(0, 400)}`); });
  };
  await tabTo(page, "Create a VM");
  await page.keyboard.press("Enter");
  await page.waitForSelector("h1:text-is('Create a VM')");
  await type("Name", vm.name);
  await type("Memory (MiB)", String(vm.memoryMib));
  if (vm.tcg) {
    await tabTo(page, "Virtualisation");
    await page.keyboard.press("ArrowDown");   // QEMU (TCG)
  }
  await next("Disks");
  await next("Network");
  await next("Boot and policy");
  if (vm.kernel) {
    await tabTo(page, "Boot from");
    for (let i = 0; i < 3; i++) await page.keyboard.press("ArrowDown");   // disk, CD-ROM, network, a kernel
    await type("Kernel (", vm.kernel.path);
    if (vm.kernel.initrd) await type("Initial ramdisk", vm.kernel.initrd);
    if (vm.kernel.cmdline) await type("Kernel command line", vm.kernel.cmdline);
  }
  await next("Review");
  const definition = JSON.parse(await page.locator("section[aria-label='Review'] pre").textContent());
  if (vm.onReview) await vm.onReview(definition);
  await tabTo(page, "Create");
  await page.keyboard.press("Enter");
  await page.waitForSelector(`h1:text-is('VM ${vm.name}')`, { timeout: 30000 });
  return definition;
}
