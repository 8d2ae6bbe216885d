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
export type { GradSaveFunc, Rank, Tensor1D, TensorContainer } from "npm:@tensorflow/tfjs@4.22.0";

// The tensor types of the public API (mod.ts), as aliases with their own docs: re-exported as they
// are, they would bring tfjs's declarations, undocumented members and all, into this package's docs.

/** A tfjs 4.22.0 tensor of any rank. */
export type Tensor = tf.Tensor;
/** A tfjs tensor of rank 0: one number, such as a loss. */
export type Scalar = tf.Scalar;
/** A tfjs tensor of rank 2, such as `[batch, features]`. */
export type Tensor2D = tf.Tensor2D;
/** A tfjs tensor of rank 3. */
export type Tensor3D = tf.Tensor3D;
/** A tfjs tensor of rank 4: images as `[batch, height, width, channels]`. */
export type Tensor4D = tf.Tensor4D;
/** A trainable tfjs tensor: a network's weights. */
export type Variable = tf.Variable;
