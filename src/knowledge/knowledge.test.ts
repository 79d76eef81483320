// Tests of the knowledge stage end to end: the shared fixtures (NVD 2.0, NVD 1.1, CVE JSON 5, KEV, EPSS) imported
// through importFrom (the code path of `kb update --from`), malformed files, matching pitfalls, findings, and the
// downloader against a local HTTP server serving the fixtures in pages.
import test from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { cpSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { AddressInfo } from 'node:net';
import { FIXTURES, require_ } from '../../test/testbed.ts';
import { SqliteStore } from '../store/sqlite/store.ts';
import { SqliteKnowledgeBase } from './kb.ts';
import { importFrom } from './import.ts';
import { VulnIndex } from './match.ts';
import { Aliases } from './aliases.ts';
import { assessVulnerabilities, severityOf } from './assess.ts';
import { updateEpss, updateKev, updateNvd } from './download.ts';
import type { Device } from '../fingerprint/types.ts';

function freshKb() {
  const store = SqliteStore.open(':memory:');
  return { store, kb: new SqliteKnowledgeBase(store.handle) };
}

function loadAll(kb: SqliteKnowledgeBase) {
  for (const d of ['nvd-api-2.0', 'nvd-json-1.1', 'cve-json-5', 'cisa-kev', 'epss']) {
    const r = importFrom(kb, join(FIXTURES, d));
    assert.equal(r.failed, 0, `${d}: ${r.files.map((f) => f.error).filter(Boolean).join('; ')}`);
  }
}

function device(p: Partial<Device> & { ip: string }): Device {
  return { software: [], cpe: [], confidence: 0.9, evidence: [], firstSeen: '2026-01-01T00:00:00Z', lastSeen: '2026-01-01T00:00:00Z', ...p };
}

test('every fixture format imports through --from, idempotently and resumably', (t) => {
  if (!require_(t, 'fixtures')) return;
  const { store, kb } = freshKb();
  loadAll(kb);
  const c = kb.counts();
  assert.equal(c.nvd, 12); // 10 API 2.0 records + 2 CVEs of the 1.1 feed sample (CVE-2017-17215 is in both)
  assert.equal(c.cve5, 1259);
  assert.equal(c.kev, 1404);
  assert.equal(c.epss, 4);
  // formats recognised per file
  const again = importFrom(kb, FIXTURES, { force: false });
  assert.equal(again.failed, 0);
  assert.equal(again.files.filter((f) => f.status === 'skipped-unchanged').length, 1274);
  // forced re-import writes nothing new: upsert keeps the same or newer record
  const forced = importFrom(kb, join(FIXTURES, 'nvd-api-2.0'), { force: true });
  assert.equal(forced.written, 0);
  assert.deepEqual(kb.counts(), c);
  // KEV from the catalog, CSV and JSON agree
  const kev = kb.kev('CVE-2021-36260');
  assert.equal(kev?.dateAdded, '2022-01-10');
  assert.match(kev?.knownRansomwareCampaignUse ?? '', /Known|Unknown/);
  const e = kb.epss('CVE-2017-17215');
  assert.equal(e?.score, 0.92051);
  assert.equal(e?.date, '2025-08-15T00:00:00Z');
  // NVD fields
  const hik = kb.nvd('CVE-2017-7921')!;
  assert.equal(hik.kev?.dateAdded, '2026-03-05');
  assert.ok(hik.configurations.length > 0);
  const legacy = kb.nvd('CVE-2018-1000891')!;
  assert.equal(legacy.configurations[0]!.nodes[0]!.matches[0]!.vulnerable, true);
  const c5 = kb.cve5('CVE-2024-3273')!;
  assert.equal(c5.kev?.dateAdded, '2024-04-11');
  assert.equal(c5.ssvc?.Exploitation, 'Active');
  void store.close();
});

test('a bad file is reported with its position and leaves the knowledge base as it was', (t) => {
  if (!require_(t, 'fixtures')) return;
  const { kb } = freshKb();
  importFrom(kb, join(FIXTURES, 'nvd-api-2.0', 'CVE-2018-14847.json'));
  const before = kb.counts();
  const dir = mkdtempSync(join(tmpdir(), 'iotscope-kb-'));
  const page = { resultsPerPage: 3, startIndex: 0, totalResults: 3, format: 'NVD_CVE', version: '2.0', vulnerabilities: ['CVE-2017-17215', 'CVE-2023-1389', 'CVE-2010-5330'].map((id) => ({ cve: JSON.parse(readFileSync(join(FIXTURES, 'nvd-api-2.0', `${id}.json`), 'utf8')) })) };
  // wrong type mid-file: the third record's lastModified is a number
  const wrong = structuredClone(page);
  (wrong.vulnerabilities[2]!.cve as Record<string, unknown>).lastModified = 20230101;
  writeFileSync(join(dir, 'wrong-type.json'), JSON.stringify(wrong));
  const text = JSON.stringify(page, null, 1);
  writeFileSync(join(dir, 'truncated.json'), text.slice(0, Math.floor(text.length * 0.6)));
  writeFileSync(join(dir, 'garbage.json'), '{"vulnerabilities": [ {"cve": } ]}');
  writeFileSync(join(dir, 'epss.csv'), '#model_version:v2025.03.14,score_date:2025-08-15T00:00:00Z\ncve,epss,percentile\nCVE-2017-17215,0.9,0.99\nCVE-2018-10561,high,0.9\n');
  writeFileSync(join(dir, 'kev.csv.gz'), gzipSync('cveID,vendorProject,product,vulnerabilityName,dateAdded,shortDescription,requiredAction,dueDate,knownRansomwareCampaignUse,notes,cwes\nCVE-2017-17215,Huawei,HG532,"unterminated\n'));
  const r = importFrom(kb, dir);
  const err = (name: string) => r.files.find((f) => f.file.endsWith(name))?.error ?? '';
  assert.equal(r.failed, 5);
  assert.match(err('wrong-type.json'), /wrong-type\.json: at \$\.vulnerabilities\[2\]\.cve\.lastModified: expected a string, found number/);
  assert.match(err('truncated.json'), /truncated\.json: at byte \d+ \(line \d+, column \d+\): truncated JSON/);
  assert.match(err('garbage.json'), /at byte 30 \(line 1, column 31\): unexpected "}" in a value/);
  assert.match(err('epss.csv'), /at line 4 \(epss\): expected a number/);
  assert.match(err('kev.csv.gz'), /at line 2: unterminated quoted field/);
  assert.deepEqual(kb.counts(), before, 'nothing of a bad file is kept');
  assert.equal(kb.nvd('CVE-2017-17215'), null);
});

test('matching pitfalls: "-" versions, AND configurations with only the firmware known, builds, aliases, ranges', (t) => {
  if (!require_(t, 'fixtures')) return;
  const { kb } = freshKb();
  loadAll(kb);
  const ix = VulnIndex.fromKnowledgeBase(kb);
  const find = (cpes: string[], id: string) => ix.match(ix.profileOfCpes(cpes)).find((m) => m.cve === id);

  // Huawei HG532: firmware "-" AND hardware: firmware alone is possible, and says the hardware is not identified
  const fwOnly = find(['cpe:2.3:o:huawei:hg532_firmware:-:*:*:*:*:*:*:*'], 'CVE-2017-17215');
  assert.equal(fwOnly?.answer, 'possible');
  assert.equal(fwOnly?.confidence, 'model-only');
  assert.ok(fwOnly?.reasons.some((r) => /hardware is not identified/.test(r)));
  assert.ok(fwOnly?.reasons.some((r) => /no version \("-"\)/.test(r)));
  // the hardware from the device's model completes the AND; the "-" firmware keeps it possible
  const hg = ix.match(ix.profileOfDevice(device({ ip: '192.0.2.1', vendor: 'Huawei', model: 'HG532' }))).find((m) => m.cve === 'CVE-2017-17215');
  assert.equal(hg?.answer, 'possible');
  assert.ok(hg?.reasons.some((r) => /hardware hg532 matches the device's model HG532/.test(r)));
  // a different box of the same vendor does not match
  assert.equal(ix.match(ix.profileOfDevice(device({ ip: '192.0.2.2', vendor: 'Huawei', model: 'HG8245H' }))).find((m) => m.cve === 'CVE-2017-17215'), undefined);

  // MikroTik RouterOS ≤ 6.42: the fingerprint's vendor/OS names and a version inside and outside the range
  const ros = (v: string) => ix.match(ix.profileOfDevice(device({ ip: '192.0.2.3', vendor: 'MikroTik', os: { vendor: 'MikroTik', product: 'RouterOS', version: v } }))).find((m) => m.cve === 'CVE-2018-14847');
  assert.equal(ros('6.42')?.answer, 'definite');
  assert.equal(ros('6.42')?.confidence, 'version-verified');
  assert.equal(ros('v6.40.1')?.answer, 'definite');
  assert.equal(ros('6.42.1'), undefined);
  assert.equal(ros('6.43'), undefined);

  // TP-Link Archer AX21 < 1.1.4, fixed in "1.1.4 Build 20230219": a build of 1.1.4 is undecidable, not a guess
  const ax = (v: string) => find([`cpe:2.3:o:tp-link:archer_ax21_firmware:${v}:*:*:*:*:*:*:*`, 'cpe:2.3:h:tp-link:archer_ax21:3.0:*:*:*:*:*:*:*'], 'CVE-2023-1389');
  assert.equal(ax('1.1.4_build_20230219')?.confidence, 'undecidable');
  assert.equal(ax('1.1.4_build_20230219')?.answer, 'possible');
  assert.equal(ax('1.1.3_build_20221010')?.answer, 'definite');
  assert.equal(ax('1.1.3_build_20221010')?.fixedVersion, '1.1.4');
  assert.equal(ax('1.1.5'), undefined);

  // Ubiquiti: NVD vendor "ui", fingerprint vendor "Ubiquiti"; three disjoint ranges
  const air = (v: string) => ix.match(ix.profileOfDevice(device({ ip: '192.0.2.4', vendor: 'Ubiquiti', os: { vendor: 'Ubiquiti', product: 'airOS', version: v } }))).find((m) => m.cve === 'CVE-2010-5330');
  assert.equal(air('5.4.1')?.answer, 'definite');
  assert.equal(air('4.0.1'), undefined);
  assert.equal(air('5.3.5'), undefined);

  // D-Link: NVD "dlink" and the fingerprint's "D-Link"; exact firmware with a letter/build suffix
  const dns = (fw: string) => ix.match(ix.profileOfDevice(device({ ip: '192.0.2.5', vendor: 'D-Link', model: 'DNS-320', firmware: fw }))).find((m) => m.cve === 'CVE-2020-25506');
  assert.equal(dns('2.06b01')?.answer, 'definite');
  assert.equal(dns('2.06b01')?.confidence, 'version-verified');
  assert.equal(dns('2.06b01')?.kev?.dateAdded, '2021-11-03');
  assert.equal(dns('2.05b10'), undefined);

  // CVE 5 only (no NVD record): vendor "D-Link" of the CNA, KEV from the catalog, version a date
  const nas = find(['cpe:2.3:o:dlink:dns-320l_firmware:20240403:*:*:*:*:*:*:*'], 'CVE-2024-3273');
  assert.equal(nas?.basis, 'cve5');
  assert.equal(nas?.answer, 'definite');
  assert.equal(severityOf(nas!), 'high');
});

test('vendor aliases in the data resolve to the fingerprint vocabulary', () => {
  const a = Aliases.load();
  assert.ok(a.data.examples.length >= 5);
  for (const e of a.data.examples) assert.equal(a.canonicalVendor(e.name), e.vendor, e.name);
});

test('severity from CVSS, raised by KEV', () => {
  assert.equal(severityOf({ cvss: { version: '3.1', score: 9.8, vector: '' } }), 'critical');
  assert.equal(severityOf({ cvss: { version: '3.1', score: 7.0, vector: '' } }), 'high');
  assert.equal(severityOf({ cvss: { version: '3.1', score: 5.3, vector: '' } }), 'medium');
  assert.equal(severityOf({ cvss: { version: '3.1', score: 5.3, vector: '' }, kev: { dateAdded: '2024-01-01', source: 'kev-catalog' } }), 'high');
  assert.equal(severityOf({ cvss: { version: '2.0', score: 2.1, vector: '' } }), 'low');
});

test('assessVulnerabilities records findings and marks them fixed after a firmware update', async (t) => {
  if (!require_(t, 'fixtures')) return;
  const { store, kb } = freshKb();
  loadAll(kb);
  const dev = device({ ip: '192.0.2.10', vendor: 'MikroTik', deviceType: 'router', os: { vendor: 'MikroTik', product: 'RouterOS', version: '6.40.1' } });
  await store.saveDevices([dev], []);
  const r1 = await assessVulnerabilities(store, kb);
  assert.ok(r1.findings >= 1);
  const f = (await store.findings({ kind: 'vulnerability', id: 'CVE-2018-14847' }))[0]!;
  assert.equal(f.state, 'open');
  assert.equal(f.severity, 'critical');
  assert.deepEqual(f.details?.kev && (f.details.kev as { dateAdded: string }).dateAdded, '2021-12-01');
  assert.equal((f.details?.cvss as { score: number }).score, 9.1);
  assert.equal((f.details?.epss as { score: number }).score, 0.92587);
  assert.equal(f.details?.confidence, 'version-verified');
  assert.match(f.remediation, /CISA KEV required action/);
  await store.saveDevices([{ ...dev, os: { vendor: 'MikroTik', product: 'RouterOS', version: '6.49.8' } }], []);
  const r2 = await assessVulnerabilities(store, kb);
  assert.ok(r2.fixed >= 1);
  assert.equal((await store.findings({ kind: 'vulnerability', id: 'CVE-2018-14847', state: 'any' }))[0]!.state, 'fixed');
  await store.close();
});

test('download: NVD pages with startIndex, rate limit, retries on 503, incremental windows; KEV JSON and EPSS gz', async (t) => {
  if (!require_(t, 'fixtures')) return;
  const records = readdirSync(join(FIXTURES, 'nvd-api-2.0'))
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(FIXTURES, 'nvd-api-2.0', f), 'utf8')));
  const seen: URL[] = [];
  const times: number[] = [];
  let failNext = true;
  const server = createServer((req, res) => {
    const u = new URL(req.url!, 'http://127.0.0.1');
    if (u.pathname === '/nvd') {
      seen.push(u);
      if (failNext && u.searchParams.get('startIndex') === '4') {
        failNext = false;
        res.writeHead(503).end('busy');
        return;
      }
      const start = Number(u.searchParams.get('startIndex'));
      const per = Math.min(4, Number(u.searchParams.get('resultsPerPage')));
      const page = records.slice(start, start + per);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ resultsPerPage: page.length, startIndex: start, totalResults: records.length, format: 'NVD_CVE', version: '2.0', timestamp: '2026-01-01T00:00:00.000', vulnerabilities: page.map((cve) => ({ cve })) }));
    } else if (u.pathname === '/kev.json') res.writeHead(200).end(readFileSync(join(FIXTURES, 'cisa-kev', 'known_exploited_vulnerabilities.json')));
    else if (u.pathname === '/epss.csv.gz') res.writeHead(200).end(gzipSync(readFileSync(join(FIXTURES, 'epss', 'epss_scores-2025-08-15.iot-subset.csv'))));
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const { kb } = freshKb();
    // the limiter decides when a request leaves, so that is when it is timed: arrival at the server can lag
    // behind by however long a loaded machine takes to schedule the server
    const timedFetch: typeof fetch = (input, init) => {
      if (String(input).startsWith(`${base}/nvd`)) times.push(performance.now());
      return fetch(input, init);
    };
    const opts = { urls: { nvd: `${base}/nvd`, kev: `${base}/kev.json`, epss: `${base}/epss.csv.gz` }, rateLimit: 2, rateWindowMs: 300, backoffMs: 50, now: () => new Date('2026-06-01T00:00:00Z'), fetchImpl: timedFetch };
    const n = await updateNvd(kb, opts);
    assert.equal(n, records.length);
    assert.equal(kb.counts().nvd, records.length);
    assert.deepEqual(seen.map((u) => u.searchParams.get('startIndex')), ['0', '4', '4', '8']);
    assert.equal(seen[0]!.searchParams.get('resultsPerPage'), '2000');
    assert.equal(seen[0]!.searchParams.get('lastModStartDate'), null);
    // never more than 2 requests in any 300 ms window
    assert.equal(times.length, 4);
    for (let i = 2; i < times.length; i++) assert.ok(times[i]! - times[i - 2]! >= 295, `requests ${i - 2} and ${i} ${(times[i]! - times[i - 2]!).toFixed(0)} ms apart`);
    assert.equal(kb.sourceState('nvd').lastSuccess, '2026-06-01T00:00:00.000Z');
    // the next run asks for changes since then, in windows of at most 120 days
    seen.length = 0;
    await updateNvd(kb, { ...opts, now: () => new Date('2026-12-01T00:00:00Z') });
    const windows = [...new Set(seen.map((u) => `${u.searchParams.get('lastModStartDate')}..${u.searchParams.get('lastModEndDate')}`))];
    assert.deepEqual(windows, ['2026-06-01T00:00:00.000..2026-09-29T00:00:00.000', '2026-09-29T00:00:00.000..2026-12-01T00:00:00.000']);
    assert.equal(kb.counts().nvd, records.length, 'idempotent');
    assert.equal(await updateKev(kb, opts), 1404);
    assert.equal(await updateEpss(kb, opts), 4);
    assert.equal(kb.epss('CVE-2018-14847')?.score, 0.92587);
  } finally {
    server.close();
  }
});

