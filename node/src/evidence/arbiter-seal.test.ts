import { expect } from "chai";
import { createDecipheriv, hkdfSync } from "node:crypto";
import { SigningKey, Wallet, getBytes } from "ethers";
import { InputError } from "../errors";
import { ARBITER_SEAL_INFO, openForArbiter, sealForArbiter } from "./arbiter-seal";
import { EvidenceBundleError } from "./bundle";

const arbiter = new Wallet("0x" + "2a".repeat(32));
const other = new Wallet("0x" + "3b".repeat(32));
const periodKey = new Uint8Array(32).fill(7);
const CID = "bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4";
const payload = { cid: CID, period: 203001, content: { files: [{ name: "a.csv", base64: "YQ==" }] } };

describe("the arbiter's copy of evidence (ECIES on secp256k1)", () => {
  it("opens with the arbiter's key to the payload, and with no other key", () => {
    const sealed = sealForArbiter(payload, arbiter.signingKey.publicKey, periodKey, CID);
    expect(Buffer.from(sealed.subarray(0, 5)).toString("latin1")).to.equal("ICLA\x01");
    expect(openForArbiter(sealed, arbiter.privateKey)).to.deep.equal(payload);
    expect(() => openForArbiter(sealed, other.privateKey)).to.throw(
      EvidenceBundleError,
      "failed authentication",
    );
  });

  it("is the scheme the README states: HKDF of the ECDH x coordinate salted with the ephemeral key, AES-256-GCM", () => {
    const sealed = sealForArbiter(payload, arbiter.signingKey.compressedPublicKey, periodKey, CID);
    const header = sealed.subarray(0, 38);
    const ephemeral = header.subarray(5);
    const point = getBytes(new SigningKey(arbiter.privateKey).computeSharedSecret(ephemeral));
    const key = hkdfSync("sha256", point.subarray(1, 33), ephemeral, ARBITER_SEAL_INFO, 32);
    const decipher = createDecipheriv("aes-256-gcm", Buffer.from(key), Buffer.alloc(12));
    decipher.setAAD(header);
    decipher.setAuthTag(sealed.subarray(sealed.length - 16));
    const plain = Buffer.concat([decipher.update(sealed.subarray(38, sealed.length - 16)), decipher.final()]);
    expect(JSON.parse(plain.toString("utf8"))).to.deep.equal(payload);
  });

  it("is the same bytes for the same bundle and arbiter, and other bytes for another bundle or arbiter", () => {
    const once = sealForArbiter(payload, arbiter.signingKey.publicKey, periodKey, CID);
    const again = sealForArbiter(payload, arbiter.signingKey.compressedPublicKey, periodKey, CID);
    expect(Buffer.from(again).equals(Buffer.from(once))).to.equal(true);
    const otherCid = CID.replace(/4$/, "a");
    const forOther = sealForArbiter(payload, other.signingKey.publicKey, periodKey, CID);
    const ofOther = sealForArbiter(payload, arbiter.signingKey.publicKey, periodKey, otherCid);
    expect(Buffer.from(forOther.subarray(5, 38)).equals(Buffer.from(once.subarray(5, 38)))).to.equal(false);
    expect(Buffer.from(ofOther.subarray(5, 38)).equals(Buffer.from(once.subarray(5, 38)))).to.equal(false);
  });

  it("refuses altered bytes, other formats and keys that are not on the curve", () => {
    const sealed = sealForArbiter(payload, arbiter.signingKey.publicKey, periodKey, CID);
    for (const at of [4, 10, 40, sealed.length - 1]) {
      const altered = Uint8Array.from(sealed);
      altered[at] = altered[at]! ^ 0x01;
      expect(() => openForArbiter(altered, arbiter.privateKey), `byte ${at}`).to.throw(EvidenceBundleError);
    }
    expect(() => openForArbiter(new TextEncoder().encode("ICLE not this"), arbiter.privateKey)).to.throw(
      EvidenceBundleError,
      "not an arbiter's copy",
    );
    expect(() => sealForArbiter(payload, "0x02" + "00".repeat(32), periodKey, CID)).to.throw(InputError);
    expect(() => sealForArbiter(payload, arbiter.signingKey.publicKey, new Uint8Array(16), CID)).to.throw(
      InputError,
    );
  });
});
