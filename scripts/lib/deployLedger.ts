/**
 * Deploys CarrierRegistry, AgreementBook, SettlementLedger and (optionally) the demo SettlementToken.
 * Uses the typechain factories only, so it runs under Hardhat, in the carrier node or in a demo.
 */
import type { Signer } from "ethers";
import {
  AgreementBook__factory,
  CarrierRegistry__factory,
  SettlementLedger__factory,
  SettlementToken__factory,
  type AgreementBook,
  type CarrierRegistry,
  type SettlementLedger,
  type SettlementToken,
} from "../../typechain-types";

export interface DeployLedgerOptions {
  /** Consortium admin (default: the deployer). List the token only works when it is the deployer. */
  admin?: string;
  /** Delay in seconds for transferring the admin role (AccessControlDefaultAdminRules); default 0. */
  adminDelay?: number;
  /** Address of an existing settlement token to list; otherwise the demo token is deployed. */
  token?: string;
  /** Name and symbol of the demo token (default "Interconnect USD", "ICUSD"). */
  tokenName?: string;
  tokenSymbol?: string;
}

export interface LedgerDeployment {
  chainId: bigint;
  deployBlock: number;
  registry: CarrierRegistry;
  book: AgreementBook;
  ledger: SettlementLedger;
  /** The demo token when it was deployed here. */
  demoToken: SettlementToken | null;
  tokenAddress: string;
}

/** Shape of deployments/<network>.json. */
export interface DeploymentsFile {
  network: string;
  chainId: number;
  deployBlock: number;
  deployer: string;
  contracts: { CarrierRegistry: string; AgreementBook: string; SettlementLedger: string };
  token: { address: string; symbol: string; decimals: number; demo: boolean };
  eip712: { name: string; version: string };
  deployedAt: string;
}

export async function deployLedger(
  signer: Signer,
  opts: DeployLedgerOptions = {},
): Promise<LedgerDeployment> {
  const provider = signer.provider;
  if (provider === null) throw new Error("deployLedger: the signer needs a provider");
  const deployer = await signer.getAddress();
  const admin = opts.admin ?? deployer;
  const { chainId } = await provider.getNetwork();

  const registry = await new CarrierRegistry__factory(signer).deploy(admin, opts.adminDelay ?? 0);
  const receipt = await registry.deploymentTransaction()?.wait();
  const deployBlock = receipt?.blockNumber ?? (await provider.getBlockNumber());
  await registry.waitForDeployment();
  const book = await new AgreementBook__factory(signer).deploy(await registry.getAddress());
  await book.waitForDeployment();
  const ledger = await new SettlementLedger__factory(signer).deploy(
    await registry.getAddress(),
    await book.getAddress(),
  );
  await ledger.waitForDeployment();

  let demoToken: SettlementToken | null = null;
  let tokenAddress = opts.token;
  if (tokenAddress === undefined) {
    demoToken = await new SettlementToken__factory(signer).deploy(
      opts.tokenName ?? "Interconnect USD",
      opts.tokenSymbol ?? "ICUSD",
      admin,
    );
    await demoToken.waitForDeployment();
    tokenAddress = await demoToken.getAddress();
  }
  if (admin === deployer) await (await registry.setToken(tokenAddress, true)).wait();
  return { chainId, deployBlock, registry, book, ledger, demoToken, tokenAddress };
}