test('download resumes from the stored cursor after an interruption', async (t) => {
  if (!require_(t, 'fixtures')) return;
  const records = readdirSync(join(FIXTURES, 'nvd-api-2.0')).filter((f) => f.endsWith('.json')).sort().map((f) => JSON.parse(readFileSync(join(FIXTURES, 'nvd-api-2.0', f), 'utf8')));
  const starts: string[] = [];
  let broken = true;
  const server = createServer((req, res) => {
    const u = new URL(req.url!, 'http://127.0.0.1');
    const start = Number(u.searchParams.get('startIndex'));
    starts.push(String(start));
    if (broken && start >= 5) {
      res.writeHead(400).end('bad request');
      return;
    }
    const page = records.slice(start, start + 5);
    res.writeHead(200).end(JSON.stringify({ resultsPerPage: page.length, startIndex: start, totalResults: records.length, vulnerabilities: page.map((cve) => ({ cve })) }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/nvd`;
  try {
    const { kb } = freshKb();
    const opts = { urls: { nvd: url }, rateLimit: 50, rateWindowMs: 100, backoffMs: 10, maxRetries: 0 };
    await assert.rejects(updateNvd(kb, opts), /HTTP 400/);
    assert.equal(kb.counts().nvd, 5);
    assert.equal(kb.sourceState('nvd').state.startIndex, 5);
    broken = false;
    starts.length = 0;
    await updateNvd(kb, opts);
    assert.deepEqual(starts, ['5']);
    assert.equal(kb.counts().nvd, records.length);
  } finally {
    server.close();
  }
});

test('a cvelistV5-style checkout imports with unrelated files skipped', (t) => {
  if (!require_(t, 'fixtures')) return;
  const dir = mkdtempSync(join(tmpdir(), 'iotscope-cvelist-'));
  cpSync(join(FIXTURES, 'cve-json-5', 'vulnrichment', '2021'), join(dir, 'cves', '2021'), { recursive: true });
  writeFileSync(join(dir, 'cves', 'delta.json'), JSON.stringify({ fetchTime: '2026-01-01', numberOfChanges: 0, new: [], updated: [] }));
  const { kb } = freshKb();
  const r = importFrom(kb, dir);
  assert.equal(r.failed, 0);
  assert.equal(r.files.filter((f) => f.status === 'skipped-unknown').length, 1);
  assert.equal(kb.counts().cve5, 4);
});

test('property: truncated or corrupted data gives a batch or a positioned KbFormatError, nothing else', async (t) => {
  if (!require_(t, 'fixtures')) return;
  const fc = (await import('fast-check')).default;
  const { parseKbText, KbFormatError } = await import('./formats.ts');
  const samples = [
    readFileSync(join(FIXTURES, 'nvd-api-2.0', 'CVE-2021-28799.json'), 'utf8'),
    readFileSync(join(FIXTURES, 'nvd-json-1.1', 'nvdcve-1.1-recent.sample.json'), 'utf8'),
    readFileSync(join(FIXTURES, 'epss', 'epss_scores-2025-08-15.iot-subset.csv'), 'utf8'),
    readFileSync(join(FIXTURES, 'cisa-kev', 'known_exploited_vulnerabilities.csv'), 'utf8').slice(0, 5000),
  ];
  fc.assert(
    fc.property(fc.constantFrom(...samples), fc.nat(), fc.nat(), fc.string({ maxLength: 3 }), (text, cut, at, junk) => {
      const t1 = text.slice(0, cut % (text.length + 1));
      const p = at % (text.length + 1);
      const t2 = text.slice(0, p) + junk + text.slice(p + junk.length);
      for (const s of [t1, t2]) {
        try {
          parseKbText(s);
        } catch (e) {
          assert.ok(e instanceof KbFormatError, String(e));
          assert.match((e as Error).message, /at (byte \d+|line \d+|\$)/);
        }
      }
    }),
    { numRuns: 400 },
  );
});
