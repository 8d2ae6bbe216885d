/**
 * The demo page's script, bundled for the browser: the form, Start / Pause / Reset, and what the
 * training worker (./worker.ts) reports, drawn as it comes — P(t|x) of six test images as heat
 * maps over the crop grid with the whole-digit crops outlined, the losses, the entropy and P's
 * mass per iteration, the speed, and the run's `log.jsonl` to download. It trains nothing itself.
 *
 * The page's state is in `document.body.dataset` (`state`: loading, ready, training, paused, done
 * or error; `steps`: iterations shown), for the stylesheet and for the browser test.
 *
 * @module
 */

import { OUTLINE } from "../../report/raster.ts";
import { viridis } from "../../report/png.ts";
import type { StepRecord } from "../../train/session.ts";
import type { FormSettings, HeatMapImages, PageMessage, WorkerMessage } from "../protocol.ts";
import { ROUTES } from "../protocol.ts";

type State = "loading" | "ready" | "training" | "paused" | "done" | "error";

const element = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const form = element<HTMLFormElement>("settings");
const startButton = element<HTMLButtonElement>("start");
const pauseButton = element<HTMLButtonElement>("pause");
const resetButton = element<HTMLButtonElement>("reset");
const status = element<HTMLElement>("status");
const message = element<HTMLElement>("message");
const heatMaps = element<HTMLElement>("heatmaps");
const logLink = element<HTMLAnchorElement>("log");

/** Pixels per image pixel and per crop-grid cell in the heat-map panels. */
const IMAGE_SCALE = 2, CELL_PX = 10;

/** The options the page's address gives beyond the form's fields (`?crops=4`), passed on as typed. */
const fromAddress = new URLSearchParams(location.search);

let worker: Worker;
let records: StepRecord[] = [];
let images: HeatMapImages | null = null;
let iterations = 0;
let method = "";
/** Whether the form holds its first values: defaults, or the address's; kept across a Reset. */
let filled = false;

function setState(state: State): void {
  document.body.dataset.state = state;
  startButton.disabled = state !== "ready" && state !== "paused";
  pauseButton.disabled = state !== "training";
  resetButton.disabled = state === "loading";
  for (const field of form.querySelectorAll<HTMLInputElement | HTMLSelectElement>("input, select")) {
    field.disabled = state !== "ready";
  }
}

/** The form's settings and the address's other options, by `deno task train` option name. */
function settings(): FormSettings {
  const values: Record<string, string> = Object.fromEntries(fromAddress);
  for (const [name, value] of new FormData(form)) values[name] = String(value).trim();
  return values;
}

function send(message: PageMessage): void {
  worker.postMessage(message);
}

function showMessage(text: string): void {
  message.textContent = text;
  message.hidden = text === "";
}

/** A new worker: what Reset does, since the worker holds the whole run. */
function startWorker(): void {
  worker = new Worker(ROUTES.worker, { type: "module" });
  worker.addEventListener("message", (event: MessageEvent<WorkerMessage>) => receive(event.data));
  worker.addEventListener("error", (event) => {
    event.preventDefault();
    fail(`The training worker failed: ${event.message || "it could not load (the browser's console says why)"}`);
  });
  records = [];
  images = null;
  iterations = 0;
  heatMaps.replaceChildren();
  for (const id of ["backend", "config", "command"]) element(id).textContent = "";
  drawCharts();
  updateLog();
  document.body.dataset.steps = "0";
  status.textContent = "";
  showMessage("");
  setState("loading");
}

function fail(text: string): void {
  showMessage(text);
  setState("error");
}

function receive(m: WorkerMessage): void {
  switch (m.type) {
    case "status":
      status.textContent = m.text;
      break;
    case "ready":
      if (!filled) {
        for (const [name, value] of Object.entries(m.defaults)) {
          (form.elements.namedItem(name) as HTMLInputElement).value = fromAddress.get(name) ?? value;
          fromAddress.delete(name);
        }
        const extra = element("address-options");
        extra.textContent = [...fromAddress].map(([k, v]) => `--${k} ${v}`).join(" ");
        extra.parentElement!.hidden = fromAddress.size === 0;
        filled = true;
      }
      status.textContent = "ready";
      setState("ready");
      break;
    case "rejected":
      showMessage(m.message);
      setState("ready");
      break;
    case "started":
      images = m.images;
      iterations = m.iterations;
      method = m.config.method;
      element("backend").textContent = m.backend;
      element("config").textContent = JSON.stringify(m.config, null, 2);
      element("command").textContent = m.command;
      status.textContent = progressText();
      drawHeatMaps(null);
      break;
    case "step":
      records.push(m.record);
      document.body.dataset.steps = String(records.length);
      status.textContent = progressText();
      if (m.snapshot) drawHeatMaps(m.snapshot.probs);
      drawCharts();
      updateLog();
      break;
    case "paused":
      setState("paused");
      status.textContent = `paused: ${progressText()}`;
      break;
    case "done":
      setState("done");
      status.textContent = `done: ${progressText()}`;
      break;
    case "error":
      fail(m.message);
      break;
  }
}

