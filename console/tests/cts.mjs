// cts.mjs: the web console in Chromium against the REAL lab (TAP output),
// run by the CTS scenario console-browser (cts/scenarios/console.py) in
// the lab's client namespace, speaking https to the manager on the VIP.
//
// The browser trusts the manager's own certificate through the NSS
// database in $HOME/.pki/nssdb that the scenario prepared (Chromium on
// Linux reads user trust from there); certificate errors are not ignored.
//
// The lab is the scenario's: this script only asks for what a browser
// cannot do, on stdout as "@@ {json}" lines, and reads one JSON answer line
// on stdin each time ({"ok": true, ...} or {"error": "..."}):
//   {"op": "power-off", "node": N}   the lab powers N off (stonith-action=off keeps it off)
//   {"op": "power-on", "node": N}    ... on again, and waits for the whole cluster
//
// Steps: log in on https://VIP:8443/ (redirected to /console/); the
// dashboard shows every node online and the pool with each host's
// heartbeat; the wizard creates the VM (keyboard only; the lab guest's
// kernel on the pool) and the VM list shows it; start it from its page
// and see it running, live; live-migrate it from the page to a node that
// does not run the manager, the task reaches 100 % and the host changes;
// put that host in maintenance from its page, the VM leaves it, leave
// maintenance; its screen (noVNC, the framebuffer drawn) and its serial
// console (xterm.js, the guest's counter line), which a live migration
// closes with where the VM went and which reconnects there; power off a
// node from the lab, the host.fenced event and the host count arrive on
// the open dashboard; power it on, the hosts page shows it online again;
// log out.  Every page: an axe-core audit and a screenshot; any console
// error or failed request fails.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { auditor, launch, modules, parseArgs, Tap, until, watch, wizardByKeyboard } from "./lib.mjs";

const args = parseArgs(process.argv.slice(2));
const build = path.resolve(args.build);
const base = args.url.replace(/\/$/, "");
const nodes = args.nodes.split(",");
const managerNode = args["manager-node"];
const vmName = args["vm-name"];
const kernelDir = args["kernel-dir"];
const shots = path.resolve(args.shots);
const password = fs.readFileSync(args["password-file"], "utf8").trim();
const { chromium, axeSource } = modules(build);
const tap = new Tap();
const check = tap.check.bind(tap);
const BOUND = 150000;        // the slowest step: a TCG guest's start or migration on a loaded machine

// ---- requests to the scenario ------------------------------------------------
const answers = [];
let waiting = null;
readline.createInterface({ input: process.stdin }).on("line", (l) => {
  answers.push(l);
  if (waiting) { const w = waiting; waiting = null; w(); }
});
async function ask(req) {
  console.log("@@ " + JSON.stringify(req));
  if (!answers.length) await new Promise((res) => (waiting = res));
  const a = JSON.parse(answers.shift());
  if (a.error) throw new Error(`${req.op} ${req.node ?? ""}: ${a.error}`);
  return a;
}

let browser = null, page = null;
async function finish() {
  try { await browser?.close(); } catch { /* already gone */ }
  tap.plan(`; screenshots in ${shots}`);
  process.exit(tap.failed ? 1 : 0);
}
const deadline = setTimeout(() => { check("finished within 10 min", false); finish(); }, 600000);

const cell = (page, table, row) => page.locator(`table[aria-label='${table}'] tr:has(th:text-is('${row}')) td`);

