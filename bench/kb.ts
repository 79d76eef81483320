// Benchmark: the knowledge base at NVD scale. Generates at least 250,000 synthetic NVD API 2.0 records (pages of
// 2000, realistic configurations: firmware AND hardware, application ranges, exact version lists), imports them
// through the `kb update --from` path into a fresh SQLite store, builds the match index, and matches 100,000
// synthetic devices. Prints medians of several runs and their ratio to the targets (5,000 records/s, 20,000 devices/s).
// Usage: npx tsx bench/kb.ts [CVES] [DEVICES] [RUNS]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { SqliteStore } from '../src/store/sqlite/store.ts';
import { SqliteKnowledgeBase } from '../src/knowledge/kb.ts';
import { importFrom } from '../src/knowledge/import.ts';
import { VulnIndex } from '../src/knowledge/match.ts';
import type { Device } from '../src/fingerprint/types.ts';

const CVES = Number(process.argv[2] ?? 250_000);
const DEVICES = Number(process.argv[3] ?? 100_000);
const RUNS = Number(process.argv[4] ?? 3);
const PAGE = 2000;
const VENDORS = 400;
const PRODUCTS = 60;

// A small deterministic generator, so every run sees the same data.
let seed = 42;
function rnd(): number {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return seed / 0x100000000;
}
const pick = (n: number) => Math.floor(rnd() * n);
const vendor = (i: number) => `vendor${i}`;
const model = (v: number, p: number) => `m${v}-${p}x`;
const ver = () => `${1 + pick(6)}.${pick(20)}.${pick(30)}`;

