import { expect } from "chai";
import { mkdtemp, readdir, rm, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createEvidenceStore } from "../evidence/create-evidence-store";
import type { EvidenceStore } from "../evidence/store";
import { kuboDeterministicBytes, startFakeKubo, type FakeKubo } from "../../../test/helpers/evidence";
import { checkEvidence } from "./evidence-check";
import { Replay } from "./replay";
import type { ReplayChain } from "./replay-context";

const MiB = 1024 * 1024;
const AGREEMENT = "0x" + "ab".repeat(32);

/** A replay that cites `cids` (checkEvidence reads only its evidence list and findings). */
function citing(cids: string[]): Replay {
  const replay = new Replay({} as ReplayChain);
  cids.forEach((cid, i) =>
    replay.evidence.push({
      cid,
      event: "DisputeOpened",
      agreementId: AGREEMENT,
      period: 203001,
      at: { block: 10 + i, tx: null },
    }),
  );
  return replay;
}

const kinds = (replay: Replay) => replay.findings.map((f) => [f.kind, f.block]);

describe("audit: evidence cited on chain", function () {
  this.timeout(60_000);
  let dataDir: string;
  let kubo: FakeKubo;
  let local: EvidenceStore;
  let ipfs: EvidenceStore;
  let block: string;
  let dag: string;

  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "icl-audit-evidence-"));
    kubo = await startFakeKubo();
    local = createEvidenceStore({ dataDir });
    ipfs = createEvidenceStore({ dataDir, ipfsApiUrl: kubo.url });
    for (const store of [local, ipfs]) {
      block = await store.put(new TextEncoder().encode("ACME discrepancy report"));
      dag = await store.put(kuboDeterministicBytes(3 * MiB, "audit"));
    }
  });
  afterEach(async () => {
    await kubo.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("accepts blocks and whole DAGs, in a directory and on IPFS", async () => {
    expect(dag).to.match(/^bafybei/);
    for (const store of [local, ipfs]) {
      const replay = citing([block, dag]);
      expect(await checkEvidence(replay, store)).to.equal(2);
      expect(replay.findings).to.deep.equal([]);
    }
  });

  it("finds a DAG missing a block, or with a block that does not hash to its CID", async () => {
    const evidence = path.join(dataDir, "evidence");
    const leaves = (await readdir(evidence)).filter((file) => file.startsWith("bafkrei") && file !== block);
    await unlink(path.join(evidence, leaves[0]!));
    await writeFile(path.join(evidence, leaves[1]!), "not the leaf");
    let replay = citing([block, dag]);
    await checkEvidence(replay, local);
    expect(kinds(replay)).to.deep.equal([["evidence-missing", 11]]);
    expect(replay.findings[0]!.message).to.include(dag);

    // Put the missing leaf back: now the damaged one is found.
    await local.put(kuboDeterministicBytes(3 * MiB, "audit"));
    await writeFile(path.join(evidence, leaves[1]!), "not the leaf");
    replay = citing([dag]);
    await checkEvidence(replay, local);
    expect(kinds(replay)).to.deep.equal([["evidence-corrupt", 10]]);
    expect(replay.findings[0]!.message).to.include(leaves[1]);

    const leaf = [...kubo.blocks.keys()].find((cid) => cid.startsWith("bafkrei") && cid !== block)!;
    kubo.blocks.delete(leaf);
    replay = citing([dag, block]);
    await checkEvidence(replay, ipfs);
    expect(kinds(replay)).to.deep.equal([["evidence-missing", 10]]);
    kubo.fault = "altered-bytes";
    replay = citing([dag, block]);
    await checkEvidence(replay, ipfs);
    expect(kinds(replay)).to.deep.equal([
      ["evidence-corrupt", 10],
      ["evidence-corrupt", 11],
    ]);
  });

  it("warns about a cited string that is no evidence CID, without asking the store", async () => {
    const replay = citing(["QmdfTbBqBPQ7VNxZEYEj14VmRuZBkqFbiwReogJgS1zR1n", "../etc/passwd"]);
    kubo.requests.length = 0;
    await checkEvidence(replay, ipfs);
    expect(kinds(replay)).to.deep.equal([
      ["evidence-invalid-cid", 10],
      ["evidence-invalid-cid", 11],
    ]);
    expect(replay.findings.every((f) => f.severity === "warning")).to.equal(true);
    expect(kubo.requests).to.deep.equal([]);
  });
});