try {
  fs.mkdirSync(shots, { recursive: true });
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "ics-cts-chromium-"));
  browser = await launch(chromium, args.chromium, profile);
  page = browser.pages()[0] ?? await browser.newPage();
  const { noProblems } = watch(page, tap);
  const audit = auditor(page, tap, axeSource, shots);
  const nav = async (link, title) => {
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: link, exact: true }).click();
    await page.waitForSelector(`h1:text-is('${title}')`);
  };

  // ---- login over https on the VIP, the manager's certificate trusted ------
  await page.goto(base + "/");
  await page.waitForSelector("form[aria-label='Log in']", { timeout: 30000 });
  check("https://VIP:8443/ leads to the console's login page (certificate verified)", page.url().startsWith(base + "/console/"), page.url());
  await audit("login");
  await page.getByLabel("User name").fill("admin");
  await page.getByLabel("Password").fill(password);
  await page.keyboard.press("Enter");
  await page.waitForSelector("h1:text-is('Dashboard')", { timeout: 30000 });
  check("logged in as admin, the dashboard shows", true);

  // ---- dashboard: every node online, the pool with each host's heartbeat ---
  const online = (k) => page.locator("article[aria-label='Cluster'] p", { hasText: new RegExp(`^${k} of ${nodes.length} hosts online`) });
  await online(nodes.length).waitFor({ timeout: 30000 });
  check(`the dashboard shows ${nodes.length} of ${nodes.length} hosts online`, true);
  const health = await page.locator("article[aria-label='Cluster']").innerText();
  check("the dashboard shows the cluster quorate and fencing configured (GET /cluster)", /Quorum:\s*quorate/.test(health) && /Fencing:\s*configured/.test(health), health);
  const beats = page.locator(`[aria-label='Pool ${args.pool}'] [aria-label='Disk heartbeats'] li`);
  const heartbeats = await until("a heartbeat of every host", async () => {
    const t = await beats.allTextContents();
    return nodes.every((n) => t.some((x) => x.startsWith(n + " ") && /\balive\b/.test(x))) && t;
  }, 30000).catch((e) => e);
  check(`the pool ${args.pool} shows each host's heartbeat alive`, Array.isArray(heartbeats), heartbeats instanceof Error ? heartbeats.message + ": " + (await beats.allTextContents()).join(" | ") : "");
  await page.waitForSelector("#stream-state[data-state=live]", { timeout: 15000 });
  check("the event stream is live", true);
  await audit("dashboard");
  noProblems("dashboard");

  // ---- a VM created with the wizard, by the keyboard alone ------------------
  // the lab guest: TCG, its kernel and initrd on the pool, its counter line
  // on the serial console (cts/guest/README.md)
  await nav("Virtual machines", "Virtual machines");
  const kernel = { path: kernelDir + "/vmlinux", initrd: kernelDir + "/initrd.img", cmdline: "console=ttyS0 quiet ics_tick=1" };
  const review = await wizardByKeyboard(page, { name: vmName, memoryMib: 128, tcg: true, kernel, onReview: () => audit("vm-create") });
  check(`created ${vmName} with the wizard by the keyboard alone (direct kernel boot, TCG)`,
    review.kernel?.path === kernel.path && review.virt_type === "qemu", JSON.stringify(review));
  noProblems("VM creation wizard");
  await nav("Virtual machines", "Virtual machines");
  await page.waitForSelector(`[role=table] a:text-is('${vmName}')`, { timeout: 30000 });
  check(`the VM list shows ${vmName}`, true);
  await audit("vm-list");
  noProblems("VM list");

  // ---- start from the VM page, seen running without a reload --------------
  await page.locator(`[role=table] a:text-is('${vmName}')`).click();
  await page.waitForSelector(`h1:text-is('VM ${vmName}')`);
  const state = cell(page, "Where it runs", "State");
  const host = cell(page, "Where it runs", "Host");
  const leaseHolder = cell(page, "Where it runs", "Lease holder");
  // a VM just created shows its lease once the inventory has the pool's
  // definition (the one with the lease slot): at the latest after the
  // mirror's next full pass (60 s by default), whose vm.updated reloads
  // the page -- a lag of the inventory, not of the lease
  const holderIs = (want) => until(`the lease holder to show ${want}`, async () => (await leaseHolder.textContent()).trim() === want, 90000)
    .then(() => true, async () => (await leaseHolder.textContent()).trim());
  check("the VM page shows it stopped", (await state.textContent()).trim() === "stopped", await state.textContent());
  const loads0 = await page.evaluate(() => performance.getEntriesByType("navigation").length + ":" + performance.timeOrigin);
  await page.getByRole("button", { name: "Start", exact: true }).click();
  await until("the VM to show running", async () => (await state.textContent()).trim() === "running" && (await host.textContent()).trim() !== "—", BOUND);
  const hostA = (await host.textContent()).trim();
  check(`started from the page, it shows running on ${hostA} (live, no reload)`, nodes.includes(hostA) &&
    loads0 === await page.evaluate(() => performance.getEntriesByType("navigation").length + ":" + performance.timeOrigin), hostA);
  const heldA = await holderIs(hostA);
  check(`its sanlock lease, read from the pool, is held by ${hostA}`, heldA === true, heldA);
  await audit("vm-running");
  noProblems("VM start");

  // ---- live migration from the page -----------------------------------------
  // to the node that neither runs it nor runs the manager (maintenance of
  // that node below must not move the manager away from the open page)
  const hostB = nodes.find((n) => n !== hostA && n !== managerNode);
  await page.getByLabel("Migrate to").selectOption(hostB);
  await page.getByRole("button", { name: "Migrate", exact: true }).click();
  const task = page.locator("section[aria-label='Actions'] [role=status]");
  await until("the migration task to reach 100 %", async () => /succeeded\s*100%/.test(await task.textContent()), BOUND).catch(async (e) => {
    throw new Error(e.message + ": " + await task.textContent().catch(() => "no task shown"));
  });
  await until(`the host to change to ${hostB}`, async () => (await host.textContent()).trim() === hostB && (await state.textContent()).trim() === "running", 60000);
  check(`live-migrated from the page: the task reached 100 % and the VM runs on ${hostB}`, true);
  const heldB = await holderIs(hostB);
  check(`its lease moved with it: held by ${hostB}`, heldB === true, heldB);
  await audit("vm-migrated");
  noProblems("VM migration");

  // ---- maintenance of that host from its page -----------------------------
  await nav("Hosts", "Hosts");
  await audit("hosts");
  await page.getByRole("link", { name: hostB, exact: true }).click();
  await page.waitForSelector(`h1:text-is('Host ${hostB}')`);
  await page.waitForSelector(`li a:text-is('${vmName}')`, { timeout: 30000 });
  check(`the page of ${hostB} lists the VM`, true);
  await page.getByRole("button", { name: "Enter maintenance" }).click();
  const mtask = page.locator("[role=status]", { hasText: "Maintenance of " + hostB });
  await until("the maintenance task to reach 100 %", async () => /succeeded\s*100%/.test(await mtask.textContent()), BOUND).catch(async (e) => {
    throw new Error(e.message + ": " + await mtask.textContent().catch(() => "no task shown"));
  });
  await page.waitForSelector("text=No VM runs here.", { timeout: 30000 });
  check(`${hostB} in maintenance from its page: the task reached 100 %, its VMs left`, true);
  // The standby arrives as a host.state event: the open page shows it.
  await page.getByText("in standby (ICS maintenance)").waitFor({ timeout: 30000 });
  check(`${hostB} shown in standby, live (host.state)`, true);
  await audit("host-maintenance");
  await page.getByRole("button", { name: "Leave maintenance" }).click();
  const mtask2 = page.locator("[role=status]", { hasText: "Maintenance of " + hostB });
  await until("the task leaving maintenance to succeed", async () => /succeeded\s*100%/.test(await mtask2.textContent()), 60000);
  await until("the standby to end on the open page", async () => !(await page.getByText("in standby (ICS maintenance)").count()), 60000);
  check(`${hostB} left maintenance: the task succeeded, the open page shows it (host.state)`, true);
  noProblems("host maintenance");

  await nav("Virtual machines", "Virtual machines");
  await page.locator(`[role=table] a:text-is('${vmName}')`).click();
  await page.waitForSelector(`h1:text-is('VM ${vmName}')`);
  await until("the VM page", async () => (await state.textContent()).trim() === "running", 30000);
  const hostC = (await host.textContent()).trim();
  check(`the VM runs elsewhere than ${hostB} (on ${hostC})`, hostC !== hostB && nodes.includes(hostC), hostC);

  // ---- VM screen and serial console ---------------------------------------
  // The screen: a ticket, the manager's WebSocket proxy to the VNC server
  // of the node that runs the VM, noVNC drawing the guest's framebuffer
  // (SeaBIOS's text on a diskless lab guest: not all one colour).
  await page.locator("a[href$='/console']").click();
  await page.waitForSelector(`h1:text-is('Console of ${vmName}')`);
  const screenStatus = page.locator("section[aria-label='Screen'] [role=status]");
  await until("the screen to connect", async () => /Connected\./.test(await screenStatus.textContent()), 30000).catch(async (e) => {
    throw new Error(e.message + ": " + await screenStatus.textContent().catch(() => "no status"));
  });
  const colours = async () => page.evaluate(() => {
    const c = document.querySelector("section[aria-label='Screen'] canvas");
    if (!c || c.width === 0 || c.height === 0) return 0;
    const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    const seen = new Set();
    for (let i = 0; i < d.length && seen.size < 3; i += 4 * 97) seen.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
    return seen.size;
  });
  await until("a framebuffer that is not all one colour", async () => (await colours()) > 1, 30000);
  await audit("vm-screen");
  check(`the VM's screen over the manager's VNC proxy: connected, the framebuffer drawn`, true);
  noProblems("vm screen");
  // The serial console: a "serial" ticket, the manager's bridge to the
  // libvirt stream (virDomainOpenConsole on the node that runs the VM),
  // xterm.js writing what arrives.  The lab guest prints its counter line
  // on ttyS0 every second (cts/guest/README.md).
  await page.getByRole("tab", { name: "Serial console" }).click();
  const serial = page.locator("section[aria-label='Serial console']");
  await until("the serial console to connect", async () => /Connected\./.test(await serial.locator("[role=status]").textContent()), 30000).catch(async (e) => {
    throw new Error(e.message + ": " + await serial.locator("[role=status]").textContent().catch(() => "no status"));
  });
  const counterLine = /ics-guest boot=(\d+) uptime_ms=\d+ counter=(\d+)/;
  let serialText = "";
  await until("the guest's counter line in xterm.js", async () => {
    serialText = await serial.locator(".xterm-rows").textContent().catch(() => "");
    return counterLine.test(serialText);
  }, 30000).catch((e) => { throw new Error(e.message + ": the terminal shows " + JSON.stringify(serialText.slice(-300))); });
  await audit("vm-serial");
  check(`the VM's serial console over the manager's libvirt stream bridge: ${serialText.match(counterLine)[0]}`, true);
  noProblems("vm serial console");

  // ---- a live migration during the session: it closes saying where the VM
  // went, the page offers to reconnect, and the console goes on there (the
  // guest's counter higher, the same boot: its memory moved with it)
  // [boot, counter] of the last counter line in @t
  const counterOf = (t) => [...t.matchAll(new RegExp(counterLine, "g"))].map((m) => [Number(m[1]), Number(m[2])]).pop();
  const [boot0, count0] = counterOf(serialText);
  const hostD = nodes.find((n) => n !== hostC && n !== managerNode);
  const migrated = await page.evaluate(async ([u, target]) => {
    const { token } = JSON.parse(sessionStorage.getItem("ics.session"));
    const r = await fetch(`/api/v1/vms/${u}/migrate`, { method: "POST", headers: { Authorization: "Bearer " + token, "Content-Type": "application/json" }, body: JSON.stringify({ target_host: target }) });
    return r.status;
  }, [page.url().split("/vms/")[1].split("/")[0], hostD]);
  check(`a live migration to ${hostD} asked through the API while the console is open`, migrated === 202, migrated);
  const closedWhy = serial.locator("[role=status]");
  await until("the serial session to close with where the VM went", async () => (await closedWhy.textContent()).includes(`the VM moved to ${hostD}`), BOUND)
    .catch(async (e) => { throw new Error(e.message + ": " + await closedWhy.textContent()); });
  check(`the open serial console closed with "the VM moved to ${hostD}" and offers to reconnect`,
    await serial.getByRole("button", { name: "Reconnect" }).isVisible());
  // what the terminal shows when it closed: only a line after it proves the
  // new session
  const [, countClosed] = counterOf(await serial.locator(".xterm-rows").textContent()) ?? [boot0, count0];
  await serial.getByRole("button", { name: "Reconnect" }).click();
  await until("the serial console to connect again", async () => /Connected\./.test(await closedWhy.textContent()), 30000);
  let after = null;
  await until("a newer counter line after the reconnect", async () => {
    after = counterOf(await serial.locator(".xterm-rows").textContent().catch(() => ""));
    return after && after[1] > countClosed;
  }, 30000).catch((e) => { throw new Error(e.message + ` (when it closed: boot=${boot0} counter=${countClosed})`); });
  check(`reconnected on ${hostD}: counter ${countClosed} -> ${after[1]}, boot ${boot0} -> ${after[0]} (the memory moved)`, after[0] === boot0, after);
  await audit("vm-serial-reconnected");
  noProblems("serial console across a migration");
  await page.getByRole("link", { name: "Back to the VM" }).click();
  await page.waitForSelector(`h1:text-is('VM ${vmName}')`);

  // ---- a node powered off from the lab, seen on the open dashboard ---------
  const victim = nodes.find((n) => n !== managerNode && n !== hostD);
  await nav("Dashboard", "Dashboard");
  await online(nodes.length).waitFor({ timeout: 30000 });
  await ask({ op: "power-off", node: victim });
  const fenced = page.locator("section[aria-label='Recent events'] tr", { hasText: "host.fenced" }).filter({ hasText: victim });
  await fenced.first().waitFor({ timeout: BOUND });
  check(`${victim} powered off: its host.fenced event arrives on the open dashboard`, true);
  await online(nodes.length - 1).waitFor({ timeout: 30000 }).then(() => check(`the dashboard shows ${nodes.length - 1} of ${nodes.length} hosts online`, true),
    async (e) => check(`the dashboard shows ${nodes.length - 1} of ${nodes.length} hosts online`, false, await page.locator("article[aria-label='Cluster'] p").first().textContent()));
  await audit("dashboard-node-off");
  noProblems("node powered off");
  await ask({ op: "power-on", node: victim });
  await nav("Hosts", "Hosts");
  const row = page.locator("tr", { has: page.getByRole("link", { name: victim, exact: true }) });
  await until(`${victim} online on the open hosts page`, async () => (await row.locator("td").nth(2).textContent()).trim() === "online", 60000);
  check(`${victim} powered on: the open hosts page shows it online again (host.state)`, true);
  await audit("hosts-whole");
  noProblems("node powered on");

  // ---- log out -------------------------------------------------------------
  await page.getByRole("button", { name: "Log out" }).click();
  await page.waitForSelector("form[aria-label='Log in']");
  const token = await page.evaluate(() => sessionStorage.getItem("ics.session"));
  check("log out ends the session and shows the login page", token === null, token);
  noProblems("logout");
} catch (e) {
  check("the browser run completed", false, e.stack || e);
  await page?.screenshot({ path: path.join(shots, "failure.png"), fullPage: true }).catch(() => {});
}
clearTimeout(deadline);
await finish();
