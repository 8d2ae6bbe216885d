/**
 * Where tfjs's stock kernels can train on Mesa's software WebGPU (llvmpipe, lavapipe). Mesa's
 * shader compiler for them (gallivm) ends every loop of a shader invocation after 65,535
 * iterations in all (`LP_MAX_TGSI_LOOP_ITERATIONS`), without an error. tfjs-webgpu's
 * `Conv2DBackpropFilter` gives each filter tap one invocation that loops over batch × output
 * height × output width, so past that budget the filter gradient is a partial sum (the
 * measurements: REPRODUCE.md, "WebGPU correctness"). This package's WebGPU paths loop briefly
 * (tests/kernels/ops_test.ts checks them at the real shapes).
 *
 * @module
 */

import type { TrainConfig } from "../config.ts";
import { CROP_SIDE } from "../data/crops.ts";

/** The longest filter-gradient loop seen right on Mesa: 180 crops × 18 × 18. */
export const MESA_LOOP_ITERATIONS = 58_320;

/** A dataset's image side and the images one pass of P(T|X) takes at that side (src/model/policy.ts). */
export interface PolicyImages {
  /** The image side. */
  readonly side: number;
  /** Images per pass. */
  readonly perPass: number;
}

/**
 * The longest loop of tfjs-webgpu's own filter gradients in one training iteration: the encoder's
 * first convolution over the h-step's crops, and P(T|X)'s full-resolution ones over a pass of
 * images (CRL-TAC only).
 *
 * @param images The dataset's image side, and P(T|X)'s images per pass at that side.
 */
export function stockFilterGradLoop(
  config: Pick<TrainConfig, "method" | "batch" | "crops">,
  images: PolicyImages,
): number {
  const encoder = config.batch * config.crops * (CROP_SIDE - 2) ** 2;
  const policy = config.method === "crltac" ? Math.min(config.batch, images.perPass) * images.side ** 2 : 0;
  return Math.max(encoder, policy);
}

/**
 * Throws when tfjs's stock kernels would train `config` with wrong filter gradients on a Mesa
 * adapter, naming the largest batch that would not.
 */
export function checkStockOnMesa(config: Pick<TrainConfig, "method" | "batch" | "crops">, images: PolicyImages): void {
  const loop = stockFilterGradLoop(config, images);
  if (loop <= MESA_LOOP_ITERATIONS) return;
  let batch = config.batch;
  while (batch > 0 && stockFilterGradLoop({ ...config, batch }, images) > MESA_LOOP_ITERATIONS) batch--;
  const fix = batch > 0 ? `pass --batch ${batch} or less` : "use fewer --crops";
  throw new Error(
    `tfjs's own filter gradients would be wrong here: Mesa's software WebGPU ends a shader's loops after 65,535 ` +
      `iterations and they would loop ${loop.toLocaleString("en")} times at --batch ${config.batch}; ${fix}, ` +
      `or train with this package's kernels (src/kernels/stock_kernels.ts)`,
  );
}
