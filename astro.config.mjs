// @ts-check
import { defineConfig } from 'astro/config';
import starlight from '@astrojs/starlight';
import { stubMonacoCss, monacoMinAlias } from './src/build/monaco-vite-plugins.ts';

export default defineConfig({
  integrations: [
    starlight({
      title: 'DMA Lab',
      description:
        'An interactive guide to the 2006 Xen-devel debate on DMA under a hypervisor, with a simulated Linux DMA-API you can program.',
      favicon: '/favicon.svg',
      sidebar: [
        {
          label: 'Start here',
          items: [{ label: 'Your first DMA mapping', slug: 'playground-basics' }],
        },
      ],
    }),
  ],
  vite: {
    plugins: [stubMonacoCss()],
    resolve: { alias: [monacoMinAlias] },
    // Monaco's core (4 MB) and TypeScript worker (7 MB) are big by nature and load on demand.
    build: { chunkSizeWarningLimit: 8000 },
    // Module workers: the runner and Monaco's workers use dynamic imports.
    worker: { format: 'es' },
  },
});
