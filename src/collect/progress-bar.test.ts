import { describe, expect, it } from "vitest";
import { ProgressBar } from "./progress-bar.ts";

function stream(isTTY: boolean): {
  isTTY: boolean;
  columns: number;
  written: string[];
  write(t: string): boolean;
} {
  const written: string[] = [];
  return { isTTY, columns: 80, written, write: (t: string) => written.push(t) > 0 };
}

describe("ProgressBar", () => {
  it("draws done/failed/total on a terminal and clears the line at the end", () => {
    const s = stream(true);
    const bar = new ProgressBar(s, "collect");
    bar.update(0, 0, 200);
    bar.update(200, 3, 200);
    bar.finish();
    expect(s.written[0]).toBe(`\r\x1b[2Kcollect [${"-".repeat(30)}] 0/200 nodes`);
    expect(s.written[1]).toBe(`\r\x1b[2Kcollect [${"#".repeat(30)}] 200/200 nodes, 3 failed`);
    expect(s.written.at(-1)).toBe("\r\x1b[2K");
  });

  it("stays silent when the stream is not a terminal", () => {
    const s = stream(false);
    const bar = new ProgressBar(s, "collect");
    bar.update(1, 0, 2);
    bar.update(2, 1, 2);
    bar.finish();
    expect(s.written).toEqual([]);
  });
});
