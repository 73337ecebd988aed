import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { FindingCode, Severity } from "../model/finding.ts";
import { FINDINGS, type FindingValues } from "./catalogue.ts";
import { severityText } from "./finding-entry.ts";
import { makeFinding } from "./make-finding.ts";

const DOC = readFileSync(join(process.cwd(), "docs/findings.md"), "utf8");

const BUG = {
  id: "k3s-3117",
  title: "Duplicate rules accumulate",
  severity: "error" as const,
  affected: "iptables 1.8.0-1.8.4",
  fix: "Start k3s with --prefer-bundled-bin",
  references: ["k3s-io/k3s#3117"],
};

/** Sample values per code, each with the severity its documented rule gives (written by hand). */
const SAMPLES: { readonly [C in FindingCode]: readonly (readonly [FindingValues[C], Severity])[] } = {
  "dns-no-service": [
    [
      {
        kind: "no-service",
        host: "x.eopx.svc.cluster.local",
        domain: "cluster.local",
        tried: ["a"],
        suggestions: ["eopx/x-1"],
      },
      "error",
    ],
    [{ kind: "host-network", pod: "eopx/gw", dnsPolicy: "ClusterFirst" }, "error"],
  ],
  "destination-outside": [
    [
      {
        host: "google.com",
        port: 443,
        kind: "name",
        namespace: "eopx",
        domain: "cluster.local",
        ranges: "r",
      },
      "info",
    ],
    [
      {
        host: "eopx-registr",
        port: 8848,
        kind: "name",
        namespace: "eopx",
        domain: "cluster.local",
        ranges: "r",
        suggestion: "eopx/eopx-register",
      },
      "warning",
    ],
    [
      { host: "8.8.8.8", port: 53, kind: "ip", namespace: "eopx", domain: "cluster.local", ranges: "r" },
      "info",
    ],
  ],
  "destination-unassigned": [
    [{ ip: "10.42.2.17", range: "10.42.2.0/24", within: "node-pod-cidr", node: "a1" }, "error"],
  ],
  "service-port-missing": [
    [{ service: "eopx/r", port: 9999, have: ["http 8848/TCP"], ports: [8848] }, "error"],
  ],
  "endpoints-none": [
    [
      {
        context: "question",
        service: "eopx/r",
        svcPortName: "eopx/r:http",
        notReady: ["10.42.0.1:80 (eopx/r-0)"],
      },
      "error",
    ],
    [{ context: "full-check", service: "eopx/r", svcPortName: "eopx/r:http" }, "info"],
    [
      {
        context: "cluster-dns",
        service: "kube-system/kube-dns",
        svcPortName: "kube-system/kube-dns:dns",
        client: "eopx/gw",
      },
      "error",
    ],
  ],
  "endpoint-stale": [
    [
      {
        node: "a1",
        service: "eopx/r",
        where: "eopx/r:http (10.43.0.9:80/tcp)",
        target: "10.42.2.17:80",
        ip: "10.42.2.17",
        ready: "10.42.1.23:80",
      },
      "error",
    ],
    [
      {
        node: "a1",
        service: "eopx/r",
        where: "eopx/r:http (10.43.0.9:80/tcp)",
        via: "from outside (externalTrafficPolicy Local)",
        target: "10.42.2.17:80",
        ip: "10.42.2.17",
        ready: "10.42.1.23:80",
        health: 'kube-proxy on "a1" last synced 7 minutes ago (at collection), 2 restore failures',
      },
      "error",
    ],
  ],
  "endpoint-missing": [
    [{ node: "a1", where: "eopx/r:http", missing: ["10.42.1.23:80"] }, "error"],
    [
      { node: "a1", where: "eopx/r:http", missing: ["10.42.1.23:80"], kind: "endpoints hinted for zone a" },
      "error",
    ],
  ],
  "service-rules-missing": [
    [{ entries: "cluster-ip", node: "a1", where: "eopx/r:http", ready: "10.42.1.23:80" }, "error"],
    [
      {
        entries: "cluster-ip",
        node: "a1",
        where: "eopx/r:http",
        ready: "10.42.1.23:80",
        foreignChain: "KUBE-SVC-X",
      },
      "error",
    ],
    [{ entries: "external", node: "a1", svcPortName: "eopx/r:http", absent: ["NodePort 30080"] }, "warning"],
  ],
  "service-rejected": [
    [
      { node: "a1", where: "eopx/r:http", ready: "10.42.1.23:80", target: "REJECT", alongsideRules: false },
      "error",
    ],
    [
      { node: "a1", where: "eopx/r:http", ready: "10.42.1.23:80", target: "REJECT", alongsideRules: true },
      "warning",
    ],
    [
      { node: "a1", where: "eopx/r:http", ready: "10.42.1.23:80", target: "DROP", alongsideRules: false },
      "error",
    ],
  ],
  "chain-undefined": [
    [{ node: "a1", chain: "KUBE-SVC-X", table: "nat", where: "eopx/r:http" }, "error"],
    [{ node: "a1", chain: "CNI-X", table: "nat" }, "error"],
  ],
  "chain-leftover": [
    [{ node: "a1", count: 2, inUse: 1 }, "warning"],
    [{ node: "a1", count: 2, inUse: 0 }, "info"],
  ],
  "trace-unknown": [[{ node: "a1", share: 50, reason: "module recent" }, "warning"]],
  "node-rules-drop": [
    [
      {
        node: "b1",
        outcome: "dropped",
        by: "filter/FORWARD policy DROP (nodes/b1/iptables-save.txt:3)",
        clientSees: "no answer (it times out)",
      },
      "error",
    ],
  ],
  "path-blocked": [
    [
      {
        node: "a1",
        outcome: "dropped",
        share: 100,
        by: "filter/FORWARD line 3",
        clientSees: "no answer (a timeout)",
      },
      "error",
    ],
  ],
  "rules-duplicated": [
    [
      {
        node: "a1",
        extraRules: 100,
        rules: 400,
        groups: 2,
        owners: "flannel 100",
        managedExtra: 100,
        largest: { count: 51, table: "filter", chain: "F" },
        cause: {
          kind: "known-bug",
          bug: { ...BUG, detail: "iptables 1.8.2 (nf_tables)", cure: "Upgrade iptables" },
        },
      },
      "error",
    ],
    [
      {
        node: "a1",
        extraRules: 99,
        rules: 400,
        groups: 2,
        owners: "flannel 99",
        managedExtra: 99,
        largest: { count: 50, table: "filter", chain: "F" },
        cause: { kind: "unexplained", writers: "flannel", whichIptables: "the host's" },
      },
      "warning",
    ],
    // A static ruleset's copies are a warning however many there are.
    [
      {
        node: "fw",
        extraRules: 500,
        rules: 900,
        groups: 80,
        owners: "other 500",
        managedExtra: 0,
        largest: { count: 5, table: "filter", chain: "INPUT" },
        cause: { kind: "static", noCheck: "iptables 1.4.8 (legacy)" },
      },
      "warning",
    ],
    [
      {
        node: "a1",
        extraRules: 150,
        rules: 400,
        groups: 2,
        owners: "other 100, kube-router 50",
        managedExtra: 50,
        largest: { count: 101, table: "filter", chain: "INPUT" },
        cause: {
          kind: "unexplained",
          version: "iptables 1.8.9 (nf_tables)",
          writers: "kube-router",
          whichIptables: "x",
        },
      },
      "warning",
    ],
  ],
  "rules-outlier": [
    [{ node: "a1", rules: 9000, ratio: "36x", peers: 2, median: 250, tier: "ratio" }, "error"],
    [{ node: "a1", rules: 150000, ratio: "3x", peers: 3, median: 50000, tier: "spread" }, "warning"],
  ],
  "iptables-known-bug": [
    [{ bug: BUG, detail: "iptables 1.8.2 and 1800 leaked rules" }, "error"],
    [{ bug: { ...BUG, severity: "warning" }, detail: "x" }, "warning"],
  ],
  "iptables-mixed-backends": [
    [{ bug: { ...BUG, severity: "warning" }, detail: "42 legacy rules" }, "warning"],
  ],
  "mixed-iptables-backends": [
    [{ bug: { ...BUG, severity: "warning" }, detail: "KUBE-SERVICES in both backends" }, "warning"],
  ],
  "iptables-unreadable": [
    [{ node: "a1", detail: "no iptables-save output was collected" }, "error"],
    [{ bug: BUG, detail: "iptables-save failed" }, "error"],
  ],
  "config-pod-ip": [
    [
      {
        where: "env X of pod eopx/gw",
        value: "10.42.1.23",
        ip: "10.42.1.23",
        owner: { kind: "pod", pod: "eopx/r-0", service: "eopx/r" },
        useInstead: "r",
      },
      "warning",
    ],
    [
      {
        where: "env X of pod eopx/gw",
        value: "10.42.2.17",
        ip: "10.42.2.17",
        owner: { kind: "stale", node: "a1", podCIDR: "10.42.2.0/24" },
      },
      "error",
    ],
  ],
  "overlay-route-missing": [
    [{ node: "a1", peer: "a2", podCidr: "10.42.2.0/24", instead: "it would leave by eth0" }, "error"],
  ],
  "overlay-route-wrong": [
    [
      {
        node: "a1",
        peer: "a2",
        podCidr: "10.42.2.0/24",
        problems: ['no "onlink" flag'],
        expected: "10.42.2.0/24 via 10.42.2.0 dev flannel.1 onlink",
      },
      "error",
    ],
  ],
  "overlay-neighbor-missing": [
    [
      {
        node: "a1",
        peer: "a2",
        overlayIp: "10.42.2.0",
        dev: "flannel.1",
        mac: "ca:49:66:86:6a:44",
        found: "FAILED",
      },
      "error",
    ],
  ],
  "overlay-neighbor-stale": [
    [
      {
        node: "a1",
        peer: "a2",
        overlayIp: "10.42.2.0",
        dev: "flannel.1",
        mac: "ca:49:66:86:6a:44",
        found: "02:00:00:00:00:01",
      },
      "error",
    ],
  ],
  "overlay-fdb-missing": [
    [
      { node: "a1", peer: "a2", mac: "ca:49:66:86:6a:44", dev: "flannel.1", publicIp: "192.168.1.6" },
      "error",
    ],
  ],
  "overlay-fdb-stale": [
    [
      {
        node: "a1",
        peer: "a2",
        mac: "ca:49:66:86:6a:44",
        dev: "flannel.1",
        publicIp: "192.168.1.6",
        kind: "old-mac",
        found: "02:00:00:00:00:01",
      },
      "error",
    ],
    [
      {
        node: "a1",
        peer: "a2",
        mac: "ca:49:66:86:6a:44",
        dev: "flannel.1",
        publicIp: "192.168.1.6",
        kind: "wrong-dst",
        found: "192.168.1.9",
      },
      "error",
    ],
  ],
  "overlay-vtep-mismatch": [
    [
      { node: "a2", dev: "flannel.1", deviceMac: "02:00:00:00:00:01", announced: "ca:49:66:86:6a:44" },
      "error",
    ],
  ],
  "overlay-device-missing": [
    [{ node: "a2", dev: "flannel.1", state: "missing" }, "error"],
    [{ node: "a2", dev: "flannel.1", state: "down" }, "error"],
  ],
  "overlay-wrong-interface": [
    [
      {
        node: "a2",
        dev: "flannel.1",
        local: "192.168.1.6",
        bound: "eth0",
        publicIp: "10.0.0.6",
        holder: "eth1",
      },
      "warning",
    ],
  ],
  "overlay-public-ip-duplicate": [[{ node: "a1", publicIp: "10.0.2.15", nodes: ["a1", "a2"] }, "error"]],
  "overlay-mtu-mismatch": [
    [{ kind: "own", node: "a2", dev: "flannel.1", mtu: 1450, underlay: "eth0", underlayMtu: 1400 }, "error"],
    [
      {
        kind: "peer",
        node: "a1",
        peer: "a2",
        dev: "flannel.1",
        mtu: 1450,
        receiver: "eth0",
        receiverMtu: 1400,
      },
      "error",
    ],
    [{ kind: "cni0", node: "a1", dev: "flannel.1", mtu: 1450, cniMtu: 1500 }, "warning"],
    [{ kind: "subnet-env", node: "a1", dev: "flannel.1", mtu: 1450, envMtu: 1400 }, "warning"],
  ],
  "overlay-checksum-offload": [
    [{ node: "a1", kind: "old-kernel", kernel: "4.19.0-17-amd64" }, "warning"],
    [{ node: "a1", kind: "nat", publicIp: "203.0.113.7" }, "warning"],
  ],
  "ip-forward-disabled": [[{ node: "a1", lines: ["net.ipv4.ip_forward = 0"] }, "error"]],
  "bridge-nf-disabled": [
    [{ node: "a1" }, "warning"],
    [{ node: "a1", value: 0 }, "warning"],
  ],
  "rp-filter-drop": [
    [
      {
        node: "a2",
        what: 'VXLAN packets from node "a1" (192.168.1.5)',
        iif: "eth1",
        reason: "rp_filter=1 (strict) on eth1, but the route back leaves by eth0",
      },
      "error",
    ],
  ],
  "conntrack-stale-endpoint": [
    [
      {
        node: "a1",
        protocol: "udp",
        count: 3,
        target: "10.43.0.10:53",
        service: "kube-system/kube-dns",
        deadIp: "10.42.2.17",
      },
      "error",
    ],
    [{ node: "a1", protocol: "udp", count: 1, target: "10.42.2.17:53", deadIp: "10.42.2.17" }, "warning"],
    [
      {
        node: "a1",
        protocol: "tcp",
        count: 1,
        target: "10.43.0.1:443",
        service: "default/kubernetes",
        deadIp: "10.42.2.17",
      },
      "warning",
    ],
  ],
  "conntrack-truncated": [[{ node: "a1", limit: 20000, omitted: 17 }, "info"]],
  "hostnet-undecided": [
    [{ kind: "no-directory", node: "a1" }, "info"],
    [{ kind: "missing-files", node: "a1", checks: ["MTU"], files: ["nodes/a1/ip-link.json"] }, "info"],
    [{ kind: "kernel-unknown", node: "a1" }, "info"],
    [
      { kind: "annotation", node: "a1", problem: "flannel.alpha.coreos.com/backend-data is not JSON: x" },
      "info",
    ],
  ],
  "bundle-invalid": [
    [{ problem: "Cannot parse cluster/pods.json at line 3, column 1: unexpected end" }, "warning"],
  ],
  "netpol-denied": [
    [
      {
        connection: "y/b → x/web:8080/TCP",
        direction: "ingress",
        pod: "x/web",
        policies: ["x/default-deny-ingress"],
        node: "n1",
        at: "nodes/n1/iptables-save.txt:40",
      },
      "error",
    ],
    [
      {
        connection: "y/b → x/web:8080/TCP",
        direction: "ingress",
        pod: "x/web",
        policies: [],
        node: "n1",
        at: "nodes/n1/iptables-save.txt:40",
        apiUndecided: "cluster/networkpolicies.json was not collected",
      },
      "error",
    ],
  ],
  "netpol-node-disagrees": [
    [
      { connection: "x/a → x/web:8080/TCP", node: "n1", api: "allows", policies: ["x/allow"], at: "f:3" },
      "error",
    ],
    [
      {
        connection: "x/a → x/web:8080/TCP",
        node: "n1",
        api: "denies",
        policies: ["x/deny"],
        nodeAllowedBy: ["x/old"],
      },
      "error",
    ],
  ],
  "netpol-not-enforced": [
    [{ connection: "x/a → x/web:8080/TCP", node: "n1", policies: ["x/deny"], denies: true }, "warning"],
  ],
  "netpol-dns-denied": [[{ pod: "shop/app", policies: ["shop/default-deny-egress"] }, "error"]],
  "netpol-allowed": [
    [
      {
        connection: "x/a → x/web:8080/TCP",
        policies: ["x/allow-a"],
        nodeRules: ["n1 nodes/n1/iptables-save.txt:40"],
      },
      "info",
    ],
  ],
  "ipvs-virtual-server-missing": [
    [
      {
        node: "n1",
        svcPortName: "shop/api",
        key: "tcp 10.43.20.5:8443",
        kind: "cluster-ip",
        file: "nodes/n1/ipvsadm.txt",
      },
      "error",
    ],
  ],
  "ipvs-virtual-server-stale": [[{ node: "n1", key: "tcp 10.43.99.9:80" }, "warning"]],
  "ipvs-real-server-missing": [
    [
      {
        node: "n1",
        svcPortName: "shop/web",
        key: "tcp 10.43.12.7:80",
        realServer: "10.42.0.7:8080",
        weightZero: false,
      },
      "error",
    ],
  ],
  "ipvs-real-server-stale": [
    [
      {
        node: "n1",
        svcPortName: "shop/web",
        key: "tcp 10.43.12.7:80",
        realServer: "10.42.2.44:8080",
        weight: 1,
        endpoint: "none",
      },
      "error",
    ],
    [
      {
        node: "n1",
        svcPortName: "shop/web",
        key: "tcp 10.43.12.7:80",
        realServer: "10.42.3.21:8080",
        weight: 0,
        endpoint: "none",
      },
      "warning",
    ],
  ],
  "ipvs-real-server-draining": [
    [
      {
        node: "n1",
        svcPortName: "shop/web",
        key: "tcp 10.43.12.7:80",
        realServer: "10.42.0.8:8080",
        why: "terminating",
      },
      "info",
    ],
  ],
  "ipvs-ipset-entry-missing": [
    [
      {
        node: "n1",
        set: "KUBE-CLUSTER-IP",
        what: "ClusterIP:port",
        entry: "10.43.20.5,tcp:8443",
        svcPortName: "shop/api",
        file: "f",
      },
      "error",
    ],
    [
      { node: "n1", set: "KUBE-NODE-PORT-TCP", what: "node port", count: 2, file: "nodes/n1/ipset-save.txt" },
      "error",
    ],
  ],
  "ipvs-ipset-entry-stale": [
    [{ node: "n1", set: "KUBE-NODE-PORT-TCP", what: "node port", entry: "31999" }, "warning"],
  ],
  "nft-numgen-mismatch": [
    [
      { node: "n1", where: "ns2/svc2:p80 (172.30.0.42:80/tcp)", mod: 3, entries: 2, ready: 2, kind: "holes" },
      "error",
    ],
    [
      {
        node: "n1",
        where: "ns2/svc2:p80 (172.30.0.42:80/tcp)",
        mod: 1,
        entries: 1,
        ready: 2,
        kind: "uneven",
      },
      "error",
    ],
  ],
  "nft-service-stale": [
    [{ node: "n1", service: "ns1/svc1", elements: ["service-ips 172.30.0.41 . tcp . 80"] }, "warning"],
  ],
  "nft-table-missing": [[{ node: "n1", modeSource: "kube-proxy-mode.txt says nftables" }, "error"]],
  "host-firewall-drop": [
    [
      {
        node: "n1",
        table: "inet firewalld",
        chain: "filter_FORWARD",
        where: "nodes/n1/nft-ruleset.txt:40 handle 12",
        kind: "firewalld",
        outcome: "rejects",
        share: 100,
        clientSees: 'gets EHOSTUNREACH ("No route to host")',
        podCidr: "10.42.0.0/16",
        serviceCidr: "10.43.0.0/16",
      },
      "error",
    ],
    [
      {
        node: "n1",
        table: "ip filter (iptables)",
        chain: "ufw-user-forward",
        where: "nodes/n1/iptables-save.txt:88",
        kind: "ufw",
        outcome: "drops",
        share: 50,
        clientSees: "times out",
      },
      "error",
    ],
  ],
};

