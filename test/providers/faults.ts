// Queue of injected faults shared by the fake provider servers: each fault answers `times`
// requests (default 1, `Infinity` allowed), in the order injected.
export class FaultQueue<Fault extends { times?: number }> {
  #pending: Fault[] = [];

  inject(fault: Fault): void {
    this.#pending.push(fault);
  }

  take(): Fault | undefined {
    const fault = this.#pending[0];
    if (!fault) return undefined;
    const times = (fault.times ?? 1) - 1;
    if (times <= 0) this.#pending.shift();
    else this.#pending[0] = { ...fault, times };
    return fault;
  }

  clear(): void {
    this.#pending = [];
  }
}
