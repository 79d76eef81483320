// Stage: probes, FTP wire format. Replies as real servers send them (vsFTPd, ProFTPD, FileZilla, Postfix for the
// SMTP case), and property tests over truncated, split and random input.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isGreeting220, looksLikeFtp, looksLikeSmtp, offersAuthTls, parseFeatures, parseReply, replyText } from './codec.ts';

const VSFTPD_FEAT = '211-Features:\r\n EPRT\r\n EPSV\r\n MDTM\r\n PASV\r\n REST STREAM\r\n SIZE\r\n TVFS\r\n211 End\r\n';
const PROFTPD_FEAT = '211-Features:\r\n LANG en-US*\r\n AUTH TLS\r\n PBSZ\r\n PROT\r\n MFMT\r\n UTF8\r\n211 End\r\n';

describe('parseReply', () => {
  it('reads a single-line greeting and leaves the rest', () => {
    const r = parseReply(Buffer.from('220 (vsFTPd 3.0.3)\r\n211-Feat'));
    assert.deepEqual(r, { kind: 'ok', value: { code: 220, lines: ['220 (vsFTPd 3.0.3)'] }, consumed: 20 });
  });

  it('reads a multi-line reply up to the line with the same code and a space', () => {
    const text = '220-FileZilla Server 0.9.60 beta\r\n220-written by Tim Kosse\r\n220 Please visit https://filezilla-project.org/\r\n';
    const r = parseReply(Buffer.from(text));
    assert.equal(r.kind, 'ok');
    if (r.kind !== 'ok') return;
    assert.equal(r.value.code, 220);
    assert.equal(r.value.lines.length, 3);
    assert.equal(r.consumed, text.length);
    assert.equal(replyText(r.value), 'FileZilla Server 0.9.60 beta\nwritten by Tim Kosse\nPlease visit https://filezilla-project.org/');
  });

  it('does not end a multi-line reply at an inner line with another code or a dash', () => {
    const r = parseReply(Buffer.from('230-Welcome\r\n220 not the end\r\n230-still going\r\n230 done\r\n'));
    assert.equal(r.kind, 'ok');
    if (r.kind === 'ok') assert.equal(r.value.lines.length, 4);
  });

  it('waits for more on a partial reply, and rejects non-replies at once', () => {
    for (const s of ['', '2', '220', '220 (vsFTPd', '211-Features:\r\n EPRT\r\n']) assert.equal(parseReply(Buffer.from(s)).kind, 'need-more', s);
    for (const s of ['SSH-2.0-dropbear\r\n', 'HTTP/1.0 200 OK\r\n', '999 x\r\n', 'hello', '\xff\xfd\x01']) assert.equal(parseReply(Buffer.from(s, 'latin1')).kind, 'error', s);
  });

  it('gives up on a multi-line reply that never ends', () => {
    assert.equal(parseReply(Buffer.from(`220-a\r\n${' x\r\n'.repeat(300)}`)).kind, 'error');
  });

  it('never throws, and a reply parsed from a prefix is the same as from the whole (property)', () => {
    const replyish = fc.array(fc.oneof(fc.constantFrom('220-', '220 ', '211-', '211 ', ' ', '\r\n', '\n', 'FTP', '5'), fc.string({ maxLength: 8 })), { maxLength: 30 }).map((a) => Buffer.from(a.join(''), 'latin1'));
    fc.assert(
      fc.property(fc.oneof(replyish, fc.uint8Array({ maxLength: 300 })), fc.nat(), (buf, at) => {
        const whole = parseReply(buf);
        if (whole.kind === 'ok') {
          assert.ok(whole.consumed <= buf.length);
          const cut = at % (buf.length + 1);
          const part = parseReply(buf.subarray(0, cut));
          if (cut < whole.consumed) assert.equal(part.kind, 'need-more');
          else assert.deepEqual(part, whole);
        }
      }),
    );
  });
});

describe('FEAT and greetings', () => {
  it('lists vsFTPd features without AUTH TLS', () => {
    const r = parseReply(Buffer.from(VSFTPD_FEAT));
    assert.equal(r.kind, 'ok');
    if (r.kind !== 'ok') return;
    const f = parseFeatures(r.value);
    assert.deepEqual(f, ['EPRT', 'EPSV', 'MDTM', 'PASV', 'REST STREAM', 'SIZE', 'TVFS']);
    assert.equal(offersAuthTls(f), false);
  });

  it('sees AUTH TLS in ProFTPD and in combined lists', () => {
    const r = parseReply(Buffer.from(PROFTPD_FEAT));
    assert.equal(r.kind, 'ok');
    if (r.kind === 'ok') assert.equal(offersAuthTls(parseFeatures(r.value)), true);
    assert.equal(offersAuthTls(['AUTH TLS;SSL;TLS-C']), true);
    assert.equal(offersAuthTls(['AUTH SSL']), false);
    assert.equal(offersAuthTls(['MLST type*;size*;']), false);
  });

  it('has no features in a refusal', () => {
    const r = parseReply(Buffer.from('502 Command not implemented.\r\n'));
    assert.equal(r.kind, 'ok');
    if (r.kind === 'ok') assert.deepEqual(parseFeatures(r.value), []);
  });

  it('tells FTP from SMTP greetings', () => {
    assert.equal(looksLikeSmtp('mail.example.org ESMTP Postfix (Debian/GNU)'), true);
    assert.equal(looksLikeSmtp('mx.example.com Microsoft ESMTP MAIL Service ready'), true);
    assert.equal(looksLikeSmtp('(vsFTPd 3.0.3)'), false);
    assert.equal(looksLikeFtp('(vsFTPd 3.0.3)'), true);
    assert.equal(looksLikeFtp('ProFTPD 1.3.5e Server (Debian) [::ffff:10.0.0.1]'), true);
    assert.equal(looksLikeFtp('Welcome'), false);
    assert.equal(isGreeting220(Buffer.from('220 (vsFTPd 3.0.3)\r\n')), true);
    assert.equal(isGreeting220(Buffer.from('220-multi\r\n')), true);
    assert.equal(isGreeting220(Buffer.from('2201')), false);
    assert.equal(isGreeting220(Buffer.from('SSH-2.0-x')), false);
  });
});
