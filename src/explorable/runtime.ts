// Loaded on a figure's first interaction: reruns its scenario with the chosen settings (once per
// combination) and redraws the picture, the position and the description at each step.
import { defaultSettings, explorableScenario, runExplorable } from "./scenarios.js";
import type { Settings } from "./scenarios.js";
import { initialStep, settingsKey, stepView } from "./view.js";
import type { Machine } from "../sim/index.js";

/** Takes over one figure: the controls now drive the picture. */
export function mount(root: HTMLElement): void {
  if (root.dataset.explorableReady) return;
  const scenario = explorableScenario(root.dataset.explorable ?? "");
  const form = root.querySelector<HTMLFormElement>("form")!;
  const range = form.querySelector<HTMLInputElement>('input[name="step"]')!;
  const position = root.querySelector<HTMLOutputElement>(".dma-explorable-position")!;
  const description = root.querySelector<HTMLElement>(".dma-explorable-description")!;
  const variants = [...root.querySelectorAll<HTMLElement>(".dma-figure-variant")];
  const runs = new Map<string, Machine>();
  let machine: Machine;
  let current: Settings;

  const settings = (): Settings =>
    Object.fromEntries(scenario.controls.map((c) => [c.name, (form.elements.namedItem(c.name) as HTMLSelectElement).value]));
  const load = (keepStep: boolean): void => {
    const s = settings();
    current = s;
    const key = settingsKey(s);
    if (!runs.has(key)) runs.set(key, runExplorable(scenario, s));
    machine = runs.get(key)!;
    range.max = String(machine.trace.length);
    if (!keepStep) range.value = String(initialStep(scenario, machine));
  };
  const draw = (): void => {
    const view = stepView(scenario, current, machine, Number(range.value), root.id);
    range.value = String(view.step);
    range.setAttribute("aria-valuetext", view.position);
    position.textContent = view.position;
    description.textContent = view.description;
    view.variants.forEach((v, i) => {
      if (variants[i]) variants[i].innerHTML = v.svg;
    });
  };
  const step = (delta: number): void => {
    range.value = String(Number(range.value) + delta);
    draw();
  };

  form.addEventListener("change", (e) => {
    if ((e.target as HTMLElement).tagName === "SELECT") {
      load(false);
      draw();
    }
  });
  range.addEventListener("input", draw);
  for (const button of form.querySelectorAll<HTMLButtonElement>("[data-step]")) {
    button.addEventListener("click", () => step(button.dataset.step === "prev" ? -1 : 1));
  }

  // Whatever the reader changed while this chunk was loading counts: a moved slider keeps its
  // step; changed settings are a different run, which starts at its own first step.
  load(settingsKey(settings()) === settingsKey(defaultSettings(scenario)));
  const pending = root.dataset.explorablePending;
  delete root.dataset.explorablePending;
  if (pending) step(pending === "prev" ? -1 : 1);
  else draw();
  root.removeAttribute("aria-busy");
  root.dataset.explorableReady = "1";
}
