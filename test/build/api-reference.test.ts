// The reference pages: the API page is generated from src/sim/index.ts's types and TSDoc at build
// time (src/build/api-reference.ts, src/components/ApiReference.astro), so an export added to the
// simulator shows up on it; the configuration page lists every SimError code.
import { existsSync, readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { API_GROUPS, apiReference } from "../../src/build/api-reference.js";

const dist = new URL("../../dist/", import.meta.url);
const read = (path: string): string => readFileSync(new URL(path, dist), "utf8");
const apiPage = new URL("../../docs/reference/api.mdx", import.meta.url);

/** The entry with this anchor: from its opening tag to the next entry of the same kind. */
function entry(html: string, id: string, tag: "section" | "dt"): string {
  const start = html.search(new RegExp(`<${tag}\\b[^>]*\\bid="${id.replace(".", "\\.")}"`));
  expect(start, `no <${tag} id="${id}"> on the page`).toBeGreaterThanOrEqual(0);
  const end = html.indexOf(tag === "dt" ? "</dd>" : "</section>", start);
  return html.slice(start, end);
}

describe("API reference model (from the TypeScript compiler)", () => {
  const items = apiReference();

  test("every export of src/sim/index.ts is listed once, in one of the page groups, with its doc text", () => {
    expect(items.length).toBeGreaterThan(100);
    expect(items.filter((i) => i.group === "other").map((i) => i.name)).toEqual([]);
    expect(new Set(items.map((i) => i.id)).size).toBe(items.length);
    expect(items.filter((i) => i.html.trim() === "").map((i) => i.name)).toEqual([]);
  });

  test("docs/reference/api.mdx renders every group that has exports", () => {
    const page = readFileSync(apiPage, "utf8");
    const used = new Set(items.map((i) => i.group));
    for (const group of API_GROUPS.filter((g) => used.has(g.id))) {
      expect(page, `api.mdx lacks <ApiReference group="${group.id}" />`).toContain(`<ApiReference group="${group.id}" />`);
    }
  });

  test("signatures come from the declarations, with defaults, and members carry their own docs", () => {
    const byName = new Map(items.map((i) => [i.name, i]));
    expect(byName.get("createMachine")!.signature).toBe("function createMachine(config: MachineConfig): Machine");
    expect(byName.get("packetStream")!.signature).toContain("options: PacketStreamOptions = {}");
    const mapSingle = byName.get("DmaApi")!.members.find((m) => m.name === "mapSingle")!;
    expect(mapSingle.signature).toBe("mapSingle(address: number, size: number, dir: Direction): number");
    expect(mapSingle.html).toContain("dma_map_single()");
    expect(mapSingle.examples.join("\n")).toContain("dma.mappingError(bus)");
    // Members tagged @internal stay off the page.
    expect(byName.get("Machine")!.members.map((m) => m.name)).not.toContain("emit");
  });
});

describe("built reference pages", () => {
  test("dist/ exists (npm test builds first)", () => {
    expect(existsSync(new URL("reference/api/index.html", dist))).toBe(true);
  });

  test("the API page lists createMachine, DmaApi.mapSingle with its doc text, and SimError", () => {
    const html = read("reference/api/index.html");
    expect(entry(html, "createMachine", "section")).toContain("Creates a simulated machine");
    expect(entry(html, "createMachine", "section")).toContain('<a href="#MachineConfig">MachineConfig</a>');
    const mapSingle = entry(html, "DmaApi.mapSingle", "dt");
    expect(mapSingle).toContain('mapSingle(address: number, size: number, dir: <a href="#Direction">Direction</a>): number');
    expect(mapSingle).toContain("dma_map_single(): maps <code>size</code> bytes");
    expect(entry(html, "SimError", "section")).toContain("The one error type the simulator throws");
    expect(entry(html, "SimError", "section")).toContain('id="SimError.code"');
  });

  test("the configuration page lists every SimError code and the glossary defines the thread's terms", () => {
    const codes = apiReference()
      .find((i) => i.name === "SimErrorCode")!
      .signature.match(/"[A-Z_]+"/g)!
      .map((c) => c.slice(1, -1));
    expect(codes.length).toBeGreaterThan(15);
    const config = read("reference/configuration/index.html");
    for (const code of codes) expect(config, `configuration page lacks ${code}`).toContain(`<code>${code}</code>`);
    const glossary = read("reference/glossary/index.html");
    for (const term of [
      "P2M",
      "P==M",
      "VP",
      "IOTLB",
      "swiotlb",
      "Maptrack handle",
      "PCI_DMA_BUS_IS_PHYS",
      "BIOVEC_PHYS_MERGEABLE",
      "dma-debug",
    ]) {
      expect(glossary, `glossary lacks ${term}`).toMatch(new RegExp(`<h3[^>]*>${term.replace(/[=]/g, "\\$&")}`));
    }
  });
});
