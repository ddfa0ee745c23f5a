/**
 * Test parts for the chain client (not built into dist/): a Hardhat JSON-RPC node on a free port of
 * 127.0.0.1, a TCP proxy that can be closed and reopened to play an RPC outage, the Hardhat accounts
 * as wallets, and a scripted ledger (deployment, two carriers, one agreement) to act on. The node and
 * the accounts are the demo's (scripts/lib/hardhat-node.ts).
 */
import net from "node:net";
import { JsonRpcProvider, Wallet, encodeBytes32String, id, type Signer } from "ethers";
import { deployLedger, type LedgerDeployment } from "../../node/src/chain/deploy-ledger";
import { computeCommitment } from "../../node/src/protocol";
import {
  PERIOD,
  freePort,
  hardhatWallet,
  openCommitWindow,
  setNextTimestamp,
} from "../../scripts/lib/hardhat-node";
import type { IAgreementBook } from "../../typechain-types/contracts/AgreementBook";

export {
  PERIOD,
  freePort,
  hardhatWallet,
  openCommitWindow,
  startHardhatNode,
  type HardhatNode,
} from "../../scripts/lib/hardhat-node";

/** A TCP proxy on 127.0.0.1 in front of `targetPort` that refuses connections while closed. */
export class TcpProxy {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();

  private constructor(
    readonly port: number,
    private readonly targetPort: number,
  ) {}

