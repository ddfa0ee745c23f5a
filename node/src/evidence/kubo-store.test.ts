import { expect } from "chai";
import fc from "fast-check";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { BaseError, InputError, NotFoundError, UnavailableError } from "../errors";
import { EvidenceIntegrityError } from "./cid";
import { createEvidenceStore } from "./create-evidence-store";
import { MAX_BLOCK_BYTES, MAX_EVIDENCE_BYTES, type EvidenceStore } from "./store";
import {
  KUBO_LAYOUT,
  kuboDeterministicBytes,
  referenceCid,
  referenceUnixfsCid,
  ROUND_TRIP_SIZES,
  startFakeKubo,
  type FakeKubo,
} from "../../../test/helpers/evidence";

const MiB = 1024 * 1024;

async function failure(promise: Promise<unknown>): Promise<BaseError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).to.be.instanceOf(BaseError);
  return error as BaseError;
}

describe("evidence/Kubo store", function () {
  this.timeout(60_000);
  let kubo: FakeKubo;
  let dataDir: string;
  let store: EvidenceStore;
  let local: EvidenceStore;

  beforeEach(async () => {
    kubo = await startFakeKubo();
    dataDir = await mkdtemp(path.join(tmpdir(), "icl-evidence-"));
    store = createEvidenceStore({ dataDir, ipfsApiUrl: kubo.url, ipfsTimeoutMs: 2000 });
    local = createEvidenceStore({ dataDir });
  });
  afterEach(async () => {
    await kubo.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("round-trips blocks with the same CID as the local store and multiformats", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 2048 }), async (bytes) => {
        const cid = await store.put(bytes);
        expect(cid).to.equal(await local.put(bytes));
        expect(cid).to.equal(await referenceCid(bytes));
        expect(await store.has(cid)).to.equal(true);
        expect(await store.get(cid)).to.deep.equal(bytes);
      }),
      { numRuns: 40 },
    );
    const put = kubo.requests.find((r) => r.path === "/api/v0/block/put");
    expect(Object.fromEntries(put?.query ?? [])).to.deep.equal({
      "cid-codec": "raw",
      mhtype: "sha2-256",
      pin: "true",
    });
    expect(kubo.requests.find((r) => r.path === "/api/v0/block/stat")?.query.get("offline")).to.equal("true");
  });

  it("round-trips evidence of any size with the local store's CID: block/put up to 1 MiB, dag/import above", async () => {
    for (const size of ROUND_TRIP_SIZES) {
      const bytes = kuboDeterministicBytes(size, `kubo ${size}`);
      const requestsBefore = kubo.requests.length;
      const cid = await store.put(bytes);
      const put = kubo.requests.slice(requestsBefore).map((r) => r.path);
      if (size <= MAX_BLOCK_BYTES) {
        expect(put).to.deep.equal(["/api/v0/block/put"]);
        expect(cid).to.equal(await referenceCid(bytes));
      } else {
        expect(put).to.deep.equal(["/api/v0/dag/import"]);
        expect(cid).to.equal(referenceUnixfsCid(bytes, KUBO_LAYOUT));
        expect(kubo.pins.has(cid), "pinned with its DAG").to.equal(true);
      }
      expect(cid).to.equal(await local.put(bytes));
      expect(await store.has(cid)).to.equal(true);
      expect(Buffer.from(await store.get(cid)).equals(bytes), `${size} bytes`).to.equal(true);
    }
    const imported = kubo.requests.find((r) => r.path === "/api/v0/dag/import");
    expect(Object.fromEntries(imported?.query ?? [])).to.deep.equal({ "pin-roots": "true" });
    for (const [cid, bytes] of kubo.blocks) {
      expect(bytes.byteLength, cid).to.be.at.most(MAX_BLOCK_BYTES);
    }
  });

  it("reads a DAG block by block, each checked, and walks it offline for has", async () => {
    const bytes = kuboDeterministicBytes(2 * MiB + 1, "walk");
    const cid = await store.put(bytes);
    const blocks = kubo.blocks.size;
    kubo.requests.length = 0;
    expect(await store.has(cid)).to.equal(true);
    const gets = kubo.requests.filter((r) => r.path === "/api/v0/block/get");
    expect(gets.map((r) => r.query.get("arg"))).to.deep.equal([cid]);
    expect(gets.every((r) => r.query.get("offline") === "true")).to.equal(true);
    expect(kubo.requests.filter((r) => r.path === "/api/v0/block/stat")).to.have.length(blocks);

    kubo.requests.length = 0;
    await store.get(cid);
    expect(kubo.requests.map((r) => r.path)).to.deep.equal(Array(blocks).fill("/api/v0/block/get"));

    const leaf = [...kubo.blocks.keys()].find((key) => key.startsWith("bafkrei"))!;
    kubo.blocks.delete(leaf);
    expect(await store.has(cid)).to.equal(false);
    const error = await failure(store.get(cid));
    expect(error).to.be.instanceOf(NotFoundError);
    expect(error.details).to.include(leaf);
  });

  it("tells a block the node lacks from one it holds", async () => {
    const cid = await referenceCid(new TextEncoder().encode("never stored"));
    expect(await store.has(cid)).to.equal(false);
    expect(await failure(store.get(cid))).to.be.instanceOf(NotFoundError);
  });

  it("refuses a CID or DAG root the node answers that is not the one computed locally", async () => {
    kubo.fault = "wrong-cid";
    for (const bytes of [new TextEncoder().encode("report"), kuboDeterministicBytes(MiB + 1, "root")]) {
      const error = await failure(store.put(bytes));
      expect(error).to.be.instanceOf(EvidenceIntegrityError);
      expect(error.retryable).to.equal(false);
      expect(error.message).to.match(/different CID/);
    }
  });

  it("refuses bytes from the node that do not hash to the CID, for a block and for a DAG", async () => {
    const cid = await store.put(new TextEncoder().encode("report"));
    const root = await store.put(kuboDeterministicBytes(MiB + 1, "altered"));
    kubo.fault = "altered-bytes";
    expect(await failure(store.get(cid))).to.be.instanceOf(EvidenceIntegrityError);
    expect(await failure(store.get(root))).to.be.instanceOf(EvidenceIntegrityError);
    expect(await failure(store.has(root)), "has reads the DAG's nodes").to.be.instanceOf(
      EvidenceIntegrityError,
    );
  });

  it("reports an import the node could not pin (a block lost on the way)", async () => {
    kubo.fault = "lose-a-leaf";
    const error = await failure(store.put(kuboDeterministicBytes(MiB + 1, "pin")));
    expect(error.code).to.equal("IPFS_REFUSED");
    expect(error.message).to.match(/could not pin/);
    expect(kubo.pins.size).to.equal(0);
  });

  it("reports a node that is down as retryable UnavailableError", async () => {
    const cid = await store.put(new Uint8Array([1, 2, 3]));
    const root = await store.put(kuboDeterministicBytes(MiB + 1, "down"));
    await kubo.close();
    const calls = [
      () => store.put(new Uint8Array([4])),
      () => store.put(kuboDeterministicBytes(MiB + 1, "down again")),
      () => store.get(cid),
      () => store.has(cid),
      () => store.get(root),
      () => store.has(root),
    ];
    for (const call of calls) {
      const error = await failure(call());
      expect(error).to.be.instanceOf(UnavailableError);
      expect(error.retryable).to.equal(true);
      expect(error.code).to.equal("IPFS_UNAVAILABLE");
    }
  });

  it("gives up on a node that does not answer, as retryable UnavailableError", async () => {
    const slow = createEvidenceStore({ dataDir, ipfsApiUrl: kubo.url, ipfsTimeoutMs: 150 });
    const cid = await slow.put(new Uint8Array([1]));
    const root = await slow.put(kuboDeterministicBytes(MiB + 1, "slow"));
    kubo.fault = "hang";
    const calls = [
      () => slow.put(new Uint8Array([2])),
      () => slow.put(kuboDeterministicBytes(MiB + 1, "slower")),
      () => slow.get(cid),
      () => slow.has(cid),
      () => slow.get(root),
      () => slow.has(root),
    ];
    for (const call of calls) {
      const started = Date.now();
      const error = await failure(call());
      expect(error).to.be.instanceOf(UnavailableError);
      expect(error.retryable).to.equal(true);
      expect(error.message).to.match(/in time/);
      expect(Date.now() - started).to.be.below(1500);
    }
  });

  it("checks size and CID before any request", async () => {
    expect(await failure(store.put(new Uint8Array(MAX_EVIDENCE_BYTES + 1)))).to.be.instanceOf(InputError);
    expect(await failure(store.get("../../api/v0/shutdown"))).to.be.instanceOf(InputError);
    expect(await failure(store.has("QmdfTbBqBPQ7VNxZEYEj14VmRuZBkqFbiwReogJgS1zR1n"))).to.be.instanceOf(
      InputError,
    );
    expect(kubo.requests).to.deep.equal([]);
  });

  it("refuses an IPFS API URL that is not http(s)", () => {
    expect(() => createEvidenceStore({ dataDir, ipfsApiUrl: "file:///etc" })).to.throw(InputError);
    expect(() => createEvidenceStore({ dataDir, ipfsApiUrl: "not a url" })).to.throw(InputError);
  });
});
