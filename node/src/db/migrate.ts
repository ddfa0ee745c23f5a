import { BaseError } from "../errors";
import type { Database } from "./database";
import { sql as initial } from "./migrations/0001_initial";
import { sql as summaries } from "./migrations/0002_summaries";
import { sql as chain } from "./migrations/0003_chain";
import { sql as agreements } from "./migrations/0004_agreements";
import { sql as reconciliation } from "./migrations/0005_reconciliation";
import { sql as settlement } from "./migrations/0006_settlement";
import { sql as gateway } from "./migrations/0007_gateway";
import { sql as leafCalls } from "./migrations/0008_leaf_calls";
import { sql as attempts } from "./migrations/0009_attempts";
import { sql as tariffIntervals } from "./migrations/0010_tariff_intervals";
import { sql as fastPath } from "./migrations/0011_fast_path";
import { sql as contractOfficers } from "./migrations/0012_contract_officers";
import { sql as partnerCommitments } from "./migrations/0013_partner_commitments";
import { sql as partnerOpenings } from "./migrations/0014_partner_openings";
import { sql as cdrPartitions } from "./migrations/0015_cdr_partitions";
import { sql as callKeys } from "./migrations/0016_call_keys";

/** Every migration ever shipped, in order. Append only: a shipped migration is never edited. */
export const MIGRATIONS: readonly { version: number; name: string; sql: string }[] = [
  { version: 1, name: "initial", sql: initial },
  { version: 2, name: "summaries", sql: summaries },
  { version: 3, name: "chain", sql: chain },
  { version: 4, name: "agreements", sql: agreements },
  { version: 5, name: "reconciliation", sql: reconciliation },
  { version: 6, name: "settlement", sql: settlement },
  { version: 7, name: "gateway", sql: gateway },
  { version: 8, name: "leaf calls", sql: leafCalls },
  { version: 9, name: "attempts and sources", sql: attempts },
  { version: 10, name: "tariff intervals", sql: tariffIntervals },
  { version: 11, name: "fast path", sql: fastPath },
  { version: 12, name: "contract officers", sql: contractOfficers },
  { version: 13, name: "partner commitments", sql: partnerCommitments },
  { version: 14, name: "partner openings", sql: partnerOpenings },
  { version: 15, name: "cdr partitions", sql: cdrPartitions },
  { version: 16, name: "call keys", sql: callKeys },
];

/**
 * Applies the migrations not yet recorded in `schema_migrations`, each in its own transaction.
 * Safe to call on every start. Returns the versions applied. `upTo` stops after that version (tests
 * of a migration on data written by the schema before it).
 * @throws BaseError when the database already holds a newer schema than this code knows.
 */
export async function migrate(db: Database, options: { upTo?: number } = {}): Promise<number[]> {
  await db.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
  const { rows } = await db.query<{ version: number }>(
    "SELECT version FROM schema_migrations ORDER BY version",
  );
  const applied = new Set(rows.map((row) => row.version));
  const newest = Math.max(0, ...applied);
  const known = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;
  if (newest > known) {
    throw new BaseError(`the database schema is version ${newest}; this node knows up to ${known}`, {
      code: "SCHEMA_TOO_NEW",
      details: "Upgrade the node before using this database.",
    });
  }
  const done: number[] = [];
  for (const migration of MIGRATIONS) {
    if (applied.has(migration.version)) continue;
    if (options.upTo !== undefined && migration.version > options.upTo) break;
    await db.transaction(async (tx) => {
      for (const statement of splitStatements(migration.sql)) await tx.query(statement);
      await tx.query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", [
        migration.version,
        migration.name,
      ]);
    });
    done.push(migration.version);
  }
  return done;
}

/**
 * Splits a migration into statements at a `;` that ends a line, except inside a dollar-quoted body
 * (`DO $$ … $$`); ours never put such a `;` inside a literal. Comment lines are dropped.
 */
function splitStatements(sql: string): string[] {
  const statements: string[] = [];
  let current = "";
  for (const piece of sql.split(/(\$\$)/)) {
    if (piece === "$$") {
      current += piece;
      continue;
    }
    const inBody = (current.match(/\$\$/g)?.length ?? 0) % 2 === 1;
    if (inBody) {
      current += piece;
      continue;
    }
    const parts = piece.split(/;\s*(?:\n|$)/);
    current += parts[0];
    for (const part of parts.slice(1)) {
      statements.push(current);
      current = part;
    }
  }
  statements.push(current);
  return statements
    .map((statement) => statement.replace(/^\s*--.*$/gm, "").trim())
    .filter((statement) => statement.length > 0);
}
