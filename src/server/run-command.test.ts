import { describe, expect, test } from "vitest";
import { NodeScanner } from "../scan/scan-node.ts";
import { runDumpCommand, runTextCommand } from "./run-command.ts";

const DUMP = "*filter\\n:INPUT ACCEPT [0:0]\\n-A INPUT -j ACCEPT\\nCOMMIT\\n";

describe("runDumpCommand()", () => {
  test("streams stdout into the scanner", async () => {
    const scanner = new NodeScanner();
    const out = await runDumpCommand(`printf '${DUMP}'`, scanner.handler, { timeoutMs: 10_000 });
    expect(out.ok).toBe(true);
    expect(scanner.finish({ node: "n", file: "f", header: { backend: "unknown" } }).rules).toBe(1);
  });

  test.each([
    ["exit-code", "echo 'iptables-save: Could not fetch rule set generation id' >&2; exit 1"],
    ["parse-error", "echo 'this is not a dump'"],
    ["empty", "true"],
    ["empty", "echo '# Warning: nothing here'"],
    ["parse-error", `printf '*filter\\n:INPUT ACCEPT [0:0]\\n'`],
  ])("reports %s for `%s`", async (reason, command) => {
    const out = await runDumpCommand(command, new NodeScanner().handler, { timeoutMs: 10_000 });
    expect(out.ok ? "ok" : out.reason).toBe(reason);
  });

  test("keeps stderr and the exit code of a failing command", async () => {
    const out = await runDumpCommand(
      "echo 'Another app is currently holding the xtables lock' >&2; exit 4",
      {},
      {
        timeoutMs: 10_000,
      },
    );
    expect(out).toMatchObject({
      ok: false,
      reason: "exit-code",
      exitCode: 4,
      stderr: "Another app is currently holding the xtables lock\n",
    });
  });

  test("kills the whole process group on timeout and reports timeout", async () => {
    // `sleep` is a grandchild of sh; only a process-group kill closes its stdout so the run ends.
    const out = await runDumpCommand("sleep 30 | cat; echo done", {}, { timeoutMs: 200 });
    expect(out.ok ? "ok" : out.reason).toBe("timeout");
    expect(out.seconds).toBeLessThan(20);
  });

  test("stops reading at the first syntax error and kills a command that keeps writing", async () => {
    const out = await runDumpCommand("echo garbage; yes '-A X -j ACCEPT'", {}, { timeoutMs: 20_000 });
    expect(out).toMatchObject({ ok: false, reason: "parse-error" });
    expect(out.ok ? "" : out.message).toMatch(/^Cannot parse dump at line 1: /);
  });
});

describe("runTextCommand()", () => {
  test("returns stdout, cut at maxChars", async () => {
    const out = await runTextCommand("echo 'iptables v1.8.9 (nf_tables)'; yes | head -c 100000", {
      timeoutMs: 10_000,
      maxChars: 40,
    });
    expect(out.ok && out.value).toBe(`iptables v1.8.9 (nf_tables)\n${"y\n".repeat(6)}`);
  });

  test("accepts empty output (an empty nft ruleset)", async () => {
    const out = await runTextCommand("true", { timeoutMs: 10_000, maxChars: 10 });
    expect(out).toMatchObject({ ok: true, value: "" });
  });
});
