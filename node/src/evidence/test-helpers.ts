import { createRequire } from "node:module";
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
