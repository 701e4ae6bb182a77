import type { MessageRef, StormRecord } from './store-records.js';

/** A storm as people are shown it: the record, and what became of its runs. */
export interface StormView {
  readonly storm: StormRecord;
  /** Live runs waiting for a person. */
  readonly held: number;
  /** Every run created for its alerts (dry runs included: the evidence). */
  readonly runs: number;
  /** The storm in the API, when publicUrl is set. */
  readonly url: string | null;
  /** When the newest held run shown was created: a verdict from this view decides none created later. */
  readonly upTo: string | null;
}

/** The one chat message of a storm, posted when it opens and redrawn as it grows and ends (Slack). */
export interface StormMessages {
  post(view: StormView): Promise<MessageRef | null>;
  update(ref: MessageRef, view: StormView): Promise<void>;
}
