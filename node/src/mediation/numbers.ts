import type { NumberingPlan } from "./types";

/** Longest E.164 number, in digits (country code included). */
export const E164_MAX_DIGITS = 15;

/** Drops a `sip:`/`sips:`/`tel:` scheme, the `@host` part and `;parameters`, leaving the user part. */
function userPart(text: string): string {
  const c = text.charCodeAt(0) | 0x20;
  if (c === 0x73 /* s */ || c === 0x74 /* t */) {
    const colon = text.indexOf(":");
    if (colon === 3 || colon === 4) {
      const scheme = text.slice(0, colon).toLowerCase();
      if (scheme === "sip" || scheme === "sips" || scheme === "tel") text = text.slice(colon + 1);
    }
  }
  const at = text.indexOf("@");
  if (at >= 0) text = text.slice(0, at);
  const semi = text.indexOf(";");
  if (semi >= 0) text = text.slice(0, semi);
  return text;
}

/** What {@link normaliseNumber} noticed about a number it accepted. */
export interface NumberNote {
  /**
   * The number was written internationally with the national trunk prefix in brackets after the
   * country code (`+44 (0)20 7946 0000`): the bracketed prefix was dropped, as a person dialling
   * from abroad would, and the plausibility rule `trunk_prefix_in_brackets` decides what to do.
   */
  trunkPrefixInBrackets: boolean;
}

/**
 * Normalises a dialled or presented number to E.164 digits (no `+`), or null when it is not a
 * phone number.
 * - Takes the user part of `sip:`, `sips:` and `tel:` URIs (`sip:+4420...@host` → `+4420...`).
 * - Strips spaces, tabs, dashes, dots and brackets; a `+` is allowed only in front.
 * - `+` or the plan's international prefix (`00`) → already international.
 * - the plan's national prefix (`0`) → replaced by the country code.
 * - digits with neither prefix are taken as already international (switches often log E.164
 *   without the `+`).
 * - the national prefix in brackets after an international prefix (`+44 (0)7700 900123`) is
 *   dropped (`447700900123`), and `note.trunkPrefixInBrackets` is set when a note is given.
 * The result must have 1–15 digits and must not start with 0 (no country code does).
 */
export function normaliseNumber(raw: string, plan: NumberingPlan, note?: NumberNote): string | null {
  let text = raw;
  let n = text.length;
  // Fast path: plain digits, or `+` and plain digits (E.164 as most switches write it): the common
  // cases on the hot path, which the general path below would give the same digits for.
  const plus = n > 1 && text.charCodeAt(0) === 43; /* + */
  let plain = n > 0;
  for (let i = plus ? 1 : 0; i < n; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) {
      plain = false;
      break;
    }
  }
  let digits: string;
  let international = false;
  if (plain) {
    if (plus) {
      international = true;
      digits = text.slice(1);
    } else digits = text;
  } else {
    text = userPart(text.trim());
    const bracket = text.indexOf("(");
    if (bracket > 0) text = dropBracketedTrunkPrefix(text, bracket, plan, note);
    n = text.length;
    digits = "";
    let start = 0;
    if (n > 0 && text.charCodeAt(0) === 43 /* + */) {
      international = true;
      start = 1;
    }
    for (let i = start; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c >= 48 && c <= 57) {
        digits += text[i];
      } else if (c !== 32 && c !== 9 && c !== 45 && c !== 46 && c !== 40 && c !== 41) {
        return null;
      }
    }
    if (digits.length > 40) return null;
  }
  if (!international) {
    const intl = plan.internationalPrefix;
    const national = plan.nationalPrefix;
    if (intl.length > 0 && digits.startsWith(intl)) {
      digits = digits.slice(intl.length);
    } else if (national.length > 0 && digits.startsWith(national)) {
      if (digits.length === national.length) return null;
      digits = plan.countryCode + digits.slice(national.length);
    }
  }
  const len = digits.length;
  if (len < 1 || len > E164_MAX_DIGITS || digits.charCodeAt(0) === 48) return null;
  return digits;
}

/**
 * `+44 (0)20…` / `0044 (0)20…` → `+44 20…`: a bracketed national prefix right after an
 * international prefix and 1–3 country-code digits is dropped. Anything else with brackets is left
 * as it is (brackets are then ignored like spaces: `(212) 555-0100`).
 */
function dropBracketedTrunkPrefix(
  text: string,
  open: number,
  plan: NumberingPlan,
  note?: NumberNote,
): string {
  const national = plan.nationalPrefix;
  if (national.length === 0) return text;
  const close = text.indexOf(")", open);
  if (close < 0 || text.slice(open + 1, close).trim() !== national) return text;
  let head = text.slice(0, open).replace(/[\s.-]/g, "");
  if (head.startsWith("+")) head = head.slice(1);
  else if (plan.internationalPrefix.length > 0 && head.startsWith(plan.internationalPrefix))
    head = head.slice(plan.internationalPrefix.length);
  else return text;
  if (!/^[1-9]\d{0,2}$/.test(head)) return text;
  if (note) note.trunkPrefixInBrackets = true;
  return text.slice(0, open) + text.slice(close + 1);
}
