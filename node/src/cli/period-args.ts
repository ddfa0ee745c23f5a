import { requireAgreement, type LocalAgreement } from "../db/agreements";
import { NotFoundError } from "../errors";
import type { Database } from "../db/database";
import { UsageError, type ParsedCommandArgs } from "./command";
import { parsePeriod } from "./commands/period";

/** Usage text of commands that name an agreement-period. */
export const AGREEMENT_PERIOD_ARGS = "AGREEMENT PERIOD";
export const AGREEMENT_PERIOD_POSITIONALS = { min: 2, max: 2 };

/** The agreement (name or id) and month given as `AGREEMENT YYYY-MM`. @throws UsageError */
export function agreementPeriodArgs(args: ParsedCommandArgs): { agreement: string; period: number } {
  const [agreement, period] = args.positionals;
  if (agreement === undefined || period === undefined)
    throw new UsageError(`expects ${AGREEMENT_PERIOD_ARGS}, e.g. ACME-GLOBEX 2026-10`);
  return { agreement, period: parsePeriod(period) };
}

/** The local agreement and period named by the positionals. @throws UsageError, NotFoundError */
export async function resolveAgreementPeriod(
  db: Database,
  args: ParsedCommandArgs,
): Promise<{ agreement: LocalAgreement & { secret: Uint8Array }; period: number }> {
  const { agreement, period } = agreementPeriodArgs(args);
  return { agreement: await requireAgreement(db, agreement), period };
}

/**
 * A local agreement by name or id; for someone not party to it (the arbiter, anyone settling) any
 * agreement's 0x id, named by its shortened id.
 * @throws NotFoundError for an unknown name.
 */
export async function agreementOrId(
  db: Database,
  text: string,
): Promise<(LocalAgreement & { secret: Uint8Array }) | { agreementId: string; name: string }> {
  try {
    return await requireAgreement(db, text);
  } catch (error) {
    if (error instanceof NotFoundError && /^0x[0-9a-fA-F]{64}$/.test(text))
      return { agreementId: text.toLowerCase(), name: `${text.slice(0, 10)}…` };
    throw error;
  }
}
