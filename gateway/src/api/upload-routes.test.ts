/**
 * The upload routes over real HTTP: a deck's validation report, importing a deck, ingesting a CDR file
 * in the background with its counts and rejects, and the refusals: oversized bodies (413), path
 * traversal in names, SQL-injection strings in every query parameter and path parameter, wrong media
 * types, and the upload rate limit (429). Whatever is refused leaves no row and no file behind.
 */
import { expect } from "chai";
import fs from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import type { Database } from "../../../node/src/db/database";
import { addPartner } from "../../../node/src/db/partners";
import type { CarrierNode } from "../../../node/src/node";
import { databaseTargets, type DatabaseTarget } from "../../../test/helpers/databases";
import type { RunningGateway } from "../gateway";
import { headersFor, startGateway, testNode } from "../../../test/helpers/gateway-api";
import { FORMAT_IDS } from "../../../node/src/mediation/formats/registry";

const SAMPLES = path.join(__dirname, "../../../node/samples");
const sample = (name: string) => fs.readFileSync(path.join(SAMPLES, name));

const OPERATOR = headersFor({ kind: "session", roles: ["operator"] });
const CSV = { ...OPERATOR, "content-type": "text/csv" };
const TABLES = ["partners", "tariff_decks", "tariff_rows", "ingest_files", "rejects", "cdrs"];
const INJECTIONS = [
  "' OR 1=1 --",
  "'; DROP TABLE ingest_files; --",
  '" OR ""="',
  "1; DELETE FROM cdrs",
  "x' UNION SELECT raw FROM rejects --",
  "1) OR (1=1",
  "x\u0000y",
];
const TRAVERSALS = [
  "../../etc/passwd",
  "..%2F..%2Fetc%2Fpasswd",
  "..",
  "/etc/passwd",
  "C:\\windows\\win.ini",
  "a/../../b",
  ".hidden",
  "x\u0000.csv",
];

type Json = Record<string, unknown> & {
  error?: { code: string; field?: string };
};

async function counts(db: Database): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const table of TABLES) {
    const { rows } = await db.query<{ n: bigint }>(`SELECT count(*)::bigint AS n FROM ${table}`);
    out[table] = String(rows[0]!.n);
  }
  return out;
}

/** Files left under the node's upload directory. */
function leftovers(node: CarrierNode): string[] {
  const root = path.join(node.config.dataDir, "uploads");
  return fs.existsSync(root) ? fs.readdirSync(root, { recursive: true }).map(String) : [];
}

