import type { MatchValue, RuleOption, RuleSpec, Target } from "../model/ruleset.ts";
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
  const tokens = tokenizeRule(text, line);
  const fail = (token: RuleToken | undefined, detail: string): never => {
    throw new DumpSyntaxError(`Cannot parse rule at line ${line}: ${detail}`, {
      line,
      column: (token?.offset ?? text.length) + 1,
    });
  };
  const first = tokens[0];
  if (first === undefined || (first.value !== "-A" && first.value !== "--append")) {
    fail(first, `expected "-A CHAIN", found "${first?.value ?? ""}"`);
  }
  const chainToken = tokens[1];
  if (chainToken === undefined) fail(undefined, `option "-A" requires a chain name`);
  const chain = chainToken!.value;
  const spec: {
    source?: MatchValue;
    destination?: MatchValue;
    inInterface?: MatchValue;
    outInterface?: MatchValue;
    protocol?: MatchValue;
    fragment?: MatchValue;
    target?: Target;
    comment?: string;
  } = {};
  const matches: MutableMatch[] = [];
  const unknownModules: string[] = [];
  let counters: { packets: string; bytes: string } | undefined;
  let current: MutableMatch | undefined;
  let targetOptions: RuleOption[] | undefined;
  let negated = false;
  let negToken: RuleToken | undefined;
  let i = 2;
  const n = tokens.length;

  const takeValue = (opt: RuleToken): string => {
    const next = tokens[i];
    if (next === undefined || (next.value === "!" && !next.quoted)) {
      return fail(next ?? opt, `option "${opt.value}" requires an argument`);
    }
    i++;
    return next.value;
  };

  while (i < n) {
    const tok = tokens[i++]!;
    const word = tok.value;
    if (tok.quoted) fail(tok, `unexpected argument "${word}"`);
    if (word === "!") {
      if (negated) fail(tok, `double negation "! !"`);
      negated = true;
      negToken = tok;
      continue;
    }
    const builtin = BUILTIN_OPTIONS[word];
    if (builtin !== undefined && targetOptions === undefined) {
      const next = tokens[i];
      if (next !== undefined && next.value === "!" && !next.quoted) {
        fail(
          next,
          `negation after option "${word}" is not supported since iptables 1.4.3: write "! ${word}"`,
        );
      }
      const value = takeValue(tok);
      spec[builtin] = { negated, value };
      negated = false;
      // The options that follow still belong to the last `-m` match, as in iptables.
      continue;
    }
    if ((word === "-f" || word === "--fragment") && targetOptions === undefined) {
      spec.fragment = { negated, value: "" };
      negated = false;
      continue;
    }
    if (word === "-m" || word === "--match") {
      if (negated) fail(negToken, `negation before "-m" is not allowed`);
      const module = takeValue(tok);
      const known = KNOWN_MATCHES.has(module);
      if (!known && !unknownModules.includes(module)) unknownModules.push(module);
      current = { module, options: [], known };
      matches.push(current);
      targetOptions = undefined;
      continue;
    }
    if (word === "-j" || word === "--jump" || word === "-g" || word === "--goto") {
      if (negated) fail(negToken, `negation before "${word}" is not allowed`);
      if (spec.target !== undefined) fail(tok, `more than one target`);
      const name = takeValue(tok);
      targetOptions = [];
      spec.target = {
        name,
        kind: word === "-g" || word === "--goto" ? "goto" : "jump",
        options: targetOptions,
      };
      current = undefined;
      continue;
    }
    if (word === "-c" || word === "--set-counters") {
      const packets = takeValue(tok);
      const bytes = takeValue(tok);
      counters = { packets, bytes };
      continue;
    }
    if (word.startsWith("--")) {
      const values: string[] = [];
      if (TEXT_OPTIONS.has(word)) {
        values.push(takeValue(tok));
      } else if (!FLAG_OPTIONS.has(word)) {
        while (i < n) {
          const next = tokens[i]!;
          if (!next.quoted && (next.value === "!" || (next.value.startsWith("-") && next.value.length > 1))) {
            break;
          }
          values.push(next.value);
          i++;
        }
        // No value: `--opt ! value` is the pre-1.4.3 negation; otherwise the option is a flag that
        // netdoctor does not list (new or rare extensions have many), kept as written with no values.
        const next = tokens[i];
        const after = tokens[i + 1];
        if (values.length === 0 && next?.value === "!" && after !== undefined && !isOption(after)) {
          fail(
            next,
            `negation after option "${word}" is not supported since iptables 1.4.3: write "! ${word}"`,
          );
        }
        if (values.length === 0 && VALUE_OPTIONS.has(word))
          fail(next ?? tok, `option "${word}" requires an argument`);
      }
      const option: RuleOption = { name: word, negated, values };
      negated = false;
      if (targetOptions !== undefined) {
        targetOptions.push(option);
      } else {
        let owner = current;
        const proto = spec.protocol?.value ?? "";
        if (
          owner === undefined ||
          (!PORT_MODULES.has(owner.module) && PROTOCOL_OPTIONS[proto]?.has(word) === true)
        ) {
          // `-p tcp --dport 80` without `-m tcp` (restore input): iptables loads the protocol's match
          // implicitly, and an option no loaded match knows goes to it.
          if (proto === "") fail(tok, `unknown option "${word}" (no match module before it)`);
          owner = matches.find((m) => m.module === proto);
          if (owner === undefined) {
            owner = { module: proto, options: [], known: KNOWN_MATCHES.has(proto) };
            matches.push(owner);
          }
          if (current === undefined) current = owner;
        }
        owner.options.push(option);
        if (word === "--comment" && owner.module === "comment" && spec.comment === undefined) {
          spec.comment = values[0] ?? "";
        }
      }
      continue;
    }
    fail(tok, `unknown option "${word}"`);
  }
  if (negated) fail(negToken, `"!" is not followed by an option`);
  const result: RuleSpec = { ...spec, matches };
  return counters === undefined
    ? { chain, spec: result, unknownModules }
    : { chain, spec: result, counters, unknownModules };
}
