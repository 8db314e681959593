// A newcomer's path through the built site: the home page is a landing with the question, a
// picture and something to run; the overview pictures are on the pages they explain, each with
// a text alternative; the thread page (second in the reading order) links the terms a newcomer
// meets to the glossary, and the glossary defines each of them.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const dist = new URL("../../dist/", import.meta.url).pathname;
const page = (url: string) => readFileSync(join(dist, url, "index.html"), "utf8");

/** The terms a newcomer must be able to look up, with their glossary anchors. */
const TERMS: Record<string, string> = {
  VP: "vp",
  P2M: "p2m",
  "P==M": "pm",
  "dom0, domU": "dom0-domu-driver-domain",
  "blkfront/blkback": "blkfrontblkback-netfrontnetback",
  grant: "grant-table-grant-reference",
  skb: "skb-skb-slab-cache",
  GART: "gart",
  kmap: "kmap",
  PCI_DMA_BUS_IS_PHYS: "pci_dma_bus_is_phys",
};

/** The overview pictures (figure.dl-figure) of a page, each as its HTML. */
const diagrams = (html: string) => [...html.matchAll(/<figure class="dl-figure[^"]*"[\s\S]*?<\/figure>/g)].map((m) => m[0]);

describe("a newcomer's path", () => {
  it("the home page is a landing: the question, the picture, a playground, then the reading order", () => {
    const html = page("/");
    const hero = /<div class="hero[\s\S]*?<\/div>\s*<\/div>/.exec(html)?.[0] ?? "";
    expect(hero).toMatch(/machine addresses/);
    expect(diagrams(html)).toHaveLength(1);
    expect(html).toMatch(/class="dma-playground/);
    const order = [...html.matchAll(/<li><a href="(\/[^"]*)"/g)].map((m) => m[1]);
    expect(order.slice(0, 2)).toEqual(["/playground-basics/", "/thread/"]);
  });

  it.each([
    ["/", "Four ways to a bus address"],
    ["/thread/", "The layers and the thread's positions"],
    ["/foreign-pages/", "The split-driver I/O path"],
  ])("%s shows the picture %s, labelled and told in words", (url, name) => {
    const figure = diagrams(page(url)).find((f) => f.includes(name));
    expect(figure, `no picture "${name}" on ${url}`).toBeDefined();
    expect(figure).toMatch(/<svg[^>]*role="img"[^>]*aria-label="[^"]{40,}"/);
    const words = /<details>[\s\S]*?The picture in words[\s\S]*?<\/details>/.exec(figure!)?.[0] ?? "";
    expect(words.replace(/<[^>]+>/g, " ").split(/\s+/).length).toBeGreaterThan(40);
  });

  it.each(Object.entries(TERMS))("the glossary defines %s, and the thread page links it", (_term, anchor) => {
    expect(page("/reference/glossary/")).toContain(`id="${anchor}"`);
    expect(page("/thread/")).toContain(`href="/reference/glossary/#${anchor}"`);
  });
});
