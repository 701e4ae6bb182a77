// Past the usual size on purpose: the whole configuration file in one strict schema, every key's
// default and description in one place, read top to bottom like the file it checks.
import { isIP } from 'node:net';
import { parse as parseYaml } from 'yaml';
import cron from 'node-cron';
import { z } from 'zod';
import { CronSyntaxError, isTimeZone, parseCron } from '../decide/cron.js';
import type { StormRule } from '../domain/decision.js';
import { parseDuration } from '../domain/duration.js';
import { parseMatcher } from '../match/matcher.js';

/**
 * The configuration file. Strict like playbooks: an unknown key is a mistake to report, not to
 * ignore. Secrets have no key here at all: they come from the environment or from files. Every
 * default is written once, on its key: a nested object defaults to `{}`, which zod then parses
 * (`prefault`), so its keys' own defaults apply. Durations are written as text ("30s", "1h30m")
 * and parsed here into milliseconds: the rest of the daemon never parses one again.
 */
const DURATION_TEXT = /^(?:\d+(?:ms|s|m|h|d|w))+$/;

/** A duration such as 500ms, 30s or 1h30m, in milliseconds (zero allowed). */
const duration = z
  .string()
  .regex(DURATION_TEXT, { message: 'must be a duration such as 500ms, 30s, 5m or 1h30m' })
  .transform((text) => parseDuration(text) ?? 0);

/** A duration above zero, in milliseconds. */
const positiveDuration = z
  .string()
  .refine((v) => (parseDuration(v) ?? 0) > 0, { message: 'must be a duration above zero such as 30m, 2h or 1d' })
  .transform((text) => parseDuration(text) ?? 0);

/** A duration of at least a second (a window shorter than that counts nothing useful). */
const atLeastASecond = z
  .string()
  .refine((v) => (parseDuration(v) ?? 0) >= 1000, { message: 'must be a duration of at least 1s such as 30s, 2m or 1h' })
  .transform((text) => parseDuration(text) ?? 0);

const MiB = 1024 * 1024;

/** A size in bytes within [min, max], also as text from an environment variable. */
const bytes = (min: number, max: number, byDefault: number) => z.coerce.number().int().min(min).max(max).default(byDefault);

/** true/false, also as text from an environment variable. */
const flag = z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]);

/** A list given as text (an environment variable) is YAML or JSON; from the file it is a list already. */
function fromText(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return parseYaml(value) as unknown;
  } catch {
    return value;
  }
}

const maintenanceWindow = z
  .strictObject({
    name: z.string().min(1),
    /** Five cron fields (minute hour day-of-month month day-of-week): when the window starts. */
    cron: z.string().min(1),
    /** How long the window lasts from each start. */
    duration: positiveDuration,
    /** suppress: no run at all; dry-run: runs only as dry runs. */
    action: z.enum(['suppress', 'dry-run']).default('suppress'),
    /** Alertmanager matchers: the window covers only alerts whose labels match them all. */
    matchers: z.array(z.string()).optional(),
    /** IANA time zone the cron expression is read in (default UTC). */
    timezone: z.string().refine(isTimeZone, { message: 'must be an IANA time zone such as UTC or Europe/Berlin' }).optional(),
  })
  .superRefine((w, ctx) => {
    try {
      parseCron(w.cron, w.timezone !== undefined && isTimeZone(w.timezone) ? w.timezone : 'UTC');
    } catch (err) {
      if (!(err instanceof CronSyntaxError)) throw err;
      ctx.addIssue({ code: 'custom', path: ['cron'], message: err.message });
    }
    (w.matchers ?? []).forEach((m, i) => {
      try {
        parseMatcher(m);
      } catch (err) {
        ctx.addIssue({ code: 'custom', path: ['matchers', i], message: (err as Error).message });
      }
    });
  });

/** A role of auth.roles: view, approve (decide held runs), operate (pause, resume, circuit, reload, cancel). */
const role = z.enum(['view', 'approve', 'operate']);
const roles = z.preprocess(commaList, z.array(role));

/** A list from the environment may also be written "a, b" (YAML or JSON works too). */
function commaList(value: unknown): unknown {
  if (typeof value === 'string' && !value.trim().startsWith('[')) {
    return value
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
  }
  return fromText(value);
}

