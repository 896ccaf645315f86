/**
 * A reader for the subset of the nats-server configuration format that deploy/nats/nats-server.conf
 * uses, so that tests can compare it with other renderings of the same configuration (the Helm
 * values in deploy/nats/values.yaml). Not a full implementation: no `include`, no variable
 * definitions, no units on numbers. It refuses what it does not understand rather than guess.
 *
 * - `#` and `//` start a comment that runs to the end of the line (outside quotes);
 * - a key is followed by `:`, `=` or nothing (`authorization { ... }`), then its value;
 * - values: `{ ... }` maps, `[ ... ]` arrays, quoted strings, bare words (true/false, numbers,
 *   strings) and `$NAME` variable references, kept as `{ variable: 'NAME' }` since their value
 *   comes from the environment the server runs in;
 * - entries and array items are separated by newlines, commas or semicolons.
 */

export interface NatsVariable {
  variable: string;
}
export type NatsValue = string | number | boolean | NatsVariable | NatsValue[] | NatsMap;
export interface NatsMap {
  [key: string]: NatsValue;
}

type Token =
  | { kind: '{' | '}' | '[' | ']' | 'assign' | 'separator'; line: number }
  | { kind: 'string'; value: string; line: number }
  | { kind: 'word'; value: string; line: number };

const ESCAPES: Record<string, string> = {
  n: '\n',
  t: '\t',
  r: '\r',
  '"': '"',
  "'": "'",
  '\\': '\\',
};

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let line = 1;
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '\n') {
      tokens.push({ kind: 'separator', line });
      line++;
      i++;
    } else if (c === ' ' || c === '\t' || c === '\r') {
      i++;
    } else if (c === '#' || (c === '/' && text[i + 1] === '/')) {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '{' || c === '}' || c === '[' || c === ']') {
      tokens.push({ kind: c, line });
      i++;
    } else if (c === ':' || c === '=') {
      tokens.push({ kind: 'assign', line });
      i++;
    } else if (c === ',' || c === ';') {
      tokens.push({ kind: 'separator', line });
      i++;
    } else if (c === '"' || c === "'") {
      const start = line;
      let value = '';
      i++;
      for (;;) {
        if (i >= text.length) throw new Error(`line ${start}: unterminated string`);
        const d = text[i];
        if (d === c) break;
        if (d === '\n') line++;
        if (d === '\\' && c === '"') {
          const escaped = ESCAPES[text[i + 1]];
          if (escaped === undefined)
            throw new Error(`line ${line}: unknown escape \\${text[i + 1]}`);
          value += escaped;
          i += 2;
        } else {
          value += d;
          i++;
        }
      }
      i++;
      tokens.push({ kind: 'string', value, line: start });
    } else {
      let value = '';
      while (i < text.length && !/[\s{}[\]:=,;#"']/.test(text[i])) value += text[i++];
      tokens.push({ kind: 'word', value, line });
    }
  }
  return tokens;
}

function fromWord(word: string, line: number): NatsValue {
  if (word.startsWith('$')) {
    if (!/^\$[A-Za-z_][A-Za-z0-9_]*$/.test(word))
      throw new Error(`line ${line}: bad variable ${word}`);
    return { variable: word.slice(1) };
  }
  if (word === 'true') return true;
  if (word === 'false') return false;
  if (/^-?\d+(\.\d+)?$/.test(word)) return Number(word);
  return word;
}

class Parser {
  private i = 0;
  constructor(private readonly tokens: Token[]) {}

  /** Entries up to `}` (or the end of the text, for the top level). */
  map(closing: '}' | 'end'): NatsMap {
    const map: NatsMap = {};
    for (;;) {
      this.skipSeparators();
      const token = this.tokens[this.i];
      if (!token) {
        if (closing === 'end') return map;
        throw new Error('unexpected end of configuration: missing }');
      }
      if (token.kind === '}' && closing === '}') {
        this.i++;
        return map;
      }
      if (token.kind !== 'word' && token.kind !== 'string')
        throw new Error(`line ${token.line}: expected a key, found ${token.kind}`);
      this.i++;
      if (this.tokens[this.i]?.kind === 'assign') this.i++;
      map[token.value] = this.value(token.line);
    }
  }

  private array(): NatsValue[] {
    const items: NatsValue[] = [];
    for (;;) {
      this.skipSeparators();
      const token = this.tokens[this.i];
      if (!token) throw new Error('unexpected end of configuration: missing ]');
      if (token.kind === ']') {
        this.i++;
        return items;
      }
      items.push(this.value(token.line));
    }
  }

  private value(keyLine: number): NatsValue {
    const token = this.tokens[this.i++];
    if (!token) throw new Error(`line ${keyLine}: missing value`);
    switch (token.kind) {
      case '{':
        return this.map('}');
      case '[':
        return this.array();
      case 'string':
        return token.value;
      case 'word':
        return fromWord(token.value, token.line);
      default:
        throw new Error(`line ${token.line}: expected a value, found ${token.kind}`);
    }
  }

  private skipSeparators() {
    while (this.tokens[this.i]?.kind === 'separator') this.i++;
  }
}

/** The configuration as plain objects (see the module comment for what is understood). */
export function parseNatsConf(text: string): NatsMap {
  return new Parser(tokenize(text)).map('end');
}
