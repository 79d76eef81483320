// Stage: probes, SSDP/UPnP wire format. The M-SEARCH we send, answers as minissdpd and MiniUPnPd send them, device
// descriptions with embedded devices, hostile XML (DTD entities, deep nesting, floods), and property tests.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { SSDP_LIMITS, decodeXmlText, encodeMSearch, parseDescription, parseSsdpResponse } from './codec.ts';

const MINISSDPD_ANSWER =
  'HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=120\r\nST: upnp:rootdevice\r\nUSN: uuid:2c6b4f52-0000-1000-8000-0012344f2a1b::upnp:rootdevice\r\nEXT:\r\n' +
  'SERVER: Linux/3.10 UPnP/1.0 IPCAM/1.0\r\nLOCATION: http://10.213.0.10:49152/description.xml\r\nOPT: "http://schemas.upnp.org/upnp/1/0/"; ns=01\r\n01-NLS: 1795571511\r\n\r\n';

const IGD_DESCRIPTION = `<?xml version="1.0"?>
<root xmlns="urn:schemas-upnp-org:device-1-0"><specVersion><major>1</major><minor>1</minor></specVersion>
<device><deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:1</deviceType><friendlyName>Archer &amp; Co &#x263A;</friendlyName>
<manufacturer>TP-Link</manufacturer><manufacturerURL>http://www.tp-link.com</manufacturerURL><modelName>Archer C7</modelName>
<modelNumber>5.0</modelNumber><modelDescription>AC1750 Wireless Dual Band Gigabit Router</modelDescription><serialNumber>00000001</serialNumber>
<UDN>uuid:9f0865b3-f5da-4ad5-85b7-7404637fdf37</UDN>
<serviceList><service><serviceType>urn:schemas-upnp-org:service:Layer3Forwarding:1</serviceType><serviceId>urn:upnp-org:serviceId:L3Forwarding1</serviceId><controlURL>/l3f</controlURL></service></serviceList>
<deviceList><device><deviceType>urn:schemas-upnp-org:device:WANDevice:1</deviceType><friendlyName>WANDevice</friendlyName>
<deviceList><device><deviceType>urn:schemas-upnp-org:device:WANConnectionDevice:1</deviceType>
<serviceList><service><serviceType>urn:schemas-upnp-org:service:WANIPConnection:1</serviceType><controlURL>/ipc</controlURL></service>
<service><serviceType>urn:schemas-upnp-org:service:WANPPPConnection:1</serviceType></service></serviceList></device></deviceList></device></deviceList>
<presentationURL>http://192.168.0.1:80</presentationURL><dlna:X_DLNADOC xmlns:dlna="urn:schemas-dlna-org:device-1-0">DMS-1.50</dlna:X_DLNADOC></device></root>`;

