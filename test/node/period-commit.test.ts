import { expect } from "chai";
import { encryptKeystoreJson, hexlify } from "ethers";
import fs from "node:fs";
import path from "node:path";
import {
  PERIOD,
  freePort,
  hardhatWallet,
  scriptLedger,
  openCommitWindow,
  startHardhatNode,
  type HardhatNode,
  type ScriptedLedger,
} from "../helpers/hardhat";
import { computeCommitment, stateIndex } from "../../node/src/protocol";
import { commitmentSalt } from "../../node/src/summaries/encoding";
import { REPO_ROOT, icl, iclProcess, acceptFutureCdrs } from "../helpers/cli";
import { primaryTarget } from "../helpers/databases";

const DECK = path.join(REPO_ROOT, "node", "samples", "tariff-globex.csv");
const PASSWORD = "correct horse battery staple";
const SECRET_HEX = "5e".repeat(32);

/** Calls to GLOBEX in the scripted ledger's period (January 2030), priced by the sample deck. */
const CDRS = [
  "cdr_id,partner,direction,service,start_time,duration,volume,a_number,b_number,disposition",
  "J1,GLOBEX,out,voice,2030-01-03T10:00:00Z,125,,+12125550100,+442079460000,ANSWERED", // London 180 s: 0.022500
  "J2,GLOBEX,out,voice,2030-01-04T10:00:00Z,31,,+12125550101,+447700900123,ANSWERED", // UK mobile 36 s at 0.029: 0.017400
  "J3,GLOBEX,in,voice,2030-01-05T10:00:00Z,60,,+442079460001,+12125550102,ANSWERED", // in: no deck for in → NO_RATE
  "J4,GLOBEX,out,voice,2029-12-31T23:59:59Z,60,,+12125550103,+442079460002,ANSWERED", // December: not in the period
].join("\n");

