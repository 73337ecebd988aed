/**
 * How SnakeYAML (Spring Boot's YAML parser, YAML 1.1 rules) reads a plain scalar, and the string
 * Spring then binds: `on` and `yes` are booleans (`"true"`), `010` is octal (`"8"`), `1:30` is
 * base 60 (`"90"`), `1_000` is `"1000"`, `1.50` is `"1.5"`, `~` is empty. Unlike the YAML 1.1
 * spec (and the `yaml` package), SnakeYAML does not read `y`/`n` as booleans, and Spring Boot
 * turns off timestamps, so `2024-01-01` stays a string.
 */

const BOOL = /^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/;
const INT =
  /^(?:[-+]?0b_*[0-1]+[0-1_]*|[-+]?0_*[0-7]+[0-7_]*|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x_*[0-9a-fA-F]+[0-9a-fA-F_]*|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$/;
const FLOAT =
  /^(?:[-+]?(?:\.[0-9]+|[0-9_]+(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;
const NULL = /^(?:~|null|Null|NULL| )?$/;

function sexagesimal(body: string): number {
  let value = 0;
  for (const digit of body.split(":")) value = value * 60 + Number(digit);
  return value;
}

function intToString(text: string): string {
  let s = text.replace(/_/g, "");
  let sign = "";
  if (s.startsWith("-") || s.startsWith("+")) {
    if (s[0] === "-") sign = "-";
    s = s.slice(1);
  }
  let v: bigint;
  if (s === "0") v = 0n;
  else if (s.startsWith("0b")) v = BigInt(`0b${s.slice(2)}`);
  else if (s.startsWith("0x")) v = BigInt(`0x${s.slice(2)}`);
  else if (s.startsWith("0")) v = BigInt(`0o${s.slice(1)}`);
  else if (s.includes(":")) v = BigInt(sexagesimal(s));
  else v = BigInt(s);
  if (v === 0n) return "0";
  return `${sign}${v}`;
}

/** Formats a double as Java's `Double.toString` does. */
export function javaDoubleToString(d: number): string {
  if (Number.isNaN(d)) return "NaN";
  if (d === Number.POSITIVE_INFINITY) return "Infinity";
  if (d === Number.NEGATIVE_INFINITY) return "-Infinity";
  if (d === 0) return Object.is(d, -0) ? "-0.0" : "0.0";
  const abs = Math.abs(d);
  if (abs >= 1e-3 && abs < 1e7) {
    const s = String(d);
    return s.includes(".") ? s : `${s}.0`;
  }
  const [mantissa, exp] = d.toExponential().split("e") as [string, string];
  const m = mantissa.includes(".") ? mantissa : `${mantissa}.0`;
  return `${m}E${exp.startsWith("+") ? exp.slice(1) : exp}`;
}

function floatToString(text: string): string {
  const s = text.replace(/_/g, "");
  const lower = s.toLowerCase();
  if (lower === ".nan") return "NaN";
  if (lower.endsWith(".inf")) return s.startsWith("-") ? "-Infinity" : "Infinity";
  if (s.includes(":")) {
    const neg = s.startsWith("-");
    const body = s.replace(/^[-+]/, "");
    const dot = body.lastIndexOf(".");
    const v = sexagesimal(body.slice(0, dot)) + Number(`0${body.slice(dot)}`);
    return javaDoubleToString(neg ? -v : v);
  }
  return javaDoubleToString(Number(s));
}

/** The kind SnakeYAML resolves a plain scalar to. */
export type ScalarKind = "bool" | "int" | "float" | "null" | "str";

export function plainScalarKind(text: string): ScalarKind {
  if (NULL.test(text)) return "null";
  if (BOOL.test(text)) return "bool";
  if (INT.test(text)) return "int";
  if (FLOAT.test(text)) return "float";
  return "str";
}

/** The string Spring binds for a plain (unquoted, untagged) YAML scalar; `undefined` for null. */
export function springPlainScalar(text: string): string | undefined {
  const kind = plainScalarKind(text);
  switch (kind) {
    case "null":
      return undefined;
    case "bool":
      return /^(?:yes|true|on)$/i.test(text) ? "true" : "false";
    case "int":
      return intToString(text);
    case "float":
      return floatToString(text);
    case "str":
      return text;
    default: {
      const unreachable: never = kind;
      return unreachable;
    }
  }
}