  static async start(targetPort: number): Promise<TcpProxy> {
    const proxy = new TcpProxy(await freePort(), targetPort);
    await proxy.open();
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async open(): Promise<void> {
    if (this.server !== null) return;
    const server = net.createServer((client) => {
      const upstream = net.connect(this.targetPort, "127.0.0.1");
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on("close", () => this.sockets.delete(socket));
        socket.on("error", () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.port, "127.0.0.1", () => resolve());
    });
    this.server = server;
  }

  /** Stops listening and cuts every open connection: the RPC node looks unreachable. */
  async close(): Promise<void> {
    const server = this.server;
    if (server === null) return;
    this.server = null;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

export const CARRIER_A = encodeBytes32String("CARRIER-A");
export const CARRIER_B = encodeBytes32String("CARRIER-B");

/** A deployed ledger with carriers A and B (2 officers each, threshold 2) and one active agreement. */
export interface ScriptedLedger {
  deployment: LedgerDeployment;
  addresses: { ledger: string; registry: string; book: string; deployBlock: number; chainId: bigint };
  agreementId: string;
  admin: Wallet;
  nodeA: Wallet;
  nodeB: Wallet;
}

/**
 * Deploys the ledger with `deployLedger`, registers two carriers whose nodes are accounts 3 (A) and 6
 * (B), activates an agreement from PERIOD and moves the clock into PERIOD's commit window.
 */
export async function scriptLedger(
  provider: JsonRpcProvider,
  options: { toleranceAbs?: bigint } = {},
): Promise<ScriptedLedger> {
  // Setup goes through the node's unlocked accounts so the node assigns nonces (a Wallet reads a
  // cached pending count and trips over its own back-to-back transactions).
  const w = (i: number) => hardhatWallet(i, provider);
  const u = (i: number) => provider.getSigner(i);
  const admin = w(0);
  const deployment = await deployLedger(await u(0));
  const { registry, book, ledger } = deployment;
  const nodeA = w(3);
  const nodeB = w(6);
  await (
    await registry.registerCarrier(CARRIER_A, w(4).address, [w(1).address, w(2).address], 2, [nodeA.address])
  ).wait();
  await (
    await registry.registerCarrier(CARRIER_B, w(7).address, [w(5).address, w(8).address], 2, [nodeB.address])
  ).wait();
  await (await registry.grantRole(await registry.ARBITER_ROLE(), w(9).address)).wait();
  const day = 86_400;
  const terms: IAgreementBook.TermsStruct = {
    carrierA: CARRIER_A,
    carrierB: CARRIER_B,
    token: deployment.tokenAddress,
    toleranceBps: 100,
    rule: 0,
    effectiveFrom: PERIOD,
    arbiter: w(9).address,
    toleranceAbs: options.toleranceAbs ?? 5_000_000n,
    windows: {
      commit: 3 * day,
      reveal: 2 * day,
      reconcile: 5 * day,
      dispute: 7 * day,
      response: 3 * day,
      arbitration: 10 * day,
    },
    termsHash: id("terms v1"),
  };
  await setNextTimestamp(provider, Date.UTC(2029, 11, 10) / 1000);
  const receipt = await (
    await book.connect(await u(1)).propose(encodeBytes32String(""), CARRIER_A, terms, "ipfs://terms")
  ).wait();
  const proposed = receipt?.logs
    .map((l) => book.interface.parseLog(l))
    .find((l) => l?.name === "AgreementProposed");
  if (!proposed) throw new Error("no AgreementProposed event");
  const agreementId = proposed.args[0] as string;
  const proposalId = proposed.args[1] as string;
  await (await book.connect(await u(2)).approveProposal(proposalId, CARRIER_A)).wait();
  await (await book.connect(await u(5)).approveProposal(proposalId, CARRIER_B)).wait();
  await (await book.connect(await u(8)).approveProposal(proposalId, CARRIER_B)).wait();
  await openCommitWindow(provider, PERIOD);
  return {
    deployment,
    addresses: {
      ledger: await ledger.getAddress(),
      registry: await registry.getAddress(),
      book: await book.getAddress(),
      deployBlock: deployment.deployBlock,
      chainId: deployment.chainId,
    },
    agreementId,
    admin,
    nodeA,
    nodeB,
  };
}

/**
 * Mints `amount` of the demo token to the admin and deposits it into `carrierId`'s escrow: a carrier
 * that pays must hold the net before its officers approve (the approval reserves it).
 */
export async function fundCarrier(
  provider: JsonRpcProvider,
  fx: Pick<ScriptedLedger, "deployment" | "addresses">,
  carrierId: string,
  amount: bigint,
): Promise<void> {
  const admin = await provider.getSigner(0);
  const token = fx.deployment.demoToken!.connect(admin);
  await (await token.mint(admin.address, amount)).wait();
  await (await token.approve(fx.addresses.ledger, amount)).wait();
  await (
    await fx.deployment.ledger.connect(admin).deposit(carrierId, fx.deployment.tokenAddress, amount)
  ).wait();
}

/** Calldata and opening of a commitment by `carrier` for `period` with `salt`. */
export function commitCall(
  ledger: ScriptedLedger,
  carrier: string,
  amounts: { ab: bigint; ba: bigint },
  salt: string,
  period = PERIOD,
): { data: string; reveal: string } {
  const root = id(`root-${carrier}`);
  const commitment = computeCommitment({
    chainId: ledger.addresses.chainId,
    ledger: ledger.addresses.ledger,
    agreementId: ledger.agreementId,
    period,
    round: 0,
    party: carrier,
    root,
    amountAB: amounts.ab,
    amountBA: amounts.ba,
    salt,
  });
  const iface = ledger.deployment.ledger.interface;
  return {
    data: iface.encodeFunctionData("commit", [ledger.agreementId, period, commitment]),
    reveal: iface.encodeFunctionData("reveal", [
      ledger.agreementId,
      period,
      root,
      amounts.ab,
      amounts.ba,
      salt,
    ]),
  };
}

/** Both carriers commit, then both reveal, `figures` from their nodes' accounts (distinct roots and salts). */
export async function commitAndRevealBoth(
  provider: JsonRpcProvider,
  ledger: ScriptedLedger,
  figures: { ab: bigint; ba: bigint },
): Promise<void> {
  const calls = [
    { node: ledger.nodeA.address, call: commitCall(ledger, CARRIER_A, figures, id("salt-A")) },
    { node: ledger.nodeB.address, call: commitCall(ledger, CARRIER_B, figures, id("salt-B")) },
  ];
  for (const step of ["data", "reveal"] as const) {
    for (const { node, call } of calls) {
      const signer = await provider.getSigner(node);
      await (await signer.sendTransaction({ to: ledger.addresses.ledger, data: call[step] })).wait();
    }
  }
}

/** Sends `data` to the ledger from `signer` directly (no transaction manager) and waits for it. */
export async function sendDirect(signer: Signer, to: string, data: string): Promise<void> {
  const tx = await signer.sendTransaction({ to, data });
  await tx.wait();
}
