// Stage: imports. Tests every format on real-format samples (testdata/: Nmap output of the lab testbed, and
// masscan/ZGrab2/Shodan/Shadowserver/Cowrie/IntelMQ samples written in each tool's exact output format) and on
// malformed variants: truncated files, a bad record mid-file, binary garbage and the wrong format, checking that
// the error names the file, the position and the reason, and that --skip-bad counts and goes on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import type { Observation } from '../core/observation.ts';
import { isProbeStatus } from '../core/observation.ts';
import { detectFormat, ImportError, importers, loadShadowserverSchema, readImport, type ImportFormat, type ReadImportOptions } from './index.ts';

const DATA = new URL('./testdata/', import.meta.url).pathname;
const SCHEMA_DIR = new URL('../../../shared/fixtures/shadowserver-schema/', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'iotscope-import-test-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

async function all(path: string, opts: ReadImportOptions = {}): Promise<{ obs: Observation[]; stream: ReturnType<typeof readImport> }> {
  const stream = readImport(path, { importTime: '2026-01-01T00:00:00.000Z', ...opts });
  const obs: Observation[] = [];
  for await (const o of stream) obs.push(o);
  return { obs, stream };
}

async function failure(path: string, opts: ReadImportOptions = {}): Promise<ImportError> {
  try {
    await all(path, opts);
  } catch (e) {
    assert.ok(e instanceof ImportError, `expected ImportError, got ${(e as Error)?.stack}`);
    return e;
  }
  assert.fail('import did not fail');
}

function write(name: string, content: string | Buffer): string {
  const p = join(tmp, name);
  writeFileSync(p, content);
  return p;
}

function find(obs: Observation[], ip: string, port: number, pred: (o: Observation) => boolean = () => true): Observation {
  const o = obs.find((x) => x.ip === ip && x.port === port && pred(x));
  assert.ok(o, `no observation for ${ip}:${port}`);
  return o;
}

function checkShape(obs: Observation[], format: string) {
  for (const o of obs) {
    assert.equal(o.source, `import:${format}`);
    assert.ok(isProbeStatus(o.status));
    assert.ok(o.port >= 0 && o.port <= 65535);
    assert.ok(!Number.isNaN(Date.parse(o.time)));
  }
}

// ---- detection -------------------------------------------------------------------------------------------------

test('format detection picks each sample format and refuses garbage', () => {
  const cases: [string, ImportFormat][] = [
    ['nmap-testbed-tcp.xml', 'nmap'],
    ['masscan.xml', 'masscan'],
    ['masscan-oJ.json', 'masscan'],
    ['masscan-oJ-broken.json', 'masscan'],
    ['masscan-oD.ndjson', 'masscan'],
    ['masscan-oL.txt', 'masscan'],
    ['zgrab2.jsonl', 'zgrab2'],
    ['shodan-banners.json', 'shodan'],
    ['shodan-host.json', 'shodan'],
    ['2026-11-20-scan_telnet-example-asn.csv', 'shadowserver'],
    ['2026-11-20-event4_sinkhole-example-asn.csv', 'shadowserver'],
    ['cowrie.json', 'cowrie'],
    ['intelmq.jsonl', 'intelmq'],
  ];
  for (const [file, format] of cases) assert.equal(detectFormat(readFileSync(join(DATA, file)), file), format, file);
  assert.equal(detectFormat(Buffer.from([0, 1, 2, 3, 0xff, 0x1f, 0x8b, 0]), 'x.bin'), null);
  assert.equal(detectFormat(Buffer.from('hello world\nthis is text\n'), 'x.txt'), null);
});

test('unknown format and empty file are refused with the file name', async () => {
  const e = await failure(write('garbage.bin', Buffer.from([0x00, 0x9c, 0xff, 0x00, 0x12, 0x34, 0x00, 0x00])));
  assert.match(e.message, /garbage\.bin/);
  assert.match(e.reason, /unknown format/);
  const empty = await failure(write('empty.xml', ''));
  assert.match(empty.reason, /empty file/);
});

// ---- Nmap ------------------------------------------------------------------------------------------------------

test('nmap: real -sV -sC output of the testbed maps services, scripts, MAC and states', async () => {
  const { obs, stream } = await all(join(DATA, 'nmap-testbed-tcp.xml'));
  assert.equal(stream.format, 'nmap');
  checkShape(obs, 'nmap');
  const ssh = find(obs, '10.213.0.20', 22);
  assert.equal(ssh.protocol, 'ssh');
  assert.equal(ssh.status, 'success');
  const svc = ssh.data.service as Record<string, unknown>;
  assert.equal(svc.product, 'Dropbear sshd');
  assert.equal(svc.version, '2022.83');
  assert.ok((svc.cpe as string[]).includes('cpe:/a:matt_johnston:dropbear_ssh_server:2022.83'));
  assert.ok((ssh.data.kex as { kexAlgorithms: string[] }).kexAlgorithms.includes('curve25519-sha256'));
  const ftp = find(obs, '10.213.0.20', 21);
  assert.equal((ftp.data.service as Record<string, unknown>).product, 'vsftpd');
  assert.ok((ftp.data.scripts as Record<string, unknown>)['ftp-anon']);
  const closed = find(obs, '10.213.0.30', 22);
  assert.equal(closed.status, 'connection-refused');
  assert.equal(closed.data.portState, 'closed');
  assert.equal((closed.data.host as Record<string, unknown>).mac, 'B8:27:EB:4F:2A:30');
  const mqtts = find(obs, '10.213.0.30', 8883);
  assert.equal(mqtts.protocol, 'mqtts');
  const cert = (mqtts.data.tls as { certificate: Record<string, unknown> }).certificate;
  assert.equal((cert.subject as Record<string, string>).commonName, 'hub.lan');
  assert.equal(cert.selfSigned, true);
  assert.equal(cert.keyBits, 2048);
  const cam = find(obs, '10.213.0.10', 80);
  assert.equal(cam.data.realm, 'Network Camera');
  assert.equal(cam.data.authScheme, 'Basic');
  // unmodelled host children kept
  assert.ok((cam.extra?.host as Record<string, unknown>).times);
});

test('nmap: UDP scan with snmp-sysdescr and upnp-info', async () => {
  const { obs } = await all(join(DATA, 'nmap-testbed-udp.xml'));
  const snmp = find(obs, '10.213.0.20', 161);
  assert.equal(snmp.transport, 'udp');
  assert.equal(snmp.protocol, 'snmp');
  assert.match(String(snmp.data.sysDescr), /OpenWrt/);
  const upnp = find(obs, '10.213.0.20', 1900);
  assert.match(String(upnp.data.server), /MiniUPnPd/);
});

const KEY = Buffer.from('ssh-ed25519 test key blob').toString('base64');
const NMAP_MINI = (hosts: string) => `<?xml version="1.0"?>\n<nmaprun scanner="nmap" start="1795572682">\n${hosts}</nmaprun>\n`;
const HOST = (ip: string, type = 'ipv4') =>
  `<host starttime="1795572682"><status state="up"/>\n<address addr="${ip}" addrtype="${type}"/>\n<hostnames><hostname name="cam.example" type="PTR"/></hostnames>\n<ports><port protocol="tcp" portid="80"><state state="open" reason="syn-ack"/><service name="http" product="Boa" devicetype="webcam"><cpe>cpe:/a:boa:boa</cpe></service><script id="http-title" output="Cam &lt;1&gt;"><elem key="title">Cam &lt;1&gt;</elem></script></port><port protocol="tcp" portid="22"><state state="open" reason="syn-ack"/><service name="ssh"/><script id="ssh-hostkey" output="256 x (ED25519)"><table><elem key="type">ssh-ed25519</elem><elem key="bits">256</elem><elem key="key">${KEY}</elem></table></script></port></ports>\n<hostscript><script id="smb-os" output="x"><table key="t"><elem key="a">1</elem></table></script></hostscript>\n</host>\n`;

test('nmap: IPv6, hostnames, entities, host scripts with structured output', async () => {
  const { obs } = await all(write('v6.xml', NMAP_MINI(HOST('2001:DB8::1', 'ipv6'))));
  assert.equal(obs.length, 2);
  const expected = createHash('sha256').update(Buffer.from(KEY, 'base64')).digest('base64').replace(/=+$/, '');
  assert.deepEqual(obs[1]!.data.hostKey, { type: 'ssh-ed25519', sha256: `SHA256:${expected}`, bits: 256 });
  const o = obs[0]!;
  assert.equal(o.ip, '2001:db8::1');
  assert.equal(o.data.title, 'Cam <1>');
  assert.equal((o.data.service as Record<string, unknown>).deviceType, 'webcam');
  const host = o.data.host as { hostnames: { name: string }[]; scripts: Record<string, { elements: unknown }> };
  assert.equal(host.hostnames[0]!.name, 'cam.example');
  assert.deepEqual(host.scripts['smb-os']!.elements, { t: { a: '1' } });
});

test('nmap: truncated file names file, line, byte offset; skip-bad keeps the complete hosts', async () => {
  const full = NMAP_MINI(HOST('10.0.0.1') + HOST('10.0.0.2'));
  const cut = full.slice(0, full.lastIndexOf('<service'));
  const p = write('trunc.xml', cut);
  const e = await failure(p);
  assert.equal(e.file, p);
  assert.ok(e.line && e.line > 5);
  assert.ok(e.offset !== undefined && e.offset > 0);
  assert.match(e.message, /trunc\.xml \(line \d+, byte \d+\): unexpected end of file/);
  const { obs, stream } = await all(p, { skipBad: true });
  assert.deepEqual([...new Set(obs.map((o) => o.ip))], ['10.0.0.1']);
  assert.equal(stream.stats.bad, 1);
});

test('nmap: a broken host mid-file is reported at its line; skip-bad resynchronises at the next host', async () => {
  const broken = HOST('10.0.0.2').replace('<state state="open" reason="syn-ack"/>', '<state state="open" reason="syn-ack"></port>');
  const text = NMAP_MINI(HOST('10.0.0.1') + broken + HOST('10.0.0.3'));
  const p = write('mid.xml', text);
  const e = await failure(p);
  const expectedLine = text.slice(0, text.indexOf('</port>', text.indexOf('10.0.0.2'))).split('\n').length;
  assert.equal(e.line, expectedLine);
  assert.match(e.reason, /closing tag <\/port> does not match <state>/);
  const { obs, stream } = await all(p, { skipBad: true });
  assert.deepEqual([...new Set(obs.map((o) => o.ip))], ['10.0.0.1', '10.0.0.3']);
  assert.equal(stream.stats.bad, 1);
});

test('nmap: binary garbage inside XML is an invalid character error', async () => {
  const text = NMAP_MINI(HOST('10.0.0.1'));
  const p = write('bin.xml', Buffer.concat([Buffer.from(text.slice(0, 120)), Buffer.from([0, 1, 2, 0xff]), Buffer.from(text.slice(120))]));
  const e = await failure(p, { format: 'nmap' });
  assert.match(e.reason, /invalid character U\+0000/);
  assert.equal(e.offset, 120);
});

test('nmap: wrong format forced is refused', async () => {
  const e = await failure(join(DATA, 'zgrab2.jsonl'), { format: 'nmap' });
  assert.match(e.reason, /text outside the root element/);
  assert.equal(e.line, 1);
});

test('nmap: gzip detected by magic bytes whatever the name, and stdin', async () => {
  const xml = readFileSync(join(DATA, 'nmap-testbed-tcp.xml'));
  const plain = (await all(join(DATA, 'nmap-testbed-tcp.xml'))).obs.length;
  const { obs, stream } = await all(write('scan.dat', gzipSync(xml)));
  assert.equal(obs.length, plain);
  assert.equal(stream.input?.gzip, true);
  const viaStdin = await all('-', { stdin: Readable.from([xml.subarray(0, 1000), xml.subarray(1000)]) });
  assert.equal(viaStdin.obs.length, plain);
  const gz = gzipSync(xml);
  const e = await failure(write('cut.xml.gz', gz.subarray(0, gz.length - 200)));
  assert.match(e.reason, /gzip|unexpected end/);
});

// ---- masscan ---------------------------------------------------------------------------------------------------

test('masscan: -oX, -oJ (modern and broken), -oD, -oL give the same ports and banners', async () => {
  const x = (await all(join(DATA, 'masscan.xml'))).obs;
  checkShape(x, 'masscan');
  assert.equal(x.length, 6);
  const ssh = find(x, '10.213.0.20', 22, (o) => o.protocol === 'ssh');
  assert.equal(ssh.data.software, 'dropbear_2022.83');
  assert.equal(find(x, '10.213.0.20', 80, (o) => o.data.title !== undefined).data.title, 'OpenWrt - LuCI');
  assert.equal(find(x, '10.213.0.20', 80, (o) => o.data.server !== undefined).data.server, 'lighttpd/1.4.69');
  const j = (await all(join(DATA, 'masscan-oJ.json'))).obs;
  assert.equal(j.length, 4);
  assert.equal(find(j, '10.213.0.10', 80).data.realm, 'Network Camera');
  const broken = (await all(join(DATA, 'masscan-oJ-broken.json'))).obs;
  assert.deepEqual(broken.map((o) => `${o.ip}:${o.port}:${o.protocol}`), ['10.213.0.20:22:unknown', '10.213.0.20:22:ssh', '10.213.0.30:1883:unknown']);
  const d = (await all(join(DATA, 'masscan-oD.ndjson'))).obs;
  assert.equal(find(d, '10.213.0.20', 21).data.code, 220);
  assert.equal(find(d, '10.213.0.20', 161).transport, 'udp');
  const l = (await all(join(DATA, 'masscan-oL.txt'))).obs;
  assert.equal(l.length, 5);
  assert.match(String(find(l, '10.213.0.10', 23, (o) => o.protocol === 'telnet').data.banner), /\r\nipcam login: $/);
});

test('masscan: invalid record mid-file, truncated JSON and list lines report line and offset', async () => {
  const lines = readFileSync(join(DATA, 'masscan-oD.ndjson'), 'utf8').split('\n');
  lines.splice(2, 0, '{"ip":"10.213.0.20","timestamp":"1795572684","port":99999,"proto":"tcp","rec_type":"status","data":{}}');
  const p = write('bad-port.ndjson', lines.join('\n'));
  const e = await failure(p);
  assert.equal(e.line, 3);
  assert.equal(e.offset, lines[0]!.length + lines[1]!.length + 2);
  assert.match(e.reason, /not a port number/);
  const { obs, stream } = await all(p, { skipBad: true });
  assert.equal(obs.length, 4);
  assert.equal(stream.stats.bad, 1);
  const j = readFileSync(join(DATA, 'masscan-oJ.json'), 'utf8');
  const cut = write('cut-oJ.json', j.slice(0, j.lastIndexOf('"ttl"')));
  const ce = await failure(cut);
  assert.match(ce.reason, /invalid JSON/);
  const list = write('bad.txt', '#masscan\nopen tcp 22 10.0.0.1 1795572683\nopen tcp 22 not-an-ip 1795572683\n');
  const le = await failure(list);
  assert.equal(le.line, 3);
  assert.match(le.reason, /not an IP address/);
});

// ---- ZGrab2 ----------------------------------------------------------------------------------------------------

test('zgrab2: module results map onto protocol fields; every status kept; mqtt code 0 restored', async () => {
  const { obs } = await all(join(DATA, 'zgrab2.jsonl'));
  checkShape(obs, 'zgrab2');
  const http = find(obs, '10.213.0.20', 80);
  assert.equal(http.protocol, 'http');
  assert.equal(http.data.statusCode, 200);
  assert.equal(http.data.title, 'OpenWrt - LuCI');
  assert.equal(http.data.server, 'lighttpd/1.4.69');
  assert.equal((http.data.headers as Record<string, string>)['x-frame-options'], 'SAMEORIGIN');
  assert.ok((http.extra?.result as Record<string, unknown>).response, 'unmodelled request fields kept');
  const cam = find(obs, '10.213.0.10', 80);
  assert.equal(cam.status, 'application-error');
  assert.equal(cam.data.realm, 'Network Camera');
  const ssh = find(obs, '10.213.0.20', 22);
  assert.equal(ssh.data.ident, 'SSH-2.0-dropbear_2022.83');
  assert.equal((ssh.data.hostKey as { type: string }).type, 'ssh-ed25519');
  const telnet = find(obs, '10.213.0.10', 23);
  assert.deepEqual((telnet.data.options as { do: number[] }).do, [1, 31]);
  assert.equal(telnet.data.loginPrompt, true);
  assert.equal(find(obs, '10.213.0.20', 21).data.code, 220);
  const mqtt = find(obs, '10.213.0.30', 1883);
  assert.equal(mqtt.data.connackCode, 0);
  assert.equal(mqtt.data.anonymous, true);
  const auth = find(obs, '10.213.0.30', 1884);
  assert.equal(auth.data.connackCode, 5);
  assert.equal(auth.data.anonymous, false);
  const mqtts = find(obs, '10.213.0.30', 8883, (o) => o.protocol === 'mqtts');
  assert.equal((mqtts.data.tls as { certificate: { subject: Record<string, string> } }).certificate.subject.CN, 'hub.lan');
  assert.equal(find(obs, '10.213.0.30', 502).data.vendorName, 'iotlab');
  assert.equal(find(obs, '10.213.0.20', 5000).data.banner, 'HTTP/1.1 400 Bad Request\r\n');
  const statuses = obs.filter((o) => o.ip === '10.213.0.40').map((o) => o.status);
  assert.deepEqual(statuses, ['connection-refused', 'connection-timeout', 'connection-closed', 'io-timeout', 'protocol-error', 'unknown-error', 'blocklisted-target', 'handshake-error']);
  const odd = find(obs, '10.213.0.41', 22);
  assert.equal(odd.status, 'unknown-error');
  assert.equal(odd.extra?.status, 'some-new-status');
});

test('zgrab2: invalid line mid-file, truncated last line, binary garbage', async () => {
  const lines = readFileSync(join(DATA, 'zgrab2.jsonl'), 'utf8').trimEnd().split('\n');
  const mid = [...lines.slice(0, 4), '{"ip": "10.0.0.9", "data": {"http": {"status": "success",', ...lines.slice(4)];
  const p = write('mid.jsonl', mid.join('\n') + '\n');
  const e = await failure(p);
  assert.equal(e.line, 5);
  assert.match(e.reason, /invalid JSON/);
  const skipped = await all(p, { skipBad: true });
  assert.equal(skipped.obs.length, lines.length);
  assert.equal(skipped.stream.stats.bad, 1);
  const all2 = lines.join('\n');
  const te = await failure(write('trunc.jsonl', all2.slice(0, all2.length - 30)));
  assert.equal(te.line, lines.length);
  const bin = write('bin.jsonl', Buffer.concat([Buffer.from(lines[0]! + '\n'), Buffer.from([0xde, 0xad, 0x00, 0xbe, 0xef, 0x0a])]));
  const be = await failure(bin, { format: 'zgrab2' });
  assert.equal(be.line, 2);
  assert.match(be.reason, /not a JSON record/);
});

// ---- Shodan ----------------------------------------------------------------------------------------------------

test('shodan: download banners (gzip) and API host JSON', async () => {
  const gz = write('export.json.gz', gzipSync(readFileSync(join(DATA, 'shodan-banners.json'))));
  const { obs } = await all(gz);
  checkShape(obs, 'shodan');
  const cam = find(obs, '192.0.2.10', 80);
  assert.equal(cam.data.title, 'Login');
  assert.equal(cam.data.faviconMmh3, 999357577);
  assert.equal((cam.data.service as Record<string, unknown>).deviceType, 'webcam');
  assert.ok(cam.extra?.vulns && cam.extra.location, 'unmodelled keys kept');
  const mqtt = find(obs, '192.0.2.11', 1883);
  assert.equal(mqtt.data.anonymous, true);
  assert.deepEqual(mqtt.data.topics, ['home/temp']);
  const ssh = find(obs, '192.0.2.12', 22);
  assert.equal(ssh.data.software, 'dropbear_2019.78');
  assert.deepEqual((ssh.data.kex as { kexAlgorithms: string[] }).kexAlgorithms, ['diffie-hellman-group1-sha1']);
  const nas = find(obs, '192.0.2.13', 443);
  assert.equal(nas.protocol, 'https');
  const tls = nas.data.tls as { version: string; certificate: { keyBits: number; selfSigned: boolean; notAfter: string } };
  assert.equal(tls.version, 'TLSv1.1');
  assert.equal(tls.certificate.keyBits, 1024);
  assert.equal(tls.certificate.selfSigned, true);
  assert.equal(tls.certificate.notAfter, '2030-01-01T00:00:00.000Z');
  assert.equal(find(obs, '192.0.2.14', 161).data.sysDescr, 'RouterOS RB750');
  assert.equal(find(obs, '2001:db8::15', 5683).transport, 'udp');
  const host = (await all(join(DATA, 'shodan-host.json'))).obs;
  assert.deepEqual(host.map((o) => `${o.ip}:${o.port}`), ['192.0.2.20:23', '192.0.2.20:80']);
  assert.equal(host[1]!.data.realm, 'DSL Router');
  assert.ok((host[0]!.extra?.host as Record<string, unknown>).org);
});

test('shodan: truncated pretty-printed host JSON and a banner without port', async () => {
  const text = readFileSync(join(DATA, 'shodan-host.json'), 'utf8');
  const e = await failure(write('host-cut.json', text.slice(0, text.length / 2)));
  assert.equal(e.line, 1);
  assert.match(e.reason, /unexpected end of file/);
  const p = write('noport.json', '{"ip_str":"192.0.2.1","port":80,"data":"x","_shodan":{"module":"http"}}\n{"ip_str":"192.0.2.2","data":"x","_shodan":{"module":"http"}}\n');
  const pe = await failure(p);
  assert.equal(pe.line, 2);
  assert.match(pe.reason, /without a valid port/);
});

// ---- Shadowserver ----------------------------------------------------------------------------------------------

test('shadowserver: every sample report, with and without the published schema', async () => {
  const schema = await loadShadowserverSchema(SCHEMA_DIR);
  assert.ok(schema.reports.get('scan_mqtt')?.fields?.includes('anonymous_access'));
  assert.equal(schema.reports.get('compromised_iot')?.defaultSeverity, 'critical');
  const get = async (type: string, withSchema = true) => (await all(join(DATA, `2026-11-20-${type}-example-asn.csv`), { schema: withSchema ? schema : null })).obs;
  const telnet = (await get('scan_telnet'))[0]!;
  assert.equal(telnet.protocol, 'telnet');
  assert.match(String(telnet.data.banner), /BusyBox v1\.19\.4/);
  assert.deepEqual(telnet.data.report, { type: 'scan_telnet', name: 'Accessible-Telnet', severity: 'medium', tags: ['telnet'], taxonomy: 'vulnerable', classification: 'vulnerable-system', identifier: 'open-telnet' });
  assert.equal(telnet.extra?.naics, '517311');
  const mqtt = (await get('scan_mqtt'))[0]!;
  assert.equal(mqtt.data.anonymous, true);
  const anon = (await get('scan_mqtt_anon'))[0]!;
  assert.equal(anon.data.anonymous, true);
  assert.equal((anon.data.tls as { certificate: { keyBits: number } }).certificate.keyBits, 2048);
  const coap = (await get('scan_coap'))[0]!;
  assert.equal(coap.transport, 'udp');
  assert.equal((coap.data.resources as { path: string }[])[0]!.path, '/sensors/temp');
  const cwmp = (await get('scan_cwmp'))[0]!;
  assert.equal(cwmp.data.statusCode, 401);
  assert.equal(cwmp.data.realm, 'HuaweiHomeGateway');
  const ssdp = (await get('scan_ssdp'))[0]!;
  assert.equal(ssdp.protocol, 'ssdp');
  assert.equal(ssdp.data.st, 'upnp:rootdevice');
  const vuln = (await get('scan_http_vulnerable'))[0]!;
  assert.deepEqual(vuln.data.vulnerabilities, ['CVE-2017-7921']);
  assert.equal((vuln.data.report as { severity: string }).severity, 'critical');
  const dev = (await get('device_id'))[0]!;
  assert.deepEqual(dev.data.device, { vendor: 'Hikvision', type: 'camera', model: 'DS-2CD2032', version: '5.4.5' });
  const comp = (await get('compromised_iot'))[0]!;
  assert.equal(comp.protocol, 'event');
  assert.equal(comp.port, 23);
  assert.equal(comp.data.family, 'mirai');
  const bf = (await get('event4_honeypot_brute_force'))[0]!;
  assert.equal(bf.ip, '198.51.100.40');
  assert.equal(bf.port, 0);
  assert.equal(bf.data.category, 'brute-force');
  assert.equal(bf.data.password, 'vizxv');
  // no severity in the row: the schema's default for the report type
  const sink = (await get('event4_sinkhole'))[0]!;
  assert.equal(sink.data.severity, 'critical');
  assert.equal((await get('event4_sinkhole', false))[0]!.data.severity, undefined);
  // without a schema the header still carries the columns
  const plain = (await get('scan_telnet', false))[0]!;
  assert.match(String(plain.data.banner), /BusyBox/);
});

test('shadowserver: bad rows, truncated quoted field, unknown report name', async () => {
  const text = readFileSync(join(DATA, '2026-11-20-scan_ssdp-example-asn.csv'), 'utf8');
  const [head, row] = text.trimEnd().split('\n') as [string, string];
  const p = write('2026-11-20-scan_ssdp-x-asn.csv', [head, row, row.replace('192.0.2.35', '999.1.1.1'), row.split(',').slice(0, 5).join(','), row].join('\n') + '\n');
  const e = await failure(p);
  assert.equal(e.line, 3);
  assert.match(e.reason, /not an IP address/);
  const { obs, stream } = await all(p, { skipBad: true });
  assert.equal(obs.length, 2);
  assert.equal(stream.stats.bad, 2);
  assert.match(stream.stats.errors[1]!.reason, /row has 5 columns/);
  const telnet = readFileSync(join(DATA, '2026-11-20-scan_telnet-example-asn.csv'), 'utf8');
  const te = await failure(write('2026-11-20-scan_telnet-x-asn.csv', telnet.slice(0, telnet.indexOf('BusyBox'))));
  assert.equal(te.line, 2);
  assert.match(te.reason, /inside a quoted field/);
  const ne = await failure(write('report.csv', telnet), { format: 'shadowserver' });
  assert.match(ne.reason, /cannot tell the Shadowserver report type/);
});

// ---- Cowrie and IntelMQ ----------------------------------------------------------------------------------------

test('cowrie and intelmq become event observations', async () => {
  const cow = (await all(join(DATA, 'cowrie.json'))).obs;
  assert.equal(cow.length, 5);
  assert.ok(cow.every((o) => o.protocol === 'event' && o.ip === '198.51.100.7'));
  const login = cow.find((o) => o.data.eventType === 'cowrie.login.success')!;
  assert.equal(login.data.username, 'root');
  assert.equal(login.data.category, 'brute-force');
  assert.equal(cow.find((o) => o.data.eventType === 'cowrie.session.file_download')!.data.url, 'http://203.0.113.9/bins/mirai.arm7');
  assert.equal(cow.find((o) => o.data.eventType === 'cowrie.session.closed')!.extra?.duration, 4.2);
  const imq = (await all(join(DATA, 'intelmq.jsonl'))).obs;
  assert.equal(imq[0]!.data.family, 'mirai');
  assert.equal(imq[0]!.port, 0);
  assert.deepEqual((imq[0]!.data.src as Record<string, unknown>).port, 40012);
  assert.equal(imq[0]!.extra?.raw, 'dGltZXN0YW1w');
  assert.equal(imq[1]!.port, 1883, 'vulnerable-system events keep the service port');
  assert.equal(imq[1]!.data.category, 'vulnerable-system');
  const bad = write('cowrie-bad.json', readFileSync(join(DATA, 'cowrie.json'), 'utf8').replace('"src_ip": "198.51.100.7", "session": "a1b2c3d4", "message": "Downloaded URL"', '"src_ip": "not-an-ip", "session": "a1b2c3d4"'));
  const e = await failure(bad);
  assert.equal(e.line, 4);
});

// ---- hostile input: property tests ----------------------------------------------------------------------------

test('every importer on random bytes and mutated samples: observations or ImportError, never another throw', async () => {
  const samples = ['nmap-testbed-udp.xml', 'masscan.xml', 'masscan-oJ.json', 'masscan-oL.txt', 'zgrab2.jsonl', 'shodan-banners.json', '2026-11-20-scan_mqtt-example-asn.csv', 'cowrie.json', 'intelmq.jsonl'].map((f) => readFileSync(join(DATA, f)));
  const formats = Object.keys(importers) as ImportFormat[];
  let n = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...formats),
      fc.nat(samples.length - 1),
      fc.uint8Array({ maxLength: 200 }),
      fc.nat(),
      fc.nat(),
      fc.boolean(),
      async (format, si, junk, cutAt, insertAt, skipBad) => {
        const base = samples[si]!;
        const cut = base.subarray(0, cutAt % (base.length + 1));
        const at = insertAt % (cut.length + 1);
        const data = Buffer.concat([cut.subarray(0, at), Buffer.from(junk), cut.subarray(at)]);
        const p = join(tmp, `2026-11-20-scan_mqtt-fuzz-${n++}.csv`);
        writeFileSync(p, data);
        try {
          for await (const o of readImport(p, { format, skipBad })) {
            assert.ok(isProbeStatus(o.status));
            assert.ok(Number.isInteger(o.port));
          }
        } catch (e) {
          if (!(e instanceof ImportError)) throw e;
          assert.ok(e.message.includes(p));
        } finally {
          rmSync(p, { force: true });
        }
      },
    ),
    { numRuns: 300 },
  );
});

test('batches() hands over the same observations in the same order as iterating one by one, with the same counts', async () => {
  for (const f of ['nmap-testbed-tcp.xml', 'masscan-oL.txt', 'zgrab2.jsonl', 'shodan-banners.json', 'cowrie.json']) {
    const { obs: single, stream } = await all(join(DATA, f));
    const batched = readImport(join(DATA, f), { importTime: '2026-01-01T00:00:00.000Z', runId: stream.runId });
    const flat: Observation[] = [];
    for await (const b of batched.batches()) {
      assert.ok(b.length > 0, `${f}: no empty batches`);
      flat.push(...b);
    }
    assert.ok(single.length > 0, f);
    assert.deepEqual(flat, single, f);
    assert.deepEqual(batched.stats, stream.stats, f);
    await assert.rejects(async () => {
      for await (const _ of batched) break;
    }, /iterated once/);
  }
});
