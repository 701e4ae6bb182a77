import { createHash } from 'node:crypto';
import express, { type Request, type Response, type Router } from 'express';
import { mayDecide } from '../../approve/approvers.js';
import { openRequest } from '../../domain/approval.js';
import { RemediatorError } from '../../domain/errors.js';
import type { Run, RunDetail, RunState } from '../../domain/run.js';
import type { StormRecord } from '../../domain/store.js';
import type { Report, ReportWindow } from '../../report/report.js';
import { principalOf } from '../auth.js';
import { instant, queryString } from '../query-values.js';
import { hasRole } from '../roles.js';
import { sessionOf } from './console-auth.js';
import type { ConsoleDeps } from './console-deps.js';
import { RUN_STATES } from './format.js';
import { auditPage, type VerifyView } from './pages/audit-page.js';
import { decisionsPage } from './pages/decisions-page.js';
import { guardsPage, type ReloadView } from './pages/guards-page.js';
import { playbookPage, playbooksPage } from './pages/playbooks-page.js';
import { runPage } from './pages/run-page.js';
import { runsPage, type RunFilters } from './pages/runs-page.js';
import { waitingPage } from './pages/waiting-page.js';
import { renderPage } from './render.js';

const PAGE = 50;
const WEEK = 7 * 86_400_000;
/** Decision events looked through per page of suppressions (they share the kind with runs' decisions). */
const DECISION_SCAN = 1000;

/** What the pages remember between requests of this process: the last reload and verify asked from the console. */
export interface ConsoleMemory {
  lastReload: ReloadView | null;
  lastVerify: VerifyView | null;
}

