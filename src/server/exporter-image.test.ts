/**
 * The image of deploy/exporter/Dockerfile, built with podman, and the DaemonSet's container run the way
 * the kubelet runs it: the manifest's own arguments, user, capabilities and read-only root, the
 * node's network namespace (here a throw-away one holding real iptables rules with a leak), the
 * host's / at /host read-only (here a stand-in root holding this machine's real iptables), the
 * service account of the in-cluster API (the fake API server over TLS). /metrics is scraped from
 * outside the container; the values, promtool's linter and the alert rules judge what it serves.
 *
 * Registries are out of reach, so the image is built on a stand-in base (this machine's Node and
 * busybox, `podman import`); real builds use the Dockerfile's default, node:20-alpine.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { parse } from "yaml";
import { commandUnavailable, netnsUnavailable, skipBecause } from "../testing/capabilities.ts";
import { daemonSetPodSpec, podmanRunArgs } from "../testing/daemonset-container.ts";
import { FakeKubeApi } from "../testing/fake-kube-api.ts";
import { type InClusterApi, startInClusterApi } from "../testing/in-cluster-api.ts";
import {
  API_OBJECTS,
  EXPECTED,
  LEGACY_RULES,
  NATIVE_NFT_RULE,
  NFT_RULES,
  NODE_NAME,
} from "../testing/leaked-node.ts";
import { parseMetricsText } from "../testing/metrics-text.ts";
import { buildNetdoctorImage, TEST_IMAGE } from "../testing/netdoctor-image.ts";
import { Podman, podmanUnavailable } from "../testing/podman.ts";
import { rulesWithoutAnnotations, scrapeRuleTest } from "../testing/scrape-rule-test.ts";
import { mountNodeFilesystems, standInHostRoot } from "../testing/stand-in-image.ts";
import { createTestNetns, fetchInNetns, type TestNetns } from "../testing/test-netns.ts";

const ROOT = process.cwd();
const DAEMONSET = join(ROOT, "deploy/exporter/daemonset.yaml");
const IMAGE = TEST_IMAGE;
const skip = skipBecause(
  podmanUnavailable() ??
    netnsUnavailable() ??
    ["openssl", "promtool", "nft", "git", "ldd", "tar"]
      .map(commandUnavailable)
      .find((r) => r !== undefined) ??
    (existsSync("/usr/bin/busybox")
      ? undefined
      : "/usr/bin/busybox is not installed (apt-get install busybox)"),
  "the netdoctor image and the DaemonSet's container in podman",
);

let podman: Podman;

let context = "";

beforeAll(() => {
  if (skip) return;
  podman = new Podman("image");
  context = buildNetdoctorImage(podman, ROOT);
}, 600_000);

afterAll(() => podman?.destroy());

/** The command names a `--help` lists under "Commands:". */
function commandsOf(help: string): string[] {
  const section = help.split("\nCommands:\n")[1] ?? "";
  return [...section.matchAll(/^ {2}([a-z][\w-]*)/gm)].map((m) => m[1]!).filter((c) => c !== "help");
}

describe.skipIf(skip)("the image (deploy/exporter/Dockerfile)", () => {
  test("its entry point starts with every command's --help", () => {
    const top = podman.run(["run", "--rm", "--network", "none", IMAGE, "--help"]);
    const commands = commandsOf(top);
    // The same build outside the image lists the same commands; these are the README's.
    const outside = execFileSync(process.execPath, [join(context, "dist/netdoctor.mjs"), "--help"], {
      encoding: "utf8",
    });
    expect(commands).toEqual(commandsOf(outside));
    for (const name of [
      "scan",
      "diagnose",
      "trace",
      "fix",
      "report",
      "collect",
      "exporter",
      "demo",
      "config",
      "completion",
    ]) {
      expect(commands).toContain(name);
    }
    const paths = commands.flatMap((c) => {
      const help = podman.run(["run", "--rm", "--network", "none", IMAGE, c, "--help"]);
      expect(help).toMatch(new RegExp(`^Usage: netdoctor ${c} `));
      return commandsOf(help).map((sub) => [c, sub]);
    });
    expect(paths).toContainEqual(["fix", "duplicates"]);
    for (const path of paths) {
      const help = podman.run(["run", "--rm", "--network", "none", IMAGE, ...path, "--help"]);
      expect(help).toMatch(new RegExp(`^Usage: netdoctor ${path.join(" ")} `));
    }
  });

  test("runs as nobody unless told otherwise, and prints the commit it was built from", () => {
    expect(podman.run(["run", "--rm", "--network", "none", "--entrypoint", "id", IMAGE]).trim()).toMatch(
      /^uid=65534\b.* gid=65534\b/,
    );
    const head = execFileSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim();
    expect(podman.run(["run", "--rm", "--network", "none", IMAGE, "--version"])).toMatch(
      new RegExp(`^\\d+\\.\\d+\\.\\d+ \\(commit ${head}[ ,]`),
    );
  });
});

let lastFetchProblem = "";

