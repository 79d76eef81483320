// Stage: knowledge (pure). Firmware-aware version comparison for matching devices to vulnerable ranges. Embedded
// firmware versions carry V prefixes, build numbers and dates ("V5.4.5 build 170124"), letter suffixes ("1.0.2k"),
// release-line prefixes ("h4.5.1" vs "c4.5.1") and free text; when two versions cannot be ordered with confidence
// the answer is 'undecidable', never a guess.

export type Order = -1 | 0 | 1;
export type Comparison = Order | 'undecidable';

const PRE_RELEASE: Record<string, number> = { alpha: 0, a: 0, beta: 1, b: 1, pre: 2, rc: 3 };

export interface ParsedVersion {
  /** a release-line prefix other than V ("h" in QNAP's h4.5.1, "c" in c4.5.1) */
  line: string;
  /** numeric components, trailing zeros removed */
  nums: number[];
  /** 'date' for a bare yyyymmdd, 'serial' for another bare number of six or more digits, else 'dotted' */
  shape: 'dotted' | 'date' | 'serial';
  /** after the numbers: none, a pre-release tag (rc1, beta2), a post-release letter (1.0.2k) or letters+digits (b01) */
  suffix: { kind: 'none' } | { kind: 'pre'; rank: number; n: number } | { kind: 'letter'; letter: string } | { kind: 'tagged'; tag: string; n: number };
  /** build number or build date ("build 170124", "Build 20230219") */
  build: number | null;
}

const MAX_VERSION_LENGTH = 100;

/** Parse a version, or null when it is not one we can order ("-", "*", free text, wildcards like "X.X"). */
export function parseVersion(raw: string): ParsedVersion | null {
  if (typeof raw !== 'string' || raw.length > MAX_VERSION_LENGTH) return null;
  let s = raw.trim().toLowerCase();
  if (!s || s === '-' || s === '*') return null;
  let line = '';
  const prefix = /^(?:version|ver\.?|v)\s*(?=\d)/.exec(s);
  if (prefix) s = s.slice(prefix[0].length);
  else {
    const lineM = /^([a-z]{1,2})(?=\d)/.exec(s);
    if (lineM) {
      line = lineM[1]!;
      s = s.slice(line.length);
    }
  }
  const main = /^(\d{1,12})((?:\.\d{1,12}){0,8})/.exec(s);
  if (!main) return null;
  let rest = s.slice(main[0].length);
  const nums = [main[1]!, ...main[2]!.split('.').slice(1)].map(Number);
  const shape: ParsedVersion['shape'] = nums.length === 1 && /^(19|20)\d{6}$/.test(main[1]!) ? 'date' : nums.length === 1 && main[1]!.length >= 6 ? 'serial' : 'dotted';
  let suffix: ParsedVersion['suffix'] = { kind: 'none' };
  const tag = /^[-.]?([a-z]+)\.?(\d*)/.exec(rest);
  if (tag && tag[1] !== 'build') {
    const word = tag[1]!;
    const n = tag[2] ? Number(tag[2]) : 0;
    if (word in PRE_RELEASE && (word.length > 1 || tag[2])) {
      // "rc1", "beta2", "alpha" — but a lone "a"/"b" with digits ("b01") is a vendor's own numbering
      suffix = word.length > 1 ? { kind: 'pre', rank: PRE_RELEASE[word]!, n } : { kind: 'tagged', tag: word, n };
    } else if (!tag[2] && word.length === 1) suffix = { kind: 'letter', letter: word };
    else if (tag[2]) suffix = { kind: 'tagged', tag: word, n };
    else return null;
    rest = rest.slice(tag[0].length);
  }
  let build: number | null = null;
  const b = /^[\s_(.-]*build[\s:._-]*(\d{1,14})\)?/.exec(rest);
  if (b) {
    build = Number(b[1]);
    rest = rest.slice(b[0].length);
  }
  if (rest.replace(/[\s)]+/g, '')) return null;
  while (nums.length > 1 && nums[nums.length - 1] === 0) nums.pop();
  return { line, nums, shape, suffix, build };
}

function cmp(a: number, b: number): Order {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareNums(a: number[], b: number[]): Order {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = cmp(a[i] ?? 0, b[i] ?? 0);
    if (c) return c;
  }
  return 0;
}

// Order of kinds that compare with each other: pre-release < release < post-release letter.
function suffixRank(s: ParsedVersion['suffix']): number {
  return s.kind === 'pre' ? 0 : s.kind === 'none' ? 1 : s.kind === 'letter' ? 2 : -1;
}

function compareSuffix(a: ParsedVersion['suffix'], b: ParsedVersion['suffix']): Comparison {
  if (a.kind === 'tagged' || b.kind === 'tagged') {
    if (a.kind === 'tagged' && b.kind === 'tagged' && a.tag === b.tag) return cmp(a.n, b.n);
    return 'undecidable';
  }
  const ra = suffixRank(a);
  const rb = suffixRank(b);
  if (ra !== rb) return cmp(ra, rb);
  if (a.kind === 'pre' && b.kind === 'pre') return cmp(a.rank, b.rank) || cmp(a.n, b.n);
  if (a.kind === 'letter' && b.kind === 'letter') return a.letter < b.letter ? -1 : a.letter > b.letter ? 1 : 0;
  return 0;
}

