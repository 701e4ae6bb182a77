import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { describeRendered } from '../../src/domain/describe-step.js';
import type { RenderedStep } from '../../src/domain/run.js';

describe('describeRendered', () => {
  const run = (argv: string[], dryRunArgv: string[] | null = null): RenderedStep => ({ kind: 'run', argv, dryRunArgv, env: {}, cwd: null });

  // [argv, shown]: quoting is for people reading logs; nothing ever executes it.
  const quoting: ReadonlyArray<readonly [string[], string]> = [
    [['kubectl', 'rollout', 'undo', 'deployment/api', '-n', 'shop'], 'kubectl rollout undo deployment/api -n shop'],
    [['kubectl', '--replicas=3', 'a_b@c%d+e:f,g.h'], 'kubectl --replicas=3 a_b@c%d+e:f,g.h'],
    [['echo', 'a b'], "echo 'a b'"],
    [['echo', ''], "echo ''"],
    [['echo', "it's"], "echo 'it'\\''s'"],
    [['echo', 'x; rm -rf /'], "echo 'x; rm -rf /'"],
    [['echo', '$(id)', '`id`'], "echo '$(id)' '`id`'"],
    [['echo', '"q"'], `echo '"q"'`],
    [['echo', '*', '~'], "echo '*' '~'"],
    [['echo', 'é'], "echo 'é'"],
    [['echo', 'a\nb'], "echo 'a\nb'"],
    [['kubectl', 'patch', '-p', '[{"op":"replace"}]'], `kubectl patch -p '[{"op":"replace"}]'`],
  ];
  for (const [argv, shown] of quoting) {
    test(`run ${JSON.stringify(argv)}`, () => assert.equal(describeRendered(run(argv), false), shown));
  }

  test('a dry run shows the dryRun argv when there is one, else the argv', () => {
    const both = run(['kubectl', 'undo'], ['kubectl', 'undo', '--dry-run=server']);
    assert.equal(describeRendered(both, false), 'kubectl undo');
    assert.equal(describeRendered(both, true), 'kubectl undo --dry-run=server');
    assert.equal(describeRendered(run(['kubectl', 'get']), true), 'kubectl get');
  });

  // [rendered, shown]
  const others: ReadonlyArray<readonly [RenderedStep, string]> = [
    [{ kind: 'http', method: 'PATCH', url: 'https://x/y', headers: { A: 'b' }, body: { a: 1 }, expectStatus: [200] }, 'PATCH https://x/y'],
    [
      { kind: 'verify', check: { kind: 'prometheus', query: 'up == 1', url: null }, withinMs: 90_000, everyMs: 15_000 },
      'until prometheus query "up == 1" returns data (within 90s)',
    ],
    [
      {
        kind: 'verify',
        check: { kind: 'http', method: 'GET', url: 'https://x', headers: {}, status: [200, 204], json: null, contains: null },
        withinMs: 1000,
        everyMs: 1000,
      },
      'until GET https://x answers [200,204]',
    ],
    [{ kind: 'verify', check: { kind: 'resolved' }, withinMs: 1000, everyMs: 1000 }, 'until the alert resolves'],
    [{ kind: 'wait', durationMs: 1500 }, 'wait 1.5s'],
    [{ kind: 'notify', text: 'hello', channel: '#ops' }, 'notify #ops: hello'],
    [{ kind: 'notify', text: 'hello', channel: null }, 'notify: hello'],
    [{ kind: 'approval', message: 'Roll back?' }, 'ask for approval: Roll back?'],
    [{ kind: 'approval', message: null }, 'ask for approval'],
  ];
  for (const [rendered, shown] of others) {
    test(shown, () => assert.equal(describeRendered(rendered, false), shown));
  }
});
