/**
 * SQL of the chain client: outgoing transactions keyed by idempotency key (the intent is stored
 * before anything is signed or broadcast) and the event index with its cursor and recent block hashes.
 */
import type { Database, Queryable } from "./database";

export type TxStatus = "intent" | "signed" | "sent" | "confirmed" | "reverted" | "failed";

export interface TxRow {
  id: number;
  idempotencyKey: string;
  kind: string;
  chainId: bigint;
  from: string;
  to: string;
  data: string;
  status: TxStatus;
  nonce: bigint | null;
  gasLimit: bigint | null;
  signedTx: string | null;
  txHash: string | null;
  blockNumber: bigint | null;
  blockHash: string | null;
  gasUsed: bigint | null;
  error: string | null;
  attempts: number;
}

interface TxDbRow {
  id: number;
  idempotency_key: string;
  kind: string;
  chain_id: bigint;
  from_address: string;
  to_address: string;
  data: string;
  status: TxStatus;
  nonce: bigint | null;
  gas_limit: bigint | null;
  signed_tx: string | null;
  tx_hash: string | null;
  block_number: bigint | null;
  block_hash: string | null;
  gas_used: bigint | null;
  error: string | null;
  attempts: number;
}

const TX_COLUMNS = `id, idempotency_key, kind, chain_id, from_address, to_address, data, status, nonce, gas_limit,
  signed_tx, tx_hash, block_number, block_hash, gas_used, error, attempts`;

function toTx(row: TxDbRow): TxRow {
  return {
    id: row.id,
    idempotencyKey: row.idempotency_key,
    kind: row.kind,
    chainId: BigInt(row.chain_id),
    from: row.from_address,
    to: row.to_address,
    data: row.data,
    status: row.status,
    nonce: row.nonce === null ? null : BigInt(row.nonce),
    gasLimit: row.gas_limit === null ? null : BigInt(row.gas_limit),
    signedTx: row.signed_tx,
    txHash: row.tx_hash,
    blockNumber: row.block_number === null ? null : BigInt(row.block_number),
    blockHash: row.block_hash,
    gasUsed: row.gas_used === null ? null : BigInt(row.gas_used),
    error: row.error,
    attempts: row.attempts,
  };
}

export interface TxIntent {
  idempotencyKey: string;
  kind: string;
  chainId: bigint;
  from: string;
  to: string;
  data: string;
}

/**
 * Records the intent unless the key is taken; returns the row for the key (new or existing) and
 * whether this call created it.
 */
export async function recordTxIntent(
  db: Queryable,
  intent: TxIntent,
): Promise<{ row: TxRow; created: boolean }> {
  const inserted = await db.query<TxDbRow>(
    `INSERT INTO chain_transactions (idempotency_key, kind, chain_id, from_address, to_address, data, status)
     VALUES ($1, $2, $3, $4, $5, $6, 'intent')
     ON CONFLICT (idempotency_key) DO NOTHING
     RETURNING ${TX_COLUMNS}`,
    [intent.idempotencyKey, intent.kind, intent.chainId.toString(), intent.from, intent.to, intent.data],
  );
  const created = inserted.rows[0];
  if (created !== undefined) return { row: toTx(created), created: true };
  const existing = await findTx(db, intent.idempotencyKey);
  if (existing === null) throw new Error(`transaction ${intent.idempotencyKey} vanished`);
  return { row: existing, created: false };
}

/** The transaction recorded under `idempotencyKey`, or null. */
export async function findTx(db: Queryable, idempotencyKey: string): Promise<TxRow | null> {
  const { rows } = await db.query<TxDbRow>(
    `SELECT ${TX_COLUMNS} FROM chain_transactions WHERE idempotency_key = $1`,
    [idempotencyKey],
  );
  return rows[0] === undefined ? null : toTx(rows[0]);
}

