import { expect, test } from "vitest";
import { DumpReader } from "./dump-reader.ts";
import { RulesetBuilder } from "./parse-dump.ts";

/** Feeds `text` to a builder in pieces of `size` bytes, every piece read into the same buffer. */
function readReused(text: string, size: number, reusedChunks: boolean, lazy = true) {
  const bytes = new TextEncoder().encode(text);
  const builder = new RulesetBuilder({ lazy, reusedChunks });
  const reader = new DumpReader(builder.handler);
  const buffer = new Uint8Array(size);
  for (let at = 0; at < bytes.length; at += size) {
    const piece = bytes.subarray(at, at + size);
    buffer.set(piece);
    reader.push(buffer.subarray(0, piece.length));
    if (reusedChunks) buffer.fill(0x41); // what the next read does to a reused buffer
  }
  reader.end();
  return builder.finish(reader);
}

test("RulesetBuilder with reusedChunks keeps every rule's line: copies, counters, CRLF, any chunk size", () => {
  const lines = ["*filter", ":INPUT ACCEPT [0:0]", ":KUBE-ROUTER-INPUT - [0:0]", ":FLANNEL-FWD - [0:0]"];
  for (let i = 0; i < 40; i++) {
    lines.push('-A KUBE-ROUTER-INPUT -m comment --comment "allow LOCAL TCP ☕" -j RETURN');
    lines.push(`-A FLANNEL-FWD -s 10.42.${i % 3}.0/24 -j ACCEPT`);
    if (i % 7 === 0) lines.push(`[${i}:${i * 60}] -A FLANNEL-FWD -s 10.42.${i % 3}.0/24 -j ACCEPT`);
    if (i % 11 === 0)
      lines.push('[5:300] -A KUBE-ROUTER-INPUT -m comment --comment "allow LOCAL TCP ☕" -j RETURN');
  }
  lines.push("-A INPUT -j KUBE-ROUTER-INPUT", "COMMIT", "");
  for (const eol of ["\n", "\r\n"]) {
    const text = lines.join(eol);
    const expected = parseWhole(text);
    for (const size of [7, 64, 333, 100_000]) {
      const rs = readReused(text, size, true);
      expect(snapshot(rs)).toEqual(expected);
    }
    // Not lazy: every rule is parsed at COMMIT, in the middle of a chunk, from the store's copies.
    expect(snapshot(readReused(text, 100_000, true, false))).toEqual(expected);
  }
});

/** Every rule as [line, raw, text, counters], read from a copy of the whole text (nothing reused). */
function parseWhole(text: string) {
  return snapshot(readReused(text, text.length * 4, false));
}

function snapshot(rs: ReturnType<RulesetBuilder["finish"]>) {
  const out: unknown[] = [];
  for (const chain of rs.tables.get("filter")!.chains.values()) {
    for (const r of chain.rules) out.push([chain.name, r.line, r.raw, r.text, r.counters]);
  }
  return out;
}
