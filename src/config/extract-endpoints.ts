import type { ConfigEndpoint, OriginPart, ResolvedProperty } from "./config-types.ts";
import { DEFAULT_PORTS, HOST_PORT_DEFAULTS, LIST_KEYS, SELF_PREFIXES } from "./endpoint-keys.ts";
import { uniformKey } from "./property-names.ts";

const URL_START = /,(?=\s*[A-Za-z][A-Za-z0-9+.-]*(?::[A-Za-z][A-Za-z0-9+.-]*)*:\/\/)/g;
const URL = /([A-Za-z][A-Za-z0-9+.-]*(?::[A-Za-z][A-Za-z0-9+.-]*)*):\/\/([^/?#;\s]*)/g;
const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?)$/;
const BARE_LIST = /^\s*[A-Za-z0-9_.-]+:\d{1,5}(?:\s*,\s*[A-Za-z0-9_.-]+:\d{1,5})*\s*$/;

function schemeDefault(scheme: string): number | undefined {
  const parts = scheme.toLowerCase().split(":");
  for (let i = parts.length - 1; i >= 0; i--) {
    const p = parts[i]!.replace(/\+srv$/, "");
    if (p in DEFAULT_PORTS) return DEFAULT_PORTS[p];
  }
  return undefined;
}

/** Origin parts overlapping `[start, end)` of the value, clipped; separators written in the file dropped. */
function clipOrigin(parts: readonly OriginPart[], start: number, end: number): OriginPart[] {
  const out: OriginPart[] = [];
  let pos = 0;
  for (const p of parts) {
    const s = pos;
    const e = pos + p.part.length;
    pos = e;
    if (e <= start || s >= end) continue;
    out.push({ ...p, part: p.part.slice(Math.max(0, start - s), Math.min(p.part.length, end - s)) });
  }
  // Separators written around a placeholder (`:` of `${HOST}:${PORT}`) say nothing about the origin.
  const meaningful = out
    .filter((p) => p.from !== "file" || /[A-Za-z0-9]/.test(p.part))
    .map((p) => (p.from === "file" ? { ...p, part: p.part.replace(/^[\s:,;@/]+|[\s,;/]+$/g, "") } : p));
  return meaningful.length > 0 ? meaningful : out;
}

/** Hides the password of `user:password@host` in a URL. */
export function maskUserInfo(text: string): string {
  return text.replace(/(\/\/[^/@:\s]*:)[^/@\s]*@/g, "$1****@");
}

interface HostPort {
  host: string;
  port?: number;
  /** Offsets of `host[:port]` in the value. */
  start: number;
  end: number;
}

/** Parses `host`, `host:port` or `[v6]:port` at `offset`; `undefined` when it is not an address. */
function parseHostPort(text: string, offset: number): HostPort | undefined {
  const lead = text.length - text.trimStart().length;
  const t = text.trim();
  if (t === "") return undefined;
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d{1,5}))?$/.exec(t);
  if (!m || !HOST.test(m[1]!)) return undefined;
  const port = m[2] === undefined ? undefined : Number(m[2]);
  if (port !== undefined && (port < 1 || port > 65535)) return undefined;
  const host = m[1]!.startsWith("[") ? m[1]!.slice(1, -1) : m[1]!;
  return {
    host,
    ...(port === undefined ? {} : { port }),
    start: offset + lead,
    end: offset + lead + t.length,
  };
}

function endpointOf(
  prop: ResolvedProperty,
  hp: HostPort,
  extra: { scheme?: string; defaultPort?: number; valueRange?: [number, number] },
): ConfigEndpoint {
  const [vs, ve] = extra.valueRange ?? [hp.start, hp.end];
  const port = hp.port ?? extra.defaultPort;
  return {
    property: prop.key,
    value: maskUserInfo(prop.value.slice(vs, ve)),
    host: hp.host,
    ...(port === undefined ? {} : { port }),
    ...(hp.port === undefined && port !== undefined ? { defaultPort: true } : {}),
    ...(extra.scheme === undefined ? {} : { scheme: extra.scheme }),
    origin: clipOrigin(prop.origin, hp.start, hp.end).map((p) => ({ ...p, part: maskUserInfo(p.part) })),
  };
}

function fromUrls(prop: ResolvedProperty): ConfigEndpoint[] {
  const out: ConfigEndpoint[] = [];
  const v = prop.value;
  const chunks: [number, number][] = [];
  let last = 0;
  for (const m of v.matchAll(URL_START)) {
    chunks.push([last, m.index]);
    last = m.index + 1;
  }
  chunks.push([last, v.length]);
  for (const [cs, ce] of chunks) {
    const chunk = v.slice(cs, ce);
    URL.lastIndex = 0;
    const m = URL.exec(chunk);
    if (!m) continue;
    const scheme = m[1]!;
    const authStart = cs + m.index + scheme.length + 3;
    const auth = m[2]!;
    const at = auth.lastIndexOf("@");
    let hostsStart = authStart + at + 1;
    const hosts = auth.slice(at + 1);
    const def = schemeDefault(scheme);
    const srv = /\+srv$/i.test(scheme);
    const lead = chunk.length - chunk.trimStart().length;
    for (const h of hosts.split(",")) {
      const hp = parseHostPort(h, hostsStart);
      hostsStart += h.length + 1;
      if (!hp) continue;
      const range: [number, number] = [cs + lead, cs + chunk.trimEnd().length];
      out.push(
        endpointOf(prop, hp, {
          scheme,
          ...(srv || def === undefined ? {} : { defaultPort: def }),
          valueRange: range,
        }),
      );
    }
  }
  return out;
}

