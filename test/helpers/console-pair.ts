/**
 * The console's browser suites on a carrier pair: each node's gateway serving the API and console with
 * sign-in resolved from the chain (as `icl run` does), a person signed in through the console's own
 * sign-in page in a fresh browser profile, and the layout check run on every page a suite visits.
 */
import { expect } from "chai";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { chainRoleResolver, type AuthDeps } from "../../gateway/src/auth";
import type { GatewayParts } from "../../gateway/src/gateway";
import { parseConfig } from "../../node/src/config/config";
import { silentLogger } from "../../node/src/logger";
import { createNode, type CarrierNode } from "../../node/src/node";
import { becomesTrue, overflowOf, watchPage } from "./browser";
import type { PairNode } from "./carrier-pair";
import {
  CARRIER_A,
  CARRIER_B,
  hardhatWallet,
  scriptLedger,
  startHardhatNode,
  type HardhatNode,
  type ScriptedLedger,
} from "./hardhat";

/** A carrier's own staff, from its config: `gateway.operators` and `gateway.admins`. */
export interface ConsoleStaff {
  operators?: readonly string[];
  admins?: readonly string[];
}

/** The account the browser suites' regulator signs in with. */
export const REGULATOR_ACCOUNT = 10;

/**
 * The browser suites' chain: a Hardhat node, the scripted ledger with a tolerance of 1 000 micro-units
 * (so a few lost calls make a period Mismatched), and account 10 holding the registry's REGULATOR_ROLE.
 */
export async function startConsoleChain(): Promise<{ hardhat: HardhatNode; fx: ScriptedLedger }> {
  const hardhat = await startHardhatNode();
  const fx = await scriptLedger(hardhat.provider, { toleranceAbs: 1_000n });
  const registry = fx.deployment.registry.connect(await hardhat.provider.getSigner(0));
  const regulator = hardhatWallet(REGULATOR_ACCOUNT).address;
  await (await registry.grantRole(await registry.REGULATOR_ROLE(), regulator)).wait();
  return { hardhat, fx };
}

/** The node façade over a pair node's database, chain and evidence store, with the default config. */
export function pairConsoleNode(node: Omit<PairNode, "gateway">): CarrierNode {
  return createNode({
    config: { dataDir: node.dir, config: parseConfig({}, "config.json"), databaseUrl: undefined },
    db: node.db,
    chain: node.chain,
    evidence: node.evidence,
    logger: silentLogger,
  });
}

/**
 * PairSetup's `gateway` for nodes that serve the API and the console: sign-in resolved from the chain's
 * registry and each side's staff lists. `sides` says which nodes serve it (default: A only).
 */
export function consoleGateway(
  staff: Partial<Record<"A" | "B", ConsoleStaff>> = {},
  sides: readonly ("A" | "B")[] = ["A"],
): (node: Omit<PairNode, "gateway">) => Partial<GatewayParts> {
  return (node) => {
    if (!sides.includes(node.side)) return {};
    const carrierId = node.side === "A" ? CARRIER_A : CARRIER_B;
    return {
      node: pairConsoleNode(node),
      chain: node.chain,
      auth: {
        db: node.db,
        roles: chainRoleResolver({
          registry: node.chain.registry,
          carrierId,
          admins: staff[node.side]?.admins ?? [],
          operators: staff[node.side]?.operators ?? [],
        }),
        logger: silentLogger,
        carrier: `CARRIER-${node.side}`,
        chainId: node.chain.chainId,
        sessionHours: 8,
        cookieSecure: false,
      } satisfies AuthDeps,
    };
  };
}

export interface SignedInPage {
  context: BrowserContext;
  page: Page;
  /** What went wrong in the page so far (watchPage). */
  problems: string[];
}

/**
 * A fresh browser profile signed in with `key` through the console's sign-in page of the gateway at
 * `url` (node of `carrier`), on the dashboard. `expected` adds HTTP answers the test provokes on purpose
 * (the session probe's 401 before sign-in is always expected).
 */
export async function signInConsole(
  browser: Browser,
  url: string,
  key: string,
  options: {
    carrier?: string;
    width?: number;
    expected?: (url: string, status: number) => boolean;
  } = {},
): Promise<SignedInPage> {
  const context = await browser.newContext({ viewport: { width: options.width ?? 1360, height: 900 } });
  const page = await context.newPage();
  const problems = watchPage(
    page,
    (path, status) =>
      (path === "/api/v1/auth/session" && status === 401) || (options.expected?.(path, status) ?? false),
  );
  await page.goto(url);
  await page.waitForURL(/\/console\/#\/sign-in$/);
  await page.fill("#private-key", key);
  await page.click("#use-key");
  const message = await page.textContent("#challenge-message");
  expect(message).to.contain(`Sign in to the Interconnect Ledger node of ${options.carrier ?? "CARRIER-A"}`);
  await page.click("#sign-challenge");
  await page.waitForSelector("h1:text('Dashboard')");
  return { context, page, problems };
}

/** The widths every page must fit: a phone and a laptop. */
export const LAYOUT_WIDTHS = [390, 1280] as const;

/**
 * Resizes the page to each of `widths` in turn and records, in `failures`, every width at which the
 * document is wider than the window (with the elements that stick out); restores the page's width.
 * The page lays itself out again on resize (CSS; the charts within a second).
 */
export async function checkFits(
  page: Page,
  name: string,
  failures: string[],
  widths: readonly number[] = LAYOUT_WIDTHS,
): Promise<void> {
  const before = page.viewportSize() ?? { width: 1360, height: 900 };
  for (const width of widths) {
    await page.setViewportSize({ width, height: before.height });
    // Charts follow their box a frame or two after a resize (Chart.js watches it): give the page a moment.
    await becomesTrue(page, "document.documentElement.scrollWidth <= window.innerWidth", 1_000);
    const fit = await overflowOf(page);
    if (fit.scrollWidth > fit.viewport)
      failures.push(`${name} at ${width} px: ${fit.scrollWidth} px wide; ${fit.culprits.join(", ")}`);
  }
  await page.setViewportSize(before);
}
