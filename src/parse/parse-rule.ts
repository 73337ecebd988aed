import type { MatchValue, RuleOption, RuleSpec, Target } from "../model/ruleset.ts";
import { clip } from "./dump-header.ts";
import { DumpSyntaxError } from "./dump-syntax-error.ts";
import { FLAG_OPTIONS, KNOWN_MATCHES, TEXT_OPTIONS, VALUE_OPTIONS } from "./known-extensions.ts";
import { type RuleToken, tokenizeRule } from "./tokenize-rule.ts";

/** What {@linkcode parseRule} found besides the spec. */
export interface ParsedRule {
  readonly chain: string;
  readonly spec: RuleSpec;
  /** `-c PKTS BYTES` of `iptables -S -v` output. */
  readonly counters?: { packets: string; bytes: string };
  /** Modules netdoctor does not know (kept opaque). */
  readonly unknownModules: readonly string[];
}

interface MutableMatch {
  module: string;
  options: RuleOption[];
  known: boolean;
}

type Builtin = "source" | "destination" | "inInterface" | "outInterface" | "protocol";

const BUILTIN_OPTIONS: Readonly<Record<string, Builtin>> = {
  "-s": "source",
  "--source": "source",
  "--src": "source",
  "-d": "destination",
  "--destination": "destination",
  "--dst": "destination",
  "-i": "inInterface",
  "--in-interface": "inInterface",
  "-o": "outInterface",
  "--out-interface": "outInterface",
  "-p": "protocol",
  "--protocol": "protocol",
};

/** Matches with port options of their own: `--dport` after `-m udp` belongs to udp, not to `-p`. */
const PORT_MODULES: ReadonlySet<string> = new Set(["tcp", "udp", "sctp", "dccp", "udplite"]);

const PORT_OPTIONS = ["--sport", "--source-port", "--dport", "--destination-port"];

/** Options of the matches that `-p PROTO` loads implicitly. */
const PROTOCOL_OPTIONS: Readonly<Record<string, ReadonlySet<string>>> = {
  tcp: new Set([...PORT_OPTIONS, "--tcp-flags", "--syn", "--tcp-option"]),
  udp: new Set(PORT_OPTIONS),
  udplite: new Set(PORT_OPTIONS),
  sctp: new Set([...PORT_OPTIONS, "--chunk-types"]),
  dccp: new Set([...PORT_OPTIONS, "--dccp-types", "--dccp-option"]),
  icmp: new Set(["--icmp-type"]),
  icmpv6: new Set(["--icmpv6-type"]),
  "ipv6-icmp": new Set(["--icmpv6-type"]),
};

function isOption(token: RuleToken): boolean {
  return !token.quoted && token.value.startsWith("-") && token.value.length > 1;
}

type MutableSpec = {
  -readonly [K in Builtin | "fragment"]?: MatchValue;
} & { target?: Target; comment?: string };

/** Where the parse of one rule stands: the tokens, the position, and what has been read so far. */
interface RuleState {
  readonly text: string;
  readonly line: number;
  readonly tokens: readonly RuleToken[];
  /** Index of the next token to read. */
  i: number;
  readonly spec: MutableSpec;
  readonly matches: MutableMatch[];
  readonly unknownModules: string[];
  counters: { packets: string; bytes: string } | undefined;
  /** The last `-m` match (or the implicit protocol match); its options follow it. */
  current: MutableMatch | undefined;
  /** Set once `-j`/`-g` is read: every later `--option` belongs to the target. */
  targetOptions: RuleOption[] | undefined;
  negated: boolean;
  negToken: RuleToken | undefined;
}

function fail(s: RuleState, token: RuleToken | undefined, detail: string): never {
  throw new DumpSyntaxError(`Cannot parse rule at line ${s.line}: ${detail}`, {
    line: s.line,
    column: (token?.offset ?? s.text.length) + 1,
  });
}

function preNegationDetail(word: string): string {
  return `negation after option "${word}" is not supported since iptables 1.4.3: write "! ${word}"`;
}

