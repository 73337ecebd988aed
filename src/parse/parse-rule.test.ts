import { describe, expect, test } from "vitest";
import type { Match, RuleSpec } from "../model/ruleset.ts";
import { DumpSyntaxError } from "./dump-syntax-error.ts";
import { parseRule } from "./parse-rule.ts";
import { tokenizeRule } from "./tokenize-rule.ts";

function opt(name: string, ...values: string[]) {
  return { name, negated: false, values };
}
function notOpt(name: string, ...values: string[]) {
  return { name, negated: true, values };
}
function m(module: string, ...options: ReturnType<typeof opt>[]): Match {
  return { module, options, known: true };
}

/** Rows as iptables-save (1.8.9) prints them, with the spec they must give. */
const ROWS: { name: string; text: string; spec: RuleSpec }[] = [
  {
    name: "ClusterIP jump with comment and explicit tcp match",
    text: '-A KUBE-SERVICES -d 172.30.0.41/32 -p tcp -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp --dport 80 -j KUBE-SVC-XPGD46QRK7WJZT7O',
    spec: {
      destination: { negated: false, value: "172.30.0.41/32" },
      protocol: { negated: false, value: "tcp" },
      comment: "ns1/svc1:p80 cluster IP",
      matches: [m("comment", opt("--comment", "ns1/svc1:p80 cluster IP")), m("tcp", opt("--dport", "80"))],
      target: { name: "KUBE-SVC-XPGD46QRK7WJZT7O", kind: "jump", options: [] },
    },
  },
  {
    name: "negated source before the other built-ins",
    text: '-A KUBE-SVC-4SW47YFZTEDKD3PK ! -s 10.0.0.0/8 -d 172.30.0.44/32 -p tcp -m comment --comment "ns4/svc4:p80 cluster IP" -m tcp --dport 80 -j KUBE-MARK-MASQ',
    spec: {
      source: { negated: true, value: "10.0.0.0/8" },
      destination: { negated: false, value: "172.30.0.44/32" },
      protocol: { negated: false, value: "tcp" },
      comment: "ns4/svc4:p80 cluster IP",
      matches: [m("comment", opt("--comment", "ns4/svc4:p80 cluster IP")), m("tcp", opt("--dport", "80"))],
      target: { name: "KUBE-MARK-MASQ", kind: "jump", options: [] },
    },
  },
  {
    name: "negated match options (conntrack, mark) and negated interfaces",
    text: "-A KUBE-FIREWALL ! -i lo ! -o eth0 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -m mark ! --mark 0x4000/0x4000 -j DROP",
    spec: {
      inInterface: { negated: true, value: "lo" },
      outInterface: { negated: true, value: "eth0" },
      matches: [
        m("conntrack", notOpt("--ctstate", "RELATED,ESTABLISHED,DNAT")),
        m("mark", notOpt("--mark", "0x4000/0x4000")),
      ],
      target: { name: "DROP", kind: "jump", options: [] },
    },
  },
  {
    name: "escaped double quote and backslash inside a quoted comment",
    text: '-A INPUT -m comment --comment "say \\"hi\\" to C:\\\\temp" -j ACCEPT',
    spec: {
      comment: 'say "hi" to C:\\temp',
      matches: [m("comment", opt("--comment", 'say "hi" to C:\\temp'))],
      target: { name: "ACCEPT", kind: "jump", options: [] },
    },
  },
  {
    name: "escaped single quote (iptables 1.8+) and unicode in a comment",
    text: '-A INPUT -m comment --comment "it\\\'s caf\u00e9 \u2615" -j ACCEPT',
    spec: {
      comment: "it's caf\u00e9 \u2615",
      matches: [m("comment", opt("--comment", "it's caf\u00e9 \u2615"))],
      target: { name: "ACCEPT", kind: "jump", options: [] },
    },
  },
  {
    name: "unquoted comment in the safe set, and an option-like comment",
    text: '-A INPUT -m comment --comment plain_word-1 -m comment --comment "-j DROP" -j ACCEPT',
    spec: {
      comment: "plain_word-1",
      matches: [m("comment", opt("--comment", "plain_word-1")), m("comment", opt("--comment", "-j DROP"))],
      target: { name: "ACCEPT", kind: "jump", options: [] },
    },
  },
  {
    name: "option with several values (--match-set NAME dst,dst)",
    text: "-A KUBE-ROUTER-FORWARD -m set --match-set KUBE-DST-ABCDEF dst,dst -j ACCEPT",
    spec: {
      matches: [m("set", opt("--match-set", "KUBE-DST-ABCDEF", "dst,dst"))],
      target: { name: "ACCEPT", kind: "jump", options: [] },
    },
  },
  {
    name: "flags without values (--rcheck --reap --rsource) among valued options",
    text: '-A KUBE-SVC-NUKIZ6OKUXPJNT4C -m comment --comment "ns5/svc5:p80 -> 10.180.0.3:80" -m recent --rcheck --seconds 10800 --reap --name KUBE-SEP-I77PXRDZVX7PMWMN --mask 255.255.255.255 --rsource -j KUBE-SEP-I77PXRDZVX7PMWMN',
    spec: {
      comment: "ns5/svc5:p80 -> 10.180.0.3:80",
      matches: [
        m("comment", opt("--comment", "ns5/svc5:p80 -> 10.180.0.3:80")),
        m(
          "recent",
          opt("--rcheck"),
          opt("--seconds", "10800"),
          opt("--reap"),
          opt("--name", "KUBE-SEP-I77PXRDZVX7PMWMN"),
          opt("--mask", "255.255.255.255"),
          opt("--rsource"),
        ),
      ],
      target: { name: "KUBE-SEP-I77PXRDZVX7PMWMN", kind: "jump", options: [] },
    },
  },
  {
    name: "statistic probability and nfacct name after two spaces",
    text: "-A KUBE-NODEPORTS -d 127.0.0.0/8 -p tcp -m tcp --dport 3001 -m nfacct --nfacct-name  localhost_nps_accepted_pkts -m statistic --mode random --probability 0.33333333349 -j KUBE-EXT-GNZBNJ2PO5MGZ6GT",
    spec: {
      destination: { negated: false, value: "127.0.0.0/8" },
      protocol: { negated: false, value: "tcp" },
      matches: [
        m("tcp", opt("--dport", "3001")),
        m("nfacct", opt("--nfacct-name", "localhost_nps_accepted_pkts")),
        m("statistic", opt("--mode", "random"), opt("--probability", "0.33333333349")),
      ],
      target: { name: "KUBE-EXT-GNZBNJ2PO5MGZ6GT", kind: "jump", options: [] },
    },
  },
  {
    name: "implicit protocol match (restore input: -p tcp --dport without -m tcp)",
    text: "-A INPUT -p tcp --dport 22 -j ACCEPT",
    spec: {
      protocol: { negated: false, value: "tcp" },
      matches: [m("tcp", opt("--dport", "22"))],
      target: { name: "ACCEPT", kind: "jump", options: [] },
    },
  },
  {
    name: "port option after a comment match goes to the protocol's match",
    text: '-A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j KUBE-SVC-XPGD46QRK7WJZT7O',
    spec: {
      destination: { negated: false, value: "172.30.0.41" },
      protocol: { negated: false, value: "tcp" },
      comment: "ns1/svc1:p80 cluster IP",
      matches: [m("comment", opt("--comment", "ns1/svc1:p80 cluster IP")), m("tcp", opt("--dport", "80"))],
      target: { name: "KUBE-SVC-XPGD46QRK7WJZT7O", kind: "jump", options: [] },
    },
  },
  {
    name: "target options: DNAT",
    text: '-A KUBE-SEP-SXIVWICOYRO3J4NJ -p tcp -m comment --comment "ns1/svc1:p80" -m tcp -j DNAT --to-destination 10.180.0.1:80',
    spec: {
      protocol: { negated: false, value: "tcp" },
      comment: "ns1/svc1:p80",
      matches: [m("comment", opt("--comment", "ns1/svc1:p80")), m("tcp")],
      target: { name: "DNAT", kind: "jump", options: [opt("--to-destination", "10.180.0.1:80")] },
    },
  },
  {
    name: "target options: MARK, REJECT, MASQUERADE flag, IPv6 DNAT",
    text: "-A X -j MASQUERADE --random-fully",
    spec: { matches: [], target: { name: "MASQUERADE", kind: "jump", options: [opt("--random-fully")] } },
  },
  {
    name: "target option value with a colon and brackets",
    text: "-A X -p tcp -m tcp -j DNAT --to-destination [fd00::1]:80",
    spec: {
      protocol: { negated: false, value: "tcp" },
      matches: [m("tcp")],
      target: { name: "DNAT", kind: "jump", options: [opt("--to-destination", "[fd00::1]:80")] },
    },
  },
  {
    name: "REJECT with its option",
    text: "-A KUBE-SERVICES -j REJECT --reject-with icmp-port-unreachable",
    spec: {
      matches: [],
      target: { name: "REJECT", kind: "jump", options: [opt("--reject-with", "icmp-port-unreachable")] },
    },
  },
  {
    name: "MARK --set-xmark",
    text: "-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000",
    spec: {
      matches: [],
      target: { name: "MARK", kind: "jump", options: [opt("--set-xmark", "0x4000/0x4000")] },
    },
  },
  {
    name: "-g is a goto",
    text: '-A cali-FORWARD -m comment --comment "cali:vjrMJCRpqwy5oRoX" -g cali-from-hep-forward',
    spec: {
      comment: "cali:vjrMJCRpqwy5oRoX",
      matches: [m("comment", opt("--comment", "cali:vjrMJCRpqwy5oRoX"))],
      target: { name: "cali-from-hep-forward", kind: "goto", options: [] },
    },
  },
  {
    name: "a rule without a target",
    text: '-A KUBE-FW-NUKIZ6OKUXPJNT4C -m comment --comment "other traffic to ns5/svc5:p80 will be dropped by KUBE-PROXY-FIREWALL"',
    spec: {
      comment: "other traffic to ns5/svc5:p80 will be dropped by KUBE-PROXY-FIREWALL",
      matches: [
        m(
          "comment",
          opt("--comment", "other traffic to ns5/svc5:p80 will be dropped by KUBE-PROXY-FIREWALL"),
        ),
      ],
    },
  },
  {
    name: "fragment and negated fragment",
    text: "-A INPUT ! -f -j ACCEPT",
    spec: {
      fragment: { negated: true, value: "" },
      matches: [],
      target: { name: "ACCEPT", kind: "jump", options: [] },
    },
  },
  {
    name: "multiport with a negated port list and addrtype",
    text: "-A KUBE-ROUTER-INPUT -p tcp -m addrtype --dst-type LOCAL -m multiport ! --dports 30000:32767 -j RETURN",
    spec: {
      protocol: { negated: false, value: "tcp" },
      matches: [m("addrtype", opt("--dst-type", "LOCAL")), m("multiport", notOpt("--dports", "30000:32767"))],
      target: { name: "RETURN", kind: "jump", options: [] },
    },
  },
];

