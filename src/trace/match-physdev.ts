/**
 * `-m physdev` in the tracer, as the kernel's xt_physdev.c (`physdev_mt`) decides it. br_netfilter
 * gives iptables a bridged packet's physical ports: the port it came in by (`physindev`, from
 * br_nf_pre_routing) and, only for a packet the bridge forwards between two of its ports, the port it
 * leaves by (`physoutdev`, set in br_nf_forward_ip, whose in and out devices are both the bridge).
 * So a packet the node *routes* (FORWARD with different in and out interfaces) is never
 * `--physdev-is-bridged`, even when it came in by a bridge port (kube-router's pod-to-pod jumps,
 * cloudnativelabs/kube-router#505-class questions). Per option:
 *
 * - `--physdev-is-bridged` / `--physdev-is-out`: true when the packet is bridged (physoutdev set);
 * - `--physdev-is-in`: true when bridged; for a routed packet it depends on the in port, undecided;
 * - `--physdev-in NAME` / `--physdev-out NAME`: port names are not in the evidence, undecided,
 *   except for a packet the caller says crossed no bridge at all (`bridged: false`): there the
 *   kernel has no bridge info, every option is false and its negation true.
 */
import type { Match, RuleOption } from "../model/ruleset.ts";
import { type MatchContext, type MatchResult, type MatchTest, undecided } from "./match-test.ts";
import type { WalkState } from "./walk-state.ts";

const BRIDGE = undecided("physdev depends on whether the packet crossed a bridge", "bridge-crossing");
const PORT = undecided(
  "physdev port names depend on the bridge's ports the packet used (not in the evidence)",
  "bridge-crossing",
);

/** What is known about the packet and the bridge: explicit (the caller said) or derived. */
interface Bridging {
  readonly bridged: boolean;
  /** The caller said so: with `bridged: false` the packet crossed no bridge at all. */
  readonly explicit: boolean;
}

/**
 * Whether the packet is bridged here: the caller's word (`bridged`) first; else a FORWARD packet
 * between two different interfaces is routed (not bridged); else the node's links decide
 * (`bridgedBetween`, from host evidence); else unknown.
 */
export function bridgingOf(st: WalkState, ctx: MatchContext): Bridging | undefined {
  if (ctx.bridged !== undefined) return { bridged: ctx.bridged, explicit: true };
  const i = st.inIf;
  const o = st.outIf;
  if (i === undefined || o === undefined || i === "" || o === "") return undefined;
  if (st.hook === "FORWARD" && i !== o) return { bridged: false, explicit: false };
  const b = ctx.bridgedBetween?.(i, o);
  return b === undefined ? undefined : { bridged: b, explicit: false };
}

function optionTest(o: RuleOption): MatchTest {
  const yes = !o.negated;
  switch (o.name) {
    case "--physdev-is-bridged":
    case "--physdev-is-out":
      return (st, ctx) => {
        const b = bridgingOf(st, ctx);
        return b === undefined ? BRIDGE : b.bridged === yes;
      };
    case "--physdev-is-in":
      return (st, ctx): MatchResult => {
        const b = bridgingOf(st, ctx);
        if (b === undefined) return BRIDGE;
        if (b.bridged) return yes;
        return b.explicit ? !yes : BRIDGE;
      };
    case "--physdev-in":
    case "--physdev-out":
      return (st, ctx): MatchResult => {
        const b = bridgingOf(st, ctx);
        if (b === undefined) return BRIDGE;
        if (b.explicit && !b.bridged) return !yes;
        // A routed packet has no out port: a positive --physdev-out never matches (xt_physdev).
        if (!b.bridged && o.name === "--physdev-out" && yes) return false;
        return PORT;
      };
    default:
      return () => undecided(`option "${o.name}" of "-m physdev"`, "manual-check");
  }
}

/**
 * `-m physdev`: one test per option (the kernel ANDs them).
 *
 * @example
 * ```ts
 * compilePhysdev(match).every((t) => t(state, { ...ctx, bridged: true }) === true); // --physdev-is-bridged
 * ```
 */
export function compilePhysdev(m: Match): MatchTest[] {
  return m.options.map(optionTest);
}
