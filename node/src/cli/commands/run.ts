import { startCarrierNode } from "../../carrier-node";
import { runLiveSources } from "../../ingest/live";
import type { PassReport } from "../../reconciliation/runner";
import { formatPeriod } from "../../reconciliation/reveal";
import { DATA_DIR_OPTION, JSON_OPTION, UsageError, stringOption, type CliIo, type Command } from "../command";
import { toJson } from "../format";
import { withNode } from "../node-context";
import { openNodeChain } from "../chain-context";

export const runCommand: Command = {
  words: ["run"],
  summary:
    "Run the node: serve the peer protocol, follow the ledger, take the fast path or commit, reveal when allowed, compare with the partner when roots differ.",
  description:
    "On start it settles transactions a previous run left pending. Then, every peer.pollMs: indexes the ledger's\n" +
    "events; for a period closed but not committed (settlement.fastPath), exchanges officers' Settlement\n" +
    "signatures with the partner's node and settles it in one transaction when both carriers' officers signed the\n" +
    "same figures, else commits it (partner's figures differ, fast path off on either side, or\n" +
    "settlement.fastPathFallbackMs before the commit window closes); reveals every committed period the ledger\n" +
    "lets it reveal, and once both parties revealed and the\n" +
    "roots differ, asks the partner's node (icl agreements set-peer) where and why and stores the discrepancy\n" +
    "report (icl period report) with its encrypted evidence; warns (log and icl alerts) when a period's window\n" +
    "closes within watch.warnBeforeMs and settles Approved periods when watch.autoSettle. Serves the partner's\n" +
    "questions on --listen (default peer.listen, 127.0.0.1:7700). Stops on Ctrl-C or SIGTERM. --once does one\n" +
    "pass and exits: 0 when every step succeeded, 69 when one must be retried (peer or chain unreachable).\n" +
    "Without --once it also consumes every source of config.json's `sources` (NATS JetStream subjects, tables)\n" +
    "in the background, restarting one that fails with a retryable error.",
  options: {
    ...DATA_DIR_OPTION,
    listen: { type: "string", valueName: "HOST:PORT", description: "where to serve the peer protocol" },
    once: { type: "boolean", description: "one pass, then exit" },
    ...JSON_OPTION,
  },
  positionals: { min: 0, max: 0 },
  async run(args, io) {
    return withNode(args, io, async (node) => {
      const peerConfig = node.config.config.peer;
      const [host, port] = parseListen(stringOption(args, "listen") ?? peerConfig.listen);
      const { chain, signer } = await openNodeChain(node, io);
      try {
        const { runner, gateway } = await startCarrierNode({ node, chain, signer, listen: { host, port } });
        try {
          if (args.values.once === true) {
            const report = await runner.pass();
            io.stdout.write(args.values.json ? toJson(report) : describePass(report));
            return report.deferred.length > 0 ? 69 : 0;
          }
          const sources = node.config.config.sources ?? [];
          node.logger.info("node running", {
            peer: gateway.url,
            pollMs: peerConfig.pollMs,
            sources: sources.length,
          });
          io.stderr.write(
            `icl node running: gateway at ${gateway.url} (peer protocol /peer/v1/, API /api/v1, docs /docs), ledger every ${peerConfig.pollMs} ms` +
              `${sources.length > 0 ? `, consuming ${sources.length} source${sources.length === 1 ? "" : "s"}` : ""} (Ctrl-C stops)\n`,
          );
          // The configured sources run beside the ledger loop and stop with it, each finishing
          // (storing and acknowledging) the batch in hand; neither rejects.
          await untilStopped(async (signal) => {
            await Promise.all([
              runner.run(signal, peerConfig.pollMs),
              runLiveSources(
                {
                  ingest: (source, options) => node.ingestSource(source, options),
                  sources,
                  logger: node.logger,
                },
                signal,
              ),
            ]);
          }, io);
          return 0;
        } finally {
          await gateway.close();
        }
      } finally {
        chain.close();
      }
    });
  },
};

/** `127.0.0.1:7700` or `[::1]:7700` → host and port. @throws UsageError otherwise. */
export function parseListen(text: string): [string, number] {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(text);
  const port = match ? Number(match[3]) : -1;
  if (!match || port > 65_535)
    throw new UsageError(`--listen '${text}' is not HOST:PORT, e.g. 127.0.0.1:7700`);
  return [match[1] ?? match[2]!, port];
}

async function untilStopped(work: (signal: AbortSignal) => Promise<void>, io: CliIo): Promise<void> {
  const controller = new AbortController();
  const stop = () => {
    io.stderr.write("stopping…\n");
    controller.abort();
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  try {
    await work(controller.signal);
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
  }
}

function describePass(report: PassReport): string {
  const lines: string[] = [];
  for (const item of report.periods)
    lines.push(`${item.agreement} ${formatPeriod(item.period)}: ${item.state}`);
  for (const item of report.fastPath)
    lines.push(
      `fast path ${item.agreement} ${formatPeriod(item.period)}: ${item.step}, ${item.detail}` +
        (item.txHash === null ? "" : ` (transaction ${item.txHash})`),
    );
  for (const item of report.preReveal)
    lines.push(
      `before the reveal ${item.agreement} ${formatPeriod(item.period)}: ${item.step}, ${item.detail}` +
        (item.txHash === null ? "" : ` (transaction ${item.txHash})`),
    );
  for (const item of report.revealed)
    lines.push(`revealed ${item.agreement} ${formatPeriod(item.period)} in ${item.txHash}`);
  for (const item of report.compared) {
    lines.push(
      `compared ${formatPeriod(item.period)} with the partner: ${item.report.leaves.length} differing ` +
        `${item.report.leaves.length === 1 ? "leaf" : "leaves"} ` +
        `(${Object.entries(item.report.counts)
          .filter(([, count]) => count > 0)
          .map(([kind, count]) => `${kind} ${count}`)
          .join(", ")}); icl period report shows it`,
    );
  }
  for (const item of report.settled)
    lines.push(
      `settled ${item.partial ? "the undisputed part of " : ""}${item.agreement} ${formatPeriod(item.period)} in ${item.txHash}`,
    );
  for (const item of report.alerts) lines.push(`${item.level}: ${item.message}`);
  for (const item of report.deferred)
    lines.push(
      `could not ${item.step}${item.period === 0 ? "" : ` for ${item.agreement} ${formatPeriod(item.period)}`}: ${item.error}`,
    );
  if (lines.length === 0) lines.push("nothing committed yet: close a period first (icl period close)");
  return lines.join("\n") + "\n";
}
