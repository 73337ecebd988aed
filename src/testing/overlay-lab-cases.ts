/**
 * The overlay lab's cases: a healthy three-node cluster and each way issue 17 lists of breaking
 * the path across nodes. Every case states the real outcome its probes must see (so a breakage that
 * did not take effect fails the test) and the findings (code@node) the checks must report.
 */
import type { LabCase } from "./overlay-lab-case-kit.ts";
import { NODE_CASES } from "./overlay-lab-cases-node.ts";
import { OVERLAY_CASES } from "./overlay-lab-cases-overlay.ts";

export { defaultNodes, type LabCase, type LabCaseProbe } from "./overlay-lab-case-kit.ts";

/** Every case, in the order the test runs them. */
export const LAB_CASES: readonly LabCase[] = [...OVERLAY_CASES, ...NODE_CASES];
