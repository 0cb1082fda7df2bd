/** What the group filter needs of an executed rollout. */
export interface GroupedRollout {
  sample: { group: number };
  result: { outcome: string };
  score: number;
}

export interface GroupStats {
  groups: number;
  /** Groups with at least one pass and one non-pass: a pass/fail contrast. */
  contrast: number;
  /** Groups whose rewards are all equal (zero group-relative advantage); singletons included. */
  equal: number;
}

function byGroup<T extends GroupedRollout>(rollouts: readonly T[]): Map<number, T[]> {
  const groups = new Map<number, T[]>();
  for (const r of rollouts) {
    const list = groups.get(r.sample.group);
    if (list) list.push(r);
    else groups.set(r.sample.group, [r]);
  }
  return groups;
}

function hasContrast(members: readonly GroupedRollout[]): boolean {
  const passes = members.filter((m) => m.result.outcome === 'pass').length;
  return passes > 0 && passes < members.length;
}

function allEqual(members: readonly GroupedRollout[]): boolean {
  return members.every((m) => m.score === members[0]!.score);
}

export function groupStats(rollouts: readonly GroupedRollout[]): GroupStats {
  let contrast = 0;
  let equal = 0;
  const groups = byGroup(rollouts);
  for (const members of groups.values()) {
    if (hasContrast(members)) contrast++;
    if (allEqual(members)) equal++;
  }
  return { groups: groups.size, contrast, equal };
}

/**
 * The rollouts of the groups that can rank their samples: `equal` keeps groups whose rewards
 * differ; `contrast` keeps groups with both a pass and a non-pass (DAPO's dynamic-sampling filter).
 * A group of one sample is never kept (nothing to compare with).
 */
export function informativeGroups<T extends GroupedRollout>(
  rollouts: readonly T[],
  filter: 'equal' | 'contrast',
): T[] {
  const out: T[] = [];
  for (const members of byGroup(rollouts).values()) {
    if (members.length < 2) continue;
    const keep = filter === 'contrast' ? hasContrast(members) : !allEqual(members);
    if (keep) out.push(...members);
  }
  return out;
}
