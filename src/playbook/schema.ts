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

const httpSpec = z
  .strictObject({
    method: z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']).default('GET').describe('The HTTP method.'),
    url: z.string().min(1).describe('The URL; templates allowed. Alert text reaches it only through params. No redirect is followed.'),
    headers: headers.optional().describe('Request headers; values may be templates, {{ secrets.NAME }} included (redacted wherever the request is shown).'),
    body: jsonBody.optional().describe('The body: a string, or a JSON object or array sent as JSON; every string in it may be a template.'),
    expectStatus: statusList.optional().describe('The status code(s) that count as success (default 200, 201, 202 and 204).'),
  })
  .describe('An HTTP request: a call to an API (a feature-flag service, a load balancer, …).');

const verifySpec = z
  .strictObject({
    prometheus: z
      .strictObject({
        query: z
          .string()
          .min(1)
          .describe('A PromQL instant query; the check holds when it returns at least one sample (write the condition into the query: `… < 0.01`).'),
        url: z.string().optional().describe("Prometheus's base URL (default: the configuration's prometheus.url)."),
      })
      .optional()
      .describe('Holds when a Prometheus instant query returns data.'),
    http: z
      .strictObject({
        url: z.string().min(1).describe('The URL to poll; templates allowed.'),
        method: z.enum(['GET', 'HEAD', 'POST']).default('GET').describe('The method; POST counts as a step that changes something.'),
        headers: headers.optional().describe('Request headers; values may be templates.'),
        status: statusList.optional().describe('The status code(s) that count (default 200).'),
        json: z
          .strictObject({
            path: z.string().min(1).describe('A dotted path into the JSON answer, e.g. status.ready or items.0.state.'),
            equals: z.union([z.string(), z.number(), z.boolean()]).describe('The value it must equal.'),
          })
          .optional()
          .describe('The answer is JSON and the value at `path` equals `equals`.'),
        contains: z.string().optional().describe('The answer body contains this text.'),
        timeout: duration.default('2s').describe('How long one poll may take.'),
      })
      .optional()
      .describe('Holds when an HTTP answer has the status (and, if given, the JSON value or text).'),
    resolved: z.literal(true).optional().describe('Holds when Alertmanager reports the alert resolved.'),
    within: duration.default('5m').describe('How long to keep polling; running out of time (or ending on errors) fails the step.'),
    every: duration.default('15s').describe('How often to poll.'),
  })
  .describe('Polls a check until it holds or `within` runs out; a check that could not be made is inconclusive and fails.')
  .refine((v) => [v.prometheus, v.http, v.resolved].filter((x) => x !== undefined).length === 1, {
    message: 'verify needs exactly one of prometheus, http or resolved',
  });

/** Keys that name a step's kind; exactly one per step. */
export const STEP_KINDS = ['run', 'http', 'verify', 'wait', 'notify', 'approval'] as const;

/** Schema of one step (also used for onFailure steps). */
export const stepSchema = z
  .strictObject({
    name: z
      .string()
      .regex(STEP_NAME, { message: 'must start with a letter and hold only letters, digits, "_" and "-"' })
      .optional()
      .describe("The step's name, unique in the playbook, for {{ steps.NAME.* }} and `when` (default KIND-N)."),
    run: argv.optional().describe('A program and its arguments, run without a shell: each element is exactly one argument, templates included.'),
    http: httpSpec.optional(),
    verify: verifySpec.optional(),
    wait: duration.optional().describe('Waits this long (e.g. for a rollout to settle).'),
    notify: z
      .strictObject({
        text: z.string().min(1).describe('The text; templates allowed, alert text included (sent as data, never markup).'),
        channel: z.string().optional().describe('A Slack channel for this message (default: slack.channel).'),
      })
      .optional()
      .describe('Tells people, through every notifier; a failed notification never fails the run.'),
    approval: z
      .strictObject({
        message: z.string().optional().describe('What the approver reads; may use {{ steps.NAME.* }} of the steps before.'),
        timeout: duration.optional().describe("How long to wait for a decision (default: the playbook's approval.timeout)."),
        approvers: z.array(z.string()).optional().describe("Who may decide here (default: the playbook's approval.approvers)."),
      })
      .optional()
      .describe('A gate: the run holds here until a person approves, in every live run.'),
    dryRun: argv.optional().describe('What a dry run runs instead of `run` (e.g. the same command with --dry-run=server).'),
    readOnly: z.boolean().default(false).describe('Changes nothing (kubectl get): runs in dry runs, and before an approval gate.'),
    timeout: duration.optional().describe('How long the step may take, retries included (run steps default to runs.defaultTimeout).'),
    retry: z
      .strictObject({
        attempts: z.number().int().min(1).max(20).describe('How many times to try in all.'),
        backoff: duration.default('1s').describe('The first wait between attempts; it doubles, with jitter.'),
        maxBackoff: duration.default('1m').describe('The longest wait between attempts.'),
      })
      .optional()
      .describe('Try again after a failure.'),
    when: z.string().optional().describe('always, succeeded, failed, or steps.NAME.succeeded|failed|skipped (default: until the run has failed).'),
    continueOnError: z.boolean().default(false).describe('A failure of this step does not fail the run.'),
    env: z
      .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string())
      .optional()
      .describe('Environment variables for the command (run steps), beside runs.envAllow; values may be templates.'),
    cwd: z.string().optional().describe('The working directory of the command (run steps).'),
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
  })
  .describe('One step: exactly one of run, http, verify, wait, notify or approval, with the options every step has.');

