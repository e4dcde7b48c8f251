/**
 * Who trains a run: its process id plus a tag (host name and the process's start time), so that a run is not taken
 * for a live one's (or a dead one's) just because its pid was reused by another process after a crash or a reboot.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

export interface RunOwner {
  pid: number;
  /** `host/start`: the host name and the process's start time (clock ticks after boot, Linux); `host/` elsewhere. */
  tag: string;
}

/** A process's start time from /proc/<pid>/stat (field 22), or '' where there is no procfs or no such process. */
export function processStartTime(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: fields after it start past the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
  } catch {
    return '';
  }
}

export function currentOwner(): RunOwner {
  return { pid: process.pid, tag: `${hostname()}/${processStartTime(process.pid)}` };
}

/** Signal 0 checks that a process exists without touching it; EPERM means it exists but is not ours. */
export function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether the process recorded as a run's owner still runs. On another host it cannot be checked, so it counts as
 * alive (better to refuse a resume than to train one run twice); a pid alive with another start time was reused.
 * Rows written before owner tags existed have none: the pid alone decides.
 */
export function ownerIsAlive(pid: number | null, tag: string | null): boolean {
  if (pid === null) return false;
  if (tag === null) return pidExists(pid);
  const slash = tag.lastIndexOf('/');
  const [host, start] = [tag.slice(0, slash), tag.slice(slash + 1)];
  if (host !== hostname()) return true;
  if (!pidExists(pid)) return false;
  return start === '' || processStartTime(pid) === '' || processStartTime(pid) === start;
}

/** The owner in words, for a refusal: "process 4711" or "process 4711 on host lab-2". */
export function describeOwner(pid: number, tag: string | null): string {
  const host = tag === null ? hostname() : tag.slice(0, tag.lastIndexOf('/'));
  return host === hostname() ? `process ${pid}` : `process ${pid} on host ${host}`;
}
