/**
 * An error thrown in a worker, sent to the main thread and thrown there again as the same class
 * with the same message. `postMessage` alone would not do: a structured clone keeps the built-in
 * classes only, so a {@linkcode CollectError} would arrive as a plain `Error`, which the CLI takes
 * for a bug (cli/run-action.ts) and prints with its stack instead of one line.
 */
import { CollectError } from "./collect-error.ts";

/** An error as data. */
export interface SentError {
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
  /** A system error's `code`, `syscall` and `path` (an errno cause). */
  readonly code?: string;
  readonly syscall?: string;
  readonly path?: string;
  readonly cause?: SentError;
}

/** The classes rebuilt by name; any other comes back as an `Error` with the name it had. */
const CLASSES: Readonly<Record<string, new (message: string) => Error>> = {
  CollectError,
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};

function text(o: object, key: string): { readonly [k: string]: string } {
  const v = (o as Record<string, unknown>)[key];
  return typeof v === "string" ? { [key]: v } : {};
}

/** `error` as data; anything thrown that is not an Error is sent as one with its text. */
export function sendError(error: unknown): SentError {
  if (!(error instanceof Error)) return { name: "Error", message: String(error) };
  const cause = error.cause === undefined ? undefined : sendError(error.cause);
  return {
    name: error.name,
    message: error.message,
    ...text(error, "stack"),
    ...text(error, "code"),
    ...text(error, "syscall"),
    ...text(error, "path"),
    ...(cause === undefined ? {} : { cause }),
  };
}

/** The error {@linkcode sendError} sent, as an instance of its class (its stack is the worker's). */
export function receiveError(sent: SentError): Error {
  const Class = Object.hasOwn(CLASSES, sent.name) ? CLASSES[sent.name]! : Error;
  const error = new Class(sent.message);
  if (error.name !== sent.name) error.name = sent.name;
  if (sent.stack !== undefined) error.stack = sent.stack;
  if (sent.cause !== undefined)
    Object.defineProperty(error, "cause", {
      value: receiveError(sent.cause),
      writable: true,
      configurable: true,
    });
  for (const key of ["code", "syscall", "path"] as const)
    if (sent[key] !== undefined)
      Object.defineProperty(error, key, {
        value: sent[key],
        enumerable: true,
        writable: true,
        configurable: true,
      });
  return error;
}
