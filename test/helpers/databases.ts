import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Client } from "pg";
import type { Database } from "../../node/src/db/database";
import { openDatabase } from "../../node/src/db/open";

export interface DatabaseTarget {
  name: "pglite" | "postgres";
  /** Opens a fresh, migrated (up to `migrateUpTo`, default all), empty database of this kind. */
  open(options?: { migrateUpTo?: number }): Promise<Database>;
  /** Environment for a spawned `icl` that must use this kind (and a fresh schema for postgres). */
  cliEnv(): { env: Record<string, string>; dataDir: string };
  /** Drops what this target created. */
  cleanup(): Promise<void>;
}

/** PGlite always; PostgreSQL too when DATABASE_URL is set (CI sets it), each test in its own schema. */
export function databaseTargets(): DatabaseTarget[] {
  const targets: DatabaseTarget[] = [pgliteTarget()];
  const url = process.env.DATABASE_URL;
  if (url) targets.push(postgresTarget(url));
  return targets;
}

/**
 * The one target of a long end-to-end suite whose database work other suites already prove on both:
 * PostgreSQL when DATABASE_URL is set (as in CI), else PGlite.
 */
export function primaryTarget(): DatabaseTarget {
  return databaseTargets().at(-1)!;
}

/** A temporary directory removed by the returned function. */
export function tempDir(prefix = "icl-test-"): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

function pgliteTarget(): DatabaseTarget {
  const dirs: string[] = [];
  return {
    name: "pglite",
    open: (options = {}) => openDatabase({ dataDir: null, migrateUpTo: options.migrateUpTo }),
    cliEnv() {
      const dataDir = tempDir();
      dirs.push(dataDir);
      return { env: { ICL_DATA_DIR: dataDir, DATABASE_URL: "" }, dataDir };
    },
    async cleanup() {
      for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

function postgresTarget(url: string): DatabaseTarget {
  const schemas: string[] = [];
  const dirs: string[] = [];
  const newSchema = () => {
    const schema = `icl_test_${crypto.randomBytes(6).toString("hex")}`;
    schemas.push(schema);
    return schema;
  };
  return {
    name: "postgres",
    open: (options = {}) =>
      openDatabase({ url, schema: newSchema(), dataDir: null, migrateUpTo: options.migrateUpTo }),
    cliEnv() {
      const dataDir = tempDir();
      dirs.push(dataDir);
      fs.writeFileSync(
        path.join(dataDir, "config.json"),
        JSON.stringify({ database: { schema: newSchema() } }),
      );
      return { env: { ICL_DATA_DIR: dataDir, DATABASE_URL: url }, dataDir };
    },
    async cleanup() {
      const client = new Client({ connectionString: url });
      await client.connect();
      try {
        for (const schema of schemas.splice(0)) await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await client.end();
      }
      for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
