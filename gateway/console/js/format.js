/**
 * How the console says things: the one place where micro-units become money with its currency and
 * thousands separators, seconds become minutes, 202610 becomes "2026-10", round numbers, ledger
 * events, states and dispute reasons become words, and addresses become names (the address kept in a
 * title attribute). Pages call these; none formats a figure or a name of its own.
 */
import { h } from "./dom.js";

// ─── money ────────────────────────────────────────────────────────────────────

/** "1234567" → "1,234,567" (digits only, no sign). */
function groupDigits(digits) {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/**
 * Base units (a decimal string, number or bigint) in `decimals` → "1,234.560000" (no currency).
 * `null`/`undefined` → "—".
 */
export function units(value, decimals = 6) {
  if (value === null || value === undefined) return "—";
  let v = BigInt(value);
  const negative = v < 0n;
  if (negative) v = -v;
  const scale = 10n ** BigInt(decimals);
  const fraction = decimals > 0 ? "." + (v % scale).toString().padStart(decimals, "0") : "";
  return `${negative ? "-" : ""}${groupDigits((v / scale).toString())}${fraction}`;
}

/**
 * Base units of a token → "1,234.560000 ICUSD". `token` is `{symbol, decimals}` as the API gives it.
 * `null`/`undefined` → "—".
 */
export function money(value, token) {
  if (value === null || value === undefined) return "—";
  return `${units(value, token.decimals)} ${token.symbol}`;
}

/**
 * An exact decimal the API already scaled ("999927.285213", "-72.714787") → "999,927.285213 ICUSD".
 * Anything that is not a plain decimal is returned as it came.
 */
export function decimal(text, symbol = "") {
  if (text === null || text === undefined || text === "") return "—";
  const match = /^(-?)(\d+)(\.\d+)?$/.exec(String(text));
  if (!match) return String(text);
  const grouped = `${match[1]}${groupDigits(match[2])}${match[3] ?? ""}`;
  return symbol ? `${grouped} ${symbol}` : grouped;
}

/** Base units → the plain decimal a person types back into a form ("1234.560000", no separators). */
export function plainAmount(value, decimals = 6) {
  return units(value, decimals).replaceAll(",", "");
}

/** "12.5" in `decimals` → base units as a decimal string. @throws Error for anything but a plain decimal. */
export function parseAmount(text, decimals = 6) {
  const match = /^\s*(\d+)(?:\.(\d+))?\s*$/.exec(String(text).replaceAll(",", ""));
  if (!match || (match[2] ?? "").length > decimals) {
    throw new Error(`'${text}' is not an amount (digits, at most ${decimals} decimals)`);
  }
  return (
    BigInt(match[1]) * 10n ** BigInt(decimals) +
    BigInt((match[2] ?? "").padEnd(decimals, "0") || "0")
  ).toString();
}

/** A count with thousands separators: 12345 → "12,345". */
export function count(value) {
  if (value === null || value === undefined) return "—";
  const text = String(value);
  return /^-?\d+$/.test(text) ? (text.startsWith("-") ? "-" : "") + groupDigits(text.replace("-", "")) : text;
}

/** A count with its noun: plural(1, "call") → "1 call", plural(3, "call") → "3 calls". */
export function plural(n, noun, many = `${noun}s`) {
  return `${count(n)} ${String(n) === "1" || String(n) === "-1" ? noun : many}`;
}

// ─── time ─────────────────────────────────────────────────────────────────────

/** Seconds → "11 min (660 s)"; under a minute "45 s"; above ten hours "12 h 5 min (43,500 s)". */
export function duration(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  const s = Number(seconds);
  const abs = Math.abs(s);
  if (abs < 60) return `${count(s)} s`;
  const minutes = Math.round(abs / 60);
  const sign = s < 0 ? "-" : "";
  const long = minutes >= 600 ? `${Math.floor(minutes / 60)} h ${minutes % 60} min` : `${count(minutes)} min`;
  return `${sign}${long} (${count(s)} s)`;
}

/** 202601 (or "2026-01") → "2026-01". */
export function month(period) {
  const text = String(period);
  return text.includes("-") ? text : `${text.slice(0, 4)}-${text.slice(4)}`;
}

/** Seconds since 1970 (string or number) → "2030-02-14 10:00 UTC"; 0 or nothing → "—". */
export function when(seconds) {
  if (seconds === null || seconds === undefined || String(seconds) === "0") return "—";
  return new Date(Number(seconds) * 1000).toISOString().slice(0, 16).replace("T", " ") + " UTC";
}

/** An ISO-8601 time → "2030-02-14 10:00:05 UTC". */
export function isoWhen(iso) {
  if (!iso) return "—";
  return `${String(iso).slice(0, 19).replace("T", " ")} UTC`;
}

/** "in 3 d 4 h" / "2 h ago" between two times in seconds. */
export function relative(target, now) {
  const delta = Number(target) - Number(now);
  const abs = Math.abs(delta);
  const text =
    abs >= 86_400
      ? `${Math.floor(abs / 86_400)} d ${Math.floor((abs % 86_400) / 3_600)} h`
      : abs >= 3_600
        ? `${Math.floor(abs / 3_600)} h ${Math.floor((abs % 3_600) / 60)} min`
        : `${Math.floor(abs / 60)} min`;
  return delta >= 0 ? `in ${text}` : `${text} ago`;
}

// ─── words for the ledger's terms ────────────────────────────────────────────

/** 0 → "first round", 2 → "correction round 2". */
export function round(n) {
  if (n === null || n === undefined) return "";
  return Number(n) === 0 ? "first round" : `correction round ${n}`;
}

/** What each ledger state means, for a badge's title. */
const STATE_WORDS = {
  Pending: "nothing committed yet",
  Committing: "the carriers are committing their summaries",
  Revealing: "the carriers are revealing their figures",
  Mismatched: "the revealed figures differ by more than the tolerance",
  Defaulted: "a carrier did not reveal in time",
  Void: "neither carrier took part",
  Disputed: "in dispute between the carriers",
  Escalated: "waiting for the arbiter's ruling",
  Matched: "both summaries are the same",
  Reconciled: "the figures differ within the tolerance",
  Uncontested: "a default nobody contested",
  Resolved: "the dispute is resolved",
  Approved: "both carriers approved; waiting to settle",
  Settled: "paid from escrow",
};

/** A state as a badge, its meaning on hover. */
export function stateBadge(state) {
  return h("span.badge", { class: state, title: STATE_WORDS[state] ?? null }, state);
}

/** A ledger event's name → words; `partial` marks an approval or settlement of the undisputed part. */
export function eventWords(name, partial = false) {
  const part = partial ? "the undisputed part" : "the final figures";
  const words = {
    Committed: "Committed its summary",
    Revealed: "Revealed its figures",
    Evaluated: "Figures compared",
    DisputeOpened: "Dispute opened",
    DefaultContested: "Default contested",
    FiguresProposed: "Figures proposed",
    FiguresAccepted: "Proposal accepted",
    DisputeEscalated: "Escalated to the arbiter",
    DisputeRuled: "Arbiter ruled",
    DisputeWithdrawn: "Dispute withdrawn",
    OfficerApproved: `Officer approved ${part}`,
    CarrierApproved: `Carrier approved ${part}`,
    Settled: partial ? "Undisputed part settled" : "Settled",
    FastPathSettled: "Settled by the co-signed fast path",
    EscrowMoved: "Escrow moved",
    EscrowReserved: "Escrow reserved",
    ReservationReleased: "Reservation released",
    SettlementSkipped: "Settlement skipped",
  };
  return words[name] ?? name.replace(/([a-z])([A-Z])/g, "$1 $2");
}

/** Dispute reasons and discrepancy kinds → words. */
const REASON_WORDS = {
  missing_cdrs: "missing CDRs",
  duration_difference: "duration difference",
  rate_difference: "rate difference",
  day_boundary_shift: "day-boundary shift",
  default_contested: "default contested",
  other: "other",
  missing_on_their_side: "partner lacks it",
  missing_on_our_side: "we lack it",
};

/** "missing_cdrs" → "missing CDRs"; an unknown reason with its underscores as spaces. */
export function reasonWords(reason) {
  if (reason === null || reason === undefined) return "";
  return REASON_WORDS[reason] ?? String(reason).replaceAll("_", " ");
}

/** How a dispute ended. */
export function resolutionWords(resolution) {
  return (
    {
      None: "open",
      Accepted: "a proposal was accepted",
      Ruled: "the arbiter ruled",
      Withdrawn: "the opener withdrew",
    }[resolution] ?? resolution
  );
}

/** The agreement's default rule. */
export function ruleWords(rule) {
  return (
    {
      Terminating: "the terminating carrier's figures",
      Originating: "the originating carrier's figures",
      Mean: "the mean",
    }[rule] ?? rule
  );
}

/** Deadline names of the ledger → what closes. */
const DEADLINE_WORDS = {
  commitDeadline: "commit window closes",
  revealDeadline: "reveal window closes",
  reconcileDeadline: "reconciliation (approve or dispute) closes",
  defaultDisputeDeadline: "a default can be contested until",
  responseDeadline: "answer to the last dispute step due",
  arbitrationDeadline: "arbiter's ruling due",
  approvalDeadline: "approve by; after it anyone may settle without approvals",
};

export function deadlineWords(name) {
  return DEADLINE_WORDS[name] ?? name;
}

/** "2 of 3 officers", the threshold in words on hover: approvals or signatures against the rule. */
export function officersSigned(signed, threshold, officerCount) {
  const of = officerCount ?? threshold;
  return h(
    "span",
    { title: `${threshold} of ${of} officers must sign` },
    `${signed} of ${of} officers`,
    signed < threshold ? ` (${threshold} needed)` : "",
  );
}

// ─── names ────────────────────────────────────────────────────────────────────

const ADDRESS = /0x[0-9a-fA-F]{40}/g;

/** An address's name from `names` (lower-case address → name), else its short form. */
export function nameOf(address, names = {}) {
  if (!address) return "";
  return names[String(address).toLowerCase()] ?? `${address.slice(0, 6)}…${address.slice(-4)}`;
}

/** A person or contract by name, the address on hover (and for screen readers in the title). */
export function person(address, names = {}) {
  if (!address) return "";
  return h("span.person", { title: address }, nameOf(address, names));
}

/** A text that may hold addresses (an audit detail): each address shown by name, the address on hover. */
export function withNames(text, names = {}) {
  const parts = [];
  let last = 0;
  for (const match of String(text ?? "").matchAll(ADDRESS)) {
    parts.push(String(text).slice(last, match.index), person(match[0], names));
    last = match.index + match[0].length;
  }
  parts.push(String(text ?? "").slice(last));
  return parts.filter((p) => p !== "");
}

/** A long hash or CID shortened, the whole on hover: "0xf777dd0d…". */
export function shortHash(text, keep = 10) {
  if (!text) return "";
  return h("span.mono", { title: text }, text.length > keep + 2 ? `${text.slice(0, keep)}…` : text);
}

/**
 * The SHA-256 digest a CID carries (CIDv1, sha2-256, base32 `b…`), as hex: of the whole sealed bundle
 * for a raw block (`bafkrei…`), of the DAG's root block for a larger one (`bafybei…`). Null for anything else.
 */
export function cidDigest(cid) {
  if (!/^b[a-z2-7]{58}$/.test(cid)) return null;
  const alphabet = "abcdefghijklmnopqrstuvwxyz234567";
  let bits = "";
  for (const c of cid.slice(1)) bits += alphabet.indexOf(c).toString(2).padStart(5, "0");
  const bytes = bits.match(/.{8}/g).map((byte) => parseInt(byte, 2));
  // 01 (CIDv1), the codec, 12 (sha2-256), 20 (32 bytes), then the digest.
  if (bytes[2] !== 0x12 || bytes[3] !== 0x20) return null;
  return bytes
    .slice(4, 36)
    .map((byte) => byte.toString(16).padStart(2, "0"))
    .join("");
}
