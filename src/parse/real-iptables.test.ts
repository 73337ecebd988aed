import { afterAll, describe, expect, test } from "vitest";
import { generateDump, generatedCounts } from "../bench/generate-dump.ts";
import type { Ruleset, TableName } from "../model/ruleset.ts";
import { commandUnavailable, netnsUnavailable, skipBecause } from "../testing/capabilities.ts";
import { createIptablesNetns, type IptablesBackend, type IptablesNetns } from "../testing/iptables-netns.ts";
import { parseDump } from "./parse-dump.ts";

/**
 * Many match and target types in four tables, in the form iptables-save 1.8.9 prints (so the saved
 * text can be compared rule by rule), with counters on two rules, a goto, flags, negations, and a
 * comment with quotes, a backslash, an apostrophe, spaces and unicode.
 */
const RICH = `*raw
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
[7:420] -A PREROUTING -p udp -m udp --dport 53 -j CT --notrack
-A OUTPUT -o lo -j NOTRACK
COMMIT
*mangle
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:ND-MARKS - [0:0]
-A PREROUTING -j ND-MARKS
-A FORWARD -p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu
-A ND-MARKS -m connmark --mark 0x1/0x1 -j CONNMARK --restore-mark --nfmask 0xffffffff --ctmask 0xffffffff
-A ND-MARKS -m mark ! --mark 0x0 -j RETURN
-A ND-MARKS -s 198.18.0.0/15 -m comment --comment "he said \\"hi\\" \\\\ it\\'s café ☕ 𝄞" -j MARK --set-xmark 0x2/0xffffffff
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:KUBE-MARK-MASQ - [0:0]
:KUBE-SEP-I77PXRDZVX7PMWMN - [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-SVC-NUKIZ6OKUXPJNT4C - [0:0]
-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A POSTROUTING -s 198.18.1.0/24 ! -o nd-br0 -j MASQUERADE --random-fully
-A POSTROUTING -s 198.18.2.0/24 -o eth0 -j SNAT --to-source 198.18.0.1
-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000
[3:180] -A KUBE-SEP-I77PXRDZVX7PMWMN -s 198.18.2.3/32 -m comment --comment "ns5/svc5:p80" -j KUBE-MARK-MASQ
-A KUBE-SEP-I77PXRDZVX7PMWMN -p tcp -m comment --comment "ns5/svc5:p80" -m recent --set --name KUBE-SEP-I77PXRDZVX7PMWMN --mask 255.255.255.255 --rsource -m tcp -j DNAT --to-destination 198.18.2.3:80
-A KUBE-SERVICES -d 198.19.0.45/32 -p tcp -m comment --comment "ns5/svc5:p80 cluster IP" -m tcp --dport 80 -j KUBE-SVC-NUKIZ6OKUXPJNT4C
-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-MARK-MASQ
-A KUBE-SVC-NUKIZ6OKUXPJNT4C -m comment --comment "ns5/svc5:p80 -> 198.18.2.3:80" -m recent --rcheck --seconds 10800 --reap --name KUBE-SEP-I77PXRDZVX7PMWMN --mask 255.255.255.255 --rsource -j KUBE-SEP-I77PXRDZVX7PMWMN
-A KUBE-SVC-NUKIZ6OKUXPJNT4C -m comment --comment "ns5/svc5:p80 -> 198.18.2.3:80" -m statistic --mode random --probability 0.33333333349 -j KUBE-SEP-I77PXRDZVX7PMWMN
COMMIT
*filter
:INPUT DROP [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:ND-IN - [0:0]
:ND-LOG - [0:0]
-A INPUT -i lo -j ACCEPT
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A INPUT -p icmp -m icmp --icmp-type 8 -m limit --limit 5/sec --limit-burst 10 -j ACCEPT
-A INPUT -p tcp -m multiport --dports 22,80,443 -m conntrack --ctstate NEW -g ND-IN
-A INPUT -p udp -m udp --sport 53 -m length --length 0:512 -j ACCEPT
-A INPUT ! -s 198.18.0.0/15 -p tcp -m tcp --dport 6443 -m comment --comment plain -j REJECT --reject-with tcp-reset
-A INPUT -m addrtype --src-type LOCAL --dst-type LOCAL -j ACCEPT
-A INPUT -m pkttype --pkt-type broadcast -j DROP
-A INPUT -m iprange --src-range 198.18.0.10-198.18.0.20 -j ND-LOG
-A INPUT -m state --state INVALID -j DROP
-A INPUT -m mac --mac-source 02:00:00:00:00:01 -j ACCEPT
-A INPUT -m ttl --ttl-lt 2 -j DROP
-A INPUT -m hashlimit --hashlimit-upto 10/sec --hashlimit-burst 5 --hashlimit-mode srcip --hashlimit-name nd -j ACCEPT
-A INPUT -m string --string "GET /evil" --algo bm -j DROP
-A INPUT -f -j DROP
-A FORWARD -m physdev --physdev-is-bridged -j ACCEPT
-A INPUT -m socket --transparent -j ACCEPT
-A FORWARD -m u32 --u32 "0x0>>0x16&0x3c@0x4&0xffff=0x1" -j DROP
-A OUTPUT -m owner --uid-owner 0 -j ACCEPT
-A OUTPUT -m time --timestart 01:00:00 --timestop 02:00:00 --datestop 2038-01-19T03:14:07 --kerneltz -j ACCEPT
-A ND-IN -p tcp -m tcp --dport 22 -j ACCEPT
-A ND-IN -j RETURN
-A ND-LOG -j LOG --log-prefix "nd drop: "
-A ND-LOG -j NFLOG --nflog-prefix "nd q" --nflog-group 3
-A ND-LOG -j DROP
COMMIT
`;

