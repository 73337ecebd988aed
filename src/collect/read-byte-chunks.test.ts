import {
  appendFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, expect, test, vi } from "vitest";
import { skipBecause } from "../testing/capabilities.ts";
import { CHUNK_BYTES, readByteChunks } from "./read-byte-chunks.ts";
import { readDump } from "./read-dump.ts";

const dir = mkdtempSync(join(tmpdir(), "nd-bytes-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

/** The methods of an open file, to watch its reads and its closing. */
const FILE: FileHandle = await (async () => {
  writeFileSync(join(dir, "probe"), "");
  const file = await open(join(dir, "probe"), "r");
  await file.close();
  return Object.getPrototypeOf(file) as FileHandle;
})();

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

/**
 * A file of `size` bytes (not a multiple of the chunk) of numbered lines 1 to 300 bytes long (each a
 * different letter, so a chunk border falls anywhere in a line and misplaced bytes show), then `long`
 * lines of the given lengths between more such lines; it ends inside a line.
 */
function linesFile(
  name: string,
  size: number,
  long: readonly number[] = [],
): { path: string; bytes: Buffer } {
  const parts: string[] = [];
  let seed = 7;
  const some = (bytes: number): void => {
    for (let n = 0; n < bytes; ) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      const line = `${parts.length} ${String.fromCharCode(97 + (seed % 26)).repeat((seed >>> 8) % 290)}\n`;
      parts.push(line);
      n += line.length;
    }
  };
  some(size / (long.length + 1));
  for (const length of long) {
    parts.push(`${"L".repeat(length - 2)}!\n`);
    some(size / (long.length + 1));
  }
  const bytes = Buffer.from(`${parts.join("")}cut off`);
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return { path, bytes };
}

/**
 * The chunks of `path`, each checked against the file's bytes when it comes and again once every read
 * issued so far has ended (a read into the bytes of the chunk being parsed would show then), before
 * the next one is asked for. Also checks that every chunk but the last ends after a line feed or holds
 * none, and that the next read was issued before the chunk came (the read ahead).
 */
async function checkedChunks(
  path: string,
  reuse: boolean,
): Promise<{ chunks: Uint8Array[]; withoutLineFeed: number }> {
  const bytes = readFileSync(path);
  const reads = vi.spyOn(FILE, "read");
  const chunks: Uint8Array[] = [];
  let at = 0;
  let readAhead = 0;
  let withoutLineFeed = 0;
  for await (const chunk of readByteChunks(path, { reuse })) {
    const expected = bytes.subarray(at, at + chunk.length);
    expect(Buffer.compare(chunk, expected)).toBe(0);
    if (reads.mock.calls.length > chunks.length + 1) readAhead++;
    await reads.mock.results.at(-1)?.value;
    expect(Buffer.compare(chunk, expected)).toBe(0);
    const end = at + chunk.length;
    if (chunk.indexOf(10) < 0) withoutLineFeed++;
    else if (end < bytes.length) expect(bytes[end - 1]).toBe(10);
    at = end;
    chunks.push(chunk);
  }
  expect(at).toBe(bytes.length);
  expect(readAhead).toBeGreaterThanOrEqual(chunks.length - 1);
  return { chunks, withoutLineFeed };
}

test("readByteChunks() gives a file's bytes in chunks cut after a line feed, kept valid or in two buffers taking turns", async () => {
  const { path, bytes } = linesFile("lines.txt", 2.5 * CHUNK_BYTES + 12_345);
  const kept = await checkedChunks(path, false);
  expect(kept.chunks.length).toBeGreaterThan(2);
  expect(kept.withoutLineFeed).toBe(0);
  expect(Buffer.concat(kept.chunks).equals(bytes)).toBe(true);

  const reused = await checkedChunks(path, true);
  expect(reused.chunks.length).toBeGreaterThan(2);
  expect(reused.withoutLineFeed).toBe(1); // "cut off", the end of the file
  expect(new Set(reused.chunks.map((c) => c.buffer)).size).toBe(2);
});

test("readByteChunks() passes on lines longer than a chunk, and a chunk's worth without a line feed", async () => {
  const { path, bytes } = linesFile("long.txt", 2 * CHUNK_BYTES, [
    CHUNK_BYTES + 777,
    CHUNK_BYTES,
    3 * CHUNK_BYTES,
  ]);
  const kept = await checkedChunks(path, false);
  expect(kept.withoutLineFeed).toBe(0);
  expect(Buffer.concat(kept.chunks).equals(bytes)).toBe(true);
  // The reused buffers hand over a whole buffer without a line feed (the reader joins the line): at
  // least two in the longest line, and the end of the file.
  expect((await checkedChunks(path, true)).withoutLineFeed).toBeGreaterThanOrEqual(3);
});

test("readByteChunks() reads a file that grows while it is read to its new end, and one that shrinks to where it ends", async () => {
  const { path, bytes } = linesFile("grows.txt", 2 * CHUNK_BYTES + 99);
  const more = Buffer.from("grown 1\ngrown 2\n".repeat(CHUNK_BYTES / 10));
  const grown: Buffer[] = [];
  for await (const chunk of readByteChunks(path)) {
    if (grown.length === 0) appendFileSync(path, more);
    grown.push(Buffer.from(chunk));
  }
  expect(Buffer.concat(grown).equals(Buffer.concat([bytes, more]))).toBe(true);

  writeFileSync(path, bytes);
  const shrunk: Buffer[] = [];
  for await (const chunk of readByteChunks(path)) {
    if (shrunk.length === 0) truncateSync(path, CHUNK_BYTES + 5);
    shrunk.push(Buffer.from(chunk));
  }
  // Everything before the cut is read as written. The read in flight when the file was cut may still
  // have seen bytes after the cut: as written, or zeros where Linux had already cleared the rest of
  // the page holding the new end (truncate and read race; seen under CI).
  const cut = CHUNK_BYTES + 5;
  const read = Buffer.concat(shrunk);
  expect(read.length).toBeGreaterThanOrEqual(cut);
  expect(read.length).toBeLessThanOrEqual(bytes.length);
  expect(read.subarray(0, cut).equals(bytes.subarray(0, cut))).toBe(true);
  const unlike = read.findIndex((b, i) => i >= cut && b !== bytes[i] && b !== 0);
  expect(unlike).toBe(-1);
});

const proc = "/proc/self/limits";
test.skipIf(skipBecause(existsSync(proc) ? undefined : `no ${proc} (not Linux)`, "a /proc file"))(
  "readByteChunks() reads a /proc file, whose size says 0, to its end",
  async () => {
    expect(statSync(proc).size).toBe(0);
    for (const reuse of [false, true]) {
      const out: Buffer[] = [];
      for await (const chunk of readByteChunks(proc, { reuse })) out.push(Buffer.from(chunk));
      expect(Buffer.concat(out).toString()).toBe(readFileSync(proc, "utf8"));
    }
  },
);

test("readByteChunks() closes the file when its consumer stops early or throws", async () => {
  const { path } = linesFile("stop.txt", 3 * CHUNK_BYTES);
  const read = FILE.read as (...args: unknown[]) => Promise<unknown>;
  const files = new Set<FileHandle>();
  vi.spyOn(FILE, "read").mockImplementation(function (this: FileHandle, ...args: unknown[]) {
    files.add(this);
    return read.apply(this, args) as never;
  });
  for (const reuse of [false, true]) {
    for await (const _ of readByteChunks(path, { reuse })) break;
    await expect(
      (async () => {
        for await (const _ of readByteChunks(path, { reuse })) throw new TypeError("stop");
      })(),
    ).rejects.toThrow("stop");
  }
  // Each run had issued its second read (ahead) when it stopped; its file is closed.
  expect(FILE.read).toHaveBeenCalledTimes(8);
  expect([...files].map((f) => f.fd)).toEqual([-1, -1, -1, -1]);
});

test("readByteChunks() reports a failed read ahead to a consumer that goes on, and to nobody when it stopped", async () => {
  const { path } = linesFile("fails.txt", 3 * CHUNK_BYTES);
  const read = FILE.read as (...args: unknown[]) => Promise<unknown>;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => {
    unhandled.push(reason);
  };
  process.on("unhandledRejection", onUnhandled);
  try {
    for (const reuse of [false, true]) {
      for (const goOn of [false, true]) {
        vi.spyOn(FILE, "read")
          .mockImplementationOnce(function (this: FileHandle, ...args: unknown[]) {
            return read.apply(this, args) as never;
          })
          .mockImplementationOnce(() => Promise.reject(new Error("EIO: i/o error, read")));
        const chunks = readByteChunks(path, { reuse })[Symbol.asyncIterator]();
        expect((await chunks.next()).done).toBe(false);
        // Long enough for a rejection nobody handles to be reported.
        await new Promise((resolve) => setImmediate(resolve));
        await new Promise((resolve) => setImmediate(resolve));
        if (goOn) await expect(chunks.next()).rejects.toThrow("EIO");
        else await chunks.return(undefined);
        vi.restoreAllMocks();
      }
    }
  } finally {
    process.off("unhandledRejection", onUnhandled);
  }
  expect(unhandled).toEqual([]);
});

test("readDump() of a file reads every rule as the text in it, across chunk borders", async () => {
  const { path, bytes } = bigFile();
  const rs = await readDump(path, { lazy: true });
  const lines = bytes.toString("utf8").split("\n");
  const rules = rs.tables.get("filter")!.chains.get("INPUT")!.rules;
  expect(rules.length).toBe(lines.length - 4);
  for (const r of rules) expect(r.raw).toBe(lines[r.line - 1]);
});
