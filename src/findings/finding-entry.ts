/**
 * The shape of one findings-catalogue entry: everything a finding says is written here, once per
 * code; call sites supply only the code, the evidence's values and the evidence itself.
 */
import type { FindingCode, Severity } from "../model/finding.ts";

/** A severity that depends on the variant, with the rule written out for docs/findings.md. */
export interface SeverityRule<V> {
  /** The rule in words, as docs/findings.md states it in the code's heading. */
  readonly rule: string;
  readonly of: (values: V) => Severity;
}

export interface FindingEntry<V> {
  readonly code: FindingCode;
  /** One severity for the code, or the rule that picks it per variant. */
  readonly severity: Severity | SeverityRule<V>;
  /** A short name for the problem (docs and report headings). */
  readonly title: string;
  /** What the finding means and why it matters (docs and `--explain`-style output). */
  readonly explanation: string;
  /** The one-sentence message with the evidence's values. */
  readonly message: (values: V) => string;
  /** What to do, with the evidence's values. */
  readonly fix: (values: V) => string;
  /** Public references (issue links, upstream docs), never internal documents. */
  readonly references: readonly string[] | ((values: V) => readonly string[]);
}

/** The severity of a finding with these values. */
export function severityOf<V>(entry: FindingEntry<V>, values: V): Severity {
  return typeof entry.severity === "string" ? entry.severity : entry.severity.of(values);
}

/** How docs/findings.md states the severity: `error`, or the rule. */
export function severityText(entry: { readonly severity: Severity | { readonly rule: string } }): string {
  return typeof entry.severity === "string" ? entry.severity : entry.severity.rule;
}

/** The documentation anchor of a code. */
export function docAnchor(code: FindingCode): string {
  return `docs/findings.md#${code}`;
}

/** `1 rule`, `2 rules`. */
export function counted(n: number, noun: string, plural = `${noun}s`): string {
  return `${n} ${n === 1 ? noun : plural}`;
}

/** Public references used by several entries. */
export const REF = {
  proxier: "kubernetes/kubernetes pkg/proxy/iptables/proxier.go",
  k3s3117: "k3s-io/k3s#3117",
  noEndpointsReject: "kubernetes/kubernetes#17359",
  dns: "https://kubernetes.io/docs/concepts/services-networking/dns-pod-service/",
  dnsPolicy: "https://kubernetes.io/docs/concepts/services-networking/dns-pod-service/#pod-s-dns-policy",
  service: "https://kubernetes.io/docs/concepts/services-networking/service/",
} as const;
