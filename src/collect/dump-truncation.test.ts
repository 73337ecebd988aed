import { expect, test } from "vitest";
import { LastLine } from "./dump-truncation.ts";

function lastOf(chunks: readonly string[]): { text: string; endsWithNewline: boolean } {
  const last = new LastLine();
  const buffer = new Uint8Array(64);
  for (const chunk of chunks) {
    // One reused buffer, as a scan reads: what LastLine keeps must be its own copy.
    const bytes = Buffer.from(chunk);
    buffer.set(bytes);
    last.see(buffer.subarray(0, bytes.length));
    buffer.fill(0x41);
  }
  return { text: last.text, endsWithNewline: last.endsWithNewline };
}

test("LastLine keeps the last line with text on it, whatever the chunk borders and trailing blanks", () => {
  expect(lastOf([])).toEqual({ text: "", endsWithNewline: true });
  expect(lastOf(["*nat\n-A X -j A\n"])).toEqual({ text: "-A X -j A", endsWithNewline: true });
  expect(lastOf(["*nat\n-A X -", "j A"])).toEqual({ text: "-A X -j A", endsWithNewline: false });
  expect(lastOf(["*nat\n-A X -j A", "\n", "  \n\n"])).toEqual({ text: "-A X -j A", endsWithNewline: true });
  expect(lastOf(["*nat\n-A X -j A\n", "-A Y é"])).toEqual({ text: "-A Y é", endsWithNewline: false });
});
