/**
 * How the reader's byte path places a rule line in its chain, and recognises a copy of the chain's
 * previous rule. Internal to the reader.
 */
import { ChainIndex } from "./chain-index.ts";
import { grownInt32 } from "./grow-array.ts";

/** Chains remembered besides the last one (a power of two). */
const RECENT = 8;

/**
 * The chains of the table being read, found by the bytes of a rule's `-A NAME`, with what the reader
 * remembers per chain: where the chain's last rule text is (the number of the chunk it was read
 * from, its start and end there).
 *
 * Finding a chain usually costs a few byte compares and no hashing: iptables-save prints each chain's
 * rules together, in declaration order (so a new chain is one of the next few declared), and
 * kube-proxy's write order goes back and forth between a few chains (a Service's chain and its
 * endpoints' chains; a leak's copies between the chains it leaks into), which the last chain and
 * {@linkcode RECENT} recent ones catch. Anything else is looked up by its name's hash.
 */
export class RuleChains {
  chains = new ChainIndex();
  /** Position of the chain of the last rule, or -1. */
  last = -1;
  /** Chains of recent rules other than `last` (-1: none), replaced round-robin. */
  readonly #recent = new Int32Array(RECENT).fill(-1);
  #ring = 0;
  /** Whether the recent chains found the last chain change (see {@linkcode RuleChains.find}). */
  #recentFirst = false;
  /** Per chain: the chunk number of its last rule (0: none in this table), and where its text is. */
  lastChunk: Int32Array = new Int32Array(1024);
  lastStart: Int32Array = new Int32Array(1024);
  lastEnd: Int32Array = new Int32Array(1024);
  /** Per chain: the line number of its last rule (kept only while looking for repeated blocks). */
  lastLine: Int32Array = new Int32Array(1024);

  /** Starts a new table. */
  reset(): void {
    this.chains = new ChainIndex();
    this.last = -1;
    this.#recent.fill(-1);
    this.lastChunk.fill(0);
  }

  /**
   * The position of the declared chain whose name starts at `nameStart` and ends at a space or at
   * `end`, or -1. Makes it the last chain. The recent chains are tried before the next declared ones
   * when they found the last new chain (kube-proxy's order), after them otherwise (iptables-save's).
   */
  find(bytes: Uint8Array, nameStart: number, end: number): number {
    const last = this.last;
    if (last >= 0 && this.chains.isAt(last, bytes, nameStart, end)) return last;
    let pos = -1;
    if (this.#recentFirst) {
      pos = this.#fromRecent(bytes, nameStart, end);
      if (pos >= 0) return pos;
      pos = this.#fromNext(bytes, nameStart, end);
      this.#recentFirst = pos < 0;
    } else {
      pos = this.#fromNext(bytes, nameStart, end);
      if (pos < 0) {
        pos = this.#fromRecent(bytes, nameStart, end);
        if (pos >= 0) {
          this.#recentFirst = true;
          return pos;
        }
      }
    }
    if (pos < 0) {
      let sp = nameStart;
      while (sp < end && bytes[sp] !== 32) sp++;
      pos = this.chains.findBytes(bytes, nameStart, sp);
      if (pos < 0) return -1;
    }
    this.setLast(pos);
    return pos;
  }

  /** One of the next few declared chains (iptables-save prints the chains' rules in declaration order). */
  #fromNext(bytes: Uint8Array, nameStart: number, end: number): number {
    const chains = this.chains;
    for (let k = this.last + 1, stop = Math.min(this.last + 5, chains.size); k < stop; k++) {
      if (chains.isAt(k, bytes, nameStart, end)) return k;
    }
    return -1;
  }

  /** One of the recent chains, which becomes the last (the old last takes its place in the ring). */
  #fromRecent(bytes: Uint8Array, nameStart: number, end: number): number {
    const recent = this.#recent;
    for (let k = 0; k < RECENT; k++) {
      const c = recent[k]!;
      if (c >= 0 && this.chains.isAt(c, bytes, nameStart, end)) {
        recent[k] = this.last;
        this.last = c;
        return c;
      }
    }
    return -1;
  }

  /**
   * Makes chain `pos` the last chain (also for a rule read on the text path), with room for what is
   * remembered of it: the last chain and the recent ones always have that room.
   */
  setLast(pos: number): void {
    if (pos >= this.lastChunk.length) this.#grow(pos);
    if (pos !== this.last && this.last >= 0) {
      this.#recent[this.#ring] = this.last;
      this.#ring = (this.#ring + 1) & (RECENT - 1);
    }
    this.last = pos;
  }

  /** Remembers that chain `pos` (a chain found since the last reset) has its last rule text at `start..end` of chunk number `chunk`. */
  remember(pos: number, chunk: number, start: number, end: number): void {
    this.lastChunk[pos] = chunk;
    this.lastStart[pos] = start;
    this.lastEnd[pos] = end;
  }

  #grow(pos: number): void {
    const size = Math.max(pos + 1, this.lastChunk.length * 2);
    this.lastChunk = grownInt32(this.lastChunk, size);
    this.lastStart = grownInt32(this.lastStart, size);
    this.lastEnd = grownInt32(this.lastEnd, size);
    this.lastLine = grownInt32(this.lastLine, size);
  }
}
