/**
 * The two bundles of ../shared/realkube/, written by a real kube-apiserver v1.20.2 (EndpointSlices
 * discovery.k8s.io/v1beta1 only) and three real kube-proxy v1.20.2 processes, diagnosed against
 * the truth in their expect.json. The question expectations live in QUESTIONS below (one place,
 * so a reworked verdict only changes `answer()`); they assert findings and the data-plane link.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import type { Diagnosis } from "../model/diagnosis.ts";
import type { Finding } from "../model/finding.ts";
import { diagnoseBundleDir } from "./diagnose-bundle-dir.ts";

const REALKUBE = resolve(process.cwd(), "../shared/realkube");

interface Truth {
  readonly scenarios: Record<
    string,
    {
      readonly bundle: string;
      readonly expectHealthy: boolean;
      readonly staleNodes: readonly string[];
      readonly servicesWithoutEndpoints: readonly string[];
      readonly expectedFindings?: readonly { code: string; node: string; service: string; ip?: string }[];
      readonly questions: readonly { from: string; to: string; expect: string }[];
    }
  >;
}

function truth(): Truth | undefined {
  const file = join(REALKUBE, "expect.json");
  if (!existsSync(file)) {
    console.warn(`SKIP realkube acceptance: ${file} is absent`);
    return undefined;
  }
  return JSON.parse(readFileSync(file, "utf8")) as Truth;
}

const TRUTH = truth();

/** Codes that say the node's kube-proxy rules disagree with the API. */
const DATAPLANE = new Set([
  "endpoint-stale",
  "endpoint-missing",
  "service-rules-missing",
  "service-rejected",
]);

function dataplane(d: Diagnosis): Finding[] {
  return d.findings.filter((f) => DATAPLANE.has(f.code));
}

/** What the truth's `expect` text means, as assertions on a question's diagnosis. */
interface Answer {
  /** The `node-dataplane` link: true (proven), false (broken), undefined (not reached or undecided). */
  readonly dataplaneOk: boolean | undefined;
  /** Finding codes (errors) the answer must contain; nothing else may be an error. */
  readonly errors: readonly string[];
  /** Text the data-plane findings must mention. */
  readonly mentions: readonly string[];
  /** Finding codes that must be present whatever their severity. */
  readonly present?: readonly string[];
}

/**
 * Every question of both clients, keyed `scenario from to`, with what its `expect` text says. The
 * test below checks that this table covers expect.json exactly, so a new question fails loudly.
 */
const QUESTIONS: Readonly<Record<string, Answer>> = {
  "healthy shop/frontend-7c8d9f6b5-xkq2v web:80": { dataplaneOk: true, errors: [], mentions: [] },
  // "payments" names no Service: the cluster DNS does not own it, so it is an outside destination
  // (issue 12 item 3) and no data-plane claim is made about it.
  "healthy shop/frontend-7c8d9f6b5-xkq2v payments:80": {
    dataplaneOk: undefined,
    errors: [],
    mentions: [],
    present: ["destination-outside"],
  },
  "drift shop/frontend-7c8d9f6b5-xkq2v web:80": {
    dataplaneOk: false,
    errors: ["endpoint-stale", "endpoint-missing"],
    mentions: ["198.18.2.10:8080", "198.18.3.11:8080"],
  },
  "drift shop/frontend-7c8d9f6b5-xkq2v payments:80": {
    dataplaneOk: false,
    errors: ["service-rules-missing"],
    mentions: ["198.19.10.80:80"],
  },
  "drift shop/worker-6d5b8c9f7-yr4mt web:80": { dataplaneOk: true, errors: [], mentions: [] },
  "drift shop/worker-6d5b8c9f7-yr4mt payments:80": { dataplaneOk: true, errors: [], mentions: [] },
};

function answer(d: Diagnosis, want: Answer): void {
  expect(d.steps.find((s) => s.check === "node-dataplane")?.ok).toBe(want.dataplaneOk);
  const errors = [...new Set(d.findings.filter((f) => f.severity === "error").map((f) => f.code))].sort();
  expect(errors).toEqual([...want.errors].sort());
  const text = dataplane(d)
    .map((f) => f.message)
    .join("\n");
  for (const m of want.mentions) expect(text).toContain(m);
  for (const code of want.present ?? []) expect(d.findings.map((f) => f.code)).toContain(code);
}

