/**
 * A seeded pseudo-random number generator (xoshiro128**) whose state can be saved and restored,
 * so that a resumed training run draws exactly the numbers an uninterrupted one would.
 *
 * `Math.random` is never used in this package: it cannot be seeded.
 *
 * @module
 */

/** The generator's whole state: four unsigned 32-bit words. */
export type PrngState = readonly [number, number, number, number];

const TWO_POW_32 = 4294967296;

/** SplitMix32 step: spreads one seed over the four state words (xoshiro's recommended seeding). */
function splitMix32(x: number): [number, number] {
  const next = (x + 0x9e3779b9) | 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return [next, (z ^ (z >>> 16)) >>> 0];
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/**
 * xoshiro128** generator.
 *
 * @example
 * ```ts
 * import { Prng } from "./prng.ts";
 * import assert from "node:assert";
 * const a = Prng.fromSeed(7, "init");
 * const b = Prng.fromState(a.state());
 * assert.equal(a.nextU32(), b.nextU32());
 * ```
 */
export class Prng {
  // A Uint32Array wraps every assignment to 32 bits, as the reference C code's uint32_t does.
  #s: Uint32Array;

  private constructor(state: PrngState) {
    if (state.every((w) => w === 0)) {
      throw new RangeError("Cannot use an all-zero xoshiro128** state");
    }
    this.#s = Uint32Array.from(state);
  }

  /**
   * A generator for `seed`, on an independent stream named by `stream` (for example "init" or
   * "crops"), so that adding a consumer of randomness does not shift the numbers of another.
   */
  static fromSeed(seed: number, stream = ""): Prng {
    if (!Number.isSafeInteger(seed) || seed < 0) {
      throw new RangeError(`Cannot seed the generator with ${seed}: expected an integer ≥ 0`);
    }
    let x = (seed % TWO_POW_32) ^ Math.floor(seed / TWO_POW_32);
    for (let i = 0; i < stream.length; i++) {
      x = Math.imul(x ^ stream.charCodeAt(i), 0x01000193);
    }
    const word = () => {
      const [next, out] = splitMix32(x);
      x = next;
      return out;
    };
    return new Prng([word(), word(), word(), word()]);
  }

  /** A generator that continues from a saved {@linkcode Prng.state}. */
  static fromState(state: PrngState): Prng {
    return new Prng(state);
  }

  /** A copy of the current state, for checkpoints. */
  state(): PrngState {
    const s = this.#s;
    return [s[0]!, s[1]!, s[2]!, s[3]!];
  }

  /** The next unsigned 32-bit integer. */
  nextU32(): number {
    const s = this.#s;
    const result = Math.imul(rotl(Math.imul(s[1]!, 5), 7), 9) >>> 0;
    const t = s[1]! << 9;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return result;
  }

  /** A float uniform in [0, 1) with 53 random bits. */
  nextFloat(): number {
    const hi = this.nextU32() >>> 5;
    const lo = this.nextU32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** An integer uniform in [0, n), without modulo bias. */
  nextInt(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > TWO_POW_32) {
      throw new RangeError(`Cannot draw an integer below ${n}: expected 1 ≤ n ≤ 2^32`);
    }
    const limit = TWO_POW_32 - (TWO_POW_32 % n);
    let x = this.nextU32();
    while (x >= limit) x = this.nextU32();
    return x % n;
  }

  /** A standard normal sample (Box–Muller). */
  nextNormal(): number {
    const u = 1 - this.nextFloat();
    const v = this.nextFloat();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Shuffles `items` in place (Fisher–Yates) and returns it. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.nextInt(i + 1);
      [items[i], items[j]] = [items[j]!, items[i]!];
    }
    return items;
  }

  // `count`'s type is written out for `deno publish`: the declarations it checks keep `count`'s
  // default but drop `offset`'s, which leaves `probs.length - offset` possibly undefined.
  /**
   * An index drawn from the discrete distribution `probs[offset .. offset + count)`
   * (non-negative, need not sum exactly to 1: the draw is scaled by their sum).
   */
  nextCategorical(probs: ArrayLike<number>, offset = 0, count: number = probs.length - offset): number {
    let total = 0;
    for (let i = 0; i < count; i++) total += probs[offset + i]!;
    if (!(total > 0) || !Number.isFinite(total)) {
      throw new RangeError(`Cannot sample from a distribution with total mass ${total}`);
    }
    let u = this.nextFloat() * total;
    for (let i = 0; i < count; i++) {
      u -= probs[offset + i]!;
      if (u < 0) return i;
    }
    // Rounding can leave u ≥ 0 after the last bin; return the last bin with non-zero mass.
    for (let i = count - 1; i >= 0; i--) if (probs[offset + i]! > 0) return i;
    return count - 1;
  }
}