/** jdbc:oracle:thin:@host:port:SID and jdbc:oracle:thin:@//host:port/service. */
function fromOracle(prop: ResolvedProperty): ConfigEndpoint[] {
  const m = /jdbc:oracle:[a-z]+:@(?:\/\/)?([^:/\s]+)(?::(\d{1,5}))?/i.exec(prop.value);
  if (!m) return [];
  const hostStart = m.index + m[0].indexOf(m[1]!, m[0].indexOf("@"));
  const hp = parseHostPort(m[1]! + (m[2] === undefined ? "" : `:${m[2]}`), hostStart);
  return hp
    ? [
        endpointOf(prop, hp, {
          scheme: "jdbc:oracle",
          defaultPort: 1521,
          valueRange: [m.index, prop.value.trimEnd().length],
        }),
      ]
    : [];
}

function fromList(prop: ResolvedProperty, defaultPort: number | undefined, bad?: string[]): ConfigEndpoint[] {
  const out: ConfigEndpoint[] = [];
  let offset = 0;
  for (const piece of prop.value.split(/[,;]/)) {
    const start = offset;
    offset += piece.length + 1;
    const m = /^(\s*)([A-Za-z][A-Za-z0-9+.-]*:\/\/)?([^/?#]*)/.exec(piece)!;
    const scheme = m[2]?.slice(0, -3);
    const hp = parseHostPort(m[3]!, start + m[1]!.length + (m[2]?.length ?? 0));
    if (!hp) {
      // Unresolved placeholders are reported on their own; anything else is a broken address.
      if (piece.trim() !== "" && !piece.includes("${")) bad?.push(piece.trim());
      continue;
    }
    const def =
      hp.port === undefined && scheme !== undefined ? (schemeDefault(scheme) ?? defaultPort) : defaultPort;
    const range: [number, number] = [start + m[1]!.length, start + piece.trimEnd().length];
    out.push(
      endpointOf(prop, hp, {
        ...(scheme === undefined ? {} : { scheme }),
        ...(def === undefined ? {} : { defaultPort: def }),
        valueRange: range,
      }),
    );
  }
  return out;
}

function isSelf(key: string): boolean {
  return SELF_PREFIXES.some((p) => key === uniformKey(p) || key.startsWith(`${uniformKey(p)}.`));
}

function fromHostPort(props: readonly ResolvedProperty[]): ConfigEndpoint[] {
  const byKey = new Map(props.map((p) => [uniformKey(p.key), p]));
  const out: ConfigEndpoint[] = [];
  for (const [u, prop] of byKey) {
    const m = /^(.*)\.host$/.exec(u);
    if (!m || isSelf(u)) continue;
    const prefix = m[1]!;
    const portProp = byKey.get(`${prefix}.port`);
    const known = Object.entries(HOST_PORT_DEFAULTS).find(([k]) => uniformKey(k) === prefix)?.[1];
    if (!portProp && known === undefined) continue;
    const hp = parseHostPort(prop.value, 0);
    if (!hp || hp.port !== undefined) continue;
    const portText = portProp?.value.trim();
    const port = portText !== undefined && /^\d{1,5}$/.test(portText) ? Number(portText) : undefined;
    const origin = [
      ...clipOrigin(prop.origin, hp.start, hp.end),
      ...(portProp ? clipOrigin(portProp.origin, 0, portProp.value.length) : []),
    ];
    const p = port ?? known;
    out.push({
      property: prop.key,
      value: p === undefined ? hp.host : `${hp.host.includes(":") ? `[${hp.host}]` : hp.host}:${p}`,
      host: hp.host,
      ...(p === undefined ? {} : { port: p }),
      ...(port === undefined && known !== undefined ? { defaultPort: true } : {}),
      ...(portProp && port !== undefined ? { portProperty: portProp.key } : {}),
      origin,
    });
  }
  return out;
}

/**
 * Finds the network endpoints among resolved properties: URLs (`jdbc:mysql://`, `http(s)://`,
 * `redis://`, `mongodb://` with several hosts...), comma-separated server lists of well-known keys
 * (Nacos `server-addr`, Kafka `bootstrap-servers`...), `PREFIX.host`/`PREFIX.port` pairs, and any
 * value that is a `host:port` list. A port the value does not give is the scheme's or client's
 * default, marked `defaultPort: true`. A server-list entry that is not an address goes to `onMalformed`.
 */
export function extractEndpoints(
  props: readonly ResolvedProperty[],
  options: { onMalformed?: (property: string, text: string) => void } = {},
): ConfigEndpoint[] {
  const out: ConfigEndpoint[] = [];
  for (const prop of props) {
    const u = uniformKey(prop.key).replace(/\[\d+\]$/, "");
    if (isSelf(u)) continue;
    const list = LIST_KEYS.find(([re]) => re.test(u));
    if (list) {
      const bad: string[] = [];
      out.push(...fromList(prop, list[1], bad));
      for (const b of bad) options.onMalformed?.(prop.key, b);
    } else if (prop.value.includes("://")) out.push(...fromUrls(prop));
    else if (/jdbc:oracle:/i.test(prop.value)) out.push(...fromOracle(prop));
    else if (BARE_LIST.test(prop.value) && /[A-Za-z]|\d+\.\d+\.\d+\.\d+/.test(prop.value))
      out.push(...fromList(prop, undefined));
  }
  out.push(...fromHostPort(props));
  const seen = new Set<string>();
  return out.filter((e) => {
    const k = `${e.property}\u0000${e.host}\u0000${e.port ?? ""}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
