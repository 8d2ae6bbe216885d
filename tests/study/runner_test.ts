import assert from "node:assert/strict";
import { childEnv } from "../../src/study/runner.ts";

Deno.test("study processes keep Mesa's shader cache in the study folder unless the user chose one", async () => {
  const out = await Deno.makeTempDir();
  try {
    const env = childEnv(out, null);
    assert.equal(env.MESA_SHADER_CACHE_DIR, `${Deno.realPathSync(out)}/.mesa-shader-cache`);
    assert.equal(env.NO_COLOR, "1");
    assert.equal(childEnv(out, "/var/cache/mesa").MESA_SHADER_CACHE_DIR, "/var/cache/mesa");
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
