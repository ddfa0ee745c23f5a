/**
 * Headless Chromium for the console's browser tests: Debian's `chromium` (or ICL_CHROMIUM) driven by
 * playwright-core, which never downloads a browser. Where none is installed the suites skip, loudly.
 */
import fs from "node:fs";
import path from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { REPO_ROOT } from "./cli";

export const CHROMIUM = process.env.ICL_CHROMIUM ?? "/usr/bin/chromium";

/** Where screenshots go: test-artifacts/console/ (kept by CI as artifacts, ignored by git). */
export const SCREENSHOTS = path.join(REPO_ROOT, "test-artifacts", "console");

/** Chromium, or null after a loud notice when there is none (an error with ICL_REQUIRE_CHROMIUM=1). */
export async function launchChromium(): Promise<Browser | null> {
  if (!fs.existsSync(CHROMIUM)) {
    // CI installs Chromium and then requires it: a browser suite that skips there would prove nothing.
    if (process.env.ICL_REQUIRE_CHROMIUM === "1") {
      throw new Error(`no Chromium at ${CHROMIUM}, and ICL_REQUIRE_CHROMIUM=1 requires the browser suites`);
    }
    const line = "!".repeat(100);
    process.stderr.write(
      `\n${line}\n!!! BROWSER TESTS SKIPPED: no Chromium at ${CHROMIUM}. Install Debian's chromium ` +
        `(apt-get install chromium) or set ICL_CHROMIUM.\n${line}\n`,
    );
    return null;
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Flags for a closed network: without the background-networking ones Chromium keeps dialling Google.
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-dev-shm-usage",
    ],
  });
}

/** Saves a full-page screenshot as test-artifacts/console/<name>.png; returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/**
 * Collects what went wrong in the page: uncaught exceptions, console errors (CSP violations included)
 * and HTTP answers of 400 and above, except those `expected` matches (e.g. the session probe's 401
 * before sign-in). Failed loads are reported once, by URL, not again as console errors.
 */
export function watchPage(
  page: Page,
  expected: (url: string, status: number) => boolean = () => false,
): string[] {
  const problems: string[] = [];
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) {
      problems.push(`console error: ${message.text()}`);
    }
  });
  page.on("response", (response) => {
    const url = new URL(response.url());
    if (response.status() >= 400 && !expected(url.pathname, response.status())) {
      problems.push(`HTTP ${response.status()} ${response.request().method()} ${url.pathname}${url.search}`);
    }
  });
  return problems;
}

// The two checks below run in the page. They are page scripts in strings: this program is typed without
// the DOM library, and the test transpiler's helpers (for `?.`, `??`) would not exist in the page.

/** The document's width, the window's, and the outermost elements whose right edge lies beyond it. */
const OVERFLOW_SCRIPT = `(() => {
  const viewport = window.innerWidth;
  const culprits = [];
  const outermost = [];
  for (const element of document.querySelectorAll("body *")) {
    const box = element.getBoundingClientRect();
    if (box.width === 0 || box.right <= viewport + 1 || culprits.length >= 8) continue;
    if (outermost.some((c) => c.contains(element))) continue;
    outermost.push(element);
    const id = element.id ? "#" + element.id : "";
    const cls = element.classList.length > 0 ? "." + [...element.classList].join(".") : "";
    culprits.push(element.tagName.toLowerCase() + id + cls + " (right edge " + Math.round(box.right) + ")");
  }
  return { scrollWidth: document.documentElement.scrollWidth, viewport, culprits };
})()`;

/**
 * What sticks out of the viewport sideways: the document's width beside the window's, and the elements
 * whose right edge lies beyond it (the first few, by tag, id and class), for the failure message.
 */
export async function overflowOf(
  page: Page,
): Promise<{ scrollWidth: number; viewport: number; culprits: string[] }> {
  return page.evaluate(OVERFLOW_SCRIPT);
}

/** WCAG 2 contrast of each element's text with the first opaque background up the tree (translucent blended). */
const CONTRAST_SCRIPT = (selector: string) => `(() => {
  const parse = (text) => {
    const m = /rgba?\\(([^)]+)\\)/.exec(text);
    if (!m) return [0, 0, 0, 0];
    const [r, g, b, a] = m[1].split(",").map((x) => Number(x.trim()));
    return [r, g, b, a === undefined ? 1 : a];
  };
  const over = (top, bottom) => {
    const a = top[3] + bottom[3] * (1 - top[3]);
    if (a === 0) return [0, 0, 0, 0];
    const mix = (i) => (top[i] * top[3] + bottom[i] * bottom[3] * (1 - top[3])) / a;
    return [mix(0), mix(1), mix(2), a];
  };
  const background = (element) => {
    const layers = [];
    for (let e = element; e !== null; e = e.parentElement) {
      const colour = parse(getComputedStyle(e).backgroundColor);
      if (colour[3] > 0) layers.push(colour);
      if (colour[3] >= 1) break;
    }
    return layers.reduceRight((below, layer) => over(layer, below), [255, 255, 255, 1]);
  };
  const channel = (v) => {
    const s = v / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  const luminance = ([r, g, b]) => 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  const problems = [];
  for (const element of document.querySelectorAll(${JSON.stringify(selector)})) {
    const text = element.innerText;
    if (!text || !text.trim()) continue;
    const back = background(element);
    const fore = over(parse(getComputedStyle(element).color), back);
    const [l1, l2] = [luminance(fore), luminance(back)].sort((x, y) => y - x);
    const ratio = (l1 + 0.05) / (l2 + 0.05);
    if (ratio < 4.5) problems.push('"' + text.trim().slice(0, 30) + '" (' + element.className + "): " + ratio.toFixed(2) + ":1");
  }
  return problems;
})()`;

/**
 * Text whose contrast with what is behind it falls below WCAG AA (4.5:1) among `selector`'s elements:
 * the text colour against the first opaque background up the tree (translucent ones blended in).
 */
export async function lowContrast(page: Page, selector: string): Promise<string[]> {
  return page.evaluate(CONTRAST_SCRIPT(selector));
}

/** "TAG id" of the element that has the focus in the page ("" for none). */
export async function focusedElement(page: Page): Promise<string> {
  return page.evaluate(
    `document.activeElement ? document.activeElement.tagName + " " + document.activeElement.id : ""`,
  );
}

/**
 * Whether the page script `expression` turns true within `timeoutMs`, asked every 100 ms. Not
 * `page.waitForFunction`: with a string it compiles the script inside the page, which the console's CSP
 * (no 'unsafe-eval') refuses.
 */
export async function becomesTrue(page: Page, expression: string, timeoutMs = 3_000): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await page.evaluate(`Boolean(${expression})`)) return true;
    if (Date.now() > until) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
