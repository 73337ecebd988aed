/**
 * The library as a user gets it: `npm pack` of the built package, unpacked into a fresh project's
 * node_modules/netdoctor, imported by name (`import { parseDump } from "netdoctor"`) from a plain
 * Node script and type-checked from a TypeScript file. Every export is called on a small input.
 *
 * The tarball is unpacked with tar where `npm install` would put it, not installed with
 * `npm install --offline`: npm resolves the package's dependencies (the CLI's) from registry
 * metadata that an offline machine does not have. The library itself needs none of them, which the
 * empty node_modules here proves.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeBundleFiles } from "./collect/demo-bundle.ts";
import { buildBundle } from "./demo/build-bundle.ts";
import { DEMO_FROM, DEMO_TO, incidentBundleSpec } from "./demo/incident.ts";
import { skipBecause } from "./testing/capabilities.ts";
import { smallIncident } from "./testing/demo-bundles.ts";
import { clusterOf } from "./testing/demo-cluster.ts";

const ROOT = process.cwd();
const BUILT = ["dist/index.mjs", "dist/types/index.d.ts"].filter((f) => !existsSync(resolve(ROOT, f)));
const skip = skipBecause(
  BUILT.length === 0 ? undefined : `${BUILT.join(", ")} not built (npm run build)`,
  "the packed library",
);

const DUPLICATED =
  "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -s 10.0.0.1/32 -j DROP\n-A INPUT -s 10.0.0.1/32 -j DROP\nCOMMIT\n";
const DNAT = [
  "*nat",
  ":PREROUTING ACCEPT [0:0]",
  ":INPUT ACCEPT [0:0]",
  ":OUTPUT ACCEPT [0:0]",
  ":POSTROUTING ACCEPT [0:0]",
  "-A PREROUTING -d 10.43.0.10/32 -p tcp -m tcp --dport 53 -j DNAT --to-destination 10.42.0.4:53",
  "COMMIT",
  "",
].join("\n");

// What a user's program does: every export called once; the results go back as JSON.
const CONSUMER = `
import { readFileSync } from "node:fs";
import * as nd from "netdoctor";
const [input] = process.argv.slice(2);
const { duplicated, dnat, bundle, cluster, from, to } = JSON.parse(readFileSync(input, "utf8"));
const out = {};
const rs = nd.parseDump(duplicated);
out.parsedRules = rs.ruleCount;
const bad = nd.tryParseDump("*filter\\n-A INPUT -j DROP\\nCOMMIT\\n");
out.badIsSyntaxError = !bad.ok && bad.error instanceof nd.DumpSyntaxError;
out.badLine = bad.ok ? undefined : bad.error.line;
const scan = nd.scanDump(duplicated, { node: "n1" });
out.scanCopies = scan.duplicates.extraRules;
out.scanCodes = nd.scanReport([scan]).findings.map((f) => f.code);
const natRs = nd.parseDump(dnat);
const trace = nd.tracePacket(
  natRs,
  { packet: { protocol: "tcp", srcIp: "10.42.1.5", dstIp: "10.43.0.10", srcPort: 40000, dstPort: 53 }, from: "pod" },
  { index: nd.buildTraceIndex(natRs) },
);
out.trace = JSON.stringify(trace);
out.plan = nd.planDuplicates(rs);
const bundleDiagnosis = await nd.diagnoseBundleDir(bundle, { from, to });
out.bundleVerdict = [bundleDiagnosis.verdict, bundleDiagnosis.brokenAt];
const pure = nd.diagnose({ cluster, problems: [] }, [], { question: { from, to } });
out.pureVerdict = [pure.verdict, pure.undecidedAt];
try {
  nd.diagnose({ cluster, problems: [] }, [], { question: { from: "nowhere/nobody", to } });
} catch (error) {
  out.questionError = error instanceof nd.QuestionError;
}
out.catalogue = nd.findingCatalogue();
console.log(JSON.stringify(out));
`;

// What a TypeScript user compiles: the declarations must carry real types (not any).
const TS_CONSUMER = `
import { parseDump, tracePacket, findingCatalogue, type Ruleset, type TraceResult, type Diagnosis, type Finding } from "netdoctor";
const rs: Ruleset = parseDump("*filter\\n:INPUT ACCEPT [0:0]\\nCOMMIT\\n");
const trace: TraceResult = tracePacket(rs, { packet: { protocol: "tcp", srcIp: "10.0.0.1", dstIp: "10.0.0.2", dstPort: 80 }, from: "host" });
const findings: readonly Finding[] = [];
const diagnosis: Diagnosis | undefined = undefined;
const codes: string[] = findingCatalogue().map((d) => d.code);
// @ts-expect-error the packet's protocol is a closed union
tracePacket(rs, { packet: { protocol: "tcpx", srcIp: "10.0.0.1", dstIp: "10.0.0.2" }, from: "host" });
// @ts-expect-error parseDump takes text, not a number
parseDump(42);
export { trace, findings, diagnosis, codes };
`;

describe.skipIf(skip)("the packed library, imported by name", () => {
  let dir = "";
  let packed: { filename: string; files: { path: string }[] } = { filename: "", files: [] };
  let out: Record<string, unknown> = {};

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "nd-library-"));
    const json = execFileSync("npm", ["pack", "--json", "--pack-destination", dir], {
      cwd: ROOT,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
    packed = JSON.parse(json)[0];
    const project = join(dir, "project");
    const pkgDir = join(project, "node_modules", "netdoctor");
    await mkdir(pkgDir, { recursive: true });
    writeFileSync(join(project, "package.json"), '{ "name": "user", "private": true, "type": "module" }\n');
    execFileSync("tar", ["xzf", join(dir, packed.filename), "-C", pkgDir, "--strip-components=1"]);
    const bundle = join(dir, "bundle");
    await writeBundleFiles(bundle, buildBundle(smallIncident()));
    writeFileSync(
      join(dir, "input.json"),
      JSON.stringify({
        duplicated: DUPLICATED,
        dnat: DNAT,
        bundle,
        cluster: clusterOf(incidentBundleSpec().api),
        from: DEMO_FROM,
        to: DEMO_TO,
      }),
    );
    writeFileSync(join(project, "use.mjs"), CONSUMER);
    out = JSON.parse(
      execFileSync(process.execPath, ["use.mjs", join(dir, "input.json")], {
        cwd: project,
        encoding: "utf8",
      }),
    );
  });

  afterAll(() => {
    if (dir !== "") rmSync(dir, { recursive: true, force: true });
  });

  it("ships the CLI, the library and its declarations, the API-list worker, and no sources", () => {
    const files = packed.files.map((f) => f.path);
    expect(files).toEqual(
      expect.arrayContaining([
        "dist/index.mjs",
        "dist/types/index.d.ts",
        "dist/netdoctor.mjs",
        "dist/read-lists-worker.mjs",
      ]),
    );
    expect(files.filter((f) => f.startsWith("src/") || f.endsWith(".test.ts"))).toEqual([]);
  });

  it("parses, scans and plans a dump with one duplicate rule", () => {
    expect(out.parsedRules).toBe(2);
    expect(out.badIsSyntaxError).toBe(true);
    expect(out.badLine).toBe(2);
    expect(out.scanCopies).toBe(1);
    expect(out.scanCodes).toEqual(["rules-duplicated"]);
    expect(out.plan).toMatchObject({ before: 2, after: 1, removed: 1 });
  });

  it("traces a packet through a DNAT rule to the rewritten destination", () => {
    expect(out.trace).toContain('"10.42.0.4:53"');
    expect(out.trace).toContain("--to-destination 10.42.0.4:53");
  });

  it("diagnoses the demo incident from a bundle directory and undecided from the API objects alone", () => {
    expect(out.bundleVerdict).toEqual(["broken", "node-dataplane"]);
    // Without any node's dump the client node's data plane cannot be proven either way.
    expect(out.pureVerdict).toEqual(["undecided", "client-node"]);
    expect(out.questionError).toBe(true);
  });

  it("describes every finding code docs/findings.md documents", () => {
    const catalogue = out.catalogue as { code: string; severity: string; documentation: string }[];
    const docs = readFileSync(resolve(ROOT, "docs/findings.md"), "utf8");
    const anchors = [...docs.matchAll(/<a id="([a-z0-9-]+)"><\/a>\n### `/g)].map((m) => m[1]);
    expect(catalogue.map((d) => d.code).sort()).toEqual([...anchors].sort());
    expect(catalogue.find((d) => d.code === "endpoint-stale")).toMatchObject({
      documentation: "docs/findings.md#endpoint-stale",
    });
  });

  it("type-checks a TypeScript user's program and the README's example against the shipped declarations", () => {
    const project = join(dir, "project");
    writeFileSync(join(project, "use.ts"), TS_CONSUMER);
    const readme = readFileSync(resolve(ROOT, "README.md"), "utf8");
    const example = /## Use as a library\n[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(example).toContain('from "netdoctor"');
    writeFileSync(join(project, "readme-example.ts"), example!);
    writeFileSync(
      join(project, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "ES2022",
          module: "NodeNext",
          moduleResolution: "NodeNext",
          strict: true,
          noEmit: true,
          // The README's example reads a file (node:fs).
          typeRoots: [resolve(ROOT, "node_modules/@types")],
          types: ["node"],
          lib: ["ES2023"],
        },
        files: ["use.ts", "readme-example.ts"],
      }),
    );
    const tsc = resolve(ROOT, "node_modules/typescript/bin/tsc");
    const r = (() => {
      try {
        execFileSync(process.execPath, [tsc, "-p", join(project, "tsconfig.json")], { encoding: "utf8" });
        return "";
      } catch (error) {
        return String((error as { stdout?: string }).stdout ?? error);
      }
    })();
    expect(r).toBe("");
  });
});
