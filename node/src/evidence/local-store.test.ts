import { expect } from "chai";
import fc from "fast-check";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { InputError, NotFoundError } from "../errors";
import { EvidenceIntegrityError } from "./cid";
import { createEvidenceStore } from "./create-evidence-store";
import { MAX_BLOCK_BYTES, type EvidenceStore } from "./store";
import { referenceCid } from "./test-helpers";

describe("evidence/local store", () => {
  let dataDir: string;
  let store: EvidenceStore;
  const evidenceDir = () => path.join(dataDir, "evidence");

  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "icl-evidence-"));
    store = createEvidenceStore({ dataDir });
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it("stores a block under the CID multiformats computes and gives the bytes back", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 2048 }), async (bytes) => {
        const cid = await store.put(bytes);
        expect(cid).to.equal(await referenceCid(bytes));
        expect(await store.has(cid)).to.equal(true);
        expect(await store.get(cid)).to.deep.equal(bytes);
      }),
      { numRuns: 100 },
    );
  });

  it("is idempotent: the same bytes give the same CID and one file, with no temporary files left", async () => {
    const bytes = new TextEncoder().encode("discrepancy report");
    const first = await store.put(bytes);
    const [second, third] = await Promise.all([store.put(bytes), store.put(bytes.slice())]);
    expect(second).to.equal(first);
    expect(third).to.equal(first);
    expect(await readdir(evidenceDir())).to.deep.equal([first]);
  });

  it("refuses a block whose file was altered on disk, and a later put repairs it", async () => {
    const bytes = new TextEncoder().encode("hello world\n");
    const cid = await store.put(bytes);
    await writeFile(path.join(evidenceDir(), cid), "hello w0rld\n");
    const error = await store.get(cid).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(EvidenceIntegrityError);
    expect((error as EvidenceIntegrityError).retryable).to.equal(false);
    expect(await store.put(bytes)).to.equal(cid);
    expect(await store.get(cid)).to.deep.equal(bytes);
  });

  it("reports a missing block as not found", async () => {
    const cid = await referenceCid(new TextEncoder().encode("never stored"));
    expect(await store.has(cid)).to.equal(false);
    expect(await store.get(cid).catch((e: unknown) => e)).to.be.instanceOf(NotFoundError);
  });

  it("refuses CID strings with path tricks before touching the file system", async () => {
    // The data directory does not exist: any file-system access would fail differently (or create it).
    const absent = createEvidenceStore({ dataDir: path.join(dataDir, "absent") });
    const cid = await referenceCid(new Uint8Array([1]));
    for (const text of [
      "../config.json",
      `../${cid}`,
      `${cid}/../../x`,
      "/etc/passwd",
      "zQm",
      cid.toUpperCase(),
    ]) {
      for (const call of [() => absent.get(text), () => absent.has(text)]) {
        expect(await call().catch((e: unknown) => e), text).to.be.instanceOf(InputError);
      }
    }
    expect(await readdir(dataDir)).to.deep.equal([]);
  });

  it("takes blocks up to 1 MiB and refuses larger ones with an InputError", async () => {
    const largest = new Uint8Array(MAX_BLOCK_BYTES).fill(7);
    expect(await store.put(largest)).to.equal(await referenceCid(largest));
    const error = await store.put(new Uint8Array(MAX_BLOCK_BYTES + 1)).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(InputError);
    expect((error as InputError).message).to.match(/too large/);
  });
});
