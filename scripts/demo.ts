// npm run demo [-- --approve]: the upgrade-gone-wrong loop for real, on 127.0.0.1. A bad version
// ships, its 5xx ratio bursts, Prometheus fires, Alertmanager posts to remediator, the playbook
// rolls back and verifies, and the alert resolves; this script narrates it and stops everything.
// Exit 0 only when the whole loop happened; 1 otherwise; 130 when interrupted.
import { rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { runLoop, verifyAuditTrail, type LoopEvent } from '../examples/upgrade-rollback/loop.js';
import { findDemoBinaries, INSTALL_HINT, startStack, type Stack, type Variant } from '../examples/upgrade-rollback/stack.js';

const TOTAL_TIMEOUT_MS = 85_000;

const { values } = parseArgs({ options: { approve: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } } });
if (values.help) {
  process.stdout.write('usage: npm run demo [-- --approve]\n  --approve  the playbook waits for an approval, which the demo gives through the API\n');
  process.exit(0);
}
const variant: Variant = values.approve ? 'approve' : 'live';

const binaries = findDemoBinaries();
if ('missing' in binaries) {
  process.stderr.write(`demo: ${binaries.missing.join(' and ')} not found on PATH. Install Debian's packages (as root):\n\n  ${INSTALL_HINT}\n\n`);
  process.exit(1);
}

const t0 = Date.now();
const say = (at: number, text: string) => process.stdout.write(`${`+${((at - t0) / 1000).toFixed(1)}s`.padStart(7)}  ${text}\n`);
const controller = new AbortController();
const timer = setTimeout(() => controller.abort(new Error(`the demo did not finish within ${TOTAL_TIMEOUT_MS / 1000}s`)), TOTAL_TIMEOUT_MS);
let stack: Stack | null = null;
let interrupted = false;
let firstSignalAt = 0;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    // Under npm run, one Ctrl-C arrives twice: from the terminal and relayed by npm.
    if (interrupted && Date.now() - firstSignalAt < 1_000) return;
    if (interrupted) {
      // A second Ctrl-C: no more waiting. The children are killed on exit (see processes.ts).
      if (stack) rmSync(stack.dir, { recursive: true, force: true });
      process.exit(130);
    }
    interrupted = true;
    firstSignalAt = Date.now();
    process.stderr.write(`\ndemo: ${sig}: stopping everything (again to force)\n`);
    controller.abort(new Error(`interrupted (${sig})`));
  });
}

process.stdout.write(`remediator demo: upgrade gone wrong → alert → rollback → verify → resolved (${variant === 'approve' ? 'approve mode' : 'live mode'})\n`);
let ok = false;
try {
  stack = await startStack({ variant, binaries, signal: controller.signal, onStarted: (text) => say(Date.now(), text) });
  const result = await runLoop(stack, { signal: controller.signal, onEvent: (e: LoopEvent) => say(e.at, e.text) });
  const at = (kind: LoopEvent['kind']) => result.events.find((e) => e.kind === kind)?.at ?? NaN;
  const audit = await verifyAuditTrail(stack);
  const traffic = stack.traffic();
  process.stdout.write('\n');
  process.stdout.write(`service ${result.serviceVersion === 'v1' ? 'back on' : 'on'} ${result.serviceVersion}; run ${result.run.id} ${result.run.state}\n`);
  process.stdout.write(
    `firing → resolved: ${seconds(result.firingToResolvedMs)} (firing → rolled back ${seconds(at('rolled_back') - at('firing'))}, → verified ${seconds(at('verified') - at('firing'))})\n`,
  );
  process.stdout.write(`traffic: ${traffic.requests} requests, ${traffic.errors} answered 5xx\n`);
  process.stdout.write(`remediator audit verify: ${audit.output.split('\n')[0] ?? ''}\n`);
  if (audit.code !== 0) throw new Error(`remediator audit verify exited ${audit.code}:\n${audit.output}`);
  if (result.serviceVersion !== 'v1') throw new Error(`the service runs ${result.serviceVersion}, not v1`);
  ok = true;
} catch (err) {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`\ndemo failed: ${controller.signal.aborted ? String((controller.signal.reason as Error).message) : message}\n`);
  if (!controller.signal.aborted && stack) process.stderr.write(`${stack.context()}\n`);
} finally {
  clearTimeout(timer);
  await stack?.stop();
  process.stdout.write(`stopped everything it started, removed its temporary directory; whole demo ${seconds(Date.now() - t0)}\n`);
}
process.exit(ok ? 0 : interrupted ? 130 : 1);

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}
