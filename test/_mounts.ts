/**
 * Whether tests may make mounts in a private mount namespace (`unshare -m`, root): a tiny tmpfs for a full disk,
 * a read-only bind mount for a read-only folder.
 *
 * ```ts
 * const skip = mountsUnavailable();   // false, or why not
 * ```
 */
import { spawnSync } from 'node:child_process';

/** Why mount tests cannot run here (false when they can). */
export function mountsUnavailable(): string | false {
  if (process.platform !== 'linux') return 'needs Linux mount namespaces';
  const r = spawnSync('unshare', ['-m', 'sh', '-c', 'mount -t tmpfs -o size=16k tmpfs /mnt'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return `unshare -m with mounts is not permitted here (${(r.stderr || r.error?.message || '').trim()}): run as root`;
  return false;
}
