// The XML tokenizer's start-tag scanner, checked against the grammar it implements written as a regular
// expression, on generated tags both well-formed and broken.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeEntities, scanStartTag, XmlStream, type XmlAttrs } from './xml.ts';

// '<' name (S attr S? '=' S? quoted)* S? '/'? '>' with XML white space only, no '<' inside a value
const GRAMMAR = /^<([A-Za-z_:][-\w.:]*)((?:[ \t\r\n]+[^ \t\r\n=/>"'<]+[ \t\r\n]*=[ \t\r\n]*(?:"[^"<]*"|'[^'<]*'))*)[ \t\r\n]*(\/?)>/;
const ATTR = /[ \t\r\n]+([^ \t\r\n=/>"'<]+)[ \t\r\n]*=[ \t\r\n]*(?:"([^"<]*)"|'([^'<]*)')/g;

function reference(s: string): { name: string; attrs: XmlAttrs; selfClosing: boolean; end: number } | null {
  const m = GRAMMAR.exec(s);
  if (!m) return null;
  const attrs: XmlAttrs = {};
  for (const a of m[2]!.matchAll(ATTR)) attrs[a[1]!] = decodeEntities(a[2] ?? a[3] ?? '');
  return { name: m[1]!, attrs, selfClosing: m[3] === '/', end: m[0].length };
}

const piece = fc.constantFrom('<', 'a', 'port', 'x:y', '-', '.', '1', ' ', '\t', '\n', '=', '"', "'", '/', '>', 'id', '&amp;', '&#x41;', '&lt;', 'é', '\u00a0');
const tagText = fc.array(piece, { maxLength: 24 }).map((p) => `<${p.join('')}`);
const wellFormed = fc
  .tuple(
    fc.constantFrom('host', 'port', 'x:elem', '_a.b-c'),
    fc.array(fc.tuple(fc.constantFrom('id', 'state', 'a:b', 'é', 'x-y'), fc.constantFrom('', 'open', 'a &amp; b', '&#x3c;x', "it's", 'say "hi"'), fc.constantFrom(' ', '  ', '\n\t')), { maxLength: 4 }),
    fc.boolean(),
  )
  .map(([name, attrs, self]) => `<${name}${attrs.map(([k, v, ws]) => `${ws}${k}=${v.includes('"') ? `'${v}'` : `"${v}"`}`).join('')}${self ? '/' : ''}>tail`);

test('the start-tag scanner accepts exactly the grammar and decodes values as the reference does', () => {
  fc.assert(
    fc.property(fc.oneof(tagText, wellFormed), (s) => {
      assert.deepEqual(scanStartTag(s, 0), reference(s));
    }),
    { numRuns: 3000 },
  );
});

test('well-formed tags are read whole, with entities decoded and the later of two equal names kept', () => {
  assert.deepEqual(scanStartTag('<port protocol="tcp" portid=\'80\'/>', 0), { name: 'port', attrs: { protocol: 'tcp', portid: '80' }, selfClosing: true, end: 34 });
  assert.deepEqual(scanStartTag('xx<a b = "1 &amp; 2" b="3">', 2)?.attrs, { b: '3' });
  assert.equal(scanStartTag('<a b="1"c="2">', 0), null, 'attributes need white space between them');
  assert.equal(scanStartTag('<a b="x<y">', 0), null, "'<' inside a value");
  assert.equal(scanStartTag('<a b="unfinished', 0), null, 'data ends inside the tag');
});

test('a tag split across chunks at every byte gives the same events as the whole document', () => {
  const doc = '<?xml version="1.0"?>\n<r a="1"><host id="h &amp; 1" x=\'2\'><port n="80"/>text &lt;b&gt;</host></r>\n';
  const events = (chunks: Buffer[]) => {
    const out: string[] = [];
    const xml = new XmlStream('t.xml', {
      wantText: true,
      open: (n, a, self) => out.push(`open ${n} ${JSON.stringify(a)} ${self}`),
      close: (n) => out.push(`close ${n}`),
      // text may arrive in pieces when a chunk ends inside it: adjacent pieces are one text
      text: (t) => (out.length && out[out.length - 1]!.startsWith('text ') ? (out[out.length - 1] += t) : out.push(`text ${t}`)),
    });
    for (const c of chunks) xml.write(c);
    xml.end();
    return out.join('|');
  };
  const whole = events([Buffer.from(doc)]);
  assert.match(whole, /open host \{"id":"h & 1","x":"2"\} false/);
  const bytes = Buffer.from(doc);
  for (let cut = 1; cut < bytes.length; cut++) assert.equal(events([bytes.subarray(0, cut), bytes.subarray(cut)]), whole, `cut at ${cut}`);
});
