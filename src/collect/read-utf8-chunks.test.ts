import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, expect, test } from "vitest";
import { CHUNK_BYTES } from "./read-byte-chunks.ts";
import { readUtf8Chunks, type TextSource } from "./read-utf8-chunks.ts";

const dir = mkdtempSync(join(tmpdir(), "nd-chunks-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const MB = 1 << 20;

async function readAll(path: string, reuse = false): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const chunk of readUtf8Chunks(path, { reuse })) out.push(Buffer.from(chunk));
  return Buffer.concat(out);
}

test("readUtf8Chunks() passes UTF-8 through byte for byte, whatever falls on the chunk borders", async () => {
  const parts = [
    Buffer.from("a".repeat(CHUNK_BYTES - 1)), // chunk 1 ends with the first byte of "é"
    Buffer.from("é"),
    Buffer.from("b".repeat(MB)),
    Buffer.from("☕ 𝄞 done\n"),
    Buffer.from([0xe2, 0x98]), // a cut character at the very end: left for the reader to decode
  ];
  const bytes = Buffer.concat(parts);
  const file = join(dir, "mixed.txt");
  writeFileSync(file, bytes);
  expect((await readAll(file)).equals(bytes)).toBe(true);
  expect((await readAll(file, true)).equals(bytes)).toBe(true);
});

test("readUtf8Chunks() transcodes UTF-16 whatever falls on the chunk borders, and says how the file was stored", async () => {
  // The chunk border falls inside the surrogate pair of 𝄞 (a four-byte UTF-16 character).
  const text = `${"a".repeat((CHUNK_BYTES - 2) / 2)}𝄞é\r\n${"b".repeat(MB)}\r\nend\r\n`;
  const file = join(dir, "ps.txt");
  writeFileSync(file, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, "utf16le")]));
  const sources: TextSource[] = [];
  const out: Buffer[] = [];
  for await (const chunk of readUtf8Chunks(file, { reuse: true, onSource: (s) => sources.push(s) }))
    out.push(Buffer.from(chunk));
  expect(Buffer.concat(out).toString("utf8")).toBe(text);
  expect(sources).toEqual([{ gzip: false, encoding: "utf-16le" }]);
});

test("readUtf8Chunks() decompresses gzip (also from a reused buffer) and drops a UTF-8 byte order mark and nothing else", async () => {
  const text = "*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n".repeat(300_000);
  const file = join(dir, "dump.gz");
  // Decompressed, the text is many of zlib's output chunks.
  writeFileSync(
    file,
    gzipSync(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]), { level: 1 }),
  );
  const sources: TextSource[] = [];
  const out: Buffer[] = [];
  for await (const chunk of readUtf8Chunks(file, { reuse: true, onSource: (s) => sources.push(s) }))
    out.push(Buffer.from(chunk));
  expect(Buffer.concat(out).toString("utf8")).toBe(text);
  expect(sources).toEqual([{ gzip: true, encoding: "utf-8-bom" }]);
  const tiny = join(dir, "tiny.txt");
  writeFileSync(tiny, "x");
  expect((await readAll(tiny)).toString()).toBe("x");
});
