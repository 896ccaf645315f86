/**
 * One run of a task at a time, and never a stale answer. A call while no run is going starts
 * one. A call while one is going waits for the next, which starts when that one ends and serves
 * every call made in the meantime: however many callers ask at once, at most one run goes and one
 * waits, and each caller's answer comes from a run that began after it asked. For costly work
 * whose answer must reflect the moment of the question, such as verifying a whole log.
 */
export class CoalescedRun<T> {
  private running?: Promise<T>;
  private next?: Promise<T>;

  run(task: () => Promise<T>): Promise<T> {
    if (this.next) return this.next;
    if (!this.running) return this.start(task);
    const settled = this.running.then(
      () => undefined,
      () => undefined,
    );
    this.next = settled.then(() => {
      this.next = undefined;
      return this.start(task);
    });
    return this.next;
  }

  private start(task: () => Promise<T>): Promise<T> {
    const run: Promise<T> = task().finally(() => {
      if (this.running === run) this.running = undefined;
    });
    this.running = run;
    return run;
  }
}
