/**
 * `deno task bundle`: entry scripts bundled for a machine without the npm registry (a cluster's
 * compute node, a GPU machine without internet): one JavaScript file per script with every npm
 * package inside, the wasm backend's binary beside them, and the MNIST files gzipped.
 *
 * @module
 */

import { parseCli, runMain, UsageError } from "../src/cli.ts";
import { type FolderKind, writeFolderAtomic } from "../src/files.ts";
import { Progress } from "../src/progress.ts";
import { MNIST_FILES, mnistPath } from "../src/data/mnist.ts";

const ENTRIES = ["bench", "train", "evaluate", "dataset"] as const;

const USAGE = `
Usage: deno task bundle [--out DIR] [SCRIPT...]

Writes into DIR (default: bundle/) SCRIPT.js for each script (default: ${ENTRIES.join(", ")}),
tfjs-backend-wasm-simd.wasm, which the wasm backend loads from beside the bundle, and the four
MNIST idx files gzipped (~11 MB). DIR must be new, empty or a bundle written there before, which
is replaced. Copy DIR to the other machine and run, with a Deno of the same version, e.g.

  deno run --allow-all DIR/bench.js --mnist DIR --check
  deno run --allow-all DIR/train.js --mnist DIR --profile smoke --data shifted --method crltac --seed 0 --out run

\`deno task reproduce\` runs each training in its own process from scripts/ and is not bundled.
`;

const WASM = "tfjs-backend-wasm-simd.wasm";

/** A bundle's folder, written whole. */
const BUNDLE_FOLDER: FolderKind = { name: "bundle", whole: true };

async function gzip(from: string, to: string): Promise<void> {
  const source = await Deno.open(from);
  await source.readable.pipeThrough(new CompressionStream("gzip")).pipeTo(
    (await Deno.open(to, { write: true, create: true, truncate: true })).writable,
  );
}

await runMain(USAGE, async (args) => {
  const { values, positionals } = parseCli(args, { out: { type: "string" } }, true);
  const unknown = positionals.find((p) => !(ENTRIES as readonly string[]).includes(p));
  if (unknown) throw new UsageError(`${unknown}: no such script to bundle (choose from ${ENTRIES.join(", ")})`);
  const out = values.out ?? "bundle";
  const names = positionals.length ? positionals : [...ENTRIES];
  // Each bundle takes seconds to tens of seconds; the copies one step more.
  const progress = new Progress("bundle", names.length + 1, "step");
  await writeFolderAtomic(out, BUNDLE_FOLDER, async (stage) => {
    progress.update(0, `scripts/${names[0]}.ts`);
    for (const [i, name] of names.entries()) {
      const entry = new URL(`./${name}.ts`, import.meta.url).pathname;
      // Written here rather than by deno bundle, so that a full disk is the one line naming the folder.
      const bundled = await new Deno.Command(Deno.execPath(), {
        args: ["bundle", "--quiet", "--platform", "deno", entry],
        stdout: "piped",
        stderr: "inherit",
      }).output();
      if (!bundled.success) throw new Error(`deno bundle failed for scripts/${name}.ts`);
      await Deno.writeFile(`${stage}/${name}.js`, bundled.stdout);
      progress.update(i + 1, `bundled ${name}.js`);
    }
    const wasm = new URL(import.meta.resolve(`npm:@tensorflow/tfjs-backend-wasm@4.22.0/wasm-out/${WASM}`)).pathname;
    await Deno.copyFile(wasm, `${stage}/${WASM}`);
    for (const file of Object.keys(MNIST_FILES) as (keyof typeof MNIST_FILES)[]) {
      await gzip(mnistPath(file), `${stage}/${file}.gz`);
    }
    progress.update(names.length + 1, `copied ${WASM} and the MNIST files (gzipped)`);
  });
  progress.finish();
  console.error(`wrote ${out}/`);
});
