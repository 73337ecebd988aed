import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { buildBundle } from "../demo/build-bundle.ts";
import { diagnoseFiles, healthyCluster, replaceIn } from "../testing/demo-bundles.ts";
import { writeBundleFiles } from "./demo-bundle.ts";
import { diagnoseBundleDir } from "./diagnose-bundle-dir.ts";
import { readBundle, readBundleNode } from "./read-bundle.ts";

async function readFiles(files: Map<string, string>) {
  const dir = await mkdtemp(join(tmpdir(), "nd-bundle-"));
  try {
    await writeBundleFiles(dir, files);
    return await readBundle(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe("broken bundles", () => {
  it("names a missing required file and the command that writes it", async () => {
    const files = buildBundle(healthyCluster());
    files.delete("cluster/pods.json");
    await expect(readFiles(files)).rejects.toThrow(
      /cluster\/pods\.json is missing \(write it with `kubectl get pods -A -o json`\)/,
    );
  });

  it("gives line and column of invalid JSON", async () => {
    const files = buildBundle(healthyCluster());
    replaceIn(files, "cluster/services.json", '"kind": "List"', '"kind": "List",,');
    await expect(readFiles(files)).rejects.toThrow(
      /^Cannot parse cluster\/services\.json at line \d+, column \d+: /,
    );
  });

  it("rejects a list of the wrong kind", async () => {
    const files = buildBundle(healthyCluster());
    files.set(
      "cluster/services.json",
      files.get("cluster/pods.json")!.replace('"kind": "List"', '"kind": "PodList"'),
    );
    await expect(readFiles(files)).rejects.toThrow(
      'Cannot read cluster/services.json: expected kind ServiceList (kubectl get services -o json), got "PodList"',
    );
    const files2 = buildBundle(healthyCluster());
    files2.set("cluster/services.json", files2.get("cluster/pods.json")!);
    await expect(readFiles(files2)).rejects.toThrow(
      'Cannot read cluster/services.json: expected Service objects, got a list of "Pod"',
    );
  });

  it("skips a malformed item with its path and still reads the rest", async () => {
    const files = buildBundle(healthyCluster());
    replaceIn(files, "cluster/services.json", '"port": 8081', '"port": "eighty"');
    const b = await readFiles(files);
    expect(b.cluster.services.map((s) => s.metadata.name)).not.toContain("eopx-order");
    expect(b.cluster.services.length).toBeGreaterThan(6);
    expect(b.problems.map((p) => p.message)).toEqual([
      expect.stringMatching(
        /^Cannot read cluster\/services\.json items\[6\] \(eopx\/eopx-order\): spec\.ports\[0\]\.port: expected a port number 0-65535, got "eighty"$/,
      ),
    ]);
    expect(b.problems[0]!.evidence[0]!.line).toBeGreaterThan(1);
  });

  it("treats a broken optional file as a bundle-invalid finding", async () => {
    const files = buildBundle(healthyCluster());
    files.set("cluster/configmaps.json", "{");
    const b = await readFiles(files);
    expect(b.problems[0]?.code).toBe("bundle-invalid");
    expect(b.problems[0]?.message).toMatch(/^Cannot parse cluster\/configmaps\.json at line 1, column 2: /);
  });

  it("diagnoses the rest when a node directory has only an .err file", async () => {
    const files = buildBundle(healthyCluster());
    for (const k of [...files.keys()]) if (k.startsWith("nodes/master2/")) files.delete(k);
    files.set(
      "nodes/master2/iptables-save.err",
      "iptables-save: Could not fetch rule set generation id: Invalid argument\n",
    );
    files.set("nodes/master2/iptables-save.exit", "1\n");
    const d = await diagnoseFiles(files);
    const unreadable = d.findings.filter((f) => f.code === "iptables-unreadable");
    expect(unreadable.map((f) => f.node)).toEqual(["master2"]);
    expect(unreadable[0]!.evidence[0]).toMatchObject({ file: "nodes/master2/iptables-save.err", line: 1 });
    expect(d.nodes.find((n) => n.node === "master2")?.readable).toBe(false);
    expect(d.nodes.find((n) => n.node === "master1")?.rules).toBeGreaterThan(100);
    expect(d.findings.filter((f) => f.node === "master1")).toEqual([]);
  });

  it("reports a dump that does not parse as bundle-invalid with its line, and the node as unreadable", async () => {
    const files = buildBundle(healthyCluster());
    replaceIn(files, "nodes/master1/iptables-save.txt", /COMMIT\n/, "");
    const d = await diagnoseFiles(files);
    expect(d.findings.find((f) => f.code === "bundle-invalid")?.message).toMatch(
      /^Cannot parse nodes\/master1\/iptables-save\.txt at line \d+/,
    );
    expect(d.findings.filter((f) => f.code === "iptables-unreadable").map((f) => f.node)).toEqual([
      "master1",
    ]);
  });
});

describe("list layouts (issue 14)", () => {
  it("reads kubectl's layout (streamed) and a minified one (parsed whole) alike, bad items included", async () => {
    const files = buildBundle(healthyCluster());
    replaceIn(files, "cluster/services.json", '"port": 8081', '"port": "eighty"');
    const minified = new Map(
      [...files].map(([f, t]) => [f, f.startsWith("cluster/") ? JSON.stringify(JSON.parse(t)) : t]),
    );
    const [pretty, flat] = [await readFiles(files), await readFiles(minified)];
    expect(pretty.problems).toHaveLength(1);
    expect(pretty.problems[0]!.evidence[0]!.line).toBeGreaterThan(1);
    // Line numbers differ (one line against many); everything else is the same.
    const noLines = (b: typeof pretty) =>
      JSON.parse(JSON.stringify(b, (k, v) => (k === "line" || k === "dir" ? 0 : v)));
    expect(noLines(pretty)).toEqual(noLines(flat));
    expect(flat.cluster.services.every((s) => s.source?.line === 1)).toBe(true);
  });
});

describe("optional files", () => {
  it("reads a bundle without configmaps.json without any problem", async () => {
    const files = buildBundle(healthyCluster());
    files.delete("cluster/configmaps.json");
    const b = await readFiles(files);
    expect(b.problems).toEqual([]);
    expect(b.cluster.configMaps).toEqual([]);
  });
});

describe("bundle.json and node directories", () => {
  it("tolerates a missing bundle.json, refuses another format", async () => {
    const files = buildBundle(healthyCluster());
    files.delete("bundle.json");
    expect((await readFiles(files)).problems.map((p) => p.message)).toEqual([
      "Cannot read bundle.json: it is missing; assuming netdoctor-bundle/v1",
    ]);
    files.set("bundle.json", '{"format":"netdoctor-bundle/v9"}');
    await expect(readFiles(files)).rejects.toThrow(
      'Cannot read bundle.json: "format" must be "netdoctor-bundle/v1", got "netdoctor-bundle/v9"',
    );
  });

  it("says which API node has no directory", async () => {
    const files = buildBundle(healthyCluster());
    for (const k of [...files.keys()]) if (k.startsWith("nodes/master1/")) files.delete(k);
    const b = await readFiles(files);
    expect(b.nodeDirs).toEqual(["master2", "prod-agent1"]);
    expect(b.problems.map((p) => p.message)).toEqual([
      'Cannot check node "master1": the bundle has no nodes/master1/ directory',
    ]);
  });
});

describe("node directories that cannot be read (issue 12 item 9)", () => {
  async function onDisk<T>(
    edit: (dir: string) => Promise<void>,
    run: (dir: string) => Promise<T>,
  ): Promise<T> {
    const dir = await mkdtemp(join(tmpdir(), "nd-bundle-io-"));
    try {
      await writeBundleFiles(dir, buildBundle(healthyCluster()));
      await edit(dir);
      return await run(dir);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  it("makes a node whose dump is a directory iptables-unreadable and diagnoses the others", async () => {
    const d = await onDisk(
      async (dir) => {
        const dump = join(dir, "nodes/prod-agent1/iptables-save.txt");
        await rm(dump);
        await mkdir(dump);
      },
      (dir) => diagnoseBundleDir(dir),
    );
    expect(d.findings.filter((f) => f.code === "iptables-unreadable").map((f) => f.node)).toEqual([
      "prod-agent1",
    ]);
    const problem = d.findings.find((f) => f.code === "bundle-invalid" && f.node === "prod-agent1");
    expect(problem?.message).toBe("Cannot read nodes/prod-agent1/iptables-save.txt: it is a directory");
    expect(d.nodes.find((n) => n.node === "master1")?.readable).toBe(true);
  });

  it("reports a node directory that is a file instead of stopping", async () => {
    const d = await onDisk(
      async (dir) => {
        await rm(join(dir, "nodes/master2"), { recursive: true });
        await writeFile(join(dir, "nodes/master2"), "not a directory\n");
      },
      (dir) => readBundleNode(dir, "master2"),
    );
    expect(d.evidence.scan).toBeUndefined();
    expect(d.problems.map((p) => p.message)).toEqual([
      "Cannot read nodes/master2/: a part of the path is not a directory",
    ]);
  });

  it("reads a gzip-compressed and a UTF-16 dump like the plain one", async () => {
    const plain = await onDisk(
      async () => {},
      (dir) => readBundleNode(dir, "prod-agent1"),
    );
    for (const encode of [
      (t: string) => gzipSync(t),
      (t: string) => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(t, "utf16le")]),
    ]) {
      const read = await onDisk(
        async (dir) => {
          const dump = join(dir, "nodes/prod-agent1/iptables-save.txt");
          await writeFile(dump, encode(await readFile(dump, "utf8")));
        },
        (dir) => readBundleNode(dir, "prod-agent1"),
      );
      expect(read.problems).toEqual([]);
      expect(read.evidence.scan?.rules).toBe(plain.evidence.scan?.rules);
      expect(read.evidence.scan?.tables).toEqual(plain.evidence.scan?.tables);
    }
  });

  it("treats an empty iptables-legacy-save.txt as no legacy tables, not as a broken file", async () => {
    const read = await onDisk(
      (dir) => writeFile(join(dir, "nodes/prod-agent1/iptables-legacy-save.txt"), ""),
      (dir) => readBundleNode(dir, "prod-agent1"),
    );
    expect(read.problems).toEqual([]);
    expect(read.evidence.legacyScan?.rules).toBe(0);
  });
});
