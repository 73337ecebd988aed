import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { uidLines } from "./kube-objects.ts";
import { streamKubeList } from "./stream-kube-list.ts";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "nd-stream-list-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

let n = 0;
async function stream(text: string, chunkBytes?: number) {
  const path = join(dir, `list-${n++}.json`);
  await writeFile(path, text);
  const items: unknown[] = [];
  const lines: (number | undefined)[] = [];
  const list = await streamKubeList(
    path,
    (raw, line) => {
      items.push(raw);
      lines.push(line);
    },
    chunkBytes === undefined ? {} : { chunkBytes },
  );
  return { list, items, lines };
}

/** What parsing the whole file says: the oracle every streamed read must equal. */
function whole(text: string) {
  const data = JSON.parse(text) as { items: { metadata?: { uid?: string } }[] };
  const byUid = uidLines(text);
  return {
    items: data.items,
    lines: data.items.map((i) => (i.metadata?.uid === undefined ? undefined : byUid.get(i.metadata.uid))),
  };
}

function service(i: number, extra: Record<string, unknown> = {}) {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: {
      name: `svc-${i}`,
      namespace: "ns",
      uid: `uid-${i}`,
      labels: { app: `a${i}`, note: "café ☕" },
    },
    spec: { clusterIP: `10.43.0.${i}`, ports: [{ port: 80, protocol: "TCP" }], selector: { app: `a${i}` } },
    status: { loadBalancer: {} },
    ...extra,
  };
}

const LIST = (items: unknown[]) => ({
  apiVersion: "v1",
  items,
  kind: "List",
  metadata: { resourceVersion: "" },
});

describe("streamKubeList()", () => {
  const items = Array.from({ length: 40 }, (_, i) => service(i));

  it("hands over kubectl's items in order with their uid lines, whatever the chunk size", async () => {
    for (const text of [
      `${JSON.stringify(LIST(items), null, 4)}\n`, // kubectl
      JSON.stringify(LIST(items), null, 2), // collect's writer
      JSON.stringify(LIST(items), null, "\t"),
      JSON.stringify(LIST(items), null, 4).replaceAll("\n", "\r\n"),
    ]) {
      const oracle = whole(text);
      for (const chunk of [7, 100, 1000, undefined]) {
        const got = await stream(text, chunk);
        expect(got.items).toEqual(oracle.items);
        expect(got.lines).toEqual(oracle.lines);
        expect(got.lines.every((l) => typeof l === "number")).toBe(true);
        expect(got.list).toMatchObject({ apiVersion: "v1", kind: "List", metadata: { resourceVersion: "" } });
      }
    }
  });

  it("reads an empty list and a list whose kind comes before its items", async () => {
    const empty = await stream(JSON.stringify(LIST([]), null, 4));
    expect(empty.items).toEqual([]);
    expect(empty.list).toMatchObject({ kind: "List" });
    const first = JSON.stringify(
      { kind: "ServiceList", apiVersion: "v1", items: items.slice(0, 3) },
      null,
      4,
    );
    const got = await stream(first, 50);
    expect(got.items).toEqual(whole(first).items);
    expect(got.list).toMatchObject({ kind: "ServiceList" });
  });

  it("answers undefined (parse it whole) for other layouts and broken files, never other items", async () => {
    const pretty = JSON.stringify(LIST(items.slice(0, 3)), null, 4);
    const refused = [
      JSON.stringify(LIST(items.slice(0, 3))), // minified
      pretty.replace('"items": [\n        {', '"items": [{'), // first item on the bracket's line
      pretty.replace('"kind": "List"', '"kind": "List",,'), // broken after the items
      pretty.replace('"uid-1"', '"uid-1",'), // broken inside an item
      pretty.slice(0, pretty.length - 40), // cut short
      pretty.replace('"kind": "List"', '"items": 3'), // a second top-level "items" wins in JSON.parse
      "",
      "[]",
    ];
    for (const text of refused) {
      for (const chunk of [16, undefined]) expect((await stream(text, chunk)).list, text).toBeUndefined();
    }
    expect(await streamKubeList(join(dir, "absent.json"), () => {})).toBeUndefined();
  });

  it("does not take a nested \"items\" for the list's, nor a nested brace at the item's indentation for its end", async () => {
    const nested = JSON.stringify({ status: { items: [{ a: 1 }] }, ...LIST(items.slice(0, 2)) }, null, 4);
    expect((await stream(nested, 32)).list).toBeUndefined();
    // A hand-indented item whose metadata closes at the item's own indentation.
    const odd = [
      "{",
      '  "kind": "List",',
      '  "items": [',
      "    {",
      '      "metadata": {',
      '        "name": "a", "uid": "u-a"',
      "    },",
      '      "spec": {}',
      "    },",
      "    {",
      '      "metadata": { "name": "b", "uid": "u-b" }',
      "    }",
      "  ]",
      "}",
    ].join("\n");
    for (const chunk of [8, 30, 60, undefined]) {
      const got = await stream(odd, chunk);
      if (got.list !== undefined) expect(got.items).toEqual(whole(odd).items);
    }
  });
});
