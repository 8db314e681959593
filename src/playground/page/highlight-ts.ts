// A small TypeScript highlighter for code restored from a share link or a saved edit: the page's
// own code is highlighted at build time (Expressive Code), but the build's highlighter is not on
// the page, and Monaco is megabytes. Comments, strings, numbers, keywords, types and called
// functions are enough to read the code; anything it does not know stays plain text.

export type TokenKind = "comment" | "string" | "number" | "keyword" | "type" | "function";

export interface Token {
  text: string;
  kind?: TokenKind;
}

const KEYWORDS = new Set(
  (
    "abstract as async await break case catch class const continue debugger default delete do else enum export extends false finally for " +
    "from function get if implements import in instanceof interface let new null of private protected public readonly return set static " +
    "super switch this throw true try type typeof undefined var void while yield"
  ).split(" "),
);

// One alternative per token kind, tried left to right at each position; the rest is plain.
const TOKEN = new RegExp(
  [
    String.raw`(?<comment>\/\/[^\n]*|\/\*[\s\S]*?(?:\*\/|$))`,
    `${String.raw`(?<string>'(?:[^'\\\n]|\\.)*'?|"(?:[^"\\\n]|\\.)*"?|`}\`(?:[^\`\\\\]|\\\\[\\s\\S])*\`?)`,
    String.raw`(?<number>\b(?:0[xXbBoO][\da-fA-F_]+|\d[\d_]*(?:\.\d+)?(?:[eE][+-]?\d+)?)n?\b)`,
    String.raw`(?<word>[A-Za-z_$][\w$]*)`,
  ].join("|"),
  "g",
);

/** The code's tokens, line by line (a comment or string over several lines is split at each line break). */
export function highlightLines(code: string): Token[][] {
  const lines: Token[][] = [[]];
  const push = (text: string, kind?: TokenKind): void => {
    text.split("\n").forEach((part, i) => {
      if (i > 0) lines.push([]);
      if (part !== "") lines[lines.length - 1]!.push(kind ? { text: part, kind } : { text: part });
    });
  };
  let at = 0;
  for (const match of code.matchAll(TOKEN)) {
    const start = match.index ?? 0;
    if (start > at) push(code.slice(at, start));
    const text = match[0];
    at = start + text.length;
    const groups = match.groups ?? {};
    if (groups.comment !== undefined) push(text, "comment");
    else if (groups.string !== undefined) push(text, "string");
    else if (groups.number !== undefined) push(text, "number");
    else push(text, wordKind(text, code, at));
  }
  if (at < code.length) push(code.slice(at));
  return lines;
}

/** An opening parenthesis at `at` (sticky: never copies the rest of the code). */
const CALL = /\s*\(/y;

function wordKind(word: string, code: string, at: number): TokenKind | undefined {
  if (KEYWORDS.has(word)) return "keyword";
  CALL.lastIndex = at;
  if (CALL.test(code)) return "function";
  if (/^[A-Z]/.test(word)) return "type";
  return undefined;
}
