// Checks the blockquotes of an MDX page against the thread. A blockquote whose context names one
// of the thread's authors is a quotation from the thread: its words (fragments around "[...]",
// in order) must be in a post, and the first post that contains them (later posts only quote it)
// must be by a person named in the context, on a date written there, at a time written there if
// any time is. A blockquote that names no author must not quote the thread either.
//
// The context of a blockquote is the paragraph just before it; a blockquote that follows another
// shares that one's context. Names come from the context, or, when the quote opens its section
// (no paragraph between heading and quote), from the heading ("### Tag: ... relayed by Gerd"). Dates come from the context, or, when it gives none
// (or only a time), from the prose of its section before it.
import { PEOPLE, normaliseQuote, type Person, type Post } from "../../src/data/thread.js";

export interface ThreadQuote {
  /** 1-based line of the blockquote's first line. */
  line: number;
  text: string;
  context: string;
  /** The heading of the blockquote's section ("" before the first heading). */
  heading: string;
  sectionBefore: string;
}

export interface QuoteProblem {
  line: number;
  quote: string;
  problem: string;
}

type Block = { kind: "heading" | "quote" | "prose"; line: number; text: string };

function blocks(mdx: string): Block[] {
  const lines = mdx.split("\n");
  const out: Block[] = [];
  let inFence = false;
  let inFrontMatter = lines[0] === "---";
  lines.forEach((raw, i) => {
    if (inFrontMatter) {
      if (i > 0 && raw === "---") inFrontMatter = false;
      return;
    }
    if (/^\s*```/.test(raw)) inFence = !inFence;
    if (inFence || /^\s*```/.test(raw) || raw.trim() === "") {
      out.push({ kind: "prose", line: i + 1, text: "" });
      return;
    }
    const kind: Block["kind"] = /^#{1,6}\s/.test(raw) ? "heading" : /^\s*>/.test(raw) ? "quote" : "prose";
    const last = out[out.length - 1];
    const text = kind === "quote" ? raw.replace(/^\s*>\s?/, "") : raw;
    if (last && last.kind === kind && kind !== "heading" && last.text !== "") last.text += `\n${text}`;
    else out.push({ kind, line: i + 1, text });
  });
  return out.filter((b) => b.text !== "" || b.kind !== "prose");
}

/** The blockquotes of a page with the prose that attributes them. */
export function blockquotes(mdx: string): ThreadQuote[] {
  const quotes: ThreadQuote[] = [];
  let section: string[] = [];
  let heading = "";
  let previous: Block | undefined;
  let previousQuote: ThreadQuote | undefined;
  for (const block of blocks(mdx)) {
    if (block.kind === "heading") {
      section = [];
      heading = block.text;
      previousQuote = undefined;
    } else if (block.kind === "quote") {
      const inherits = previous?.kind === "quote" && previousQuote;
      const context = inherits ? previousQuote!.context : previous?.kind === "prose" ? previous.text : "";
      const sectionBefore = inherits ? previousQuote!.sectionBefore : section.join("\n");
      previousQuote = { line: block.line, text: block.text, context, heading, sectionBefore };
      quotes.push(previousQuote);
    } else section.push(block.text);
    previous = block;
  }
  return quotes;
}

function unescapeMdx(text: string): string {
  return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

/** The quotation's words, split at editorial elisions. */
export function fragments(quote: string): string[] {
  return unescapeMdx(quote)
    .split(/\[(?:\.\.\.|…)\]/)
    .map(normaliseQuote)
    .filter((f) => f.length > 0);
}

function containsInOrder(body: string, parts: string[]): boolean {
  let from = 0;
  for (const part of parts) {
    const at = body.indexOf(part, from);
    if (at < 0) return false;
    from = at + part.length;
  }
  return true;
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

export function namedPeople(text: string): Person[] {
  return PEOPLE.filter((p) => [p.given, p.family].some((n) => new RegExp(`(^|[^\\w-])${escapeRe(n)}(?![\\w-])`).test(text)));
}

function datesIn(text: string): string[] {
  return [...text.matchAll(/\b(2006-01-\d{2})\b/g)].map((m) => m[1]!);
}

function timesIn(text: string): string[] {
  return [...text.matchAll(/(?<![\d:])(\d{2}:\d{2})(?![\d:])/g)].map((m) => m[1]!);
}

/** Problems with one page's blockquotes; an empty list means every one is right. */
export function checkThreadQuotes(mdx: string, posts: Post[]): { quotes: number; problems: QuoteProblem[] } {
  const bodies = posts.map((p) => normaliseQuote(p.body));
  const problems: QuoteProblem[] = [];
  let quotes = 0;
  for (const q of blockquotes(mdx)) {
    const parts = fragments(q.text);
    const first = posts.find((_, i) => containsInOrder(bodies[i]!, parts));
    const named = namedPeople(q.context.trim() === "" ? q.heading : q.context);
    const report = (problem: string) => problems.push({ line: q.line, quote: parts.join(" [...] ").slice(0, 90), problem });
    if (named.length === 0) {
      if (first) report(`quotes ${first.person.name} (${first.date} ${first.time}) without naming the author before it`);
      continue;
    }
    quotes++;
    if (!first) {
      report(`no post of the thread contains these words (attributed to ${named.map((p) => p.name).join(" or ")})`);
      continue;
    }
    const where = `${first.person.name}, ${first.date} ${first.time}`;
    if (!named.includes(first.person)) report(`the words are ${where}, but the text before names ${named.map((p) => p.name).join(", ")}`);
    const dates = datesIn(q.context).length > 0 ? datesIn(q.context) : datesIn(q.sectionBefore);
    const times = timesIn(q.context);
    if (dates.length === 0) report(`no date written before the quote (the words are ${where})`);
    else if (!dates.includes(first.date)) report(`the words are ${where}, but the date before the quote is ${dates.join(" or ")}`);
    if (times.length > 0 && !times.includes(first.time))
      report(`the words are ${where}, but the time before the quote is ${times.join(" or ")}`);
  }
  return { quotes, problems };
}
