// DEV-ONLY fake of the knowledge-base commands, merged into the mock core (mock.ts).
// Search here is naive word matching: it exists to exercise the UI, not to rank well.
import type {
  ChatStats,
  KnowledgeGap,
  AppError,
  Facets,
  IncidentDetail,
  KbCheck,
  KbStats,
  RebuildProgress,
  RollbackProgress,
  SearchHit,
  SearchRequest,
  SearchResults,
  SnippetPart,
  VersionChange,
  VersionDetail,
  VersionSummary,
} from './types';

interface MockIncident {
  id: number;
  number: string;
  short_description: string;
  resolution: string;
  priority: string;
  category: string;
  state: string;
  integration_id: number;
  opened_at: string;
}

const TOPICS: [string, string, string][] = [
  ['VPN disconnects every few minutes', 'Updated the VPN client to 5.2 and disabled IPv6 on the adapter; stable since.', 'Network'],
  ['Outlook keeps asking for password', 'Cleared cached credentials in Credential Manager and re-created the mail profile.', 'Email'],
  ['Printer on floor 3 prints blank pages', 'Replaced the toner cartridge and reset the fuser; test page printed.', 'Hardware'],
  ['Cannot log in to SAP after password reset', 'Unlocked the SAP user in SU01 and synced the password from AD.', 'Software'],
  ['Laptop battery drains overnight', 'Disabled modern standby network connectivity in power settings.', 'Hardware'],
  ['Teams calls drop when screen sharing', 'Turned off GPU hardware acceleration in Teams settings.', 'Software'],
  ['Shared drive mapping missing after reboot', 'Re-applied the drive mapping GPO and ran gpupdate /force.', 'Network'],
  ['MFA prompt never arrives on phone', 'Re-registered the authenticator app and removed the stale device.', 'Security'],
];
const PRIORITIES = ['1 - Critical', '2 - High', '3 - Moderate', '4 - Low'];
const STATES = ['Resolved', 'Closed', 'In Progress'];

function seedIncidents(): MockIncident[] {
  const out: MockIncident[] = [];
  for (let i = 0; i < 40; i++) {
    const [title, resolution, category] = TOPICS[i % TOPICS.length];
    out.push({
      id: i + 1,
      number: `INC00${10001 + i}`,
      short_description: i < TOPICS.length ? title : `${title} (again)`,
      resolution,
      priority: PRIORITIES[i % 4],
      category,
      state: STATES[i % 3],
      integration_id: i % 5 === 4 ? 2 : 1,
      opened_at: new Date(Date.UTC(2026, 5 + (i % 5), 1 + i)).toISOString(),
    });
  }
  return out;
}

function seedVersions(): VersionSummary[] {
  const base = Date.UTC(2026, 9, 1);
  const rows: [number, number, number, string][] = [
    [24, 0, 0, 'Initial sync of ServiceNow Production'],
    [6, 3, 0, 'Incremental sync'],
    [0, 2, 0, 'Incremental sync'],
    [8, 1, 1, 'Full sync: removed 1 incident deleted at the source'],
    [2, 4, 0, 'Incremental sync'],
  ];
  let size = 0;
  return rows
    .map(([added, updated, deleted, notes], i): VersionSummary => {
      size += added - deleted;
      return {
        id: i + 1,
        created_at: new Date(base + i * 86_400_000 * 3).toISOString(),
        finished_at: new Date(base + i * 86_400_000 * 3 + 42_000).toISOString(),
        integration_id: 1,
        source: 'ServiceNow Production',
        kind: notes.startsWith('Full') ? 'full_sync' : 'sync',
        status: 'success',
        fetched: added + updated,
        added,
        updated,
        unchanged: 0,
        deleted,
        skipped: 0,
        notes,
        rollback_to: null,
        size_after: size,
      };
    })
    .reverse();
}

function fail(code: AppError['code'], message: string, fields?: Record<string, string>): never {
  const e: AppError = { code, message };
  if (fields) e.fields = fields;
  throw e;
}

function snippet(text: string, terms: string[]): SnippetPart[] {
  const parts: SnippetPart[] = [];
  for (const word of text.split(/(\s+)/)) {
    const hit = terms.some((t) => word.toLowerCase().replace(/[^a-z0-9]/g, '') === t);
    const last = parts[parts.length - 1];
    if (last && last.hit === hit) last.text += word;
    else parts.push({ text: word, hit });
  }
  return parts;
}

