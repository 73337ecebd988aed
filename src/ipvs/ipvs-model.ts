/**
 * The IPVS table of a node as `ipvsadm -Sn` (or `ipvsadm -Ln`) prints it: virtual services with
 * their scheduler and persistence, each with its real servers (forwarding method, weight, and from
 * `-Ln` the connection counts). Every service and server keeps its line for evidence.
 */

/** Virtual service protocols ipvsadm writes (`-t`, `-u`, `--sctp-service`, `-f` for a firewall mark). */
export type IpvsProtocol = "tcp" | "udp" | "sctp" | "fwmark";

/** ipvsadm's forwarding methods: `-m` Masq (NAT), `-g` Route (direct), `-i` Tunnel, and Local. */
export type IpvsForward = "masq" | "route" | "tunnel" | "local";

export interface RealServer {
  readonly address: string;
  readonly port: number;
  readonly forward: IpvsForward;
  readonly weight: number;
  /** Only `ipvsadm -Ln` shows connection counts. */
  readonly activeConn?: number;
  readonly inactConn?: number;
  /** 1-indexed line. */
  readonly line: number;
  readonly text: string;
}

export interface VirtualService {
  readonly protocol: IpvsProtocol;
  /** Absent for firewall-mark services. */
  readonly address?: string;
  readonly port?: number;
  readonly fwmark?: number;
  readonly scheduler: string;
  /** `-p TIMEOUT` / `persistent TIMEOUT` (kube-proxy: sessionAffinity ClientIP). */
  readonly persistent?: { readonly timeout: number; readonly netmask?: string };
  /** Other flags as written (`--ops`, `pe sip`, scheduler flags...). */
  readonly flags: readonly string[];
  readonly line: number;
  readonly text: string;
  readonly realServers: RealServer[];
}

export interface IpvsWarning {
  readonly line: number;
  readonly text: string;
  readonly reason: string;
}

export interface IpvsTable {
  /** Bundle-relative file the text came from. */
  readonly file: string;
  /** `save`: `ipvsadm -Sn` rules; `list`: the `ipvsadm -Ln` listing. */
  readonly format: "save" | "list";
  readonly services: readonly VirtualService[];
  readonly warnings: readonly IpvsWarning[];
}

/** `tcp 10.43.0.1:443`, `udp [fd00::a]:53` or `fwmark 100`: one key per virtual service. */
export function virtualServiceKey(
  protocol: IpvsProtocol,
  address: string | undefined,
  port: number | undefined,
): string {
  if (protocol === "fwmark") return `fwmark ${port ?? address ?? ""}`;
  const host = address?.includes(":") ? `[${address}]` : address;
  return `${protocol} ${host}:${port}`;
}

/** The key of a parsed service. */
export function keyOf(vs: VirtualService): string {
  return vs.protocol === "fwmark"
    ? `fwmark ${vs.fwmark}`
    : virtualServiceKey(vs.protocol, vs.address, vs.port);
}