const codes = Object.keys(FINDINGS) as FindingCode[];

describe("FINDINGS", () => {
  it("has one entry per code, each naming its own code", () => {
    for (const code of codes) expect(FINDINGS[code].code, code).toBe(code);
  });

  it("gives each sample the severity its documented rule says", () => {
    for (const code of codes) {
      for (const [values, severity] of SAMPLES[code] as readonly (readonly [never, Severity])[]) {
        expect(
          makeFinding(code, values, { evidence: [] }).severity,
          `${code} ${JSON.stringify(values)}`,
        ).toBe(severity);
      }
    }
  });

  it("fills every template with the evidence's values and cites only public references", () => {
    const publicRef =
      /^(https:\/\/\S+|[\w.-]+\/[\w.-]+#\d+|[\w.-]+\/[\w.-]+ PR #\d+|kubernetes\/kubernetes pkg\/[\w/.-]+|[\w-]+\/[\w-]+)$/;
    for (const code of codes) {
      for (const [values] of SAMPLES[code] as readonly (readonly [never, Severity])[]) {
        const f = makeFinding(code, values, { evidence: [] });
        for (const text of [f.message, f.fix ?? ""]) {
          expect(text, code).not.toMatch(/undefined|\[object |NaN|KB-\d/);
        }
        expect(f.message.length, code).toBeGreaterThan(20);
        for (const ref of f.references ?? []) expect(ref, code).toMatch(publicRef);
      }
    }
  });
});

describe("docs/findings.md", () => {
  const documented = [...DOC.matchAll(/^### `([a-z-]+)` \((.+)\)$/gm)].map((m) => ({
    code: m[1]!,
    severity: m[2]!,
  }));

  it("documents every code with its severity and an anchor #code", () => {
    for (const code of codes) {
      const doc = documented.find((d) => d.code === code);
      expect(doc, code).toBeDefined();
      expect(doc!.severity, code).toBe(severityText(FINDINGS[code]));
      expect(DOC, code).toContain(`<a id="${code}"></a>\n### \`${code}\``);
    }
  });

  it("documents no code the catalogue does not have", () => {
    for (const d of documented) expect(codes, d.code).toContain(d.code);
  });

  it("lists the exit codes of src/cli/exit-codes.ts", () => {
    for (const n of [0, 1, 2, 3, 130]) expect(DOC).toMatch(new RegExp(`^\\| ${n} \\| `, "m"));
  });
});
describe("finding construction", () => {
  it("happens only through the catalogue outside test fixtures", () => {
    // A Finding literal has `code: "…"` next to `severity:`; call sites pass values to makeFinding().
    const allowed = new Set([
      "src/known-bugs/known-bugs-catalogue.ts", // catalogue data: each bug's code and severity
      "src/known-bugs/leak-bugs.ts", // catalogue data: the leak bugs' code and severity
      "src/testing/sample-report-input.ts", // test fixture for the HTML report
      "src/testing/sample-large-report-input.ts", // test fixture for the HTML report
    ]);
    const offenders: string[] = [];
    const walk = (dir: string): void => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) {
          // The catalogue itself writes each code's severity.
          if (path !== join("src", "findings")) walk(path);
        } else if (name.endsWith(".ts") && !name.endsWith(".test.ts") && !allowed.has(path)) {
          const text = readFileSync(path, "utf8");
          if (/code: "[a-z-]+",\s*\n\s*severity: "/.test(text)) offenders.push(path);
        }
      }
    };
    walk("src");
    expect(offenders).toEqual([]);
  });
});
