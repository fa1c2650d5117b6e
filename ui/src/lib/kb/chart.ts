import type { VersionSummary } from '$lib/ipc/types';

/** One version as the history chart draws it: x slot, size line point, change bars. */
export interface ChartPoint {
  id: number;
  x: number;
  sizeY: number;
  /** Bars grow up from the zero line (added, updated) or down (deleted). */
  addedH: number;
  updatedH: number;
  deletedH: number;
  version: VersionSummary;
}

export interface ChartLayout {
  width: number;
  sizeHeight: number;
  changeHeight: number;
  zeroY: number;
  slot: number;
  maxSize: number;
  maxUp: number;
  maxDown: number;
  points: ChartPoint[];
}

/**
 * Lays out the version history (given newest first, as the core returns it) oldest → newest:
 * a size line in the top band and per-version change bars in the bottom band, around a zero
 * line so deletions read as losses. Pure, so it is unit-tested.
 */
export function layoutChart(newestFirst: VersionSummary[], width = 720, sizeHeight = 120, changeHeight = 90): ChartLayout {
  const versions = [...newestFirst].reverse();
  const slot = versions.length > 0 ? width / versions.length : width;
  const maxSize = Math.max(1, ...versions.map((v) => v.size_after));
  const maxUp = Math.max(1, ...versions.map((v) => v.added + v.updated));
  const maxDown = Math.max(0, ...versions.map((v) => v.deleted));
  // The zero line splits the band in proportion to growth vs. loss (at least 20% for losses).
  const downShare = maxDown === 0 ? 0 : Math.max(0.2, maxDown / (maxUp + maxDown));
  const zeroY = sizeHeight + changeHeight * (1 - downShare);
  const upPx = zeroY - sizeHeight - 4;
  const downPx = sizeHeight + changeHeight - zeroY;
  const points = versions.map((v, i) => ({
    id: v.id,
    x: slot * i + slot / 2,
    sizeY: 8 + (sizeHeight - 16) * (1 - v.size_after / maxSize),
    addedH: (v.added / maxUp) * upPx,
    updatedH: (v.updated / maxUp) * upPx,
    deletedH: maxDown === 0 ? 0 : (v.deleted / maxDown) * downPx,
    version: v,
  }));
  return { width, sizeHeight, changeHeight, zeroY, slot, maxSize, maxUp, maxDown, points };
}
