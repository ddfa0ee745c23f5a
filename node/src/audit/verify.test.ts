import { expect } from "chai";
import { encodeBytes32String } from "ethers";
import { PERIOD, startHardhatNode, type HardhatNode } from "../../../test/helpers/hardhat";
import { openAuditChain, type AuditChain } from "./chain";
import { arrayEventSource, collectEvents, rpcEventSource, type AuditEvent } from "./events";
import type { Finding } from "./findings";
import { buildHonestHistory, PERIOD2, type HonestHistory } from "../../../test/helpers/audit-history";
import { verifyLedger } from "./verify";

describe("audit: replaying a doctored event stream", function () {
  this.timeout(120_000);
  let hardhat: HardhatNode;
  let history: HonestHistory;
  let chain: AuditChain;
  let events: AuditEvent[];

  before(async () => {
    hardhat = await startHardhatNode();
    history = await buildHonestHistory(hardhat.provider);
    chain = await openAuditChain({ rpcUrl: hardhat.url, ledger: history.c.addresses.ledger });
    events = await collectEvents(
      rpcEventSource(chain.provider, chain.addresses, { fromBlock: chain.fromBlock, toBlock: chain.toBlock }),
    );
  });

  after(async () => {
    chain?.close();
    await hardhat?.stop();
  });

  const agreement = (name: keyof HonestHistory["c"]["agreements"]) =>
    history.c.agreements[name].agreementId.toLowerCase();
  const carrier = (name: string) => encodeBytes32String(name).toLowerCase();
  /** The index of the only event matching `match`. */
  const only = (match: (e: AuditEvent) => boolean): number => {
    const found = events.flatMap((e, i) => (match(e) ? [i] : []));
    expect(found, "the honest stream has exactly one such event").to.have.length(1);
    return found[0]!;
  };
  const of = (e: AuditEvent, name: string, period: number, agreementName?: string) =>
    e.name === name &&
    Number(e.args.period) === period &&
    (agreementName === undefined || String(e.args.agreementId).toLowerCase() === agreementName);
  const run = async (doctored: AuditEvent[]) => verifyLedger(chain, { source: arrayEventSource(doctored) });
  const errors = (findings: Finding[]) => findings.filter((f) => f.severity === "error");
  const withArgs = (e: AuditEvent, args: Record<string, unknown>): AuditEvent => ({
    ...e,
    args: { ...e.args, ...args },
  });

  it("finds nothing wrong in the honest history and checks every step", async () => {
    const result = await run(events);
    expect(errors(result.findings), JSON.stringify(result.findings, null, 1)).to.deep.equal([]);
    expect(result.ok).to.equal(true);
    expect(result.checked).to.deep.include({
      carriers: 3,
      agreements: 3,
      periods: 5,
      reveals: 10,
      revealsVerified: 10,
      evaluations: 5,
      rulings: 1,
    });
    // 5 final settlements and one partial one; both approvals per carrier and period.
    expect(result.checked.settlements).to.equal(6);
    expect(result.checked.carrierApprovals).to.equal(12);
    // Each of the six settlements (five final, one partial) spent its payer's reservation; the batch
    // skipped ACME–GLOBEX 203001, settled before.
    expect(result.checked).to.deep.include({ reservations: 6, releases: 0, skippedSettlements: 1 });
  });

  it("catches a reservation of another amount than the payer owes", async () => {
    const AG = agreement("ACME-GLOBEX");
    const i = only((e) => of(e, "EscrowReserved", PERIOD, AG));
    expect(events[i]!.args.amount).to.equal(60_000_000n);
    const doctored = [...events];
    doctored[i] = withArgs(events[i]!, { amount: 50_000_000n });
    const result = await run(doctored);
    expect(result.ok).to.equal(false);
    const found = result.findings.find((f) => f.kind === "reservation-mismatch");
    expect(found).to.deep.include({
      block: events[i]!.blockNumber,
      tx: events[i]!.txHash,
      agreementId: AG,
      period: PERIOD,
    });
    expect(found?.message).to.contain(
      "reserved 50000000 (final); the approved figures make party A owe 60000000",
    );
  });

  it("catches a payer's approval that reserved nothing (EscrowReserved dropped), and the settlement it then paid", async () => {
    const AI = agreement("ACME-INITECH");
    const i = only((e) => of(e, "EscrowReserved", PERIOD2, AI));
    const approval = events.findIndex(
      (e) =>
        of(e, "CarrierApproved", PERIOD2, AI) && String(e.args.carrierId).toLowerCase() === carrier("ACME"),
    );
    const result = await run(events.filter((_, k) => k !== i));
    expect(result.ok).to.equal(false);
    const missing = result.findings.filter((f) => f.kind === "reservation-missing");
    expect(missing[0]).to.deep.include({
      block: events[approval]!.blockNumber,
      tx: events[approval]!.txHash,
      agreementId: AI,
      period: PERIOD2,
    });
    expect(missing[0]!.message).to.contain("party A approved as payer of 15000000 but reserved nothing");
    expect(missing[1]!.message).to.contain("held no reservation for it");
    // Nothing is reserved at the end on either side, so the views add no reservation finding.
    expect(result.findings.filter((f) => f.kind.startsWith("reserved-"))).to.deep.equal([]);
  });

  it("catches a batch that claims to have skipped a period it had to settle", async () => {
    const AG = agreement("ACME-GLOBEX");
    const i = only((e) => of(e, "SettlementSkipped", PERIOD, AG));
    expect(events[i]!.args.state).to.equal(13n); // Settled
    const doctored = [...events];
    doctored[i] = withArgs(events[i]!, { state: 12n });
    const result = await run(doctored);
    const found = result.findings.find((f) => f.kind === "unexpected-event");
    expect(found).to.deep.include({ block: events[i]!.blockNumber, tx: events[i]!.txHash, period: PERIOD });
    expect(found?.message).to.contain("settleBatch skipped the period as Approved; it was Settled");
  });

  it("names the block, transaction and period of a Revealed event whose amount was altered", async () => {
    const AI = agreement("ACME-INITECH");
    const i = only(
      (e) => of(e, "Revealed", PERIOD, AI) && String(e.args.carrierId).toLowerCase() === carrier("INITECH"),
    );
    const doctored = [...events];
    doctored[i] = withArgs(events[i]!, { amountAB: 260_000_000n });
    const result = await run(doctored);
    expect(result.ok).to.equal(false);
    const finding = result.findings.find((f) => f.kind === "reveal-event-mismatch");
    expect(finding).to.deep.include({
      severity: "error",
      block: events[i]!.blockNumber,
      tx: events[i]!.txHash,
      agreementId: AI,
      agreement: "ACME–INITECH",
      period: PERIOD,
    });
    expect(finding?.message).to.contain("amountAB 250000000 (event 260000000)");
    // The rebuilt claim also differs from the contract's record, at the same reveal.
    expect(
      result.findings.find((f) => f.kind === "record-mismatch" && f.message.startsWith("amountABofB")),
    ).to.deep.include({
      block: events[i]!.blockNumber,
      tx: events[i]!.txHash,
    });
  });

  it("locates a dropped FiguresProposed (the counter-proposal) by the dispute's lastActionAt", async () => {
    const AI = agreement("ACME-INITECH");
    const i = only(
      (e) =>
        of(e, "FiguresProposed", PERIOD, AI) && String(e.args.carrierId).toLowerCase() === carrier("ACME"),
    );
    const doctored = events.filter((_, k) => k !== i);
    const result = await run(doctored);
    expect(result.ok).to.equal(false);
    const finding = result.findings.find(
      (f) => f.kind === "record-mismatch" && f.message.startsWith("dispute.lastActionAt"),
    );
    expect(finding).to.deep.include({
      block: events[i]!.blockNumber,
      tx: events[i]!.txHash,
      agreementId: AI,
      period: PERIOD,
    });
    const proposer = result.findings.find(
      (f) => f.kind === "record-mismatch" && f.message.startsWith("dispute.proposer"),
    );
    expect(proposer?.block).to.equal(events[i]!.blockNumber);
  });

  it("names the settle transaction when its Settled event is dropped", async () => {
    const AG = agreement("ACME-GLOBEX");
    const i = only((e) => of(e, "Settled", PERIOD, AG));
    const result = await run(events.filter((_, k) => k !== i));
    expect(result.ok).to.equal(false);
    expect(result.findings.find((f) => f.kind === "netting-mismatch")).to.deep.include({
      block: events[i]!.blockNumber,
      tx: events[i]!.txHash,
      agreementId: AG,
      period: PERIOD,
    });
    expect(result.findings.find((f) => f.kind === "state-mismatch")).to.deep.include({
      block: events[i]!.blockNumber,
      tx: events[i]!.txHash,
      agreementId: AG,
      period: PERIOD,
    });
  });

  it("catches an evaluation that does not follow the tolerance rule", async () => {
    const GI = agreement("GLOBEX-INITECH");
    const i = only((e) => of(e, "Evaluated", PERIOD, GI));
    // Terminating rule: A→B settles at B's 201 000 000, not A's 200 000 000.
    expect(events[i]!.args.amountAB).to.equal(201_000_000n);
    const doctored = [...events];
    doctored[i] = withArgs(events[i]!, { amountAB: 200_000_000n });
    const result = await run(doctored);
    const finding = result.findings.find((f) => f.kind === "evaluation-mismatch");
    expect(finding).to.deep.include({
      block: events[i]!.blockNumber,
      tx: events[i]!.txHash,
      agreementId: GI,
      period: PERIOD,
    });
    expect(finding?.message).to.contain("Reconciled 201000000/50000000");
    expect(errors(result.findings)).to.have.length(1);
  });

  it("catches a batch settlement whose net differs from the approved figures", async () => {
    const AI = agreement("ACME-INITECH");
    const i = only((e) => of(e, "Settled", PERIOD2, AI));
    const doctored = [...events];
    doctored[i] = withArgs(events[i]!, { netAB: 14_000_000n });
    const result = await run(doctored);
    const where = { block: events[i]!.blockNumber, tx: events[i]!.txHash, agreementId: AI, period: PERIOD2 };
    expect(result.findings.find((f) => f.kind === "settlement-mismatch")).to.deep.include(where);
    // The batch's escrow movements no longer add up to its Settled nets.
    expect(result.findings.find((f) => f.kind === "netting-mismatch")).to.deep.include({
      block: where.block,
      tx: where.tx,
    });
  });

  it("catches the partial settlement being counted as if it had not happened", async () => {
    const AI = agreement("ACME-INITECH");
    const i = only((e) => of(e, "Settled", PERIOD, AI) && e.args.partialSettlement === false);
    // Final net is (280 − 10) − (250 − 10) = 30 units after the partial settlement's 240.
    expect(events[i]!.args.netAB).to.equal(30_000_000n);
    const doctored = [...events];
    doctored[i] = withArgs(events[i]!, { netAB: 270_000_000n });
    const result = await run(doctored);
    expect(result.findings.find((f) => f.kind === "settlement-mismatch")?.message).to.contain(
      "less the partial settlement's 240000000",
    );
  });

  it("refuses an approval by an officer removed before it", async () => {
    const AG = agreement("ACME-GLOBEX");
    const removed = history.c.carriers.ACME.officers[2].address;
    // 2-of-3 signatures submitted together: the CarrierApproved names both officers
    const i = events.findIndex(
      (e) =>
        of(e, "CarrierApproved", PERIOD2, AG) && String(e.args.carrierId).toLowerCase() === carrier("ACME"),
    );
    const officers = events[i]!.args.officers as string[];
    expect(officers).to.have.length(2);
    const doctored = [...events];
    doctored[i] = withArgs(events[i]!, { officers: [removed, officers[1]] });
    const result = await run(doctored);
    const finding = result.findings.find((f) => f.kind === "approval-not-officer");
    expect(finding).to.deep.include({
      block: events[i]!.blockNumber,
      tx: events[i]!.txHash,
      agreementId: AG,
      period: PERIOD2,
    });
    expect(finding?.message).to.contain(removed);
    // With one officer fewer, ACME's approval no longer met its threshold of 2.
    expect(result.findings.find((f) => f.kind === "approval-threshold-not-met")).to.deep.include({
      agreementId: AG,
      period: PERIOD2,
    });
  });

  it("catches a ruling outside the claims", async () => {
    const AI = agreement("ACME-INITECH");
    const i = only((e) => of(e, "DisputeRuled", PERIOD, AI));
    const doctored = [...events];
    doctored[i] = withArgs(events[i]!, { amountAB: 310_000_000n });
    const result = await run(doctored);
    expect(result.findings.find((f) => f.kind === "ruling-out-of-range")).to.deep.include({
      block: events[i]!.blockNumber,
      tx: events[i]!.txHash,
      agreementId: AI,
      period: PERIOD,
    });
  });
});
