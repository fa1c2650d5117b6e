//! `kb stats`: what the knowledge base holds, in total and per integration, and whether the
//! vector index agrees with SQLite.

use serde::Serialize;

use crate::error::CoreResult;
use crate::{Actor, Core, Permission};

#[derive(Debug, Clone, Serialize)]
pub struct IntegrationStats {
    pub integration_id: i64,
    pub name: String,
    /// False when the integration was deleted: its synced data stays.
    pub configured: bool,
    pub incidents: u64,
    pub vectors: u64,
    pub versions: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct KbStats {
    pub incidents: u64,
    /// Vectors in the index (equal to the incidents with a stored embedding when healthy).
    pub vectors: u64,
    pub versions: u64,
    pub by_integration: Vec<IntegrationStats>,
    /// Incidents sharing (integration, number) with another: a source-side renumbering.
    pub duplicates: u64,
    /// Index vectors without an incident row, plus embedded incidents missing from the index.
    pub orphans: u64,
}

impl Core {
    pub fn kb_stats(&self, actor: &Actor) -> CoreResult<KbStats> {
        actor.require(Permission::IntegrationView)?;
        let conn = self.db().conn();
        let incidents: u64 = conn.query_row("SELECT COUNT(*) FROM incidents", [], |r| r.get(0))?;
        let versions: u64 = conn.query_row("SELECT COUNT(*) FROM versions", [], |r| r.get(0))?;
        let duplicates: u64 = conn.query_row(
            "SELECT COALESCE(SUM(n - 1), 0) FROM (SELECT COUNT(*) AS n FROM incidents GROUP BY integration_id, number HAVING n > 1)",
            [],
            |r| r.get(0),
        )?;
        let mut stmt = conn.prepare(
            "SELECT s.integration_id, COALESCE(i.name, s.source_name), i.id IS NOT NULL,
                    s.incidents, s.vectors,
                    (SELECT COUNT(*) FROM versions v WHERE v.integration_id = s.integration_id)
             FROM (SELECT integration_id, MAX(source_name) AS source_name, COUNT(*) AS incidents,
                          COUNT(embedding) AS vectors
                   FROM incidents GROUP BY integration_id
                   UNION ALL
                   SELECT id, name, 0, 0 FROM integrations
                   WHERE id NOT IN (SELECT integration_id FROM incidents)) s
             LEFT JOIN integrations i ON i.id = s.integration_id
             ORDER BY 2 COLLATE NOCASE",
        )?;
        let by_integration = stmt
            .query_map([], |r| {
                Ok(IntegrationStats {
                    integration_id: r.get(0)?,
                    name: r.get(1)?,
                    configured: r.get(2)?,
                    incidents: r.get(3)?,
                    vectors: r.get(4)?,
                    versions: r.get(5)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        drop(stmt);
        let embedded: Vec<i64> = {
            let mut s = conn.prepare("SELECT id FROM incidents WHERE embedding IS NOT NULL")?;
            let ids = s
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<i64>>>()?;
            ids
        };
        let index = self.knowledge_base().index(&conn)?;
        let (vectors, orphans) = match index.as_ref() {
            Some(ix) => {
                let missing = embedded
                    .iter()
                    .filter(|id| !ix.contains(**id as u64))
                    .count() as u64;
                let extra = (ix.len() as u64).saturating_sub(embedded.len() as u64 - missing);
                (ix.len() as u64, missing + extra)
            }
            None => (0, embedded.len() as u64),
        };
        Ok(KbStats {
            incidents,
            vectors,
            versions,
            by_integration,
            duplicates,
            orphans,
        })
    }
}
