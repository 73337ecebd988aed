/**
 * Generates realistic `iptables-save` output of a k3s node: kube-proxy chains for N services with
 * their endpoints (KUBE-SERVICES, KUBE-SVC-*, KUBE-SEP-*, KUBE-EXT-*, KUBE-NODEPORTS, KUBE-MARK-MASQ,
 * KUBE-POSTROUTING, filter REJECTs), flannel and kube-router chains, and optionally the leaked
 * duplicate rules of k3s-io/k3s#3117. Chain names use kube-proxy's real hash, so other checks
 * (hash vs comment) see a consistent dump. Output is streamed in chunks: a million rules never sit
 * in one string.
 */
import { kubeProxyHash } from "../kube-proxy/chain-names.ts";
import { type ChainSpec, duplicateCounts, makeService, type TableChains } from "./dump-model.ts";
import { filterChains } from "./filter-chains.ts";
import { natChains } from "./nat-chains.ts";
import { natWriteOrder, roundRobin } from "./write-order.ts";

export type { ChainSpec, Service } from "./dump-model.ts";

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
  const count = (c: TableChains): TableCount => ({
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
