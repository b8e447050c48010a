/** Domain counters, exported through the Prometheus registry. */
import { Counter, type Registry } from 'prom-client';

export class WebhookMetrics {
  private readonly events: Counter<'provider' | 'outcome'>;
  private readonly rejects: Counter<'provider' | 'status'>;

  constructor(registry: Registry) {
    this.events = new Counter({ name: 'switchboard_webhook_events_total', help: 'Inbound events by provider and outcome (stored, duplicate, dropped_disabled, unrouted, malformed)', labelNames: ['provider', 'outcome'], registers: [registry] });
    this.rejects = new Counter({ name: 'switchboard_webhook_rejected_total', help: 'Webhook requests that failed verification', labelNames: ['provider', 'status'], registers: [registry] });
  }

  accepted(provider: string, stored: number, duplicates: number): void {
    if (stored) this.events.inc({ provider, outcome: 'stored' }, stored);
    if (duplicates) this.events.inc({ provider, outcome: 'duplicate' }, duplicates);
  }
  rejected(provider: string, status: number): void {
    this.rejects.inc({ provider, status: String(status) });
  }
  dropped(provider: string, n: number): void {
    if (n) this.events.inc({ provider, outcome: 'dropped_disabled' }, n);
  }
  unrouted(provider: string): void {
    this.events.inc({ provider, outcome: 'unrouted' });
  }
  malformed(provider: string): void {
    this.events.inc({ provider, outcome: 'malformed' });
  }
  handshake(provider: string, status: number): void {
    this.events.inc({ provider, outcome: status === 200 ? 'handshake_ok' : 'handshake_refused' });
  }
}
