/**
 * `npm run demo -- --serve` leaves a consortium people can work, checked over HTTP against the gateways it
 * prints, as a person with each printed key would find it:
 * - the demo month settled as without `--serve`;
 * - every printed key signs in (challenge, signature, sign-in) on its printed console with its role, and
 *   every role has a key;
 * - the periods wait where it says: one Mismatched with both discrepancy reports sealed, one Escalated
 *   for the arbiter, one Approved by both carriers and not settled, one on the co-signed fast path that
 *   settles once ACME's second officer co-signs (through the API, and the nodes following the ledger);
 * - each "what to try first" line names a period that is in the state the line gives;
 * - the files to upload exist and each carrier's operator's upload ingests them.
 */
import fs from "node:fs";
import path from "node:path";
import { expect } from "chai";
import { Wallet, type TypedDataField } from "ethers";
import { ROLES } from "../../gateway/src/auth/types";
import { startDemo, type RunningDemo } from "../../scripts/demo";
import type { ServedDemo, ServedKey } from "../../scripts/lib/demo-serve";
import { call, signIn, type SignedIn } from "../helpers/gateway-auth";

describe("the served demo: periods waiting for every role, files to upload, keys that sign in", function () {
  this.timeout(600_000);
  let demo: RunningDemo;
  let served: ServedDemo;
  const lines: string[] = [];
  const sessions = new Map<string, SignedIn>();

  /** The session of the printed key `who` on its printed console (signed in once). */
  const session = async (who: string): Promise<{ key: ServedKey; signedIn: SignedIn }> => {
    const key = served.keys.find((k) => k.who === who);
    if (key === undefined) throw new Error(`no printed key for ${who}`);
    let signedIn = sessions.get(who);
    if (signedIn === undefined) {
      signedIn = await signIn({ url: key.url }, new Wallet(key.privateKey));
      sessions.set(who, signedIn);
    }
    return { key, signedIn };
  };
  const get = async (who: string, route: string) => {
    const { key, signedIn } = await session(who);
    return call({ url: key.url }, "GET", route, { headers: { cookie: signedIn.cookie } });
  };
  const periodPath = (agreement: string, period: string) => `/api/v1/periods/${agreement}/${period}`;

  before(async () => {
    demo = await startDemo({ cdrs: 2000, rpc: null, report: null, serve: true }, (line) => lines.push(line));
    if (demo.served === null) throw new Error("--serve left nothing running");
    served = demo.served;
  });
  after(async () => {
    await demo?.stop();
  });

  it("settles the demo month as without --serve, and prints nothing it could not do", () => {
    expect(demo.result.periods.map((p) => [p.agreement, p.state])).to.deep.equal([
      ["ACME-GLOBEX", "Settled"],
      ["GLOBEX-INITECH", "Settled"],
      ["ACME-INITECH", "Settled"],
    ]);
    expect(demo.result.audit).to.equal("pass");
    expect(lines.join("\n")).not.to.contain("could not");
  });

  it("prints a key for every role, and each signs in with its role on the console printed beside it", async () => {
    expect([...new Set(served.keys.map((k) => k.role))].sort()).to.deep.equal([...ROLES].sort());
    const printed = lines.join("\n");
    for (const k of served.keys) {
      expect(printed, k.who).to.contain(`${k.url}/console/  ${k.address}  ${k.privateKey}`);
      const { signedIn } = await session(k.who);
      expect(signedIn.body.address.toLowerCase(), k.who).to.equal(k.address.toLowerCase());
      expect(signedIn.body.roles, k.who).to.include(k.role);
    }
    // Officers are their own carrier's: ACME's first officer is nobody on GLOBEX's node.
    const acmeOfficer = served.keys.find((k) => k.who === "ACME officer 1")!;
    const challenge = await call({ url: served.gateways.GLOBEX }, "POST", "/api/v1/auth/challenge", {
      body: { address: acmeOfficer.address },
    });
    const { message } = challenge.body as { message: string };
    const refused = await call({ url: served.gateways.GLOBEX }, "POST", "/api/v1/auth/sign-in", {
      body: { message, signature: await new Wallet(acmeOfficer.privateKey).signMessage(message) },
    });
    expect(refused.status).to.equal(403);
  });

  it("leaves one period Mismatched with both carriers' discrepancy reports sealed as evidence", async () => {
    const p = served.periods.find((x) => x.state === "Mismatched")!;
    for (const who of ["GLOBEX officer 1", "INITECH officer 1"]) {
      const view = await get(who, periodPath(p.agreement, p.period));
      expect(view.status, who).to.equal(200);
      expect(view.body, who).to.include({ state: "Mismatched" });
      expect((view.body as { dispute: unknown }).dispute, who).to.equal(null);
      const report = await get(who, `${periodPath(p.agreement, p.period)}/report`);
      expect(report.status, who).to.equal(200);
      const body = report.body as {
        evidenceCid: string | null;
        report: { counts: Record<string, number> };
      };
      expect(body.evidenceCid, who).to.match(/^baf/);
      expect(body.report.counts.missing_cdrs, who).to.be.greaterThan(0);
    }
  });

  it("leaves one period Escalated, which the arbiter signed in on the printed console sees", async () => {
    const p = served.periods.find((x) => x.state === "Escalated")!;
    const view = await get("arbiter", periodPath(p.agreement, p.period));
    expect(view.status).to.equal(200);
    const body = view.body as { state: string; deadlines: Record<string, string | null> };
    expect(body.state).to.equal("Escalated");
    const listed = await get("arbiter", "/api/v1/periods?state=Escalated");
    const periods = (listed.body as { periods: { agreement: string; period: number }[] }).periods;
    expect(periods.map((x) => `${x.agreement} ${x.period}`)).to.include(
      `${p.agreement} ${Number(p.period.replace("-", ""))}`,
    );
  });

  it("leaves one period Approved by both carriers and not settled (the nodes do not settle on their own)", async () => {
    const p = served.periods.find((x) => x.state === "Approved")!;
    // Longer than the nodes' poll: a node that settled on its own would have done so by now.
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    for (const who of ["ACME officer 1", "INITECH officer 1"]) {
      const view = await get(who, periodPath(p.agreement, p.period));
      expect(view.status, who).to.equal(200);
      const body = view.body as { state: string; approvals: { final: { approved: boolean }[] } };
      expect(body.state, who).to.equal("Approved");
      expect(
        body.approvals.final.map((a) => a.approved),
        who,
      ).to.deep.equal([true, true]);
    }
  });

  it("names in each 'what to try first' line a period in the state the line gives", async () => {
    const named = served.tryFirst.flatMap((line) => [
      ...line.matchAll(/\b([A-Z]+-[A-Z]+) (\d{4}-\d{2}) \((\w+)\)/g),
    ]);
    expect(named.length).to.equal(served.periods.length);
    for (const [, agreement, period, state] of named) {
      expect(served.periods.map((p) => `${p.agreement} ${p.period} (${p.state})`)).to.include(
        `${agreement} ${period} (${state})`,
      );
      // On a node party to the agreement (another node does not know it), as its first officer.
      const view = await get(`${agreement!.split("-")[0]} officer 1`, periodPath(agreement!, period!));
      expect(view.status, `${agreement} ${period}`).to.equal(200);
      expect((view.body as { state: string }).state, `${agreement} ${period}`).to.equal(state);
    }
    const printed = lines.join("\n");
    for (const line of served.tryFirst) expect(printed).to.contain(line);
    for (const role of ROLES) {
      expect(
        served.tryFirst.some((line) => line.includes(role === "officer" ? "officer" : `${role}`)),
        role,
      ).to.equal(true);
    }
  });

  it("lets the people the lines name plan the dispute steps they suggest: open the dispute, rule", async () => {
    const post = async (who: string, route: string, body: unknown) => {
      const { key, signedIn } = await session(who);
      return call({ url: key.url }, "POST", route, {
        headers: { cookie: signedIn.cookie, "x-csrf-token": signedIn.csrfToken },
        body,
      });
    };
    const mismatched = served.periods.find((x) => x.state === "Mismatched")!;
    const report = await get(
      "GLOBEX officer 1",
      `${periodPath(mismatched.agreement, mismatched.period)}/report`,
    );
    const open = await post(
      "GLOBEX officer 1",
      `${periodPath(mismatched.agreement, mismatched.period)}/disputes/plan`,
      {
        step: "open",
        reason: "missing_cdrs",
        evidenceCid: (report.body as { evidenceCid: string }).evidenceCid,
      },
    );
    expect(open.status, JSON.stringify(open.body)).to.equal(200);
    const escalated = served.periods.find((x) => x.state === "Escalated")!;
    const view = (await get("arbiter", periodPath(escalated.agreement, escalated.period))).body as {
      sides: { A: { amountAB: string; amountBA: string } };
    };
    const rule = await post("arbiter", `${periodPath(escalated.agreement, escalated.period)}/disputes/plan`, {
      step: "rule",
      amountAB: view.sides.A.amountAB,
      amountBA: view.sides.A.amountBA,
    });
    expect(rule.status, JSON.stringify(rule.body)).to.equal(200);
  });

  it("writes one CDR file per carrier, which its operator's upload ingests without a reject", async () => {
    expect(served.uploads.map((u) => u.carrier).sort()).to.deep.equal(["ACME", "GLOBEX", "INITECH"]);
    for (const upload of served.uploads) {
      expect(fs.existsSync(upload.file), upload.file).to.equal(true);
      expect(lines.join("\n")).to.contain(upload.file);
      const who = `${upload.carrier} operator`;
      const { key, signedIn } = await session(who);
      const name = path.basename(upload.file);
      const response = await fetch(`${key.url}/api/v1/ingest?format=${upload.format}&name=${name}`, {
        method: "POST",
        headers: {
          cookie: signedIn.cookie,
          "x-csrf-token": signedIn.csrfToken,
          "content-type": "text/csv",
        },
        body: fs.readFileSync(upload.file),
      });
      expect(response.status, who).to.equal(202);
      let job = (await response.json()) as {
        jobId: string;
        status: string;
        // Counts are bigints, sent as decimal strings.
        file: { records: string; rated: string; rejected: string } | null;
      };
      for (let i = 0; i < 300 && (job.status === "queued" || job.status === "running"); i++) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        job = (await get(who, `/api/v1/ingest/${job.jobId}`)).body as typeof job;
      }
      expect(job.status, who).to.equal("done");
      expect(Number(job.file!.records), who).to.equal(upload.rows);
      expect(Number(job.file!.rated), who).to.be.greaterThan(0);
      expect(Number(job.file!.rejected), who).to.equal(0);
    }
  });

  // Last: it changes the fast-path period's state.
  it("leaves one period on the fast path that settles once ACME's second officer co-signs it in the API", async () => {
    const p = served.periods.find((x) => x.fastPath)!;
    const who = "ACME officer 2";
    const view = await get(who, periodPath(p.agreement, p.period));
    expect(view.status).to.equal(200);
    expect(view.body).to.include({ state: "Committing" });
    expect((view.body as { fastPath: unknown }).fastPath).not.to.equal(null);
    const typed = (await get(who, `${periodPath(p.agreement, p.period)}/fast-path/settlement`)).body as {
      domain: Record<string, string>;
      types: Record<string, TypedDataField[]>;
      message: Record<string, string>;
    };
    const { EIP712Domain: _domain, ...types } = typed.types;
    const { key, signedIn } = await session(who);
    const signature = await new Wallet(key.privateKey).signTypedData(typed.domain, types, typed.message);
    const handedIn = await call(
      { url: key.url },
      "POST",
      `${periodPath(p.agreement, p.period)}/fast-path/signatures`,
      {
        headers: { cookie: signedIn.cookie, "x-csrf-token": signedIn.csrfToken },
        body: { settlement: typed.message, signature },
      },
    );
    expect(handedIn.status, JSON.stringify(handedIn.body)).to.equal(200);
    let state = "";
    for (let i = 0; i < 60 && state !== "Settled"; i++) {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      state = ((await get(who, periodPath(p.agreement, p.period))).body as { state: string }).state;
    }
    expect(state).to.equal("Settled");
  });

  // Last: it moves the Approved period on, which the checks above read as the demo left it.
  it("lets an ACME officer settle the Approved period, as the printed line suggests", async () => {
    const p = served.periods.find((x) => x.state === "Approved")!;
    const who = "ACME officer 1";
    const route = periodPath(p.agreement, p.period);
    const preview = await get(who, `${route}/settlement`);
    expect(preview.status, JSON.stringify(preview.body)).to.equal(200);
    expect((preview.body as { plan: { topUps: unknown[] } }).plan.topUps).to.deep.equal([]);
    const { key, signedIn } = await session(who);
    const sent = await call({ url: key.url }, "POST", `${route}/settle`, {
      headers: { cookie: signedIn.cookie, "x-csrf-token": signedIn.csrfToken },
      body: {},
    });
    expect(sent.status, JSON.stringify(sent.body)).to.equal(200);
    expect(sent.body).to.include({ state: "Settled" });
  });
});