type Progress<T> = { onmessage: (m: T) => void } | undefined;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The knowledge-base handlers; `need` is the mock core's permission check. */
export function kbHandlers(need: (perm: 'integration.view' | 'integration.sync' | 'kb.rollback') => void, empty: boolean) {
  const incidents = empty ? [] : seedIncidents();
  const versions = empty ? [] : seedVersions();
  const integrationName = (id: number) => (id === 1 ? 'ServiceNow Production' : 'Jira Cloud');

  const stats = (): KbStats => ({
    incidents: incidents.length,
    vectors: incidents.length,
    versions: versions.length,
    by_integration: [1, 2].map((id) => ({
      integration_id: id,
      name: integrationName(id),
      configured: true,
      incidents: incidents.filter((i) => i.integration_id === id).length,
      vectors: incidents.filter((i) => i.integration_id === id).length,
      versions: id === 1 ? versions.length : 0,
    })),
    duplicates: 0,
    orphans: 0,
  });

  return {
    kb_stats: () => {
      need('integration.view');
      return stats();
    },
    kb_gaps: (): KnowledgeGap[] => {
      need('integration.view');
      return empty
        ? []
        : [
            { question: 'What is on the canteen menu today?', reason: 'declined', count: 3, last_asked: '2026-12-03T09:12:00Z', examples: ['canteen menu'], cited: [] },
            { question: 'outlook signature setup', reason: 'declined', count: 2, last_asked: '2026-12-02T15:40:00Z', examples: ['how do I add a signature in Outlook'], cited: [] },
            { question: 'printer says offline', reason: 'unhelpful', count: 1, last_asked: '2026-12-01T11:05:00Z', examples: [], cited: ['INC0010014'] },
          ];
    },
    chat_stats: (): ChatStats => {
      need('integration.view');
      return empty
        ? { sessions: 0, answered: 0, declined: 0, helpful: 0, unhelpful: 0, handed_off: 0, deflection_rate: null }
        : { sessions: 9, answered: 14, declined: 5, helpful: 6, unhelpful: 1, handed_off: 2, deflection_rate: 6 / 19 };
    },
    kb_facets: (): Facets => {
      need('integration.view');
      return {
        integrations: [
          { id: 1, name: integrationName(1) },
          { id: 2, name: integrationName(2) },
        ],
        priorities: PRIORITIES,
        categories: [...new Set(TOPICS.map((t) => t[2]))].sort(),
        states: STATES,
      };
    },
    kb_search: (a: Record<string, unknown>): SearchResults => {
      need('integration.view');
      const req = a.request as SearchRequest;
      const query = req.query.trim();
      if (!query) fail('validation', 'Type what you are looking for.', { query: 'Type what you are looking for.' });
      const f = req.filters ?? {};
      if (f.from && f.to && f.from > f.to) fail('validation', 'Invalid dates.', { to: 'The end date is before the start date.' });
      const terms = query.toLowerCase().split(/\W+/).filter((t) => t.length > 2);
      const hits: SearchHit[] = incidents
        .filter((i) => (f.integration_id ? i.integration_id === f.integration_id : true))
        .filter((i) => (f.priority ? i.priority === f.priority : true))
        .filter((i) => (f.category ? i.category === f.category : true))
        .filter((i) => (f.state ? i.state === f.state : true))
        .filter((i) => (f.from ? i.opened_at.slice(0, 10) >= f.from : true))
        .filter((i) => (f.to ? i.opened_at.slice(0, 10) <= f.to : true))
        .map((i) => {
          const text = `${i.short_description} ${i.resolution}`.toLowerCase();
          const score = terms.filter((t) => text.includes(t)).length / Math.max(1, terms.length);
          return { i, score };
        })
        .filter((x) => x.score > 0)
        .sort((x, y) => y.score - x.score || x.i.id - y.i.id)
        .slice(0, req.k ?? 10)
        .map(({ i, score }, rank) => ({
          incident_id: i.id,
          number: i.number,
          short_description: i.short_description,
          integration: integrationName(i.integration_id),
          integration_id: i.integration_id,
          priority: i.priority,
          category: i.category,
          state: i.state,
          opened_at: i.opened_at,
          resolved_at: i.state === 'In Progress' ? null : i.opened_at,
          link: `https://acme.service-now.com/nav_to.do?uri=incident.do?sys_id=${i.id}`,
          close_code: i.state === 'In Progress' ? null : 'Solved (Permanently)',
          score: 1 / (61 + rank) + 1 / (62 + rank),
          bm25_rank: rank + 1,
          vector_rank: rank + 2,
          similarity: 0.4 + score / 2,
          relevance: 1 / (1 + Math.exp(-16.8 * (0.4 + score / 2 - 0.485))),
          snippet: snippet(i.state === 'In Progress' ? i.short_description : i.resolution, terms),
          snippet_source: i.state === 'In Progress' ? ('description' as const) : ('resolution' as const),
        }));
      return { hits, took_ms: 11.4, method: req.method ?? 'hybrid' };
    },
    kb_incident: (a: Record<string, unknown>): IncidentDetail => {
      need('integration.view');
      const i = incidents.find((x) => x.id === a.id) ?? fail('not_found', `There is no incident ${String(a.id)}.`);
      return {
        id: i.id,
        number: i.number,
        short_description: i.short_description,
        description: `${i.short_description}. Reported by a user; details as the source recorded them.`,
        state: i.state,
        priority: i.priority,
        category: i.category,
        subcategory: '',
        assigned_to: 'Beth Anglin',
        resolved_by: i.state === 'Resolved' || i.state === 'Closed' ? 'Beth Anglin' : null,
        resolution: i.resolution,
        close_code: null,
        caller: 'Abel Tuter',
        opened_at: i.opened_at,
        updated_at: i.opened_at,
        resolved_at: null,
        comments: [],
        integration_id: i.integration_id,
        integration: 'Demo ServiceNow (simulated)',
        version_id: 1,
        external_id: `sys-${i.id}`,
        link: `https://demo.service-now.com/incident.do?sys_id=sys-${i.id}`,
      };
    },
    kb_versions: (): VersionSummary[] => {
      need('integration.view');
      return versions;
    },
    kb_version: (a: Record<string, unknown>): VersionDetail => {
      need('integration.view');
      const v = versions.find((x) => x.id === a.id) ?? fail('not_found', `There is no version v${String(a.id)}.`);
      const changes: VersionChange[] = [];
      const pick = incidents.slice(0, v.added + v.updated + v.deleted);
      pick.forEach((i, n) => {
        const change = n < v.added ? 'added' : n < v.added + v.updated ? 'updated' : 'deleted';
        const record = { number: i.number, short_description: i.short_description, state: i.state, priority: i.priority };
        changes.push({
          incident_id: i.id,
          number: i.number,
          short_description: i.short_description,
          change,
          fields:
            change === 'updated'
              ? [
                  { field: 'state', before: 'In Progress', after: i.state },
                  { field: 'resolution', before: '', after: i.resolution },
                ]
              : [],
          before: change === 'added' ? null : { ...record, state: 'In Progress' },
          after: change === 'deleted' ? null : record,
        });
      });
      return { version: v, changes, changes_total: changes.length, offset: 0, skipped: [] };
    },
    kb_rollback: async (a: Record<string, unknown>): Promise<VersionSummary> => {
      need('kb.rollback');
      const target = versions.find((x) => x.id === a.target) ?? fail('not_found', `There is no version v${String(a.target)}.`);
      if (target.id === versions[0].id) fail('validation', `v${target.id} is already the current version: there is nothing to roll back.`);
      const progress = a.onProgress as Progress<RollbackProgress>;
      const total = 12;
      for (let done = 0; done <= total; done += 4) {
        progress?.onmessage({ phase: 'undo', done, total });
        await sleep(150);
      }
      progress?.onmessage({ phase: 'done', done: total, total });
      const current = versions[0];
      const v: VersionSummary = {
        ...current,
        id: current.id + 1,
        created_at: new Date().toISOString(),
        finished_at: new Date().toISOString(),
        kind: 'rollback',
        source: 'Knowledge base',
        integration_id: null,
        fetched: 0,
        added: Math.max(0, target.size_after - current.size_after),
        updated: 3,
        unchanged: 0,
        deleted: Math.max(0, current.size_after - target.size_after),
        notes: `Rollback to v${target.id}`,
        rollback_to: target.id,
        size_after: target.size_after,
      };
      versions.unshift(v);
      return v;
    },
    kb_check: (): KbCheck => {
      need('integration.view');
      return {
        ok: true,
        incidents: incidents.length,
        embedded: incidents.length,
        index_vectors: incidents.length,
        missing_from_index: 0,
        orphans_in_index: 0,
        fts_rows: incidents.length,
        sqlite_integrity: 'ok',
        problems: [],
      };
    },
    kb_rebuild: async (a: Record<string, unknown>) => {
      need('integration.sync');
      const progress = a.onProgress as Progress<RebuildProgress>;
      for (let done = 0; done <= incidents.length; done += 10) {
        progress?.onmessage({ done, total: incidents.length });
        await sleep(100);
      }
      return { vectors: incidents.length, reembedded: 0, took_ms: 480 };
    },
  };
}
