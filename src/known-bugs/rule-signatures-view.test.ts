import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { DumpReader } from "../parse/dump-reader.ts";
import { RuleSignatureScanner } from "./rule-signatures.ts";

const LINES = [
  "-A INPUT -j ACCEPT",
  "[3:180] -A INPUT -m comment --comment [x] -j DROP",
  "-A INPUT -m set [unsupported revision] -j DROP",
  "[0:0] -A INPUT -p tcp [unsupported revision]",
  "-A CNI-HOSTPORT-MASQ -j MASQUERADE",
  '-A KUBE-FIREWALL -m comment --comment "kubernetes firewall for dropping marked packets" -j DROP',
  '-A KUBE-FIREWALL -m comment --comment "kubernetes firewall for dropping marked packets" -m mark --mark 0x8000/0x8000 -j DROP',
];

/** Hits when `bytes` is pushed in pieces at `cuts`, through one buffer reused for every piece. */
function hits(bytes: Uint8Array, cuts: number[]) {
  const sig = new RuleSignatureScanner();
  const reader = new DumpReader(sig.handler);
  const buffer = new Uint8Array(bytes.length);
  let from = 0;
  for (const cut of [...cuts.map((c) => Math.min(c, bytes.length)), bytes.length].sort((a, b) => a - b)) {
    // A reader whose caller reuses its buffer sees other data in the same object each time.
    buffer.set(bytes.subarray(from, cut));
    reader.push(buffer.subarray(0, cut - from));
    from = cut;
  }
  reader.end();
  return sig.hits.map((h) => `${h.id}@${h.line}`);
}

describe("RuleSignatureScanner on the byte view", () => {
  test("RuleSignatureScanner finds each signature on its own line, whatever the chunks", () => {
    const rules = fc.array(fc.integer({ min: 0, max: LINES.length - 1 }), { maxLength: 30 });
    fc.assert(
      fc.property(rules, fc.array(fc.nat({ max: 3000 }), { maxLength: 8 }), (picks, cuts) => {
        const lines = [
          "*filter",
          ":INPUT ACCEPT [0:0]",
          ":CNI-HOSTPORT-MASQ - [0:0]",
          ":KUBE-FIREWALL - [0:0]",
          ...picks.map((k) => LINES[k]!),
          "COMMIT",
          "",
        ];
        const want: string[] = [];
        const counts = new Map<string, number>();
        lines.forEach((l, i) => {
          const text = l.replace(/^\[\d+:\d+\] /, "");
          const ids: string[] = [];
          if (text === "-A CNI-HOSTPORT-MASQ -j MASQUERADE") ids.push("cni-hostport-masq-markless");
          else if (text.startsWith("-A KUBE-FIREWALL ") && !text.includes("--mark"))
            ids.push("kube-firewall-markless-drop");
          if (text.includes("[unsupported revision]")) ids.push("unsupported-revision");
          for (const id of ids) {
            const n = counts.get(id) ?? 0;
            counts.set(id, n + 1);
            if (n < 5) want.push(`${id}@${i + 1}`);
          }
        });
        expect(hits(new TextEncoder().encode(lines.join("\n")), cuts)).toEqual(want);
      }),
      { numRuns: 300 },
    );
  });
});
