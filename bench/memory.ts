// Peak memory of the daemon under concurrent large webhooks: bursts of 100 bodies of ~1 MB at
// once, over loopback, to the daemon as it ships — built (tsc), run by node with the heap cap the
// Kubernetes manifest sets — in its own process, so its VmHWM from /proc is the figure and the
// client's memory is not in it. The reference, in the same run: the same bursts with the body gate
// opened wide (webhook.maxConcurrentBodies 256, as before it existed). The manifest's memory limit
// must hold the bounded figure with room to spare (deploy/kubernetes/deployment.yaml says which).
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { fixtureText, ROOT, TEST_PLAYBOOKS } from '../test/support/fixtures.js';

const CONCURRENT = 100;
const ROUNDS = 3;
const TOKEN = 'bench-webhook-token-000000000';

/** What the manifest gives the container: its memory limit (MiB) and NODE_OPTIONS. */
function manifest(): { limitMiB: number; nodeOptions: string } {
  const docs = parseAllDocuments(readFileSync(path.join(ROOT, 'deploy', 'kubernetes', 'deployment.yaml'), 'utf8')).map(
    (d) => d.toJS() as Record<string, unknown>,
  );
  const deployment = docs.find((d) => d['kind'] === 'Deployment') as {
    spec: { template: { spec: { containers: { env: { name: string; value?: string }[]; resources: { limits: { memory: string } } }[] } } };
  };
  const container = deployment.spec.template.spec.containers[0];
  if (!container) throw new Error('no container in the Deployment');
  return { limitMiB: Number.parseInt(container.resources.limits.memory, 10), nodeOptions: container.env.find((e) => e.name === 'NODE_OPTIONS')?.value ?? '' };
}

/** A captured payload with a description that brings it to about 1 MB (under the 1 MiB limit). */
function bigBody(i: number): string {
  const p = JSON.parse(fixtureText('amtool-firing.json')) as { alerts: { fingerprint: string; annotations: Record<string, string> }[] };
  const a = p.alerts[0] as { fingerprint: string; annotations: Record<string, string> };
  a.fingerprint = i.toString(16).padStart(16, 'b');
  a.annotations['description'] = 'x'.repeat(1_000_000);
  return JSON.stringify(p);
}

function memoryMiB(pid: number): { hwm: number; rss: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(/\d+/.exec(status.split('\n').find((l) => l.startsWith(name)) ?? '')?.[0] ?? 0) / 1024;
  return { hwm: field('VmHWM:'), rss: field('VmRSS:') };
}

/** Peak and idle RSS (MiB) of the built daemon with this many bodies read at once. */
async function burst(
  main: string,
  nodeOptions: string,
  maxConcurrentBodies: number,
): Promise<{ idle: number; peak: number; statuses: Record<number, number> }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'remediator-bench-memory-'));
  const child = spawn(
    process.execPath,
    [...nodeOptions.split(' ').filter(Boolean), main, 'serve', '--listen', '127.0.0.1:0', '--playbooks', TEST_PLAYBOOKS, '--db', path.join(dir, 'r.db')],
    {
      env: {
        PATH: process.env['PATH'],
        REMEDIATOR_WEBHOOK_TOKENS: TOKEN,
        REMEDIATOR_API_TOKENS: 'bench=bench-api-token-0000000000',
        REMEDIATOR_WEBHOOK_MAX_CONCURRENT_BODIES: String(maxConcurrentBodies),
        REMEDIATOR_LOG_LEVEL: 'warn',
        REMEDIATOR_HTTP_REQUEST_TIMEOUT: '120s',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let err = '';
      child.stderr.on('data', (d: Buffer) => {
        err += d.toString();
        const m = /listening on (http:\/\/\S+)/.exec(err);
        if (m?.[1]) resolve(m[1]);
      });
      child.once('exit', () => reject(new Error(`the daemon exited: ${err}`)));
    });
    const pid = child.pid ?? -1;
    const idle = memoryMiB(pid).rss;
    const statuses: Record<number, number> = {};
    for (let round = 0; round < ROUNDS; round++) {
      await Promise.all(
        Array.from({ length: CONCURRENT }, async (_, i) => {
          const res = await fetch(`${url}/webhook`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
            body: bigBody(round * CONCURRENT + i),
          });
          await res.arrayBuffer();
          statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        }),
      );
    }
    return { idle, peak: memoryMiB(pid).hwm, statuses };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

const out = path.join(ROOT, '.tmp', 'bench-dist');
execFileSync(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(ROOT, 'tsconfig.build.json'), '--outDir', out], {
  stdio: 'inherit',
});
const main = path.join(out, 'cli', 'main.js');
const { limitMiB, nodeOptions } = manifest();
const bounded = await burst(main, nodeOptions, 4);
const open = await burst(main, nodeOptions, 256);
rmSync(out, { recursive: true, force: true });
console.log(
  `memory (built daemon, ${nodeOptions || 'no NODE_OPTIONS'}): ${ROUNDS} bursts of ${CONCURRENT} concurrent ~1 MB webhooks: peak RSS ${bounded.peak.toFixed(0)} MiB ` +
    `with 4 bodies read at once (idle ${bounded.idle.toFixed(0)} MiB; ${JSON.stringify(bounded.statuses)}) vs ${open.peak.toFixed(0)} MiB with 256 ` +
    `(${JSON.stringify(open.statuses)}): ratio ${(bounded.peak / open.peak).toFixed(2)}; the manifest's limit is ${limitMiB} MiB ` +
    `(${bounded.peak < limitMiB * 0.8 ? 'holds it with room' : 'TOO TIGHT'})`,
);
if (bounded.peak >= limitMiB * 0.8) process.exitCode = 1;
