import fs from "node:fs";
import path from "node:path";
import { z } from "zod/v4";
import { InputError } from "../errors";
import { FORMAT_IDS } from "../mediation/formats/registry";
import { RULE_NAMES, type PlausibilityOverride } from "../mediation/plausibility";
import { isValidTimeZone } from "../mediation/time";
import type { MediationOptions, NumberingPlan } from "../mediation/types";
import type { IngestSettings } from "../ingest/pipeline";

/** An Ethereum address as the config writes it (any case; compared case-insensitively). */
const ADDRESS = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "an Ethereum address, 0x and 40 hex digits");

const RuleAction = z.enum(["reject", "warn", "off"]);

/** Plausibility settings over the defaults (node/src/mediation/plausibility.ts). */
const Plausibility = z
  .object({
    /** Longest call billed, seconds (default 4 h). */
    maxCallSeconds: z.number().int().positive().optional(),
    /** Clock-skew allowance for starts in the future, seconds (default 15 min). */
    maxFutureSeconds: z.number().int().min(0).optional(),
    /** Oldest start accepted, days before now (default 1096: three years). */
    maxAgeDays: z.number().int().positive().optional(),
    /** Each rule's action: reject, warn or off. */
    rules: z.partialRecord(z.enum(RULE_NAMES as [string, ...string[]]), RuleAction).optional(),
  })
  .strict();

/** An IANA zone name this runtime knows. */
const TimeZone = z.string().refine(isValidTimeZone, {
  message: "not an IANA time zone (e.g. Europe/Berlin, America/New_York, UTC)",
});

const CdrFormatId = z.string().refine((id) => FORMAT_IDS.includes(id), {
  message: `not a CDR format (${FORMAT_IDS.join(", ")})`,
});

/** A source URL: no whitespace, a scheme; its parts are checked by the source kind when it opens. */
const SourceUrl = z.string().regex(/^[a-z][a-z0-9+.-]*:\/\/\S+$/, "a URL such as nats://127.0.0.1:4222");

/**
 * A source `icl run` reads continuously (node/src/ingest/live.ts): a NATS JetStream subject, or a
 * PostgreSQL table a switch writes.
 */
const LiveSource = z.discriminatedUnion("kind", [
  z
    .object({
      kind: z.literal("nats"),
      /** nats://HOST:PORT (user:password@ when the server asks). */
      url: SourceUrl,
      stream: z.string().min(1),
      subject: z.string().min(1),
      format: CdrFormatId,
      /** The durable consumer; default icl-<format>. Several nodes reading one stream each need their own. */
      durable: z.string().min(1).optional(),
    })
    .strict(),
  z
    .object({
      kind: z.literal("table"),
      /** postgres://user@host:port/database of the switch's database. */
      url: SourceUrl,
      /** The table (optionally schema-qualified). */
      table: z.string().min(1),
      format: CdrFormatId,
      /** The increasing id column new rows are read by (default id). */
      idColumn: z.string().min(1).optional(),
      /** How often the table is polled for new rows, milliseconds. */
      pollMs: z.number().int().min(100).optional(),
    })
    .strict(),
]);
export type LiveSourceConfig = z.infer<typeof LiveSource>;

