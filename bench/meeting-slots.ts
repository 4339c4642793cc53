/**
 * Meetings (issue 16): slot computation for a round-robin page of 10 hosts with 2,000 busy intervals each
 * over a 60-day window (a window that crosses New York's March DST change), p99 of repeated runs; the
 * baseline is one host's page with the same rules and busy times, measured in the same run (interleaved).
 * Pure computation (src/features/meetings/domain/slots.ts through the feature's door): no database.
 */
import { pageSlots, type HostInput, type SlotRules } from '../src/features/meetings/index.js';
import type { BenchRow } from './report.js';

const MINUTE = 60_000;

/** Deterministic pseudo-random numbers (mulberry32), so every run computes the same page. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function host(i: number, now: number): HostInput {
  const rnd = random(1000 + i);
  const busy = [];
  for (let k = 0; k < 2000; k++) {
    const day = Math.floor(rnd() * 60);
    const start = now + day * 24 * 60 * MINUTE + Math.floor(rnd() * 24 * 4) * 15 * MINUTE;
    busy.push({ start, end: start + (15 + Math.floor(rnd() * 6) * 15) * MINUTE });
  }
  const hours = [{ start: '09:00', end: '12:30' }, { start: '13:30', end: '17:30' }];
  return { hostId: `host${i}`, availability: { timeZone: 'America/New_York', weekly: { '1': hours, '2': hours, '3': hours, '4': hours, '5': hours } }, busy };
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};
const round = (x: number) => Math.round(x * 100) / 100;

export async function benchMeetingSlots(): Promise<BenchRow[]> {
  const now = Date.parse('2027-02-20T14:00:00Z');
  const rules: SlotRules = { durationMin: 30, intervalMin: 15, bufferBeforeMin: 10, bufferAfterMin: 10, window: { kind: 'rolling', days: 60 }, maxPerDay: 6 };
  const hosts = Array.from({ length: 10 }, (_, i) => host(i, now));
  const load = Object.fromEntries(hosts.map((h, i) => [h.hostId, i % 3]));
  const many = () => pageSlots({ kind: 'round_robin', rules, hosts, now, preferredHostId: 'host3', loadByHost: load });
  const one = () => pageSlots({ kind: 'single', rules, hosts: [hosts[0]!], now });
  for (let i = 0; i < 20; i++) {
    many();
    one();
  }
  const tMany: number[] = [];
  const tOne: number[] = [];
  let slots = 0;
  for (let i = 0; i < 200; i++) {
    let t = performance.now();
    slots = many().length;
    tMany.push(performance.now() - t);
    t = performance.now();
    one();
    tOne.push(performance.now() - t);
  }
  const p99 = quantile(tMany, 0.99);
  const p99One = quantile(tOne, 0.99);
  return [
    {
      name: `meetings: slots of a round-robin page, p99 ms (10 hosts x 2,000 busy intervals, 60 days across a DST change, 30 min every 15, buffers, max 6 a day; ${slots} slots; 200 runs, p50 ${round(quantile(tMany, 0.5))} ms)`,
      figure: round(p99),
      baseline: round(p99One),
      baselineName: 'one host, same rules, p99 ms',
      ratio: round(p99 / p99One),
      goal: 'p99 < 50 ms',
      ok: p99 < 50,
    },
  ];
}
