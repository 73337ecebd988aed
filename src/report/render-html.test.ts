import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { largeInput } from "../testing/sample-large-report-input.ts";
import { HOSTILE, incidentInput } from "../testing/sample-report-input.ts";
import { cspHash } from "./html/csp-hash.ts";
import { escapeHtml, jsonForScript } from "./html/escape.ts";
import { MAX_FINDINGS_PER_CODE } from "./html/findings-section.ts";
import { outlierNodes } from "./html/node-charts.ts";
import { MAX_CHAINS_PER_NODE } from "./html/rule-views.ts";
import { MAX_EMBEDDED_FINDINGS, renderHtml, reportCsp } from "./render-html.ts";

/** The page as text, one line per block, without markup: what a reader (or a screen reader) gets. */
function textSkeleton(html: string): string {
  const entities: Record<string, string> = {
    "&amp;": "&",
    "&lt;": "<",
    "&gt;": ">",
    "&quot;": '"',
    "&#39;": "'",
  };
  return html
    .replace(/<script[^>]*>[\s\S]*?<\/script>/g, "")
    .replace(/<style>[\s\S]*?<\/style>/g, "")
    .replace(/<title>[\s\S]*?<\/title>/g, "")
    .replace(/<\/t[dh]>/g, " | ")
    .replace(
      /<\/(p|li|h[1-4]|tr|section|article|div|header|text|button|caption|span class="sev[^"]*")>/g,
      "$&\n",
    )
    .replace(/<[^>]+>/g, " ")
    .replace(/&(amp|lt|gt|quot|#39);/g, (m) => entities[m] ?? m)
    .split("\n")
    .map((l) => l.replace(/\s+/g, " ").trim())
    .filter((l) => l !== "")
    .join("\n");
}

function scriptBlocks(html: string): { json: string; code: string } {
  const json = /<script type="application\/json" id="nd-diagnosis">([\s\S]*?)<\/script>/.exec(html)?.[1];
  const code = /<script>([\s\S]*?)<\/script>/.exec(html)?.[1];
  if (json === undefined || code === undefined) throw new Error("Cannot find the report's script blocks");
  return { json, code };
}

async function webCryptoHash(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return `'sha256-${btoa(String.fromCharCode(...new Uint8Array(digest)))}'`;
}

describe("escapeHtml()", () => {
  it("escapes markup and both quote kinds so text can go into element content and attributes", () => {
    expect(escapeHtml(`"><img src=x onerror='a&b'>`)).toBe(
      "&quot;&gt;&lt;img src=x onerror=&#39;a&amp;b&#39;&gt;",
    );
  });
  it("leaves no character that could open a tag or end an attribute, for any string", () => {
    fc.assert(fc.property(fc.string({ unit: "binary" }), (s) => !/[<>"'\u0000]/.test(escapeHtml(s))));
  });
});

describe("jsonForScript()", () => {
  it("round-trips any data through JSON.parse and never contains <, >, & or U+2028/U+2029", () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.string({ unit: "binary" }), (v, s) => {
        const data = { v, s: `${s}</script><!--\u2028\u2029&` };
        const out = jsonForScript(data);
        expect(/[<>&\u2028\u2029]/.test(out)).toBe(false);
        expect(JSON.parse(out)).toEqual(JSON.parse(JSON.stringify(data)));
      }),
    );
  });
});

describe("cspHash()", () => {
  it("matches WebCrypto's SHA-256 for any text, multi-block and non-ASCII included", async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: "grapheme", maxLength: 300 }), async (s) => {
        expect(cspHash(s)).toBe(await webCryptoHash(s));
      }),
      { numRuns: 60 },
    );
    expect(cspHash("")).toBe("'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='");
    expect(cspHash("x".repeat(1_000))).toBe(await webCryptoHash("x".repeat(1_000)));
  });
});

