import { expect } from "chai";
import { Wallet, ZeroHash, id, keccak256, toUtf8Bytes, type Signer } from "ethers";
import {
  PeerAuthError,
  PeerVerifier,
  bodyHash,
  peerDomain,
  signPeerMessage,
  type SignedPeerMessage,
} from "./peer-auth";

const LEDGER = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const AGREEMENT = id("agreement ACME-GLOBEX");
const OTHER_AGREEMENT = id("agreement ACME-INITECH");

describe("reconciliation: peer message authentication", () => {
  const acmeNode = Wallet.createRandom();
  const globexNode = Wallet.createRandom();
  const initechNode = Wallet.createRandom();
  const stranger = Wallet.createRandom();
  const domain = peerDomain(31337n, LEDGER);
  const nodes = new Map([
    [acmeNode.address, "ACME"],
    [globexNode.address, "GLOBEX"],
    [initechNode.address, "INITECH"],
  ]);
  let clock = Date.UTC(2026, 10, 1, 12);
  const verifier = () =>
    new PeerVerifier({
      domain,
      ourCarrier: "ACME",
      carrierOfNode: async (address) => nodes.get(address) ?? null,
      partiesOf: async (agreement) =>
        agreement === AGREEMENT
          ? { carrierA: "ACME", carrierB: "GLOBEX" }
          : agreement === OTHER_AGREEMENT
            ? { carrierA: "ACME", carrierB: "INITECH" }
            : null,
      now: () => clock,
    });
  const body = JSON.stringify({ path: "0110", depth: 4 });
  const request = (signer: Signer, overrides: { agreementId?: string; path?: string } = {}) =>
    signPeerMessage(
      signer,
      domain,
      {
        agreementId: overrides.agreementId ?? AGREEMENT,
        kind: "request",
        method: "POST",
        path: overrides.path ?? "/peer/v1/tree/children",
        bodyHash: bodyHash(body),
      },
      () => clock,
    );
  const expected = { kind: "request" as const, method: "POST", path: "/peer/v1/tree/children", body };
  const refusal = async (promise: Promise<unknown>) => {
    try {
      await promise;
    } catch (error) {
      expect(error).to.be.instanceOf(PeerAuthError);
      return (error as PeerAuthError).reason;
    }
    return "accepted";
  };

  it("hashes a body as ethers' keccak256 of its bytes would, text or binary, empty or megabytes", () => {
    const bytes = Uint8Array.from({ length: 3_000_000 }, (_, i) => (i * 7919) & 255);
    for (const body of [
      "",
      '{"keys":["0x01"]}',
      "durée €",
      new Uint8Array(0),
      bytes.subarray(0, 135),
      bytes,
    ]) {
      const reference = keccak256(typeof body === "string" ? toUtf8Bytes(body) : body);
      expect(bodyHash(body)).to.equal(reference);
    }
  });

  it("accepts a request signed by the counterparty's node and names its carrier", async () => {
    expect(await verifier().verify(await request(globexNode), expected)).to.equal("GLOBEX");
  });

  it("refuses a replayed request", async () => {
    const v = verifier();
    const message = await request(globexNode);
    await v.verify(message, expected);
    expect(await refusal(v.verify(message, expected))).to.equal("REPLAY");
  });

  it("refuses a forged signature and a tampered field", async () => {
    const message = await request(globexNode);
    const forged: SignedPeerMessage = { ...message, signature: (await request(stranger)).signature };
    expect(await refusal(verifier().verify(forged, expected))).to.be.oneOf(["BAD_SIGNATURE", "UNKNOWN_NODE"]);
    const tampered = { ...message, path: "/peer/v1/leaves" };
    // The signature still verifies — to some other address — which is no registered node.
    expect(await refusal(verifier().verify(tampered, { ...expected, path: "/peer/v1/leaves" }))).to.equal(
      "UNKNOWN_NODE",
    );
    expect(await refusal(verifier().verify({ ...message, signature: "0x1234" }, expected))).to.equal(
      "BAD_SIGNATURE",
    );
  });

  it("refuses a body or path other than the one signed", async () => {
    const message = await request(globexNode);
    expect(await refusal(verifier().verify(message, { ...expected, body: body + " " }))).to.equal("MISMATCH");
    expect(await refusal(verifier().verify(message, { ...expected, path: "/peer/v1/other" }))).to.equal(
      "MISMATCH",
    );
  });

  it("refuses a carrier that is not party to the agreement, a stranger, and ourselves", async () => {
    expect(await refusal(verifier().verify(await request(initechNode), expected))).to.equal(
      "NOT_COUNTERPARTY",
    );
    expect(await refusal(verifier().verify(await request(stranger), expected))).to.equal("UNKNOWN_NODE");
    expect(await refusal(verifier().verify(await request(acmeNode), expected))).to.equal("NOT_COUNTERPARTY");
    const unknownAgreement = await request(globexNode, { agreementId: id("no such agreement") });
    expect(await refusal(verifier().verify(unknownAgreement, expected))).to.equal("NOT_COUNTERPARTY");
  });

  it("refuses a message outside the allowed clock skew", async () => {
    const message = await request(globexNode);
    clock += 5 * 60_000 + 1;
    expect(await refusal(verifier().verify(message, expected))).to.equal("STALE");
    clock -= 5 * 60_000 + 1;
  });

  it("refuses a message signed for another chain or ledger", async () => {
    const elsewhere = await signPeerMessage(
      globexNode,
      peerDomain(1n, LEDGER),
      {
        agreementId: AGREEMENT,
        kind: "request",
        method: "POST",
        path: expected.path,
        bodyHash: bodyHash(body),
      },
      () => clock,
    );
    expect(await refusal(verifier().verify(elsewhere, expected))).to.equal("UNKNOWN_NODE");
  });

  it("binds a response to its request", async () => {
    const req = await request(acmeNode);
    const response = await signPeerMessage(
      globexNode,
      domain,
      {
        agreementId: AGREEMENT,
        kind: "response",
        method: "POST",
        path: expected.path,
        bodyHash: bodyHash("{}"),
        inReplyTo: req.nonce,
      },
      () => clock,
    );
    const asResponse = { kind: "response" as const, method: "POST", path: expected.path, body: "{}" };
    expect(await verifier().verify(response, { ...asResponse, inReplyTo: req.nonce })).to.equal("GLOBEX");
    expect(await refusal(verifier().verify(response, { ...asResponse, inReplyTo: ZeroHash }))).to.equal(
      "MISMATCH",
    );
  });

  it("refuses malformed messages without throwing anything else", async () => {
    const message = await request(globexNode);
    for (const broken of [
      { ...message, nonce: "0x12" },
      { ...message, timestamp: -1 },
      { ...message, kind: "other" },
    ]) {
      expect(await refusal(verifier().verify(broken as SignedPeerMessage, expected))).to.equal("MALFORMED");
    }
  });
});
