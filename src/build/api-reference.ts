// The simulator's API as data for the reference page, read at build time from its types and TSDoc
// with the TypeScript compiler (one program over src/sim/index.ts, built once per process).
// Signatures are the declarations' own source text (defaults and unions as written), comments
// stripped; doc text comes from the TSDoc the playground's hover help also shows.
import { resolve } from "node:path";
import ts from "typescript";

/** Where an export is listed on the page. */
export type ApiGroupId = "machine" | "domains" | "devices" | "dma" | "grants" | "block" | "trace" | "errors" | "costs" | "other";

/** One member of an exported class or interface. */
export interface ApiMember {
  name: string;
  /** Anchor: `Export.member`. */
  id: string;
  signature: string;
  /** Doc text as HTML. */
  html: string;
  examples: string[];
}

/** One export of src/sim/index.ts. */
export interface ApiItem {
  name: string;
  /** Anchor: the export's name. */
  id: string;
  kind: "function" | "class" | "interface" | "type" | "const";
  group: ApiGroupId;
  signature: string;
  /** Doc text, plus @param / @template lines, as HTML. */
  html: string;
  examples: string[];
  members: ApiMember[];
}

/** The groups in page order, with their headings. */
export const API_GROUPS: readonly { id: ApiGroupId; title: string }[] = [
  { id: "machine", title: "Machine & configuration" },
  { id: "domains", title: "Domains" },
  { id: "devices", title: "Devices & IOMMU" },
  { id: "dma", title: "DMA-API" },
  { id: "grants", title: "Grants & foreign pages" },
  { id: "block", title: "Block layer & scenarios" },
  { id: "trace", title: "Trace & snapshot" },
  { id: "errors", title: "Errors" },
  { id: "costs", title: "Costs" },
  { id: "other", title: "Other" },
];

/** Group of each source file (path under src/sim/, prefix match); exports named in BY_NAME override it. */
const BY_FILE: [string, ApiGroupId][] = [
  ["machine.ts", "machine"],
  ["units.ts", "machine"],
  ["domain.ts", "domains"],
  ["device.ts", "devices"],
  ["iommu.ts", "devices"],
  ["dma/", "dma"],
  ["swiotlb-pool.ts", "dma"],
  ["grant.ts", "grants"],
  ["foreign.ts", "grants"],
  ["kmap.ts", "block"],
  ["block.ts", "block"],
  ["scenarios/", "block"],
  ["trace.ts", "trace"],
  ["snapshot.ts", "trace"],
  ["snapshot-diff.ts", "trace"],
  ["history.ts", "trace"],
  ["errors.ts", "errors"],
  ["costs.ts", "costs"],
];
const BY_NAME: Record<string, ApiGroupId> = { GrantError: "errors", DMA_MAPPING_ERROR: "dma" };

let cached: ApiItem[] | undefined;

/** Every export of the simulator, in index.ts order. Built once; `entry` defaults to src/sim/index.ts under the working directory. */
export function apiReference(entry = resolve(process.cwd(), "src/sim/index.ts")): ApiItem[] {
  if (cached) return cached;
  const program = ts.createProgram([entry], {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    strict: true,
    noEmit: true,
    types: [],
  });
  const checker = program.getTypeChecker();
  const simDir = `${resolve(entry, "..")}/`;
  const moduleSymbol = checker.getSymbolAtLocation(program.getSourceFile(entry)!)!;
  const exports = checker
    .getExportsOfModule(moduleSymbol)
    .map((e) => ({ name: e.name, symbol: e.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(e) : e }));
  const known = new Set(exports.map((e) => e.name));
  const items = exports.flatMap(({ name, symbol }) => {
    const decl = symbol.declarations?.[0];
    if (!decl) return [];
    const file = decl.getSourceFile();
    const path = file.fileName.startsWith(simDir) ? file.fileName.slice(simDir.length) : file.fileName;
    const group = BY_NAME[name] ?? BY_FILE.find(([prefix]) => path.startsWith(prefix))?.[1] ?? "other";
    const item: ApiItem = {
      name,
      id: name,
      kind: kindOf(symbol),
      group,
      signature: exportSignature(name, symbol, decl, checker),
      html: docHtml(symbol, checker, known),
      examples: examplesOf(symbol, checker),
      members: membersOf(name, symbol, checker, known),
    };
    return [item];
  });
  cached = items;
  return items;
}

function kindOf(symbol: ts.Symbol): ApiItem["kind"] {
  if (symbol.flags & ts.SymbolFlags.Function) return "function";
  if (symbol.flags & ts.SymbolFlags.Class) return "class";
  if (symbol.flags & ts.SymbolFlags.Interface) return "interface";
  if (symbol.flags & ts.SymbolFlags.TypeAlias) return "type";
  return "const";
}

/** Source text of a node without comments, on one line. */
function text(node: ts.Node, end = node.end): string {
  const sf = node.getSourceFile();
  return flatten(sf.text.slice(node.getStart(sf), end));
}

