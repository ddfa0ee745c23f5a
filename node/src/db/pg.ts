import { Pool, Query, types, type PoolClient } from "pg";
import type { Database, Queryable } from "./database";
import { classifyDatabaseError } from "./database";

const INT8_OID = 20;
const INT8_ARRAY_OID = 1016;
const parseInt8Array = types.getTypeParser(
  INT8_ARRAY_OID as Parameters<typeof types.getTypeParser>[0],
  "text",
) as (value: string) => (string | null)[];
/** int8 and int8[] as bigint, as PGlite is set up to return them: money never passes through a float. */
const int8AsBigint = {
  getTypeParser(oid: number, format?: "text" | "binary") {
    if (oid === INT8_OID) return (value: string) => BigInt(value);
    if (oid === INT8_ARRAY_OID) {
      return (value: string) => parseInt8Array(value).map((item) => (item === null ? null : BigInt(item)));
    }
    return types.getTypeParser(oid, format);
  },
};

/**
 * Opens PostgreSQL at `url`. With `schema`, every connection works inside that schema (created if
 * missing), so several nodes or test runs can share one database without seeing each other.
 * @throws UnavailableError when the server cannot be reached.
 */
export async function openPostgres(url: string, schema?: string): Promise<Database> {
  if (schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new RangeError(`schema name '${schema}' is not a plain lower-case identifier`);
  }
  const pool = new Pool({
    connectionString: url,
    max: 4,
    types: int8AsBigint,
    options: schema ? `-c search_path=${schema}` : undefined,
  });
  pool.on("error", () => {
    // An idle client lost its connection; the pool replaces it and the next query reports the fault.
  });
  try {
    if (schema) await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    else await pool.query("SELECT 1");
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw classifyDatabaseError(error);
  }

  const wrap = (client: Pool | PoolClient): Queryable => ({
    async query<Row>(sql: string, params: readonly unknown[] = []) {
      try {
        const result = await client.query(sql, params as unknown[]);
        return { rows: result.rows as Row[], rowCount: result.rowCount ?? 0 };
      } catch (error) {
        throw classifyDatabaseError(error);
      }
    },
    async copyFrom(table, columns, csv) {
      const sql = `COPY ${table} (${columns.join(", ")}) FROM STDIN WITH (FORMAT csv)`;
      try {
        await new Promise<void>((resolve, reject) => {
          client.query(new CopyFromText(sql, csv, (error) => (error ? reject(error) : resolve())));
        });
      } catch (error) {
        throw classifyDatabaseError(error);
      }
    },
  });
  const self = wrap(pool);
  return {
    kind: "postgres",
    query: self.query,
    copyFrom: self.copyFrom,
    async transaction(work) {
      let client: PoolClient;
      try {
        client = await pool.connect();
      } catch (error) {
        throw classifyDatabaseError(error);
      }
      try {
        await client.query("BEGIN");
        const result = await work(wrap(client));
        await client.query("COMMIT");
        return result;
      } catch (error) {
        await client.query("ROLLBACK").catch(() => undefined);
        throw classifyDatabaseError(error);
      } finally {
        client.release();
      }
    },
    async close() {
      await pool.end();
    },
  };
}

/**
 * COPY … FROM STDIN fed from a string. pg runs any `Query` it is handed and, when the server asks
 * for COPY data, calls `handleCopyInResponse` (the hook the pg-copy-streams package uses too).
 */
class CopyFromText extends Query {
  constructor(
    sql: string,
    private readonly data: string,
    callback: (error: Error | undefined) => void,
  ) {
    super(sql, undefined, callback);
  }

  handleCopyInResponse(connection: { sendCopyFromChunk(chunk: Buffer): void; endCopyFrom(): void }): void {
    const chunkChars = 1 << 20;
    for (let start = 0; start < this.data.length; start += chunkChars) {
      connection.sendCopyFromChunk(Buffer.from(this.data.slice(start, start + chunkChars), "utf8"));
    }
    connection.endCopyFrom();
  }
}

/**
 * Drops each schema (and everything in it) of the PostgreSQL at `url`: what a node opened with
 * `database.schema` leaves behind (the demo's and the tests' schemas).
 * @throws RangeError for a name that is not a plain lower-case identifier; UnavailableError when
 * PostgreSQL cannot be reached.
 */
export async function dropSchemas(url: string, schemas: Iterable<string>): Promise<void> {
  const names = [...schemas];
  for (const schema of names) {
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
      throw new RangeError(`schema name '${schema}' is not a plain lower-case identifier`);
    }
  }
  const admin = await openPostgres(url);
  try {
    for (const schema of names) await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await admin.close();
  }
}
