/**
 * `node:url` in the demo page's bundles (mapped by ./import_map.json): src/tf.ts turns its own
 * `file:` URL into a folder with `fileURLToPath` only inside a `deno bundle` run by Deno, never in
 * a page served over http. A call would fail here, by name.
 *
 * @module
 */

/** Refuses: a page has no file paths. */
export function fileURLToPath(url: string | URL): never {
  throw new Error(`node:url's fileURLToPath(${url}) is not available in the browser`);
}
