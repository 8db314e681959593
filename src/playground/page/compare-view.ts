// A/B comparison: the same code run twice, under two variants (overrides of what the code creates:
// era, backend, IOMMU, ...), and the results side by side with the differences marked: console
// lines only one side printed, events and cost by kind with deltas, totals, error-severity events,
// and on request the two memory maps. Loaded the first time the reader opens Compare.
import { runCode, type RunHandle } from "./run.js";
import { OutcomeBuilder } from "./outcome.js";
import {
  COMPARE_PRESETS,
  describeVariant,
  isEmptyVariant,
  parseVariantText,
  variantText,
  type Variant,
  type VariantApplied,
} from "../common/variant.js";
import { compareKinds, diffLines, formatDelta, summarize, type RunSummary } from "./compare-summary.js";
import { grouped, h } from "./results/dom.js";
import { KIND_HELP } from "./results/kinds.js";
import { PictureView } from "./results/picture-view.js";
import { compareStepper } from "./compare-stepper.js";
// biome-ignore lint/correctness/useImportExtensions: a stylesheet, bundled by Vite
import "./results/results.css";
// biome-ignore lint/correctness/useImportExtensions: a stylesheet, bundled by Vite
import "./compare.css";

export interface CompareHost {
  panel: HTMLElement;
  /** The code to compare (the editor's or the static block's), once any restore has finished. */
  code(): Promise<string>;
  /** Unique per embed: element and SVG ids are page-global. */
  idPrefix: string;
  /** Both runs of a comparison ended and their results are shown. */
  done(): void;
}

type Side = "a" | "b";
const SIDES: readonly Side[] = ["a", "b"];
const NAME: Record<Side, string> = { a: "A", b: "B" };
const CUSTOM = "custom";

interface SideResult {
  label: string;
  variant: Variant;
  builder: OutcomeBuilder;
  summary: RunSummary;
  /** The side's finished runner, kept until the next comparison for the stepper. */
  handle: RunHandle;
}

/** Visually hidden text, so a marker is not colour (or a symbol) alone. */
const srOnly = (text: string) => h("span", { class: "sr-only" }, text);

export class CompareView {
  private readonly preset = h("select", { class: "pg-input", "aria-label": "What to compare" });
  private readonly fields = {} as Record<Side, HTMLTextAreaElement>;
  private readonly runButton = h("button", { type: "button", class: "pg-button pg-primary", "data-action": "run-compare" }, "Run both");
  private readonly status = h("p", { class: "pg-compare-status", role: "status", "aria-live": "polite" });
  private readonly results = h("div", { class: "pg-compare-results" });
  private handles: RunHandle[] = [];
  private generation = 0;

  constructor(private readonly host: CompareHost) {
    this.preset.append(
      ...COMPARE_PRESETS.map((p) => h("option", { value: p.id }, p.title)),
      h("option", { value: CUSTOM }, "Custom: edit the overrides below"),
    );
    const columns = SIDES.map((side) => {
      const id = `${host.idPrefix}-variant-${side}`;
      const field = h("textarea", { id, class: "pg-input pg-variant", rows: 2, spellcheck: "false", "data-side": side });
      field.addEventListener("input", () => this.syncPreset());
      this.fields[side] = field;
      return h("div", { class: "pg-variant-box" }, h("label", { for: id }, `Variant ${NAME[side]} (JSON overrides)`), field);
    });
    this.preset.addEventListener("change", () => this.applyPreset());
    this.runButton.addEventListener("click", () => void this.run());
    host.panel.addEventListener("keydown", (e) => {
      // Ctrl/Cmd+Enter in the panel runs the comparison, not the embed's plain Run.
      if ((e.ctrlKey || e.metaKey) && e.key === "Enter") {
        e.preventDefault();
        e.stopPropagation();
        void this.run();
      }
    });
    host.panel.replaceChildren(
      h(
        "p",
        { class: "pg-compare-intro" },
        "Runs your code twice, each time with overrides applied to the machines, devices and DMA-APIs it creates: ",
        h("code", {}, "machine"),
        " (merged over createMachine’s options), ",
        h("code", {}, "device"),
        " (merged over attachDevice’s) and ",
        h("code", {}, "backend"),
        " (replaces dmaApi’s).",
      ),
      h("div", { class: "pg-controls" }, h("label", {}, "Compare ", this.preset)),
      h("div", { class: "pg-variants" }, ...columns),
      h("div", { class: "pg-controls" }, this.runButton, this.status),
      this.results,
    );
    this.applyPreset();
  }

