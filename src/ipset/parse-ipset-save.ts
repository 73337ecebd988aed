/**
 * Parses `ipset save` output (`create NAME TYPE [options]` and `add NAME ELEMENT [options]` lines,
 * the format `ipset restore` reads) and, because that is what people paste, `ipset list` output
 * (`Name:` / `Type:` / `Header:` / `Members:` blocks). Lines it cannot read become warnings; the
 * rest is kept.
 */
import { terminalSafe } from "../text/terminal-safe.ts";
import {
  IPSET_DIMENSIONS,
  type IpsetMember,
  type IpsetSave,
  type IpsetSet,
  type IpsetType,
  type IpsetWarning,
} from "./ipset-model.ts";
import { parseMember } from "./parse-member.ts";

/** Options of {@linkcode parseIpsetSave}. */
export interface ParseIpsetOptions {
  /** Bundle-relative file name, for evidence (default `ipset-save.txt`). */
  readonly file?: string;
}

/** Splits on blanks; a double-quoted word (an ipset comment) is one token without its quotes. */
export function tokenizeIpsetLine(line: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|(\S+)/g;
  for (let m = re.exec(line); m !== null; m = re.exec(line)) out.push(m[1] ?? m[2]!);
  return out;
}

const CREATE_VALUE_OPTIONS = new Set([
  "family",
  "hashsize",
  "maxelem",
  "timeout",
  "netmask",
  "bitmask",
  "markmask",
  "bucketsize",
  "initval",
  "range",
  "size",
]);
const CREATE_FLAGS = new Set(["counters", "comment", "skbinfo", "forceadd"]);
const MEMBER_VALUE_OPTIONS = new Set([
  "timeout",
  "comment",
  "packets",
  "bytes",
  "skbmark",
  "skbprio",
  "skbqueue",
  "before",
  "after",
]);

function isKnownType(t: string): t is IpsetType {
  return Object.hasOwn(IPSET_DIMENSIONS, t);
}

interface Builder {
  readonly sets: Map<string, IpsetSet>;
  readonly warnings: IpsetWarning[];
}

function warn(b: Builder, line: number, text: string, reason: string): void {
  b.warnings.push({ line, text, reason });
}

function createSet(
  b: Builder,
  name: string,
  typeName: string,
  opts: readonly string[],
  line: number,
  text: string,
): void {
  const options: Record<string, string> = {};
  for (let i = 0; i < opts.length; i++) {
    const o = opts[i]!;
    if (CREATE_VALUE_OPTIONS.has(o) && i + 1 < opts.length) options[o] = opts[++i]!;
    else if (CREATE_FLAGS.has(o)) options[o] = "";
    else warn(b, line, text, `create option "${o}" is not known`);
  }
  const family = options.family === "inet" || options.family === "inet6" ? options.family : undefined;
  const type = isKnownType(typeName) ? typeName : undefined;
  if (type === undefined)
    warn(b, line, text, `set type "${typeName}" is not known: its members cannot be matched`);
  if (b.sets.has(name)) warn(b, line, text, `set "${name}" is created twice: the later one is kept`);
  const set: IpsetSet = {
    name,
    typeName,
    ...(type === undefined ? {} : { type }),
    ...(family === undefined
      ? type?.startsWith("hash:") === true && type !== "hash:mac"
        ? { family: "inet" as const }
        : {}
      : { family }),
    ...(options.timeout === undefined ? {} : { timeout: Number(options.timeout) }),
    ...(options.netmask === undefined ? {} : { netmask: Number(options.netmask) }),
    options,
    line,
    text,
    members: [],
  };
  b.sets.set(name, set);
}

