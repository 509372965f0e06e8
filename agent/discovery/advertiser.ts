/**
 * Publishes our `_tonari._tcp` advert on one bound mDNS stack and watches it:
 * no 'up' within `upTimeoutMs` means another responder holds our name
 * (bonjour-service only console.logs a probe conflict), so we report it and
 * try again later; a change of local addresses re-announces (MD-6).
 */
import type { Clock, TimerHandle } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { MdnsStack, PublishedService } from './mdns-adapter.js';
import { encodeAdvertTxt, SERVICE_PROTOCOL, SERVICE_TYPE } from './txt.js';
import type { SelfAdvert } from './types.js';

export interface AdvertiserDeps {
  stack: MdnsStack;
  self: SelfAdvert & { host: string };
  clock: Clock;
  log: Logger;
  upTimeoutMs: number;
  republishAfterConflictMs: number;
  /** Current local addresses as one comparable string. */
  addressKey: () => string;
  onNameConflict: (instance: string) => void;
  onRepublish: (why: string) => void;
  /** Runs a callback, logging instead of throwing. */
  guard: (fn: () => void) => void;
}

export class Advertiser {
  private service: PublishedService | undefined;
  private up = false;
  private upTimer: TimerHandle | undefined;
  private republishTimer: TimerHandle | undefined;
  private addresses = '';
  private closed = false;

  constructor(private readonly deps: AdvertiserDeps) {}

  get published(): boolean {
    return this.service !== undefined;
  }

  publish(): void {
    if (this.closed) return;
    const { stack, self, clock, log, guard } = this.deps;
    this.addresses = this.deps.addressKey();
    this.up = false;
    const service = stack.publish({ name: self.peerId, type: SERVICE_TYPE, protocol: SERVICE_PROTOCOL, port: self.port, host: self.host, txt: encodeAdvertTxt(self) });
    this.service = service;
    let conflictDeclared = false;
    service.once('up', () => guard(() => {
      if (this.service !== service) return;
      this.up = true;
      this.upTimer?.cancel();
      if (conflictDeclared) {
        this.republishTimer?.cancel();
        log.info({ instance: self.peerId }, 'mdns_published_late');
      } else {
        log.info({ instance: self.peerId, port: self.port, host: self.host }, 'mdns_published');
      }
    }));
    this.upTimer?.cancel();
    this.upTimer = clock.setTimer(() => guard(() => {
      if (this.closed || this.service !== service || this.up) return;
      conflictDeclared = true;
      log.warn({ instance: self.peerId, retryInMs: this.deps.republishAfterConflictMs }, 'mdns_name_conflict');
      this.deps.onNameConflict(self.peerId);
      this.republishTimer = clock.setTimer(() => guard(() => this.republish('name_conflict')), this.deps.republishAfterConflictMs);
    }), this.deps.upTimeoutMs);
  }

  /** Re-announces if the local addresses changed since the last publish. */
  checkAddresses(): void {
    if (this.service && this.deps.addressKey() !== this.addresses) this.republish('addresses_changed');
  }

  /** Withdraws the advert (goodbye) and publishes it again with fresh records. */
  republish(why: string): void {
    if (this.closed) return;
    this.deps.onRepublish(why);
    this.deps.log.info({ why }, 'mdns_republish');
    this.cancelTimers();
    const old = this.service;
    this.service = undefined;
    try {
      old?.stop();
    } catch (err) {
      this.deps.log.debug({ err: err instanceof Error ? err.message : String(err) }, 'mdns_unpublish_failed');
    }
    this.publish();
  }

  /** Stops timers; the caller sends goodbyes through the stack. */
  close(): void {
    this.closed = true;
    this.cancelTimers();
  }

  private cancelTimers(): void {
    this.upTimer?.cancel();
    this.republishTimer?.cancel();
  }
}
