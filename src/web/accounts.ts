// Stage: web front-end (accounts). Users, roles, login sessions, API tokens and the one-time setup link of the
// dashboard, kept in the store's file (web_* tables). Passwords are scrypt hashes; session ids, API tokens and
// setup tokens are random and stored only as SHA-256 hashes, so a copy of the database gives no way in.
import { createHash, randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import type Database from 'better-sqlite3';

export const ROLES = ['viewer', 'analyst', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export function isRole(s: unknown): s is Role {
  return typeof s === 'string' && (ROLES as readonly string[]).includes(s);
}

/** True when `have` grants at least what `need` asks for (admin ⊃ analyst ⊃ viewer). */
export function roleAtLeast(have: Role, need: Role): boolean {
  return ROLES.indexOf(have) >= ROLES.indexOf(need);
}

export interface User {
  id: number;
  name: string;
  role: Role;
  createdAt: string;
  disabled: boolean;
}

export interface Session {
  user: User;
  csrf: string;
  expiresAt: string;
}

export interface TokenInfo {
  id: number;
  userId: number;
  userName: string;
  label: string;
  createdAt: string;
  expiresAt: string | null;
  lastUsed: string | null;
}

export class AccountError extends Error {
  override name = 'AccountError';
}

const SCRYPT = { N: 16384, r: 8, p: 1, keyLen: 64 };
export const MIN_PASSWORD = 12;
const NAME_RE = /^[A-Za-z0-9._@-]{1,64}$/;

function scrypt(password: string, salt: Buffer, keyLen: number, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scryptCb(password, salt, keyLen, opts, (err, key) => (err ? reject(err) : resolve(key))));
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, SCRYPT.keyLen, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p, maxmem: 64 * 1024 * 1024 });
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  const salt = Buffer.from(parts[4]!, 'base64');
  const want = Buffer.from(parts[5]!, 'base64');
  const got = await scrypt(password, salt, want.length, { N, r, p, maxmem: 64 * 1024 * 1024 });
  return got.length === want.length && timingSafeEqual(got, want);
}

/** Verified against when the account does not exist, so a wrong name costs the same time as a wrong password. */
let dummyHash: Promise<string> | null = null;

export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

export function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

export interface AccountOptions {
  /** clock, for tests of expiry */
  now?: () => Date;
  sessionHours?: number;
  setupLinkMinutes?: number;
}

type Row = Record<string, unknown>;

function toUser(r: Row): User {
  return { id: Number(r.id), name: String(r.name), role: r.role as Role, createdAt: String(r.created_at), disabled: Number(r.disabled) === 1 };
}

export class Accounts {
  private readonly now: () => Date;
  private readonly sessionMs: number;
  private readonly setupMs: number;

  constructor(
    private readonly db: Database.Database,
    opts: AccountOptions = {},
  ) {
    this.now = opts.now ?? (() => new Date());
    this.sessionMs = (opts.sessionHours ?? 12) * 3600_000;
    this.setupMs = (opts.setupLinkMinutes ?? 60) * 60_000;
  }

  private iso(offsetMs = 0): string {
    return new Date(this.now().getTime() + offsetMs).toISOString();
  }

  userCount(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM web_users').get() as { n: number }).n;
  }

  /** A one-time link token to create the first admin; only while there is no user. Returns the token in clear. */
  createSetupLink(): string {
    if (this.userCount() > 0) throw new AccountError('an administrator exists already; setup links are for the first start only');
    const token = randomToken();
    // A new start makes a new link; earlier unused ones stop working, so only the latest printed link is live.
    this.db.prepare('DELETE FROM web_setup_links WHERE used_at IS NULL').run();
    this.db.prepare('INSERT INTO web_setup_links (token_hash, created_at, expires_at) VALUES (?, ?, ?)').run(sha256(token), this.iso(), this.iso(this.setupMs));
    return token;
  }

  setupLinkValid(token: string): boolean {
    const r = this.db.prepare('SELECT expires_at, used_at FROM web_setup_links WHERE token_hash = ?').get(sha256(token)) as Row | undefined;
    return !!r && r.used_at === null && String(r.expires_at) > this.iso() && this.userCount() === 0;
  }

  /** Use the setup link: creates the admin and burns the link, atomically, so a link works exactly once. */
  async completeSetup(token: string, name: string, password: string): Promise<User> {
    checkCredentialsShape(name, password);
    const hash = await hashPassword(password);
    return this.db.transaction(() => {
      if (!this.setupLinkValid(token)) throw new AccountError('this setup link is invalid, used or expired');
      this.db.prepare('UPDATE web_setup_links SET used_at = ? WHERE token_hash = ?').run(this.iso(), sha256(token));
      return this.insertUser(name, 'admin', hash);
    })();
  }

