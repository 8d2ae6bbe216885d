/**
 * The one place tfjs is imported, with full `npm:` specifiers so that the package also works when
 * imported from a URL (an import map in deno.json would not apply to a remote importer).
 * `@tensorflow/tfjs` (not tfjs-core alone) registers the gradients; the wasm and webgpu backends
 * register themselves on import.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import * as tf from "npm:@tensorflow/tfjs@4.22.0";
import "npm:@tensorflow/tfjs-backend-wasm@4.22.0";
import "npm:@tensorflow/tfjs-backend-webgpu@4.22.0";

// Inside a `deno bundle` (how a script travels to a machine without the npm registry, `deno task bundle`)
// the wasm backend looks for its binary in `__dirname`, which a bundle leaves undefined: there it is
// the bundle's own folder, where `tfjs-backend-wasm-simd.wasm` is copied beside the bundle.
const bundled = import.meta.url.startsWith("file:") && !import.meta.url.endsWith("/src/tf.ts");
if (bundled) (globalThis as { __dirname?: string }).__dirname ??= fileURLToPath(new URL(".", import.meta.url));

// PROD silences tfjs's advice to install tfjs-node, which does not apply under Deno.
tf.env().set("PROD", true);
// Without a backend set, tfjs would pick webgpu (the highest priority registered) and fail on
// the first op until it is awaited. wasm works everywhere; useBackend() switches to a GPU.
await tf.setBackend("wasm");

export { tf };
export { Rank } from "npm:@tensorflow/tfjs@4.22.0";
export type {
  GradSaveFunc,
  Scalar,
  Tensor,
  Tensor1D,
  Tensor2D,
  Tensor3D,
  Tensor4D,
  TensorContainer,
  Variable,
} from "npm:@tensorflow/tfjs@4.22.0";
