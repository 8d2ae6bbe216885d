/**
 * `node:crypto` in the demo page's bundles (mapped by ./import_map.json): src/model/params.ts and
 * src/data/dataset.ts hash weights and datasets with `createHash`, which the page never calls.
 * Where nothing calls it the bundler leaves it out; a call would fail here, by name.
 *
 * @module
 */

/** Refuses: the page checks MNIST with the Web Crypto API (src/data/mnist.ts) and hashes nothing else. */
export function createHash(algorithm: string): never {
  throw new Error(`node:crypto's createHash("${algorithm}") is not available in the browser`);
}
