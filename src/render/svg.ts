/**
 * A tiny SVG string builder: escaping, attributes, elements. The renderers build strings (no DOM),
 * so they run the same at build time (Astro) and in the browser.
 */

/** Attribute values; `undefined`, `null` and `false` drop the attribute. */
export type AttrValue = string | number | boolean | null | undefined;

/** Escapes text for XML content and attribute values. */
export function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

/** Coordinates rounded to 0.1 px: shorter output, no visible difference. */
export function px(value: number): string {
  const rounded = Math.round(value * 10) / 10;
  return Object.is(rounded, -0) ? "0" : String(rounded);
}

/** Renders attributes; numbers go through {@link px}. */
export function attrs(values: Record<string, AttrValue>): string {
  let out = "";
  for (const [name, value] of Object.entries(values)) {
    if (value === undefined || value === null || value === false) continue;
    out += ` ${name}="${value === true ? name : typeof value === "number" ? px(value) : esc(value)}"`;
  }
  return out;
}

/** One element; children are already-rendered markup. No children: self-closing. */
export function el(tag: string, values: Record<string, AttrValue>, ...children: string[]): string {
  const body = children.join("");
  return body === "" ? `<${tag}${attrs(values)}/>` : `<${tag}${attrs(values)}>${body}</${tag}>`;
}

/** A `<title>` child: the hover tooltip of its parent. */
export function tooltip(text: string): string {
  return `<title>${esc(text)}</title>`;
}

/** A `<text>` element with escaped content. */
export function text(x: number, y: number, content: string, values: Record<string, AttrValue> = {}): string {
  return el("text", { x, y, ...values }, esc(content));
}

/** Average advance of a character, in ems, of a proportional sans-serif (bold runs wider). */
const charEm = (bold: boolean): number => (bold ? 0.64 : 0.58);

/** Rough width of `content` at `fontSize` (proportional sans-serif average): for fitting labels without a DOM. */
export function textWidth(content: string, fontSize: number, bold = false): number {
  return content.length * fontSize * charEm(bold);
}

/** Shortens `content` with an ellipsis so it fits `width` at `fontSize` (empty if nothing fits). */
export function fitText(content: string, width: number, fontSize: number, bold = false): string {
  if (textWidth(content, fontSize, bold) <= width) return content;
  const chars = Math.floor(width / (fontSize * charEm(bold))) - 1;
  return chars < 2 ? "" : `${content.slice(0, chars)}…`;
}

/**
 * Breaks `content` at spaces into at most `maxLines` lines that fit `width`; the last line is
 * shortened with an ellipsis if words are left over. A narrow picture keeps its whole heading.
 */
export function wrapText(content: string, width: number, fontSize: number, maxLines: number, bold = false): string[] {
  const lines: string[] = [];
  let rest = content.trim();
  while (rest && lines.length < maxLines - 1 && textWidth(rest, fontSize, bold) > width) {
    const fit = Math.floor(width / (fontSize * charEm(bold)));
    const cut = rest.lastIndexOf(" ", fit);
    if (cut <= 0) break;
    lines.push(rest.slice(0, cut));
    rest = rest.slice(cut + 1).trimStart();
  }
  if (rest) lines.push(fitText(rest, width, fontSize, bold));
  return lines;
}

/** A short deterministic hash (FNV-1a) for element ids: inline SVGs share one id namespace per page. */
export function shortHash(input: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < input.length; i++) {
    h ^= input.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(36);
}

/** A picture's heading (class dm-title, 13 px bold) from (x, y) on, in up to two lines. Returns the markup and its height. */
export function drawTitle(x: number, y: number, title: string, width: number): { svg: string; height: number } {
  const lines = wrapText(title, width, 13, 2, true);
  return {
    svg: lines.map((line, i) => text(x, y + 13 + i * 16, line, { class: "dm-title" })).join(""),
    height: 20 + (lines.length - 1) * 16,
  };
}
