import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { commandUnavailable, skipBecause } from "../testing/capabilities.ts";
import { collectorScript } from "./collector-script.ts";
import { readFrames } from "./frame-reader.ts";
import { NODE_COMMANDS } from "./node-commands.ts";

const tools = ["sh", "gzip", "base64", "wc"].map(commandUnavailable).find((r) => r !== undefined);
const skip = skipBecause(tools, "collector script tests");

const work = mkdtempSync(join(tmpdir(), "nd-collect-script-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function fakeBin(name: string, body: string): void {
  const path = join(work, "bin", name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
}

async function* chunks(text: string, size: number): AsyncGenerator<string> {
  for (let i = 0; i < text.length; i += size) yield text.slice(i, i + size);
}

/** Runs the script under the system sh, with the machine's coreutils. */
function runWithSh(): string {
  return execFileSync("sh", ["-c", collectorScript()], {
    env: { PATH: `${join(work, "bin")}:/usr/bin:/bin`, ND_PREFIX: "", TMPDIR: join(work, "tmp") },
    maxBuffer: 64 << 20,
  }).toString("latin1");
}

/** Runs the script as the default image does: busybox sh and busybox applets only. */
function runWithBusybox(): string {
  const bb = join(work, "bb");
  execFileSync("mkdir", ["-p", bb]);
  for (const applet of ["sh", "gzip", "base64", "wc", "rm", "cat", "tr"]) {
    execFileSync("ln", ["-sf", "/usr/bin/busybox", join(bb, applet)]);
  }
  return execFileSync("/usr/bin/busybox", ["sh", "-c", collectorScript()], {
    env: { PATH: `${join(work, "bin")}:${bb}`, ND_PREFIX: "", TMPDIR: join(work, "tmp") },
    maxBuffer: 64 << 20,
  }).toString("latin1");
}

const skipBusybox = skipBecause(
  existsSync("/usr/bin/busybox") ? tools : "/usr/bin/busybox is not installed (apt-get install busybox)",
  "collector script under busybox (the default image)",
);

describe.each([
  { shell: "sh", run: runWithSh, skipped: skip },
  { shell: "busybox", run: runWithBusybox, skipped: skipBusybox },
])("collectorScript() under $shell", ({ run, skipped }) => {
  it.skipIf(skipped)(
    "frames every command's stdout, stderr and exit code so readFrames() restores them byte for byte",
    async () => {
      execFileSync("mkdir", ["-p", join(work, "bin"), join(work, "tmp"), join(work, "out")]);
      // Hostile rule text: a comment that looks like a frame marker must stay data.
      const dump = [
        "*filter",
        ":INPUT ACCEPT [0:0]",
        '-A INPUT -m comment --comment "@@done" -j ACCEPT',
        "@@exit iptables-save 0",
        ...Array.from({ length: 5000 }, (_, i) => `-A INPUT -s 198.18.${i >> 8}.${i & 255}/32 -j ACCEPT`),
        "COMMIT",
        "",
      ].join("\n");
      writeFileSync(join(work, "dump.txt"), dump);
      fakeBin("iptables-save", `cat ${join(work, "dump.txt")}`);
      fakeBin("iptables", 'echo "iptables v1.8.4 (nf_tables)"');
      fakeBin(
        "iptables-legacy-save",
        'echo "iptables-legacy-save: Failed to initialize nft: Protocol not supported" >&2; exit 1',
      );
      fakeBin("k3s", 'echo "k3s version v1.21.4+k3s1 (3e250fdb)"');
      // kube-proxy answers on 127.0.0.1:10249 (here: a fake curl that checks the URL it is given).
      fakeBin(
        "curl",
        [
          'case "$*" in',
          '  *" http://127.0.0.1:10249/metrics") printf "# TYPE kubeproxy_sync_proxy_rules_last_timestamp_seconds gauge\\nkubeproxy_sync_proxy_rules_last_timestamp_seconds 1.7e+09\\n" ;;',
          '  *" http://127.0.0.1:10249/proxyMode") printf "iptables" ;;',
          '  *) echo "curl: unexpected $*" >&2; exit 3 ;;',
          "esac",
        ].join("\n"),
      );
      // nft is deliberately absent: the shell answers 127.
      const out = run();
      expect(out).not.toContain("@@done\n@@");
      const results = await readFrames(chunks(out, 1000), { dir: join(work, "out"), source: "test" });
      const by = new Map(results.map((r) => [r.stem, r]));
      expect([...by.keys()]).toEqual(NODE_COMMANDS.map((c) => c.stem));
      const save = by.get("iptables-save")!;
      expect(save.exit).toBe(0);
      expect(readFileSync(save.stdoutPath, "utf8")).toBe(dump);
      expect(readFileSync(by.get("iptables-version")!.stdoutPath, "utf8")).toBe(
        "iptables v1.8.4 (nf_tables)\n",
      );
      expect(by.get("iptables-legacy-save")).toMatchObject({
        exit: 1,
        stderr: "iptables-legacy-save: Failed to initialize nft: Protocol not supported\n",
      });
      expect(by.get("nft-ruleset")!.exit).toBe(127);
      expect(by.get("nft-ruleset-json")!.exit).toBe(127);
      expect(readFileSync(by.get("k3s-version")!.stdoutPath, "utf8")).toContain("v1.21.4+k3s1");
      // ipset and ipvsadm are not on this PATH (and ip_vs is not loaded): "absent", never a module load.
      expect(by.get("ipset-save")!.exit).toBe(127);
      expect(by.get("ipvsadm")!.exit).toBe(127);
      expect(by.get("kube-proxy-metrics")!.exit).toBe(0);
      expect(readFileSync(by.get("kube-proxy-metrics")!.stdoutPath, "utf8")).toBe(
        "# TYPE kubeproxy_sync_proxy_rules_last_timestamp_seconds gauge\nkubeproxy_sync_proxy_rules_last_timestamp_seconds 1.7e+09\n",
      );
      expect(readFileSync(by.get("kube-proxy-mode")!.stdoutPath, "utf8")).toBe("iptables\n");
    },
  );

  it.skipIf(skipped)(
    "records a kube-proxy that does not answer as a note in the file, not as a failed command",
    async () => {
      execFileSync("mkdir", ["-p", join(work, "bin"), join(work, "tmp"), join(work, "out2")]);
      fakeBin(
        "curl",
        'echo "curl: (7) Failed to connect to 127.0.0.1 port 10249 after 0 ms: Couldn\'t connect to server" >&2; exit 7',
      );
      const results = await readFrames(chunks(run(), 1000), { dir: join(work, "out2"), source: "test" });
      const mode = results.find((r) => r.stem === "kube-proxy-mode")!;
      expect(mode.exit).toBe(0);
      expect(readFileSync(mode.stdoutPath, "utf8")).toBe(
        "# netdoctor: kube-proxy did not answer on http://127.0.0.1:10249/proxyMode (curl exit 7): curl: (7) Failed to connect to 127.0.0.1 port 10249 after 0 ms: Couldn't connect to server\n",
      );
    },
  );
});

describe("readFrames()", () => {
  it("rejects output that ends before @@done, so a cut dump never passes for a whole one", async () => {
    const text = "@@netdoctor-frames v1\n@@begin iptables-save stdout 10\nH4sIAAAAAAAAA\n";
    await expect(readFrames(chunks(text, 7), { dir: work, source: "pod x" })).rejects.toThrow(
      /Cannot read collector output of pod x: output ended early/,
    );
  });

  it("rejects a section whose byte count differs from what the node announced", async () => {
    const { encodeFrames } = await import("../testing/frame-encoder.ts");
    const text = encodeFrames([{ stem: "iptables-save", stdout: "abc\n", stderr: "", exit: 0 }]).replace(
      "@@begin iptables-save stdout 4",
      "@@begin iptables-save stdout 9",
    );
    await expect(readFrames(chunks(text, 5), { dir: work, source: "pod y" })).rejects.toThrow(
      /iptables-save stdout has 4 bytes, the node sent 9/,
    );
  });

  it("rejects output without the netdoctor header (an image that did not run the script)", async () => {
    await expect(readFrames(chunks("hello\n", 3), { dir: work, source: "pod z" })).rejects.toThrow(
      /no netdoctor output/,
    );
  });
});
