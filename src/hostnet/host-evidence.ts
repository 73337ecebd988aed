/**
 * Everything one node's bundle directory says about its network path beyond iptables: addresses,
 * links, routes, rules, neighbours, FDB, sysctls, modules, flannel's subnet.env, offloads and
 * conntrack. Each part is optional: a missing file makes the checks that need it undecided.
 */
import { type FdbTable, parseBridgeFdb } from "./bridge-fdb.ts";
import { type ConntrackTable, parseConntrack } from "./conntrack.ts";
import { type EthtoolFeatures, parseEthtoolFeatures } from "./ethtool-features.ts";
import { type IpAddrTable, parseIpAddr } from "./ip-addr.ts";
import { type IpLinkTable, parseIpLink } from "./ip-link.ts";
import { type IpNeighTable, parseIpNeigh } from "./ip-neigh.ts";
import { type IpRouteTable, parseIpRoute } from "./ip-route.ts";
import { type IpRuleTable, parseIpRule } from "./ip-rule.ts";
import type { HostParseWarning } from "./json-array.ts";
import { type LsmodTable, parseLsmod } from "./lsmod.ts";
import { parseSubnetEnv, type SubnetEnv } from "./subnet-env.ts";
import { parseSysctl, type SysctlTable } from "./sysctl.ts";

/** The bundle files of `nodes/NODE/` this module reads, by part. */
export const HOST_FILES = {
  addr: "ip-addr.json",
  link: "ip-link.json",
  route: "ip-route.json",
  rule: "ip-rule.json",
  neigh: "ip-neigh.json",
  fdb: "bridge-fdb.json",
  sysctl: "sysctl.txt",
  lsmod: "lsmod.txt",
  subnetEnv: "flannel-subnet.env",
  ethtool: "ethtool-k-flannel.1.txt",
  conntrack: "conntrack.txt",
} as const;

export type HostPart = keyof typeof HOST_FILES;

/** One node's parsed evidence. */
export interface HostEvidence {
  readonly node: string;
  readonly addr?: IpAddrTable;
  readonly link?: IpLinkTable;
  readonly route?: IpRouteTable;
  readonly rule?: IpRuleTable;
  readonly neigh?: IpNeighTable;
  readonly fdb?: FdbTable;
  readonly sysctl?: SysctlTable;
  readonly lsmod?: LsmodTable;
  readonly subnetEnv?: SubnetEnv;
  readonly ethtool?: EthtoolFeatures;
  readonly conntrack?: ConntrackTable;
  /** Bundle-relative path of each part's file (also for parts that are missing). */
  readonly files: Readonly<Record<HostPart, string>>;
  /** Parts whose file was absent or unreadable: the checks that need them say undecided. */
  readonly missing: readonly HostPart[];
  readonly warnings: readonly HostParseWarning[];
}

/** Input of {@linkcode parseHostEvidence}: file name (as in {@linkcode HOST_FILES}) to text. */
export type HostFiles = Readonly<Partial<Record<string, string>>>;

type Parser<T> = (text: string, options: { file: string }) => T & { warnings: readonly HostParseWarning[] };

const PARSERS: { readonly [K in HostPart]: Parser<NonNullable<HostEvidence[K]>> } = {
  addr: parseIpAddr,
  link: parseIpLink,
  route: parseIpRoute,
  rule: parseIpRule,
  neigh: parseIpNeigh,
  fdb: parseBridgeFdb,
  sysctl: parseSysctl,
  lsmod: parseLsmod,
  subnetEnv: parseSubnetEnv,
  ethtool: parseEthtoolFeatures,
  conntrack: parseConntrack,
};

/**
 * Parses the files of one node directory. A file that does not parse is reported as a warning
 * (line and column) and counted as missing; the other parts still parse.
 *
 * @example
 * ```ts
 * const host = parseHostEvidence({ "ip-route.json": routeText }, { node: "a", dir: "nodes/a" });
 * host.missing; // every part but "route"
 * ```
 */
export function parseHostEvidence(files: HostFiles, options: { node: string; dir: string }): HostEvidence {
  const parts: Partial<Record<HostPart, unknown>> = {};
  const missing: HostPart[] = [];
  const warnings: HostParseWarning[] = [];
  const paths = {} as Record<HostPart, string>;
  for (const part of Object.keys(HOST_FILES) as HostPart[]) {
    const name = HOST_FILES[part];
    const file = `${options.dir}/${name}`;
    paths[part] = file;
    const text = files[name];
    if (text === undefined) {
      missing.push(part);
      continue;
    }
    try {
      const parsed = PARSERS[part](text, { file });
      parts[part] = parsed;
      warnings.push(...parsed.warnings);
    } catch (error) {
      if (!(error instanceof SyntaxError)) throw error;
      const m = /at line (\d+)/.exec(error.message);
      warnings.push({ file, line: m === null ? 1 : Number(m[1]), text: "", reason: error.message });
      missing.push(part);
    }
  }
  return { node: options.node, ...parts, files: paths, missing, warnings } as HostEvidence;
}