/** Where the run is, and its speed over the last few iterations. */
function progressText(): string {
  const last = records.at(-1);
  if (!last) return `iteration 0 / ${iterations}`;
  const recent = records.slice(-5);
  const seconds = recent.reduce((a, r) => a + r.ms, 0) / recent.length / 1000;
  return `iteration ${last.step} / ${iterations}, epoch ${last.epoch}: ${(1 / seconds).toFixed(2)} it/s ` +
    `(${seconds.toFixed(2)} s per iteration over the last ${recent.length})`;
}

/** The records so far as `log.jsonl`, the file `deno task train` writes. */
function updateLog(): void {
  if (logLink.href) URL.revokeObjectURL(logLink.href);
  const lines = records.map((r) => JSON.stringify(r) + "\n");
  logLink.href = URL.createObjectURL(new Blob(lines, { type: "application/jsonl" }));
}

const css = (rgb: readonly number[]) => `rgb(${rgb.join(",")})`;

/**
 * Each image (its digit's cell outlined) above P(t|x) on the crop grid, coloured with viridis
 * scaled to its own maximum as in the run's figures, the whole-digit crops outlined; uniform
 * where P is fixed (SimCLR), blank before the first iteration of a learned P.
 */
function drawHeatMaps(probs: readonly number[] | null): void {
  if (!images) return;
  const { side, perSide, pixels, cells, wholeDigit } = images;
  const count = perSide * perSide;
  const imagePx = side * IMAGE_SCALE, heatPx = perSide * CELL_PX;
  if (heatMaps.children.length !== pixels.length) {
    heatMaps.replaceChildren(...pixels.map(() => {
      const figure = document.createElement("figure");
      const canvas = document.createElement("canvas");
      [canvas.width, canvas.height] = [Math.max(imagePx, heatPx), imagePx + 8 + heatPx];
      figure.append(canvas, document.createElement("figcaption"));
      return figure;
    }));
  }
  pixels.forEach((image, k) => {
    const figure = heatMaps.children[k]!;
    const canvas = figure.querySelector("canvas")!;
    const g = canvas.getContext("2d")!;
    g.clearRect(0, 0, canvas.width, canvas.height);
    const picture = new ImageData(side, side);
    image.forEach((v, i) => picture.data.set([v, v, v, 255], 4 * i));
    g.imageSmoothingEnabled = false;
    g.drawImage(toCanvas(picture), 0, 0, imagePx, imagePx);
    const cell = cells[k]!;
    g.strokeStyle = css(viridis(1));
    g.strokeRect(
      cell.col * IMAGE_SCALE + 0.5,
      cell.row * IMAGE_SCALE + 0.5,
      cell.side * IMAGE_SCALE - 1,
      cell.side * IMAGE_SCALE - 1,
    );
    const p = probs
      ? probs.slice(k * count, (k + 1) * count)
      : method === "crltac"
      ? null
      : Array(count).fill(1 / count);
    const top = imagePx + 8;
    const caption = figure.querySelector("figcaption")!;
    if (!p) {
      caption.textContent = "P(t|x) after the first iteration";
      return;
    }
    const max = Math.max(...p);
    p.forEach((v, t) => {
      g.fillStyle = css(viridis(max > 0 ? v / max : 0));
      g.fillRect((t % perSide) * CELL_PX, top + Math.floor(t / perSide) * CELL_PX, CELL_PX, CELL_PX);
    });
    const rows = wholeDigit[k]!.map((t) => Math.floor(t / perSide)), columns = wholeDigit[k]!.map((t) => t % perSide);
    const [r0, c0] = [Math.min(...rows), Math.min(...columns)];
    g.strokeStyle = css(OUTLINE);
    g.lineWidth = 2;
    g.strokeRect(
      c0 * CELL_PX + 1,
      top + r0 * CELL_PX + 1,
      (Math.max(...columns) - c0 + 1) * CELL_PX - 2,
      (Math.max(...rows) - r0 + 1) * CELL_PX - 2,
    );
    g.lineWidth = 1;
    const whole = wholeDigit[k]!.reduce((a, t) => a + p[t]!, 0);
    caption.textContent = `whole digit ${whole.toFixed(3)} · max ${max.toPrecision(3)}`;
  });
}

