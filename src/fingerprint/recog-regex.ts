// Stage: fingerprint (import). Translates Recog's Ruby (Onigmo) regular expressions to JavaScript ones with the same
// meaning, or says why one cannot be translated. Ruby's ^ and $ are line anchors and "m" means dot-all; Node 20 has
// no inline or scoped flags, so case-insensitive regions are expanded by hand.

export type Translation = { ok: true; source: string; flags: string; approximations: string[] } | { ok: false; reason: string };

const POSIX: Record<string, string> = {
  alpha: 'a-zA-Z', digit: '0-9', alnum: 'a-zA-Z0-9', upper: 'A-Z', lower: 'a-z', space: '\\s', blank: ' \\t',
  xdigit: '0-9a-fA-F', word: '\\w', punct: '!-\\/:-@\\[-`{-~', print: '\\x20-\\x7e', graph: '\\x21-\\x7e', cntrl: '\\x00-\\x1f\\x7f',
};

const isLetter = (c: string) => /^[A-Za-z]$/.test(c);
const other = (c: string) => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase());

interface Scope {
  ci: boolean;
  dotAll: boolean;
}

/**
 * Translate one Recog pattern. `recogFlags` is the fingerprint's flags attribute (REG_ICASE, REG_MULTILINE,
 * REG_DOT_NEWLINE). The result always carries the JavaScript "m" flag, so ^ and $ keep Ruby's line meaning.
 */
