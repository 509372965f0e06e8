/**
 * What the demo launcher knows about its community, learnt from the agents' own
 * pino log lines: who is up, where each dashboard listens, which links are up
 * (the mesh is formed when every running household is linked to every other),
 * the contracts made (each logged by both parties, counted once) and settled,
 * errors, and which agents exited. Pure: the launcher feeds it lines and exits
 * and prints the events it returns.
 */

export interface MonitorMember {
  name: string;
  peerId: string;
}

export type DemoEvent =
  | { type: 'up'; household: string }
  | { type: 'dashboard'; household: string; url: string }
  /** A household's links changed: `connected` of its `of` neighbours are linked now. */
  | { type: 'linked'; household: string; peer: string; connected: number; of: number }
  | { type: 'unlinked'; household: string; peer: string; state: string; connected: number; of: number }
  /** Every running household is linked to every other (formed), or no longer. */
  | { type: 'mesh'; formed: boolean; households: number }
  | { type: 'contract'; id: string; slot: string; seller: string; buyer: string; energyWh: number; priceSenPerKWh: number }
  | { type: 'settled'; id: string; household: string; seller: string; buyer: string; status: string; deliveredWh: number | null }
  | { type: 'problem'; household: string; level: 'error' | 'fatal'; message: string }
  | { type: 'exited'; household: string; code: number | null; signal: string | null; expected: boolean };

export interface HouseholdTotals {
  name: string;
  up: boolean;
  running: boolean;
  dashboard: string | null;
  linked: number;
  contracts: number;
  soldWh: number;
  boughtWh: number;
  /** What it received for what it sold, in millisen (1 円 = 100 sen = 100 000 millisen). */
  receivedMillisen: number;
  paidMillisen: number;
  exit: { code: number | null; signal: string | null; expected: boolean } | null;
}

export interface CommunityTotals {
  households: HouseholdTotals[];
  contracts: number;
  energyWh: number;
  settled: number;
  meshFormed: boolean;
}

interface Contract {
  seller: string;
  buyer: string;
  sellerIndex: number | undefined;
  buyerIndex: number | undefined;
  energyWh: number;
  amountMillisen: number;
}

const PINO_LEVELS: Record<number, 'error' | 'fatal'> = { 50: 'error', 60: 'fatal' };

export class CommunityMonitor {
  private readonly byPeer = new Map<string, number>();
  private readonly state: { up: boolean; running: boolean; dashboard: string | null; links: Set<string>; exit: HouseholdTotals['exit'] }[];
  private readonly contracts = new Map<string, Contract>();
  private readonly settled = new Set<string>();
  private meshFormed = false;

  constructor(private readonly members: readonly MonitorMember[]) {
    members.forEach((m, i) => this.byPeer.set(m.peerId, i));
    this.state = members.map(() => ({ up: false, running: true, dashboard: null, links: new Set<string>(), exit: null }));
  }

  /** A peer id as a household name (or its first characters, for a stranger). */
  nameOf(peerId: unknown): string {
    const index = typeof peerId === 'string' ? this.byPeer.get(peerId) : undefined;
    return index === undefined ? String(peerId).slice(0, 12) : this.members[index]!.name;
  }

