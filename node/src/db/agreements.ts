import { ConflictError, InputError, NotFoundError } from "../errors";
import type { Database, Queryable } from "./database";

export interface LocalAgreement {
  agreementId: string;
  name: string;
  partnerId: string;
  side: "A" | "B";
  /** Base URL of the counterparty's node for the peer protocol (`/peer/v1/`), when known. */
  peerUrl: string | null;
  createdAt: Date;
}

const AGREEMENT_ID = /^0x[0-9a-f]{64}$/;
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/**
 * Records an agreement this node is party to, with its shared secret (at least 32 bytes).
 * @throws InputError for a malformed id, name or secret; NotFoundError for an unknown partner;
 * ConflictError when the id or name is taken.
 */
export async function addAgreement(
  db: Database,
  agreement: {
    agreementId: string;
    name: string;
    partnerId: string;
    side: "A" | "B";
    secret: Uint8Array;
    peerUrl?: string | null;
  },
): Promise<void> {
  const peerUrl =
    agreement.peerUrl === undefined || agreement.peerUrl === null ? null : checkPeerUrl(agreement.peerUrl);
  const agreementId = agreement.agreementId.toLowerCase();
  if (!AGREEMENT_ID.test(agreementId)) {
    throw new InputError(`agreement id '${agreement.agreementId}' is not 0x followed by 64 hex digits`, {
      field: "id",
    });
  }
  if (!NAME.test(agreement.name)) {
    throw new InputError(`agreement name '${agreement.name}' must be 1–64 letters, digits, '_', '.' or '-'`, {
      field: "name",
    });
  }
  if (agreement.secret.length < 32) {
    throw new InputError(
      `the agreement secret has ${agreement.secret.length} bytes; at least 32 are needed`,
      {
        field: "secret",
      },
    );
  }
  await db.transaction(async (tx) => {
    const partner = await tx.query("SELECT 1 FROM partners WHERE id = $1", [agreement.partnerId]);
    if (partner.rows.length === 0) {
      throw new NotFoundError(
        `partner ${agreement.partnerId} does not exist`,
        "Add it first: icl partners add",
      );
    }
    const taken = await tx.query("SELECT 1 FROM agreements WHERE agreement_id = $1 OR name = $2", [
      agreementId,
      agreement.name,
    ]);
    if (taken.rows.length > 0)
      throw new ConflictError(`agreement ${agreement.name} (${agreementId}) already exists`);
    await tx.query(
      `INSERT INTO agreements (agreement_id, name, partner_id, side, secret_hex, peer_url)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [
        agreementId,
        agreement.name,
        agreement.partnerId,
        agreement.side,
        Buffer.from(agreement.secret).toString("hex"),
        peerUrl,
      ],
    );
  });
}

type Row = {
  agreement_id: string;
  name: string;
  partner_id: string;
  side: "A" | "B";
  peer_url: string | null;
  created_at: Date;
};

const COLUMNS = "agreement_id, name, partner_id, side, peer_url, created_at";

function toAgreement(row: Row): LocalAgreement {
  return {
    agreementId: row.agreement_id,
    name: row.name,
    partnerId: row.partner_id,
    side: row.side,
    peerUrl: row.peer_url,
    createdAt: new Date(row.created_at),
  };
}

/** The agreements this node knows, by name (secrets are never listed). */
export async function listAgreements(db: Queryable): Promise<LocalAgreement[]> {
  const { rows } = await db.query<Row>(`SELECT ${COLUMNS} FROM agreements ORDER BY name`);
  return rows.map(toAgreement);
}

/** Every agreement this node knows, with its secret (for keying calls at ingest, reconciliation/call-key.ts). */
export async function listAgreementsWithSecrets(
  db: Queryable,
): Promise<(LocalAgreement & { secret: Uint8Array })[]> {
  const { rows } = await db.query<Row & { secret_hex: string }>(
    `SELECT ${COLUMNS}, secret_hex FROM agreements ORDER BY name`,
  );
  return rows.map((row) => ({ ...toAgreement(row), secret: Buffer.from(row.secret_hex, "hex") }));
}

/**
 * One agreement by name or id, with its secret.
 * @throws NotFoundError when this node has no such agreement.
 */
export async function requireAgreement(
  db: Queryable,
  nameOrId: string,
): Promise<LocalAgreement & { secret: Uint8Array }> {
  const { rows } = await db.query<Row & { secret_hex: string }>(
    `SELECT ${COLUMNS}, secret_hex FROM agreements
      WHERE name = $1 OR agreement_id = lower($1)`,
    [nameOrId],
  );
  const row = rows[0];
  if (!row)
    throw new NotFoundError(`agreement ${nameOrId} is not known to this node`, "Add it: icl agreements add");
  return { ...toAgreement(row), secret: Buffer.from(row.secret_hex, "hex") };
}

/**
 * Sets (or, with null, clears) where the counterparty's node answers the peer protocol.
 * @throws InputError for a URL that is not http(s); NotFoundError for an unknown agreement.
 */
export async function setAgreementPeer(
  db: Queryable,
  nameOrId: string,
  peerUrl: string | null,
): Promise<void> {
  const url = peerUrl === null ? null : checkPeerUrl(peerUrl);
  const { rowCount } = await db.query(
    "UPDATE agreements SET peer_url = $2 WHERE name = $1 OR agreement_id = lower($1)",
    [nameOrId, url],
  );
  if (rowCount === 0)
    throw new NotFoundError(`agreement ${nameOrId} is not known to this node`, "Add it: icl agreements add");
}

/** An http(s) URL without credentials, query or fragment, and without a trailing slash. */
function checkPeerUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InputError(`peer URL '${text}' is not a URL`, { field: "peer-url" });
  }
  if ((url.protocol !== "http:" && url.protocol !== "https:") || url.username || url.password) {
    throw new InputError(`peer URL '${text}' must be http(s) without credentials`, { field: "peer-url" });
  }
  if (url.search || url.hash) {
    throw new InputError(`peer URL '${text}' must not have a query or fragment`, { field: "peer-url" });
  }
  return url.toString().replace(/\/+$/, "");
}
