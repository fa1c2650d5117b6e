//! `supportbot kb …`: the knowledge base from the command line.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::{Args as ClapArgs, Subcommand};
use supportbot_core::kb::{
    RollbackPhase, SearchFilters, SearchHit, SearchRequest, SnippetPart, VersionSummary,
};
use supportbot_core::{CoreError, CoreResult, ErrorCode};

use super::output::terminal_safe;
use super::Context;

#[derive(Debug, Subcommand)]
pub enum KbCommand {
    /// Incidents, vectors and versions, in total and per integration.
    Stats,
    /// Search the knowledge base (hybrid BM25 + vector by default). `--json` prints the array
    /// of results.
    Search(SearchArgs),
    /// Recall@1/5/10 and MRR of BM25, vectors and hybrid, and the bot's answer and decline
    /// rates, on labelled files: `[{"query": "…", "relevant": ["INC…"]}]` (an entry without
    /// relevant incidents is an out-of-scope question the bot should decline).
    Eval {
        /// The labelled queries (JSON); several files are reported one after the other.
        #[arg(required = true)]
        file: Vec<PathBuf>,
    },
    /// Knowledge gaps: questions the bot declined and answers rated unhelpful, grouped by
    /// similar question, newest first (`question`, `reason`, `count`, `last_asked`).
    Gaps,
    /// Every version of the knowledge base (syncs and rollbacks), newest first.
    Versions,
    /// What one version added, changed (before → after) and removed.
    Show {
        /// The version: 12 or v12.
        #[arg(value_parser = parse_version)]
        version: i64,
        /// Changes to show.
        #[arg(long, value_name = "N", default_value_t = 100)]
        limit: u64,
        /// Changes to skip (paging).
        #[arg(long, value_name = "N", default_value_t = 0)]
        offset: u64,
    },
    /// Make contents and vectors exactly as of VERSION, recorded as a new version (admin only).
    Rollback {
        /// The version to go back to: 12 or v12.
        #[arg(value_parser = parse_version)]
        version: i64,
    },
    /// Every synced field of one incident: number, descriptions, state, priority, category,
    /// people, resolution, dates, its integration, the version that last changed it, the link.
    Incident {
        /// The incident number, e.g. INC0010001 (any case).
        number: String,
        /// The integration, when two hold the same number.
        #[arg(long, value_name = "NAME")]
        integration: Option<String>,
    },
    /// Verify that the vector index holds exactly the stored embeddings, and SQLite's integrity.
    Check,
    /// Rebuild the vector index from the local database (embedding what has no vector).
    Rebuild,
}

#[derive(Debug, ClapArgs)]
pub struct SearchArgs {
    /// What to look for: a symptom, an error message, an incident number.
    query: String,
    /// Number of results (1-100).
    #[arg(long, default_value_t = 10)]
    k: usize,
    /// hybrid, bm25 or vector.
    #[arg(long, default_value = "hybrid")]
    method: String,
    /// Only incidents of this integration (its name; a deleted integration's old name works).
    #[arg(long, value_name = "NAME")]
    integration: Option<String>,
    /// Only this priority, as stored (e.g. "1 - Critical").
    #[arg(long)]
    priority: Option<String>,
    /// Only this category (e.g. network).
    #[arg(long)]
    category: Option<String>,
    /// Only this state (e.g. Closed).
    #[arg(long)]
    state: Option<String>,
    /// Opened on or after this day (YYYY-MM-DD).
    #[arg(long, value_name = "YYYY-MM-DD")]
    from: Option<String>,
    /// Opened on or before this day (YYYY-MM-DD).
    #[arg(long, value_name = "YYYY-MM-DD")]
    to: Option<String>,
}

/// "12" or "v12".
fn parse_version(s: &str) -> Result<i64, String> {
    let digits = s.strip_prefix(['v', 'V']).unwrap_or(s);
    digits
        .parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("\"{s}\" is not a version: give its number, like 12 or v12 (see `supportbot kb versions`)"))
}