/** Transactions of `from` on `chainId` not yet final (intent, signed, sent), oldest first. */
export async function listPendingTxs(db: Queryable, chainId: bigint, from: string): Promise<TxRow[]> {
  const { rows } = await db.query<TxDbRow>(
    `SELECT ${TX_COLUMNS} FROM chain_transactions
     WHERE chain_id = $1 AND from_address = $2 AND status IN ('intent', 'signed', 'sent')
     ORDER BY nonce NULLS LAST, id`,
    [chainId.toString(), from],
  );
  return rows.map(toTx);
}

/** Every transaction of `from` on `chainId`, oldest first. */
export async function listTxs(db: Queryable, chainId: bigint, from: string): Promise<TxRow[]> {
  const { rows } = await db.query<TxDbRow>(
    `SELECT ${TX_COLUMNS} FROM chain_transactions WHERE chain_id = $1 AND from_address = $2 ORDER BY id`,
    [chainId.toString(), from],
  );
  return rows.map(toTx);
}

/**
 * Transactions of `from` on `chainId` recorded as mined (confirmed or reverted) in block `fromBlock` or
 * later, by nonce: the ones a reorganisation could still take away.
 */
export async function listMinedTxsFrom(
  db: Queryable,
  chainId: bigint,
  from: string,
  fromBlock: bigint,
): Promise<TxRow[]> {
  const { rows } = await db.query<TxDbRow>(
    `SELECT ${TX_COLUMNS} FROM chain_transactions
     WHERE chain_id = $1 AND from_address = $2 AND status IN ('confirmed', 'reverted') AND block_number >= $3
     ORDER BY nonce, id`,
    [chainId.toString(), from, fromBlock.toString()],
  );
  return rows.map(toTx);
}

/** The next nonce after every nonce this database has signed for `from` (0 when none). */
export async function nextRecordedNonce(db: Queryable, chainId: bigint, from: string): Promise<bigint> {
  const { rows } = await db.query<{ next: bigint | null }>(
    `SELECT max(nonce) + 1 AS next FROM chain_transactions
     WHERE chain_id = $1 AND from_address = $2 AND status NOT IN ('intent', 'failed')`,
    [chainId.toString(), from],
  );
  const next = rows[0]?.next;
  return next === null || next === undefined ? 0n : BigInt(next);
}

/** Stores the signed transaction (nonce, fees, hash) before it is broadcast. */
export async function markTxSigned(
  db: Queryable,
  id: number,
  signed: {
    nonce: bigint;
    gasLimit: bigint;
    maxFeePerGas: bigint;
    maxPriorityFeePerGas: bigint;
    signedTx: string;
    txHash: string;
  },
): Promise<void> {
  await db.query(
    `UPDATE chain_transactions SET status = 'signed', nonce = $2, gas_limit = $3, max_fee_per_gas = $4,
       max_priority_fee_per_gas = $5, signed_tx = $6, tx_hash = $7, error = NULL, attempts = attempts + 1,
       updated_at = now()
     WHERE id = $1`,
    [
      id,
      signed.nonce.toString(),
      signed.gasLimit.toString(),
      signed.maxFeePerGas.toString(),
      signed.maxPriorityFeePerGas.toString(),
      signed.signedTx,
      signed.txHash,
    ],
  );
}

/** The node accepted the signed transaction. */
export async function markTxSent(db: Queryable, id: number): Promise<void> {
  await db.query(
    `UPDATE chain_transactions SET status = 'sent', updated_at = now() WHERE id = $1 AND status = 'signed'`,
    [id],
  );
}

/** The transaction is mined with enough confirmations: confirmed (status 1) or reverted (status 0). */
export async function markTxMined(
  db: Queryable,
  id: number,
  mined: {
    status: "confirmed" | "reverted";
    blockNumber: bigint;
    blockHash: string;
    gasUsed: bigint;
    receipt: unknown;
    error?: string;
  },
): Promise<void> {
  await db.query(
    `UPDATE chain_transactions SET status = $2, block_number = $3, block_hash = $4, gas_used = $5,
       receipt = $6::jsonb, error = $7, updated_at = now()
     WHERE id = $1`,
    [
      id,
      mined.status,
      mined.blockNumber.toString(),
      mined.blockHash,
      mined.gasUsed.toString(),
      JSON.stringify(mined.receipt, (_key, value: unknown) =>
        typeof value === "bigint" ? value.toString() : value,
      ),
      mined.error ?? null,
    ],
  );
}

