import { expect } from "chai";
import fc from "fast-check";
import { mkdtemp, readdir, readFile, rm, stat, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { InputError, NotFoundError } from "../errors";
import { EvidenceIntegrityError, parseBlockCid } from "./cid";
import { createEvidenceStore } from "./create-evidence-store";
import { MAX_BLOCK_BYTES, MAX_EVIDENCE_BYTES, type EvidenceStore } from "./store";
import {
  KUBO_LAYOUT,
  kuboDeterministicBytes,
  referenceCid,
  referenceUnixfsCid,
  ROUND_TRIP_SIZES,
} from "../../../test/helpers/evidence";

const MiB = 1024 * 1024;

describe("evidence/local store", function () {
  this.timeout(60_000);
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

  it("round-trips evidence of any size: one raw block up to 1 MiB, a UnixFS DAG of ≤ 1 MiB files above", async () => {
    for (const size of ROUND_TRIP_SIZES) {
      const bytes = kuboDeterministicBytes(size, `local ${size}`);
      const cid = await store.put(bytes);
      if (size <= MAX_BLOCK_BYTES) expect(cid).to.equal(await referenceCid(bytes));
      else expect(cid).to.equal(referenceUnixfsCid(bytes, KUBO_LAYOUT));
      expect(await store.has(cid)).to.equal(true);
      expect(Buffer.from(await store.get(cid)).equals(bytes), `${size} bytes`).to.equal(true);
    }
    const files = await readdir(evidenceDir());
    // 1 + 1 + (5 + 1) + (20 + 1) + (176 + 2 + 1) blocks; no temporary files left.
    expect(files).to.have.length(2 + 6 + 21 + 179);
    for (const file of files) {
      expect(parseBlockCid(file)).to.equal(file);
      expect((await stat(path.join(evidenceDir(), file))).size).to.be.at.most(MAX_BLOCK_BYTES);
    }
  });

  it("is idempotent: the same bytes give the same CID and one file, with no temporary files left", async () => {
    const bytes = new TextEncoder().encode("discrepancy report");
    const first = await store.put(bytes);
    const [second, third] = await Promise.all([store.put(bytes), store.put(bytes.slice())]);
    expect(second).to.equal(first);
    expect(third).to.equal(first);
    expect(await readdir(evidenceDir())).to.deep.equal([first]);
    const large = kuboDeterministicBytes(3 * MiB, "twice");
    const root = await store.put(large);
    expect(await store.put(large.slice())).to.equal(root);
    expect(await readdir(evidenceDir())).to.have.length(1 + 12 + 1);
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

  it("detects a damaged or missing block of a DAG, and a later put repairs it", async () => {
    const bytes = kuboDeterministicBytes(2 * MiB + 5, "damaged");
    const root = await store.put(bytes);
    const leaves = (await readdir(evidenceDir())).filter((file) => file.startsWith("bafkrei"));
    const leaf = path.join(evidenceDir(), leaves[3]!);
    const original = await readFile(leaf);
    const altered = Buffer.from(original);
    altered[1000] = (altered[1000] ?? 0) ^ 0x20;
    await writeFile(leaf, altered);
    expect(await store.has(root), "has: presence only").to.equal(true);
    const error = await store.get(root).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(EvidenceIntegrityError);
    expect((error as EvidenceIntegrityError).details).to.include(leaves[3]);

    await unlink(leaf);
    expect(await store.has(root)).to.equal(false);
    expect(await store.get(root).catch((e: unknown) => e)).to.be.instanceOf(NotFoundError);

    expect(await store.put(bytes)).to.equal(root);
    expect(Buffer.from(await store.get(root)).equals(bytes)).to.equal(true);
  });

  it("reports a missing block as not found", async () => {
    const cid = await referenceCid(new TextEncoder().encode("never stored"));
    expect(await store.has(cid)).to.equal(false);
    expect(await store.get(cid).catch((e: unknown) => e)).to.be.instanceOf(NotFoundError);
    const dag = referenceUnixfsCid(kuboDeterministicBytes(MiB + 1, "never"), KUBO_LAYOUT);
    expect(await store.has(dag)).to.equal(false);
    expect(await store.get(dag).catch((e: unknown) => e)).to.be.instanceOf(NotFoundError);
  });

  it("refuses CID strings with path tricks or of another kind before touching the file system", async () => {
    // The data directory does not exist: any file-system access would fail differently (or create it).
    const absent = createEvidenceStore({ dataDir: path.join(dataDir, "absent") });
    const cid = await referenceCid(new Uint8Array([1]));
    const dag = referenceUnixfsCid(kuboDeterministicBytes(MiB + 1, "bad"), KUBO_LAYOUT);
    for (const text of [
      "../config.json",
      `../${cid}`,
      `${cid}/../../x`,
      `${dag}/0`,
      "/etc/passwd",
      "zQm",
      cid.toUpperCase(),
      dag.toUpperCase(),
      referenceUnixfsCid(kuboDeterministicBytes(MiB + 1, "bad"), { ...KUBO_LAYOUT, cidVersion: 0 }),
      "bafyreihdb57fdysx5h35urvxz64ros7zvywshber7id6t6c6fek37jgyfe", // dag-cbor
    ]) {
      for (const call of [() => absent.get(text), () => absent.has(text)]) {
        expect(await call().catch((e: unknown) => e), text).to.be.instanceOf(InputError);
      }
    }
    expect(await readdir(dataDir)).to.deep.equal([]);
  });

  it("takes evidence up to 256 MiB and refuses larger with an InputError, before writing anything", async () => {
    const error = await store.put(new Uint8Array(MAX_EVIDENCE_BYTES + 1)).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(InputError);
    expect((error as InputError).message).to.match(/too large/);
    expect(await readdir(dataDir)).to.deep.equal([]);
    const bad = await store.put("text" as unknown as Uint8Array).catch((e: unknown) => e);
    expect(bad).to.be.instanceOf(InputError);
  });
});
