/**
 * Generates realistic `iptables-save` output of a k3s node: kube-proxy chains for N services with
 * their endpoints (KUBE-SERVICES, KUBE-SVC-*, KUBE-SEP-*, KUBE-EXT-*, KUBE-NODEPORTS, KUBE-MARK-MASQ,
 * KUBE-POSTROUTING, filter REJECTs), flannel and kube-router chains, and optionally the leaked
 * duplicate rules of k3s-io/k3s#3117. Chain names use kube-proxy's real hash, so other checks
 * (hash vs comment) see a consistent dump. Output is streamed in chunks: a million rules never sit
 * in one string.
 */
import { kubeProxyHash } from "../kube-proxy/chain-names.ts";
import { natWriteOrder, roundRobin } from "./write-order.ts";

/** Options of {@linkcode generateDump}. */
export interface GenerateDumpOptions {
  /** Number of Services (one TCP port each). */
  readonly services: number;
  /** Average endpoints per Service (default 3); every 20th Service has none. */
  readonly endpointsPerService?: number;
  /** Extra copies of leaked rules (k3s-io/k3s#3117 pattern), spread over four rules (default 0). */
  readonly duplicates?: number;
  /** Prefix every rule with `[0:0] ` as `iptables-save -c` does (default false). */
  readonly counters?: boolean;
  /** Which iptables wrote the dump (default `nf_tables`). */
  readonly backend?: "legacy" | "nf_tables";
  /** The order of declarations and rules (default `iptables-save`, see {@linkcode DumpLayout}). */
  readonly layout?: DumpLayout;
  /** End lines with CRLF, as a dump copied through Windows does (default false). */
  readonly crlf?: boolean;
}

/**
 * The order in which a generated dump writes its chains and rules; the rules themselves are the same.
 *
 * - `iptables-save`: what `iptables-save` prints: per table the built-in chains, the user chains
 *   sorted by name, then each chain's rules together in that order.
 * - `kube-proxy`: kube-proxy's own write order (its `iptables-restore` input, e.g. the expected
 *   text of kube-proxy's TestEndpointSliceE2E): user chains declared as they were created, and
 *   per Service its KUBE-SERVICES rule, its KUBE-SVC rules with each endpoint's KUBE-SEP rules right
 *   after the SVC rule that jumps there, then its NodePort rules; so chains interleave. The leaked
 *   copies are spread through the other rules (worst case for a scanner that expects runs).
 */
export type DumpLayout = "iptables-save" | "kube-proxy";

/** The counts a parser must find in a generated dump. */
export interface GeneratedCounts {
  readonly rules: number;
  readonly chains: number;
  readonly tables: { readonly filter: TableCount; readonly nat: TableCount };
  /** Sum over duplicate groups of (count - 1). */
  readonly extraRules: number;
}

interface TableCount {
  readonly rules: number;
  readonly chains: number;
}

/** kube-proxy's chain hash, re-exported for the benches that name chains. */
export { kubeProxyHash };

