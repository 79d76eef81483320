// Stage: probes, FTP. The probe against the testbed's vsFTPd and against loopback servers: an FTP server with
// AUTH TLS, a mail server on port 21, an FTP server that is full, a 220 greeting of something else.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import type { FtpData } from '../../core/fields.ts';
import { parseScopeYaml } from '../../core/scope.ts';
import { dialTcp } from '../../scan/conn.ts';
import { runProbe } from '../../scan/run-probe.ts';
import { LAB_SCOPE_YAML, ensureTestbed, require_ } from '../../../test/testbed.ts';
import { ftpProbe } from './probe.ts';

const scope = parseScopeYaml(LAB_SCOPE_YAML, 'test scope', parseYaml);
const limits = { timeoutMs: 1500, connectTimeoutMs: 1500 };
const ROUTER = { ip: '10.213.0.20', port: 21, transport: 'tcp' as const };

describe('ftp probe against the testbed vsFTPd', () => {
  it('records the greeting and the FEAT list', async (t) => {
    if (!require_(t, 'testbed')) return;
    ensureTestbed();
    const r = await runProbe(ftpProbe, ROUTER, { scope, limits });
    assert.equal(r.status, 'success', r.error);
    assert.equal(r.protocol, 'ftp');
    assert.deepEqual(r.data as FtpData, {
      banner: '220 (vsFTPd 3.0.3)',
      code: 220,
      features: ['EPRT', 'EPSV', 'MDTM', 'PASV', 'REST STREAM', 'SIZE', 'TVFS'],
      authTls: false,
    });
    assert.ok(ftpProbe.recognizes!(Buffer.from(r.raw!)));
  });

  it('works on a connection the engine opened and already read the greeting from', async (t) => {
    if (!require_(t, 'testbed')) return;
    const conn = await dialTcp(ROUTER.ip, ROUTER.port, { timeoutMs: 1500, maxBytes: 65536 });
    await conn.readUntil((b) => b.includes('\n'), 1500);
    const r = await runProbe(ftpProbe, ROUTER, { scope, limits, preopened: conn });
    assert.equal(r.status, 'success', r.error);
    assert.equal((r.data as FtpData).banner, '220 (vsFTPd 3.0.3)');
  });
});

describe('ftp probe against loopback servers', () => {
  const servers: net.Server[] = [];
  const ports: Record<string, number> = {};
  const commands: Record<string, string[]> = {};
  /** A line server: a greeting, then one answer per command (by verb), recording what it was sent. */
  const serve = (name: string, greeting: string, answers: Record<string, string>) =>
    new Promise<void>((resolve) => {
      commands[name] = [];
      const srv = net.createServer((s) => {
        s.on('error', () => {});
        s.write(greeting);
        let buf = '';
        s.on('data', (d) => {
          buf += d.toString('latin1');
          let nl: number;
          while ((nl = buf.indexOf('\n')) !== -1) {
            const line = buf.slice(0, nl).trim();
            buf = buf.slice(nl + 1);
            commands[name]!.push(line);
            const verb = line.split(' ')[0]!.toUpperCase();
            if (verb === 'QUIT') s.end('221 Goodbye.\r\n');
            else if (answers[verb]) s.write(answers[verb]);
          }
        });
      });
      srv.listen(0, '127.0.0.1', () => {
        ports[name] = (srv.address() as net.AddressInfo).port;
        resolve();
      });
      servers.push(srv);
    });

  before(async () => {
    await serve('proftpd', '220-Welcome\r\n220 ProFTPD 1.3.5e Server (Debian) [::ffff:127.0.0.1]\r\n', {
      FEAT: '211-Features:\r\n AUTH TLS\r\n PBSZ\r\n PROT\r\n UTF8\r\n211 End\r\n',
    });
    await serve('smtp', '220 mail.example.org ESMTP Postfix (Debian/GNU)\r\n', { FEAT: '502 5.5.2 Error: command not recognized\r\n' });
    await serve('full', '421 Too many users - please try again later (FTP server)\r\n', {});
    await serve('plain220', '220 ready\r\n', { FEAT: '211-Extensions supported:\r\n SIZE\r\n211 END\r\n' });
    await serve('other220', '220 ready\r\n', { FEAT: 'ERROR what?\r\n' });
    await serve('silentfeat', '220 FTP server ready\r\n', {});
  });
  after(() => {
    for (const s of servers) s.close();
  });
  const target = (name: string) => ({ ip: '127.0.0.1', port: ports[name]!, transport: 'tcp' as const });

  it('records a multi-line greeting and AUTH TLS, and sends only FEAT and QUIT', async () => {
    const r = await runProbe(ftpProbe, target('proftpd'), { scope, limits });
    assert.equal(r.status, 'success', r.error);
    const d = r.data as FtpData;
    assert.equal(d.banner, '220-Welcome\n220 ProFTPD 1.3.5e Server (Debian) [::ffff:127.0.0.1]');
    assert.equal(d.authTls, true);
    assert.deepEqual(d.features, ['AUTH TLS', 'PBSZ', 'PROT', 'UTF8']);
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(commands.proftpd, ['FEAT', 'QUIT']);
  });

  it('hands an SMTP server back to the engine with the raw greeting, without sending it anything', async () => {
    const started = Date.now();
    const r = await runProbe(ftpProbe, target('smtp'), { scope, limits });
    assert.equal(r.status, 'protocol-error');
    assert.deepEqual(r.data, {});
    assert.match(Buffer.from(r.raw!).toString(), /^220 mail\.example\.org ESMTP Postfix/);
    assert.ok(Date.now() - started < 1000);
    assert.equal(ftpProbe.recognizes!(Buffer.from(r.raw!)), false);
    assert.deepEqual(commands.smtp, []);
  });

  it('records a full FTP server by its 421 greeting', async () => {
    const r = await runProbe(ftpProbe, target('full'), { scope, limits });
    assert.equal(r.status, 'success');
    assert.deepEqual(r.data, { banner: '421 Too many users - please try again later (FTP server)', code: 421 });
  });

  it('accepts a bare 220 when FEAT answers like FTP, and refuses it when nothing does', async () => {
    const ok = await runProbe(ftpProbe, target('plain220'), { scope, limits });
    assert.equal(ok.status, 'success');
    assert.deepEqual((ok.data as FtpData).features, ['SIZE']);
    const other = await runProbe(ftpProbe, target('other220'), { scope, limits });
    assert.equal(other.status, 'protocol-error');
    assert.equal(Buffer.from(other.raw!).toString(), '220 ready\r\n');
  });

  it('keeps the greeting when FEAT gets no answer, within its timeout', async () => {
    const started = Date.now();
    const r = await runProbe(ftpProbe, target('silentfeat'), { scope, limits });
    assert.equal(r.status, 'success');
    assert.deepEqual(r.data, { banner: '220 FTP server ready', code: 220 });
    assert.ok(Date.now() - started < 2 * limits.timeoutMs);
  });
});
