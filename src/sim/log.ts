/**
 * The simulated kernel's log (dmesg) and event stream: every message the kernel would print on
 * the reset path, with the device name and virtual timestamp, plus structured events (resets,
 * hot-remove/add, open/close) that tests and views can follow.
 * @module
 */

export type KernelEvent =
  | {
      kind: 'log';
      level: 'info' | 'warn' | 'err';
      device: string | null;
      text: string;
      /** The driver dev_printk names the device by (`pcieport`, `vfio-pci`); absent: `pci`. */
      driver?: string;
    }
  | { kind: 'function-reset'; device: string; method: string; result: string }
  | { kind: 'bus-reset'; bridge: string; scope: string[]; result: string }
  | { kind: 'slot-reset'; slot: string; scope: string[]; result: string }
  | { kind: 'hot-remove'; device: string; reason: string }
  | { kind: 'hot-add'; device: string }
  | { kind: 'bind'; device: string; driver: string }
  | { kind: 'unbind'; device: string; driver: string };

export interface LoggedEvent {
  atMs: number;
  event: KernelEvent;
}

export class KernelLog {
  private readonly events: LoggedEvent[] = [];
  private readonly now: () => number;

  constructor(now: () => number) {
    this.now = now;
  }

  emit(event: KernelEvent): void {
    this.events.push({ atMs: this.now(), event });
  }

  /** dmesg-style line: `<device driver> <bdf>: text`, as pci_info/pci_warn print. */
  print(level: 'info' | 'warn' | 'err', device: string | null, text: string, driver?: string): void {
    this.emit({ kind: 'log', level, device, text, ...(driver ? { driver } : {}) });
  }

  all(): readonly LoggedEvent[] {
    return this.events;
  }

  since(index: number): LoggedEvent[] {
    return this.events.slice(index);
  }

  get length(): number {
    return this.events.length;
  }

  /** The log as `dmesg` prints it: `[   12.345678] pci 0000:01:00.0: text`. */
  dmesg(): string[] {
    return this.events.flatMap(({ atMs, event }) =>
      event.kind === 'log'
        ? [
            `[${(atMs / 1000).toFixed(6).padStart(12)}] ${event.device ? `${event.driver ?? 'pci'} ${event.device}: ` : ''}${event.text}`,
          ]
        : [],
    );
  }
}
