import { expect } from "chai";
import fc from "fast-check";
import { InputError } from "../errors";
import { parseRawBlockCid, rawBlockCid } from "./cid";
import { referenceCid } from "./test-helpers";

const HELLO = new TextEncoder().encode("hello world\n");
/** `printf 'hello world\n' | ipfs block put --cid-codec raw` on Kubo. */
const HELLO_CID = "bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4";

describe("evidence/cid", () => {
  it("gives the CID Kubo prints for a known block", async () => {
    expect(rawBlockCid(HELLO)).to.equal(HELLO_CID);
    expect(await referenceCid(HELLO)).to.equal(HELLO_CID);
    expect(rawBlockCid(new Uint8Array())).to.equal(await referenceCid(new Uint8Array()));
  });

  it("equals the CID multiformats computes, for any bytes", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 4096 }), async (bytes) => {
        const cid = rawBlockCid(bytes);
        expect(cid).to.equal(await referenceCid(bytes));
        expect(parseRawBlockCid(cid)).to.equal(cid);
      }),
      { numRuns: 300 },
    );
  });

  it("refuses anything but a canonical base32 CIDv1 raw sha2-256", () => {
    const dagPb = "bafybeihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku";
    const cidV0 = "QmdfTbBqBPQ7VNxZEYEj14VmRuZBkqFbiwReogJgS1zR1n";
    const upper = "B" + HELLO_CID.slice(1).toUpperCase();
    // The last character carries 2 padding bits; setting them names the same bytes differently.
    const paddingBits = HELLO_CID.slice(0, -1) + "5";
    const bad = [
      "",
      "../" + HELLO_CID,
      HELLO_CID + "/x",
      HELLO_CID.slice(0, 20) + "/" + HELLO_CID.slice(21),
      "../../etc/passwd",
      HELLO_CID + "\0",
      HELLO_CID.slice(0, -1),
      dagPb,
      cidV0,
      upper,
      paddingBits,
      "z" + HELLO_CID.slice(1),
    ];
    for (const text of bad) {
      expect(() => parseRawBlockCid(text), text).to.throw(InputError, /CIDv1 raw sha2-256/);
    }
    expect(() => parseRawBlockCid(42 as unknown as string)).to.throw(InputError);
  });
});
