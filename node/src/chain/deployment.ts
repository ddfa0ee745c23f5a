/** Reads `deployments/<network>.json` as written by `npm run deploy`. */
import fs from "node:fs";
import { getAddress } from "ethers";
import { z } from "zod/v4";
import { InputError, NotFoundError } from "../errors";

/** What the chain client needs of a ledger deployment. */
export interface ChainDeployment {
  ledger: string;
  registry: string;
  book: string;
  deployBlock: number;
  chainId: bigint;
}

export interface LoadedDeployment extends ChainDeployment {
  network: string;
  deployer: string;
  token: { address: string; symbol: string; decimals: number; demo: boolean } | null;
}

const address = z.string().transform((value, ctx) => {
  try {
    return getAddress(value);
  } catch {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `'${value}' is not an address` });
    return z.NEVER;
  }
});

const schema = z.object({
  network: z.string().min(1),
  chainId: z.number().int().positive(),
  deployBlock: z.number().int().nonnegative(),
  deployer: address,
  contracts: z.object({ CarrierRegistry: address, AgreementBook: address, SettlementLedger: address }),
  token: z.object({ address, symbol: z.string(), decimals: z.number().int(), demo: z.boolean() }).optional(),
});

/**
 * Loads and validates a deployments file; with `expectedChainId` also checks the file is for that chain
 * (`createChainClient` checks it against the RPC node as well).
 * @throws NotFoundError when the file is missing; InputError naming the file and field when it is
 * malformed or for another chain.
 */
export function loadDeployment(file: string, expectedChainId?: bigint): LoadedDeployment {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT")
      throw new NotFoundError(`no deployment file at ${file}`);
    throw new InputError("the deployment file cannot be read", { file, cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new InputError("the deployment file is not JSON", { file, cause: error });
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InputError(issue?.message ?? "invalid deployment file", { file, field: issue?.path.join(".") });
  }
  const d = parsed.data;
  if (expectedChainId !== undefined && BigInt(d.chainId) !== expectedChainId) {
    throw new InputError(`the deployment is for chain ${d.chainId}, not ${expectedChainId}`, {
      file,
      field: "chainId",
    });
  }
  return {
    network: d.network,
    chainId: BigInt(d.chainId),
    deployBlock: d.deployBlock,
    deployer: d.deployer,
    ledger: d.contracts.SettlementLedger,
    registry: d.contracts.CarrierRegistry,
    book: d.contracts.AgreementBook,
    token: d.token ?? null,
  };
}
