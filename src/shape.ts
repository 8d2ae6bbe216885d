/**
 * The shape a JSON file must have, checked where it is read, so that a damaged or hand-edited
 * file is an error naming the file and the field instead of a TypeError later, or worse, a check
 * that passes because there was nothing to check.
 *
 * @module
 */

import { UserError } from "./cli.ts";

/** What a JSON value must be. */
export type Shape =
  | "number"
  | "string"
  | "boolean"
  | { readonly kind: "object"; readonly fields: Readonly<Record<string, Shape>>; readonly optional: readonly string[] }
  | { readonly kind: "record"; readonly of: Shape; readonly nonEmpty: boolean }
  | { readonly kind: "array"; readonly of: Shape }
  | { readonly kind: "nullable"; readonly of: Shape };

/** An object with these fields (others allowed); `optional` ones may be absent. */
export const fields = (f: Record<string, Shape>, optional: readonly string[] = []): Shape => ({
  kind: "object",
  fields: f,
  optional,
});

/** An object whose every value is `of` (and that has one at least, when `nonEmpty`). */
export const recordOf = (of: Shape, nonEmpty = false): Shape => ({ kind: "record", of, nonEmpty });

/** An array of `of`. */
export const arrayOf = (of: Shape): Shape => ({ kind: "array", of });

/** `of` or null. */
export const nullable = (of: Shape): Shape => ({ kind: "nullable", of });

function describe(shape: Shape): string {
  if (typeof shape === "string") return `a ${shape}`;
  switch (shape.kind) {
    case "object":
      return "an object";
    case "record":
      return shape.nonEmpty ? "a non-empty object" : "an object";
    case "array":
      return "an array";
    case "nullable":
      return `${describe(shape.of)} or null`;
  }
}

type Fail = (at: string, shape: Shape, value: unknown) => never;

function follows(value: unknown, shape: Shape, at: string, fail: Fail): void {
  if (typeof shape === "string") {
    if (typeof value !== shape || (shape === "number" && !Number.isFinite(value))) fail(at, shape, value);
    return;
  }
  const isObject = typeof value === "object" && value !== null && !Array.isArray(value);
  const child = (key: string) => at ? `${at}.${key}` : key;
  switch (shape.kind) {
    case "nullable":
      if (value !== null) follows(value, shape.of, at, (a, s, v) => fail(a, a === at ? shape : s, v));
      return;
    case "array":
      if (!Array.isArray(value)) fail(at, shape, value);
      (value as unknown[]).forEach((v, i) => follows(v, shape.of, `${at}[${i}]`, fail));
      return;
    case "record":
      if (!isObject || (shape.nonEmpty && Object.keys(value).length === 0)) fail(at, shape, value);
      for (const [k, v] of Object.entries(value as object)) follows(v, shape.of, child(JSON.stringify(k)), fail);
      return;
    case "object":
      if (!isObject) fail(at, shape, value);
      for (const [k, s] of Object.entries(shape.fields)) {
        const v = (value as Record<string, unknown>)[k];
        if (v === undefined && shape.optional.includes(k)) continue;
        follows(v, s, child(k), fail);
      }
  }
}

/**
 * Checks that `value`, read from `file`, has `shape`.
 *
 * @returns `value`, as the type the shape describes.
 * @throws {UserError} Naming the file and the first field that does not: `x/eval.json: probes must
 *   be an object, not 5`.
 */
export function checkShape<T>(value: unknown, shape: Shape, file: string): T {
  follows(value, shape, "", (at, s, v) => {
    const found = v === undefined ? "missing" : `not ${JSON.stringify(v).slice(0, 40)}`;
    throw new UserError(`${file}: ${at || "the file"} must be ${describe(s)}, ${found}`);
  });
  return value as T;
}
