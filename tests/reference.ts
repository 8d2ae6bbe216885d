/**
 * Plain-loop float64 references for the tensor code: the definitions, written out, against which
 * every backend and fast gradient path is checked.
 */

/** Shape of an NHWC input and a [k,k,C,O] filter for a valid convolution. */
export interface ConvShape {
  n: number;
  h: number;
  c: number;
  o: number;
  k: number;
  stride: number;
}

/** Output side of a valid convolution. */
export function convOut(s: ConvShape): number {
  return Math.floor((s.h - s.k) / s.stride) + 1;
}

/** y = conv(x, w), valid, square images. */
export function conv2dRef(s: ConvShape, x: Float32Array, w: Float32Array): Float64Array {
  const ho = convOut(s);
  const y = new Float64Array(s.n * ho * ho * s.o);
  for (let n = 0; n < s.n; n++) {
    for (let i = 0; i < ho; i++) {
      for (let j = 0; j < ho; j++) {
        const out = ((n * ho + i) * ho + j) * s.o;
        for (let a = 0; a < s.k; a++) {
          for (let b = 0; b < s.k; b++) {
            const xi = ((n * s.h + s.stride * i + a) * s.h + s.stride * j + b) * s.c;
            for (let c = 0; c < s.c; c++) {
              const xv = x[xi + c]!;
              const wi = ((a * s.k + b) * s.c + c) * s.o;
              for (let o = 0; o < s.o; o++) y[out + o]! += xv * w[wi + o]!;
            }
          }
        }
      }
    }
  }
  return y;
}

/** Gradients of Σ dy · conv(x, w) with respect to x and w. */
export function conv2dGradsRef(
  s: ConvShape,
  x: Float32Array,
  w: Float32Array,
  dy: Float32Array,
): { dx: Float64Array; dw: Float64Array } {
  const ho = convOut(s);
  const dx = new Float64Array(x.length);
  const dw = new Float64Array(w.length);
  for (let n = 0; n < s.n; n++) {
    for (let i = 0; i < ho; i++) {
      for (let j = 0; j < ho; j++) {
        const out = ((n * ho + i) * ho + j) * s.o;
        for (let a = 0; a < s.k; a++) {
          for (let b = 0; b < s.k; b++) {
            const xi = ((n * s.h + s.stride * i + a) * s.h + s.stride * j + b) * s.c;
            for (let c = 0; c < s.c; c++) {
              const wi = ((a * s.k + b) * s.c + c) * s.o;
              const xv = x[xi + c]!;
              let acc = 0;
              for (let o = 0; o < s.o; o++) {
                const g = dy[out + o]!;
                dw[wi + o]! += xv * g;
                acc += w[wi + o]! * g;
              }
              dx[xi + c]! += acc;
            }
          }
        }
      }
    }
  }
  return { dx, dw };
}

/** `a · b` in float64 for row-major `a` `[m,k]` and `b` `[k,n]`. */
export function matMulRef(a: Float32Array, b: Float32Array, m: number, k: number, n: number): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let p = 0; p < k; p++) {
      const ai = a[i * k + p]!;
      for (let j = 0; j < n; j++) out[i * n + j]! += ai * b[p * n + j]!;
    }
  }
  return out;
}
