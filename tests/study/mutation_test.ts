import assert from "node:assert/strict";
import { inTempDir } from "../temp_dirs.ts";
import { runDeno } from "../subprocess.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

async function copy(from: string, to: string) {
  await Deno.mkdir(to, { recursive: true });
  for await (const e of Deno.readDir(from)) {
    if (e.isDirectory) await copy(`${from}/${e.name}`, `${to}/${e.name}`);
    else await Deno.copyFile(`${from}/${e.name}`, `${to}/${e.name}`);
  }
}

Deno.test("a sign flip in the h-step objective makes the smoke study fail its fixture (exit code 1)", () =>
  inTempDir(async (dir) => {
    for (const d of ["src", "scripts", "fixtures"]) await copy(`${ROOT}${d}`, `${dir}/${d}`);
    for (const f of ["deno.json", "deno.lock", "mod.ts"]) await Deno.copyFile(`${ROOT}${f}`, `${dir}/${f}`);
    const objective = `${dir}/src/objective/hstep.ts`;
    const source = await Deno.readTextFile(objective);
    const broken = source.replace(
      "return tf.neg(tf.mean(tf.sub(positive, negative)));",
      "return tf.mean(tf.sub(positive, negative));",
    );
    assert.notEqual(broken, source, "the mutation must apply");
    await Deno.writeTextFile(objective, broken);
    // The cheapest run of the study: SimCLR on original MNIST, seed 0, checked against its
    // per-seed values in fixtures/smoke.json.
    const out = await runDeno(
      ["task", "reproduce", "--profile", "smoke", "--only", "original/simclr/0", "--out", `${dir}/results`],
      dir,
    );
    const text = out.stdout + out.stderr;
    assert.equal(out.code, 1, text);
    assert.match(text, /Checked comparisons that fail: .*original\/simclr\//);
  }));
