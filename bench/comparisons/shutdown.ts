/**
 * 7. Shutdown: SIGTERM to a process whose reporter has a warm connection to the Pushgateway; the time from
 * kill() to the exit, and whether the final sample reached the gateway after the signal.
 */
import { spawn } from 'node:child_process';
import { pushgatewayGroups } from '../../test/e2e/servers.js';
import { CHILDREN_DIR, childEnv } from '../lib/child.js';
import { type BenchContext, type Measured, measure, skipped } from '../lib/context.js';
import { verdict } from '../lib/report.js';
import { median, sig } from '../lib/stats.js';

const ROW = {
  id: '7a',
  measure: 'Shutdown: SIGTERM to exit, final sample delivered',
  target: '< 50 ms',
} as const;

interface Round {
  ms: number;
  exit: string;
  delivered: boolean;
}

/** Starts the child, waits until it has pushed once, sends SIGTERM and times the exit. */
function oneShutdown(url: string, job: string): Promise<{ ms: number; exit: string; killedAt: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', `${CHILDREN_DIR}shutdown.mjs`, url, job], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: childEnv(),
    });
    let stderr = '';
    let killed: { at: number; wall: number } | undefined;
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      if (killed === undefined && chunk.includes('"ready"')) {
        // Let the child return to its idle event loop, as a process between pushes is.
        setTimeout(() => {
          killed = { at: performance.now(), wall: Date.now() };
          child.kill('SIGTERM');
        }, 100);
      }
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      const end = performance.now();
      clearTimeout(timer);
      if (killed === undefined) {
        reject(new Error(`shutdown.mjs ended before it was ready (code ${code})\n${stderr}`));
        return;
      }
      resolve({ ms: end - killed.at, exit: signal ?? `code ${code}`, killedAt: killed.wall });
    });
  });
}

export function shutdown(context: BenchContext) {
  return measure('7. Shutdown', context, async (): Promise<Measured> => {
    const gateway = context.pushgateway;
    if (!gateway) return skipped([ROW], context.serversMissing ?? 'no Pushgateway');
    const rounds = context.quick ? 5 : 10;
    const results: Round[] = [];
    for (let round = 0; round < rounds; round++) {
      const job = `bench-shutdown-${process.pid}-${round}`;
      const { ms, exit, killedAt } = await oneShutdown(gateway.url, job);
      const group = (await pushgatewayGroups(gateway.url)).find((g) => g.labels.job === job);
      // The gateway stamps each push on receipt, on this machine's clock.
      const delivered = group?.pushTimeSeconds !== undefined && group.pushTimeSeconds * 1000 >= killedAt;
      results.push({ ms, exit, delivered });
    }
    const p50 = median(results.map((r) => r.ms));
    const max = Math.max(...results.map((r) => r.ms));
    const delivered = results.filter((r) => r.delivered).length;
    const ok = p50 < 50 && delivered === rounds;
    return {
      rows: [
        {
          ...ROW,
          procpush: `${sig(p50)} ms median, ${sig(max)} ms max; ${delivered}/${rounds} delivered`,
          peer: '—',
          ratio: '—',
          verdict: verdict(ok),
          ...(ok ? {} : { why: shutdownMiss(p50, delivered, rounds) }),
        },
      ],
      details: [
        `${rounds} rounds. The child starts a reporter with the default shutdown hooks, pushes once (so the`,
        'connection is warm), idles 100 ms with a ref’d timer of its own, and gets SIGTERM. Timed from `kill()`',
        'to the parent’s `exit` event; "delivered" means the Pushgateway stamped the group’s last push after',
        'the signal was sent.',
        '',
        '| Round | kill → exit | ended by | final sample delivered |',
        '|---|---|---|---|',
        ...results.map(
          (r, i) => `| ${i + 1} | ${sig(r.ms)} ms | ${r.exit} | ${r.delivered ? 'yes' : 'NO'} |`,
        ),
      ],
    };
  });
}

function shutdownMiss(p50: number, delivered: number, rounds: number): string {
  return (
    `Median ${sig(p50)} ms from kill() to exit, ${delivered} of ${rounds} final samples delivered. The time is ` +
    'one sample, one push on the warm connection and the re-raised signal; a miss here means the push was ' +
    'slow (see 5a for push latency on this machine) or the final push did not arrive; the rounds table ' +
    'shows which.'
  );
}
