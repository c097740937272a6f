// browser.mjs: the web console end to end in Chromium (TAP output).
//
// Starts a real ics-managerd (plain HTTP on 127.0.0.1, an ephemeral port,
// a fresh state directory, --bootstrap-admin) serving the built console,
// with the cluster adapter on a copy of a captured 3-node CIB (libcib's
// CIB_file, as the adapter's unit tests use: hosts, a pool, a VM -- no
// cluster needed).  Then Debian's /usr/bin/chromium, driven by
// playwright-core (never a downloaded browser), with a fresh profile:
// log in; the dashboard; the VM list and a VM's page; a live event (a VM
// defined through the API appears in the open list without a reload, and
// its task's progress arrives on the events page); the other pages; a
// session ended elsewhere (back to login, then to the same page); log out.
// Every page gets an axe-core audit (serious or critical violations fail)
// and a screenshot (console/screenshots/ in the build directory).  Any
// browser console error or failed request fails the test.
import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { auditor, launch, modules, parseArgs, Tap, until, watch, wizardByKeyboard } from "./lib.mjs";

const args = parseArgs(process.argv.slice(2));
const build = path.resolve(args.build), src = path.resolve(args.src);
const { chromium, axeSource } = modules(build);
const shots = path.join(build, "console", "screenshots");
const tap = new Tap();
const check = tap.check.bind(tap);

const freePort = () => new Promise((res) => { const s = net.createServer(); s.listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => res(p)); }); });

// ---- the manager -----------------------------------------------------------
const state = fs.mkdtempSync(path.join(os.tmpdir(), "ics-console-test-"));
const cib = path.join(state, "cib.xml");
// the CIB's pool, initialised in the state directory, so a VM can be defined on it
const pool = path.join(state, "pool");
fs.mkdirSync(pool);
await new Promise((res, rej) => spawn(path.join(build, "storage-lock", "ics-lease"), ["init", pool, "--name", "shared"], { stdio: "ignore" })
  .on("exit", (c) => (c === 0 ? res() : rej(new Error("ics-lease init: exit " + c)))));
fs.writeFileSync(cib, fs.readFileSync(path.join(src, "manager/cluster/tests/data/cib-vm-running.xml"), "utf8").replaceAll("/srv/ics/pools/shared", pool));
fs.writeFileSync(path.join(state, "managerd.conf"), `[manager]\nconsole_dir=${path.join(build, "console", "dist")}\nmirror_period_seconds=0\n`);
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const mgr = spawn(path.join(build, "manager", "ics-managerd"),
  ["--foreground", "--bootstrap-admin", "--insecure-http", "--config", path.join(state, "managerd.conf"),
    "--state-dir", path.join(state, "db"), "--listen", `127.0.0.1:${port}`],
  { env: { ...process.env, CIB_file: cib, SANLOCK_RUN_DIR: state, ASAN_OPTIONS: "detect_leaks=0" }, stdio: ["ignore", "pipe", "pipe"] });
let mgrOut = "", mgrErr = "";
mgr.stdout.on("data", (d) => (mgrOut += d));
mgr.stderr.on("data", (d) => (mgrErr += d));

let browser = null;
async function finish(code) {
  try { await browser?.close(); } catch { /* already gone */ }
  if (mgr.exitCode === null) {
    const gone = new Promise((res) => mgr.once("exit", res));
    mgr.kill("SIGTERM");
    await Promise.race([gone, new Promise((res) => setTimeout(res, 10000))]);
  }
  fs.rmSync(state, { recursive: true, force: true, maxRetries: 5 });
  tap.plan(`; screenshots in ${shots}`);
  process.exit(code ?? (tap.failed ? 1 : 0));
}
const deadline = setTimeout(() => { check("finished within 120 s", false); finish(1); }, 120000);

