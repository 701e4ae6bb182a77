import type { Request, Response } from 'express';
import type { Session, SessionStore } from './sessions.js';

/** What the stream needs. */
export interface LiveStreamDeps {
  readonly sessions: SessionStore;
  /** How often a comment keeps proxies from closing an idle stream, and the session is checked. */
  readonly heartbeatMs?: number;
  /**
   * With replicas on one database a run may change on another replica, which this one does not
   * hear of: then every heartbeat also tells pages to refresh.
   */
  readonly shared: boolean;
  /** Open streams at most; more are refused (503) rather than let memory grow. */
  readonly maxClients?: number;
}

interface Client {
  readonly res: Response;
  readonly session: Session;
}

/**
 * Server-sent events for open console pages: `run` (a run changed, its id as data) as the stages
 * report it (RunChanges), `refresh` on heartbeats when the database is shared, and `ended` when the
 * session behind the stream ends (idle, expired, signed out), after which the stream closes. The
 * stream itself needs a session and never counts as activity, so an open tab does not keep one
 * alive. Pages re-read what they show on an event; the stream carries no data beyond run ids.
 */
export class LiveStream {
  private readonly clients = new Set<Client>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly deps: LiveStreamDeps) {
    this.timer = setInterval(() => this.heartbeat(), deps.heartbeatMs ?? 15_000);
    this.timer.unref();
  }

  /** Tells every open page that a run changed. Returns at once; never throws. */
  readonly runChanged = (runId: string): void => {
    this.send('run', runId);
  };

  /** GET /console/events for a signed-in request. */
  open(req: Request, res: Response, session: Session): void {
    if (this.clients.size >= (this.deps.maxClients ?? 1000)) {
      res.status(503).set('Retry-After', '30').type('text/plain').send('too many open console streams; try again shortly\n');
      return;
    }
    res.status(200).set({
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      'X-Accel-Buffering': 'no',
    });
    res.flushHeaders();
    // A reconnecting EventSource waits this long (ms) before trying again.
    res.write('retry: 3000\n\n');
    const client = { res, session };
    this.clients.add(client);
    req.on('close', () => this.clients.delete(client));
  }

  /** Open streams now. */
  get size(): number {
    return this.clients.size;
  }

  /** Ends every stream (the daemon stops). */
  close(): void {
    clearInterval(this.timer);
    for (const c of this.clients) c.res.end();
    this.clients.clear();
  }

  private heartbeat(): void {
    if (this.deps.shared) this.send('refresh', '');
    else this.send(null, '');
  }

  private send(event: string | null, data: string): void {
    for (const c of this.clients) {
      if (!this.deps.sessions.live(c.session)) {
        this.end(c);
        continue;
      }
      c.res.write(event === null ? ': ping\n\n' : `event: ${event}\ndata: ${data}\n\n`);
    }
  }

  private end(c: Client): void {
    c.res.write('event: ended\ndata: your session ended: sign in again\n\n');
    c.res.end();
    this.clients.delete(c);
  }
}
