// The code as shown before the editor loads: the page's highlighted block for the page's own code,
// or a block for code restored from a share link or a saved edit, shown plain at once and then
// coloured by highlight-ts.ts (loaded then: the build's highlighter is not on the page). Either
// can mark one line: a trace event's line.

const HIGHLIGHT = "pg-highlight";
const ERROR_LINE = "pg-error-line";

export class StaticCode {
  private showingOriginal = true;

  constructor(
    private readonly highlighted: HTMLElement,
    private readonly plain: HTMLElement,
    private readonly original: string,
  ) {}

  /** Shows `code` (the page's highlighted block when it is the page's code). */
  show(code: string): void {
    this.showingOriginal = code === this.original;
    this.highlighted.hidden = !this.showingOriginal;
    this.plain.hidden = this.showingOriginal;
    if (this.showingOriginal) return;
    const lines = code
      .replace(/\n$/, "")
      .split("\n")
      .map((text) => {
        const line = document.createElement("span");
        line.className = "pg-line";
        line.textContent = text;
        return line;
      });
    this.plain.querySelector("code")!.replaceChildren(...lines);
    void import("./highlight-ts.js").then(
      ({ highlightLines }) => {
        if (this.plain.querySelector("code")!.firstChild !== lines[0]) return; // shown something else since
        highlightLines(code.replace(/\n$/, "")).forEach((tokens, i) => {
          lines[i]?.replaceChildren(
            ...tokens.map(({ text, kind }) =>
              kind ? Object.assign(document.createElement("span"), { className: `pg-tok-${kind}`, textContent: text }) : text,
            ),
          );
        });
        this.plain.dataset.highlighted = "";
      },
      () => undefined,
    ); // plain text is still readable
  }

  /** Hides both blocks (the editor took over). */
  hide(): void {
    this.highlighted.hidden = true;
    this.plain.hidden = true;
  }

  /** Marks 1-based `line` and scrolls it into view; false if there is no such line shown. */
  highlight(line: number): boolean {
    return this.mark(line, HIGHLIGHT);
  }

  /** Marks the line a run failed on (undefined clears the mark); false if there is no such line shown. */
  markError(line: number | undefined): boolean {
    return this.mark(line, ERROR_LINE);
  }

  private mark(line: number | undefined, className: string): boolean {
    const box = this.showingOriginal ? this.highlighted : this.plain;
    for (const old of [this.highlighted, this.plain].flatMap((b) => [...b.querySelectorAll(`.${className}`)]))
      old.classList.remove(className);
    if (line === undefined) return false;
    const target = box.querySelectorAll<HTMLElement>(this.showingOriginal ? ".ec-line" : ".pg-line")[line - 1];
    if (!target || box.hidden) return false;
    target.classList.add(className);
    target.scrollIntoView({ block: "nearest" });
    return true;
  }
}
