/**
 * What to do around the removal: the order of the cleanup that the known-bug catalogue
 * (shared/reference/iptables-known-bugs.md, "Cleanup procedures and their caveats") arrives at, with
 * the cause of the copies and the commands chosen from the node's evidence: the leak bug whose
 * signature matches (iptables version and backend, owners of the copies), and the node's
 * distribution and role. netdoctor never applies anything itself; these are the steps for a person.
 */

import type { DuplicateCause } from "../findings/health-entries.ts";
import type { NodeKind } from "../findings/kube-proxy-restart.ts";
import { type BugContext, bugContext } from "../known-bugs/bug-context.ts";
import { duplicateCause, WRITERS } from "../known-bugs/duplicate-cause.ts";
import { iptablesVersionFrom } from "../known-bugs/iptables-version.ts";
import { fixFor } from "../known-bugs/known-bug.ts";
import { KNOWN_BUGS } from "../known-bugs/known-bugs.ts";
import type { CopyGroup, LeakFacts } from "../known-bugs/leak-facts.ts";
import type { EvidenceFile, NodeEvidence } from "../known-bugs/node-evidence.ts";
import type { RuleOwner } from "../scan/rule-owner.ts";
import type { DuplicatePlan } from "./plan-duplicates.ts";
import { restoreCommand } from "./render-restore.ts";
import { thousands } from "./thousands.ts";

export { hasPreferBundledBin } from "../known-bugs/k3s-version.ts";

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
  /** The node's name, for the messages (default `node`). */
  readonly node?: string;
  /** How the restore files are named in the commands (default `FILE`). */
  readonly files?: readonly string[];
  /** `iptables --version` output of the node (its version and backend beat the dump header's). */
  readonly iptablesVersion?: EvidenceFile;
  /** `k3s --version` output of the node: marks a k3s node, and decides whether --prefer-bundled-bin exists. */
  readonly k3sVersion?: EvidenceFile;
  /** The node's distribution and role from its Node object (`nodeKindOf`), when known. */
  readonly nodeKind?: NodeKind;
  /**
   * The node's other evidence for the rest of the known-bug catalogue (a scan with its signatures,
   * `iptables-save` stderr): a bug such as version skew changes how to apply the plan.
   */
  readonly evidence?: NodeEvidence;
}

const copiesText = (n: number): string => `${thousands(n)} ${n === 1 ? "copy" : "copies"}`;

/** The plan's copies (removed and kept) as the leak detectors read them. */
function leakFacts(plan: DuplicatePlan, options: PlanAdviceOptions): LeakFacts {
  const dumpFile = "the dump";
  const version = iptablesVersionFrom({
    ...(options.iptablesVersion === undefined ? {} : { versionFile: options.iptablesVersion }),
    header: plan.header,
    dumpFile,
  });
  const byRule = new Map<string, { -readonly [K in keyof CopyGroup]: CopyGroup[K] }>();
  const add = (
    g: { table: CopyGroup["table"]; chain: string; rule: string; owner: RuleOwner },
    first: number,
    n: number,
  ) => {
    const key = `${g.table} ${g.rule}`;
    const had = byRule.get(key);
    if (had === undefined)
      byRule.set(key, {
        table: g.table,
        chain: g.chain,
        rule: g.rule,
        owner: g.owner,
        count: n + 1,
        line: first,
      });
    else had.count += n;
  };
  for (const g of plan.removedGroups) add(g, g.keptLine, g.count);
  for (const g of plan.keptGroups) add(g, g.copyOfLine, g.count);
  return {
    node: options.node ?? "node",
    file: dumpFile,
    ...(version === undefined ? {} : { version }),
    ip6: plan.header.program?.startsWith("ip6tables") ?? false,
    groups: [...byRule.values()].sort((a, b) => b.count - a.count),
  };
}

/** `systemctl stop|start ...` for the components that write the copies, by the node's kind. */
function serviceCommands(verb: "stop" | "start", ctx: BugContext): string[] {
  const kubelet = `systemctl ${verb} kubelet    # kubeadm: and ${verb === "stop" ? "scale away" : "let back"} the node's kube-proxy/CNI DaemonSet pods`;
  switch (ctx.kind.distribution) {
    case "k3s":
      if (ctx.kind.role === "server") return [`systemctl ${verb} k3s`];
      if (ctx.kind.role === "agent") return [`systemctl ${verb} k3s-agent`];
      return [
        `systemctl ${verb} k3s        # on a server node`,
        `systemctl ${verb} k3s-agent  # on an agent node`,
      ];
    case "rke2":
    case "kubeadm":
      return [kubelet];
    case "unknown":
      return [
        `systemctl ${verb} k3s        # k3s server`,
        `systemctl ${verb} k3s-agent  # k3s agent`,
        kubelet,
      ];
    default: {
      const never: never = ctx.kind.distribution;
      throw new TypeError(`Unknown distribution ${String(never)}`);
    }
  }
}

/** Whether k3s's paths may apply: a component's copies on a node that may run k3s. */
function onK3s(cause: DuplicateCause, ctx: BugContext): boolean {
  return cause.kind !== "static" && (ctx.kind.distribution === "k3s" || ctx.kind.distribution === "unknown");
}

