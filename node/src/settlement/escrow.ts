/**
 * Escrow as the node sees it: which carrier "this carrier" is (read from the node keystore's address,
 * which JSON keystores keep unencrypted, so read-only commands need no password), balances (the escrow,
 * the part reserved for approved settlements, the available rest), and the deposit (ERC-2612 permit when
 * the token has it, otherwise approve + deposit) and officer withdrawal of the available part, sent from
 * the person's own key through the transaction manager.
 */
import fs from "node:fs";
import { randomUUID } from "node:crypto";
import { Signature, ZeroHash, getAddress, type Wallet } from "ethers";
import { IERC20Permit__factory, IERC20__factory, IERC5267__factory } from "../../../typechain-types";
import type { ChainClient } from "../chain/client";
import type { TxResult } from "../chain/tx-manager";
import { BaseError, ConflictError, InputError, NotFoundError } from "../errors";
import { formatScaled, parseScaled } from "../money/decimal";
import type { Database } from "../db/database";
import { carrierName, chainCall, type ListedToken } from "./escrow-tokens";
import { planNetting } from "./netting";
import { escrowAccount } from "./reservations";
import { findSettleable } from "./settleable";

/**
 * The address of an encrypted JSON keystore, read without the password (the `address` field).
 * @throws NotFoundError when the file is missing; InputError when it has no address.
 */
export function keystoreAddress(file: string): string {
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") throw new NotFoundError(`no key file at ${file}`);
    throw new InputError("the key file is not a JSON keystore", { file });
  }
  const address = (json as { address?: unknown } | null)?.address;
  if (typeof address !== "string")
    throw new InputError("the keystore has no address", { file, field: "address" });
  try {
    return getAddress(address.startsWith("0x") ? address : `0x${address}`);
  } catch {
    throw new InputError(`'${address}' is not an address`, { file, field: "address" });
  }
}

/**
 * The carrier whose node `nodeAddress` is (`registry.carrierOfNode`).
 * @throws NotFoundError when the address is not a registered node.
 */
export async function carrierOfNode(chain: ChainClient, nodeAddress: string): Promise<string> {
  const carrier = await chainCall("carrierOfNode", () => chain.registry.carrierOfNode(nodeAddress));
  if (carrier === ZeroHash) {
    throw new NotFoundError(
      `the node key ${nodeAddress} is not registered as a node of any carrier`,
      "Name the carrier with --carrier ID.",
    );
  }
  return carrier.toLowerCase();
}

/**
 * A positive amount in the token's decimals, exactly (`12.5` with 6 decimals → 12500000).
 * @throws InputError for anything else (more decimals than the token has, zero, exponents).
 */
export function parseTokenAmount(text: string, token: ListedToken): bigint {
  const value = parseScaled(text, token.decimals);
  if (value === null || value <= 0n) {
    throw new InputError(
      `'${text}' is not a positive amount of ${token.symbol} with at most ${token.decimals} decimals`,
      { field: "amount" },
    );
  }
  return value;
}

export interface DepositResult {
  method: "depositWithPermit" | "approve+deposit";
  transactions: TxResult[];
}

function requireConfirmed(result: TxResult, what: string): TxResult {
  if (result.status !== "confirmed") {
    throw new BaseError(`the ${what} transaction ${result.txHash} reverted`, {
      code: "TX_REVERTED",
      details: result.error ?? undefined,
    });
  }
  return result;
}

/** Whether the token implements ERC-2612 (`nonces`) with an ERC-5267 domain to sign against. */
async function permitDomain(
  chain: ChainClient,
  token: string,
  owner: string,
): Promise<{ name: string; version: string; nonce: bigint } | null> {
  try {
    const [domain, nonce] = await Promise.all([
      IERC5267__factory.connect(token, chain.provider).eip712Domain(),
      IERC20Permit__factory.connect(token, chain.provider).nonces(owner),
    ]);
    return { name: domain.name, version: domain.version, nonce };
  } catch {
    return null;
  }
}