pub(crate) fn run(ctx: &Context, cmd: KbCommand) -> CoreResult<()> {
    let actor = ctx.actor()?;
    let json = ctx.out.is_json();
    match cmd {
        KbCommand::Search(args) => search(ctx, &actor, args)?,
        KbCommand::Eval { file } => super::kb_quality::eval(ctx, &actor, &file)?,
        KbCommand::Gaps => super::kb_quality::gaps(ctx, &actor)?,
        KbCommand::Stats => {
            let s = ctx.core.kb_stats(&actor)?;
            if json {
                ctx.out.json(&s);
                return Ok(());
            }
            println!(
                "{} incidents, {} vectors, {} versions",
                s.incidents, s.vectors, s.versions
            );
            for i in &s.by_integration {
                println!(
                    "  {:<32} {:>7} incidents {:>7} vectors {:>4} versions{}",
                    i.name,
                    i.incidents,
                    i.vectors,
                    i.versions,
                    if i.configured {
                        ""
                    } else {
                        "  (integration deleted)"
                    }
                );
            }
            if s.duplicates > 0 || s.orphans > 0 {
                println!(
                    "{} duplicates, {} orphans (the vector index is rebuilt from SQLite when it disagrees)",
                    s.duplicates, s.orphans
                );
            }
        }
        KbCommand::Versions => {
            let list = ctx.core.kb_versions(&actor)?;
            if json {
                ctx.out.json(&list);
                return Ok(());
            }
            if list.is_empty() {
                println!("No versions yet: sync an integration to create the first.");
                return Ok(());
            }
            println!(
                "{:>6}  {:<20}  {:<28}  {:<9}  {:<9}  {:>7} {:>7} {:>7}  {:>7}",
                "ID", "CREATED", "SOURCE", "KIND", "STATUS", "ADDED", "UPDATED", "DELETED", "SIZE"
            );
            for v in &list {
                print_version_row(v);
            }
        }
        KbCommand::Incident {
            number,
            integration,
        } => {
            let i = ctx
                .core
                .kb_incident(&actor, &number, integration.as_deref())?;
            if json {
                ctx.out.json(&i);
            } else {
                print_incident(&i);
            }
        }
        KbCommand::Show {
            version,
            limit,
            offset,
        } => {
            let d = ctx.core.kb_version(&actor, version, offset, limit)?;
            if json {
                ctx.out.json(&d);
                return Ok(());
            }
            let v = &d.version;
            println!(
                "v{} {} of {} at {} ({}): {} added, {} updated, {} deleted, {} unchanged, {} skipped; {} incidents after",
                v.id, v.kind, v.source, v.created_at, v.status, v.added, v.updated, v.deleted,
                v.unchanged, v.skipped, v.size_after
            );
            if let Some(counted) = v.source_total {
                println!(
                    "  the source counted {counted} for this sync; {} could not be read",
                    v.unread
                );
            }
            if !v.notes.is_empty() {
                println!("  {}", v.notes);
            }
            for c in &d.changes {
                let sign = match c.change.as_str() {
                    "added" => '+',
                    "deleted" => '-',
                    _ => '~',
                };
                println!(
                    "{sign} {:<8} {:<14} {}",
                    c.change, c.number, c.short_description
                );
                for f in &c.fields {
                    println!(
                        "      {}: {} → {}",
                        f.field,
                        shorten(f.before.as_deref()),
                        shorten(f.after.as_deref())
                    );
                }
            }
            let shown = d.offset + d.changes.len() as u64;
            if shown < d.changes_total {
                println!(
                    "… {} of {} changes shown; see more with --offset {shown}",
                    d.changes.len(),
                    d.changes_total
                );
            }
            for s in &d.skipped {
                println!(
                    "skipped {}: {}",
                    s.external_id.as_deref().unwrap_or("(no id)"),
                    s.reason
                );
            }
        }
        KbCommand::Rollback { version } => {
            let v = ctx.core.kb_rollback(&actor, version, |p| {
                // Progress goes to stderr, so stdout stays the result alone.
                let phase = match p.phase {
                    RollbackPhase::Undo => "restoring records",
                    RollbackPhase::Index => "updating the vector index",
                    RollbackPhase::Done => "done",
                };
                eprintln!("{phase}: {}/{}", p.done, p.total);
            })?;
            if json {
                ctx.out.json(&v);
                return Ok(());
            }
            println!(
                "v{}: {} ({} added, {} updated, {} deleted; {} incidents). Undo it with `supportbot kb rollback v{}`.",
                v.id,
                v.notes,
                v.added,
                v.updated,
                v.deleted,
                v.size_after,
                v.id - 1
            );
        }
        KbCommand::Check => {
            let c = ctx.core.kb_check(&actor)?;
            if json {
                ctx.out.json(&c);
            } else {
                println!(
                    "{} incidents, {} embedded, {} vectors in the index ({} missing, {} orphans); SQLite: {}{}",
                    c.incidents,
                    c.embedded,
                    c.index_vectors,
                    c.missing_from_index,
                    c.orphans_in_index,
                    c.sqlite_integrity,
                    c.fts_rows
                        .map(|n| format!("; {n} full-text rows"))
                        .unwrap_or_default()
                );
                for p in &c.problems {
                    println!("problem: {p}");
                }
                if c.ok {
                    println!("ok: the index and the database agree");
                }
            }
            if !c.ok {
                return Err(CoreError::new(
                    ErrorCode::IndexCorrupt,
                    format!("The knowledge base check found {} problem(s). Run `supportbot kb rebuild` to recreate the vector index from the local database.", c.problems.len()),
                ));
            }
        }
        KbCommand::Rebuild => {
            let r = ctx.core.kb_rebuild(&actor, |p| {
                eprintln!("rebuilding: {}/{}", p.done, p.total);
            })?;
            if json {
                ctx.out.json(&r);
            } else {
                println!(
                    "Rebuilt the vector index: {} vectors ({} re-embedded) in {:.0} ms",
                    r.vectors, r.reembedded, r.took_ms
                );
            }
        }
    }
    Ok(())
}