function flatten(source: string): string {
  return source
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/\/\/[^\n]*/g, "")
    .replace(/\s+/g, " ")
    .replace(/\s*;?\s*$/, "")
    .replace(/^export (declare )?/, "")
    .replace(/([([]) /g, "$1")
    .replace(/,? ([)\]])/g, "$1")
    .replace(/, }/g, " }")
    .replace(/= \| /, "= ")
    .trim();
}

/** Long unions one member per line, as they read best. */
function breakUnion(signature: string): string {
  if (signature.length <= 100) return signature;
  const eq = signature.indexOf(" = ");
  const body = signature.slice(eq + 3);
  const parts = splitTopLevel(body, " | ");
  return parts.length < 3 ? signature : `${signature.slice(0, eq)} =\n${parts.map((p) => `  | ${p}`).join("\n")}`;
}

/** Splits on `sep` outside brackets and string literals. */
function splitTopLevel(source: string, sep: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote = "";
  let start = 0;
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (quote) {
      if (c === quote && source[i - 1] !== "\\") quote = "";
    } else if (c === '"' || c === "'" || c === "`") quote = c;
    else if ("({[<".includes(c)) depth++;
    else if (")}]>".includes(c)) depth--;
    else if (depth === 0 && source.startsWith(sep, i)) {
      parts.push(source.slice(start, i));
      start = i + sep.length;
      i += sep.length - 1;
    }
  }
  parts.push(source.slice(start));
  return parts;
}

function exportSignature(name: string, symbol: ts.Symbol, decl: ts.Declaration, checker: ts.TypeChecker): string {
  if (ts.isFunctionDeclaration(decl)) return text(decl, decl.body?.pos);
  if (ts.isTypeAliasDeclaration(decl)) return breakUnion(text(decl));
  if (ts.isClassDeclaration(decl) || ts.isInterfaceDeclaration(decl)) {
    const keyword = ts.isClassDeclaration(decl) ? "class" : "interface";
    const typeParams = decl.typeParameters ? `<${decl.typeParameters.map((p) => text(p)).join(", ")}>` : "";
    const heritage = decl.heritageClauses?.map((h) => ` ${text(h)}`).join("") ?? "";
    return `${keyword} ${name}${typeParams}${heritage}`;
  }
  if (ts.isVariableDeclaration(decl)) {
    const value = decl.initializer && shownValue(decl.initializer);
    if (value && !decl.type) return `const ${name} = ${value}`;
    const type = decl.type ? text(decl.type) : checker.typeToString(checker.getTypeOfSymbolAtLocation(symbol, decl));
    return `const ${name}: ${type}${value ? ` = ${value}` : ""}`;
  }
  return name;
}

/** A constant's value when it is a literal a reader wants to see (numbers, lists, frozen tables). */
function shownValue(init: ts.Expression): string | undefined {
  let e = init;
  if (ts.isCallExpression(e) && text(e.expression) === "Object.freeze" && e.arguments.length === 1) e = e.arguments[0]!;
  const literal =
    ts.isNumericLiteral(e) ||
    ts.isStringLiteral(e) ||
    ts.isPrefixUnaryExpression(e) ||
    ts.isBinaryExpression(e) ||
    ts.isArrayLiteralExpression(e) ||
    ts.isObjectLiteralExpression(e);
  const value = literal ? text(e) : undefined;
  return value !== undefined && value.length <= 600 ? value : undefined;
}

function membersOf(owner: string, symbol: ts.Symbol, checker: ts.TypeChecker, known: Set<string>): ApiMember[] {
  if (!(symbol.flags & (ts.SymbolFlags.Class | ts.SymbolFlags.Interface)) || !symbol.members) return [];
  const members: ApiMember[] = [];
  for (const member of symbol.members.values()) {
    const decl = member.declarations?.[0];
    if (!decl || member.name.startsWith("#") || ts.isTypeParameterDeclaration(decl)) continue;
    const modifiers = ts.canHaveModifiers(decl) ? (ts.getModifiers(decl) ?? []) : [];
    if (modifiers.some((m) => m.kind === ts.SyntaxKind.PrivateKeyword || m.kind === ts.SyntaxKind.ProtectedKeyword)) continue;
    if (member.getJsDocTags(checker).some((t) => t.name === "internal")) continue;
    members.push({
      name: member.name === "__constructor" ? "constructor" : member.name,
      id: `${owner}.${member.name === "__constructor" ? "constructor" : member.name}`,
      signature: memberSignature(owner, member, decl, checker),
      html: docHtml(member, checker, known),
      examples: examplesOf(member, checker),
    });
  }
  return members;
}

function memberSignature(owner: string, member: ts.Symbol, decl: ts.Declaration, checker: ts.TypeChecker): string {
  if (ts.isConstructorDeclaration(decl)) {
    return `new ${owner}(${decl.parameters.map((p) => text(p, (p.initializer ?? p.type ?? p.name).end)).join(", ")})`.replace(
      /\breadonly /g,
      "",
    );
  }
  if ((ts.isMethodDeclaration(decl) || ts.isGetAccessorDeclaration(decl)) && decl.body) return text(decl, decl.body.pos);
  if (ts.isPropertyDeclaration(decl) || ts.isParameter(decl)) {
    if (decl.type) return text(decl, decl.type.end);
    return `${text(decl, decl.name.end)}: ${checker.typeToString(checker.getTypeOfSymbolAtLocation(member, decl))}`;
  }
  return text(decl);
}

