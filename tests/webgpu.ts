/**
 * Whether the tests also run on WebGPU: when an adapter exists (Mesa's software one included),
 * unless CRL_TAC_TEST_WEBGPU=0. The backends tested against the references are then wasm and
 * webgpu.
 */
const wanted = Deno.env.get("CRL_TAC_TEST_WEBGPU") !== "0";
const adapter = wanted ? await (navigator as { gpu?: GPU }).gpu?.requestAdapter().catch(() => null) : null;

/** The backends the fast paths are checked on. */
export const TEST_BACKENDS: readonly string[] = adapter ? ["wasm", "webgpu"] : ["wasm"];

if (wanted && !adapter) console.error("no WebGPU adapter: the WebGPU checks are skipped");
