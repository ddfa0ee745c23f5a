import { ConflictError, InputError, NotFoundError } from "../errors";
import type { Direction, MatchRule } from "../mediation/types";
import type { Database, Queryable } from "./database";

export interface Partner {
  id: string;
  name: string;
  matchRules: MatchRule[];
}

const PARTNER_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/**
 * Registers a partner with its match rules (in priority order).
 * @throws InputError for a malformed id or rule regex; ConflictError when the id is taken.
 */
export async function addPartner(db: Database, partner: Partner): Promise<void> {
  if (!PARTNER_ID.test(partner.id)) {
    throw new InputError(`partner id '${partner.id}' must be 1–64 letters, digits, '_', '.' or '-'`, {
      field: "id",
    });
  }
  partner.matchRules.forEach((rule, index) => {
    try {
      new RegExp(rule.pattern);
    } catch (error) {
      throw new InputError(`match rule ${index + 1} has an invalid pattern '${rule.pattern}'`, {
        field: "match",
        cause: error,
      });
    }
  });
  await db.transaction(async (tx) => {
    const existing = await tx.query("SELECT 1 FROM partners WHERE id = $1", [partner.id]);
    if (existing.rows.length > 0) throw new ConflictError(`partner ${partner.id} already exists`);
    await tx.query("INSERT INTO partners (id, name) VALUES ($1, $2)", [partner.id, partner.name]);
    for (const [position, rule] of partner.matchRules.entries()) {
      await tx.query(
        "INSERT INTO match_rules (partner_id, direction, field, pattern, position) VALUES ($1, $2, $3, $4, $5)",
        [partner.id, rule.direction, rule.field, rule.pattern, position],
      );
    }
  });
}

/** Every partner with its match rules, by id. */
export async function listPartners(db: Queryable): Promise<Partner[]> {
  const partners = await db.query<{ id: string; name: string }>("SELECT id, name FROM partners ORDER BY id");
  const rules = await db.query<{ partner_id: string; direction: Direction; field: string; pattern: string }>(
    "SELECT partner_id, direction, field, pattern FROM match_rules ORDER BY partner_id, position",
  );
  return partners.rows.map((row) => ({
    id: row.id,
    name: row.name,
    matchRules: rules.rows
      .filter((rule) => rule.partner_id === row.id)
      .map((rule) => ({
        partner: row.id,
        direction: rule.direction,
        field: rule.field,
        pattern: rule.pattern,
      })),
  }));
}

/** @throws NotFoundError when no partner has this id. */
export async function requirePartner(db: Queryable, id: string): Promise<void> {
  const { rows } = await db.query("SELECT 1 FROM partners WHERE id = $1", [id]);
  if (rows.length === 0)
    throw new NotFoundError(`partner ${id} does not exist`, "Add it first: icl partners add");
}
