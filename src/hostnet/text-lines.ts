/** Line splitting shared by the text parsers (sysctl, lsmod, subnet.env, ethtool, conntrack). */
import type { Evidence } from "../model/finding.ts";

/** Longest line text kept in evidence. */
const MAX_LINE_TEXT = 400;

/** The lines of `text` without their line ends; a final newline adds no empty line. */
export function splitLines(text: string): string[] {
  const lines = text.split("\n").map((l) => (l.endsWith("\r") ? l.slice(0, -1) : l));
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  return lines;
}

/** Evidence for one line (1-indexed). */
export function lineEvidence(file: string, line: number, text: string): Evidence {
  return {
    file,
    line,
    text: text.length > MAX_LINE_TEXT ? `${text.slice(0, MAX_LINE_TEXT - 3)}...` : text,
  };
}
