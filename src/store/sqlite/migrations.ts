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
];