  focus(): void {
    this.preset.focus();
  }

  /** Stops a comparison under way (the embed's own Run does not). */
  stop(): void {
    this.generation++;
    for (const handle of this.handles) handle.stop();
    this.handles = [];
    this.runButton.removeAttribute("aria-busy");
  }

  private applyPreset(): void {
    const preset = COMPARE_PRESETS.find((p) => p.id === this.preset.value);
    if (!preset) return;
    for (const side of SIDES) {
      this.fields[side].value = variantText(preset[side]);
      this.fields[side].removeAttribute("aria-invalid");
    }
  }

  /** Editing the JSON away from the preset's makes it a custom comparison (and back). */
  private syncPreset(): void {
    const match = COMPARE_PRESETS.find((p) => SIDES.every((side) => sameVariantText(this.fields[side].value, variantText(p[side]))));
    this.preset.value = match?.id ?? CUSTOM;
  }

  private variants(): { ok: true; sides: Record<Side, { label: string; variant: Variant }> } | { ok: false; message: string } {
    const preset = COMPARE_PRESETS.find((p) => p.id === this.preset.value);
    const sides = {} as Record<Side, { label: string; variant: Variant }>;
    for (const side of SIDES) {
      const parsed = parseVariantText(this.fields[side].value);
      if (!parsed.ok) {
        this.fields[side].setAttribute("aria-invalid", "true");
        return { ok: false, message: `Variant ${NAME[side]}: ${parsed.message}.` };
      }
      this.fields[side].removeAttribute("aria-invalid");
      sides[side] = { label: preset?.[side].label ?? describeVariant(parsed.variant), variant: parsed.variant };
    }
    return { ok: true, sides };
  }

  private async run(): Promise<void> {
    this.stop();
    const generation = this.generation;
    const parsed = this.variants();
    if (!parsed.ok) {
      this.status.textContent = parsed.message;
      return;
    }
    this.runButton.setAttribute("aria-busy", "true");
    this.status.textContent = "Running A and B…";
    this.results.replaceChildren();
    const code = await this.host.code();
    if (generation !== this.generation) return;
    const runs = SIDES.map((side) => {
      const builder = new OutcomeBuilder();
      const { variant } = parsed.sides[side];
      const handle = runCode(code, { variant, onEvent: (e) => builder.add(e) });
      return { side, builder, handle };
    });
    this.handles = runs.map((r) => r.handle);
    await Promise.all(this.handles.map((handle) => handle.finished));
    // The runners stay as sessions for the pictures' stepper; the next comparison (stop()) ends them.
    if (generation !== this.generation) return;
    this.runButton.removeAttribute("aria-busy");
    const [a, b] = runs.map(
      ({ side, builder, handle }): SideResult => ({ ...parsed.sides[side], builder, summary: summarize(builder.outcome()), handle }),
    ) as [SideResult, SideResult];
    this.show(a, b);
    this.host.done();
  }

  private show(a: SideResult, b: SideResult): void {
    const lines = diffLines(a.summary.console, b.summary.console);
    const rows = compareKinds(a.summary, b.summary);
    const errorsDiffer = errorText(a) !== errorText(b);
    const differing = rows.filter((r) => r.differs).length;
    const consoleDiffers = lines.a.filter(Boolean).length + lines.b.filter(Boolean).length;
    this.status.textContent = sentence(a, b, differing, rows.length, consoleDiffers, errorsDiffer);
    this.results.replaceChildren(
      h("div", { class: "pg-compare-sides" }, this.side("a", a, lines.a, errorsDiffer), this.side("b", b, lines.b, errorsDiffer)),
      statsTable(a, b, rows),
      this.pictures(a, b),
    );
  }

