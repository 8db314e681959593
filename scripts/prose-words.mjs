// Words of prose per docs page: MDX minus front matter, imports, code blocks and component tags.
// Usage: node scripts/prose-words.mjs [docs-dir]
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const root = process.argv[2] ?? "docs";

function mdxFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? mdxFiles(path) : name.endsWith(".mdx") ? [path] : [];
  });
}

export function proseWords(mdx) {
  const prose = mdx
    .replace(/^---\n[\s\S]*?\n---\n/, "")
    .replace(/^import .*$/gm, "")
    .replace(/```[\s\S]*?```/g, "")
    .replace(/<(Playground|CostModelTable|LiteratureTable|CostChart|ApiReference)\b[\s\S]*?\/>/g, "")
    .replace(/<\/?[A-Za-z][^>]*>/g, "");
  return prose.split(/\s+/).filter((w) => /[A-Za-z0-9]/.test(w)).length;
}

let total = 0;
for (const file of mdxFiles(root).sort()) {
  const words = proseWords(readFileSync(file, "utf8"));
  total += words;
  console.log(`${String(words).padStart(6)}  ${relative(root, file)}`);
}
console.log(`${String(total).padStart(6)}  total`);
