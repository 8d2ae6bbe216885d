/**
 * Checkpoints: everything a run needs to continue exactly where it stopped (weights, optimiser
 * moments, generator state, resolved config), in one file written atomically, so that a crash
 * mid-write leaves the previous checkpoint intact.
 *
 * Layout: the 8 bytes `CRLTAC1\n`, a little-endian uint32 header length, a UTF-8 JSON header
 * (padded to a multiple of 4 bytes), then float32 arrays back to back, in header order. The
 * header holds the payload's sha256, checked on load: damaged weights (NaN or finite garbage)
 * would otherwise resume into a healthy-looking run. Checkpoints written before the checksum
 * existed load unchecked.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { UserError } from "../cli.ts";
import type { TrainConfig } from "../config.ts";
import { writeFileAtomic } from "../files.ts";
import type { PrngState } from "../data/prng.ts";
import type { AdamState } from "./adam.ts";

/** A saved training state. */
export interface Checkpoint {
  /** The run's resolved config; a resume must match it. */
  readonly config: TrainConfig;
  /** Epochs completed. */
  readonly epoch: number;
  /** Iterations completed. */
  readonly step: number;
  /** Generator state after the last completed epoch. */
  readonly rng: PrngState;
  /** Training time so far, across resumes. */
  readonly elapsedMs: number;
  /** The encoder's weights, one array per parameter in the order of its specs. */
  readonly encoder: Float32Array[];
  /** The encoder's optimiser state. */
  readonly encoderAdam: AdamState;
  /** Null for SimCLR (P(T|X) fixed uniform). */
  readonly policy: Float32Array[] | null;
  /** P(T|X)'s optimiser state; null where P(T|X) is not learned. */
  readonly policyAdam: AdamState | null;
  /**
   * Where the epoch under way stands, in a checkpoint written part-way through one (training
   * stopped by Ctrl-C): the generator's state when it began (its order is drawn from it) and its
   * iterations completed. Absent at an epoch's end.
   */
  readonly epochStart?: EpochStart;
}

/** The start of an epoch under way, and how far it got. */
export interface EpochStart {
  /** The generator's state when the epoch began. */
  readonly rng: PrngState;
  /** Its iterations completed. */
  readonly iterations: number;
}

/** The first bytes of a checkpoint. */
export const CHECKPOINT_MAGIC = new TextEncoder().encode("CRLTAC1\n");

/** The error for a checkpoint file that cannot be read: the user's to remove or restore (exit 2). */
export class CheckpointError extends UserError {
  constructor(message: string) {
    super(message);
    this.name = "CheckpointError";
  }
}

interface Header {
  config: TrainConfig;
  epoch: number;
  step: number;
  rng: PrngState;
  elapsedMs: number;
  encoderAdamStep: number;
  policyAdamStep: number | null;
  epochStart?: EpochStart;
}

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

const GROUPS = ["encoder", "encoderAdamM", "encoderAdamV", "policy", "policyAdamM", "policyAdamV"] as const;

function groupsOf(c: Checkpoint): Record<(typeof GROUPS)[number], Float32Array[]> {
  return {
    encoder: c.encoder,
    encoderAdamM: c.encoderAdam.m,
    encoderAdamV: c.encoderAdam.v,
    policy: c.policy ?? [],
    policyAdamM: c.policyAdam?.m ?? [],
    policyAdamV: c.policyAdam?.v ?? [],
  };
}

/** Encodes a checkpoint as bytes. */
export function encodeCheckpoint(c: Checkpoint): Uint8Array {
  const groups = groupsOf(c);
  return encodeFloatFile(CHECKPOINT_MAGIC, {
    config: c.config,
    epoch: c.epoch,
    step: c.step,
    rng: c.rng,
    elapsedMs: c.elapsedMs,
    encoderAdamStep: c.encoderAdam.step,
    policyAdamStep: c.policyAdam?.step ?? null,
    ...(c.epochStart ? { epochStart: c.epochStart } : {}),
  }, GROUPS.map((g) => [g, groups[g]]));
}

/**
 * The layout of checkpoints and run snapshots: `magic` (8 bytes), a little-endian uint32 header
 * length, the JSON header (`fields`, then the array lengths by group and the payload's sha256),
 * padded to a multiple of 4 bytes, then the groups' float32 arrays back to back.
 */
