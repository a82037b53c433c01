import { Coordinator, type Effect, type OpId, type Phase } from '../../src/core/coordinator.js';
import { majority } from '../../src/core/quorum.js';
import { shouldStore } from '../../src/core/replica.js';
import { INITIAL } from '../../src/core/tag.js';
import type { Addr, MemberId, RegisterItem, Versioned } from '../../src/core/types.js';

/** A message in flight between a coordinator and a replica. */
export type Message =
  | { kind: 'query'; coord: MemberId; replica: MemberId; opId: OpId; addr: Addr }
  | { kind: 'update'; coord: MemberId; replica: MemberId; opId: OpId; item: RegisterItem }
  | { kind: 'query-reply'; coord: MemberId; replica: MemberId; opId: OpId; stored: Versioned }
  | { kind: 'update-ack'; coord: MemberId; replica: MemberId; opId: OpId };

/**
 * A synchronous, fully controlled network of pure coordinators and in-memory replicas:
 * tests decide which message is delivered when, or dropped. No timers, no I/O.
 */
export class CoreNet {
  readonly replicas = new Map<MemberId, Map<Addr, Versioned>>();
  readonly coordinators = new Map<MemberId, Coordinator>();
  inFlight: Message[] = [];
  readonly outcomes = new Map<string, Effect>();
  private nextOp = 1;

  constructor(readonly members: readonly MemberId[]) {
    for (const m of members) {
      this.replicas.set(m, new Map());
      this.coordinators.set(m, new Coordinator({ self: m, writer: `${m}.1`, members, quorum: majority(members.length) }));
    }
  }

  read(coord: MemberId, addr: Addr): OpId {
    const opId = this.nextOp++;
    this.apply(coord, this.coordinators.get(coord)!.read(opId, addr));
    return opId;
  }

  write(coord: MemberId, addr: Addr, value: string): OpId {
    const opId = this.nextOp++;
    this.apply(coord, this.coordinators.get(coord)!.write(opId, addr, value));
    return opId;
  }

  deadline(coord: MemberId, opId: OpId): void {
    this.apply(coord, this.coordinators.get(coord)!.onDeadline(opId));
  }

  refuse(coord: MemberId, opId: OpId, phase: Phase, from: MemberId): void {
    this.apply(coord, this.coordinators.get(coord)!.onRefused(opId, phase, from, 'test refusal'));
  }

  /** The resolve/reject effect of an op, if it finished. */
  outcome(coord: MemberId, opId: OpId): Effect | undefined {
    return this.outcomes.get(`${coord}:${opId}`);
  }

  stored(replica: MemberId, addr: Addr): Versioned {
    return this.replicas.get(replica)!.get(addr) ?? INITIAL;
  }

  /** Delivers every message matching `filter` (and the answers they cause) until none is left. */
  deliverAll(filter: (m: Message) => boolean = () => true): void {
    for (let guard = 0; guard < 100_000; guard++) {
      const i = this.inFlight.findIndex(filter);
      if (i < 0) return;
      const [m] = this.inFlight.splice(i, 1);
      this.deliver(m!);
    }
    throw new Error('deliverAll did not converge');
  }

  /** Drops every in-flight message matching `filter`. */
  drop(filter: (m: Message) => boolean): void {
    this.inFlight = this.inFlight.filter((m) => !filter(m));
  }

  deliver(m: Message): void {
    const coord = this.coordinators.get(m.coord)!;
    switch (m.kind) {
      case 'query':
        this.inFlight.push({ kind: 'query-reply', coord: m.coord, replica: m.replica, opId: m.opId, stored: this.stored(m.replica, m.addr) });
        break;
      case 'update': {
        if (shouldStore(this.stored(m.replica, m.item.addr), m.item)) {
          this.replicas.get(m.replica)!.set(m.item.addr, { tag: m.item.tag, value: m.item.value });
        }
        this.inFlight.push({ kind: 'update-ack', coord: m.coord, replica: m.replica, opId: m.opId });
        break;
      }
      case 'query-reply':
        this.apply(m.coord, coord.onQueryReply(m.opId, m.replica, m.stored));
        break;
      case 'update-ack':
        this.apply(m.coord, coord.onUpdateAck(m.opId, m.replica));
        break;
    }
  }

  private apply(coord: MemberId, effects: readonly Effect[]): void {
    for (const e of effects) {
      if (e.type === 'send-query') for (const r of e.to) this.inFlight.push({ kind: 'query', coord, replica: r, opId: e.opId, addr: e.addr });
      if (e.type === 'send-update') for (const r of e.to) this.inFlight.push({ kind: 'update', coord, replica: r, opId: e.opId, item: e.item });
      if (e.type === 'resolve' || e.type === 'reject') this.outcomes.set(`${coord}:${e.opId}`, e);
    }
  }
}