const KUBE = { services: 120, duplicates: 60, counters: true } as const;

const reason =
  netnsUnavailable() ??
  commandUnavailable("iptables-nft-restore") ??
  commandUnavailable("iptables-legacy-restore") ??
  commandUnavailable("iptables-legacy-save");
const skip = skipBecause(reason, "real iptables-save round trips");

/** Per table: chain name, policy and every rule's text, counters and parsed spec. */
function view(rs: Ruleset) {
  const tables: Record<string, unknown> = {};
  for (const [name, table] of rs.tables) {
    tables[name] = [...table.chains.values()].map((c) => ({
      chain: c.name,
      policy: c.policy,
      builtin: c.builtin,
      rules: c.rules.map((r) => ({ text: r.text, counters: r.counters, spec: r.spec })),
    }));
  }
  return tables;
}

/** What `iptables-save` prints for an input loaded with or without `-c`. */
function expectedView(input: string, counters: boolean) {
  const tables = view(parseDump(input)) as Record<string, { rules: { counters?: unknown }[] }[]>;
  for (const chains of Object.values(tables)) {
    for (const chain of chains) {
      for (const rule of chain.rules) {
        // Without -c on save there are no counters; with -c, a rule loaded without counters has [0:0].
        rule.counters = counters ? (rule.counters ?? { packets: "0", bytes: "0" }) : undefined;
      }
    }
  }
  return tables;
}

