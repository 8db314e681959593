// Geometry measured in the page (passed to page.evaluate, so each function is self-contained):
// the document's sideways scroll and every visible picture drawn by the simulator (label sizes,
// overlaps, labels cut off), shared by the page suite and the results-views suite.

/** Runs in the page: measures the document and every visible picture. */
export function measure(minLabelPx: number) {
  const visible = (r: DOMRect) => r.width > 0 && r.height > 0;
  const describe = (t: SVGTextElement) => JSON.stringify((t.textContent ?? "").slice(0, 40));
  const small: string[] = [];
  const overlaps: string[] = [];
  const clipped: string[] = [];
  let pictures = 0;
  let labels = 0;
  for (const svg of document.querySelectorAll<SVGSVGElement>("svg.dmalab")) {
    const box = svg.getBoundingClientRect();
    if (!visible(box) || getComputedStyle(svg).display === "none" || svg.closest("[hidden]")) continue;
    pictures++;
    const scale = svg.getScreenCTM()?.a ?? 1;
    const name =
      svg.closest("figure")?.dataset.scenario ??
      svg.closest("figure")?.dataset.study ??
      svg.getAttribute("aria-label")?.slice(0, 30) ??
      "picture";
    const texts = [...svg.querySelectorAll<SVGTextElement>("text")]
      .filter((t) => (t.textContent ?? "").trim() !== "")
      .map((t) => ({ t, r: t.getBoundingClientRect() }))
      .filter(({ r }) => visible(r));
    labels += texts.length;
    for (const { t, r } of texts) {
      const rendered = parseFloat(getComputedStyle(t).fontSize) * scale;
      if (rendered < minLabelPx - 0.05) small.push(`${name}: ${describe(t)} ${rendered.toFixed(1)} px`);
      if (r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1 || r.bottom > box.bottom + 1)
        clipped.push(`${name}: ${describe(t)}`);
    }
    // Text boxes include the font's ascent and descent: stacked lines touch by a pixel or two,
    // which is not an overlap a reader sees; glyphs on top of glyphs overlap by much more.
    for (let i = 0; i < texts.length; i++) {
      for (let j = i + 1; j < texts.length; j++) {
        const a = texts[i]!.r;
        const b = texts[j]!.r;
        const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
        const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
        if (w > 2 && h > 0.35 * Math.min(a.height, b.height)) overlaps.push(`${name}: ${describe(texts[i]!.t)} × ${describe(texts[j]!.t)}`);
      }
    }
  }
  // The copy button against the visible part of line 1's text (a Range measures the glyphs only).
  const covered: string[] = [];
  document.querySelectorAll<HTMLElement>(".dma-playground .pg-static .expressive-code").forEach((block, n) => {
    const button = block.querySelector(".copy button")?.getBoundingClientRect();
    const line = block.querySelector(".ec-line");
    const pre = block.querySelector("pre")?.getBoundingClientRect();
    if (!button || !line || !pre || !visible(button)) return;
    const range = document.createRange();
    range.selectNodeContents(line);
    const glyphs = range.getBoundingClientRect();
    const right = Math.min(glyphs.right, pre.right);
    if (
      Math.min(right, button.right) > Math.max(glyphs.left, button.left) &&
      Math.min(glyphs.bottom, button.bottom) > Math.max(glyphs.top, button.top)
    )
      covered.push(`embed ${n}`);
  });
  const root = document.documentElement;
  return {
    theme: root.dataset.theme,
    scrollWidth: root.scrollWidth,
    clientWidth: root.clientWidth,
    pictures,
    labels,
    small,
    overlaps,
    clipped,
    covered,
  };
}

/**
 * Runs in the page: the HTML text of the visible results views and Compare panels (`selector`).
 * - overlaps: two text boxes (a Range per text node, one box per line) on top of each other;
 * - sideways: a box inside them that scrolls sideways (a column cut off until the reader scrolls);
 * - scrollsDown: a box that hides rows below it, other than those `mayScrollDown` matches (the
 *   trace and Compare's consoles are long on purpose; a stats table is not);
 * - headerShort: a table whose header background stops before its rows end;
 * - narrowMessage: a trace whose Message column is under half the table's width;
 * - smallSlider: a step slider under half the width of its row of controls.
 */