for (const target of databaseTargets()) {
  describe(`API uploads on ${target.name}`, function () {
    let db: Database;
    let node: CarrierNode;
    let gateway: RunningGateway;

    const post = async (url: string, body: string | Buffer, headers: Record<string, string> = CSV) => {
      const response = await fetch(gateway.url + url, { method: "POST", headers, body });
      return { status: response.status, json: (await response.json()) as Json };
    };
    const get = async (url: string) => {
      const response = await fetch(gateway.url + url, { headers: OPERATOR });
      return { status: response.status, json: (await response.json()) as Json };
    };
    async function finished(jobId: string): Promise<Json> {
      for (let i = 0; i < 400; i++) {
        const { status, json } = await get(`/api/v1/ingest/${jobId}`);
        expect(status).to.equal(200);
        if (json.status === "done" || json.status === "failed") return json;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      throw new Error(`job ${jobId} did not finish`);
    }

    before(async () => {
      db = await (target as DatabaseTarget).open();
      await addPartner(db, { id: "GLOBEX", name: "Globex", matchRules: [] });
      node = testNode(db);
      gateway = await startGateway({
        node,
        uploads: { fileBytes: 4096, deckBytes: 4096, perWindow: 10_000 },
      });
    });
    after(async () => {
      await gateway.close();
      await db.close();
      await target.cleanup();
    });

    it("reports every problem of a deck with line and column, storing nothing", async () => {
      const before = await counts(db);
      const deck =
        "service,prefix,destination,rate\n" +
        "voice,44,United Kingdom,0.01\n" +
        "voice,4x,Bad prefix,0.01\n" +
        "fax,33,France,-1\n";
      const { status, json } = await post("/api/v1/tariffs/check", deck);
      expect(status).to.equal(200);
      expect(json.valid).to.equal(false);
      expect(json.rows).to.equal(1);
      const problems = json.problems as { line: number; field: string }[];
      expect(problems.map((p) => `${p.line}:${p.field}`)).to.deep.equal(["3:prefix", "4:service", "4:rate"]);
      const good = await post("/api/v1/tariffs/check", sample("tariff-globex.csv"));
      expect(good.json).to.include({ valid: true, rows: 14 });
      expect(await counts(db)).to.deep.equal(before);
    });

    it("imports a deck that GET /api/v1/tariffs then lists as active, and refuses a bad one", async () => {
      const bad = await post(
        "/api/v1/tariffs/import?partner=GLOBEX&direction=out",
        "prefix,destination,rate\n4x,X,1\n",
      );
      expect(bad.status).to.equal(400);
      expect(bad.json.error!.field).to.equal("prefix");
      const missing = await post(
        "/api/v1/tariffs/import?partner=NOBODY&direction=out",
        sample("tariff-globex.csv"),
      );
      expect(missing.status).to.equal(404);

      const { status, json } = await post(
        "/api/v1/tariffs/import?partner=GLOBEX&direction=out&name=globex-2026.csv&currency=EUR",
        sample("tariff-globex.csv"),
      );
      expect(status).to.equal(201);
      expect(json).to.include({ partner: "GLOBEX", direction: "out", name: "globex-2026.csv", rows: 14 });
      const decks = (await get("/api/v1/tariffs")).json.decks as Record<string, unknown>[];
      expect(decks).to.have.length(1);
      expect(decks[0]).to.include({
        id: json.deck,
        name: "globex-2026.csv",
        currency: "EUR",
        active: true,
        rows: 14,
      });
    });

    it("lists the node's CDR formats from the registry, and refuses an upload in another", async () => {
      const { status, json } = await get("/api/v1/formats");
      expect(status).to.equal(200);
      const formats = json.formats as { id: string; columns: string[]; times: string; sourceKey: string }[];
      expect(formats.map((f) => f.id)).to.deep.equal([...FORMAT_IDS]);
      const asterisk = formats.find((f) => f.id === "asterisk")!;
      expect(asterisk.times).to.equal("local");
      expect(asterisk.columns).to.include("sequence");
      expect(asterisk.sourceKey).to.contain("sequence");
      const refused = await post("/api/v1/ingest?format=cisco-xml&name=x.csv", sample("cdrs-globex.csv"));
      expect(refused.status).to.equal(400);
    });

    it("ingests an uploaded CDR file in the background: counts add up, rejects have reasons", async () => {
      const { status, json } = await post(
        "/api/v1/ingest?format=icl-csv&name=cdrs-globex.csv",
        sample("cdrs-globex.csv"),
      );
      expect(status).to.equal(202);
      const job = await finished(json.jobId as string);
      expect(job.status, JSON.stringify(job.error)).to.equal("done");
      expect(job.alreadyIngested).to.equal(false);
      const file = job.file as Record<string, string | number>;
      expect(file.fileName).to.equal("cdrs-globex.csv");
      expect(Number(file.records)).to.equal(18);
      expect(Number(file.rated) + Number(file.unbilled) + Number(file.rejected)).to.equal(
        Number(file.records),
      );
      expect(Number(file.rejected)).to.be.greaterThan(0);
      expect((job.progress as { records: number }).records).to.equal(18);
      expect(leftovers(node), "the upload is removed once ingested").to.deep.equal([]);

      const page = await get(`/api/v1/files/${file.fileId}/rejects?limit=2`);
      expect(page.status).to.equal(200);
      const rejects = page.json.rejects as {
        line: string;
        reason: string;
        field: string | null;
        raw: string;
        message: string;
      }[];
      expect(rejects).to.have.length(2);
      for (const reject of rejects) {
        expect(reject.reason).to.match(/^(INVALID|DUPLICATE|NO_RATE|UNKNOWN_PARTNER)$/);
        expect(reject.message).to.not.equal("");
        expect(reject.raw).to.contain("GLOBEX");
        expect(reject.message).to.not.contain(node.config.dataDir);
      }
      const all = await get(`/api/v1/files/${file.fileId}/rejects?limit=1000`);
      expect(all.json.rejects).to.have.length(Number(file.rejected));
      const rest = await get(`/api/v1/files/${file.fileId}/rejects?offset=2&limit=1000`);
      expect(rest.json.rejects).to.have.length(Number(file.rejected) - 2);
      expect((await get("/api/v1/files/99999/rejects")).status).to.equal(404);
      expect((await get("/api/v1/ingest/00000000-0000-4000-8000-000000000000")).status).to.equal(404);

      const again = await post("/api/v1/ingest?format=icl-csv&name=copy.csv", sample("cdrs-globex.csv"));
      const second = await finished(again.json.jobId as string);
      expect(second).to.include({ status: "done", alreadyIngested: true });
      expect((second.file as { fileId: number }).fileId).to.equal(file.fileId);
    });

    it("refuses an oversized upload with 413, storing nothing and leaving no file", async () => {
      const before = await counts(db);
      const big = Buffer.concat([sample("cdrs-globex.csv"), Buffer.alloc(8192, "x")]);
      const declared = await post("/api/v1/ingest?format=icl-csv&name=big.csv", big);
      expect(declared.status).to.equal(413);
      expect(declared.json.error!.code).to.equal("TOO_LARGE");
      // Without a declared length (chunked): refused while streaming, the partial file removed.
      const chunked = await fetch(`${gateway.url}/api/v1/ingest?format=icl-csv&name=big.csv`, {
        method: "POST",
        headers: CSV,
        body: Readable.toWeb(Readable.from([big.subarray(0, 3000), big.subarray(3000)])) as ReadableStream,
        duplex: "half",
      } as RequestInit);
      expect(chunked.status).to.equal(413);
      const deck = await post("/api/v1/tariffs/check", Buffer.alloc(5000, "a"));
      expect(deck.status).to.equal(413);
      expect(leftovers(node)).to.deep.equal([]);
      expect(await counts(db)).to.deep.equal(before);
    });

    it("refuses traversal and path-like names with 400, storing nothing", async () => {
      const before = await counts(db);
      for (const name of TRAVERSALS) {
        for (const url of [
          `/api/v1/ingest?format=icl-csv&name=${encodeURIComponent(name)}`,
          `/api/v1/ingest?format=icl-csv&name=${name}`,
          `/api/v1/tariffs/import?partner=GLOBEX&direction=in&name=${encodeURIComponent(name)}`,
        ]) {
          const { status, json } = await post(url, sample("freeswitch.csv"));
          expect(status, url).to.equal(400);
          expect(json.error!.field, url).to.equal("query.name");
        }
      }
      expect(leftovers(node)).to.deep.equal([]);
      expect(await counts(db)).to.deep.equal(before);
    });

    it("refuses SQL-injection strings in every query and path parameter with 400 or 404, never 500", async () => {
      const before = await counts(db);
      const valid: Record<string, Record<string, string>> = {
        "/api/v1/tariffs/import": { partner: "GLOBEX", direction: "in", name: "deck.csv", currency: "EUR" },
        "/api/v1/ingest": { format: "icl-csv", name: "x.csv" },
        "/api/v1/files/1/rejects": { reason: "INVALID", limit: "10", offset: "0" },
      };
      const problems: string[] = [];
      for (const payload of INJECTIONS) {
        for (const [route, params] of Object.entries(valid)) {
          for (const name of Object.keys(params)) {
            const query = new URLSearchParams({ ...params, [name]: payload });
            const url = `${route}?${query}`;
            const { status } = route.includes("files")
              ? await get(url)
              : await post(url, sample("tariff-globex.csv"));
            if (status !== 400) problems.push(`${url}: ${status}`);
          }
        }
        for (const url of [
          `/api/v1/ingest/${encodeURIComponent(payload)}`,
          `/api/v1/files/${encodeURIComponent(payload)}/rejects`,
        ]) {
          const { status } = await get(url);
          if (status !== 400 && status !== 404) problems.push(`${url}: ${status}`);
        }
      }
      expect(problems).to.deep.equal([]);
      expect(leftovers(node)).to.deep.equal([]);
      expect(await counts(db)).to.deep.equal(before);
    });

    it("stores SQL-looking text inside a deck as data, verbatim", async () => {
      const destination = "x'); DROP TABLE tariff_rows; --";
      const { status } = await post(
        "/api/v1/tariffs/import?partner=GLOBEX&direction=in&name=odd.csv",
        `prefix,destination,rate\n44,"${destination}",0.01\n`,
      );
      expect(status).to.equal(201);
      const { rows } = await db.query<{ destination: string }>(
        "SELECT destination FROM tariff_rows WHERE prefix = '44' AND destination LIKE 'x%'",
      );
      expect(rows.map((r) => r.destination)).to.deep.equal([destination]);
    });

    it("refuses other media types (415), and CDR uploads by regulators and arbiters (403)", async () => {
      const json = await post("/api/v1/ingest?format=icl-csv", "{}", {
        ...OPERATOR,
        "content-type": "application/json",
      });
      expect(json.status).to.equal(415);
      for (const role of ["regulator", "arbiter"] as const) {
        const headers = { ...headersFor({ kind: "session", roles: [role] }), "content-type": "text/csv" };
        expect((await post("/api/v1/ingest?format=icl-csv", "a", headers)).status, role).to.equal(403);
      }
    });

    it("lets an officer upload a CDR file and follow its job, but not import a tariff deck (403)", async () => {
      const officer = { ...headersFor({ kind: "session", roles: ["officer"] }), "content-type": "text/csv" };
      const csv = Buffer.from(
        sample("cdrs-globex.csv").toString("utf8").replaceAll("ACME-", "ACMO-"), // new calls, not a repeat
      );
      const { status, json } = await post("/api/v1/ingest?format=icl-csv&name=officer.csv", csv, officer);
      expect(status).to.equal(202);
      const done = await finished(json.jobId as string);
      expect(done.status).to.equal("done");
      expect(done.alreadyIngested).to.equal(false);
      const file = done.file as { fileName: string; records: string };
      expect(file.fileName).to.equal("officer.csv");
      expect(Number(file.records)).to.be.greaterThan(0);
      const deck = await post(
        "/api/v1/tariffs/import?partner=GLOBEX&direction=out",
        sample("tariff-globex.csv"),
        officer,
      );
      expect(deck.status).to.equal(403);
    });

    it("limits uploads per client: the request past the limit is 429", async () => {
      const limited = await startGateway({ node, uploads: { perWindow: 2, windowMs: 60_000 } });
      try {
        const statuses: number[] = [];
        for (let i = 0; i < 3; i++) {
          const response = await fetch(`${limited.url}/api/v1/tariffs/check`, {
            method: "POST",
            headers: CSV,
            body: sample("tariff-globex.csv"),
          });
          await response.arrayBuffer();
          statuses.push(response.status);
          if (response.status === 429)
            expect(Number(response.headers.get("retry-after"))).to.be.greaterThan(0);
        }
        expect(statuses).to.deep.equal([200, 200, 429]);
      } finally {
        await limited.close();
      }
    });
  });
}
