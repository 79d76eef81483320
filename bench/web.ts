// Benchmark: the dashboard API under concurrent load. Generates a store of at least 1,000,000 observations
// (100,000 hosts over 10 runs, their devices and findings), starts `iotscope serve`'s server in a child process on
// 127.0.0.1, and drives GET /api/overview and device searches (vendor filter, free text, network, pages) from
// concurrent keep-alive clients for a bounded time and count. Prints p50/p95 per endpoint, median of the runs, and
// the ratio to the target (p95 under 100 ms). Aggregates and count-sorted lists are cached until the data changes,
// so the first-request (cold) times are printed apart. Usage: npx tsx bench/web.ts [OBSERVATIONS] [RUNS] [SECONDS] [CONCURRENCY]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { ipKey } from '../src/core/ipnum.ts';
import { findingKey } from '../src/core/finding.ts';
import { SqliteStore } from '../src/store/sqlite/store.ts';
import { Accounts } from '../src/web/accounts.ts';
import { startServer } from '../src/web/server.ts';

const OBSERVATIONS = Number(process.argv[2] ?? 1_000_000);
const RUNS = Number(process.argv[3] ?? 3);
const SECONDS = Number(process.argv[4] ?? 10);
const CONCURRENCY = Number(process.argv[5] ?? 16);
const MAX_REQUESTS = 200_000;
const SCANS = 10;
const PER_HOST_PER_SCAN = 1;
const HOSTS = Math.ceil(OBSERVATIONS / (SCANS * PER_HOST_PER_SCAN));

let seed = 7;
function rnd(): number {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return seed / 0x100000000;
}
const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)]!;

const VENDORS = Array.from({ length: 40 }, (_, i) => ['Hikvision', 'Dahua', 'MikroTik', 'TP-Link', 'D-Link', 'Ubiquiti', 'ZTE', 'Huawei', 'Axis', 'Synology'][i] ?? `Vendor${i}`);
const TYPES = ['ip-camera', 'dvr', 'router', 'nas', 'printer', 'plc', 'mqtt-broker', 'ont'];
const PROTOCOLS: [number, string][] = [
  [80, 'http'],
  [23, 'telnet'],
  [554, 'rtsp'],
  [1883, 'mqtt'],
  [22, 'ssh'],
  [443, 'https'],
  [161, 'snmp'],
  [502, 'modbus'],
];

