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

/**
 * Normalises a dialled or presented number to E.164 digits (no `+`), or null when it is not a
 * phone number.
 * - Takes the user part of `sip:`, `sips:` and `tel:` URIs (`sip:+4420...@host` → `+4420...`).
 * - Strips spaces, tabs, dashes, dots and brackets; a `+` is allowed only in front.
 * - `+` or the plan's international prefix (`00`) → already international.
 * - the plan's national prefix (`0`) → replaced by the country code.
 * - digits with neither prefix are taken as already international (switches often log E.164
 *   without the `+`).
 * The result must have 1–15 digits and must not start with 0 (no country code does).
 */
export function normaliseNumber(raw: string, plan: NumberingPlan): string | null {
  let text = raw;
  let n = text.length;
  // Fast path: plain digits, the common case on the hot path.
  let plain = n > 0;
  for (let i = 0; i < n; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) {
      plain = false;
      break;
    }
  }
  let digits: string;
  let international = false;
  if (plain) {
    digits = text;
  } else {
    text = userPart(text.trim());
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
