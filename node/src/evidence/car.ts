/*
 * CAR (content-addressed archive, v1) files of evidence DAGs, with @ipld/car: how a DAG travels to a
 * Kubo node in one request (`dag/import`).
 *
 * @ipld/car is the one ES module here whose package exports offer only the `import` (and `browser`)
 * conditions, not `module-sync`, so CommonJS require() cannot resolve it by name even on Node 20.19+.
 * A real dynamic import() can. It is built with `new Function` because both compilers of this project
 * (tsc with `module: commonjs`, and Sucrase's imports transform in bin/register-ts.js) turn a literal
 * `import()` into require(), which is the very call that fails.
 */
import type { CID } from "multiformats/cid";
import type { DagBlock } from "./unixfs";

type CarModule = typeof import("@ipld/car");

const dynamicImport = new Function("specifier", "return import(specifier)") as (
  specifier: string,
) => Promise<unknown>;

let car: Promise<CarModule> | undefined;

/** @ipld/car, loaded once. */
export function loadCar(): Promise<CarModule> {
  car ??= dynamicImport("@ipld/car") as Promise<CarModule>;
  return car;
}

/**
 * A CARv1 file with `root` as its only root and `blocks` in order, as a stream of chunks: the blocks
 * are not copied into one buffer. A reader that stops early (a failed upload) leaves only a pending
 * writer behind, collected with the generator.
 */
export async function* carFile(root: CID, blocks: Iterable<DagBlock>): AsyncGenerator<Uint8Array> {
  const { CarWriter } = await loadCar();
  const { writer, out } = CarWriter.create([root]);
  // The writer waits for each chunk to be read before taking the next block, so it runs alongside.
  const writing = (async () => {
    for (const block of blocks) await writer.put(block);
    await writer.close();
  })();
  writing.catch(() => undefined); // surfaced below, once the reader has drained `out`
  yield* out;
  await writing;
}
