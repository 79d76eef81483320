// Benchmark (never run as a test): the import stage on multi-GB files. Generates an Nmap XML file and a ZGrab2
// JSON-lines file (gzip-compressed, as such files are usually kept; --plain for uncompressed) of --size bytes of
// content each in a temporary folder, then reports, per file, the median over --runs of: the time to merely read
// (and gunzip) it, the time to read it and run the bare parser over it (JSON.parse of every line for ZGrab2, the
// XML tokenizer with a handler that does nothing for Nmap: the cost no importer can go below), and the time and
// peak RSS to import it (parse to observations in the batches the import command stores, no store), records/s and
// the ratios to the read. Each measurement runs in its own process so peak RSS is its own. The folder is deleted
// afterwards.
//   npx tsx bench/import.ts [--size 1g] [--runs 3] [--plain]
import { spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGunzip, createGzip } from 'node:zlib';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

function parseSize(s: string): number {
  const m = /^(\d+(?:\.\d+)?)([kmg]?)b?$/i.exec(s.trim());
  if (!m) throw new Error(`bad --size ${s}`);
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Math.round(Number(m[1]) * mult);
}

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : def;
}

// ---- generators: realistic variety (several services, NSE scripts, TLS, bodies) --------------------------------

const PRODUCTS = [
  ['http', 'lighttpd', '1.4.69', 'cpe:/a:lighttpd:lighttpd:1.4.69'],
  ['http', 'Boa HTTPd', '0.94.14rc21', 'cpe:/a:boa:boa:0.94.14rc21'],
  ['ssh', 'Dropbear sshd', '2019.78', 'cpe:/a:matt_johnston:dropbear_ssh_server:2019.78'],
  ['telnet', 'BusyBox telnetd', '1.14.0 or later', 'cpe:/a:busybox:busybox'],
  ['rtsp', 'Hikvision IP camera rtspd', '', 'cpe:/h:hikvision:ip_camera'],
  ['ftp', 'vsftpd', '3.0.3', 'cpe:/a:vsftpd:vsftpd:3.0.3'],
] as const;

function nmapHost(i: number): string {
  const ip = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
  const t = 1795572682 + (i % 10000);
  let ports = '';
  const n = 1 + (i % 3);
  for (let k = 0; k < n; k++) {
    const [name, product, version, cpe] = PRODUCTS[(i + k) % PRODUCTS.length]!;
    const portNo = name === 'http' ? 80 + k : name === 'ssh' ? 22 : name === 'telnet' ? 23 : name === 'rtsp' ? 554 : 21;
    const script = name === 'http' ? `<script id="http-title" output="Web Client &amp; Login ${i % 97}"><elem key="title">Web Client &amp; Login ${i % 97}</elem></script><script id="http-server-header" output="${product}/${version}"><elem>${product}/${version}</elem></script>` : name === 'ssh' ? `<script id="ssh-hostkey" output="&#xa;  2048 aa:bb:cc (RSA)"><table><elem key="type">ssh-rsa</elem><elem key="bits">2048</elem><elem key="fingerprint">aabbcc${i % 1000}</elem><elem key="key">AAAAB3NzaC1yc2EAAAADAQABAAABAQC${i}</elem></table></script>` : '';
    ports += `<port protocol="tcp" portid="${portNo}"><state state="open" reason="syn-ack" reason_ttl="64"/><service name="${name}" product="${product}"${version ? ` version="${version}"` : ''} devicetype="webcam" method="probed" conf="10"><cpe>${cpe}</cpe></service>${script}</port>\n`;
  }
  return `<host starttime="${t}" endtime="${t + 12}"><status state="up" reason="syn-ack" reason_ttl="64"/>\n<address addr="${ip}" addrtype="ipv4"/>\n<hostnames>\n<hostname name="host-${i}.example.net" type="PTR"/>\n</hostnames>\n<ports><extraports state="closed" count="995">\n<extrareasons reason="reset" count="995" proto="tcp" ports="1-20,24-79"/>\n</extraports>\n${ports}</ports>\n<times srtt="1200" rttvar="300" to="100000"/>\n</host>\n`;
}

