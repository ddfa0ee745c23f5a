import { expect } from "chai";
import fs from "node:fs";
import path from "node:path";
import { tempDir } from "../../../test/helpers/databases";
import { InputError } from "../errors";
import { loadConfig, parseConfig, writeConfig } from "./config";

describe("config", () => {
  it("fills defaults and lets DATABASE_URL win over database.url", () => {
    const dir = tempDir();
    writeConfig(dir, { database: { url: "postgres://from-file@127.0.0.1/x" } });
    expect(loadConfig(dir, {}).databaseUrl).to.equal("postgres://from-file@127.0.0.1/x");
    const resolved = loadConfig(dir, { DATABASE_URL: "postgres://from-env@127.0.0.1/y" });
    expect(resolved.databaseUrl).to.equal("postgres://from-env@127.0.0.1/y");
    expect(resolved.config.numbering).to.deep.equal({
      countryCode: "1",
      nationalPrefix: "0",
      internationalPrefix: "00",
    });
    expect(resolved.config.mediation).to.deep.equal({
      timeZone: "UTC",
      useGmtTime: false,
      freeswitch: { legs: "a" },
      partners: {},
    });
    fs.rmSync(dir, { recursive: true });
  });

  it("refuses a time zone this runtime does not know, naming the key", () => {
    let error: unknown;
    try {
      parseConfig({ mediation: { timeZone: "Mars/Olympus_Mons" } }, "/data/config.json");
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(InputError);
    expect((error as InputError).field).to.equal("mediation.timeZone");
    expect((error as InputError).shortMessage).to.contain("not an IANA time zone");
  });

  it("names the file and the key of an unknown or invalid setting", () => {
    const check = (value: unknown, field: string) => {
      let error: unknown;
      try {
        parseConfig(value, "/data/config.json");
      } catch (e) {
        error = e;
      }
      expect(error).to.be.instanceOf(InputError);
      expect((error as InputError).field).to.equal(field);
      expect((error as InputError).shortMessage.startsWith(`/data/config.json, field ${field}: `)).to.equal(
        true,
      );
    };
    check({ numbering: { countryCode: "44a" } }, "numbering.countryCode");
    check({ mediation: { useGmtTime: "yes" } }, "mediation.useGmtTime");
    check({ databse: {} }, "(root)");
  });

  it("takes a partner's plausibility rules one by one and refuses an unknown rule or action", () => {
    const parsed = parseConfig(
      {
        mediation: {
          partners: { GLOBEX: { plausibility: { rules: { billsec_exceeds_duration: "warn" } } } },
        },
      },
      "/data/config.json",
    );
    expect(parsed.mediation.partners.GLOBEX!.plausibility!.rules).to.deep.equal({
      billsec_exceeds_duration: "warn",
    });
    const field = (value: unknown) => {
      try {
        parseConfig(value, "/data/config.json");
      } catch (e) {
        return (e as InputError).field;
      }
      return null;
    };
    const rules = (r: unknown) => ({ mediation: { partners: { GLOBEX: { plausibility: { rules: r } } } } });
    expect(field(rules({ billsec_exceeds_duration: "ignore" }))).to.equal(
      "mediation.partners.GLOBEX.plausibility.rules.billsec_exceeds_duration",
    );
    expect(field(rules({ no_such_rule: "warn" }))).to.match(
      /^mediation\.partners\.GLOBEX\.plausibility\.rules/,
    );
  });

  it("reports broken JSON with the file's name", () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, "config.json"), "{ not json");
    expect(() => loadConfig(dir, {})).to.throw(
      InputError,
      `${path.join(dir, "config.json")}: is not valid JSON`,
    );
    fs.rmSync(dir, { recursive: true });
  });
});
