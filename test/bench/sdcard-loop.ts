/**
 * A small ext4 file system on a loop device, mounted like a Raspberry Pi's root
 * (noatime, default data=ordered journal), so that the bytes a state directory costs the
 * block device (file data, metadata and the journal's commits) can be read from
 * /sys/block/loopN/stat. Needs root and util-linux; `mountLoop` returns undefined otherwise.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

export interface LoopFs {
  mountpoint: string;
  device: string;
  /** Flushes the file system (syncfs) and returns the bytes written to the device so far. */
  writtenBytes(): number;
  unmount(): void;
}

export function mountLoop(image: string, mountpoint: string, sizeMiB = 64): LoopFs | undefined {
  if (process.getuid?.() !== 0) return undefined;
  let device: string | undefined;
  try {
    execFileSync('truncate', ['-s', `${sizeMiB}M`, image]);
    execFileSync('mkfs.ext4', ['-q', '-F', image], { stdio: 'ignore' });
    device = execFileSync('losetup', ['-f', '--show', image], { encoding: 'utf8' }).trim();
    mkdirSync(mountpoint, { recursive: true });
    execFileSync('mount', ['-o', 'noatime', device, mountpoint]);
  } catch {
    if (device) execFileSync('losetup', ['-d', device], { stdio: 'ignore' });
    return undefined;
  }
  const dev = device;
  const stat = `/sys/block/${path.basename(dev)}/stat`;
  return {
    mountpoint,
    device: dev,
    writtenBytes() {
      execFileSync('sync', ['-f', mountpoint]);
      // Field 7 of the block device stat file: sectors written (512 bytes each).
      return Number(readFileSync(stat, 'utf8').trim().split(/\s+/)[6]) * 512;
    },
    unmount() {
      try { execFileSync('umount', [mountpoint], { stdio: 'ignore' }); } catch { /* already gone */ }
      try { execFileSync('losetup', ['-d', dev], { stdio: 'ignore' }); } catch { /* already gone */ }
    },
  };
}
