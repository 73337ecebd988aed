import { expect, test } from "vitest";
import { thousands } from "./thousands.ts";

test("thousands() groups digits as en-US does", () => {
  for (const n of [0, 7, 42, 999, 1000, 12_345, 100_000, 179_000, 1_234_567, 950_005, -1234, -12]) {
    expect(thousands(n)).toBe(n.toLocaleString("en-US"));
  }
});
