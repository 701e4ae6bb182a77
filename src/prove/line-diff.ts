/** One line of a diff: kept, removed (only in the first list) or added (only in the second). */
export interface DiffLine {
  readonly op: ' ' | '-' | '+';
  readonly line: string;
}

/**
 * The shortest edit between two lists of lines (a longest common subsequence), in order: what a
 * plan diff shows. Plans are a handful of steps, so the quadratic table is nothing.
 */
export function diffLines(a: readonly string[], b: readonly string[]): DiffLine[] {
  const n = a.length;
  const m = b.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      const row = lcs[i] as number[];
      row[j] = a[i] === b[j] ? ((lcs[i + 1] as number[])[j + 1] as number) + 1 : Math.max((lcs[i + 1] as number[])[j] as number, row[j + 1] as number);
    }
  }
  const out: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      out.push({ op: ' ', line: a[i] as string });
      i++;
      j++;
    } else if (j < m && (i >= n || ((lcs[i] as number[])[j + 1] as number) >= ((lcs[i + 1] as number[])[j] as number))) {
      out.push({ op: '+', line: b[j] as string });
      j++;
    } else {
      out.push({ op: '-', line: a[i] as string });
      i++;
    }
  }
  // A changed line reads better as "- old" then "+ new".
  for (let k = 1; k < out.length; k++) {
    const prev = out[k - 1] as DiffLine;
    const cur = out[k] as DiffLine;
    if (prev.op === '+' && cur.op === '-') {
      out[k - 1] = cur;
      out[k] = prev;
      if (k > 1) k -= 2;
    }
  }
  return out;
}