function record(n: number): unknown {
  const v = pick(VENDORS);
  const p = pick(PRODUCTS);
  const id = `CVE-${2000 + (n % 25)}-${String(100000 + n)}`;
  const kind = rnd();
  let configurations: unknown[];
  if (kind < 0.5) {
    // firmware range AND the hardware it runs on
    configurations = [
      {
        operator: 'AND',
        nodes: [
          { operator: 'OR', negate: false, cpeMatch: [{ vulnerable: true, criteria: `cpe:2.3:o:${vendor(v)}:${model(v, p)}_firmware:*:*:*:*:*:*:*:*`, versionEndExcluding: ver(), matchCriteriaId: 'X' }] },
          { operator: 'OR', negate: false, cpeMatch: [{ vulnerable: false, criteria: `cpe:2.3:h:${vendor(v)}:${model(v, p)}:-:*:*:*:*:*:*:*`, matchCriteriaId: 'Y' }] },
        ],
      },
    ];
  } else if (kind < 0.8) {
    configurations = [{ nodes: [{ operator: 'OR', negate: false, cpeMatch: [{ vulnerable: true, criteria: `cpe:2.3:a:${vendor(v)}:server${p}:*:*:*:*:*:*:*:*`, versionStartIncluding: '1.0', versionEndIncluding: ver(), matchCriteriaId: 'Z' }] }] }];
  } else {
    configurations = [{ nodes: [{ operator: 'OR', negate: false, cpeMatch: Array.from({ length: 3 }, () => ({ vulnerable: true, criteria: `cpe:2.3:o:${vendor(v)}:${model(v, p)}_firmware:${ver()}:*:*:*:*:*:*:*`, matchCriteriaId: 'W' })) }] }];
  }
  return {
    id,
    sourceIdentifier: 'cna@example.org',
    published: '2024-01-01T00:00:00.000',
    lastModified: '2024-06-01T00:00:00.000',
    vulnStatus: 'Analyzed',
    descriptions: [{ lang: 'en', value: `A command injection in the web interface of ${model(v, p)} firmware allows remote attackers to execute commands.` }],
    metrics: { cvssMetricV31: [{ source: 'nvd@nist.gov', type: 'Primary', cvssData: { version: '3.1', vectorString: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', baseScore: 9.8, baseSeverity: 'CRITICAL' } }] },
    weaknesses: [{ source: 'nvd@nist.gov', type: 'Primary', description: [{ lang: 'en', value: 'CWE-78' }] }],
    configurations,
    references: [{ url: `https://vendor${v}.example/advisory/${n}`, source: 'cna@example.org', tags: ['Vendor Advisory'] }],
  };
}

function device(i: number): Device {
  const v = pick(VENDORS);
  const p = pick(PRODUCTS);
  const r = rnd();
  const base: Device = { ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, software: [], cpe: [], confidence: 0.9, evidence: [], firstSeen: '', lastSeen: '' };
  if (r < 0.6) return { ...base, vendor: vendor(v), model: model(v, p), firmware: ver(), cpe: [`cpe:2.3:h:${vendor(v)}:${model(v, p)}:-:*:*:*:*:*:*:*`] };
  if (r < 0.8) return { ...base, vendor: vendor(v), model: model(v, p) };
  return { ...base, software: [{ port: 80, transport: 'tcp', vendor: vendor(v), product: `server${p}`, version: ver() }] };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const dir = mkdtempSync(join(tmpdir(), 'iotscope-bench-kb-'));
try {
  const tg = performance.now();
  for (let start = 0; start < CVES; start += PAGE) {
    const vulns = [];
    for (let n = start; n < Math.min(CVES, start + PAGE); n++) vulns.push({ cve: record(n) });
    writeFileSync(join(dir, `nvd-page-${String(start / PAGE).padStart(4, '0')}.json`), JSON.stringify({ resultsPerPage: vulns.length, startIndex: start, totalResults: CVES, format: 'NVD_CVE', version: '2.0', vulnerabilities: vulns }));
  }
  console.log(`generated ${CVES} NVD API 2.0 records in ${Math.ceil(CVES / PAGE)} pages (${((performance.now() - tg) / 1000).toFixed(1)} s)`);

  const importRates: number[] = [];
  let store: SqliteStore | null = null;
  for (let run = 0; run < RUNS; run++) {
    store?.handle.close();
    const dbPath = join(dir, `kb-${run}.db`);
    store = SqliteStore.open(dbPath);
    const kb = new SqliteKnowledgeBase(store.handle);
    const t0 = performance.now();
    const r = importFrom(kb, dir);
    const s = (performance.now() - t0) / 1000;
    if (r.failed || r.records !== CVES) throw new Error(`import run ${run}: ${r.failed} failed, ${r.records} records`);
    importRates.push(CVES / s);
    console.log(`import run ${run + 1}: ${CVES} records in ${s.toFixed(1)} s = ${Math.round(CVES / s)} records/s`);
  }
  const kb = new SqliteKnowledgeBase(store!.handle);
  const ti = performance.now();
  const index = VulnIndex.fromKnowledgeBase(kb);
  console.log(`match index over ${index.size.nvd} CVEs, ${index.size.keys} vendor/product keys built in ${((performance.now() - ti) / 1000).toFixed(1)} s`);

  seed = 7;
  const devices = Array.from({ length: DEVICES }, (_, i) => device(i));
  const matchRates: number[] = [];
  let found = 0;
  let definite = 0;
  for (let run = 0; run < RUNS; run++) {
    found = 0;
    definite = 0;
    const t0 = performance.now();
    for (const d of devices) {
      const ms = index.match(index.profileOfDevice(d));
      found += ms.length;
      for (const m of ms) if (m.answer === 'definite') definite++;
    }
    const s = (performance.now() - t0) / 1000;
    matchRates.push(DEVICES / s);
    console.log(`match run ${run + 1}: ${DEVICES} devices in ${s.toFixed(2)} s = ${Math.round(DEVICES / s)} devices/s (${found} matches, ${definite} definite)`);
  }
  store!.handle.close();
  const imp = median(importRates);
  const mat = median(matchRates);
  console.log(`\nimport:   median ${Math.round(imp)} records/s  (target 5,000: ${(imp / 5000).toFixed(1)}x)`);
  console.log(`matching: median ${Math.round(mat)} devices/s  (target 20,000: ${(mat / 20000).toFixed(1)}x), ${(found / DEVICES).toFixed(1)} CVEs per device`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
