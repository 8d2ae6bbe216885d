/**
 * Whether the tests also run on WebGPU: when an adapter exists (Mesa's software one included),
 * unless CRL_TAC_TEST_WEBGPU=0. The backends tested against the references are then wasm and
 * webgpu.
 *
 * `deno task test` asks Deno for Vulkan alone (tests/test.env). With its GL backend loaded, a
 * `deno test` whose only test requested an adapter aborted at exit, after passing, in 15 of 400
 * runs with Deno's default backends (the adapter was Vulkan's) and 29 of 400 with GL alone; with
 * Vulkan alone in none of 1,200, and `deno run` in none of 2,700 (Deno 2.9.6, glvnd 1.6, Mesa
 * 22.3). A core dump showed the process exiting inside libEGL's exit handler while another
 * thread, ending, found the heap corrupted. So on a machine with only GL (no
 * `mesa-vulkan-drivers`) the WebGPU checks are skipped unless DENO_WEBGPU_BACKEND=gl is set.
 *
 * @module
 */

import { probeAdapter } from "../src/backend.ts";

const wanted = Deno.env.get("CRL_TAC_TEST_WEBGPU") !== "0";
const adapter = wanted ? await probeAdapter() : null;

/** The backends the fast paths are checked on. */
export const TEST_BACKENDS: readonly string[] = adapter ? ["wasm", "webgpu"] : ["wasm"];

/** Whether that WebGPU adapter is Mesa's software one (llvmpipe or lavapipe). */
export const FALLBACK_ADAPTER: boolean = adapter?.fallback ?? false;

if (wanted && !adapter) {
  const only = Deno.env.get("DENO_WEBGPU_BACKEND");
  const hint = only ? ` with DENO_WEBGPU_BACKEND=${only} (why, and what to install: tests/webgpu.ts)` : "";
  console.error(`no WebGPU adapter${hint}: the WebGPU checks are skipped`);
}
