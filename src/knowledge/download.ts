// Stage: knowledge (ingest). `kb update` online: NVD CVE API 2.0 (incremental by lastModified in 120-day windows,
// resultsPerPage 2000, startIndex paging, the public rate limit, retries with backoff), the CISA KEV catalog and the
// EPSS daily CSV (gzip). Each page is stored with the cursor in one transaction, so an interrupted update resumes
// where it stopped; base URLs come from options or the environment, so tests and mirrors can point elsewhere.
import { gunzipSync } from 'node:zlib';
import { KbFormatError, parseKbText } from './formats.ts';
import type { KnowledgeBase } from './kb.ts';

export const DEFAULT_URLS = {
  nvd: 'https://services.nvd.nist.gov/rest/json/cves/2.0',
  kev: 'https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json',
  epss: 'https://epss.empiricalsecurity.com/epss_scores-current.csv.gz',
};

export interface DownloadOptions {
  urls?: Partial<typeof DEFAULT_URLS>;
  apiKey?: string;
  /** requests allowed per rate window: NVD's public limit is 5 per 30 s without a key, 50 with one */
  rateLimit?: number;
  rateWindowMs?: number;
  resultsPerPage?: number;
  maxRetries?: number;
  backoffMs?: number;
  timeoutMs?: number;
  now?: () => Date;
  fetchImpl?: typeof fetch;
  onProgress?: (source: string, done: number, total: number) => void;
  log?: (line: string) => void;
  signal?: AbortSignal;
}

const WINDOW_DAYS = 120;
const MAX_BYTES = 512 * 1024 * 1024;

export class DownloadError extends Error {
  override name = 'DownloadError';
}

export function urlsFrom(env: NodeJS.ProcessEnv, opts: Partial<typeof DEFAULT_URLS> = {}): typeof DEFAULT_URLS {
  return {
    nvd: opts.nvd ?? env.IOTSCOPE_NVD_URL ?? DEFAULT_URLS.nvd,
    kev: opts.kev ?? env.IOTSCOPE_KEV_URL ?? DEFAULT_URLS.kev,
    epss: opts.epss ?? env.IOTSCOPE_EPSS_URL ?? DEFAULT_URLS.epss,
  };
}

/** A sliding-window limiter: at most `limit` starts in any `windowMs`. */
export class RateLimiter {
  private readonly starts: number[] = [];
  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}
  async take(signal?: AbortSignal): Promise<void> {
    for (;;) {
      const now = Date.now();
      while (this.starts.length && now - this.starts[0]! >= this.windowMs) this.starts.shift();
      if (this.starts.length < this.limit) {
        this.starts.push(now);
        return;
      }
      await sleep(this.windowMs - (now - this.starts[0]!) + 5, signal);
    }
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new DownloadError('interrupted'));
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      reject(new DownloadError('interrupted'));
    }, { once: true });
  });
}

const RETRY_STATUS = new Set([403, 429, 500, 502, 503, 504]);

async function getBytes(url: string, o: DownloadOptions, limiter: RateLimiter | null, headers: Record<string, string> = {}): Promise<Buffer> {
  const f = o.fetchImpl ?? fetch;
  const retries = o.maxRetries ?? 5;
  let delay = o.backoffMs ?? 6000;
  for (let attempt = 0; ; attempt++) {
    await limiter?.take(o.signal);
    let status = 0;
    let why = '';
    try {
      const res = await f(url, { headers, signal: AbortSignal.any([AbortSignal.timeout(o.timeoutMs ?? 120_000), ...(o.signal ? [o.signal] : [])]) });
      status = res.status;
      if (res.ok) {
        const buf = Buffer.from(await res.arrayBuffer());
        if (buf.length > MAX_BYTES) throw new DownloadError(`${url}: answer larger than ${MAX_BYTES} bytes`);
        return buf;
      }
      why = `HTTP ${res.status}`;
      await res.body?.cancel();
      if (!RETRY_STATUS.has(res.status)) throw new DownloadError(`${url}: ${why}`);
    } catch (e) {
      if (e instanceof DownloadError || o.signal?.aborted) throw e;
      why = (e as Error).message;
    }
    if (attempt >= retries) throw new DownloadError(`${url}: ${why} after ${retries + 1} attempts`);
    o.log?.(`${why} from ${new URL(url).host}; retrying in ${Math.round(delay / 1000)} s`);
    await sleep(delay, o.signal);
    delay = Math.min(delay * 2, 120_000);
    void status;
  }
}

function iso(d: Date): string {
  return d.toISOString().replace(/Z$/, '');
}

