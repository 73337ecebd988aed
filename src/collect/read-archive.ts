import { open } from "node:fs/promises";
import { Inflate } from "fflate";
import type { ConfigFile } from "../config/config-types.ts";
import { CONFIG_FILE_NAME, decodeConfigText } from "../config/decode-config-text.ts";
import { ArchiveLimitError, CollectError } from "./collect-error.ts";
import { errorWords } from "./errno-words.ts";
import { u16, u32, u64, zip64Sizes } from "./zip-fields.ts";

/** Caps that keep a hostile archive (a zip bomb) from exhausting memory or time. */
export interface ArchiveLimits {
  /** Most entries in one archive's central directory. */
  readonly maxEntries: number;
  /** Most bytes inflated in total (config files and nested jars). */
  readonly maxInflated: number;
  /** Deepest nesting of jars in jars that is opened (1: the `BOOT-INF/lib` jars of a fat jar). */
  readonly maxDepth: number;
}

export const DEFAULT_ARCHIVE_LIMITS: ArchiveLimits = {
  maxEntries: 250_000,
  maxInflated: 256 * 1024 * 1024,
  maxDepth: 1,
};

export interface ArchiveConfig {
  /** Config files Spring loads from the application's own classes (`BOOT-INF/classes/`, `WEB-INF/classes/`, the root). */
  readonly files: ConfigFile[];
  /** Config files inside library jars (`BOOT-INF/lib/x.jar!/application.yml`), only with `nested`. */
  readonly libraryFiles: ConfigFile[];
  /** Entries in the archive's central directory. */
  readonly entries: number;
}

interface ZipSource {
  read(offset: number, length: number): Promise<Uint8Array>;
  readonly size: number;
}

interface Entry {
  readonly name: string;
  readonly method: number;
  readonly compressed: number;
  readonly size: number;
  readonly offset: number;
}

interface Budget {
  inflated: number;
  readonly limits: ArchiveLimits;
  readonly label: string;
}

/** Last four bytes of names that can be config files or jars, as little-endian u32. */
function tail(s: string): number {
  return (s.charCodeAt(0) | (s.charCodeAt(1) << 8) | (s.charCodeAt(2) << 16) | (s.charCodeAt(3) << 24)) >>> 0;
}
const TAIL_YML = tail(".yml");
const TAIL_YAML = tail("yaml");
const TAIL_TIES = tail("ties");
const TAIL_JAR = tail(".jar");

const APP_CONFIG = /^(?:BOOT-INF\/classes\/|WEB-INF\/classes\/)?(?:config\/)?([^/]+)$/;
const LIB_JAR = /^(?:BOOT-INF|WEB-INF)\/lib\/[^/]+\.jar$/;

function notZip(label: string, why: string): CollectError {
  return new CollectError(`Cannot read archive "${label}": not a zip file (jar, war or zip): ${why}`);
}

