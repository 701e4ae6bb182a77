import { z } from 'zod';

/**
 * The playbook file format (v1). Strict: an unknown key is an error, because a misspelt
 * `cooldwon:` silently ignored is a guard that is not there. Defaults live here, so the rest of
 * the code never guesses. The JSON Schema for editors is generated from this same object.
 */

const DURATION = /^(?:\d+(?:ms|s|m|h|d|w))+$/;
const duration = z.string().regex(DURATION, { message: 'must be a duration such as 500ms, 30s, 5m or 1h30m' });
const NAME = /^[a-z0-9][a-z0-9._-]{0,99}$/;
const STEP_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,62}$/;
const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const PARAM_SOURCE = /^(labels|annotations)\.[A-Za-z_][A-Za-z0-9_]*$/;

const argv = z.array(z.string()).min(1, { message: 'needs at least the program to run, e.g. [kubectl, get, pods]' });
const statusList = z.union([z.number().int().min(100).max(599), z.array(z.number().int().min(100).max(599)).min(1)]);
const headers = z.record(z.string(), z.string());
const jsonBody = z.union([z.string(), z.record(z.string(), z.unknown()), z.array(z.unknown())]);

const httpSpec = z.strictObject({
  method: z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']).default('GET'),
  url: z.string().min(1),
  headers: headers.optional(),
  body: jsonBody.optional(),
  expectStatus: statusList.optional(),
});

const verifySpec = z
  .strictObject({
    prometheus: z.strictObject({ query: z.string().min(1), url: z.string().optional() }).optional(),
    http: z
      .strictObject({
        url: z.string().min(1),
        method: z.enum(['GET', 'HEAD', 'POST']).default('GET'),
        headers: headers.optional(),
        status: statusList.optional(),
        json: z.strictObject({ path: z.string().min(1), equals: z.union([z.string(), z.number(), z.boolean()]) }).optional(),
        contains: z.string().optional(),
        timeout: duration.default('2s'),
      })
      .optional(),
    resolved: z.literal(true).optional(),
    within: duration.default('5m'),
    every: duration.default('15s'),
  })
  .refine((v) => [v.prometheus, v.http, v.resolved].filter((x) => x !== undefined).length === 1, {
    message: 'verify needs exactly one of prometheus, http or resolved',
  });

/** Keys that name a step's kind; exactly one per step. */
export const STEP_KINDS = ['run', 'http', 'verify', 'wait', 'notify', 'approval'] as const;

/** Schema of one step (also used for onFailure steps). */
export const stepSchema = z
  .strictObject({
    name: z.string().regex(STEP_NAME, { message: 'must start with a letter and hold only letters, digits, "_" and "-"' }).optional(),
    run: argv.optional(),
    http: httpSpec.optional(),
    verify: verifySpec.optional(),
    wait: duration.optional(),
    notify: z.strictObject({ text: z.string().min(1), channel: z.string().optional() }).optional(),
    approval: z.strictObject({ message: z.string().optional(), timeout: duration.optional(), approvers: z.array(z.string()).optional() }).optional(),
    dryRun: argv.optional(),
    readOnly: z.boolean().default(false),
    timeout: duration.optional(),
    retry: z.strictObject({ attempts: z.number().int().min(1).max(20), backoff: duration.default('1s'), maxBackoff: duration.default('1m') }).optional(),
    when: z.string().optional(),
    continueOnError: z.boolean().default(false),
    env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string()).optional(),
    cwd: z.string().optional(),
  })
  .superRefine((step, ctx) => {
    const kinds = STEP_KINDS.filter((k) => step[k] !== undefined);
    if (kinds.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message:
          kinds.length === 0
            ? `a step needs one of ${STEP_KINDS.join(', ')}`
            : `a step has exactly one kind, but this one has ${kinds.join(' and ')}: split it into ${kinds.length} steps`,
      });
      return;
    }
    for (const key of ['dryRun', 'env', 'cwd'] as const) {
      if (step[key] !== undefined && kinds[0] !== 'run') {
        ctx.addIssue({ code: 'custom', path: [key], message: `${key} only applies to run steps` });
      }
    }
  });

const paramSchema = z.strictObject({
  from: z.string().regex(PARAM_SOURCE, { message: 'must be labels.NAME or annotations.NAME' }),
  type: z.enum(['string', 'integer']).default('string'),
  pattern: z.string().optional(),
  min: z.number().int().optional(),
  max: z.number().int().optional(),
  clamp: z.boolean().default(false),
  default: z.union([z.string(), z.number()]).optional(),
});

/** Schema of a whole playbook file. */
export const playbookSchema = z.strictObject({
  name: z.string().regex(NAME, { message: 'must be lower case letters, digits, ".", "_" or "-", at most 100 characters' }),
  description: z.string().optional(),
  owner: z.string().optional(),
  match: z
    .strictObject({
      alertname: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
      matchers: z.array(z.string()).default([]),
      status: z.enum(['firing', 'resolved']).default('firing'),
    })
    .refine((m) => m.alertname !== undefined || m.matchers.length > 0, {
      message: 'match needs an alertname or at least one matcher: a playbook that matches every alert is almost never meant',
    }),
  params: z.record(z.string().regex(PARAM_NAME, { message: 'a param name is letters, digits and "_"' }), paramSchema).default({}),
  mode: z.enum(['live', 'approve', 'dry-run']).default('approve'),
  approval: z.strictObject({ timeout: duration.default('15m'), approvers: z.array(z.string()).default([]) }).default({ timeout: '15m', approvers: [] }),
  guards: z
    .strictObject({
      key: z.string().optional(),
      cooldown: duration.optional(),
      maxRuns: z.strictObject({ count: z.number().int().min(1), per: duration }).optional(),
      lock: z.string().optional(),
    })
    .default({}),
  steps: z.array(stepSchema).min(1, { message: 'a playbook needs at least one step' }),
  onFailure: z.array(stepSchema).default([]),
});

/** A playbook as written, after defaults. */
export type PlaybookSpec = z.infer<typeof playbookSchema>;
/** A step as written, after defaults. */
export type StepSpec = z.infer<typeof stepSchema>;