export function compareParsed(a: ParsedVersion, b: ParsedVersion): Comparison {
  if (a.line !== b.line || a.shape !== b.shape) return 'undecidable';
  const n = compareNums(a.nums, b.nums);
  if (n) return n;
  const s = compareSuffix(a.suffix, b.suffix);
  if (s !== 0) return s;
  if (a.build !== null && b.build !== null) return cmp(a.build, b.build);
  // "1.1.4 Build 20230219" against "1.1.4": which build a bare "1.1.4" means is unknown.
  if (a.build !== null || b.build !== null) return 'undecidable';
  return 0;
}

/** A version as comparison needs it: the trimmed lower-case text (equal texts are equal versions) and its parse. */
export interface PreparedVersion {
  readonly norm: string;
  readonly parsed: ParsedVersion | null;
  /** for a plain dotted release of at most three numbers below 1024 ("2.4.31"), a small integer that orders such
   *  versions as compareParsed does; -1 for any other version */
  readonly order: number;
}

function simpleOrder(p: ParsedVersion | null): number {
  if (!p || p.line !== '' || p.shape !== 'dotted' || p.suffix.kind !== 'none' || p.build !== null || p.nums.length > 3) return -1;
  let order = 0;
  for (let i = 0; i < 3; i++) {
    const n = p.nums[i] ?? 0;
    if (n >= 1024) return -1;
    order = order * 1024 + n;
  }
  return order;
}

// Matching compares the same few thousand range bounds and firmware strings again and again: prepare each once.
const preparedCache = new Map<string, PreparedVersion>();
const CACHE_LIMIT = 200_000;
export function prepareVersion(s: string): PreparedVersion {
  let p = preparedCache.get(s);
  if (p === undefined) {
    if (preparedCache.size >= CACHE_LIMIT) preparedCache.clear();
    const parsed = parseVersion(s);
    p = { norm: s.trim().toLowerCase(), parsed, order: simpleOrder(parsed) };
    preparedCache.set(s, p);
  }
  return p;
}

/** compareVersions over prepared versions. */
export function comparePrepared(a: PreparedVersion, b: PreparedVersion): Comparison {
  if (a.order >= 0 && b.order >= 0) return a.order < b.order ? -1 : a.order > b.order ? 1 : 0;
  if (a.norm !== '' && a.norm === b.norm) return 0;
  if (!a.parsed || !b.parsed) return 'undecidable';
  return compareParsed(a.parsed, b.parsed);
}

/** Compare two versions: -1, 0, 1, or 'undecidable'. Antisymmetric; transitive over decidable answers. */
export function compareVersions(a: string, b: string): Comparison {
  return comparePrepared(prepareVersion(a), prepareVersion(b));
}

export interface VersionRange {
  startIncluding?: string;
  startExcluding?: string;
  endIncluding?: string;
  endExcluding?: string;
}

export type RangeAnswer = boolean | 'undecidable';

/** A range with its bounds prepared; unbounded sides ("", "*", absent) are left out. */
export interface PreparedRange {
  startIncluding: PreparedVersion | null;
  startExcluding: PreparedVersion | null;
  endIncluding: PreparedVersion | null;
  endExcluding: PreparedVersion | null;
}

function boundOf(bound: string | undefined): PreparedVersion | null {
  return bound === undefined || bound === '' || bound === '*' ? null : prepareVersion(bound);
}

export function prepareRange(r: VersionRange): PreparedRange {
  return { startIncluding: boundOf(r.startIncluding), startExcluding: boundOf(r.startExcluding), endIncluding: boundOf(r.endIncluding), endExcluding: boundOf(r.endExcluding) };
}

/** inRange over a prepared version and range. A bound that cannot be compared holds but makes the answer undecidable;
 *  any bound that decidably fails makes it false. */
export function inPreparedRange(v: PreparedVersion, r: PreparedRange): RangeAnswer {
  let undecidable = false;
  let c: Comparison;
  if (r.startIncluding) {
    c = comparePrepared(v, r.startIncluding);
    if (c === 'undecidable') undecidable = true;
    else if (c < 0) return false;
  }
  if (r.startExcluding) {
    c = comparePrepared(v, r.startExcluding);
    if (c === 'undecidable') undecidable = true;
    else if (c <= 0) return false;
  }
  if (r.endIncluding) {
    c = comparePrepared(v, r.endIncluding);
    if (c === 'undecidable') undecidable = true;
    else if (c > 0) return false;
  }
  if (r.endExcluding) {
    c = comparePrepared(v, r.endExcluding);
    if (c === 'undecidable') undecidable = true;
    else if (c >= 0) return false;
  }
  return undecidable ? 'undecidable' : true;
}

/** Is the version inside the range? Unbounded sides always hold. */
export function inRange(version: string, r: VersionRange): RangeAnswer {
  return inPreparedRange(prepareVersion(version), prepareRange(r));
}
