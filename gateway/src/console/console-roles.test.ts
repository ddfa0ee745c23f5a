/**
 * The console's pages for each role in headless Chromium, with real sign-in against carrier A's node
 * (and a third carrier's node, party to nothing) on a Hardhat JSON-RPC chain, A and B having closed,
 * committed and revealed 2030-01:
 *
 * - an officer reads the dashboard's last closed month: A's committed figures per direction, with
 *   calls, minutes and currency;
 * - an officer uploads a CDR file on the Ingest page and sees the job finish with its counts;
 * - a regulator signed in to the third carrier's node opens A-B from the audit timeline: the ledger's
 *   figures and events, nothing of a node's own;
 * - a month A-B has no period for is refused in words;
 * - an officer reads the deadline watch's alerts and filters them by level;
 * - an admin issues an API token, sees its secret once, uses it, and revokes it.
 *
 * Screenshots go to test-artifacts/console/roles-*.png. Without Chromium the suite skips with a notice.
 */
import fs from "node:fs";
import path from "node:path";
import { expect } from "chai";
import { encodeBytes32String } from "ethers";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { parseConfig } from "../../../node/src/config/config";
import { createChainClient, type ChainClient } from "../../../node/src/chain/client";
import { requireAgreement } from "../../../node/src/db/agreements";
import { listAlerts, recordAlert } from "../../../node/src/db/alerts";
import type { Database } from "../../../node/src/db/database";
import { addPartner } from "../../../node/src/db/partners";
import { loadSummary } from "../../../node/src/db/summaries";
import { importDeck } from "../../../node/src/db/tariffs";
import { createLocalEvidenceStore } from "../../../node/src/evidence/local-store";
import { silentLogger } from "../../../node/src/logger";
import { createNode } from "../../../node/src/node";
import { stateIndex } from "../../../node/src/protocol";
import { loadTariffDeck } from "../../../node/src/rating/tariff-deck";
import {
  PERIOD,
  hardhatWallet,
  openCommitWindow,
  type HardhatNode,
  type ScriptedLedger,
} from "../../../test/helpers/hardhat";
import {
  becomesTrue,
  focusedElement,
  launchChromium,
  lowContrast,
  overflowOf,
  screenshot,
  watchPage,
} from "../../../test/helpers/browser";
import {
  closePairPeriod,
  settlePair,
  startPair,
  stopPair,
  type PairNode,
  type PairSetup,
} from "../../../test/helpers/carrier-pair";
import { consoleGateway, startConsoleChain } from "../../../test/helpers/console-pair";
import { primaryTarget, tempDir } from "../../../test/helpers/databases";
import { generateCalls } from "../../../scripts/lib/traffic";
import { chainRoleResolver, type AuthDeps } from "../auth";
import { createGateway, listen, type RunningGateway } from "../gateway";

const target = primaryTarget();
const SECRET = Buffer.from("c4".repeat(32), "hex");
const MONTH = `${String(PERIOD).slice(0, 4)}-${String(PERIOD).slice(4)}`;
const SAMPLES = path.join(__dirname, "../../../node/samples");
const CARRIER_C = encodeBytes32String("CARRIER-C");

/** Micro-units as the console writes money: "1,234.567800". */
const grouped = (units: bigint) =>
  `${(units / 1_000_000n).toLocaleString("en-US")}.${(units % 1_000_000n).toString().padStart(6, "0")}`;

