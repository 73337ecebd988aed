import { describe, expect, test } from "vitest";
import { UsageError } from "./exit-codes.ts";
import { parseDuration } from "./parse-duration.ts";

describe("parseDuration()", () => {
  test.each([
    ["60s", 60_000],
    ["2m", 120_000],
    ["1m30s", 90_000],
    ["500ms", 500],
    ["2h", 7_200_000],
    ["1.5s", 1500],
    ["45", 45_000],
  ])("reads %s", (text, ms) => {
    expect(parseDuration(text, "--interval")).toBe(ms);
  });

  test.each(["", "5x", "0s", "0", "-1s", "1s ", "s", "10x"])("rejects %j with a usage error", (text) => {
    expect(() => parseDuration(text, "--timeout")).toThrow(UsageError);
    expect(() => parseDuration(text, "--timeout")).toThrow(
      `Cannot use --timeout "${text}": expected a duration such as 60s, 1m30s or 500ms`,
    );
  });
});
