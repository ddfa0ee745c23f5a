import { expect } from "chai";
import fc from "fast-check";
import { KeySet } from "./key-set";

describe("mediation/KeySet", () => {
  it("adds keys once and reports them present", () => {
    const set = new KeySet();
    expect(set.size).to.equal(0);
    expect(set.add("icl:1")).to.equal(true);
    expect(set.add("icl:2")).to.equal(true);
    expect(set.add("icl:1")).to.equal(false);
    expect(set.size).to.equal(2);
    expect(set.has("icl:1")).to.equal(true);
    expect(set.has("icl:3")).to.equal(false);
    expect(set.add("")).to.equal(true);
    expect(set.add("")).to.equal(false);
    expect(set.has("")).to.equal(true);
  });

  it("keeps every key through many doublings (no false negatives)", () => {
    const set = new KeySet(16);
    const n = 200_000; // 16 → 2^19 slots: 15 resizes
    for (let i = 0; i < n; i++) expect(set.add(`ast:1727784000.${i}`)).to.equal(true);
    expect(set.size).to.equal(n);
    for (let i = 0; i < n; i++) {
      if (!set.has(`ast:1727784000.${i}`)) expect.fail(`lost key ${i}`);
      if (set.add(`ast:1727784000.${i}`)) expect.fail(`re-added key ${i}`);
    }
    let falsePositives = 0;
    for (let i = n; i < 2 * n; i++) if (set.has(`ast:1727784000.${i}`)) falsePositives++;
    expect(falsePositives).to.equal(0);
    expect(set.size).to.equal(n);
  });

  it("behaves like a Set of strings (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 12 }), { maxLength: 300 }), (keys) => {
        const set = new KeySet(16);
        const model = new Set<string>();
        for (const key of keys) {
          expect(set.add(key)).to.equal(!model.has(key));
          model.add(key);
          expect(set.size).to.equal(model.size);
        }
        for (const key of model) expect(set.has(key)).to.equal(true);
      }),
    );
  });
});
