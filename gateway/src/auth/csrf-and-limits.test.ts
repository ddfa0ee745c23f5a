import { expect } from "chai";
import express from "express";
import { Wallet, type HDNodeWallet } from "ethers";
import type { Database } from "../../../node/src/db/database";
import { databaseTargets } from "../../../test/helpers/databases";
import { listen } from "../gateway";
import { errorHandler } from "../http-error";
import { silentLogger } from "../../../node/src/logger";
import { rateLimit } from "./rate-limit";
import { AUTH_PREFIX } from "./router";
import {
  call,
  countRows,
  signIn,
  startTestGateway,
  type TestGateway,
} from "../../../test/helpers/gateway-auth";

for (const target of databaseTargets()) {
  describe(`gateway CSRF and sign-in rate limit (${target.name})`, function () {
    this.timeout(60_000);
    let db: Database;
    let gateway: TestGateway;
    let officer: HDNodeWallet;

    beforeEach(async () => {
      db = await target.open();
      gateway = await startTestGateway(db, { signInLimit: { windowMs: 60_000, max: 3 } });
      officer = Wallet.createRandom();
      gateway.roles.set(officer.address, ["officer"]);
    });
    afterEach(async () => {
      await gateway.close();
      await db.close();
    });
    after(() => target.cleanup());

    it("refuses a session's POST without or with a wrong x-csrf-token (403 CSRF) and never runs the handler", async () => {
      const session = await signIn(gateway, officer);
      const missing = await call(gateway, "POST", "/api/v1/probe", { headers: { cookie: session.cookie } });
      const wrong = await call(gateway, "POST", "/api/v1/probe", {
        headers: {
          cookie: session.cookie,
          "x-csrf-token": session.csrfToken.replace(/.$/, (c) => (c === "A" ? "B" : "A")),
        },
      });
      const short = await call(gateway, "POST", "/api/v1/probe", {
        headers: { cookie: session.cookie, "x-csrf-token": "x" },
      });
      for (const answer of [missing, wrong, short]) {
        expect(answer.status).to.equal(403);
        expect(answer.body).to.deep.equal({
          error: { code: "CSRF", message: "missing or wrong x-csrf-token header" },
        });
      }
      expect(gateway.probeRuns).to.equal(0);
      const right = await call(gateway, "POST", "/api/v1/probe", {
        headers: { cookie: session.cookie, "x-csrf-token": session.csrfToken },
      });
      expect(right.status).to.equal(200);
      expect(gateway.probeRuns).to.equal(1);
    });

    it("refuses sign-out without the CSRF token and keeps the session", async () => {
      const session = await signIn(gateway, officer);
      const answer = await call(gateway, "POST", `${AUTH_PREFIX}/sign-out`, {
        headers: { cookie: session.cookie },
      });
      expect(answer.status).to.equal(403);
      expect(await countRows(db, "gateway_sessions", "revoked_at IS NULL")).to.equal(1);
      const still = await call(gateway, "GET", `${AUTH_PREFIX}/session`, {
        headers: { cookie: session.cookie },
      });
      expect(still.status).to.equal(200);
    });

    it("does not ask for a CSRF token on safe methods or from anonymous requests", async () => {
      const session = await signIn(gateway, officer);
      const get = await call(gateway, "GET", "/api/v1/whoami", { headers: { cookie: session.cookie } });
      expect(get.status).to.equal(200);
      // Anonymous: requireCsrf lets it by; the route's authorization decides (here the probe runs).
      const anonymous = await call(gateway, "POST", "/api/v1/probe");
      expect(anonymous.status).to.equal(200);
    });

    it("answers 429 with Retry-After once the sign-in limit is reached, and stores nothing more", async () => {
      for (let i = 0; i < 3; i++) {
        const answer = await call(gateway, "POST", `${AUTH_PREFIX}/challenge`, {
          body: { address: officer.address },
        });
        expect(answer.status).to.equal(200);
      }
      const limited = await call(gateway, "POST", `${AUTH_PREFIX}/challenge`, {
        body: { address: officer.address },
      });
      expect(limited.status).to.equal(429);
      expect(limited.body).to.have.nested.property("error.code", "RATE_LIMITED");
      const retryAfter = Number(limited.headers.get("retry-after"));
      expect(retryAfter).to.be.within(1, 60);
      expect(await countRows(db, "gateway_nonces")).to.equal(3);
      // sign-in counts separately from challenge
      const signInAnswer = await call(gateway, "POST", `${AUTH_PREFIX}/sign-in`, { body: {} });
      expect(signInAnswer.status).to.equal(400);
    });
  });
}

describe("rateLimit", () => {
  it("counts per key and client in fixed windows", async () => {
    let now = 1_000_000;
    const app = express();
    app.post(
      "/upload",
      rateLimit({ windowMs: 10_000, max: 2, key: "uploads", now: () => now }),
      (_req, res) => {
        res.json({ ok: true });
      },
    );
    app.post(
      "/other",
      rateLimit({ windowMs: 10_000, max: 1, key: (req) => String(req.get("x-who")) }),
      (_req, res) => {
        res.json({ ok: true });
      },
    );
    app.use(errorHandler(silentLogger));
    const running = await listen(app, "127.0.0.1", 0);
    try {
      const post = async (path: string, headers: Record<string, string> = {}) =>
        fetch(running.url + path, { method: "POST", headers });
      expect((await post("/upload")).status).to.equal(200);
      now += 4_000;
      expect((await post("/upload")).status).to.equal(200);
      const limited = await post("/upload");
      expect(limited.status).to.equal(429);
      expect(limited.headers.get("retry-after")).to.equal("6");
      expect(await limited.json()).to.deep.equal({
        error: { code: "RATE_LIMITED", message: "too many requests; try again in 6 s" },
      });
      now += 6_000;
      expect((await post("/upload")).status).to.equal(200);

      expect((await post("/other", { "x-who": "a" })).status).to.equal(200);
      expect((await post("/other", { "x-who": "b" })).status).to.equal(200);
      expect((await post("/other", { "x-who": "a" })).status).to.equal(429);
    } finally {
      await running.close();
    }
  });

  it("refuses a nonsensical configuration at set-up", () => {
    expect(() => rateLimit({ windowMs: 0, max: 1, key: "x" })).to.throw(TypeError);
  });
});
