// Stage: lab. Profiles as data: every file under content/lab loads, a broken one is refused with its file and
// field named, the lab binds only to loopback and refuses privileged ports without root unless told --high-ports.
// The request decoders of the responders are property-tested on random and truncated input.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { LabError, labAddresses, portPlan, startLab } from './lab.ts';
import { LAB_CONTENT_DIR, ProfileError, loadProfiles, parseProfile } from './profile.ts';
import { CoapError, answerCoap, linkFormat, parseCoap } from './responders/coap.ts';
import { answerPdu } from './responders/modbus.ts';
import { parseConnect, readPacket, topicMatches } from './responders/mqtt.ts';
import { parseRtspHead } from './responders/rtsp.ts';
import { BerError, parseSnmpRequest } from './responders/snmp.ts';
import { parseMSearch } from './responders/ssdp.ts';
import { TelnetInput } from './responders/telnet.ts';

const camera = readFileSync(join(LAB_CONTENT_DIR, 'hikvision-camera.yaml'), 'utf8');

describe('lab profiles', () => {
  it('every file under content/lab loads, with the required device kinds', () => {
    const files = readdirSync(LAB_CONTENT_DIR).filter((f) => f.endsWith('.yaml'));
    const profiles = loadProfiles();
    assert.equal(profiles.length, files.length);
    const types = new Set(profiles.map((p) => p.device.type));
    for (const t of ['ip-camera', 'dvr', 'router', 'smart-hub', 'printer', 'plc', 'nas', 'ont']) assert.ok(types.has(t as never), t);
    for (const p of profiles) {
      assert.ok(p.examples.length >= 3, `${p.name} has examples`);
      for (const s of p.services) if (s.protocol === 'coap') assert.ok(Buffer.byteLength(linkFormat(s)) <= 1024, `${p.name}: link format fits one datagram`);
    }
    assert.ok(profiles.some((p) => p.services.some((s) => s.protocol === 'ssdp' && /InternetGatewayDevice/.test(s.device.deviceType))), 'an IGD');
  });

  it('a broken profile names the file and the field', () => {
    const bad = camera.replace('realm: DS-2CD2032-I', 'realm: 42').replace('port: 554', 'port: 70000');
    assert.throws(
      () => parseProfile(bad, 'content/lab/hikvision-camera.yaml'),
      (e: Error) =>
        e instanceof ProfileError &&
        e.message.startsWith('content/lab/hikvision-camera.yaml:') &&
        e.message.includes('services[0].routes[2].auth.realm') &&
        e.message.includes('services[2].port'),
    );
  });

  it('refuses unknown keys, bad example fields, SSDP without a description server and non-YAML', () => {
    assert.throws(() => parseProfile(camera.replace('    server: App-webs/\n', '    server: App-webs/\n    sever: x\n'), 'x/hikvision-camera.yaml'), /services\[0\].*sever/);
    assert.throws(() => parseProfile(camera.replace('field: title, equals: index', 'field: titel, equals: index'), 'x/hikvision-camera.yaml'), /examples\[1\]\.field: http observations have no field "titel"/);
    assert.throws(() => parseProfile(camera.replace('location: { port: 49152', 'location: { port: 8081'), 'x/hikvision-camera.yaml'), /services\[3\]\.location\.port: no http service on port 8081/);
    assert.throws(() => parseProfile(camera, 'x/other-name.yaml'), /must match the file name/);
    assert.throws(() => parseProfile('name: [unclosed', 'x/y.yaml'), /x\/y\.yaml: not valid YAML/);
  });

  it('loads a folder and reports the broken file among good ones', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lab-profiles-'));
    writeFileSync(join(dir, 'hikvision-camera.yaml'), camera);
    writeFileSync(join(dir, 'broken.yaml'), 'name: broken\ndescription: x\n');
    assert.throws(() => loadProfiles(dir), /broken\.yaml: invalid lab profile: device: .*; services: /);
  });

  it('binds only to loopback and says why privileged ports need root', async () => {
    assert.deepEqual(labAddresses('127.0.0.254', 3), ['127.0.0.254', '127.0.0.255', '127.0.1.0']);
    assert.throws(() => labAddresses('10.0.0.1', 1), LabError);
    assert.throws(() => labAddresses('127.0.0.0/24', 1), LabError);
    const profiles = loadProfiles();
    assert.throws(() => portPlan(profiles, { privileged: false, highPorts: false }), /ports below 1024 need root.*--high-ports/);
    const high = portPlan(profiles, { privileged: false, highPorts: true });
    assert.deepEqual([high(80), high(1883), high(161)], [10080, 1883, 10161]);
    assert.equal(portPlan(profiles, { privileged: true, highPorts: false })(80), 80);
    await assert.rejects(startLab({ base: '127.0.0.150', privileged: false }), /need root/);
    await assert.rejects(startLab({ profiles: ['no-such-device'] }), /no lab profile named "no-such-device"/);
  });
});

