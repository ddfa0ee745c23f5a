import path from "node:path";
import type { ChainClient } from "../../chain/client";
import type { CarrierNode } from "../../node";
import { InputError } from "../../errors";
import { formatScaled } from "../../money/decimal";
import {
  carrierOfNode,
  depositToEscrow,
  escrowPositions,
  keystoreAddress,
  parseTokenAmount,
  withdrawFromEscrow,
} from "../../settlement/escrow";
import {
  carrierName,
  chainCall,
  listedTokens,
  parseCarrierId,
  resolveToken,
  type ListedToken,
} from "../../settlement/escrow-tokens";
import { SIGNER_OPTIONS, confirmStep, loadSignerKey, nodeDeployment, openChainAs } from "../chain-context";
import {
  DATA_DIR_OPTION,
  JSON_OPTION,
  requiredOption,
  stringOption,
  type Command,
  type OptionSpec,
  type ParsedCommandArgs,
} from "../command";
import { table, toJson } from "../format";
import { withNode } from "../node-context";

const CARRIER_OPTION: Record<string, OptionSpec> = {
  carrier: {
    type: "string",
    valueName: "ID",
    description: "the carrier (ACME or its 0x id); default this node's carrier (registry.carrierOfNode)",
  },
};

/**
 * The carrier named by --carrier, else the one whose node the keystore's address is. The address is
 * read from the keystore file without decrypting it, so no password is asked.
 */
async function chosenCarrier(
  node: CarrierNode,
  chain: ChainClient,
  args: ParsedCommandArgs,
): Promise<string> {
  const text = stringOption(args, "carrier");
  if (text !== undefined) return parseCarrierId(text);
  const keystore = node.config.config.chain?.keystore;
  if (keystore === undefined) throw new InputError("this node has no chain settings (config.json `chain`)");
  return carrierOfNode(chain, keystoreAddress(path.resolve(node.config.dataDir, keystore)));
}

async function chainTokens(node: CarrierNode, chain: ChainClient): Promise<ListedToken[]> {
  await chain.indexer.sync();
  return listedTokens(chain, node.db, nodeDeployment(node));
}

export const escrowBalanceCommand: Command = {
  words: ["escrow", "balance"],
  summary:
    "Show a carrier's escrow per listed token and its net position in Approved periods not yet settled.",
  description:
    "Read-only (no key password): the carrier is --carrier or this node's carrier, found from the node keystore's\n" +
    "address. For each listed token (or --token): the escrow balance, the part reserved by the carrier's\n" +
    "approvals as payer (held until those periods settle or the reservations are released after their\n" +
    "approvals' deadlines), the available rest (what officers can withdraw), the carrier's net position over\n" +
    "every Approved period waiting to settle (negative pays), the balance after they settle and any top-up.",
  options: {
    ...DATA_DIR_OPTION,
    token: { type: "string", valueName: "SYMBOL|ADDRESS", description: "only this token" },
    ...CARRIER_OPTION,
    ...JSON_OPTION,
  },
  positionals: { min: 0, max: 0 },
  async run(args, io) {
    const result = await withNode(args, io, async (node) => {
      const chain = await openChainAs(node, null);
      try {
        const carrierId = await chosenCarrier(node, chain, args);
        const listed = await chainTokens(node, chain);
        const tokenText = stringOption(args, "token");
        const tokens = tokenText === undefined ? listed : [resolveToken(listed, tokenText)];
        const balances = await escrowPositions(chain, node.db, carrierId, tokens);
        return { carrier: carrierName(carrierId), carrierId, balances };
      } finally {
        chain.close();
      }
    });
    if (args.values.json) {
      io.stdout.write(toJson(result));
      return 0;
    }
    io.stdout.write(
      `Escrow of ${result.carrier} (${result.carrierId}):\n\n` +
        table(
          [
            "token",
            "escrow",
            "reserved",
            "available",
            "approved periods",
            "pending net",
            "after settlement",
            "top-up needed",
          ],
          result.balances.map((b) => [
            b.token,
            b.escrow,
            b.reserved,
            b.available,
            b.pendingPeriods,
            b.pendingNet,
            b.afterSettlement,
            b.topUp,
          ]),
        ),
    );
    return 0;
  },
};