const ConfigSchema = z
  .object({
    database: z
      .object({
        /** PostgreSQL URL; absent = embedded PGlite under the data dir. DATABASE_URL overrides it. */
        url: z.string().min(1).optional(),
        /** PostgreSQL schema for this node's tables (several nodes may share one database). */
        schema: z
          .string()
          .regex(/^[a-z_][a-z0-9_]{0,62}$/)
          .optional(),
      })
      .strict()
      .prefault({}),
    mediation: z
      .object({
        timeZone: TimeZone.default("UTC"),
        useGmtTime: z.boolean().default(false),
        /** FreeSWITCH cdr_csv settings: which legs the switch writes, and its template's variables. */
        freeswitch: z
          .object({
            legs: z.enum(["a", "b", "ab"]).default("a"),
            template: z
              .array(z.string().regex(/^[a-z_][a-z0-9_]{0,63}$/))
              .min(1)
              .optional(),
          })
          .strict()
          .prefault({}),
        /** Plausibility rules for every partner. */
        plausibility: Plausibility.optional(),
        /** Per partner id: the leg it bills when the switch writes both, and its own plausibility settings. */
        partners: z
          .record(
            z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/),
            z
              .object({ billLeg: z.enum(["a", "b"]).optional(), plausibility: Plausibility.optional() })
              .strict(),
          )
          .prefault({}),
      })
      .strict()
      .prefault({}),
    ipfs: z
      .object({
        /** Kubo RPC API (e.g. http://127.0.0.1:5001); absent = the local evidence store under the data dir. */
        apiUrl: z.string().url().optional(),
        /** Per-request timeout for the Kubo API, milliseconds. */
        timeoutMs: z.number().int().positive().default(30_000),
      })
      .strict()
      .prefault({}),
    chain: z
      .object({
        /** JSON-RPC endpoint of the chain node (a Hardhat node locally, Besu/GoQuorum in a consortium). */
        rpcUrl: z.string().url(),
        /** deployments/<network>.json written by `npm run deploy`. */
        deployment: z.string().min(1),
        /** Encrypted JSON keystore of the node key; its password comes from ICL_KEY_PASSWORD or a prompt. */
        keystore: z.string().min(1),
        /** Blocks a transaction waits for before it counts as done. */
        confirmations: z.number().int().min(1).default(1),
      })
      .strict()
      .optional(),
    peer: z
      .object({
        /** Where `icl run` serves the peer protocol (and, later, the gateway): host:port, loopback by default. */
        listen: z
          .string()
          .regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, "host:port, e.g. 127.0.0.1:7700")
          .default("127.0.0.1:7700"),
        /** How often `icl run` looks at the ledger, milliseconds. */
        pollMs: z.number().int().min(100).default(5_000),
        /** Allowed clock difference between two nodes' signed messages, milliseconds. */
        maxSkewMs: z.number().int().min(1_000).default(300_000),
        /** Per-request timeout towards a peer node, milliseconds. */
        timeoutMs: z.number().int().positive().default(30_000),
      })
      .strict()
      .prefault({}),
    settlement: z
      .object({
        /**
         * Whether the node takes the co-signed fast path: when the partner's node built the same summary
         * (root and totals), both carriers' officers sign one Settlement and one transaction settles it.
         * Off, or when the fast path fails, it commits and settles through commit–reveal.
         */
        fastPath: z.boolean().default(true),
        /** How long before the commit window closes the node stops waiting for the fast path and commits, ms. */
        fastPathFallbackMs: z.number().int().min(0).default(86_400_000),
        /**
         * Whether the node, when both openings of a committed period reconcile (Matched or Reconciled),
         * holds the reveal until both carriers' officers have approved and then reveals, approves and
         * settles in one revealAndSettle. Off, it reveals at once and officers approve after the reveal.
         */
        approveBeforeReveal: z.boolean().default(true),
        /** How long before the reveal deadline the node stops holding the reveal for approvals and reveals, ms. */
        revealFallbackMs: z.number().int().min(0).default(86_400_000),
      })
      .strict()
      .prefault({}),
    watch: z
      .object({
        /** How long before a window closes `icl run` starts warning officers, milliseconds (default a day). */
        warnBeforeMs: z.number().int().min(0).default(86_400_000),
        /** Whether `icl run` settles Approved periods (and agreed partial settlements) on its own. */
        autoSettle: z.boolean().default(true),
      })
      .strict()
      .prefault({}),
    fx: z
      .object({
        /** Reference currency reports convert to, e.g. "EUR". */
        reference: z.string().regex(/^[A-Z][A-Z0-9]{1,9}$/, "a currency code like EUR"),
        /** CSV file (relative to the data dir) of dated rates: date,currency,rate,source. */
        table: z.string().min(1),
      })
      .strict()
      .optional(),
    gateway: z
      .object({
        /** Addresses (0x…) that sign in as `admin`: they issue and revoke API tokens. */
        admins: z.array(ADDRESS).default([]),
        /** Addresses (0x…) that sign in as `operator`: carrier staff who run ingest and the node. */
        operators: z.array(ADDRESS).default([]),
        /** How long a console session lasts after sign-in, hours (the cookie's Max-Age). */
        sessionHours: z.number().positive().max(168).default(8),
        /**
         * Whether the session cookie carries `Secure`. Turn off only to test over plain http on a
         * loopback address: the gateway then refuses sign-in on any other interface.
         */
        cookieSecure: z.boolean().default(true),
        /**
         * Which reverse proxies' X-Forwarded-For to believe (express's `trust proxy`): false (none),
         * a number of hops, or addresses/subnets ("loopback", "10.0.0.0/8"). Behind TLS termination,
         * without it every client shares the proxy's address in rate limits and logs.
         */
        trustProxy: z
          .union([
            z.literal(false),
            z.number().int().min(1).max(10),
            z.array(z.string().min(1).max(64)).min(1),
          ])
          .default(false),
      })
      .strict()
      .prefault({}),
    numbering: z
      .object({
        countryCode: z
          .string()
          .regex(/^\d{1,3}$/)
          .default("1"),
        nationalPrefix: z
          .string()
          .regex(/^\d{0,3}$/)
          .default("0"),
        internationalPrefix: z
          .string()
          .regex(/^\d{1,4}$/)
          .default("00"),
      })
      .strict()
      .prefault({}),
    /** Sources `icl run` consumes continuously, each in the background (a stream, a table). */
    sources: z.array(LiveSource).optional(),
  })
  .strict();

