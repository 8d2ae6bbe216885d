/**
 * `deno task demo` as a user meets it: the server, then the page in a real Chromium, Debian's,
 * driven over the DevTools protocol by puppeteer-core (which downloads no browser of its own).
 * Without Chromium (`apt-get install chromium`; .ci/run installs it) the browser step is skipped,
 * with a message. Headless Chromium with `--disable-gpu` offers no WebGPU adapter, so the page
 * trains on tfjs's wasm backend, where its numbers must be those of `deno task train`.
 */

import assert from "node:assert/strict";
import puppeteer, { type Browser } from "npm:puppeteer-core@25.16.0";
import { resolveConfig } from "../../src/config.ts";
import { MNIST_FILES, sha256Hex } from "../../src/data/mnist.ts";
import { exists } from "../../src/files.ts";
import type { StepRecord } from "../../src/train/session.ts";
import { train } from "../../src/train/trainer.ts";
import { assertClose } from "../helpers.ts";
import { inTempDir } from "../temp_dirs.ts";
import { runDeno, scriptPath } from "../subprocess.ts";

const CHROMIUM = Deno.env.get("CRL_TAC_CHROMIUM") ?? "/usr/bin/chromium";
const hasChromium = await exists(CHROMIUM);
if (!hasChromium) {
  console.error(`no Chromium at ${CHROMIUM} (Debian's chromium; .ci/run installs it): the browser test is skipped`);
}

/** Where the test leaves its screenshot. */
const OUTPUT = new URL("../../results/demo-test/", import.meta.url).pathname;

/** A run of ten iterations, small enough for CI: 80 images in batches of 8, 4 crops each. */
const RUN = { method: "crltac", seed: "3", "train-size": "80", batch: "8", crops: "4", "policy-crops": "4" };
const CONFIG = resolveConfig("smoke", "shifted", "crltac", 3, {
  trainSize: 80,
  batch: 8,
  crops: 4,
  policyCrops: 4,
  backend: "wasm",
});

/** Minutes that each wait for the page may take: bundling and training on a loaded 2-core machine. */
const WAIT_MS = 10 * 60_000;

/**
 * Starts `deno task demo`'s script with `args` and returns the address it prints, the process,
 * and what it has printed on stderr so far (read on until it ends).
 */
async function startServer(args: string[] = []): Promise<{ url: string; server: Deno.ChildProcess; stderr: string[] }> {
  const server = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", scriptPath("demo"), ...args],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr: string[] = [];
  (async () => {
    for await (const chunk of server.stderr.pipeThrough(new TextDecoderStream())) stderr.push(chunk);
  })();
  const reader = server.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let printed = "";
  while (!printed.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`deno task demo ended without printing an address (exit ${(await server.status).code})`);
    printed += value;
  }
  reader.releaseLock();
  return { url: printed.trim(), server, stderr };
}

async function stopServer(server: Deno.ChildProcess): Promise<void> {
  server.kill("SIGTERM");
  await server.status;
  await server.stdout.cancel().catch(() => {});
}

/**
 * Sends `method path` to the server at `url` with the `Host` header `host`, as a browser on a
 * page elsewhere (or a malformed client) would, and returns the status and headers. fetch()
 * sets `Host` itself.
 */
async function rawRequest(url: string, host: string, method = "GET", path = "/") {
  const { hostname, port } = new URL(url);
  const conn = await Deno.connect({ hostname, port: Number(port) });
  await conn.write(
    new TextEncoder().encode(`${method} ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`),
  );
  const [head] = new TextDecoder().decode(await new Response(conn.readable).arrayBuffer()).split("\r\n\r\n");
  const [status, ...headers] = head!.split("\r\n");
  return {
    status: Number(status!.split(" ")[1]),
    headers: new Map(
      headers.map((h) => [h.slice(0, h.indexOf(":")).toLowerCase(), h.slice(h.indexOf(":") + 1).trim()]),
    ),
  };
}

