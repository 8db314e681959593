// The stepper's controls: first, previous, play/pause, next, last, a slider over the steps and a
// caption read out as it changes. ←/→ step when the controls or the results panels have focus
// (never while typing in a filter field or the editor, which are not inside them).
import { h } from "./dom.js";
// biome-ignore lint/correctness/useImportExtensions: a stylesheet, bundled by Vite
import "./stepper.css";

const PLAY_INTERVAL_MS = 600;

export class StepControls {
  readonly element: HTMLElement;
  private readonly slider = h("input", { type: "range", class: "pg-step-slider", min: 0, max: 0, step: 1, value: 0, "aria-label": "Step" });
  private readonly caption = h("p", { class: "pg-step-caption", "aria-live": "polite" });
  private readonly play = h("button", { type: "button", class: "pg-button", "data-step": "play", "aria-pressed": "false" }, "Play");
  private readonly buttons: Record<"first" | "previous" | "next" | "last", HTMLButtonElement>;
  private timer: ReturnType<typeof setInterval> | undefined;
  private from = 0;
  private to = 0;
  private current = 0;

  /** `go`: the reader asked for trace index `index` (already within the bounds). */
  constructor(private readonly go: (index: number) => void) {
    // ◀ and ▶ are in every system font; the media-control glyphs (⏮ ⏭) often are not.
    const button = (name: string, label: string, text: string) =>
      h("button", { type: "button", class: "pg-button", "data-step": name, "aria-label": label }, text);
    this.buttons = {
      first: button("first", "First step", "|◀"),
      previous: button("previous", "Previous step", "◀"),
      next: button("next", "Next step", "▶"),
      last: button("last", "Last step", "▶|"),
    };
    this.buttons.first.addEventListener("click", () => this.request(this.from));
    this.buttons.previous.addEventListener("click", () => this.request(this.current - 1));
    this.buttons.next.addEventListener("click", () => this.request(this.current + 1));
    this.buttons.last.addEventListener("click", () => this.request(this.to));
    this.play.addEventListener("click", () => (this.timer === undefined ? this.to >= this.from && this.start() : this.pause()));
    this.slider.addEventListener("input", () => this.request(Number(this.slider.value)));
    this.element = h(
      "div",
      { class: "pg-stepper", role: "group", "aria-label": "Step through the run" },
      h("div", { class: "pg-step-buttons" }, this.buttons.first, this.buttons.previous, this.play, this.buttons.next, this.buttons.last),
      this.slider,
      this.caption,
    );
  }

  /** Steps with ←/→ when focus is inside `area` (but not in a text field or a select). */
  listenForKeys(area: HTMLElement): void {
    area.addEventListener("keydown", (e) => {
      if (e.key !== "ArrowLeft" && e.key !== "ArrowRight") return;
      if (e.defaultPrevented || e.altKey || e.ctrlKey || e.metaKey) return;
      const target = e.target as HTMLElement;
      if (target === this.slider || target.closest('input, select, textarea, [role="tab"], [contenteditable="true"]')) return;
      e.preventDefault();
      this.request(this.current + (e.key === "ArrowRight" ? 1 : -1));
    });
  }

  /** Steps `from`..`to` (trace indices); `index` is shown. Empty (to < from): no stepping. */
  set(from: number, to: number, index: number, caption: string): void {
    this.from = from;
    this.to = to;
    this.current = index;
    const none = to < from;
    this.slider.min = String(from);
    this.slider.max = String(Math.max(from, to));
    this.slider.value = String(index);
    this.slider.disabled = none;
    this.slider.setAttribute("aria-valuetext", caption);
    this.caption.textContent = caption;
    // aria-disabled, not disabled: a button that keeps focus at the first or last step keeps ←/→ working.
    const off = (button: HTMLButtonElement, when: boolean) => button.setAttribute("aria-disabled", String(when));
    off(this.buttons.first, none || index <= from);
    off(this.buttons.previous, none || index <= from);
    off(this.buttons.next, none || index >= to);
    off(this.buttons.last, none || index >= to);
    off(this.play, none);
    if (index >= to) this.pause();
  }

  /** Says something without moving (the step's state is on its way, or could not be had). */
  say(text: string): void {
    this.caption.textContent = text;
  }

  stop(): void {
    this.pause();
  }

  private request(index: number): void {
    const clamped = Math.min(this.to, Math.max(this.from, index));
    if (this.to < this.from) return;
    this.current = clamped;
    this.go(clamped);
  }

  private start(): void {
    if (this.current >= this.to) this.request(this.from);
    this.play.setAttribute("aria-pressed", "true");
    this.play.textContent = "Pause";
    this.timer = setInterval(() => (this.current >= this.to ? this.pause() : this.request(this.current + 1)), PLAY_INTERVAL_MS);
  }

  private pause(): void {
    if (this.timer === undefined) return;
    clearInterval(this.timer);
    this.timer = undefined;
    this.play.setAttribute("aria-pressed", "false");
    this.play.textContent = "Play";
  }
}
