/**
 * A carrier node set up for the CLI on a test chain: its data dir with the deployment, the node's
 * encrypted key, chain settings, the partner and the agreement; and officers' keystores.
 */
import { expect } from "chai";
import { encryptKeystoreJson, type Wallet } from "ethers";
import fs from "node:fs";
import path from "node:path";
import type { DatabaseTarget } from "./databases";
import { icl, acceptFutureCdrs } from "./cli";

export const KEY_PASSWORD = "correct horse battery staple";

/** With ICL_TEST_ECHO=1 every icl run of these nodes is printed: to read what a person would see. */
function echo(args: readonly string[], who: string, result: { stdout: string; stderr: string }): void {
  if (process.env.ICL_TEST_ECHO !== "1") return;
  process.stdout.write(`\n$ icl ${args.join(" ")}   # ${who}\n${result.stderr}${result.stdout}`);
}

/** Writes `wallet` as an encrypted JSON keystore (cheap scrypt: tests only). */
export async function writeKeystore(file: string, wallet: Wallet, password = KEY_PASSWORD): Promise<string> {
  fs.writeFileSync(
    file,
    await encryptKeystoreJson({ address: wallet.address, privateKey: wallet.privateKey }, password, {
      scrypt: { N: 1 << 10 },
    }),
  );
  return file;
}

export interface CliChainNode {
  dir: string;
  env: Record<string, string>;
  /** Runs icl as this node; fails the test with stderr when the exit code differs from `code`. */
  run(args: readonly string[], code?: number): { code: number; stdout: string; stderr: string };
  /** An officer's environment: their keystore and its password. */
  as(officer: Wallet): Promise<CliChainNode["run"]>;
}

export interface ChainNodeSetup {
  target: DatabaseTarget;
  rpcUrl: string;
  chainId: bigint;
  contracts: { ledger: string; registry: string; book: string; deployBlock: number };
  token: { address: string; symbol: string; decimals: number };
  deployer: string;
  nodeWallet: Wallet;
  partner: string;
  agreement: { name: string; id: string; side: "A" | "B"; secretHex: string };
  /** Tariff deck imported for the partner in both directions. */
  deckFile?: string;
}

export async function setUpCliNode(setup: ChainNodeSetup): Promise<CliChainNode> {
  const cli = setup.target.cliEnv();
  const dir = cli.dataDir;
  const env = { ...cli.env, ICL_KEY_PASSWORD: KEY_PASSWORD };
  const run: CliChainNode["run"] = (args, code = 0) => {
    const result = icl(args, env);
    echo(args, "node", result);
    expect(result.code, `icl ${args.join(" ")}\n${result.stderr}`).to.equal(code);
    return result;
  };
  fs.writeFileSync(
    path.join(dir, "deployment.json"),
    JSON.stringify({
      network: "hardhat",
      chainId: Number(setup.chainId),
      deployBlock: setup.contracts.deployBlock,
      deployer: setup.deployer,
      contracts: {
        CarrierRegistry: setup.contracts.registry,
        AgreementBook: setup.contracts.book,
        SettlementLedger: setup.contracts.ledger,
      },
      token: { ...setup.token, demo: true },
    }),
  );
  await writeKeystore(path.join(dir, "node-key.json"), setup.nodeWallet);
  run(["init"]);
  acceptFutureCdrs(dir);
  const configFile = path.join(dir, "config.json");
  const config = JSON.parse(fs.readFileSync(configFile, "utf8"));
  config.chain = { rpcUrl: setup.rpcUrl, deployment: "deployment.json", keystore: "node-key.json" };
  fs.writeFileSync(configFile, JSON.stringify(config));
  run(["partners", "add", setup.partner]);
  if (setup.deckFile) {
    for (const direction of ["in", "out"]) {
      run(["tariffs", "import", setup.deckFile, "--partner", setup.partner, "--direction", direction]);
    }
  }
  fs.writeFileSync(path.join(dir, "secret.hex"), setup.agreement.secretHex);
  run([
    "agreements",
    "add",
    setup.agreement.name,
    "--id",
    setup.agreement.id,
    "--partner",
    setup.partner,
    "--side",
    setup.agreement.side,
    "--secret-file",
    path.join(dir, "secret.hex"),
  ]);
  return {
    dir,
    env,
    run,
    async as(officer) {
      const file = path.join(dir, `officer-${officer.address.slice(2, 10).toLowerCase()}.json`);
      if (!fs.existsSync(file)) await writeKeystore(file, officer);
      const officerEnv = { ...env, ICL_OFFICER_KEY: file, ICL_OFFICER_PASSWORD: KEY_PASSWORD };
      return (args, code = 0) => {
        const result = icl(args, officerEnv);
        echo(args, officer.address, result);
        expect(result.code, `icl ${args.join(" ")} as ${officer.address}\n${result.stderr}`).to.equal(code);
        return result;
      };
    },
  };
}