  private side(side: Side, r: SideResult, onlyHere: boolean[], errorDiffers: boolean): HTMLElement {
    const error = errorText(r);
    return h(
      "section",
      { class: "pg-compare-side", "data-side": side, "aria-label": `Variant ${NAME[side]}: ${r.label}` },
      h("h4", {}, `${NAME[side]}: ${r.label}`),
      h("p", { class: "pg-compare-applied" }, appliedText(r.variant, r.builder.applied)),
      error !== undefined &&
        h(
          "p",
          { class: "pg-error", "data-differs": errorDiffers },
          errorDiffers && h("span", { class: "pg-mark", "aria-hidden": "true" }, "≠"),
          errorDiffers && srOnly(`only in ${NAME[side]}: `),
          error,
        ),
      h(
        "div",
        { class: "pg-compare-console", "aria-label": `Console of ${NAME[side]}` },
        ...(r.summary.console.length === 0 ? [h("p", { class: "pg-empty" }, "No console output.")] : []),
        ...r.summary.console.map((text, i) =>
          h(
            "div",
            { class: onlyHere[i] ? "pg-line pg-differs" : "pg-line", "data-differs": onlyHere[i] },
            onlyHere[i] && h("span", { class: "pg-mark", "aria-hidden": "true", title: `Only in ${NAME[side]}` }, "≠"),
            onlyHere[i] && srOnly(`only in ${NAME[side]}: `),
            text,
          ),
        ),
      ),
    );
  }

  /**
   * The first machine of each side as a memory map, drawn when the reader opens them: the results
   * views' own picture (with its step slider), one per side.
   */
  private pictures(a: SideResult, b: SideResult): HTMLElement {
    const sides = [a, b].map((r, i) => {
      const panel = h("div", { class: "pg-compare-picture-panel" });
      const figure = h(
        "figure",
        { class: "pg-compare-picture", "data-side": SIDES[i] },
        h("figcaption", {}, `${NAME[SIDES[i]!]}: ${r.label}`),
        panel,
      );
      return {
        figure,
        panel,
        report: r.builder.outcome().machines[0],
        view: new PictureView(panel, `${this.host.idPrefix}-cmp-${SIDES[i]}`),
      };
    });
    const stepper = compareStepper(
      [0, 1].map((i) => ({
        name: NAME[SIDES[i]!],
        report: sides[i]!.report,
        view: sides[i]!.view,
        step: (index: number, at: number) => [a, b][i]!.handle.step(index, at),
      })) as Parameters<typeof compareStepper>[0],
    );
    const details = h(
      "details",
      { class: "pg-compare-pictures" },
      h("summary", {}, "Pictures: the first machine of each run"),
      stepper,
      h("div", { class: "pg-compare-sides" }, ...sides.map((s) => s.figure)),
    );
    details.addEventListener("toggle", () => {
      if (!details.open || details.dataset.drawn) return;
      details.dataset.drawn = "yes";
      for (const { panel, report, view } of sides) {
        if (report) view.show(report);
        else panel.replaceChildren(h("p", { class: "pg-empty" }, "No machine to draw."));
      }
    });
    return details;
  }
}

function sameVariantText(a: string, b: string): boolean {
  const pa = parseVariantText(a);
  const pb = parseVariantText(b);
  return pa.ok && pb.ok && JSON.stringify(pa.variant) === JSON.stringify(pb.variant);
}

function errorText(r: SideResult): string | undefined {
  const e = r.summary.error;
  return e ? `${e.name}${e.code ? ` [${e.code}]` : ""}: ${e.message}` : undefined;
}

const plural = (n: number, one: string, many = `${one}s`) => `${grouped(n)} ${n === 1 ? one : many}`;

function appliedText(variant: Variant, applied: VariantApplied | undefined): string {
  if (isEmptyVariant(variant) || !applied) return "Runs the code as written.";
  const parts = [
    variant.machine && plural(applied.machines, "machine"),
    variant.device && plural(applied.devices, "device"),
    variant.backend && plural(applied.dmaApis, "DMA-API"),
  ].filter(Boolean);
  if (applied.machines + applied.devices + applied.dmaApis === 0) {
    return "Changed nothing: the code created nothing this variant overrides (a scenario helper builds machines from its own options; set them there).";
  }
  return `Overrides applied to ${parts.join(", ")}.`;
}

