import { z } from 'zod';
import { SUPPRESS_REASONS, type SuppressReason } from '../domain/decision.js';
import { DECISION_KINDS, type DecisionKind } from '../domain/decided.js';
import { FINGERPRINT } from '../receive/webhook-schema.js';

/**
 * The playbook test file (`remediator test`), strict like playbooks: a typo in an expectation is
 * an error, not a test that checks nothing. Times in a test are offsets from its start (`0s`,
 * `5m`, `-20m` for history before it), or RFC 3339 where an alert's own times are meant.
 */

const OFFSET = /^-?(?:\d+(?:ms|s|m|h|d|w))+$/;
const DURATION = /^(?:\d+(?:ms|s|m|h|d|w))+$/;
const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)$/;

const offset = z.string().regex(OFFSET, { message: 'must be an offset from the start such as 0s, 90s, 5m or -20m' });
const duration = z.string().regex(DURATION, { message: 'must be a duration such as 30s, 5m or 1h30m' });
const timestamp = z.string().regex(RFC3339, { message: 'must be an RFC 3339 time such as 2026-01-05T10:00:00Z' });
const offsetOrTime = z.union([offset, timestamp], { message: 'must be an offset from the start (0s, 10m) or an RFC 3339 time' });
const labels = z.record(z.string(), z.string());

/** The states a run created in a test may be left in. */
export const END_STATES = ['pending', 'running', 'awaiting_approval', 'succeeded', 'failed', 'cancelled', 'rejected', 'expired', 'interrupted'] as const;
const endState = z.enum(END_STATES);

/** How the runs an alert starts end: a state, after a while (default: succeeded at once). */
const runEnd = z.strictObject({
  state: endState.default('succeeded'),
  after: duration.default('0s').describe('How long after the alert arrived the run ends.'),
  playbook: z.string().optional().describe('Only the run of this playbook (default: every run the alert starts).'),
});

const alertSpec = z.strictObject({
  at: offset,
  labels,
  annotations: labels.default({}),
  status: z.enum(['firing', 'resolved']).default('firing'),
  startsAt: offsetOrTime.optional(),
  endsAt: offsetOrTime.optional(),
  fingerprint: z
    .string()
    .regex(FINGERPRINT, { message: 'must be 16 lowercase hex digits, as Alertmanager sends it (or leave it out: it is derived from the labels)' })
    .optional(),
  generatorURL: z.string().optional(),
  run: z.union([endState, runEnd, z.array(runEnd).min(1)]).optional(),
});

const argv = z.array(z.string()).min(1);

/** One step of an expected plan: an argv, the step's text, or the fields to check. */
const planStep = z.union([
  argv,
  z.string(),
  z.strictObject({
    name: z.string().optional(),
    kind: z.enum(['run', 'http', 'verify', 'wait', 'notify', 'approval']).optional(),
    run: argv.optional(),
    dryRun: argv.optional(),
    method: z.string().optional(),
    url: z.string().optional(),
    headers: z.record(z.string(), z.string()).optional(),
    body: z.unknown().optional(),
    query: z.string().optional(),
    text: z.string().optional(),
    channel: z.string().optional(),
    wait: duration.optional(),
    message: z.string().optional(),
  }),
]);

/** An expected plan: its first steps in order, or steps by name. */
const plan = z.union([z.array(planStep).min(1), z.record(z.string(), planStep)]);

const expectSpec = z
  .strictObject({
    at: offset,
    alert: z.number().int().min(1).optional(),
    playbook: z.string().min(1),
    matched: z.boolean().optional(),
    because: z.string().min(1).optional(),
    decision: z.enum(DECISION_KINDS as [DecisionKind, ...DecisionKind[]]).optional(),
    reason: z.enum(SUPPRESS_REASONS as [SuppressReason, ...SuppressReason[]]).optional(),
    detail: z.string().min(1).optional(),
    params: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
    plan: plan.optional(),
    onFailure: plan.optional(),
  })
  .superRefine((e, ctx) => {
    const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    const about = (['decision', 'reason', 'detail', 'params', 'plan', 'onFailure'] as const).filter((k) => e[k] !== undefined);
    if (e.matched === false) {
      for (const k of about) issue(k, `an expectation with matched: false has no ${k}: a playbook that does not match decides nothing`);
      return;
    }
    if (e.because !== undefined) issue('because', 'because says which condition failed: it goes with matched: false');
    if (e.matched === undefined && about.length === 0) {
      issue('decision', 'say what is expected: decision (run, approve, dry-run, suppress, refuse), reason, detail, params, plan, or matched');
    }
    const decision = e.decision ?? (e.reason !== undefined ? 'suppress' : undefined);
    if (e.reason !== undefined && decision !== 'suppress') issue('reason', `reason is a suppression's: it goes with decision: suppress, not ${decision}`);
    if (decision === 'suppress' || decision === 'refuse') {
      for (const k of ['params', 'plan', 'onFailure'] as const) if (e[k] !== undefined) issue(k, `a ${decision} decision creates no plan to check: drop ${k}`);
    }
  });

const action = z
  .strictObject({
    at: offset,
    pause: z.strictObject({ for: duration, reason: z.string().min(1), by: z.string().min(1).default('remediator-test') }).optional(),
    resume: z.literal(true).optional(),
    openCircuit: z.union([z.literal(true), z.strictObject({ reason: z.string().min(1) })]).optional(),
    closeCircuit: z.union([z.literal(true), z.strictObject({ note: z.string().min(1) })]).optional(),
  })
  .refine((a) => [a.pause, a.resume, a.openCircuit, a.closeCircuit].filter((x) => x !== undefined).length === 1, {
    message: 'an action is exactly one of pause, resume, openCircuit or closeCircuit',
  });

/** A daemon configuration: a file (relative to the test file) or the keys written here. */
const config = z.union([z.string().min(1), z.record(z.string(), z.unknown())]);

const testSpec = z.strictObject({
  name: z.string().min(1),
  start: timestamp.optional(),
  execution: z.enum(['dry-run', 'live']).optional(),
  config: config.optional(),
  state: z
    .strictObject({
      paused: z
        .strictObject({ for: duration.optional(), until: offsetOrTime.optional(), reason: z.string().min(1), by: z.string().min(1).default('remediator-test') })
        .refine((p) => (p.for === undefined) !== (p.until === undefined), { message: 'a pause needs exactly one of for or until' })
        .optional(),
      circuit: z.union([z.literal('open'), z.strictObject({ reason: z.string().min(1) })]).optional(),
    })
    .default({}),
  alerts: z.array(alertSpec).min(1, { message: 'a test needs at least one alert' }),
  actions: z.array(action).default([]),
  expect: z.array(expectSpec).min(1, { message: 'a test needs at least one expectation' }),
});

/** Schema of a whole test file. */
export const testFileSchema = z.strictObject({
  playbooks: z.string().min(1).describe('The playbooks under test: a directory or a file, relative to this file.'),
  config: config.optional(),
  execution: z.enum(['dry-run', 'live']).optional(),
  start: timestamp.optional(),
  tests: z.array(testSpec).min(1, { message: 'a test file needs at least one test' }),
});

/** A test file as written, after defaults. */
export type TestFileSpec = z.infer<typeof testFileSchema>;
/** One test as written. */
export type TestSpec = TestFileSpec['tests'][number];
/** One expectation as written. */
export type ExpectSpec = TestSpec['expect'][number];
/** One expected plan step as written. */
export type PlanStepSpec = z.infer<typeof planStep>;
/** An expected plan as written. */
export type PlanSpec = z.infer<typeof plan>;
