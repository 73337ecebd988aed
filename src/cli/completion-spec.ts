/**
 * What shell completion needs to know about the commander program, read from the program itself
 * (commander's public Help API: the options and commands `--help` shows), so the completion scripts
 * can never list a command or flag the program does not have.
 */
import type { Command, Option } from "commander";

/** What a value is completed with: file names, directory names, a fixed list, or nothing. */
export type ValueKind = "file" | "dir" | "choices" | "word";

/** One option of one command. */
export interface CompletionOption {
  /** Every spelling: `-b`, `--bundle`. */
  readonly names: readonly string[];
  readonly description: string;
  /** Whether the option reads the next word as its value. */
  readonly takesValue: boolean;
  readonly value: ValueKind;
  readonly choices: readonly string[];
}

/** One command (the program itself has the empty path). */
export interface CompletionCommand {
  /** Command words after the program name, e.g. `["fix", "duplicates"]`. */
  readonly path: readonly string[];
  readonly description: string;
  readonly subcommands: readonly { readonly name: string; readonly description: string }[];
  readonly options: readonly CompletionOption[];
  /** What positional arguments are: file names (`<dumps...>`, `[files...]`) or nothing to complete. */
  readonly positional: "file" | "none";
}

const FILE_VALUE = /^(file|files|dumps?|path|jar)$/i;
const DIR_VALUE = /^(dir|directory)$/i;

function valueName(option: Option): string | undefined {
  return /[<[]([^>\]]+?)(?:\.\.\.)?[>\]]/.exec(option.flags)?.[1];
}

function optionSpec(option: Option): CompletionOption {
  const names = [option.short, option.long].filter((n): n is string => n !== undefined);
  const takesValue = option.required || option.optional;
  const choices = option.argChoices ?? [];
  const name = valueName(option) ?? "";
  const value: ValueKind = !takesValue
    ? "word"
    : choices.length > 0
      ? "choices"
      : DIR_VALUE.test(name)
        ? "dir"
        : FILE_VALUE.test(name)
          ? "file"
          : "word";
  return { names, description: firstLine(option.description), takesValue, value, choices };
}

function firstLine(text: string): string {
  return text.split("\n")[0] ?? "";
}

/**
 * Every command of the program, depth first, the program itself first. The program's own options
 * other than help and version (`--no-color`) count for every command: commander reads them after
 * a subcommand's name too.
 */
export function completionSpec(program: Command): CompletionCommand[] {
  const out: CompletionCommand[] = [];
  const globals = program
    .createHelp()
    .visibleOptions(program)
    .filter((o) => !["--help", "--version"].includes(o.long ?? ""))
    .map(optionSpec);
  const visit = (command: Command, path: readonly string[]): void => {
    const help = command.createHelp();
    const subs = help.visibleCommands(command).filter((c) => c.name() !== "help");
    const args = help.visibleArguments(command);
    out.push({
      path,
      description: firstLine(command.description()),
      subcommands: subs.map((c) => ({ name: c.name(), description: firstLine(c.description()) })),
      options: [...help.visibleOptions(command).map(optionSpec), ...(path.length === 0 ? [] : globals)],
      positional: args.some((a) => FILE_VALUE.test(a.name())) ? "file" : "none",
    });
    for (const sub of subs) visit(sub, [...path, sub.name()]);
  };
  visit(program, []);
  return out;
}