export function encodeFloatFile(
  magic: Uint8Array,
  fields: Record<string, unknown>,
  groups: readonly (readonly [string, readonly Float32Array[]])[],
): Uint8Array {
  const arrays = groups.flatMap(([, a]) => a);
  const payload = new Uint8Array(arrays.reduce((n, a) => n + a.byteLength, 0));
  let offset = 0;
  for (const a of arrays) {
    payload.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), offset);
    offset += a.byteLength;
  }
  const header = {
    ...fields,
    groups: Object.fromEntries(groups.map(([g, a]) => [g, a.map((x) => x.length)])),
    payloadSha256: sha256(payload),
  };
  return frame(magic, padded(JSON.stringify(header)), payload);
}

/** A header's JSON as bytes, padded with spaces to a multiple of 4 so that the arrays after it are aligned. */
function padded(text: string): Uint8Array {
  const json = new TextEncoder().encode(text);
  const length = Math.ceil(json.length / 4) * 4;
  return length === json.length ? json : new Uint8Array([...json, ...new Array(length - json.length).fill(0x20)]);
}

/** `magic`, the header's length, the header and the payload, back to back. */
function frame(magic: Uint8Array, json: Uint8Array, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(magic.length + 4 + json.length + payload.length);
  out.set(magic, 0);
  new DataView(out.buffer).setUint32(magic.length, json.length, true);
  out.set(json, magic.length + 4);
  out.set(payload, magic.length + 4 + json.length);
  return out;
}

/**
 * The bytes of a file in {@linkcode encodeFloatFile}'s layout (`magic` first) with its header's
 * fields replaced by what `f` makes of them, the arrays and their sha256 unchanged; a header
 * without the sha256 gets it. With `f` changing nothing, the same bytes.
 *
 * @throws What `fail` makes, if the bytes do not start with a complete header.
 */
export function rewriteFloatFileHeader(
  bytes: Uint8Array,
  magic: Uint8Array,
  f: (fields: Record<string, unknown>) => Record<string, unknown>,
  fail: (why: string) => Error,
): Uint8Array {
  const { header, payloadStart } = decodeHeader<Record<string, unknown>>(bytes, "", magic, fail);
  const { groups, payloadSha256, ...fields } = header;
  const payload = bytes.subarray(payloadStart);
  const json = padded(JSON.stringify({ ...f(fields), groups, payloadSha256: payloadSha256 ?? sha256(payload) }));
  return frame(magic, json, payload);
}

/** The error for the checkpoint file `name` that cannot be read, and why. */
function unreadable(name: string, why: string): CheckpointError {
  return new CheckpointError(`Cannot read checkpoint "${name}": ${why}`);
}

/**
 * Decodes the header at the start of `bytes`, which may stop anywhere after it.
 *
 * @throws {CheckpointError} If the bytes do not start with a complete header.
 */
