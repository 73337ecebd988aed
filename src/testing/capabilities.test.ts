import { expect, test } from "vitest";
import { commandUnavailable } from "./capabilities.ts";

test("commandUnavailable() tells a present command from a missing one", () => {
  expect(commandUnavailable("sh")).toBeUndefined();
  expect(commandUnavailable("netdoctor-no-such-command")).toBe(
    '"netdoctor-no-such-command" is not installed',
  );
});
