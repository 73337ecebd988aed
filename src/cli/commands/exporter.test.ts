import { execFile } from "node:child_process";
import { createServer } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, test } from "vitest";
import { parseListen } from "./exporter.ts";

describe("parseListen()", () => {
  test.each([
    ["0.0.0.0:9469", { host: "0.0.0.0", port: 9469 }],
    [":9469", { host: "0.0.0.0", port: 9469 }],
    ["127.0.0.1:0", { host: "127.0.0.1", port: 0 }],
    ["[::1]:9469", { host: "::1", port: 9469 }],
  ])("reads %s", (text, want) => {
    expect(parseListen(text)).toEqual(want);
  });

  test.each(["9469", "host", "a:99999", "::1:9469"])("rejects %s", (text) => {
    expect(() => parseListen(text)).toThrow(`Cannot listen on "${text}"`);
  });
});

describe("netdoctor exporter (CLI)", () => {
  const run = promisify(execFile);
  const cli = ["--import", "tsx", join(process.cwd(), "src/cli/main.ts"), "exporter"];

  test("exits 2 with one line when the port is taken", async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", r));
    const port = (blocker.address() as { port: number }).port;
    try {
      const out = await run(process.execPath, [
        ...cli,
        "--listen",
        `127.0.0.1:${port}`,
        "--save-command",
        "true",
      ]).catch((e: { code: number; stderr: string }) => e);
      expect(out).toMatchObject({
        code: 2,
        stderr: `netdoctor: Cannot listen on "127.0.0.1:${port}": the address is already in use\n`,
      });
    } finally {
      blocker.close();
    }
  });

  test("exits 2 for --kubeconfig with --in-cluster", async () => {
    const out = await run(process.execPath, [...cli, "--kubeconfig", "x", "--in-cluster"]).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect(out).toMatchObject({
      code: 2,
      stderr:
        "netdoctor: Cannot use both --kubeconfig and --in-cluster: pick one\nsee 'netdoctor exporter --help'\n",
    });
  });
});
