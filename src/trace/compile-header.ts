/**
 * The IP header part of a rule (`-s`, `-d`, `-p`) compiled to plain numbers the walker checks before
 * any test (see `CompiledRule.sm`), and the header tests that cannot be numbers (`-i`, `-o`, `-f`,
 * address or protocol forms the numbers do not cover).
 */
import type { RuleSpec } from "../model/ruleset.ts";
import { parseCidr } from "../net/ipv4.ts";
import { compileAddress, compileInterface, compileProtocol } from "./match-header.ts";
import { type MatchTest, PROTOCOL_NUMBERS } from "./match-test.ts";

/** The numeric header checks of a rule (see `CompiledRule` for their meaning). */
export interface RuleHeader {
  sm: number;
  sb: number;
  sn: boolean;
  dm: number;
  db: number;
  dn: boolean;
  pr: number;
  pn: boolean;
}

/** The numeric fields of a rule that checks nothing in the header. */
export const NO_HEADER = {
  sm: 0,
  sb: 0,
  sn: false,
  dm: 0,
  db: 0,
  dn: false,
  pr: -1,
  pn: false,
  prob: 0,
  dplo: -1,
  dphi: -1,
  dpn: false,
} as const;

/**
 * Compiles the header fields of `spec`: those that fit the numeric checks go into the result, the
 * others are appended to `tests` in kernel order (source, destination, interfaces, protocol, fragment).
 */
export function compileHeader(spec: RuleSpec, tests: MatchTest[]): RuleHeader {
  const header: RuleHeader = { sm: 0, sb: 0, sn: false, dm: 0, db: 0, dn: false, pr: -1, pn: false };
  if (spec.source !== undefined) {
    const cidr = parseCidr(spec.source.value);
    if (cidr === undefined) tests.push(compileAddress(spec.source, "src"));
    else {
      header.sm = cidr.mask | 0;
      header.sb = cidr.base | 0;
      header.sn = spec.source.negated;
    }
  }
  if (spec.destination !== undefined) {
    const cidr = parseCidr(spec.destination.value);
    if (cidr === undefined) tests.push(compileAddress(spec.destination, "dst"));
    else {
      header.dm = cidr.mask | 0;
      header.db = cidr.base | 0;
      header.dn = spec.destination.negated;
    }
  }
  if (spec.inInterface !== undefined) tests.push(compileInterface(spec.inInterface, "in"));
  if (spec.outInterface !== undefined) tests.push(compileInterface(spec.outInterface, "out"));
  if (spec.protocol !== undefined) {
    const num = protocolNumber(spec.protocol.value);
    const all = /^(?:all|0)$/i.test(spec.protocol.value);
    // `-p all` matches every packet: no test at all.
    if (num !== undefined) {
      header.pr = num;
      header.pn = spec.protocol.negated;
    } else if (!all || spec.protocol.negated) tests.push(compileProtocol(spec.protocol));
  }
  // The first packet of a connection is never a non-first fragment.
  if (spec.fragment !== undefined) tests.push(() => spec.fragment!.negated);
  return header;
}

/** The number of a `-p` protocol other than `all`; undefined when `compileProtocol` must decide. */
function protocolNumber(text: string): number | undefined {
  const name = text.toLowerCase();
  if (name === "all" || name === "0") return undefined;
  return /^\d+$/.test(name) ? Number(name) : PROTOCOL_NUMBERS[name];
}