describe("parseRule()", () => {
  test.each(ROWS)("parses $name", ({ text, spec }) => {
    const parsed = parseRule(text, 7);
    expect(parsed.spec).toEqual(spec);
    expect(parsed.chain).toBe(text.split(" ")[1]);
    expect(parsed.unknownModules).toEqual([]);
  });

  test("parseRule() keeps an unknown module opaque with its options and names it", () => {
    const parsed = parseRule("-A X -m frobnicate --level 3 --loud -j ACCEPT", 1);
    expect(parsed.spec.matches).toEqual([
      { module: "frobnicate", options: [opt("--level", "3"), opt("--loud")], known: false },
    ]);
    expect(parsed.unknownModules).toEqual(["frobnicate"]);
    expect(parsed.spec.target).toEqual({ name: "ACCEPT", kind: "jump", options: [] });
  });

  test("parseRule() keeps flags it does not list (SYNPROXY, connlimit) with no values", () => {
    const parsed = parseRule(
      "-A X -p tcp -m connlimit --connlimit-above 5 --connlimit-saddr ! --connlimit-mask 32 -j SYNPROXY --sack-perm --timestamp --mss 1460",
      1,
    );
    expect(parsed.spec.matches).toEqual([
      m(
        "connlimit",
        opt("--connlimit-above", "5"),
        opt("--connlimit-saddr"),
        notOpt("--connlimit-mask", "32"),
      ),
    ]);
    expect(parsed.spec.target).toEqual({
      name: "SYNPROXY",
      kind: "jump",
      options: [opt("--sack-perm"), opt("--timestamp"), opt("--mss", "1460")],
    });
  });

  test("parseRule() keeps an unknown target with its options", () => {
    const parsed = parseRule("-A X -j FROB --frob-level 9", 1);
    expect(parsed.spec.target).toEqual({ name: "FROB", kind: "jump", options: [opt("--frob-level", "9")] });
  });

  test("parseRule() reads `-c PKTS BYTES` of `iptables -S -v`", () => {
    const parsed = parseRule(
      '-A KUBE-SVC-XPGD46QRK7WJZT7O ! -s 10.0.0.0/8 -d 172.30.0.41/32 -p tcp -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp --dport 80 -c 12 720 -j KUBE-MARK-MASQ',
      3,
    );
    expect(parsed.counters).toEqual({ packets: "12", bytes: "720" });
    expect(parsed.spec.target?.name).toBe("KUBE-MARK-MASQ");
    expect(parsed.spec.matches[1]).toEqual(m("tcp", opt("--dport", "80")));
  });

  test("parseRule() accepts long option names", () => {
    const parsed = parseRule(
      "--append X --source 1.2.3.4 --protocol udp --match udp --dport 53 --jump ACCEPT",
      1,
    );
    expect(parsed.spec.source).toEqual({ negated: false, value: "1.2.3.4" });
    expect(parsed.spec.matches).toEqual([m("udp", opt("--dport", "53"))]);
    expect(parsed.spec.target).toEqual({ name: "ACCEPT", kind: "jump", options: [] });
  });

  const ERRORS: { text: string; message: string; column: number }[] = [
    {
      text: "-A X -s ! 10.0.0.1 -j DROP",
      message:
        'Cannot parse rule at line 12: negation after option "-s" is not supported since iptables 1.4.3: write "! -s"',
      column: 9,
    },
    {
      text: "-A X -m tcp -p tcp --dport ! 80 -j DROP",
      message:
        'Cannot parse rule at line 12: negation after option "--dport" is not supported since iptables 1.4.3: write "! --dport"',
      column: 28,
    },
    {
      text: '-A X -m comment --comment "open -j ACCEPT',
      message: "Cannot parse rule at line 12: quote opened at column 27 is not closed",
      column: 27,
    },
    { text: "-A X -j", message: 'Cannot parse rule at line 12: option "-j" requires an argument', column: 6 },
    { text: "-A X -s", message: 'Cannot parse rule at line 12: option "-s" requires an argument', column: 6 },
    { text: "-A", message: 'Cannot parse rule at line 12: option "-A" requires a chain name', column: 3 },
    {
      text: "-I X 1 -j DROP",
      message: 'Cannot parse rule at line 12: expected "-A CHAIN", found "-I"',
      column: 1,
    },
    {
      text: "-A X -j ACCEPT -j DROP",
      message: "Cannot parse rule at line 12: more than one target",
      column: 16,
    },
    {
      text: "-A X ! ! -s 1.2.3.4 -j DROP",
      message: 'Cannot parse rule at line 12: double negation "! !"',
      column: 8,
    },
    {
      text: "-A X -s 1.2.3.4 !",
      message: 'Cannot parse rule at line 12: "!" is not followed by an option',
      column: 17,
    },
    {
      text: "-A X bogus -j DROP",
      message: 'Cannot parse rule at line 12: unknown option "bogus"',
      column: 6,
    },
    {
      text: "-A X --dport 80 -j DROP",
      message: 'Cannot parse rule at line 12: unknown option "--dport" (no match module before it)',
      column: 6,
    },
    // A long word is shown by its first 57 characters: one readable line, whatever the input.
    {
      text: `-A X ${"x".repeat(100_000)} -j DROP`,
      message: `Cannot parse rule at line 12: unknown option "${"x".repeat(57)}..."`,
      column: 6,
    },
    {
      text: `${"y".repeat(5_000)} X -j DROP`,
      message: `Cannot parse rule at line 12: expected "-A CHAIN", found "${"y".repeat(57)}..."`,
      column: 1,
    },
    {
      text: "-A X -m comment --comment",
      message: 'Cannot parse rule at line 12: option "--comment" requires an argument',
      column: 17,
    },
    {
      text: "-A INPUT -p tcp --dport",
      message: 'Cannot parse rule at line 12: option "--dport" requires an argument',
      column: 17,
    },
    {
      text: "-A X -p tcp -m tcp --dport -j ACCEPT",
      message: 'Cannot parse rule at line 12: option "--dport" requires an argument',
      column: 28,
    },
  ];

  test.each(ERRORS)("parseRule() rejects $text", ({ text, message, column }) => {
    let caught: unknown;
    try {
      parseRule(text, 12);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(DumpSyntaxError);
    const e = caught as DumpSyntaxError;
    expect(e.message).toBe(message);
    expect({ line: e.line, column: e.column }).toEqual({ line: 12, column });
  });
});

describe("tokenizeRule()", () => {
  test("tokenizeRule() splits like iptables-restore: quotes group, mid-word quotes join, offsets kept", () => {
    expect(tokenizeRule('-A X  --comment "a b"c d\\e "x\\"y"', 1)).toEqual([
      { value: "-A", quoted: false, offset: 0 },
      { value: "X", quoted: false, offset: 3 },
      { value: "--comment", quoted: false, offset: 6 },
      { value: "a bc", quoted: true, offset: 16 },
      { value: "d\\e", quoted: false, offset: 23 },
      { value: 'x"y', quoted: true, offset: 27 },
    ]);
  });

  test("tokenizeRule() keeps single quotes as data", () => {
    expect(tokenizeRule("-A X --comment 'a b'", 1).map((t) => t.value)).toEqual([
      "-A",
      "X",
      "--comment",
      "'a",
      "b'",
    ]);
  });

  test("tokenizeRule() keeps an empty quoted string as a word", () => {
    expect(tokenizeRule('-A X --comment ""', 1)[3]).toEqual({ value: "", quoted: true, offset: 15 });
  });
});
