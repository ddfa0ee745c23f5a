import { expect } from "chai";
import { databaseTargets } from "../../../test/helpers/databases";
import { addAgreement } from "./agreements";
import type { Database } from "./database";
import { addPartner } from "./partners";
import { hasReport, loadReport, saveReport } from "./reports";

for (const target of databaseTargets()) {
  describe(`discrepancy reports on ${target.name}`, function () {
    this.timeout(60_000);
    let db: Database;
    const agreementId = "0x" + "b2".repeat(32);
    before(async () => {
      db = await target.open();
      await addPartner(db, { id: "GLOBEX", name: "Globex", matchRules: [] });
      await addAgreement(db, {
        agreementId,
        name: "ACME-GLOBEX",
        partnerId: "GLOBEX",
        side: "A",
        secret: new Uint8Array(32).fill(1),
      });
    });
    after(async () => {
      await db.close();
      await target.cleanup();
    });

    it("tells a stored round's report from a missing one without reading it", async () => {
      expect(await hasReport(db, agreementId, 203001, 0)).to.equal(false);
      await saveReport(db, {
        agreementId,
        period: 203001,
        round: 0,
        ourRoot: "0x" + "01".repeat(32),
        theirRoot: "0x" + "02".repeat(32),
        leafCount: 1,
        report: { leaves: [{ missing: 7n }] },
        stats: {},
        evidenceCid: null,
      });
      expect(await hasReport(db, agreementId.toUpperCase().replace("0X", "0x"), 203001, 0)).to.equal(true);
      expect(await hasReport(db, agreementId, 203001, 1)).to.equal(false);
      expect(await hasReport(db, agreementId, 203002, 0)).to.equal(false);
      expect((await loadReport(db, agreementId, 203001, 0))?.report).to.deep.equal({
        leaves: [{ missing: "7" }],
      });
    });
  });
}
