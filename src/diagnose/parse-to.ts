/**
 * `--to HOST:PORT`: what the client connects to. URLs and IPv6 literals are refused with one line
 * that says what to type instead (netdoctor reads IPv4 rules only, and a scheme or path is not part
 * of what the client's socket sees).
 */
import { isIpv6Literal } from "../net/cidr.ts";
import { QuestionError } from "./question-error.ts";

export interface ParsedTo {
  readonly host: string;
  /** A number, or a Service port name. */
  readonly port: number | string;
}

const SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i;
const DEFAULT_PORTS: Readonly<Record<string, number>> = { http: 80, https: 443, grpc: 443, ws: 80, wss: 443 };

function refuseUrl(to: string, scheme: string): never {
  const rest = to.slice(scheme.length + 3);
  const hostPort = rest.split(/[/?#]/, 1)[0]!.replace(/^[^@]*@/, "");
  const suggestion = /:[^:\]]+$/.test(hostPort)
    ? hostPort
    : `${hostPort}:${DEFAULT_PORTS[scheme.toLowerCase()] ?? "PORT"}`;
  throw new QuestionError(
    `Cannot use --to "${to}": give HOST:PORT without a scheme or path, e.g. --to ${suggestion}`,
  );
}

function refuseIpv6(to: string): never {
  throw new QuestionError(
    `Cannot use --to "${to}": IPv6 destinations are not supported yet (netdoctor reads IPv4 iptables rules); give the Service's name or an IPv4 address, e.g. --to my-svc:8080`,
  );
}

/**
 * Splits `HOST:PORT`.
 *
 * @throws {QuestionError} For a missing or bad port, a URL (`http://host:port`) or an IPv6 literal.
 *
 * @example
 * ```ts
 * parseTo("eopx-register:8848"); // { host: "eopx-register", port: 8848 }
 * parseTo("eopx-register.eopx.svc.cluster.local.:http"); // { host: "eopx-register.eopx.svc.cluster.local", port: "http" }
 * ```
 */
export function parseTo(to: string): ParsedTo {
  const scheme = SCHEME.exec(to);
  if (scheme !== null) refuseUrl(to, scheme[1]!);
  if (to.startsWith("[") || isIpv6Literal(to) || isIpv6Literal(to.slice(0, to.lastIndexOf(":"))))
    refuseIpv6(to);
  if (/[/?#]/.test(to))
    throw new QuestionError(
      `Cannot use --to "${to}": give HOST:PORT without a path, e.g. --to ${to.split(/[/?#]/, 1)[0]}`,
    );
  const i = to.lastIndexOf(":");
  if (i <= 0 || i === to.length - 1)
    throw new QuestionError(`Cannot use --to "${to}": expected HOST:PORT, e.g. my-svc:8080`);
  const host = to.slice(0, i).replace(/\.$/, "");
  const p = to.slice(i + 1);
  if (/^\d+$/.test(p)) {
    const n = Number(p);
    if (n < 1 || n > 65535) throw new QuestionError(`Cannot use --to "${to}": port ${p} is not in 1-65535`);
    return { host, port: n };
  }
  return { host, port: p };
}