/** Nothing was broadcast and it never will be as is (e.g. gas estimation reverted). */
export async function markTxFailed(db: Queryable, id: number, error: string): Promise<void> {
  await db.query(
    `UPDATE chain_transactions SET status = 'failed', nonce = NULL, signed_tx = NULL, tx_hash = NULL,
       error = $2, updated_at = now()
     WHERE id = $1`,
    [id, error],
  );
}

/**
 * Returns a signed transaction that provably never landed (its nonce went to another transaction) to
 * the intent state, so it is signed again with a fresh nonce; the reason is kept in `error`.
 */
export async function resetTxToIntent(db: Queryable, id: number, reason: string): Promise<void> {
  await db.query(
    `UPDATE chain_transactions SET status = 'intent', nonce = NULL, signed_tx = NULL, tx_hash = NULL,
       error = $2, updated_at = now()
     WHERE id = $1`,
    [id, reason],
  );
}

/**
 * The chain no longer holds a mined transaction where it was recorded (a reorganisation, or a chain
 * restored from an older state): it is `sent` again with its signed bytes, nonce and hash kept, so the
 * same transaction is awaited or broadcast again; the reason is kept in `error`.
 */
export async function reopenTx(db: Queryable, id: number, reason: string): Promise<void> {
  await db.query(
    `UPDATE chain_transactions SET status = 'sent', block_number = NULL, block_hash = NULL, gas_used = NULL,
       receipt = NULL, error = $2, updated_at = now()
     WHERE id = $1 AND status IN ('confirmed', 'reverted')`,
    [id, reason],
  );
}

/** A decoded event of the ledger, registry or book, ready to store. */
export interface ChainEventRow {
  blockNumber: bigint;
  logIndex: number;
  blockHash: string;
  txHash: string;
  contract: "SettlementLedger" | "CarrierRegistry" | "AgreementBook";
  address: string;
  name: string;
  /** JSON-safe arguments (bigints as decimal strings). */
  args: Record<string, unknown>;
  agreementId: string | null;
  period: number | null;
  carrierId: string | null;
}

interface EventDbRow {
  block_number: bigint;
  log_index: number;
  block_hash: string;
  tx_hash: string;
  contract: ChainEventRow["contract"];
  address: string;
  name: string;
  args: Record<string, unknown> | string;
  agreement_id: string | null;
  period: number | null;
  carrier_id: string | null;
}

/** Block number of the last indexed block of `ledger`'s deployment, or null before the first batch. */
export async function readIndexCursor(
  db: Queryable,
  chainId: bigint,
  ledger: string,
): Promise<bigint | null> {
  const { rows } = await db.query<{ block_number: bigint }>(
    "SELECT block_number FROM chain_cursor WHERE chain_id = $1 AND ledger = $2",
    [chainId.toString(), ledger],
  );
  return rows[0] === undefined ? null : BigInt(rows[0].block_number);
}

/**
 * Stores one indexed batch in one transaction: its events (a replayed batch adds nothing twice), the
 * hashes of the blocks seen, the cursor at `toBlock`; only the newest `keepBlocks` block hashes stay.
 */
