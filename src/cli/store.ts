// Stage: CLI front-end. Which store a command uses: --db PATH, else $IOTSCOPE_DB, else a file in the user's data
// directory. Every command that reads or writes data opens it through here.
import { homedir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../store/sqlite/store.ts';
import type { Store } from '../store/store.ts';

export function defaultDbPath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_DATA_HOME || join(homedir(), '.local', 'share');
  return join(base, 'iotscope', 'iotscope.db');
}

export function resolveDbPath(option: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return option || env.IOTSCOPE_DB || defaultDbPath(env);
}

export async function openStore(option: string | undefined): Promise<SqliteStore & Store> {
  return SqliteStore.open(resolveDbPath(option));
}
