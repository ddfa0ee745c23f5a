import path from "node:path";
import type { Database } from "./database";
import { migrate } from "./migrate";
import { openPglite } from "./pglite";
import { openPostgres } from "./pg";

export interface DatabaseOptions {
  /** PostgreSQL URL; when absent the embedded PGlite database under `dataDir` is used. */
  url?: string | undefined;
  /** PostgreSQL schema to work in (one per node when several share a database). */
  schema?: string | undefined;
  /** The node's data directory; PGlite files live in `<dataDir>/db`. Null: PGlite in memory. */
  dataDir: string | null;
  /** Migrate only up to this version (tests of a migration on data the schema before it wrote). */
  migrateUpTo?: number;
}

/**
 * Opens the node's database and applies pending migrations.
 * @throws UnavailableError when PostgreSQL cannot be reached; ConflictError when another process holds the PGlite files.
 */
export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  const db = options.url
    ? await openPostgres(options.url, options.schema)
    : await openPglite(options.dataDir === null ? null : path.join(options.dataDir, "db"));
  try {
    await migrate(db, { upTo: options.migrateUpTo });
  } catch (error) {
    await db.close().catch(() => undefined);
    throw error;
  }
  return db;
}
