/**
 * A digit trie from E.164 prefixes to values, built once per deck. `candidates` (and its
 * allocation-free form `collect`) walks the called number once and gives the values of every prefix
 * on the path, so a caller can pick the longest prefix that also satisfies other conditions
 * (effective date, time band) in O(digits).
 */
export class PrefixTrie<T> {
  // Node i's children live at children[i*10 .. i*10+9]; 0 means "no child" (node 0 is the root).
  private children = new Int32Array(10 * 64);
  private values: (T[] | undefined)[] = [undefined];
  private nodeCount = 1;

  /** Adds `value` under `prefix` (digits only). @throws RangeError for a non-digit prefix. */
  insert(prefix: string, value: T): void {
    let node = 0;
    for (let i = 0; i < prefix.length; i++) {
      const digit = prefix.charCodeAt(i) - 48;
      if (digit < 0 || digit > 9) throw new RangeError(`prefix '${prefix}' has a non-digit`);
      let child = this.children[node * 10 + digit]!;
      if (child === 0) {
        child = this.nodeCount++;
        if (child * 10 + 10 > this.children.length) {
          const grown = new Int32Array(this.children.length * 2);
          grown.set(this.children);
          this.children = grown;
        }
        this.children[node * 10 + digit] = child;
        this.values.push(undefined);
      }
      node = child;
    }
    const list = this.values[node];
    if (list) list.push(value);
    else this.values[node] = [value];
  }

  /** Values of every prefix of `digits` present in the trie, longest prefix first. */
  candidates(digits: string): T[][] {
    const found: T[][] = [];
    found.length = this.collect(digits, found);
    return found.reverse();
  }

  /**
   * Writes the values of every prefix of `digits` present in the trie into `out`, SHORTEST first,
   * and returns how many it wrote (entries past that count are stale). The rater walks them from the
   * end with one scratch array, so a lookup allocates nothing.
   */
  collect(digits: string, out: T[][]): number {
    let count = 0;
    let node = 0;
    const root = this.values[0];
    if (root) out[count++] = root;
    for (let i = 0; i < digits.length; i++) {
      const digit = digits.charCodeAt(i) - 48;
      if (digit < 0 || digit > 9) break;
      node = this.children[node * 10 + digit]!;
      if (node === 0) break;
      const list = this.values[node];
      if (list) out[count++] = list;
    }
    return count;
  }
}
