// The build step that keeps the pages' root-relative links under the site's base path.
import { describe, expect, test } from "vitest";
import { normalizeBase, rehypeBaseLinks, withBase } from "../../src/build/rehype-base-links.js";

describe("withBase", () => {
  test("prefixes root-relative links, keeping their #anchor", () => {
    expect(withBase("/addresses/", "/dma-lab/")).toBe("/dma-lab/addresses/");
    expect(withBase("/thread/#afterwards-briefly", "dma-lab")).toBe("/dma-lab/thread/#afterwards-briefly");
    expect(withBase("/", "/dma-lab")).toBe("/dma-lab/");
  });

  test("leaves external, protocol-relative, relative, in-page and already-based links alone", () => {
    for (const url of ["https://example.org/x", "//cdn.example.org/x", "glossary/", "#anchor", "mailto:a@b", "/dma-lab/costs/", "/dma-lab"])
      expect(withBase(url, "/dma-lab/")).toBe(url);
  });

  test("does nothing at the root", () => {
    expect(normalizeBase("/")).toBe("");
    expect(withBase("/addresses/", "/")).toBe("/addresses/");
  });
});

describe("rehypeBaseLinks", () => {
  test("rewrites Markdown links, images, srcset and MDX JSX attributes", () => {
    const tree = {
      type: "root",
      children: [
        { type: "element", tagName: "a", properties: { href: "/dma-api/" }, children: [] },
        { type: "element", tagName: "img", properties: { src: "/favicon.svg", srcSet: "/a.png 1x, /b.png 2x" }, children: [] },
        { type: "mdxJsxTextElement", name: "a", attributes: [{ type: "mdxJsxAttribute", name: "href", value: "/costs/" }], children: [] },
      ],
    };
    rehypeBaseLinks({ base: "/dma-lab/" })(tree);
    expect(tree.children[0]).toMatchObject({ properties: { href: "/dma-lab/dma-api/" } });
    expect(tree.children[1]).toMatchObject({ properties: { src: "/dma-lab/favicon.svg", srcSet: "/dma-lab/a.png 1x, /dma-lab/b.png 2x" } });
    expect(tree.children[2]).toMatchObject({ attributes: [{ value: "/dma-lab/costs/" }] });
  });
});
