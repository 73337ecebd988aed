/**
 * The overlay lab (issue 17): for every case, the real connection outcome in a kernel with real
 * VXLAN devices is what netdoctor answers from the bundle alone (checks + path evaluator + iptables
 * tracer), the failure is placed on the right node with evidence from that node's files, and the
 * checks report exactly the expected findings (none for the healthy cluster).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { diagnoseBundleDir } from "../collect/diagnose-bundle-dir.ts";
import { readHostEvidence } from "../collect/read-host-evidence.ts";
import { checkHostNetwork } from "../hostnet/check-host-network.ts";
import type { Finding } from "../model/finding.ts";
import { checkTraceSteps } from "../model/trace.ts";
import type { HostPathInput } from "../trace/host-path-input.ts";
import { commandUnavailable, netnsUnavailable, skipBecause } from "./capabilities.ts";
import type { OverlayLab } from "./overlay-lab.ts";
import { createOverlayLab } from "./overlay-lab-build.ts";
import { writeLabBundle } from "./overlay-lab-bundle.ts";
import { defaultNodes, LAB_CASES, type LabCase, type LabCaseProbe } from "./overlay-lab-cases.ts";
import { LAB_DIAGNOSES, type LabDiagnosis } from "./overlay-lab-diagnoses.ts";
import { overlayUnavailable } from "./overlay-lab-ns.ts";
import { labOutcomeKey } from "./overlay-lab-probe.ts";
import { labAnswer } from "./overlay-lab-verdict.ts";

const skip = skipBecause(
  netnsUnavailable() ??
    overlayUnavailable() ??
    commandUnavailable("bridge") ??
    commandUnavailable("ethtool") ??
    commandUnavailable("conntrack"),
  "overlay lab tests",
);

const counts = { cases: 0, probes: 0, failuresPlaced: 0, findings: 0, diagnoses: 0 };

/** A probe and what the kernel answered. */
interface RealOutcome {
  readonly probe: LabCaseProbe;
  readonly real: string;
}

/** Runs the probes against the kernel, writes and reads a bundle, and compares answer by answer. */
async function probeAndCompare(
  lab: OverlayLab,
  c: LabCase,
  probes: readonly LabCaseProbe[],
  dirs: string[],
  outcomes: RealOutcome[],
): Promise<HostPathInput> {
  const real: string[] = [];
  for (const p of probes) real.push(labOutcomeKey(await lab.probe({ ...p, timeoutMs: p.timeoutMs ?? 1500 })));
  probes.forEach((probe, i) => {
    outcomes.push({ probe, real: real[i]! });
  });
  const dir = mkdtempSync(join(tmpdir(), `nd-overlay-${c.name}-`));
  dirs.push(dir);
  rmSync(dir, { recursive: true });
  await writeLabBundle(lab, dir, { services: c.services ?? [] });
  const bundle = await readHostEvidence(dir);
  probes.forEach((p, i) => {
    const what = `${c.name}: ${p.from} -> ${p.dstIp}:${p.dstPort}/${p.protocol}${p.payload === undefined ? "" : ` (${p.payload} bytes)`}`;
    expect(real[i], `${what}: the kernel`).toBe(p.expect);
    const answer = labAnswer(bundle, p);
    expect(answer.key, `${what}: netdoctor (${answer.reason ?? ""})`).toBe(real[i]);
    counts.probes++;
    if (p.failsAt === undefined) return;
    const conn = answer.connection;
    const path = conn.request.outcome === "delivered" && conn.reply !== undefined ? conn.reply : conn.request;
    const hop = path.hops[path.hops.length - 1];
    expect(hop?.node, `${what}: failing hop`).toBe(p.failsAt);
    const files = [
      ...(hop?.steps.flatMap((s) => s.evidence.map((e) => e.file)) ?? []),
      ...(conn.evidence ?? []).map((e) => e.file),
    ];
    expect(
      files.some((f) => f.startsWith(`nodes/${p.failsAt}/`)),
      `${what}: evidence from ${p.failsAt}: ${files.join(", ")}`,
    ).toBe(true);
    counts.failuresPlaced++;
  });
  return bundle;
}