function sentence(a: SideResult, b: SideResult, differing: number, kinds: number, consoleLines: number, errorsDiffer: boolean): string {
  const sa = a.summary;
  const sb = b.summary;
  if (differing === 0 && consoleLines === 0 && !errorsDiffer) return "No difference: the same console output, events and costs.";
  const parts = [
    `${differing} of ${kinds} event kinds differ`,
    `cost ${grouped(sa.totalCost)} → ${grouped(sb.totalCost)} cycles (${formatDelta(sa.totalCost, sb.totalCost)})`,
    `error events ${grouped(sa.errorEvents)} → ${grouped(sb.errorEvents)}`,
  ];
  if (consoleLines > 0) parts.push(`${plural(consoleLines, "console line")} differ`);
  if (errorsDiffer)
    parts.push(sa.error && sb.error ? "the runs ended with different errors" : `only ${sa.error ? "A" : "B"} ended with an error`);
  return `Compared: ${parts.join("; ")}.`;
}

function statsTable(a: SideResult, b: SideResult, rows: ReturnType<typeof compareKinds>): HTMLElement {
  const num = (n: number, attrs: Record<string, string | number> = {}) => h("td", { class: "pg-num", ...attrs }, grouped(n));
  const delta = (x: number, y: number) => h("td", { class: x === y ? "pg-num" : "pg-num pg-delta" }, formatDelta(x, y));
  const marked = (differs: boolean, label: string, title?: string) =>
    h(
      "th",
      { scope: "row", title },
      differs && h("span", { class: "pg-mark", "aria-hidden": "true" }, "≠"),
      label,
      differs && srOnly(" (differs)"),
    );
  /** A total row with counts only (no cost columns). */
  const countRow = (label: string, x: number, y: number, attrs: Record<string, string>, partial: boolean) =>
    h(
      "tr",
      { class: x !== y ? "pg-differs" : undefined, "data-differs": x !== y, ...attrs },
      marked(x !== y, label),
      h("td", { class: "pg-num" }, `${partial ? "≥ " : ""}${grouped(x)}`),
      h("td", { class: "pg-num" }, `${partial ? "≥ " : ""}${grouped(y)}`),
      delta(x, y),
      h("td", {}),
      h("td", {}),
      h("td", {}),
    );
  const sa = a.summary;
  const sb = b.summary;
  return h(
    "div",
    { class: "pg-table-scroll" },
    h(
      "table",
      { class: "pg-compare-stats" },
      h(
        "caption",
        {},
        `Events and simulated cost (CPU cycles) by kind, over every machine each run reported (A: ${plural(sa.machines, "machine")}, B: ${plural(sb.machines, "machine")}). Rows marked ≠ differ.`,
      ),
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          h("th", { scope: "col" }, "Kind"),
          h("th", { scope: "col", class: "pg-num" }, "A events"),
          h("th", { scope: "col", class: "pg-num" }, "B events"),
          h("th", { scope: "col", class: "pg-num" }, "Δ"),
          h("th", { scope: "col", class: "pg-num" }, "A cost"),
          h("th", { scope: "col", class: "pg-num" }, "B cost"),
          h("th", { scope: "col", class: "pg-num" }, "Δ"),
        ),
      ),
      h(
        "tbody",
        {},
        ...rows.map((r) =>
          h(
            "tr",
            { class: r.differs ? "pg-differs" : undefined, "data-kind": r.kind, "data-differs": r.differs },
            marked(r.differs, r.kind, KIND_HELP[r.kind]),
            num(r.a.events),
            num(r.b.events),
            delta(r.a.events, r.b.events),
            num(r.a.cost),
            num(r.b.cost),
            delta(r.a.cost, r.b.cost),
          ),
        ),
      ),
      h(
        "tfoot",
        {},
        h(
          "tr",
          {
            class: sa.totalEvents !== sb.totalEvents || sa.totalCost !== sb.totalCost ? "pg-differs" : undefined,
            "data-total": "all",
            "data-differs": sa.totalEvents !== sb.totalEvents || sa.totalCost !== sb.totalCost,
          },
          marked(sa.totalEvents !== sb.totalEvents || sa.totalCost !== sb.totalCost, "Total"),
          num(sa.totalEvents),
          num(sb.totalEvents),
          delta(sa.totalEvents, sb.totalEvents),
          num(sa.totalCost, { "data-cost": sa.totalCost }),
          num(sb.totalCost, { "data-cost": sb.totalCost }),
          delta(sa.totalCost, sb.totalCost),
        ),
        countRow(
          "Error events",
          sa.errorEvents,
          sb.errorEvents,
          { "data-total": "errors" },
          sa.errorEventsPartial || sb.errorEventsPartial,
        ),
      ),
    ),
  );
}