function ipv4(base: number, offset: number): string {
  const n = (base + offset) >>> 0;
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

const SERVICE_BASE = (10 << 24) | (43 << 16);
const POD_BASE = (10 << 24) | (42 << 16);
const CLUSTER_CIDR = "10.42.0.0/16";

/** The leaked rules of k3s-io/k3s#3117 and their share of the duplicates. */
const LEAKED = [
  {
    table: "filter",
    chain: "KUBE-ROUTER-INPUT",
    share: 0.5,
    text: '-A KUBE-ROUTER-INPUT -p tcp -m addrtype --dst-type LOCAL -m comment --comment "allow LOCAL TCP traffic to node ports - LR7XO7NXDBGQJD2M" -m multiport --dports 30000:32767 -j RETURN',
  },
  {
    table: "filter",
    chain: "FLANNEL-FWD",
    share: 0.25,
    text: `-A FLANNEL-FWD -s ${CLUSTER_CIDR} -m comment --comment "flanneld forward" -j ACCEPT`,
  },
  {
    table: "filter",
    chain: "KUBE-FIREWALL",
    share: 0.15,
    text: '-A KUBE-FIREWALL -m comment --comment "kubernetes firewall for dropping marked packets" -m mark --mark 0x8000/0x8000 -j DROP',
  },
  {
    table: "nat",
    chain: "FLANNEL-POSTRTG",
    share: 0.1,
    text: `-A FLANNEL-POSTRTG -s ${CLUSTER_CIDR} -d ${CLUSTER_CIDR} -m comment --comment "flanneld masq" -j RETURN`,
  },
] as const;

export interface Service {
  readonly index: number;
  readonly spn: string;
  readonly clusterIP: string;
  readonly port: number;
  readonly endpoints: readonly string[];
  readonly nodePort: number | undefined;
  readonly svcHash: string;
}

function makeService(index: number, endpointsPerService: number): Service {
  const spn = `ns${index % 97}/svc-${index}:http`;
  // 65534 ClusterIPs per /16: larger synthetic clusters reuse an IP with another port.
  const clusterIP = ipv4(SERVICE_BASE, (index % 65534) + 1);
  const port = 80 + Math.floor(index / 65534);
  const count = index % 20 === 19 ? 0 : 1 + (index % Math.max(1, 2 * endpointsPerService - 1));
  const endpoints: string[] = [];
  for (let e = 0; e < count; e++)
    endpoints.push(`${ipv4(POD_BASE, ((index * 7 + e * 13) % 65534) + 1)}:8080`);
  endpoints.sort();
  return {
    index,
    spn,
    clusterIP,
    port,
    endpoints,
    nodePort: index % 10 === 3 && count > 0 ? 30000 + (index % 2768) : undefined,
    svcHash: kubeProxyHash(`${spn}tcp`),
  };
}

/** 1/n as iptables-save prints it: the kernel keeps round(p * 2^31), printed with 11 decimals. */
function probability(n: number): string {
  return (Math.round(0x80000000 / n) / 0x80000000).toFixed(11);
}

/** One chain with its rules, generated on demand. */
export interface ChainSpec {
  readonly name: string;
  readonly rules: () => string[];
}

function duplicateCounts(duplicates: number): number[] {
  const counts = LEAKED.map((l) => Math.floor(duplicates * l.share));
  counts[0]! += duplicates - counts.reduce((a, b) => a + b, 0);
  return counts;
}

function natChains(
  services: readonly Service[],
  dupCounts: readonly number[],
): {
  builtins: ChainSpec[];
  user: ChainSpec[];
} {
  const builtins: ChainSpec[] = [
    {
      name: "PREROUTING",
      rules: () => ['-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES'],
    },
    { name: "INPUT", rules: () => [] },
    {
      name: "OUTPUT",
      rules: () => ['-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES'],
    },
    {
      name: "POSTROUTING",
      rules: () => [
        '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
        '-A POSTROUTING -m comment --comment "flanneld masq" -j FLANNEL-POSTRTG',
      ],
    },
  ];
  const masqLeak = LEAKED[3];
  const user: ChainSpec[] = [
    {
      name: "FLANNEL-POSTRTG",
      rules: () => {
        const out = [
          `-A FLANNEL-POSTRTG -m mark --mark 0x4000/0x4000 -m comment --comment "flanneld masq" -j RETURN`,
          ...Array.from({ length: 1 + dupCounts[3]! }, () => masqLeak.text),
          `-A FLANNEL-POSTRTG ! -s ${CLUSTER_CIDR} -d 10.42.0.0/24 -m comment --comment "flanneld masq" -j RETURN`,
          `-A FLANNEL-POSTRTG -s ${CLUSTER_CIDR} ! -d 224.0.0.0/4 -m comment --comment "flanneld masq" -j MASQUERADE --random-fully`,
        ];
        return out;
      },
    },
    { name: "KUBE-MARK-DROP", rules: () => ["-A KUBE-MARK-DROP -j MARK --set-xmark 0x8000/0x8000"] },
    { name: "KUBE-MARK-MASQ", rules: () => ["-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000"] },
    {
      name: "KUBE-NODEPORTS",
      rules: () =>
        services
          .filter((s) => s.nodePort !== undefined)
          .map(
            (s) =>
              `-A KUBE-NODEPORTS -p tcp -m comment --comment "${s.spn}" -m tcp --dport ${s.nodePort} -j KUBE-EXT-${s.svcHash}`,
          ),
    },
    {
      name: "KUBE-POSTROUTING",
      rules: () => [
        "-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN",
        "-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0",
        '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully',
      ],
    },
    {
      name: "KUBE-SERVICES",
      rules: () => [
        ...services
          .filter((s) => s.endpoints.length > 0)
          .map(
            (s) =>
              `-A KUBE-SERVICES -d ${s.clusterIP}/32 -p tcp -m comment --comment "${s.spn} cluster IP" -m tcp --dport ${s.port} -j KUBE-SVC-${s.svcHash}`,
          ),
        '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS',
      ],
    },
  ];
  for (const s of services) {
    if (s.endpoints.length === 0) continue;
    const svc = `KUBE-SVC-${s.svcHash}`;
    const seps = s.endpoints.map((ep) => ({ ep, name: `KUBE-SEP-${kubeProxyHash(`${s.spn}tcp${ep}`)}` }));
    user.push({
      name: svc,
      rules: () => [
        `-A ${svc} ! -s ${CLUSTER_CIDR} -d ${s.clusterIP}/32 -p tcp -m comment --comment "${s.spn} cluster IP" -m tcp --dport ${s.port} -j KUBE-MARK-MASQ`,
        ...seps.map((sep, i) =>
          i === seps.length - 1
            ? `-A ${svc} -m comment --comment "${s.spn} -> ${sep.ep}" -j ${sep.name}`
            : `-A ${svc} -m comment --comment "${s.spn} -> ${sep.ep}" -m statistic --mode random --probability ${probability(seps.length - i)} -j ${sep.name}`,
        ),
      ],
    });
    for (const sep of seps) {
      const ip = sep.ep.slice(0, sep.ep.indexOf(":"));
      user.push({
        name: sep.name,
        rules: () => [
          `-A ${sep.name} -s ${ip}/32 -m comment --comment "${s.spn}" -j KUBE-MARK-MASQ`,
          `-A ${sep.name} -p tcp -m comment --comment "${s.spn}" -m tcp -j DNAT --to-destination ${sep.ep}`,
        ],
      });
    }
    if (s.nodePort !== undefined) {
      const ext = `KUBE-EXT-${s.svcHash}`;
      user.push({
        name: ext,
        rules: () => [
          `-A ${ext} -m comment --comment "masquerade traffic for ${s.spn} external destinations" -j KUBE-MARK-MASQ`,
          `-A ${ext} -j ${svc}`,
        ],
      });
    }
  }
  return { builtins, user };
}

function filterChains(
  services: readonly Service[],
  dupCounts: readonly number[],
): {
  builtins: ChainSpec[];
  user: ChainSpec[];
} {
  const copies = (i: number): string[] => Array.from({ length: 1 + dupCounts[i]! }, () => LEAKED[i]!.text);
  const builtins: ChainSpec[] = [
    {
      name: "INPUT",
      rules: () => [
        '-A INPUT -m comment --comment "kube-router netpol - 4IA2OSFRMVNDXBVV" -j KUBE-ROUTER-INPUT',
        '-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
        '-A INPUT -m comment --comment "kubernetes health check service ports" -j KUBE-NODEPORTS',
        '-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES',
        "-A INPUT -j KUBE-FIREWALL",
      ],
    },
    {
      name: "FORWARD",
      rules: () => [
        '-A FORWARD -m comment --comment "kube-router netpol - TEMCG2JMHZYE7H7T" -j KUBE-ROUTER-FORWARD',
        '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
        '-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD',
        '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
        '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES',
        '-A FORWARD -m comment --comment "flanneld forward" -j FLANNEL-FWD',
      ],
    },
    {
      name: "OUTPUT",
      rules: () => [
        '-A OUTPUT -m comment --comment "kube-router netpol - VEAAIY32XVBHCSCY" -j KUBE-ROUTER-OUTPUT',
        '-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
        '-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
        "-A OUTPUT -j KUBE-FIREWALL",
      ],
    },
  ];
  const user: ChainSpec[] = [
    {
      name: "FLANNEL-FWD",
      rules: () => [
        ...copies(1),
        `-A FLANNEL-FWD -d ${CLUSTER_CIDR} -m comment --comment "flanneld forward" -j ACCEPT`,
      ],
    },
    { name: "KUBE-EXTERNAL-SERVICES", rules: () => [] },
    {
      name: "KUBE-FIREWALL",
      rules: () => [
        ...copies(2),
        '-A KUBE-FIREWALL ! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment --comment "block incoming localnet connections" -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP',
      ],
    },
    {
      name: "KUBE-FORWARD",
      rules: () => [
        "-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP",
        '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT',
        '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
      ],
    },
    { name: "KUBE-NODEPORTS", rules: () => [] },
    { name: "KUBE-PROXY-CANARY", rules: () => [] },
    { name: "KUBE-PROXY-FIREWALL", rules: () => [] },
    {
      name: "KUBE-ROUTER-FORWARD",
      rules: () => [
        '-A KUBE-ROUTER-FORWARD -m comment --comment "rule to explicitly ACCEPT traffic that comply to network policies" -m mark --mark 0x20000/0x20000 -j ACCEPT',
      ],
    },
    {
      name: "KUBE-ROUTER-INPUT",
      rules: () => [
        '-A KUBE-ROUTER-INPUT -d 10.43.0.0/16 -m comment --comment "allow traffic to primary/secondary cluster IP range - TZZOAXOCHPHEHX7O" -j RETURN',
        ...copies(0),
        '-A KUBE-ROUTER-INPUT -m comment --comment "rule to explicitly ACCEPT traffic that comply to network policies" -m mark --mark 0x20000/0x20000 -j ACCEPT',
      ],
    },
    {
      name: "KUBE-ROUTER-OUTPUT",
      rules: () => [
        '-A KUBE-ROUTER-OUTPUT -m comment --comment "rule to explicitly ACCEPT traffic that comply to network policies" -m mark --mark 0x20000/0x20000 -j ACCEPT',
      ],
    },
    {
      name: "KUBE-SERVICES",
      rules: () =>
        services
          .filter((s) => s.endpoints.length === 0)
          .map(
            (s) =>
              `-A KUBE-SERVICES -d ${s.clusterIP}/32 -p tcp -m comment --comment "${s.spn} has no endpoints" -m tcp --dport ${s.port} -j REJECT --reject-with icmp-port-unreachable`,
          ),
    },
  ];
  return { builtins, user };
}

/**
 * Options for a dump of exactly `rules` rules of which about `duplicateShare` are leaked copies
 * (k3s-io/k3s#3117); the rest are kube-proxy, flannel and kube-router rules for as many Services
 * as fit.
 *
 * @example
 * ```ts
 * generatedCounts(optionsForRules(100_000, { duplicateShare: 0.2 })).rules; // 100000
 * ```
 */
export function optionsForRules(
  rules: number,
  options: Omit<GenerateDumpOptions, "services" | "duplicates"> & { readonly duplicateShare?: number } = {},
): GenerateDumpOptions {
  const { duplicateShare = 0.2, ...rest } = options;
  const e = rest.endpointsPerService ?? 3;
  const distinct = Math.round(rules * (1 - duplicateShare));
  const base = (services: number): number => generatedCounts({ ...rest, services }).rules;
  // About 2 + 3E nat rules per Service with endpoints, plus NodePort extras; the count is nearly
  // linear in the Services, so two interpolation steps land within a few Services of the target.
  let services = Math.max(1, Math.floor(distinct / (2.2 + 3 * e)));
  for (let k = 0; k < 2; k++) services = Math.max(1, Math.floor((services * distinct) / base(services)));
  while (services > 1 && base(services) > distinct) services = Math.max(1, services - 1 - (services >> 12));
  return { ...rest, services, duplicates: Math.max(0, rules - base(services)) };
}

function compareNames(a: ChainSpec, b: ChainSpec): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/**
 * Streams a generated dump in chunks of about 64 KB, in the order of `options.layout` (default
 * iptables-save order: for each table the built-in chains, user chains sorted by name, then the
 * rules grouped by chain in the same order).
 *
 * @example
 * ```ts
 * const text = [...generateDump({ services: 10, duplicates: 100 })].join("");
 * ```
 */
export function* generateDump(options: GenerateDumpOptions): Generator<string> {
  const e = options.endpointsPerService ?? 3;
  const services = Array.from({ length: options.services }, (_, i) => makeService(i, e));
  const dups = duplicateCounts(options.duplicates ?? 0);
  const prefix = options.counters === true ? "[0:0] " : "";
  const eol = options.crlf === true ? "\r\n" : "\n";
  const program =
    options.backend === "legacy" ? "iptables-save v1.8.9" : "iptables-nft-save v1.8.9 (nf_tables)";
  const date = "Wed Nov 25 08:18:56 2026";
  const kubeProxy = options.layout === "kube-proxy";
  let buf: string[] = [];
  let size = 0;
  const flushAt = 1 << 16;
  for (const [table, chains] of [
    ["filter", filterChains(services, dups)],
    ["nat", natChains(services, dups)],
  ] as const) {
    const user = kubeProxy ? chains.user : [...chains.user].sort(compareNames);
    buf.push(`# Generated by ${program} on ${date}${eol}*${table}${eol}`);
    for (const c of chains.builtins) buf.push(`:${c.name} ACCEPT [0:0]${eol}`);
    for (const c of user) buf.push(`:${c.name} - [0:0]${eol}`);
    const rules = kubeProxy
      ? table === "nat"
        ? natWriteOrder(chains, services)
        : roundRobin(chains)
      : [...chains.builtins, ...user].flatMap((c) => c.rules());
    for (const r of rules) {
      buf.push(prefix, r, eol);
      size += r.length;
      if (size >= flushAt) {
        yield buf.join("");
        buf = [];
        size = 0;
      }
    }
    buf.push(`COMMIT${eol}# Completed on ${date}${eol}`);
  }
  yield buf.join("");
}

/** The counts a correct parser finds in `generateDump(options)`, computed without generating text. */
export function generatedCounts(options: GenerateDumpOptions): GeneratedCounts {
  const e = options.endpointsPerService ?? 3;
  const services = Array.from({ length: options.services }, (_, i) => makeService(i, e));
  const dups = duplicateCounts(options.duplicates ?? 0);
  const count = (c: { builtins: ChainSpec[]; user: ChainSpec[] }): TableCount => ({
    rules: [...c.builtins, ...c.user].reduce((n, ch) => n + ch.rules().length, 0),
    chains: c.builtins.length + c.user.length,
  });
  const filter = count(filterChains(services, dups));
  const nat = count(natChains(services, dups));
  return {
    rules: filter.rules + nat.rules,
    chains: filter.chains + nat.chains,
    tables: { filter, nat },
    extraRules: dups.reduce((a, b) => a + b, 0),
  };
}

/** A generated Service as the API would hold it: its port name is `http`, its endpoints listen on 8080. */
export interface GeneratedService {
  readonly namespace: string;
  readonly name: string;
  readonly clusterIP: string;
  readonly port: number;
  readonly nodePort: number | undefined;
  /** Ready endpoint IPs. */
  readonly endpoints: readonly string[];
}

/**
 * The Services behind `generateDump(options)`, so benches can serve matching API objects (every
 * Service's rules in the dump agree with them).
 */
export function generatedServices(options: GenerateDumpOptions): GeneratedService[] {
  const e = options.endpointsPerService ?? 3;
  return Array.from({ length: options.services }, (_, i) => {
    const s = makeService(i, e);
    const [namespace, rest] = s.spn.split("/") as [string, string];
    return {
      namespace,
      name: rest.split(":")[0]!,
      clusterIP: s.clusterIP,
      port: s.port,
      nodePort: s.nodePort,
      endpoints: s.endpoints.map((ep) => ep.split(":")[0]!),
    };
  });
}
