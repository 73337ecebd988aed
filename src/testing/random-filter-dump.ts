/**
 * Test support: random filter-table rulesets with injected exact copies, over packets a netns lab can
 * send (pod -> 198.19.0.{1,2,3}:{80,81}). Used by the kernel and simulator equivalence tests of
 * `fix duplicates`; not part of the CLI.
 */
import fc from "fast-check";

export const RANDOM_DUMP_DESTINATIONS: readonly string[] = ["198.19.0.1", "198.19.0.2", "198.19.0.3"];
export const RANDOM_DUMP_PORTS: readonly number[] = [80, 81];

/** A filter-table dump: the built-in chains (policy ACCEPT), the user chains `users`, then `rules`. */
export function filterDumpText(users: readonly string[], rules: readonly string[]): string {
  return [
    "*filter",
    ":INPUT ACCEPT [0:0]",
    ":FORWARD ACCEPT [0:0]",
    ":OUTPUT ACCEPT [0:0]",
    ...users.map((u) => `:${u} - [0:0]`),
    ...rules,
    "COMMIT",
    "",
  ].join("\n");
}

/**
 * FORWARD plus user chains U0..U2 (jumps only forward: the kernel refuses loops), rules matching on
 * destination, port and mark, with ACCEPT/REJECT/RETURN, idempotent and xor MARKs, jumps and gotos,
 * and 1-6 copies of random rules inserted right after or further down their original.
 */
export function randomFilterDump(): fc.Arbitrary<string> {
  const users = ["U0", "U1", "U2"];
  const chains = ["FORWARD", ...users];
  const match = fc.oneof(
    fc.constant(""),
    fc.constantFrom(...RANDOM_DUMP_DESTINATIONS).map((d) => `-d ${d}/32 `),
    fc.constantFrom(...RANDOM_DUMP_PORTS).map((p) => `-p tcp -m tcp --dport ${p} `),
    fc.integer({ min: 0, max: 3 }).map((v) => `-m mark --mark 0x${v & 1}/0x${(v | 1).toString(16)} `),
  );
  const target = (ci: number): fc.Arbitrary<string> => {
    const verdicts = fc.constantFrom(
      "-j ACCEPT",
      "-j REJECT --reject-with icmp-port-unreachable",
      "-j RETURN",
    );
    const marks = fc.constantFrom(
      "-j MARK --set-xmark 0x1/0x1",
      "-j MARK --set-xmark 0x2/0x3",
      "-j MARK --set-xmark 0x1/0x0",
    );
    // Only jumps to later user chains: the kernel refuses loops.
    if (ci >= users.length) return fc.oneof(verdicts, marks);
    const jumps = fc
      .tuple(fc.constantFrom("-j", "-g"), fc.integer({ min: ci, max: 2 }))
      .map(([k, u]) => `${k} ${users[u]}`);
    return fc.oneof(verdicts, marks, jumps);
  };
  return fc
    .tuple(
      ...chains.map((_, ci) => fc.array(fc.tuple(match, target(ci)), { maxLength: 5 })),
      fc.array(fc.tuple(fc.nat(3), fc.nat(10), fc.nat(10)), { minLength: 1, maxLength: 6 }),
    )
    .map((parts) => {
      const copies = parts.pop() as [number, number, number][];
      const lines = (parts as [string, string][][]).map((rules, ci) =>
        rules.map(([m, t]) => `-A ${chains[ci]} ${m}${t}`.replace(/ +/g, " ")),
      );
      for (const [ci, from, gap] of copies) {
        const list = lines[ci]!;
        if (list.length === 0) continue;
        const src = from % list.length;
        list.splice(src + 1 + (gap % (list.length - src)), 0, list[src]!);
      }
      return filterDumpText(users, lines.flat());
    });
}
