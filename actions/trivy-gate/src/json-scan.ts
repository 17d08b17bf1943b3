/**
 * A byte-level JSON scanner: walks a JSON document once, reading the values a caller asks for and
 * skipping everything else (strings jumped over with indexOf, containers walked iteratively)
 * without allocating it. Skipped values are still checked structurally (strings closed, brackets
 * balanced, literals spelled right, numbers made of number characters); values that are read are
 * decoded exactly as JSON.parse would. A syntax error throws JsonSyntaxError naming the byte.
 *
 * The Trivy report reader (trivy-report.ts) is its one user; it knows nothing about Trivy.
 */

/** The input is not well-formed JSON (or not the shape the caller walks). */
export class JsonSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JsonSyntaxError';
  }
}

const QUOTE = 0x22;
const TRUE = [0x74, 0x72, 0x75, 0x65];
const FALSE = [0x66, 0x61, 0x6c, 0x73, 0x65];
const NULL = [0x6e, 0x75, 0x6c, 0x6c];
const BACKSLASH = 0x5c;

export class JsonScanner {
  p = 0;
  constructor(readonly b: Buffer) {}

  fail(what: string): never {
    const at = this.p >= this.b.length ? 'the end of the file' : `byte ${this.p}`;
    throw new JsonSyntaxError(`malformed JSON: ${what} at ${at}`);
  }

