/**
 * `deno task demo`: serves a page that trains CRL-TAC or SimCLR in the browser with this
 * package's own modules, and prints its address.
 *
 * @module
 */

import { int, parseCli, runMain, UsageError, UserError } from "../src/cli.ts";
import { pageUrl, startDemo } from "../src/demo/server.ts";

const USAGE = `
Usage: deno task demo [--port N] [--hostname ADDRESS]

Bundles the page and its training worker from the sources (seconds), serves them with MNIST and
tfjs's wasm binaries, and prints the page's address; open it in a browser and press Start. The
page trains in a Web Worker with the smoke profile's settings (method, λ, β, seed, images, batch,
epochs and backend in its form; any other \`deno task train\` option in its address, e.g.
?crops=4), on WebGPU where the browser offers a GPU and tfjs's wasm backend otherwise, and
draws P(T|x) of six test images, the losses, the entropy and P's mass as it learns. Ctrl-C stops
the server.

  --port N             the port to listen on [a free one]
  --hostname ADDRESS   the address to listen on [127.0.0.1: this machine only, for requests
                       to localhost or a loopback address]; on any other (0.0.0.0: all of
                       them) anyone who can reach the port can use the page
`;

await runMain(USAGE, async (args) => {
  const o = parseCli(args, {
    port: { type: "string", parse: int(0, "a port") },
    hostname: { type: "string" },
  }).values;
  if (o.port !== undefined && o.port > 65535) throw new UsageError(`--port ${o.port}: a port must be at most 65535`);
  let server;
  try {
    server = await startDemo({
      hostname: o.hostname ?? "127.0.0.1",
      port: o.port ?? 0,
      onStatus: (text) => console.error(text),
    });
  } catch (e) {
    if (e instanceof Deno.errors.AddrInUse) {
      throw new UsageError(`--port ${o.port}: in use; choose another or omit --port`);
    }
    if (e instanceof Deno.errors.AddrNotAvailable) {
      throw new UsageError(`--hostname ${o.hostname}: not an address of this machine`);
    }
    // Deno's errors for a name that does not resolve, and one that is not a host name at all.
    if (e instanceof URIError || /failed to lookup address/.test((e as Error).message)) {
      throw new UserError(`--hostname ${o.hostname}: no such host (${(e as Error).message})`);
    }
    throw e;
  }
  if (!server.loopback) {
    const port = new URL(server.url).port;
    // On every address, it is reached from elsewhere at this machine's own.
    const everywhere = o.hostname === "0.0.0.0" || o.hostname === "::";
    const others = everywhere
      ? Deno.networkInterfaces().filter((i) => i.family === "IPv4" && !i.address.startsWith("127."))
        .map((i) => pageUrl(i.address, Number(port)))
      : [];
    console.error(
      `warning: listening on ${o.hostname}, not on this machine's loopback alone: anyone who can reach port ${port} ` +
        `can use the page (and download what it serves)${others.length ? `, at ${others.join(" or ")}` : ""}`,
    );
  }
  console.log(server.url);
  await server.finished;
});
