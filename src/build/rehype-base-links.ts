// Puts the pages' own root-relative links under the site's base path at build time.
//
// The MDX pages link to each other as `/addresses/`; served from a sub-path (a project site at
// /dma-lab/) those would leave the site. This rehype plugin rewrites `href`/`src` that start
// with one `/` (not `//host`) to `<base>/...`, on HTML elements that Markdown produced and on
// JSX elements written in MDX, so authors keep writing plain root-relative links.

/** The bits of a hast / MDX-hast node this plugin reads; the real trees carry more. */
interface TreeNode {
  type: string;
  properties?: Record<string, unknown>;
  attributes?: { type: string; name?: string; value?: unknown }[];
  children?: TreeNode[];
}

const URL_ATTRIBUTES = new Set(["href", "src", "srcset", "poster"]);

/** `/dma-lab`, `dma-lab/`, `/dma-lab/` → `/dma-lab`; `/` or empty → `` (no prefix). */
export function normalizeBase(base: string | undefined): string {
  const trimmed = (base ?? "").replace(/^\/+|\/+$/g, "");
  return trimmed ? `/${trimmed}` : "";
}

/** Prefixes a root-relative URL with `base` (normalized); leaves every other URL, and URLs already under base, alone. */
export function withBase(url: string, base: string): string {
  const prefix = normalizeBase(base);
  if (!prefix || !url.startsWith("/") || url.startsWith("//")) return url;
  if (url === prefix || url.startsWith(`${prefix}/`) || url.startsWith(`${prefix}#`) || url.startsWith(`${prefix}?`)) return url;
  return prefix + url;
}

/** `srcset` lists several URLs, each followed by an optional descriptor. */
function rewrite(name: string, value: string, base: string): string {
  if (name !== "srcset") return withBase(value, base);
  return value
    .split(",")
    .map((part) => part.replace(/^(\s*)(\S+)/, (_m, space: string, url: string) => space + withBase(url, base)))
    .join(",");
}

function visit(node: TreeNode, base: string): void {
  if (node.type === "element" && node.properties) {
    for (const [name, value] of Object.entries(node.properties)) {
      if (URL_ATTRIBUTES.has(name.toLowerCase()) && typeof value === "string")
        node.properties[name] = rewrite(name.toLowerCase(), value, base);
    }
  }
  if ((node.type === "mdxJsxFlowElement" || node.type === "mdxJsxTextElement") && node.attributes) {
    for (const attribute of node.attributes) {
      if (
        attribute.type === "mdxJsxAttribute" &&
        attribute.name &&
        URL_ATTRIBUTES.has(attribute.name.toLowerCase()) &&
        typeof attribute.value === "string"
      ) {
        attribute.value = rewrite(attribute.name.toLowerCase(), attribute.value, base);
      }
    }
  }
  for (const child of node.children ?? []) visit(child, base);
}

/** The rehype plugin: `rehypePlugins: [[rehypeBaseLinks, { base }]]` with Astro's `base`. */
export function rehypeBaseLinks(options: { base?: string } = {}) {
  const base = options.base ?? "/";
  return (tree: TreeNode): void => {
    if (normalizeBase(base)) visit(tree, base);
  };
}
