/**
 * Plausibility rules: facts a row can state that a switch cannot have meant (billsec longer than
 * the call, an answer before the attempt began, a call of a year, a start in the future). Each
 * rule has a name and an action, configurable per partner: `reject` (the row is rejected as
 * IMPLAUSIBLE, naming the rule and the field), `warn` (billed, stored with the rule's name in its
 * warnings, counted by `icl cdrs stats`) or `off`. Nothing implausible is billed silently: the
 * defaults reject what cannot be billed as written and warn where mediation repaired the row.
 */
import type { FormatDescriptor, StoredField } from "./formats/format";
import type { ParsedRow } from "./types";

export type RuleAction = "reject" | "warn" | "off";

/** The rules, their default actions and what they check. One home: config, docs and messages derive from it. */
export const PLAUSIBILITY_RULES = {
  billsec_exceeds_duration: {
    action: "reject",
    describe: "the billed seconds exceed the whole attempt (the switch's duration, or end − answer)",
  },
  answer_before_start: { action: "reject", describe: "the answer time is before the attempt's start" },
  end_before_answer: { action: "reject", describe: "the end time is before the answer (or the start)" },
  call_too_long: { action: "reject", describe: "the call lasted longer than maxCallSeconds (default 4 h)" },
  start_in_future: {
    action: "reject",
    describe: "the call starts later than now plus maxFutureSeconds (clock skew allowance, default 15 min)",
  },
  start_too_old: {
    action: "reject",
    describe: "the call started more than maxAgeDays ago (default 1096, three years)",
  },
  trunk_prefix_in_brackets: {
    action: "warn",
    describe:
      "a number was written with its national prefix in brackets (+44 (0)20 …); the prefix was dropped",
  },
} as const satisfies Record<string, { action: RuleAction; describe: string }>;

export type RuleName = keyof typeof PLAUSIBILITY_RULES;
export const RULE_NAMES = Object.keys(PLAUSIBILITY_RULES) as RuleName[];

/** What a partner's rows are held to: the limits and each rule's action. */
export interface PlausibilitySettings {
  maxCallSeconds: number;
  maxFutureSeconds: number;
  maxAgeDays: number;
  rules: Record<RuleName, RuleAction>;
}

/** A (partial) override as the config writes it. */
export interface PlausibilityOverride {
  maxCallSeconds?: number | undefined;
  maxFutureSeconds?: number | undefined;
  maxAgeDays?: number | undefined;
  rules?: Partial<Record<RuleName, RuleAction>> | undefined;
}

export const DEFAULT_PLAUSIBILITY: PlausibilitySettings = {
  maxCallSeconds: 4 * 3600,
  maxFutureSeconds: 15 * 60,
  maxAgeDays: 1096,
  rules: Object.fromEntries(RULE_NAMES.map((name) => [name, PLAUSIBILITY_RULES[name].action])) as Record<
    RuleName,
    RuleAction
  >,
};

/** Settings with overrides applied in order (node-wide, then the partner's). */
export function plausibilitySettings(
  ...overrides: (PlausibilityOverride | undefined)[]
): PlausibilitySettings {
  const settings: PlausibilitySettings = {
    ...DEFAULT_PLAUSIBILITY,
    rules: { ...DEFAULT_PLAUSIBILITY.rules },
  };
  for (const o of overrides) {
    if (!o) continue;
    if (o.maxCallSeconds !== undefined) settings.maxCallSeconds = o.maxCallSeconds;
    if (o.maxFutureSeconds !== undefined) settings.maxFutureSeconds = o.maxFutureSeconds;
    if (o.maxAgeDays !== undefined) settings.maxAgeDays = o.maxAgeDays;
    for (const [name, action] of Object.entries(o.rules ?? {})) {
      if (action !== undefined) settings.rules[name as RuleName] = action;
    }
  }
  return settings;
}

/** The format's field behind a fact, for the reject's `field` (`start`, `answer_stamp`, …). */
export type FieldNamer = (fact: "start" | "answer" | "end" | "duration" | "a_number" | "b_number") => string;

/** The field of `format` behind each fact a rule checks (`start` → Asterisk's `start`, icl-csv's `start_time`). */
export function factFields(format: FormatDescriptor): FieldNamer {
  const facts: Record<Parameters<FieldNamer>[0], StoredField> = {
    start: "setup_time",
    answer: "answer_time",
    end: "end_time",
    duration: "duration",
    a_number: "a_number",
    b_number: "b_number",
  };
  return (fact) => format.fieldOf[facts[fact]] ?? fact;
}

