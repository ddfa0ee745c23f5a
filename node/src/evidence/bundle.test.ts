import { expect } from "chai";
import fc from "fast-check";
import { createDecipheriv, createHmac, randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { InputError } from "../errors";
import {
  deriveEvidenceKey,
  EvidenceBundleError,
  getEvidence,
  openEvidence,
  putEvidence,
  sealEvidence,
  type EvidenceContext,
} from "./bundle";
import { createEvidenceStore } from "./create-evidence-store";
import { MAX_BLOCK_BYTES } from "./store";
import {
  KUBO_LAYOUT,
  kuboDeterministicBytes,
  referenceCid,
  referenceUnixfsCid,
  ROUND_TRIP_SIZES,
  startFakeKubo,
} from "../../../test/helpers/evidence";

/** What sealing adds to a payload: 6 header bytes, a 12-byte nonce, a 16-byte tag. */
const SEAL_BYTES = 34;

const KEY = new Uint8Array(randomBytes(32));
const CONTEXT: EvidenceContext = {
  agreementId: "acme-globex-2026",
  period: 202610,
  purpose: "discrepancy-report",
};
const REPORT = { partner: "globex", ours: "1250.500000", theirs: "1249.000000", cdrs: ["a1", "b2"] };

const contexts = fc.record({
  agreementId: fc.string({ minLength: 1, maxLength: 40 }),
  period: fc.nat(),
  purpose: fc.string({ minLength: 1, maxLength: 20 }),
});
const payloads = fc.oneof(
  fc.uint8Array({ maxLength: 1024 }),
  fc.dictionary(fc.string(), fc.jsonValue()),
  fc.array(fc.jsonValue()),
);

function rejected(open: () => unknown): unknown {
  try {
    open();
  } catch (error) {
    return error;
  }
  return undefined;
}

/** RFC 5869 with HMAC written out, to check the documented derivation independently of hkdfSync. */
function hkdfSha256(ikm: Uint8Array, info: Uint8Array): Uint8Array {
  const prk = createHmac("sha256", Buffer.alloc(32)).update(ikm).digest();
  return new Uint8Array(createHmac("sha256", prk).update(info).update(Uint8Array.of(1)).digest());
}

describe("evidence/bundle", () => {
  it("opens what it sealed, bytes as bytes and objects as their JSON", () => {
    fc.assert(
      fc.property(payloads, contexts, (payload, context) => {
        const key = new Uint8Array(randomBytes(32));
        const opened = openEvidence(sealEvidence(payload, key, context), key, context);
        if (payload instanceof Uint8Array) {
          expect(opened).to.be.instanceOf(Uint8Array);
          expect(opened).to.deep.equal(payload);
        } else {
          expect(opened).to.deep.equal(JSON.parse(JSON.stringify(payload)));
        }
      }),
      { numRuns: 300 },
    );
  });

  it("refuses a bundle with any byte altered, or cut short", () => {
    const sealed = sealEvidence(REPORT, KEY, CONTEXT);
    fc.assert(
      fc.property(fc.nat(sealed.length - 1), fc.integer({ min: 1, max: 255 }), (at, mask) => {
        const altered = sealed.slice();
        altered[at] = (altered[at] ?? 0) ^ mask;
        expect(rejected(() => openEvidence(altered, KEY, CONTEXT))).to.be.instanceOf(EvidenceBundleError);
      }),
      { numRuns: 500 },
    );
    for (const length of [0, 10, 33, sealed.length - 1]) {
      expect(rejected(() => openEvidence(sealed.subarray(0, length), KEY, CONTEXT))).to.be.instanceOf(
        EvidenceBundleError,
      );
    }
    const extended = new Uint8Array([...sealed, 0]);
    expect(rejected(() => openEvidence(extended, KEY, CONTEXT))).to.be.instanceOf(EvidenceBundleError);
  });

  it("refuses the wrong key and any other agreement, period or purpose", () => {
    const sealed = sealEvidence(REPORT, KEY, CONTEXT);
    const otherKey = KEY.slice();
    otherKey[31] = (otherKey[31] ?? 0) ^ 1;
    const wrong = [
      () => openEvidence(sealed, otherKey, CONTEXT),
      () => openEvidence(sealed, KEY, { ...CONTEXT, agreementId: "acme-globex-2025" }),
      () => openEvidence(sealed, KEY, { ...CONTEXT, period: CONTEXT.period + 1 }),
      () => openEvidence(sealed, KEY, { ...CONTEXT, purpose: "disputed-cdrs" }),
    ];
    for (const open of wrong) {
      const error = rejected(open);
      expect(error).to.be.instanceOf(EvidenceBundleError);
      expect((error as EvidenceBundleError).message).to.match(/failed authentication/);
    }
    expect(openEvidence(sealed, KEY, { ...CONTEXT })).to.deep.equal(REPORT);
  });

  it("writes the documented format, readable with node:crypto alone", () => {
    const sealed = sealEvidence(new TextEncoder().encode("cdr,cdr"), KEY, {
      agreementId: "ab",
      period: 3,
      purpose: "p",
    });
    expect(Buffer.from(sealed.subarray(0, 6))).to.deep.equal(Buffer.from([0x49, 0x43, 0x4c, 0x45, 1, 1]));
    const aad = Buffer.from([...sealed.subarray(0, 6), 0, 2, 0x61, 0x62, 0, 0, 0, 0, 0, 0, 0, 3, 0, 1, 0x70]);
    const decipher = createDecipheriv("aes-256-gcm", KEY, sealed.subarray(6, 18));
    decipher.setAAD(aad);
    decipher.setAuthTag(sealed.subarray(sealed.length - 16));
    const plain = Buffer.concat([decipher.update(sealed.subarray(18, sealed.length - 16)), decipher.final()]);
    expect(plain.toString()).to.equal("cdr,cdr");
    expect(sealed.length).to.equal(6 + 12 + 7 + 16);
    expect(sealed[5], "bytes kind").to.equal(1);
    expect(sealEvidence(REPORT, KEY, CONTEXT)[5]).to.equal(2);
  });

  it("seals large payloads in the same format, a slice at a time", () => {
    const payload = kuboDeterministicBytes(3 * 1024 * 1024 + 7, "large");
    const sealed = sealEvidence(payload, KEY, { agreementId: "ab", period: 3, purpose: "p" });
    const aad = Buffer.from([...sealed.subarray(0, 6), 0, 2, 0x61, 0x62, 0, 0, 0, 0, 0, 0, 0, 3, 0, 1, 0x70]);
    const decipher = createDecipheriv("aes-256-gcm", KEY, sealed.subarray(6, 18));
    decipher.setAAD(aad);
    decipher.setAuthTag(sealed.subarray(sealed.length - 16));
    const plain = Buffer.concat([decipher.update(sealed.subarray(18, sealed.length - 16)), decipher.final()]);
    expect(plain.equals(payload)).to.equal(true);
  });

  it("uses a fresh nonce per bundle", () => {
    const a = sealEvidence(REPORT, KEY, CONTEXT);
    const b = sealEvidence(REPORT, KEY, CONTEXT);
    expect(Buffer.from(a.subarray(6, 18))).to.not.deep.equal(Buffer.from(b.subarray(6, 18)));
  });

  it("refuses keys that are not 32 bytes, bad contexts and payloads JSON cannot encode", () => {
    const bad = [
      () => sealEvidence(REPORT, new Uint8Array(16), CONTEXT),
      () => sealEvidence(REPORT, KEY, { ...CONTEXT, agreementId: "" }),
      () => sealEvidence(REPORT, KEY, { ...CONTEXT, period: -1 }),
      () => sealEvidence(REPORT, KEY, { ...CONTEXT, period: 1.5 }),
      () => sealEvidence(REPORT, KEY, { ...CONTEXT, purpose: "x".repeat(1025) }),
      () => sealEvidence({ amount: 10n }, KEY, CONTEXT),
      () => sealEvidence(null as unknown as object, KEY, CONTEXT),
      () => openEvidence(sealEvidence(REPORT, KEY, CONTEXT), new Uint8Array(31), CONTEXT),
    ];
    for (const call of bad) expect(rejected(call)).to.be.instanceOf(InputError);
  });

  it("derives the same key on both sides, a different one per period, agreement and secret", () => {
    const secret = new Uint8Array(randomBytes(32));
    const ours = deriveEvidenceKey(secret, "acme-globex-2026", 202610);
    const theirs = deriveEvidenceKey(secret.slice(), "acme-globex-2026", 202610);
    expect(ours).to.deep.equal(theirs);
    expect(ours.length).to.equal(32);
    const others = [
      deriveEvidenceKey(secret, "acme-globex-2026", 202611),
      deriveEvidenceKey(secret, "acme-globex-2027", 202610),
      deriveEvidenceKey(new Uint8Array(randomBytes(32)), "acme-globex-2026", 202610),
    ];
    for (const other of others) expect(Buffer.from(other)).to.not.deep.equal(Buffer.from(ours));
    const sealed = sealEvidence(REPORT, ours, CONTEXT);
    expect(openEvidence(sealed, theirs, CONTEXT)).to.deep.equal(REPORT);
    expect(rejected(() => openEvidence(sealed, others[0] ?? KEY, CONTEXT))).to.be.instanceOf(
      EvidenceBundleError,
    );
  });

  it("derives keys exactly as documented (HKDF-SHA256, no salt, info = label, 0, agreement, period)", () => {
    const secret = new Uint8Array(32).fill(0x0b);
    const info = Buffer.concat([
      Buffer.from("interconnect-ledger/evidence-key/v1\0"),
      Buffer.from([0, 2, 0x61, 0x62, 0, 0, 0, 0, 0, 0, 0x01, 0x00]),
    ]);
    expect(deriveEvidenceKey(secret, "ab", 256)).to.deep.equal(hkdfSha256(secret, info));
    expect(rejected(() => deriveEvidenceKey(new Uint8Array(31), "ab", 1))).to.be.instanceOf(InputError);
    expect(rejected(() => deriveEvidenceKey(secret, "ab", -1))).to.be.instanceOf(InputError);
  });

  it("puts and gets sealed evidence through a store", async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), "icl-evidence-"));
    try {
      const store = createEvidenceStore({ dataDir });
      const cid = await putEvidence(store, REPORT, KEY, CONTEXT);
      expect(cid).to.match(/^bafkrei/);
      expect(cid).to.equal(await referenceCid(await store.get(cid)));
      expect(await getEvidence(store, cid, KEY, CONTEXT)).to.deep.equal(REPORT);
      const wrong = await getEvidence(store, cid, KEY, { ...CONTEXT, period: 1 }).catch((e: unknown) => e);
      expect(wrong).to.be.instanceOf(EvidenceBundleError);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it("puts and gets sealed evidence of any size, locally and on IPFS, under the same CID", async function () {
    this.timeout(60_000);
    const dataDir = await mkdtemp(path.join(tmpdir(), "icl-evidence-"));
    const kubo = await startFakeKubo();
    try {
      const local = createEvidenceStore({ dataDir });
      const ipfs = createEvidenceStore({ dataDir, ipfsApiUrl: kubo.url });
      // Sealed sizes: 34 bytes (an empty payload), exactly 1 MiB, 1 MiB + 1, 5 MiB, 44 MiB.
      for (const sealedSize of ROUND_TRIP_SIZES.map((size) => Math.max(size, SEAL_BYTES))) {
        const payload = kuboDeterministicBytes(sealedSize - SEAL_BYTES, `bundle ${sealedSize}`);
        const cid = await putEvidence(local, payload, KEY, CONTEXT);
        const sealed = await local.get(cid);
        expect(sealed.byteLength).to.equal(sealedSize);
        if (sealedSize <= MAX_BLOCK_BYTES) {
          expect(cid).to.match(/^bafkrei/);
          expect(cid).to.equal(await referenceCid(sealed));
        } else {
          expect(cid).to.match(/^bafybei/);
          expect(cid).to.equal(referenceUnixfsCid(sealed, KUBO_LAYOUT));
        }
        // A fresh nonce makes another bundle: store these exact bytes on IPFS to compare the CID.
        expect(await ipfs.put(sealed)).to.equal(cid);
        for (const store of [local, ipfs]) {
          const opened = await getEvidence(store, cid, KEY, CONTEXT);
          expect(Buffer.from(opened as Uint8Array).equals(payload), `${sealedSize} bytes`).to.equal(true);
        }
      }
      const large = {
        cdrs: Array.from({ length: 40_000 }, (_, i) => ({ cdrId: `cdr-${i}`, amount: "1.250000" })),
      };
      const cid = await putEvidence(ipfs, large, KEY, CONTEXT);
      expect(cid).to.match(/^bafybei/);
      expect(await getEvidence(ipfs, cid, KEY, CONTEXT)).to.deep.equal(large);
      const wrong = await getEvidence(ipfs, cid, KEY, { ...CONTEXT, purpose: "x" }).catch((e: unknown) => e);
      expect(wrong).to.be.instanceOf(EvidenceBundleError);
    } finally {
      await kubo.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