/** The console's pages (GET); each needs the role view, checked by the router. */
export function consolePages(deps: ConsoleDeps, memory: ConsoleMemory): Router {
  const router = express.Router();
  const reports = new ReportCache(deps);
  const names = () => deps.playbooks.all.map((p) => p.name).sort();

  router.get('/console/runs', async (req, res) => {
    const filters = runFilters(req);
    const page = await deps.store.listRuns({
      limit: PAGE,
      ...(filters.state ? { state: filters.state } : {}),
      ...(filters.playbook ? { playbook: filters.playbook } : {}),
      ...(filters.mode ? { dryRun: filters.mode === 'dry' } : {}),
      ...(filters.q ? { text: filters.q } : {}),
      ...(filters.cursor ? { cursor: filters.cursor } : {}),
    });
    const content = runsPage({ filters, runs: page.runs, next: page.next, partial: page.partial === true, playbooks: names() });
    await renderPage(deps, res, { title: 'Runs', section: 'runs', content });
  });

  router.get('/console/runs/:id', async (req, res) => {
    const run = await deps.store.getRun(String(req.params['id']));
    if (!run) throw new RemediatorError('not_found', `no run with id ${req.params['id']}`);
    await renderPage(deps, res, { title: `${run.playbook} for ${run.alertname}`, section: 'runs', content: runView(deps, res, run) });
  });

  router.get('/console/waiting', async (_req, res) => {
    const p = principalOf(res);
    const held = await deps.store.listRuns({ state: 'awaiting_approval', limit: 200 });
    const details = (await Promise.all(held.runs.map((r) => deps.store.getRun(r.id)))).filter((r): r is RunDetail => r !== null);
    const mine = details.filter((r) => {
      const open = openRequest(r);
      return open !== null && p !== null && hasRole(p, 'approve') && mayDecide(open.approvers, { id: p.identity, via: 'console' }, deps.groups);
    });
    mine.sort((a, b) => (openRequest(a)?.expiresAt ?? '').localeCompare(openRequest(b)?.expiresAt ?? ''));
    const content = waitingPage({ runs: mine, others: details.length - mine.length, canApprove: hasRole(p, 'approve') });
    await renderPage(deps, res, { title: 'Waiting for me', section: 'waiting', content });
  });

  router.get('/console/decisions', async (req, res) => {
    const now = deps.clock();
    const playbook = queryString(req, 'playbook') || undefined;
    const reason = queryString(req, 'reason')?.trim() || undefined;
    const sinceText = queryString(req, 'since') || '24h';
    const untilText = queryString(req, 'until') || undefined;
    const before = cursorNumber(queryString(req, 'before'));
    const since = instant(sinceText, 'since', now) as string;
    const until = instant(untilText, 'until', now);
    const found = [];
    let beforeId = before;
    let more = false;
    let scanned = 0;
    while (found.length < PAGE && scanned < DECISION_SCAN) {
      const events = await deps.store.listEvents({
        kind: 'decision',
        since,
        newestFirst: true,
        limit: 200,
        ...(playbook ? { playbook } : {}),
        ...(until ? { until } : {}),
        ...(beforeId !== undefined ? { beforeId } : {}),
      });
      scanned += events.length;
      for (const e of events) {
        if (found.length >= PAGE) break;
        beforeId = e.id;
        if (e.data['action'] === 'suppress' && e.data['redelivery'] !== true && (reason === undefined || e.data['reason'] === reason)) found.push(e);
      }
      more = events.length === 200 || found.length >= PAGE;
      if (events.length < 200) break;
    }
    const [report] = (await reports.get([{ since, until: until ?? now.toISOString(), playbook: playbook ?? null }])) as [Report];
    const content = decisionsPage({
      filters: {
        since: sinceText,
        ...(playbook ? { playbook } : {}),
        ...(reason ? { reason } : {}),
        ...(untilText ? { until: untilText } : {}),
        ...(before ? { before: String(before) } : {}),
      },
      suppressions: found,
      byReason: report.total.suppressions.byReason,
      next: more && beforeId !== undefined ? String(beforeId) : null,
      playbooks: names(),
    });
    await renderPage(deps, res, { title: 'Decisions', section: 'decisions', content });
  });

  router.get('/console/playbooks', async (_req, res) => {
    await renderPage(deps, res, { title: 'Playbooks', section: 'playbooks', content: playbooksPage(deps.playbooks.all, deps.playbooks.loadedAt) });
  });

  router.get('/console/playbooks/:name', async (req, res) => {
    const playbook = deps.playbooks.byName(String(req.params['name']));
    if (!playbook) throw new RemediatorError('not_found', `no active playbook named ${req.params['name']}`);
    const now = deps.clock().getTime();
    const iso = (ms: number) => new Date(ms).toISOString();
    const weeks = Array.from({ length: 8 }, (_, i) => ({ since: now - (8 - i) * WEEK, until: now - (7 - i) * WEEK }));
    const [month, ...weekly] = (await reports.get([
      { since: iso(now - 30 * 86_400_000), until: iso(now), playbook: playbook.name },
      ...weeks.map((w) => ({ since: iso(w.since), until: iso(w.until), playbook: playbook.name })),
    ])) as [Report, ...Report[]];
    const [last, text] = await Promise.all([deps.store.listRuns({ playbook: playbook.name, limit: 10 }), deps.source(playbook)]);
    const content = playbookPage({
      playbook,
      figures: month.playbooks.find((p) => p.playbook === playbook.name) ?? null,
      window: 'last 30 days',
      buckets: weekly.map((r, i) => {
        const t = r.playbooks.find((p) => p.playbook === playbook.name)?.timeToResolve;
        return { label: i === 7 ? 'this wk' : `-${7 - i}w`, count: t?.count ?? 0, medianMs: t?.medianMs ?? null, p90Ms: t?.p90Ms ?? null };
      }),
      lastRuns: last.runs,
      source: text === null ? null : { text, current: createHash('sha256').update(text, 'utf8').digest('hex') === playbook.hash },
    });
    await renderPage(deps, res, { title: playbook.name, section: 'playbooks', content });
  });

  router.get('/console/guards', async (_req, res) => {
    await renderPage(deps, res, { title: 'Guards', section: 'guards', content: await guardsView(deps, res, memory) });
  });

  router.get('/console/audit', async (req, res) => {
    const now = deps.clock();
    const text = (name: string) => queryString(req, name)?.trim() || undefined;
    const before = cursorNumber(text('before'));
    const filters = { run: text('run'), playbook: text('playbook'), kind: text('kind'), since: text('since'), until: text('until') };
    const since = instant(filters.since, 'since', now);
    const until = instant(filters.until, 'until', now);
    const events = await deps.store.listEvents({
      limit: PAGE + 1,
      newestFirst: true,
      ...(filters.run ? { runId: filters.run } : {}),
      ...(filters.playbook ? { playbook: filters.playbook } : {}),
      ...(filters.kind ? { kind: filters.kind } : {}),
      ...(since ? { since } : {}),
      ...(until ? { until } : {}),
      ...(before !== undefined ? { beforeId: before } : {}),
    });
    const shown = events.slice(0, PAGE);
    const last = shown[shown.length - 1];
    const session = sessionOf(res);
    const content = auditPage({
      filters: { ...withoutEmpty(filters), ...(before ? { before: String(before) } : {}) },
      events: shown,
      next: events.length > PAGE && last ? String(last.id) : null,
      lastVerify: memory.lastVerify,
      csrf: session?.csrf ?? '',
    });
    await renderPage(deps, res, { title: 'Audit', section: 'audit', content });
  });
  return router;
}

