// Stage: fingerprint (compile). Makes classification fast: from each regular expression we derive literals of
// which at least one must occur in any text it matches, and one Aho-Corasick automaton per field finds, in a single
// pass over the text, which rules can possibly match. Only those rules' expressions run.

/** Literals shorter than this occur too often to be worth indexing; such rules always run. */
const MIN_LITERAL = 3;

type Needs = string[] | null;

interface Cursor {
  src: string;
  i: number;
}

/**
 * Literals (lower-cased ASCII) of which every match of the JavaScript regex `source` contains at least one, or
 * null when none can be derived. Sound, never complete: a null only costs speed.
 */
export function requiredLiterals(source: string): string[] | null {
  const cur: Cursor = { src: source, i: 0 };
  try {
    const need = parseAlternation(cur);
    if (cur.i < source.length) return null;
    if (!need || need.some((l) => l.length < MIN_LITERAL)) return null;
    return [...new Set(need)];
  } catch {
    return null;
  }
}

function score(n: Needs): number {
  if (!n || !n.length) return -1;
  let min = Infinity;
  for (const s of n) min = Math.min(min, s.length);
  // Many alternatives each cost an automaton hit check; prefer a single long literal at equal length.
  return min * 4 - Math.min(3, Math.floor(n.length / 8));
}

function parseAlternation(cur: Cursor): Needs {
  const branches: Needs[] = [parseSequence(cur)];
  while (cur.src[cur.i] === '|') {
    cur.i++;
    branches.push(parseSequence(cur));
  }
  if (branches.some((b) => !b)) return null;
  return branches.flatMap((b) => b!);
}

interface Atom {
  /** a single literal character (already lower-cased), when the atom is one */
  ch?: string;
  need: Needs;
  zeroWidth?: boolean;
}

function parseSequence(cur: Cursor): Needs {
  const { src } = cur;
  let best: Needs = null;
  let run = '';
  const closeRun = () => {
    if (run && score([run]) > score(best)) best = [run];
    run = '';
  };
  while (cur.i < src.length && src[cur.i] !== '|' && src[cur.i] !== ')') {
    const atom = parseAtom(cur);
    const q = parseQuantifier(cur);
    if (atom.zeroWidth) {
      closeRun();
      continue;
    }
    if (q === 'optional') {
      closeRun();
      continue;
    }
    if (atom.ch !== undefined) {
      run += atom.ch;
      if (q === 'repeat') closeRun();
      continue;
    }
    closeRun();
    if (atom.need && score(atom.need) > score(best)) best = atom.need;
  }
  closeRun();
  return best;
}

/** 'once' (no quantifier), 'repeat' (at least once, maybe more), 'optional' (may be absent). */
function parseQuantifier(cur: Cursor): 'once' | 'repeat' | 'optional' {
  const { src } = cur;
  const c = src[cur.i];
  let kind: 'once' | 'repeat' | 'optional' = 'once';
  if (c === '*' || c === '?') {
    kind = 'optional';
    cur.i++;
  } else if (c === '+') {
    kind = 'repeat';
    cur.i++;
  } else if (c === '{') {
    const m = /^\{(\d+)(,(\d*))?\}/.exec(src.slice(cur.i));
    if (!m) return 'once';
    cur.i += m[0].length;
    const min = Number(m[1]);
    kind = min === 0 ? 'optional' : min === 1 && !m[2] ? 'once' : 'repeat';
  } else return 'once';
  if (src[cur.i] === '?') cur.i++;
  return kind;
}

function literal(code: number): Atom {
  if (code >= 128) return { need: null };
  return { ch: String.fromCharCode(code).toLowerCase(), need: null };
}

function parseAtom(cur: Cursor): Atom {
  const { src } = cur;
  const c = src[cur.i]!;
  if (c === '\\') return parseEscape(cur);
  if (c === '^' || c === '$') {
    cur.i++;
    return { need: null, zeroWidth: true };
  }
  if (c === '.') {
    cur.i++;
    return { need: null };
  }
  if (c === '[') {
    cur.i++;
    if (src[cur.i] === '^') cur.i++;
    // In JavaScript "[]" is an empty class and "]" first is not special.
    while (cur.i < src.length && src[cur.i] !== ']') cur.i += src[cur.i] === '\\' ? 2 : 1;
    if (cur.i >= src.length) throw new Error('unterminated class');
    cur.i++;
    return { need: null };
  }
  if (c === '(') {
    cur.i++;
    let lookaround = false;
    if (src[cur.i] === '?') {
      const rest = src.slice(cur.i, cur.i + 3);
      if (rest.startsWith('?:')) cur.i += 2;
      else if (rest.startsWith('?=') || rest.startsWith('?!')) {
        cur.i += 2;
        lookaround = true;
      } else if (rest === '?<=' || rest === '?<!') {
        cur.i += 3;
        lookaround = true;
      } else if (rest.startsWith('?<')) {
        const end = src.indexOf('>', cur.i);
        if (end < 0) throw new Error('bad group name');
        cur.i = end + 1;
      } else throw new Error('unknown group');
    }
    const inner = parseAlternation(cur);
    if (src[cur.i] !== ')') throw new Error('unbalanced');
    cur.i++;
    return lookaround ? { need: null, zeroWidth: true } : { need: inner };
  }
  cur.i++;
  return literal(c.charCodeAt(0));
}

