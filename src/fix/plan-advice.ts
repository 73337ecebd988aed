/**
 * What to do around the removal: the order of the cleanup that the known-bug catalogue
 * (shared/reference/iptables-known-bugs.md, "Cleanup procedures and their caveats") arrives at.
 * netdoctor never applies anything itself; these are the steps for a person.
 */

import type { Finding } from "../model/finding.ts";
import type { RuleOwner } from "../scan/rule-owner.ts";
import type { DuplicatePlan } from "./plan-duplicates.ts";
import { restoreCommand } from "./render-restore.ts";

/** One step of the plan. */
export interface AdviceStep {
  readonly title: string;
  readonly detail: string;
  /** Shell commands a person may run on the node (never run by netdoctor). */
  readonly commands?: readonly string[];
  readonly references?: readonly string[];
}

/** Options of {@linkcode planAdvice}. */
export interface PlanAdviceOptions {
  /** Findings of the known-bug catalogue for this node (`detectKnownBugs`), if any. */
  readonly knownBugs?: readonly Finding[];
  /** How the restore files are named in the commands (default `FILE`). */
  readonly files?: readonly string[];
  /** `k3s --version` output of the node, when known (decides whether --prefer-bundled-bin exists). */
  readonly k3sVersion?: string;
}

/** The first k3s release of each minor line that has --prefer-bundled-bin (k3s-io/k3s PR #6545, 2022-12). */
const BUNDLED_BIN_SINCE: Readonly<Record<number, number>> = { 23: 15, 24: 9, 25: 5 };

/**
 * Whether a k3s version has `--prefer-bundled-bin`: v1.23.15, v1.24.9, v1.25.5, v1.26.0 and later.
 * Undefined when the text holds no version.
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

const copiesText = (n: number): string => `${n.toLocaleString("en-US")} ${n === 1 ? "copy" : "copies"}`;

const WRITERS: Readonly<Record<RuleOwner, string>> = {
  "kube-router": "kube-router's network-policy controller (embedded in k3s, or the kube-router DaemonSet)",
  flannel: "flannel (embedded in k3s, or the kube-flannel DaemonSet)",
  "kube-proxy": "kube-proxy / kubelet (embedded in k3s, or the kube-proxy DaemonSet and kubelet)",
  calico: "calico-node",
  cni: "the CNI plugins (they run when pods start)",
  docker: "dockerd",
  other: "whatever else manages iptables on the node",
};

/**
 * The steps around applying the plan: stop the writers, re-dump, apply with the same binary,
 * fix the cause, restart and compare.
 *
 * @example
 * ```ts
 * planAdvice(plan, { knownBugs: detectKnownBugs({ node: "agent1", scan }) }).map((s) => s.title);
 * ```
 */
export function planAdvice(plan: DuplicatePlan, options: PlanAdviceOptions = {}): AdviceStep[] {
  const owners = (Object.keys(plan.removedByOwner) as RuleOwner[]).sort(
    (a, b) => (plan.removedByOwner[b] ?? 0) - (plan.removedByOwner[a] ?? 0),
  );
  const k3s = owners.some((o) => o === "kube-router" || o === "flannel");
  const restore = restoreCommand(plan);
  const files = options.files ?? ["FILE"];
  const h = plan.header;
  const writer =
    h.program === undefined
      ? "an unknown iptables-save (the dump has no header)"
      : `${h.program} v${h.version ?? "?"} (${h.backend})`;
  const bugs = (options.knownBugs ?? []).filter((f) => f.code === "iptables-known-bug");
  const steps: AdviceStep[] = [];

  steps.push({
    title: "Stop the components that keep re-adding the rules",
    detail:
      `The removed copies were written by ${owners.map((o) => `${WRITERS[o]} (${copiesText(plan.removedByOwner[o] ?? 0)})`).join("; ") || "no one (nothing to remove)"}. ` +
      "They keep appending while you restore; k3s's own reproduction stops k3s first. Do this on one node at a time.",
    commands: k3s
      ? ["systemctl stop k3s        # on a server node", "systemctl stop k3s-agent  # on an agent node"]
      : [
          "systemctl stop kubelet    # and scale away the node's kube-proxy/CNI pods if they run as DaemonSets",
        ],
    references: ["k3s-io/k3s#8793"],
  });

  steps.push({
    title: "Dump again with the same binary and plan on the fresh dump",
    detail:
      `This plan was made from a dump written by ${writer}. Rules may have changed since; re-run the plan on a dump taken after the writers stopped, ` +
      "with the same iptables-save (on k3s with bundled binaries: /var/lib/rancher/k3s/data/current/bin/aux/iptables-save). " +
      "An iptables-save older than the writer drops matches (version skew).",
    commands: [
      "iptables-save > /root/before.rules",
      "netdoctor fix duplicates --dump /root/before.rules --out /root/dedupe/",
    ],
    references: ["kubernetes/kubernetes#112477", "k3s-io/k3s#8793"],
  });

  steps.push({
    title: "Apply with the same iptables binary and backend, with --noflush",
    detail:
      `Use ${restore} --noflush: each file flushes and refills only the chains it names and leaves every other chain, policy and table alone. ` +
      "Without --noflush iptables-restore would replace the whole table with the file's few chains. " +
      "Add -c to keep the remaining rules' counters when the dump was taken with iptables-save -c.",
    commands: files.map((f) => `${restore} --noflush ${f}`),
  });

  const k3sLine = options.k3sVersion
    ?.split("\n")
    .find((l) => /v\d+\.\d+\.\d+/.test(l))
    ?.trim();
  const bundled = options.k3sVersion === undefined ? undefined : hasPreferBundledBin(options.k3sVersion);
  const k3sNote =
    bundled === true
      ? ` This node runs ${k3sLine}, which has --prefer-bundled-bin: add it to the k3s service (or prefer-bundled-bin: true in /etc/rancher/k3s/config.yaml).`
      : bundled === false
        ? ` This node runs ${k3sLine}, which does not have --prefer-bundled-bin yet: upgrade k3s to v1.23.15, v1.24.9, v1.25.5, v1.26.0 or later first, or upgrade the host's iptables.`
        : "";
  if (bugs.length > 0) {
    for (const b of bugs) {
      steps.push({
        title: "Fix the cause before starting them again, or the duplicates come back",
        detail: `${b.message}. ${(b.fix ?? "").replace(/\.?$/, ".")}${k3sNote}`,
        ...(b.references === undefined ? {} : { references: b.references }),
      });
    }
  } else {
    steps.push({
      title: "Fix the cause before starting them again, or the duplicates come back",
      detail:
        "Exact copies accumulate when a controller's `iptables -C` check wrongly fails and it appends again on every sync: " +
        "iptables 1.8.0-1.8.4 (nf_tables), 1.8.7 and 1.8.10 have such bugs. On k3s use the bundled iptables with --prefer-bundled-bin " +
        "(k3s >= v1.23.15, v1.24.9, v1.25.5 or v1.26.0); otherwise upgrade the host's iptables (1.8.5 or later, avoiding 1.8.7 and 1.8.10)." +
        k3sNote,
      references: ["k3s-io/k3s#3117", "https://docs.k3s.io/known-issues#iptables", "flatcar/Flatcar#954"],
    });
  }

  steps.push({
    title: "Start the components again and check",
    detail:
      "Let them resync, dump again and compare: the rule count should match the node's peers and stay flat over the next syncs.",
    commands: [
      k3s ? "systemctl start k3s   # or k3s-agent" : "systemctl start kubelet",
      "iptables-save > /root/after.rules && netdoctor scan /root/after.rules",
    ],
  });
  return steps;
}
