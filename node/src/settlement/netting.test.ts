import { expect } from "chai";
import { planNetting, settleTransfers, type SettleablePeriod } from "./netting";

const USD = "0x00000000000000000000000000000000000000Aa";
const EUR = "0x00000000000000000000000000000000000000bb";
const [A, B, C, D] = ["0xaa", "0xbb", "0xcc", "0xdd"];

function period(
  name: string,
  carrierA: string,
  carrierB: string,
  amountAB: bigint,
  amountBA: bigint,
  extra: Partial<SettleablePeriod> = {},
): SettleablePeriod {
  return {
    agreementId: `0x${name}`,
    name,
    period: 203001,
    carrierA,
    carrierB,
    token: USD,
    amountAB,
    amountBA,
    alreadySettledNet: 0n,
    reserved: 0n,
    ...extra,
  };
}

const rich = () => 1_000_000_000n;

describe("settlement: netting plan", () => {
  it("nets a three-carrier cycle into fewer transfers than bilateral settlement", () => {
    // A owes B 120−20 = 100, B owes C 70, C owes A 50−10 = 40.
    const [plan, ...more] = planNetting(
      [period("AB", A, B, 120n, 20n), period("BC", B, C, 70n, 0n), period("AC", A, C, 10n, 50n)],
      rich,
    );
    expect(more).to.have.length(0);
    expect(plan!.token).to.equal(USD.toLowerCase());
    expect(plan!.obligations.map((o) => [o.payer, o.payee, o.amount])).to.deep.equal([
      [A, B, 100n],
      [B, C, 70n],
      [C, A, 40n],
    ]);
    expect(plan!.gross).to.equal(210n);
    // A: −100 + 40 = −60; B: +100 − 70 = +30; C: +70 − 40 = +30.
    expect(plan!.positions).to.deep.equal([
      { carrier: A, net: -60n },
      { carrier: B, net: 30n },
      { carrier: C, net: 30n },
    ]);
    expect(plan!.bilateralTransfers).to.have.length(3);
    expect(plan!.nettedTransfers).to.deep.equal([
      { from: A, to: B, amount: 30n },
      { from: A, to: C, amount: 30n },
    ]);
    expect(plan!.netted).to.equal(60n);
    expect(plan!.transfersSaved).to.equal(1);
    expect(plan!.topUps).to.deep.equal([]);
  });

  it("collapses a chain A → B → C → D of equal debts into one transfer", () => {
    const [plan] = planNetting(
      [period("AB", A, B, 50n, 0n), period("BC", B, C, 50n, 0n), period("CD", C, D, 50n, 0n)],
      rich,
    );
    expect(plan!.positions.map((p) => p.net)).to.deep.equal([-50n, 0n, 0n, 50n]);
    expect(plan!.nettedTransfers).to.deep.equal([{ from: A, to: D, amount: 50n }]);
    expect(plan!.transfersSaved).to.equal(2);
    expect(plan!.gross).to.equal(150n);
  });

  it("moves nothing for periods whose figures cancel, and counts no transfer for them", () => {
    const [plan] = planNetting([period("AB", A, B, 75n, 75n), period("BA", B, A, 0n, 0n)], rich);
    expect(plan!.obligations.map((o) => o.amount)).to.deep.equal([0n, 0n]);
    expect(plan!.positions).to.deep.equal([
      { carrier: A, net: 0n },
      { carrier: B, net: 0n },
    ]);
    expect(plan!.bilateralTransfers).to.deep.equal([]);
    expect(plan!.nettedTransfers).to.deep.equal([]);
    expect(plan!.transfersSaved).to.equal(0);
  });

  it("keeps two tokens apart: each nets on its own", () => {
    const plans = planNetting(
      [
        period("AB-usd", A, B, 100n, 0n),
        period("AB-eur", A, B, 0n, 30n, { token: EUR }),
        period("BC-usd", B, C, 40n, 0n),
      ],
      rich,
    );
    expect(plans.map((p) => p.token)).to.deep.equal([USD.toLowerCase(), EUR]);
    expect(plans[0]!.positions).to.deep.equal([
      { carrier: A, net: -100n },
      { carrier: B, net: 60n },
      { carrier: C, net: 40n },
    ]);
    // B owes A 30 in EUR even though A owes B in USD: currencies are never offset.
    expect(plans[1]!.positions).to.deep.equal([
      { carrier: A, net: 30n },
      { carrier: B, net: -30n },
    ]);
    expect(plans[1]!.nettedTransfers).to.deep.equal([{ from: B, to: A, amount: 30n }]);
  });

  it("subtracts what a partial settlement already moved", () => {
    // Final A→B 100 − 10 = 90, of which 60 moved in the partial settlement: 30 remain.
    const [plan] = planNetting([period("AB", A, B, 100n, 10n, { alreadySettledNet: 60n })], rich);
    expect(plan!.obligations[0]).to.include({ payer: A, payee: B, amount: 30n });
    // A final figure below what the partial settlement moved reverses the direction.
    const [back] = planNetting([period("AB", A, B, 50n, 0n, { alreadySettledNet: 60n })], rich);
    expect(back!.obligations[0]).to.include({ payer: B, payee: A, amount: 10n });
  });

  it("lists the escrow top-ups payers need before the batch can be sent", () => {
    const escrow: Record<string, bigint> = { [A]: 45n, [C]: 0n };
    const [plan] = planNetting(
      [period("AB", A, B, 120n, 20n), period("BC", B, C, 70n, 0n), period("AC", A, C, 10n, 50n)],
      (carrier, token) => {
        expect(token).to.equal(USD.toLowerCase());
        return escrow[carrier] ?? 0n;
      },
    );
    // Only A pays (net −60); B and C receive, whatever their balance.
    expect(plan!.topUps).to.deep.equal([{ carrier: A, needed: 60n, available: 45n, shortfall: 15n }]);
  });

  it("counts the reservations of the periods a payer pays on top of its available escrow", () => {
    // A reserved 100 for AB (it owes 120 − 20), C reserved 40 for AC (it owes A 50 − 10).
    const periods = [
      period("AB", A, B, 120n, 20n, { reserved: 100n }),
      period("AC", A, C, 10n, 50n, { reserved: 40n }),
    ];
    const [covered] = planNetting(periods, () => 0n);
    expect(covered!.topUps).to.deep.equal([]);
    // Without A's reservation (a settlement that holds none), A's net 60 must come from available escrow.
    const [short] = planNetting(
      [period("AB", A, B, 120n, 20n), period("AC", A, C, 10n, 50n, { reserved: 40n })],
      (c) => (c === A ? 45n : 0n),
    );
    expect(short!.topUps).to.deep.equal([{ carrier: A, needed: 60n, available: 45n, shortfall: 15n }]);
  });

  it("never needs more netted transfers than bilateral ones across separate groups of carriers", () => {
    // {A→B 3, A→E 2} and {C→D 4}: a greedy over all carriers at once would make 4 transfers.
    const E = "0xee";
    const [plan] = planNetting(
      [period("AB", A, B, 3n, 0n), period("AE", A, E, 2n, 0n), period("CD", C, D, 4n, 0n)],
      rich,
    );
    expect(plan!.bilateralTransfers).to.have.length(3);
    expect(plan!.nettedTransfers).to.have.length(3);
    expect(plan!.netted).to.equal(9n);
  });

  it("settles any set of positions in at most n − 1 transfers that clear every position", () => {
    for (let seed = 1; seed <= 200; seed++) {
      let x = seed;
      const next = () => (x = (x * 1103515245 + 12345) % 2147483648) % 1000;
      const n = 2 + (seed % 7);
      const nets = Array.from({ length: n - 1 }, () => BigInt(next() - 500));
      nets.push(-nets.reduce((s, v) => s + v, 0n));
      const positions = nets.map((net, i) => ({ carrier: `c${i}`, net }));
      const transfers = settleTransfers(positions);
      expect(transfers.length).to.be.at.most(n - 1);
      const left = new Map(positions.map((p) => [p.carrier, p.net]));
      for (const t of transfers) {
        expect(t.amount > 0n).to.equal(true);
        left.set(t.from, left.get(t.from)! + t.amount);
        left.set(t.to, left.get(t.to)! - t.amount);
      }
      expect([...left.values()].every((v) => v === 0n)).to.equal(true);
    }
  });
});
