import { describe, expect, test } from "vitest";
import { CollectError } from "../collect/collect-error.ts";
import { ConfigSyntaxError } from "../config/config-syntax-error.ts";
import { QuestionError } from "../diagnose/question-error.ts";
import { DumpSyntaxError } from "../parse/dump-syntax-error.ts";
import { UsageError } from "./exit-codes.ts";
import { errorReport, isUserError } from "./run-action.ts";

describe("errorReport()", () => {
  test("a user error is one line; a usage error also names the command's --help", () => {
    expect(errorReport(new CollectError('Cannot read dump "x": permission denied'), "netdoctor scan")).toBe(
      'netdoctor: Cannot read dump "x": permission denied\n',
    );
    expect(errorReport(new UsageError('Cannot use table "x"'), "netdoctor scan")).toBe(
      "netdoctor: Cannot use table \"x\"\nsee 'netdoctor scan --help'\n",
    );
  });

  test("a user error quoting a huge piece of input is cut to one readable line, the count of the rest named", () => {
    const long = new CollectError(`Cannot use "${"x".repeat(100_000)}"`);
    const out = errorReport(long);
    expect(out).toBe(`netdoctor: Cannot use "${"x".repeat(988)}... (99013 more characters)\n`);
    // Not cut between the halves of a surrogate pair (the cut would print U+FFFD).
    const emoji = errorReport(new QuestionError(`${"a".repeat(999)}\u{1F600}${"b".repeat(50)}`));
    expect(emoji).toBe(`netdoctor: ${"a".repeat(999)}... (52 more characters)\n`);
  });

  test.each([
    ["DumpSyntaxError", new DumpSyntaxError("Cannot parse dump at line 3: x", { line: 3, column: 1 })],
    ["ConfigSyntaxError", new ConfigSyntaxError("a.yml", 2, "bad")],
    ["QuestionError", new QuestionError("Cannot find pod a/b")],
    ["CollectError", new CollectError("Cannot list Nodes")],
  ])("%s is the user's to fix", (_, error) => {
    expect(isUserError(error)).toBe(true);
    expect(errorReport(error).split("\n")).toHaveLength(2);
  });

  // A bug in netdoctor throws built-in errors: they must not pass for the user's mistake.
  test.each([
    ["SyntaxError", () => JSON.parse("{")],
    ["RangeError", () => new Array(-1)],
    ["TypeError", () => (undefined as unknown as { x: number }).x],
  ])("a %s thrown by our own code is an internal error with its stack", (name, bug) => {
    let error: unknown;
    try {
      bug();
    } catch (e) {
      error = e;
    }
    expect(isUserError(error)).toBe(false);
    const text = errorReport(error, "netdoctor scan");
    expect(text).toMatch(
      new RegExp(
        `^netdoctor: internal error, please report it with the command line and this text:\\n${name}: `,
      ),
    );
    expect(text).toMatch(/\n {4}at /); // the stack
  });
});
