import express, { type Router } from 'express';
import type { ApprovalService } from '../approve/approval-service.js';
import type { Storms } from '../guards/storms.js';
import type { Verdict } from '../domain/approval.js';
import { errorMessage, RemediatorError } from '../domain/errors.js';
import type { SlackSignatureVerifier } from '../notify/slack/signature.js';
import type { SlackClient } from '../notify/slack/slack-client.js';
import { parseStormButton } from '../notify/slack/storm-message.js';
import type { Logger } from '../observability/logger.js';
import type { ReplayStore } from '../domain/store.js';
import type { InboundAuth } from './auth.js';

/** What the Slack interaction route needs; absent verifier: Slack interactions are not configured. */
export interface SlackRouteDeps {
  readonly verifier: SlackSignatureVerifier | null;
  readonly approvals: ApprovalService;
  /** A storm message's buttons decide every held run of the storm (absent: those buttons are ignored). */
  readonly storms?: Storms;
  /** Counts and records refused signatures, as every endpoint's refusals are. */
  readonly auth: InboundAuth;
  /** Answers a refused press through its response_url. */
  readonly client: SlackClient | null;
  /** The workspace whose presses count (null: any the app is installed in). */
  readonly teamId: string | null;
  readonly logger: Logger;
  /** Where accepted signatures are remembered for their window, beyond this process (absent: memory only). */
  readonly replays?: ReplayStore;
  readonly clock?: () => Date;
}

/** The parts of a block_actions payload we act on. */
interface ButtonPress {
  readonly verdict: Verdict;
  /** A run's buttons, or a storm's (every held run of it). */
  readonly target: 'run' | 'storm';
  /** The run's id, or the storm's. */
  readonly runId: string;
  readonly seq: number | null;
  readonly user: { readonly id: string; readonly name?: string };
  readonly teamId: string | null;
  readonly responseUrl: string | null;
}

/**
 * POST /slack/interactions: the approve and reject buttons of run messages. The signature is
 * checked on the raw bytes before anything is parsed (SlackSignatureVerifier: signing secret,
 * timestamp within 5 minutes either way, replays refused). Slack wants an answer within 3
 * seconds, so the request is acknowledged first and the decision made after; its outcome reaches
 * the presser as an ephemeral message, and everyone through the run's message.
 */
export function slackRouter(deps: SlackRouteDeps): Router {
  const router = express.Router();
  // Slack sends the whole message with each button press: a run message with its plan can be tens of KB.
  const raw = express.raw({ type: () => true, limit: '1mb' });

  router.post('/slack/interactions', raw, async (req, res) => {
    if (deps.verifier === null) {
      throw new RemediatorError('not_found', "Slack interactions are not configured: set REMEDIATOR_SLACK_SIGNING_SECRET to the Slack app's signing secret");
    }
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const signature = req.get('x-slack-signature') ?? '';
    const check = deps.verifier.verify({ timestamp: req.get('x-slack-request-timestamp'), signature, rawBody: body });
    const reason = !check.ok
      ? check.reason
      : deps.replays && !(await deps.replays.rememberRequest(signature, new Date(check.staleAtMs).toISOString(), (deps.clock?.() ?? new Date()).toISOString()))
        ? 'This request was already accepted once (before a restart, or by another replica): a replay.'
        : null;
    if (reason !== null) {
      deps.auth.refused(req, 'slack', reason);
      throw new RemediatorError('unauthorized', `Slack signature refused: ${reason}`);
    }
    const press = parsePress(body);
    // Other interactions (shortcuts, other apps' buttons) are acknowledged and ignored.
    res.status(200).end();
    if (press === null) return;
    void decide(deps, press).catch((err: unknown) =>
      deps.logger.error(`Slack ${press.verdict} of run ${press.runId} failed: ${errorMessage(err)}`, { runId: press.runId }),
    );
  });
  return router;
}

