// The 2006 xen-devel thread "VP problematic for backend drivers on IA64?" as data: the archive's
// text (xen-devel-2006-01-vp-thread.txt, kept verbatim) split into posts. Pages quote it; the
// quote test (test/docs-examples/thread-quotes.test.ts) checks every quotation against these posts.
//
// The text file is a sequence of four-line records: author as the archive names them, date and
// time ("2006-Jan-25 16:46 UTC"), subject, and the body flattened to one line.

/** The six people who wrote in the thread, with the names pages use for them. */
export interface Person {
  /** Full name as pages write it: "Dan Magenheimer". */
  name: string;
  /** Given name, which pages use after the first mention: "Dan". */
  given: string;
  /** Family name, also accepted as a mention: "Magenheimer". */
  family: string;
}

export const PEOPLE: readonly Person[] = [
  { name: "Muli Ben-Yehuda", given: "Muli", family: "Ben-Yehuda" },
  { name: "Dan Magenheimer", given: "Dan", family: "Magenheimer" },
  { name: "Alex Williamson", given: "Alex", family: "Williamson" },
  { name: "Ian Pratt", given: "Ian", family: "Pratt" },
  { name: "Gerd Hoffmann", given: "Gerd", family: "Hoffmann" },
  { name: "Keir Fraser", given: "Keir", family: "Fraser" },
];

export interface Post {
  /** Position in the thread, 0 for the first post. */
  index: number;
  /** The author as the archive names them: "Magenheimer, Dan (HP Labs Fort Collins)". */
  archiveAuthor: string;
  person: Person;
  /** ISO date, "2006-01-25". */
  date: string;
  /** UTC time, "16:46". */
  time: string;
  subject: string;
  /** The body as the archive gives it, doubled apostrophes ('') included. */
  body: string;
}

const MONTHS: Record<string, string> = {
  Jan: "01",
  Feb: "02",
  Mar: "03",
  Apr: "04",
  May: "05",
  Jun: "06",
  Jul: "07",
  Aug: "08",
  Sep: "09",
  Oct: "10",
  Nov: "11",
  Dec: "12",
};

function personOf(archiveAuthor: string, line: number): Person {
  const person = PEOPLE.find((p) => archiveAuthor.includes(p.given) && archiveAuthor.includes(p.family));
  if (!person) throw new Error(`thread text, line ${line}: unknown author "${archiveAuthor}"`);
  return person;
}

function parseWhen(text: string, line: number): { date: string; time: string } {
  const m = /^(\d{4})-([A-Z][a-z]{2})-(\d{2}) (\d{2}:\d{2}) UTC$/.exec(text.trim());
  const month = m && MONTHS[m[2]!];
  if (!m || !month) throw new Error(`thread text, line ${line}: expected a date like "2006-Jan-20 01:55 UTC", got "${text}"`);
  return { date: `${m[1]}-${month}-${m[3]}`, time: m[4]! };
}

/** Splits the archive text into posts; throws naming the line when a record is malformed. */
export function parseThread(text: string): Post[] {
  const lines = text.replace(/\r\n/g, "\n").replace(/\n+$/, "").split("\n");
  if (lines.length % 4 !== 0) throw new Error(`thread text: ${lines.length} lines, expected four per post (author, date, subject, body)`);
  const posts: Post[] = [];
  for (let i = 0; i < lines.length; i += 4) {
    const [author, when, subject, body] = lines.slice(i, i + 4) as [string, string, string, string];
    if (!/VP problematic for backend drivers on IA64\?/.test(subject))
      throw new Error(`thread text, line ${i + 3}: expected the thread's subject, got "${subject}"`);
    posts.push({
      index: i / 4,
      archiveAuthor: author.trim(),
      person: personOf(author, i + 1),
      ...parseWhen(when, i + 2),
      subject: subject.trim(),
      body,
    });
  }
  return posts;
}

/**
 * The archive doubles every apostrophe ("what''s"); pages print one. Whitespace is collapsed so a
 * quotation may be wrapped differently from the archive's flattened body.
 */
export function normaliseQuote(text: string): string {
  return text.replace(/''/g, "'").replace(/\s+/g, " ").trim();
}