describe("renderHtml()", () => {
  const html = renderHtml(incidentInput());

  it("names the page's own inline script and style in a Content-Security-Policy that loads nothing", async () => {
    const { code } = scriptBlocks(html);
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)?.[1] ?? "";
    const csp = reportCsp();
    expect(csp).toContain(`script-src ${await webCryptoHash(code)}`);
    expect(csp).toContain(`style-src ${await webCryptoHash(style)}`);
    expect(csp).toMatch(/^default-src 'none'; /);
    expect(csp).toContain("connect-src 'none'");
    expect(csp).not.toContain("unsafe");
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="${escapeHtml(csp)}">`);
  });

  it("fetches nothing: no src=, no external stylesheet, no http(s) URL except reference links", () => {
    expect(html).not.toMatch(/\ssrc=/);
    expect(html).not.toMatch(/<link\b/);
    const urls = html.match(/https?:\/\/[^\s"'<)]+/g) ?? [];
    expect(
      urls.filter((u) => !u.startsWith("https://github.com/") && u !== "http://www.w3.org/2000/svg"),
    ).toEqual([]);
  });

  it("embeds the diagnosis as JSON that parses back to the input (without the rule views)", () => {
    const input = incidentInput({ hostile: true });
    const { ruleViews: _drop, ...diagnosis } = input;
    expect(JSON.parse(scriptBlocks(renderHtml(input)).json)).toEqual(diagnosis);
  });

  it("escapes hostile names and comments in every context: only the page's own tags remain", () => {
    const hostile = renderHtml(incidentInput({ hostile: true }));
    expect(hostile.match(/<script/g)).toHaveLength(2);
    expect(hostile.match(/<\/script>/g)).toHaveLength(2);
    expect(hostile.match(/<style/g)).toHaveLength(1);
    expect(hostile.match(/<\/style>/g)).toHaveLength(1);
    expect(hostile).not.toMatch(/<img|<svg onload/);
    // The payloads are there, as text.
    expect(hostile).toContain(escapeHtml(HOSTILE.service));
    expect(hostile).toContain(escapeHtml(HOSTILE.pod));
    expect(hostile).toContain("&lt;/script&gt;&lt;script&gt;window.__pwned=1");
  });

  it("turns only owner/repo#N and https references into links, never javascript: URLs", () => {
    const input = incidentInput();
    const f = {
      ...input.findings[0]!,
      references: ["javascript:alert(1)", "a/b#12", "https://example.org/x?a=1&b=2"],
    };
    const out = renderHtml({ ...input, findings: [f] });
    expect(out).toContain(`<a href="https://github.com/a/b/issues/12" rel="noreferrer noopener">a/b#12</a>`);
    expect(out).toContain(`<a href="https://example.org/x?a=1&amp;b=2"`);
    expect(out).not.toContain(`href="javascript:`);
    expect(out).toContain("javascript:alert(1)");
  });

  it("has a text skeleton a person can read top to bottom", async () => {
    await expect(textSkeleton(html)).toMatchFileSnapshot("../../testdata/golden/report-incident.txt");
  });

  it("stays under 5 MB for 20 nodes and 5,000 Services' findings, cutting long lists with a count", () => {
    const input = largeInput();
    const out = renderHtml(input);
    expect(out.length).toBeLessThan(5 * 1024 * 1024);
    const shown = out.match(/<article class="finding/g)?.length ?? 0;
    expect(shown).toBe(MAX_FINDINGS_PER_CODE + 1);
    expect(out).toContain(
      `${(5_000 - MAX_FINDINGS_PER_CODE).toLocaleString("en-US")} more <span class="mono">endpoint-stale</span> findings not shown here`,
    );
    expect(out).toContain(`${(500 - MAX_CHAINS_PER_NODE).toLocaleString("en-US")} more chains not shown`);
    expect(out.match(/<g class="bar/g)).toHaveLength(20);
  });

  it(`embeds at most ${MAX_EMBEDDED_FINDINGS} findings as JSON and says how many it left out`, () => {
    const input = largeInput({ nodes: 4, services: MAX_EMBEDDED_FINDINGS + 10 });
    const data = JSON.parse(scriptBlocks(renderHtml(input)).json);
    expect(data.findings).toHaveLength(MAX_EMBEDDED_FINDINGS);
    expect(data.findingsOmitted).toBe(11);
  });

  it("says reachable and draws no broken link when the diagnosis is ok", () => {
    const input = incidentInput();
    const ok = renderHtml({
      ...input,
      ok: true,
      verdict: "reachable",
      summary: "All good",
      findings: [],
      steps: input.steps.map((s) => ({ ...s, status: "ok" as const, ok: true })),
    });
    expect(ok).toContain(
      `<div id="verdict" class="verdict ok" role="status"><span class="label">Reachable:</span>All good`,
    );
    expect(ok).not.toContain(`data-broken="true"`);
  });

  it("renders a bare diagnosis without question, trace, nodes or rule views", () => {
    const out = renderHtml({
      ok: true,
      verdict: "reachable",
      atRisk: [],
      summary: "No Services",
      steps: [],
      findings: [],
      nodes: [],
    });
    expect(textSkeleton(out)).toContain("No question was asked");
    expect(textSkeleton(out)).toContain("No problems found.");
  });
});

describe("outlierNodes()", () => {
  it("flags the node with 600x its peers' rules and no other", () => {
    const input = incidentInput();
    expect([...outlierNodes(input.nodes, [])].map(([n, r]) => [n, Math.round(r)])).toEqual([
      ["prod-agent1", 722],
    ]);
    expect([...outlierNodes(input.nodes.slice(0, 1), [])]).toEqual([]);
  });
});

/** Appends `suffix` to every free-text string of the input (not to union-typed fields like codes). */
function taint<T>(value: T, suffix: string, key = ""): T {
  const closed = new Set([
    "code",
    "severity",
    "check",
    "table",
    "disposition",
    "backend",
    "protocol",
    "brokenAt",
    "mark",
    // The typed trace's closed unions (step, action, address and disposition kinds and their enums).
    "kind",
    "ingress",
    "decision",
    "basis",
    "state",
    "policy",
    "op",
    "needs",
  ]);
  if (typeof value === "string")
    return (closed.has(key) || key === "trace.from" ? value : value + suffix) as T;
  if (Array.isArray(value)) return value.map((v) => taint(v, suffix, key)) as T;
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [
        k,
        taint(
          v,
          suffix,
          key === "" && k === "from" ? "question.from" : k === "from" && key === "trace" ? "trace.from" : k,
        ),
      ]),
    ) as T;
  }
  return value;
}