export async function storeIndexBatch(
  db: Database,
  batch: {
    chainId: bigint;
    ledger: string;
    toBlock: bigint;
    events: readonly ChainEventRow[];
    blocks: readonly { number: bigint; hash: string }[];
    keepBlocks: number;
  },
): Promise<void> {
  const chainId = batch.chainId.toString();
  await db.transaction(async (tx) => {
    for (const event of batch.events) {
      await tx.query(
        `INSERT INTO chain_events (chain_id, block_number, log_index, block_hash, tx_hash, contract, address, name,
           args, agreement_id, period, carrier_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10, $11, $12)
         ON CONFLICT (chain_id, block_number, log_index) DO NOTHING`,
        [
          chainId,
          event.blockNumber.toString(),
          event.logIndex,
          event.blockHash,
          event.txHash,
          event.contract,
          event.address,
          event.name,
          JSON.stringify(event.args),
          event.agreementId,
          event.period,
          event.carrierId,
        ],
      );
    }
    for (const block of batch.blocks) {
      await tx.query(
        `INSERT INTO chain_blocks (chain_id, block_number, block_hash) VALUES ($1, $2, $3)
         ON CONFLICT (chain_id, block_number) DO UPDATE SET block_hash = EXCLUDED.block_hash`,
        [chainId, block.number.toString(), block.hash],
      );
    }
    await tx.query(
      `DELETE FROM chain_blocks WHERE chain_id = $1 AND block_number < (
         SELECT min(block_number) FROM (
           SELECT block_number FROM chain_blocks WHERE chain_id = $1 ORDER BY block_number DESC LIMIT $2
         ) AS newest)`,
      [chainId, batch.keepBlocks],
    );
    await tx.query(
      `INSERT INTO chain_cursor (chain_id, ledger, block_number) VALUES ($1, $2, $3)
       ON CONFLICT (chain_id, ledger) DO UPDATE SET block_number = EXCLUDED.block_number, updated_at = now()`,
      [chainId, batch.ledger, batch.toBlock.toString()],
    );
  });
}

/** The kept block hashes of `chainId` at or below `atOrBelow`, newest first. */
export async function recentBlockHashes(
  db: Queryable,
  chainId: bigint,
  atOrBelow: bigint,
): Promise<{ number: bigint; hash: string }[]> {
  const { rows } = await db.query<{ block_number: bigint; block_hash: string }>(
    `SELECT block_number, block_hash FROM chain_blocks WHERE chain_id = $1 AND block_number <= $2
     ORDER BY block_number DESC`,
    [chainId.toString(), atOrBelow.toString()],
  );
  return rows.map((row) => ({ number: BigInt(row.block_number), hash: row.block_hash }));
}

/** Forgets everything indexed above `forkPoint` (a reorganisation) and moves the cursor there. */
export async function rewindIndex(
  db: Database,
  chainId: bigint,
  ledger: string,
  forkPoint: bigint,
): Promise<number> {
  const id = chainId.toString();
  const at = forkPoint.toString();
  return db.transaction(async (tx) => {
    const deleted = await tx.query("DELETE FROM chain_events WHERE chain_id = $1 AND block_number > $2", [
      id,
      at,
    ]);
    await tx.query("DELETE FROM chain_blocks WHERE chain_id = $1 AND block_number > $2", [id, at]);
    await tx.query(
      `INSERT INTO chain_cursor (chain_id, ledger, block_number) VALUES ($1, $2, $3)
       ON CONFLICT (chain_id, ledger) DO UPDATE SET block_number = EXCLUDED.block_number, updated_at = now()`,
      [id, ledger, at],
    );
    return deleted.rowCount;
  });
}

/** Indexed events in chain order, optionally of one agreement-period or one event name. */
export async function listChainEvents(
  db: Queryable,
  filter: { chainId: bigint; agreementId?: string; period?: number; name?: string },
): Promise<ChainEventRow[]> {
  const { rows } = await db.query<EventDbRow>(
    `SELECT block_number, log_index, block_hash, tx_hash, contract, address, name, args, agreement_id, period,
       carrier_id
     FROM chain_events
     WHERE chain_id = $1 AND ($2::text IS NULL OR agreement_id = $2) AND ($3::integer IS NULL OR period = $3)
       AND ($4::text IS NULL OR name = $4)
     ORDER BY block_number, log_index`,
    [filter.chainId.toString(), filter.agreementId ?? null, filter.period ?? null, filter.name ?? null],
  );
  return rows.map((row) => ({
    blockNumber: BigInt(row.block_number),
    logIndex: row.log_index,
    blockHash: row.block_hash,
    txHash: row.tx_hash,
    contract: row.contract,
    address: row.address,
    name: row.name,
    args: typeof row.args === "string" ? (JSON.parse(row.args) as Record<string, unknown>) : row.args,
    agreementId: row.agreement_id,
    period: row.period,
    carrierId: row.carrier_id,
  }));
}