function parseEscape(cur: Cursor): Atom {
  const { src } = cur;
  const e = src[cur.i + 1];
  if (e === undefined) throw new Error('trailing backslash');
  cur.i += 2;
  switch (e) {
    case 'b':
    case 'B':
      return { need: null, zeroWidth: true };
    case 'd': case 'D': case 'w': case 'W': case 's': case 'S':
      return { need: null };
    case 'n': return literal(10);
    case 'r': return literal(13);
    case 't': return literal(9);
    case 'f': return literal(12);
    case 'v': return literal(11);
    case 'x': {
      const m = /^[0-9a-fA-F]{2}/.exec(src.slice(cur.i));
      if (!m) return literal('x'.charCodeAt(0));
      cur.i += 2;
      return literal(parseInt(m[0], 16));
    }
    case 'u': {
      const m = /^[0-9a-fA-F]{4}/.exec(src.slice(cur.i));
      if (!m) return literal('u'.charCodeAt(0));
      cur.i += 4;
      return literal(parseInt(m[0], 16));
    }
    case 'c':
      cur.i++;
      return { need: null };
    case 'k': {
      if (src[cur.i] === '<') {
        const end = src.indexOf('>', cur.i);
        if (end > 0) cur.i = end + 1;
      }
      return { need: null };
    }
    case '0':
      return literal(0);
    default:
      if (/[1-9]/.test(e)) {
        while (/[0-9]/.test(src[cur.i] ?? '')) cur.i++;
        return { need: null };
      }
      return literal(e.charCodeAt(0));
  }
}

/** ASCII upper case folds onto lower case; every non-ASCII character is one class that no literal contains. */
const ALPHABET = 129;
const CLASS_OF = new Uint8Array(128);
for (let c = 0; c < 128; c++) CLASS_OF[c] = c >= 65 && c <= 90 ? c + 32 : c;

/** An Aho-Corasick automaton over lower-cased ASCII literals, each literal tagged with the rules needing it. */
export class LiteralIndex {
  private readonly next: Int32Array;
  /** per state: rule numbers whose literal ends here (fail-link outputs merged in) */
  private readonly out: (Int32Array | null)[];

  constructor(entries: { literal: string; rule: number }[]) {
    const children: Map<number, number>[] = [new Map()];
    const outSets: Set<number>[] = [new Set()];
    for (const { literal, rule } of entries) {
      let s = 0;
      for (let i = 0; i < literal.length; i++) {
        const code = literal.charCodeAt(i);
        const cls = code < 128 ? CLASS_OF[code]! : 128;
        let t = children[s]!.get(cls);
        if (t === undefined) {
          t = children.length;
          children.push(new Map());
          outSets.push(new Set());
          children[s]!.set(cls, t);
        }
        s = t;
      }
      outSets[s]!.add(rule);
    }
    const n = children.length;
    const next = new Int32Array(n * ALPHABET);
    const fail = new Int32Array(n);
    // Breadth-first: a state's failure target is complete before the state is visited.
    const queue: number[] = [];
    for (let a = 0; a < ALPHABET; a++) {
      const t = children[0]!.get(a);
      next[a] = t ?? 0;
      if (t !== undefined) queue.push(t);
    }
    for (let qi = 0; qi < queue.length; qi++) {
      const s = queue[qi]!;
      for (const r of outSets[fail[s]!]!) outSets[s]!.add(r);
      for (let a = 0; a < ALPHABET; a++) {
        const t = children[s]!.get(a);
        if (t !== undefined) {
          fail[t] = next[fail[s]! * ALPHABET + a]!;
          next[s * ALPHABET + a] = t;
          queue.push(t);
        } else next[s * ALPHABET + a] = next[fail[s]! * ALPHABET + a]!;
      }
    }
    this.next = next;
    this.out = outSets.map((o) => (o.size ? Int32Array.from(o) : null));
  }

  /** Call `hit(rule)` for every rule one of whose literals occurs in `text` (possibly more than once). */
  scan(text: string, hit: (rule: number) => void): void {
    const { next, out } = this;
    let s = 0;
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      s = next[s * ALPHABET + (code < 128 ? CLASS_OF[code]! : 128)]!;
      const o = out[s];
      if (o !== null && o !== undefined) for (let k = 0; k < o.length; k++) hit(o[k]!);
    }
  }
}