/** An IP address or a CIDR range (10.0.0.0/8, fd00::/8). */
const addressOrRange = z.string().refine(
  (v) => {
    const [address = '', bits, extra] = v.split('/');
    const family = isIP(address);
    if (family === 0 || extra !== undefined) return false;
    return bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128));
  },
  { message: 'must be an IP address or a CIDR range such as 10.0.0.0/8' },
);

/** An Alertmanager base URL. */
const alertmanagerUrl = z.url({ message: 'must be a URL such as http://127.0.0.1:9093' });

function uniqueNames(windows: readonly { name: string }[], ctx: z.RefinementCtx): void {
  const seen = new Set<string>();
  windows.forEach((w, i) => {
    if (seen.has(w.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `window name "${w.name}" is used twice: give each window its own name` });
    seen.add(w.name);
  });
}

/** Names the daemon gives its own notifiers; a configured notifier takes another. */
export const BUILT_IN_NOTIFIERS = ['log', 'webhook', 'slack'] as const;

/** A notifier a playbook names (escalate.notify), configured under its name. */
const namedNotifier = z.discriminatedUnion('type', [
  z.strictObject({
    /** PagerDuty's Events API v2: a trigger when a target escalates, a resolve when a person clears it. */
    type: z.literal('pagerduty'),
    /** The file holding the integration's routing key (a mounted secret); read at start. */
    routingKeyFile: z.string().min(1),
    /** The events' severity. */
    severity: z.enum(['critical', 'error', 'warning', 'info']).default('critical'),
    /** The Events API endpoint (a proxy, or PagerDuty's EU service region). */
    url: z.url({ message: 'must be a URL such as https://events.pagerduty.com/v2/enqueue' }).default('https://events.pagerduty.com/v2/enqueue'),
  }),
  z.strictObject({
    /** A JSON POST, as the notify webhook's, to a URL of its own. */
    type: z.literal('webhook'),
    /** The file holding the URL (it often carries a token); read at start. */
    urlFile: z.string().min(1),
  }),
]);