/** The argument after option `opt` (one token, not a "!"). */
function takeValue(s: RuleState, opt: RuleToken): string {
  const next = s.tokens[s.i];
  if (next === undefined || (next.value === "!" && !next.quoted)) {
    return fail(s, next ?? opt, `option "${opt.value}" requires an argument`);
  }
  s.i++;
  return next.value;
}

/** The chain of `-A CHAIN`, the first two tokens. */
function readChain(s: RuleState): string {
  const first = s.tokens[0];
  if (first === undefined || (first.value !== "-A" && first.value !== "--append")) {
    fail(s, first, `expected "-A CHAIN", found "${clip(first?.value ?? "")}"`);
  }
  const chainToken = s.tokens[1];
  if (chainToken === undefined) fail(s, undefined, `option "-A" requires a chain name`);
  return chainToken.value;
}

/** `-s`, `-d`, `-i`, `-o`, `-p`. */
function readBuiltin(s: RuleState, tok: RuleToken, builtin: Builtin): void {
  const next = s.tokens[s.i];
  if (next !== undefined && next.value === "!" && !next.quoted) fail(s, next, preNegationDetail(tok.value));
  const value = takeValue(s, tok);
  s.spec[builtin] = { negated: s.negated, value };
  s.negated = false;
  // The options that follow still belong to the last `-m` match, as in iptables.
}

/** `-m MODULE`: starts a match; the options after it are its own. */
function readMatch(s: RuleState, tok: RuleToken): void {
  if (s.negated) fail(s, s.negToken, `negation before "-m" is not allowed`);
  const module = takeValue(s, tok);
  const known = KNOWN_MATCHES.has(module);
  if (!known && !s.unknownModules.includes(module)) s.unknownModules.push(module);
  s.current = { module, options: [], known };
  s.matches.push(s.current);
  s.targetOptions = undefined;
}

/** `-j TARGET` or `-g CHAIN`: the options after it are the target's. */
function readTarget(s: RuleState, tok: RuleToken): void {
  const word = tok.value;
  if (s.negated) fail(s, s.negToken, `negation before "${word}" is not allowed`);
  if (s.spec.target !== undefined) fail(s, tok, `more than one target`);
  const name = takeValue(s, tok);
  s.targetOptions = [];
  s.spec.target = {
    name,
    kind: word === "-g" || word === "--goto" ? "goto" : "jump",
    options: s.targetOptions,
  };
  s.current = undefined;
}

/** The values of extension option `tok`: one for text options, none for flags, else up to the next option. */
function optionValues(s: RuleState, tok: RuleToken): string[] {
  const word = tok.value;
  if (TEXT_OPTIONS.has(word)) return [takeValue(s, tok)];
  if (FLAG_OPTIONS.has(word)) return [];
  const values: string[] = [];
  while (s.i < s.tokens.length) {
    const next = s.tokens[s.i]!;
    if (!next.quoted && (next.value === "!" || (next.value.startsWith("-") && next.value.length > 1))) {
      break;
    }
    values.push(next.value);
    s.i++;
  }
  // No value: `--opt ! value` is the pre-1.4.3 negation; otherwise the option is a flag that
  // netdoctor does not list (new or rare extensions have many), kept as written with no values.
  const next = s.tokens[s.i];
  const after = s.tokens[s.i + 1];
  if (values.length === 0 && next?.value === "!" && after !== undefined && !isOption(after)) {
    fail(s, next, preNegationDetail(word));
  }
  if (values.length === 0 && VALUE_OPTIONS.has(word))
    fail(s, next ?? tok, `option "${word}" requires an argument`);
  return values;
}

