import { readdir, readFile, stat } from "node:fs/promises";
import { join, relative } from "node:path";
import type { ConfigFile } from "../config/config-types.ts";
import { CONFIG_FILE_NAME, decodeConfigText } from "../config/decode-config-text.ts";
import { CollectError } from "./collect-error.ts";
import { errorWords } from "./errno-words.ts";

/** Largest config file read (a bigger one is not a hand-written config). */
const MAX_FILE = 16 * 1024 * 1024;

/** Where build layouts keep the application's resources, tried when the directory itself has none. */
const RESOURCE_DIRS = [
  "BOOT-INF/classes",
  "WEB-INF/classes",
  "src/main/resources",
  "target/classes",
  "build/resources/main",
];

async function readOne(path: string, display: string): Promise<ConfigFile> {
  try {
    const st = await stat(path);
    if (st.isDirectory())
      throw new CollectError(`Cannot read config file "${path}": it is a directory (use --dir)`);
    if (st.size > MAX_FILE)
      throw new CollectError(`Cannot read config file "${path}": ${st.size} bytes is more than ${MAX_FILE}`);
    return { path: display, text: decodeConfigText(path, await readFile(path)) };
  } catch (error) {
    if (error instanceof CollectError) throw error;
    throw new CollectError(`Cannot read config file "${path}": ${errorWords(error)}`, {
      cause: error,
    });
  }
}

/** Reads config files named on the command line (any `.yml`, `.yaml` or `.properties`). */
export async function readConfigFiles(paths: readonly string[]): Promise<ConfigFile[]> {
  const out: ConfigFile[] = [];
  for (const p of paths) out.push(await readOne(p, p));
  return out;
}

async function configIn(root: string, dir: string): Promise<ConfigFile[]> {
  const out: ConfigFile[] = [];
  for (const sub of ["", "config"]) {
    const d = join(dir, sub);
    let names: string[];
    try {
      names = (await readdir(d)).sort();
    } catch {
      continue;
    }
    for (const n of names) {
      if (CONFIG_FILE_NAME.test(n)) out.push(await readOne(join(d, n), relative(root, join(d, n))));
    }
  }
  return out;
}

/**
 * Reads the config files of a directory the way Spring Boot searches a working directory
 * (`./` and `./config/`); when there are none, the usual resource folders of an exploded jar
 * or a Maven/Gradle project are tried (`BOOT-INF/classes`, `src/main/resources`, ...), first match wins.
 * Paths in the result are relative to the directory.
 */
export async function readConfigDir(dir: string): Promise<ConfigFile[]> {
  try {
    if (!(await stat(dir)).isDirectory())
      throw new CollectError(`Cannot read directory "${dir}": not a directory`);
  } catch (error) {
    if (error instanceof CollectError) throw error;
    throw new CollectError(`Cannot read directory "${dir}": ${errorWords(error)}`);
  }
  const here = await configIn(dir, dir);
  if (here.length > 0) return here;
  for (const r of RESOURCE_DIRS) {
    const found = await configIn(dir, join(dir, r));
    if (found.length > 0) return found;
  }
  return [];
}
