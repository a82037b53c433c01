import type { Configuration, Member } from './configuration.js';

/**
 * Which members hold address `addr` in configuration `c`: every member, today. This is the
 * one place that answers it (docs/membership.md "Placement"): quorums are majorities of
 * these members, and a later placement of each address on 3 of N members changes only this
 * function (and the state transfer, which then moves only addresses whose holders changed).
 */
export function replicasOf(c: Configuration, addr: number): readonly Member[] {
  void addr;
  return c.members;
}
