// A bridge CLI run by a bench as its own process, and the CPU time of it and of its children (from /proc).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const CLI = join(import.meta.dirname, '..', '..', 'packages', 'node-bridge', 'bin', 'framewire-bridge.js');
const TICKS_PER_S = 100; // USER_HZ on Linux

/** utime + stime of `pid`, in seconds (fields 14 and 15 of /proc/<pid>/stat); 0 once the process has ended. */
export function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_S;
  } catch {
    return 0; // the process ended (an idle encoder stopped)
  }
}

/** The child processes of `pid`, with their command names. */
export function childProcesses(pid) {
  return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
    .trim()
    .split(/\s+/)
    .filter(Boolean)
    .map((child) => ({ pid: Number(child), comm: readFileSync(`/proc/${child}/comm`, 'utf8').trim() }));
}

/** Starts the bridge CLI with `args` (which should include `--port 0`); resolves with its process and port. */
export async function startBridgeCli(args) {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the bridge did not start:\n${output}`)), 15_000);
    const onData = (chunk) => {
      output += chunk;
      const match = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`the bridge exited with ${code}:\n${output}`)));
  });
  return { child, port };
}
