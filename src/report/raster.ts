/**
 * Pictures made of pixels, for the figures that need no axes (the heat maps): an RGB canvas with
 * rectangles, outlines, upscaled grey images, and a 5×7 bitmap font for the few numbers and words
 * they carry; PNG-encoded by ./png.ts.
 *
 * @module
 */

import { viridis } from "./png.ts";

/** An RGB colour, 0–255 per channel. */
export type Rgb = readonly [number, number, number];

/** The background. */
export const WHITE: Rgb = [255, 255, 255];
/** Text. */
export const INK: Rgb = [40, 40, 40];
/** Outlines of the whole-digit crops. */
export const OUTLINE: Rgb = [255, 80, 80];
/** The colour of a heat map's maximum, for outlining the most probable crop. */
export const MAX_COLOUR: Rgb = viridis(1);

/** An RGB picture to draw on. */
export class Canvas {
  readonly data: Uint8Array;
  constructor(readonly width: number, readonly height: number, background: Rgb) {
    this.data = new Uint8Array(width * height * 3);
    for (let i = 0; i < this.data.length; i += 3) this.data.set(background, i);
  }

  fillRect(x: number, y: number, w: number, h: number, colour: Rgb): void {
    const x1 = Math.min(this.width, x + w), y1 = Math.min(this.height, y + h);
    for (let r = Math.max(0, y); r < y1; r++) {
      for (let c = Math.max(0, x); c < x1; c++) this.data.set(colour, 3 * (r * this.width + c));
    }
  }

  /** A square outline of side `size` drawn inside its bounds, `line` pixels thick. */
  strokeRect(x: number, y: number, size: number, line: number, colour: Rgb): void {
    this.strokeBox(x, y, size, size, line, colour);
  }

  /** A `w` × `h` outline drawn inside its bounds, `line` pixels thick. */
  strokeBox(x: number, y: number, w: number, h: number, line: number, colour: Rgb): void {
    this.fillRect(x, y, w, line, colour);
    this.fillRect(x, y + h - line, w, line, colour);
    this.fillRect(x, y, line, h, colour);
    this.fillRect(x + w - line, y, line, h, colour);
  }

  /** Draws a `side²` grey image upscaled by pixel repetition, so no blur is invented. */
  blitGrey(image: Uint8Array, side: number, x: number, y: number, scale: number): void {
    for (let r = 0; r < side; r++) {
      for (let c = 0; c < side; c++) {
        const v = image[r * side + c]!;
        this.fillRect(x + c * scale, y + r * scale, scale, scale, [v, v, v]);
      }
    }
  }

  /** Draws `text` in the bitmap font with its top-left corner at (x, y). */
  text(text: string, x: number, y: number, scale: number, colour: Rgb): void {
    for (const ch of text) {
      const glyph = GLYPHS[ch];
      if (glyph === undefined) throw new RangeError(`Cannot draw character "${ch}": no glyph`);
      glyph.split("/").forEach((row, r) => {
        for (let c = 0; c < GLYPH_W; c++) {
          if (row[c] === "#") this.fillRect(x + c * scale, y + r * scale, scale, scale, colour);
        }
      });
      x += (GLYPH_W + 1) * scale;
    }
  }
}

const GLYPH_W = 5;
/** Height of the bitmap font's glyphs at scale 1, in pixels. */
export const GLYPH_H = 7;

/** Width in pixels of `text` in the bitmap font (without the trailing space). */
export function textWidth(text: string, scale: number): number {
  return ([...text].length * (GLYPH_W + 1) - 1) * scale;
}

/** A 5×7 bitmap font, rows top to bottom, for the few characters the heat-map figure prints. */
const GLYPHS: Readonly<Record<string, string>> = {
  "0": ".###./#...#/#..##/#.#.#/##..#/#...#/.###.",
  "1": "..#../.##../..#../..#../..#../..#../.###.",
  "2": ".###./#...#/....#/...#./..#../.#.../#####",
  "3": "#####/...#./..#../...#./....#/#...#/.###.",
  "4": "...#./..##./.#.#./#..#./#####/...#./...#.",
  "5": "#####/#..../####./....#/....#/#...#/.###.",
  "6": "..##./.#.../#..../####./#...#/#...#/.###.",
  "7": "#####/....#/...#./..#../.#.../.#.../.#...",
  "8": ".###./#...#/#...#/.###./#...#/#...#/.###.",
  "9": ".###./#...#/#...#/.####/....#/...#./.##..",
  ".": "...../...../...../...../...../.##../.##..",
  "-": "...../...../...../.###./...../...../.....",
  " ": "...../...../...../...../...../...../.....",
  "e": "...../...../.###./#...#/#####/#..../.###.",
  "m": "...../...../##.#./#.#.#/#.#.#/#...#/#...#",
  "a": "...../...../.###./....#/.####/#...#/.####",
  "x": "...../...../#...#/.#.#./..#../.#.#./#...#",
  "t": ".#.../.#.../###../.#.../.#.../.#..#/..##.",
  "P": "####./#...#/#...#/####./#..../#..../#....",
  "(": "...#./..#../.#.../.#.../.#.../..#../...#.",
  ")": ".#.../..#../...#./...#./...#./..#../.#...",
  "|": "..#../..#../..#../..#../..#../..#../..#..",
  s: "...../...../.####/#..../.###./....#/####.",
  p: "...../...../####./#...#/####./#..../#....",
  o: "...../...../.###./#...#/#...#/#...#/.###.",
  w: "...../...../#...#/#...#/#.#.#/#.#.#/.#.#.",
  r: "...../...../#.##./##..#/#..../#..../#....",
  c: "...../...../.###./#..../#..../#...#/.###.",
  l: ".##../..#../..#../..#../..#../..#../.###.",
  h: "#..../#..../#.##./##..#/#...#/#...#/#...#",
  f: "..##./.#..#/.#.../###../.#.../.#.../.#...",
  i: "..#../...../.##../..#../..#../..#../.###.",
  n: "...../...../#.##./##..#/#...#/#...#/#...#",
  ":": "...../.##../.##../...../.##../.##../.....",
};

/** Three significant digits: 0.998, 0.0835, 0.00346 (uniform over 289 crops). */
export function formatProbability(p: number): string {
  return p === 0 ? "0" : p.toPrecision(3);
}

/** Refuses a count of pixels, columns or points that is not a positive integer. */
export function checkCount(name: string, value: number): void {
  if (!(Number.isInteger(value) && value >= 1)) {
    throw new RangeError(`Cannot use ${name} ${value}: expected a positive integer`);
  }
}
