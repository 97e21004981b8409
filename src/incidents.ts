/**
 * Incidents: which reports belong to one episode, who waits for whom inside it, and which task
 * is most likely the culprit. Pure functions over plain report summaries; the store (store.ts)
 * supplies the rows and keeps the results. No SQL, no I/O.
 *
 * An incident is one episode on one host: reports of one or more khungtaskd passes close in time
 * in the same boot, including the same task reported again as its blocked time grows.
 */

/** A report is added to the newest incident of its host when it comes this close to it. */
export const INCIDENT_GAP_MS = 15 * 60 * 1000;
export const INCIDENT_GAP_UPTIME = 15 * 60;

export interface IncidentMember {
  id: number;
  task: string;
  pid: number;
  kind: string;
  blockedSeconds: number | null;
  signature: string;
  fingerprint: string;
  /** Best rule match of the report, if any. */
  rule: string | null;
  verdict: string | null;
  ruleKind: string | null;
  role: 'culprit' | 'victim' | null;
  /** Owner named by a 6.15+ blocker line. */
  ownerTask: string | null;
  ownerPid: number | null;
}

export interface WaitEdge {
  /** The waiting report. */
  waiter: number;
  /** The report of the task it waits for, when that task was reported too. */
  holder: number | null;
  holderTask: string | null;
  holderPid: number | null;
  /** How the log tells: a blocker line, or a rule that says the waiter is a victim. */
  how: 'blocker line' | 'victim rule';
  lock: string | null;
}

export interface IncidentAnalysis {
  root: IncidentMember;
  edges: WaitEdge[];
  /** Reports sharing a fingerprint: tasks blocked in the same place behind one cause. */
  groups: { fingerprint: string; signature: string; reports: number[] }[];
  tasks: number;
}

/**
 * Who waits for whom. Blocker lines give exact edges. A report whose best rule calls it a victim
 * (a /proc reader stuck on another process's mmap_sem) waits for the reports of the incident that
 * are not victims themselves: in the seed, ps and cat wait for java in do_exit.
 */
export function waitEdges(members: readonly IncidentMember[], locks: ReadonlyMap<number, string | null> = new Map()): WaitEdge[] {
  const edges: WaitEdge[] = [];
  const byPid = new Map<number, IncidentMember>();
  for (const m of members) byPid.set(m.pid, m);
  for (const m of members) {
    if (m.ownerPid !== null && m.ownerPid !== m.pid) {
      const holder = byPid.get(m.ownerPid) ?? null;
      edges.push({ waiter: m.id, holder: holder?.id ?? null, holderTask: m.ownerTask, holderPid: m.ownerPid, how: 'blocker line', lock: locks.get(m.id) ?? null });
    }
  }
  const culprits = members.filter((m) => m.role !== 'victim' && !edges.some((e) => e.waiter === m.id));
  for (const m of members) {
    if (m.role !== 'victim' || edges.some((e) => e.waiter === m.id)) continue;
    for (const c of culprits) {
      if (c.pid === m.pid) continue;
      edges.push({ waiter: m.id, holder: c.id, holderTask: c.task, holderPid: c.pid, how: 'victim rule', lock: null });
    }
  }
  return edges;
}

/** The task most likely at the root of the episode. */
export function rootOf(members: readonly IncidentMember[], edges: readonly WaitEdge[]): IncidentMember {
  const waiting = new Set(edges.filter((e) => e.holder !== null).map((e) => e.waiter));
  const held = new Set(edges.map((e) => e.holder).filter((h): h is number => h !== null));
  const score = (m: IncidentMember): number[] => [
    held.has(m.id) && !waiting.has(m.id) ? 1 : 0, // others wait for it and it waits for no reported task
    m.role === 'victim' || waiting.has(m.id) ? 0 : 1,
    m.ruleKind === 'kernel-bug' && m.verdict !== 'fixed' ? 1 : 0,
    m.rule !== null ? 1 : 0,
    m.blockedSeconds ?? 0, // blocked longest: the first to hang
  ];
  let best = members[0];
  let bestScore = score(best);
  for (const m of members.slice(1)) {
    const s = score(m);
    for (let i = 0; i < s.length; i++) {
      if (s[i] !== bestScore[i]) {
        if (s[i] > bestScore[i]) {
          best = m;
          bestScore = s;
        }
        break;
      }
    }
  }
  return best;
}

export function analyzeIncident(members: readonly IncidentMember[], locks?: ReadonlyMap<number, string | null>): IncidentAnalysis {
  const edges = waitEdges(members, locks);
  const root = rootOf(members, edges);
  const byFp = new Map<string, { fingerprint: string; signature: string; reports: number[] }>();
  for (const m of members) {
    const g = byFp.get(m.fingerprint) ?? { fingerprint: m.fingerprint, signature: m.signature, reports: [] };
    g.reports.push(m.id);
    byFp.set(m.fingerprint, g);
  }
  const tasks = new Set(members.map((m) => `${m.task}\0${m.pid}`)).size;
  return { root, edges, groups: [...byFp.values()].filter((g) => g.reports.length > 1), tasks };
}