function examplesOf(symbol: ts.Symbol, checker: ts.TypeChecker): string[] {
  return symbol
    .getJsDocTags(checker)
    .filter((t) => t.name === "example")
    .map((t) => ts.displayPartsToString(t.text).replace(/^\n+|\s+$/g, ""));
}

/** Doc text plus @param and @template lines, as HTML. {@link X} becomes a link when X is on the page. */
function docHtml(symbol: ts.Symbol, checker: ts.TypeChecker, known: Set<string>): string {
  const main = partsToMarkup(symbol.getDocumentationComment(checker));
  // A parameter property's own doc already is its @param text.
  const isParameter = symbol.declarations?.[0] !== undefined && ts.isParameter(symbol.declarations[0]);
  const params = (isParameter ? [] : symbol.getJsDocTags(checker))
    .filter((t) => t.name === "param" || t.name === "template")
    .map((t) => {
      const parts = t.text ?? [];
      const name = parts.find((p) => p.kind === "parameterName" || p.kind === "typeParameterName")?.text ?? "";
      const rest = partsToMarkup(parts.filter((p) => p.kind !== "parameterName" && p.kind !== "typeParameterName")).trim();
      return `- \`${name}\`${t.name === "template" ? " (type parameter)" : ""}: ${rest}`;
    });
  return markupToHtml(params.length > 0 ? `${main}\n\n${params.join("\n")}` : main, known);
}

/** Display parts to plain markup: links become [[target]]. */
function partsToMarkup(parts: readonly ts.SymbolDisplayPart[]): string {
  let out = "";
  let inLink = false;
  let linkName = "";
  let linkText = "";
  for (const p of parts) {
    if (p.kind === "link") {
      if (p.text.startsWith("{@")) {
        inLink = true;
        linkName = linkText = "";
      } else {
        // An unresolved {@link X} (X not imported where the comment is) arrives as link text only.
        const label = linkText.trim();
        const target = linkName || label.split(/\s+/)[0]!;
        out += label && label !== target ? `[[${target}|${label}]]` : `[[${target}]]`;
        inLink = false;
      }
    } else if (inLink) {
      if (p.kind === "linkName") linkName = p.text;
      else linkText += p.text;
    } else out += p.text;
  }
  return out;
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** Inline markup: `code`, [[links]], **bold**. */
function inline(s: string, known: Set<string>): string {
  return escapeHtml(s)
    .replace(/`([^`]+)`/g, "<code>$1</code>")
    .replace(/\[\[([\w.]+)(?:\|([^\]]+))?\]\]/g, (_, target: string, label?: string) => {
      const shown = label ? escapeHtml(label) : `<code>${target}</code>`;
      return known.has(target.split(".")[0]!) ? `<a href="#${target}">${shown}</a>` : shown;
    })
    .replace(/\*\*([^*]+)\*\*/g, "<strong>$1</strong>");
}

/** Paragraphs (blank lines) and lists ("- " or "1. " lines; indented lines continue an item). */
export function markupToHtml(markup: string, known: Set<string>): string {
  const html: string[] = [];
  for (const block of markup.trim().split(/\n\s*\n/)) {
    const lines = block.split("\n");
    const prose: string[] = [];
    let list: { ordered: boolean; items: string[] } | undefined;
    const flushList = () => {
      if (!list) return;
      const tag = list.ordered ? "ol" : "ul";
      html.push(`<${tag}>${list.items.map((i) => `<li>${inline(i, known)}</li>`).join("")}</${tag}>`);
      list = undefined;
    };
    for (const line of lines) {
      const item = /^\s*(?:(-)|\d+\.)\s+(.*)$/.exec(line);
      if (item) {
        if (!list) {
          if (prose.length) html.push(`<p>${inline(prose.splice(0).join(" "), known)}</p>`);
          list = { ordered: !item[1], items: [] };
        }
        list.items.push(item[2]!);
      } else if (list && /^\s+\S/.test(line)) {
        list.items[list.items.length - 1] += ` ${line.trim()}`;
      } else {
        flushList();
        if (line.trim()) prose.push(line.trim());
      }
    }
    flushList();
    if (prose.length) html.push(`<p>${inline(prose.join(" "), known)}</p>`);
  }
  return html.join("\n");
}

/** Links every exported name in a signature to its entry (outside string literals). */
export function linkSignature(signature: string, known: Set<string>, self: string): string {
  return signature
    .split(/("(?:[^"\\]|\\.)*")/)
    .map((part, i) =>
      i % 2 === 1
        ? escapeHtml(part)
        : escapeHtml(part).replace(/\b[A-Za-z_][\w]*\b/g, (word) =>
            word !== self && known.has(word) ? `<a href="#${word}">${word}</a>` : word,
          ),
    )
    .join("");
}
