// Stage: fingerprint (records). What the rule engine produces from observations — matches, evidence and the merged
// Device record — and the compiled rule shape it runs. Pure types: the store and the CLI read these.

/** Which layer of a host an identity describes: the box itself, its operating system/firmware, or a server program. */
export type Layer = 'device' | 'os' | 'software';

/** What a rule says about one layer. Every part is optional: a rule says what its evidence shows. */
export interface Identity {
  vendor?: string;
  product?: string;
  model?: string;
  /** firmware version for a device, OS version for an os, program version for software */
  version?: string;
  /** a device type from the controlled vocabulary (ip-camera, router, …) */
  type?: string;
}

/** One rule matching one field of one observation. */
export interface Match {
  ruleId: string;
  /** 'own' for content/fingerprints rules, 'recog:<database>' for imported Recog fingerprints */
  origin: string;
  /** the observation field the rule read ('http.server', 'snmp.sysDescr', …) */
  field: string;
  /** the field's text the rule matched (capped) */
  value: string;
  certainty: number;
  device?: Identity;
  os?: Identity;
  software?: Identity;
  /** CPE 2.3 formatted strings filled from the captures */
  cpe: string[];
  captures: Record<string, string>;
}

/** Where an observation came from, as much as evidence needs to point back at it. */
export interface ObservationRef {
  port: number;
  transport: string;
  protocol: string;
  source: string;
  runId: string;
  time: string;
}

/** One piece of evidence of a device record: which observation, which rule, which field gave what. */
export interface Evidence {
  observation: ObservationRef;
  ruleId: string;
  origin: string;
  field: string;
  value: string;
  certainty: number;
  gave: { device?: Identity; os?: Identity; software?: Identity; cpe?: string[] };
  /** false when a stronger, disagreeing source won the merge for what this evidence claimed */
  accepted: boolean;
}

export interface SoftwareSeen {
  port: number;
  transport: string;
  vendor?: string;
  product?: string;
  version?: string;
}

export interface NoiseTag {
  kind: 'honeypot' | 'tarpit';
  reasons: string[];
}

/**
 * One device per address, merged from every observation of it. Lives here (not in src/core) because only the
 * fingerprint stage builds it; later stages and the store read it as a record.
 */
export interface Device {
  ip: string;
  vendor?: string;
  product?: string;
  model?: string;
  firmware?: string;
  deviceType?: string;
  os?: { vendor?: string; product?: string; version?: string };
  /** server programs seen per port */
  software: SoftwareSeen[];
  cpe: string[];
  /** 0–1: how sure the merged identity is (certainty of the winning evidence, raised by agreeing sources) */
  confidence: number;
  evidence: Evidence[];
  /** ISO times of the earliest and latest observation merged */
  firstSeen: string;
  lastSeen: string;
  /** set by tagNoise when the host looks like a honeypot or tarpit */
  noise?: NoiseTag;
}

/** A device record seen again: what changed since the previous record of the same address. */
export type DeviceEvent =
  | { kind: 'new-device'; ip: string; time: string }
  | { kind: 'firmware-changed'; ip: string; time: string; from: string; to: string }
  | { kind: 'identity-changed'; ip: string; time: string; field: 'vendor' | 'model' | 'deviceType'; from: string; to: string };

/** How a rule tests a field value. */
export type Matcher =
  | { kind: 'regex'; regex: RegExp }
  | { kind: 'equals'; values: string[] }
  | { kind: 'prefix'; values: string[] };

export interface RuleExample {
  input: string;
  /** the field the example is for when the rule reads several; default: the rule's first field */
  field?: string;
  /** expected named (own rules) or positional (Recog: "1", "2", …) captures */
  captures?: Record<string, string>;
  /** expected identity parts after filling, e.g. { 'device.model': 'DS-2CD2032' } */
  expect?: Record<string, string>;
  /** Recog examples: expected values of the fingerprint's params ('os.version', 'hw.product', …) */
  params?: Record<string, string>;
}

/** A rule ready to run: validated, templates checked, regex compiled. */
export interface Rule {
  id: string;
  origin: string;
  /** the file it was read from, for error messages */
  file: string;
  description: string;
  fields: string[];
  matcher: Matcher;
  certainty: number;
  device?: Identity;
  os?: Identity;
  software?: Identity;
  /** CPE 2.3 templates: `{capture}` placeholders are filled and escaped */
  cpe: string[];
  /**
   * Imported Recog fingerprints keep all their params (service.vendor, hw.product, os.version, …) as templates over
   * the positional captures ("{1}", "{2}", …), so nothing Recog says is lost and its examples can be checked.
   */
  params?: Record<string, string>;
  examples: RuleExample[];
  counterexamples: string[];
}
