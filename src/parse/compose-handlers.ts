import type { ChainView } from "./chain-view.ts";
import type { DumpHandler } from "./dump-reader.ts";
import type { RuleLine, RuleView } from "./rule-view.ts";

/**
 * Combines several {@linkcode DumpHandler}s into one, so a single streaming pass over a dump can feed
 * a scanner, signature detectors, an index and a parser together. Handlers with `ruleView` get the
 * reader's reused view (and share the strings any of them asks it for); handlers with only `rule`
 * get one immutable {@linkcode RuleLine} per rule, made once for all of them; declarations alike
 * (`chainView`, or one `ChainDeclaration` object per chain). A leak's repeated block is handed on
 * as one call (`repeatRules`) when every handler that reads rules takes it.
 */
export function composeHandlers(...handlers: readonly DumpHandler[]): DumpHandler {
  const tables = handlers.flatMap((h) => (h.table ? [h.table.bind(h)] : []));
  const chainViews = handlers.flatMap((h) => (h.chainView ? [h.chainView.bind(h)] : []));
  const chains = handlers.flatMap((h) => (h.chainView === undefined && h.chain ? [h.chain.bind(h)] : []));
  const views = handlers.flatMap((h) => (h.ruleView ? [h.ruleView.bind(h)] : []));
  const rules = handlers.flatMap((h) => (h.ruleView === undefined && h.rule ? [h.rule.bind(h)] : []));
  const commits = handlers.flatMap((h) => (h.commit ? [h.commit.bind(h)] : []));
  const warnings = handlers.flatMap((h) => (h.warning ? [h.warning.bind(h)] : []));
  const chunksDone = handlers.flatMap((h) => (h.chunkDone ? [h.chunkDone.bind(h)] : []));
  const composed: DumpHandler = {
    table: (name, line) => {
      for (const f of tables) f(name, line);
    },
    commit: (name, line, count) => {
      for (const f of commits) f(name, line, count);
    },
    warning: (w) => {
      for (const f of warnings) f(w);
    },
  };
  if (chunksDone.length > 0) {
    composed.chunkDone = () => {
      for (const f of chunksDone) f();
    };
  }
  if (chainViews.length > 0 || chains.length > 0) {
    composed.chainView = (view: ChainView) => {
      for (const f of chainViews) f(view);
      if (chains.length === 0) return;
      const decl = view.toDeclaration();
      for (const f of chains) f(decl);
    };
  }
  if (rules.length === 0 && views.length > 0) {
    composed.ruleView = allOf(views);
  } else if (views.length > 0 || rules.length > 0) {
    composed.ruleView = (view: RuleView) => {
      for (const f of views) f(view);
      const line: RuleLine = view.toRuleLine();
      for (const f of rules) f(line);
    };
  }
  // Copies counted at once only when every handler that reads rules can count them.
  const readers = handlers.filter((h) => h.ruleView !== undefined || h.rule !== undefined);
  if (rules.length === 0 && readers.every((h) => h.repeatRules !== undefined)) {
    const repeats = readers.map((h) => h.repeatRules!.bind(h));
    composed.repeatRules = (block) => {
      for (const f of repeats) f(block);
    };
  }
  return composed;
}

/**
 * One function calling each of `fs` in order: for up to three (a parse, a scan and signature
 * checks), each call is its own call site, which the compiler inlines; a loop over them would be one
 * call site for all, which it cannot (this runs for every rule of a million-rule dump).
 */
function allOf(fs: readonly ((view: RuleView) => void)[]): (view: RuleView) => void {
  const [a, b, c] = fs as [(view: RuleView) => void, (view: RuleView) => void, (view: RuleView) => void];
  switch (fs.length) {
    case 1:
      return a;
    case 2:
      return (view) => {
        a(view);
        b(view);
      };
    case 3:
      return (view) => {
        a(view);
        b(view);
        c(view);
      };
    default:
      return (view) => {
        for (const f of fs) f(view);
      };
  }
}
