/** Single-worker FIFO: jobs run strictly one after another, never overlapping. */
export class SerialQueue {
  private readonly waiting: Array<{ start: () => void; cancel: (err: Error) => void }> = [];
  private busy = false;

  run<T>(job: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.waiting.push({
        start: () => {
          job().then(resolve, reject).finally(() => {
            this.busy = false;
            this.pump();
          });
        },
        cancel: reject,
      });
      this.pump();
    });
  }

  /** Rejects every job that has not started yet. */
  cancelWaiting(err: Error): void {
    for (const entry of this.waiting.splice(0)) entry.cancel(err);
  }

  get length(): number {
    return this.waiting.length + (this.busy ? 1 : 0);
  }

  private pump(): void {
    if (this.busy) return;
    const next = this.waiting.shift();
    if (!next) return;
    this.busy = true;
    next.start();
  }
}
