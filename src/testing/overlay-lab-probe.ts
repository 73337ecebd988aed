/** One connection attempt of the overlay lab, and its result as a comparable word. */

export interface LabProbe {
  readonly from: string;
  readonly protocol: "tcp" | "udp";
  readonly dstIp: string;
  readonly dstPort: number;
  readonly srcPort?: number;
  /** Request size in bytes (default 16). */
  readonly payload?: number;
  readonly timeoutMs?: number;
}

export interface LabProbeResult {
  readonly outcome: "answer" | "error" | "timeout";
  readonly errno?: string;
  readonly reply?: string;
}

/** A probe result as one comparable word: `answer POD`, `error ERRNO` or `timeout`. */
export function labOutcomeKey(r: LabProbeResult): string {
  switch (r.outcome) {
    case "answer":
      return `answer ${r.reply?.split(" ")[0] ?? ""}`;
    case "error":
      return `error ${r.errno}`;
    case "timeout":
      return "timeout";
    default: {
      const never: never = r.outcome;
      throw new TypeError(`Unknown outcome ${String(never)}`);
    }
  }
}
