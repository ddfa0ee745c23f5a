import { expect } from "chai";
import { Wallet, type HDNodeWallet } from "ethers";
import type { Database } from "../../../node/src/db/database";
import { databaseTargets } from "../../../test/helpers/databases";
import { AUTH_PREFIX } from "./router";
import {
  call,
  countRows,
  signIn,
  startTestGateway,
  type SignedIn,
  type TestGateway,
} from "../../../test/helpers/gateway-auth";

type Issued = {
  id: string;
  name: string;
  scopes: string[];
  roles: string[];
  issuedBy: string;
  createdAt: string;
  expiresAt: string;
  secret: string;
};

for (const target of databaseTargets()) {
  describe(`gateway API tokens (${target.name})`, function () {
    this.timeout(60_000);
    let db: Database;
    let gateway: TestGateway;
    let admin: HDNodeWallet;
    let session: SignedIn;

    const asAdmin = (extra: Record<string, string> = {}) => ({
      cookie: session.cookie,
      "x-csrf-token": session.csrfToken,
      ...extra,
    });
    const issue = async (body: unknown, headers: Record<string, string> = asAdmin()) =>
      call(gateway, "POST", `${AUTH_PREFIX}/tokens`, { body, headers });
    const bearer = (secret: string) => ({ authorization: `Bearer ${secret}` });

    beforeEach(async () => {
      db = await target.open();
      gateway = await startTestGateway(db);
      admin = Wallet.createRandom();
      gateway.roles.set(admin.address, ["admin"]);
      session = await signIn(gateway, admin);
    });
    afterEach(async () => {
      await gateway.close();
      await db.close();
    });
    after(() => target.cleanup());

    it("issues a token once, stores only its sha256, lists it without secrets, and it authenticates with its scopes", async () => {
      const answer = await issue({
        name: "ingest job",
        scopes: ["ingest:write", "periods:read"],
        roles: ["operator"],
        expiresInDays: 30,
      });
      expect(answer.status).to.equal(201);
      const token = answer.body as Issued;
      expect(token.secret).to.match(/^icl_[A-Za-z0-9_-]{43}$/);
      expect(token.id).to.match(/^t_[0-9a-f]{32}$/);
      expect(token).to.deep.include({ name: "ingest job", roles: ["operator"], issuedBy: admin.address });
      expect(Date.parse(token.expiresAt) - Date.parse(token.createdAt)).to.equal(30 * 86_400_000);

      const { rows } = await db.query<Record<string, unknown>>("SELECT * FROM gateway_tokens");
      expect(rows).to.have.length(1);
      expect(
        JSON.stringify(rows[0], (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v)),
      ).not.to.include(token.secret.slice(4));
      const { rows: hashed } = await db.query(
        "SELECT 1 FROM gateway_tokens WHERE secret_sha256 = encode(sha256(convert_to($1, 'UTF8')), 'hex')",
        [token.secret],
      );
      expect(hashed).to.have.length(1);

      const listed = await call(gateway, "GET", `${AUTH_PREFIX}/tokens`, {
        headers: { cookie: session.cookie },
      });
      expect(listed.status).to.equal(200);
      const text = JSON.stringify(listed.body);
      expect(text).not.to.include(token.secret.slice(4));
      expect(text).not.to.include("secret");
      expect((listed.body as { tokens: { id: string }[] }).tokens.map((t) => t.id)).to.deep.equal([token.id]);

      const who = await call(gateway, "GET", "/api/v1/whoami", { headers: bearer(token.secret) });
      expect(who.status).to.equal(200);
      expect(who.body).to.deep.equal({
        kind: "token",
        id: token.id,
        address: admin.address,
        roles: ["operator"],
        scopes: ["ingest:write", "periods:read"],
        csrfToken: null,
      });
      // A bearer token is not a browser credential: no CSRF token needed.
      const probe = await call(gateway, "POST", "/api/v1/probe", { headers: bearer(token.secret) });
      expect(probe.status).to.equal(200);
      expect(gateway.probeRuns).to.equal(1);
      expect(await countRows(db, "gateway_tokens", "last_used_at IS NOT NULL")).to.equal(1);
    });

    it("treats a revoked or expired token as anonymous", async () => {
      const revoked = (await issue({ name: "a", scopes: ["periods:read"], roles: ["operator"] }))
        .body as Issued;
      const expiring = (
        await issue({ name: "b", scopes: ["periods:read"], roles: ["operator"], expiresInDays: 1 })
      ).body as Issued;
      expect(
        (await call(gateway, "GET", "/api/v1/whoami", { headers: bearer(revoked.secret) })).status,
      ).to.equal(200);

      const deleted = await call(gateway, "DELETE", `${AUTH_PREFIX}/tokens/${revoked.id}`, {
        headers: asAdmin(),
      });
      expect(deleted.status).to.equal(204);
      expect(
        (await call(gateway, "GET", "/api/v1/whoami", { headers: bearer(revoked.secret) })).status,
      ).to.equal(401);
      const again = await call(gateway, "DELETE", `${AUTH_PREFIX}/tokens/${revoked.id}`, {
        headers: asAdmin(),
      });
      expect(again.status).to.equal(404);

      expect(
        (await call(gateway, "GET", "/api/v1/whoami", { headers: bearer(expiring.secret) })).status,
      ).to.equal(200);
      gateway.advance(86_400_000 + 1_000);
      expect(
        (await call(gateway, "GET", "/api/v1/whoami", { headers: bearer(expiring.secret) })).status,
      ).to.equal(401);
    });

    it("treats malformed and unknown bearer credentials as anonymous (no fallback to the cookie)", async () => {
      for (const authorization of [
        "Bearer",
        "Bearer icl_short",
        `Bearer icl_${"A".repeat(43)}`,
        "Basic Zm9vOmJhcg==",
      ]) {
        const answer = await call(gateway, "GET", "/api/v1/whoami", {
          headers: { authorization, cookie: session.cookie },
        });
        expect(answer.status, authorization).to.equal(401);
      }
    });

    it("needs the CSRF token to issue or revoke; without it nothing is stored", async () => {
      const answer = await issue(
        { name: "x", scopes: ["periods:read"], roles: ["operator"] },
        { cookie: session.cookie },
      );
      expect(answer.status).to.equal(403);
      expect(answer.body).to.have.nested.property("error.code", "CSRF");
      expect(await countRows(db, "gateway_tokens")).to.equal(0);
    });

    it("lets only admins' sessions manage tokens, and no token gets roles its issuer lacks", async () => {
      const officer = Wallet.createRandom();
      gateway.roles.set(officer.address, ["officer"]);
      const officerSession = await signIn(gateway, officer);
      const byOfficer = await issue(
        { name: "x", scopes: ["periods:read"], roles: ["operator"] },
        { cookie: officerSession.cookie, "x-csrf-token": officerSession.csrfToken },
      );
      expect(byOfficer.status).to.equal(403);

      const anonymous = await call(gateway, "GET", `${AUTH_PREFIX}/tokens`);
      expect(anonymous.status).to.equal(401);

      const adminToken = (await issue({ name: "ops", scopes: ["periods:read"], roles: ["admin"] }))
        .body as Issued;
      const byToken = await issue(
        { name: "y", scopes: ["periods:read"], roles: ["operator"] },
        bearer(adminToken.secret),
      );
      expect(byToken.status).to.equal(403);

      const tooStrong = await issue({ name: "z", scopes: ["periods:read"], roles: ["officer"] });
      expect(tooStrong.status).to.equal(403);
      expect(await countRows(db, "gateway_tokens")).to.equal(1);
    });

    it("validates the token request", async () => {
      const bad = [
        { name: "", scopes: ["periods:read"], roles: ["operator"] },
        { name: "x", scopes: [], roles: ["operator"] },
        { name: "x", scopes: ["Periods Read"], roles: ["operator"] },
        { name: "x", scopes: ["periods:read"], roles: ["root"] },
        { name: "x", scopes: ["periods:read"], roles: ["operator"], expiresInDays: 0 },
        { name: "x", scopes: ["periods:read"], roles: ["operator"], expiresInDays: 1.5 },
        { name: "x", scopes: ["periods:read"], roles: ["operator"], secret: "mine" },
      ];
      for (const body of bad) {
        const answer = await issue(body);
        expect(answer.status, JSON.stringify(body)).to.equal(400);
        expect(answer.body).to.have.nested.property("error.code", "INVALID_INPUT");
      }
      expect(await countRows(db, "gateway_tokens")).to.equal(0);
    });
  });
}
