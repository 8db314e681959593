// Every public symbol of the simulator carries TSDoc: it is the playground's hover help and the
// API page. Checked with the TypeScript compiler over src/sim/index.ts's exports, including the
// public members of exported classes and interfaces (members tagged @internal are exempt).
import { describe, expect, it } from "vitest";
import ts from "typescript";

function undocumented(): string[] {
  const entry = new URL("../../src/sim/index.ts", import.meta.url).pathname;
  const program = ts.createProgram([entry], {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    strict: true,
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  const moduleSymbol = checker.getSymbolAtLocation(program.getSourceFile(entry)!)!;
  const missing: string[] = [];
  const isInternal = (symbol: ts.Symbol) => symbol.getJsDocTags(checker).some((t) => t.name === "internal");
  const hasDoc = (symbol: ts.Symbol) => ts.displayPartsToString(symbol.getDocumentationComment(checker)).trim().length > 0;
  for (const exported of checker.getExportsOfModule(moduleSymbol)) {
    const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    if (!hasDoc(symbol)) missing.push(exported.name);
    if (!(symbol.flags & (ts.SymbolFlags.Class | ts.SymbolFlags.Interface))) continue;
    for (const member of symbol.members ? [...symbol.members.values()] : []) {
      const decl = member.declarations?.[0];
      if (!decl || member.name === "__constructor" || member.name.startsWith("#")) continue;
      const modifiers = ts.canHaveModifiers(decl) ? (ts.getModifiers(decl) ?? []) : [];
      if (modifiers.some((m) => m.kind === ts.SyntaxKind.PrivateKeyword || m.kind === ts.SyntaxKind.ProtectedKeyword)) continue;
      if (isInternal(member) || hasDoc(member)) continue;
      missing.push(`${exported.name}.${member.name}`);
    }
  }
  return missing;
}

describe("TSDoc", () => {
  it("documents every public symbol of src/sim/index.ts and their public members", () => {
    expect(undocumented()).toEqual([]);
  }, 60_000);
});
