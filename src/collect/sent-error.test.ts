import { describe, expect, it } from "vitest";
import { errorReport } from "../cli/run-action.ts";
import { CollectError } from "./collect-error.ts";
import { receiveError, sendError } from "./sent-error.ts";

/** What the main thread gets: the error as a worker posts it (a structured clone of the data). */
const across = (error: unknown) => receiveError(structuredClone(sendError(error)));

describe("sendError() and receiveError()", () => {
  it("bring a CollectError back as one, with its message and errno cause", () => {
    const cause = Object.assign(new Error("EACCES: permission denied, open '/b/cluster/services.json'"), {
      code: "EACCES",
      syscall: "open",
      path: "/b/cluster/services.json",
    });
    const error = new CollectError("Cannot read /b/cluster/services.json: permission denied", { cause });
    const back = across(error);
    expect(back).toBeInstanceOf(CollectError);
    expect(back.message).toBe(error.message);
    expect(back.name).toBe("CollectError");
    expect(back.cause).toMatchObject({ message: cause.message, code: "EACCES", syscall: "open" });
    // The CLI prints it as the user's problem: one line, no stack.
    expect(errorReport(back)).toBe(`netdoctor: ${error.message}\n`);
  });

  it("bring a bug back as a bug of the same built-in class, with the worker's stack", () => {
    const error = new TypeError("Cannot read properties of undefined (reading 'x')");
    const back = across(error);
    expect(back).toBeInstanceOf(TypeError);
    expect(back.message).toBe(error.message);
    expect(back.stack).toBe(error.stack);
    expect(errorReport(back)).toContain("internal error");
  });

  it("keep the name of a class it does not know, and the text of a thrown non-error", () => {
    class OddError extends RangeError {
      override name = "OddError";
    }
    const back = across(new OddError("odd"));
    expect([back.name, back.message]).toEqual(["OddError", "odd"]);
    expect(across("a string").message).toBe("a string");
  });
});