fn print_version_row(v: &VersionSummary) {
    let created: String = v.created_at.chars().take(19).collect();
    let source: String = if v.kind == "rollback" {
        format!(
            "rollback to v{} by {}",
            v.rollback_to.unwrap_or_default(),
            v.source
        )
    } else {
        v.source.clone()
    };
    println!(
        "{:>6}  {:<20}  {:<28}  {:<9}  {:<9}  {:>7} {:>7} {:>7}  {:>7}",
        format!("v{}", v.id),
        created,
        source.chars().take(28).collect::<String>(),
        v.kind,
        v.status,
        v.added,
        v.updated,
        v.deleted,
        v.size_after
    );
}

/// One line of a field's value: long texts are cut, absent shows as "—".
fn print_incident(i: &supportbot_core::kb::IncidentDetail) {
    let or_dash = |v: Option<&str>| terminal_safe(v.filter(|s| !s.is_empty()).unwrap_or("—"));
    println!(
        "{}  {}",
        terminal_safe(&i.number),
        terminal_safe(&i.short_description)
    );
    let rows = [
        ("State", or_dash(Some(&i.state))),
        ("Priority", or_dash(Some(&i.priority))),
        ("Category", or_dash(Some(&i.category))),
        ("Subcategory", or_dash(Some(&i.subcategory))),
        ("Assigned to", or_dash(i.assigned_to.as_deref())),
        ("Resolved by", or_dash(i.resolved_by.as_deref())),
        ("Close code", or_dash(i.close_code.as_deref())),
        ("Caller", or_dash(i.caller.as_deref())),
        ("Created", or_dash(i.opened_at.as_deref())),
        ("Updated", or_dash(Some(&i.updated_at))),
        ("Resolved", or_dash(i.resolved_at.as_deref())),
        ("Integration", or_dash(Some(&i.integration))),
        (
            "Version",
            format!("v{} (last added or changed it)", i.version_id),
        ),
        ("Source record", or_dash(Some(&i.link))),
    ];
    for (k, v) in rows {
        println!("  {k:<14}{v}");
    }
    println!(
        "\nDescription:\n  {}",
        or_dash(Some(&i.description)).replace('\n', "\n  ")
    );
    println!(
        "\nResolution notes:\n  {}",
        or_dash(Some(&i.resolution)).replace('\n', "\n  ")
    );
    if !i.comments.is_empty() {
        println!("\nComments and work notes:");
        for c in &i.comments {
            println!("  - {}", terminal_safe(c).replace('\n', "\n    "));
        }
    }
}

fn shorten(v: Option<&str>) -> String {
    const MAX: usize = 60;
    match v {
        None => "—".into(),
        Some(s) => {
            let line = s.replace('\n', " ");
            if line.chars().count() > MAX {
                format!("{}…", line.chars().take(MAX).collect::<String>())
            } else {
                line
            }
        }
    }
}

fn search(ctx: &Context, actor: &supportbot_core::Actor, args: SearchArgs) -> CoreResult<()> {
    let integration_id = match &args.integration {
        None => None,
        Some(name) => Some(integration_id(ctx, actor, name)?),
    };
    let request = SearchRequest {
        query: args.query,
        k: args.k,
        method: args.method,
        filters: SearchFilters {
            integration_id,
            priority: args.priority,
            category: args.category,
            state: args.state,
            from: args.from,
            to: args.to,
        },
    };
    let results = ctx.core.kb_search(actor, &request)?;
    if ctx.out.is_json() {
        ctx.out.json(&results.hits);
        return Ok(());
    }
    if results.hits.is_empty() {
        println!("No matching incidents ({} ms).", results.took_ms.round());
        return Ok(());
    }
    let bold = std::io::stdout().is_terminal();
    for (rank, hit) in results.hits.iter().enumerate() {
        print_hit(rank + 1, hit, bold);
    }
    println!(
        "{} results · {} · {:.0} ms",
        results.hits.len(),
        results.method,
        results.took_ms
    );
    Ok(())
}

/// The id of the integration called `name` among those with data in the knowledge base
/// (deleted ones keep their old name there), or a configured one.
fn integration_id(ctx: &Context, actor: &supportbot_core::Actor, name: &str) -> CoreResult<i64> {
    let facets = ctx.core.kb_facets(actor)?;
    if let Some(i) = facets
        .integrations
        .iter()
        .find(|i| i.name.eq_ignore_ascii_case(name.trim()))
    {
        return Ok(i.id);
    }
    ctx.core.integration_by_name(actor, name).map(|i| i.id)
}

fn print_hit(rank: usize, hit: &SearchHit, bold: bool) {
    println!(
        "{rank:>2}. {}  {:.4}  {}  [{}]",
        hit.number, hit.score, hit.short_description, hit.integration
    );
    let snippet = render_snippet(&hit.snippet, bold);
    if !snippet.is_empty() {
        println!("    {snippet}");
    }
    println!("    {}", hit.link);
}

/// Hits in bold on a terminal, else in [brackets].
fn render_snippet(parts: &[SnippetPart], bold: bool) -> String {
    parts
        .iter()
        .map(|p| match (p.hit, bold) {
            (false, _) => p.text.clone(),
            (true, true) => format!("\x1b[1m{}\x1b[0m", p.text),
            (true, false) => format!("[{}]", p.text),
        })
        .collect()
}
