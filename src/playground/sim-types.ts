// The simulator's own TypeScript sources, given to Monaco's TypeScript worker as the package
// "dma-lab", so readers get completion, hover docs and real type errors for the API they call.
// Loaded only on activation (this module is imported dynamically by editor.ts).
const sources = import.meta.glob<string>(['../sim/**/*.ts', '!../sim/**/*.test.ts'], {
  query: '?raw',
  import: 'default',
  eager: true,
});

/** [virtual path, source] pairs rooted at file:///node_modules/dma-lab/. */
export function simLibraries(): Array<[path: string, content: string]> {
  return Object.entries(sources).map(([file, content]) => [
    `file:///node_modules/dma-lab/${file.replace('../sim/', '')}`,
    content,
  ]);
}
