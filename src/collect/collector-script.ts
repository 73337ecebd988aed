import { NODE_COMMANDS, type NodeCommand } from "./node-commands.ts";

/**
 * Frame format of the collector pod's log (version 1). Each command's stdout and stderr become one
 * section: a `@@begin STEM STREAM BYTES` line, the gzip-compressed bytes in base64 lines, and a
 * `@@end STEM STREAM` line; then `@@exit STEM CODE`. The log ends with `@@done`.
 *
 * Why this shape: base64 lines can never start with `@`, so hostile text in rules (comments can hold
 * anything) cannot forge a marker; gzip keeps a leaked 180,000-rule dump far below the kubelet's
 * 10 MiB log rotation size; BYTES lets the reader prove nothing was cut.
 */
export const FRAME_HEADER = "@@netdoctor-frames v1";

function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * The POSIX sh script the collector pod runs (busybox is enough: sh, gzip, base64, wc, chroot).
 * `ND_PREFIX` is how a command reaches the host's binaries; the pod sets it to `chroot /host`, tests
 * set it to nothing and put fake binaries on PATH.
 */
export function collectorScript(commands: readonly NodeCommand[] = NODE_COMMANDS): string {
  const runs = commands.map((c) => `run ${c.stem} ${c.argv.map(shellQuote).join(" ")}`);
  return [
    "set +e",
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion, not a JS template
    'T="${TMPDIR:-/tmp}"',
    "emit() {",
    '  echo "@@begin $1 $2 $(( $(wc -c < "$3") ))"',
    '  gzip -c < "$3" | base64',
    '  echo "@@end $1 $2"',
    "}",
    "run() {",
    "  stem=$1; shift",
    '  $ND_PREFIX "$@" < /dev/null > "$T/nd.out" 2> "$T/nd.err"',
    "  rc=$?",
    '  emit "$stem" stdout "$T/nd.out"',
    '  emit "$stem" stderr "$T/nd.err"',
    '  echo "@@exit $stem $rc"',
    '  rm -f "$T/nd.out" "$T/nd.err"',
    "}",
    `echo ${shellQuote(FRAME_HEADER)}`,
    ...runs,
    "echo @@done",
    "",
  ].join("\n");
}
