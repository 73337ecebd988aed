import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import { CHUNK_BYTES, readByteChunks } from "./read-byte-chunks.ts";
import { readDump } from "./read-dump.ts";

const dir = mkdtempSync(join(tmpdir(), "nd-bytes-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A file over two chunks long with multi-byte characters everywhere, also on the chunk borders. */
function bigFile(): { path: string; bytes: Buffer } {
  const rules: string[] = ["*filter", ":INPUT ACCEPT [0:0]"];
  for (let i = 0, size = 0; size < 2.5 * CHUNK_BYTES; i++) {
    const rule = `-A INPUT -m comment --comment "règle ${i} ☕ 𝄞" -j ACCEPT`;
    rules.push(rule);
    size += rule.length + 1;
  }
  rules.push("COMMIT", "");
  const bytes = Buffer.from(rules.join("\n"));
  const path = join(dir, "big.txt");
  writeFileSync(path, bytes);
  return { path, bytes };
}

test("readByteChunks() gives the file's bytes in chunks that stay valid, or in one reused buffer", async () => {
  const { path, bytes } = bigFile();
  const kept: Uint8Array[] = [];
  for await (const chunk of readByteChunks(path)) kept.push(chunk);
  expect(kept.length).toBeGreaterThan(2);
  expect(Buffer.concat(kept).equals(bytes)).toBe(true);

  const copied: Buffer[] = [];
  const buffers = new Set<ArrayBufferLike>();
  for await (const chunk of readByteChunks(path, { reuse: true })) {
    copied.push(Buffer.from(chunk));
    buffers.add(chunk.buffer);
  }
  expect(Buffer.concat(copied).equals(bytes)).toBe(true);
  expect(buffers.size).toBe(1);
});

test("readDump() of a file reads every rule as the text in it, across chunk borders", async () => {
  const { path, bytes } = bigFile();
  const rs = await readDump(path, { lazy: true });
  const lines = bytes.toString("utf8").split("\n");
  const rules = rs.tables.get("filter")!.chains.get("INPUT")!.rules;
  expect(rules.length).toBe(lines.length - 4);
  for (const r of rules) expect(r.raw).toBe(lines[r.line - 1]);
});