  /** One log line of household `index`, parsed from pino's JSON (anything else is ignored). */
  observe(index: number, line: Record<string, unknown>): DemoEvent[] {
    const me = this.state[index];
    if (!me) return [];
    const household = this.members[index]!.name;
    const events: DemoEvent[] = [];
    const msg = line.msg;
    if (msg === 'tonari running' && !me.up) {
      me.up = true;
      events.push({ type: 'up', household });
    } else if (msg === 'dashboard' && typeof line.url === 'string') {
      me.dashboard = line.url;
      events.push({ type: 'dashboard', household, url: line.url });
    } else if ((msg === 'neighbour linked' || msg === 'neighbour link state' || msg === 'neighbour link closed') && typeof line.peer === 'string') {
      const peer = line.peer;
      const connected = msg === 'neighbour linked' || line.state === 'connected';
      const had = me.links.has(peer);
      if (connected && !had) {
        me.links.add(peer);
        events.push({ type: 'linked', household, peer: this.nameOf(peer), connected: me.links.size, of: this.members.length - 1 });
      } else if (!connected && had) {
        me.links.delete(peer);
        const state = typeof line.state === 'string' ? line.state : 'closed';
        events.push({ type: 'unlinked', household, peer: this.nameOf(peer), state, connected: me.links.size, of: this.members.length - 1 });
      }
      events.push(...this.meshChange());
    } else if (msg === 'contract' && typeof line.contract === 'string' && !this.contracts.has(line.contract)) {
      const energyWh = Number(line.energyWh) || 0;
      const priceSenPerKWh = Number(line.priceSenPerKWh) || 0;
      this.contracts.set(line.contract, {
        seller: this.nameOf(line.seller), buyer: this.nameOf(line.buyer),
        sellerIndex: this.byPeer.get(String(line.seller)), buyerIndex: this.byPeer.get(String(line.buyer)),
        energyWh, amountMillisen: energyWh * priceSenPerKWh,
      });
      events.push({
        type: 'contract', id: line.contract, slot: String(line.slot), seller: this.nameOf(line.seller), buyer: this.nameOf(line.buyer), energyWh, priceSenPerKWh,
      });
    } else if ((msg === 'contract settled' || msg === 'contract disputed') && typeof line.contract === 'string' && !this.settled.has(line.contract)) {
      this.settled.add(line.contract);
      const deliveredWh = typeof line.deliveredWh === 'number' ? line.deliveredWh : null;
      const contract = this.contracts.get(line.contract);
      events.push({ type: 'settled', id: line.contract, household, seller: contract?.seller ?? '?', buyer: contract?.buyer ?? '?', status: String(line.status ?? (msg === 'contract disputed' ? 'disputed' : 'settled')), deliveredWh });
    }
    const level = typeof line.level === 'number' ? PINO_LEVELS[line.level] : undefined;
    if (level) events.push({ type: 'problem', household, level, message: typeof msg === 'string' ? msg + errSuffix(line) : JSON.stringify(line) });
    return events;
  }

  /** Household `index` exited; `expected` when the launcher had asked it to stop. */
  exited(index: number, code: number | null, signal: string | null, expected: boolean): DemoEvent[] {
    const me = this.state[index];
    if (!me || !me.running) return [];
    me.running = false;
    me.exit = { code, signal, expected };
    me.links.clear();
    const household = this.members[index]!.name;
    // Its neighbours will log their links to it going down; until then count them as gone.
    const peerId = this.members[index]!.peerId;
    for (const other of this.state) other.links.delete(peerId);
    return [{ type: 'exited', household, code, signal, expected }, ...(expected ? [] : this.meshChange())];
  }

  /** How many households run, and how many of those are up (logged 'tonari running'). */
  counts(): { running: number; up: number; total: number } {
    return {
      running: this.state.filter((s) => s.running).length,
      up: this.state.filter((s) => s.running && s.up).length,
      total: this.state.length,
    };
  }

  get formed(): boolean {
    return this.meshFormed;
  }

  totals(): CommunityTotals {
    const households: HouseholdTotals[] = this.members.map((m, i) => {
      const s = this.state[i]!;
      return {
        name: m.name, up: s.up, running: s.running, dashboard: s.dashboard, linked: s.links.size, exit: s.exit,
        contracts: 0, soldWh: 0, boughtWh: 0, receivedMillisen: 0, paidMillisen: 0,
      };
    });
    let energyWh = 0;
    for (const c of this.contracts.values()) {
      energyWh += c.energyWh;
      const seller = c.sellerIndex === undefined ? undefined : households[c.sellerIndex];
      const buyer = c.buyerIndex === undefined ? undefined : households[c.buyerIndex];
      if (seller) { seller.contracts++; seller.soldWh += c.energyWh; seller.receivedMillisen += c.amountMillisen; }
      if (buyer) { buyer.contracts++; buyer.boughtWh += c.energyWh; buyer.paidMillisen += c.amountMillisen; }
    }
    return { households, contracts: this.contracts.size, energyWh, settled: this.settled.size, meshFormed: this.meshFormed };
  }

  private meshChange(): DemoEvent[] {
    const running = this.state.map((s, i) => ({ s, peerId: this.members[i]!.peerId })).filter(({ s }) => s.running);
    const formed = running.length >= 2 && running.every(({ s, peerId }) => running.every((o) => o.peerId === peerId || s.links.has(o.peerId)));
    if (formed === this.meshFormed) return [];
    this.meshFormed = formed;
    return [{ type: 'mesh', formed, households: running.length }];
  }
}

function errSuffix(line: Record<string, unknown>): string {
  const err = line.err;
  if (typeof err === 'string') return `: ${err}`;
  if (err && typeof err === 'object' && typeof (err as { message?: unknown }).message === 'string') return `: ${(err as { message: string }).message}`;
  return '';
}