function hostIp(i: number): string {
  return `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
}

async function generate(path: string): Promise<void> {
  const store = SqliteStore.open(path);
  const db = store.handle;
  const t0 = performance.now();
  const insObs = db.prepare(
    `INSERT INTO observations (run_id, ip, ip_key, port, transport, protocol, source, time, status, data) VALUES (?, ?, ?, ?, 'tcp', ?, ?, ?, 'success', ?)`,
  );
  const insRun = db.prepare(`INSERT INTO runs (id, kind, status, started_at, finished_at, spec, summary) VALUES (?, 'scan', 'done', ?, ?, '{}', '{}')`);
  const hostVendor = Array.from({ length: HOSTS }, () => Math.floor(rnd() * VENDORS.length));
  let written = 0;
  for (let s = 0; s < SCANS && written < OBSERVATIONS; s++) {
    const time = new Date(Date.UTC(2026, 0, 1 + s * 30)).toISOString();
    const runId = `scan-${s}`;
    db.transaction(() => {
      insRun.run(runId, time, time);
      for (let h = 0; h < HOSTS && written < OBSERVATIONS; h++) {
        const ip = hostIp(h + 1);
        const [port, protocol] = PROTOCOLS[(h + s) % PROTOCOLS.length]!;
        insObs.run(runId, ip, ipKey(ip), port, protocol, `probe:${protocol}`, time, JSON.stringify({ banner: `${VENDORS[hostVendor[h]!]} service ${h % 97}`, server: `srv/${h % 13}` }));
        written++;
      }
    })();
  }
  const t1 = performance.now();
  const insDev = db.prepare(
    `INSERT INTO devices (ip, ip_key, vendor, product, model, firmware, device_type, confidence, noise, first_seen, last_seen, record) VALUES (?, ?, ?, ?, ?, ?, ?, 0.9, NULL, ?, ?, ?)`,
  );
  const insFinding = db.prepare(
    `INSERT INTO findings (key, ip, ip_key, port, transport, kind, finding_id, severity, state, first_seen, last_seen, fixed_at, record) VALUES (?, ?, ?, ?, 'tcp', ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const first = new Date(Date.UTC(2026, 0, 1)).toISOString();
  const last = new Date(Date.UTC(2026, 0, 1 + (SCANS - 1) * 30)).toISOString();
  let findings = 0;
  db.transaction(() => {
    for (let h = 0; h < HOSTS; h++) {
      const ip = hostIp(h + 1);
      const vendor = VENDORS[hostVendor[h]!]!;
      const model = `${vendor.slice(0, 2).toUpperCase()}-${1000 + (h % 300)}`;
      const firmware = `V${1 + (h % 5)}.${h % 10}.${h % 7}`;
      const type = TYPES[h % TYPES.length]!;
      const record = { ip, vendor, model, firmware, deviceType: type, software: [], cpe: [], confidence: 0.9, evidence: [], firstSeen: first, lastSeen: last };
      insDev.run(ip, ipKey(ip), vendor, null, model, firmware, type, first, last, JSON.stringify(record));
      const put = (kind: 'exposure' | 'vulnerability', id: string, severity: string, state: string, details: Record<string, unknown> | undefined, port?: number) => {
        const f = { ip, port, transport: 'tcp' as const, kind, id, title: id, severity, evidence: {}, remediation: 'fix it', details, firstSeen: first, lastSeen: last, state, ...(state === 'fixed' ? { fixedAt: last } : {}) };
        insFinding.run(findingKey(f), ip, ipKey(ip), port ?? null, kind, id, severity, state, first, last, state === 'fixed' ? last : null, JSON.stringify(f));
        findings++;
      };
      if (h % 3 === 0) put('exposure', 'telnet-exposed', 'high', h % 30 === 0 ? 'fixed' : 'open', undefined, 23);
      if (h % 5 === 0) put('exposure', 'rtsp-no-auth', 'high', 'open', undefined, 554);
      if (h % 4 === 0) {
        const cve = `CVE-2026-${10000 + (h % 400)}`;
        put('vulnerability', cve, 'critical', 'open', { cvss: { score: 9.8 }, kev: h % 12 === 0 ? { dateAdded: '2026-01-01' } : null, epss: { score: (h % 100) / 100, percentile: 0.5 } });
      }
    }
  })();
  const t2 = performance.now();
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.exec('ANALYZE');
  console.log(`store: ${written.toLocaleString()} observations in ${((t1 - t0) / 1000).toFixed(1)} s, ${HOSTS.toLocaleString()} devices and ${findings.toLocaleString()} findings in ${((t2 - t1) / 1000).toFixed(1)} s`);
  await store.close();
}

/** Child process: the dashboard server over the generated store; prints its URL and a fresh API token. */
async function serveChild(path: string): Promise<void> {
  const store = SqliteStore.open(path);
  const accounts = new Accounts(store.handle);
  const server = await startServer({ store, host: '127.0.0.1', port: 0 });
  const user = accounts.users()[0] ?? (await accounts.createUser('bench', 'viewer', 'benchmark-password'));
  const { token } = accounts.createToken(user.id, 'bench');
  console.log(JSON.stringify({ url: server.url, token }));
  process.stdin.resume();
  process.stdin.on('end', async () => {
    await server.close();
    await store.close();
    process.exit(0);
  });
}

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Endpoint {
  name: string;
  path: () => string;
}

const ENDPOINTS: Endpoint[] = [
  { name: 'overview', path: () => '/api/overview' },
  { name: 'devices: vendor filter', path: () => `/api/devices?vendor=${encodeURIComponent(pick(VENDORS))}&limit=50&offset=${Math.floor(rnd() * 20) * 50}` },
  { name: 'devices: text search', path: () => `/api/devices?q=${encodeURIComponent(`${pick(VENDORS).slice(0, 2).toUpperCase()}-1${Math.floor(rnd() * 3)}`)}&limit=50` },
  { name: 'devices: network /16', path: () => `/api/devices?network=10.${Math.floor(rnd() * 2)}.0.0/16&limit=50&offset=${Math.floor(rnd() * 100) * 50}` },
  { name: 'devices: type + sort by CVEs', path: () => `/api/devices?type=${pick(TYPES)}&sort=cves&dir=desc&limit=50` },
];

async function load(url: string, token: string, ep: Endpoint): Promise<{ p50: number; p95: number; count: number; errors: number }> {
  const times: number[] = [];
  let errors = 0;
  const deadline = performance.now() + SECONDS * 1000;
  let issued = 0;
  const worker = async () => {
    while (performance.now() < deadline && issued < MAX_REQUESTS) {
      issued++;
      const t = performance.now();
      const r = await fetch(`${url}${ep.path()}`, { headers: { authorization: `Bearer ${token}` } });
      await r.arrayBuffer();
      times.push(performance.now() - t);
      if (r.status !== 200) errors++;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p95: percentile(times, 95), count: times.length, errors };
}

async function main(): Promise<void> {
  if (process.argv[2] === '--serve') return serveChild(process.argv[3]!);
  const dir = mkdtempSync(join(tmpdir(), 'iotscope-bench-web-'));
  const db = join(dir, 'bench.db');
  try {
    await generate(db);
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--serve', db], { stdio: ['pipe', 'pipe', 'inherit'] });
    const first = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once('line', resolve);
      child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
    });
    const { url, token } = JSON.parse(first) as { url: string; token: string };
    // Cold: the first overview computes every aggregate; later ones are served from the cache until the data changes.
    const c0 = performance.now();
    await (await fetch(`${url}/api/overview`, { headers: { authorization: `Bearer ${token}` } })).arrayBuffer();
    console.log(`overview, first request after start (aggregates computed): ${(performance.now() - c0).toFixed(0)} ms`);
    const c1 = performance.now();
    await (await fetch(`${url}${ENDPOINTS[4]!.path()}`, { headers: { authorization: `Bearer ${token}` } })).arrayBuffer();
    console.log(`device list sorted by CVE count, first request (per-device counts and sort order computed): ${(performance.now() - c1).toFixed(0)} ms`);
    console.log(`load: ${CONCURRENCY} concurrent clients, ${SECONDS} s per endpoint and run, ${RUNS} runs, to ${url}`);
    const results = new Map<string, { p50: number[]; p95: number[]; rps: number[]; errors: number }>();
    for (let run = 0; run < RUNS; run++) {
      for (const ep of ENDPOINTS) {
        const r = await load(url, token, ep);
        const acc = results.get(ep.name) ?? { p50: [], p95: [], rps: [], errors: 0 };
        acc.p50.push(r.p50);
        acc.p95.push(r.p95);
        acc.rps.push(r.count / SECONDS);
        acc.errors += r.errors;
        results.set(ep.name, acc);
      }
    }
    console.log('\nendpoint                        p50 ms   p95 ms   req/s   p95 vs 100 ms target');
    for (const [name, r] of results) {
      const p95 = median(r.p95);
      console.log(
        `${name.padEnd(30)} ${median(r.p50).toFixed(1).padStart(7)} ${p95.toFixed(1).padStart(8)} ${median(r.rps).toFixed(0).padStart(7)}   ${(100 / p95).toFixed(1)}× under${r.errors ? `  (${r.errors} non-200 answers)` : ''}`,
      );
    }
    child.stdin!.end();
    await new Promise((resolve) => child.once('exit', resolve));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
