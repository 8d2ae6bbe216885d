/**
 * The end of a study, shared by `reproduce` and `merge`: aggregate the runs, compare them with
 * the fixtures, print the table, write the report, and (on request) refresh the own fixture.
 *
 * @module
 */

import { type ProfileName, PROFILES } from "../config.ts";
import type { RawResult } from "../eval/evaluate.ts";
import { writeTextAtomic } from "../files.ts";
import {
  compare,
  type Comparison,
  OWN_FIXTURE_SHAPE,
  type OwnFixture,
  PAPER_FIXTURE_SHAPE,
  type PaperFixture,
  type Tolerances,
} from "../study/compare.ts";
import { aggregate, readJson, type RunRecord } from "../study/results.ts";
import { comparisonText, environment, type StudyTime, writeReport } from "./report.ts";

const FIXTURES = new URL("../../fixtures/", import.meta.url);

/** The own-fixture file of a profile: `<profile>.json`, but `paper-results.json` (paper.json holds the paper's numbers). */
export function ownFixtureUrl(profile: ProfileName): URL {
  return new URL(profile === "paper" ? "paper-results.json" : `${profile}.json`, FIXTURES);
}

/**
 * Tolerances of a new own fixture. Runs on the wasm backend are bit-identical across machines
 * and processes, so these only need to absorb other backends (WebGPU, the cpu backend) and
 * float differences between CPUs; a broken objective moves these numbers by far more.
 */
export const DEFAULT_TOLERANCES: Tolerances = { accuracy: 0.03, concentration: 0.05, uniformity: 0.05 };

/** Options of {@linkcode finishStudy}. */
export interface FinishOptions {
  readonly profile: ProfileName;
  readonly out: string;
  readonly records: readonly RunRecord[];
  readonly raws: readonly RawResult[];
  readonly time: StudyTime;
  readonly command: string;
  /** Rewrite the profile's own fixture from these results (claims and tolerances are kept). */
  readonly updateFixtures: boolean;
}

/** Aggregates, compares, prints and writes the report; returns the comparison. */
export async function finishStudy(o: FinishOptions): Promise<Comparison> {
  const cells = aggregate(o.records, o.raws);
  const paper = await readJson<PaperFixture>(new URL("paper.json", FIXTURES), PAPER_FIXTURE_SHAPE);
  if (!paper) throw new Error("fixtures/paper.json is missing");
  const ownUrl = ownFixtureUrl(o.profile);
  let own = await readJson<OwnFixture>(ownUrl, OWN_FIXTURE_SHAPE);
  if (o.updateFixtures) {
    own = {
      profile: o.profile,
      note: `Written by \`${o.command}\`; review the diff before committing.`,
      tolerances: own?.tolerances ?? DEFAULT_TOLERANCES,
      cells,
      claims: own?.claims ?? {},
    };
    await writeTextAtomic(ownUrl.pathname, JSON.stringify(own, null, 2) + "\n");
    console.error(`updated ${ownUrl.pathname}`);
  }
  const comparison = compare(o.profile, cells, paper, own);
  const first = o.records.find((r) => r.summary)?.summary;
  const env = await environment(
    first?.backend.backend ?? "none",
    first?.backend.adapter ?? null,
    first?.backend.versions ?? { deno: Deno.version.deno },
  );
  await writeReport(o.out, {
    profile: PROFILES[o.profile],
    comparison,
    records: o.records,
    raws: o.raws,
    env,
    time: o.time,
    command: o.command,
  });
  console.log(comparisonText(comparison));
  return comparison;
}
