import type { Direction, Service } from "../mediation/types";
import type { TariffRow } from "../rating/tariff-deck";
import type { Database, Queryable } from "./database";

export interface DeckInfo {
  id: number;
  partner: string;
  direction: Direction;
  name: string;
  currency: string;
  contentHash: string;
  active: boolean;
  importedAt: Date;
  rows: number;
}

/**
 * Stores a validated deck as the active deck for (partner, direction); the previous one stays, inactive,
 * so CDRs rated under it keep pointing at the rows that priced them. Returns the new deck's id.
 */
export async function importDeck(
  db: Database,
  deck: {
    partner: string;
    direction: Direction;
    name: string;
    currency: string;
    contentHash: string;
    rows: readonly TariffRow[];
  },
): Promise<number> {
  return db.transaction(async (tx) => {
    await tx.query(
      "UPDATE tariff_decks SET active = false WHERE partner_id = $1 AND direction = $2 AND active",
      [deck.partner, deck.direction],
    );
    const { rows } = await tx.query<{ id: number }>(
      `INSERT INTO tariff_decks (partner_id, direction, name, currency, content_hash) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
      [deck.partner, deck.direction, deck.name, deck.currency, deck.contentHash],
    );
    const id = rows[0]!.id;
    const column = <T>(pick: (row: TariffRow) => T) => deck.rows.map(pick);
    await tx.query(
      `INSERT INTO tariff_rows (deck_id, line, service, prefix, destination, rate_pico, connect_fee_pico,
         first_increment, next_increment, interval_start, effective_from, effective_to, time_band, days, time_from,
         time_to, timezone)
       SELECT $1, u.line, u.service, u.prefix, u.destination, u.rate, u.fee, u.first_inc, u.next_inc, u.interval_start,
         timestamptz 'epoch' + u.eff_from * interval '1 millisecond', timestamptz 'epoch' + u.eff_to * interval '1 millisecond',
         u.band, u.days, u.time_from, u.time_to, u.tz
       FROM unnest($2::int[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[], $8::int[], $9::int[],
         $10::int[], $11::bigint[], $12::bigint[], $13::text[], $14::text[], $15::int[], $16::int[], $17::text[])
         AS u(line, service, prefix, destination, rate, fee, first_inc, next_inc, interval_start, eff_from, eff_to, band,
           days, time_from, time_to, tz)`,
      [
        id,
        column((r) => r.line),
        column((r) => r.service),
        column((r) => r.prefix),
        column((r) => r.destination),
        column((r) => r.rate),
        column((r) => r.connectFee),
        column((r) => r.firstIncrement),
        column((r) => r.nextIncrement),
        column((r) => r.intervalStart),
        column((r) => r.effectiveFrom),
        column((r) => r.effectiveTo),
        column((r) => r.band?.name ?? null),
        column((r) => (r.band ? r.band.days.map((on) => (on ? "1" : "0")).join("") : null)),
        column((r) => r.band?.fromMinute ?? null),
        column((r) => r.band?.toMinute ?? null),
        column((r) => r.band?.timeZone ?? null),
      ],
    );
    return id;
  });
}

/** Every deck, newest first, with its row count. */
export async function listDecks(db: Queryable): Promise<DeckInfo[]> {
  const { rows } = await db.query<{
    id: number;
    partner_id: string;
    direction: Direction;
    name: string;
    currency: string;
    content_hash: string;
    active: boolean;
    imported_at: Date;
    row_count: number;
  }>(
    `SELECT d.id, d.partner_id, d.direction, d.name, d.currency, d.content_hash, d.active, d.imported_at,
            (SELECT count(*)::int FROM tariff_rows r WHERE r.deck_id = d.id) AS row_count
       FROM tariff_decks d ORDER BY d.partner_id, d.direction, d.id DESC`,
  );
  return rows.map((row) => ({
    id: row.id,
    partner: row.partner_id,
    direction: row.direction,
    name: row.name,
    currency: row.currency,
    contentHash: row.content_hash,
    active: row.active,
    importedAt: new Date(row.imported_at),
    rows: row.row_count,
  }));
}

/** The active deck of every (partner, direction), rows included, keyed `PARTNER|direction`. */
export async function loadActiveDecks(
  db: Queryable,
): Promise<Map<string, { deckId: number; rows: TariffRow[] }>> {
  const { rows } = await db.query<{
    deck_id: number;
    partner_id: string;
    direction: Direction;
    line: number;
    service: Service;
    prefix: string;
    destination: string;
    rate_pico: bigint;
    connect_fee_pico: bigint;
    first_increment: number;
    next_increment: number;
    interval_start: number;
    eff_from: bigint | null;
    eff_to: bigint | null;
    time_band: string | null;
    days: string | null;
    time_from: number | null;
    time_to: number | null;
    timezone: string | null;
  }>(
    `SELECT d.id AS deck_id, d.partner_id, d.direction, r.line, r.service, r.prefix, r.destination, r.rate_pico,
            r.connect_fee_pico, r.first_increment, r.next_increment, r.interval_start,
            (extract(epoch FROM r.effective_from) * 1000)::bigint AS eff_from,
            (extract(epoch FROM r.effective_to) * 1000)::bigint AS eff_to,
            r.time_band, r.days, r.time_from, r.time_to, r.timezone
       FROM tariff_decks d JOIN tariff_rows r ON r.deck_id = d.id
      WHERE d.active ORDER BY d.id, r.line`,
  );
  const decks = new Map<string, { deckId: number; rows: TariffRow[] }>();
  for (const row of rows) {
    const key = `${row.partner_id}|${row.direction}`;
    let deck = decks.get(key);
    if (!deck) {
      deck = { deckId: row.deck_id, rows: [] };
      decks.set(key, deck);
    }
    deck.rows.push({
      line: row.line,
      service: row.service,
      prefix: row.prefix,
      destination: row.destination,
      rate: row.rate_pico,
      connectFee: row.connect_fee_pico,
      firstIncrement: row.first_increment,
      nextIncrement: row.next_increment,
      intervalStart: row.interval_start,
      effectiveFrom: row.eff_from === null ? null : Number(row.eff_from),
      effectiveTo: row.eff_to === null ? null : Number(row.eff_to),
      band:
        row.time_band === null
          ? null
          : {
              name: row.time_band,
              days: [...(row.days ?? "")].map((flag) => flag === "1"),
              fromMinute: row.time_from ?? 0,
              toMinute: row.time_to ?? 1440,
              timeZone: row.timezone ?? "UTC",
            },
    });
  }
  return decks;
}