export type NodeConfig = z.infer<typeof ConfigSchema>;
export const CONFIG_FILE = "config.json";

export interface ResolvedConfig {
  dataDir: string;
  config: NodeConfig;
  /** The PostgreSQL URL in force (DATABASE_URL wins over database.url), or undefined for PGlite. */
  databaseUrl: string | undefined;
}

/** The data directory: `--data-dir`, else ICL_DATA_DIR, else `./.icl`. */
export function resolveDataDir(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(flag ?? env.ICL_DATA_DIR ?? ".icl");
}

/** Parses a config object; @throws InputError naming the file and the offending key. */
export function parseConfig(value: unknown, fileName: string): NodeConfig {
  const result = ConfigSchema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new InputError(issue.message, { file: fileName, field: issue.path.join(".") || "(root)" });
  }
  return result.data;
}

/**
 * Loads `<dataDir>/config.json` (defaults when the file does not exist) and applies DATABASE_URL.
 * @throws InputError for unreadable JSON or unknown/invalid keys.
 */
export function loadConfig(dataDir: string, env: NodeJS.ProcessEnv = process.env): ResolvedConfig {
  const file = path.join(dataDir, CONFIG_FILE);
  let raw: unknown = {};
  if (fs.existsSync(file)) {
    try {
      raw = JSON.parse(fs.readFileSync(file, "utf8"));
    } catch (error) {
      throw new InputError("is not valid JSON", { file, cause: error, details: (error as Error).message });
    }
  }
  const config = parseConfig(raw, file);
  return { dataDir, config, databaseUrl: env.DATABASE_URL || config.database.url };
}

/** The numbering plan of the config. */
export function numberingPlan(config: NodeConfig): NumberingPlan {
  return { ...config.numbering };
}

/** How the node ingests, from the config: mediation options, plausibility, the late policy. */
export function ingestSettings(config: NodeConfig): IngestSettings {
  const { fileName: _fileName, matchRules: _matchRules, ...mediation } = mediationOptions(config, "");
  const partnerPlausibility: Record<string, PlausibilityOverride> = {};
  for (const [id, partner] of Object.entries(config.mediation.partners)) {
    if (partner.plausibility) partnerPlausibility[id] = partner.plausibility as PlausibilityOverride;
  }
  return {
    mediation,
    plausibility: config.mediation.plausibility as PlausibilityOverride | undefined,
    partnerPlausibility,
  };
}

/** Mediation options for one file from the config (partners' match rules are added by the caller). */
export function mediationOptions(config: NodeConfig, fileName: string): MediationOptions {
  return {
    fileName,
    timeZone: config.mediation.timeZone,
    useGmtTime: config.mediation.useGmtTime,
    numbering: numberingPlan(config),
    matchRules: [],
    freeswitch: config.mediation.freeswitch,
    billLeg: Object.fromEntries(
      Object.entries(config.mediation.partners).flatMap(([id, p]) => (p.billLeg ? [[id, p.billLeg]] : [])),
    ),
  };
}

/**
 * Writes a validated config file; refuses to replace an existing one unless `overwrite`.
 * @throws InputError for invalid keys; an fs error (EEXIST) when the file exists and may not be replaced.
 */
export function writeConfig(dataDir: string, config: unknown, options: { overwrite?: boolean } = {}): string {
  const file = path.join(dataDir, CONFIG_FILE);
  parseConfig(config, file);
  fs.mkdirSync(dataDir, { recursive: true });
  fs.writeFileSync(file, JSON.stringify(config, null, 2) + "\n", { flag: options.overwrite ? "w" : "wx" });
  return file;
}