async function depositWithPermit(
  chain: ChainClient,
  d: {
    carrierId: string;
    token: ListedToken;
    amount: bigint;
    deadline: bigint;
    signature: Signature;
    key: string;
  },
): Promise<DepositResult> {
  const data = chain.ledger.interface.encodeFunctionData("depositWithPermit", [
    d.carrierId,
    d.token.address,
    d.amount,
    d.deadline,
    d.signature.v,
    d.signature.r,
    d.signature.s,
  ]);
  const result = await chain.transactions!.send({
    kind: "escrow-deposit",
    idempotencyKey: d.key,
    to: chain.deployment.ledger,
    data,
  });
  return { method: "depositWithPermit", transactions: [requireConfirmed(result, "deposit")] };
}

/**
 * Deposits `amount` of `token` from `signer`'s balance into `carrierId`'s escrow: one
 * `depositWithPermit` when the token supports ERC-2612, else `approve` then `deposit`. Each call is
 * a new deposit (its idempotency keys are unique): a crash leaves the transaction manager's row for
 * `icl run` to finish, and running the command again deposits again.
 * @throws ConflictError when the signer holds less than `amount`; ContractRevertError when the ledger
 * refuses (unknown carrier, unlisted token).
 */
export async function depositToEscrow(
  chain: ChainClient,
  signer: Wallet,
  deposit: { carrierId: string; token: ListedToken; amount: bigint },
): Promise<DepositResult> {
  const transactions = chain.transactions;
  if (transactions === null) throw new Error("depositToEscrow needs a chain client with a signer");
  const { carrierId, token, amount } = deposit;
  const owner = signer.address;
  const held = await chainCall("balanceOf", () =>
    IERC20__factory.connect(token.address, chain.provider).balanceOf(owner),
  );
  if (held < amount) {
    throw new ConflictError(
      `${owner} holds ${formatScaled(held, token.decimals)} ${token.symbol}, less than the ` +
        `${formatScaled(amount, token.decimals)} to deposit`,
    );
  }
  const ledger = chain.deployment.ledger;
  const unique = randomUUID();
  const base = `escrow-deposit:${carrierId}:${token.address.toLowerCase()}:${amount}:${unique}`;
  const permit = await permitDomain(chain, token.address, owner);
  if (permit !== null) {
    // The chain's clock, not ours: a test chain or a lagging node may be far from wall time.
    const latest = await chainCall("getBlock", () => chain.provider.getBlock("latest"));
    const deadline = BigInt((latest?.timestamp ?? Math.floor(Date.now() / 1000)) + 3600);
    const signature = Signature.from(
      await signer.signTypedData(
        {
          name: permit.name,
          version: permit.version,
          chainId: chain.chainId,
          verifyingContract: token.address,
        },
        {
          Permit: [
            { name: "owner", type: "address" },
            { name: "spender", type: "address" },
            { name: "value", type: "uint256" },
            { name: "nonce", type: "uint256" },
            { name: "deadline", type: "uint256" },
          ],
        },
        { owner, spender: ledger, value: amount, nonce: permit.nonce, deadline },
      ),
    );
    // The ledger swallows a failing permit (a front-run one is fine) and the deposit then fails on the
    // allowance: check the permit first and fall back to approve + deposit when the token refuses it.
    const usable = await IERC20Permit__factory.connect(token.address, chain.provider)
      .permit.staticCall(owner, ledger, amount, deadline, signature.v, signature.r, signature.s)
      .then(
        () => true,
        () => false,
      );
    if (usable) return depositWithPermit(chain, { carrierId, token, amount, deadline, signature, key: base });
  }
  const erc20 = IERC20__factory.connect(token.address, chain.provider);
  const approved = await transactions.send({
    kind: "token-approve",
    idempotencyKey: `${base}:approve`,
    to: token.address,
    data: erc20.interface.encodeFunctionData("approve", [ledger, amount]),
  });
  requireConfirmed(approved, "approve");
  const data = chain.ledger.interface.encodeFunctionData("deposit", [carrierId, token.address, amount]);
  const deposited = await transactions.send({
    kind: "escrow-deposit",
    idempotencyKey: base,
    to: ledger,
    data,
  });
  return { method: "approve+deposit", transactions: [approved, requireConfirmed(deposited, "deposit")] };
}