  /** Skips whitespace and returns the next byte (-1 at the end). */
  peek(): number {
    const b = this.b;
    let p = this.p;
    while (p < b.length) {
      const c = b[p] as number;
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) p++;
      else break;
    }
    this.p = p;
    return p < b.length ? (b[p] as number) : -1;
  }

  expect(c: number, what: string): void {
    if (this.peek() !== c) this.fail(`expected ${what}`);
    this.p++;
  }

  /** At an opening quote: returns the index of the closing quote. */
  private stringEnd(): number {
    const b = this.b;
    const start = this.p + 1;
    // Short strings (keys, IDs, versions) are scanned here; a native indexOf call costs more than
    // the loop for them. Long ones (descriptions) jump with indexOf.
    const lim = Math.min(b.length, start + 48);
    let from = start;
    for (let i = start; i < lim; i++) {
      if (b[i] === QUOTE) {
        if (b[i - 1] !== BACKSLASH || this.evenBackslashes(start, i)) return i;
      }
      from = i + 1;
    }
    for (;;) {
      const q = b.indexOf(QUOTE, from);
      if (q < 0) {
        this.p = b.length;
        this.fail('unterminated string');
      }
      if (b[q - 1] !== BACKSLASH || this.evenBackslashes(start, q)) return q;
      from = q + 1;
    }
  }

  /** Whether the quote at `q` is preceded by an even number of backslashes (so it closes the string). */
  private evenBackslashes(start: number, q: number): boolean {
    let n = 0;
    for (let i = q - 1; i >= start && this.b[i] === BACKSLASH; i--) n++;
    return n % 2 === 0;
  }

  readString(): string {
    if (this.peek() !== QUOTE) this.fail('expected a string');
    const start = this.p;
    const end = this.stringEnd();
    this.p = end + 1;
    const b = this.b;
    let plain = true;
    for (let i = start + 1; i < end; i++) {
      const c = b[i] as number;
      if (c === BACKSLASH || c < 0x20) {
        plain = false;
        break;
      }
    }
    if (plain) return b.toString('utf8', start + 1, end);
    try {
      return JSON.parse(b.toString('utf8', start, end + 1)) as string;
    } catch {
      this.p = start;
      return this.fail('bad escape or control character in string');
    }
  }

  skipString(): void {
    this.p = this.stringEnd() + 1;
  }

  /** A scalar the gate keeps: strings as they are, numbers and booleans as text; null as undefined. */
  readScalar(): string | number | undefined {
    const c = this.peek();
    if (c === QUOTE) return this.readString();
    if (c === 0x6e) {
      this.literal('null');
      return undefined;
    }
    if (c === 0x74 || c === 0x66) {
      this.literal(c === 0x74 ? 'true' : 'false');
      return undefined;
    }
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
    this.skipValue();
    return undefined;
  }

  literal(word: string): void {
    if (this.b.toString('latin1', this.p, this.p + word.length) !== word) this.fail(`expected ${word}`);
    this.p += word.length;
  }

  number(): number {
    const b = this.b;
    const start = this.p;
    let p = start;
    while (p < b.length) {
      const c = b[p] as number;
      if ((c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2b || c === 0x2e || c === 0x65 || c === 0x45) p++;
      else break;
    }
    const text = b.toString('latin1', start, p);
    if (!/^-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?$/.test(text)) this.fail('bad number');
    this.p = p;
    return Number(text);
  }

  /** Skips any value; containers are walked iteratively with strings jumped over. */
  skipValue(): void {
    const c = this.peek();
    if (c === QUOTE) return this.skipString();
    if (c === 0x7b || c === 0x5b) return this.skipContainer();
    if (c === 0x74) return this.literal('true');
    if (c === 0x66) return this.literal('false');
    if (c === 0x6e) return this.literal('null');
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      this.number();
      return;
    }
    this.fail(c < 0 ? 'unexpected end' : 'unexpected character');
  }

  private skipContainer(): void {
    const b = this.b;
    const stack: number[] = [];
    let p = this.p;
    while (p < b.length) {
      const c = b[p] as number;
      if (c === QUOTE) {
        this.p = p;
        this.skipString();
        p = this.p;
        continue;
      }
      if (c === 0x7b || c === 0x5b) stack.push(c === 0x7b ? 0x7d : 0x5d);
      else if (c === 0x7d || c === 0x5d) {
        if (stack.pop() !== c) {
          this.p = p;
          this.fail('mismatched bracket');
        }
        if (stack.length === 0) {
          this.p = p + 1;
          return;
        }
      } else if (c === 0x74 || c === 0x66 || c === 0x6e) {
        const word = c === 0x74 ? TRUE : c === 0x66 ? FALSE : NULL;
        for (let k = 1; k < word.length; k++) {
          if (b[p + k] !== word[k]) {
            this.p = p;
            this.fail('unexpected literal');
          }
        }
        p += word.length;
        continue;
      } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
        // Numbers inside skipped values: their characters are consumed, not converted.
        p++;
        while (p < b.length) {
          const d = b[p] as number;
          if ((d >= 0x30 && d <= 0x39) || d === 0x2e || d === 0x65 || d === 0x45 || d === 0x2b || d === 0x2d) p++;
          else break;
        }
        continue;
      } else if (!(c === 0x2c || c === 0x3a || c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09)) {
        this.p = p;
        this.fail('unexpected character');
      }
      p++;
    }
    this.p = p;
    this.fail('unterminated object or array');
  }

  /** Walks an object, calling `onKey` positioned at each value; onKey must consume the value. */
  object(onKey: (key: string) => void): void {
    this.expect(0x7b, "'{'");
    if (this.peek() === 0x7d) {
      this.p++;
      return;
    }
    for (;;) {
      const key = this.readString();
      this.expect(0x3a, "':'");
      onKey(key);
      const c = this.peek();
      this.p++;
      if (c === 0x2c) continue;
      if (c === 0x7d) return;
      this.p--;
      this.fail("expected ',' or '}'");
    }
  }

  /** Walks an array, calling `onItem` positioned at each item; onItem must consume it. */
  array(onItem: () => void): void {
    this.expect(0x5b, "'['");
    if (this.peek() === 0x5d) {
      this.p++;
      return;
    }
    for (;;) {
      onItem();
      const c = this.peek();
      this.p++;
      if (c === 0x2c) continue;
      if (c === 0x5d) return;
      this.p--;
      this.fail("expected ',' or ']'");
    }
  }

  /** null or an array. */
  nullableArray(onItem: () => void): void {
    if (this.peek() === 0x6e) return this.literal('null');
    if (this.peek() !== 0x5b) this.fail('expected an array');
    this.array(onItem);
  }
}
