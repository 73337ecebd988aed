/**
 * Parses `ipvsadm -Sn` (the rule format `ipvsadm -R` reads: `-A -t VIP:PORT -s SCHED [-p T]` and
 * `-a -t VIP:PORT -r RIP:PORT -m|-g|-i -w W`) and the `ipvsadm -Ln` listing people paste
 * (`TCP  VIP:PORT rr persistent 10800` / `  -> RIP:PORT  Masq  1  0  0`). Formats from ipvsadm.c
 * `print_service_entry`. Text that is neither, or a listing without `-n` (host and service names),
 * is reported with the command that writes a readable one.
 */
import { terminalSafe } from "../text/terminal-safe.ts";
import type {
  IpvsForward,
  IpvsProtocol,
  IpvsTable,
  IpvsWarning,
  RealServer,
  VirtualService,
} from "./ipvs-model.ts";

export interface ParseIpvsadmOptions {
  /** Bundle-relative file name, for evidence (default `ipvsadm.txt`). */
  readonly file?: string;
}

interface MutableService extends Omit<VirtualService, "realServers"> {
  realServers: RealServer[];
}

const NUMERIC_HOST = /^(\d{1,3}(\.\d{1,3}){3}|\[[0-9a-fA-F:.]+\])$/;

/** `10.0.0.1:443` or `[fd00::1]:443` → address and port; a string when not numeric. */
function hostPort(text: string): { address: string; port: number } | string {
  const i = text.lastIndexOf(":");
  if (i <= 0) return `"${text}" is not ADDRESS:PORT`;
  const host = text.slice(0, i);
  const port = text.slice(i + 1);
  if (!NUMERIC_HOST.test(host) || !/^\d+$/.test(port)) {
    return `"${text}" is not numeric: collect with \`ipvsadm -Sn\` (or -Ln), -n keeps addresses and ports as numbers`;
  }
  return { address: host.startsWith("[") ? host.slice(1, -1) : host, port: Number(port) };
}

const FORWARD_SWITCH: Readonly<Record<string, IpvsForward>> = { "-m": "masq", "-g": "route", "-i": "tunnel" };
const FORWARD_NAME: Readonly<Record<string, IpvsForward>> = {
  Masq: "masq",
  Route: "route",
  Tunnel: "tunnel",
  Local: "local",
};
const PROTO_SWITCH: Readonly<Record<string, IpvsProtocol>> = {
  "-t": "tcp",
  "--tcp-service": "tcp",
  "-u": "udp",
  "--udp-service": "udp",
  "--sctp-service": "sctp",
  "-f": "fwmark",
  "--fwmark-service": "fwmark",
};

/** The service part of an `-A`/`-a` line: protocol switch and address. */
function serviceOf(
  words: readonly string[],
): { protocol: IpvsProtocol; target: string; rest: string[] } | string {
  const sw = words[1];
  const protocol = sw === undefined ? undefined : PROTO_SWITCH[sw];
  const target = words[2];
  if (protocol === undefined || target === undefined)
    return `expected -t, -u, --sctp-service or -f after ${words[0]}`;
  return { protocol, target, rest: words.slice(3) };
}

function newService(
  protocol: IpvsProtocol,
  target: string,
  line: number,
  text: string,
): MutableService | string {
  if (protocol === "fwmark") {
    if (!/^\d+$/.test(target)) return `firewall mark "${target}" is not a number`;
    return { protocol, fwmark: Number(target), scheduler: "", flags: [], line, text, realServers: [] };
  }
  const hp = hostPort(target);
  if (typeof hp === "string") return hp;
  return {
    protocol,
    address: hp.address,
    port: hp.port,
    scheduler: "",
    flags: [],
    line,
    text,
    realServers: [],
  };
}

function parseSaveLine(
  words: readonly string[],
  line: number,
  text: string,
  byKey: Map<string, MutableService>,
  out: MutableService[],
): string | undefined {
  const svc = serviceOf(words);
  if (typeof svc === "string") return svc;
  const key = `${svc.protocol} ${svc.target}`;
  if (words[0] === "-A") {
    const vs = newService(svc.protocol, svc.target, line, text);
    if (typeof vs === "string") return vs;
    for (let i = 0; i < svc.rest.length; i++) {
      const w = svc.rest[i]!;
      const next = svc.rest[i + 1];
      if (w === "-s" && next !== undefined) (vs as { scheduler: string }).scheduler = svc.rest[++i]!;
      else if (w === "-p" && next !== undefined && /^\d+$/.test(next)) {
        (vs as { persistent?: VirtualService["persistent"] }).persistent = { timeout: Number(svc.rest[++i]) };
      } else if (w === "-M" && next !== undefined && vs.persistent !== undefined) {
        (vs as { persistent?: VirtualService["persistent"] }).persistent = {
          ...vs.persistent,
          netmask: svc.rest[++i]!,
        };
      } else (vs.flags as string[]).push(w);
    }
    byKey.set(key, vs);
    out.push(vs);
    return undefined;
  }
  const vs = byKey.get(key);
  if (vs === undefined) return `real server of ${svc.target} before its -A line`;
  let addr: { address: string; port: number } | string = "missing -r";
  let forward: IpvsForward | undefined;
  let weight = 1;
  for (let i = 0; i < svc.rest.length; i++) {
    const w = svc.rest[i]!;
    if (w === "-r" && svc.rest[i + 1] !== undefined) addr = hostPort(svc.rest[++i]!);
    else if (FORWARD_SWITCH[w] !== undefined) forward = FORWARD_SWITCH[w];
    else if (w === "-w" && /^\d+$/.test(svc.rest[i + 1] ?? "")) weight = Number(svc.rest[++i]);
  }
  if (typeof addr === "string") return addr;
  // ipvsadm's default forwarding method is direct routing (-g).
  vs.realServers.push({ ...addr, forward: forward ?? "route", weight, line, text });
  return undefined;
}

