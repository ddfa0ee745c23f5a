/**
 * `icl audit report`: the ledger's history per agreement and period as a timeline (who did what, in
 * which block and transaction, with which figures), and per carrier what it paid and received. Read
 * from events alone, like the audit; the period's current state comes from the contract's view.
 */
import { getAddress } from "ethers";
import { peopleNames } from "../chain/display";
import { reasonName } from "../settlement/disputes";
import { formatScaled } from "../money/decimal";
import { officerSlotsOf } from "../protocol";
import type { AuditChain } from "./chain";
import {
  argBig,
  argBool,
  argString,
  argStrings,
  collectEvents,
  rpcEventSource,
  type AuditEvent,
  type EventSource,
} from "./events";
import { agreementName, carrierName, OUTCOMES, stateName, termsAt, toTerms, type Terms } from "./model";

export interface TimelineEntry {
  block: number;
  time: string;
  tx: string;
  logIndex: number;
  event: string;
  /** Carrier (by name), officer or arbiter address. */
  who: string;
  amountAB: string | null;
  amountBA: string | null;
  netAB: string | null;
  detail: string;
}

export interface PeriodTimeline {
  period: number;
  state: string;
  /** Σ netAB moved A→B by this period's settlements (partial and final). */
  settledNetAB: string;
  /** The same in token units (integer, as a decimal string), for scripts and the chart. */
  settledNetUnits: string;
  events: TimelineEntry[];
}

export interface AgreementTimeline {
  agreementId: string;
  name: string;
  carrierA: string;
  carrierB: string;
  token: { address: string; symbol: string };
  periods: PeriodTimeline[];
}

export interface CarrierTotals {
  carrierId: string;
  name: string;
  token: { address: string; symbol: string };
  paid: string;
  received: string;
  deposited: string;
  withdrawn: string;
  escrow: string;
}

export interface AuditReport {
  chainId: string;
  ledger: string;
  fromBlock: number;
  toBlock: number;
  generatedAt: string;
  agreements: AgreementTimeline[];
  carriers: CarrierTotals[];
  /** The agreements' carriers' officers and arbiters by name, as of `toBlock` (lower-case address → name). */
  names: Record<string, string>;
}

/**
 * Builds the report from the chain's events (or `source`).
 * @throws UnavailableError when the RPC node stops answering.
 */