/** Reads the central directory: the list of entries without touching their data. */
async function centralDirectory(src: ZipSource, budget: Budget): Promise<Entry[]> {
  const { label, limits } = budget;
  if (src.size < 22) throw notZip(label, `${src.size} bytes is too short`);
  const tailLen = Math.min(src.size, 65_535 + 22 + 20);
  const tailStart = src.size - tailLen;
  const tail = await src.read(tailStart, tailLen);
  let eocd = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (u32(tail, i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw notZip(label, "no end of central directory record");
  let count = u16(tail, eocd + 10);
  let cdSize = u32(tail, eocd + 12);
  let cdOffset = u32(tail, eocd + 16);
  let cdEnd = tailStart + eocd;
  if ((count === 0xffff || cdOffset === 0xffffffff || cdSize === 0xffffffff) && eocd >= 20) {
    if (u32(tail, eocd - 20) === 0x07064b50) {
      const z64 = await src.read(u64(tail, eocd - 12), 56);
      if (u32(z64, 0) !== 0x06064b50) throw notZip(label, "broken zip64 end record");
      count = u64(z64, 32);
      cdSize = u64(z64, 40);
      cdOffset = u64(z64, 48);
      cdEnd = u64(tail, eocd - 12);
    }
  }
  if (count > limits.maxEntries) {
    throw new ArchiveLimitError(
      `Cannot read archive "${label}": ${count} entries is more than the limit of ${limits.maxEntries} (zip bomb?)`,
    );
  }
  // Executable jars carry a launch script before the zip: offsets are relative to the zip's start.
  const delta = cdEnd - cdSize - cdOffset;
  if (delta < 0 || cdEnd - cdSize < 0) throw notZip(label, "central directory outside the file");
  const cd = await src.read(cdOffset + delta, cdSize);
  const entries: Entry[] = [];
  const decoder = new TextDecoder();
  let p = 0;
  while (p + 46 <= cd.length && u32(cd, p) === 0x02014b50) {
    if (entries.length >= limits.maxEntries) {
      throw new ArchiveLimitError(
        `Cannot read archive "${label}": more than ${limits.maxEntries} entries (zip bomb?)`,
      );
    }
    const nameLen = u16(cd, p + 28);
    const extraLen = u16(cd, p + 30);
    const commentLen = u16(cd, p + 32);
    let compressed = u32(cd, p + 20);
    let size = u32(cd, p + 24);
    let offset = u32(cd, p + 42);
    // Decoding 30,000 names costs more than the rest: only names ending like a config file or a jar
    // (`.yml`, `yaml`, `ties`, `.jar`) can matter.
    const tail4 = nameLen >= 4 ? u32(cd, p + 46 + nameLen - 4) : 0;
    const wanted = tail4 === TAIL_YML || tail4 === TAIL_YAML || tail4 === TAIL_TIES || tail4 === TAIL_JAR;
    const name = wanted ? decoder.decode(cd.subarray(p + 46, p + 46 + nameLen)) : "";
    ({ size, compressed, offset } = zip64Sizes(cd, p + 46 + nameLen, extraLen, { size, compressed, offset }));
    entries.push({ name, method: u16(cd, p + 10), compressed, size, offset: offset + delta });
    p += 46 + nameLen + extraLen + commentLen;
  }
  if (entries.length !== count && count !== 0xffff) {
    throw notZip(label, `central directory lists ${entries.length} of ${count} entries`);
  }
  return entries;
}

function charge(budget: Budget, n: number, name: string): void {
  budget.inflated += n;
  if (budget.inflated > budget.limits.maxInflated) {
    throw new ArchiveLimitError(
      `Cannot read archive "${budget.label}": inflating "${name}" goes past the limit of ${budget.limits.maxInflated} bytes (zip bomb?)`,
    );
  }
}

/** Inflates one entry, in slices, stopping as soon as the budget is exceeded (sizes in headers can lie). */
async function entryData(src: ZipSource, e: Entry, budget: Budget): Promise<Uint8Array> {
  const header = await src.read(e.offset, 30);
  if (u32(header, 0) !== 0x04034b50) throw notZip(budget.label, `no local header for "${e.name}"`);
  const start = e.offset + 30 + u16(header, 26) + u16(header, 28);
  const data = await src.read(start, e.compressed);
  if (e.method === 0) {
    charge(budget, data.length, e.name);
    return data;
  }
  if (e.method !== 8) {
    throw new CollectError(
      `Cannot read "${e.name}" in "${budget.label}": compression method ${e.method} is not supported`,
    );
  }
  charge(budget, Math.min(e.size, budget.limits.maxInflated + 1), e.name);
  budget.inflated -= Math.min(e.size, budget.limits.maxInflated + 1);
  const chunks: Uint8Array[] = [];
  let total = 0;
  const inflater = new Inflate((chunk) => {
    chunks.push(chunk);
    total += chunk.length;
    charge(budget, chunk.length, e.name);
  });
  // 16 KiB in gives at most ~16 MiB out (deflate's ratio is bounded near 1:1032).
  const SLICE = 16 * 1024;
  try {
    for (let i = 0; i < data.length; i += SLICE)
      inflater.push(data.subarray(i, i + SLICE), i + SLICE >= data.length);
    if (data.length === 0) inflater.push(new Uint8Array(0), true);
  } catch (error) {
    if (error instanceof ArchiveLimitError) throw error;
    throw new CollectError(`Cannot inflate "${e.name}" in "${budget.label}": ${(error as Error).message}`, {
      cause: error,
    });
  }
  const out = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

function memorySource(bytes: Uint8Array): ZipSource {
  return { size: bytes.length, read: async (offset, length) => bytes.subarray(offset, offset + length) };
}

async function readZip(
  src: ZipSource,
  budget: Budget,
  depth: number,
  nested: boolean,
  prefix: string,
): Promise<ArchiveConfig> {
  const entries = await centralDirectory(src, budget);
  const files: ConfigFile[] = [];
  const libraryFiles: ConfigFile[] = [];
  for (const e of entries) {
    const m = APP_CONFIG.exec(e.name);
    if (m && CONFIG_FILE_NAME.test(m[1]!)) {
      const path = prefix + e.name;
      files.push({ path, text: decodeConfigText(path, await entryData(src, e, budget)) });
    } else if (nested && LIB_JAR.test(e.name)) {
      if (depth + 1 > budget.limits.maxDepth) continue;
      const inner = await readZip(
        memorySource(await entryData(src, e, budget)),
        budget,
        depth + 1,
        false,
        `${prefix}${e.name}!/`,
      );
      libraryFiles.push(...inner.files);
    }
  }
  return { files, libraryFiles, entries: entries.length };
}

/**
 * Reads the Spring config files of a jar, war or zip without inflating anything else: the central
 * directory is read from the end of the file and only matching entries are inflated. With `nested`,
 * the library jars under `BOOT-INF/lib/` (or `WEB-INF/lib/`) are opened too, one level deep.
 *
 * @throws {CollectError} when the file cannot be read or is not a zip
 * @throws {ArchiveLimitError} when a limit of {@linkcode ArchiveLimits} is exceeded
 */
export async function readArchiveConfig(
  path: string,
  options: { nested?: boolean; limits?: Partial<ArchiveLimits> } = {},
): Promise<ArchiveConfig> {
  const limits = { ...DEFAULT_ARCHIVE_LIMITS, ...options.limits };
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(path, "r");
  } catch (error) {
    throw new CollectError(`Cannot read archive "${path}": ${errorWords(error)}`, {
      cause: error,
    });
  }
  try {
    const st = await fh.stat();
    if (st.isDirectory())
      throw new CollectError(`Cannot read archive "${path}": it is a directory (use --dir)`);
    const src: ZipSource = {
      size: st.size,
      read: async (offset, length) => {
        if (offset < 0 || offset + length > st.size) {
          throw notZip(path, `entry data at ${offset}+${length} is past the end of the file`);
        }
        const buf = new Uint8Array(length);
        let done = 0;
        while (done < length) {
          const { bytesRead } = await fh.read(buf, done, length - done, offset + done);
          if (bytesRead === 0) break;
          done += bytesRead;
        }
        return buf;
      },
    };
    return await readZip(src, { inflated: 0, limits, label: path }, 0, options.nested ?? false, "");
  } finally {
    await fh.close();
  }
}