export const escrowDepositCommand: Command = {
  words: ["escrow", "deposit"],
  summary:
    "Deposit tokens from your own key into a carrier's escrow (ERC-2612 permit when the token has it).",
  description:
    "Signed with your key (--key FILE or $ICL_OFFICER_KEY; anyone may fund a carrier). The amount is in the token's\n" +
    "units with at most its decimals (12.5 = 12.500000 of a 6-decimal token), parsed exactly. One\n" +
    "depositWithPermit transaction when the token supports ERC-2612 permits, else approve then deposit.\n" +
    "Every run is a new deposit.",
  options: {
    ...DATA_DIR_OPTION,
    token: { type: "string", valueName: "SYMBOL|ADDRESS", description: "the listed token (required)" },
    amount: { type: "string", valueName: "DECIMAL", description: "how much, e.g. 12.5 (required)" },
    ...CARRIER_OPTION,
    ...SIGNER_OPTIONS,
    ...JSON_OPTION,
  },
  positionals: { min: 0, max: 0 },
  async run(args, io) {
    const tokenText = requiredOption(args, "token");
    const amountText = requiredOption(args, "amount");
    const result = await withNode(args, io, async (node) => {
      const signer = await loadSignerKey(args, io);
      const chain = await openChainAs(node, signer);
      try {
        const carrierId = await chosenCarrier(node, chain, args);
        const token = resolveToken(await chainTokens(node, chain), tokenText);
        const amount = parseTokenAmount(amountText, token);
        await confirmStep(
          args,
          io,
          `Deposit ${formatScaled(amount, token.decimals)} ${token.symbol} from ${signer.address} ` +
            `into the escrow of ${carrierName(carrierId)}.`,
        );
        const deposit = await depositToEscrow(chain, signer, { carrierId, token, amount });
        const escrow = await chainCall("escrowOf", () => chain.ledger.escrowOf(carrierId, token.address));
        return {
          carrier: carrierName(carrierId),
          carrierId,
          token: token.symbol,
          tokenAddress: token.address,
          amount: formatScaled(amount, token.decimals),
          from: signer.address,
          method: deposit.method,
          transactions: deposit.transactions.map((t) => ({
            kind: t.kind,
            txHash: t.txHash,
            blockNumber: t.blockNumber,
          })),
          escrow: formatScaled(escrow, token.decimals),
        };
      } finally {
        chain.close();
      }
    });
    if (args.values.json) io.stdout.write(toJson(result));
    else {
      io.stdout.write(
        `Deposited ${result.amount} ${result.token} into ${result.carrier}'s escrow (${result.method}, ` +
          `transaction ${result.transactions.at(-1)?.txHash}); escrow now ${result.escrow} ${result.token}\n`,
      );
    }
    return 0;
  },
};

export const escrowWithdrawCommand: Command = {
  words: ["escrow", "withdraw"],
  summary: "Withdraw available escrow of your carrier to its registered treasury (officer).",
  description:
    "Signed with your officer key (--key FILE or $ICL_OFFICER_KEY). The tokens go to the treasury the registry\n" +
    "holds for the carrier, never to the signer. Only the available part can be withdrawn: what the carrier's\n" +
    "approvals reserved as payer stays until those periods settle or the reservations are released\n" +
    "(icl escrow balance shows escrow, reserved and available).",
  options: {
    ...DATA_DIR_OPTION,
    token: { type: "string", valueName: "SYMBOL|ADDRESS", description: "the listed token (required)" },
    amount: { type: "string", valueName: "DECIMAL", description: "how much, e.g. 12.5 (required)" },
    ...CARRIER_OPTION,
    ...SIGNER_OPTIONS,
    ...JSON_OPTION,
  },
  positionals: { min: 0, max: 0 },
  async run(args, io) {
    const tokenText = requiredOption(args, "token");
    const amountText = requiredOption(args, "amount");
    const result = await withNode(args, io, async (node) => {
      const signer = await loadSignerKey(args, io);
      const chain = await openChainAs(node, signer);
      try {
        const carrierId = await chosenCarrier(node, chain, args);
        const token = resolveToken(await chainTokens(node, chain), tokenText);
        const amount = parseTokenAmount(amountText, token);
        const treasury = await chainCall("treasuryOf", () => chain.registry.treasuryOf(carrierId));
        await confirmStep(
          args,
          io,
          `Withdraw ${formatScaled(amount, token.decimals)} ${token.symbol} from the escrow of ` +
            `${carrierName(carrierId)} to its treasury ${treasury}.`,
        );
        const withdrawal = await withdrawFromEscrow(chain, signer, { carrierId, token, amount });
        const escrow = await chainCall("escrowOf", () => chain.ledger.escrowOf(carrierId, token.address));
        return {
          carrier: carrierName(carrierId),
          carrierId,
          token: token.symbol,
          tokenAddress: token.address,
          amount: formatScaled(amount, token.decimals),
          treasury: withdrawal.treasury,
          transaction: {
            txHash: withdrawal.transaction.txHash,
            blockNumber: withdrawal.transaction.blockNumber,
          },
          escrow: formatScaled(escrow, token.decimals),
        };
      } finally {
        chain.close();
      }
    });
    if (args.values.json) io.stdout.write(toJson(result));
    else {
      io.stdout.write(
        `Withdrew ${result.amount} ${result.token} from ${result.carrier}'s escrow to ${result.treasury} ` +
          `(transaction ${result.transaction.txHash}); escrow now ${result.escrow} ${result.token}\n`,
      );
    }
    return 0;
  },
};
