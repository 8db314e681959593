// Exercises on an embed: "predict, then run" (a question answered before the first Run, revealed
// by it) and the check of the reader's fix (a verdict after every Run). Loaded only by embeds that
// have one of them; the checks themselves (checks.ts) load on the first verdict.
import type { RunOutcome } from "./checks.js";

/** Whether a guess matches the answer: case, spacing and number formatting do not matter ("2" = "2.0" = " 2 "). */
export function judgeGuess(guess: string, answer: string): boolean {
  const norm = (s: string) => s.trim().replace(/\s+/g, " ").toLowerCase();
  const g = norm(guess);
  const a = norm(answer);
  if (g === "") return false;
  const gn = Number(g.replace(/,/g, ""));
  const an = Number(a.replace(/,/g, ""));
  if (a !== "" && Number.isFinite(gn) && Number.isFinite(an)) return gn === an;
  return g === a;
}

/** The prediction form: the reader's guess, Skip, and the reveal after the first Run. */
export class Predict {
  private skipped = false;
  private revealed = false;
  private readonly result: HTMLElement;

  constructor(private readonly form: HTMLFormElement) {
    this.result = form.querySelector<HTMLElement>(".pg-predict-result")!;
    form.querySelector('[data-action="skip-predict"]')?.addEventListener("click", () => this.skip());
  }

  private inputs(): HTMLInputElement[] {
    return [...this.form.querySelectorAll<HTMLInputElement>("input")];
  }

  private guess(): string {
    const inputs = this.inputs();
    const text = inputs.find((i) => i.type === "text");
    if (text) return text.value;
    return inputs.find((i) => i.checked)?.value ?? "";
  }

  private skip(): void {
    if (this.revealed) return;
    this.skipped = true;
    for (const input of this.inputs()) input.disabled = true;
    this.form.dataset.state = "skipped";
    this.result.textContent = "Skipped: the answer appears after you press Run.";
  }

  /** After a Run: shows the answer beside the reader's guess (once). */
  reveal(): void {
    if (this.revealed) return;
    this.revealed = true;
    const answer = this.form.dataset.answer ?? "";
    const guess = this.guess();
    for (const input of this.inputs()) input.disabled = true;
    this.form.querySelector<HTMLButtonElement>('[data-action="skip-predict"]')?.setAttribute("hidden", "");
    let verdict: "right" | "wrong" | "none";
    if (this.skipped || guess.trim() === "") verdict = "none";
    else verdict = judgeGuess(guess, answer) ? "right" : "wrong";
    this.form.dataset.state = verdict;
    const said = `You said ${guess.trim()}`;
    this.result.textContent =
      verdict === "right"
        ? `Answer: ${answer}. ${said}: right.`
        : verdict === "wrong"
          ? `Answer: ${answer}. ${said}: not this time; the trace shows why.`
          : `Answer: ${answer}.`;
  }
}

type Verdict = "pass" | "fail" | "error";

/** Shows a check's verdict in the embed's status area (a live region: screen readers hear it). */
export async function showVerdict(box: HTMLElement, checkId: string, outcome: RunOutcome): Promise<Verdict> {
  let verdict: Verdict;
  let text: string;
  try {
    const { CHECKS } = await import("./checks.js");
    const check = Object.hasOwn(CHECKS, checkId) ? CHECKS[checkId] : undefined;
    if (!check) {
      verdict = "error";
      text = `This exercise names a check (“${checkId}”) the site does not have.`;
    } else {
      const result = check(outcome);
      verdict = result.pass ? "pass" : "fail";
      text = result.pass ? `Passed: ${result.message}` : `Not yet: ${result.message}`;
    }
  } catch (err) {
    verdict = "error";
    text = `The check could not run (${err instanceof Error ? err.message : String(err)}).`;
  }
  box.dataset.verdict = verdict;
  box.querySelector(".pg-check-text")!.textContent = text;
  return verdict;
}

/** The status area before a verdict: what to do, or that the run is under way. */
export function pendingVerdict(box: HTMLElement, text: string): void {
  box.dataset.verdict = "pending";
  box.querySelector(".pg-check-text")!.textContent = text;
}
