import { expect } from "chai";
import { Wallet, ZeroHash } from "ethers";
import {
  chainRoleResolver,
  ARBITER_ROLE,
  REGULATOR_ROLE,
  staticRoleResolver,
  type RegistryRoles,
} from "./roles";
import { buildSiweMessage, parseSiweMessage, type SiweFields } from "./siwe";

describe("EIP-4361 messages", () => {
  const fields: SiweFields = {
    domain: "ledger.acme.example:8443",
    address: Wallet.createRandom().address,
    statement: "Sign in to the Interconnect Ledger node of Acme Telecom",
    uri: "https://ledger.acme.example:8443/",
    chainId: 31337n,
    nonce: "0123456789abcdef0123456789abcdef",
    issuedAt: new Date("2026-10-01T12:00:00.000Z"),
    expirationTime: new Date("2026-10-01T12:05:00.000Z"),
  };

  it("parses back exactly what it builds", () => {
    const message = buildSiweMessage(fields);
    expect(message.split("\n")[0]).to.equal(
      "ledger.acme.example:8443 wants you to sign in with your Ethereum account:",
    );
    expect(parseSiweMessage(message)).to.deep.equal(fields);
  });

  it("refuses other shapes: lowercase address, extra lines, another version, trailing newline", () => {
    const message = buildSiweMessage(fields);
    for (const other of [
      message.replace(fields.address, fields.address.toLowerCase()),
      message + "\nResources:\n- https://x.example/",
      message.replace("Version: 1", "Version: 2"),
      message + "\n",
      message.replace("Nonce: 0123", "Nonce: 01-3"),
    ]) {
      expect(parseSiweMessage(other), other).to.equal(null);
    }
  });
});

describe("role resolvers", () => {
  const carrierId = "0x" + "ab".repeat(32);
  const officer = Wallet.createRandom().address;
  const arbiter = Wallet.createRandom().address;
  const admin = Wallet.createRandom().address;

  const registry: RegistryRoles = {
    async isOfficer(carrier, account) {
      return carrier === carrierId && account === officer;
    },
    async hasRole(role, account) {
      return (
        (role === ARBITER_ROLE && account === arbiter) || (role === REGULATOR_ROLE && account === officer)
      );
    },
  };

  it("combines the registry's officer, arbiter and regulator roles with the config's lists, in ROLES order", async () => {
    const resolver = chainRoleResolver({
      registry,
      carrierId,
      admins: [admin.toLowerCase()],
      operators: [officer],
    });
    expect(await resolver.rolesOf(officer.toLowerCase())).to.deep.equal(["operator", "officer", "regulator"]);
    expect(await resolver.rolesOf(arbiter)).to.deep.equal(["arbiter"]);
    expect(await resolver.rolesOf(admin)).to.deep.equal(["admin"]);
    expect(await resolver.rolesOf(Wallet.createRandom().address)).to.deep.equal([]);
  });

  it("asks about officers of this node's carrier only", async () => {
    const other = chainRoleResolver({ registry, carrierId: ZeroHash, admins: [], operators: [] });
    expect(await other.rolesOf(officer)).to.deep.equal(["regulator"]);
  });

  it("matches configured addresses case-insensitively", async () => {
    const resolver = staticRoleResolver({ operator: [admin.toUpperCase().replace("0X", "0x")] });
    expect(await resolver.rolesOf(admin)).to.deep.equal(["operator"]);
  });
});