  private insertUser(name: string, role: Role, hash: string): User {
    try {
      const r = this.db.prepare('INSERT INTO web_users (name, role, password_hash, created_at) VALUES (?, ?, ?, ?)').run(name, role, hash, this.iso());
      return this.user(Number(r.lastInsertRowid))!;
    } catch (e) {
      if (/UNIQUE/.test((e as Error).message)) throw new AccountError(`a user named "${name}" exists already`);
      throw e;
    }
  }

  async createUser(name: string, role: Role, password: string): Promise<User> {
    checkCredentialsShape(name, password);
    if (!isRole(role)) throw new AccountError(`role must be one of ${ROLES.join(', ')}`);
    return this.insertUser(name, role, await hashPassword(password));
  }

  user(id: number): User | null {
    const r = this.db.prepare('SELECT * FROM web_users WHERE id = ?').get(id) as Row | undefined;
    return r ? toUser(r) : null;
  }

  users(): User[] {
    return (this.db.prepare('SELECT * FROM web_users ORDER BY name').all() as Row[]).map(toUser);
  }

  setRole(id: number, role: Role): void {
    if (!isRole(role)) throw new AccountError(`role must be one of ${ROLES.join(', ')}`);
    this.db.transaction(() => {
      const u = this.user(id);
      if (!u) throw new AccountError(`no user ${id}`);
      if (u.role === 'admin' && role !== 'admin' && this.activeAdmins() <= 1) throw new AccountError('the last administrator keeps the admin role');
      this.db.prepare('UPDATE web_users SET role = ? WHERE id = ?').run(role, id);
    })();
  }

  /** A new password (set by an admin); the user's sessions end, so a stolen session dies with the old password. */
  async setPassword(id: number, password: string): Promise<void> {
    const u = this.user(id);
    if (!u) throw new AccountError(`no user ${id}`);
    checkCredentialsShape(u.name, password);
    const hash = await hashPassword(password);
    this.db.transaction(() => {
      this.db.prepare('UPDATE web_users SET password_hash = ? WHERE id = ?').run(hash, id);
      this.db.prepare('DELETE FROM web_sessions WHERE user_id = ?').run(id);
    })();
  }

  setDisabled(id: number, disabled: boolean): void {
    this.db.transaction(() => {
      const u = this.user(id);
      if (!u) throw new AccountError(`no user ${id}`);
      if (disabled && u.role === 'admin' && !u.disabled && this.activeAdmins() <= 1) throw new AccountError('the last administrator cannot be disabled');
      this.db.prepare('UPDATE web_users SET disabled = ? WHERE id = ?').run(disabled ? 1 : 0, id);
      // A disabled account loses its sessions at once; its tokens stop working through the disabled check.
      if (disabled) this.db.prepare('DELETE FROM web_sessions WHERE user_id = ?').run(id);
    })();
  }

  private activeAdmins(): number {
    return (this.db.prepare("SELECT count(*) AS n FROM web_users WHERE role = 'admin' AND disabled = 0").get() as { n: number }).n;
  }

  /** Check a name and password; null when either is wrong or the account is disabled. */
  async authenticate(name: string, password: string): Promise<User | null> {
    const r = this.db.prepare('SELECT * FROM web_users WHERE name = ?').get(name) as Row | undefined;
    if (!r) {
      dummyHash ??= hashPassword(randomToken());
      await verifyPassword(password, await dummyHash);
      return null;
    }
    const ok = await verifyPassword(password, String(r.password_hash));
    const u = toUser(r);
    return ok && !u.disabled ? u : null;
  }

  /** Start a session; returns the session id in clear (for the cookie) and its CSRF token. */
  createSession(userId: number): { id: string; csrf: string; expiresAt: string } {
    const id = randomToken();
    const csrf = randomToken();
    const expiresAt = this.iso(this.sessionMs);
    this.db.prepare('INSERT INTO web_sessions (id_hash, user_id, csrf, created_at, expires_at, last_seen) VALUES (?, ?, ?, ?, ?, ?)').run(sha256(id), userId, csrf, this.iso(), expiresAt, this.iso());
    // Old expired sessions go as new ones are made, so the table does not grow without bound.
    this.db.prepare('DELETE FROM web_sessions WHERE expires_at <= ?').run(this.iso());
    return { id, csrf, expiresAt };
  }