function addMember(b: Builder, setName: string, words: readonly string[], line: number, text: string): void {
  const set = b.sets.get(setName);
  if (set === undefined) {
    warn(b, line, text, `set "${setName}" has no create line before this member`);
    return;
  }
  const element = words[0];
  if (element === undefined) {
    warn(b, line, text, "member without an element");
    return;
  }
  let nomatch = false;
  let timeout: number | undefined;
  let comment: string | undefined;
  for (let i = 1; i < words.length; i++) {
    const w = words[i]!;
    if (w === "nomatch") nomatch = true;
    else if (MEMBER_VALUE_OPTIONS.has(w) && i + 1 < words.length) {
      const v = words[++i]!;
      if (w === "timeout") timeout = Number(v);
      if (w === "comment") comment = v;
    } else warn(b, line, text, `member option "${w}" is not known`);
  }
  const dims = set.type === undefined ? undefined : IPSET_DIMENSIONS[set.type];
  const parts =
    dims === undefined ? [] : parseMember(element, dims, { bitmapPort: set.type === "bitmap:port" });
  if (typeof parts === "string") {
    warn(b, line, text, `member cannot be read: ${parts}`);
    return;
  }
  const member: IpsetMember = {
    line,
    text,
    element,
    parts,
    nomatch,
    ...(timeout === undefined ? {} : { timeout }),
    ...(comment === undefined ? {} : { comment }),
  };
  set.members.push(member);
}

function parseSaveLines(b: Builder, lines: readonly string[]): void {
  lines.forEach((text, i) => {
    const line = i + 1;
    const words = tokenizeIpsetLine(text);
    if (words.length === 0 || words[0]!.startsWith("#")) return;
    const [cmd, name, ...rest] = words;
    if (cmd === "create" && name !== undefined && rest.length > 0) {
      createSet(b, name, rest[0]!, rest.slice(1), line, text);
    } else if (cmd === "add" && name !== undefined) {
      addMember(b, name, rest, line, text);
    } else {
      warn(b, line, text, 'expected "create NAME TYPE ..." or "add NAME ELEMENT ..."');
    }
  });
}

function parseListLines(b: Builder, lines: readonly string[]): void {
  let current: { name: string; line: number; text: string; type?: string; header: string[] } | undefined;
  let inMembers = false;
  const flush = () => {
    if (current !== undefined) {
      createSet(b, current.name, current.type ?? "", current.header, current.line, current.text);
    }
  };
  lines.forEach((text, i) => {
    const line = i + 1;
    const field = /^([A-Z][A-Za-z ]*):\s*(.*)$/.exec(text);
    if (field !== null && !(inMembers && field[1] !== "Name")) {
      const [, key, value] = field;
      if (key === "Name") {
        inMembers = false;
        current = { name: value!.trim(), line, text, header: [] };
      } else if (current !== undefined && key === "Type") current.type = value!.trim();
      else if (current !== undefined && key === "Header") current.header = tokenizeIpsetLine(value!);
      else if (current !== undefined && key === "Members") {
        flush();
        inMembers = true;
      }
      return;
    }
    if (text.trim() === "") return;
    if (inMembers && current !== undefined) addMember(b, current.name, tokenizeIpsetLine(text), line, text);
    else warn(b, line, text, "not part of an ipset list block");
  });
}

/**
 * Parses the text of `ipset save` (or `ipset list`). Empty text is a node without sets.
 *
 * @throws {SyntaxError} When the first line is neither `create ...` nor `Name: ...`: the text is not
 *   ipset output at all (the message says which command writes the expected format).
 *
 * @example
 * ```ts
 * const s = parseIpsetSave("create A hash:ip family inet timeout 0\nadd A 10.42.0.5 timeout 0\n");
 * s.sets.get("A")?.members[0]?.line; // 2
 * ```
 */
export function parseIpsetSave(text: string, options: ParseIpsetOptions = {}): IpsetSave {
  const file = options.file ?? "ipset-save.txt";
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  const b: Builder = { sets: new Map(), warnings: [] };
  const first = lines.findIndex((l) => l.trim() !== "" && !l.startsWith("#"));
  let format: IpsetSave["format"] = "save";
  if (first >= 0) {
    const head = lines[first]!;
    if (/^Name:\s/.test(head)) format = "list";
    else if (!/^(create|add)\s/.test(head)) {
      throw new SyntaxError(
        terminalSafe(
          `Cannot parse ${file} at line ${first + 1}: expected "create NAME TYPE ..." (run \`ipset save\`), got "${head.slice(0, 60)}"`,
        ),
      );
    }
  }
  if (format === "save") parseSaveLines(b, lines);
  else parseListLines(b, lines);
  return { file, format, sets: b.sets, warnings: b.warnings, lineCount: lines.length };
}