function zgrabLine(i: number): string {
  const ip = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
  const ts = new Date(Date.UTC(2026, 10, 25, 2, 0, i % 3600)).toISOString();
  switch (i % 4) {
    case 0:
      return JSON.stringify({ ip, data: { http: { status: 'success', protocol: 'http', result: { response: { status_line: '200 OK', status_code: 200, protocol: { name: 'HTTP/1.1', major: 1, minor: 1 }, headers: { server: ['lighttpd/1.4.69'], content_type: ['text/html'], x_frame_options: ['SAMEORIGIN'] }, body: `<html><head><title>Router ${i % 97}</title></head><body>${'<div class="row">status ok</div>'.repeat(20)}</body></html>`, content_length: -1, request: { url: { scheme: 'http', host: ip, path: '/' }, method: 'GET', headers: { user_agent: ['Mozilla/5.0 zgrab/0.x'] } } } }, timestamp: ts } } });
    case 1:
      return JSON.stringify({ ip, data: { ssh: { status: 'success', protocol: 'ssh', result: { server_id: { raw: 'SSH-2.0-dropbear_2019.78', version: '2.0', software: 'dropbear_2019.78' }, server_key_exchange: { cookie: 'q83vEjRWeJA=', kex_algorithms: ['curve25519-sha256', 'diffie-hellman-group14-sha1'], host_key_algorithms: ['ssh-rsa'], client_to_server_ciphers: ['aes128-ctr', 'aes256-ctr'], server_to_client_ciphers: ['aes128-ctr', 'aes256-ctr'], client_to_server_macs: ['hmac-sha1'], server_to_client_macs: ['hmac-sha1'], client_to_server_compression: ['none'], server_to_client_compression: ['none'], first_kex_follows: false, reserved: 0 }, server_host_key: { raw: Buffer.from(`ssh-rsa-key-${i}`).toString('base64'), algorithm: 'ssh-rsa', fingerprint_sha256: 'ab'.repeat(32) } }, timestamp: ts } } });
    case 2:
      return JSON.stringify({ ip, data: { telnet: { status: 'success', protocol: 'telnet', result: { banner: `\r\nBusyBox v1.19.4 built-in shell\r\n(none) login: `, do: [{ name: 'Echo', value: 1 }], will: [{ name: 'Suppress Go Ahead', value: 3 }] }, timestamp: ts } } });
    default:
      return JSON.stringify({ ip, data: { http: { status: 'connection-timeout', protocol: 'http', timestamp: ts, error: 'dial tcp: i/o timeout' } } });
  }
}

async function generate(path: string, size: number, gzip: boolean, head: string, tail: string, item: (i: number) => string): Promise<number> {
  const file = createWriteStream(path, { highWaterMark: 1 << 20 });
  const sink = gzip ? createGzip({ level: 6 }) : null;
  if (sink) sink.pipe(file);
  const out = sink ?? file;
  let written = 0;
  let i = 0;
  let buf = head;
  while (written < size) {
    buf += item(i++);
    if (buf.length >= 1 << 20) {
      written += buf.length;
      if (!out.write(buf)) await once(out, 'drain');
      buf = '';
    }
  }
  buf += tail;
  written += buf.length;
  out.end(buf);
  await once(file, 'close');
  return written;
}

// ---- measurements, each in a child process -----------------------------------------------------------------

async function child(kind: string, path: string, format: string): Promise<void> {
  const t0 = performance.now();
  let records = 0;
  let bytes = 0;
  if (kind === 'read') {
    // the floor: read the bytes (and gunzip them if they are gzip), nothing else
    const raw = createReadStream(path, { highWaterMark: 1 << 20 });
    const first = await new Promise<Buffer>((resolve) => raw.once('readable', () => resolve(raw.read(2) ?? Buffer.alloc(0))));
    raw.unshift(first);
    const src = first[0] === 0x1f && first[1] === 0x8b ? raw.pipe(createGunzip({ chunkSize: 256 * 1024 })) : raw;
    for await (const c of src) bytes += (c as Buffer).length;
  } else if (kind === 'parse') {
    const { openInput } = await import('../src/importers/input.ts');
    const input = await openInput(path);
    if (format === 'nmap') {
      const { XmlStream } = await import('../src/importers/xml.ts');
      const xml = new XmlStream(path, { wantText: false, open() {}, close() {}, text() {} });
      for await (const chunk of input.chunks) {
        xml.write(chunk);
        bytes += chunk.length;
      }
      xml.end();
    } else {
      const { readLineBatches } = await import('../src/importers/lines.ts');
      for await (const lines of readLineBatches(input.chunks, path)) {
        for (const l of lines) if (l.text) records += JSON.parse(l.text) ? 1 : 0;
      }
    }
  } else {
    const { readImport } = await import('../src/importers/index.ts');
    for await (const batch of readImport(path, { format: format as 'nmap' }).batches()) records += batch.length;
  }
  const seconds = (performance.now() - t0) / 1000;
  process.stdout.write(JSON.stringify({ seconds, records, bytes, maxRssMB: process.resourceUsage().maxRSS / 1024 }));
}

