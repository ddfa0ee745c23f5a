/**
 * The served demo's guide: every key that signs in, on which console and with which role (each carrier's
 * officers by the ledger's registry, its operator and admin by its node's config, the arbiter and the
 * regulator by their roles on the ledger, on any node), what to try first with each, and the lines that
 * print them with the periods waiting and the files to upload.
 */
import type { Wallet } from "ethers";
import type { Role } from "../../gateway/src/auth/types";
import type { Consortium, ConsortiumCarrier } from "./consortium";
import { STAFF, nodeOf, type DemoNode } from "./demo-carriers";
import type { ServedDemo, ServedKey, ServedPeriod } from "./demo-serve";

/** Every key that signs in, each with the role it has on the gateway it is listed with. */
export function servedKeys(c: Consortium, nodes: readonly DemoNode[]): ServedKey[] {
  const key = (who: string, role: Role, wallet: Wallet, url: string): ServedKey => ({
    who,
    role,
    address: wallet.address,
    privateKey: wallet.privateKey,
    url,
  });
  const keys: ServedKey[] = [];
  for (const n of nodes) {
    const name = n.carrier.name;
    for (const [i, officer] of n.carrier.officers.entries()) {
      keys.push(key(`${name} officer ${i + 1}`, "officer", officer, n.gateway.url));
    }
    keys.push(key(`${name} operator`, "operator", STAFF[name].operator, n.gateway.url));
    keys.push(key(`${name} admin`, "admin", STAFF[name].admin, n.gateway.url));
  }
  // The arbiter and the regulator hold their roles on the ledger: they sign in on any node.
  const of = (name: ConsortiumCarrier["name"]) => nodeOf(nodes, c.carriers[name]).gateway.url;
  keys.push(key("arbiter", "arbiter", c.arbiter, of("GLOBEX")));
  keys.push(key("regulator", "regulator", c.regulator, of("ACME")));
  return keys;
}

/** One line per thing to try, naming the key, the console, the period and its state. */
export function tryFirst(served: ServedDemo): string[] {
  const consoleOf = (who: string) => `${served.keys.find((k) => k.who === who)!.url}/console/`;
  const at = (p: ServedPeriod) => `${p.agreement} ${p.period} (${p.state})`;
  const waiting = (state: ServedPeriod["state"]) => served.periods.find((p) => p.state === state)!;
  const [mismatched, escalated, approved] = [
    waiting("Mismatched"),
    waiting("Escalated"),
    waiting("Approved"),
  ];
  const fast = served.periods.find((p) => p.fastPath)!;
  const lines = [
    `as GLOBEX officer 1 on ${consoleOf("GLOBEX officer 1")}: open ${at(mismatched)} and open a dispute citing the missing calls (INITECH's switch lost 4% of them; the sealed discrepancy report is the evidence)`,
    `as the arbiter on ${consoleOf("arbiter")}: rule on ${at(escalated)}, each direction between GLOBEX's and INITECH's claims`,
    `fast path: as ACME officer 2 on ${consoleOf("ACME officer 2")}: co-sign ${at(fast)}: ACME officer 1 and GLOBEX's two officers signed already, so yours completes it and the nodes settle it in one settleFastPath`,
    `as an ACME officer on ${consoleOf("ACME officer 1")}: ${at(approved)} has both carriers' approvals and waits to be settled: open it and press Settle (the console shows who pays whom first; your node's key sends it)`,
  ];
  for (const upload of served.uploads) {
    lines.push(
      `as ${upload.carrier}'s operator on ${consoleOf(`${upload.carrier} operator`)}: upload ${upload.file} (format ${upload.format}, ${upload.rows} CDRs of ${upload.period}) on the Ingest page`,
    );
  }
  lines.push(
    `as ACME's admin on ${consoleOf("ACME admin")}: issue an API token on the Tokens page (its secret is shown once), then revoke it`,
    `as the regulator on ${consoleOf("regulator")}: open the Audit page (the ledger's history replayed and checked), then any period on it, GLOBEX-INITECH's too (read from the chain: ACME is not party)`,
  );
  return lines;
}

/** Prints the consoles, the periods waiting, the files to upload, every key and what to try first. */
export function printServed(served: ServedDemo, out: (line: string) => void): void {
  out("\nStill running (Ctrl-C stops and cleans up):");
  out(`  chain     ${served.chain}`);
  for (const [name, url] of Object.entries(served.gateways)) out(`  ${name.padEnd(9)} ${url}/console/`);
  out("\nWaiting for someone:");
  for (const p of served.periods) {
    out(
      `  ${p.agreement.padEnd(16)} ${p.period}  ${p.fastPath ? "left to the co-signed fast path (Committing)" : p.state}`,
    );
  }
  out("\nFiles to upload (CDRs of a month not closed yet, in each carrier's switch format):");
  for (const u of served.uploads) out(`  ${u.carrier.padEnd(9)} ${u.format.padEnd(11)} ${u.file}`);
  out('\nSign in with "a key typed here" (Hardhat\'s public test keys: never use them elsewhere):');
  for (const k of served.keys) {
    out(`  ${k.who.padEnd(17)} ${k.role.padEnd(9)} ${k.url}/console/  ${k.address}  ${k.privateKey}`);
  }
  out(
    "  (officers, operators and admins on their own carrier's console; the arbiter and the regulator on any)",
  );
  out("\nWhat to try first:");
  for (const line of served.tryFirst) out(`  - ${line}`);
}
