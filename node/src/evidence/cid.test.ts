import { expect } from "chai";
import fc from "fast-check";
import { InputError } from "../errors";
import { blockCid, codecOf, EvidenceIntegrityError, parseBlockCid, rawBlockCid, verifyBlock } from "./cid";
import { base36 } from "multiformats/bases/base36";
import { identity } from "multiformats/hashes/identity";
import { sha512 } from "multiformats/hashes/sha2";
import { CID, referenceCid, sha256 } from "../../../test/helpers/evidence";

const HELLO = new TextEncoder().encode("hello world\n");
/** `printf 'hello world\n' | ipfs block put --cid-codec raw` on Kubo. */
const HELLO_CID = "bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4";
/** A UnixFS root Kubo printed (test/cli/cid_profiles_test.go: 1 MiB + 1 bytes, profile unixfs-v1-2025). */
const DAG_PB_CID = "bafybeigmix7t42i6jacydtquhet7srwvgpizfg7gjbq7627d35mjomtu64";

describe("evidence/cid", () => {
  it("gives the CID Kubo prints for a known block", async () => {
    expect(rawBlockCid(HELLO)).to.equal(HELLO_CID);
    expect(await referenceCid(HELLO)).to.equal(HELLO_CID);
    expect(rawBlockCid(new Uint8Array())).to.equal(await referenceCid(new Uint8Array()));
  });

  it("equals the CID multiformats computes, raw and dag-pb, for any bytes", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 4096 }), async (bytes) => {
        const digest = await sha256.digest(bytes);
        const raw = rawBlockCid(bytes);
        const dagPb = blockCid("dag-pb", bytes);
        expect(raw).to.equal(await referenceCid(bytes));
        expect(dagPb).to.equal(CID.create(1, 0x70, digest).toString());
        expect(parseBlockCid(raw)).to.equal(raw);
        expect(parseBlockCid(dagPb)).to.equal(dagPb);
        expect([codecOf(raw), codecOf(dagPb)]).to.deep.equal(["raw", "dag-pb"]);
      }),
      { numRuns: 300 },
    );
    expect(parseBlockCid(DAG_PB_CID)).to.equal(DAG_PB_CID);
    expect(codecOf(DAG_PB_CID)).to.equal("dag-pb");
  });

  it("checks a block against the codec its CID names", () => {
    verifyBlock(HELLO_CID, HELLO, "test");
    const asDagPb = blockCid("dag-pb", HELLO);
    verifyBlock(asDagPb, HELLO, "test");
    expect(() => verifyBlock(HELLO_CID, HELLO.subarray(1), "test")).to.throw(EvidenceIntegrityError);
  });

  it("refuses anything but a canonical base32 CIDv1 raw or dag-pb sha2-256", async () => {
    const digest = await sha256.digest(HELLO);
    const dagCbor = CID.create(1, 0x71, digest).toString();
    const dagJson = CID.create(1, 0x0129, digest).toString();
    const cidV0 = CID.createV0(digest).toString();
    const upper = (cid: string) => "B" + cid.slice(1).toUpperCase();
    // The last character carries 2 padding bits; setting them names the same bytes differently.
    const paddingBits = (cid: string) => cid.slice(0, -1) + "5";
    const bad = [
      "",
      "../" + HELLO_CID,
      HELLO_CID + "/x",
      HELLO_CID.slice(0, 20) + "/" + HELLO_CID.slice(21),
      "../../etc/passwd",
      HELLO_CID + "\0",
      HELLO_CID.slice(0, -1),
      DAG_PB_CID.slice(0, -1),
      DAG_PB_CID + "a",
      dagCbor,
      dagJson,
      cidV0,
      "QmdfTbBqBPQ7VNxZEYEj14VmRuZBkqFbiwReogJgS1zR1n",
      upper(HELLO_CID),
      upper(DAG_PB_CID),
      paddingBits(HELLO_CID),
      paddingBits(DAG_PB_CID),
      "z" + HELLO_CID.slice(1),
      CID.parse(DAG_PB_CID).toString(base36),
      CID.create(1, 0x70, await sha512.digest(HELLO)).toString(),
      CID.create(1, 0x55, identity.digest(HELLO)).toString(),
    ];
    for (const text of bad) {
      expect(() => parseBlockCid(text), text).to.throw(InputError, /not an evidence CID/);
    }
    expect(() => parseBlockCid(42 as unknown as string)).to.throw(InputError);
  });
});
