import { z } from 'zod';
import type { Alert } from '../domain/alert.js';
import { canonicalTimestamp, isZeroTime } from './timestamp.js';

/**
 * The Alertmanager webhook payload (version 4). Unknown keys are allowed here, unlike in our own
 * files: a newer Alertmanager may add fields, and refusing its webhooks would drop real alerts.
 */
const labelSet = z.record(z.string(), z.string());

const timestamp = z.string().transform((text, ctx) => {
  const canonical = canonicalTimestamp(text);
  if (canonical === undefined) {
    ctx.addIssue({ code: 'custom', message: `"${text}" is not an RFC 3339 timestamp` });
    return z.NEVER;
  }
  return canonical;
});

const status = z.enum(['firing', 'resolved']);

/** An Alertmanager fingerprint: its 64-bit label hash as 16 lowercase hex digits. */
export const FINGERPRINT = /^[0-9a-f]{16}$/;

const alertSchema = z.object({
  status,
  labels: labelSet,
  annotations: labelSet.optional().default({}),
  startsAt: timestamp,
  endsAt: timestamp.optional(),
  generatorURL: z.string().optional().default(''),
  // Checked here because templates may use it anywhere ({{ alert.fingerprint }} in argv and URLs):
  // Alertmanager sends its 64-bit label hash as exactly 16 lowercase hex digits.
  fingerprint: z.string().refine((f) => FINGERPRINT.test(f), {
    error: (issue) =>
      `${issue.input === '' ? 'fingerprint is empty' : `fingerprint ${JSON.stringify(String(issue.input).slice(0, 40))} is not one Alertmanager sends`}: expected 16 lowercase hex characters, e.g. "7d2d332feada5c59"`,
  }),
});

/** Zod schema of the webhook body. */
export const webhookPayloadSchema = z.object({
  version: z.string().refine((v) => v === '4', { message: 'only webhook payload version "4" is supported' }),
  receiver: z.string().optional().default(''),
  status,
  alerts: z.array(alertSchema),
  groupLabels: labelSet.optional().default({}),
  commonLabels: labelSet.optional().default({}),
  commonAnnotations: labelSet.optional().default({}),
  externalURL: z.string().optional().default(''),
  groupKey: z.string().optional().default(''),
  truncatedAlerts: z.number().int().nonnegative().optional().default(0),
});

/** A parsed webhook body. */
export type WebhookPayload = z.infer<typeof webhookPayloadSchema>;

/** The outcome of checking a webhook body: the alerts, or a reason fit for a 400 answer. */
export type ParsedPayload = { ok: true; payload: WebhookPayload; alerts: Alert[] } | { ok: false; reason: string };

/** Validates a parsed JSON value as a webhook body and normalises its alerts. */
export function parseWebhookPayload(body: unknown): ParsedPayload {
  const result = webhookPayloadSchema.safeParse(body);
  if (!result.success) {
    const reason = result.error.issues
      .slice(0, 5)
      .map((issue) => `${issue.path.length ? issue.path.join('.') : 'body'}: ${issue.message}`)
      .join('; ');
    return { ok: false, reason: `not an Alertmanager webhook payload: ${reason}` };
  }
  const payload = result.data;
  const alerts = payload.alerts.map((a) => toAlert(a));
  return { ok: true, payload, alerts };
}

function toAlert(a: WebhookPayload['alerts'][number]): Alert {
  const endsAt = a.endsAt === undefined || isZeroTime(a.endsAt) ? null : a.endsAt;
  return {
    status: a.status,
    labels: a.labels,
    annotations: a.annotations,
    startsAt: a.startsAt,
    endsAt,
    generatorURL: a.generatorURL,
    fingerprint: a.fingerprint,
  };
}
