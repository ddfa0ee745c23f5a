/**
 * Deploys CarrierRegistry, AgreementBook, SettlementLedger (with the libraries it links) and
 * (optionally) the demo SettlementToken.
 * Uses the typechain factories only, so it runs under Hardhat, in the carrier node or in a demo.
 */
import type { Signer } from "ethers";
import {
  AgreementBook__factory,
  CarrierRegistry__factory,
  LedgerApprovals__factory,
  LedgerDisputes__factory,
  LedgerEscrow__factory,
  LedgerCommitments__factory,
  LedgerFastPath__factory,
  SettlementLedger__factory,
  SettlementToken__factory,
  type AgreementBook,
  type CarrierRegistry,
  type SettlementLedger,
  type SettlementToken,
} from "../../../typechain-types";
import type { SettlementLedgerLibraryAddresses } from "../../../typechain-types/factories/contracts/SettlementLedger__factory";

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
  /** Addresses of the libraries linked into the ledger's bytecode. */
  libraries: SettlementLedgerLibraryAddresses;
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

/**
 * Deploys the external libraries SettlementLedger delegate-calls (LedgerApprovals, LedgerCommitments,
 * LedgerDisputes, LedgerEscrow, LedgerFastPath), then the ledger linked to them. The one place that links the ledger: every deployment
 * goes through here.
 * @throws when a deployment transaction fails or the signer has no provider.
 */
export async function deploySettlementLedger(
  signer: Signer,
  registry: string,
  book: string,
): Promise<{ ledger: SettlementLedger; libraries: SettlementLedgerLibraryAddresses }> {
  const approvals = await (await new LedgerApprovals__factory(signer).deploy()).waitForDeployment();
  const commitments = await (await new LedgerCommitments__factory(signer).deploy()).waitForDeployment();
  const disputes = await (await new LedgerDisputes__factory(signer).deploy()).waitForDeployment();
  const escrow = await (await new LedgerEscrow__factory(signer).deploy()).waitForDeployment();
  const fastPath = await (await new LedgerFastPath__factory(signer).deploy()).waitForDeployment();
  const libraries: SettlementLedgerLibraryAddresses = {
    "contracts/modules/LedgerApprovals.sol:LedgerApprovals": await approvals.getAddress(),
    "contracts/modules/LedgerCommitments.sol:LedgerCommitments": await commitments.getAddress(),
    "contracts/modules/LedgerDisputes.sol:LedgerDisputes": await disputes.getAddress(),
    "contracts/modules/LedgerEscrow.sol:LedgerEscrow": await escrow.getAddress(),
    "contracts/modules/LedgerFastPath.sol:LedgerFastPath": await fastPath.getAddress(),
  };
  const ledger = await new SettlementLedger__factory(libraries, signer).deploy(registry, book);
  await ledger.waitForDeployment();
  return { ledger, libraries };
}

/**
 * Deploys the registry, the agreement book, the linked ledger ({@link deploySettlementLedger}) and, unless
 * `opts.token` names one, the demo token, which it lists when the admin is the deployer.
 * @throws when a deployment or listing transaction fails or the signer has no provider.
 */
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
  const { ledger, libraries } = await deploySettlementLedger(
    signer,
    await registry.getAddress(),
    await book.getAddress(),
  );

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
  return { chainId, deployBlock, registry, book, ledger, libraries, demoToken, tokenAddress };
}