function causeStep(cause: DuplicateCause): AdviceStep {
  const title = "Fix the cause before starting them again, or the duplicates come back";
  switch (cause.kind) {
    case "known-bug":
      return {
        title,
        detail: `${cause.bug.title} [${cause.bug.id}]: ${cause.bug.detail}. ${cause.bug.cure}.`,
        references: cause.bug.references,
      };
    case "static":
      return {
        title: "Fix the ruleset where it is written, or the copies come back at its next load",
        detail:
          "No Kubernetes or container component owns these rules: whatever loads the node's own ruleset (a script run again, a saved rules file holding the lines twice) adds them twice." +
          (cause.noCheck === undefined
            ? ""
            : ` ${cause.noCheck} has no \`iptables -C\` (it came in 1.4.11): a script that checks before adding appends again on every run.`),
      };
    case "unexplained":
      return {
        title,
        detail:
          `No known iptables bug matches ${cause.version ?? "(the dump shows no iptables version)"}. The copies belong to ${cause.writers}, which add a rule only when \`iptables -C\` says it is missing. ` +
          (cause.version === undefined
            ? "Run `iptables --version` on the node and compare it with the versions whose check is broken: 1.8.0-1.8.4 on nf_tables, 1.8.7, 1.8.10, ip6tables 1.8.9, and anything before 1.4.11."
            : `The writers may run another iptables than the one that saved the dump: ${cause.whichIptables}.`) +
          " Compare the count a few syncs after the restart: a count that grows again is a leak with a cause still in place.",
      };
    default: {
      const never: never = cause;
      throw new TypeError(`Unknown duplicate cause ${JSON.stringify(never)}`);
    }
  }
}

/** Steps for the other known bugs of the node's evidence (version skew changes how to apply). */
function otherBugSteps(evidence: NodeEvidence | undefined, ctx: BugContext): AdviceStep[] {
  if (evidence === undefined) return [];
  return KNOWN_BUGS.filter((b) => b.leak === undefined && b.code === "iptables-known-bug").flatMap((b) => {
    const hit = b.detect(evidence);
    if (hit === undefined) return [];
    return [
      {
        title: `Also fix: ${b.title}`,
        detail: `${hit.message}. ${fixFor(b, ctx).replace(/\.?$/, ".")}`,
        references: b.references,
      },
    ];
  });
}

/**
 * The steps around applying the plan: stop the writers, re-dump, apply with the same binary,
 * fix the cause, restart and compare.
 *
 * @example
 * ```ts
 * planAdvice(plan, { iptablesVersion, k3sVersion }).map((s) => s.title);
 * ```
 */
export function planAdvice(plan: DuplicatePlan, options: PlanAdviceOptions = {}): AdviceStep[] {
  const owners = (Object.keys(plan.removedByOwner) as RuleOwner[]).sort(
    (a, b) => (plan.removedByOwner[b] ?? 0) - (plan.removedByOwner[a] ?? 0),
  );
  const ctx = bugContext(
    options.nodeKind,
    options.k3sVersion === undefined ? {} : { k3sVersion: options.k3sVersion },
  );
  const cause = duplicateCause(leakFacts(plan, options), ctx);
  const restore = restoreCommand(plan);
  const files = options.files ?? ["FILE"];
  const h = plan.header;
  const writer =
    h.program === undefined
      ? "an unknown iptables-save (the dump has no header)"
      : `${h.program} v${h.version ?? "?"} (${h.backend})`;
  const steps: AdviceStep[] = [];

  const written = owners.map((o) => `${WRITERS[o]} (${copiesText(plan.removedByOwner[o] ?? 0)})`).join("; ");
  steps.push(
    cause.kind === "static"
      ? {
          title: "Keep the ruleset from being reloaded while you apply",
          detail: `The removed copies are the node's own rules (${copiesText(plan.copies)}), not a component's: make sure no firewall service or script reloads the ruleset meanwhile.`,
        }
      : {
          title: "Stop the components that keep re-adding the rules",
          detail:
            `The removed copies were written by ${written || "no one (nothing to remove)"}. ` +
            "They keep appending while you restore; k3s's own reproduction stops k3s first. Do this on one node at a time.",
          commands: serviceCommands("stop", ctx),
          references: ["k3s-io/k3s#8793"],
        },
  );

  steps.push({
    title: "Dump again with the same binary and plan on the fresh dump",
    detail:
      `This plan was made from a dump written by ${writer}. Rules may have changed since; re-run the plan on a dump taken after the writers stopped, ` +
      `with the same iptables-save${onK3s(cause, ctx) ? " (on k3s with bundled binaries: /var/lib/rancher/k3s/data/current/bin/aux/iptables-save)" : ""}. ` +
      "An iptables-save older than the writer drops matches (version skew).",
    commands: [
      "iptables-save > /root/before.rules",
      "netdoctor fix duplicates --dump /root/before.rules --out /root/dedupe/",
    ],
    references: onK3s(cause, ctx)
      ? ["kubernetes/kubernetes#112477", "k3s-io/k3s#8793"]
      : ["kubernetes/kubernetes#112477"],
  });

  steps.push({
    title: "Apply with the same iptables binary and backend, with --noflush",
    detail:
      `Use ${restore} --noflush: each file flushes and refills only the chains it names and leaves every other chain, policy and table alone. ` +
      "Without --noflush iptables-restore would replace the whole table with the file's few chains. " +
      "Add -c to keep the remaining rules' counters when the dump was taken with iptables-save -c.",
    commands: files.map((f) => `${restore} --noflush ${f}`),
  });

  steps.push(causeStep(cause), ...otherBugSteps(options.evidence, ctx));

  steps.push({
    title: cause.kind === "static" ? "Check" : "Start the components again and check",
    detail:
      cause.kind === "static"
        ? "Dump again: each rule should appear once, and stay so after the ruleset's next load."
        : "Let them resync, dump again and compare: the rule count should match the node's peers and stay flat over the next syncs.",
    commands: [
      ...(cause.kind === "static" ? [] : serviceCommands("start", ctx)),
      "iptables-save > /root/after.rules && netdoctor scan /root/after.rules",
    ],
  });
  return steps;
}