interface NvdCursor {
  /** the window being fetched, and the next start index inside it */
  windowStart?: string;
  windowEnd?: string;
  startIndex?: number;
  /** the end of the whole update (fixed when it starts, so a resumed run fetches the same span) */
  until?: string;
}

/**
 * Fetch NVD changes since the last successful update (everything on the first run), storing each page with the
 * cursor. Returns the number of records received.
 */
export async function updateNvd(kb: KnowledgeBase, o: DownloadOptions = {}): Promise<number> {
  const base = urlsFrom(process.env, o.urls).nvd;
  const limiter = new RateLimiter(o.rateLimit ?? (o.apiKey ? 50 : 5), o.rateWindowMs ?? 30_000);
  const perPage = o.resultsPerPage ?? 2000;
  const st = kb.sourceState('nvd');
  const cursor = st.state as NvdCursor;
  const now = (o.now ?? (() => new Date()))();
  const until = cursor.until ? new Date(cursor.until) : now;
  const since = cursor.windowStart ? new Date(cursor.windowStart) : st.lastSuccess ? new Date(st.lastSuccess) : null;
  const headers: Record<string, string> = o.apiKey ? { apiKey: o.apiKey } : {};
  let received = 0;
  // A first run has no lower bound: page through everything. Later runs walk 120-day windows up to `until`.
  const windows: { start: Date | null; end: Date | null }[] = [];
  if (!since) windows.push({ start: null, end: null });
  else for (let s = since; s < until; ) {
    const e = new Date(Math.min(until.getTime(), s.getTime() + WINDOW_DAYS * 86_400_000));
    windows.push({ start: s, end: e });
    s = e;
  }
  let startIndex = cursor.startIndex ?? 0;
  for (const w of windows) {
    let total = Infinity;
    while (startIndex < total) {
      const u = new URL(base);
      u.searchParams.set('resultsPerPage', String(perPage));
      u.searchParams.set('startIndex', String(startIndex));
      if (w.start && w.end) {
        u.searchParams.set('lastModStartDate', iso(w.start));
        u.searchParams.set('lastModEndDate', iso(w.end));
      }
      const buf = await getBytes(u.toString(), o, limiter, headers);
      let doc: { totalResults?: unknown; resultsPerPage?: unknown };
      let batch;
      try {
        batch = parseKbText(buf.toString('utf8'));
        doc = JSON.parse(buf.toString('utf8')) as typeof doc;
      } catch (e) {
        if (e instanceof KbFormatError) throw e.withFile(u.toString());
        throw e;
      }
      if (batch.kind !== 'nvd') throw new DownloadError(`${u}: not an NVD API 2.0 answer`);
      total = typeof doc.totalResults === 'number' ? doc.totalResults : startIndex + batch.records.length;
      const next = startIndex + batch.records.length;
      const state: NvdCursor = { windowStart: w.start?.toISOString(), windowEnd: w.end?.toISOString(), startIndex: next, until: until.toISOString() };
      kb.writeBatch(batch, () => kb.setSourceState('nvd', state as Record<string, unknown>));
      received += batch.records.length;
      o.onProgress?.('nvd', Math.min(next, total), total);
      if (!batch.records.length) break;
      startIndex = next;
    }
    startIndex = 0;
  }
  kb.setSourceState('nvd', {}, until.toISOString());
  return received;
}

export async function updateKev(kb: KnowledgeBase, o: DownloadOptions = {}): Promise<number> {
  const url = urlsFrom(process.env, o.urls).kev;
  const buf = await getBytes(url, o, null);
  return storeWhole(kb, 'kev', url, buf, o);
}

export async function updateEpss(kb: KnowledgeBase, o: DownloadOptions = {}): Promise<number> {
  const url = urlsFrom(process.env, o.urls).epss;
  const buf = await getBytes(url, o, null);
  return storeWhole(kb, 'epss', url, buf, o);
}

function storeWhole(kb: KnowledgeBase, source: 'kev' | 'epss', url: string, raw: Buffer, o: DownloadOptions): number {
  let buf = raw;
  if (buf[0] === 0x1f && buf[1] === 0x8b) buf = gunzipSync(buf, { maxOutputLength: MAX_BYTES });
  let batch;
  try {
    batch = parseKbText(buf.toString('utf8'), url);
  } catch (e) {
    if (e instanceof KbFormatError) throw e.withFile(url);
    throw e;
  }
  if (batch.kind !== source) throw new DownloadError(`${url}: expected ${source} data, found ${batch.format}`);
  kb.writeBatch(batch, () => kb.setSourceState(source, {}, (o.now ?? (() => new Date()))().toISOString()));
  o.onProgress?.(source, batch.records.length, batch.records.length);
  return batch.records.length;
}
