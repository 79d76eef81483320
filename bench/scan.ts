// Benchmark: iotscope's scanner against nmap on the real-daemon testbed (../shared/testbed), in the same run.
//   npx tsx bench/scan.ts [--runs N] [--skip-nmap-sv]
// Prints, for the testbed's targets and ports: wall time of `iotscope scan` and of `nmap -sV` (medians of N runs),
// their ratio, the open services each found, and any service nmap found that iotscope missed or named otherwise.
// Then the connect-scan rate on loopback (all 65535 TCP ports of 127.0.0.1) next to `nmap -sT` on the same.
// Needs root (the testbed), nmap and the testbed; sends traffic only to 10.213.0.0/24 and 127.0.0.1.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { SqliteStore } from '../src/store/sqlite/store.ts';
import { BIN } from '../test/cli.ts';
import { ensureTestbed } from '../test/testbed.ts';

const args = process.argv.slice(2);
const runs = Number(args[args.indexOf('--runs') + 1] ?? 3) || 3;
const skipSv = args.includes('--skip-nmap-sv');

if (process.getuid?.() !== 0) {
  console.error('bench/scan needs root: it starts the testbed in network namespaces');
  process.exit(2);
}
if (spawnSync('nmap', ['--version']).status !== 0) {
  console.error('bench/scan needs nmap (apt-get install -y nmap)');
  process.exit(2);
}

const targets = ensureTestbed();
const hosts = [...new Set(targets.map((t) => t.ip))];
const tcp = [...new Set(targets.filter((t) => t.proto === 'tcp').map((t) => t.port))].sort((a, b) => a - b);
const udp = [...new Set(targets.filter((t) => t.proto === 'udp').map((t) => t.port))].sort((a, b) => a - b);
const portSpec = `T:${tcp.join(',')},U:${udp.join(',')}`;
const dir = mkdtempSync(join(tmpdir(), 'iotscope-bench-'));
const scope = join(dir, 'scope.yaml');
writeFileSync(scope, 'allow: [10.213.0.0/24, 127.0.0.1]\noperator: iotscope benchmark\n');

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
function timed(cmd: string, argv: string[]): { seconds: number; stdout: string; status: number | null } {
  const t0 = performance.now();
  const r = spawnSync(cmd, argv, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) console.error(`${cmd} exited ${r.status}: ${r.stderr?.slice(0, 2000)}`);
  return { seconds, stdout: r.stdout ?? '', status: r.status };
}

// nmap's service names → iotscope's protocol names (only those iotscope has a probe for)
const NMAP_TO_OURS: Record<string, string[]> = {
  telnet: ['telnet'],
  http: ['http'],
  'http-proxy': ['http'],
  upnp: ['http', 'ssdp'],
  https: ['https'],
  rtsp: ['rtsp'],
  ssh: ['ssh'],
  ftp: ['ftp'],
  snmp: ['snmp'],
  mqtt: ['mqtt'],
  'ssl/mqtt': ['mqtts'],
  'secure-mqtt': ['mqtts'],
  'ssl/secure-mqtt': ['mqtts'],
  coap: ['coap', 'coap-tcp'],
  modbus: ['modbus'],
  mbap: ['modbus'],
  domain: ['dns'],
  'nat-pmp': ['nat-pmp'],
  mdns: ['mdns'],
  zeroconf: ['mdns'],
  ssdp: ['ssdp'],
};

interface Found {
  key: string;
  name: string;
  /** nmap only: the name came from its port table, not from what the service answered */
  guessed?: boolean;
}

/** nmap's name for a service, normalised: some probes put the product into the name ("mosquitto version 2.0.11"). */
function nmapName(name: string): string {
  if (/^(ssl\/)?mosquitto\b/i.test(name)) return name.startsWith('ssl/') ? 'ssl/mqtt' : 'mqtt';
  return name;
}

function nmapServices(xml: string): Found[] {
  const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (n) => ['host', 'port', 'address'].includes(n) }).parse(xml) as any;
  const out: Found[] = [];
  for (const h of doc.nmaprun?.host ?? []) {
    const ip = h.address.find((a: any) => a.addrtype === 'ipv4')?.addr;
    for (const p of h.ports?.port ?? []) {
      if (p.state?.state !== 'open') continue; // open|filtered UDP is not a finding
      const svc = p.service?.name ?? 'unknown';
      out.push({ key: `${ip} ${p.protocol}/${p.portid}`, name: nmapName(p.service?.tunnel === 'ssl' ? `ssl/${svc}` : svc), guessed: p.service?.method !== 'probed' });
    }
  }
  return out;
}

