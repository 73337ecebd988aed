import type { DumpHandler } from "./dump-reader.ts";

/**
 * Combines several {@linkcode DumpHandler}s into one, so a single streaming pass over a
 * dump can feed a scanner and signature detectors together.
 */
export function composeHandlers(...handlers: readonly DumpHandler[]): DumpHandler {
  const tables = handlers.flatMap((h) => (h.table ? [h.table.bind(h)] : []));
  const chains = handlers.flatMap((h) => (h.chain ? [h.chain.bind(h)] : []));
  const rules = handlers.flatMap((h) => (h.rule ? [h.rule.bind(h)] : []));
  const commits = handlers.flatMap((h) => (h.commit ? [h.commit.bind(h)] : []));
  const warnings = handlers.flatMap((h) => (h.warning ? [h.warning.bind(h)] : []));
  return {
    table: (name, line) => {
      for (const f of tables) f(name, line);
    },
    chain: (decl) => {
      for (const f of chains) f(decl);
    },
    rule: (rule) => {
      for (const f of rules) f(rule);
    },
    commit: (name, line) => {
      for (const f of commits) f(name, line);
    },
    warning: (w) => {
      for (const f of warnings) f(w);
    },
  };
}
