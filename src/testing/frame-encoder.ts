import { gzipSync } from "node:zlib";
import { FRAME_HEADER } from "../collect/collector-script.ts";

/** What a fake node command prints. */
export interface FakeCommandOutput {
  readonly stem: string;
  readonly stdout: string | Buffer;
  readonly stderr: string | Buffer;
  readonly exit: number;
}

function section(stem: string, stream: string, data: Buffer): string {
  const b64 = gzipSync(data).toString("base64");
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 76) lines.push(b64.slice(i, i + 76));
  return `@@begin ${stem} ${stream} ${data.length}\n${lines.join("\n")}${lines.length > 0 ? "\n" : ""}@@end ${stem} ${stream}\n`;
}

/**
 * Encodes command outputs the way the collector script prints them (gzip, base64 lines of 76
 * characters as base64(1) wraps), for fake API servers. Options cut or corrupt the output.
 */
export function encodeFrames(
  outputs: readonly FakeCommandOutput[],
  options: { done?: boolean } = {},
): string {
  const parts = [`${FRAME_HEADER}\n`];
  for (const o of outputs) {
    parts.push(section(o.stem, "stdout", Buffer.from(o.stdout)));
    parts.push(section(o.stem, "stderr", Buffer.from(o.stderr)));
    parts.push(`@@exit ${o.stem} ${o.exit}\n`);
  }
  if (options.done !== false) parts.push("@@done\n");
  return parts.join("");
}
