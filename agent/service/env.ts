/**
 * What systemd tells a Type=notify service through its environment (sd_notify(3),
 * sd_watchdog_enabled(3)). Pure: reads a plain environment object.
 */

export interface ServiceEnvironment {
  /** NOTIFY_SOCKET: a socket path, or `@name` for the abstract namespace; undefined outside systemd. */
  notifySocket: string | undefined;
  /** The watchdog timeout (WATCHDOG_USEC) in ms when it applies to this process; undefined when off. */
  watchdogMs: number | undefined;
}

/**
 * Reads NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID. As sd_watchdog_enabled(3) does, the
 * watchdog applies only when WATCHDOG_USEC is a positive integer and WATCHDOG_PID, if set,
 * is this process (a child that inherited the variables must not ping for its parent).
 * Without NOTIFY_SOCKET nothing can be sent, so the watchdog is off too.
 */
export function serviceEnvironment(env: Readonly<Record<string, string | undefined>>, pid: number): ServiceEnvironment {
  const socket = env.NOTIFY_SOCKET;
  const notifySocket = socket !== undefined && socket.length > 0 && (socket.startsWith('/') || socket.startsWith('@')) ? socket : undefined;
  if (notifySocket === undefined) return { notifySocket, watchdogMs: undefined };
  const usecText = env.WATCHDOG_USEC ?? '';
  const usec = /^\d{1,15}$/.test(usecText) ? Number(usecText) : 0;
  const pidText = env.WATCHDOG_PID;
  const forUs = pidText === undefined || pidText === '' || Number(pidText) === pid;
  return { notifySocket, watchdogMs: usec > 0 && forUs ? Math.max(1, Math.round(usec / 1000)) : undefined };
}