describe(`web console: pages for every role, in headless Chromium (${target.name})`, function () {
  this.timeout(300_000);
  let browser: Browser | null = null;
  let hardhat: HardhatNode;
  let fx: ScriptedLedger;
  let a: PairNode;
  let b: PairNode;
  let outsider: { db: Database; chain: ChainClient; gateway: RunningGateway; dir: string } | null = null;
  const contexts: BrowserContext[] = [];
  const w = (i: number) => hardhatWallet(i, hardhat.provider);

  const authFor = (db: Database, chain: ChainClient, carrierId: string, carrier: string): AuthDeps => ({
    db,
    roles: chainRoleResolver({
      registry: chain.registry,
      carrierId,
      admins: [w(11).address],
      operators: [],
    }),
    logger: silentLogger,
    carrier,
    chainId: chain.chainId,
    sessionHours: 8,
    cookieSecure: false,
  });

  before(async function () {
    browser = await launchChromium();
    if (browser === null) return this.skip();
    // The regulator is account 10 (REGULATOR_ACCOUNT).
    ({ hardhat, fx } = await startConsoleChain());
    const setup: PairSetup = {
      target,
      hardhat,
      fx,
      secret: SECRET,
      gateway: consoleGateway({ A: { admins: [w(11).address] } }),
    };
    ({ a, b } = await startPair(setup));
    await openCommitWindow(hardhat.provider, PERIOD);
    // Both switches saw the same calls: both commit, reveal, and the figures match.
    await closePairPeriod(setup, [a, b], PERIOD, generateCalls(PERIOD, 400, 21));
    await settlePair(a, b);
    expect(await fx.deployment.ledger.connect(hardhat.provider).state(fx.agreementId, PERIOD)).to.equal(
      stateIndex("Matched"),
    );

    // A third carrier's node: its own database, no agreement on this ledger, read-only chain client.
    const db = await target.open();
    const dir = tempDir("icl-outsider-");
    const chain = await createChainClient({
      rpcUrl: hardhat.url,
      deployment: fx.addresses,
      db,
      logger: silentLogger,
    });
    const node = createNode({
      config: { dataDir: dir, config: parseConfig({}, "config.json"), databaseUrl: undefined },
      db,
      chain,
      evidence: createLocalEvidenceStore(dir, silentLogger),
      logger: silentLogger,
    });
    const app = createGateway({
      logger: silentLogger,
      node,
      chain,
      auth: authFor(db, chain, CARRIER_C, "CARRIER-C"),
    });
    outsider = { db, chain, dir, gateway: await listen(app, "127.0.0.1", 0) };
  });
  after(async () => {
    for (const context of contexts) await context.close();
    await browser?.close();
    if (outsider) {
      await outsider.gateway.close();
      outsider.chain.close();
      await outsider.db.close();
      fs.rmSync(outsider.dir, { recursive: true, force: true });
    }
    await stopPair(a, b);
    await hardhat?.stop();
    await target.cleanup();
  });

  /**
   * A fresh browser profile signed in with `key` to the console at `url`; `expected` are the HTTP
   * errors the test provokes on purpose.
   */
  async function signIn(
    key: string,
    options: {
      url?: string;
      carrier?: string;
      width?: number;
      expected?: (url: string, status: number) => boolean;
    } = {},
  ): Promise<{ page: Page; problems: string[] }> {
    const context = await browser!.newContext({ viewport: { width: options.width ?? 1360, height: 900 } });
    contexts.push(context);
    const page = await context.newPage();
    const problems = watchPage(
      page,
      (url, status) =>
        (url === "/api/v1/auth/session" && status === 401) || (options.expected?.(url, status) ?? false),
    );
    await page.goto(options.url ?? a.gateway.url);
    await page.waitForURL(/\/console\/#\/sign-in$/);
    await page.fill("#private-key", key);
    await page.click("#use-key");
    expect(await page.textContent("#challenge-message")).to.contain(
      `Sign in to the Interconnect Ledger node of ${options.carrier ?? "CARRIER-A"}`,
    );
    await page.click("#sign-challenge");
    await page.waitForSelector("h1:text('Dashboard')");
    return { page, problems };
  }

  it("shows an officer the last closed month's totals per partner and direction, as A committed them", async () => {
    const { page, problems } = await signIn(w(1).privateKey);
    await page.waitForSelector("#closed-month-table tbody tr");
    expect(await page.textContent(".panel:has(#closed-month-table) h2")).to.equal(
      `Last closed month: ${MONTH}`,
    );
    const agreement = await requireAgreement(a.db, "A-B");
    const summary = (await loadSummary(a.db, agreement.agreementId, PERIOD))!;
    // A page script in a string: the test transpiler's helpers would not exist in the page.
    const rows = (await page.evaluate(
      `[...document.querySelectorAll("#closed-month-table tbody tr")].map((tr) =>
         [...tr.querySelectorAll("td")].map((td) => td.textContent.trim()))`,
    )) as string[][];
    const expected = (["AB", "BA"] as const).map((direction) => {
      const leaves = summary.leaves.filter((leaf) => leaf.direction === direction);
      const sum = (pick: (leaf: (typeof leaves)[number]) => bigint) =>
        leaves.reduce((s, l) => s + pick(l), 0n);
      const seconds = sum((l) => l.billed);
      return [
        "CARRIER-B",
        "A-B",
        // A is party A: A→B traffic is what it hands to B.
        direction === "AB" ? "to the partner (we pay)" : "from the partner (we bill)",
        sum((l) => l.records).toLocaleString("en-US"),
        // Minutes in words (format.js), then the exact seconds.
        `(${seconds.toLocaleString("en-US")} s)`,
        `${grouped(direction === "AB" ? summary.amountAB : summary.amountBA)} ICUSD`,
      ];
    });
    expect(
      rows.map((row) => row.map((cell, i) => (i === 4 ? cell.replace(/^.* \(/, "(") : cell))),
    ).to.deep.equal(expected);
    expect(rows[0]![4]).to.match(/min \(/);
    await screenshot(page, "roles-01-dashboard-closed-month");
    expect(problems, problems.join("\n")).to.deep.equal([]);
  });

  it("lets an officer upload a CDR file on the Ingest page and see the job finish with its counts", async () => {
    // A partner with a deck for the sample file, so its calls rate.
    await addPartner(a.db, { id: "GLOBEX", name: "Globex", matchRules: [] });
    const deckText = fs.readFileSync(path.join(SAMPLES, "tariff-globex.csv"), "utf8");
    const rows = loadTariffDeck(deckText, "tariff-globex.csv");
    for (const direction of ["in", "out"] as const) {
      await importDeck(a.db, {
        partner: "GLOBEX",
        direction,
        name: "tariff-globex.csv",
        currency: "USD",
        contentHash: "ab".repeat(32),
        rows,
      });
    }
    const { page, problems } = await signIn(w(2).privateKey);
    await page.click("#nav a:text('Ingest')");
    await page.waitForSelector("h2:text('Upload a CDR file')");
    await page.selectOption("#ingest-format", "icl-csv");
    await page.setInputFiles("#ingest-file", path.join(SAMPLES, "cdrs-globex.csv"));
    await page.click("button:text('Upload and ingest')");
    await page.waitForSelector("#flash :text('cdrs-globex.csv:')");
    const { rows: stored } = await a.db.query<{
      records: bigint;
      rated: bigint;
      unbilled: bigint;
      rejected: bigint;
    }>("SELECT records, rated, unbilled, rejected FROM ingest_files WHERE file_name = 'cdrs-globex.csv'");
    expect(stored.length, "the file was ingested once").to.equal(1);
    const f = stored[0]!;
    expect(Number(f.rated)).to.be.greaterThan(0);
    expect(await page.textContent("#flash")).to.contain(
      `cdrs-globex.csv: ${f.records} read = ${f.rated} rated + ${f.unbilled} unbilled + ${f.rejected} rejected.`,
    );
    await page.waitForSelector("#files-table :text('cdrs-globex.csv')");
    await screenshot(page, "roles-02-officer-upload");
    expect(problems, problems.join("\n")).to.deep.equal([]);
  });

  it("lets a regulator on a node party to nothing open A-B from the audit timeline, read from the ledger", async () => {
    const { page, problems } = await signIn(w(10).privateKey, {
      url: outsider!.gateway.url,
      carrier: "CARRIER-C",
    });
    await page.click("#nav a:text('Audit')");
    await page.click(`#audit-timeline a:has-text('${MONTH}')`);
    await page.waitForSelector("h1 .badge:text('Matched')");
    expect(await page.textContent("h1")).to.contain(`CARRIER-A–CARRIER-B ${MONTH}`);
    expect(page.url()).to.contain(`#/period/${fx.agreementId}/${MONTH}`);
    // The figures are the ledger's revealed ones.
    const record = await fx.deployment.ledger.connect(hardhat.provider).periodRecord(fx.agreementId, PERIOD);
    const figures = (await page.textContent("#figures-table"))!;
    expect(figures).to.contain(grouped(record.amountABofA));
    expect(figures).to.contain(grouped(record.amountBAofB));
    await page.waitForSelector("#timeline-table :text('Revealed its figures')");
    expect(await page.textContent("#app")).to.not.contain("not known to this node");
    // Nothing of a node's own: no discrepancy report, no action, no evidence to open.
    expect(await page.locator("#report").count()).to.equal(0);
    expect(await page.locator("#actions button").count()).to.equal(0);
    await screenshot(page, "roles-03-regulator-outsider-agreement");
    // The periods list holds it as well, linked by the agreement's ledger id.
    await page.click("#nav a:text('Periods')");
    await page.click(`#periods-table a:text('CARRIER-A–CARRIER-B ${MONTH}')`);
    await page.waitForSelector("h1 .badge:text('Matched')");
    expect(page.url()).to.contain(`#/period/${fx.agreementId}/${MONTH}`);
    expect(problems, problems.join("\n")).to.deep.equal([]);
  });

  it("refuses in words a month the agreement has no period for", async () => {
    const { page, problems } = await signIn(w(1).privateKey, {
      expected: (url, status) => url === "/api/v1/periods/A-B/2029-12" && status === 404,
    });
    await page.goto(`${a.gateway.url}/console/#/period/A-B/2029-12`);
    await page.waitForSelector("#page-refused");
    expect(await page.textContent("#page-refused")).to.equal("No such period");
    expect(await page.textContent("#period-refused")).to.equal(
      `There is no period A-B 2029-12: the agreement starts in ${MONTH}.`,
    );
    expect(await page.textContent("#app")).to.not.contain("Something went wrong");
    expect(await focusedElement(page)).to.equal("H1 page-refused");
    await screenshot(page, "roles-04-unknown-period");
    expect(problems, problems.join("\n")).to.deep.equal([]);
  });

  it("shows an officer the deadline watch's alerts and filters them by level, the filter in the address", async () => {
    const agreement = await requireAgreement(a.db, "A-B");
    const alert = (kind: string, level: "warning" | "error", message: string) =>
      recordAlert(a.db, {
        agreementId: agreement.agreementId,
        period: PERIOD,
        round: 0,
        level,
        kind,
        deadline: null,
        message: `period A-B ${MONTH}: ${message}`,
      });
    await alert("approval-window", "warning", "officers should approve within a day");
    await alert("settle-failed", "error", "CARRIER-A's escrow is short by 12.5 ICUSD");
    const { page, problems } = await signIn(w(1).privateKey);
    await page.click("#nav a:text('Alerts')");
    await page.waitForSelector("#alerts-table tbody tr");
    const texts = async () => page.locator("#alerts-table tbody tr td:nth-child(5)").allInnerTexts();
    // Newest first, in words without the period's prefix: the two above, and what A's deadline watch
    // itself recorded while the pair settled.
    const stored = async (level?: "error") =>
      (await listAlerts(a.db, { level }))
        .reverse()
        .map((x) => x.message.replace(/^period \S+ \d{4}-\d{2}: /, ""));
    const all = await stored();
    expect(all.slice(0, 2)).to.deep.equal([
      "CARRIER-A's escrow is short by 12.5 ICUSD",
      "officers should approve within a day",
    ]);
    expect(await texts()).to.deep.equal(all);
    expect(await page.textContent("#alerts-table")).to.contain(`A-B ${MONTH}`);
    await page.selectOption("#alerts-level", "error");
    const errors = await stored("error");
    expect(errors.length).to.be.lessThan(all.length);
    const shown = `document.querySelectorAll("#alerts-table tbody tr").length === ${errors.length}`;
    expect(await becomesTrue(page, shown), "only the errors are shown").to.equal(true);
    expect(await texts()).to.deep.equal(errors);
    expect(await page.evaluate("location.hash")).to.equal("#/alerts?level=error");
    await screenshot(page, "roles-05-alerts");
    expect(problems, problems.join("\n")).to.deep.equal([]);
  });

  it("lets an admin issue an API token, see its secret once, use it, and revoke it", async () => {
    const { page, problems } = await signIn(w(11).privateKey);
    expect(await page.textContent("#who")).to.contain("admin");
    await page.click("#nav a:text('Tokens')");
    await page.waitForSelector("#tokens-table");
    await page.fill("#token-name", "monitoring");
    await page.check("#token-role-operator");
    await page.check("#token-scope-cdrs-read");
    await page.fill("#token-days", "30");
    await page.click("#issue-token");
    await page.waitForSelector("#token-secret");
    const secret = (await page.textContent("#token-secret"))!.trim();
    expect(secret).to.match(/^icl_/);
    expect(await page.textContent("#tokens-table")).to.contain("monitoring");
    await screenshot(page, "roles-06-token-issued");

    const stats = () =>
      fetch(`${a.gateway.url}/api/v1/cdrs/stats`, { headers: { authorization: `Bearer ${secret}` } });
    expect((await stats()).status, "the token opens what its scope allows").to.equal(200);
    const { rows } = await a.db.query<{ secret_sha256: string; scopes: string[]; roles: string[] }>(
      "SELECT secret_sha256, scopes, roles FROM gateway_tokens WHERE name = 'monitoring'",
    );
    expect(rows[0]).to.deep.include({ scopes: ["cdrs:read"], roles: ["operator"] });
    expect(JSON.stringify(rows[0])).to.not.contain(secret);

    // The secret is shown once: after a reload it is gone.
    await page.reload();
    await page.waitForSelector("#tokens-table");
    expect(await page.locator("#token-secret").count()).to.equal(0);

    await page.click("#tokens-table button.revoke-token");
    await page.click("#confirm-revoke");
    await page.waitForSelector("#flash :text('Revoked monitoring')");
    await page.waitForSelector("#tokens-table .badge:text('revoked')");
    expect((await stats()).status, "a revoked token is refused").to.equal(401);
    await screenshot(page, "roles-07-token-revoked");
    expect(problems, problems.join("\n")).to.deep.equal([]);
  });

  it("fits the new pages into 390 and 1280 px, at AA contrast: dashboard, alerts, tokens, a refused period", async () => {
    const CONTRAST = ".badge, button, a, th, td, summary, .muted, p, h1, h2, label, legend";
    const failures: string[] = [];
    for (const width of [390, 1280]) {
      for (const [who, key, pages] of [
        [
          "officer",
          w(1).privateKey,
          [
            ["dashboard", "#/", "#closed-month-table"],
            ["alerts", "#/alerts", "#alerts-table"],
            ["no-period", "#/period/A-B/2029-12", "#period-refused"],
          ],
        ],
        ["admin", w(11).privateKey, [["tokens", "#/tokens", "#tokens-table"]]],
      ] as const) {
        const { page } = await signIn(key, { width });
        for (const [name, hash, ready] of pages) {
          await page.evaluate(`location.hash = ${JSON.stringify(hash)}`);
          await page.waitForSelector(ready);
          const fit = await overflowOf(page);
          if (fit.scrollWidth > fit.viewport) {
            failures.push(
              `${who}-${name} at ${width} px: ${fit.scrollWidth} px wide; ${fit.culprits.join(", ")}`,
            );
          }
          for (const problem of await lowContrast(page, CONTRAST))
            failures.push(`${who}-${name} at ${width} px: ${problem}`);
          const header = (await page.locator("header.top").boundingBox())!;
          if (header.height > (width < 640 ? 150 : 60)) {
            failures.push(
              `${who}-${name} at ${width} px: the header is ${Math.round(header.height)} px tall`,
            );
          }
          await screenshot(page, `roles-layout-${width}-${who}-${name}`);
        }
      }
    }
    expect(failures, failures.join("\n")).to.deep.equal([]);
  });
});
