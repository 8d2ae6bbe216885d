import assert from "node:assert/strict";
import { encodeIdx, IdxFormatError, parseIdx } from "../../src/data/idx.ts";

const good = () => encodeIdx({ shape: [2, 2, 3], data: Uint8Array.from({ length: 12 }, (_, i) => i) });

Deno.test("parseIdx() reads shape and payload of a well-formed file", () => {
  const parsed = parseIdx(good(), "good");
  assert.deepEqual(parsed.shape, [2, 2, 3]);
  assert.deepEqual([...parsed.data], Array.from({ length: 12 }, (_, i) => i));
});

Deno.test("parseIdx() names the file and the fault for each kind of corruption", async (t) => {
  const cases: [string, Uint8Array, RegExp][] = [
    ["empty file", new Uint8Array(0), /"f": truncated header \(0 bytes\)/],
    ["header cut inside the dimensions", good().subarray(0, 10), /truncated header \(10 bytes, need 16\)/],
    ["payload cut short", good().subarray(0, 20), /truncated payload \(4 bytes, shape \[2,2,3\] needs 12\)/],
    ["bytes after the payload", new Uint8Array([...good(), 0]), /1 trailing bytes/],
    ["wrong magic", Uint8Array.of(0x12, 0x34, 0x08, 0x01, 0, 0, 0, 0), /bad magic 0x12340801/],
    ["unsupported element type", Uint8Array.of(0, 0, 0x0d, 0x01, 0, 0, 0, 0), /element type 0xd/],
    ["zero dimensions", Uint8Array.of(0, 0, 0x08, 0), /zero dimensions/],
  ];
  for (const [name, bytes, message] of cases) {
    await t.step(
      name,
      () => assert.throws(() => parseIdx(bytes, "f"), (e) => e instanceof IdxFormatError && message.test(e.message)),
    );
  }
});

Deno.test("encodeIdx() round-trips through parseIdx() and rejects a wrong shape", () => {
  const data = new Uint8Array([9, 8, 7]);
  assert.deepEqual([...parseIdx(encodeIdx({ shape: [3], data }), "x").data], [9, 8, 7]);
  assert.throws(() => encodeIdx({ shape: [2], data }), RangeError);
});
