/**
 * What a node's `k3s --version` output says: the version line, and whether that k3s has
 * `--prefer-bundled-bin` (its own iptables instead of the host's; k3s-io/k3s PR #6545, 2022-12).
 */

/** The first k3s release of each minor line that has --prefer-bundled-bin (k3s-io/k3s PR #6545, 2022-12). */
const BUNDLED_BIN_SINCE: Readonly<Record<number, number>> = { 23: 15, 24: 9, 25: 5 };

/** The releases that first have `--prefer-bundled-bin`, as the k3s docs list them. */
export const BUNDLED_BIN_RELEASES = "v1.23.15, v1.24.9, v1.25.5, v1.26.0";

/**
 * Whether a k3s version has `--prefer-bundled-bin`: v1.23.15, v1.24.9, v1.25.5, v1.26.0 and later.
 * Undefined when the text holds no version.
 *
 * @example
 * ```ts
 * hasPreferBundledBin("k3s version v1.23.6+k3s1 (418c3fa8)"); // false
 * ```
 */
export function hasPreferBundledBin(k3sVersion: string): boolean | undefined {
  const m = /v(\d+)\.(\d+)\.(\d+)/.exec(k3sVersion);
  if (m === null) return undefined;
  const [major, minor, patch] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (major !== 1) return major > 1;
  if (minor >= 26) return true;
  const since = BUNDLED_BIN_SINCE[minor];
  return since !== undefined && patch >= since;
}

/** The line of `k3s --version` output that holds the version, trimmed; undefined when none does. */
export function k3sVersionLine(text: string): string | undefined {
  return text
    .split("\n")
    .find((l) => /v\d+\.\d+\.\d+/.test(l))
    ?.trim();
}

/** Whether `k3s --version` output names a k3s release (`k3s version v1.27.3+k3s1 (...)`). */
export function isK3sVersion(text: string): boolean {
  return /\bk3s version v\d+\.\d+\.\d+|\+k3s\d/.test(text);
}