// One database kind per run, as the officers' suite: PostgreSQL in CI (DATABASE_URL), PGlite in a plain
// `npm test`. Its SQL is the storage layer's, which the storage, ingest, CLI and crash suites prove on both.
for (const target of [primaryTarget()]) {
  describe(`reconciliation: icl period close commits to the ledger on ${target.name}`, function () {
    this.timeout(180_000);
    let chain: HardhatNode;
    let fx: ScriptedLedger;
    let env: Record<string, string>;
    let dir: string;
    let envB: Record<string, string>;
    let dirB: string;

    before(async () => {
      chain = await startHardhatNode();
      fx = await scriptLedger(chain.provider);
      const cli = target.cliEnv();
      env = { ...cli.env, ICL_KEY_PASSWORD: PASSWORD };
      dir = cli.dataDir;
      fs.writeFileSync(
        path.join(dir, "deployment.json"),
        JSON.stringify({
          network: "hardhat",
          chainId: 31337,
          deployBlock: fx.addresses.deployBlock,
          deployer: fx.admin.address,
          contracts: {
            CarrierRegistry: fx.addresses.registry,
            AgreementBook: fx.addresses.book,
            SettlementLedger: fx.addresses.ledger,
          },
          token: { address: fx.deployment.tokenAddress, symbol: "ICUSD", decimals: 6, demo: true },
        }),
      );
      fs.writeFileSync(
        path.join(dir, "node-key.json"),
        await encryptKeystoreJson({ address: fx.nodeA.address, privateKey: fx.nodeA.privateKey }, PASSWORD, {
          scrypt: { N: 1 << 10 },
        }),
      );
      expect(icl(["init"], env).code).to.equal(0);
      acceptFutureCdrs(dir);
      const configFile = path.join(dir, "config.json");
      const config = JSON.parse(fs.readFileSync(configFile, "utf8"));
      config.chain = { rpcUrl: chain.url, deployment: "deployment.json", keystore: "node-key.json" };
      fs.writeFileSync(configFile, JSON.stringify(config));
      expect(icl(["partners", "add", "GLOBEX"], env).code).to.equal(0);
      expect(
        icl(["tariffs", "import", DECK, "--partner", "GLOBEX", "--direction", "out"], env).code,
      ).to.equal(0);
      fs.writeFileSync(path.join(dir, "jan.csv"), CDRS);
      expect(icl(["ingest", "--format", "icl-csv", path.join(dir, "jan.csv")], env).code).to.equal(0);
      fs.writeFileSync(path.join(dir, "secret.hex"), SECRET_HEX);
      const add = icl(
        [
          "agreements",
          "add",
          "A-B",
          "--id",
          fx.agreementId,
          "--partner",
          "GLOBEX",
          "--side",
          "A",
          "--secret-file",
          path.join(dir, "secret.hex"),
        ],
        env,
      );
      expect(add.code, add.stderr).to.equal(0);
    });
    after(async () => {
      await chain?.stop();
      await target.cleanup();
    });

    it("builds the summary and commits exactly the commitment the ledger will check at reveal", async () => {
      const result = icl(["period", "close", "--agreement", "A-B", "--period", "2030-01", "--json"], env);
      expect(result.code, result.stderr).to.equal(0);
      expect(result.stderr).to.not.contain(PASSWORD);
      const out = JSON.parse(result.stdout);
      expect(out).to.deep.include({
        period: PERIOD,
        records: "2",
        amountAB: "0.039900",
        amountBA: "0.000000",
      });
      expect(out.committed).to.deep.include({ round: 0 });

      const salt = hexlify(commitmentSalt(Buffer.from(SECRET_HEX, "hex"), fx.agreementId, PERIOD, 0));
      const expected = computeCommitment({
        chainId: fx.addresses.chainId,
        ledger: fx.addresses.ledger,
        agreementId: fx.agreementId,
        period: PERIOD,
        round: 0,
        party: out.committed.carrier,
        root: out.root,
        amountAB: 39_900n,
        amountBA: 0n,
        salt,
      });
      const record = await fx.deployment.ledger.connect(chain.provider).periodRecord(fx.agreementId, PERIOD);
      expect(record.hashA).to.equal(expected);
      expect(out.committed.commitment).to.equal(expected);
    });

    it("sends nothing twice when run again, and keeps the committed summary final", async () => {
      const nonce = await chain.provider.getTransactionCount(fx.nodeA.address);
      // A late CDR after the commit must not change what was committed.
      const late = path.join(dir, "late.csv");
      fs.writeFileSync(
        late,
        CDRS.split("\n")[0] +
          "\nJ9,GLOBEX,out,voice,2030-01-20T10:00:00Z,60,,+12125550109,+442079460009,ANSWERED\n",
      );
      expect(icl(["ingest", "--format", "icl-csv", late], env).code).to.equal(0);
      const again = icl(["period", "close", "--agreement", "A-B", "--period", "2030-01", "--json"], env);
      expect(again.code, again.stderr).to.equal(0);
      const out = JSON.parse(again.stdout);
      expect(out).to.deep.include({ records: "2", amountAB: "0.039900" });
      expect(await chain.provider.getTransactionCount(fx.nodeA.address)).to.equal(nonce);
    });

    it("refuses to reveal before the other side has committed, naming the state", () => {
      const early = icl(["period", "reveal", "--agreement", "A-B", "--period", "2030-01"], env);
      expect(early.code).to.equal(1);
      expect(early.stderr).to.contain("period A-B 2030-01 is Committing; reveal needs Revealing");
    });

    it("two nodes on separate databases commit and reveal the same traffic, and the ledger finds them Matched", async () => {
      // Carrier B's node: its own data dir and database, key and CDRs; the calls A handed over are its `in` traffic.
      const b = target.cliEnv();
      envB = { ...b.env, ICL_KEY_PASSWORD: PASSWORD };
      dirB = b.dataDir;
      fs.copyFileSync(path.join(dir, "deployment.json"), path.join(b.dataDir, "deployment.json"));
      fs.writeFileSync(
        path.join(b.dataDir, "node-key.json"),
        await encryptKeystoreJson({ address: fx.nodeB.address, privateKey: fx.nodeB.privateKey }, PASSWORD, {
          scrypt: { N: 1 << 10 },
        }),
      );
      expect(icl(["init"], envB).code).to.equal(0);
      acceptFutureCdrs(b.dataDir);
      const configFile = path.join(b.dataDir, "config.json");
      const config = JSON.parse(fs.readFileSync(configFile, "utf8"));
      config.chain = { rpcUrl: chain.url, deployment: "deployment.json", keystore: "node-key.json" };
      fs.writeFileSync(configFile, JSON.stringify(config));
      expect(icl(["partners", "add", "ACME"], envB).code).to.equal(0);
      expect(icl(["tariffs", "import", DECK, "--partner", "ACME", "--direction", "in"], envB).code).to.equal(
        0,
      );
      const mirrored = CDRS.replaceAll("GLOBEX,out", "ACME,in")
        .replace(/^J3.*$/m, "")
        .replaceAll(/^J/gm, "B-J");
      fs.writeFileSync(path.join(b.dataDir, "jan.csv"), mirrored);
      expect(icl(["ingest", "--format", "icl-csv", path.join(b.dataDir, "jan.csv")], envB).code).to.equal(0);
      fs.writeFileSync(path.join(b.dataDir, "secret.hex"), SECRET_HEX);
      const args = [
        "--id",
        fx.agreementId,
        "--partner",
        "ACME",
        "--side",
        "B",
        "--secret-file",
        path.join(b.dataDir, "secret.hex"),
      ];
      expect(icl(["agreements", "add", "A-B", ...args], envB).code).to.equal(0);

      const closeB = icl(["period", "close", "--agreement", "A-B", "--period", "2030-01", "--json"], envB);
      expect(closeB.code, closeB.stderr).to.equal(0);
      const summaryA = JSON.parse(
        icl(["period", "close", "--agreement", "A-B", "--period", "2030-01", "--json"], env).stdout,
      );
      const summaryB = JSON.parse(closeB.stdout);
      expect(summaryB.root, "both sides build the same root from the same calls").to.equal(summaryA.root);
      expect(summaryB).to.deep.include({ side: "B", amountAB: "0.039900", amountBA: "0.000000" });

      const revealA = icl(["period", "reveal", "--agreement", "A-B", "--period", "2030-01", "--json"], env);
      expect(revealA.code, revealA.stderr).to.equal(0);
      expect(JSON.parse(revealA.stdout)).to.deep.include({ round: 0, state: "Revealing" });
      const revealB = icl(["period", "reveal", "--agreement", "A-B", "--period", "2030-01", "--json"], envB);
      expect(revealB.code, revealB.stderr).to.equal(0);
      expect(JSON.parse(revealB.stdout)).to.deep.include({ state: "Matched" });
      expect(await fx.deployment.ledger.connect(chain.provider).state(fx.agreementId, PERIOD)).to.equal(
        stateIndex("Matched"),
      );
    });

    it("icl run reveals on its own and, when a CDR is missing on one side, both nodes find it over HTTP", async () => {
      const period = "2030-02";
      await openCommitWindow(chain.provider, PERIOD + 1);
      const header = CDRS.split("\n")[0];
      fs.writeFileSync(
        path.join(dir, "feb.csv"),
        `${header}\nF1,GLOBEX,out,voice,2030-02-03T10:00:00Z,125,,+12125550100,+442079460000,ANSWERED\n` +
          "F2,GLOBEX,out,voice,2030-02-04T10:00:00Z,31,,+12125550101,+447700900123,ANSWERED\n",
      );
      // B's switch lost F1.
      fs.writeFileSync(
        path.join(dirB, "feb.csv"),
        `${header}\nB-F2,ACME,in,voice,2030-02-04T10:00:00Z,31,,+12125550101,+447700900123,ANSWERED\n`,
      );
      expect(icl(["ingest", "--format", "icl-csv", path.join(dir, "feb.csv")], env).code).to.equal(0);
      expect(icl(["ingest", "--format", "icl-csv", path.join(dirB, "feb.csv")], envB).code).to.equal(0);
      for (const e of [env, envB]) {
        const close = icl(["period", "close", "--agreement", "A-B", "--period", period], e);
        expect(close.code, close.stderr).to.equal(0);
      }
      const [portA, portB] = [await freePort(), await freePort()];
      expect(icl(["agreements", "set-peer", "A-B", "--url", `http://127.0.0.1:${portB}`], env).code).to.equal(
        0,
      );
      expect(
        icl(["agreements", "set-peer", "A-B", "--url", `http://127.0.0.1:${portA}`], envB).code,
      ).to.equal(0);
      const list = icl(["agreements", "list"], env);
      expect(list.stdout).to.contain(`http://127.0.0.1:${portB}`);

      // B runs as a service; A passes by hand.
      const configB = path.join(dirB, "config.json");
      fs.writeFileSync(
        configB,
        JSON.stringify({ ...JSON.parse(fs.readFileSync(configB, "utf8")), peer: { pollMs: 200 } }),
      );
      const nodeB = iclProcess(["run", "--listen", `127.0.0.1:${portB}`], envB);
      let logB = "";
      nodeB.stderr.on("data", (chunk: Buffer) => (logB += chunk.toString()));
      try {
        await waitFor(
          () => logB.includes("icl node running"),
          30_000,
          () => logB,
        );
        let out = "";
        for (let i = 0; i < 20 && !out.includes("compared"); i++) {
          const pass = icl(["run", "--once", "--listen", `127.0.0.1:${portA}`], env);
          expect([0, 69], pass.stderr).to.include(pass.code);
          out += pass.stdout;
          if (!pass.stdout.includes("compared")) await new Promise((r) => setTimeout(r, 300));
        }
        expect(out).to.contain(`revealed A-B ${period}`);
        // 0.03 apart is within this agreement's absolute tolerance (5.00): Reconciled, and still explained.
        // Two leaves differ: F1, which B's switch lost, and J9, January's late CDR, which the late policy
        // counts in the next period not yet committed (February), on the day the call started.
        expect(out).to.contain("A-B 2030-02: Reconciled");
        expect(out).to.match(/compared 2030-02 with the partner: 2 differing leaves \(missing_cdrs 2\)/);

        const report = icl(["period", "report", "--agreement", "A-B", "--period", period], env);
        expect(report.code, report.stderr).to.equal(0);
        expect(report.stdout).to.contain("2 differing leaves: missing_cdrs 2");
        expect(report.stdout).to.match(
          /AB +voice +United Kingdom - London +2030-02-03 +\+1 +\+180 +\+0\.022500 +missing_cdrs +icl:F1/,
        );
        expect(report.stdout).to.match(
          /AB +voice +United Kingdom - London +2030-01-20 +\+1 +\+60 +\+0\.007500 +missing_cdrs +icl:J9/,
        );
        const json = JSON.parse(
          icl(["period", "report", "--agreement", "A-B", "--period", period, "--json"], env).stdout,
        );
        expect(Object.values(json.report.ourCdrs).sort()).to.deep.equal(["icl:F1", "icl:J9"]);
        expect(json.evidenceCid).to.match(/^bafkrei/);

        // B's running node serves the API too: anonymous callers are refused; an officer of B signs in
        // with their own key (EIP-4361 challenge) and reads the period.
        const api = `http://127.0.0.1:${portB}/api/v1`;
        expect((await fetch(`${api}/periods`)).status).to.equal(401);
        const officer = hardhatWallet(5, chain.provider);
        const post = (url: string, body: unknown) =>
          fetch(url, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify(body),
          });
        const challenge = (await (
          await post(`${api}/auth/challenge`, { address: officer.address })
        ).json()) as {
          message: string;
        };
        expect(challenge.message).to.contain("Sign in to the Interconnect Ledger node of CARRIER-B");
        const signIn = await post(`${api}/auth/sign-in`, {
          message: challenge.message,
          signature: await officer.signMessage(challenge.message),
        });
        expect(signIn.status, await signIn.clone().text()).to.equal(200);
        expect(((await signIn.json()) as { roles: string[] }).roles).to.deep.equal(["officer"]);
        const cookie = signIn.headers.get("set-cookie")!.split(";")[0]!;
        const listed = (await (await fetch(`${api}/periods`, { headers: { cookie } })).json()) as {
          periods: { period: number; state: string }[];
        };
        expect(listed.periods.find((p) => p.period === PERIOD + 1)?.state).to.equal("Reconciled");
      } finally {
        nodeB.kill("SIGTERM");
        const code = await new Promise<number | null>((resolve) => nodeB.once("exit", resolve));
        expect(code, logB).to.equal(0);
      }
      expect(logB).to.contain("stopping");
    });
  });
}

async function waitFor(check: () => boolean, timeoutMs: number, describe: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out; so far:\n${describe()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
