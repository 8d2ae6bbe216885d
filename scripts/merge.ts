/**
 * `deno task merge`: combines the output folders of study shards into one report.
 *
 * @module
 */

import { parseCli, runMain, UsageError, UserError } from "../src/cli.ts";
import type { ProfileName } from "../src/config.ts";
import type { RawResult } from "../src/eval/evaluate.ts";
import { checkInputFolder, exists, type FolderKind, writeFolderAtomic, writeTextAtomic } from "../src/files.ts";
import { finishStudy } from "../src/report/finish.ts";
import { parseRunName } from "../src/study/plan.ts";
import { readRaw, readRun, type RunRecord } from "../src/study/results.ts";

const USAGE = `
Usage: deno task merge --out DIR [--update-fixtures] SHARD_DIR...

Combines the folders written by \`deno task reproduce --shard i/n --out SHARD_DIR\` into DIR:
copies each run's results (eval.json, summary.json, landscape.json, log.jsonl,
policy-snapshots.jsonl, figures/) and the raw baselines (from whichever shard holds them), then
compares and reports as reproduce does (same table, REPORT.md, results.json, exit code). Shards may
also be folders of \`reproduce --only\`; each must hold a finished run. DIR must be new, empty or
a merge written there before, which is replaced.

  --update-fixtures    rewrite fixtures/<profile>.json from the merged results, as reproduce does
`;

async function copyTree(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const entry of Deno.readDir(from)) {
    if (entry.isDirectory) await copyTree(`${from}/${entry.name}`, `${to}/${entry.name}`);
    else await Deno.copyFile(`${from}/${entry.name}`, `${to}/${entry.name}`);
  }
}

/** A merged study's folder, written whole. */
const MERGED_FOLDER: FolderKind = { name: "merged study", whole: true };

/** A run of a shard, read and checked. */
interface ShardRun {
  readonly shard: string;
  readonly record: RunRecord;
}

/**
 * Every run and raw baseline of the shards, each file checked, before anything is written.
 *
 * @throws {UserError} When a shard is missing or holds no finished run, a run appears twice, or
 *   the shards mix profiles.
 */
async function readShards(shards: readonly string[]) {
  const runs: ShardRun[] = [];
  const raws = new Map<string, RawResult>();
  const profiles = new Set<ProfileName>();
  for (const shard of shards) {
    await checkInputFolder(shard, "shard folder");
    const before = runs.length;
    for await (const entry of Deno.readDir(shard)) {
      if (/^raw-(shifted|original)\.json$/.test(entry.name)) {
        const r = await readRaw(`${shard}/${entry.name}`);
        if (r) raws.set(r.data, r);
      }
      const spec = entry.isDirectory ? parseRunName(entry.name) : null;
      if (!spec) continue;
      const record = await readRun(`${shard}/${entry.name}`, entry.name, spec);
      if (!record.summary && !record.eval) continue;
      const other = runs.find((r) => r.record.name === entry.name);
      if (other) throw new UserError(`Run ${entry.name} appears in more than one shard: ${other.shard} and ${shard}`);
      if (record.summary) profiles.add(record.summary.config.profile);
      runs.push({ shard, record });
    }
    // A mistyped or unfinished shard would otherwise drop its runs from the report unsaid.
    if (runs.length === before) throw new UserError(`Cannot merge the shard folder ${shard}: it holds no finished run`);
  }
  if (profiles.size !== 1) throw new UserError(`The shards mix profiles: ${[...profiles].join(", ")}`);
  return { runs, raws, profile: [...profiles][0]! };
}

await runMain(USAGE, async (args) => {
  const o = parseCli(args, { out: { type: "string", required: true }, "update-fixtures": { type: "boolean" } }, true);
  const shards = o.positionals;
  if (shards.length === 0) throw new UsageError("name at least one shard folder after --out DIR");
  const out = o.values.out.replace(/\/+$/, "");
  const { runs, raws, profile } = await readShards(shards);
  // Directory order differs between machines; the report lists runs in one order everywhere.
  const records = runs.map((r) => r.record).sort((a, b) => a.name.localeCompare(b.name, "en", { numeric: true }));
  // Written to a folder beside --out and renamed to it once complete: a merge that fails leaves
  // nothing behind.
  const comparison = await writeFolderAtomic(out, MERGED_FOLDER, async (stage) => {
    for (const { shard, record: { name } } of runs) {
      await Deno.mkdir(`${stage}/${name}`, { recursive: true });
      for (const file of ["eval.json", "summary.json", "landscape.json", "log.jsonl", "policy-snapshots.jsonl"]) {
        if (await exists(`${shard}/${name}/${file}`)) {
          await Deno.copyFile(`${shard}/${name}/${file}`, `${stage}/${name}/${file}`);
        }
      }
      if (await exists(`${shard}/${name}/figures`)) {
        await copyTree(`${shard}/${name}/figures`, `${stage}/${name}/figures`);
      }
    }
    for (const r of raws.values()) {
      await writeTextAtomic(`${stage}/raw-${r.data}.json`, JSON.stringify(r, null, 2) + "\n");
    }
    return await finishStudy({
      profile,
      out: stage,
      records,
      raws: [...raws.values()],
      time: {
        ms: records.reduce((ms, r) => ms + (r.summary?.trainMs ?? 0) + (r.eval?.ms ?? 0) + (r.landscape?.ms ?? 0), 0),
        kind: "summed",
      },
      command: `deno task merge ${args.join(" ")}`,
      updateFixtures: o.values["update-fixtures"] ?? false,
    });
  });
  console.error(`merged ${records.length} runs into ${out}/ (REPORT.md, results.json)`);
  return comparison.failures.length === 0 ? 0 : 1;
});