describe("renderHtml() with hostile text everywhere", () => {
  const TAGS = new Set(
    "html head meta title style body main header h1 h2 h3 h4 p div span section article ul ol li code b a button table caption thead tbody tr th td svg g rect text path polygon line script footer".split(
      " ",
    ),
  );
  const ATTRS = new Set(
    "lang charset http-equiv content name class id role scope aria-label aria-labelledby aria-controls aria-expanded aria-pressed hidden tabindex data-broken data-filter data-download data-node-index type href rel width height viewbox xmlns x y x1 y1 x2 y2 rx d points text-anchor".split(
      " ",
    ),
  );
  const hostile = fc
    .array(
      fc.constantFrom(
        "<",
        ">",
        '"',
        "'",
        "&",
        "/",
        "=",
        " ",
        "script",
        "style",
        "img src=x onerror=alert(1)",
        "svg onload=",
        "\u2028",
        "<!--",
        "]]>",
        "\u0000",
        "`",
      ),
      { maxLength: 12 },
    )
    .map((parts) => parts.join(""));

  it("emits only the page's own tags and attributes, whatever the names, comments and rules contain", () => {
    fc.assert(
      fc.property(hostile, (suffix) => {
        const html = renderHtml(taint(incidentInput(), suffix));
        const body = html.replace(
          /(<script type="application\/json" id="nd-diagnosis">)[\s\S]*?(<\/script>)/,
          "$1$2",
        );
        for (const m of body.matchAll(/<\/?([a-zA-Z][a-zA-Z0-9-]*)((?:[^>"']|"[^"]*"|'[^']*')*)>/g)) {
          expect(TAGS.has(m[1]!.toLowerCase()), `tag ${m[0]}`).toBe(true);
          for (const a of m[2]!.replace(/\/$/, "").matchAll(/([^\s=]+)(?:="[^"]*")?/g)) {
            expect(ATTRS.has(a[1]!.toLowerCase()), `attribute ${a[1]} in ${m[0].slice(0, 80)}`).toBe(true);
          }
        }
        expect(body.match(/<script/g)).toHaveLength(2);
        expect(html.match(/<\/script/gi)).toHaveLength(2);
        expect(html.match(/<\/style/gi)).toHaveLength(1);
        expect(html.match(/<!--/g)).toBeNull();
      }),
      { numRuns: 40 },
    );
  });
});
