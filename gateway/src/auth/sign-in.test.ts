import { expect } from "chai";
import { Wallet, type HDNodeWallet } from "ethers";
import type { Database } from "../../../node/src/db/database";
import { UnavailableError } from "../../../node/src/errors";
import { databaseTargets } from "../../../test/helpers/databases";
import { CHALLENGE_TTL_MS } from "./deps";
import { AUTH_PREFIX } from "./router";
import {
  call,
  CHAIN_ID,
  challenge,
  countRows,
  signIn,
  startTestGateway,
  type TestGateway,
} from "../../../test/helpers/gateway-auth";

for (const target of databaseTargets()) {
  describe(`gateway sign-in (${target.name})`, function () {
    this.timeout(60_000);
    let db: Database;
    let gateway: TestGateway;
    let officer: HDNodeWallet;

    beforeEach(async () => {
      db = await target.open();
      gateway = await startTestGateway(db);
      officer = Wallet.createRandom();
      gateway.roles.set(officer.address, ["officer"]);
    });
    afterEach(async () => {
      await gateway.close();
      await db.close();
    });
    after(() => target.cleanup());

    const signInWith = (body: unknown) => call(gateway, "POST", `${AUTH_PREFIX}/sign-in`, { body });

    it("issues the exact EIP-4361 challenge for the host, carrier and chain", async () => {
      const host = new URL(gateway.url).host;
      const answer = await challenge(gateway, officer.address.toLowerCase());
      expect(answer.nonce).to.match(/^[0-9a-f]{32}$/);
      const issuedAt = new Date(Date.parse(answer.expiresAt) - CHALLENGE_TTL_MS).toISOString();
      expect(answer.message).to.equal(
        [
          `${host} wants you to sign in with your Ethereum account:`,
          officer.address,
          "",
          "Sign in to the Interconnect Ledger node of Acme Telecom",
          "",
          `URI: http://${host}/`,
          "Version: 1",
          `Chain ID: ${CHAIN_ID}`,
          `Nonce: ${answer.nonce}`,
          `Issued At: ${issuedAt}`,
          `Expiration Time: ${answer.expiresAt}`,
        ].join("\n"),
      );
      expect(await countRows(db, "gateway_nonces", "used_at IS NULL")).to.equal(1);
    });

    it("signs in, shows the session, signs out; the cookie then opens nothing", async () => {
      const session = await signIn(gateway, officer);
      expect(session.body.address).to.equal(officer.address);
      expect(session.body.roles).to.deep.equal(["officer"]);
      expect(session.csrfToken).to.match(/^[A-Za-z0-9_-]{43}$/);

      const shown = await call(gateway, "GET", `${AUTH_PREFIX}/session`, {
        headers: { cookie: session.cookie },
      });
      expect(shown.status).to.equal(200);
      expect(shown.body).to.deep.include({
        kind: "session",
        address: officer.address,
        roles: ["officer"],
        scopes: null,
        csrfToken: session.csrfToken,
      });
      expect((shown.body as { id: string }).id).to.match(/^s_[0-9a-f]{32}$/);
      expect(JSON.stringify(shown.body)).not.to.include(session.cookie.split("=")[1]!);

      const out = await call(gateway, "POST", `${AUTH_PREFIX}/sign-out`, {
        headers: { cookie: session.cookie, "x-csrf-token": session.csrfToken },
      });
      expect(out.status).to.equal(204);
      expect(out.headers.get("set-cookie")).to.equal(
        "icl_session=; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age=0",
      );
      expect(await countRows(db, "gateway_sessions", "revoked_at IS NOT NULL")).to.equal(1);

      const after = await call(gateway, "GET", `${AUTH_PREFIX}/session`, {
        headers: { cookie: session.cookie },
      });
      expect(after.status).to.equal(401);
      expect(after.body).to.deep.equal({ error: { code: "UNAUTHENTICATED", message: "not signed in" } });
    });

    it("sets the session cookie exactly: HttpOnly, Secure, SameSite=Strict, Path=/, Max-Age 8 h; stores only its sha256", async () => {
      const session = await signIn(gateway, officer);
      expect(session.setCookie).to.match(
        /^icl_session=[A-Za-z0-9_-]{43}; HttpOnly; Secure; SameSite=Strict; Path=\/; Max-Age=28800$/,
      );
      const value = session.cookie.slice("icl_session=".length);
      const { rows } = await db.query<Record<string, unknown>>("SELECT * FROM gateway_sessions");
      expect(rows).to.have.length(1);
      expect(Object.values(rows[0]!).map(String)).not.to.include(value);
      const { rows: hashed } = await db.query(
        "SELECT 1 FROM gateway_sessions WHERE secret_sha256 = encode(sha256(convert_to($1, 'UTF8')), 'hex')",
        [value],
      );
      expect(hashed).to.have.length(1);
    });

    it("drops Secure only when configured off, and then still signs in over loopback", async () => {
      await gateway.close();
      gateway = await startTestGateway(db, { cookieSecure: false, sessionHours: 1 });
      gateway.roles.set(officer.address, ["officer"]);
      const session = await signIn(gateway, officer);
      expect(session.setCookie).to.match(
        /^icl_session=[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Strict; Path=\/; Max-Age=3600$/,
      );
    });

    it("refuses a replayed challenge (same message and signature) with 401 and opens no second session", async () => {
      const { message } = await challenge(gateway, officer.address);
      const signature = await officer.signMessage(message);
      expect((await signInWith({ message, signature })).status).to.equal(200);
      const before = await db.query("SELECT * FROM gateway_nonces");
      const replay = await signInWith({ message, signature });
      expect(replay.status).to.equal(401);
      expect(replay.body).to.deep.equal({
        error: {
          code: "CHALLENGE_INVALID",
          message: "the sign-in challenge is unknown, used, expired or altered",
        },
      });
      expect(replay.headers.get("set-cookie")).to.equal(null);
      expect(await countRows(db, "gateway_sessions")).to.equal(1);
      expect((await db.query("SELECT * FROM gateway_nonces")).rows).to.deep.equal(before.rows);
    });

    it("lets only one of two concurrent sign-ins with the same signature through", async () => {
      const { message } = await challenge(gateway, officer.address);
      const signature = await officer.signMessage(message);
      const answers = await Promise.all([
        signInWith({ message, signature }),
        signInWith({ message, signature }),
      ]);
      expect(answers.map((a) => a.status).sort()).to.deep.equal([200, 401]);
      expect(await countRows(db, "gateway_sessions")).to.equal(1);
    });

    it("refuses a signature by another key with 401, leaving the challenge unused", async () => {
      const { message } = await challenge(gateway, officer.address);
      const signature = await Wallet.createRandom().signMessage(message);
      const answer = await signInWith({ message, signature });
      expect(answer.status).to.equal(401);
      expect((answer.body as { error: { code: string } }).error.code).to.equal("SIGNATURE_INVALID");
      expect(await countRows(db, "gateway_sessions")).to.equal(0);
      expect(await countRows(db, "gateway_nonces", "used_at IS NOT NULL")).to.equal(0);
    });

    it("refuses an expired challenge with 401", async () => {
      const { message } = await challenge(gateway, officer.address);
      const signature = await officer.signMessage(message);
      gateway.advance(CHALLENGE_TTL_MS + 1_000);
      const answer = await signInWith({ message, signature });
      expect(answer.status).to.equal(401);
      expect(await countRows(db, "gateway_sessions")).to.equal(0);
      expect(await countRows(db, "gateway_nonces", "used_at IS NOT NULL")).to.equal(0);
    });

    it("refuses a message altered in its nonce, domain, chain or times, even when signed by the right key", async () => {
      const first = await challenge(gateway, officer.address);
      const second = await challenge(gateway, officer.address);
      const host = new URL(gateway.url).host;
      const altered = [
        first.message.replace(`Nonce: ${first.nonce}`, `Nonce: ${second.nonce}`),
        first.message.replace(`Nonce: ${first.nonce}`, `Nonce: ${"0".repeat(32)}`),
        first.message.replace(`${host} wants`, "evil.example wants"),
        first.message.replace(`URI: http://${host}/`, "URI: https://evil.example/"),
        first.message.replace(`Chain ID: ${CHAIN_ID}`, "Chain ID: 1"),
        first.message.replace(/Expiration Time: .*$/, "Expiration Time: 2099-01-01T00:00:00.000Z"),
        first.message.replace("Acme Telecom", "Acme Telecom (approve everything)"),
        first.message + "\nResources:\n- https://evil.example/",
      ];
      for (const message of altered) {
        expect(message).not.to.equal(first.message);
        const answer = await signInWith({ message, signature: await officer.signMessage(message) });
        expect(answer.status, message).to.equal(401);
      }
      expect(await countRows(db, "gateway_sessions")).to.equal(0);
      expect(await countRows(db, "gateway_nonces", "used_at IS NOT NULL")).to.equal(0);
      // The unaltered challenges still work afterwards.
      const good = await signInWith({
        message: second.message,
        signature: await officer.signMessage(second.message),
      });
      expect(good.status).to.equal(200);
    });

    it("refuses an address with no role with 403 and stores no session (the challenge stays unused)", async () => {
      const stranger = Wallet.createRandom();
      const { message } = await challenge(gateway, stranger.address);
      const answer = await signInWith({ message, signature: await stranger.signMessage(message) });
      expect(answer.status).to.equal(403);
      expect(answer.body).to.deep.equal({
        error: { code: "NO_ROLE", message: "this address holds no role on this node" },
      });
      expect(answer.headers.get("set-cookie")).to.equal(null);
      expect(await countRows(db, "gateway_sessions")).to.equal(0);
      expect(await countRows(db, "gateway_nonces", "used_at IS NOT NULL")).to.equal(0);
    });

    it("answers 503 and stores nothing when roles cannot be resolved", async () => {
      const { message } = await challenge(gateway, officer.address);
      gateway.roles.failing = new UnavailableError("the chain node is unreachable", {
        code: "RPC_UNAVAILABLE",
      });
      const answer = await signInWith({ message, signature: await officer.signMessage(message) });
      expect(answer.status).to.equal(503);
      // The gateway's one error middleware answers a retryable node error with its own code and words.
      expect(answer.body).to.deep.equal({
        error: { code: "RPC_UNAVAILABLE", message: "the chain node is unreachable" },
      });
      expect(await countRows(db, "gateway_sessions")).to.equal(0);
    });

    it("answers malformed input with 400 JSON and no internals", async () => {
      const cases: [string, unknown][] = [
        ["/challenge", { address: "0x123" }],
        ["/challenge", { address: officer.address, extra: 1 }],
        ["/challenge", { address: flipOneLetter(officer.address) }],
        ["/sign-in", { message: "hello", signature: "0x12" }],
      ];
      for (const [path, body] of cases) {
        const answer = await call(gateway, "POST", AUTH_PREFIX + path, { body });
        expect(answer.status, JSON.stringify(body)).to.equal(400);
        expect((answer.body as { error: { code: string } }).error.code).to.equal("INVALID_INPUT");
      }
      const raw = await fetch(`${gateway.url}${AUTH_PREFIX}/sign-in`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{not json",
      });
      expect(raw.status).to.equal(400);
      const text = await raw.text();
      expect(JSON.parse(text)).to.deep.equal({
        error: { code: "BAD_REQUEST", message: "the request body is not valid JSON", field: "body" },
      });
      expect(await countRows(db, "gateway_sessions")).to.equal(0);
    });

    it("treats garbage, unknown and expired session cookies as anonymous, never 500", async () => {
      for (const cookie of ["icl_session=", "icl_session=x", `icl_session=${"A".repeat(43)}`, "other=1"]) {
        const answer = await call(gateway, "GET", "/api/v1/whoami", { headers: { cookie } });
        expect(answer.status, cookie).to.equal(401);
      }
      const session = await signIn(gateway, officer);
      gateway.advance(8 * 3600_000 + 1_000);
      expect(
        (await call(gateway, "GET", "/api/v1/whoami", { headers: { cookie: session.cookie } })).status,
      ).to.equal(401);
    });

    it("re-checks a session's roles after roleRecheckMs and ends it when none are left", async () => {
      const session = await signIn(gateway, officer);
      gateway.roles.set(officer.address, ["officer", "regulator"]);
      gateway.advance(5 * 60_000);
      const widened = await call(gateway, "GET", "/api/v1/whoami", { headers: { cookie: session.cookie } });
      expect((widened.body as { roles: string[] }).roles).to.deep.equal(["officer", "regulator"]);
      gateway.roles.set(officer.address, []);
      gateway.advance(5 * 60_000);
      const gone = await call(gateway, "GET", "/api/v1/whoami", { headers: { cookie: session.cookie } });
      expect(gone.status).to.equal(401);
      expect(await countRows(db, "gateway_sessions", "revoked_at IS NOT NULL")).to.equal(1);
    });

    it("keeps the role snapshot while the resolver is unavailable", async () => {
      const session = await signIn(gateway, officer);
      gateway.roles.failing = new UnavailableError("down");
      gateway.advance(10 * 60_000);
      const answer = await call(gateway, "GET", "/api/v1/whoami", { headers: { cookie: session.cookie } });
      expect(answer.status).to.equal(200);
      expect((answer.body as { roles: string[] }).roles).to.deep.equal(["officer"]);
    });

    it("refuses a host not in `hosts` with 400 and stores nothing", async () => {
      await gateway.close();
      gateway = await startTestGateway(db, { hosts: ["ledger.acme.example"] });
      const answer = await call(gateway, "POST", `${AUTH_PREFIX}/challenge`, {
        body: { address: officer.address },
      });
      expect(answer.status).to.equal(400);
      expect((answer.body as { error: { code: string } }).error.code).to.equal("BAD_HOST");
      expect(await countRows(db, "gateway_nonces")).to.equal(0);
    });
  });
}

/** The checksummed address with one letter's case flipped: a wrong EIP-55 checksum. */
/**
 * The checksummed address with one letter's case flipped: a broken checksum. The result must keep both
 * cases, since an all-lowercase or all-uppercase address carries no checksum and is valid as it is (an
 * address whose only lowercase letter was flipped once made this test pass the address through).
 */
function flipOneLetter(address: string): string {
  for (let at = 2; at < address.length; at++) {
    const letter = address[at]!;
    if (!/[a-fA-F]/.test(letter)) continue;
    const flipped = letter === letter.toLowerCase() ? letter.toUpperCase() : letter.toLowerCase();
    const candidate = address.slice(0, at) + flipped + address.slice(at + 1);
    if (/[a-f]/.test(candidate.slice(2)) && /[A-F]/.test(candidate.slice(2))) return candidate;
  }
  throw new Error(`no letter of ${address} can be flipped into a broken checksum`);
}
