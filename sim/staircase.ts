/**
 * Gateways that already hold many groups: a gateway without the check is seeded up to each level (fast, no
 * processes), a batch of processes pushes to it, and then the same store is loaded into a gateway with default
 * flags through its persistence file (seeding a checked gateway directly would take hours: every push re-checks
 * all the groups before it) and a batch pushes there too.
 */
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startPushgateway } from '../test/e2e/servers.js';
import type { SimOptions } from './options.js';
import { type GatewayRun, measure, NO_CHECK, type SeedResult, seedGroups } from './pushgateway-phases.js';

/** Processes alive at once in a level's batch: fewer than in the growth runs, so a slow level ends soon. */
export const LEVEL_CONCURRENCY = 6;

/** One level: how it was seeded, and the batch of processes against each gateway. */
export interface Level {
  readonly target: number;
  readonly seed: SeedResult;
  readonly noCheck: GatewayRun;
  readonly check: GatewayRun;
}

/** Runs the levels in `opts.levels` until `deadline` (epoch ms), sharing the time out between them. */
export async function staircaseRuns(opts: SimOptions, deadline: number): Promise<Level[]> {
  const seedGw = await startPushgateway({ persistence: true, extraArgs: [NO_CHECK] });
  const checkGw = await startPushgateway({ persistence: true });
  const levels: Level[] = [];
  const concurrency = Math.min(opts.concurrency, LEVEL_CONCURRENCY);
  let seeded = 0;
  // Groups the no-check batches added: they stay in the seeded store and go on to the next levels.
  let extra = 0;
  try {
    for (const [i, target] of opts.levels.entries()) {
      // Higher levels are slower: each gets a share of what is left in proportion to the square root of its groups.
      const weights = opts.levels.slice(i).map((level) => Math.sqrt(Math.max(level, 1)));
      const share = weights[0]! / weights.reduce((a, b) => a + b, 0);
      const levelEnd = Date.now() + (deadline - Date.now()) * share;
      if (!seedGw.running) await seedGw.restart(); // reloads its persistence file
      const seed = await seedGroups(seedGw, seeded, target);
      seeded = Math.max(seeded, target);
      const noCheck = await measure(opts, seedGw, {
        label: `${NO_CHECK}, ${target} groups`,
        prefix: `l${target}-nocheck`,
        flags: [NO_CHECK],
        count: opts.preloadN,
        concurrency,
        deadline: Date.now() + (levelEnd - Date.now()) * 0.25,
        preloaded: seeded + extra,
      });
      extra += noCheck.children.reports.length;
      await seedGw.stop(); // writes the persistence file
      await checkGw.stop();
      await copyFile(join(seedGw.dir, 'pushgateway.data'), join(checkGw.dir, 'pushgateway.data'));
      await checkGw.restart();
      const check = await measure(opts, checkGw, {
        label: `default flags, ${target} groups`,
        prefix: `l${target}-check`,
        flags: [],
        count: opts.preloadN,
        concurrency,
        deadline: levelEnd,
        preloaded: seeded + extra,
      });
      levels.push({ target, seed, noCheck, check });
      if (Date.now() >= deadline) break;
    }
    return levels;
  } finally {
    await Promise.all([seedGw.dispose(), checkGw.dispose()]);
  }
}