export const configSchema = z.strictObject({
  listen: z.coerce
    .string()
    .regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]*):\d{1,5}$/, { message: 'must be host:port, e.g. 127.0.0.1:9595' })
    .default('127.0.0.1:9595'),
  playbooks: z.string().min(1).default('playbooks'),
  db: z.string().min(1).default('data/remediator.db'),
  execution: z.enum(['dry-run', 'live']).default('dry-run'),
  logLevel: z.enum(['error', 'warn', 'info', 'debug']).default('info'),
  /** json: one object per line, for log collectors (the default); text: readable lines, for a terminal. */
  logFormat: z.enum(['json', 'text']).default('json'),
  webhook: z
    .strictObject({
      maxBodyBytes: bytes(1024, 64 * MiB, MiB),
      /**
       * Webhook bodies read and parsed at once; more wait their turn (a queue of at most 64 per
       * slot, then 503 with Retry-After). Memory under a burst of large bodies is bounded by this
       * times maxBodyBytes (and its parsed form), whatever the number of connections.
       */
      maxConcurrentBodies: z.coerce.number().int().min(1).max(256).default(4),
    })
    .prefault({}),
  http: z
    .strictObject({
      /** A client must send its request headers within this (slowloris); then the connection is closed. */
      headersTimeout: positiveDuration.prefault('10s'),
      /** … and its whole request, body included, within this (408, then closed). */
      requestTimeout: positiveDuration.prefault('30s'),
    })
    .prefault({}),
  auth: z
    .strictObject({
      /** Create missing webhook/API tokens under the data directory: for a first local start only. */
      generateTokens: flag.default(false),
      /**
       * Roles per identity (an API token's, or a proxy's user) or approvals group. An identity named
       * here gets exactly these (approve and operate imply view); one named nowhere gets its default.
       */
      roles: z.preprocess(fromText, z.record(z.string().min(1), z.array(role))).default({}),
      /** Roles of API token identities auth.roles does not name: every role, as tokens had before roles. */
      tokenRoles: roles.default(['view', 'approve', 'operate']),
      /** An authenticating proxy in front of the console (oauth2-proxy): its header names the person. */
      proxy: z
        .strictObject({
          /** The header carrying the identity, e.g. X-Forwarded-User (X-Auth-Request-User with nginx auth_request). */
          header: z
            .string()
            .regex(/^[A-Za-z0-9-]{1,100}$/, { message: 'must be a header name such as X-Forwarded-User' })
            .optional(),
          /** Addresses the proxy connects from: the header counts from these only, and is ignored from anywhere else. */
          from: z.preprocess(commaList, z.array(addressOrRange)).default([]),
          /** Roles of proxy identities auth.roles does not name: view only. */
          roles: roles.default(['view']),
        })
        .prefault({})
        .refine((p) => p.header === undefined || p.from.length > 0, {
          message: 'auth.proxy.header needs auth.proxy.from: the addresses the proxy connects from (the header is never trusted from anywhere else)',
        }),
    })
    .prefault({}),
  /** The web console under /console. */
  console: z
    .strictObject({
      enabled: flag.default(true),
      /** A console session unused for this long ends. */
      sessionIdle: positiveDuration.prefault('30m'),
      /** A console session ends this long after sign-in, however busy. */
      sessionMax: positiveDuration.prefault('12h'),
    })
    .prefault({}),
  runs: z
    .strictObject({
      /** Runs executing at once; further runs wait their turn, in order. */
      maxConcurrent: z.coerce.number().int().min(1).max(256).default(4),
      /** Bytes of stdout, stderr or response body kept per step; the rest is cut and marked. */
      outputCapBytes: bytes(1024, 16 * MiB, 64 * 1024),
      /** Time between SIGTERM and SIGKILL for a command that timed out or was cancelled. */
      killGrace: duration.prefault('5s'),
      /** On SIGTERM, how long running steps may take to finish before they are killed. */
      shutdownGrace: duration.prefault('30s'),
      /** Timeout of run steps that set none. */
      defaultTimeout: duration.prefault('5m'),
      /** Environment variables of the daemon that commands see; nothing else leaks to them. */
      envAllow: z
        .array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/))
        .default(['PATH', 'HOME', 'LANG', 'LC_ALL', 'TZ', 'KUBECONFIG', 'KUBERNETES_SERVICE_HOST', 'KUBERNETES_SERVICE_PORT']),
      /**
       * With replicas on one database: how long a run stays leased to the replica executing it
       * without a heartbeat. When a replica dies, another marks its runs interrupted after this.
       */
      lease: positiveDuration.prefault('30s'),
      /**
       * A cgroup v2 directory the daemon may create cgroups in (systemd: Delegate=yes): each command
       * then runs in a cgroup of its own, which holds every descendant whatever it does. Without it,
       * a step's processes are found through /proc (its process group, and its token in their environment).
       */
      cgroup: z.string().min(1).optional(),
    })
    .prefault({}),
  audit: z
    .strictObject({
      /**
       * Signed checkpoints of the audit chain's head, published outside the database, so that
       * someone who can write the database but not read the key cannot rewrite the trail unseen.
       */
      checkpoints: z
        .strictObject({
          /** The append-only file of checkpoints (JSON Lines); checkpoints are on when it is set. */
          file: z.string().min(1).optional(),
          every: positiveDuration.prefault('5m'),
          /** The file in secretsDir holding the Ed25519 private key (PEM); never a step secret. */
          key: z
            .string()
            .regex(/^[A-Za-z_][A-Za-z0-9_-]*$/, 'a file name in secretsDir (letters, digits, _ and -)')
            .default('audit-checkpoint-key'),
          /** When the chain since the last checkpoint does not verify at start: refuse to start, or start and alert. */
          onBroken: z.enum(['refuse', 'alert']).default('refuse'),
          /** Also post each checkpoint through the notifiers (the notify webhook; Slack never gets them). */
          notify: flag.default(true),
        })
        .prefault({}),
    })
    .prefault({}),
  /** This process's name on batch claims and run leases (default: the host name); a random suffix keeps restarts apart. */
  replicaName: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,100}$/, { message: 'must be letters, digits, ".", "_" or "-", such as the pod name' })
    .optional(),
  /**
   * Alertmanager's v2 API, for silences while remediating, preconditions on firing alerts and
   * resolves seen while silenced. Absent: none of them (a playbook that asks for one says so).
   */
  alertmanager: z
    .strictObject({
      url: z
        .union([alertmanagerUrl, z.array(alertmanagerUrl).min(1)])
        .transform((v) => (Array.isArray(v) ? v : [v]))
        .describe('The base URL, or a list of them (an HA pair): the first that answers is used; silences gossip to the peers.'),
      tokenFile: z.string().min(1).optional().describe('A file holding a bearer token sent as Authorization: Bearer (as http_config credentials_file).'),
      basicAuth: z
        .strictObject({
          username: z.string().min(1).describe('The user name.'),
          passwordFile: z.string().min(1).describe('A file holding the password.'),
        })
        .optional()
        .describe('Basic authentication (as http_config basic_auth with password_file).'),
      timeout: positiveDuration.prefault('5s').describe('How long one request to one Alertmanager may take.'),
      activeAlertsCache: duration.prefault('10s').describe('How long the active alerts read for `unless` preconditions are reused.'),
      resolvePoll: positiveDuration.prefault('30s').describe('While a silence of ours is in force, how often its alert is looked up to see it resolve.'),
    })
    .refine((a) => a.tokenFile === undefined || a.basicAuth === undefined, { message: 'alertmanager takes tokenFile or basicAuth, not both' })
    .optional()
    .describe("Alertmanager's v2 API (silences, preconditions, resolves while silenced)."),
  grafana: z
    .strictObject({
      url: z.url({ message: 'must be a URL such as https://grafana.example.com' }).describe("Grafana's base URL (its root_url, a sub path included)."),
      tokenFile: z
        .string()
        .min(1)
        .describe('A file holding a service account token with annotations:create and annotations:write, sent as Authorization: Bearer.'),
      dashboardUID: z
        .string()
        .regex(/^[A-Za-z0-9_-]{1,40}$/, { message: 'must be a dashboard UID (letters, digits, "_" and "-", at most 40), as in the dashboard URL /d/UID/…' })
        .optional()
        .describe('The dashboard the annotations belong to; absent: organization annotations, shown on any dashboard that queries them by tag.'),
      dryRuns: flag.default(false).describe('Annotate dry runs too (tagged dry-run); by default only live runs are.'),
      tags: z
        .array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { message: 'must be a label name such as namespace' }))
        .default([])
        .describe('Alert label names whose values become tags, as name=value (e.g. namespace, deployment), beside remediator, the playbook and the outcome.'),
      timeout: positiveDuration.prefault('5s').describe('How long one request to Grafana may take; a run never waits longer on Grafana than this.'),
    })
    .optional()
    .describe('Grafana annotations: every live run becomes one region from its first acting step to its end. Absent: no annotations.'),
  prometheus: z.strictObject({ url: z.url({ message: 'must be a URL such as http://127.0.0.1:9090' }).default('http://127.0.0.1:9090') }).prefault({}),
  retention: z
    .strictObject({
      /** Remove events, finished runs and processed batches older than this (the audit chain stays verifiable). */
      keep: positiveDuration.prefault('90d'),
      /** When to prune: five cron fields, in UTC. */
      schedule: z
        .string()
        .refine((v) => cron.validate(v), {
          message: 'must be a cron expression such as "17 3 * * *" (five fields: minute hour day-of-month month day-of-week)',
        })
        .default('17 3 * * *'),
      enabled: flag.default(true),
    })
    .prefault({}),
  reload: z
    .strictObject({
      /**
       * Reload the playbooks when their files change (an editor's save, a Kubernetes ConfigMap
       * update), on this replica; a broken set is refused and the old one stays, as with SIGHUP.
       */
      watch: flag.default(false),
      /** How often to compare the files, besides the filesystem's own events (at most 1h). */
      interval: positiveDuration.refine((ms) => ms <= 3_600_000, { message: 'must be at most 1h' }).prefault('5s'),
    })
    .prefault({}),
  /** Where people reach this daemon (behind a proxy, say); links in Slack messages point there. */
  publicUrl: z.url({ message: 'must be a URL such as https://remediator.example.com' }).optional(),
  approvals: z
    .strictObject({
      /** Names standing for several approvers (API token identities, Slack user ids), for playbooks' approvers lists. */
      groups: z
        .preprocess(
          fromText,
          z.record(z.string().regex(/^[A-Za-z0-9._-]+$/, { message: 'a group name is letters, digits, ".", "_" and "-"' }), z.array(z.string().min(1)).min(1)),
        )
        .default({}),
    })
    .prefault({}),
  slack: z
    .strictObject({
      /** Channel for run messages with a bot token (a channel id such as C0123456789, or #name). */
      channel: z.string().min(1).optional(),
      /**
       * The Slack workspace (team id, T…) whose button presses count. Without it, any workspace the
       * app is installed in, Slack Connect guests' included, may press the buttons.
       */
      teamId: z
        .string()
        .regex(/^[TE][A-Z0-9]+$/, { message: 'must be a Slack team id such as T0123456789' })
        .optional(),
    })
    .prefault({}),
  /** Notifiers playbooks name in escalate.notify, each under its name (beside the built-in log, webhook and slack). */
  notifiers: z
    .preprocess(
      fromText,
      z.record(z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, { message: 'a notifier name is lower case letters, digits, "_" and "-"' }), namedNotifier),
    )
    .default({})
    .superRefine((named, ctx) => {
      for (const name of Object.keys(named)) {
        if ((BUILT_IN_NOTIFIERS as readonly string[]).includes(name))
          ctx.addIssue({ code: 'custom', path: [name], message: `"${name}" is a built-in notifier's name: choose another` });
      }
    }),
  /** A directory of files, one per secret (a mounted Kubernetes Secret), for {{ secrets.NAME }}. */
  secretsDir: z.string().min(1).optional(),
  guards: z
    .strictObject({
      /** Live runs (of all playbooks) allowed per window; the one that would exceed it opens the circuit. */
      budget: z
        .strictObject({
          count: z.coerce.number().int().min(1).default(20),
          per: positiveDuration.prefault('1h'),
        })
        .prefault({}),
      /**
       * Storm detection: more than `alerts` distinct alert instances across at least `targets`
       * target keys matching live playbooks within `within` are one storm; its live runs wait for a
       * person (or are suppressed) until `cooldown` after its last new alert.
       */
      storm: z
        .strictObject({
          enabled: flag.default(true).describe('Storm detection is on unless this is false.'),
          alerts: z.coerce.number().int().min(1).default(10).describe('A storm opens when more than this many distinct alert instances…'),
          targets: z.coerce.number().int().min(1).default(5).describe('…across at least this many distinct target keys…'),
          within: atLeastASecond.prefault('2m').describe('…match live playbooks within this window.'),
          cooldown: atLeastASecond.prefault('10m').describe('The storm ends this long after its last new alert.'),
          action: z.enum(['hold', 'suppress']).default('hold').describe("What happens to the storm's live runs: held for approval, or suppressed."),
        })
        .prefault({}),
      /** Times when runs are suppressed or forced to dry-run. */
      maintenance: z.preprocess(fromText, z.array(maintenanceWindow)).default([]).superRefine(uniqueNames),
    })
    .prefault({}),
});

