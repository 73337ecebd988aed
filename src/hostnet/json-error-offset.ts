/**
 * Where JSON text first goes wrong. V8's JSON.parse messages name the position only for some
 * errors (Node 20: `Unexpected token '}', "..." is not valid JSON` has none), so parse errors are
 * located by this small scanner instead; it accepts exactly RFC 8259 JSON.
 */

const WS = new Set([" ", "\t", "\n", "\r"]);

class Scan {
  i = 0;
  constructor(readonly t: string) {}
  ws(): void {
    while (this.i < this.t.length && WS.has(this.t[this.i]!)) this.i++;
  }
  fail(): never {
    throw this.i;
  }
  value(): void {
    this.ws();
    const c = this.t[this.i];
    if (c === "{") {
      this.container("}", true);
      return;
    }
    if (c === "[") {
      this.container("]", false);
      return;
    }
    if (c === '"') {
      this.string();
      return;
    }
    for (const lit of ["true", "false", "null"]) {
      if (this.t.startsWith(lit, this.i)) {
        this.i += lit.length;
        return;
      }
    }
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(this.t.slice(this.i, this.i + 64));
    if (m === null) this.fail();
    this.i += m[0].length;
  }
  container(close: string, keyed: boolean): void {
    this.i++;
    this.ws();
    if (this.t[this.i] === close) {
      this.i++;
      return;
    }
    for (;;) {
      if (keyed) {
        this.ws();
        if (this.t[this.i] !== '"') this.fail();
        this.string();
        this.ws();
        if (this.t[this.i] !== ":") this.fail();
        this.i++;
      }
      this.value();
      this.ws();
      const c = this.t[this.i];
      if (c === close) {
        this.i++;
        return;
      }
      if (c !== ",") this.fail();
      this.i++;
    }
  }
  string(): void {
    this.i++;
    while (this.i < this.t.length) {
      const c = this.t[this.i]!;
      if (c === '"') {
        this.i++;
        return;
      }
      if (c === "\\") this.i++;
      else if (c < " ") this.fail();
      this.i++;
    }
    this.fail();
  }
}

/** Offset of the first character that makes `text` invalid JSON, or undefined when it is valid. */
export function jsonErrorOffset(text: string): number | undefined {
  const s = new Scan(text);
  try {
    s.value();
    s.ws();
    if (s.i < text.length) s.fail();
    return undefined;
  } catch (at) {
    if (typeof at === "number") return Math.min(at, text.length);
    throw at;
  }
}
