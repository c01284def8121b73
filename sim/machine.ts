/** Where and when the simulation ran, and how busy the machine was: the figures mean little without these. */
import { spawnSync } from 'node:child_process';
import { availableParallelism, cpus, loadavg, release, totalmem } from 'node:os';
import { binaryPath, type E2EBinary } from '../test/e2e/servers.js';

/** The machine and the software under test. */
export interface Machine {
  readonly cpu: string;
  readonly cores: number;
  readonly memory: string;
  readonly kernel: string;
  readonly node: string;
  readonly servers: Record<string, string>;
}

/** Describes this machine and the servers' versions. */
export function describeMachine(): Machine {
  // victoria-metrics prints nothing for -version in Debian's build: ask the package manager for all three.
  const version = (binary: E2EBinary): string => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own format syntax, not a template.
    const run = spawnSync('dpkg-query', ['-W', '-f=${Version}', binary], {
      encoding: 'utf8',
      timeout: 10_000,
    });
    return run.status === 0 && run.stdout
      ? `${binary} ${run.stdout.trim()} (Debian)`
      : `${binaryPath(binary)}`;
  };
  return {
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: availableParallelism(),
    memory: `${(totalmem() / 1024 ** 3).toFixed(1)} GiB`,
    kernel: `${process.platform} ${release()}`,
    node: process.version,
    servers: {
      pushgateway: version('prometheus-pushgateway'),
      prometheus: version('prometheus'),
      victoriametrics: version('victoria-metrics'),
    },
  };
}

/** The commit the build came from, and how many files under src/ differed from it (others' work in progress). */
export function describeBuild(): { commit: string; srcFilesChanged: number } {
  const git = (args: string[]): string =>
    spawnSync('git', args, { encoding: 'utf8', timeout: 10_000 }).stdout?.trim() ?? '';
  const changed = git(['status', '--porcelain', '--', 'src']);
  return {
    commit: git(['rev-parse', '--short', 'HEAD']) || 'unknown',
    srcFilesChanged: changed === '' ? 0 : changed.split('\n').length,
  };
}

/** The 1-, 5- and 15-minute load averages, as `uptime` prints them. */
export function loadAverage(): string {
  return loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');
}
