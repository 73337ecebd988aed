/**
 * The diagnosis text shows both nodes of a connection across nodes, on bundles captured from the
 * overlay lab (the kernel's outcome: a1 -> b1 times out when node-b's VTEP MAC changed).
 */
import { describe, expect, it } from "vitest";
import { diagnoseSpec, smallIncident } from "../testing/demo-bundles.ts";
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

  it("pathTraceLines() cites the bridge's connected route when nothing answers ARP for a stale endpoint", async () => {
    // The incident: prod-agent1 DNATs to 10.42.2.17, an address in its own pod CIDR on cni0 that no
    // pod has. What proves "on the bridge" is the route `10.42.2.0/24 dev cni0` (ip-route.json), not
    // the policy rule that sent the lookup to the main table (ip-rule.json).
    const d = await diagnoseSpec(smallIncident(), {
      from: "eopx/eopx-gateway-7d9c6b8f5-x4kq2",
      to: "eopx-register:8848",
    });
    const text = renderDiagnosisText(d);
    const section = text.slice(text.indexOf("Across nodes:"), text.indexOf("\nNodes:"));
    expect(section).toMatch(
      /nothing answers ARP for 10\.42\.2\.17.*\[nodes\/prod-agent1\/ip-route\.json:\d+\]$/m,
    );
  });
});
