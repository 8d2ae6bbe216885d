/**
 * PNG output for pictures made of pixels (contact sheets, heat maps), through `fast-png`.
 *
 * @module
 */

import { encode } from "npm:fast-png@8.0.0";

/** A picture: `height × width × channels` bytes, row-major. */
export interface Picture {
  readonly width: number;
  readonly height: number;
  /** 1 (grey) or 3 (RGB). */
  readonly channels: 1 | 3;
  readonly data: Uint8Array;
}

/** Encodes a picture as PNG bytes. */
export function encodePng(picture: Picture): Uint8Array {
  const { width, height, channels, data } = picture;
  if (data.length !== width * height * channels) {
    throw new RangeError(
      `Cannot encode ${data.length} bytes as a ${width}×${height}×${channels} picture`,
    );
  }
  return encode({ width, height, channels, depth: 8, data });
}

/**
 * Lays square grey tiles out in a grid with a `gap`-pixel border of value `background`.
 *
 * @param tiles Each tile's `side²` bytes.
 * @param side Tile side in pixels.
 * @param columns Tiles per row.
 */
export function tileGrid(
  tiles: readonly Uint8Array[],
  side: number,
  columns: number,
  gap = 2,
  background = 96,
): Picture {
  const rows = Math.ceil(tiles.length / columns);
  const width = columns * (side + gap) + gap;
  const height = rows * (side + gap) + gap;
  const data = new Uint8Array(width * height).fill(background);
  tiles.forEach((tile, k) => {
    if (tile.length !== side * side) {
      throw new RangeError(`Cannot tile ${tile.length} bytes as ${side}×${side}`);
    }
    const top = gap + Math.floor(k / columns) * (side + gap);
    const left = gap + (k % columns) * (side + gap);
    for (let r = 0; r < side; r++) {
      data.set(tile.subarray(r * side, (r + 1) * side), (top + r) * width + left);
    }
  });
  return { width, height, channels: 1, data };
}

/**
 * Viridis at 32 evenly spaced points, 0 → 1, as hex RGB: the colormap of Stéfan van der Walt and
 * Nathaniel Smith (matplotlib, CC0), sampled as in vega-scale 8.1.3 `src/palettes.js`. Perceptually
 * uniform and readable in greyscale, so a heat map's brightness tracks its value.
 */
const VIRIDIS_32 = "440154470e61481a6c482575472f7d443a834144873d4e8a39568c35608d31688e2d708e2a788e27818e23888e" +
  "21918d1f988b1fa08822a8842ab07f35b77943bf7154c56866cc5d7ad1518fd744a5db36bcdf27d2e21be9e51afde725";

const VIRIDIS_STOPS: readonly (readonly [number, number, number])[] = Array.from(
  { length: VIRIDIS_32.length / 6 },
  (_, k) => {
    const hex = VIRIDIS_32.slice(6 * k, 6 * k + 6);
    return [0, 2, 4].map((i) => parseInt(hex.slice(i, i + 2), 16)) as [number, number, number];
  },
);

/**
 * The viridis colour of `value`, interpolated linearly between the 32 table entries.
 *
 * @param value Position on the colormap: 0 (dark purple) to 1 (yellow); clamped to [0, 1], and
 *   NaN maps to 0.
 * @returns `[red, green, blue]`, each 0–255.
 *
 * @example
 * ```ts
 * import { viridis } from "./png.ts";
 * import assert from "node:assert";
 * assert.deepEqual(viridis(0), [0x44, 0x01, 0x54]);
 * assert.deepEqual(viridis(1), [0xfd, 0xe7, 0x25]);
 * ```
 */
export function viridis(value: number): [number, number, number] {
  const x = Number.isNaN(value) ? 0 : Math.min(1, Math.max(0, value)) * (VIRIDIS_STOPS.length - 1);
  const k = Math.min(Math.floor(x), VIRIDIS_STOPS.length - 2);
  const f = x - k;
  const a = VIRIDIS_STOPS[k]!, b = VIRIDIS_STOPS[k + 1]!;
  return [0, 1, 2].map((i) => Math.round(a[i]! + f * (b[i]! - a[i]!))) as [number, number, number];
}
