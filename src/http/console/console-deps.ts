import type { ApprovalService } from '../../approve/approval-service.js';
import type { Playbook } from '../../domain/playbook.js';
import type { ApprovalStore, AuditLog, RunStore, StoreLifecycle } from '../../domain/store.js';
import type { Escalations } from '../../guards/escalations.js';
import type { GuardSwitches } from '../../guards/guard-switches.js';
import type { Storms } from '../../guards/storms.js';
import type { Logger } from '../../observability/logger.js';
import type { PlaybookSet } from '../../playbook/playbook-set.js';
import type { ReloadResult } from '../../playbook/reload-playbooks.js';
import type { Report, ReportWindow } from '../../report/report.js';
import type { InboundAuth } from '../auth.js';
import type { Credentials } from '../credentials.js';
import type { ProxySettings } from './console-auth.js';
import type { WindowView } from './pages/guards-page.js';

/**
 * What the console reads and drives: the same read models (the store's role interfaces), the same
 * ApprovalService and GuardSwitches as the API, the same InboundAuth for people and roles.
 */
export interface ConsoleDeps {
  readonly store: RunStore & ApprovalStore & AuditLog & Pick<StoreLifecycle, 'ping'> & { readonly exclusive: boolean };
  readonly playbooks: PlaybookSet;
  readonly approvals: ApprovalService;
  readonly switches: GuardSwitches;
  /** Open escalations, cleared by a person (absent: not shown). */
  readonly escalations?: Escalations;
  /** The open storm, its held runs decided together (absent: not shown). */
  readonly storms?: Storms;
  readonly reload: () => Promise<ReloadResult>;
  /** Subscribes to every run change (RunChanges.watch): the live stream. */
  readonly watchRuns: (watcher: (runId: string) => void) => void;
  readonly auth: InboundAuth;
  /** The API tokens: people sign in with one. */
  readonly credentials: Credentials;
  /** approvals.groups, to say which held runs a person may decide. */
  readonly groups: Readonly<Record<string, readonly string[]>>;
  readonly proxy: ProxySettings | null;
  readonly session: { readonly idleMs: number; readonly maxMs: number };
  /** publicUrl: its origin is accepted on forms, and https there makes cookies Secure. */
  readonly publicUrl: string | null;
  /**
   * `remediator report`'s figures for windows of one playbook (or all), read from the database as
   * the command reads it (on SQLite in a worker thread, in one pass over the runs).
   */
  readonly reports: (windows: readonly ReportWindow[]) => Promise<Report[]>;
  /** The maintenance windows now: in force, and their next starts. */
  readonly windows: (now: Date) => readonly WindowView[];
  /** A playbook's file as it is now on disk, or null when it cannot be read. */
  readonly source: (playbook: Playbook) => Promise<string | null>;
  readonly clock: () => Date;
  readonly logger: Logger;
}
