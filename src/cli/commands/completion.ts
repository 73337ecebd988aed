import { Argument, type Command } from "commander";
import { bashCompletion, fishCompletion, SHELLS, type Shell, zshCompletion } from "../completion-scripts.ts";
import { completionSpec } from "../completion-spec.ts";
import { EXIT_OK } from "../exit-codes.ts";
import { writeStdout } from "../output.ts";
import { runAction } from "../run-action.ts";

/** The completion script of a shell for the program as it is (every command registered). */
export function completionScript(program: Command, shell: Shell): string {
  const commands = completionSpec(program);
  switch (shell) {
    case "bash":
      return bashCompletion(commands);
    case "zsh":
      return zshCompletion(commands);
    case "fish":
      return fishCompletion(commands);
    default: {
      const never: never = shell;
      throw new TypeError(`Unknown shell ${String(never)}`);
    }
  }
}

export function registerCompletion(program: Command): void {
  program
    .command("completion")
    .description("print the shell completion script for bash, zsh or fish")
    .addArgument(new Argument("<shell>", "bash, zsh or fish").choices(SHELLS))
    .addHelpText(
      "after",
      `
The script completes commands, options, the values of options with a fixed list (--via pod|ssh),
and file or directory names where an option or argument takes one. It is registered for both
netdoctor and kubectl-netdoctor.

Examples:
  source <(netdoctor completion bash)                 # bash, this shell only
  netdoctor completion bash > ~/.local/share/bash-completion/completions/netdoctor
  source <(netdoctor completion zsh)                  # zsh, after compinit
  netdoctor completion fish > ~/.config/fish/completions/netdoctor.fish`,
    )
    .action(
      runAction(async (shell: Shell) => {
        await writeStdout(completionScript(program, shell));
        return EXIT_OK;
      }),
    );
}
