//! `supportbot kb …`: the knowledge base from the command line.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::{Args as ClapArgs, Subcommand};
use supportbot_core::kb::{EvalQuery, SearchFilters, SearchHit, SearchRequest, SnippetPart};
use supportbot_core::{CoreError, CoreResult, ErrorCode};

use super::Context;

#[derive(Debug, Subcommand)]
pub enum KbCommand {
    /// Incidents, vectors and versions, in total and per integration.
    Stats,
    /// Search the knowledge base (hybrid BM25 + vector by default). `--json` prints the array
    /// of results.
    Search(SearchArgs),
    /// Recall@1/5/10 and MRR of BM25, vectors and hybrid on a labelled file:
    /// `[{"query": "…", "relevant": ["INC…"]}]`.
    Eval {
        /// The labelled queries (JSON).
        file: PathBuf,
    },
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

pub(crate) fn run(ctx: &Context, cmd: KbCommand) -> CoreResult<()> {
    let actor = ctx.actor()?;
    match cmd {
        KbCommand::Search(args) => search(ctx, &actor, args)?,
        KbCommand::Eval { file } => eval(ctx, &actor, &file)?,
        KbCommand::Stats => {
            let s = ctx.core.kb_stats(&actor)?;
            if ctx.out.is_json() {
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
    }
    Ok(())
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

fn eval(ctx: &Context, actor: &supportbot_core::Actor, file: &std::path::Path) -> CoreResult<()> {
    let text = std::fs::read_to_string(file).map_err(|e| {
        let code = if e.kind() == std::io::ErrorKind::NotFound {
            ErrorCode::NotFound
        } else {
            ErrorCode::Validation
        };
        CoreError::new(
            code,
            format!(
                "Cannot read {}: {e}. Give the path of a JSON file of labelled queries.",
                file.display()
            ),
        )
        .with_field("file", format!("Cannot read {}.", file.display()))
    })?;
    let queries: Vec<EvalQuery> = serde_json::from_str(&text).map_err(|e| {
        let message = format!(
            "{} is not a JSON array of {{\"query\": \"…\", \"relevant\": [\"INC…\"]}}: {e}.",
            file.display()
        );
        CoreError::new(ErrorCode::Validation, message.clone()).with_field("file", message)
    })?;
    let report = ctx.core.kb_eval(actor, &queries)?;
    if ctx.out.is_json() {
        ctx.out.json(&report);
        return Ok(());
    }
    println!("{} queries", report.queries);
    println!("method   recall@1  recall@5  recall@10    MRR");
    for (name, m) in [
        ("bm25", report.bm25),
        ("vector", report.vector),
        ("hybrid", report.hybrid),
    ] {
        println!(
            "{name:<8} {:>8.3}  {:>8.3}  {:>9.3}  {:>5.3}",
            m.recall_at_1, m.recall_at_5, m.recall_at_10, m.mrr
        );
    }
    Ok(())
}
