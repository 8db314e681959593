// @ts-check
// Fails when a function in src/ spans more than MAX_LINES lines, counted as a reader counts them:
// from the line its declaration starts on to the line its body ends on, comments and blank lines
// included. (Biome's noExcessiveLinesPerFunction counts differently, so a function it accepts may
// still be longer than that.) Prints the largest functions either way.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import ts from "typescript";

const MAX_LINES = 120;

/** @param {string} dir @returns {string[]} */
function sourceFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return /\.(ts|mts)$/.test(e.name) && !e.name.endsWith(".d.ts") ? [path] : [];
  });
}

/** @type {{ lines: number; where: string }[]} */
const functions = [];
for (const file of sourceFiles("src")) {
  const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
  /** @param {ts.Node} node */
  const visit = (node) => {
    if (ts.isFunctionLike(node) && "body" in node && node.body) {
      const first = source.getLineAndCharacterOfPosition(node.getStart()).line;
      const last = source.getLineAndCharacterOfPosition(node.end).line;
      const name = node.name?.getText() ?? (ts.isVariableDeclaration(node.parent) ? node.parent.name.getText() : "(anonymous)");
      functions.push({ lines: last - first + 1, where: `${relative(".", file)}:${first + 1} ${name}` });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
}
functions.sort((a, b) => b.lines - a.lines);
const tooLong = functions.filter((f) => f.lines > MAX_LINES);
console.log(`Largest of ${functions.length} functions in src/:`);
for (const f of functions.slice(0, 5)) console.log(`  ${f.lines} lines  ${f.where}`);
if (tooLong.length > 0) {
  console.error(`\n${tooLong.length} function(s) over ${MAX_LINES} lines: split them.`);
  process.exit(1);
}
