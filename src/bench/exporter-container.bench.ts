/**
 * `npm run bench -- exporter-container` (root, podman, runc): the memory of the exporter DaemonSet's
 * container, measured on its cgroup, as deploy/exporter/daemonset.yaml runs it (the manifest's own
 * arguments, user, capabilities, read-only root, /host, in-cluster API) but without its memory limit,
 * so the figure is what the container needs, not what the limit allowed.
 *
 * Scenarios: a few-thousand-rule node, and the 1M-rule dump of the bench generator (71,428 Services
 * and k3s#3117 copies) with and without the API comparison. There the node's iptables-save is
 * replaced by `cat` of the dump, so the figure is the exporter's own; the host's iptables-save runs in
 * the same cgroup on a real node and adds its own memory (the last scenario measures it: the real
 * iptables-nft-save on a network namespace loaded with ND_BENCH_REAL_RULES rules of the leak's shape,
 * default 100,000, the DaemonSet's container unchanged).
 */
import { linkSync, mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { collectorPod } from "../collect/collector-pod.ts";
import { commandUnavailable, netnsUnavailable } from "../testing/capabilities.ts";
import { memoryCgroup, rssBytes, usagePeak } from "../testing/cgroup-memory.ts";
import { daemonSetPodSpec, type PodSpecLike, podmanRunArgs } from "../testing/daemonset-container.ts";
import { FakeKubeApi } from "../testing/fake-kube-api.ts";
import { startInClusterApi } from "../testing/in-cluster-api.ts";
import { parseMetricsText } from "../testing/metrics-text.ts";
import { buildNetdoctorImage, TEST_IMAGE } from "../testing/netdoctor-image.ts";
import { Podman, podmanUnavailable } from "../testing/podman.ts";
import {
  BUSYBOX_CHANGES,
  mountNodeFilesystems,
  standInBusyboxRootfs,
  standInHostRoot,
} from "../testing/stand-in-image.ts";
import { createTestNetns, fetchInNetns, type TestNetns } from "../testing/test-netns.ts";
import { cachedDump } from "./cached-dump.ts";
import { type GenerateDumpOptions, generateDump, generatedCounts, optionsForRules } from "./generate-dump.ts";
import { generatedApiObjects } from "./generated-api-objects.ts";

export const name = "exporter-container";

const NODE = "bench-node";
const BUSYBOX_IMAGE = "localhost/busybox:stand-in";
const BIG = 1_000_000;
const MB = 1024 * 1024;

interface Scenario {
  readonly label: string;
  readonly rules: number;
  readonly options: GenerateDumpOptions;
  /** File under /host/bench read by `cat`; undefined: the real iptables on rules loaded into the namespace. */
  readonly file?: string;
  readonly api: boolean;
}

interface Measured {
  readonly cycle: number | undefined;
  readonly errors: string;
  readonly peakRss: number;
  readonly peakUsage: number;
  readonly afterRss: number;
}

/** The DaemonSet's container with its limits removed and, for `cat` scenarios, the dump as the node's iptables-save. */
function podFor(scenario: Scenario): PodSpecLike {
  const pod = daemonSetPodSpec(resolve("deploy/exporter/daemonset.yaml"));
  const c = pod.containers[0]!;
  let args = [...(c.args ?? [])];
  if (scenario.file !== undefined) {
    args = args
      .filter((a) => !a.startsWith("--legacy-save-command="))
      .map((a) =>
        a.startsWith("--save-command=")
          ? `--save-command=cat /host/bench/${scenario.file}`
          : a.startsWith("--version-command=")
            ? "--version-command=echo 'iptables v1.8.9 (nf_tables)'"
            : a,
      );
  }
  if (!scenario.api) args = args.filter((a) => a !== "--in-cluster" && !a.startsWith("--api-interval"));
  const { limits: _dropped, ...resources } = c.resources ?? {};
  return { ...pod, containers: [{ ...c, args, resources }] };
}

async function measure(podman: Podman, ns: TestNetns, host: string, scenario: Scenario): Promise<Measured> {
  const fake = new FakeKubeApi({ nodes: [{ name: NODE }], ...generatedApiObjects(scenario.options) });
  await fake.start();
  const apiDir = join(podman.dir, `api-${ns.name}`);
  mkdirSync(apiDir, { recursive: true });
  const api = await startInClusterApi(fake, { netns: ns.name, dir: apiDir });
  const id = podman.start(
    podmanRunArgs(podFor(scenario), {
      image: TEST_IMAGE,
      netns: ns.name,
      hostPaths: { "/": host },
      fields: { "spec.nodeName": NODE },
      extraEnv: api.env,
      extraMounts: [api.mount],
    }),
  );
  try {
    const cg = memoryCgroup(Number(podman.run(["inspect", "-f", "{{.State.Pid}}", id]).trim()));
    let peakRss = 0;
    const poll = setInterval(() => {
      peakRss = Math.max(peakRss, rssBytes(cg));
    }, 20);
    let values: Map<string, number> | undefined;
    const node = `{node="${NODE}"}`;
    for (let i = 0; i < 900; i++) {
      const r = fetchInNetns(ns.name, "http://127.0.0.1:9469/metrics");
      const m = r.ok ? parseMetricsText(r.body) : undefined;
      const errors = [...(m ?? [])].filter(
        ([k, v]) => k.startsWith("netdoctor_iptables_save_errors_total") && v > 0,
      );
      if (
        m !== undefined &&
        ((m.get(`netdoctor_iptables_last_success_timestamp_seconds${node}`) ?? 0) > 0 || errors.length > 0)
      ) {
        if (!scenario.api || m.has(`netdoctor_service_rules_stale${node}`) || errors.length > 0) {
          values = m;
          break;
        }
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
    clearInterval(poll);
    if (values === undefined) throw new Error(`No sample in scenario ${scenario.label}:\n${podman.logs(id)}`);
    await new Promise((r) => setTimeout(r, 2000));
    const errors = [...values]
      .filter(([k, v]) => k.startsWith("netdoctor_iptables_save_errors_total") && v > 0)
      .map(([k, v]) => `${/reason="([^"]+)"/.exec(k)?.[1]} ${v}`)
      .join(", ");
    return {
      cycle: values.get(`netdoctor_iptables_save_duration_seconds${node}`),
      errors,
      peakRss,
      peakUsage: usagePeak(cg),
      afterRss: rssBytes(cg),
    };
  } finally {
    podman.remove(id, 10);
    await api.close();
    await fake.close();
  }
}

/** The collector pod of `collect` (busybox stand-in image) on the same node: peak RSS and run time of its cgroup. */
async function measureCollector(
  podman: Podman,
  ns: TestNetns,
  host: string,
): Promise<{ peakRss: number; seconds: number }> {
  const pod = collectorPod({ runId: "bench", node: NODE, namespace: "kube-system", image: BUSYBOX_IMAGE });
  const start = performance.now();
  const id = podman.start(
    podmanRunArgs(pod.spec as unknown as PodSpecLike, {
      image: BUSYBOX_IMAGE,
      netns: ns.name,
      hostPaths: { "/": host },
      fields: {},
    }),
  );
  let peakRss = 0;
  try {
    const cg = memoryCgroup(Number(podman.run(["inspect", "-f", "{{.State.Pid}}", id]).trim()));
    while (podman.try(["inspect", "-f", "{{.State.Running}}", id]).stdout.trim() === "true") {
      try {
        peakRss = Math.max(peakRss, rssBytes(cg));
      } catch {
        break; // the cgroup went away with the container
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    return { peakRss, seconds: (performance.now() - start) / 1000 };
  } finally {
    podman.remove(id, 0);
  }
}

function scenariosFor(small: GenerateDumpOptions, big: GenerateDumpOptions): Scenario[] {
  const realRules = Number(process.env.ND_BENCH_REAL_RULES ?? 100_000);
  const real: GenerateDumpOptions = {
    services: 300,
    duplicates: Math.max(0, realRules - generatedCounts(small).rules),
  };
  return [
    {
      label: "few thousand rules, API comparison",
      rules: generatedCounts(small).rules,
      options: small,
      file: "small.txt",
      api: true,
    },
    {
      label: "1M rules (bench generator), save only",
      rules: BIG,
      options: big,
      file: "big.txt",
      api: false,
    },
    {
      label: "1M rules (bench generator), save + API comparison",
      rules: BIG,
      options: big,
      file: "big.txt",
      api: true,
    },
    {
      label: `real iptables-nft-save, k3s#3117 shape, API comparison`,
      rules: generatedCounts(real).rules,
      options: real,
      api: true,
    },
  ];
}

export async function run(): Promise<string> {
  const reason =
    podmanUnavailable() ?? netnsUnavailable() ?? commandUnavailable("openssl") ?? commandUnavailable("ldd");
  if (reason !== undefined) return `## exporter container\n\nNot measured: ${reason}.\n`;
  const podman = new Podman("bench");
  const namespaces: TestNetns[] = [];
  let unmount: (() => void) | undefined;
  const rows: string[] = [];
  let collector = "";
  try {
    buildNetdoctorImage(podman);
    const busybox = join(podman.dir, "busybox-rootfs");
    standInBusyboxRootfs(busybox);
    podman.importRootfs(busybox, BUSYBOX_IMAGE, BUSYBOX_CHANGES);
    const host = join(podman.dir, "host-root");
    standInHostRoot(host);
    unmount = mountNodeFilesystems(host);
    mkdirSync(join(host, "bench"));
    const small: GenerateDumpOptions = { services: 300 };
    writeFileSync(join(host, "bench/small.txt"), [...generateDump(small)].join(""));
    const big = optionsForRules(BIG);
    const bigFile = await cachedDump("exporter", BIG);
    linkSync(bigFile, join(host, "bench/big.txt"));
    const scenarios = scenariosFor(small, big);
    for (const s of scenarios) {
      process.stderr.write(`  ${s.label}...\n`);
      const ns = createTestNetns("bench");
      namespaces.push(ns);
      if (s.file === undefined) ns.exec(["iptables-nft-restore"], [...generateDump(s.options)].join(""));
      const m = await measure(podman, ns, host, s);
      const f = (n: number) => (n / MB).toFixed(0);
      rows.push(
        `| ${s.label} | ${s.rules.toLocaleString("en-US")} | ${m.cycle === undefined ? "-" : `${m.cycle.toFixed(1)} s`} | ${f(m.peakRss)} MB | ${f(m.peakUsage)} MB | ${f(m.afterRss)} MB | ${m.errors || "none"} |`,
      );
      if (s.file === undefined) {
        const c = await measureCollector(podman, ns, host);
        collector = `| collector pod (busybox), the same node | ${s.rules.toLocaleString("en-US")} | ${c.seconds.toFixed(1)} s for the whole pod | ${(c.peakRss / MB).toFixed(0)} MB | | | |`;
      }
      ns.destroy();
    }
  } finally {
    for (const ns of namespaces) ns.destroy();
    unmount?.();
    podman.destroy();
  }
  return [
    "## exporter container (deploy/exporter/daemonset.yaml in podman, memory of its cgroup)",
    "",
    "| node | rules | save + parse | peak RSS | peak incl. page cache | RSS after the sample | save errors |",
    "|---|---|---|---|---|---|---|",
    ...rows,
    collector,
    "",
    "RSS is anonymous memory of every process in the container (node, and iptables-save where it runs); page cache",
    "(the dump file, the binaries) is reclaimed before the limit kills anything.",
    "",
  ].join("\n");
}
