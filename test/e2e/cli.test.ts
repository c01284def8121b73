import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { VERSION } from '../../src/version.js';
import {
  describeE2E,
  type E2EServer,
  freePort,
  type PushgatewayGroup,
  pushgatewayGroups,
  startPushgateway,
} from './servers.js';

// The built command, run as a user runs it, against the real Pushgateway. Every process is started here,
// stopped by its own handle, and every wait is bounded.

const exec = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = join(ROOT, 'dist/cli.js');
const ENTRYPOINT = join(ROOT, 'examples/container/entrypoint.sh');
const MIB = 1024 * 1024;

interface Finished {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
  /** Date.now() when the process exited. */
  exitedAtMs: number;
}

interface Started {
  child: ChildProcess;
  done: Promise<Finished>;
  /** Resolves once stdout contains `text`; bounded by the run's own timeout. */
  printed(text: string): Promise<void>;
}

/** Starts a process with piped stdio and a minimal environment; SIGKILLs it after `timeoutMs`. */
function start(
  file: string,
  args: readonly string[],
  opts: { env?: NodeJS.ProcessEnv; input?: Buffer; timeoutMs?: number } = {},
): Started {
  // Only PATH from the outside: no RESOURCE_ATTRIBUTION_* or proxy of the machine running the tests.
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C', ...opts.env };
  const child = spawn(file, args, { env, stdio: [opts.input ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
  if (opts.input) child.stdin?.end(opts.input);
  const stdout: Buffer[] = [];
  let stderr = '';
  const waiters = new Set<() => void>();
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout.push(chunk);
    for (const check of waiters) check();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 15_000);
  const done = new Promise<Finished>((resolve, reject) => {
    const finish = (status: number | null, signal: NodeJS.Signals | null, exitedAtMs: number) => {
      clearTimeout(timer);
      for (const check of waiters) check();
      resolve({ status, signal, stdout: Buffer.concat(stdout), stderr, exitedAtMs });
    };
    child.once('error', reject);
    child.once('exit', (status, signal) => {
      const exitedAtMs = Date.now();
      // Normally the pipes close right after; a leftover grandchild holding them must not hang the test.
      const drain = setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
        finish(status, signal, exitedAtMs);
      }, 2000);
      child.once('close', () => {
        clearTimeout(drain);
        finish(status, signal, exitedAtMs);
      });
    });
  });
  const printed = (text: string) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (Buffer.concat(stdout).includes(text)) {
          waiters.delete(check);
          resolve();
        } else if (child.exitCode !== null || child.signalCode !== null) {
          waiters.delete(check);
          reject(new Error(`Exited before printing ${JSON.stringify(text)}; stderr: ${stderr}`));
        }
      };
      waiters.add(check);
      check();
    });
  return { child, done, printed };
}

function procpush(args: readonly string[], opts: Parameters<typeof start>[2] = {}): Started {
  return start(process.execPath, [CLI, ...args], opts);
}

/** The job's only group on the gateway. */
async function groupOf(gw: E2EServer, job: string): Promise<PushgatewayGroup> {
  const groups = (await pushgatewayGroups(gw.url)).filter((group) => group.labels.job === job);
  expect(groups).toHaveLength(1);
  return groups[0] as PushgatewayGroup;
}

function gauge(group: PushgatewayGroup, name: string): number | undefined {
  return group.families[name]?.metrics[0]?.value;
}

let work: string;