const MS_PER_DAY = 86_400_000;
const ISO = (ms: number) => (Number.isFinite(ms) ? new Date(ms).toISOString() : String(ms));

/**
 * Checks one mediated CDR against `settings` at `nowMs`. Returns the row unchanged when all holds;
 * an IMPLAUSIBLE reject for the first rule that rejects; or the row with the warnings of the rules
 * that warn. A warning mediation raised (a repaired number) whose rule is `off` is dropped.
 */
export function checkPlausibility(
  row: Extract<ParsedRow, { kind: "cdr" }>,
  settings: PlausibilitySettings,
  nowMs: number,
  fieldOf: FieldNamer,
): ParsedRow {
  const cdr = row.cdr;
  const rules = settings.rules;
  let warnings: string[] | null = null;
  const found = (rule: RuleName, field: string, message: string): ParsedRow | null => {
    const action = rules[rule];
    if (action === "off") return null;
    if (action === "warn") {
      (warnings ??= []).push(rule);
      return null;
    }
    return {
      kind: "reject",
      line: row.line,
      raw: row.raw,
      reason: "IMPLAUSIBLE",
      field,
      rule,
      message: `${message} (plausibility rule ${rule})`,
      sourceKey: cdr.key,
    };
  };
  // Straight-line checks: this runs for every CDR ingested.
  const start = cdr.setupMs;
  let reject: ParsedRow | null = null;
  if (start > nowMs + settings.maxFutureSeconds * 1000) {
    reject = found("start_in_future", fieldOf("start"), `the call starts at ${ISO(start)}, in the future`);
    if (reject !== null) return reject;
  }
  if (start < nowMs - settings.maxAgeDays * MS_PER_DAY) {
    reject = found(
      "start_too_old",
      fieldOf("start"),
      `the call starts at ${ISO(start)}, more than ${settings.maxAgeDays} days ago`,
    );
    if (reject !== null) return reject;
  }
  if (cdr.answerMs !== null && cdr.answerMs < start) {
    reject = found(
      "answer_before_start",
      fieldOf("answer"),
      `answered at ${ISO(cdr.answerMs)}, before the attempt started at ${ISO(start)}`,
    );
    if (reject !== null) return reject;
  }
  if (cdr.endMs !== null && cdr.endMs < (cdr.answerMs ?? start)) {
    const answered = cdr.answerMs !== null;
    reject = found(
      "end_before_answer",
      fieldOf("end"),
      `ended at ${ISO(cdr.endMs)}, before ${answered ? "the answer" : "the start"} at ${ISO(cdr.answerMs ?? start)}`,
    );
    if (reject !== null) return reject;
  }
  if (cdr.service === "voice" && cdr.duration > 0) {
    // A second of slack: switches round each time to the second on its own.
    const byTimes =
      cdr.endMs !== null && cdr.answerMs !== null
        ? Math.ceil((cdr.endMs - cdr.answerMs) / 1000) + 1
        : Infinity;
    const total = cdr.totalSeconds ?? Infinity;
    if (cdr.duration > total || cdr.duration > byTimes) {
      reject = found(
        "billsec_exceeds_duration",
        fieldOf("duration"),
        `billsec ${cdr.duration} is longer than the call (${cdr.duration > total ? `duration ${total} s` : `answer to end ${byTimes - 1} s`})`,
      );
      if (reject !== null) return reject;
    }
    const length = Math.max(cdr.duration, cdr.totalSeconds ?? 0);
    if (length > settings.maxCallSeconds) {
      reject = found(
        "call_too_long",
        fieldOf("duration"),
        `the call lasted ${length} s, longer than ${settings.maxCallSeconds} s`,
      );
      if (reject !== null) return reject;
    }
  }
  if (cdr.warnings !== null) {
    for (const rule of cdr.warnings) {
      const name = rule as RuleName;
      const action = rules[name] ?? "warn";
      if (action === "reject") {
        return {
          kind: "reject",
          line: row.line,
          raw: row.raw,
          reason: "IMPLAUSIBLE",
          field: fieldOf("b_number"),
          rule: name,
          message: `${PLAUSIBILITY_RULES[name]?.describe ?? rule} (plausibility rule ${rule})`,
          sourceKey: cdr.key,
        };
      }
      if (action === "warn") (warnings ??= []).push(rule);
    }
  }
  if (warnings === null && cdr.warnings === null) return row;
  return { ...row, cdr: { ...cdr, warnings } };
}
