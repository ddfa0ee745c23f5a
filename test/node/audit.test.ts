import { expect } from "chai";
import fs from "node:fs";
import path from "node:path";
import { PERIOD, startHardhatNode, type HardhatNode } from "../helpers/hardhat";
import { createLocalEvidenceStore } from "../../node/src/evidence/local-store";
import { silentLogger } from "../../node/src/logger";
import { summaryFileJson, summaryRoot, readSummaryFile } from "../../node/src/audit/summary-file";
import { buildHonestHistory, type HonestHistory } from "../helpers/audit-history";
import { icl, REPO_ROOT, acceptFutureCdrs } from "../helpers/cli";
import { tempDir } from "../helpers/databases";

const DECK = path.join(REPO_ROOT, "node", "samples", "tariff-globex.csv");

describe("icl audit verify / report (against a Hardhat chain)", function () {
  this.timeout(120_000);
  let hardhat: HardhatNode;
  let history: HonestHistory;
  let dir: string;
  let chainArgs: string[];

  before(async () => {
    hardhat = await startHardhatNode();
    history = await buildHonestHistory(hardhat.provider);
    dir = tempDir("icl-audit-");
    chainArgs = ["--rpc", hardhat.url, "--ledger", history.c.addresses.ledger];
    const store = createLocalEvidenceStore(dir, silentLogger);
    for (const bytes of history.evidence.values()) await store.put(bytes);
    const { summary } = history;
    const json = (leaves: HonestHistory["summary"]["leaves"]) =>
      JSON.stringify(
        summaryFileJson({
          agreementId: summary.agreementId,
          period: summary.period,
          side: summary.side,
          carrierId: summary.carrierId,
          round: summary.round,
          treeSalt: Buffer.from(summary.treeSalt.slice(2), "hex"),
          root: summary.root!,
          amountAB: summary.amountAB!,
          amountBA: summary.amountBA!,
          leaves,
        }),
      );
    fs.writeFileSync(path.join(dir, "honest.json"), json(summary.leaves));
    // Forged: the same totals, but one leaf moved to another destination.
    const forged = summary.leaves.map((leaf, i) =>
      i === 0 ? { ...leaf, destination: "Germany - Fixed" } : leaf,
    );
    fs.writeFileSync(path.join(dir, "forged.json"), json(forged));
  });

  after(async () => {
    await hardhat?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("passes on the honest history (exit 0, ok: true), with the summary and the evidence checked", () => {
    const result = icl([
      "audit",
      "verify",
      ...chainArgs,
      "--summary",
      path.join(dir, "honest.json"),
      "--evidence",
      path.join(dir, "evidence"),
      "--json",
    ]);
    expect(result.code, result.stdout + result.stderr).to.equal(0);
    const out = JSON.parse(result.stdout);
    expect(out.ok).to.equal(true);
    expect(out.findings).to.deep.equal([]);
    expect(out.checked).to.deep.include({
      periods: 5,
      reveals: 10,
      revealsVerified: 10,
      summaries: 1,
      evidence: 3,
    });
    expect(out.ledger).to.equal(history.c.addresses.ledger);
    expect(out.registry).to.equal(history.c.addresses.registry);
    expect(out.fromBlock).to.be.at.most(history.c.addresses.deployBlock);

    const human = icl(["audit", "verify", ...chainArgs]);
    expect(human.code).to.equal(0);
    expect(human.stdout).to.match(/OK: every check holds/);
  });

  it("fails on a forged summary, naming the block, transaction and period of the reveal", async () => {
    const ledger = history.c.deployment.ledger;
    const AG = history.c.agreements["ACME-GLOBEX"];
    const [reveal] = await ledger.queryFilter(
      ledger.filters.Revealed(AG.agreementId, PERIOD, history.c.carriers.ACME.id),
    );
    expect(reveal).to.not.equal(undefined);
    const forged = await readSummaryFile(path.join(dir, "forged.json"));
    expect(summaryRoot(forged)).to.not.equal(history.summary.root);

    const result = icl([
      "audit",
      "verify",
      ...chainArgs,
      "--summary",
      path.join(dir, "forged.json"),
      "--json",
    ]);
    expect(result.code, result.stderr).to.equal(1);
    const out = JSON.parse(result.stdout);
    expect(out.ok).to.equal(false);
    expect(out.findings).to.have.length(1);
    expect(out.findings[0]).to.deep.include({
      severity: "error",
      kind: "summary-root-mismatch",
      block: reveal!.blockNumber,
      tx: reveal!.transactionHash,
      agreementId: AG.agreementId.toLowerCase(),
      agreement: "ACME–GLOBEX",
      period: PERIOD,
    });

    const human = icl(["audit", "verify", ...chainArgs, "--summary", path.join(dir, "forged.json")]);
    expect(human.code).to.equal(1);
    expect(human.stdout).to.contain(`block ${reveal!.blockNumber}, tx ${reveal!.transactionHash}`);
    expect(human.stdout).to.contain("period 2030-01");
    expect(human.stdout).to.match(/FAILED: 1 failing finding/);
  });

  it("fails when an evidence block cited on chain is missing from the store", () => {
    const empty = path.join(dir, "empty", "evidence");
    fs.mkdirSync(empty, { recursive: true });
    const result = icl(["audit", "verify", ...chainArgs, "--evidence", empty, "--json"]);
    expect(result.code).to.equal(1);
    const kinds = JSON.parse(result.stdout).findings.map((f: { kind: string; period: number }) => [
      f.kind,
      f.period,
    ]);
    expect(kinds).to.deep.equal([
      ["evidence-missing", PERIOD],
      ["evidence-missing", PERIOD],
      ["evidence-missing", PERIOD],
    ]);
  });

  it("writes the report as JSON, CSV (one row per event) and a standalone HTML document", () => {
    const json = icl(["audit", "report", ...chainArgs, "--format", "json"]);
    expect(json.code, json.stderr).to.equal(0);
    const report = JSON.parse(json.stdout);
    const ai = report.agreements.find((a: { name: string }) => a.name === "ACME–INITECH");
    const jan = ai.periods.find((p: { period: number }) => p.period === PERIOD);
    expect(jan.state).to.equal("Settled");
    // 240 partially, then the 30 left after the ruling (280 − 10 − 240).
    expect(jan.settledNetAB).to.equal("270.000000");
    expect(jan.events.map((e: { event: string }) => e.event)).to.include.members([
      "DisputeOpened",
      "FiguresProposed",
      "DisputeEscalated",
      "DisputeRuled",
      "Settled",
    ]);
    const acme = report.carriers.find((c: { name: string }) => c.name === "ACME");
    expect(acme).to.deep.include({ deposited: "1000.000000", token: acme.token });
    expect(acme.token.symbol).to.equal("ICUSD");

    const csv = icl(["audit", "report", ...chainArgs, "--format", "csv"]);
    expect(csv.code).to.equal(0);
    const lines = csv.stdout.trimEnd().split("\r\n");
    const eventCount = report.agreements.reduce(
      (n: number, a: { periods: { events: unknown[] }[] }) =>
        n + a.periods.reduce((m, p) => m + p.events.length, 0),
      0,
    );
    expect(lines[0]).to.equal(
      "agreement_id,agreement,period,block,time,tx,log_index,event,who,amount_ab,amount_ba,net_ab,token,detail",
    );
    expect(lines).to.have.length(eventCount + 1);

    const out = path.join(dir, "report.html");
    const html = icl(["audit", "report", ...chainArgs, "--format", "html", "--out", out, "--json"]);
    expect(html.code, html.stderr).to.equal(0);
    expect(JSON.parse(html.stdout)).to.deep.include({ format: "html", agreements: 3, periods: 5 });
    const doc = fs.readFileSync(out, "utf8");
    expect(doc).to.match(/^<!DOCTYPE html>/);
    expect(doc).to.contain("<svg");
    expect(doc).to.contain("ACME–INITECH 2030-01");
    expect(doc).to.not.match(/<(script|link)\b|src=/);
  });

  it("exports a stored summary whose leaves rebuild the stored root (icl period export)", () => {
    const data = tempDir("icl-audit-node-");
    const env = { ICL_DATA_DIR: data, DATABASE_URL: "" };
    try {
      expect(icl(["init"], env).code).to.equal(0);
      acceptFutureCdrs(data);
      expect(icl(["partners", "add", "GLOBEX"], env).code).to.equal(0);
      expect(
        icl(["tariffs", "import", DECK, "--partner", "GLOBEX", "--direction", "out"], env).code,
      ).to.equal(0);
      fs.writeFileSync(
        path.join(data, "jan.csv"),
        "cdr_id,partner,direction,service,start_time,duration,volume,a_number,b_number,disposition\n" +
          "J1,GLOBEX,out,voice,2030-01-03T10:00:00Z,125,,+12125550100,+442079460000,ANSWERED\n" +
          "J2,GLOBEX,out,voice,2030-01-04T10:00:00Z,31,,+12125550101,+447700900123,ANSWERED\n",
      );
      expect(icl(["ingest", "--format", "icl-csv", path.join(data, "jan.csv")], env).code).to.equal(0);
      fs.writeFileSync(path.join(data, "secret.hex"), "5e".repeat(32));
      const id = history.c.agreements["ACME-GLOBEX"].agreementId;
      const add = icl(
        [
          "agreements",
          "add",
          "A-G",
          "--id",
          id,
          "--partner",
          "GLOBEX",
          "--side",
          "A",
          "--secret-file",
          path.join(data, "secret.hex"),
        ],
        env,
      );
      expect(add.code, add.stderr).to.equal(0);
      const close = icl(
        ["period", "close", "--agreement", "A-G", "--period", "2030-01", "--no-commit", "--json"],
        env,
      );
      expect(close.code, close.stderr).to.equal(0);
      const closed = JSON.parse(close.stdout);

      const file = path.join(data, "summary.json");
      const exported = icl(
        ["period", "export", "A-G", "2030-01", "--out", file, "--carrier", "ACME", "--json"],
        env,
      );
      expect(exported.code, exported.stderr).to.equal(0);
      expect(JSON.parse(exported.stdout)).to.deep.include({ leaves: 2, root: closed.root, side: "A" });
      const written = JSON.parse(fs.readFileSync(file, "utf8"));
      expect(written).to.deep.include({
        format: "icl-revealed-summary/v1",
        period: PERIOD,
        amountAB: "39900",
      });
      expect(written.carrierId).to.equal(history.c.carriers.ACME.id);
      expect(Object.keys(written.leaves[0]).sort()).to.deep.equal([
        "amount",
        "billed",
        "day",
        "destination",
        "direction",
        "records",
        "service",
      ]);
      expect(JSON.stringify(written)).to.not.contain("+1212555");
      expect(fs.statSync(file).mode & 0o077).to.equal(0);
      return readSummaryFile(file).then((summary) => expect(summaryRoot(summary)).to.equal(closed.root));
    } finally {
      setTimeout(() => fs.rmSync(data, { recursive: true, force: true }), 0);
    }
  });

  it("explains usage mistakes and an unreachable RPC node with the right exit codes", () => {
    expect(icl(["audit", "verify", "--ledger", history.c.addresses.ledger]).code).to.equal(64);
    const bad = icl(["audit", "verify", "--rpc", hardhat.url, "--ledger", "0x1234"]);
    expect(bad.code).to.equal(65);
    expect(bad.stderr).to.contain("is not an address");
    const format = icl(["audit", "report", ...chainArgs, "--format", "pdf"]);
    expect(format.code).to.equal(64);
    expect(format.stderr).to.contain("--format 'pdf' is not json, csv or html");
    const summary = icl(["audit", "verify", ...chainArgs, "--summary", path.join(dir, "missing.json")]);
    expect(summary.code).to.equal(65);
    const nothing = icl([
      "audit",
      "verify",
      "--rpc",
      hardhat.url,
      "--ledger",
      history.c.outsiders[0].address,
    ]);
    expect(nothing.code).to.equal(66);
    expect(nothing.stderr).to.contain("no contract at the ledger address");
    const down = icl([
      "audit",
      "verify",
      "--rpc",
      "http://127.0.0.1:9",
      "--ledger",
      history.c.addresses.ledger,
    ]);
    expect(down.code, down.stderr).to.equal(69);
    expect(down.stderr).to.contain("unreachable");
  });
});
