/**
 * The web console: static files from `gateway/console/` (HTML, CSS, ES modules) and two vendored
 * libraries from node_modules (Chart.js for the charts, ethers for signing with a key held in the
 * browser), served under `/console/`; `/` redirects there. Every file is read once at start into a
 * fixed table keyed by URL path, so a request can only ever name one of them: no path from a request
 * reaches the file system. The console is public code; the data it shows comes from the API, which
 * checks every request.
 */
import express, { type Router } from "express";
import fs from "node:fs";
import path from "node:path";

export const CONSOLE_PREFIX = "/console";

/** The console's CSP: its own scripts, styles and API only; charts draw on canvas (no inline code). */
export const CONSOLE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data: blob:; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
};

interface Asset {
  type: string;
  body: Buffer;
}

/** gateway/console next to the sources, and next to dist/ after a build. */
function consoleDir(): string {
  for (const candidate of [
    path.join(__dirname, "..", "..", "console"),
    path.join(__dirname, "..", "..", "..", "..", "gateway", "console"),
  ]) {
    if (fs.existsSync(path.join(candidate, "index.html"))) return candidate;
  }
  throw new Error("the console's files were not found (gateway/console)");
}

/** The installed package's directory (its `exports` may hide the file we serve from `require.resolve`). */
function packageRoot(name: string): string {
  let dir = path.dirname(require.resolve(name));
  while (!fs.existsSync(path.join(dir, "package.json")) || path.basename(dir) !== name) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`the package ${name} was not found`);
    dir = up;
  }
  return dir;
}

function walk(dir: string, prefix: string, into: Map<string, Asset>): void {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(file, `${prefix}/${entry.name}`, into);
    else {
      const type = TYPES[path.extname(entry.name)];
      if (type) into.set(`${prefix}/${entry.name}`, { type, body: fs.readFileSync(file) });
    }
  }
}

/** Every file the console serves, by URL path under {@link CONSOLE_PREFIX}. */
export function consoleAssets(): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  walk(consoleDir(), "", assets);
  const vendor: [string, string, string][] = [
    ["/vendor/chart.umd.min.js", "chart.js", "dist/chart.umd.min.js"],
    ["/vendor/ethers.umd.min.js", "ethers", "dist/ethers.umd.min.js"],
  ];
  for (const [url, name, file] of vendor) {
    assets.set(url, { type: TYPES[".js"]!, body: fs.readFileSync(path.join(packageRoot(name), file)) });
  }
  return assets;
}

let loaded: Map<string, Asset> | null = null;

/** `/` → `/console/`, and the console's files (read on the first call, then kept). */
export function consoleRouter(assets: Map<string, Asset> = (loaded ??= consoleAssets())): Router {
  const router = express.Router();
  router.get("/", (_req, res) => res.redirect(302, `${CONSOLE_PREFIX}/`));
  router.get(`${CONSOLE_PREFIX}{/*rest}`, (req, res, next) => {
    const rest = req.path.slice(CONSOLE_PREFIX.length);
    const asset = assets.get(rest === "" || rest === "/" ? "/index.html" : rest);
    if (asset === undefined) return next();
    res.set({
      "Content-Type": asset.type,
      "Content-Security-Policy": CONSOLE_CSP,
      "Cache-Control": "no-cache",
    });
    res.send(asset.body);
  });
  return router;
}