describe('M-SEARCH and its answers', () => {
  it('a unicast M-SEARCH names the target as HOST, with MAN, MX and ST', () => {
    const req = encodeMSearch({ ip: '10.213.0.10', port: 1900, st: 'ssdp:all', mx: 1, userAgent: 'iotscope/0.1\r\nX: injected' }).toString();
    assert.equal(req, 'M-SEARCH * HTTP/1.1\r\nHOST: 10.213.0.10:1900\r\nMAN: "ssdp:discover"\r\nMX: 1\r\nST: ssdp:all\r\nUSER-AGENT: iotscope/0.1 X: injected\r\n\r\n');
    assert.match(encodeMSearch({ ip: 'fe80::1', port: 1900, st: 'upnp:rootdevice', mx: 1, userAgent: 'x' }).toString(), /HOST: \[fe80::1\]:1900/);
  });

  it('parses minissdpd’s answer, lower-casing header names', () => {
    const p = parseSsdpResponse(Buffer.from(MINISSDPD_ANSWER));
    assert.ok(p.ok);
    if (!p.ok) return;
    assert.equal(p.response.statusCode, 200);
    assert.equal(p.response.headers.server, 'Linux/3.10 UPnP/1.0 IPCAM/1.0');
    assert.equal(p.response.headers.location, 'http://10.213.0.10:49152/description.xml');
    assert.equal(p.response.headers.st, 'upnp:rootdevice');
    assert.equal(p.response.headers.ext, '');
    assert.equal(p.response.headers['01-nls'], '1795571511');
  });

  it('refuses NOTIFY, DNS and garbage; caps headers and values', () => {
    for (const s of ['NOTIFY * HTTP/1.1\r\nNT: upnp:rootdevice\r\n\r\n', '\x81\x80\x00\x01', '', 'HTTP/2 200\r\n\r\n']) assert.equal(parseSsdpResponse(Buffer.from(s, 'latin1')).ok, false, s);
    const many = `HTTP/1.1 200 OK\r\nX-Long: ${'v'.repeat(1000)}\r\n${Array.from({ length: 100 }, (_, i) => `X-${i}: ${'v'.repeat(40)}`).join('\r\n')}\r\n\r\n`;
    const p = parseSsdpResponse(Buffer.from(many));
    assert.ok(p.ok);
    if (!p.ok) return;
    assert.equal(Object.keys(p.response.headers).length, SSDP_LIMITS.maxHeaders);
    assert.ok(Object.values(p.response.headers).every((v) => v.length <= SSDP_LIMITS.maxHeaderValue));
    const proto = parseSsdpResponse(Buffer.from('HTTP/1.1 200 OK\r\n__proto__: x\r\nconstructor: y\r\n\r\n'));
    assert.ok(proto.ok && Object.getPrototypeOf(proto.response.headers) === Object.prototype && proto.response.headers['constructor'] === 'y');
  });

  it('never throws on random datagrams (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 200 }), fc.string({ maxLength: 200 }).map((s) => Buffer.from(`HTTP/1.1 200 OK\r\n${s}`))), (b) => {
        const p = parseSsdpResponse(b);
        if (p.ok) assert.ok(Object.keys(p.response.headers).length <= SSDP_LIMITS.maxHeaders);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('UPnP device description', () => {
  it('an IGD with nested devices, services, entities and a foreign namespace', () => {
    const p = parseDescription(IGD_DESCRIPTION);
    assert.ok(p.ok, !p.ok ? p.error : '');
    if (!p.ok) return;
    assert.deepEqual(p.device, {
      deviceType: 'urn:schemas-upnp-org:device:InternetGatewayDevice:1',
      friendlyName: 'Archer & Co ☺',
      manufacturer: 'TP-Link',
      manufacturerURL: 'http://www.tp-link.com',
      modelName: 'Archer C7',
      modelNumber: '5.0',
      modelDescription: 'AC1750 Wireless Dual Band Gigabit Router',
      serialNumber: '00000001',
      udn: 'uuid:9f0865b3-f5da-4ad5-85b7-7404637fdf37',
      presentationURL: 'http://192.168.0.1:80',
      services: [{ serviceType: 'urn:schemas-upnp-org:service:Layer3Forwarding:1', controlURL: '/l3f' }],
      devices: [
        {
          deviceType: 'urn:schemas-upnp-org:device:WANDevice:1',
          friendlyName: 'WANDevice',
          devices: [
            {
              deviceType: 'urn:schemas-upnp-org:device:WANConnectionDevice:1',
              services: [{ serviceType: 'urn:schemas-upnp-org:service:WANIPConnection:1', controlURL: '/ipc' }, { serviceType: 'urn:schemas-upnp-org:service:WANPPPConnection:1' }],
            },
          ],
        },
      ],
    });
  });

  it('never expands DTD entities (billion laughs stays text)', () => {
    const xml = `<?xml version="1.0"?><!DOCTYPE root [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>
<root><device><manufacturer>&c;</manufacturer><modelName>&lt;b&gt; &#0; &#xD800; &bogus;</modelName></device></root>`;
    const p = parseDescription(xml);
    if (p.ok) {
      assert.equal(p.device.manufacturer, '&c;');
      assert.equal(p.device.modelName, '<b> &#0; &#xD800; &bogus;');
    }
    assert.equal(decodeXmlText('&amp;lt;'), '&lt;');
  });

  it('bounds depth, device count, service count and field length', () => {
    let nested = '<deviceType>leaf</deviceType>';
    for (let i = 0; i < 10; i++) nested = `<deviceType>d${i}</deviceType><deviceList><device>${nested}</device></deviceList>`;
    const deep = parseDescription(`<root><device>${nested}</device></root>`);
    assert.ok(deep.ok);
    let depth = 0;
    for (let d = deep.ok ? deep.device : undefined; d?.devices; d = d.devices[0]) depth++;
    assert.equal(depth, SSDP_LIMITS.maxDeviceDepth);

    const wide = `<root><device><deviceList>${'<device><deviceType>x</deviceType></device>'.repeat(100)}</deviceList>` +
      `<serviceList>${'<service><serviceType>s</serviceType></service>'.repeat(100)}</serviceList><friendlyName>${'n'.repeat(5000)}</friendlyName></device></root>`;
    const w = parseDescription(wide);
    assert.ok(w.ok);
    if (!w.ok) return;
    assert.equal(w.device.devices!.length, SSDP_LIMITS.maxDevices - 1);
    assert.equal(w.device.services!.length, SSDP_LIMITS.maxServicesPerDevice);
    assert.equal(w.device.friendlyName!.length, SSDP_LIMITS.maxFieldChars);
  });

  it('reports documents that are not descriptions', () => {
    for (const x of ['', 'not xml', '<html><body>401</body></html>', '<root></root>', '<root><device/></root>', '<a>'.repeat(20_000), 'x'.repeat(SSDP_LIMITS.maxDescriptionBytes + 1)]) {
      const p = parseDescription(x);
      if (p.ok) assert.deepEqual(p.device, {}, x.slice(0, 40));
    }
    assert.equal(parseDescription('<html></html>').ok, false);
    assert.equal(parseDescription('<root><__proto__>x</__proto__></root>').ok, false);
  });

  it('never throws on XML-ish random input (property)', () => {
    const tags = ['root', 'device', 'deviceList', 'serviceList', 'service', 'serviceType', 'modelName', 'UDN', '__proto__', 'a:b'];
    const piece = fc.oneof(
      fc.constantFrom(...tags).map((t) => `<${t}>`),
      fc.constantFrom(...tags).map((t) => `</${t}>`),
      fc.constantFrom('&amp;', '&#65;', '&x;', '<!DOCTYPE r [<!ENTITY x "y">]>', '<![CDATA[z]]>', '<?pi?>', '"', "'", '='),
      fc.string({ maxLength: 6 }),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 60 }), (parts) => {
        const p = parseDescription(parts.join(''));
        if (p.ok) assert.ok(JSON.stringify(p.device).length < 200_000);
      }),
      { numRuns: 2000 },
    );
  });
});
