/**
 * Reading and writing idx files, the format MNIST ships in: a 4-byte magic (two zero bytes, a
 * type code, the number of dimensions), one big-endian uint32 per dimension, then the payload.
 *
 * @module
 */

/** An idx array of unsigned bytes (type code 0x08), the only type MNIST uses. */
export interface IdxArray {
  /** Size of each dimension, outermost first. */
  readonly shape: readonly number[];
  /** The payload, row-major. */
  readonly data: Uint8Array;
}

const UBYTE = 0x08;

/** The error every malformed idx file raises; `name` says which file. */
export class IdxFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "IdxFormatError";
  }
}

/**
 * Parses an idx file of unsigned bytes.
 *
 * @param bytes The whole file.
 * @param name The file's name, quoted in error messages.
 * @returns The shape and a view of the payload (no copy).
 * @throws {IdxFormatError} On a bad magic, an unsupported type, or a payload of the wrong length.
 *
 * @example
 * ```ts
 * import { encodeIdx, parseIdx } from "./idx.ts";
 * import assert from "node:assert";
 * const file = encodeIdx({ shape: [2, 3], data: new Uint8Array([1, 2, 3, 4, 5, 6]) });
 * assert.deepEqual(parseIdx(file, "example").shape, [2, 3]);
 * ```
 */
export function parseIdx(bytes: Uint8Array, name: string): IdxArray {
  const fail = (what: string) => new IdxFormatError(`Cannot parse idx file "${name}": ${what}`);
  if (bytes.length < 4) throw fail(`truncated header (${bytes.length} bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw fail(`bad magic 0x${magic.toString(16).padStart(8, "0")}`);
  }
  if (bytes[2] !== UBYTE) {
    throw fail(`unsupported element type 0x${bytes[2]!.toString(16)} (expected 0x08, ubyte)`);
  }
  const rank = bytes[3]!;
  if (rank === 0) throw fail("zero dimensions");
  const headerLength = 4 + 4 * rank;
  if (bytes.length < headerLength) {
    throw fail(`truncated header (${bytes.length} bytes, need ${headerLength})`);
  }
  const shape = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i));
  const expected = shape.reduce((a, b) => a * b, 1);
  const actual = bytes.length - headerLength;
  if (actual < expected) {
    throw fail(`truncated payload (${actual} bytes, shape [${shape}] needs ${expected})`);
  }
  if (actual > expected) {
    throw fail(`${actual - expected} trailing bytes after the payload of shape [${shape}]`);
  }
  return { shape, data: bytes.subarray(headerLength) };
}

/**
 * Encodes an array of unsigned bytes as an idx file.
 *
 * @param array The shape and row-major payload.
 * @returns The file's bytes.
 */
export function encodeIdx(array: IdxArray): Uint8Array {
  const size = array.shape.reduce((a, b) => a * b, 1);
  if (size !== array.data.length) {
    throw new RangeError(`Cannot encode ${array.data.length} bytes as shape [${array.shape}]`);
  }
  const headerLength = 4 + 4 * array.shape.length;
  const out = new Uint8Array(headerLength + size);
  const view = new DataView(out.buffer);
  view.setUint32(0, (UBYTE << 8) | array.shape.length);
  array.shape.forEach((d, i) => view.setUint32(4 + 4 * i, d));
  out.set(array.data, headerLength);
  return out;
}