const paramSchema = z
  .strictObject({
    from: z
      .string()
      .regex(PARAM_SOURCE, { message: 'must be labels.NAME or annotations.NAME' })
      .describe('Where the value comes from: labels.NAME or annotations.NAME.'),
    type: z.enum(['string', 'integer']).default('string').describe('string (needs a pattern) or integer (min, max, clamp).'),
    pattern: z.string().optional().describe('A regular expression the whole value must match (anchored); required for strings.'),
    min: z.number().int().optional().describe('The smallest integer accepted.'),
    max: z.number().int().optional().describe('The largest integer accepted.'),
    clamp: z.boolean().default(false).describe('An integer outside min..max is moved to the bound instead of refused.'),
    default: z.union([z.string(), z.number()]).optional().describe('The value when the label or annotation is missing or empty.'),
  })
  .describe('A typed, checked input: the only way alert data reaches a command or a request. A value that fails its check stops the run before any step.');

/** Schema of a whole playbook file. */
export const playbookSchema = z.strictObject({
  name: z
    .string()
    .regex(NAME, { message: 'must be lower case letters, digits, ".", "_" or "-", at most 100 characters' })
    .describe("The playbook's name, unique across the directory; runs, metrics and events carry it."),
  description: z.string().optional().describe('What it does, for people.'),
  owner: z.string().optional().describe('Who to ask about it.'),
  match: z
    .strictObject({
      alertname: z
        .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
        .optional()
        .describe('The alertname (or a list of them) the playbook acts on; playbooks are indexed by it.'),
      matchers: z.array(z.string()).default([]).describe('Label matchers in Alertmanager\'s syntax (severity=~"critical|page"); all must hold.'),
      status: z.enum(['firing', 'resolved']).default('firing').describe('Act on firing alerts, or on their resolve.'),
    })
    .refine((m) => m.alertname !== undefined || m.matchers.length > 0, {
      message: 'match needs an alertname or at least one matcher: a playbook that matches every alert is almost never meant',
    })
    .describe('Which alerts the playbook acts on: an alertname or matchers, or both.'),
  params: z
    .record(z.string().regex(PARAM_NAME, { message: 'a param name is letters, digits and "_"' }), paramSchema)
    .default({})
    .describe('Named inputs taken from the alert, each checked: {{ params.NAME }}.'),
  mode: z
    .enum(['live', 'approve', 'dry-run'])
    .default('approve')
    .describe('live acts; approve holds before the first step that changes something until a person approves; dry-run only plans.'),
  approval: z
    .strictObject({
      timeout: duration.default('15m').describe('How long a held run waits for a decision before it expires.'),
      approvers: z
        .array(z.string())
        .default([])
        .describe('Who may approve: API token identities, Slack user ids, or approvals.groups names (empty: anyone authenticated).'),
    })
    .prefault({})
    .describe('How a held run is decided.'),
  guards: z
    .strictObject({
      key: z
        .string()
        .optional()
        .describe('The target key (a template): one active run per key, and the cooldown counts per key (default: the alert instance).'),
      cooldown: duration
        .optional()
        .describe(
          'No second run for the same key within this of the last run that acted (a rejected, expired or cancelled-before-acting run does not start it).',
        ),
      maxRuns: z
        .strictObject({
          count: z.number().int().min(1).describe('At most this many runs…'),
          per: duration.describe('…within this window.'),
        })
        .optional()
        .describe("A rate limit on the playbook's runs (of all keys), counting runs that acted or still may."),
      lock: z
        .string()
        .optional()
        .describe('A lock key (a template): one active run per lock across every playbook (never roll back and scale one Deployment at once).'),
      group: z
        .strictObject({
          key: z.string().min(1).describe("The group key (a template), e.g. '{{ params.namespace }}': the blast radius is capped per group."),
          max: z
            .union([
              z.number().int().min(1),
              z
                .string()
                .regex(/^\d{1,3}%$/, { message: 'must be a count such as 3 or a percentage such as 30%' })
                .refine((v) => Number(v.slice(0, -1)) >= 1 && Number(v.slice(0, -1)) <= 100, { message: 'a percentage must be from 1% to 100%' }),
            ])
            .describe(
              'At most this many live runs per group key per window, or a percentage of the distinct target keys seen firing for the group in the window (at least one).',
            ),
          per: duration.describe('The window (at least 1s).'),
        })
        .optional()
        .describe('A cap on live runs per group: beyond it, runs wait for approval (with the reason and the count), they are not dropped.'),
    })
    .prefault({})
    .describe('Limits on how often and how much the playbook acts.'),
  unless: z
    .strictObject({
      firing: z
        .array(z.string().min(1))
        .min(1)
        .describe('Alertmanager matchers (one, or several in braces, all of which must hold for one alert): no run while an active alert matches any entry.'),
      onUnknown: z
        .enum(['hold', 'proceed'])
        .default('hold')
        .describe('When Alertmanager cannot be asked: hold a live run for approval (default) or proceed; recorded either way.'),
    })
    .optional()
    .describe('A precondition on the wider picture, looked up in Alertmanager before deciding: a match suppresses the run with reason precondition.'),
  silence: z
    .strictObject({
      while: z.literal('run').default('run').describe('The silence lasts while the run acts (the only choice).'),
      extend: duration.default('10m').describe('After the run succeeds, the silence stays this much longer, then ends by itself.'),
      keepOnFailure: z
        .boolean()
        .default(false)
        .describe('Keep the silence when the run fails, is cancelled, rejected or interrupted (default: expire it at once, so the page reaches a person).'),
      matchers: z
        .array(z.string())
        .min(1)
        .optional()
        .describe("The silence's matchers in Alertmanager's syntax; templates are not allowed (default: equal to every label of the alert)."),
    })
    .optional()
    .describe(
      "Silence the alert in Alertmanager while the run acts: created at the first step that changes something (needs the configuration's alertmanager).",
    ),
  escalate: z
    .strictObject({
      after: z
        .number()
        .int()
        .min(1)
        .max(100)
        .describe('After this many live runs for the same key ended without fixing it (failed, or succeeded and the alert fired again)…'),
      within: duration.describe('…within this window (at least 1s), automation stops for that key: further decisions are suppressed `escalated`.'),
      notify: z
        .array(z.string().min(1))
        .min(1, { message: 'name at least one notifier, e.g. [pagerduty]' })
        .describe('The notifiers told once when it escalates (names from the configuration: webhook, slack, log, or a key of `notifiers`).'),
    })
    .optional()
    .describe('Hand a target to a person when automation is not fixing it; a person clears it (remediator escalations clear ID).'),
  steps: z.array(stepSchema).min(1, { message: 'a playbook needs at least one step' }).describe('What to do, in order.'),
  onFailure: z.array(stepSchema).default([]).describe('Steps run after a step failed the run (e.g. tell people).'),
});

/** A playbook as written, after defaults. */
export type PlaybookSpec = z.infer<typeof playbookSchema>;
/** A step as written, after defaults. */
export type StepSpec = z.infer<typeof stepSchema>;
