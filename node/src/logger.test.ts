import { expect } from "chai";
import { PassThrough } from "node:stream";
import { createGateway, listen } from "../../gateway/src/gateway";
import { jsonLogger, loggerFromEnv, streamLogger } from "./logger";

function capture(): { stream: PassThrough; lines: () => string[] } {
  const stream = new PassThrough();
  let text = "";
  stream.on("data", (chunk: Buffer) => (text += chunk.toString()));
  return { stream, lines: () => text.split("\n").filter(Boolean) };
}

describe("logger", () => {
  it("writes pino JSON lines with the message, level and fields, bigints as decimal strings", () => {
    const { stream, lines } = capture();
    const logger = jsonLogger(stream, "info");
    logger.info("period revealed", { period: 203001, amount: 12_500_000n, nested: { fee: 3n } });
    logger.warn("peer slow");
    const [first, second] = lines().map((line) => JSON.parse(line));
    expect(first).to.deep.include({ level: 30, msg: "period revealed", period: 203001, amount: "12500000" });
    expect(first.nested).to.deep.equal({ fee: "3" });
    expect(first.time).to.be.a("number");
    expect(second).to.deep.include({ level: 40, msg: "peer slow" });
  });

  it("keeps below-level events out, in both formats", () => {
    const json = capture();
    jsonLogger(json.stream, "warn").info("quiet");
    const text = capture();
    streamLogger(text.stream, "warn").info("quiet");
    expect(json.lines()).to.deep.equal([]);
    expect(text.lines()).to.deep.equal([]);
  });

  it("follows ICL_LOG_FORMAT and ICL_LOG", () => {
    const json = capture();
    loggerFromEnv(json.stream, { ICL_LOG_FORMAT: "json", ICL_LOG: "info" }).info("hello", { n: 1 });
    expect(JSON.parse(json.lines()[0]!)).to.deep.include({ msg: "hello", n: 1 });
    const text = capture();
    loggerFromEnv(text.stream, { ICL_LOG: "info" }).info("hello", { n: 1 });
    expect(text.lines()).to.deep.equal(['info: hello {"n":1}']);
  });

  it("logs every gateway request as one JSON line, without its query", async () => {
    const { stream, lines } = capture();
    const gateway = await listen(createGateway({ logger: jsonLogger(stream, "info") }), "127.0.0.1", 0);
    try {
      await (await fetch(`${gateway.url}/healthz?secret=do-not-log`)).arrayBuffer();
      await (await fetch(`${gateway.url}/api/v1/periods`)).arrayBuffer();
    } finally {
      await gateway.close();
    }
    const requests = lines()
      .map((line) => JSON.parse(line))
      .filter((entry) => entry.msg === "http request");
    expect(requests.map((r) => [r.method, r.path, r.status, r.who])).to.deep.equal([
      ["GET", "/healthz", 200, null],
      ["GET", "/api/v1/periods", 401, null],
    ]);
    expect(requests[0].ms).to.be.a("number");
    expect(lines().join("\n")).to.not.contain("do-not-log");
    expect(requests[0].ip).to.equal("127.0.0.1");
  });

  it("takes the client's address from X-Forwarded-For only from a trusted proxy", async () => {
    const seen: string[] = [];
    for (const trustProxy of [false, ["loopback"]] as const) {
      const { stream, lines } = capture();
      const app = createGateway({ logger: jsonLogger(stream, "info"), trustProxy });
      const gateway = await listen(app, "127.0.0.1", 0);
      try {
        await (
          await fetch(`${gateway.url}/healthz`, { headers: { "x-forwarded-for": "203.0.113.9" } })
        ).arrayBuffer();
      } finally {
        await gateway.close();
      }
      seen.push(JSON.parse(lines().find((line) => line.includes("http request"))!).ip);
    }
    expect(seen).to.deep.equal(["127.0.0.1", "203.0.113.9"]);
  });
});
