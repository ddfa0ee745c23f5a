/**
 * Exact decimal money. Amounts travel as integer micro-units (`bigint`, 10^-6 of the currency unit)
 * from parse to chain; tariff rates keep more precision as integers scaled by 10^-RATE_SCALE.
 * Nothing here touches a float.
 */

/** Decimal places kept for tariff rates and fees (pico-units). */
export const RATE_SCALE = 12;
/** Decimal places of stored and settled amounts (micro-units, = settlement token units). */
export const MONEY_SCALE = 6;

const DECIMAL = /^(-)?(\d+)(?:\.(\d*))?$|^(-)?\.(\d+)$/;

/**
 * Parses a plain decimal string (`"0.0125"`, `"12"`, `"-3.5"`) into an integer scaled by 10^-scale.
 * Returns null for anything else (exponents, thousands separators, more decimals than `scale`).
 */
export function parseScaled(text: string, scale: number): bigint | null {
  const match = DECIMAL.exec(text.trim());
  if (!match) return null;
  const negative = (match[1] ?? match[4]) === "-";
  const whole = match[2] ?? "0";
  const fraction = (match[3] ?? match[5] ?? "").replace(/0+$/, "");
  if (fraction.length > scale) return null;
  const value = BigInt(whole + fraction.padEnd(scale, "0"));
  return negative ? -value : value;
}

/** Formats an integer scaled by 10^-scale as a decimal string with exactly `scale` decimals. */
export function formatScaled(value: bigint, scale: number = MONEY_SCALE): string {
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString().padStart(scale + 1, "0");
  const whole = digits.slice(0, digits.length - scale);
  const fraction = digits.slice(digits.length - scale);
  return `${negative ? "-" : ""}${whole}${scale > 0 ? "." + fraction : ""}`;
}

/** Formats micro-units as a decimal string with 6 decimals: `123456789n` → `"123.456789"`. */
export function formatMicros(micros: bigint): string {
  return formatScaled(micros, MONEY_SCALE);
}

/**
 * Divides a non-negative numerator by a positive denominator, rounding half up (0.5 → 1).
 * @throws RangeError for a negative numerator or a non-positive denominator.
 */
export function divRoundHalfUp(numerator: bigint, denominator: bigint): bigint {
  if (denominator <= 0n) throw new RangeError("denominator must be positive");
  if (numerator < 0n) throw new RangeError("numerator must not be negative");
  return (numerator * 2n + denominator) / (denominator * 2n);
}
