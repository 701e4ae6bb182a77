import { errorMessage, RemediatorError } from '../../domain/errors.js';
import type { RunDetail, RunState } from '../../domain/run.js';
import { runMessage } from './run-message.js';
import { SlackApiError, type SlackClient, type SlackMessageRef } from './slack-client.js';

/** Where each run's message was posted, kept by the store so updates survive a restart. */
export interface SlackMessageRefs {
  get(runId: string): Promise<SlackMessageRef | null>;
  set(runId: string, ref: SlackMessageRef): Promise<void>;
}

/** What one redraw of a run's message did. */
export type RunMessageResult = { ok: true; action: 'posted' | 'updated' } | { ok: false; error: string };

/** Everything SlackRunMessages needs; the wiring in serve picks the concrete parts. */
export interface SlackRunMessagesOptions {
  readonly client: SlackClient;
  /** Where new run messages go (bot token); a webhook posts to its own channel. */
  readonly channel: string | null;
  readonly loadRun: (id: string) => Promise<RunDetail | null>;
  readonly refs: SlackMessageRefs;
  readonly publicUrl: string | null;
  /**
   * Where a run's message goes in a thread: a storm's runs are replies to the storm's one
   * message (null: not posted yet, the run's message waits for it). Absent: every run at the top.
   */
  readonly threadOf?: (run: RunDetail) => Promise<SlackMessageRef | null>;
  /** Told after each redraw: count it, log a failure. Never throws into the queue. */
  readonly onResult?: (runId: string, result: RunMessageResult) => void;
}

/** Webhook mode remembers the last state posted per run; this many runs at most, oldest forgotten. */
const MAX_REMEMBERED_RUNS = 10_000;

/** A run's queue: `again` is set when the run changed while its message was being redrawn. */
interface Queue {
  again: boolean;
  done: Promise<void>;
}

/**
 * Keeps one Slack message per run in step with the run. With a bot token the message is posted
 * once and then updated in place (proposed → awaiting approval → running → succeeded); with only a
 * webhook, which cannot update, a new message is posted each time the run's state changes.
 *
 * Work is serialised per run, so updates never overtake each other, and coalesced: however many
 * changes arrive during one redraw, one more redraw follows, reading the run as it is then.
 */
export class SlackRunMessages {
  private readonly queues = new Map<string, Queue>();
  /** Webhook mode: the state last posted for each run. */
  private readonly lastPosted = new Map<string, RunState>();

  constructor(private readonly options: SlackRunMessagesOptions) {
    if (options.client.canUpdate && (options.channel === null || options.channel === '')) {
      throw new RemediatorError('invalid_config', 'Slack run messages with a bot token need a channel to post in: set the Slack channel in the configuration');
    }
  }

  /** Schedules a redraw of the run's message; returns at once and never throws. */
  runChanged(runId: string): void {
    const queued = this.queues.get(runId);
    if (queued !== undefined) {
      queued.again = true;
      return;
    }
    const queue: Queue = { again: false, done: Promise.resolve() };
    this.queues.set(runId, queue);
    queue.done = this.drain(runId, queue);
  }

  /** Resolves when every scheduled redraw is done (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.queues.size > 0) await Promise.all([...this.queues.values()].map((q) => q.done));
  }

  private async drain(runId: string, queue: Queue): Promise<void> {
    // Yield first: the caller returns before any work starts, and a burst of calls made in the
    // same tick becomes one redraw.
    await Promise.resolve();
    try {
      do {
        queue.again = false;
        await this.redraw(runId);
      } while (queue.again);
    } finally {
      this.queues.delete(runId);
    }
  }

  private async redraw(runId: string): Promise<void> {
    let result: RunMessageResult | null;
    try {
      result = await this.redrawOrThrow(runId);
    } catch (err) {
      result = { ok: false, error: errorMessage(err) };
    }
    if (result === null) return;
    try {
      this.options.onResult?.(runId, result);
    } catch {
      // A failing observer must not stop the queue; it had its chance to log.
    }
  }

  /** Posts or updates the run's message; null when there was nothing to send. */
  private async redrawOrThrow(runId: string): Promise<RunMessageResult | null> {
    const { client, refs } = this.options;
    const run = await this.options.loadRun(runId);
    if (run === null) return { ok: false, error: `run ${runId} not found` };
    const message = runMessage({ run, publicUrl: this.options.publicUrl });

    if (!client.canUpdate) {
      // A webhook cannot thread: a storm's runs are told of by the storm's message alone.
      if (run.stormId) return null;
      if (this.lastPosted.get(runId) === run.state) return null;
      await client.postMessage(message);
      this.remember(runId, run.state);
      return { ok: true, action: 'posted' };
    }

    const ref = await refs.get(runId);
    if (ref !== null) {
      try {
        await client.updateMessage({ ...ref, ...message });
        return { ok: true, action: 'updated' };
      } catch (err) {
        // Someone deleted the message: post a new one rather than never showing the run again.
        if (!(err instanceof SlackApiError && err.slackError === 'message_not_found')) throw err;
      }
    }
    const thread = run.stormId ? ((await this.options.threadOf?.(run)) ?? null) : null;
    // A storm's run waits for the storm's message: it is posted in its thread once that exists
    // (the storm asks for these redraws), never alone at the top of the channel.
    if (run.stormId && this.options.threadOf && thread === null) return null;
    const posted = await client.postMessage(
      thread === null ? { ...message, channel: this.options.channel ?? '' } : { ...message, channel: thread.channel, threadTs: thread.ts },
    );
    if (posted === null) return { ok: false, error: 'Slack chat.postMessage returned no message reference' };
    await refs.set(runId, posted);
    return { ok: true, action: 'posted' };
  }

  private remember(runId: string, state: RunState): void {
    this.lastPosted.delete(runId);
    this.lastPosted.set(runId, state);
    if (this.lastPosted.size > MAX_REMEMBERED_RUNS) {
      const oldest = this.lastPosted.keys().next().value;
      if (oldest !== undefined) this.lastPosted.delete(oldest);
    }
  }
}
