/**
 * The FX table: dated rates that turn token amounts into a reference currency for reports. Settlement
 * itself never converts (each token nets on its own); the reference column only helps people compare.
 *
 * CSV, header `date,currency,rate,source` (any column order): `rate` is the value of one unit of
 * `currency` (a token symbol like ICUSD, or a currency code) in the reference currency on `date`
 * (YYYY-MM-DD); `source` says where the rate comes from (e.g. "ECB euro foreign exchange reference
 * rates"). The rate for a period is the latest row dated on or before the period's last day. Rates
 * are exact decimals (up to 12 places); conversion is integer arithmetic rounded half up.
 */
import fs from "node:fs";
import path from "node:path";
import type { ResolvedConfig } from "../config/config";
import { InputError, NotFoundError } from "../errors";
import { MONEY_SCALE, RATE_SCALE, parseScaled } from "../money/decimal";

export interface FxRate {
  /** YYYY-MM-DD */
  date: string;
  currency: string;
  /** Reference-currency value of one unit, scaled by 10^-RATE_SCALE. */
  rate: bigint;
  source: string;
  /** Line of the CSV file (1 = header). */
  line: number;
}

export interface FxTable {
  reference: string;
  file: string;
  /** Rates by currency, oldest first. */
  rates: ReadonlyMap<string, readonly FxRate[]>;
}

/** An amount in the reference currency and the rate it came from (null rate: already the reference). */
export interface ReferenceAmount {
  currency: string;
  /** Micro-units (10^-6) of the reference currency. */
  amount: bigint;
  rate: FxRate | null;
}

const COLUMNS = ["date", "currency", "rate", "source"] as const;
const CURRENCY = /^[A-Z][A-Z0-9]{1,9}$/;

/**
 * Parses the FX table CSV. Fields may be double-quoted (a source with commas).
 * @throws InputError naming the file, line and field of the first bad row (missing column, bad date,
 * unknown-looking currency, rate that is not a positive decimal, empty source, duplicate date).
 */
export function parseFxTable(text: string, file: string, reference: string): FxTable {
  const lines = text.split(/\r?\n/);
  const header = splitCsvLine(lines[0] ?? "", file, 1).map((h) => h.trim().toLowerCase());
  const index = Object.fromEntries(COLUMNS.map((c) => [c, header.indexOf(c)])) as Record<
    (typeof COLUMNS)[number],
    number
  >;
  for (const column of COLUMNS) {
    if (index[column] < 0) {
      throw new InputError(`the header has no '${column}' column (expected ${COLUMNS.join(",")})`, {
        file,
        line: 1,
        field: column,
      });
    }
  }
  const rates = new Map<string, FxRate[]>();
  lines.forEach((raw, i) => {
    const line = i + 1;
    if (line === 1 || raw.trim() === "" || raw.trimStart().startsWith("#")) return;
    const cells = splitCsvLine(raw, file, line);
    const cell = (column: (typeof COLUMNS)[number]) => (cells[index[column]] ?? "").trim();
    const date = cell("date");
    if (!isIsoDate(date))
      throw new InputError(`'${date}' is not a date like 2026-10-31`, { file, line, field: "date" });
    const currency = cell("currency");
    if (!CURRENCY.test(currency)) {
      throw new InputError(`'${currency}' is not a currency code or token symbol like ICUSD`, {
        file,
        line,
        field: "currency",
      });
    }
    const rate = parseScaled(cell("rate"), RATE_SCALE);
    if (rate === null || rate <= 0n) {
      throw new InputError(`'${cell("rate")}' is not a positive decimal with at most ${RATE_SCALE} places`, {
        file,
        line,
        field: "rate",
      });
    }
    const source = cell("source");
    if (source === "")
      throw new InputError("the source of the rate is empty", { file, line, field: "source" });
    const list = rates.get(currency) ?? [];
    const duplicate = list.find((r) => r.date === date);
    if (duplicate) {
      throw new InputError(`a second ${currency} rate for ${date} (first on line ${duplicate.line})`, {
        file,
        line,
        field: "date",
      });
    }
    list.push({ date, currency, rate, source, line });
    rates.set(currency, list);
  });
  for (const list of rates.values()) list.sort((x, y) => (x.date < y.date ? -1 : 1));
  return { reference, file, rates };
}

/**
 * The node's FX table as configured (`fx.reference`, `fx.table` relative to the data dir), or null
 * when `fx` is not configured.
 * @throws NotFoundError when the file is missing; InputError for a bad row.
 */
export function loadFxTable(config: ResolvedConfig): FxTable | null {
  const fx = config.config.fx;
  if (fx === undefined) return null;
  const file = path.resolve(config.dataDir, fx.table);
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      throw new NotFoundError(
        `no FX table at ${file}`,
        "config.json fx.table names it (relative to the data dir)",
      );
    }
    throw new InputError("the FX table cannot be read", { file, cause: error });
  }
  return parseFxTable(text, file, fx.reference);
}

/** Last day of a YYYYMM period as YYYY-MM-DD. */
export function periodLastDay(period: number): string {
  const year = Math.floor(period / 100);
  const month = period % 100;
  return new Date(Date.UTC(year, month, 0)).toISOString().slice(0, 10);
}

/** The rate of `currency` for `period`: the latest row dated on or before its last day, or null. */
export function rateFor(table: FxTable, currency: string, period: number): FxRate | null {
  const last = periodLastDay(period);
  const list = table.rates.get(currency) ?? [];
  let found: FxRate | null = null;
  for (const rate of list) if (rate.date <= last) found = rate;
  return found;
}

/**
 * `amount` of `currency` (in units of 10^-decimals) expressed in the reference currency for `period`,
 * in micro-units, rounded half up (away from zero for negative amounts). Null when the table has no
 * rate for the currency on or before the period's last day. What other reports call.
 */
export function toReference(
  table: FxTable,
  value: { currency: string; decimals: number; amount: bigint; period: number },
): ReferenceAmount | null {
  if (value.currency === table.reference) {
    return {
      currency: table.reference,
      amount: rescale(value.amount, value.decimals, MONEY_SCALE),
      rate: null,
    };
  }
  const rate = rateFor(table, value.currency, value.period);
  if (rate === null) return null;
  // amount·10^-decimals × rate·10^-RATE_SCALE, expressed in 10^-MONEY_SCALE.
  const amount = rescale(value.amount * rate.rate, value.decimals + RATE_SCALE, MONEY_SCALE);
  return { currency: table.reference, amount, rate };
}

/** `value`·10^-from re-expressed in 10^-to, rounded half up in magnitude. */
function rescale(value: bigint, from: number, to: number): bigint {
  if (from <= to) return value * 10n ** BigInt(to - from);
  const divisor = 10n ** BigInt(from - to);
  const magnitude = value < 0n ? -value : value;
  const rounded = (magnitude * 2n + divisor) / (divisor * 2n);
  return value < 0n ? -rounded : rounded;
}

function isIsoDate(text: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return false;
  const date = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === text;
}

/** One CSV line: commas separate, double quotes enclose, "" inside quotes is a quote. */
function splitCsvLine(line: string, file: string, lineNumber: number): string[] {
  const cells: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const char = line[i]!;
    if (quoted) {
      if (char === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (char === '"') quoted = false;
      else cell += char;
    } else if (char === '"' && cell.trim() === "") {
      quoted = true;
      cell = "";
    } else if (char === ",") {
      cells.push(cell);
      cell = "";
    } else cell += char;
  }
  if (quoted) throw new InputError("a quoted field is not closed", { file, line: lineNumber });
  cells.push(cell);
  return cells;
}
