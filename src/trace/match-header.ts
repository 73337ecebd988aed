/**
 * Tests of a rule's IP header parameters that the numeric pre-checks (compile-header.ts) do not
 * cover: `-s`/`-d` forms, `-p` names, and `-i`/`-o` with iptables' `+` wildcard.
 */
import type { MatchValue } from "../model/ruleset.ts";
import { inCidr, parseCidr } from "../net/ipv4.ts";
import { type MatchTest, PROTOCOL_NUMBERS, undecided, undecidedTest } from "./match-test.ts";

/** `-s`/`-d`: an IPv4 CIDR, possibly negated. */
export function compileAddress(v: MatchValue, which: "src" | "dst"): MatchTest {
  const cidr = parseCidr(v.value);
  if (cidr === undefined) return undecidedTest(`address "${v.value}" is not IPv4`);
  const neg = v.negated;
  return which === "src" ? (st) => inCidr(st.src, cidr) !== neg : (st) => inCidr(st.dst, cidr) !== neg;
}

/** `-p`: a protocol name or number, possibly negated. */
export function compileProtocol(v: MatchValue): MatchTest {
  const name = v.value.toLowerCase();
  if (name === "all" || name === "0") return () => !v.negated;
  const num = /^\d+$/.test(name) ? Number(name) : PROTOCOL_NUMBERS[name];
  if (num === undefined) return undecidedTest(`protocol "${v.value}" is not known`);
  return (st) => (st.protoNum === num) !== v.negated;
}

/** Kernel `ifname_compare`: a trailing `+` matches any name with that prefix. */
export function interfaceMatches(pattern: string, name: string): boolean {
  if (pattern.endsWith("+")) return name.startsWith(pattern.slice(0, -1));
  return name === pattern;
}

/** `-i`/`-o`: undecided while the packet's interface is not known. */
export function compileInterface(v: MatchValue, which: "in" | "out"): MatchTest {
  const pattern = v.value;
  const unknown = undecided(
    `the packet's ${which}-interface is not known (give --${which}-interface)`,
    which === "in" ? "in-interface" : "out-interface",
  );
  return (st) => {
    const name = which === "in" ? st.inIf : st.outIf;
    if (name === undefined) return unknown;
    return interfaceMatches(pattern, name) !== v.negated;
  };
}