beforeAll(async () => {
  // `npm test` builds first (pretest); a bare `vitest run` may find no dist/ yet.
  if (!existsSync(CLI)) await exec('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT });
  work = await mkdtemp(join(tmpdir(), 'procpush-cli-e2e-'));
});

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describeE2E('the procpush command with a real Pushgateway', ['prometheus-pushgateway'], () => {
  let gw: E2EServer;
  beforeAll(async () => {
    gw = await startPushgateway();
  });

  it("exits with the command's status and pushes the tree's peak memory, the final sample and the exit code", async () => {
    // bash is the command; node, its child, holds 150 MiB for 1.5 s, then bash exits 3.
    const allocate = `node -e "const b = Buffer.alloc(150 * 1024 * 1024, 1); setTimeout(() => b.length, 1500)"`;
    const run = procpush([
      '--pushgateway',
      gw.url,
      '--interval',
      '0.5',
      '--job',
      'cli-fails',
      '--',
      'bash',
      '-c',
      `${allocate}; exit 3`,
    ]);
    const result = await run.done;
    expect(result.stderr).toBe('');
    expect(result.status).toBe(3);

    const group = await groupOf(gw, 'cli-fails');
    expect(gauge(group, 'process_memory_peak_bytes')).toBeGreaterThanOrEqual(150 * MIB);
    expect(gauge(group, 'process_memory_bytes')).toBeGreaterThan(0);
    expect(gauge(group, 'process_cpu_percent')).toBeGreaterThanOrEqual(0);
    expect(gauge(group, 'procpush_job_exit_code')).toBe(3);
    expect(gauge(group, 'procpush_job_duration_seconds')).toBeGreaterThanOrEqual(1.5);
    expect(group.families.procpush_job_last_success_timestamp_seconds).toBeUndefined();
    // The exit code is only in the final sample, so that push came after the command ended.
    expect(group.families.procpush_job_exit_code?.pushedAt.getTime()).toBeLessThanOrEqual(result.exitedAtMs);
  });

  it('keeps the last success of an earlier run when a later run fails (POST); PUT replaces it', async () => {
    const args = (method: string[], script: string) => [
      '--pushgateway',
      gw.url,
      ...method,
      '--job',
      'cli-success-then-failure',
      '--',
      'sh',
      '-c',
      script,
    ];
    const before = Date.now() / 1000;
    expect((await procpush(args([], 'exit 0')).done).status).toBe(0);
    const succeeded = await groupOf(gw, 'cli-success-then-failure');
    const success = gauge(succeeded, 'procpush_job_last_success_timestamp_seconds') as number;
    expect(success).toBeGreaterThanOrEqual(Math.floor(before));
    expect(success).toBeLessThanOrEqual(Date.now() / 1000);
    expect(gauge(succeeded, 'procpush_job_exit_code')).toBe(0);

    expect((await procpush(args([], 'exit 5')).done).status).toBe(5);
    const failed = await groupOf(gw, 'cli-success-then-failure');
    expect(gauge(failed, 'procpush_job_exit_code')).toBe(5);
    expect(gauge(failed, 'procpush_job_last_success_timestamp_seconds')).toBe(success);

    expect((await procpush(args(['--pushgateway-method', 'PUT'], 'exit 6')).done).status).toBe(6);
    const replaced = await groupOf(gw, 'cli-success-then-failure');
    expect(gauge(replaced, 'procpush_job_exit_code')).toBe(6);
    expect(replaced.families.procpush_job_last_success_timestamp_seconds).toBeUndefined();
  });

  it.each([
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const)('passes %s on to the command and exits with its status %i', async (signal, status) => {
    const job = `cli-${signal.toLowerCase()}`;
    const marker = join(work, `${signal}.marker`);
    const trap = `trap 'echo ${signal} > "${marker}"; exit ${status}' ${signal.slice(3)}`;
    const run = procpush([
      '--pushgateway',
      gw.url,
      '--job',
      job,
      '--',
      'bash',
      '-c',
      `${trap}; echo ready; for i in $(seq 100); do sleep 0.1; done`,
    ]);
    await run.printed('ready');
    run.child.kill(signal);
    const result = await run.done;
    expect(result.signal).toBeNull();
    expect(result.status).toBe(status);
    expect(readFileSync(marker, 'utf8')).toBe(`${signal}\n`);
    expect(gauge(await groupOf(gw, job), 'procpush_job_exit_code')).toBe(status);
  });

  it('pushes the final sample of a command killed by SIGKILL, and exits 137', async () => {
    const run = procpush([
      '--pushgateway',
      gw.url,
      '--job',
      'cli-sigkill',
      '--',
      'bash',
      '-c',
      'kill -KILL $$',
    ]);
    const result = await run.done;
    expect(result.status).toBe(137);
    const group = await groupOf(gw, 'cli-sigkill');
    expect(gauge(group, 'procpush_job_exit_code')).toBe(137);
    expect(gauge(group, 'procpush_job_duration_seconds')).toBeGreaterThan(0);
  });

  it("passes the command's stdin and stdout through byte for byte, and prints metrics to stderr only", async () => {
    const binary = Buffer.from(Array.from({ length: 1 << 20 }, (_, i) => (i * 7 + (i >> 8)) & 0xff));
    const file = join(work, 'binary');
    writeFileSync(file, binary);
    // C programs (seq, cat) fail on EAGAIN, so this also shows procpush leaves the shared pipes blocking.
    const script = `seq 1 10000; cat "${file}"; printf '\\0\\377 end'; cat`;
    const input = Buffer.from('from stdin\n\0\xff');
    const direct = await start('bash', ['-c', script], { input }).done;
    const wrapped = await procpush(['--interval', '0.05', '--', 'bash', '-c', script], { input }).done;
    expect(direct.status).toBe(0);
    expect(wrapped.status).toBe(0);
    expect(direct.stdout.length).toBe(48_894 + binary.length + 6 + input.length);
    expect(wrapped.stdout.equals(direct.stdout)).toBe(true);
    expect(wrapped.stderr).toContain('procpush_job_exit_code{instance=');
  });

  it('exits within --final-timeout when the target port is closed', async () => {
    const port = await freePort();
    const ended = join(work, 'closed-port.ended');
    const run = procpush([
      '--pushgateway',
      `http://127.0.0.1:${port}`,
      '--interval',
      '0.2',
      '--final-timeout',
      '1',
      '--',
      'sh',
      '-c',
      `sleep 0.5; node -e 'require("fs").writeFileSync("${ended}", String(Date.now()))'; exit 4`,
    ]);
    const result = await run.done;
    expect(result.status).toBe(4);
    const afterEnd = result.exitedAtMs - Number(readFileSync(ended, 'utf8'));
    expect(afterEnd).toBeLessThan(1000 + 400);
    expect(result.stderr).toMatch(/^procpush: /m);
  });

  it('exits within --final-timeout when the target accepts connections and never answers', async () => {
    const sockets = new Set<Socket>();
    const server = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    try {
      const ended = join(work, 'silent.ended');
      const run = procpush([
        '--pushgateway',
        `http://127.0.0.1:${port}`,
        '--timeout',
        '10',
        '--final-timeout',
        '1',
        '--',
        'node',
        '-e',
        `require("fs").writeFileSync("${ended}", String(Date.now()))`,
      ]);
      const result = await run.done;
      expect(result.status).toBe(0);
      expect(result.exitedAtMs - Number(readFileSync(ended, 'utf8'))).toBeLessThan(1000 + 400);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('runs a job through the container entrypoint, configured by the environment, and passes SIGTERM', async () => {
    const prefix = join(work, 'global');
    const packed = await exec('npm', ['pack', '--pack-destination', work, '--json'], {
      cwd: ROOT,
      timeout: 30_000,
    });
    const [info] = JSON.parse(packed.stdout) as [{ filename: string }];
    const install = (mode: string) =>
      exec(
        'npm',
        ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', mode, join(work, info.filename)],
        {
          cwd: work,
          timeout: 45_000,
        },
      );
    // As `npm install -g procpush` in the Dockerfile; the dependencies come from the npm cache.
    await install('--offline').catch(() => install('--prefer-offline'));
    const env = {
      PATH: `${join(prefix, 'bin')}:${process.env.PATH}`,
      RESOURCE_ATTRIBUTION_PUSHGATEWAY_URL: gw.url,
      RESOURCE_ATTRIBUTION_JOB: 'cli-container',
      RESOURCE_ATTRIBUTION_UPDATE_INTERVAL_SECS: '0.5',
    };

    const job = await start(ENTRYPOINT, ['sh', '-c', 'echo working; exit 7'], { env }).done;
    expect(job.stdout.toString()).toBe('working\n');
    expect(job.status).toBe(7);
    expect(gauge(await groupOf(gw, 'cli-container'), 'procpush_job_exit_code')).toBe(7);

    // `docker stop`: SIGTERM to the entrypoint's process, which exec'd procpush.
    const marker = join(work, 'container.marker');
    const stopped = start(
      ENTRYPOINT,
      [
        'bash',
        '-c',
        `trap 'echo stopped > "${marker}"; exit 143' TERM; echo ready; for i in $(seq 100); do sleep 0.1; done`,
      ],
      { env },
    );
    await stopped.printed('ready');
    stopped.child.kill('SIGTERM');
    expect((await stopped.done).status).toBe(143);
    expect(readFileSync(marker, 'utf8')).toBe('stopped\n');
    expect(gauge(await groupOf(gw, 'cli-container'), 'procpush_job_exit_code')).toBe(143);
  }, 90_000);
});

it('prints the help with exit status 0 and the version', async () => {
  const help = await procpush(['--help']).done;
  expect(help.status).toBe(0);
  expect(help.stderr).toBe('');
  expect(help.stdout.toString()).toMatch(/^Usage: procpush \[options\] -- <command> \[args\.\.\.\]\n/);
  const version = await procpush(['--version']).done;
  expect(version.stdout.toString()).toBe(`${VERSION}\n`);
});

it.each([
  [['--bogus', '--', 'RUN'], {}, 'procpush: Unknown option --bogus; procpush --help lists the options'],
  [['--interval'], {}, 'procpush: Expected a value after --interval'],
  [['--label', 'job=x', 'RUN'], {}, 'procpush: Expected no "job" label in --label; set it with --job'],
  [[], {}, 'procpush: Expected a command to run: procpush [options] -- <command> [args...]'],
  [
    ['--', 'RUN'],
    { RESOURCE_ATTRIBUTION_PUSHGATEWAY_URL: 'localhost:9091' },
    'procpush: Expected RESOURCE_ATTRIBUTION_PUSHGATEWAY_URL to be an http(s) URL, got "localhost:9091"',
  ],
])('refuses %j with exit status 2 and one line on stderr, running nothing', async (args, env, line) => {
  const marker = join(work, 'must-not-run');
  const argv = args.flatMap((arg) => (arg === 'RUN' ? ['touch', marker] : [arg]));
  const result = await procpush(argv, { env }).done;
  expect(result.status).toBe(2);
  expect(result.stdout.length).toBe(0);
  expect(result.stderr).toBe(`${line}\n`);
  expect(existsSync(marker)).toBe(false);
});

it('exits 127 for a command that does not exist', async () => {
  const result = await procpush(['--', 'procpush-no-such-command']).done;
  expect(result.status).toBe(127);
  expect(result.stderr).toBe('procpush: command not found: procpush-no-such-command\n');
});