async function decide(deps: SlackRouteDeps, press: ButtonPress): Promise<void> {
  if (deps.teamId !== null && press.teamId !== deps.teamId) {
    deps.logger.warn(`Slack ${press.verdict} of run ${press.runId} by ${press.user.id} refused: workspace ${press.teamId ?? '(none)'} is not ${deps.teamId}`, {
      runId: press.runId,
    });
    await tell(deps, press, `Presses from this Slack workspace do not decide runs here (slack.teamId is ${deps.teamId}).`);
    return;
  }
  const who = { id: press.user.id, via: 'slack' as const, ...(press.user.name ? { name: press.user.name } : {}) };
  if (press.target === 'storm') {
    if (!deps.storms) return;
    // Each held run is decided through the approval service (who may decide is checked per run);
    // the storm's message shows the outcome, the presser hears of any run it could not decide.
    const { stormId, upTo } = parseStormButton(press.runId);
    const outcome = await deps.storms.decideAll({ id: stormId, verdict: press.verdict, who, comment: null, ...(upTo ? { upTo } : {}) });
    if (outcome.refused.length > 0) {
      await tell(deps, press, `${outcome.decided.length} run(s) decided; ${outcome.refused.length} not: ${outcome.refused[0]?.message ?? ''}`);
    }
    return;
  }
  const result = await deps.approvals.decide(press.runId, press.verdict, who, null, press.seq ?? undefined);
  // A refusal reaches the presser alone; success shows in the run's message, which the run
  // watcher updates (with a bot token in place, with a webhook as a new message).
  if (!result.ok) await tell(deps, press, result.message);
}

async function tell(deps: SlackRouteDeps, press: ButtonPress, text: string): Promise<void> {
  deps.logger.info(`Slack ${press.verdict} of run ${press.runId} by ${press.user.id}: ${text}`, { runId: press.runId });
  if (!deps.client || !press.responseUrl) return;
  try {
    await deps.client.respond(press.responseUrl, { response_type: 'ephemeral', replace_original: false, text });
  } catch (err) {
    deps.logger.warn(`answering a Slack interaction failed: ${errorMessage(err)}`, { runId: press.runId });
  }
}

/**
 * The button press in a signed interaction payload (form field `payload`, JSON), or null for
 * anything else. Throws 400 for a body that is not a Slack interaction at all.
 */
export function parsePress(body: Buffer): ButtonPress | null {
  const text = new URLSearchParams(body.toString('utf8')).get('payload');
  if (text === null) throw new RemediatorError('bad_request', 'a Slack interaction is a form with a "payload" field');
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch {
    throw new RemediatorError('bad_request', 'the Slack interaction payload is not JSON');
  }
  const p = payload as {
    type?: unknown;
    user?: { id?: unknown; username?: unknown; name?: unknown; team_id?: unknown };
    team?: { id?: unknown };
    actions?: unknown;
    response_url?: unknown;
  };
  if (p.type !== 'block_actions' || !Array.isArray(p.actions)) return null;
  const action = p.actions[0] as { action_id?: unknown; value?: unknown; block_id?: unknown } | undefined;
  const id = action?.action_id;
  const verdict = id === 'approve' || id === 'storm_approve' ? 'approve' : id === 'reject' || id === 'storm_reject' ? 'reject' : null;
  if (verdict === null || typeof action?.value !== 'string' || typeof p.user?.id !== 'string') return null;
  const seq = typeof action.block_id === 'string' ? /^approval:[^:]+:(\d+)$/.exec(action.block_id)?.[1] : undefined;
  const name = typeof p.user.username === 'string' ? p.user.username : typeof p.user.name === 'string' ? p.user.name : undefined;
  return {
    verdict,
    target: id === 'storm_approve' || id === 'storm_reject' ? 'storm' : 'run',
    runId: action.value,
    seq: seq === undefined ? null : Number(seq),
    user: { id: p.user.id, ...(name ? { name } : {}) },
    teamId: typeof p.team?.id === 'string' ? p.team.id : typeof p.user.team_id === 'string' ? p.user.team_id : null,
    responseUrl: typeof p.response_url === 'string' && isSlackResponseUrl(p.response_url) ? p.response_url : null,
  };
}

/** Only Slack's own hosts: a response_url is fetched by the daemon, so it must not point anywhere else. */
function isSlackResponseUrl(url: string): boolean {
  if (!URL.canParse(url)) return false;
  const u = new URL(url);
  return u.protocol === 'https:' && (u.hostname === 'hooks.slack.com' || u.hostname.endsWith('.slack.com'));
}
