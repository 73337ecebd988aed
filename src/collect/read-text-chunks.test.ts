import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import { readTextChunks } from "./read-text-chunks.ts";

const dir = mkdtempSync(join(tmpdir(), "nd-chunks-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const MB = 1 << 20;

async function readAll(path: string): Promise<string> {
  let out = "";
  for await (const chunk of readTextChunks(path)) out += chunk;
  return out;
}

test("readTextChunks() decodes like UTF-8 whatever falls on the 1 MiB chunk borders", async () => {
  const parts = [
    Buffer.from("a".repeat(MB - 1)), // chunk 1 ends with the first byte of "é"
    Buffer.from("é"),
    Buffer.from("b".repeat(MB - 1)), // chunk 2: rest of "é" + b's (not ASCII)
    Buffer.from("c".repeat(MB)), // chunk 3: ASCII after a non-ASCII chunk
    Buffer.from("☕ 𝄞 done\n"),
    Buffer.from([0xe2, 0x98]), // a cut character at the very end
  ];
  const bytes = Buffer.concat(parts);
  const file = join(dir, "mixed.txt");
  writeFileSync(file, bytes);
  expect(await readAll(file)).toBe(bytes.toString("utf8"));
});

test("readTextChunks() reads a pure ASCII file unchanged", async () => {
  const text = "*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n".repeat(50_000);
  const file = join(dir, "ascii.txt");
  writeFileSync(file, text);
  expect(await readAll(file)).toBe(text);
});

test("readTextChunks() decodes UTF-16 whatever falls on the chunk borders, and says how the file was stored", async () => {
  // 1 MiB of "a" puts the border inside the surrogate pair of 𝄞 (a four-byte UTF-16 character).
  const text = `${"a".repeat((MB - 2) / 2)}𝄞é\r\n${"b".repeat(MB)}\r\nend\r\n`;
  const file = join(dir, "ps.txt");
  writeFileSync(file, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, "utf16le")]));
  const sources: unknown[] = [];
  let out = "";
  for await (const chunk of readTextChunks(file, { onSource: (s) => sources.push(s) })) out += chunk;
  expect(out).toBe(text);
  expect(sources).toEqual([{ gzip: false, encoding: "utf-16le" }]);
});

test("readTextChunks() drops a UTF-8 byte order mark and nothing else", async () => {
  const file = join(dir, "bom.txt");
  writeFileSync(file, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from("*nat\nCOMMIT\n")]));
  expect(await readAll(file)).toBe("*nat\nCOMMIT\n");
  const tiny = join(dir, "tiny.txt");
  writeFileSync(tiny, "x");
  expect(await readAll(tiny)).toBe("x");
});
