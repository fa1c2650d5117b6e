//! `supportbot kb eval` and `supportbot kb gaps`: how well the knowledge base answers, measured
//! on labelled questions and seen in what the bot could not answer.

use std::path::{Path, PathBuf};

use serde_json::json;
use supportbot_core::kb::{EvalQuery, EvalReport};
use supportbot_core::{Actor, CoreError, CoreResult, ErrorCode};

use super::output::terminal_safe;
use super::Context;

/// Reads the labelled files, then reports each (JSON: one report for one file, else
/// `{"sets": [{"file", …report}]}`).
pub(crate) fn eval(ctx: &Context, actor: &Actor, files: &[PathBuf]) -> CoreResult<()> {
    // Every file is read and parsed before the first is scored, so a typo in the second
    // does not surface after minutes of scoring.
    let sets = files
        .iter()
        .map(|f| read(f).map(|q| (f, q)))
        .collect::<CoreResult<Vec<_>>>()?;
    let mut reports = Vec::new();
    for (file, queries) in &sets {
        reports.push((file, ctx.core.kb_eval(actor, queries)?));
    }
    if ctx.out.is_json() {
        match reports.as_slice() {
            [(_, report)] => ctx.out.json(report),
            _ => ctx
                .out
                .json(&json!({"sets": reports.iter().map(|(file, report)| {
                let mut value = serde_json::to_value(report).unwrap_or_default();
                value["file"] = json!(file.display().to_string());
                value
            }).collect::<Vec<_>>()})),
        }
        return Ok(());
    }
    for (i, (file, report)) in reports.iter().enumerate() {
        if i > 0 {
            println!();
        }
        print_report(file, report);
    }
    Ok(())
}

fn read(file: &Path) -> CoreResult<Vec<EvalQuery>> {
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
    serde_json::from_str(&text).map_err(|e| {
        let message = format!(
            "{} is not a JSON array of {{\"query\": \"…\", \"relevant\": [\"INC…\"]}}: {e}.",
            file.display()
        );
        CoreError::new(ErrorCode::Validation, message.clone()).with_field("file", message)
    })
}

fn print_report(file: &Path, report: &EvalReport) {
    println!(
        "{}: {} in-scope queries, {} out of scope",
        file.display(),
        report.queries,
        report.out_of_scope
    );
    if report.queries > 0 {
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
    }
    let percent = |r: Option<f64>| r.map_or("-".to_owned(), |r| format!("{:.1} %", r * 100.0));
    let b = report.bot;
    println!(
        "bot: in scope answered with a relevant citation {}, in scope declined {}, out of scope declined {}",
        percent(b.answered_relevant),
        percent(b.in_scope_declined),
        percent(b.out_of_scope_declined)
    );
}

pub(crate) fn gaps(ctx: &Context, actor: &Actor) -> CoreResult<()> {
    let gaps = ctx.core.kb_gaps(actor)?;
    if ctx.out.is_json() {
        ctx.out.json(&gaps);
        return Ok(());
    }
    if gaps.is_empty() {
        println!("No knowledge gaps: the bot has not declined a question and no answer was rated unhelpful.");
        return Ok(());
    }
    for g in &gaps {
        println!(
            "{:>4}× {:<9} {}  {}",
            g.count,
            g.reason.as_str(),
            g.last_asked,
            terminal_safe(&g.question)
        );
        for e in &g.examples {
            println!("               also: {}", terminal_safe(e));
        }
    }
    Ok(())
}
