/**
 * The deadline watch's alerts as people ask for them: "the last 12 hours", one level, one agreement.
 * `icl alerts`, GET /api/v1/alerts and the console's Alerts page all go through here, so a window like
 * `7d` means the same everywhere.
 */
import { listAlerts, type AlertLevel, type StoredAlert } from "../db/alerts";
import type { Database } from "../db/database";
import { InputError } from "../errors";

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** What a window looks like: up to six digits and a unit. */
export const ALERT_WINDOW_PATTERN = /^(\d{1,6})([smhdw])$/;

/** `90s`, `30m`, `12h`, `7d`, `2w` → milliseconds; null for anything else. Throws nothing. */
export function alertWindowMs(text: string): number | null {
  const match = ALERT_WINDOW_PATTERN.exec(text.trim());
  return match ? Number(match[1]) * UNITS[match[2]!]! : null;
}

export interface AlertsFilter {
  /** Only alerts of this last window (`30m`, `12h`, `7d`, `2w`…). */
  since?: string;
  level?: AlertLevel;
  /** Only this agreement (name or id). */
  agreement?: string;
}

export interface AlertsService {
  /**
   * Stored alerts, oldest first, filtered by window, level and agreement.
   * @throws InputError (field `since`) for a window that is not a duration; UnavailableError when the
   * database is down.
   */
  list(filter?: AlertsFilter, now?: Date): Promise<StoredAlert[]>;
}

/** The alerts of a node on `db`. Throws nothing. */
export function alertsService(db: Database): AlertsService {
  return {
    async list(filter = {}, now = new Date()) {
      let since: Date | undefined;
      if (filter.since !== undefined) {
        const ms = alertWindowMs(filter.since);
        if (ms === null) {
          throw new InputError(`'${filter.since}' is not a duration like 30m, 12h, 7d or 2w`, {
            field: "since",
          });
        }
        since = new Date(now.getTime() - ms);
      }
      return listAlerts(db, { since, level: filter.level, agreementId: filter.agreement });
    },
  };
}