const LIST_PROTO: Readonly<Record<string, IpvsProtocol>> = {
  TCP: "tcp",
  UDP: "udp",
  SCTP: "sctp",
  FWM: "fwmark",
};

function parseListLine(
  words: readonly string[],
  line: number,
  text: string,
  out: MutableService[],
): string | undefined {
  if (words[0] === "->") {
    const vs = out.at(-1);
    if (vs === undefined) return "real server before any service";
    const addr = hostPort(words[1] ?? "");
    if (typeof addr === "string") return addr;
    const forward = FORWARD_NAME[words[2] ?? ""];
    const [w, a, n] = words.slice(3, 6).map(Number);
    if (forward === undefined || !Number.isInteger(w))
      return "expected `-> ADDRESS:PORT Forward Weight ActiveConn InActConn`";
    vs.realServers.push({
      ...addr,
      forward,
      weight: w!,
      ...(Number.isInteger(a) ? { activeConn: a! } : {}),
      ...(Number.isInteger(n) ? { inactConn: n! } : {}),
      line,
      text,
    });
    return undefined;
  }
  const protocol = LIST_PROTO[words[0] ?? ""];
  if (protocol === undefined || words[1] === undefined)
    return "expected a service line (TCP/UDP/SCTP/FWM ADDRESS:PORT SCHEDULER)";
  const vs = newService(protocol, words[1], line, text);
  if (typeof vs === "string") return vs;
  (vs as { scheduler: string }).scheduler = words[2] ?? "";
  for (let i = 3; i < words.length; i++) {
    const w = words[i]!;
    if (w === "persistent" && /^\d+$/.test(words[i + 1] ?? "")) {
      (vs as { persistent?: VirtualService["persistent"] }).persistent = { timeout: Number(words[++i]) };
    } else if (w === "mask" && words[i + 1] !== undefined && vs.persistent !== undefined) {
      (vs as { persistent?: VirtualService["persistent"] }).persistent = {
        ...vs.persistent,
        netmask: words[++i]!,
      };
    } else (vs.flags as string[]).push(w);
  }
  out.push(vs);
  return undefined;
}

/**
 * Parses `ipvsadm -Sn` or `ipvsadm -Ln` output. Empty text is a node without virtual services.
 *
 * @throws {SyntaxError} When the text is neither (e.g. `--stats` output), naming the command to run.
 *
 * @example
 * ```ts
 * const t = parseIpvsadm("-A -t 10.43.0.1:443 -s rr\n-a -t 10.43.0.1:443 -r 10.0.0.5:6443 -m -w 1\n");
 * t.services[0]?.realServers[0]?.forward; // "masq"
 * ```
 */
export function parseIpvsadm(text: string, options: ParseIpvsadmOptions = {}): IpvsTable {
  const file = options.file ?? "ipvsadm.txt";
  const lines = text.split("\n");
  const warnings: IpvsWarning[] = [];
  const services: MutableService[] = [];
  const byKey = new Map<string, MutableService>();
  const first = lines.find((l) => l.trim() !== "") ?? "";
  const format: IpvsTable["format"] = /^-[Aa]\s/.test(first) ? "save" : "list";
  if (
    format === "list" &&
    first !== "" &&
    !/^IP Virtual Server version/.test(first) &&
    !/^Prot\s/.test(first)
  ) {
    throw new SyntaxError(
      terminalSafe(
        `Cannot parse ${file} at line 1: expected \`ipvsadm -Sn\` output, got "${first.slice(0, 60)}"`,
      ),
    );
  }
  lines.forEach((raw, i) => {
    const line = i + 1;
    const words = raw.trim().split(/\s+/).filter(Boolean);
    if (words.length === 0) return;
    if (
      format === "list" &&
      (/^IP Virtual Server version/.test(raw) ||
        words[0] === "Prot" ||
        raw.trim().startsWith("-> RemoteAddress"))
    ) {
      if (words[0] === "Prot" && /Conns|CPS|InPkts/.test(raw)) {
        warnings.push({
          line,
          text: raw,
          reason: "statistics listing has no forwarding or weight: collect with `ipvsadm -Sn`",
        });
      }
      return;
    }
    const problem =
      format === "save"
        ? words[0] === "-A" || words[0] === "-a"
          ? parseSaveLine(words, line, raw, byKey, services)
          : "expected an -A or -a line"
        : parseListLine(words, line, raw, services);
    if (problem !== undefined) warnings.push({ line, text: raw, reason: problem });
  });
  return { file, format, services, warnings };
}