/** The match extension option `tok` belongs to: the current match, or the protocol's implicit one. */
function optionOwner(s: RuleState, tok: RuleToken): MutableMatch {
  const word = tok.value;
  const current = s.current;
  const proto = s.spec.protocol?.value ?? "";
  if (
    current !== undefined &&
    (PORT_MODULES.has(current.module) || PROTOCOL_OPTIONS[proto]?.has(word) !== true)
  ) {
    return current;
  }
  // `-p tcp --dport 80` without `-m tcp` (restore input): iptables loads the protocol's match
  // implicitly, and an option no loaded match knows goes to it.
  if (proto === "") fail(s, tok, `unknown option "${clip(word)}" (no match module before it)`);
  let owner = s.matches.find((m) => m.module === proto);
  if (owner === undefined) {
    owner = { module: proto, options: [], known: KNOWN_MATCHES.has(proto) };
    s.matches.push(owner);
  }
  if (current === undefined) s.current = owner;
  return owner;
}

/** A `--option` of a match or of the target. */
function readExtensionOption(s: RuleState, tok: RuleToken): void {
  const word = tok.value;
  const values = optionValues(s, tok);
  const option: RuleOption = { name: word, negated: s.negated, values };
  s.negated = false;
  if (s.targetOptions !== undefined) {
    s.targetOptions.push(option);
    return;
  }
  const owner = optionOwner(s, tok);
  owner.options.push(option);
  if (word === "--comment" && owner.module === "comment" && s.spec.comment === undefined) {
    s.spec.comment = values[0] ?? "";
  }
}

/** One option of the rule (its first token `tok` already read), by family. */
function readOption(s: RuleState, tok: RuleToken): void {
  const word = tok.value;
  if (tok.quoted) fail(s, tok, `unexpected argument "${clip(word)}"`);
  if (word === "!") {
    if (s.negated) fail(s, tok, `double negation "! !"`);
    s.negated = true;
    s.negToken = tok;
    return;
  }
  const builtin = BUILTIN_OPTIONS[word];
  if (builtin !== undefined && s.targetOptions === undefined) {
    readBuiltin(s, tok, builtin);
    return;
  }
  if ((word === "-f" || word === "--fragment") && s.targetOptions === undefined) {
    s.spec.fragment = { negated: s.negated, value: "" };
    s.negated = false;
    return;
  }
  if (word === "-m" || word === "--match") {
    readMatch(s, tok);
    return;
  }
  if (word === "-j" || word === "--jump" || word === "-g" || word === "--goto") {
    readTarget(s, tok);
    return;
  }
  if (word === "-c" || word === "--set-counters") {
    const packets = takeValue(s, tok);
    const bytes = takeValue(s, tok);
    s.counters = { packets, bytes };
    return;
  }
  if (word.startsWith("--")) {
    readExtensionOption(s, tok);
    return;
  }
  fail(s, tok, `unknown option "${clip(word)}"`);
}

/**
 * Parses the text of one rule (`-A CHAIN ...`, without a counter prefix).
 *
 * @example
 * ```ts
 * parseRule('-A KUBE-SERVICES -d 10.43.0.1/32 -p tcp -m tcp --dport 443 -j KUBE-SVC-NPX46M4PTMTKRN6Y', 12).spec.target?.name;
 * // "KUBE-SVC-NPX46M4PTMTKRN6Y"
 * ```
 * @throws {DumpSyntaxError} For text iptables-restore would refuse: an option without its argument, an
 * unclosed quote, a negation in the pre-1.4.3 position.
 */
export function parseRule(text: string, line: number): ParsedRule {
  const s: RuleState = {
    text,
    line,
    tokens: tokenizeRule(text, line),
    i: 2,
    spec: {},
    matches: [],
    unknownModules: [],
    counters: undefined,
    current: undefined,
    targetOptions: undefined,
    negated: false,
    negToken: undefined,
  };
  const chain = readChain(s);
  while (s.i < s.tokens.length) readOption(s, s.tokens[s.i++]!);
  if (s.negated) fail(s, s.negToken, `"!" is not followed by an option`);
  const spec: RuleSpec = { ...s.spec, matches: s.matches };
  const unknownModules = s.unknownModules;
  return s.counters === undefined
    ? { chain, spec, unknownModules }
    : { chain, spec, counters: s.counters, unknownModules };
}