/** GETs a URL inside the node's namespace, outside the container; undefined while nothing answers. */
function fetchIn(ns: TestNetns, url: string): { status: number; body: string } | undefined {
  const r = fetchInNetns(ns.name, url);
  if (r.ok) return r;
  lastFetchProblem = r.problem;
  return undefined;
}

describe.skipIf(skip)("the DaemonSet's container on a node with the k3s#3117 leak", () => {
  const pod = daemonSetPodSpec(DAEMONSET);
  const [container] = pod.containers;
  const port = (container as unknown as { ports: { name: string; containerPort: number }[] }).ports[0]!
    .containerPort;
  let ns: TestNetns;
  let fake: FakeKubeApi;
  let api: InClusterApi;
  let id = "";
  let log = "";
  let metrics = "";
  let unmountNodeFilesystems: (() => void) | undefined;

  beforeAll(async () => {
    ns = createTestNetns("image");
    ns.exec(["iptables-nft-restore"], NFT_RULES);
    ns.exec(["iptables-legacy-restore"], LEGACY_RULES);
    ns.exec(["nft", ...NATIVE_NFT_RULE]);
    const host = join(podman.dir, "host-root");
    standInHostRoot(host);
    unmountNodeFilesystems = mountNodeFilesystems(host);
    fake = new FakeKubeApi(API_OBJECTS);
    await fake.start();
    mkdirSync(join(podman.dir, "api"));
    api = await startInClusterApi(fake, { netns: ns.name, dir: join(podman.dir, "api") });
    id = podman.start(
      podmanRunArgs(pod, {
        image: IMAGE,
        netns: ns.name,
        hostPaths: { "/": host },
        fields: { "spec.nodeName": NODE_NAME },
        extraEnv: api.env,
        extraMounts: [api.mount],
      }),
    );
    // The first sample runs at start; wait for it and its API comparison (bounded, not timed).
    for (let attempt = 0; attempt < 150; attempt++) {
      const r = fetchIn(ns, `http://127.0.0.1:${port}/metrics`);
      const values = r === undefined ? undefined : parseMetricsText(r.body);
      metrics = r?.body ?? metrics;
      const node = `{node="${NODE_NAME}"}`;
      if (
        values !== undefined &&
        (values.get(`netdoctor_iptables_last_success_timestamp_seconds${node}`) ?? 0) > 0 &&
        values.has(`netdoctor_service_rules_stale${node}`)
      ) {
        log = podman.logs(id);
        return;
      }
      if (podman.try(["inspect", "-f", "{{.State.Running}}", id]).stdout.trim() === "false") break;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    throw new Error(
      `The exporter container served no sample (${lastFetchProblem}):\n${podman.logs(id)}\n${metrics}`,
    );
  }, 600_000);

  afterAll(async () => {
    if (id !== "") podman.remove(id);
    await api?.close();
    await fake?.close();
    ns?.destroy();
    unmountNodeFilesystems?.();
  });

  test("runs with the manifest's own arguments", () => {
    const config = JSON.parse(podman.run(["inspect", id]))[0] as { Config: { Cmd: string[]; User: string } };
    expect(config.Config.Cmd).toEqual(container!.args);
    expect(config.Config.User).toBe("0:0");
    expect(log).toMatch(
      new RegExp(`netdoctor exporter: node "${NODE_NAME}", serving http://[^/]+:${port}/metrics`),
    );
  });

  test("serves the node's exact values", () => {
    const m = parseMetricsText(metrics);
    // The kernel's own dump agrees with the hand count the expectations are made of.
    const dump = ns.exec(["iptables-nft-save"]);
    for (const table of ["filter", "nat"] as const) {
      const block = dump.split(`*${table}\n`)[1]!.split("COMMIT")[0]!;
      expect(block.split("\n").filter((l) => l.startsWith("-A ")).length).toBe(EXPECTED.rules[table]);
    }
    expect(dump).toContain("# Table `mangle' is incompatible, use 'nft' tool.");
    for (const [table, n] of Object.entries(EXPECTED.rules))
      expect(m.get(`netdoctor_iptables_rules{node="${NODE_NAME}",table="${table}"}`), table).toBe(n);
    for (const [table, n] of Object.entries(EXPECTED.chains))
      expect(m.get(`netdoctor_iptables_chains{node="${NODE_NAME}",table="${table}"}`), table).toBe(n);
    for (const [owner, n] of Object.entries(EXPECTED.duplicates)) {
      expect(m.get(`netdoctor_iptables_duplicate_rules{node="${NODE_NAME}",owner="${owner}"}`), owner).toBe(
        n,
      );
    }
    const [, version, backend] = /^iptables v(\S+) \((\S+)\)/.exec(
      execFileSync("iptables", ["--version"], { encoding: "utf8" }),
    )!;
    expect(
      m.get(`netdoctor_iptables_info{backend="${backend}",node="${NODE_NAME}",version="${version}"}`),
    ).toBe(1);
    expect(m.get(`netdoctor_iptables_mixed_backends{node="${NODE_NAME}"}`)).toBe(EXPECTED.mixedBackends);
    const bugs = [...m]
      .filter(([k, v]) => k.startsWith("netdoctor_iptables_known_bug{") && v === 1)
      .map(([k]) => /id="([^"]+)"/.exec(k)![1]);
    expect(bugs.sort()).toEqual([...knownBugsFor(version!), "mixed-backends", "nft-incompatible"].sort());
    expect(m.get(`netdoctor_service_rules_stale{node="${NODE_NAME}"}`)).toBe(EXPECTED.serviceRulesStale);
    expect(m.get(`netdoctor_service_rules_missing{node="${NODE_NAME}"}`)).toBe(EXPECTED.serviceRulesMissing);
    const errors = [...m].filter(([k]) => k.startsWith("netdoctor_iptables_save_errors_total{"));
    expect(errors.length).toBe(5);
    expect(errors.every(([, v]) => v === 0)).toBe(true);
    expect(m.get(`netdoctor_api_errors_total{node="${NODE_NAME}"}`)).toBe(0);
    expect(m.get(`netdoctor_iptables_sample_ok{node="${NODE_NAME}"}`)).toBe(1);
  });

  test("passes `promtool check metrics`", () => {
    const r = spawnSync("promtool", ["check", "metrics"], { input: metrics, encoding: "utf8" });
    expect(`${r.stdout}${r.stderr}`).toBe("");
    expect(r.status).toBe(0);
  });

  test("answers the liveness probe", () => {
    const probe = (container as unknown as { livenessProbe: { httpGet: { path: string } } }).livenessProbe
      .httpGet;
    expect(fetchIn(ns, `http://127.0.0.1:${port}${probe.path}`)?.status).toBe(200);
  });

  test("cannot write its own root filesystem or the host's", () => {
    for (const path of ["/x", "/host/x", "/host/usr/sbin/x"]) {
      const r = podman.try(["exec", id, "sh", "-c", `echo x > ${path}`]);
      expect(r.code, path).not.toBe(0);
      expect(r.stderr, path).toMatch(/Read-only file system/);
    }
  });

  test("fires the leak's alerts in `promtool test rules` on what was scraped", () => {
    const dir = join(podman.dir, "rules");
    mkdirSync(dir, { recursive: true });
    const rules = rulesWithoutAnnotations(join(ROOT, "deploy/alerts/netdoctor-rules.yaml"));
    writeFileSync(join(dir, "rules.yaml"), rules.text);
    const warning = { severity: "warning", node: NODE_NAME };
    const version = /v(\S+)/.exec(execFileSync("iptables", ["--version"], { encoding: "utf8" }))![1]!;
    const test = scrapeRuleTest(parseMetricsText(metrics), {
      ruleFile: "rules.yaml",
      alerts: rules.alerts,
      job: "netdoctor-exporter",
      instance: `198.18.0.1:${port}`,
      holdFor: "2h",
      expected: {
        NetdoctorIptablesDuplicateRules: [
          { ...warning, owner: "kube-router" },
          { ...warning, owner: "flannel" },
        ],
        NetdoctorIptablesKnownBug: [...knownBugsFor(version), "nft-incompatible"].map((id) => ({
          ...warning,
          id,
        })),
        NetdoctorIptablesMixedBackends: [warning],
        NetdoctorServiceRulesStale: [warning],
        NetdoctorServiceRulesMissing: [warning],
      },
    });
    writeFileSync(join(dir, "scraped.test.yaml"), test);
    expect(
      (parse(test) as { tests: { alert_rule_test: unknown[] }[] }).tests[0]!.alert_rule_test.length,
    ).toBe(rules.alerts.length);
    const r = spawnSync("promtool", ["test", "rules", "scraped.test.yaml"], { cwd: dir, encoding: "utf8" });
    expect(`${r.stdout}${r.stderr}`).toContain("SUCCESS");
    expect(r.status).toBe(0);
  });

  test("stops cleanly on SIGTERM within the grace period", () => {
    const grace = (pod as { terminationGracePeriodSeconds?: number }).terminationGracePeriodSeconds ?? 30;
    podman.run(["stop", "-t", String(grace), id]);
    expect(podman.run(["inspect", "-f", "{{.State.ExitCode}}", id]).trim()).toBe("0");
    expect(podman.logs(id)).toContain("netdoctor exporter: stopping");
  });
});

/**
 * Catalogue entries that duplicates alone raise with a given iptables version (the leak has
 * duplicates): k3s#3117 on 1.8.0-1.8.4 (nf_tables), the `-C` bugs of 1.8.7 and 1.8.10.
 * Debian 12's 1.8.9 has none. (docs/findings.md, /work/shared/reference/iptables-known-bugs.md)
 */
function knownBugsFor(version: string): string[] {
  const [, minor = 0, patch = 0] = version.split(".").map(Number);
  if (minor === 8 && patch <= 4) return ["k3s-3117"];
  if (minor === 8 && patch === 7) return ["iptables-1.8.7-check"];
  if (minor === 8 && patch === 10) return ["iptables-1.8.10-check"];
  return [];
}
