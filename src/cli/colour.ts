/**
 * Colour for people at a terminal, never for programs: FAIL/BROKEN red, OK green, undecided and
 * at-risk yellow. Only words netdoctor itself prints are coloured, never values from input: the
 * colouring below touches a line only at column 0 or at the check mark a check line starts with,
 * and a value from input can never be there, because every renderer passes such values through
 * terminalSafe (text/terminal-safe.ts), which shows a newline as `\n`: they cannot start a line.
 */

/** Whether to colour a command's output. */
export interface ColourContext {
  /** The stream the output goes to (stdout). */
  readonly stream: { readonly isTTY?: boolean };
  readonly env: Readonly<Record<string, string | undefined>>;
  /** commander's `color` option: false after `--no-color`. */
  readonly flag: boolean | undefined;
  /** The `-o` format; only `text` is ever coloured. */
  readonly format: string;
}

/**
 * Colour only on a terminal, only for text output, and not when the user said no: `--no-color`,
 * `NO_COLOR` set to anything but the empty string (https://no-color.org), or `TERM=dumb`.
 */
export function colourWanted(context: ColourContext): boolean {
  if (context.flag === false || context.format !== "text") return false;
  const noColor = context.env.NO_COLOR;
  if (noColor !== undefined && noColor !== "") return false;
  if (context.env.TERM === "dumb") return false;
  return context.stream.isTTY === true;
}

/** The colours used: bad (red), good (green), unsure (yellow). */
export type Tone = "bad" | "good" | "unsure";

const SGR: Readonly<Record<Tone, string>> = { bad: "31", good: "32", unsure: "33" };

/** Wraps text the program wrote itself (never a value from input) in the tone's colour. */
export function paint(tone: Tone, text: string): string {
  return `\x1b[${SGR[tone]}m${text}\x1b[0m`;
}

/** Column-0 words of `diagnose`'s text and their tones: group 1 stays plain, group 2 is coloured. */
const LEAD: readonly (readonly [RegExp, Tone])[] = [
  [/^(VERDICT: )(BROKEN)\b/, "bad"],
  [/^(VERDICT: )(REACHABLE|HEALTHY)\b/, "good"],
  [/^(VERDICT: )(UNDECIDED)\b/, "unsure"],
  [/^()(AT RISK)(?=:)/, "unsure"],
  [/^()(ERROR)\b/, "bad"],
  [/^()(WARN)\b/, "unsure"],
];

/** Check marks at the start of a line of the Checks section. */
const MARKS: readonly (readonly [string, Tone])[] = [
  ["  [ok]", "good"],
  ["  [FAIL]", "bad"],
  ["  [risk]", "unsure"],
  ["  [?]", "unsure"],
];

/**
 * Colours the text of `netdoctor diagnose` (report/render-diagnosis-text.ts): the verdict line's
 * verdict, `AT RISK:`, the check marks of the Checks section and the ERROR/WARN of findings.
 */
export function colourDiagnosisText(text: string): string {
  let inChecks = false;
  return text
    .split("\n")
    .map((line) => {
      if (line !== "" && !line.startsWith(" ")) inChecks = line === "Checks:";
      if (inChecks) {
        for (const [mark, tone] of MARKS) {
          if (line.startsWith(`${mark} `)) return `  ${paint(tone, mark.slice(2))}${line.slice(mark.length)}`;
        }
        return line;
      }
      for (const [re, tone] of LEAD) {
        const m = re.exec(line);
        if (m !== null) return m[1]! + paint(tone, m[2]!) + line.slice(m[0].length);
      }
      return line;
    })
    .join("\n");
}
