import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './service-binary.js';

const run = promisify(execFile);

/**
 * A PostgreSQL cluster of the test's own, in a temporary directory on a port of its own, so a
 * test may stop it (immediately, as a crash would) and start it again. The shared PostgreSQL the
 * other tests use is never touched.
 */
export interface PgCluster {
  /** postgres://postgres@127.0.0.1:PORT/postgres (trust auth). */
  readonly url: string;
  readonly port: number;
  /** Stops it as a crash or a power cut would (pg_ctl stop -m immediate). */
  crash(): Promise<void>;
  /** Starts it again on the same directory and port; resolves once it accepts connections. */
  start(): Promise<void>;
  /** Stops it and removes its directory. Safe to call twice. */
  remove(): Promise<void>;
}

/** The directory holding initdb and pg_ctl (the newest installed), or null. */
export function pgBinDir(): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .filter((v) => existsSync(path.join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? path.join(root, versions[0], 'bin') : null;
}

/** PostgreSQL refuses to run as root: as root, run its binaries as the postgres user. */
async function asPostgres(bin: string, args: readonly string[]): Promise<void> {
  const argv = process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
  await run(argv[0] as string, argv[1] as string[], { timeout: 60_000, cwd: '/' });
}

async function postgresUid(): Promise<{ uid: number; gid: number } | null> {
  if (process.getuid?.() !== 0) return null;
  const { stdout } = await run('id', ['-u', 'postgres']);
  const { stdout: g } = await run('id', ['-g', 'postgres']);
  return { uid: Number(stdout.trim()), gid: Number(g.trim()) };
}

/** Creates and starts a cluster; throws with the reason when it cannot. */
export async function startPgCluster(): Promise<PgCluster> {
  const bin = pgBinDir();
  if (bin === null) throw new Error('no PostgreSQL binaries under /usr/lib/postgresql (apt-get install postgresql)');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'remediator-pgcluster-'));
  const data = path.join(dir, 'data');
  const owner = await postgresUid();
  if (owner) chownSync(dir, owner.uid, owner.gid);
  const port = await freePort();
  const pgCtl = path.join(bin, 'pg_ctl');
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c shared_buffers=16MB -c max_connections=40`;
  let removed = false;
  const start = () => asPostgres(pgCtl, ['-D', data, '-o', options, '-l', path.join(dir, 'log'), '-w', '-t', '60', 'start']);
  try {
    await asPostgres(path.join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync', '--no-instructions']);
    await start();
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    crash: () => asPostgres(pgCtl, ['-D', data, '-m', 'immediate', '-w', 'stop']),
    start,
    async remove() {
      if (removed) return;
      removed = true;
      await asPostgres(pgCtl, ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
