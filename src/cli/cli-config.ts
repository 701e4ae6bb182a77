import type { Config } from '../config/config-schema.js';
import { loadConfig, type ConfigFlags } from '../config/load-config.js';
import { envIn, inCwd, type CliContext } from './io.js';

/**
 * The configuration as serve builds it (flag > environment > file > default), with the paths
 * given by flags and the environment taken from the context's working directory. Paths in the
 * file are already relative to the file.
 */
export function loadCliConfig(flags: ConfigFlags, context: CliContext): Config {
  const config = loadConfig(flags.config === undefined ? flags : { ...flags, config: inCwd(context.cwd, flags.config) }, envIn(context));
  const local = (p: string) => inCwd(context.cwd, p);
  return {
    ...config,
    playbooks: local(config.playbooks),
    db: isFile(config.db) ? local(config.db) : config.db,
    ...(config.secretsDir === undefined ? {} : { secretsDir: local(config.secretsDir) }),
  };
}

/** An SQLite file, rather than a URL (PostgreSQL) or SQLite's in-memory database. */
function isFile(db: string): boolean {
  return db !== ':memory:' && !/^[a-z][a-z0-9+.-]*:\/\//i.test(db);
}
