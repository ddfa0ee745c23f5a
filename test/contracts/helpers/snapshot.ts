import { ethers } from "hardhat";

/**
 * A fixture cached as an EVM snapshot, like `loadFixture`, but allowed to build on top of another
 * `loadFixture` (which `loadFixture` itself forbids). `build` must start from `loadFixture(...)` so that
 * it always runs from the same chain state; when a later revert invalidated the snapshot, it rebuilds.
 */
export function cachedFixture<T>(build: () => Promise<T>): () => Promise<T> {
  let cached: { snapshot: string; value: T } | undefined;
  return async () => {
    if (cached !== undefined) {
      const reverted = (await ethers.provider.send("evm_revert", [cached.snapshot])) as boolean;
      if (reverted) {
        cached.snapshot = (await ethers.provider.send("evm_snapshot", [])) as string;
        return cached.value;
      }
    }
    const value = await build();
    cached = { snapshot: (await ethers.provider.send("evm_snapshot", [])) as string, value };
    return value;
  };
}
