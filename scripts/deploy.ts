/**
 * Deploys the ledger contracts to the selected network and writes deployments/<network>.json.
 * Usage: npx hardhat run scripts/deploy.ts --network <name>   (ICL_TOKEN=0x… lists an existing token)
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import hre from "hardhat";
import { deployLedger, type DeploymentsFile } from "./lib/deployLedger";
import { LEDGER_EIP712_NAME, LEDGER_EIP712_VERSION } from "./lib/protocol";
import { IERC20Metadata__factory } from "../typechain-types";

async function main(): Promise<void> {
  const [signer] = await hre.ethers.getSigners();
  if (signer === undefined) throw new Error("no signer configured for this network");
  const d = await deployLedger(signer, { token: process.env.ICL_TOKEN });
  const meta = IERC20Metadata__factory.connect(d.tokenAddress, signer);
  const out: DeploymentsFile = {
    network: hre.network.name,
    chainId: Number(d.chainId),
    deployBlock: d.deployBlock,
    deployer: await signer.getAddress(),
    contracts: {
      CarrierRegistry: await d.registry.getAddress(),
      AgreementBook: await d.book.getAddress(),
      SettlementLedger: await d.ledger.getAddress(),
    },
    token: {
      address: d.tokenAddress,
      symbol: await meta.symbol(),
      decimals: Number(await meta.decimals()),
      demo: d.demoToken !== null,
    },
    eip712: { name: LEDGER_EIP712_NAME, version: LEDGER_EIP712_VERSION },
    deployedAt: new Date().toISOString(),
  };
  const dir = path.join(__dirname, "..", "deployments");
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${hre.network.name}.json`);
  writeFileSync(file, JSON.stringify(out, null, 2) + "\n");
  console.log(`deployed to ${hre.network.name} (chain ${out.chainId}, block ${out.deployBlock}) → ${file}`);
  console.log(JSON.stringify(out));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
