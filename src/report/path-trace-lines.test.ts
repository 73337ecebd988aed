/**
 * The diagnosis text shows both nodes of a connection across nodes, on bundles captured from the
 * overlay lab (the kernel's outcome: a1 -> b1 times out when node-b's VTEP MAC changed).
 */
import { describe, expect, it } from "vitest";
import { labReportInput } from "../testing/overlay-report-input.ts";
import { renderDiagnosisText } from "./render-diagnosis-text.ts";

describe("pathTraceLines()", () => {
  it("pathTraceLines() lists each node's hop and where the packet is lost, with the file:line", async () => {
    const d = await labReportInput("vtep-mac-changed", "default/a1", "198.18.2.10:8080");
    const text = renderDiagnosisText(d);
    const section = text.slice(text.indexOf("Across nodes:"), text.indexOf("\nNodes:"));
    expect(section).toMatch(
      /^ {2}node-a: route via flannel\.1, ARP 198\.18\.2\.0 answers, VXLAN to node-b$/m,
    );
    expect(section).toMatch(/^ {2}node-b: VXLAN in on eth0$/m);
    expect(section).toMatch(/-> DROPped by the overlay on eth0 .*\[nodes\/node-b\/ip-link\.json:\d+\]$/m);
  });

  it("pathTraceLines() shows a delivered path without evidence brackets", async () => {
    const d = await labReportInput("healthy", "default/a1", "198.18.2.10:8080");
    const text = renderDiagnosisText(d);
    expect(text).toContain(
      "  node-b: VXLAN in on flannel.1, route via cni0, ARP 198.18.2.10 answers, to pod default/b1",
    );
    expect(text).toMatch(/-> delivered to pod default\/b1$/m);
  });
});
