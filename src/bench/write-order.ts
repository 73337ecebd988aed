/**
 * kube-proxy's write order for a generated dump (see {@linkcode DumpLayout}): the same rules as the
 * iptables-save order, each chain's own rules in the same order, interleaved as kube-proxy writes them.
 */
import type { ChainSpec, DumpLayout, Service } from "./generate-dump.ts";

/** Hands out each chain's rules in order, one or all at a time, so any interleaving keeps every chain's own order. */
class RuleQueues {
  readonly #specs = new Map<string, ChainSpec>();
  readonly #queues = new Map<string, { rules: string[]; next: number }>();

  constructor(chains: { builtins: ChainSpec[]; user: ChainSpec[] }) {
    for (const c of [...chains.builtins, ...chains.user]) this.#specs.set(c.name, c);
  }

  #queue(name: string): { rules: string[]; next: number } {
    let q = this.#queues.get(name);
    if (q === undefined) {
      q = { rules: this.#specs.get(name)!.rules(), next: 0 };
      this.#queues.set(name, q);
    }
    return q;
  }

  /** The next `n` rules of a chain (fewer when it has fewer left). */
  take(name: string, n = 1): string[] {
    const q = this.#queue(name);
    const out = q.rules.slice(q.next, q.next + n);
    q.next += out.length;
    return out;
  }

  /** The rest of a chain's rules; the chain's queue is then dropped. */
  rest(name: string): string[] {
    const out = this.take(name, Number.MAX_SAFE_INTEGER);
    this.#queues.set(name, { rules: [], next: 0 });
    return out;
  }

  left(name: string): number {
    const q = this.#queue(name);
    return q.rules.length - q.next;
  }
}

/** Built-in chains' rules, then one rule of each user chain in turn until all are written. */
export function roundRobin(chains: { builtins: ChainSpec[]; user: ChainSpec[] }): string[] {
  const q = new RuleQueues(chains);
  const out = chains.builtins.flatMap((c) => q.rest(c.name));
  let open = chains.user.map((c) => c.name);
  while (open.length > 0) {
    for (const name of open) out.push(...q.take(name));
    open = open.filter((name) => q.left(name) > 0);
  }
  return out;
}

/** The nat rules in kube-proxy's write order (see {@linkcode DumpLayout}). */
export function* natWriteOrder(
  chains: { builtins: ChainSpec[]; user: ChainSpec[] },
  services: readonly Service[],
): Generator<string> {
  const q = new RuleQueues(chains);
  for (const c of chains.builtins) yield* q.rest(c.name);
  for (const name of ["KUBE-POSTROUTING", "KUBE-MARK-MASQ", "KUBE-MARK-DROP"]) yield* q.rest(name);
  yield* q.take("FLANNEL-POSTRTG");
  // The leaked copies come next in FLANNEL-POSTRTG, minus its last two rules: spread them evenly.
  const copies = q.left("FLANNEL-POSTRTG") - 2;
  let spread = 0;
  for (let i = 0; i < services.length; i++) {
    const s = services[i]!;
    if (s.endpoints.length > 0) {
      const svc = `KUBE-SVC-${s.svcHash}`;
      yield* q.take("KUBE-SERVICES");
      yield* q.take(svc);
      for (let k = 0; k < s.endpoints.length; k++) {
        const [sep] = q.take(svc);
        yield sep!;
        yield* q.rest(sep!.slice(sep!.lastIndexOf(" -j ") + 4));
      }
      if (s.nodePort !== undefined) {
        yield* q.take("KUBE-NODEPORTS");
        yield* q.rest(`KUBE-EXT-${s.svcHash}`);
      }
    }
    const due = Math.floor((copies * (i + 1)) / services.length);
    yield* q.take("FLANNEL-POSTRTG", due - spread);
    spread = due;
  }
  for (const c of chains.user) yield* q.rest(c.name);
}