async function iotscopeServices(db: string): Promise<Found[]> {
  const s = SqliteStore.open(db);
  try {
    return (await s.services({ status: 'any' })).map((x) => ({ key: `${x.ip} ${x.transport}/${x.port}`, name: x.protocol }));
  } finally {
    await s.close();
  }
}

console.log(`testbed: ${hosts.length} hosts, ports ${portSpec}; ${runs} runs each, medians`);
const ours: number[] = [];
let oursFound: Found[] = [];
for (let i = 0; i < runs; i++) {
  const db = join(dir, `iot-${i}.db`);
  const r = timed(process.execPath, [BIN, 'scan', ...hosts, '--scope', scope, '--ports', portSpec, '--db', db, '--no-progress', '--json']);
  ours.push(r.seconds);
  oursFound = await iotscopeServices(db);
}
console.log(`iotscope scan:  median ${median(ours).toFixed(2)} s  (runs: ${ours.map((x) => x.toFixed(2)).join(', ')}), ${oursFound.length} services`);

if (!skipSv) {
  const theirs: number[] = [];
  let nmapFound: Found[] = [];
  for (let i = 0; i < runs; i++) {
    const r = timed('nmap', ['-sV', '-sS', '-sU', '-Pn', '-n', '-p', portSpec, '-oX', '-', ...hosts]);
    theirs.push(r.seconds);
    nmapFound = nmapServices(r.stdout);
  }
  console.log(`nmap -sV:       median ${median(theirs).toFixed(2)} s  (runs: ${theirs.map((x) => x.toFixed(2)).join(', ')}), ${nmapFound.length} open services`);
  console.log(`ratio:          iotscope is ${(median(theirs) / median(ours)).toFixed(1)}x faster than nmap -sV`);
  const problems: string[] = [];
  const nmapGuesses: string[] = [];
  for (const n of nmapFound) {
    const o = oursFound.find((x) => x.key === n.key);
    const accepted = NMAP_TO_OURS[n.name];
    if (!o) problems.push(`${n.key}: nmap says ${n.name}, iotscope found nothing`);
    else if (n.guessed) nmapGuesses.push(`${n.key}: nmap could not identify it (port-table guess "${n.name}"), iotscope says ${o.name}`);
    else if (accepted && !accepted.includes(o.name)) problems.push(`${n.key}: nmap says ${n.name}, iotscope says ${o.name}`);
    else if (!accepted) problems.push(`${n.key}: nmap says ${n.name} (no mapping), iotscope says ${o.name}`);
  }
  if (nmapGuesses.length) console.log(`open ports nmap found but did not identify:\n  ${nmapGuesses.join('\n  ')}`);
  const extra = oursFound.filter((o) => !nmapFound.some((n) => n.key === o.key));
  console.log(problems.length ? `services nmap found that iotscope missed or named otherwise:\n  ${problems.join('\n  ')}` : 'every open service nmap found, iotscope found and named alike');
  if (extra.length) console.log(`iotscope found besides: ${extra.map((e) => `${e.key} ${e.name}`).join(', ')}`);
}

// Connect-scan rate on loopback: every TCP port of 127.0.0.1, almost all closed (a RST each).
const loopOurs: number[] = [];
const loopNmap: number[] = [];
for (let i = 0; i < runs; i++) {
  loopOurs.push(timed(process.execPath, [BIN, 'scan', '127.0.0.1', '--scope', scope, '--ports', '1-65535', '--db', join(dir, `loop-${i}.db`), '--no-progress', '--rate', '0', '--concurrency', '1000', '--per-host', '1000']).seconds);
  loopNmap.push(timed('nmap', ['-sT', '-Pn', '-n', '-p-', '--min-rate', '100000', '-T5', '127.0.0.1', '-oX', '-']).seconds);
}
const ourRate = 65535 / median(loopOurs);
const nmapRate = 65535 / median(loopNmap);
console.log(`loopback connect scan, 65535 ports: iotscope ${ourRate.toFixed(0)} ports/s (median ${median(loopOurs).toFixed(2)} s), nmap -sT ${nmapRate.toFixed(0)} ports/s (median ${median(loopNmap).toFixed(2)} s); ratio ${(ourRate / nmapRate).toFixed(2)}`);
rmSync(dir, { recursive: true, force: true });
