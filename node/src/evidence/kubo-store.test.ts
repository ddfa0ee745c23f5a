import { expect } from "chai";
import fc from "fast-check";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { BaseError, InputError, NotFoundError, UnavailableError } from "../errors";
import { EvidenceIntegrityError } from "./cid";
import { createEvidenceStore } from "./create-evidence-store";
import { MAX_BLOCK_BYTES, type EvidenceStore } from "./store";
import { referenceCid, startFakeKubo, type FakeKubo } from "./test-helpers";

async function failure(promise: Promise<unknown>): Promise<BaseError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).to.be.instanceOf(BaseError);
  return error as BaseError;
}

describe("evidence/Kubo store", () => {
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

  it("tells a block the node lacks from one it holds", async () => {
    const cid = await referenceCid(new TextEncoder().encode("never stored"));
    expect(await store.has(cid)).to.equal(false);
    expect(await failure(store.get(cid))).to.be.instanceOf(NotFoundError);
  });

  it("refuses a CID the node answers that is not the one computed locally", async () => {
    kubo.fault = "wrong-cid";
    const error = await failure(store.put(new TextEncoder().encode("report")));
    expect(error).to.be.instanceOf(EvidenceIntegrityError);
    expect(error.retryable).to.equal(false);
    expect(error.message).to.match(/different CID/);
  });

  it("refuses bytes from the node that do not hash to the CID", async () => {
    const cid = await store.put(new TextEncoder().encode("report"));
    kubo.fault = "altered-bytes";
    expect(await failure(store.get(cid))).to.be.instanceOf(EvidenceIntegrityError);
  });

  it("reports a node that is down as retryable UnavailableError", async () => {
    const cid = await store.put(new Uint8Array([1, 2, 3]));
    await kubo.close();
    const calls = [() => store.put(new Uint8Array([4])), () => store.get(cid), () => store.has(cid)];
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
    kubo.fault = "hang";
    const calls = [() => slow.put(new Uint8Array([2])), () => slow.get(cid), () => slow.has(cid)];
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
    expect(await failure(store.put(new Uint8Array(MAX_BLOCK_BYTES + 1)))).to.be.instanceOf(InputError);
    expect(await failure(store.get("../../api/v0/shutdown"))).to.be.instanceOf(InputError);
    expect(kubo.requests).to.deep.equal([]);
  });

  it("refuses an IPFS API URL that is not http(s)", () => {
    expect(() => createEvidenceStore({ dataDir, ipfsApiUrl: "file:///etc" })).to.throw(InputError);
    expect(() => createEvidenceStore({ dataDir, ipfsApiUrl: "not a url" })).to.throw(InputError);
  });
});