/** A decoder of client bytes returns, or throws its own typed error: never anything else, never hangs. */
describe('responder request decoders on hostile input', () => {
  const bytes = fc.uint8Array({ maxLength: 300 });
  const typed = (f: () => unknown, ...allowed: (new (...a: never[]) => Error)[]) => {
    try {
      f();
    } catch (e) {
      if (!allowed.some((A) => e instanceof A)) throw e;
    }
  };
  const coapSpec = loadProfiles().flatMap((p) => p.services).find((s) => s.protocol === 'coap');

  it('SNMP', () => fc.assert(fc.property(bytes, (b) => typed(() => parseSnmpRequest(Buffer.from(b)), BerError))));
  it('CoAP', () =>
    fc.assert(
      fc.property(bytes, (b) =>
        typed(() => {
          const m = parseCoap(Buffer.from(b));
          if (coapSpec?.protocol === 'coap') answerCoap(coapSpec, m, () => 1);
        }, CoapError),
      ),
    ));
  it('MQTT framing and CONNECT', () =>
    fc.assert(
      fc.property(bytes, (b) => {
        const r = readPacket(Buffer.from(b));
        if ('packet' in r) typed(() => parseConnect(r.packet.body), RangeError);
        typed(() => parseConnect(Buffer.from(b)), RangeError);
      }),
    ));
  it('Modbus PDUs always get an answer or an exception', () =>
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 253 }), (b) => {
        const a = answerPdu(new Map([[0, Buffer.from('v')]]), Buffer.from(b));
        assert.ok(a.length >= 2 && a.length <= 253);
      }),
    ));
  it('Telnet, RTSP and SSDP text', () =>
    fc.assert(
      fc.property(bytes, fc.string({ maxLength: 300 }), (b, s) => {
        new TelnetInput().feed(b);
        parseRtspHead(s);
        parseMSearch(s);
      }),
    ));

  it('truncated real requests are refused with typed errors', () => {
    const get = Buffer.from('302602010104067075626c6963a0190204 1234567802010002010030 0b300906052b06010201 0500'.replace(/ /g, ''), 'hex');
    for (let n = 0; n < get.length; n++) typed(() => parseSnmpRequest(get.subarray(0, n)), BerError);
    const coap = Buffer.from('4201abcd1234bb2e77656c6c2d6b6e6f776e04636f7265', 'hex');
    assert.equal(parseCoap(coap).messageId, 0xabcd);
    for (let n = 0; n < coap.length; n++) typed(() => parseCoap(coap.subarray(0, n)), CoapError);
  });

  it('MQTT topic filters follow the $-topic rule', () => {
    assert.ok(topicMatches('$SYS/#', '$SYS/broker/version'));
    assert.ok(!topicMatches('#', '$SYS/broker/version'));
    assert.ok(topicMatches('home/+/temperature', 'home/livingroom/temperature'));
    assert.ok(!topicMatches('home/+', 'home/livingroom/temperature'));
  });
});
