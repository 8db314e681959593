/**
 * Tiny SVG builders for the hand-laid overview pictures (home page, layers, split-driver path).
 * Unlike src/render (drawn from simulator snapshots), these pictures are fixed drawings: boxes,
 * arrows and numbered markers at given coordinates. Colours come from classes styled in
 * diagram.css with Starlight's theme variables, so one SVG serves light and dark themes.
 */

/** Escapes text for SVG content and attributes. */
export function esc(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** Line height of diagram text, in SVG units. */
const LINE = 14;

/** Text lines centred at (x, y): the first line bold when `heading` is set. */
export function label(
  x: number,
  y: number,
  lines: readonly string[],
  options: { heading?: boolean; anchor?: "start" | "middle" | "end"; cls?: string } = {},
): string {
  const anchor = options.anchor ?? "middle";
  const top = y - ((lines.length - 1) * LINE) / 2;
  return lines
    .map((line, i) => {
      const cls = [options.cls, options.heading && i === 0 ? "dl-strong" : ""].filter(Boolean).join(" ");
      return `<text x="${x}" y="${top + i * LINE}" text-anchor="${anchor}" dominant-baseline="middle"${cls ? ` class="${cls}"` : ""}>${esc(line)}</text>`;
    })
    .join("");
}

/** A rounded box with centred text; the first line is its name (bold). */
export function box(x: number, y: number, w: number, h: number, lines: readonly string[], cls = "dl-box"): string {
  return `<rect x="${x}" y="${y}" width="${w}" height="${h}" rx="6" class="${cls}"/>${label(x + w / 2, y + h / 2, lines, { heading: true })}`;
}

/** A straight arrow from (x1, y1) to (x2, y2), head at the end (both ends with `both`). */
export function arrow(x1: number, y1: number, x2: number, y2: number, cls = "dl-arrow", both = false): string {
  return `<line x1="${x1}" y1="${y1}" x2="${x2}" y2="${y2}" class="${cls}" marker-end="url(#dl-head)"${both ? ' marker-start="url(#dl-head)"' : ""}/>`;
}

/** A numbered marker: a filled circle with the number, keyed to the picture's legend. */
export function marker(x: number, y: number, n: number | string, cls = "dl-marker"): string {
  return `<circle cx="${x}" cy="${y}" r="9" class="${cls}"/><text x="${x}" y="${y}" text-anchor="middle" dominant-baseline="central" class="dl-marker-text">${esc(String(n))}</text>`;
}

/** The whole SVG: a titled, described image whose arrowheads follow the arrow's colour class. */
export function svg(width: number, height: number, title: string, body: string): string {
  const defs =
    `<defs><marker id="dl-head" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">` +
    `<path d="M0,0 L10,5 L0,10 z" class="dl-head"/></marker></defs>`;
  return `<svg class="dl-diagram" viewBox="0 0 ${width} ${height}" role="img" aria-label="${esc(title)}" xmlns="http://www.w3.org/2000/svg">${defs}${body}</svg>`;
}