function toCanvas(picture: ImageData): HTMLCanvasElement {
  const canvas = document.createElement("canvas");
  [canvas.width, canvas.height] = [picture.width, picture.height];
  canvas.getContext("2d")!.putImageData(picture, 0, 0);
  return canvas;
}

/** A line on a chart: its label, colour and value per iteration (null where there is none). */
interface Series {
  readonly label: string;
  readonly colour: string;
  readonly values: readonly (number | null)[];
}

function drawCharts(): void {
  const of = (f: (r: StepRecord) => number | null | undefined) => records.map((r) => f(r) ?? null);
  drawChart(element("losses"), [
    { label: "h-loss", colour: "#1f77b4", values: of((r) => r.hLoss) },
    { label: "P-loss", colour: "#d62728", values: of((r) => r.pLoss) },
  ]);
  drawChart(element("entropy"), [
    { label: "H(T|x), nats", colour: "#2ca02c", values: of((r) => r.entropy) },
  ], { value: Math.log(289), label: "uniform: ln 289" });
  drawChart(element("mass"), [
    { label: "P on non-empty crops", colour: "#9467bd", values: of((r) => r.concentration) },
    { label: "P on whole-digit crops", colour: "#ff7f0e", values: of((r) => r.wholeDigitMass) },
  ]);
}

/** Lines over the iterations (the run's whole length on the x axis), y scaled to the values. */
function drawChart(canvas: HTMLCanvasElement, series: readonly Series[], reference?: { value: number; label: string }) {
  const g = canvas.getContext("2d")!;
  const { width, height } = canvas;
  const left = 52, right = 10, top = 20, bottom = 20;
  g.clearRect(0, 0, width, height);
  g.font = "11px system-ui, sans-serif";
  const values = series.flatMap((s) => s.values.filter((v): v is number => v !== null && Number.isFinite(v)));
  if (reference) values.push(reference.value);
  let [lo, hi] = values.length ? [Math.min(...values), Math.max(...values)] : [0, 1];
  const pad = (hi - lo) * 0.05 || Math.abs(hi) * 0.05 || 0.05;
  [lo, hi] = [lo - pad, hi + pad];
  const steps = Math.max(iterations, records.length, 2);
  const x = (step: number) => left + (step - 1) / (steps - 1) * (width - left - right);
  const y = (v: number) => top + (hi - v) / (hi - lo) * (height - top - bottom);
  g.strokeStyle = "#ccc";
  g.fillStyle = "#555";
  g.textBaseline = "middle";
  for (const v of [lo + pad, (lo + hi) / 2, hi - pad]) {
    g.beginPath();
    g.moveTo(left, y(v));
    g.lineTo(width - right, y(v));
    g.stroke();
    g.fillText(v.toPrecision(3), 2, y(v));
  }
  g.textBaseline = "alphabetic";
  g.fillText("1", x(1), height - 4);
  g.fillText(String(steps), x(steps) - g.measureText(String(steps)).width, height - 4);
  if (reference) {
    g.setLineDash([4, 3]);
    g.beginPath();
    g.moveTo(left, y(reference.value));
    g.lineTo(width - right, y(reference.value));
    g.stroke();
    g.setLineDash([]);
    g.fillText(reference.label, width - right - g.measureText(reference.label).width, y(reference.value) - 4);
  }
  let legendX = left;
  for (const s of series) {
    g.fillStyle = s.colour;
    g.fillText(s.label, legendX, 12);
    legendX += g.measureText(s.label).width + 16;
    g.strokeStyle = s.colour;
    g.lineWidth = 2;
    g.beginPath();
    s.values.forEach((v, i) => {
      if (v === null || !Number.isFinite(v)) return;
      if (i === 0 || s.values[i - 1] === null) g.moveTo(x(i + 1), y(v));
      else g.lineTo(x(i + 1), y(v));
      if (s.values.length === 1) g.fillRect(x(1) - 2, y(v) - 2, 4, 4);
    });
    g.stroke();
    g.lineWidth = 1;
  }
}

startButton.addEventListener("click", () => {
  if (document.body.dataset.state === "paused") send({ type: "resume" });
  else {
    showMessage("");
    send({ type: "start", settings: settings() });
  }
  setState("training");
});
pauseButton.addEventListener("click", () => {
  send({ type: "pause" });
  pauseButton.disabled = true;
});
resetButton.addEventListener("click", () => {
  worker.terminate();
  startWorker();
});
form.addEventListener("submit", (event) => event.preventDefault());

startWorker();
