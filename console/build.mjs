// build.mjs: the console's build -- TypeScript sources to a flat directory
// of files that ics-managerd serves at /console/ (manager/api_console.c).
//
// Run by make from the build directory: sources are read from --src (the
// read-only source tree), packages from --modules (npm ci's node_modules in
// the build directory), output written to --out.  esbuild bundles with code
// splitting, so what only the VM console page needs (noVNC, xterm.js) sits
// in chunks loaded by a dynamic import; every output but index.html is named
// after its content hash (cached as immutable by the daemon).  Each text
// file gets a .gz twin (served to clients that accept gzip).  The build
// fails when the dashboard's JS + CSS -- the entry, its static imports and
// the stylesheet -- exceed the budget of issue 14 (250 KiB gzip).
import { build } from "esbuild";
import { gzipSync } from "node:zlib";
import fs from "node:fs";
import path from "node:path";

const BUDGET = 250 * 1024;
const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith("--") ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
const src = path.resolve(args.src ?? "src");
const out = path.resolve(args.out ?? "dist");
const modules = path.resolve(args.modules ?? "node_modules");

fs.rmSync(out, { recursive: true, force: true });
fs.mkdirSync(out, { recursive: true });

const common = {
  bundle: true,
  minify: true,
  outdir: out,
  entryNames: "app-[hash]",
  assetNames: "asset-[hash]",
  nodePaths: [modules],
  metafile: true,
  logLevel: "warning",
  target: ["es2022", "chrome110", "firefox115", "safari16"],
};

const js = await build({
  ...common,
  entryPoints: [path.join(src, "main.tsx")],
  format: "esm",
  splitting: true,
  chunkNames: "chunk-[hash]",
  jsx: "automatic",
  jsxImportSource: "preact",
  loader: { ".css": "text" },
  define: { "process.env.NODE_ENV": '"production"' },
});
const css = await build({ ...common, entryPoints: [path.join(src, "app.css")], loader: { ".woff2": "file" } });

const outputs = { ...js.metafile.outputs, ...css.metafile.outputs };
const base = (p) => path.basename(p);
const entryJs = Object.keys(js.metafile.outputs).find((o) => js.metafile.outputs[o].entryPoint && o.endsWith(".js"));
const entryCss = Object.keys(css.metafile.outputs).find((o) => o.endsWith(".css"));

const template = fs.readFileSync(path.join(src, "index.html"), "utf8");
fs.writeFileSync(path.join(out, "index.html"), template.replace("%APP_JS%", base(entryJs)).replace("%APP_CSS%", base(entryCss)));

// The gzip twins, and the size of each file as sent.
const gz = {};
for (const name of fs.readdirSync(out)) {
  if (!/\.(js|css|html|svg|txt|json)$/.test(name)) continue;
  const data = gzipSync(fs.readFileSync(path.join(out, name)), { level: 9 });
  fs.writeFileSync(path.join(out, name + ".gz"), data);
  gz[name] = data.length;
}

// The dashboard loads the entry, what it imports statically, and the CSS.
const initial = new Set();
const walk = (o) => {
  if (initial.has(o)) return;
  initial.add(o);
  for (const imp of outputs[o].imports) if (imp.kind === "import-statement") walk(imp.path);
};
walk(entryJs);
initial.add(entryCss);
const total = [...initial].reduce((n, o) => n + gz[base(o)], 0);
const lazy = Object.keys(outputs).filter((o) => !initial.has(o) && o.endsWith(".js")).reduce((n, o) => n + gz[base(o)], 0);
const kib = (n) => (n / 1024).toFixed(1) + " KiB";
const report = `dashboard JS+CSS: ${kib(total)} gzip in ${initial.size} files (budget ${kib(BUDGET)}); loaded later: ${kib(lazy)} gzip\n`;
fs.writeFileSync(path.join(out, "sizes.txt"), report);
process.stdout.write("console: " + report);
if (total > BUDGET) {
  console.error("console: the dashboard is over its budget");
  process.exit(1);
}
