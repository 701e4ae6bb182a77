import type { Playbook } from '../domain/playbook.js';
import { PlaybookIndex } from '../match/playbook-index.js';

/**
 * The active playbooks. Swapped as a whole, so a batch is matched against one consistent set even
 * when a reload happens meanwhile.
 */
export class PlaybookSet {
  private current: { index: PlaybookIndex; byName: Map<string, Playbook>; loadedAt: Date };

  constructor(playbooks: readonly Playbook[], loadedAt: Date) {
    this.current = PlaybookSet.build(playbooks, loadedAt);
  }

  private static build(playbooks: readonly Playbook[], loadedAt: Date) {
    return { index: new PlaybookIndex(playbooks), byName: new Map(playbooks.map((p) => [p.name, p])), loadedAt };
  }

  /** Replaces the whole set. */
  replace(playbooks: readonly Playbook[], loadedAt: Date): void {
    this.current = PlaybookSet.build(playbooks, loadedAt);
  }

  get index(): PlaybookIndex {
    return this.current.index;
  }

  get all(): readonly Playbook[] {
    return this.current.index.playbooks;
  }

  get loadedAt(): Date {
    return this.current.loadedAt;
  }

  byName(name: string): Playbook | undefined {
    return this.current.byName.get(name);
  }
}
