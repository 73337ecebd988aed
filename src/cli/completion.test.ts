import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command, Option } from "commander";
import { afterAll, describe, expect, it } from "vitest";
import { commandUnavailable, skipBecause } from "../testing/capabilities.ts";
import { completionScript } from "./commands/completion.ts";

const CLI = join(process.cwd(), "src/cli/main.ts");
const work = mkdtempSync(join(tmpdir(), "nd-completion-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The script as the real program prints it (`netdoctor completion SHELL`), every command loaded. */
function script(shell: string): string {
  const path = join(work, `netdoctor.${shell}`);
  writeFileSync(
    path,
    execFileSync(process.execPath, ["--import", "tsx", CLI, "completion", shell], { encoding: "utf8" }),
  );
  return path;
}

// A directory to complete file and directory names in.
const files = join(work, "files");
mkdirSync(join(files, "bundle-a"), { recursive: true });
mkdirSync(join(files, "bundle-b"));
writeFileSync(join(files, "node1.txt"), "");
writeFileSync(join(files, "node2.txt"), "");

/** What bash's own compgen machinery answers for a command line (the last word is being completed). */
function bashComplete(path: string, words: readonly string[]): string[] {
  const quoted = words.map((w) => `'${w}'`).join(" ");
  const out = execFileSync(
    "bash",
    [
      "--norc",
      "-c",
      `source '${path}'; COMP_WORDS=(${quoted}); COMP_CWORD=${words.length - 1}; _netdoctor; printf '%s\\n' "\${COMPREPLY[@]}"`,
    ],
    { cwd: files, encoding: "utf8" },
  );
  return out.split("\n").filter((l) => l !== "");
}

const noBash = skipBecause(commandUnavailable("bash"), "bash completion");

describe.skipIf(noBash)("netdoctor completion bash, sourced in a real bash", () => {
  const path = noBash ? "" : script("bash");

  it("registers _netdoctor for netdoctor and kubectl-netdoctor", () => {
    const out = execFileSync("bash", ["--norc", "-c", `source '${path}'; complete -p`], { encoding: "utf8" });
    expect(out).toContain("complete -F _netdoctor netdoctor");
    expect(out).toContain("complete -F _netdoctor kubectl-netdoctor");
  });

  it.each([
    [["netdoctor", "di"], ["diagnose"]],
    [["netdoctor", "s"], ["scan"]],
    [
      ["netdoctor", "co"],
      ["collect", "completion", "config"],
    ],
    [["netdoctor", "diagnose", "--b"], ["--bundle"]],
    [
      ["netdoctor", "diagnose", "--from", "x", "--t"],
      ["--timeout", "--to"],
    ],
    [["netdoctor", "--no-color", "report", "--ht"], ["--html"]],
    [["netdoctor", "diagnose", "--no-c"], ["--no-color"]],
    [
      ["netdoctor", "collect", "--via", ""],
      ["pod", "ssh"],
    ],
    [["netdoctor", "completion", "--h"], ["--help"]],
    [["netdoctor", "fix", ""], ["duplicates"]],
    [["netdoctor", "fix", "duplicates", "--d"], ["--dump"]],
    [
      ["netdoctor", "diagnose", "--bundle", "bun"],
      ["bundle-a", "bundle-b"],
    ],
    [
      ["netdoctor", "diagnose", "--bundle", "bundle-a", "--demo", "--jar", "node"],
      ["node1.txt", "node2.txt"],
    ],
    [
      ["netdoctor", "scan", "node"],
      ["node1.txt", "node2.txt"],
    ],
    [["netdoctor", "diagnose", "--from", ""], []],
    [["netdoctor", "diagnose", "--from", "--b"], []],
    [
      ["kubectl-netdoctor", "trace", "--d"],
      ["--dst", "--dump"],
    ],
  ])("%j completes to %j", (words, expected) => {
    expect(bashComplete(path, words).sort()).toEqual(expected);
  });
});

const noZsh = skipBecause(commandUnavailable("zsh"), "zsh completion");

describe.skipIf(noZsh)("netdoctor completion zsh", () => {
  const path = noZsh ? "" : script("zsh");

  it("passes zsh -n", () => {
    expect(spawnSync("zsh", ["-n", path], { encoding: "utf8" }).stderr).toBe("");
  });

  /**
   * zsh's completion system needs an interactive shell; here its builtins are replaced by functions
   * that print what they were given (zsh runs a function before a builtin of the same name), and
   * _describe filters by the word's prefix as zsh would.
   */
  function zshComplete(words: readonly string[]): string[] {
    const quoted = words.map((w) => `'${w}'`).join(" ");
    const out = execFileSync(
      "zsh",
      [
        "-fc",
        [
          "compdef() { :; }",
          `source '${path}'`,
          // biome-ignore lint/suspicious/noTemplateCurlyInString: zsh parameter expansion, not a JS template
          '_describe() { local e; for e in "${(@P)4}"; do [[ ${e%%:*} == ${words[CURRENT]}* ]] && print -r -- ${e%%:*}; done; return 0 }',
          'compadd() { shift; print -rl -- "$@" }',
          '_files() { print -r -- "<files$*>" }',
          `words=(${quoted}); CURRENT=${words.length}; _netdoctor; true`,
        ].join("\n"),
      ],
      { encoding: "utf8" },
    );
    return out.split("\n").filter((l) => l !== "");
  }

  it.each([
    [["netdoctor", "di"], ["diagnose"]],
    [
      ["netdoctor", "diagnose", "--from", "x", "--t"],
      ["--timeout", "--to"],
    ],
    [
      ["netdoctor", "collect", "--via", ""],
      ["pod", "ssh"],
    ],
    [["netdoctor", "fix", "duplicates", "--d"], ["--dump"]],
    [["netdoctor", "diagnose", "--bundle", ""], ["<files-/>"]],
    [["netdoctor", "scan", ""], ["<files>"]],
    [["netdoctor", "diagnose", "--from", ""], []],
  ])("%j completes to %j", (words, expected) => {
    expect(zshComplete(words).sort()).toEqual(expected);
  });
});

const noFish = skipBecause(commandUnavailable("fish"), "fish completion");

describe.skipIf(noFish)("netdoctor completion fish, loaded in a real fish", () => {
  const path = noFish ? "" : script("fish");

  it("passes fish -n", () => {
    expect(spawnSync("fish", ["-n", path], { encoding: "utf8" }).stderr).toBe("");
  });

  function fishComplete(line: string): string[] {
    const out = execFileSync("fish", ["--no-config", "-c", `source '${path}'; complete -C'${line}'`], {
      cwd: files,
      encoding: "utf8",
    });
    return out
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => l.split("\t")[0]!);
  }

  it.each([
    ["netdoctor di", ["diagnose"]],
    ["netdoctor diagnose --from x --t", ["--timeout", "--to"]],
    ["netdoctor collect --via ", ["pod", "ssh"]],
    ["netdoctor fix ", ["duplicates"]],
    ["netdoctor fix duplicates --d", ["--dump"]],
    ["netdoctor scan node", ["node1.txt", "node2.txt"]],
    ["netdoctor diagnose --bundle bun", ["bundle-a/", "bundle-b/"]],
    ["kubectl-netdoctor di", ["diagnose"]],
  ])("%j completes to %j", (line, expected) => {
    expect(fishComplete(line).sort()).toEqual(expected);
  });

  it("shows each command's description", () => {
    const out = execFileSync("fish", ["--no-config", "-c", `source '${path}'; complete -C'netdoctor sc'`], {
      encoding: "utf8",
    });
    expect(out).toMatch(/^scan\tnode health from iptables-save dumps/);
  });
});

describe("completionScript()", () => {
  it("refuses a command name that is not a plain word instead of writing it into a script", () => {
    const program = new Command("netdoctor");
    program.command("bad;name").description("x");
    expect(() => completionScript(program, "bash")).toThrow(TypeError);
  });

  it("completes option choices and only the options the program has", () => {
    const program = new Command("netdoctor");
    program
      .command("one")
      .addOption(new Option("--mode <m>", "how").choices(["fast", "slow"]))
      .option("--file <file>", "a file");
    const bash = completionScript(program, "bash");
    expect(bash).toContain(`'one|--mode') COMPREPLY=($(compgen -W 'fast slow' -- "$3"))`);
    expect(bash).toContain("opts='--mode --file -h --help'");
    expect(bash).not.toContain("--bundle");
  });
});
