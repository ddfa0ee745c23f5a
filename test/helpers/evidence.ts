import { createCipheriv, createHash } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { CID } from "multiformats/cid";
import * as raw from "multiformats/codecs/raw";
import { sha256 } from "multiformats/hashes/sha2";
import { loadCar } from "../../node/src/evidence/car";

/*
 * For tests only. multiformats itself is the reference for the CID strings the store computes with
 * node:crypto (multiformats 14 loads with require(): its exports carry `module-sync`).
 */
export { CID, raw, sha256 };

/** The CID multiformats gives a raw sha2-256 block: `CID.create(1, raw.code, sha256.digest(bytes))`. */
export async function referenceCid(bytes: Uint8Array): Promise<string> {
  return CID.create(1, raw.code, await sha256.digest(bytes)).toString();
}

/**
 * `size` bytes of the deterministic stream Kubo's CLI tests add (test/cli/testutils,
 * DeterministicRandomReaderBytes): the ChaCha20 key stream (RFC 8439, zero nonce, counter from 0)
 * under the key SHA-256(seed). Their published CIDs make test vectors of `ipfs add`.
 */
export function kuboDeterministicBytes(size: number, seed: string): Uint8Array {
  const key = createHash("sha256").update(seed).digest();
  // OpenSSL's chacha20 IV: a 32-bit little-endian block counter, then the 96-bit nonce.
  const cipher = createCipheriv("chacha20", key, Buffer.alloc(16));
  const out = new Uint8Array(size);
  const zeros = Buffer.alloc(1024 * 1024);
  for (let at = 0; at < size; at += zeros.length) {
    out.set(cipher.update(zeros.subarray(0, Math.min(zeros.length, size - at))), at);
  }
  return out;
}

/** The sizes every store must round-trip: empty, one full block, one byte over, DAGs of one and two levels. */
export const ROUND_TRIP_SIZES = [0, 1024 * 1024, 1024 * 1024 + 1, 5 * 1024 * 1024, 44 * 1024 * 1024];

/** The parameters of a reference UnixFS file DAG (see {@link referenceUnixfsCid}). */
export interface ReferenceLayout {
  cidVersion: 0 | 1;
  rawLeaves: boolean;
  chunkSize: number;
  maxLinks: number;
}

/** Kubo's `ipfs add --cid-version=1` defaults, for {@link referenceUnixfsCid}. */
export const KUBO_LAYOUT: ReferenceLayout = {
  cidVersion: 1,
  rawLeaves: true,
  chunkSize: 262_144,
  maxLinks: 174,
};

/**
 * The root CID of `bytes` added as a UnixFS file with a fixed-size chunker and Kubo's balanced
 * layout, written here from the dag-pb and UnixFS specifications alone, as a second implementation
 * to check the importer against (not sharing any of its code): leaves of `chunkSize` (raw blocks, or
 * dag-pb nodes of UnixFS type File with the data), grouped `maxLinks` at a time into dag-pb nodes of
 * type File (filesize, blocksizes), level by level until one node is left; a single chunk is its
 * own root. Links carry an empty name and the cumulative size (Tsize).
 */
export function referenceUnixfsCid(bytes: Uint8Array, layout: ReferenceLayout): string {
  type Node = { cid: CID; tsize: number; fileSize: number };
  const cidOf = (codec: number, block: Uint8Array): CID => {
    const digest = sha256.digest(block);
    if (digest instanceof Promise) throw new Error("multiformats' sha256 is synchronous on Node");
    return layout.cidVersion === 0 ? CID.createV0(digest) : CID.create(1, codec, digest);
  };
  let level: Node[] = [];
  for (let at = 0; at === 0 || at < bytes.byteLength; at += layout.chunkSize) {
    const chunk = bytes.subarray(at, at + layout.chunkSize);
    if (layout.rawLeaves) {
      level.push({ cid: cidOf(raw.code, chunk), tsize: chunk.byteLength, fileSize: chunk.byteLength });
    } else {
      const block = pbNode([], unixfsFile(chunk, chunk.byteLength, []));
      level.push({ cid: cidOf(DAG_PB, block), tsize: block.byteLength, fileSize: chunk.byteLength });
    }
  }
  while (level.length > 1) {
    const next: Node[] = [];
    for (let i = 0; i < level.length; i += layout.maxLinks) {
      const children = level.slice(i, i + layout.maxLinks);
      const fileSize = children.reduce((sum, child) => sum + child.fileSize, 0);
      const data = unixfsFile(
        undefined,
        fileSize,
        children.map((child) => child.fileSize),
      );
      const block = pbNode(children, data);
      const tsize = children.reduce((sum, child) => sum + child.tsize, block.byteLength);
      next.push({ cid: cidOf(DAG_PB, block), tsize, fileSize });
    }
    level = next;
  }
  return level[0]!.cid.toString();
}

