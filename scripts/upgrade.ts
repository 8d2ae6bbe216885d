/**
 * `deno task upgrade`: brings run and study folders written by earlier versions of this package
 * to today's formats (src/study/upgrade.ts).
 *
 * @module
 */

import { parseCli, runMain, UsageError } from "../src/cli.ts";
import { upgradeFolder } from "../src/study/upgrade.ts";

const USAGE = `
Usage: deno task upgrade DIR...

Rewrites, in place, the files of each run or study folder DIR (a sweep's runs too) that an
earlier version of this package wrote in an older format, so that they can still be resumed,
evaluated and reported: fields renamed on 2026-12-07 (nonEmptyMass → concentration, oracleMass →
wholeDigitMass), the estimators exact → exact-own and hybrid → exact-numerator, the P-step
study's config fields that older runs lack (with the values they trained with), a checkpoint's
missing sha256. Values are otherwise kept; files already in today's format are left alone, so
running it again changes nothing. Each folder is locked while it is upgraded.
`;

await runMain(USAGE, async (args) => {
  const { positionals } = parseCli(args, {}, true);
  if (positionals.length === 0) throw new UsageError("give at least one folder to upgrade");
  for (const dir of positionals) {
    const { rewritten, runs } = await upgradeFolder(dir.replace(/\/+$/, ""));
    console.error(`${dir}: ${rewritten.length} files rewritten in ${runs} run folders`);
    for (const path of rewritten) console.log(path);
  }
});
