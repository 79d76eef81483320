// Stage: lab. Each responder against a real client on 127.0.0.x: curl (HTTP, HTTPS, Basic and Digest, RTSP),
// nc (telnet, FTP, PJL), ssh-keyscan and the ssh2 client, mosquitto_sub and the mqtt package (TLS), snmpget,
// coap-client, and raw Modbus/TCP and SSDP datagrams — proof that the lab speaks the protocols, not just our probes.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate, createHash } from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import mqtt from 'mqtt';
import ssh2 from 'ssh2';
import { type LabDevice, type RunningLab, startLab } from './lab.ts';

const run = promisify(execFile);
const BASE = '127.0.0.110';
let lab: RunningLab;
const dev = (name: string): LabDevice => lab.devices.find((d) => d.profile.name === name)!;
const port = (name: string, declared: number, transport = 'tcp') => dev(name).services.find((s) => s.declaredPort === declared && s.transport === transport)!.port;
const ip = (name: string) => dev(name).address;

/** Send bytes, collect what comes back until the peer closes or `ms` pass. */
async function converse(address: string, p: number, input: string[], ms = 2500, gapMs = 150): Promise<string> {
  const s = net.connect(p, address);
  const chunks: Buffer[] = [];
  s.on('data', (d) => chunks.push(d));
  await new Promise<void>((resolve, reject) => s.once('connect', resolve).once('error', reject));
  for (const line of input) {
    await new Promise((r) => setTimeout(r, gapMs));
    s.write(line);
  }
  await new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    s.once('close', () => {
      clearTimeout(t);
      resolve();
    });
  });
  s.destroy();
  return Buffer.concat(chunks).toString('latin1');
}

before(async () => {
  lab = await startLab({ base: BASE, highPorts: process.getuid?.() !== 0 });
});
after(async () => {
  await lab?.stop();
});