/** The run page's view for the signed-in person (the actions router renders it again on a refusal). */
export function runView(deps: ConsoleDeps, res: Response, run: RunDetail) {
  const p = principalOf(res);
  const open = openRequest(run);
  const approver = hasRole(p, 'approve');
  const listed = open !== null && p !== null && mayDecide(open.approvers, { id: p.identity, via: 'console' }, deps.groups);
  return runPage({
    run,
    now: deps.clock(),
    csrf: sessionOf(res)?.csrf ?? '',
    mayDecide: approver && listed,
    notApprover: approver && open !== null && !listed ? `You may not decide this request: it asks ${open.approvers.join(', ')}.` : null,
    mayCancel: hasRole(p, 'operate'),
  });
}

/** The guards page's view (the actions router renders it again on a refusal). */
export async function guardsView(deps: ConsoleDeps, res: Response, memory: ConsoleMemory) {
  return guardsPage({
    status: await deps.switches.status(),
    windows: deps.windows(deps.clock()),
    lastReload: memory.lastReload,
    escalations: deps.escalations ? await deps.escalations.list({ limit: 50 }) : [],
    storms: await openStorms(deps),
    canOperate: hasRole(principalOf(res), 'operate'),
    canApprove: hasRole(principalOf(res), 'approve'),
    csrf: sessionOf(res)?.csrf ?? '',
  });
}

function runFilters(req: Request): RunFilters {
  const state = queryString(req, 'state') || undefined;
  if (state !== undefined && !RUN_STATES.includes(state as RunState)) throw new RemediatorError('bad_request', `state must be one of ${RUN_STATES.join(', ')}`);
  const mode = queryString(req, 'mode') || undefined;
  if (mode !== undefined && mode !== 'dry' && mode !== 'live') throw new RemediatorError('bad_request', 'mode must be dry or live');
  const q = queryString(req, 'q')?.trim().slice(0, 200) || undefined;
  return withoutEmpty({
    state: state as RunState | undefined,
    playbook: queryString(req, 'playbook') || undefined,
    mode,
    q,
    cursor: queryString(req, 'cursor') || undefined,
  });
}

function cursorNumber(text: string | undefined): number | undefined {
  if (text === undefined || text === '') return undefined;
  if (!/^\d{1,15}$/.test(text)) throw new RemediatorError('bad_request', 'before must be an event id from the "Older" link');
  return Number(text);
}

function withoutEmpty<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== '')) as T;
}

/**
 * The report's figures, kept a minute: they are computed from the database like `remediator
 * report`, which reads every run of the windows, too much to redo on every page load.
 */
class ReportCache {
  private readonly cache = new Map<string, { at: number; reports: Promise<Report[]> }>();

  constructor(private readonly deps: ConsoleDeps) {}

  get(windows: readonly ReportWindow[]): Promise<Report[]> {
    const now = this.deps.clock().getTime();
    // Windows ending "now" differ by milliseconds on every call: the key rounds to the minute.
    const round = (iso: string) => Math.floor(Date.parse(iso) / 60_000);
    const key = windows.map((w) => `${round(w.since)} ${round(w.until)} ${w.playbook ?? ''}`).join(',');
    const hit = this.cache.get(key);
    if (hit && now - hit.at < 60_000) return hit.reports;
    if (this.cache.size > 200) this.cache.clear();
    const reports = this.deps.reports(windows);
    reports.catch(() => this.cache.delete(key));
    this.cache.set(key, { at: now, reports });
    return reports;
  }
}

/** The open storm with its runs (at most one), for the guards page. */
async function openStorms(deps: ConsoleDeps): Promise<{ storm: StormRecord; runs: Run[] }[]> {
  const storms = deps.storms;
  if (!storms) return [];
  return Promise.all((await storms.list({ limit: 1 })).map((s) => storms.get(s.id)));
}
