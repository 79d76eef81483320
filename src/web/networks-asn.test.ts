// Tests of the networks table grouped by autonomous system: the API's numbers agree with the store under a loaded
// prefix→ASN table, unknown addresses are counted as such, names from the table are shown as text, downloads work,
// and without a table the AS comes from imported Shodan and Shadowserver records.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { contains, parseIp, parseRange, type IpRange } from '../core/ipnum.ts';
import { readImport } from '../importers/index.ts';
import { refreshDevices } from '../fingerprint/refresh.ts';
import { loadClassifier } from '../fingerprint/index.ts';
import { SqliteStore } from '../store/sqlite/store.ts';
import { importAsnTables } from '../store/sqlite/asn.ts';
import { Accounts } from './accounts.ts';
import { createApp } from './app.tsx';
import { DashboardQueries, type AsnRow } from './queries.ts';
import { seedStore } from './testing.ts';

const DATA = join(dirname(fileURLToPath(import.meta.url)), '..', 'importers', 'testdata');
const dir = mkdtempSync(join(tmpdir(), 'iotscope-web-asn-'));
const HOSTILE_NAME = '<script>window.__pwned=9</script>EVIL-NET';

async function appOver(store: SqliteStore) {
  const accounts = new Accounts(store.handle);
  await accounts.completeSetup(accounts.createSetupLink(), 'admin', 'correct horse battery');
  const viewer = await accounts.createUser('vic', 'viewer', 'correct horse battery');
  const token = accounts.createToken(viewer.id, 't').token;
  const app = createApp({ accounts, queries: new DashboardQueries(store, store.handle) });
  const get = (path: string) => app.request(path, { headers: { authorization: `Bearer ${token}` } });
  return { app, get };
}

test('devices, exposures, vulnerable devices and KEV per ASN agree with the store; the rest is unknown', async () => {
  const store = SqliteStore.open(':memory:');
  const facts = await seedStore(store);
  // The seeded constituency sits in 10.0.0.0/24, 10.0.1.0/24, 10.0.2.0/24 and 2001:db8::/32.
  const tsv = ['10.0.0.0\t10.0.0.255\t64496\tNL\tEXAMPLE-A', '10.0.0.0\t10.0.0.1\t64497\tNL\tEXAMPLE-B', `10.0.1.0\t10.0.1.255\t64498\tDE\t${HOSTILE_NAME}`].join('\n');
  const pfx = '2001:db8::\t32\t64511\n';
  await importAsnTables(store.handle, [writeTo('seed.tsv', tsv), writeTo('seed.pfx2as', pfx)]);
  const table: { range: IpRange; asn: number }[] = [
    { range: parseRange('10.0.0.0/24')!, asn: 64496 },
    { range: parseRange('10.0.0.0-10.0.0.1')!, asn: 64497 },
    { range: parseRange('10.0.1.0/24')!, asn: 64498 },
    { range: parseRange('2001:db8::/32')!, asn: 64511 },
  ];
  // Expected numbers computed from the Store interface with a plain per-address look-up.
  const asnOf = (ip: string): number | null => {
    const p = parseIp(ip)!;
    const hits = table.filter((t) => contains(t.range, p.family, p.value)).sort((a, b) => (a.range.last - a.range.first < b.range.last - b.range.first ? -1 : 1));
    return hits[0]?.asn ?? null;
  };
  const expected = new Map<number | null, Omit<AsnRow, 'asn' | 'name'>>();
  const row = (asn: number | null) => expected.get(asn) ?? (expected.set(asn, { devices: 0, exposedDevices: 0, vulnerableDevices: 0, kevDevices: 0, openFindings: 0 }), expected.get(asn)!);
  for (const d of await store.devices({ limit: 100_000 })) row(asnOf(d.ip)).devices++;
  const open = await store.findings({ state: 'open', limit: 100_000 });
  const byIp = new Map<string, typeof open>();
  for (const f of open) byIp.set(f.ip, [...(byIp.get(f.ip) ?? []), f]);
  for (const [ip, fs] of byIp) {
    const r = row(asnOf(ip));
    r.openFindings += fs.length;
    if (fs.some((f) => f.kind !== 'vulnerability')) r.exposedDevices++;
    if (fs.some((f) => f.kind === 'vulnerability')) r.vulnerableDevices++;
    if (fs.some((f) => f.kind === 'vulnerability' && (f.details as { kev?: unknown } | undefined)?.kev)) r.kevDevices++;
  }
  assert.ok(expected.size >= 3, 'the seed spreads over several ASes');

  const { get } = await appOver(store);
  const res = await get('/api/networks?by=asn');
  assert.equal(res.status, 200);
  const rows = ((await res.json()) as { rows: AsnRow[] }).rows;
  assert.deepEqual(new Map(rows.map((r) => [r.asn, { devices: r.devices, exposedDevices: r.exposedDevices, vulnerableDevices: r.vulnerableDevices, kevDevices: r.kevDevices, openFindings: r.openFindings }])), expected);
  assert.equal(rows.reduce((n, r) => n + r.devices, 0), facts.devices);
  assert.equal(rows.reduce((n, r) => n + r.kevDevices, 0), facts.kevDevices);
  assert.equal(rows.find((r) => r.asn === 64497)?.name, 'EXAMPLE-B');
  assert.equal(rows.find((r) => r.asn === 64511)?.name, null, 'pfx2as carries no names');

  // A network filter narrows the grouping.
  const narrow = ((await (await get('/api/networks?by=asn&network=10.0.0.0/24')).json()) as { rows: AsnRow[] }).rows;
  assert.deepEqual(narrow.map((r) => r.asn).sort(), [...expected.keys()].filter((a) => a === 64496 || a === 64497).sort());

  // Downloads: CSV and JSON with the AS number, its name, and unknown for the rest.
  const csv = await (await get('/api/networks?by=asn&format=csv')).text();
  const lines = csv.trim().split(/\r?\n/);
  assert.equal(lines[0], 'asn,name,devices,exposed_devices,vulnerable_devices,kev_devices,open_findings');
  assert.equal(lines.length, rows.length + 1);
  if (expected.has(null)) assert.ok(lines.some((l) => l.startsWith('unknown,')));
  const json = (await (await get('/api/networks?by=asn&format=json')).json()) as Record<string, unknown>[];
  assert.deepEqual(json.map((r) => r.asn), rows.map((r) => (r.asn === null ? 'unknown' : `AS${r.asn}`)));

  // The page: the selector, the table, and the imported name as text.
  const page = await (await get('/networks?by=asn')).text();
  assert.match(page, /<table id="asn-table"/);
  assert.match(page, /<option value="asn" selected/);
  assert.ok(!page.includes('<script>window.__pwned'), 'a name from the table never becomes markup');
  assert.ok(page.includes('&lt;script&gt;window.__pwned=9&lt;/script&gt;EVIL-NET'));
  assert.match(await (await get('/networks')).text(), /<option value="prefix" selected/);
  assert.equal((await get('/api/networks?by=country')).status, 400);
  await store.close();
});

