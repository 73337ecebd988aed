import { createHmac, timingSafeEqual } from "node:crypto";

/** One usable line of a known_hosts file. */
interface KnownHost {
  readonly patterns: readonly string[];
  readonly keyType: string;
  readonly key: Buffer;
  readonly revoked: boolean;
  readonly line: number;
}

/** Parses known_hosts text (plain and hashed `|1|salt|hash` host fields; `@revoked` markers; `@cert-authority` lines ignored). */
function parseKnownHosts(text: string): KnownHost[] {
  const out: KnownHost[] = [];
  text.split("\n").forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const fields = line.split(/\s+/);
    let revoked = false;
    if (fields[0]?.startsWith("@")) {
      const marker = fields.shift();
      if (marker === "@cert-authority") return; // CA-signed host certificates are not supported: no match
      revoked = marker === "@revoked";
    }
    const [hosts, keyType, key] = fields;
    if (hosts === undefined || keyType === undefined || key === undefined) return;
    out.push({ patterns: hosts.split(","), keyType, key: Buffer.from(key, "base64"), revoked, line: i + 1 });
  });
  return out;
}

/** The host name form known_hosts uses: `host` on port 22, `[host]:port` otherwise. */
export function knownHostName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function globMatch(pattern: string, name: string): boolean {
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, "\\$&")
      .replace(/\*/g, ".*")
      .replace(/\?/g, ".")}$`,
  );
  return re.test(name);
}

function hostMatches(patterns: readonly string[], name: string): boolean {
  let matched = false;
  for (const p of patterns) {
    if (p.startsWith("|1|")) {
      const [, , salt, hash] = p.split("|");
      if (salt === undefined || hash === undefined) continue;
      const mac = createHmac("sha1", Buffer.from(salt, "base64")).update(name).digest();
      const want = Buffer.from(hash, "base64");
      if (want.length === mac.length && timingSafeEqual(mac, want)) matched = true;
      continue;
    }
    if (p.startsWith("!")) {
      if (globMatch(p.slice(1), name)) return false;
      continue;
    }
    if (globMatch(p, name)) matched = true;
  }
  return matched;
}

/** Result of checking a server's host key. */
export type HostKeyVerdict =
  | { readonly ok: true; readonly line: number }
  | { readonly ok: false; readonly reason: string };

/**
 * Checks a server's host key (the raw SSH wire-format blob) against known_hosts text, as OpenSSH's
 * StrictHostKeyChecking=yes does: the host must be listed with exactly this key and not revoked.
 */
export function verifyHostKey(
  knownHostsText: string,
  host: string,
  port: number,
  key: Buffer,
): HostKeyVerdict {
  const name = knownHostName(host, port);
  const entries = parseKnownHosts(knownHostsText);
  if (entries.some((e) => e.revoked && e.key.equals(key)))
    return { ok: false, reason: `the host key of ${name} is revoked` };
  const forHost = entries.filter((e) => !e.revoked && hostMatches(e.patterns, name));
  const match = forHost.find((e) => e.key.equals(key));
  if (match !== undefined) return { ok: true, line: match.line };
  if (forHost.length > 0) {
    return {
      ok: false,
      reason: `the host key of ${name} does NOT match known_hosts line ${forHost.map((e) => e.line).join(", ")} (possible man-in-the-middle, or the node was reinstalled)`,
    };
  }
  return {
    ok: false,
    reason: `${name} is not in known_hosts (add it after checking its fingerprint: ssh-keyscan -p ${port} ${host} >> ~/.ssh/known_hosts)`,
  };
}
