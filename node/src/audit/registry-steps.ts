/**
 * The consortium as the registry's and the agreement book's events build it: carriers with their
 * officers (by slot), thresholds and nodes, listed tokens, role holders, and each agreement's
 * activated versions. The ledger's steps are checked against this model as it stood at their block.
 */
import { getAddress, id as keccakText } from "ethers";
import { argBig, argBool, argString, type AuditEvent } from "./events";
import { toTerms, type CarrierModel, type Terms } from "./model";
import { place, type ReplayContext } from "./replay-context";

const ARBITER_ROLE = keccakText("ARBITER_ROLE");
const REGULATOR_ROLE = keccakText("REGULATOR_ROLE");

export interface ConsortiumModel {
  carriers: Map<string, CarrierModel>;
  /** agreementId (lower case) → its activated versions, oldest first. */
  versions: Map<string, Terms[]>;
  tokens: Set<string>;
  /** role → holders (lower case). */
  roles: Map<string, Set<string>>;
  /** proposalId (lower case) → the proposed version, until activated. */
  proposals: Map<string, { agreementId: string; terms: Terms; cancelled: boolean }>;
}

/** Applies one registry event (carriers, officers, thresholds, nodes, tokens, roles). */
export function applyRegistryEvent(m: ConsortiumModel, e: AuditEvent): void {
  const carrierId = argString(e, "carrierId").toLowerCase();
  const carrier = () => {
    let c = m.carriers.get(carrierId);
    if (c === undefined) {
      c = { id: carrierId, name: carrierId, officers: new Map(), threshold: 0, nodes: new Set(), nonce: 0 };
      m.carriers.set(carrierId, c);
    }
    return c;
  };
  switch (e.name) {
    case "CarrierRegistered":
      carrier();
      break;
    case "OfficerAdded":
      carrier().officers.set(argString(e, "officer").toLowerCase(), Number(argBig(e, "slot")));
      break;
    case "OfficerRemoved":
      carrier().officers.delete(argString(e, "officer").toLowerCase());
      break;
    case "ThresholdChanged":
      carrier().threshold = Number(argBig(e, "threshold"));
      break;
    case "NodeSet":
      if (argBool(e, "enabled")) carrier().nodes.add(argString(e, "node").toLowerCase());
      else carrier().nodes.delete(argString(e, "node").toLowerCase());
      break;
    case "OfficersUpdated":
    case "NodesUpdated":
      // One nonce for both (`officerNonce`); the ledger keeps pending approvals under it.
      carrier().nonce = Number(argBig(e, "nonce")) + 1;
      break;
    case "TokenListed":
      m.tokens.add(getAddress(argString(e, "token")));
      break;
    case "RoleGranted":
    case "RoleRevoked": {
      const role = argString(e, "role").toLowerCase();
      const holders = m.roles.get(role) ?? new Set<string>();
      const account = argString(e, "account").toLowerCase();
      if (e.name === "RoleGranted") holders.add(account);
      else holders.delete(account);
      m.roles.set(role, holders);
      break;
    }
    default:
      break;
  }
}

/** Applies one agreement-book event: a proposal's terms, its cancellation, and a version activated from it. */
export function applyBookEvent(m: ConsortiumModel, r: Pick<ReplayContext, "add">, e: AuditEvent): void {
  if (e.name === "AgreementProposed") {
    m.proposals.set(argString(e, "proposalId").toLowerCase(), {
      agreementId: argString(e, "agreementId").toLowerCase(),
      terms: toTerms(e.args.terms as Record<string, unknown>),
      cancelled: false,
    });
  } else if (e.name === "ProposalCancelled") {
    const proposal = m.proposals.get(argString(e, "proposalId").toLowerCase());
    if (proposal !== undefined) proposal.cancelled = true;
  } else if (e.name === "AgreementVersionActivated") {
    const agreementId = argString(e, "agreementId").toLowerCase();
    const proposal = m.proposals.get(argString(e, "proposalId").toLowerCase());
    const versions = m.versions.get(agreementId) ?? [];
    if (proposal === undefined) {
      r.add(
        "error",
        "unknown-agreement",
        place(e),
        { agreementId, period: null },
        `version ${argBig(e, "version")} activated from a proposal the stream never showed`,
      );
      return;
    }
    if (proposal.cancelled) {
      r.add(
        "error",
        "unknown-agreement",
        place(e),
        { agreementId, period: null },
        `version ${argBig(e, "version")} activated from a proposal that was cancelled`,
      );
    }
    versions.push(proposal.terms);
    m.versions.set(agreementId, versions);
  }
}

/** Whether `account` held ARBITER_ROLE or REGULATOR_ROLE at this point of the history. */
export function canArbitrate(m: ConsortiumModel, account: string): boolean {
  return (
    (m.roles.get(ARBITER_ROLE)?.has(account) ?? false) || (m.roles.get(REGULATOR_ROLE)?.has(account) ?? false)
  );
}