function writeTo(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

async function importSample(store: SqliteStore, file: string): Promise<void> {
  const stream = readImport(join(DATA, file));
  await store.importObservations({ id: stream.runId, kind: 'import', startedAt: new Date().toISOString(), spec: { file } }, stream);
  const ips = (await store.hosts({ runId: stream.runId })).map((h) => h.ip);
  await refreshDevices(store, loadClassifier({}), ips);
}

test('without a table, the AS comes from imported Shodan banners and Shadowserver reports; a table overrides it', async () => {
  const store = SqliteStore.open(':memory:');
  await importSample(store, 'shodan-banners.json');
  await importSample(store, '2026-11-20-scan_telnet-example-asn.csv');
  const q = new DashboardQueries(store, store.handle);
  const one = async (network: string) => (await q.networksByAsn({ network })).map((r) => [r.asn, r.devices]);
  assert.ok(await store.getDevice('192.0.2.10'), 'the Shodan banner made a device');
  assert.deepEqual(await one('192.0.2.10/32'), [[64500, 1]], 'Shodan "asn": "AS64500"');
  assert.deepEqual(await one('192.0.2.30/32'), [[64500, 1]], 'Shadowserver asn column');
  assert.deepEqual(await one('192.0.2.11/32'), [[null, 1]], 'a banner without asn is unknown');
  const all = await q.networksByAsn();
  assert.equal(all.reduce((n, r) => n + r.devices, 0), (await store.devices({ limit: 100_000 })).length);

  await importAsnTables(store.handle, [writeTo('override.pfx2as', '192.0.2.0\t25\t64501\n')]);
  assert.deepEqual(await one('192.0.2.10/32'), [[64501, 1]], 'the loaded table wins over the imported record');
  assert.deepEqual(await one('192.0.2.11/32'), [[64501, 1]]);
  await store.close();
});
