// Stage: storage. SQLite schema, as numbered migrations: append, never edit one that has shipped.
export const MIGRATIONS: string[] = [
  `CREATE TABLE runs (
     id TEXT PRIMARY KEY,
     kind TEXT NOT NULL CHECK (kind IN ('scan', 'import')),
     status TEXT NOT NULL CHECK (status IN ('running', 'done', 'interrupted', 'failed')),
     started_at TEXT NOT NULL,
     finished_at TEXT,
     spec TEXT NOT NULL,
     progress TEXT,
     summary TEXT NOT NULL DEFAULT '{}'
   );
   CREATE TABLE observations (
     id INTEGER PRIMARY KEY,
     run_id TEXT NOT NULL REFERENCES runs(id),
     ip TEXT NOT NULL,
     ip_key TEXT NOT NULL,
     port INTEGER NOT NULL,
     transport TEXT NOT NULL CHECK (transport IN ('tcp', 'udp')),
     protocol TEXT NOT NULL,
     source TEXT NOT NULL,
     time TEXT NOT NULL,
     status TEXT NOT NULL,
     data TEXT NOT NULL,
     raw BLOB,
     extra TEXT
   );
   CREATE INDEX observations_ip ON observations (ip_key, port, transport);
   CREATE INDEX observations_run ON observations (run_id);
   CREATE INDEX observations_protocol ON observations (protocol);
   CREATE INDEX observations_port ON observations (port, transport);`,
  // Devices: the current identity of each address (fingerprint stage), and what changed between scans.
  `CREATE TABLE devices (
     ip TEXT PRIMARY KEY,
     ip_key TEXT NOT NULL UNIQUE,
     vendor TEXT,
     product TEXT,
     model TEXT,
     firmware TEXT,
     device_type TEXT,
     confidence REAL NOT NULL,
     noise TEXT,
     first_seen TEXT NOT NULL,
     last_seen TEXT NOT NULL,
     record TEXT NOT NULL
   );
   CREATE INDEX devices_vendor ON devices (vendor, model);
   CREATE INDEX devices_type ON devices (device_type);
   CREATE TABLE device_events (
     id INTEGER PRIMARY KEY,
     ip TEXT NOT NULL,
     ip_key TEXT NOT NULL,
     time TEXT NOT NULL,
     kind TEXT NOT NULL,
     detail TEXT NOT NULL
   );
   CREATE INDEX device_events_ip ON device_events (ip_key, time);`,
  // Findings: what is wrong with a device (exposure, no-auth, cleartext, weak TLS, default credential,
  // vulnerability, infection, baseline), with its life cycle across assessments.
  `CREATE TABLE findings (
     key TEXT PRIMARY KEY,
     ip TEXT NOT NULL,
     ip_key TEXT NOT NULL,
     port INTEGER,
     transport TEXT,
     kind TEXT NOT NULL,
     finding_id TEXT NOT NULL,
     severity TEXT NOT NULL CHECK (severity IN ('critical', 'high', 'medium', 'low', 'info')),
     state TEXT NOT NULL CHECK (state IN ('open', 'fixed', 'accepted')),
     first_seen TEXT NOT NULL,
     last_seen TEXT NOT NULL,
     fixed_at TEXT,
     record TEXT NOT NULL
   );
   CREATE INDEX findings_ip ON findings (ip_key);
   CREATE INDEX findings_kind ON findings (kind, finding_id);
   CREATE INDEX findings_state ON findings (state, severity);`,
  // Knowledge base (src/knowledge): CVE records per source, KEV catalog, EPSS scores, and the state of updates.
  `CREATE TABLE kb_nvd (
     id TEXT PRIMARY KEY,
     last_modified TEXT NOT NULL,
     record TEXT NOT NULL
   );
   CREATE TABLE kb_cve5 (
     id TEXT PRIMARY KEY,
     date_updated TEXT NOT NULL,
     record TEXT NOT NULL
   );
   CREATE TABLE kb_kev (
     id TEXT PRIMARY KEY,
     date_added TEXT NOT NULL,
     record TEXT NOT NULL
   );
   CREATE TABLE kb_epss (
     id TEXT PRIMARY KEY,
     score REAL NOT NULL,
     percentile REAL NOT NULL,
     score_date TEXT,
     model TEXT
   );
   CREATE TABLE kb_sources (
     source TEXT PRIMARY KEY,
     last_success TEXT,
     state TEXT NOT NULL DEFAULT '{}'
   );
   CREATE TABLE kb_files (
     path TEXT PRIMARY KEY,
     size INTEGER NOT NULL,
     mtime_ms REAL NOT NULL,
     format TEXT NOT NULL,
     records INTEGER NOT NULL,
     imported_at TEXT NOT NULL
   );`,
  // Dashboard accounts (src/web): users with a role, login sessions, API tokens and one-time setup links. Secrets are
  // kept only as SHA-256 hashes (tokens) or scrypt hashes (passwords).
  `CREATE TABLE web_users (
     id INTEGER PRIMARY KEY,
     name TEXT NOT NULL UNIQUE COLLATE NOCASE,
     role TEXT NOT NULL CHECK (role IN ('viewer', 'analyst', 'admin')),
     password_hash TEXT NOT NULL,
     created_at TEXT NOT NULL,
     disabled INTEGER NOT NULL DEFAULT 0
   );
   CREATE TABLE web_sessions (
     id_hash TEXT PRIMARY KEY,
     user_id INTEGER NOT NULL REFERENCES web_users(id) ON DELETE CASCADE,
     csrf TEXT NOT NULL,
     created_at TEXT NOT NULL,
     expires_at TEXT NOT NULL,
     last_seen TEXT NOT NULL
   );
   CREATE INDEX web_sessions_user ON web_sessions (user_id);
   CREATE TABLE web_tokens (
     id INTEGER PRIMARY KEY,
     user_id INTEGER NOT NULL REFERENCES web_users(id) ON DELETE CASCADE,
     label TEXT NOT NULL,
     token_hash TEXT NOT NULL UNIQUE,
     created_at TEXT NOT NULL,
     expires_at TEXT,
     last_used TEXT
   );
   CREATE TABLE web_setup_links (
     token_hash TEXT PRIMARY KEY,
     created_at TEXT NOT NULL,
     expires_at TEXT NOT NULL,
     used_at TEXT
   );`,
  // Dashboard device search: vendor and type filters compare case-insensitively and page in address order, so
  // these indexes answer the filter, the noise test and the order without reading every device record.
  `CREATE INDEX devices_vendor_nocase ON devices (vendor COLLATE NOCASE, ip_key, noise);
   CREATE INDEX devices_type_nocase ON devices (device_type COLLATE NOCASE, ip_key, noise);
   CREATE INDEX findings_open_ip ON findings (state, ip_key, kind);`,
  // Prefix→ASN table (src/store/asn.ts, `iotscope networks import-asn`): address ranges as ip_key bounds, so an
  // address is found by key range; span (last − first, fixed-width hex) orders overlapping ranges, the narrowest
  // (most specific) first.
  `CREATE TABLE asn_ranges (
     start_key TEXT NOT NULL,
     end_key TEXT NOT NULL,
     span TEXT NOT NULL,
     asn INTEGER NOT NULL,
     name TEXT,
     country TEXT,
     PRIMARY KEY (start_key, end_key)
   );
   CREATE INDEX asn_ranges_asn ON asn_ranges (asn);`,
];