export function measureResults({ selector, mayScrollDown }: { selector: string; mayScrollDown: string }) {
  const shown = (el: Element) => el.checkVisibility({ visibilityProperty: true } as CheckVisibilityOptions);
  const name = (el: Element) =>
    `${el.tagName.toLowerCase()}${el.className && typeof el.className === "string" ? `.${el.className.trim().split(/\s+/).join(".")}` : ""}`;
  const roots = [...document.querySelectorAll<HTMLElement>(selector)].filter(shown);
  type Box = { left: number; top: number; right: number; bottom: number };
  const clips = new Map<Element, Box>();
  /** The part of the window an element's content can show in: its clipping ancestors, intersected. */
  const clipOf = (el: Element | null): Box => {
    if (!el || el === document.documentElement) return { left: -Infinity, top: -Infinity, right: Infinity, bottom: Infinity };
    const known = clips.get(el);
    if (known) return known;
    const outer = clipOf(el.parentElement);
    const style = getComputedStyle(el);
    const r = el.getBoundingClientRect();
    const box = { ...outer };
    if (style.overflowX !== "visible") {
      box.left = Math.max(box.left, r.left);
      box.right = Math.min(box.right, r.right);
    }
    if (style.overflowY !== "visible") {
      box.top = Math.max(box.top, r.top);
      box.bottom = Math.min(box.bottom, r.bottom);
    }
    clips.set(el, box);
    return box;
  };
  const texts: { box: Box; text: string }[] = [];
  const sideways: string[] = [];
  const scrollsDown: string[] = [];
  const headerShort: string[] = [];
  const narrowMessage: string[] = [];
  const smallSlider: string[] = [];
  for (const root of roots) {
    for (const slider of root.querySelectorAll<HTMLInputElement>('input[type="range"]')) {
      const row = slider.parentElement!.getBoundingClientRect().width;
      const width = slider.getBoundingClientRect().width;
      if (shown(slider) && width < row / 2) smallSlider.push(`slider ${Math.round(width)} px in a ${Math.round(row)} px row`);
    }
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const parent = node.parentElement;
      if (!parent || (node.textContent ?? "").trim() === "" || parent.closest("svg") || !shown(parent)) continue;
      const range = document.createRange();
      range.selectNodeContents(node);
      const clip = clipOf(parent);
      for (const r of range.getClientRects()) {
        const box = {
          left: Math.max(r.left, clip.left),
          top: Math.max(r.top, clip.top),
          right: Math.min(r.right, clip.right),
          bottom: Math.min(r.bottom, clip.bottom),
        };
        if (box.right - box.left > 1 && box.bottom - box.top > 1) texts.push({ box, text: (node.textContent ?? "").trim().slice(0, 30) });
      }
    }
    for (const el of root.querySelectorAll("*")) {
      if (!shown(el) || el.closest("svg")) continue;
      const style = getComputedStyle(el);
      const scrolls = (o: string) => o === "auto" || o === "scroll";
      if (scrolls(style.overflowX) && el.scrollWidth > el.clientWidth + 1)
        sideways.push(`${name(el)} ${el.scrollWidth} px in ${el.clientWidth} px`);
      if (scrolls(style.overflowY) && el.scrollHeight > el.clientHeight + 1 && !el.matches(mayScrollDown))
        scrollsDown.push(`${name(el)} ${el.scrollHeight} px in ${el.clientHeight} px`);
    }
    for (const table of root.querySelectorAll<HTMLTableElement>("table")) {
      const row = table.tBodies[0]?.rows[0];
      // A header hidden but for screen readers (stacked rows) paints nothing to measure.
      if (!table.tHead || !row || !shown(table) || table.tHead.getBoundingClientRect().width <= 1) continue;
      const painted = [table.tHead, ...table.tHead.querySelectorAll("*")].filter((el) => {
        const bg = getComputedStyle(el).backgroundColor;
        return el.getBoundingClientRect().width > 1 && bg !== "transparent" && !/rgba\(.*, 0\)$/.test(bg);
      });
      const headerRight = Math.max(...painted.map((el) => el.getBoundingClientRect().right));
      const rowRight = row.getBoundingClientRect().right;
      if (headerRight < rowRight - 1)
        headerShort.push(
          `${name(table)}: header background ends at ${Math.round(headerRight - row.getBoundingClientRect().left)} px of ${Math.round(row.getBoundingClientRect().width)} px`,
        );
      if (table.classList.contains("pg-trace")) {
        const message = row.cells[2]!.getBoundingClientRect().width;
        const width = table.getBoundingClientRect().width;
        if (message < width / 2) narrowMessage.push(`Message ${Math.round(message)} px of ${Math.round(width)} px`);
      }
    }
  }
  // Text boxes include the font's ascent and descent: stacked lines touch by a pixel or two.
  const overlaps: string[] = [];
  texts.sort((a, b) => a.box.top - b.box.top);
  for (let i = 0; i < texts.length; i++) {
    const a = texts[i]!;
    for (let j = i + 1; j < texts.length && texts[j]!.box.top < a.box.bottom; j++) {
      const b = texts[j]!;
      const w = Math.min(a.box.right, b.box.right) - Math.max(a.box.left, b.box.left);
      const h = Math.min(a.box.bottom, b.box.bottom) - Math.max(a.box.top, b.box.top);
      if (w > 2 && h > 0.35 * Math.min(a.box.bottom - a.box.top, b.box.bottom - b.box.top))
        overlaps.push(`${JSON.stringify(a.text)} × ${JSON.stringify(b.text)}`);
    }
  }
  return { views: roots.length, texts: texts.length, overlaps, sideways, scrollsDown, headerShort, narrowMessage, smallSlider };
}