  session(id: string): Session | null {
    const r = this.db
      .prepare('SELECT s.csrf, s.expires_at, u.* FROM web_sessions s JOIN web_users u ON u.id = s.user_id WHERE s.id_hash = ?')
      .get(sha256(id)) as Row | undefined;
    if (!r || String(r.expires_at) <= this.iso()) return null;
    const user = toUser(r);
    if (user.disabled) return null;
    return { user, csrf: String(r.csrf), expiresAt: String(r.expires_at) };
  }

  endSession(id: string): void {
    this.db.prepare('DELETE FROM web_sessions WHERE id_hash = ?').run(sha256(id));
  }

  /** A new API token for a user; returned in clear once, stored hashed. */
  createToken(userId: number, label: string, days?: number): { token: string; info: TokenInfo } {
    if (!this.user(userId)) throw new AccountError(`no user ${userId}`);
    const cleanLabel = label.slice(0, 100) || 'token';
    // The prefix tells a leaked string apart as an iotscope token (secret scanners key on such prefixes).
    const token = `iots_${randomToken()}`;
    const expires = days ? this.iso(days * 86400_000) : null;
    const r = this.db.prepare('INSERT INTO web_tokens (user_id, label, token_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?)').run(userId, cleanLabel, sha256(token), this.iso(), expires);
    return { token, info: this.tokens().find((t) => t.id === Number(r.lastInsertRowid))! };
  }

  tokens(): TokenInfo[] {
    const rows = this.db.prepare('SELECT t.*, u.name AS user_name FROM web_tokens t JOIN web_users u ON u.id = t.user_id ORDER BY t.id').all() as Row[];
    return rows.map((r) => ({
      id: Number(r.id),
      userId: Number(r.user_id),
      userName: String(r.user_name),
      label: String(r.label),
      createdAt: String(r.created_at),
      expiresAt: r.expires_at === null ? null : String(r.expires_at),
      lastUsed: r.last_used === null ? null : String(r.last_used),
    }));
  }

  revokeToken(id: number): void {
    const r = this.db.prepare('DELETE FROM web_tokens WHERE id = ?').run(id);
    if (r.changes !== 1) throw new AccountError(`no token ${id}`);
  }

  /** The user a bearer token acts as; null for unknown, expired or disabled. */
  tokenUser(token: string): User | null {
    const r = this.db.prepare('SELECT t.id AS token_id, t.expires_at, t.last_used, u.* FROM web_tokens t JOIN web_users u ON u.id = t.user_id WHERE t.token_hash = ?').get(sha256(token)) as Row | undefined;
    if (!r) return null;
    if (r.expires_at !== null && String(r.expires_at) <= this.iso()) return null;
    const user = toUser(r);
    if (user.disabled) return null;
    // last_used at minute precision: one write per token per minute at most, not one per request.
    const minute = this.iso().slice(0, 16);
    if (String(r.last_used ?? '').slice(0, 16) !== minute) this.db.prepare('UPDATE web_tokens SET last_used = ? WHERE id = ?').run(this.iso(), r.token_id);
    return user;
  }
}

function checkCredentialsShape(name: string, password: string): void {
  if (!NAME_RE.test(name)) throw new AccountError('a user name is 1–64 letters, digits or . _ @ -');
  if (password.length < MIN_PASSWORD) throw new AccountError(`a password has at least ${MIN_PASSWORD} characters`);
  if (password.length > 1024) throw new AccountError('a password has at most 1024 characters');
}

/**
 * Failed-login counter per key (account name, client address) in a sliding window. Memory is bounded: at most
 * `maxKeys` keys are tracked, the oldest dropped first, so a flood of made-up names cannot exhaust the server.
 */
export class LoginLimiter {
  private readonly failures = new Map<string, number[]>();
  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly maxKeys = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  private recent(key: string): number[] {
    const t = this.now();
    const list = (this.failures.get(key) ?? []).filter((x) => t - x < this.windowMs);
    if (list.length) this.failures.set(key, list);
    else this.failures.delete(key);
    return list;
  }

  blocked(key: string): boolean {
    return this.recent(key).length >= this.limit;
  }

  fail(key: string): void {
    const list = this.recent(key);
    list.push(this.now());
    if (list.length > this.limit) list.splice(0, list.length - this.limit);
    this.failures.delete(key);
    this.failures.set(key, list);
    while (this.failures.size > this.maxKeys) this.failures.delete(this.failures.keys().next().value!);
  }

  reset(key: string): void {
    this.failures.delete(key);
  }

  get size(): number {
    return this.failures.size;
  }
}
