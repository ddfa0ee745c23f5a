/**
 * The regulator's audit of the ledger as the node serves it: the verification and the report, each
 * replayed from the chain on its own provider and kept for {@link AUDIT_CACHE_MS}.
 */
import { openAuditChain, type AuditChain } from "../audit/chain";
import { buildReport, type AuditReport } from "../audit/report";
import { verifyLedger, type AuditResult } from "../audit/verify";
import type { ChainClient } from "../chain/client";

/** How long a verification or report is served again before the ledger is replayed anew. */
export const AUDIT_CACHE_MS = 60_000;

export type Verification = AuditResult & { verifiedAt: string };

export interface AuditService {
  /**
   * `icl audit verify` of the ledger `chain` points at, the last result while younger than
   * {@link AUDIT_CACHE_MS}. @throws UnavailableError when the chain cannot be read.
   */
  verify(chain: ChainClient): Promise<Verification>;
  /** `icl audit report` of the ledger, cached alike. @throws UnavailableError when the chain cannot be read. */
  report(chain: ChainClient): Promise<AuditReport>;
}

interface Cached<T> {
  at: number;
  value: Promise<T>;
}

// Per chain client, not per node: every gateway on the same ledger client shares the last replay.
const verifications = new WeakMap<ChainClient, Cached<Verification>>();
const reports = new WeakMap<ChainClient, Cached<AuditReport>>();

/** The audit service (its cache is per chain client). Throws nothing. */
export function auditService(): AuditService {
  return {
    verify: (chain) =>
      cached(verifications, chain, () =>
        withAuditChain(chain, async (audit) => ({
          ...(await verifyLedger(audit)),
          verifiedAt: new Date().toISOString(),
        })),
      ),
    report: (chain) => cached(reports, chain, () => withAuditChain(chain, (audit) => buildReport(audit))),
  };
}

/**
 * The last result for this chain while younger than {@link AUDIT_CACHE_MS}, else a new run; concurrent
 * requests share one run, and a failed run is not kept.
 */
function cached<T>(cache: WeakMap<ChainClient, Cached<T>>, chain: ChainClient, run: () => Promise<T>) {
  const hit = cache.get(chain);
  if (hit !== undefined && Date.now() - hit.at < AUDIT_CACHE_MS) return hit.value;
  const entry: Cached<T> = { at: Date.now(), value: run() };
  cache.set(chain, entry);
  entry.value.catch(() => {
    if (cache.get(chain) === entry) cache.delete(chain);
  });
  return entry.value;
}

/** The audit's own view of the node's chain: same RPC endpoint and deployment, its own provider. */
async function withAuditChain<T>(chain: ChainClient, use: (audit: AuditChain) => Promise<T>): Promise<T> {
  const audit = await openAuditChain({
    rpcUrl: chain.rpcUrl,
    ledger: chain.deployment.ledger,
    registry: chain.deployment.registry,
    book: chain.deployment.book,
    fromBlock: chain.deployment.deployBlock,
  });
  try {
    return await use(audit);
  } finally {
    audit.close();
  }
}
