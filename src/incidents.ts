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

/** At most this many edges are listed for an incident (`edges_total` says how many there are). */
export const MAX_EDGES = 200;

export interface IncidentAnalysis {
  root: IncidentMember;
  /** The first MAX_EDGES edges. */
  edges: WaitEdge[];
  edgesTotal: number;
  tasks: number;
}

/** One member per task (task name and pid), the latest report of each: edges link tasks, not reports. */
export function perTask(members: readonly IncidentMember[]): IncidentMember[] {
  const byTask = new Map<string, IncidentMember>();
  for (const m of members) {
    const k = `${m.task}\0${m.pid}`;
    const had = byTask.get(k);
    if (!had || m.id > had.id) byTask.set(k, m);
  }
  return [...byTask.values()];
}

/**
 * Who waits for whom, among tasks (callers pass one member per task, see perTask). Blocker lines
 * give exact edges. A task whose best rule calls it a victim (a /proc reader stuck on another
 * process's mmap_sem) waits for the tasks of the incident that are not victims themselves: in the
 * seed, ps and cat wait for java in do_exit. That is victims x culprits edges, so they are counted
 * rather than listed beyond `cap`, and the root cause never needs the list (rootOf).
 */
function edgeSets(members: readonly IncidentMember[]) {
  const byPid = new Map<number, IncidentMember>();
  for (const m of members) byPid.set(m.pid, m);
  const blocked = new Map<number, IncidentMember | null>();
  for (const m of members) {
    if (m.ownerPid !== null && m.ownerPid !== m.pid) blocked.set(m.id, byPid.get(m.ownerPid) ?? null);
  }
  const culprits = members.filter((m) => m.role !== 'victim' && !blocked.has(m.id));
  const victims = members.filter((m) => m.role === 'victim' && !blocked.has(m.id));
  const count = (list: readonly IncidentMember[]): Map<number, number> => {
    const n = new Map<number, number>();
    for (const m of list) n.set(m.pid, (n.get(m.pid) ?? 0) + 1);
    return n;
  };
  return { blocked, culprits, victims, culpritPids: count(culprits), victimPids: count(victims) };
}

export function waitEdges(members: readonly IncidentMember[], locks: ReadonlyMap<number, string | null> = new Map(), cap = MAX_EDGES): { edges: WaitEdge[]; total: number } {
  const { blocked, culprits, victims, culpritPids } = edgeSets(members);
  const edges: WaitEdge[] = [];
  let total = 0;
  for (const m of members) {
    if (!blocked.has(m.id)) continue;
    const holder = blocked.get(m.id)!;
    total++;
    if (edges.length < cap) edges.push({ waiter: m.id, holder: holder?.id ?? null, holderTask: m.ownerTask, holderPid: m.ownerPid, how: 'blocker line', lock: locks.get(m.id) ?? null });
  }
  for (const m of victims) {
    total += culprits.length - (culpritPids.get(m.pid) ?? 0);
    for (const c of culprits) {
      if (edges.length >= cap) break;
      if (c.pid === m.pid) continue;
      edges.push({ waiter: m.id, holder: c.id, holderTask: c.task, holderPid: c.pid, how: 'victim rule', lock: null });
    }
  }
  return { edges, total };
}

/** The task most likely at the root of the episode; linear in the number of tasks. */
export function rootOf(members: readonly IncidentMember[]): IncidentMember {
  const { blocked, culprits, victims, culpritPids, victimPids } = edgeSets(members);
  const waiting = new Set<number>();
  const held = new Set<number>();
  for (const [waiter, holder] of blocked) {
    if (holder) {
      waiting.add(waiter);
      held.add(holder.id);
    }
  }
  // A culprit is waited for when some victim has another pid, and a victim waits when some culprit does.
  for (const c of culprits) if (victims.length - (victimPids.get(c.pid) ?? 0) > 0) held.add(c.id);
  for (const v of victims) if (culprits.length - (culpritPids.get(v.pid) ?? 0) > 0) waiting.add(v.id);
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

/** Root, edges (capped) and task count of an incident, from its reports or from one member per task. */
export function analyzeIncident(members: readonly IncidentMember[], locks?: ReadonlyMap<number, string | null>): IncidentAnalysis {
  const tasks = perTask(members);
  const { edges, total } = waitEdges(tasks, locks);
  return { root: rootOf(tasks), edges, edgesTotal: total, tasks: tasks.length };
}