export function translateRubyRegex(pattern: string, recogFlags = ''): Translation {
  const approximations: string[] = [];
  let globalCi = /REG_ICASE/.test(recogFlags);
  let globalDotAll = /REG_MULTILINE|REG_DOT_NEWLINE/.test(recogFlags);
  let src = pattern;
  // Leading inline flags (possibly after anchors) apply to the whole pattern: make them real flags.
  const lead = /^((?:\^|\\A)?)\(\?([imx]+)\)/.exec(src);
  if (lead) {
    if (lead[2]!.includes('x')) return { ok: false, reason: 'extended (x) mode' };
    if (lead[2]!.includes('i')) globalCi = true;
    if (lead[2]!.includes('m')) globalDotAll = true;
    src = lead[1]! + src.slice(lead[0].length);
  }

  let out = '';
  const stack: Scope[] = [];
  let scope: Scope = { ci: false, dotAll: globalDotAll };
  // Ruby: once a pattern has a named group, plain parentheses do not capture.
  const hasNamed = /\(\?<[A-Za-z_]/.test(src);
  if (hasNamed && /\((?!\?)/.test(src.replace(/\\./g, '').replace(/\[(?:\\.|[^\]])*\]/g, ''))) {
    return { ok: false, reason: 'mixes named and numbered groups (Ruby numbers them differently)' };
  }

  const fold = (c: string) => (scope.ci && !globalCi && isLetter(c) ? `[${c}${other(c)}]` : c);
  let i = 0;
  const n = src.length;
  while (i < n) {
    const c = src[i]!;
    if (c === '\\') {
      const e = src[i + 1];
      if (e === undefined) return { ok: false, reason: 'trailing backslash' };
      i += 2;
      switch (e) {
        case 'A': out += '(?<![\\s\\S])'; break;
        case 'z': out += '(?![\\s\\S])'; break;
        case 'Z': out += '(?=\\n?(?![\\s\\S]))'; break;
        case 'h': out += '[0-9a-fA-F]'; break;
        case 'H': out += '[^0-9a-fA-F]'; break;
        case 'e': out += '\\x1b'; break;
        case 'a': out += '\\x07'; break;
        case 'R': out += '(?:\\r\\n|[\\n\\v\\f\\r\\x85\\u2028\\u2029])'; break;
        case 'G': case 'K': case 'X': case 'g': case 'p': case 'P':
          return { ok: false, reason: `\\${e} has no JavaScript equivalent without the u flag` };
        default:
          if (isLetter(e) && !'dDwWsSbBnrtfvxuc0'.includes(e) && !/[0-9]/.test(e)) {
            // Ruby treats unknown letter escapes as the letter; JavaScript would too, but be explicit.
            out += fold(e);
          } else out += '\\' + e;
      }
      continue;
    }
    if (c === '[') {
      const cls = translateClass(src, i, scope.ci && !globalCi);
      if (!cls.ok) return { ok: false, reason: cls.reason };
      out += cls.source;
      i = cls.end;
      continue;
    }
    if (c === '(') {
      if (src.startsWith('(?#', i)) {
        const end = src.indexOf(')', i);
        if (end < 0) return { ok: false, reason: 'unterminated comment' };
        i = end + 1;
        continue;
      }
      const flagGroup = /^\(\?([imx]*)(?:-([imx]+))?(:|\))/.exec(src.slice(i, i + 12));
      if (flagGroup && (flagGroup[1] || flagGroup[2])) {
        const on = flagGroup[1] ?? '';
        const off = flagGroup[2] ?? '';
        if (on.includes('x') || off.includes('x')) return { ok: false, reason: 'extended (x) mode' };
        if (off.includes('i') && (globalCi || scope.ci)) return { ok: false, reason: 'turns case-insensitivity off in a case-insensitive pattern' };
        const next: Scope = { ci: scope.ci || on.includes('i'), dotAll: off.includes('m') ? false : scope.dotAll || on.includes('m') };
        if (flagGroup[3] === ':') {
          stack.push(scope);
          scope = next;
          out += '(?:';
        } else scope = next; // "(?i)" mid-pattern: the rest of the enclosing group
        i += flagGroup[0].length;
        continue;
      }
      if (src.startsWith('(?>', i)) {
        approximations.push('atomic group as a plain group');
        stack.push(scope);
        out += '(?:';
        i += 3;
        continue;
      }
      if (src.startsWith('(?~', i)) return { ok: false, reason: 'absence operator' };
      if (/^\(\?(?:[:=!]|<[=!]|<[A-Za-z_])/.test(src.slice(i, i + 4)) || src[i + 1] !== '?') {
        stack.push(scope);
        const m = /^\((?:\?(?:[:=!]|<[=!]|<[A-Za-z_]\w*>))?/.exec(src.slice(i))!;
        out += m[0];
        i += m[0].length;
        continue;
      }
      if (src.startsWith("(?'", i)) return { ok: false, reason: "Ruby (?'name') group" };
      return { ok: false, reason: `unsupported group ${JSON.stringify(src.slice(i, i + 4))}` };
    }
    if (c === ')') {
      scope = stack.pop() ?? scope;
      out += ')';
      i++;
      continue;
    }
    if (c === '.') {
      out += scope.dotAll ? '[\\s\\S]' : '[^\\n]';
      i++;
      continue;
    }
    if (c === '{') {
      const q = /^\{(\d*),(\d+)\}|^\{(\d+)(,?)\}/.exec(src.slice(i));
      if (q) {
        out += q[1] === '' ? `{0,${q[2]}}` : q[0];
        i += q[0].length;
        if (src[i] === '+') {
          approximations.push('possessive quantifier as greedy');
          i++;
        }
        continue;
      }
      out += '\\{';
      i++;
      continue;
    }
    if (c === '}') {
      out += '\\}';
      i++;
      continue;
    }
    if ((c === '*' || c === '+' || c === '?') && src[i + 1] === '+') {
      approximations.push('possessive quantifier as greedy');
      out += c;
      i += 2;
      continue;
    }
    out += fold(c);
    i++;
  }
  // "(x+)*" and "(x*)*" over a single atom backtrack exponentially in JavaScript on a near miss; "(x+)?" matches the
  // same text with the same capture (the greedy first iteration takes the whole run), so use it.
  out = out.replace(/(?<!\\)\((\?:)?(\[(?:\\.|[^\]\\])*\]|\\[dDwWsS]|[^()\\[\]|*+?{}])([+*])\)\*/g, (_, nc: string | undefined, atom: string, q: string) =>
    `(${nc ?? ''}${atom}${q})?`,
  );
  const flags = 'm' + (globalCi ? 'i' : '');
  try {
    new RegExp(out, flags);
  } catch (e) {
    return { ok: false, reason: `JavaScript rejects the translation: ${(e as Error).message}` };
  }
  return { ok: true, source: out, flags, approximations };
}

/** A bracket expression: POSIX classes expanded, \h expanded, letters doubled in case-insensitive regions. */
function translateClass(src: string, start: number, ci: boolean): { ok: true; source: string; end: number } | { ok: false; reason: string } {
  let i = start + 1;
  let out = '[';
  if (src[i] === '^') {
    out += '^';
    i++;
  }
  // A "]" right after "[" or "[^" is a literal in Ruby; in JavaScript "[]" is an empty class.
  if (src[i] === ']') {
    out += '\\]';
    i++;
  }
  const extra: string[] = [];
  while (i < src.length && src[i] !== ']') {
    const c = src[i]!;
    if (c === '[') {
      const posix = /^\[:(\^?)([a-z]+):\]/.exec(src.slice(i));
      if (posix && POSIX[posix[2]!] && !posix[1]) {
        out += POSIX[posix[2]!];
        i += posix[0].length;
        continue;
      }
      if (src.startsWith('&&', i - 2) || posix) return { ok: false, reason: 'nested or negated class set' };
      out += '\\[';
      i++;
      continue;
    }
    if (c === '&' && src[i + 1] === '&') return { ok: false, reason: 'class intersection (&&)' };
    if (c === '\\') {
      const e = src[i + 1];
      if (e === undefined) return { ok: false, reason: 'trailing backslash' };
      if (e === 'h') out += '0-9a-fA-F';
      else if (e === 'H' || e === 'p' || e === 'P') return { ok: false, reason: `\\${e} inside a class` };
      else if (e === 'e') out += '\\x1b';
      else if (e === 'a') out += '\\x07';
      else out += '\\' + e;
      i += 2;
      continue;
    }
    // a-z style range with letters: add the other case in a case-insensitive region.
    if (ci && isLetter(c) && src[i + 1] === '-' && src[i + 2] && isLetter(src[i + 2]!) && src[i + 2] !== ']') {
      const hi = src[i + 2]!;
      out += `${c}-${hi}`;
      if ((c === c.toLowerCase()) === (hi === hi.toLowerCase())) extra.push(`${other(c)}-${other(hi)}`);
      i += 3;
      continue;
    }
    if (ci && isLetter(c)) extra.push(other(c));
    out += c;
    i++;
  }
  if (i >= src.length) return { ok: false, reason: 'unterminated class' };
  out += extra.join('') + ']';
  return { ok: true, source: out, end: i + 1 };
}