describe.skipIf(skip)("parseDump() on real iptables-save output", () => {
  const namespaces: IptablesNetns[] = [];
  afterAll(() => {
    for (const ns of namespaces) ns.destroy();
  });

  /** One namespace per backend and input: legacy and nft tables in one namespace interfere. */
  function load(backend: IptablesBackend, input: string): IptablesNetns {
    const ns = createIptablesNetns("parse");
    namespaces.push(ns);
    ns.restore(input, { backend, counters: true });
    return ns;
  }

  for (const backend of ["nft", "legacy"] as const) {
    for (const counters of [false, true]) {
      const how = `${backend}${counters ? " -c" : ""}`;

      test(`parseDump() reads every rule of many match types as iptables-${how}-save prints them`, () => {
        const ns = load(backend, RICH);
        try {
          const saved = parseDump(ns.save({ backend, counters }));
          expect(saved.warnings).toEqual([]);
          expect(saved.header).toMatchObject(
            backend === "nft"
              ? { program: "iptables-nft-save", version: "1.8.9", backend: "nf_tables", line: 1 }
              : { program: "iptables-save", version: "1.8.9", backend: "legacy", line: 1 },
          );
          const counts = (rs: Ruleset) =>
            Object.fromEntries(
              [...rs.tables].map(([t, table]) => [
                t,
                {
                  chains: table.chains.size,
                  rules: [...table.chains.values()].reduce((n, c) => n + c.rules.length, 0),
                },
              ]),
            );
          expect(counts(saved)).toEqual({
            raw: { chains: 2, rules: 2 },
            mangle: { chains: 6, rules: 5 },
            nat: { chains: 8, rules: 10 },
            filter: { chains: 5, rules: 25 },
          });
          expect(saved.ruleCount).toBe(42);
          expect(view(saved)).toEqual(expectedView(RICH, counters));
          const marks = saved.tables.get("mangle")!.chains.get("ND-MARKS")!.rules;
          expect(marks[2]!.spec.comment).toBe('he said "hi" \\ it\'s caf\u00e9 \u2615 \u{1d11e}');
          const input = saved.tables.get("filter")!.chains.get("INPUT")!.rules;
          expect(input.find((r) => r.spec.target?.kind === "goto")?.spec.target?.name).toBe("ND-IN");
          if (counters) {
            const sep = saved.tables.get("nat")!.chains.get("KUBE-SEP-I77PXRDZVX7PMWMN")!.rules[0]!;
            expect(sep.counters).toEqual({ packets: "3", bytes: "180" });
            expect(sep.raw.startsWith("[3:180] -A KUBE-SEP-I77PXRDZVX7PMWMN ")).toBe(true);
          }
        } finally {
          ns.destroy();
        }
      });

      test(`parseDump() counts a generated kube-proxy node exactly as iptables-${how}-save prints it`, () => {
        const input = [
          ...generateDump({ ...KUBE, backend: backend === "nft" ? "nf_tables" : "legacy" }),
        ].join("");
        const ns = load(backend, input);
        try {
          const text = ns.save({ backend, counters });
          const saved = parseDump(text);
          const want = generatedCounts(KUBE);
          expect(saved.warnings).toEqual([]);
          expect(saved.ruleCount).toBe(want.rules);
          const byTable = (name: TableName) => {
            const t = saved.tables.get(name)!;
            return {
              chains: t.chains.size,
              rules: [...t.chains.values()].reduce((n, c) => n + c.rules.length, 0),
            };
          };
          expect({ filter: byTable("filter"), nat: byTable("nat") }).toEqual(want.tables);
          expect(view(saved)).toEqual(expectedView(input, counters));
          // Line numbers point at the saved text.
          const lines = text.split("\n");
          for (const table of saved.tables.values()) {
            for (const chain of table.chains.values()) {
              expect(lines[chain.line - 1]!.startsWith(`:${chain.name} `)).toBe(true);
              for (const rule of chain.rules) expect(lines[rule.line - 1]).toBe(rule.raw);
            }
          }
        } finally {
          ns.destroy();
        }
      });
    }
  }

  for (const backend of ["nft", "legacy"] as const) {
    test(`parseDump() keeps control characters iptables-${backend}-save prints raw inside a comment`, () => {
      const ns = createIptablesNetns("parse");
      namespaces.push(ns);
      try {
        // A hostile comment: an escape sequence, a C0 control, a tab, a quote; iptables-save prints it raw.
        const comment = 'a\x1b[31mb\x01c\td"e';
        ns.exec(`iptables-${backend}`, [
          "-A",
          "INPUT",
          "-m",
          "comment",
          "--comment",
          comment,
          "-j",
          "ACCEPT",
        ]);
        const text = ns.save({ backend });
        expect(text).toContain("\x1b[31m");
        const rs = parseDump(text);
        expect(rs.warnings).toEqual([]);
        expect(rs.tables.get("filter")!.chains.get("INPUT")!.rules[0]!.spec.comment).toBe(comment);
      } finally {
        ns.destroy();
      }
    });
  }

  test("parseDump() keeps the legacy-tables warning iptables-nft prints on stderr (mixed backends)", () => {
    const ns = createIptablesNetns("parse");
    namespaces.push(ns);
    try {
      ns.exec("iptables-legacy", ["-t", "nat", "-N", "ND-LEGACY"]);
      ns.restore("*filter\n:INPUT ACCEPT [0:0]\n:ND-NFT - [0:0]\n-A INPUT -j ND-NFT\nCOMMIT\n", {
        backend: "nft",
      });
      const rs = parseDump(ns.save({ backend: "nft", withStderr: true }));
      expect(rs.warnings).toEqual([
        {
          line: 1,
          text: "# Warning: iptables-legacy tables present, use iptables-legacy-save to see them",
          reason: "iptables printed this message",
          kind: "notice",
        },
      ]);
      expect(rs.header.backend).toBe("nf_tables");
      expect(rs.ruleCount).toBe(1);
      const legacy = parseDump(ns.save({ backend: "legacy" }));
      expect([...legacy.tables.get("nat")!.chains.keys()]).toContain("ND-LEGACY");
      expect(legacy.header.backend).toBe("legacy");
    } finally {
      ns.destroy();
    }
  });

  test("parseDump() reads `iptables -t nat -S` and `-S -v` output of the real iptables with a table hint", () => {
    const ns = load("nft", RICH);
    try {
      const plain = parseDump(ns.exec("iptables-nft", ["-t", "nat", "-S"]), { table: "nat" });
      const verbose = parseDump(ns.exec("iptables-nft", ["-t", "nat", "-S", "-v"]), { table: "nat" });
      const saved = parseDump(ns.save({ backend: "nft" }));
      const texts = (rs: Ruleset) =>
        [...rs.tables.get("nat")!.chains.values()].map((c) => [c.name, c.rules.map((r) => r.text)]);
      // `iptables -S` lists user chains in creation order, iptables-save sorts them: compare as sets.
      expect(new Set(texts(plain).map(String))).toEqual(new Set(texts(saved).map(String)));
      expect(texts(verbose)).toEqual(texts(plain));
      const sep = verbose.tables.get("nat")!.chains.get("KUBE-SEP-I77PXRDZVX7PMWMN")!.rules[0]!;
      expect(sep.counters).toEqual({ packets: "3", bytes: "180" });
      expect(plain.warnings).toEqual([]);
    } finally {
      ns.destroy();
    }
  });
});
