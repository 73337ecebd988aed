/**
 * Turns a rule's `-m` matches into small test functions (see match-test.ts for what a test
 * answers). One file per family of modules; this one only dispatches.
 */
import type { Match } from "../model/ruleset.ts";
import {
  compileAddrtype,
  compileHashlimit,
  compileIcmp,
  compileIprange,
  compilePkttype,
} from "./match-address-type.ts";
import { compileSetMatch } from "./match-ipset.ts";
import { compilePhysdev } from "./match-physdev.ts";
import { compileMultiport, compileProtoMatch } from "./match-ports.ts";
import {
  compileConntrack,
  compileMark,
  compileRecent,
  compileStateTest,
  compileStatistic,
} from "./match-state.ts";
import { type MatchTest, undecidedTest } from "./match-test.ts";

/** The tests of one `-m` match, in evaluation order. */
export function compileMatch(m: Match): MatchTest[] {
  switch (m.module) {
    case "tcp":
    case "udp":
    case "sctp":
      return compileProtoMatch(m);
    case "multiport":
      return compileMultiport(m);
    case "comment":
    case "nfacct":
      return [];
    case "mark":
      return compileMark(m, "mark");
    case "connmark":
      return compileMark(m, "ctmark");
    case "conntrack":
      return compileConntrack(m);
    case "state":
      return m.options.map((o) =>
        o.name === "--state" ? compileStateTest(o, false) : undecidedTest(`option "${o.name}" of "-m state"`),
      );
    case "statistic":
      return compileStatistic(m);
    case "recent":
      return compileRecent(m);
    case "limit":
      // The bucket starts with --limit-burst tokens: the first packet always passes.
      return [];
    case "hashlimit":
      return compileHashlimit(m);
    case "addrtype":
      return compileAddrtype(m);
    case "physdev":
      return compilePhysdev(m);
    case "set":
      return [compileSetMatch(m)];
    case "iprange":
      return compileIprange(m);
    case "icmp":
      return compileIcmp(m);
    case "pkttype":
      return compilePkttype(m);
    default:
      return [
        undecidedTest(
          m.known ? `match "-m ${m.module}" is not simulated` : `match module "${m.module}" is not known`,
        ),
      ];
  }
}
