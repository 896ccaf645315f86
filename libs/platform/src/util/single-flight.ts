/**
 * One run of a task at a time, shared: whoever asks while it runs gets that run's result (or
 * failure) instead of starting another. For work that is costly and whose answer says how far it
 * got, such as reading a whole log.
 */
export class SingleFlight<T> {
  private running?: Promise<T>;

  run(task: () => Promise<T>): Promise<T> {
    this.running ??= task().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }
}