describe('lab responders against real clients', () => {
  it('binds each device to its own loopback address', () => {
    assert.deepEqual(
      lab.devices.map((d) => d.address),
      lab.devices.map((_, i) => `127.0.0.${110 + i}`),
    );
  });

  it('HTTP: curl sees the Basic realm, is refused with a wrong pair and let in with the default one', async () => {
    const url = `http://${ip('tplink-router')}:${port('tplink-router', 80)}/`;
    const head = (await run('curl', ['-s', '-i', url])).stdout;
    assert.match(head, /^HTTP\/1\.1 401/);
    assert.match(head, /WWW-Authenticate: Basic realm="TP-LINK Wireless N Router WR841N"/);
    assert.match(head, /Server: Router Webserver/);
    assert.equal((await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '-u', 'admin:wrong', url])).stdout, '401');
    const ok = (await run('curl', ['-s', '-u', 'admin:admin', url])).stdout;
    assert.match(ok, /<title>TL-WR841N<\/title>/);
    const soap = await run('curl', ['-s', '-X', 'POST', '-d', '<x/>', `http://${ip('tplink-router')}:${port('tplink-router', 1900)}/ipc`]);
    assert.match(soap.stdout, /<NewExternalIPAddress>198\.51\.100\.23</);
    assert.equal((await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', `${url}nothing`])).stdout, '404');
  });

  it('HTTP: curl --digest answers the Digest challenge; the favicon is a real icon', async () => {
    const base = `http://${ip('hikvision-camera')}:${port('hikvision-camera', 80)}`;
    assert.equal((await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--digest', '-u', 'admin:nope', `${base}/ISAPI/System/deviceInfo`])).stdout, '401');
    const info = (await run('curl', ['-s', '--digest', '-u', 'admin:12345', `${base}/ISAPI/System/deviceInfo`])).stdout;
    assert.match(info, /<model>DS-2CD2032-I<\/model>/);
    const icon = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code} %{content_type} %{size_download}', `${base}/favicon.ico`]);
    assert.match(icon.stdout, /^200 image\/x-icon \d+$/);
  });

  it('HTTPS: a self-signed certificate with the profile subject, key size and SAN', async () => {
    const host = ip('hikvision-camera');
    const p = port('hikvision-camera', 443);
    await assert.rejects(run('curl', ['-s', '-o', '/dev/null', `https://${host}:${p}/`]), 'untrusted without -k');
    assert.match((await run('curl', ['-sk', `https://${host}:${p}/`])).stdout, /<title>index<\/title>/);
    const { stdout } = await run('bash', ['-c', `openssl s_client -connect ${host}:${p} </dev/null 2>/dev/null | openssl x509`]);
    const cert = new X509Certificate(stdout);
    assert.match(cert.subject, /O=Hikvision/);
    assert.equal(cert.subject, cert.issuer);
    assert.ok(cert.verify(cert.publicKey));
    assert.equal(cert.publicKey.asymmetricKeyDetails?.modulusLength, 2048);
    assert.equal(cert.subjectAltName, 'IP Address:192.168.1.64');
  });

  it('Telnet: negotiation, banner, refused login, then the default pair opens a BusyBox shell', async () => {
    const host = ip('xiongmai-dvr');
    const p = port('xiongmai-dvr', 23);
    const refused = await converse(host, p, ['root\r\n', 'admin\r\n'], 1500);
    assert.ok(refused.startsWith('\xff\xfd\x01\xff\xfd\x1f\xff\xfb\x01\xff\xfb\x03'), 'IAC DO ECHO, DO NAWS, WILL ECHO, WILL SGA');
    assert.match(refused, /LocalHost login: root\r\nPassword: \r\nLogin incorrect\r\nLocalHost login: $/);
    const shell = await converse(host, p, ['root\r\n', 'xc3511\r\n', 'uname -a\r\n', 'exit\r\n']);
    assert.match(shell, /BusyBox v1\.16\.1/);
    assert.match(shell, /Linux LocalHost 3\.0\.8 #8 .* armv7l GNU\/Linux\r\n# /);
    const ont = await converse(ip('zte-ont'), port('zte-ont', 23), ['a\r\n', 'b\r\n', 'c\r\n', 'd\r\n', 'e\r\n', 'f\r\n'], 3000, 450);
    assert.equal(ont.match(/Login failed!/g)?.length, 3, 'three attempts, then the connection closes');
  });

  it('SSH: ssh-keyscan gets the profile host keys; ssh2 is refused, then runs a command with the default pair', async () => {
    const host = ip('tplink-router');
    const p = port('tplink-router', 22);
    const scan = await run('ssh-keyscan', ['-p', String(p), '-T', '5', host]);
    assert.match(scan.stderr, /SSH-2\.0-dropbear_2012\.55/);
    assert.deepEqual(scan.stdout.trim().split('\n').map((l) => l.split(' ')[1]).sort(), ['ecdsa-sha2-nistp256', 'ssh-rsa']);
    const login = (password: string) =>
      new Promise<string>((resolve, reject) => {
        const c = new ssh2.Client();
        c.on('error', reject);
        c.on('ready', () =>
          c.exec('cat /proc/version', (err, stream) => {
            if (err) return reject(err);
            let out = '';
            stream.on('data', (d: Buffer) => (out += d.toString()));
            stream.on('close', () => {
              c.end();
              resolve(out);
            });
          }),
        );
        c.connect({ host, port: p, username: 'admin', password, readyTimeout: 5000 });
      });
    await assert.rejects(login('wrong'), /authentication methods failed/);
    assert.match(await login('admin'), /^Linux version 2\.6\.31/);
  });

  it('FTP: greeting, FEAT, refused and anonymous logins', async () => {
    const nas = await converse(ip('synology-nas'), port('synology-nas', 21), ['USER admin\r\n', 'PASS bad\r\n', 'FEAT\r\n', 'QUIT\r\n']);
    assert.match(nas, /^220 DiskStation FTP server ready\.\r\n331 .*\r\n530 Login incorrect\.\r\n211-Features:\r\n AUTH TLS\r\n[\s\S]*211 End\r\n221 Goodbye\.\r\n$/);
    const printer = await converse(ip('hp-printer'), port('hp-printer', 21), ['USER anonymous\r\n', 'PASS a@b\r\n', 'PWD\r\n', 'QUIT\r\n']);
    assert.match(printer, /^220 JD FTP Server Ready\r\n331 .*\r\n230 Login successful\.\r\n257 "\/"/);
  });

  it('RTSP: curl OPTIONS; DESCRIBE refused, then the SDP for a correct Digest answer (RFC 2617, computed here)', async () => {
    const host = ip('hikvision-camera');
    const p = port('hikvision-camera', 554);
    const url = `rtsp://${host}:${p}/Streaming/Channels/101`;
    const opts = await run('curl', ['-s', '-i', url]);
    assert.match(opts.stdout, /RTSP\/1\.0 200 OK\r\nCSeq: 1\r\n[\s\S]*Public: OPTIONS, DESCRIBE/);
    const noauth = await converse(host, p, [`DESCRIBE ${url} RTSP/1.0\r\nCSeq: 2\r\nAccept: application/sdp\r\n\r\n`], 400);
    const m = /^RTSP\/1\.0 401 Unauthorized\r\nCSeq: 2\r\n[\s\S]*WWW-Authenticate: Digest realm="IP Camera\(C6176\)", nonce="([0-9a-f]+)"\r\n/.exec(noauth);
    assert.ok(m, noauth);
    const md5 = (x: string) => createHash('md5').update(x).digest('hex');
    const answer = (password: string) =>
      md5(`${md5(`admin:IP Camera(C6176):${password}`)}:${m[1]}:${md5(`DESCRIBE:${url}`)}`);
    const describe = (password: string) =>
      converse(host, p, [`DESCRIBE ${url} RTSP/1.0\r\nCSeq: 3\r\nAuthorization: Digest username="admin", realm="IP Camera(C6176)", nonce="${m[1]}", uri="${url}", response="${answer(password)}"\r\n\r\n`], 400);
    assert.match(await describe('wrong'), /^RTSP\/1\.0 401/);
    const ok = await describe('12345');
    assert.match(ok, /^RTSP\/1\.0 200 OK\r\nCSeq: 3\r\n[\s\S]*Content-Type: application\/sdp\r\n[\s\S]*\r\n\r\nv=0\r\n[\s\S]*m=video 0 RTP\/AVP 96/);
  });

  it('MQTT: mosquitto_sub reads $SYS/broker/version; the password listener refuses; TLS with the mqtt package', async () => {
    const host = ip('smarthome-hub');
    const ver = await run('mosquitto_sub', ['-h', host, '-p', String(port('smarthome-hub', 1883)), '-t', '$SYS/broker/version', '-C', '1', '-W', '5']);
    assert.equal(ver.stdout.trim(), 'mosquitto version 1.6.9');
    const all = await run('mosquitto_sub', ['-V', 'mqttv5', '-h', host, '-p', String(port('smarthome-hub', 1883)), '-t', '#', '-v', '-C', '3', '-W', '5']);
    assert.match(all.stdout, /^zigbee2mqtt\/bridge\/state online$/m);
    assert.doesNotMatch(all.stdout, /\$SYS/, '# does not match $SYS topics');
    const refused = await run('mosquitto_sub', ['-h', host, '-p', String(port('smarthome-hub', 1884)), '-t', '#', '-C', '1', '-W', '3']).catch((e: { stderr: string }) => e);
    assert.match(refused.stderr, /not authori[sz]ed/i);
    const client = await mqtt.connectAsync(`mqtts://${host}:${port('smarthome-hub', 8883)}`, { rejectUnauthorized: false, reconnectPeriod: 0, connectTimeout: 5000 });
    const got = new Promise<string>((resolve) => client.on('message', (_t, payload) => resolve(payload.toString())));
    await client.subscribeAsync('home/frontdoor/lock');
    assert.match(await got, /"state":"LOCKED"/);
    await client.publishAsync('home/test', 'x', { qos: 1 });
    await client.endAsync();
  });

  it('SNMP: snmpget with the right community; silence for a wrong one; v1 noSuchName', async () => {
    const host = ip('hp-printer');
    const p = String(port('hp-printer', 161, 'udp'));
    const ok = await run('snmpget', ['-v2c', '-c', 'public', '-On', `${host}:${p}`, '1.3.6.1.2.1.1.1.0', '1.3.6.1.2.1.1.2.0', '1.3.6.1.2.1.1.5.0']);
    assert.match(ok.stdout, /\.1\.3\.6\.1\.2\.1\.1\.1\.0 = STRING: "HP ETHERNET MULTI-ENVIRONMENT/);
    assert.match(ok.stdout, /\.1\.3\.6\.1\.2\.1\.1\.2\.0 = OID: \.1\.3\.6\.1\.4\.1\.11\.2\.3\.9\.1/);
    assert.match(ok.stdout, /\.1\.3\.6\.1\.2\.1\.1\.5\.0 = STRING: "NPI3A5B6C"/);
    const wrong = await run('snmpget', ['-v2c', '-c', 'private', '-t', '1', '-r', '0', `${host}:${p}`, '1.3.6.1.2.1.1.1.0']).catch((e: { stderr: string; stdout: string }) => e);
    assert.match(wrong.stderr + wrong.stdout, /Timeout/);
    const v1 = await run('snmpget', ['-v1', '-c', 'public', `${host}:${p}`, '1.3.6.1.2.1.1.99.0']).catch((e: { stderr: string; stdout: string }) => e);
    assert.match(v1.stderr + v1.stdout, /noSuchName/);
    const walk = await run('snmpwalk', ['-v2c', '-c', 'public', '-On', `${host}:${p}`, '1.3.6.1.2.1']);
    assert.match(walk.stdout, /\.1\.3\.6\.1\.2\.1\.43\.5\.1\.1\.17\.1 = STRING: "PHBQB12345"/);
  });

  it('SSDP: one answer per target; LOCATION on the same address serves the description', async () => {
    const host = ip('tplink-router');
    const sock = dgram.createSocket('udp4');
    const replies: string[] = [];
    sock.on('message', (m) => replies.push(m.toString()));
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    sock.send('M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: "ssdp:discover"\r\nMX: 1\r\nST: urn:schemas-upnp-org:service:WANIPConnection:1\r\n\r\n', port('tplink-router', 1900, 'udp'), host);
    sock.send('M-SEARCH * HTTP/1.1\r\nMAN: "ssdp:discover"\r\nST: urn:nothing:here\r\n\r\n', port('tplink-router', 1900, 'udp'), host);
    await new Promise((r) => setTimeout(r, 500));
    sock.close();
    assert.equal(replies.length, 1);
    assert.match(replies[0]!, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(replies[0]!, /USN: uuid:060b7353-fca6-4070-85f4-1fbfb9add62e::urn:schemas-upnp-org:service:WANIPConnection:1\r\n/);
    const location = /LOCATION: (\S+)/.exec(replies[0]!)![1]!;
    assert.equal(location, `http://${host}:${port('tplink-router', 1900)}/igd.xml`);
    const xml = (await run('curl', ['-s', location])).stdout;
    assert.match(xml, /<manufacturer>TP-LINK<\/manufacturer>/);
    assert.match(xml, /<controlURL>\/ipc<\/controlURL>/);
  });

  it('CoAP: coap-client reads /.well-known/core and a resource; unknown paths are 4.04', async () => {
    const base = `coap://${ip('smarthome-hub')}:${port('smarthome-hub', 5683, 'udp')}`;
    const core = await run('coap-client-notls', ['-B', '3', '-m', 'get', `${base}/.well-known/core`]);
    assert.match(core.stdout, /<\/sensors\/temp>;rt="temperature-c";if="sensor";ct=0;obs/);
    assert.equal((await run('coap-client-notls', ['-B', '3', '-m', 'get', `${base}/sensors/humidity`])).stdout.trim(), '48');
    const missing = await run('coap-client-notls', ['-B', '3', '-m', 'get', `${base}/nope`]).catch((e: { stdout: string; stderr: string }) => e);
    assert.match(missing.stdout + missing.stderr, /4\.04/);
    const nonConfirmable = await run('coap-client-notls', ['-B', '3', '-N', '-m', 'get', `${base}/firmware`]);
    assert.equal(nonConfirmable.stdout.trim(), 'ZB-GW03 2.4.1');
  });

  it('Modbus/TCP: device identification with the transaction id echoed; exception 01 for other functions', async () => {
    const host = ip('schneider-plc');
    const p = port('schneider-plc', 502);
    const s = net.connect(p, host);
    const read = () => new Promise<Buffer>((resolve) => s.once('data', resolve));
    await new Promise((r) => s.once('connect', r));
    s.write(Buffer.from([0xbe, 0xef, 0, 0, 0, 5, 1, 0x2b, 0x0e, 0x01, 0x00]));
    const id = await read();
    assert.equal(id.readUInt16BE(0), 0xbeef);
    assert.equal(id.readUInt16BE(4), id.length - 6);
    assert.deepEqual([...id.subarray(7, 14)], [0x2b, 0x0e, 0x01, 0x82, 0x00, 0x00, 3]);
    assert.match(id.subarray(14).toString('latin1'), /Schneider Electric.*BMX P34 2020.*v2\.70/);
    s.write(Buffer.from([0x12, 0x34, 0, 0, 0, 6, 1, 0x03, 0, 0, 0, 10]));
    assert.deepEqual([...(await read())], [0x12, 0x34, 0, 0, 0, 3, 1, 0x83, 0x01]);
    s.write(Buffer.from([0x00, 0x01, 0, 0, 0, 5, 1, 0x2b, 0x0e, 0x04, 0x06]));
    const one = await read();
    assert.equal(one.subarray(-14).toString('latin1'), 'PUMP_STATION_3');
    s.destroy();
  });

  it('raw TCP: the printer port answers PJL INFO ID', async () => {
    const out = await converse(ip('hp-printer'), port('hp-printer', 9100), ['\x1b%-12345X@PJL INFO ID\r\n'], 800);
    assert.equal(out, '@PJL INFO ID\r\n"HP LaserJet Pro M404dn"\r\n\f');
  });

  it('stop() closes every listener', async () => {
    const other = await startLab({ profiles: ['xiongmai-dvr'], base: '127.0.0.140', highPorts: process.getuid?.() !== 0 });
    const p = other.devices[0]!.services[0]!.port;
    await other.stop();
    await assert.rejects(converse('127.0.0.140', p, [], 300), /ECONNREFUSED/);
  });
});
