import { expect } from "chai";
import { encodeBytes32String } from "ethers";
import { parseFxTable } from "./fx";
import { planNetting } from "./netting";
import { planView, renderPlan } from "./netting-report";

const [ACME, GLOBEX, INITECH] = ["ACME", "GLOBEX", "INITECH"].map((name) => encodeBytes32String(name));
const TOKEN = { address: "0x5FbDB2315678afecb367f032d93F642f64180aa3", symbol: "ICUSD", decimals: 6 };
const M = 1_000_000n;

describe("settlement: netting report", () => {
  const period = (name: string, a: string, b: string, ab: bigint, ba: bigint, month = 203001) => ({
    agreementId: `0x${name}`,
    name,
    period: month,
    carrierA: a,
    carrierB: b,
    token: TOKEN.address,
    amountAB: ab * M,
    amountBA: ba * M,
    alreadySettledNet: 0n,
    reserved: 0n,
  });
  const periods = [
    period("ACME-GLOBEX", ACME!, GLOBEX!, 120n, 20n),
    period("GLOBEX-INITECH", GLOBEX!, INITECH!, 70n, 0n, 203002),
    period("ACME-INITECH", ACME!, INITECH!, 10n, 50n),
  ];
  // ACME holds 80, of which 30 are reserved for another period: 50 available.
  const balances = new Map([
    [`${TOKEN.address.toLowerCase()}:${ACME!}`, { escrow: 80n * M, reserved: 30n * M, available: 50n * M }],
  ]);
  const [plan] = planNetting(
    periods,
    (carrier, token) => balances.get(`${token}:${carrier}`)?.available ?? 0n,
  );
  const fx = parseFxTable(
    "date,currency,rate,source\n2030-01-20,ICUSD,0.92,ECB\n2030-02-05,ICUSD,0.9,ECB\n",
    "fx.csv",
    "EUR",
  );

  it("converts each period at its own month's rate and sums carriers' positions from those", () => {
    const view = planView(plan!, TOKEN, balances, fx);
    expect(view.periods.map((p) => p.reference?.amount)).to.deep.equal([
      "92.000000",
      "63.000000",
      "36.800000",
    ]);
    expect(view.grossReference).to.equal("191.800000");
    // ACME: −92 + 36.8; GLOBEX: +92 − 63; INITECH: +63 − 36.8 (January at 0.92, February at 0.90).
    expect(view.positions.map((p) => [p.carrier, p.net, p.netReference, p.escrowAfter])).to.deep.equal([
      ["ACME", "-60.000000", "-55.200000", "20.000000"],
      ["GLOBEX", "30.000000", "29.000000", "30.000000"],
      ["INITECH", "30.000000", "26.200000", "30.000000"],
    ]);
    expect(view.topUps.map((t) => [t.carrier, t.shortfall])).to.deep.equal([["ACME", "10.000000"]]);
  });

  it("shows n/a and a warning where the table has no rate, and no reference column without a table", () => {
    const early = parseFxTable("date,currency,rate,source\n2030-02-01,ICUSD,0.9,ECB\n", "fx.csv", "EUR");
    const view = planView(plan!, TOKEN, balances, early);
    expect(view.grossReference).to.equal(null);
    expect(view.warnings).to.deep.equal(["no ICUSD rate on or before the end of 2030-01"]);
    expect(renderPlan(view, "Netting plan")).to.contain("n/a");
    const plain = renderPlan(planView(plan!, TOKEN, balances, null), "Netting plan");
    expect(plain).to.contain("Gross obligations: 210.000000 ICUSD\n");
    expect(plain).to.contain("Transfers: bilateral 3, netted 2; transfers saved: 1");
    expect(plain).to.contain("ACME: deposit 10.000000 ICUSD (needs 60.000000, can spend 50.000000)");
    expect(view.positions[0]).to.include({ escrow: "80.000000", reserved: "30.000000" });
    expect(plain).to.not.contain("EUR");
  });
});
