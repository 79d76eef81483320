// Stage: records. The `data` of an observation, per protocol. Probes produce these fields, importers map foreign
// formats onto them, fingerprint rules and checks read them by these names. Every field is optional: a source
// records what it saw. Text fields hold device-supplied text: untrusted, capped, never interpreted.
import type { TlsInfo } from '../scan/conn.ts';

export interface HttpData {
  /** numeric status of the final response */
  statusCode?: number;
  statusLine?: string;
  /** lower-cased header names; repeated headers joined with ", " */
  headers?: Record<string, string>;
  server?: string;
  title?: string;
  /** WWW-Authenticate scheme ("Basic", "Digest", …) and realm of a 401 */
  authScheme?: string;
  realm?: string;
  bodyLength?: number;
  bodySha256?: string;
  /** the first bytes of the body as text (capped) */
  body?: string;
  /** favicon: Shodan-style mmh3 of the base64 body, and SHA-256 */
  faviconMmh3?: number;
  faviconSha256?: string;
  /** MD5 hex of the favicon body: the hash Rapid7 Recog's favicons.xml fingerprints use */
  faviconMd5?: string;
  /** every Location followed, in order */
  redirects?: string[];
  /** a Location that was not followed and why (out of scope, a host name, a loop, the hop limit) */
  redirectNotFollowed?: { location: string; reason: string };
  /** a plain request got the "this port wants TLS" answer (400 "plain HTTP request was sent to HTTPS port") */
  tlsRequired?: boolean;
  /** path of the final response */
  path?: string;
  /** login form (password input) on the page */
  loginForm?: boolean;
  tls?: TlsInfo;
}

export interface TelnetData {
  /** text the server sent after option negotiation was stripped */
  banner?: string;
  /** options the server asked for: DO/DONT/WILL/WONT codes */
  options?: { do: number[]; dont: number[]; will: number[]; wont: number[] };
  loginPrompt?: boolean;
  passwordPrompt?: boolean;
  /** a shell prompt appeared without authentication */
  shellPrompt?: boolean;
}

export interface SshData {
  /** the identification line, e.g. "SSH-2.0-dropbear_2022.83" */
  ident?: string;
  protoVersion?: string;
  /** "dropbear_2022.83" */
  software?: string;
  comment?: string;
  kex?: {
    kexAlgorithms: string[];
    hostKeyAlgorithms: string[];
    ciphersClientToServer: string[];
    ciphersServerToClient: string[];
    macsClientToServer: string[];
    macsServerToClient: string[];
    compression: string[];
  };
  /** host key as OpenSSH shows it: type and "SHA256:base64" fingerprint */
  hostKey?: { type: string; sha256: string; bits?: number };
}

export interface FtpData {
  banner?: string;
  code?: number;
  /** FEAT lines, when asked */
  features?: string[];
  /** AUTH TLS offered */
  authTls?: boolean;
}

export interface RtspData {
  statusCode?: number;
  server?: string;
  methods?: string[];
  /** the URL DESCRIBE was sent for */
  url?: string;
  describeStatus?: number;
  authRequired?: boolean;
  authScheme?: string;
  realm?: string;
  /** SDP of an unauthenticated DESCRIBE (capped) */
  sdp?: string;
}

export interface MqttData {
  /** CONNACK return code (v3.1.1) or reason code (v5); 0 = accepted */
  connackCode?: number;
  protocolVersion?: number;
  /** the broker accepted a CONNECT without credentials */
  anonymous?: boolean;
  /** $SYS/broker/version when readable */
  brokerVersion?: string;
  /** a few topic names seen on "#" when anonymous (capped) */
  topics?: string[];
  tls?: TlsInfo;
}

export interface SnmpData {
  version?: 'v1' | 'v2c';
  community?: string;
  sysDescr?: string;
  sysObjectID?: string;
  sysName?: string;
  sysContact?: string;
  sysLocation?: string;
  sysUpTime?: number;
}

export interface SsdpData {
  server?: string;
  location?: string;
  st?: string;
  usn?: string;
  headers?: Record<string, string>;
  /** from the device description XML at `location` */
  upnp?: UpnpDevice;
}

export interface UpnpDevice {
  deviceType?: string;
  friendlyName?: string;
  manufacturer?: string;
  manufacturerURL?: string;
  modelName?: string;
  modelNumber?: string;
  modelDescription?: string;
  serialNumber?: string;
  udn?: string;
  presentationURL?: string;
  services?: { serviceType: string; controlURL?: string }[];
  devices?: UpnpDevice[];
}

export interface CoapData {
  code?: string;
  /** CoRE link format entries from /.well-known/core */
  resources?: { path: string; attributes: Record<string, string> }[];
}

export interface ModbusData {
  unitId?: number;
  vendorName?: string;
  productCode?: string;
  revision?: string;
  vendorUrl?: string;
  productName?: string;
  modelName?: string;
  /** exception code when the device refused the request */
  exceptionCode?: number;
}

export interface BannerData {
  /** printable text of the first bytes */
  banner?: string;
  /** hex of the first bytes (capped) */
  bannerHex?: string;
}

export interface DnsData {
  /** response code of the recursion test (an A query under .invalid with RD=1), or of the version.bind answer
   *  when only that one came: "NOERROR", "REFUSED", … */
  rcode?: string;
  /** the server would recurse for us: RA set and the recursion test not refused (an open resolver when reachable
   *  from outside) */
  recursionAvailable?: boolean;
  /** the RA bit as the server set it, whatever it then answered */
  raFlag?: boolean;
  /** AA bit of the same answer as `rcode` */
  authoritativeAnswer?: boolean;
  /** TXT of version.bind in class CHAOS: the software and version the server discloses (capped) */
  versionBind?: string;
}

export interface NatPmpData {
  /** 0 = NAT-PMP (RFC 6886) answered; 2 = only PCP (RFC 6887) answered */
  version?: number;
  /** result code of the external-address request (NAT-PMP) or of the ANNOUNCE (PCP); 0 = success */
  resultCode?: number;
  /** the gateway's public IPv4 address, when the NAT-PMP answer succeeded */
  externalAddress?: string;
  /** the server's seconds since its mapping table started (both protocols carry it) */
  epoch?: number;
}

export interface MdnsData {
  /** DNS-SD services the responder announced to a unicast query (bounded) */
  services?: {
    /** service type without the domain, e.g. "_http._tcp" */
    type: string;
    /** instance name, e.g. "Living Room Camera" */
    instance?: string;
    /** SRV target host and port */
    host?: string;
    port?: number;
    /** TXT key=value strings (capped) */
    txt?: string[];
  }[];
  /** the responder's host name, e.g. "smarthub-4f2a.local" */
  hostname?: string;
}
