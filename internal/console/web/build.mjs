// build.mjs: bundles src/ into ../dist (the files internal/console embeds).
// `npm ci && npm run build` must reproduce the committed dist/ byte for byte:
// esbuild's output depends only on the sources and the pinned versions, and
// the asset names carry a hash of their contents.
import * as esbuild from "esbuild";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, "..", "dist");

rmSync(dist, { recursive: true, force: true });
mkdirSync(join(dist, "assets"), { recursive: true });

const result = await esbuild.build({
  absWorkingDir: here,
  entryPoints: ["src/main.tsx"],
  bundle: true,
  minify: true,
  format: "esm",
  target: ["chrome110", "firefox110", "safari16"],
  jsx: "automatic",
  jsxImportSource: "preact",
  outdir: join(dist, "assets"),
  entryNames: "[name]-[hash]",
  assetNames: "[name]-[hash]",
  legalComments: "none",
  charset: "utf8",
  metafile: true,
  write: false,
  logLevel: "warning",
});

let js = "", css = "";
const sizes = [];
for (const f of result.outputFiles) {
  writeFileSync(f.path, f.contents);
  const name = "assets/" + basename(f.path);
  if (name.endsWith(".js")) js = name;
  if (name.endsWith(".css")) css = name;
  sizes.push([name, f.contents.length, gzipSync(f.contents, { level: 9 }).length]);
}
if (!js || !css) throw new Error("build: expected one .js and one .css output");

const html = readFileSync(join(here, "index.html"), "utf8")
  .replace("%CSS%", "/console/" + css)
  .replace("%JS%", "/console/" + js);
writeFileSync(join(dist, "index.html"), html);
sizes.push(["index.html", Buffer.byteLength(html), gzipSync(html, { level: 9 }).length]);

let raw = 0, gz = 0;
for (const [name, r, g] of sizes) {
  raw += r; gz += g;
  console.log(`${name.padEnd(40)} ${String(r).padStart(8)} B  ${String(g).padStart(7)} B gzipped`);
}
console.log(`${"total".padEnd(40)} ${String(raw).padStart(8)} B  ${String(gz).padStart(7)} B gzipped`);
console.log("sha256 of index.html:", createHash("sha256").update(html).digest("hex").slice(0, 16));