function measure(kind: string, path: string, format: string): { seconds: number; records: number; maxRssMB: number } {
  const self = fileURLToPath(import.meta.url);
  const r = spawnSync(process.execPath, ['--import', 'tsx', self, '--child', kind, path, format], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`${kind} ${format} failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const ci = process.argv.indexOf('--child');
  if (ci >= 0) return child(process.argv[ci + 1]!, process.argv[ci + 2]!, process.argv[ci + 3]!);
  const size = parseSize(arg('size', '1g'));
  const runs = Math.max(1, Number(arg('runs', '3')));
  const gzip = !process.argv.includes('--plain');
  const dir = mkdtempSync(join(tmpdir(), 'iotscope-bench-import-'));
  try {
    const files = [
      { format: 'nmap', path: join(dir, `scan.xml${gzip ? '.gz' : ''}`), head: '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE nmaprun>\n<nmaprun scanner="nmap" args="nmap -sV -oX scan.xml 10.0.0.0/8" start="1795572682" version="7.93" xmloutputversion="1.05">\n', tail: '<runstats><finished time="1795579999"/></runstats>\n</nmaprun>\n', item: nmapHost },
      { format: 'zgrab2', path: join(dir, `zgrab2.jsonl${gzip ? '.gz' : ''}`), head: '', tail: '', item: (i: number) => `${zgrabLine(i)}\n` },
    ];
    console.log(`iotscope import benchmark: ${(size / 1024 ** 2).toFixed(0)} MiB of content per file, ${gzip ? 'gzip-compressed' : 'uncompressed'}, median of ${runs} runs`);
    console.log('format  content  on disk  records     read s  parse s  ratio  import s  ratio  records/s  peak RSS (import)  peak RSS (read)');
    for (const f of files) {
      const t0 = performance.now();
      const content = await generate(f.path, size, gzip, f.head, f.tail, f.item);
      const genS = (performance.now() - t0) / 1000;
      const reads: number[] = [];
      const parses: number[] = [];
      const imports: number[] = [];
      const rss: number[] = [];
      const readRss: number[] = [];
      let records = 0;
      for (let r = 0; r < runs; r++) {
        const rd = measure('read', f.path, f.format);
        reads.push(rd.seconds);
        readRss.push(rd.maxRssMB);
        parses.push(measure('parse', f.path, f.format).seconds);
        const im = measure('import', f.path, f.format);
        imports.push(im.seconds);
        rss.push(im.maxRssMB);
        records = im.records;
      }
      const read = median(reads);
      const parse = median(parses);
      const imp = median(imports);
      console.log(
        `${f.format.padEnd(7)} ${(content / 1024 ** 2).toFixed(0).padStart(5)}M ${(statSync(f.path).size / 1024 ** 2).toFixed(0).padStart(7)}M  ${String(records).padEnd(10)} ${read.toFixed(2).padStart(6)}  ${parse.toFixed(2).padStart(7)}  ${(parse / read).toFixed(2).padStart(5)}  ${imp.toFixed(2).padStart(8)}  ${(imp / read).toFixed(2).padStart(5)}  ${(records / imp).toFixed(0).padStart(9)}  ${Math.max(...rss).toFixed(0).padStart(14)} MB  ${Math.max(...readRss).toFixed(0).padStart(12)} MB   (generated in ${genS.toFixed(0)} s)`,
      );
      rmSync(f.path, { force: true });
    }
    console.log('targets: import within 3x of the plain read, peak RSS under 300 MB (the parse column is the bare parser\'s own floor)');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
