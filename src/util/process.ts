/**
 * Whether a process with this pid exists on this host (signal 0). `EPERM` means it exists
 * but belongs to another user, so it counts as alive.
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