function decodeHeader<T>(
  bytes: Uint8Array,
  name: string,
  magic: Uint8Array = CHECKPOINT_MAGIC,
  fail = (what: string) => unreadable(name, what),
): { header: T; payloadStart: number } {
  if (bytes.length < magic.length + 4 || !magic.every((b, i) => bytes[i] === b)) {
    throw fail(`not a crl-tac ${magic === CHECKPOINT_MAGIC ? "checkpoint" : "file of this kind"} (bad magic)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(magic.length, true);
  const start = magic.length + 4;
  if (start + headerLength > bytes.length) throw fail("truncated header");
  try {
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(start, start + headerLength)));
    return { header, payloadStart: start + headerLength };
  } catch (e) {
    throw fail(`bad header (${(e as Error).message})`);
  }
}

/**
 * Decodes a file of {@linkcode encodeFloatFile}'s layout: its header and its arrays by group.
 *
 * @param fail Makes the error for a file that cannot be read, from the reason.
 * @throws What `fail` makes, if the bytes are not a complete, undamaged such file.
 */
export function decodeFloatFile<T>(
  bytes: Uint8Array,
  name: string,
  magic: Uint8Array,
  fail: (why: string) => Error,
): { header: T; groups: Record<string, Float32Array[]> } {
  const { header, payloadStart } = decodeHeader<T & { groups: Record<string, number[]>; payloadSha256?: string }>(
    bytes,
    name,
    magic,
    fail,
  );
  let offset = payloadStart;
  const groups: Record<string, Float32Array[]> = {};
  for (const [group, lengths] of Object.entries(header.groups)) {
    groups[group] = lengths.map((length) => {
      const end = offset + 4 * length;
      if (end > bytes.length) throw fail(`truncated payload in ${group}`);
      const a = new Float32Array(bytes.slice(offset, end).buffer);
      offset = end;
      return a;
    });
  }
  if (offset !== bytes.length) throw fail(`${bytes.length - offset} trailing bytes`);
  if (header.payloadSha256 === undefined) throw fail("it has no sha256 of its contents to check them by");
  if (sha256(bytes.subarray(payloadStart)) !== header.payloadSha256) {
    throw fail(
      `its ${
        magic === CHECKPOINT_MAGIC ? "weights and optimiser state" : "contents"
      } do not match their sha256 (the file is damaged)`,
    );
  }
  return { header, groups };
}

/**
 * Decodes a checkpoint.
 *
 * @param name The file name, for error messages.
 * @throws {CheckpointError} If the bytes are not a complete checkpoint.
 */
export function decodeCheckpoint(bytes: Uint8Array, name: string): Checkpoint {
  const { header, groups } = decodeFloatFile<Header>(bytes, name, CHECKPOINT_MAGIC, (why) => unreadable(name, why));
  const [encoder, em, ev, policy, pm, pv] = GROUPS.map((g) => groups[g] ?? []);
  const hasPolicy = header.policyAdamStep !== null;
  return {
    config: header.config,
    epoch: header.epoch,
    step: header.step,
    rng: header.rng,
    elapsedMs: header.elapsedMs,
    encoder: encoder!,
    encoderAdam: { step: header.encoderAdamStep, m: em!, v: ev! },
    policy: hasPolicy ? policy! : null,
    policyAdam: hasPolicy ? { step: header.policyAdamStep!, m: pm!, v: pv! } : null,
    ...(header.epochStart ? { epochStart: header.epochStart } : {}),
  };
}

/** Saves a checkpoint atomically. */
export async function saveCheckpoint(path: string, c: Checkpoint): Promise<void> {
  await writeFileAtomic(path, encodeCheckpoint(c));
}

/** Loads a checkpoint, or returns null when the file does not exist. */
export async function loadCheckpoint(path: string): Promise<Checkpoint | null> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
  return decodeCheckpoint(bytes, path);
}

/**
 * The config a checkpoint was saved with, read from its header alone (a shifted CRL-TAC
 * checkpoint's payload, with Adam's moments, is tens of MB), or null when the file does not
 * exist. The payload is neither read nor checked: resuming does that.
 *
 * @throws {CheckpointError} If the file does not start with a complete header.
 */
export async function loadCheckpointConfig(path: string): Promise<TrainConfig | null> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
  try {
    const prefix = await readUpTo(file, CHECKPOINT_MAGIC.length + 4);
    // A damaged length must not allocate more than the file holds.
    const headerLength = prefix.length === CHECKPOINT_MAGIC.length + 4
      ? Math.min(new DataView(prefix.buffer).getUint32(CHECKPOINT_MAGIC.length, true), (await file.stat()).size)
      : 0;
    const bytes = new Uint8Array([...prefix, ...await readUpTo(file, headerLength)]);
    return decodeHeader<Header>(bytes, path).header.config;
  } finally {
    file.close();
  }
}

/**
 * Whether `path` is a checkpoint this package wrote, by its first bytes (damaged or not: loading
 * it says which); false where there is no such file.
 */
export async function isCheckpointFile(path: string): Promise<boolean> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path);
  } catch {
    return false;
  }
  try {
    const prefix = await readUpTo(file, CHECKPOINT_MAGIC.length);
    return prefix.length === CHECKPOINT_MAGIC.length && prefix.every((b, i) => b === CHECKPOINT_MAGIC[i]);
  } finally {
    file.close();
  }
}

/** The next `length` bytes of `file`, fewer at its end. */
async function readUpTo(file: Deno.FsFile, length: number): Promise<Uint8Array> {
  const bytes = new Uint8Array(length);
  let filled = 0;
  while (filled < length) {
    const n = await file.read(bytes.subarray(filled));
    if (n === null) break;
    filled += n;
  }
  return bytes.subarray(0, filled);
}
