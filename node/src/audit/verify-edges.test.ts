import { expect } from "chai";
import { encodeBytes32String } from "ethers";
import type { Consortium } from "../../../scripts/lib/consortium";
import { PERIOD, startHardhatNode, type HardhatNode } from "../../../test/helpers/hardhat";
import { openAuditChain, type AuditChain } from "./chain";
import { arrayEventSource, collectEvents, rpcEventSource, type AuditEvent } from "./events";
import type { Finding } from "./findings";
import { PERIOD2 } from "../../../test/helpers/audit-history";
import { buildEdgeHistory, EDGE } from "../../../test/helpers/audit-history-edges";
import { verifyLedger } from "./verify";

describe("audit: edge paths (correction rounds, defaults, acceptance, withdrawal, lapsed arbitration)", function () {
  this.timeout(120_000);
  let hardhat: HardhatNode;
  let c: Consortium;
  let chain: AuditChain;
  let events: AuditEvent[];

  before(async () => {
    hardhat = await startHardhatNode();
    c = await buildEdgeHistory(hardhat.provider);
    chain = await openAuditChain({ rpcUrl: hardhat.url, ledger: c.addresses.ledger });
    events = await collectEvents(
      rpcEventSource(chain.provider, chain.addresses, { fromBlock: chain.fromBlock, toBlock: chain.toBlock }),
    );
  });

  after(async () => {
    chain?.close();
    await hardhat?.stop();
  });

  const agreement = (name: keyof Consortium["agreements"]) => c.agreements[name].agreementId.toLowerCase();
  const carrier = (name: string) => encodeBytes32String(name).toLowerCase();
  const by = (e: AuditEvent, name: string) => String(e.args.carrierId).toLowerCase() === carrier(name);
  /** The index of the only event matching `match`. */
  const only = (match: (e: AuditEvent) => boolean): number => {
    const found = events.flatMap((e, i) => (match(e) ? [i] : []));
    expect(found, "the honest stream has exactly one such event").to.have.length(1);
    return found[0]!;
  };
  const of = (e: AuditEvent, name: string, period: number, agreementId: string) =>
    e.name === name &&
    Number(e.args.period) === period &&
    String(e.args.agreementId).toLowerCase() === agreementId;
  const run = async (doctored: AuditEvent[]) => verifyLedger(chain, { source: arrayEventSource(doctored) });
  const errors = (findings: Finding[]) => findings.filter((f) => f.severity === "error");
  const withArgs = (e: AuditEvent, args: Record<string, unknown>): AuditEvent => ({
    ...e,
    args: { ...e.args, ...args },
  });
  /** Block, transaction, agreement and period of the event at `i`. */
  const at = (i: number, agreementId: string, period: number) => ({
    block: events[i]!.blockNumber,
    tx: events[i]!.txHash,
    agreementId,
    period,
  });
  const finding = (findings: Finding[], kind: Finding["kind"], text: string) =>
    findings.find((f) => f.kind === kind && f.message.includes(text));

  it("finds nothing wrong in the edge history and replays every edge path", async () => {
    const result = await run(events);
    expect(result.findings, JSON.stringify(result.findings, null, 1)).to.deep.equal([]);
    expect(result.ok).to.equal(true);
    expect(result.checked).to.deep.include({
      periods: 6,
      reveals: 11,
      revealsVerified: 11,
      // Round 0 and round 1 of ACME–GLOBEX 203001, and the two mismatches of 203002.
      evaluations: 4,
      correctionRounds: 1,
      defaultsContested: 2,
      acceptances: 1,
      withdrawals: 2,
      rulings: 0,
      uncontested: 1,
      lapsedArbitrations: 1,
      // Six final settlements and the partial one of ACME–INITECH 203002.
      settlements: 7,
      // GLOBEX approved GLOBEX–INITECH 203001 twice: its first approval lapsed and was released.
      carrierApprovals: 15,
      reservations: 8,
      releases: 1,
    });
    for (const name of ["ACME-GLOBEX", "GLOBEX-INITECH", "ACME-INITECH"] as const) {
      for (const period of [PERIOD, PERIOD2]) {
        expect(await c.deployment.ledger.state(c.agreements[name].agreementId, period)).to.equal(13n); // Settled
      }
    }
    // The figures the ledger settled at are the ones each edge rule gives.
    const settled = (name: keyof Consortium["agreements"], period: number) =>
      events.find((e) => of(e, "Settled", period, agreement(name)) && e.args.partialSettlement === false)!
        .args;
    expect(settled("GLOBEX-INITECH", PERIOD)).to.deep.include({
      amountAB: EDGE.uncontested.a.ab,
      amountBA: EDGE.uncontested.a.ba,
    });
    expect(settled("ACME-INITECH", PERIOD)).to.deep.include({
      amountAB: EDGE.contested.proposal.ab,
      amountBA: EDGE.contested.proposal.ba,
    });
    expect(settled("ACME-GLOBEX", PERIOD2)).to.deep.include({
      amountAB: EDGE.withdrawn.b.ab,
      amountBA: EDGE.withdrawn.b.ba,
    });
    // Mean rounded down, less the partial settlement's 250 − 10 = 240.
    expect(settled("ACME-INITECH", PERIOD2)).to.deep.include({
      amountAB: EDGE.lapsed.mean.ab,
      amountBA: EDGE.lapsed.mean.ba,
      netAB: EDGE.lapsed.mean.ab - EDGE.lapsed.mean.ba - 240_000_000n,
    });
    expect(settled("GLOBEX-INITECH", PERIOD2)).to.deep.include({
      amountAB: EDGE.contestedWithdrawn.a.ab,
      amountBA: EDGE.contestedWithdrawn.a.ba,
    });
  });

  it("correction round: catches a commitment logged after the reconcile window closed", async () => {
    const AG = agreement("ACME-GLOBEX");
    const i = only((e) => of(e, "Committed", PERIOD, AG) && by(e, "ACME") && e.args.round === 1n);
    // The stream claims ACME's correction commitment came in the block of GLOBEX–INITECH's settlement,
    // twelve days after round 0 was evaluated (the reconcile window is five).
    const late = only((e) => of(e, "Settled", PERIOD, agreement("GLOBEX-INITECH")));
    const doctored = [...events];
    doctored[i] = { ...events[i]!, blockNumber: events[late]!.blockNumber, txHash: events[late]!.txHash };
    const result = await run(doctored);
    expect(result.ok).to.equal(false);
    expect(finding(result.findings, "unexpected-event", "after the reconcile window closed")).to.deep.include(
      {
        ...at(late, AG, PERIOD),
        agreement: "ACME–GLOBEX",
      },
    );
  });

  it("correction round: catches a fourth round, which MAX_ROUNDS forbids", async () => {
    const AG = agreement("ACME-GLOBEX");
    const round0 = events.flatMap((e, k) =>
      ["Committed", "Revealed", "Evaluated"].some((name) => of(e, name, PERIOD, AG)) && e.args.round === 0n
        ? [k]
        : [],
    );
    expect(round0).to.have.length(5);
    const last = round0.at(-1)!;
    // Two more mismatched rounds spliced in after round 0: the real correction is then round 3.
    const replayed = (round: bigint) => round0.map((k) => withArgs(events[k]!, { round }));
    const doctored = [
      ...events.slice(0, last + 1),
      ...replayed(1n),
      ...replayed(2n),
      ...events.slice(last + 1),
    ];
    const i = only((e) => of(e, "Committed", PERIOD, AG) && by(e, "ACME") && e.args.round === 1n);
    const result = await run(doctored);
    expect(finding(result.findings, "unexpected-event", "at most 3 rounds")).to.deep.include(
      at(i, AG, PERIOD),
    );
  });

  it("uncontested default: catches approved figures other than the present party's", async () => {
    const GI = agreement("GLOBEX-INITECH");
    const i = only((e) => of(e, "CarrierApproved", PERIOD, GI) && by(e, "INITECH"));
    const doctored = [...events];
    // INITECH never revealed; approving as if its silence counted for zero is not what the ledger holds.
    doctored[i] = withArgs(events[i]!, { amountAB: 0n, amountBA: 0n });
    const result = await run(doctored);
    const f = finding(result.findings, "approval-figures-mismatch", "the period held 70000000/25000000");
    expect(f).to.deep.include({ ...at(i, GI, PERIOD), agreement: "GLOBEX–INITECH" });
    expect(errors(result.findings)).to.have.length(1);
  });

  it("uncontested default: catches an approval logged before the dispute window closed", async () => {
    const GI = agreement("GLOBEX-INITECH");
    // GLOBEX's first approval (the one whose reservation lapsed and was released).
    const i = events.findIndex((e) => of(e, "CarrierApproved", PERIOD, GI) && by(e, "GLOBEX"));
    // Moved to the block where INITECH accepted ACME's proposal on the other agreement: GLOBEX–INITECH
    // was still Defaulted then (INITECH could have contested).
    const early = only((e) => of(e, "FiguresAccepted", PERIOD, agreement("ACME-INITECH")));
    const doctored = [...events];
    doctored[i] = { ...events[i]!, blockNumber: events[early]!.blockNumber, txHash: events[early]!.txHash };
    const result = await run(doctored);
    expect(finding(result.findings, "unexpected-event", "while the period was Defaulted")).to.deep.include(
      at(early, GI, PERIOD),
    );
    // A Defaulted period holds no final figures, so none are quoted against the approval.
    expect(result.findings.filter((f) => f.kind === "approval-figures-mismatch")).to.deep.equal([]);
  });

  it("release: catches a release logged before the reservation expired", async () => {
    const GI = agreement("GLOBEX-INITECH");
    const i = only((e) => of(e, "ReservationReleased", PERIOD, GI));
    // The stream claims it came in the transaction of the approval that made the reservation.
    const made = events.findIndex((e) => of(e, "EscrowReserved", PERIOD, GI));
    const doctored = [...events];
    doctored[i] = { ...events[i]!, blockNumber: events[made]!.blockNumber, txHash: events[made]!.txHash };
    const result = await run(doctored);
    expect(result.ok).to.equal(false);
    expect(
      finding(result.findings, "reservation-mismatch", "before the reservation expired at"),
    ).to.deep.include(at(made, GI, PERIOD));
  });

  it("release: catches a release of another amount than the reservation held", async () => {
    const GI = agreement("GLOBEX-INITECH");
    const i = only((e) => of(e, "ReservationReleased", PERIOD, GI));
    expect(events[i]!.args.amount).to.equal(EDGE.uncontested.a.ab - EDGE.uncontested.a.ba);
    const doctored = [...events];
    doctored[i] = withArgs(events[i]!, { amount: 1n });
    const result = await run(doctored);
    expect(
      finding(result.findings, "reservation-mismatch", "the period held A's final one of 45000000"),
    ).to.deep.include(at(i, GI, PERIOD));
  });

  it("contested default: catches a default contested by the party that revealed", async () => {
    const AI = agreement("ACME-INITECH");
    const i = only((e) => of(e, "DefaultContested", PERIOD, AI));
    const doctored = [...events];
    doctored[i] = withArgs(events[i]!, { carrierId: carrier("ACME") });
    const result = await run(doctored);
    expect(
      finding(result.findings, "dispute-mismatch", "a default contested by the party that revealed"),
    ).to.deep.include({ ...at(i, AI, PERIOD), agreement: "ACME–INITECH" });
  });

  it("contested default: an altered claim is found at the contest, against disputeRecord/periodRecord", async () => {
    const AI = agreement("ACME-INITECH");
    const i = only((e) => of(e, "DefaultContested", PERIOD, AI));
    const doctored = [...events];
    doctored[i] = withArgs(events[i]!, { amountAB: 85_000_000n });
    const result = await run(doctored);
    expect(finding(result.findings, "record-mismatch", "amountABofB")).to.deep.include(at(i, AI, PERIOD));
  });

  it("accepted proposal: catches accepted figures other than the proposal", async () => {
    const AI = agreement("ACME-INITECH");
    const i = only((e) => of(e, "FiguresAccepted", PERIOD, AI));
    const doctored = [...events];
    doctored[i] = withArgs(events[i]!, { amountAB: 80_000_000n });
    const result = await run(doctored);
    expect(
      finding(
        result.findings,
        "dispute-mismatch",
        "accepted 80000000/15000000, the proposal was 90000000/15000000",
      ),
    ).to.deep.include(at(i, AI, PERIOD));
  });

  it("withdrawal: catches a withdrawal that concedes the opener's own claim", async () => {
    const AG = agreement("ACME-GLOBEX");
    const i = only((e) => of(e, "DisputeWithdrawn", PERIOD2, AG));
    const doctored = [...events];
    doctored[i] = withArgs(events[i]!, { amountAB: EDGE.withdrawn.a.ab, amountBA: EDGE.withdrawn.a.ba });
    const result = await run(doctored);
    expect(
      finding(
        result.findings,
        "dispute-mismatch",
        "withdrawal conceded 50000000/20000000, the other claim is 30000000/20000000",
      ),
    ).to.deep.include({ ...at(i, AG, PERIOD2), agreement: "ACME–GLOBEX" });
  });

  it("lapsed arbitration: catches approved figures at the mean rounded up", async () => {
    const AI = agreement("ACME-INITECH");
    const i = only(
      (e) => of(e, "CarrierApproved", PERIOD2, AI) && by(e, "ACME") && e.args.partialSettlement === false,
    );
    const doctored = [...events];
    doctored[i] = withArgs(events[i]!, { amountAB: 275_000_001n, amountBA: 15_000_001n });
    const result = await run(doctored);
    expect(
      finding(
        result.findings,
        "approval-figures-mismatch",
        "the period held 275000000/15000000 (final figures)",
      ),
    ).to.deep.include(at(i, AI, PERIOD2));
  });

  it("lapsed arbitration: locates a dropped DisputeEscalated by the dispute's escalatedAt", async () => {
    const AI = agreement("ACME-INITECH");
    const i = only((e) => of(e, "DisputeEscalated", PERIOD2, AI));
    const result = await run(events.filter((_, k) => k !== i));
    expect(result.ok).to.equal(false);
    // Without the escalation the replay derives Disputed, in which final approvals are impossible …
    const first = only(
      (e) => of(e, "CarrierApproved", PERIOD2, AI) && by(e, "ACME") && e.args.partialSettlement === false,
    );
    expect(
      finding(result.findings, "unexpected-event", "(final) while the period was Disputed"),
    ).to.deep.include(at(first, AI, PERIOD2));
    // … and the contract's escalatedAt points at the escalation the stream lacks.
    expect(finding(result.findings, "record-mismatch", "dispute.escalatedAt")).to.deep.include(
      at(i, AI, PERIOD2),
    );
  });
});
