import { resolveDataDir } from "../config/config";
import { loggerFromEnv } from "../logger";
import { openNode, type CarrierNode } from "../node";
import { stringOption, type CliIo, type ParsedCommandArgs } from "./command";

/** Opens the node named by --data-dir / ICL_DATA_DIR, runs `work`, and always closes it. */
export async function withNode<T>(
  args: ParsedCommandArgs,
  io: CliIo,
  work: (node: CarrierNode) => Promise<T>,
): Promise<T> {
  const node = await openNode(
    resolveDataDir(stringOption(args, "data-dir"), io.env),
    loggerFromEnv(io.stderr, io.env),
    io.env,
  );
  try {
    return await work(node);
  } finally {
    await node.close();
  }
}
