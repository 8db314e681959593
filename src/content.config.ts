// Starlight normally reads src/content/docs/; we keep the pages in a top-level docs/ folder
// (the site's content, not its code), so the docs collection uses Astro's glob loader there
// with the same file pattern Starlight's own docsLoader uses.
import { defineCollection } from "astro:content";
import { glob } from "astro/loaders";
import { docsSchema } from "@astrojs/starlight/schema";

export const collections = {
  docs: defineCollection({
    loader: glob({ pattern: "**/[^_]*.{md,mdx}", base: "./docs" }),
    schema: docsSchema(),
  }),
};
