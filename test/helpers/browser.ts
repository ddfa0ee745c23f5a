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

/** Chromium, or null after a loud notice when there is none. */
export async function launchChromium(): Promise<Browser | null> {
  if (!fs.existsSync(CHROMIUM)) {
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
