/** The labels every one of `labels` has with the same value (after `current`, if given): the likely shared cause of a storm. Pure. */
export function commonLabels(current: Readonly<Record<string, string>> | null, labels: readonly Readonly<Record<string, string>>[]): Record<string, string> {
  let common: Record<string, string> | null = current === null ? null : { ...current };
  for (const l of labels) {
    if (common === null) {
      common = { ...l };
      continue;
    }
    for (const [k, v] of Object.entries(common)) if (l[k] !== v) delete common[k];
  }
  return common ?? {};
}
