// Stage: lab (local emulated devices). Device profiles are data under content/lab/*.yaml: what a device of a kind
// answers on each port. This module validates them with zod at load time, so a broken profile is reported with
// its file and field before any socket is opened.
import { readFileSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

/** content/lab beside the source tree */
export const LAB_CONTENT_DIR = fileURLToPath(new URL('../../content/lab/', import.meta.url));

const text = z.string().max(65536);
const port = z.number().int().min(1).max(65535);

const Credential = z.strictObject({ user: text, password: text });

const Auth = z.strictObject({
  scheme: z.enum(['Basic', 'Digest']),
  realm: text,
  /** pairs that open the door; none means every attempt is refused */
  credentials: z.array(Credential).default([]),
});

const TlsSpec = z.strictObject({
  /** certificate subject, e.g. { CN: "192.168.1.64", O: "Hikvision" }; the issuer is the same (self-signed) */
  subject: z.partialRecord(z.enum(['CN', 'O', 'OU', 'L', 'ST', 'C', 'emailAddress']), text),
  keyBits: z.union([z.literal(1024), z.literal(2048), z.literal(3072), z.literal(4096)]).default(2048),
  /** validity, ISO dates; defaults to one day ago .. ten years later */
  notBefore: z.iso.date().optional(),
  notAfter: z.iso.date().optional(),
  subjectAltNames: z.array(text).default([]),
});

const HttpRoute = z
  .strictObject({
    path: text.regex(/^\//, 'must start with /'),
    method: z.enum(['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS']).default('GET'),
    status: z.number().int().min(100).max(599).default(200),
    reason: text.optional(),
    headers: z.record(text, text).default({}),
    body: text.optional(),
    /** binary bodies (favicons) */
    bodyBase64: z.base64().max(65536).optional(),
    auth: Auth.optional(),
  })
  .refine((r) => !(r.body !== undefined && r.bodyBase64 !== undefined), { message: 'give body or bodyBase64, not both' });

const HttpFields = {
  /** Server header on every answer */
  server: text.optional(),
  /** headers added to every answer */
  headers: z.record(text, text).default({}),
  routes: z.array(HttpRoute).default([]),
  notFound: z
    .strictObject({ status: z.number().int().min(100).max(599).default(404), headers: z.record(text, text).default({}), body: text.default('') })
    .default({ status: 404, headers: {}, body: '' }),
};

const HttpService = z.strictObject({ port, transport: z.literal('tcp'), protocol: z.literal('http'), ...HttpFields });
const HttpsService = z.strictObject({ port, transport: z.literal('tcp'), protocol: z.literal('https'), ...HttpFields, tls: TlsSpec });

/** Telnet option numbers the server announces; BusyBox telnetd's defaults unless told */
const TelnetService = z.strictObject({
  port,
  transport: z.literal('tcp'),
  protocol: z.literal('telnet'),
  options: z
    .strictObject({
      will: z.array(z.number().int().min(0).max(255)).default([1, 3]),
      do: z.array(z.number().int().min(0).max(255)).default([1, 31]),
    })
    .default({ will: [1, 3], do: [1, 31] }),
  /** text before the login prompt; "\n" is sent as CR LF */
  banner: text.default(''),
  loginPrompt: text.default('login: '),
  passwordPrompt: text.default('Password: '),
  loginFailed: text.default('Login incorrect'),
  maxAttempts: z.number().int().min(1).max(10).default(3),
  /** default pairs the device accepts; none means every login fails */
  credentials: z.array(Credential).default([]),
  motd: text.default(''),
  shellPrompt: text.default('# '),
  /** fake shell: exact command line → output */
  commands: z.record(text, text).default({}),
});

const SshService = z.strictObject({
  port,
  transport: z.literal('tcp'),
  protocol: z.literal('ssh'),
  ident: text.regex(/^SSH-2\.0-[\x21-\x7e]+( [\x20-\x7e]*)?$/, 'must be an SSH-2.0 identification line'),
  hostKeys: z.array(z.enum(['rsa', 'ecdsa', 'ed25519'])).min(1).default(['rsa', 'ed25519']),
  /** pre-auth banner (SSH_MSG_USERAUTH_BANNER) */
  banner: text.optional(),
  credentials: z.array(Credential).default([]),
  motd: text.default(''),
  shellPrompt: text.default('# '),
  commands: z.record(text, text).default({}),
});

const FtpService = z.strictObject({
  port,
  transport: z.literal('tcp'),
  protocol: z.literal('ftp'),
  /** text of the 220 greeting; several lines become a 220- multi-line reply */
  greeting: text,
  features: z.array(text).default([]),
  syst: text.default('UNIX Type: L8'),
  anonymous: z.boolean().default(false),
  credentials: z.array(Credential).default([]),
});

const RtspService = z.strictObject({
  port,
  transport: z.literal('tcp'),
  protocol: z.literal('rtsp'),
  server: text.optional(),
  public: z.array(z.string().regex(/^[A-Z_]+$/)).default(['OPTIONS', 'DESCRIBE', 'SETUP', 'PLAY', 'PAUSE', 'TEARDOWN', 'GET_PARAMETER', 'SET_PARAMETER']),
  /** required for DESCRIBE (and everything but OPTIONS) */
  auth: Auth.optional(),
  streams: z.array(z.strictObject({ path: text.regex(/^\//, 'must start with /'), sdp: text })).default([]),
});

const MqttFields = {
  anonymous: z.boolean().default(true),
  credentials: z.array(Credential).default([]),
  /** CONNACK return code (MQTT 3.1.1) for a refused CONNECT: 4 bad user name or password, 5 not authorised */
  refuseCode: z.union([z.literal(4), z.literal(5)]).default(5),
  retained: z.array(z.strictObject({ topic: text.regex(/^[^#+]+$/, 'no wildcards in a retained topic'), payload: text })).default([]),
};
const MqttService = z.strictObject({ port, transport: z.literal('tcp'), protocol: z.literal('mqtt'), ...MqttFields });
const MqttsService = z.strictObject({ port, transport: z.literal('tcp'), protocol: z.literal('mqtts'), ...MqttFields, tls: TlsSpec });

const oid = z.string().regex(/^[0-2](\.\d+)+$/, 'must be a dotted OID like 1.3.6.1.2.1.1.1.0');
const SnmpService = z.strictObject({
  port,
  transport: z.literal('udp'),
  protocol: z.literal('snmp'),
  communities: z.array(z.strictObject({ name: text, access: z.enum(['ro', 'rw']).default('ro') })).min(1),
  system: z.strictObject({
    sysDescr: text,
    sysObjectID: oid,
    sysContact: text.default(''),
    sysName: text,
    sysLocation: text.default(''),
    sysServices: z.number().int().min(0).max(127).default(72),
  }),
  objects: z
    .array(
      z.strictObject({
        oid,
        type: z.enum(['string', 'integer', 'oid', 'timeticks', 'counter', 'gauge', 'ipaddress', 'hex']),
        value: z.union([text, z.number().int()]),
      }),
    )
    .default([]),
});

interface UpnpSpec {
  deviceType: string;
  friendlyName: string;
  manufacturer: string;
  manufacturerURL?: string | undefined;
  modelDescription?: string | undefined;
  modelName: string;
  modelNumber?: string | undefined;
  modelURL?: string | undefined;
  serialNumber?: string | undefined;
  udn: string;
  presentationURL?: string | undefined;
  services: { serviceType: string; serviceId: string; controlURL: string; eventSubURL: string; SCPDURL: string }[];
  devices: UpnpSpec[];
}
const UpnpDeviceSpec: z.ZodType<UpnpSpec, unknown> = z.lazy(() =>
  z.strictObject({
    deviceType: text,
    friendlyName: text,
    manufacturer: text,
    manufacturerURL: text.optional(),
    modelDescription: text.optional(),
    modelName: text,
    modelNumber: text.optional(),
    modelURL: text.optional(),
    serialNumber: text.optional(),
    udn: text.regex(/^uuid:[0-9a-fA-F-]+$/, 'must be uuid:…'),
    presentationURL: text.optional(),
    services: z
      .array(z.strictObject({ serviceType: text, serviceId: text, controlURL: text, eventSubURL: text, SCPDURL: text }))
      .default([]),
    devices: z.array(UpnpDeviceSpec).default([]),
  }),
);

const SsdpService = z.strictObject({
  port,
  transport: z.literal('udp'),
  protocol: z.literal('ssdp'),
  server: text,
  maxAge: z.number().int().min(1).default(1800),
  /** where the description XML is served: an http service of the same profile */
  location: z.strictObject({ port, path: text.regex(/^\//, 'must start with /') }),
  device: UpnpDeviceSpec,
});

const CoapService = z.strictObject({
  port,
  transport: z.literal('udp'),
  protocol: z.literal('coap'),
  resources: z
    .array(
      z.strictObject({
        path: text.regex(/^\/[^?#]*$/, 'must start with / and hold no query'),
        attributes: z.record(text, z.union([text, z.number(), z.literal(true)])).default({}),
        payload: text.max(1024).default(''),
        /** CoAP Content-Format number: 0 text/plain, 40 link-format, 50 json, 60 cbor */
        contentFormat: z.number().int().min(0).max(65535).default(0),
      }),
    )
    .min(1),
});

const ModbusService = z.strictObject({
  port,
  transport: z.literal('tcp'),
  protocol: z.literal('modbus'),
  /** unit identifiers that answer; a gateway in front of one PLC answers all */
  unitIds: z.array(z.number().int().min(0).max(255)).optional(),
  identification: z.strictObject({
    vendorName: text.max(200),
    productCode: text.max(200),
    revision: text.max(200),
    vendorUrl: text.max(200).optional(),
    productName: text.max(200).optional(),
    modelName: text.max(200).optional(),
    userApplicationName: text.max(200).optional(),
  }),
  /** private objects 0x80…0xFF of the extended category */
  extended: z.array(z.strictObject({ id: z.number().int().min(0x80).max(0xff), value: text.max(200) })).default([]),
});

/** A plain TCP service: an optional greeting, then fixed replies to requests that contain a given text. */
const BannerService = z.strictObject({
  port,
  transport: z.literal('tcp'),
  protocol: z.literal('banner'),
  greeting: text.optional(),
  replies: z.array(z.strictObject({ contains: text.min(1), reply: text })).default([]),
});

export const ServiceSpec = z.discriminatedUnion('protocol', [
  HttpService,
  HttpsService,
  TelnetService,
  SshService,
  FtpService,
  RtspService,
  MqttService,
  MqttsService,
  SnmpService,
  SsdpService,
  CoapService,
  ModbusService,
  BannerService,
]);
export type ServiceSpec = z.infer<typeof ServiceSpec>;
export type LabProtocol = ServiceSpec['protocol'];
export type ServiceOf<P extends LabProtocol> = Extract<ServiceSpec, { protocol: P }>;
export type HttpServiceSpec = ServiceOf<'http'> | ServiceOf<'https'>;
export type MqttServiceSpec = ServiceOf<'mqtt'> | ServiceOf<'mqtts'>;
export type TlsSpec = z.infer<typeof TlsSpec>;
export type AuthSpec = z.infer<typeof Auth>;
export type UpnpDeviceSpec = UpnpSpec;

/** The observation fields (src/core/fields.ts) that a scan of each protocol records, for checking examples. */
export const EXAMPLE_FIELDS: Record<LabProtocol, readonly string[]> = {
  http: ['statusCode', 'server', 'title', 'authScheme', 'realm', 'headers', 'body', 'faviconMmh3', 'loginForm', 'path'],
  https: ['statusCode', 'server', 'title', 'authScheme', 'realm', 'headers', 'body', 'faviconMmh3', 'loginForm', 'path', 'tls'],
  telnet: ['banner', 'loginPrompt', 'passwordPrompt', 'shellPrompt'],
  ssh: ['ident', 'software', 'comment', 'protoVersion', 'hostKey'],
  ftp: ['banner', 'code', 'features', 'authTls'],
  rtsp: ['statusCode', 'server', 'methods', 'describeStatus', 'authRequired', 'authScheme', 'realm'],
  mqtt: ['connackCode', 'anonymous', 'brokerVersion', 'topics'],
  mqtts: ['connackCode', 'anonymous', 'brokerVersion', 'topics', 'tls'],
  snmp: ['sysDescr', 'sysObjectID', 'sysName', 'sysContact', 'sysLocation', 'community', 'version'],
  ssdp: ['server', 'location', 'st', 'usn', 'upnp'],
  coap: ['code', 'resources'],
  modbus: ['vendorName', 'productCode', 'revision', 'vendorUrl', 'productName', 'modelName', 'exceptionCode'],
  banner: ['banner'],
};

const Example = z
  .strictObject({
    port,
    transport: z.enum(['tcp', 'udp']).optional(),
    /** an observation data field, dotted for nested ones: "realm", "upnp.manufacturer", "tls.certificate.selfSigned" */
    field: z.string().regex(/^[A-Za-z0-9]+(\.[A-Za-z0-9]+)*$/),
    equals: z.union([text, z.number(), z.boolean()]).optional(),
    contains: text.optional(),
    matches: text.optional(),
  })
  .refine((e) => [e.equals, e.contains, e.matches].filter((x) => x !== undefined).length === 1, {
    message: 'give exactly one of equals, contains, matches',
  });
export type LabExample = z.infer<typeof Example>;

export const DEVICE_TYPES = ['ip-camera', 'dvr', 'nvr', 'router', 'ont', 'nas', 'printer', 'plc', 'smart-hub', 'mqtt-broker', 'iot-gateway'] as const;

export const LabProfileSchema = z
  .strictObject({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and dashes'),
    description: text,
    device: z.strictObject({
      vendor: text,
      model: text,
      firmware: text.optional(),
      type: z.enum(DEVICE_TYPES),
    }),
    services: z.array(ServiceSpec).min(1),
    examples: z.array(Example).min(1),
  })
  .superRefine((p, ctx) => {
    const seen = new Map<string, number>();
    p.services.forEach((s, i) => {
      const key = `${s.transport}/${s.port}`;
      if (seen.has(key)) ctx.addIssue({ code: 'custom', path: ['services', i, 'port'], message: `${key} is already used by services[${seen.get(key)}]` });
      seen.set(key, i);
      if (s.protocol === 'ssdp') {
        const http = p.services.find((h) => (h.protocol === 'http' || h.protocol === 'https') && h.port === s.location.port);
        if (!http) ctx.addIssue({ code: 'custom', path: ['services', i, 'location', 'port'], message: `no http service on port ${s.location.port} to serve the description` });
      }
    });
    p.examples.forEach((e, i) => {
      const matching = p.services.filter((s) => s.port === e.port && (!e.transport || s.transport === e.transport));
      if (matching.length !== 1) {
        ctx.addIssue({
          code: 'custom',
          path: ['examples', i, 'port'],
          message: matching.length ? `port ${e.port} is ambiguous: give transport` : `no service on port ${e.port}${e.transport ? `/${e.transport}` : ''}`,
        });
        return;
      }
      const svc = matching[0]!;
      const top = e.field.split('.')[0]!;
      if (!EXAMPLE_FIELDS[svc.protocol].includes(top))
        ctx.addIssue({ code: 'custom', path: ['examples', i, 'field'], message: `${svc.protocol} observations have no field "${top}" (known: ${EXAMPLE_FIELDS[svc.protocol].join(', ')})` });
      if (e.matches !== undefined) {
        try {
          new RegExp(e.matches);
        } catch (err) {
          ctx.addIssue({ code: 'custom', path: ['examples', i, 'matches'], message: `not a regular expression: ${(err as Error).message}` });
        }
      }
    });
  });
export type LabProfile = z.infer<typeof LabProfileSchema>;

export class ProfileError extends Error {
  override name = 'ProfileError';
}

function describePath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const k of path) out += typeof k === 'number' ? `[${k}]` : out ? `.${String(k)}` : String(k);
  return out || '(top level)';
}

/** Validate one profile's text; errors name the file and every bad field. */
export function parseProfile(yamlText: string, file: string): LabProfile {
  let raw: unknown;
  try {
    raw = parseYaml(yamlText, { maxAliasCount: 100 });
  } catch (e) {
    throw new ProfileError(`${file}: not valid YAML: ${(e as Error).message}`);
  }
  const r = LabProfileSchema.safeParse(raw);
  if (!r.success) {
    const lines = r.error.issues.slice(0, 10).map((i) => `${describePath(i.path)}: ${i.message}`);
    throw new ProfileError(`${file}: invalid lab profile: ${lines.join('; ')}`);
  }
  const expected = basename(file).replace(/\.ya?ml$/, '');
  if (r.data.name !== expected) throw new ProfileError(`${file}: name: "${r.data.name}" must match the file name "${expected}"`);
  return r.data;
}

/** Every profile under dir, sorted by name. */
export function loadProfiles(dir: string = LAB_CONTENT_DIR): LabProfile[] {
  const files = readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort();
  return files.map((f) => parseProfile(readFileSync(join(dir, f), 'utf8'), join(dir, f)));
}
