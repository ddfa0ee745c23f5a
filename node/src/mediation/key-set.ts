/**
 * Compact in-memory set of CDR keys for dry runs: each key is stored as a 64-bit fingerprint (two
 * independent 32-bit hashes) in one Uint32Array, open addressing with linear probing, doubling when
 * the load passes 70 % — about 11–23 bytes per key (≈16 on average) instead of a JS string each.
 *
 * No false negatives: a key that was added is always found. A false positive (two different keys
 * with the same 64-bit fingerprint) has a probability around n²/2⁶⁵ — about 3·10⁻⁸ for a million
 * keys — acceptable for a dry run's duplicate estimate; the database remains the authority.
 */
export class KeySet {
  private slots: Uint32Array;
  private mask: number;
  private count = 0;
  private limit: number;

  constructor(initialCapacity = 1024) {
    let capacity = 16;
    while (capacity < initialCapacity) capacity *= 2;
    this.slots = new Uint32Array(capacity * 2);
    this.mask = capacity - 1;
    this.limit = Math.floor(capacity * 0.7);
  }

  /** Number of distinct keys added. */
  get size(): number {
    return this.count;
  }

  /** Adds a key; returns false when it (or a key with the same fingerprint) was already present. */
  add(key: string): boolean {
    const [h1, h2] = fingerprint(key);
    return this.addFingerprint(h1, h2);
  }

  /** Adds a key by its {@link fingerprint} (computed elsewhere, e.g. in a worker thread). */
  addFingerprint(h1: number, h2: number): boolean {
    if (this.insert(h1 >>> 0, h2 >>> 0)) {
      this.count++;
      if (this.count > this.limit) this.grow();
      return true;
    }
    return false;
  }

  /** True when the key was added before (false positives only at the fingerprint collision rate). */
  has(key: string): boolean {
    const [h1, h2] = fingerprint(key);
    const slots = this.slots;
    const mask = this.mask;
    let i = h1 & mask;
    for (;;) {
      const a = slots[i * 2];
      const b = slots[i * 2 + 1];
      if (a === 0 && b === 0) return false;
      if (a === h1 && b === h2) return true;
      i = (i + 1) & mask;
    }
  }

  private insert(h1: number, h2: number): boolean {
    const slots = this.slots;
    const mask = this.mask;
    let i = h1 & mask;
    for (;;) {
      const a = slots[i * 2];
      const b = slots[i * 2 + 1];
      if (a === 0 && b === 0) {
        slots[i * 2] = h1;
        slots[i * 2 + 1] = h2;
        return true;
      }
      if (a === h1 && b === h2) return false;
      i = (i + 1) & mask;
    }
  }

  private grow(): void {
    const old = this.slots;
    const capacity = (this.mask + 1) * 2;
    this.slots = new Uint32Array(capacity * 2);
    this.mask = capacity - 1;
    this.limit = Math.floor(capacity * 0.7);
    for (let i = 0; i < old.length; i += 2) {
      const a = old[i] as number;
      const b = old[i + 1] as number;
      if (a !== 0 || b !== 0) this.insert(a, b);
    }
  }
}

const pair: [number, number] = [0, 0];

/**
 * Two independent 32-bit murmur3-style hashes of the UTF-16 code units; never both zero. The pair
 * returned is reused by the next call: copy it before calling again.
 */
export function fingerprint(key: string): [number, number] {
  let h1 = 0x9747b28c ^ key.length;
  let h2 = 0x2f8a1c35 ^ Math.imul(key.length, 0x5bd1e995);
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    let k = Math.imul(c, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h1 ^= Math.imul(k, 0x1b873593);
    h1 = (h1 << 13) | (h1 >>> 19);
    h1 = (Math.imul(h1, 5) + 0xe6546b64) | 0;
    let j = Math.imul(c ^ 0xa5a5, 0x85ebca6b);
    j = (j << 17) | (j >>> 15);
    h2 ^= Math.imul(j, 0xc2b2ae35);
    h2 = (h2 << 11) | (h2 >>> 21);
    h2 = (Math.imul(h2, 9) + 0x7feb352d) | 0;
  }
  pair[0] = fmix(h1) >>> 0;
  pair[1] = fmix(h2 ^ 0x68e31da4) >>> 0;
  if (pair[0] === 0 && pair[1] === 0) pair[1] = 1;
  return pair;
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}
