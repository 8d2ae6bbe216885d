/**
 * The command-line options that override a profile's hyper-parameters, generated from the
 * config's one table (`CONFIG_FIELDS` in src/config.ts): `train` reads them, a study or sweep
 * writes them for the runs it starts, and `--help` lists them.
 *
 * @module
 */

import { choice, int, number, type OptionSpec, type Parse, UsageError } from "../cli.ts";
import {
  CONFIG_FIELDS,
  type ConfigError,
  EXPERIMENT_KEYS,
  FIELD_KEYS,
  type FieldKey,
  fieldRule,
  type FieldValue,
  PROFILE_NAMES,
  SEED_VALUE,
  type TrainOverrides,
} from "../config.ts";

/**
 * How an option's text is read: its syntax (an integer, a number, one of the choices), so that
 * `--epochs x` is refused at once; the range is the config's to check, with the field's rule.
 */
function parserOf(value: FieldValue): Parse<unknown> | null {
  switch (value.kind) {
    case "int":
      return (text, flag) => {
        const n = Number(text);
        // Past 2^53 a number is rounded: `--seed 9007199254740993` would run seed …992.
        if (text.trim() === "" || !Number.isSafeInteger(n)) {
          throw new UsageError(`${flag} ${text}: ${fieldRule(value)}`);
        }
        return n + 0; // -0 reads as 0
      };
    case "number":
      return number();
    case "choice":
      return choice(value.choices);
    case "switch":
      return null;
  }
}

/** The parser of a seed (`--seed`, and each of `--seeds`): an integer in the config's range. */
export function seedParser(): Parse<number> {
  return int(SEED_VALUE.min, "a seed", SEED_VALUE.max);
}

/**
 * A bad configuration in the command line's words: `--batch 1: must be …` when the option was
 * given, the profile's value named otherwise (`batch 4096 (the profile's) must not exceed …`).
 */
export function configErrorText(e: ConfigError, overrides: TrainOverrides): string {
  const key = e.field as FieldKey;
  const given = FIELD_KEYS.includes(key) && overrides[key] !== undefined;
  return given
    ? `--${CONFIG_FIELDS[key].flag} ${e.value}: ${e.rule}`
    : `${e.field} = ${e.value} (from the profile): ${e.rule}`;
}

/** The overrides' option specifications, for {@linkcode parseCli}. */
export function overrideSpecs(): Record<string, OptionSpec> {
  return Object.fromEntries(FIELD_KEYS.map((k) => {
    const { flag, value } = CONFIG_FIELDS[k];
    const parse = parserOf(value);
    return [flag, parse ? { type: "string", parse } : { type: "boolean" }];
  }));
}

/**
 * The overrides' lines of a usage text, each with its default: the option's name, then its help
 * from column `width` + 2, wrapped at `lineWidth` (a name too long for its column gets a line of
 * its own). The experiments' options come last, under a line of their own.
 */
export function overrideUsage(width = 21, lineWidth = 100): string {
  const line = (k: FieldKey) => {
    const { flag, placeholder, help, value } = CONFIG_FIELDS[k];
    const name = value.kind === "switch" ? `--[no-]${flag}` : `--${flag} ${placeholder}`;
    const indent = " ".repeat(width + 2);
    const lines = wrap(`${help}${defaultText(k)}`, lineWidth - indent.length);
    const first = name.length < width ? `  ${name.padEnd(width)}${lines[0]}` : `  ${name}\n${indent}${lines[0]}`;
    return [first, ...lines.slice(1).map((l) => indent + l)].join("\n");
  };
  const experiment = new Set<FieldKey>(EXPERIMENT_KEYS);
  return [
    ...FIELD_KEYS.filter((k) => !experiment.has(k)).map(line),
    "  Experiments beside the paper (the P-step study; the defaults are the paper's method):",
    ...EXPERIMENT_KEYS.map(line),
  ].join("\n");
}

/** `text` in lines of at most `width` characters, broken at spaces. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return [...lines, line];
}

/** ` [smoke 1, medium 3, paper 100]`, ` [8]`, or nothing where the help line says it. */
function defaultText(key: FieldKey): string {
  const d = CONFIG_FIELDS[key].default;
  if (typeof d !== "object" || d === null) return ` [${d}]`;
  if ("byDataset" in d) return "";
  return ` [${PROFILE_NAMES.map((p) => `${p} ${d.byProfile[p]}`).join(", ")}]`;
}

/** The overrides among parsed option values (undefined where not given). */
export function readOverrides(values: Readonly<Record<string, unknown>>): TrainOverrides {
  return Object.fromEntries(FIELD_KEYS.map((k) => [k, values[CONFIG_FIELDS[k].flag]])) as TrainOverrides;
}

/** The command-line arguments that give `overrides` (undefined ones left out). */
export function overrideArgs(overrides: TrainOverrides): string[] {
  return FIELD_KEYS.flatMap((k) => {
    const v = overrides[k];
    const { flag, value } = CONFIG_FIELDS[k];
    if (v === undefined) return [];
    if (value.kind === "switch") return [v ? `--${flag}` : `--no-${flag}`];
    return [`--${flag}`, String(v)];
  });
}
