/**
 * Opens the arbiter's copy of a period's evidence in the browser, with the arbiter's own key, which
 * never leaves this tab: the format and scheme of node/src/evidence/arbiter-seal.ts, ECIES on secp256k1
 * (the ECDH point from ethers' SigningKey, HKDF-SHA256 and AES-256-GCM from the browser's WebCrypto).
 */
const MAGIC = [0x49, 0x43, 0x4c, 0x41]; // "ICLA"
const VERSION = 1;
/** Magic, version and the 33-byte ephemeral public key: the AES-GCM additional data. */
const HEADER_BYTES = 38;
const TAG_BYTES = 16;
const INFO = "interconnect-ledger/arbiter-seal/v1";

/**
 * The payload of an arbiter's copy (base64), opened with `sharedSecret` (the signer's ECDH, wallet.js).
 * @throws Error in words: not a copy, no WebCrypto on this page, or sealed to another key.
 */
export async function openArbiterCopy(base64, sharedSecret) {
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  if (
    bytes.length < HEADER_BYTES + TAG_BYTES ||
    !MAGIC.every((byte, i) => bytes[i] === byte) ||
    bytes[MAGIC.length] !== VERSION
  ) {
    throw new Error("the node's answer is not an arbiter's copy of evidence");
  }
  if (!window.crypto?.subtle) {
    throw new Error("this page is not a secure context (https or localhost), so the browser cannot decrypt");
  }
  const header = bytes.subarray(0, HEADER_BYTES);
  const ephemeral = header.subarray(MAGIC.length + 1);
  const point = window.ethers.getBytes(sharedSecret(window.ethers.hexlify(ephemeral)));
  const shared = await crypto.subtle.importKey("raw", point.subarray(1, 33), "HKDF", false, ["deriveKey"]);
  const key = await crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: ephemeral, info: new TextEncoder().encode(INFO) },
    shared,
    { name: "AES-GCM", length: 256 },
    false,
    ["decrypt"],
  );
  let plaintext;
  try {
    plaintext = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: new Uint8Array(12), additionalData: header, tagLength: TAG_BYTES * 8 },
      key,
      bytes.subarray(HEADER_BYTES),
    );
  } catch {
    throw new Error(
      "the arbiter's copy does not open with your key: it was sealed to another key, or altered",
    );
  }
  return JSON.parse(new TextDecoder().decode(plaintext));
}
