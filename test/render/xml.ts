// A strict little XML parser for the renderers' output: enough to prove an SVG string is
// well-formed (balanced tags, quoted attributes, no duplicate attributes, no raw "<" or "&" in
// text or values) and to query the tree in tests. Not a general XML parser: no DOCTYPE, CDATA,
// comments or processing instructions, because the renderers emit none.

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlNode[];
}
export type XmlNode = XmlElement | string;

const NAME = /^[A-Za-z_][\w.:-]*/;
const ENTITY = /^&(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/;

function decode(raw: string, where: string): string {
  let out = "";
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c === "<") throw new Error(`raw "<" in ${where}`);
    if (c === "&") {
      const m = ENTITY.exec(raw.slice(i));
      if (!m) throw new Error(`raw "&" in ${where}: ${raw.slice(i, i + 12)}`);
      const e = m[0];
      out +=
        e === "&amp;"
          ? "&"
          : e === "&lt;"
            ? "<"
            : e === "&gt;"
              ? ">"
              : e === "&quot;"
                ? '"'
                : e === "&apos;"
                  ? "'"
                  : String.fromCodePoint(e[2] === "x" ? parseInt(e.slice(3, -1), 16) : parseInt(e.slice(2, -1), 10));
      i += e.length - 1;
    } else out += c;
  }
  return out;
}

/** Parses one root element; throws with the position on anything malformed. */
export function parseXml(source: string): XmlElement {
  let pos = 0;
  const fail = (message: string): never => {
    throw new Error(`${message} at ${pos}: …${source.slice(Math.max(0, pos - 40), pos + 40)}…`);
  };
  const element = (): XmlElement => {
    if (source[pos] !== "<") fail("expected <");
    pos++;
    const name = NAME.exec(source.slice(pos))?.[0] ?? fail("bad element name");
    pos += name.length;
    const attrs: Record<string, string> = {};
    for (;;) {
      const ws = /^\s*/.exec(source.slice(pos))![0];
      pos += ws.length;
      if (source.startsWith("/>", pos)) {
        pos += 2;
        return { name, attrs, children: [] };
      }
      if (source[pos] === ">") {
        pos++;
        break;
      }
      if (ws.length === 0) fail("attributes must be separated by whitespace");
      const attr = NAME.exec(source.slice(pos))?.[0] ?? fail("bad attribute name");
      pos += attr.length;
      if (source[pos] !== "=" || source[pos + 1] !== '"') fail(`attribute ${attr} needs ="value"`);
      const end = source.indexOf('"', pos + 2);
      if (end < 0) fail("unterminated attribute value");
      if (Object.hasOwn(attrs, attr)) fail(`duplicate attribute ${attr}`);
      attrs[attr] = decode(source.slice(pos + 2, end), `attribute ${attr}`);
      pos = end + 1;
    }
    const children: XmlNode[] = [];
    for (;;) {
      if (pos >= source.length) fail(`unclosed <${name}>`);
      if (source.startsWith("</", pos)) {
        const close = `</${name}>`;
        if (!source.startsWith(close, pos)) fail(`expected ${close}`);
        pos += close.length;
        return { name, attrs, children };
      }
      if (source[pos] === "<") children.push(element());
      else {
        const next = source.indexOf("<", pos);
        const end = next < 0 ? source.length : next;
        children.push(decode(source.slice(pos, end), `text of <${name}>`));
        pos = end;
      }
    }
  };
  const root = element();
  if (pos !== source.length) fail("content after the root element");
  return root;
}

/** Every element of the tree (depth first) that satisfies `test`. */
export function findAll(root: XmlElement, test: (e: XmlElement) => boolean): XmlElement[] {
  const out: XmlElement[] = [];
  const walk = (e: XmlElement) => {
    if (test(e)) out.push(e);
    for (const c of e.children) if (typeof c !== "string") walk(c);
  };
  walk(root);
  return out;
}

/** Elements whose class list holds `name`. */
export function byClass(root: XmlElement, name: string): XmlElement[] {
  return findAll(root, (e) => (e.attrs.class ?? "").split(/\s+/).includes(name));
}

/** The element's text, children included. */
export function textOf(e: XmlElement): string {
  return e.children.map((c) => (typeof c === "string" ? c : textOf(c))).join("");
}

/** The `<title>` (tooltip) text of an element, or "". */
export function tooltipOf(e: XmlElement): string {
  const t = e.children.find((c): c is XmlElement => typeof c !== "string" && c.name === "title");
  return t ? textOf(t) : "";
}
