import { describe, expect, test } from "vitest";
import { DumpReader } from "./dump-reader.ts";
import { type RuleLine, type RuleView, targetOfText } from "./rule-view.ts";

/** What a handler sees of each rule through the view, and the reader's own RuleLine of it. */
function views(text: string | Uint8Array[], options: { table?: "filter" } = {}) {
  const seen: { view: ReturnType<typeof snapshot>; line: RuleLine }[] = [];
  const reader = new DumpReader(
    { ruleView: (v) => seen.push({ view: snapshot(v), line: v.toRuleLine() }) },
    options,
  );
  if (typeof text === "string") reader.push(text);
  else for (const chunk of text) reader.push(chunk);
  reader.end();
  return seen;
}

function snapshot(v: RuleView) {
  return {
    chain: v.chain,
    text: v.text,
    raw: v.raw,
    counters: v.counters,
    target: v.target(),
    startsWithA: v.startsWith("-A "),
    endsWithDrop: v.endsWith(" -j DROP"),
  };
}

describe("RuleView", () => {
  test("RuleView gives text, raw, counters and target of plain, counted and CRLF lines", () => {
    const dump = [
      "*filter",
      ":INPUT ACCEPT [0:0]",
      ":KUBE-FW - [0:0]",
      "-A INPUT -j KUBE-FW",
      "[12:3456] -A KUBE-FW -p tcp -j DROP\r",
      '-A KUBE-FW -m comment --comment "a -j B" -j DROP',
      '-A KUBE-FW -m comment --comment "ends -j X"',
      "-A KUBE-FW -g INPUT",
      "COMMIT",
      "",
    ].join("\n");
    expect(views(dump).map((s) => s.view)).toEqual([
      {
        chain: "INPUT",
        text: "-A INPUT -j KUBE-FW",
        raw: "-A INPUT -j KUBE-FW",
        counters: undefined,
        target: "KUBE-FW",
        startsWithA: true,
        endsWithDrop: false,
      },
      {
        chain: "KUBE-FW",
        text: "-A KUBE-FW -p tcp -j DROP",
        raw: "[12:3456] -A KUBE-FW -p tcp -j DROP",
        counters: { packets: "12", bytes: "3456" },
        target: "DROP",
        startsWithA: true,
        endsWithDrop: true,
      },
      {
        chain: "KUBE-FW",
        text: '-A KUBE-FW -m comment --comment "a -j B" -j DROP',
        raw: '-A KUBE-FW -m comment --comment "a -j B" -j DROP',
        counters: undefined,
        target: "DROP",
        startsWithA: true,
        endsWithDrop: true,
      },
      {
        chain: "KUBE-FW",
        text: '-A KUBE-FW -m comment --comment "ends -j X"',
        raw: '-A KUBE-FW -m comment --comment "ends -j X"',
        counters: undefined,
        // The only -j is inside the quoted comment.
        target: undefined,
        startsWithA: true,
        endsWithDrop: false,
      },
      {
        chain: "KUBE-FW",
        text: "-A KUBE-FW -g INPUT",
        raw: "-A KUBE-FW -g INPUT",
        counters: undefined,
        target: "INPUT",
        startsWithA: true,
        endsWithDrop: false,
      },
    ]);
  });

  test("RuleView of iptables -S -v keeps the rule without its inner counters and the line as written", () => {
    const s = views("-P INPUT ACCEPT\n-A INPUT -s 10.0.0.1/32 -c 5 300 -j DROP\n");
    expect(s[0]!.view).toMatchObject({
      text: "-A INPUT -s 10.0.0.1/32 -j DROP",
      raw: "-A INPUT -s 10.0.0.1/32 -c 5 300 -j DROP",
      counters: { packets: "5", bytes: "300" },
      target: "DROP",
    });
  });

  test("RuleView decodes UTF-8 cut by a chunk border, and toRuleLine() copies the view", () => {
    const bytes = new TextEncoder().encode(
      '*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -m comment --comment "café ☕" -j ACCEPT\nCOMMIT\n',
    );
    const cut = bytes.indexOf(0xc3) + 1; // inside "é"
    const s = views([bytes.subarray(0, cut), bytes.subarray(cut)]);
    expect(s[0]!.line).toEqual({
      table: "filter",
      chain: "INPUT",
      index: 0,
      line: 3,
      raw: '-A INPUT -m comment --comment "café ☕" -j ACCEPT',
      text: '-A INPUT -m comment --comment "café ☕" -j ACCEPT',
    });
  });

  test("targetOfText() skips -j inside quotes, with escaped quotes in them", () => {
    expect(targetOfText('-A X -m comment --comment "a \\" -j Y" -j Z')).toBe("Z");
    expect(targetOfText("-A X -p tcp")).toBeUndefined();
  });
});

test("RuleView.includes() agrees with the text's own includes, never looking past the rule's bytes", () => {
  const dump = [
    "*nat",
    ":KUBE-SERVICES - [0:0]",
    "[5:60] -A KUBE-SERVICES -m set --match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT",
    "-A KUBE-SERVICES -j KUBE-MARK-MASQ",
    "COMMIT",
    "",
  ].join("\n");
  const needles = [
    "--match-set KUBE-CLUSTER-IP ",
    "[5:60]",
    "ACCEPT",
    "ACCEPT\n",
    "COMMIT",
    "-A KUBE-SERVICES -j",
    "MASQ",
    "-",
  ];
  const got: boolean[][] = [];
  new DumpReader({ ruleView: (v) => got.push(needles.map((n) => v.includes(n))) }).push(dump);
  const texts = [
    "-A KUBE-SERVICES -m set --match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT",
    "-A KUBE-SERVICES -j KUBE-MARK-MASQ",
  ];
  expect(got).toEqual(texts.map((t) => needles.map((n) => t.includes(n))));
});
