import fs from "node:fs";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { ConflictError } from "../errors";
import type { Database, Queryable } from "./database";
import { classifyDatabaseError } from "./database";

const INT8_OID = 20;

/**
 * Opens the embedded PGlite database in `directory` (created if missing), or in memory when
 * `directory` is null. PGlite files must never be opened by two processes at once, so a lock file
 * holding the owner's pid guards the directory; a lock left by a dead process (a crash, a kill) is
 * taken over.
 * @throws ConflictError when a live process holds the directory.
 */
export async function openPglite(directory: string | null): Promise<Database> {
  let releaseLock = () => {};
  if (directory !== null) {
    fs.mkdirSync(directory, { recursive: true });
    releaseLock = acquireLock(path.join(directory, "icl.lock"));
  }
  let db: PGlite;
  try {
    db = await PGlite.create(directory ?? undefined, {
      parsers: { [INT8_OID]: (value: string) => BigInt(value) },
    });
  } catch (error) {
    releaseLock();
    throw classifyDatabaseError(error);
  }
  const wrap = (target: Pick<PGlite, "query">): Queryable => ({
    async query<Row>(sql: string, params: readonly unknown[] = []) {
      try {
        const result = await target.query<Row>(sql, params as unknown[]);
        return { rows: result.rows, rowCount: result.affectedRows ?? result.rows.length };
      } catch (error) {
        throw classifyDatabaseError(error);
      }
    },
    async copyFrom(table, columns, csv) {
      // PGlite reads COPY data from the virtual file /dev/blob, handed over with the query.
      try {
        await target.query(`COPY ${table} (${columns.join(", ")}) FROM '/dev/blob' WITH (FORMAT csv)`, [], {
          blob: new Blob([csv]),
        });
      } catch (error) {
        throw classifyDatabaseError(error);
      }
    },
  });
  const self = wrap(db);
  return {
    kind: "pglite",
    query: self.query,
    copyFrom: self.copyFrom,
    async transaction(work) {
      try {
        return await db.transaction((tx) => work(wrap(tx)));
      } catch (error) {
        throw classifyDatabaseError(error);
      }
    },
    async close() {
      try {
        await db.close();
      } finally {
        releaseLock();
      }
    },
  };
}

function acquireLock(lockPath: string): () => void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(lockPath, String(process.pid), { flag: "wx" });
      return () => fs.rmSync(lockPath, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const owner = Number(fs.readFileSync(lockPath, "utf8").trim());
      if (Number.isInteger(owner) && owner > 0 && (owner === process.pid || isAlive(owner))) {
        throw new ConflictError(
          `the node database in ${path.dirname(lockPath)} is in use by process ${owner}`,
          "PGlite allows one process at a time; stop the other icl command or use PostgreSQL (DATABASE_URL).",
        );
      }
      fs.rmSync(lockPath, { force: true });
    }
  }
  throw new ConflictError(`cannot lock ${lockPath}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
