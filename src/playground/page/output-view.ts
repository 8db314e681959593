// Renders run events as lines in the output area. Console lines and errors look different
// (class names, and an "Error" prefix so the difference does not rest on colour alone).
import type { RunEvent } from "./run.js";
// biome-ignore lint/correctness/useImportExtensions: a stylesheet, bundled by Vite
import "./output-view.css";

export class OutputView {
  constructor(private readonly root: HTMLElement) {}

  clear(): void {
    this.root.replaceChildren();
  }

  note(text: string): void {
    this.append("pg-note", text);
  }

  show(event: RunEvent): void {
    switch (event.type) {
      case "console":
        this.append(`pg-line pg-${event.level}`, event.text);
        break;
      case "error": {
        const where = event.line !== undefined ? ` (line ${event.line})` : "";
        const code = event.code !== undefined ? ` [${event.code}]` : "";
        this.append("pg-error", `${event.name}${code}: ${event.message}${where}`);
        break;
      }
      case "timeout":
        this.append("pg-error pg-timeout", timeoutText(event));
        break;
      case "crash":
        this.append("pg-error", `The runner failed: ${event.message}`);
        break;
    }
  }

  private append(className: string, text: string): void {
    const line = document.createElement("div");
    line.className = className;
    line.textContent = text;
    this.root.append(line);
  }
}

function timeoutText(event: Extract<RunEvent, { type: "timeout" }>): string {
  const limit = `${event.limitMs / 1000} s`;
  const pending = event.pending;
  if (!pending) return `Stopped: your code ran longer than ${limit} (time limit). Look for a loop that never ends.`;
  const what = [
    pending.awaiting && "its top level was still awaiting a promise that never settled",
    pending.timers > 0 &&
      `${pending.timers} ${pending.timers === 1 ? "timer was" : "timers were"} still pending (a setInterval never cleared?)`,
  ].filter(Boolean);
  return `Stopped: your code ran longer than ${limit} (time limit): ${what.join("; ")}.`;
}
