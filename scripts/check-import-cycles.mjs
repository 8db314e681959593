// @ts-check
// Fails when src/ has an import circle (a strongly connected group of files, type imports
// included) larger than MAX_CIRCLE files. madge builds the import graph; Tarjan's algorithm
// finds the groups, so one long circle is reported once, by its size, not as every cycle in it.
import madge from "madge";

const MAX_CIRCLE = 4;

const result = await madge("src", {
  fileExtensions: ["ts", "mjs"],
  tsConfig: "tsconfig.json",
  detectiveOptions: { ts: { skipTypeImports: false }, es6: { skipTypeImports: false } },
});
const graph = result.obj();

/** @param {Record<string, string[]>} g */
function stronglyConnected(g) {
  let index = 0;
  /** @type {Map<string, number>} */ const order = new Map();
  /** @type {Map<string, number>} */ const low = new Map();
  /** @type {string[]} */ const stack = [];
  const onStack = new Set();
  /** @type {string[][]} */ const groups = [];
  /** @param {string} v */
  const visit = (v) => {
    order.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of g[v] ?? []) {
      if (!order.has(w)) {
        visit(w);
        low.set(v, Math.min(/** @type {number} */ (low.get(v)), /** @type {number} */ (low.get(w))));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(/** @type {number} */ (low.get(v)), /** @type {number} */ (order.get(w))));
      }
    }
    if (low.get(v) === order.get(v)) {
      /** @type {string[]} */ const group = [];
      let w;
      do {
        w = /** @type {string} */ (stack.pop());
        onStack.delete(w);
        group.push(w);
      } while (w !== v);
      if (group.length > 1) groups.push(group.sort());
    }
  };
  for (const v of Object.keys(g)) if (!order.has(v)) visit(v);
  return groups.sort((a, b) => b.length - a.length);
}

const circles = stronglyConnected(graph);
for (const c of circles) console.log(`import circle of ${c.length} files: ${c.join(", ")}`);
const tooLarge = circles.filter((c) => c.length > MAX_CIRCLE);
if (tooLarge.length > 0) {
  console.error(`${tooLarge.length} import circle(s) larger than ${MAX_CIRCLE} files in src/`);
  process.exit(1);
}
console.log(`import circles: ${circles.length}, the largest ${circles[0]?.length ?? 0} files (limit ${MAX_CIRCLE})`);
