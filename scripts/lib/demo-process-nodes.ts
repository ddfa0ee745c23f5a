/**
 * The carriers' nodes of `npm run demo -- --processes` (demo-processes.ts) as their operators set them up
 * from the shell: a data directory with the node's keystore and the ledger's deployment file, `icl init`
 * on a PostgreSQL schema, config.json's chain, peer and staff sections, then `icl partners add` (with the
 * switch's match rules), `icl tariffs import` and `icl agreements add` (the shared secret and the
 * partner's peer URL) for each of its agreements.
 */
import fs from "node:fs";
import path from "node:path";
import { encryptKeystoreJson, type Wallet } from "ethers";
import type { DeploymentsFile } from "../../node/src/chain/deploy-ledger";
import type { Consortium, ConsortiumCarrier } from "./consortium";
import { SWITCHES, deckOf, demoConfigFile, matchRules } from "./demo-carriers";
import { freePort } from "./hardhat-node";
import { iclJson, type IclEnv, type IclRun } from "./icl-process";
import { LEDGER_EIP712_NAME, LEDGER_EIP712_VERSION } from "./protocol";

/** Every keystore's password (the keys are Hardhat's public test accounts). */
const PASSWORD = "demo";

/** One carrier's node: its data directory, schema, environment, gateway port and `icl run`. */
export interface ProcessNode {
  carrier: ConsortiumCarrier;
  dir: string;
  schema: string;
  env: IclEnv & { ICL_DATA_DIR: string };
  /** Where its gateway listens (chosen before it first starts, kept across restarts). */
  port: number;
  run: IclRun | null;
  /** `icl … --json` as this node's operator (the node key signs what the node sends), parsed. */
  icl(args: readonly string[]): Promise<unknown>;
  /** `icl … --json` as `person` (an officer of this carrier, or the arbiter) with their own keystore. */
  as(person: Wallet, args: readonly string[]): Promise<unknown>;
}

/** Creates `dir` with the node key's keystore and picks a free port; nothing runs yet. */
export async function prepareProcessNode(
  carrier: ConsortiumCarrier,
  dir: string,
  schema: string,
): Promise<ProcessNode> {
  fs.mkdirSync(dir, { recursive: true });
  const env = { ICL_DATA_DIR: dir, ICL_KEY_PASSWORD: PASSWORD, ICL_OFFICER_PASSWORD: PASSWORD };
  await writeKeystore(path.join(dir, "node-key.json"), carrier.node);
  const keystore = async (person: Wallet) => {
    const file = path.join(dir, `key-${person.address.slice(2, 10).toLowerCase()}.json`);
    if (!fs.existsSync(file)) await writeKeystore(file, person);
    return file;
  };
  return {
    carrier,
    dir,
    schema,
    env,
    port: await freePort(),
    run: null,
    icl: (args) => iclJson(args, env),
    as: async (person, args) => iclJson(args, { ...env, ICL_OFFICER_KEY: await keystore(person) }),
  };
}

/**
 * Sets up `n` through the CLI (see the module comment): its database in `pg`, the chain at `rpcUrl`,
 * its ledger looked at every `pollMs`, its partners' nodes (in `nodes`) as peers.
 * @throws Error quoting the command's stderr when an `icl` command fails.
 */
export async function setUpProcessNode(
  n: ProcessNode,
  setup: {
    c: Consortium;
    nodes: readonly ProcessNode[];
    pg: string;
    rpcUrl: string;
    secrets: Map<string, Buffer>;
    pollMs: number;
  },
): Promise<void> {
  const { c } = setup;
  const { timeZone, numbering } = SWITCHES[n.carrier.name]!;
  await n.icl([
    ...["init", "--database-url", setup.pg, "--database-schema", n.schema, "--time-zone", timeZone],
    ...["--country-code", numbering.countryCode, "--national-prefix", numbering.nationalPrefix],
    ...["--international-prefix", numbering.internationalPrefix],
  ]);
  // What `icl init` leaves to the operator's editor: the chain, the peer address, the staff.
  fs.writeFileSync(path.join(n.dir, "deployment.json"), JSON.stringify(await deploymentFile(c), null, 2));
  const file = path.join(n.dir, "config.json");
  const config = JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>;
  const own = demoConfigFile(n.carrier.name);
  Object.assign(config, {
    ...own,
    mediation: { ...(config.mediation as object), ...own.mediation },
    chain: { rpcUrl: setup.rpcUrl, deployment: "deployment.json", keystore: "node-key.json" },
    peer: { listen: `127.0.0.1:${n.port}`, pollMs: setup.pollMs },
    // The scenario settles each period itself, as the officers decide.
    watch: { autoSettle: false },
  });
  fs.writeFileSync(file, JSON.stringify(config, null, 2));
  for (const agreement of Object.values(c.agreements)) {
    const side = agreement.a === n.carrier ? "A" : agreement.b === n.carrier ? "B" : null;
    if (side === null) continue;
    const partner = side === "A" ? agreement.b : agreement.a;
    const rules = matchRules(n.carrier.name, partner.name);
    await n.icl([
      ...["partners", "add", partner.name],
      ...rules.flatMap((r) => ["--match", `${r.direction}:${r.field}=${r.pattern}`]),
    ]);
    const deck = path.join(n.dir, `deck-${partner.name}.csv`);
    fs.writeFileSync(deck, deckOf(n.carrier.name, partner.name));
    for (const direction of ["in", "out"]) {
      await n.icl([
        ...["tariffs", "import", deck, "--partner", partner.name, "--direction", direction],
        ...["--name", `${partner.name}-${direction}`],
      ]);
    }
    const secret = path.join(n.dir, `secret-${agreement.name}.hex`);
    fs.writeFileSync(secret, setup.secrets.get(agreement.name)!.toString("hex"));
    const peer = setup.nodes.find((x) => x.carrier.name === partner.name)!;
    await n.icl([
      ...["agreements", "add", agreement.name, "--id", agreement.agreementId, "--partner", partner.name],
      ...["--side", side, "--secret-file", secret, "--peer-url", `http://127.0.0.1:${peer.port}`],
    ]);
  }
}

/** The ledger's deployments file as `npm run deploy` writes it, for the consortium's contracts. */
async function deploymentFile(c: Consortium): Promise<DeploymentsFile> {
  return {
    network: "demo",
    chainId: Number(c.addresses.chainId),
    deployBlock: c.addresses.deployBlock,
    deployer: c.admin.address,
    contracts: {
      CarrierRegistry: c.addresses.registry,
      AgreementBook: c.addresses.book,
      SettlementLedger: c.addresses.ledger,
    },
    token: { address: await c.tokens.ICUSD.getAddress(), symbol: "ICUSD", decimals: 6, demo: true },
    eip712: { name: LEDGER_EIP712_NAME, version: LEDGER_EIP712_VERSION },
    deployedAt: new Date().toISOString(),
  };
}

/** Writes `wallet` as an encrypted JSON keystore; cheap scrypt, these being public test accounts. */
async function writeKeystore(file: string, wallet: Wallet): Promise<void> {
  const account = { address: wallet.address, privateKey: wallet.privateKey };
  fs.writeFileSync(file, await encryptKeystoreJson(account, PASSWORD, { scrypt: { N: 1 << 10 } }));
}
