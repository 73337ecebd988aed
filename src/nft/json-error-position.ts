/**
 * Where JSON text stops being valid JSON. V8's `JSON.parse` messages give a position only for some
 * errors ("Unexpected token '}', ... is not valid JSON" has none), and the house style wants line and
 * column for every unparsable input, so this small scanner finds the offending character itself.
 */

/** 1-indexed line and column of a character offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(offset, text.length);
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: end - lineStart + 1 };
}

class Scanner {
  i = 0;
  constructor(readonly s: string) {}

  ws(): void {
    while (this.i < this.s.length && " \t\n\r".includes(this.s[this.i]!)) this.i++;
  }

  value(depth: number): boolean {
    this.ws();
    if (depth > 512) return false;
    const c = this.s[this.i];
    if (c === "{") return this.object(depth);
    if (c === "[") return this.array(depth);
    if (c === '"') return this.string();
    for (const word of ["true", "false", "null"]) {
      if (this.s.startsWith(word, this.i)) {
        this.i += word.length;
        return true;
      }
    }
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(this.s.slice(this.i, this.i + 400));
    if (m === null) return false;
    this.i += m[0].length;
    return true;
  }

  string(): boolean {
    this.i++;
    while (this.i < this.s.length) {
      const c = this.s[this.i]!;
      if (c === '"') {
        this.i++;
        return true;
      }
      if (c.charCodeAt(0) < 32) return false;
      if (c === "\\") {
        const e = this.s[this.i + 1];
        if (e === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(this.s.slice(this.i + 2, this.i + 6))) return false;
          this.i += 6;
          continue;
        }
        if (e === undefined || !'"\\/bfnrt'.includes(e)) return false;
        this.i += 2;
        continue;
      }
      this.i++;
    }
    return false;
  }

  list(close: string, depth: number, item: () => boolean): boolean {
    this.i++;
    this.ws();
    if (this.s[this.i] === close) {
      this.i++;
      return true;
    }
    for (;;) {
      if (!item()) return false;
      this.ws();
      const c = this.s[this.i];
      if (c === close) {
        this.i++;
        return true;
      }
      if (c !== ",") return false;
      this.i++;
      void depth;
    }
  }

  object(depth: number): boolean {
    return this.list("}", depth, () => {
      this.ws();
      if (this.s[this.i] !== '"' || !this.string()) return false;
      this.ws();
      if (this.s[this.i] !== ":") return false;
      this.i++;
      return this.value(depth + 1);
    });
  }

  array(depth: number): boolean {
    return this.list("]", depth, () => this.value(depth + 1));
  }
}

/** Offset of the first character that makes `text` invalid JSON, or -1 when it is valid. */
export function jsonErrorPosition(text: string): number {
  const sc = new Scanner(text);
  if (!sc.value(0)) return sc.i;
  sc.ws();
  return sc.i < text.length ? sc.i : -1;
}