export const DAG_PB = 0x70;

/** A dag-pb PBNode: the links (field 2) first, then the data (field 1), as the codec's canonical form. */
export function pbNode(links: { cid: CID; tsize: number }[], data: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const link of links) {
    const encoded = concat([
      field(1, link.cid.bytes),
      field(2, new Uint8Array()),
      Uint8Array.of(0x18),
      varint(link.tsize),
    ]);
    parts.push(field(2, encoded));
  }
  parts.push(field(1, data));
  return concat(parts);
}

/**
 * UnixFS `Data` of type File (2, or `type` given: 1 is a directory): the data if any, filesize, and
 * one blocksize per child.
 */
export function unixfsFile(
  data: Uint8Array | undefined,
  fileSize: number,
  blockSizes: number[],
  type = 2,
): Uint8Array {
  const parts: Uint8Array[] = [Uint8Array.of(0x08, type)];
  if (data !== undefined) parts.push(field(2, data));
  parts.push(Uint8Array.of(0x18), varint(fileSize));
  for (const size of blockSizes) parts.push(Uint8Array.of(0x20), varint(size));
  return concat(parts);
}

/** A length-delimited protobuf field (wire type 2). */
function field(number: number, value: Uint8Array): Uint8Array {
  return concat([Uint8Array.of((number << 3) | 2), varint(value.byteLength), value]);
}

function varint(value: number): Uint8Array {
  const out: number[] = [];
  while (value >= 0x80) {
    out.push((value % 0x80) | 0x80);
    value = Math.floor(value / 0x80);
  }
  out.push(value);
  return Uint8Array.from(out);
}

