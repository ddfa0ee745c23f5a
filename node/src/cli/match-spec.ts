import type { MatchRule } from "../mediation/types";
import { UsageError } from "./command";

/**
 * Parses a match rule: `DIRECTION:FIELD=REGEX` (partner given separately) or, when `partner` is
 * null, `PARTNER:DIRECTION:FIELD=REGEX`. @throws UsageError when malformed.
 */
export function parseMatchSpec(spec: string, partner: string | null): MatchRule {
  const pattern = partner === null ? /^([^:]+):(in|out):([a-z_]+)=(.*)$/ : /^(in|out):([a-z_]+)=(.*)$/;
  const match = pattern.exec(spec);
  if (!match) {
    throw new UsageError(
      `--match '${spec}' is not ${partner === null ? "PARTNER:" : ""}DIRECTION:FIELD=REGEX (e.g. ${partner === null ? "GLOBEX:" : ""}out:dstchannel=^SIP/globex-)`,
    );
  }
  const [, a, b, c, d] = match;
  const rule =
    partner === null
      ? { partner: a!, direction: b as "in" | "out", field: c!, pattern: d! }
      : { partner, direction: a as "in" | "out", field: b!, pattern: c! };
  try {
    new RegExp(rule.pattern);
  } catch {
    throw new UsageError(`--match '${spec}': '${rule.pattern}' is not a valid regular expression`);
  }
  return rule;
}