try {
  await until("the manager to answer", async () => (await fetch(base + "/api/v1/health")).ok, 30000);
  const password = await until("the admin password", () => (mgrOut.match(/password[^\n]*?:\s*(\S+)/i) || [])[1]);
  check("ics-managerd answers with the console configured", true);
  const login = await (await fetch(base + "/api/v1/sessions", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ username: "admin", password }) })).json();
  const apiCall = (method, p, body) => fetch(base + p, { method, headers: { Authorization: "Bearer " + login.token, "Content-Type": "application/json" }, body: body && JSON.stringify(body) });

  // ---- the browser ---------------------------------------------------------
  fs.rmSync(shots, { recursive: true, force: true });
  fs.mkdirSync(shots, { recursive: true });
  const profile = fs.mkdtempSync(path.join(state, "profile-"));
  browser = await launch(chromium, args.chromium, profile);
  const page = browser.pages()[0] ?? await browser.newPage();
  const { noProblems, forget } = watch(page, tap);
  const audit = auditor(page, tap, axeSource, shots);

  // login, and back to where the user was going
  await page.goto(base + "/");
  await page.waitForSelector("form[aria-label='Log in']");
  check("/ leads to the login page", page.url().startsWith(base + "/console/#/login"), page.url());
  await audit("login");
  await page.getByLabel("User name").fill("admin");
  await page.getByLabel("Password").fill("wrong-password");
  await page.getByRole("button", { name: "Log in" }).click();
  const refusal = await page.getByRole("alert").textContent({ timeout: 10000 });
  check("a wrong password is refused with the manager's message", /invalid user name, password or code/.test(refusal), refusal);
  forget(/401/); // the refused login itself
  await page.getByLabel("Password").fill(password);
  await page.keyboard.press("Enter");
  await page.waitForSelector("h1:text('Dashboard')");
  check("logged in with the keyboard, the dashboard shows", true);
  await page.waitForSelector("text=/3 hosts online/", { timeout: 15000 });
  check("the dashboard counts the 3 online hosts of the CIB", true);
  await page.waitForSelector("[aria-label='Pool shared']", { timeout: 15000 });
  check("the dashboard shows the pool", true);
  const health = await page.locator("article[aria-label='Cluster']").innerText();
  check("the dashboard shows quorum and the fencing device (GET /cluster)", /Quorum:\s*quorate/.test(health) && /Fencing:\s*configured \(reboot\) fence-lab/.test(health), health);
  await page.waitForSelector("#stream-state[data-state=live]", { timeout: 15000 }).catch(async (e) => {
    throw new Error(e.message + " -- stream indicator: " + await page.locator("#stream-state").getAttribute("data-state"));
  });
  check("the event stream is live", true);
  await page.waitForLoadState("networkidle").catch(() => {});
  await audit("dashboard");
  noProblems("dashboard");

  // the VM list, and a VM defined meanwhile appears live
  await page.getByRole("link", { name: "Virtual machines" }).click();
  await page.waitForSelector("[role=table][aria-label='Virtual machines'] [role=row] >> nth=1", { timeout: 15000 });
  const rows0 = await page.locator("[role=table] [role=row]").count();
  check("the VM list has rows", rows0 >= 2, rows0);
  const name = "console-test-" + process.pid;
  const created = await apiCall("POST", "/api/v1/vms", { definition: { name, vcpus: 1, memory_mib: 64 } });
  const vm = await created.json();
  check("a VM is defined through the API", created.status === 201, JSON.stringify(vm));
  await page.waitForSelector(`[role=table] a:text('${name}')`, { timeout: 15000 });
  check("the new VM appears in the open list (vm.created event, no reload)", true);
  await page.getByRole("searchbox").fill(name);
  const shown = await page.locator("[role=table] [role=row]").count();
  check("search narrows the list", shown === 2, shown);
  await audit("vm-list");
  noProblems("VM list");

  // the keyboard alone: a page change puts the focus on the content (the
  // console moves it to <main>); the wizard creates a VM booting a kernel on the pool (Tab,
  // typing, arrow keys, Enter -- no mouse)
  await page.getByRole("link", { name: "Dashboard", exact: true }).click();
  await page.waitForSelector("h1:text-is('Dashboard')");
  await page.getByRole("link", { name: "Virtual machines" }).click();
  await page.waitForSelector("h1:text-is('Virtual machines')");
  check("after a page change the focus is on the content", await page.evaluate(() => document.activeElement?.id) === "main");
  const kname = "console-kernel-" + process.pid;
  fs.mkdirSync(path.join(pool, "boot"), { recursive: true });
  const kernel = { path: path.join(pool, "boot", "vmlinux"), initrd: path.join(pool, "boot", "initrd.img"), cmdline: "console=ttyS0" };
  for (const f of [kernel.path, kernel.initrd]) fs.writeFileSync(f, "");
  const review = await wizardByKeyboard(page, { name: kname, memoryMib: 64, tcg: true, kernel, onReview: () => audit("vm-create") });
  check("the wizard's review shows the direct kernel boot and no boot order",
    review.kernel?.path === kernel.path && review.kernel?.cmdline === kernel.cmdline && review.boot === undefined && review.virt_type === "qemu", JSON.stringify(review));
  const kuuid = page.url().split("/vms/")[1];
  // (the VM's definition on the pool: this CIB file gets no primitive, so
  // the manager's answer marks the VM broken and leaves its definition out)
  const kvm = await (await apiCall("GET", `/api/v1/vms/${kuuid}`)).json();
  const onPool = JSON.parse(fs.readFileSync(path.join(pool, ".ics", "vms", kuuid, "vm.json"), "utf8"));
  check("created with the keyboard alone: the VM and its kernel are on the pool",
    kvm.name === kname && onPool.kernel?.initrd === kernel.initrd && onPool.memory_mib === 64, JSON.stringify(onPool).slice(0, 300));
  noProblems("VM creation wizard");
  await page.getByRole("link", { name: "Virtual machines" }).click();
  await page.waitForSelector("h1:text-is('Virtual machines')");
  await page.getByRole("searchbox").fill(name);

  // the VM page, and a task started through the API shows its progress
  await page.getByRole("link", { name }).click();
  await page.waitForSelector(`h1:text('VM ${name}')`);
  check("the VM page shows the VM", true);
  const start = await apiCall("POST", `/api/v1/vms/${vm.uuid}/start`);
  check("the VM's start is accepted as a task", start.status === 202, start.status);
  await page.waitForSelector("text=/vm\\.start|task\\.updated/", { timeout: 15000 });
  check("the task's events reach the VM page", true);
  await audit("vm");
  noProblems("VM page");

  // backups: a repository registered from its page, then the VM page's
  // backups section offers to back the VM up into it
  const backups = path.join(state, "backups");
  fs.mkdirSync(backups);
  await page.getByRole("link", { name: "Backups", exact: true }).click();
  await page.waitForSelector("h1:text('Backup repositories')");
  const reg = page.locator("form[aria-label='Register a repository']");
  await reg.getByLabel("Name").fill("nightly");
  await reg.getByLabel(/^Directory/).fill(backups);
  await reg.getByRole("button", { name: "Register" }).click();
  await page.waitForSelector("td:text-is('nightly')", { timeout: 10000 });
  check("a backup repository registered from the Backups page is listed",
    fs.existsSync(path.join(backups, "ics-backup-repository.json")));
  // a backup policy created from the same page, listed with its next run,
  // then run now (its VMs due)
  const pol = page.getByRole("form", { name: "Create a backup policy" });
  await pol.getByLabel("Name").fill("nightly-all");
  await pol.getByLabel(/^Schedule/).fill("0 2 * * *");
  await pol.getByLabel("Retention").fill("last=7,weekly=4");
  await pol.getByRole("button", { name: "Create" }).click();
  await page.waitForSelector("table[aria-label='Backup policies'] td:text('nightly-all')", { timeout: 10000 });
  const policyRow = page.locator("table[aria-label='Backup policies'] tbody tr").first();
  const nextRun = (await policyRow.locator("td").nth(5).textContent()).trim();
  check("a backup policy created from the Backups page is listed with its next run", nextRun !== "" && nextRun !== "—");
  check("a new policy has no VM due", (await policyRow.locator("td").nth(6).textContent()) === "0");
  await page.getByRole("button", { name: "Run now: nightly-all" }).click();
  await page.waitForFunction(() => document.querySelector("table[aria-label='Backup policies'] tbody tr td:nth-child(7)")?.textContent !== "0", null, { timeout: 10000 }).catch(() => {});
  check("running the policy now makes its VMs due",
    Number(await policyRow.locator("td").nth(6).textContent()) >= 1);
  // the manager's own backups: taken from the same page, then listed
  await page.getByRole("button", { name: "Back up the manager now" }).click();
  await page.waitForSelector("table[aria-label='Manager backups'] code:text('ics-manager-')", { timeout: 20000 });
  check("the manager backed up from the Backups page lists the new backup",
    await page.locator("table[aria-label='Manager backups'] tbody tr").count() >= 1);
  await audit("backups");
  noProblems("Backups");
  await page.goto(base + `/console/#/vms/${vm.uuid}`);
  await page.waitForSelector("section[aria-label='Backups'] button:text('Back up now')", { timeout: 10000 });
  check("the VM page lists its backups (none yet) and offers to back it up into the repository",
    await page.locator("section[aria-label='Backups']").getByText("No backup of this VM").count() === 1);
  await audit("vm-backups");
  noProblems("VM backups");

  // restore: a VM with a disk on the pool, backed up by ics-backup into
  // the registered repository (this CIB gives it no primitive, so not
  // through the manager), restored from its page to a new VM
  const run = (cmd, argv) => new Promise((res, rej) => spawn(cmd, argv, { stdio: "ignore" })
    .on("exit", (c) => (c === 0 ? res() : rej(new Error(`${path.basename(cmd)} ${argv[0]}: exit ${c}`)))));
  const rname = "console-restore-" + process.pid;
  const rdisk = path.join(pool, rname + ".qcow2");
  await run("qemu-img", ["create", "-q", "-f", "qcow2", rdisk, "1M"]);
  const rvm = await (await apiCall("POST", "/api/v1/vms", { definition: { name: rname, vcpus: 1, memory_mib: 64, disks: [{ path: rdisk, format: "qcow2" }] } })).json();
  await run(path.join(build, "backup", "ics-backup"), ["run", backups, "--vm", rvm.uuid, "--pool", pool, "--stopped"]);
  await page.goto(base + `/console/#/vms/${rvm.uuid}`);
  await page.waitForSelector("section[aria-label='Backups'] button:text('Restore…')", { timeout: 10000 });
  await page.locator("section[aria-label='Backups'] button:text('Restore…')").first().click();
  const rform = page.getByRole("form", { name: /^Restore backup / });
  await rform.getByLabel("New VM name").fill(rname + "-copy");
  await audit("vm-restore");
  await rform.getByRole("button", { name: "Restore", exact: true }).click();
  await page.waitForSelector("section[aria-label='Backups'] [role=status]:has-text('succeeded')", { timeout: 30000 });
  const copies = await (await apiCall("GET", "/api/v1/vms?limit=1000")).json();
  check("a backup restored to a new VM from the VM page: the VM exists and its disk is on the pool",
    copies.items.some((v) => v.name === rname + "-copy") && fs.existsSync(path.join(pool, `${rname}-copy-vda.qcow2`)),
    JSON.stringify(copies.items.map((v) => v.name)));
  noProblems("VM restore");

  for (const [link, title, shot] of [["Hosts", "Hosts", "hosts"], ["Pools and volumes", "Pools and volumes", "pools"], ["Tasks", "Tasks", "tasks"],
    ["Events", "Events", "events"], ["DRS", "DRS", "drs"], ["Users and keys", "Users, roles and API keys", "access"], ["Audit", "Audit", "audit"]]) {
    await page.getByRole("link", { name: link, exact: true }).click();
    await page.waitForSelector(`h1:text('${title}')`);
    await page.waitForLoadState("networkidle").catch(() => {});
    if (shot === "events") {
      await page.waitForSelector("[role=log] td:text('task.updated')", { timeout: 10000 });
      check("the events page lists the live task.updated events", true);
    }
    if (shot === "audit") {
      await page.getByRole("button", { name: "Search" }).click();
      await page.waitForSelector("td:text('vm.create')", { timeout: 10000 });
      check("the audit search finds the VM's creation", true);
    }
    await audit(shot);
    noProblems(title);
  }

  // a session that ends elsewhere: back to the login page, then to where the user was
  await page.goto(base + "/console/#/hosts/node2");
  await page.waitForSelector("h1:text('Host node2')");
  const stored = JSON.parse(await page.evaluate(() => sessionStorage.getItem("ics.session")));
  const revoked = await fetch(base + "/api/v1/sessions/current", { method: "DELETE", headers: { Authorization: "Bearer " + stored.token } });
  check("the browser's session is ended through the API", revoked.status === 204, revoked.status);
  await page.waitForSelector("form[aria-label='Log in']", { timeout: 15000 });
  check("the ended session leads to the login page, remembering the page", page.url().includes("next=%2Fhosts%2Fnode2"), page.url());
  await page.getByLabel("User name").fill("admin");
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.waitForSelector("h1:text('Host node2')", { timeout: 15000 });
  check("after the login the user is back on the host's page", true);
  forget(/HTTP 401/);
  noProblems("session end and login again");
  await page.getByRole("button", { name: "Log out" }).click();
  await page.waitForSelector("form[aria-label='Log in']");
  const token = await page.evaluate(() => sessionStorage.getItem("ics.session"));
  check("log out ends the session and shows the login page", token === null, token);
  noProblems("logout");
} catch (e) {
  check("the browser run completed", false, e.stack || e);
  if (mgrErr) console.log("# manager log (tail):\n" + mgrErr.split("\n").slice(-15).map((l) => "# " + l).join("\n"));
}
clearTimeout(deadline);
await finish();