function checkFindings(c: LabCase, findings: readonly Finding[]): void {
  if (c.findings.length === 0 && c.name === "healthy") {
    expect(findings.map((f) => `${f.severity} ${f.code}@${f.node}: ${f.message}`)).toEqual([]);
  }
  const got = [
    ...new Set(findings.filter((f) => f.severity !== "info").map((f) => `${f.code}@${f.node}`)),
  ].sort();
  expect(got, `${c.name}: findings`).toEqual([...c.findings].sort());
  for (const [key, patterns] of Object.entries(c.evidence ?? {})) {
    const f = findings.filter((x) => `${x.code}@${x.node}` === key);
    const files = f.flatMap((x) => x.evidence.map((e) => e.file));
    for (const re of patterns)
      expect(
        files.some((file) => re.test(file)),
        `${key}: evidence ${re} in ${files.join(", ")}`,
      ).toBe(true);
    for (const x of f)
      for (const e of x.evidence)
        if (e.file.endsWith(".json") && e.file.startsWith("nodes/") && e.line !== undefined)
          expect(e.text).toMatch(/^\$\[\d+\] \{/);
  }
  counts.findings += got.length;
}

const PATH_LINKS = ["route", "overlay", "endpoint-node"] as const;

/**
 * `diagnose` on the case's bundle answers as written by hand, and agrees with the kernel: a broken
 * link only when a probe of the same connection failed, all links fine only when every plain probe
 * of it was answered.
 */
async function checkDiagnosis(c: LabCase, dir: string, want: LabDiagnosis, outcomes: readonly RealOutcome[]) {
  const what = `${c.name}: diagnose ${want.from} -> ${want.to}`;
  const same = outcomes.filter(
    (o) =>
      o.probe.payload === undefined &&
      `default/${o.probe.from}` === want.from &&
      `${o.probe.dstIp}:${o.probe.dstPort}` === want.to,
  );
  expect(same.length, `${what}: a probe of the same connection`).toBeGreaterThan(0);
  const broken = Object.values(want.links).includes("broken");
  if (broken)
    expect(
      same.some((o) => !o.real.startsWith("answer")),
      `${what}: the kernel saw it fail`,
    ).toBe(true);
  else
    expect(
      same.filter((o) => o.probe.srcPort === undefined).every((o) => o.real.startsWith("answer")),
      `${what}: the kernel answered`,
    ).toBe(true);
  // At risk: this connection works, and the kernel lost a bigger packet of it.
  if (Object.values(want.links).includes("at-risk"))
    expect(
      outcomes.some(
        (o) =>
          o.probe.payload !== undefined &&
          `${o.probe.dstIp}:${o.probe.dstPort}` === want.to &&
          !o.real.startsWith("answer"),
      ),
      `${what}: the kernel lost a bigger packet`,
    ).toBe(true);
  const d = await diagnoseBundleDir(dir, { from: want.from, to: want.to });
  for (const t of d.pathTrace?.traces ?? []) checkTraceSteps(t);
  expect(d.pathTrace?.traces[0]?.hops[0]?.node, `${what}: the first hop`).toBe(d.question?.clientNode);
  const got = Object.fromEntries(
    PATH_LINKS.map((l) => [l, d.steps.find((s) => s.check === l)?.status ?? "absent"]),
  );
  expect(got, `${what}: ${d.summary}`).toEqual(want.links);
  if (want.broken !== undefined) {
    const step = d.steps.find(
      (s) => s.status === "broken" && (PATH_LINKS as readonly string[]).includes(s.check),
    )!;
    expect(d.brokenAt === step.check || d.verdict === "broken", what).toBe(true);
    expect(step.detail, `${what}: where`).toContain(`on ${want.broken.at}`);
    const code = step.findings?.[0];
    expect(want.broken.codes, `${what}: proof ${code}`).toContain(code);
    const proof = d.findings.find((f) => f.code === code && f.node === want.broken!.proofNode);
    expect(proof, `${what}: ${code} on ${want.broken.proofNode}`).toBeDefined();
    const files = d.findings
      .filter(
        (f) =>
          want.broken!.codes.includes(f.code) &&
          (f.node === want.broken!.proofNode || f.node === want.broken!.at),
      )
      .flatMap((f) => f.evidence.map((e) => e.file));
    for (const re of want.broken.files)
      expect(
        files.some((f) => re.test(f)),
        `${what}: ${re} in ${files.join(", ")}`,
      ).toBe(true);
  }
  counts.diagnoses++;
}

describe.skipIf(skip)("overlay lab", () => {
  afterAll(() => {
    console.log(
      `overlay lab: ${counts.cases} of ${LAB_CASES.length} cases, ${counts.probes} probes answered as the kernel did, ${counts.failuresPlaced} failures placed on their node, ${counts.findings} findings as expected, ${counts.diagnoses} diagnoses at the right link, node and file`,
    );
  });

  for (const c of LAB_CASES) {
    it(`${c.name}: ${c.what}`, async () => {
      const lab = await createOverlayLab({ area: "ovl", nodes: c.nodes ?? defaultNodes() });
      const dirs: string[] = [];
      try {
        await c.breakIt?.(lab);
        const outcomes: RealOutcome[] = [];
        let bundle = await probeAndCompare(lab, c, c.probes, dirs, outcomes);
        if (c.change !== undefined) {
          await c.change(lab);
          bundle = await probeAndCompare(lab, c, c.after ?? [], dirs, outcomes);
        }
        for (const d of LAB_DIAGNOSES[c.name] ?? [])
          await checkDiagnosis(c, dirs[dirs.length - 1]!, d, outcomes);
        checkFindings(
          c,
          checkHostNetwork({
            hosts: bundle.hosts,
            nodes: bundle.nodes,
            pods: bundle.pods,
            cluster: bundle.cluster,
          }),
        );
        counts.cases++;
      } finally {
        await lab.destroy();
        for (const d of dirs) rmSync(d, { recursive: true, force: true });
      }
    });
  }
});