/** The configuration after defaults, durations in milliseconds. */
export type Config = z.infer<typeof configSchema>;

/** The configuration as written (a file, the environment, a test): every key optional, durations as text. */
export type ConfigInput = z.input<typeof configSchema>;

/** Configuration keys that are also environment variables and flags, by environment name. */
export const ENV_KEYS: Readonly<Record<string, readonly string[]>> = {
  REMEDIATOR_LISTEN: ['listen'],
  REMEDIATOR_PLAYBOOKS: ['playbooks'],
  REMEDIATOR_DB: ['db'],
  REMEDIATOR_EXECUTION: ['execution'],
  REMEDIATOR_LOG_LEVEL: ['logLevel'],
  REMEDIATOR_LOG_FORMAT: ['logFormat'],
  REMEDIATOR_WEBHOOK_MAX_BODY_BYTES: ['webhook', 'maxBodyBytes'],
  REMEDIATOR_WEBHOOK_MAX_CONCURRENT_BODIES: ['webhook', 'maxConcurrentBodies'],
  REMEDIATOR_HTTP_HEADERS_TIMEOUT: ['http', 'headersTimeout'],
  REMEDIATOR_HTTP_REQUEST_TIMEOUT: ['http', 'requestTimeout'],
  REMEDIATOR_AUTH_GENERATE_TOKENS: ['auth', 'generateTokens'],
  // A YAML or JSON map, e.g. '{alice: [approve, operate], oncall: [approve]}'.
  REMEDIATOR_AUTH_ROLES: ['auth', 'roles'],
  REMEDIATOR_AUTH_TOKEN_ROLES: ['auth', 'tokenRoles'],
  REMEDIATOR_AUTH_PROXY_HEADER: ['auth', 'proxy', 'header'],
  // A YAML or JSON list, e.g. '[127.0.0.1, 10.0.0.0/8]'.
  REMEDIATOR_AUTH_PROXY_FROM: ['auth', 'proxy', 'from'],
  REMEDIATOR_AUTH_PROXY_ROLES: ['auth', 'proxy', 'roles'],
  REMEDIATOR_CONSOLE_ENABLED: ['console', 'enabled'],
  REMEDIATOR_CONSOLE_SESSION_IDLE: ['console', 'sessionIdle'],
  REMEDIATOR_CONSOLE_SESSION_MAX: ['console', 'sessionMax'],
  REMEDIATOR_RUNS_MAX_CONCURRENT: ['runs', 'maxConcurrent'],
  REMEDIATOR_RUNS_OUTPUT_CAP_BYTES: ['runs', 'outputCapBytes'],
  REMEDIATOR_RUNS_KILL_GRACE: ['runs', 'killGrace'],
  REMEDIATOR_RUNS_SHUTDOWN_GRACE: ['runs', 'shutdownGrace'],
  REMEDIATOR_RUNS_DEFAULT_TIMEOUT: ['runs', 'defaultTimeout'],
  REMEDIATOR_RUNS_LEASE: ['runs', 'lease'],
  REMEDIATOR_RUNS_CGROUP: ['runs', 'cgroup'],
  REMEDIATOR_REPLICA_NAME: ['replicaName'],
  REMEDIATOR_PROMETHEUS_URL: ['prometheus', 'url'],
  REMEDIATOR_SECRETS_DIR: ['secretsDir'],
  REMEDIATOR_AUDIT_CHECKPOINTS_FILE: ['audit', 'checkpoints', 'file'],
  REMEDIATOR_AUDIT_CHECKPOINTS_EVERY: ['audit', 'checkpoints', 'every'],
  REMEDIATOR_AUDIT_CHECKPOINTS_ON_BROKEN: ['audit', 'checkpoints', 'onBroken'],
  REMEDIATOR_PUBLIC_URL: ['publicUrl'],
  REMEDIATOR_RELOAD_WATCH: ['reload', 'watch'],
  REMEDIATOR_RELOAD_INTERVAL: ['reload', 'interval'],
  REMEDIATOR_RETENTION_KEEP: ['retention', 'keep'],
  REMEDIATOR_RETENTION_SCHEDULE: ['retention', 'schedule'],
  REMEDIATOR_RETENTION_ENABLED: ['retention', 'enabled'],
  // A YAML or JSON map, e.g. '{oncall: [alice, U012ABC]}'.
  REMEDIATOR_APPROVALS_GROUPS: ['approvals', 'groups'],
  REMEDIATOR_SLACK_CHANNEL: ['slack', 'channel'],
  REMEDIATOR_SLACK_TEAM_ID: ['slack', 'teamId'],
  REMEDIATOR_GUARDS_BUDGET_COUNT: ['guards', 'budget', 'count'],
  REMEDIATOR_GUARDS_BUDGET_PER: ['guards', 'budget', 'per'],
  // A YAML or JSON list, e.g. '[{name: sunday, cron: "0 2 * * SUN", duration: 2h, action: suppress}]'.
  REMEDIATOR_GUARDS_MAINTENANCE: ['guards', 'maintenance'],
  REMEDIATOR_GUARDS_STORM_ENABLED: ['guards', 'storm', 'enabled'],
  REMEDIATOR_GUARDS_STORM_ALERTS: ['guards', 'storm', 'alerts'],
  REMEDIATOR_GUARDS_STORM_TARGETS: ['guards', 'storm', 'targets'],
  REMEDIATOR_GUARDS_STORM_WITHIN: ['guards', 'storm', 'within'],
  REMEDIATOR_GUARDS_STORM_COOLDOWN: ['guards', 'storm', 'cooldown'],
  REMEDIATOR_GUARDS_STORM_ACTION: ['guards', 'storm', 'action'],
};

/** guards.storm as the decide stage reads it: null when it is off. */
export function stormRule(config: Config): StormRule | null {
  const s = config.guards.storm;
  return s.enabled ? { alerts: s.alerts, targets: s.targets, withinMs: s.within, cooldownMs: s.cooldown, action: s.action } : null;
}