describe.skipIf(TRUTH === undefined)(
  "diagnoseBundleDir() on bundles written by real Kubernetes v1.20.2",
  () => {
    const scenarios = TRUTH?.scenarios ?? {};

    it("has an answer for exactly the questions of expect.json", () => {
      const asked = Object.entries(scenarios).flatMap(([name, s]) =>
        s.questions.map((q) => `${name} ${q.from} ${q.to}`),
      );
      expect(asked.sort()).toEqual(Object.keys(QUESTIONS).sort());
    });

    for (const [name, s] of Object.entries(scenarios)) {
      describe(name, () => {
        it(`reads the v1beta1 EndpointSlices and reports ${s.expectHealthy ? "no" : "exactly the stale node's"} data-plane findings`, async () => {
          const d = await diagnoseBundleDir(join(REALKUBE, s.bundle));
          expect(d.steps.find((x) => x.check === "bundle")?.detail).toContain(
            "endpoints from EndpointSlices discovery.k8s.io/v1beta1",
          );
          const got = dataplane(d)
            .map((f) => `${f.code} ${f.node} ${f.service}`)
            .sort();
          const want = (s.expectedFindings ?? []).map((f) => `${f.code} ${f.node} ${f.service}`).sort();
          expect(got).toEqual(want);
          for (const f of s.expectedFindings ?? []) {
            if (f.ip === undefined) continue;
            const hit = dataplane(d).find((x) => x.code === f.code && x.service === f.service);
            expect(hit?.message).toContain(f.ip);
          }
          expect([...new Set(dataplane(d).map((f) => f.node))]).toEqual(s.staleNodes);
          expect(d.steps.find((x) => x.check === "node-dataplane")?.ok).toBe(s.expectHealthy);
          const noEndpoints = d.findings.filter((f) => f.code === "endpoints-none").map((f) => f.service);
          expect(noEndpoints).toEqual(s.servicesWithoutEndpoints);
        });

        for (const q of s.questions) {
          it(`answers ${q.from} → ${q.to} as "${q.expect}"`, async () => {
            const d = await diagnoseBundleDir(join(REALKUBE, s.bundle), { from: q.from, to: q.to });
            answer(d, QUESTIONS[`${name} ${q.from} ${q.to}`]!);
          });
        }
      });
    }
  },
);

describe.skipIf(TRUTH === undefined)(
  "diagnoseBundleDir() with kube-proxy's own evidence next to a real dump",
  () => {
    it("quotes kube-proxy's last sync and restore failures in the stale node's findings", async () => {
      const dir = mkdtempSync(join(tmpdir(), "nd-realkube-"));
      try {
        cpSync(join(REALKUBE, "drift"), dir, { recursive: true });
        // bundle.json says collectedAt 2026-12-06T11:41:14Z; node2's kube-proxy last synced 7 minutes earlier.
        const lastSync = Date.parse("2026-12-06T11:34:14Z") / 1000;
        writeFileSync(
          join(dir, "nodes/node2/kube-proxy-metrics.txt"),
          [
            "# TYPE kubeproxy_sync_proxy_rules_last_timestamp_seconds gauge",
            `kubeproxy_sync_proxy_rules_last_timestamp_seconds ${lastSync}`,
            "# TYPE kubeproxy_sync_proxy_rules_iptables_restore_failures_total counter",
            "kubeproxy_sync_proxy_rules_iptables_restore_failures_total 4",
            "",
          ].join("\n"),
        );
        writeFileSync(join(dir, "nodes/node2/kube-proxy-mode.txt"), "iptables");
        const d = await diagnoseBundleDir(dir);
        const stale = d.findings.find((f) => f.code === "endpoint-stale");
        expect(stale?.message).toContain(
          'kube-proxy on "node2" last synced 7 minutes ago (at collection), 4 restore failures',
        );
        expect(stale?.evidence.map((e) => e.file)).toContain("nodes/node2/kube-proxy-metrics.txt");
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  },
);