/** Starts Chromium, headless, with its profile in `profile`. */
function launch(profile: string): Promise<Browser> {
  return puppeteer.launch({
    executablePath: CHROMIUM,
    // A wait for the page is one protocol call, as long as the wait itself.
    protocolTimeout: WAIT_MS,
    // Headless, as root in CI, with nothing of Chromium's own reaching the network.
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      `--user-data-dir=${profile}`,
    ],
  });
}

Deno.test({
  name: "deno task demo serves the page, and in Chromium it trains with train()'s numbers",
  // puppeteer's connection to Chromium keeps timers and sockets past browser.close().
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    const { url, server, stderr } = await startServer();
    try {
      await t.step("the server answers the page's paths and nothing else", async () => {
        const get = async (path: string) => {
          const response = await fetch(new URL(path, url));
          return { status: response.status, type: response.headers.get("content-type"), body: await response.bytes() };
        };
        const page = await get("/");
        assert.equal(page.status, 200);
        assert.match(new TextDecoder().decode(page.body), /<script type="module" src="\/page.js">/);
        assert.equal((await get("/worker.js")).type, "text/javascript");
        assert.equal((await get("/tfjs-backend-wasm-simd.wasm")).type, "application/wasm");
        const labels = await get("/mnist/t10k-labels-idx1-ubyte");
        assert.equal(await sha256Hex(labels.body), MNIST_FILES["t10k-labels-idx1-ubyte"]);
        for (const path of ["/mnist/../deno.json", "/mnist/", "/src/demo/server.ts", "/favicon.ico"]) {
          assert.equal((await get(path)).status, 404, path);
        }
      });

      await t.step(
        "it refuses malformed requests, other methods and other hosts; its bundles name no local path",
        async () => {
          const port = new URL(url).port;
          assert.equal((await rawRequest(url, "a b")).status, 400);
          const post = await rawRequest(url, `localhost:${port}`, "POST");
          assert.equal(post.status, 405);
          assert.equal(post.headers.get("allow"), "GET, HEAD");
          // A page elsewhere whose name resolves to 127.0.0.1 (DNS rebinding) sends its own name.
          assert.equal((await rawRequest(url, `rebind.example:${port}`)).status, 421);
          for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`]) {
            assert.equal((await rawRequest(url, host)).status, 200, host);
          }
          const local = [Deno.env.get("HOME"), new URL("../..", import.meta.url).pathname, "../"].filter(Boolean);
          for (const path of ["/page.js", "/worker.js"]) {
            const code = await (await fetch(new URL(path, url))).text();
            for (const text of local) assert.ok(!code.includes(text!), `${path} names ${text}`);
            assert.match(code, /\/\/ src\/demo\/browser\/\w+\.ts/, path);
          }
          assert.doesNotMatch(stderr.join(""), /TypeError|error/);
        },
      );

      await t.step({
        name: "the page trains ten iterations on wasm with train()'s losses, pauses, and its heat maps move",
        ignore: !hasChromium,
        // The profile goes whatever happens, a failed launch included.
        fn: () =>
          inTempDir(async (profile) => {
            const started = performance.now();
            const browser = await launch(profile);
            try {
              const page = await browser.newPage();
              await page.setViewport({ width: 1280, height: 1000 });
              const errors: string[] = [];
              page.on("console", (m) => m.type() === "error" && errors.push(`console: ${m.text()}`));
              page.on("pageerror", (e) => errors.push(`page: ${e instanceof Error ? e.message : e}`));
              await page.goto(`${url}?${new URLSearchParams(RUN)}`);
              // Expressions evaluated in the page, as text: the browser's types stay out of this program.
              const inPage = <T>(expression: string) => page.evaluate(expression) as Promise<T>;
              const waitFor = (condition: string) => page.waitForFunction(condition, { timeout: WAIT_MS });
              const state = () => inPage<string>("document.body.dataset.state");
              const steps = () => inPage<number>("Number(document.body.dataset.steps)");
              const shown = () => inPage<string>(`document.getElementById("message").textContent`);
              const heatMaps = () =>
                inPage<string[]>(`[...document.querySelectorAll("#heatmaps canvas")].map((c) => c.toDataURL())`);
              await waitFor(`document.body.dataset.state !== "loading"`);
              assert.equal(await state(), "ready", await shown());
              // Started, then paused after an iteration: its heat maps, which the rest must change.
              await page.click("#start");
              await waitFor(`Number(document.body.dataset.steps) >= 1 || document.body.dataset.state === "error"`);
              await page.click("#pause");
              await waitFor(`document.body.dataset.state !== "training"`);
              assert.equal(await state(), "paused", await shown());
              const pausedAt = await steps();
              const early = await heatMaps();
              await new Promise((resolve) => setTimeout(resolve, 1000));
              assert.equal(await steps(), pausedAt, "the page trained while paused");
              await page.click("#start");
              // The same run in this process, while the page trains the rest of its own.
              const expected: StepRecord[] = [];
              const cli = inTempDir(async (dir) => {
                await train(CONFIG, { dir, progress: false, onStep: (r) => expected.push(r) });
              });
              await waitFor(`["done", "error"].includes(document.body.dataset.state)`);
              assert.equal(await state(), "done", await shown());
              assert.match(await inPage<string>(`document.getElementById("backend").textContent`), /^backend wasm/);
              const late = await heatMaps();
              assert.equal(late.length, 6);
              assert.ok(pausedAt < 10 && late.some((map, k) => map !== early[k]), `no change after step ${pausedAt}`);
              const log = await inPage<string>(`fetch(document.getElementById("log").href).then((r) => r.text())`);
              const records = log.trim().split("\n").map((line) => JSON.parse(line) as StepRecord);
              await cli;
              assert.equal(records.length, 10);
              assert.equal(expected.length, 10);
              for (const key of ["hLoss", "pLoss", "entropy"] as const) {
                assertClose(records.map((r) => r[key]!), expected.map((r) => r[key]!), 1e-4, key);
              }
              await Deno.mkdir(OUTPUT, { recursive: true });
              await page.screenshot({ path: `${OUTPUT}page.png`, fullPage: true });
              assert.deepEqual(errors, []);
              console.error(
                `the page trained 10 iterations in Chromium in ${
                  ((performance.now() - started) / 1000).toFixed(0)
                } s; screenshot: ${OUTPUT}page.png`,
              );
            } finally {
              await browser.close();
            }
          }),
      });
    } finally {
      await stopServer(server);
    }
  },
});

Deno.test({
  name: "deno task demo on every address warns that anyone who can reach it can use it, and prints a URL to open",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const { url, server, stderr } = await startServer(["--hostname", "0.0.0.0"]);
    try {
      const port = new URL(url).port;
      assert.equal(url, `http://127.0.0.1:${port}/`);
      assert.match(stderr.join(""), new RegExp(`warning: .* anyone who can reach port ${port} can use the page`));
      assert.equal((await rawRequest(url, `elsewhere.example:${port}`)).status, 200);
    } finally {
      await stopServer(server);
    }
  },
});

Deno.test("deno task demo names a host name that does not resolve in one line", async () => {
  const r = await runDeno(["run", "--allow-all", scriptPath("demo"), "--hostname", "nosuchhost.invalid"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^error: --hostname nosuchhost\.invalid: no such host \([^\n]*\)\n$/);
});

Deno.test("deno task demo refuses a bad or busy port with a usage error, before bundling", async () => {
  const tooLarge = await runDeno(["run", "--allow-all", scriptPath("demo"), "--port", "70000"]);
  assert.equal(tooLarge.code, 2);
  assert.match(tooLarge.stderr, /^error: --port 70000: a port must be at most 65535\n/);
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const busy = await runDeno(["run", "--allow-all", scriptPath("demo"), "--port", String(listener.addr.port)]);
    assert.equal(busy.code, 2);
    assert.match(
      busy.stderr,
      new RegExp(`^error: --port ${listener.addr.port}: in use; choose another or omit --port\n`),
    );
    assert.doesNotMatch(busy.stderr, /bundling/);
  } finally {
    listener.close();
  }
});
