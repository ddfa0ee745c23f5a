import http from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import path from "node:path";

/*
 * multiformats itself, as the independent reference for the CIDs the store computes. Its package
 * exports offer only the `import` condition, which CommonJS `require()` cannot resolve by name, so
 * its (ESM) files are required by path; Node 20.19+ loads ESM through require(). Types come from the
 * package as usual.
 */
const dist = path.join(__dirname, "../../../node_modules/multiformats/dist/src");
const load = createRequire(__filename);

export const { CID } = load(path.join(dist, "cid.js")) as typeof import("multiformats/cid");
export const raw = load(path.join(dist, "codecs/raw.js")) as typeof import("multiformats/codecs/raw");
export const { sha256 } = load(
  path.join(dist, "hashes/sha2.js"),
) as typeof import("multiformats/hashes/sha2");

/** The CID multiformats gives a raw sha2-256 block: `CID.create(1, raw.code, await sha256.digest(bytes))`. */
export async function referenceCid(bytes: Uint8Array): Promise<string> {
  return CID.create(1, raw.code, await sha256.digest(bytes)).toString();
}

/** What the fake Kubo node does wrong, if anything. */
export type FakeKuboFault = "none" | "wrong-cid" | "altered-bytes" | "hang";

/** A stand-in for Kubo's RPC API on 127.0.0.1: `block/put`, `block/get`, `block/stat`, answering as Kubo does. */
export interface FakeKubo {
  readonly url: string;
  /** Blocks held, by CID. */
  readonly blocks: Map<string, Uint8Array>;
  /** The query of every request, in order, with its path. */
  readonly requests: { path: string; query: URLSearchParams }[];
  fault: FakeKuboFault;
  close(): Promise<void>;
}

/** Starts a {@link FakeKubo} on a random port of 127.0.0.1. */
export async function startFakeKubo(): Promise<FakeKubo> {
  const blocks = new Map<string, Uint8Array>();
  const requests: FakeKubo["requests"] = [];
  const hanging: http.ServerResponse[] = [];
  const fake = { blocks, requests, fault: "none" as FakeKuboFault };

  const kuboError = (res: http.ServerResponse, message: string) => {
    res.writeHead(500, { "content-type": "application/json" });
    res.end(JSON.stringify({ Message: message, Code: 0, Type: "error" }));
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    requests.push({ path: url.pathname, query: url.searchParams });
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      void (async () => {
        if (req.method !== "POST") return kuboError(res, "405 - Method Not Allowed");
        if (fake.fault === "hang") return void hanging.push(res);
        const arg = url.searchParams.get("arg") ?? "";
        switch (url.pathname) {
          case "/api/v0/block/put": {
            const data = multipartFile(req.headers["content-type"], Buffer.concat(chunks));
            if (data === undefined) return kuboError(res, "file argument 'data' is required");
            if (url.searchParams.get("cid-codec") !== "raw") return kuboError(res, "expected cid-codec=raw");
            let key = await referenceCid(data);
            blocks.set(key, data);
            if (fake.fault === "wrong-cid") key = await referenceCid(Uint8Array.of(...data, 0));
            res.writeHead(200, { "content-type": "application/json" });
            return res.end(JSON.stringify({ Key: key, Size: data.byteLength }) + "\n");
          }
          case "/api/v0/block/get": {
            const data = blocks.get(arg);
            if (data === undefined)
              return kuboError(res, `block was not found locally (offline): ipld: could not find ${arg}`);
            const body = Buffer.from(data);
            if (fake.fault === "altered-bytes") body[0] = (body[0] ?? 0) ^ 1;
            res.writeHead(200, { "content-type": "text/plain" });
            return res.end(body);
          }
          case "/api/v0/block/stat": {
            const data = blocks.get(arg);
            if (data === undefined)
              return kuboError(res, `block was not found locally (offline): ipld: could not find ${arg}`);
            res.writeHead(200, { "content-type": "application/json" });
            return res.end(JSON.stringify({ Key: arg, Size: data.byteLength }) + "\n");
          }
          default:
            res.writeHead(404, { "content-type": "text/plain" });
            return res.end("404 page not found");
        }
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return Object.assign(fake, {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
}

/** The content of the first file part of a multipart/form-data body, as Kubo reads `block/put`'s data. */
function multipartFile(contentType: string | undefined, body: Buffer): Uint8Array | undefined {
  const boundary = /boundary=(.+)$/.exec(contentType ?? "")?.[1];
  if (boundary === undefined) return undefined;
  const start = body.indexOf(`--${boundary}\r\n`);
  const headersEnd = body.indexOf("\r\n\r\n", start);
  const end = body.indexOf(`\r\n--${boundary}`, headersEnd);
  if (start < 0 || headersEnd < 0 || end < 0) return undefined;
  return new Uint8Array(body.subarray(headersEnd + 4, end));
}
