/** Port tests: `-m tcp|udp|sctp` (`--dport`, `--sport`, `--syn`, `--tcp-flags`) and `-m multiport`. */
import type { Match, RuleOption } from "../model/ruleset.ts";
import { type MatchTest, undecided, undecidedTest } from "./match-test.ts";

/** A port or `lo:hi` range (either side may be empty); undefined for names iptables-save never prints. */
export function parsePortRange(text: string): [number, number] | undefined {
  const m = /^(\d*)(?::(\d*))?$/.exec(text);
  if (m === null || (m[1] === "" && m[2] === undefined)) return undefined;
  const lo = m[1] === "" ? 0 : Number(m[1]);
  const hi = m[2] === undefined ? lo : m[2] === "" ? 65535 : Number(m[2]);
  if (lo > 65535 || hi > 65535) return undefined;
  return lo <= hi ? [lo, hi] : [hi, lo];
}

/** The option's arguments as one string. */
export function optValue(o: RuleOption): string {
  return o.values.join(" ");
}

/** The answer when a rule tests the source port and the caller did not give it. */
export const NO_SOURCE_PORT = undecided("the source port is not known (give --src IP:PORT)", "source-port");

function portTest(o: RuleOption, which: "src" | "dst"): MatchTest {
  const ranges: Array<[number, number]> = [];
  for (const part of optValue(o).split(",")) {
    const r = parsePortRange(part.trim());
    if (r === undefined) return undecidedTest(`port "${optValue(o)}" is not numeric`);
    ranges.push(r);
  }
  const neg = o.negated;
  return (st) => {
    const port = which === "src" ? st.sport : st.dport;
    if (port < 0) return which === "src" ? NO_SOURCE_PORT : false;
    let hit = false;
    for (const [lo, hi] of ranges) if (port >= lo && port <= hi) hit = true;
    return hit !== neg;
  };
}

/** TCP flags of the first packet of a connection: SYN only. */
const SYN_FLAGS = new Set(["SYN"]);

function tcpFlagsTest(o: RuleOption): MatchTest {
  const [maskText, compText] = o.values;
  if (maskText === undefined || compText === undefined)
    return undecidedTest(`--tcp-flags needs a mask and a value`);
  const set = (t: string) =>
    t === "ALL" ? ["SYN", "ACK", "FIN", "RST", "URG", "PSH", "ECE", "CWR"] : t === "NONE" ? [] : t.split(",");
  const mask = set(maskText);
  const comp = new Set(set(compText));
  const hit = mask.every((f) => SYN_FLAGS.has(f) === comp.has(f));
  return () => hit !== o.negated;
}

/**
 * The tests of `-m tcp|udp|sctp`. `protoChecked`: the rule's `-p` already requires this protocol
 * (the module's own protocol test would always pass). `skip`: an option the caller evaluates itself.
 */
export function compileProtoMatch(
  m: Match,
  options: { readonly protoChecked?: boolean; readonly skip?: RuleOption | undefined } = {},
): MatchTest[] {
  const tests: MatchTest[] = [];
  const proto = m.module;
  if (options.protoChecked !== true) tests.push((st) => st.proto === proto);
  for (const o of m.options) {
    if (o === options.skip) continue;
    switch (o.name) {
      case "--dport":
      case "--destination-port":
        tests.push(portTest(o, "dst"));
        break;
      case "--sport":
      case "--source-port":
        tests.push(portTest(o, "src"));
        break;
      case "--syn":
        tests.push(() => !o.negated);
        break;
      case "--tcp-flags":
        tests.push(tcpFlagsTest(o));
        break;
      default:
        tests.push(undecidedTest(`option "${o.name}" of "-m ${proto}" is not simulated`));
    }
  }
  return tests;
}

/** The tests of `-m multiport`. */
export function compileMultiport(m: Match): MatchTest[] {
  return m.options.map((o): MatchTest => {
    switch (o.name) {
      case "--dports":
      case "--destination-ports":
        return portTest(o, "dst");
      case "--sports":
      case "--source-ports":
        return portTest(o, "src");
      case "--ports": {
        const d = portTest({ ...o, negated: false }, "dst");
        const s = portTest({ ...o, negated: false }, "src");
        return (st, ctx) => {
          const a = d(st, ctx);
          if (a === true) return !o.negated;
          const b = s(st, ctx);
          if (typeof b === "object") return b;
          return (b === true) !== o.negated;
        };
      }
      default:
        return undecidedTest(`option "${o.name}" of "-m multiport" is not simulated`);
    }
  });
}
