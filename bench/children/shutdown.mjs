// Shutdown: a process with a reporter on a warm connection, waiting for SIGTERM. It prints one line when
// ready; the orchestrator then sends the signal and times the exit. Usage: shutdown.mjs <gateway-url> <job>
import { DIST, emit } from './common.mjs';

const [url, job] = process.argv.slice(2);
const { startReporter } = await import(new URL('node.js', DIST).href);
const reporter = startReporter({
  target: { type: 'pushgateway', url },
  job,
  instance: 'procpush',
  intervalMs: 3_600_000,
});
const first = await reporter.flush();
if (!first.ok) throw first.error;
// Stands for the application's own work: a ref'd handle, so only the signal ends the process.
setInterval(() => {}, 1 << 30);
emit({ ready: true });