function concat(parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

/**
 * What the fake Kubo node does wrong, if anything: answer another CID (block/put) or root
 * (dag/import), flip a bit of every block it sends, never answer, or drop a leaf of an imported CAR.
 */
export type FakeKuboFault = "none" | "wrong-cid" | "altered-bytes" | "hang" | "lose-a-leaf";

/**
 * A stand-in for Kubo's RPC API on 127.0.0.1, answering as Kubo does: `block/put`, `block/get`,
 * `block/stat`, and `dag/import` of one CAR file (multipart field `file`), which stores its blocks
 * and, with `pin-roots=true`, reports each root in the CAR header (`{"Root":{"Cid":{"/":…},
 * "PinErrorMsg":…}}`), with a pin error when the DAG under it is incomplete.
 */
export interface FakeKubo {
  readonly url: string;
  /** Blocks held, by CID. */
  readonly blocks: Map<string, Uint8Array>;
  /** Roots pinned by `dag/import`. */
  readonly pins: Set<string>;
  /** The query of every request, in order, with its path. */
  readonly requests: { path: string; query: URLSearchParams }[];
  fault: FakeKuboFault;
  close(): Promise<void>;
}

/** Starts a {@link FakeKubo} on a random port of 127.0.0.1. */
export async function startFakeKubo(): Promise<FakeKubo> {
  const blocks = new Map<string, Uint8Array>();
  const pins = new Set<string>();
  const requests: FakeKubo["requests"] = [];
  const hanging: http.ServerResponse[] = [];
  const fake = { blocks, pins, requests, fault: "none" as FakeKuboFault };

  const kuboError = (res: http.ServerResponse, message: string) => {
    res.writeHead(500, { "content-type": "application/json" });
    res.end(JSON.stringify({ Message: message, Code: 0, Type: "error" }));
  };
  const notFound = (res: http.ServerResponse, cid: string) =>
    kuboError(res, `block was not found locally (offline): ipld: could not find ${cid}`);

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
          case "/api/v0/dag/import": {
            const car = multipartFile(req.headers["content-type"], Buffer.concat(chunks));
            if (car === undefined) return kuboError(res, "file argument 'path' is required");
            let reader;
            try {
              reader = (await loadCar()).CarBufferReader.fromBytes(car);
            } catch (error) {
              return kuboError(res, `invalid car: ${(error as Error).message}`);
            }
            let lost = false;
            for (const block of reader.blocks()) {
              if (fake.fault === "lose-a-leaf" && !lost && block.cid.code === raw.code) {
                lost = true;
                continue;
              }
              // Kubo hashes what it imports: a block that does not match its CID is refused.
              const digest = await sha256.digest(block.bytes);
              if (!CID.create(1, block.cid.code, digest).equals(block.cid))
                return kuboError(res, `block ${block.cid.toString()} does not match its hash`);
              blocks.set(block.cid.toString(), block.bytes);
            }
            res.writeHead(200, { "content-type": "application/json" });
            if (url.searchParams.get("pin-roots") !== "true") return res.end();
            const lines: string[] = [];
            for (const root of await reader.getRoots()) {
              const incomplete = missingUnder(root.toString(), blocks);
              if (incomplete === undefined) pins.add(root.toString());
              const reported =
                fake.fault === "wrong-cid" ? CID.create(1, DAG_PB, await sha256.digest(root.bytes)) : root;
              const pinError = incomplete === undefined ? "" : `block was not found locally: ${incomplete}`;
              lines.push(
                JSON.stringify({ Root: { Cid: { "/": reported.toString() }, PinErrorMsg: pinError } }) + "\n",
              );
            }
            return res.end(lines.join(""));
          }
          case "/api/v0/block/get": {
            const data = blocks.get(arg);
            if (data === undefined) return notFound(res, arg);
            const body = Buffer.from(data);
            if (fake.fault === "altered-bytes") body[0] = (body[0] ?? 0) ^ 1;
            res.writeHead(200, { "content-type": "text/plain" });
            return res.end(body);
          }
          case "/api/v0/block/stat": {
            const data = blocks.get(arg);
            if (data === undefined) return notFound(res, arg);
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

/** The first block under `root` that `blocks` lacks, following dag-pb links; undefined if none. */
function missingUnder(root: string, blocks: Map<string, Uint8Array>): string | undefined {
  const pending = [root];
  while (pending.length > 0) {
    const cid = pending.pop()!;
    const block = blocks.get(cid);
    if (block === undefined) return cid;
    if (CID.parse(cid).code === DAG_PB) pending.push(...pbLinks(block));
  }
  return undefined;
}

/** The CIDs a dag-pb block links to: field 2 (PBLink) of the node, field 1 (Hash) of each link. */
function pbLinks(block: Uint8Array): string[] {
  const links: string[] = [];
  for (const [number, value] of pbFields(block)) {
    if (number !== 2) continue;
    for (const [inner, hash] of pbFields(value)) if (inner === 1) links.push(CID.decode(hash).toString());
  }
  return links;
}

/** The length-delimited fields of a protobuf message (varint fields are skipped). */
function* pbFields(bytes: Uint8Array): Generator<[number, Uint8Array]> {
  let at = 0;
  const readVarint = () => {
    let value = 0;
    for (let shift = 1; ; shift *= 0x80) {
      const byte = bytes[at++]!;
      value += (byte & 0x7f) * shift;
      if (byte < 0x80) return value;
    }
  };
  while (at < bytes.byteLength) {
    const key = readVarint();
    if ((key & 7) === 0) {
      readVarint();
      continue;
    }
    const length = readVarint();
    yield [key >> 3, bytes.subarray(at, at + length)];
    at += length;
  }
}

/** The content of the first file part of a multipart/form-data body, as Kubo reads a file argument. */
function multipartFile(contentType: string | undefined, body: Buffer): Uint8Array | undefined {
  const boundary = /boundary=(.+)$/.exec(contentType ?? "")?.[1];
  if (boundary === undefined) return undefined;
  const start = body.indexOf(`--${boundary}\r\n`);
  const headersEnd = body.indexOf("\r\n\r\n", start);
  // The last boundary: a file's bytes (a CAR) may contain anything.
  const end = body.lastIndexOf(`\r\n--${boundary}`);
  if (start < 0 || headersEnd < 0 || end < 0) return undefined;
  return new Uint8Array(body.subarray(headersEnd + 4, end));
}
