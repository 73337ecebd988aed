/**
 * The report is pure (no `node:crypto`), yet its Content-Security-Policy names the inline script and
 * style by hash, so the hash is computed at render time with the project's own SHA-256.
 */
import { sha256 } from "../../text/sha256.ts";

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

function base64(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    out += B64[(n >>> 18) & 63]! + B64[(n >>> 12) & 63]!;
    out += i + 1 < bytes.length ? B64[(n >>> 6) & 63]! : "=";
    out += i + 2 < bytes.length ? B64[n & 63]! : "=";
  }
  return out;
}

/**
 * The CSP source expression for an inline element's text, e.g. `'sha256-...'`.
 *
 * @example
 * ```ts
 * cspHash(""); // "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='"
 * ```
 */
export function cspHash(text: string): string {
  return `'sha256-${base64(sha256(text))}'`;
}