/**
 * Withdraws `amount` of the available escrow of `carrierId` (escrowOf − reservedOf: what its approvals
 * reserved for settlements stays) to its registered treasury; `signer` must be one of its officers.
 * @throws ConflictError when the signer is not an officer or less than `amount` is available.
 */
export async function withdrawFromEscrow(
  chain: ChainClient,
  signer: Wallet,
  withdrawal: { carrierId: string; token: ListedToken; amount: bigint },
): Promise<{ treasury: string; transaction: TxResult }> {
  const transactions = chain.transactions;
  if (transactions === null) throw new Error("withdrawFromEscrow needs a chain client with a signer");
  const { carrierId, token, amount } = withdrawal;
  const officer = await chainCall("isOfficer", () => chain.registry.isOfficer(carrierId, signer.address));
  if (!officer) {
    throw new ConflictError(
      `${signer.address} is not an officer of ${carrierName(carrierId)}; only officers withdraw`,
    );
  }
  const account = await escrowAccount(chain, carrierId, token.address);
  if (account.available < amount) {
    const show = (value: bigint) => `${formatScaled(value, token.decimals)} ${token.symbol}`;
    throw new ConflictError(
      `${carrierName(carrierId)} has ${show(account.available)} available in escrow, less than the ` +
        `${show(amount)} to withdraw`,
      `escrow ${show(account.escrow)}, of which ${show(account.reserved)} is reserved for approved ` +
        "settlements until they settle or their approvals lapse (icl escrow balance)",
    );
  }
  const treasury = await chainCall("treasuryOf", () => chain.registry.treasuryOf(carrierId));
  const data = chain.ledger.interface.encodeFunctionData("withdraw", [carrierId, token.address, amount]);
  const result = await transactions.send({
    kind: "escrow-withdraw",
    idempotencyKey: `escrow-withdraw:${carrierId}:${token.address.toLowerCase()}:${amount}:${randomUUID()}`,
    to: chain.deployment.ledger,
    data,
  });
  return { treasury, transaction: requireConfirmed(result, "withdraw") };
}

/** A carrier's escrow in one token and what the Approved, unsettled periods will do to it. */
export interface EscrowPosition {
  token: string;
  tokenAddress: string;
  /** The whole balance, reserved part included. */
  escrow: string;
  /** Reserved by this carrier's approvals as payer, until the periods settle or the reservations are released. */
  reserved: string;
  /** What officers may withdraw and what a settlement without a reservation may spend. */
  available: string;
  pendingPeriods: number;
  pendingNet: string;
  afterSettlement: string;
  topUp: string;
}

/**
 * `carrierId`'s escrow per token (with its reserved and available parts) and its net position over every
 * Approved period not yet settled (`icl escrow balance`, `GET /api/v1/escrow`); amounts in the token's
 * decimals. The top-up is what the escrow lacks after those settlements (zero while every Approved period
 * holds its reservation, as the ledger ensures).
 * @throws UnavailableError when the chain node is unreachable.
 */
export async function escrowPositions(
  chain: ChainClient,
  db: Database,
  carrierId: string,
  tokens: readonly ListedToken[],
): Promise<EscrowPosition[]> {
  const plans = planNetting(await findSettleable(chain, db), () => 0n);
  const positions: EscrowPosition[] = [];
  for (const token of tokens) {
    const { escrow, reserved, available } = await escrowAccount(chain, carrierId, token.address);
    const plan = plans.find((x) => x.token === token.address.toLowerCase());
    const pending = plan?.positions.find((pos) => pos.carrier === carrierId)?.net ?? 0n;
    const count =
      plan?.periods.filter((x) => x.carrierA === carrierId || x.carrierB === carrierId).length ?? 0;
    const after = escrow + pending;
    const amount = (value: bigint) => formatScaled(value, token.decimals);
    positions.push({
      token: token.symbol,
      tokenAddress: token.address,
      escrow: amount(escrow),
      reserved: amount(reserved),
      available: amount(available),
      pendingPeriods: count,
      pendingNet: amount(pending),
      afterSettlement: amount(after),
      topUp: amount(after < 0n ? -after : 0n),
    });
  }
  return positions;
}
