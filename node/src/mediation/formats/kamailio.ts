/**
 * What Kamailio's two accounting outputs share (the `kamailio-acc` and `kamailio-cdrs` formats):
 * columns read by name from a header (a `psql \copy … CSV HEADER` export, or a table's column
 * names when the node reads the table itself), the acc module's times, the usual `db_extra` /
 * `cdr_extra` columns for the numbers and addresses, and how a row finds its partner.
 *
 * The acc module (Kamailio 5.x, `acc-create.sql`) writes `time`, `start_time` and `end_time` as
 * `TIMESTAMP WITHOUT TIME ZONE` from the server's local time (`time_mode` 0, the default), so they
 * are read in `mediation.timeZone` (UTC with `useGmtTime`); PostgreSQL may add a fraction.
 * `time_mode` 1 and 2 add a UTC epoch column (`time_attr`, seconds or `seconds.milliseconds`, with
 * `time_exten` microseconds in mode 1), which is read in preference when present.
 *
 * Numbers and addresses come from extra columns, named as Kamailio's own examples name them:
 * `src_user` ($fU, the calling number), `dst_ouser` ($tU, the number dialled) or `dst_user` ($rU,
 * the request URI after routing), `src_ip` ($si) and `dst_ip` ($dd, the next hop). A `trunk`
 * column, when the script writes one, names the trunk; otherwise the `trunk` of a row is `src_ip`
 * for traffic a partner hands us (in) and `dst_ip` for traffic we hand it (out).
 */
import type { Direction, MatchRule, MediationOptions } from "../types";
import {
  col,
  compileRules,
  localTimeParser,
  matchRule,
  parseEpochSeconds,
  show,
  type CompiledRule,
  type SourceRecord,
} from "./format";

/** The extra columns both formats read, as Kamailio's examples name them. */
export const KAMAILIO_EXTRAS = ["src_user", "dst_ouser", "dst_user", "src_ip", "dst_ip", "trunk"] as const;

/** Fields a match rule may name in both formats (any other column of the header works too). */
export const KAMAILIO_MATCH_FIELDS = [
  "trunk",
  "src_ip",
  "dst_ip",
  "src_user",
  "dst_ouser",
  "dst_user",
  "src_domain",
  "dst_domain",
] as const;

/** Columns of a header by lower-case name; -1 for one it lacks. */
export class HeaderIndex {
  private readonly byName = new Map<string, number>();
  readonly names: readonly string[];

  constructor(record: SourceRecord) {
    this.names = record.fields.slice(0, record.count).map((name) => name.trim().toLowerCase());
    this.names.forEach((name, i) => {
      if (!this.byName.has(name)) this.byName.set(name, i);
    });
  }

  of(name: string): number {
    return this.byName.get(name) ?? -1;
  }

  /** The required columns the header lacks. */
  missing(required: readonly (string | readonly string[])[]): string[] {
    return required
      .filter((name) => (typeof name === "string" ? [name] : name).every((n) => this.of(n) < 0))
      .map((name) => (typeof name === "string" ? name : name.join(" or ")));
  }
}

/** `YYYY-MM-DD HH:MM:SS[.ffffff]` wall time to UTC ms (NaN when malformed), the fraction kept to the ms. */
export function wallTimeParser(options: MediationOptions): (text: string) => number {
  const parse = localTimeParser(options);
  return (text) => {
    if (text.length === 19) return parse(text);
    const fraction = /^(.{19})\.(\d{1,6})$/.exec(text);
    if (fraction === null) return NaN;
    return parse(fraction[1]!) + Number((fraction[2]! + "00").slice(0, 3));
  };
}

/** Reads the time of a row: `time_attr` (+ `time_exten`) when present, else the wall-time column. */
export class RowTime {
  private readonly wall: (text: string) => number;
  private readonly attr: number;
  private readonly exten: number;
  private readonly index: number;

  constructor(
    options: MediationOptions,
    header: HeaderIndex,
    private readonly column: string,
  ) {
    this.wall = wallTimeParser(options);
    this.attr = header.of("time_attr");
    this.exten = header.of("time_exten");
    this.index = header.of(column);
  }

  /** UTC ms, or an error message naming the field. */
  read(fields: readonly string[]): number | { field: string; message: string } {
    const attr = col(fields, this.attr);
    if (attr !== "") {
      const seconds = parseEpochSeconds(attr);
      const micros = col(fields, this.exten);
      if (seconds !== seconds || (micros !== "" && !/^\d{1,6}$/.test(micros))) {
        return {
          field: seconds !== seconds ? "time_attr" : "time_exten",
          message: `time_attr ${show(attr)}${micros !== "" ? ` with time_exten ${show(micros)}` : ""} is not UTC epoch seconds (acc time_mode 1 or 2)`,
        };
      }
      return micros === "" ? seconds : seconds + Math.floor(Number(micros) / 1000);
    }
    const text = col(fields, this.index);
    const ms = this.wall(text);
    if (ms !== ms) {
      return {
        field: this.column,
        message: `${this.column} ${show(text)} is not a time (YYYY-MM-DD HH:MM:SS, as acc writes it)`,
      };
    }
    return ms;
  }
}

/** Match rules against a Kamailio header, with `trunk` from the `trunk` column or the addresses. */
export class KamailioRules {
  private readonly rules: CompiledRule[];
  private readonly trunkColumn: number;
  private readonly srcIp: number;
  private readonly dstIp: number;
  private fields: readonly string[] = [];
  private readonly trunkOf = (direction: Direction): string => this.trunk(this.fields, direction);

  constructor(options: MediationOptions, header: HeaderIndex) {
    this.rules = compileRules(lowerRules(options.matchRules), header.names, options.fileName, true);
    this.trunkColumn = header.of("trunk");
    this.srcIp = header.of("src_ip");
    this.dstIp = header.of("dst_ip");
  }

  /** Compiles the node's rules once up front, so a bad pattern is a configuration error before anything is read. */
  static check(options: MediationOptions, columns: readonly string[]): void {
    compileRules(lowerRules(options.matchRules), columns, options.fileName, true);
  }

  match(fields: readonly string[]): CompiledRule | null {
    this.fields = fields;
    return matchRule(this.rules, fields, this.trunkOf);
  }

  trunk(fields: readonly string[], direction: Direction): string {
    const named = col(fields, this.trunkColumn);
    if (named !== "") return named;
    return col(fields, direction === "in" ? this.srcIp : this.dstIp);
  }

  /** What the partner could have been found by, for an UNKNOWN_PARTNER message. */
  describe(fields: readonly string[]): string {
    return `src_ip ${show(col(fields, this.srcIp))}, dst_ip ${show(col(fields, this.dstIp))}${
      this.trunkColumn >= 0 ? `, trunk ${show(col(fields, this.trunkColumn))}` : ""
    }`;
  }
}

/** Match rules with their field in lower case, as header names are compared. */
function lowerRules(rules: readonly MatchRule[]): MatchRule[] {
  return rules.map((rule) => ({ ...rule, field: rule.field.toLowerCase() }));
}

/** The called number's column: `dst_ouser` (as dialled), else `dst_user` (after routing). */
export function calledColumn(
  header: HeaderIndex,
  fields: readonly string[],
): { text: string; field: string } {
  const dialled = col(fields, header.of("dst_ouser"));
  if (dialled !== "" || header.of("dst_user") < 0) return { text: dialled, field: "dst_ouser" };
  return { text: col(fields, header.of("dst_user")), field: "dst_user" };
}
