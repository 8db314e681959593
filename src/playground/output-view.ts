// Renders run events as lines in the output area. Console lines and errors look different
// (class names, and an "Error" prefix so the difference does not rest on colour alone).
import type { RunEvent } from './run';

export class OutputView {
  constructor(private readonly root: HTMLElement) {}

  clear(): void {
    this.root.replaceChildren();
  }

  note(text: string): void {
    this.append('pg-note', text);
  }

  show(event: RunEvent): void {
    switch (event.type) {
      case 'console':
        this.append(`pg-line pg-${event.level}`, event.text);
        break;
      case 'error': {
        const where = event.line !== undefined ? ` (line ${event.line})` : '';
        const code = event.code !== undefined ? ` [${event.code}]` : '';
        this.append('pg-error', `${event.name}${code}: ${event.message}${where}`);
        break;
      }
      case 'timeout':
        this.append(
          'pg-error pg-timeout',
          `Stopped: your code ran longer than ${event.limitMs / 1000} s (time limit). Look for a loop that never ends.`,
        );
        break;
      case 'crash':
        this.append('pg-error', `The runner failed: ${event.message}`);
        break;
    }
  }

  private append(className: string, text: string): void {
    const line = document.createElement('div');
    line.className = className;
    line.textContent = text;
    this.root.append(line);
  }
}
