// Stage: probes. The registry: every protocol folder's probe, in the order the engine prefers when several claim a
// port. Adding a protocol = a new folder plus one line here.
import type { PortList } from '../core/ports.ts';
import type { Probe } from '../scan/probe.ts';
import { bannerProbe } from './banner/probe.ts';
import { coapProbe, coapTcpProbe } from './coap/probe.ts';
import { dnsProbe } from './dns/probe.ts';
import { ftpProbe } from './ftp/probe.ts';
import { httpProbe, httpsProbe } from './http/probe.ts';
import { mdnsProbe } from './mdns/probe.ts';
import { modbusProbe } from './modbus/probe.ts';
import { mqttProbe, mqttsProbe } from './mqtt/probe.ts';
import { natPmpProbe } from './natpmp/probe.ts';
import { rtspProbe } from './rtsp/probe.ts';
import { snmpProbe } from './snmp/probe.ts';
import { ssdpProbe } from './ssdp/probe.ts';
import { sshProbe } from './ssh/probe.ts';
import { telnetProbe } from './telnet/probe.ts';

export const PROBES: readonly Probe[] = [
  sshProbe,
  telnetProbe,
  ftpProbe,
  httpProbe,
  httpsProbe,
  rtspProbe,
  mqttProbe,
  mqttsProbe,
  modbusProbe,
  coapTcpProbe,
  snmpProbe,
  ssdpProbe,
  coapProbe,
  dnsProbe,
  natPmpProbe,
  mdnsProbe,
  bannerProbe,
];

export function probeByName(name: string): Probe | undefined {
  return PROBES.find((p) => p.name === name);
}

/** The union of every probe's usual ports: what a scan covers when no --ports is given. */
export function defaultPorts(probes: readonly Probe[] = PROBES): PortList {
  const tcp = new Set<number>();
  const udp = new Set<number>();
  for (const p of probes) for (const port of p.defaultPorts) (p.transport === 'tcp' ? tcp : udp).add(port);
  return { tcp: [...tcp].sort((a, b) => a - b), udp: [...udp].sort((a, b) => a - b) };
}
