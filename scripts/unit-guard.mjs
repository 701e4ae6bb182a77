// Loaded into every test file's process by `node scripts/test.mjs --unit`: a unit test starts
// nothing, and this makes one that tries fail, naming what it tried, rather than quietly
// becoming slow. Files on disk (SQLite ones included) are fine; processes and sockets are not.
import childProcess from 'node:child_process';
import { syncBuiltinESMExports } from 'node:module';
import net from 'node:net';

const refuse = (what) => () => {
  throw new Error(`a unit test starts nothing, but this one ${what}: drop the "// Unit test:" line of its file, or start nothing (see scripts/test.mjs)`);
};

for (const name of ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork']) {
  childProcess[name] = refuse(`starts a child process (child_process.${name})`);
}
net.Server.prototype.listen = refuse('listens on a socket (a server)');
net.Socket.prototype.connect = refuse('connects a socket (to a server: HTTP, a database, a daemon)');
// `import { spawn } from 'node:child_process'` sees the replacements too.
syncBuiltinESMExports();