export async function buildReport(chain: AuditChain, source?: EventSource): Promise<AuditReport> {
  const events = await collectEvents(
    source ??
      rpcEventSource(chain.provider, chain.addresses, { fromBlock: chain.fromBlock, toBlock: chain.toBlock }),
  );
  const proposals = new Map<string, Terms>();
  const versions = new Map<string, Terms[]>();
  const periods = new Map<
    string,
    { agreementId: string; period: number; net: bigint; events: TimelineEntry[] }
  >();
  const money = new Map<
    string,
    { carrierId: string; token: string; paid: bigint; received: bigint; deposited: bigint; withdrawn: bigint }
  >();
  const account = (carrierId: string, token: string) => {
    const key = `${carrierId.toLowerCase()}|${getAddress(token)}`;
    let m = money.get(key);
    if (m === undefined) {
      m = {
        carrierId: carrierId.toLowerCase(),
        token: getAddress(token),
        paid: 0n,
        received: 0n,
        deposited: 0n,
        withdrawn: 0n,
      };
      money.set(key, m);
    }
    return m;
  };
  for (const e of events) {
    if (e.contract === "book") {
      if (e.name === "AgreementProposed") {
        proposals.set(
          argString(e, "proposalId").toLowerCase(),
          toTerms(e.args.terms as Record<string, unknown>),
        );
      } else if (e.name === "AgreementVersionActivated") {
        const terms = proposals.get(argString(e, "proposalId").toLowerCase());
        const agreementId = argString(e, "agreementId").toLowerCase();
        if (terms) versions.set(agreementId, [...(versions.get(agreementId) ?? []), terms]);
      }
      continue;
    }
    if (e.contract !== "ledger") continue;
    if (e.name === "Deposited")
      account(argString(e, "carrierId"), argString(e, "token")).deposited += argBig(e, "amount");
    if (e.name === "Withdrawn")
      account(argString(e, "carrierId"), argString(e, "token")).withdrawn += argBig(e, "amount");
    if (e.name === "EscrowMoved" || e.name === "Deposited" || e.name === "Withdrawn") continue;
    const agreementId = argString(e, "agreementId").toLowerCase();
    const period = Number(argBig(e, "period"));
    const terms = termsAt(versions.get(agreementId) ?? [], period);
    const { decimals, symbol } = terms ? await chain.token(terms.token) : { decimals: 6, symbol: "?" };
    const fmt = (v: bigint) => formatScaled(v, decimals);
    const key = `${agreementId}:${period}`;
    let p = periods.get(key);
    if (p === undefined) {
      p = { agreementId, period, net: 0n, events: [] };
      periods.set(key, p);
    }
    if ((e.name === "Settled" || e.name === "FastPathSettled") && terms) {
      const net = e.name === "Settled" ? argBig(e, "netAB") : argBig(e, "amountAB") - argBig(e, "amountBA");
      p.net += net;
      const [payer, payee] = net >= 0n ? [terms.carrierA, terms.carrierB] : [terms.carrierB, terms.carrierA];
      const abs = net >= 0n ? net : -net;
      account(payer, terms.token).paid += abs;
      account(payee, terms.token).received += abs;
    }
    const has = (name: string) => name in e.args;
    p.events.push({
      block: e.blockNumber,
      time: new Date((await chain.blockTimestamp(e.blockNumber)) * 1000).toISOString(),
      tx: e.txHash,
      logIndex: e.logIndex,
      event: e.name,
      who: has("carrierId")
        ? carrierName(argString(e, "carrierId"))
        : has("arbiter")
          ? getAddress(argString(e, "arbiter"))
          : "",
      amountAB: has("amountAB") ? fmt(argBig(e, "amountAB")) : null,
      amountBA: has("amountBA") ? fmt(argBig(e, "amountBA")) : null,
      netAB: has("netAB") ? fmt(argBig(e, "netAB")) : null,
      detail: detailOf(e, symbol),
    });
  }
  const agreements: AgreementTimeline[] = [];
  for (const [agreementId, list] of versions) {
    const first = list[0]!;
    const token = await chain.token(first.token);
    const rows = [...periods.values()]
      .filter((p) => p.agreementId === agreementId)
      .sort((a, b) => a.period - b.period);
    const timelines: PeriodTimeline[] = [];
    for (const p of rows) {
      const state = await chain.ledger.state(agreementId, p.period, { blockTag: chain.toBlock });
      timelines.push({
        period: p.period,
        state: stateName(state),
        settledNetAB: formatScaled(p.net, token.decimals),
        settledNetUnits: p.net.toString(),
        events: p.events,
      });
    }
    agreements.push({
      agreementId,
      name: agreementName(first) ?? agreementId,
      carrierA: carrierName(first.carrierA),
      carrierB: carrierName(first.carrierB),
      token: { address: first.token, symbol: token.symbol },
      periods: timelines,
    });
  }
  const carriers: CarrierTotals[] = [];
  for (const m of [...money.values()].sort((a, b) =>
    carrierName(a.carrierId).localeCompare(carrierName(b.carrierId)),
  )) {
    const token = await chain.token(m.token);
    const escrow = await chain.ledger.escrowOf(m.carrierId, m.token, { blockTag: chain.toBlock });
    const fmt = (v: bigint) => formatScaled(v, token.decimals);
    carriers.push({
      carrierId: m.carrierId,
      name: carrierName(m.carrierId),
      token: { address: m.token, symbol: token.symbol },
      paid: fmt(m.paid),
      received: fmt(m.received),
      deposited: fmt(m.deposited),
      withdrawn: fmt(m.withdrawn),
      escrow: fmt(escrow),
    });
  }
  const terms = [...versions.values()].flat();
  const { names } = await peopleNames(
    chain.registry,
    terms.flatMap((t) => [t.carrierA, t.carrierB]),
    terms.map((t) => t.arbiter),
    chain.toBlock,
  );
  return {
    chainId: chain.chainId.toString(),
    ledger: chain.addresses.ledger,
    fromBlock: chain.fromBlock,
    toBlock: chain.toBlock,
    generatedAt: new Date().toISOString(),
    agreements,
    carriers,
    names,
  };
}

function detailOf(e: AuditEvent, symbol: string): string {
  switch (e.name) {
    case "Committed":
      return `round ${argBig(e, "round")}, commitment ${argString(e, "commitment")}`;
    case "Revealed":
      return `round ${argBig(e, "round")}, root ${argString(e, "root")}`;
    case "Evaluated":
      return `round ${argBig(e, "round")}: ${OUTCOMES[Number(argBig(e, "outcome"))] ?? "?"}`;
    case "DisputeOpened":
    case "DefaultContested":
      return `reason ${reasonName(Number(argBig(e, "reasonCode")))} (${argBig(e, "reasonCode")})${argString(e, "evidenceCid") ? `, evidence ${argString(e, "evidenceCid")}` : ""}`;
    case "FiguresProposed":
      return argString(e, "evidenceCid") ? `evidence ${argString(e, "evidenceCid")}` : "";
    case "DisputeEscalated":
      return `arbitration deadline ${new Date(Number(argBig(e, "deadline")) * 1000).toISOString()}`;
    case "DisputeRuled":
      return argString(e, "rationaleCid") ? `rationale ${argString(e, "rationaleCid")}` : "";
    case "OfficerApproved":
      return `officer ${getAddress(argString(e, "signer"))}${argBool(e, "partialSettlement") ? " (partial)" : ""}`;
    case "CarrierApproved": {
      const officers = argStrings(e, "officers").map((o) => getAddress(o));
      const what = argBool(e, "partialSettlement") ? "undisputed part" : "final figures";
      return officers.length > 0 ? `${what}, officers ${officers.join(", ")}` : what;
    }
    case "Settled":
      return `${argBool(e, "partialSettlement") ? "partial" : "final"} settlement in ${symbol}`;
    case "FastPathSettled":
      return `co-signed fast path in ${symbol}, root ${argString(e, "root")}, officer slots A ${officerSlotsOf(argBig(e, "officersA")).join(",")}, B ${officerSlotsOf(argBig(e, "officersB")).join(",")}`;
    default:
      return "";
  }
}
