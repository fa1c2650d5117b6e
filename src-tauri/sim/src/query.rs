//! ServiceNow encoded queries (`sysparm_query`): parser and evaluator.
//!
//! Grammar: terms joined by `^` (AND); a term starting `OR` is an alternative to the previous
//! term; `NQ` starts a new query OR-ed with the previous ones; `ORDERBY`/`ORDERBYDESC` terms
//! order the result; `^^` is a literal caret. Like the real instance, a condition on a field the
//! table does not have is silently dropped (so the query returns *more* rows), and so is a term
//! whose operator is not understood. Comparisons are case-insensitive, as on the default
//! database collation; integers compare as numbers.

use std::borrow::Cow;
use std::cmp::Ordering;

use crate::tz::{format_sn, parse_sn, Zone};

/// A parsed encoded query.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Query {
    /// OR of `^NQ` groups; each group is an AND of terms; each term an OR of conditions.
    pub groups: Vec<Vec<Vec<Condition>>>,
    pub order: Vec<OrderBy>,
    /// Terms dropped because their field or operator is unknown (the real instance only logs).
    pub ignored: Vec<String>,
}

/// One `field OP value` condition.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub field: String,
    pub op: Op,
}

/// Supported operators.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    Eq(String),
    Ne(String),
    Gt(String),
    Ge(String),
    Lt(String),
    Le(String),
    Like(String),
    NotLike(String),
    StartsWith(String),
    EndsWith(String),
    In(Vec<String>),
    NotIn(Vec<String>),
    IsEmpty,
    IsNotEmpty,
    Anything,
    Between(String, String),
}

/// One `ORDERBY` term.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderBy {
    pub field: String,
    pub descending: bool,
}

/// What the parser needs to know about the table and the user.
pub struct Schema<'a> {
    /// Whether a (possibly dot-walked) field exists.
    pub has_field: &'a dyn Fn(&str) -> bool,
    /// Whether a field holds a date-time (its `gs.dateGenerate` values need converting).
    pub is_date: &'a dyn Fn(&str) -> bool,
    /// The requesting user's zone: `gs.dateGenerate` reads its arguments in it.
    pub zone: Zone,
}

/// Field access for evaluation.
pub trait Fields {
    /// The raw value of a (possibly dot-walked) field; `None` when absent.
    fn value(&self, field: &str) -> Option<Cow<'_, str>>;
}

/// Operators in matching order: longer spellings before their prefixes.
const OPERATORS: &[&str] = &[
    "!=",
    ">=",
    "<=",
    "=",
    ">",
    "<",
    "NOT LIKE",
    "NOTLIKE",
    "LIKE",
    "STARTSWITH",
    "ENDSWITH",
    "NOT IN",
    "NOTIN",
    "IN",
    "ISNOTEMPTY",
    "ISEMPTY",
    "ANYTHING",
    "BETWEEN",
];

impl Query {
    /// Parses an encoded query against a schema. Never fails: what is not understood is dropped.
    pub fn parse(encoded: &str, schema: &Schema<'_>) -> Query {
        let mut query = Query::default();
        let mut group: Vec<Vec<Condition>> = Vec::new();
        for term in split_terms(encoded) {
            let term = term.as_str();
            if term.is_empty() || term == "EQ" {
                continue;
            }
            if let Some(field) = term.strip_prefix("ORDERBYDESC") {
                push_order(&mut query, schema, field, true);
                continue;
            }
            if let Some(field) = term.strip_prefix("ORDERBY") {
                push_order(&mut query, schema, field, false);
                continue;
            }
            if term.starts_with("GROUPBY") {
                continue;
            }
            let (body, alternative) = if let Some(rest) = term.strip_prefix("NQ") {
                if !group.is_empty() {
                    query.groups.push(std::mem::take(&mut group));
                }
                (rest, false)
            } else if let Some(rest) = term.strip_prefix("OR") {
                (rest, true)
            } else {
                (term, false)
            };
            match parse_condition(body, schema) {
                Some(condition) => match group.last_mut() {
                    Some(last) if alternative => last.push(condition),
                    _ => group.push(vec![condition]),
                },
                None => query.ignored.push(term.to_owned()),
            }
        }
        if !group.is_empty() {
            query.groups.push(group);
        }
        query
    }

    /// Whether a row satisfies the query (an empty query matches everything).
    pub fn matches(&self, row: &dyn Fields) -> bool {
        self.groups.is_empty()
            || self.groups.iter().any(|group| {
                group
                    .iter()
                    .all(|alternatives| alternatives.iter().any(|c| c.matches(row)))
            })
    }

    /// Orders rows by the query's ORDERBY terms; ties keep their incoming order.
    pub fn sort<T>(&self, rows: &mut Vec<T>, fields: impl Fn(&T) -> &dyn Fields) {
        if self.order.is_empty() {
            return;
        }
        // Decorate-sort-undecorate: extracting keys once keeps 100k-row sorts fast.
        let mut keyed: Vec<(Vec<SortKey>, T)> = rows
            .drain(..)
            .map(|row| {
                let keys = self
                    .order
                    .iter()
                    .map(|o| SortKey::of(fields(&row).value(&o.field).as_deref()))
                    .collect();
                (keys, row)
            })
            .collect();
        keyed.sort_by(|(a, _), (b, _)| {
            for ((x, y), order) in a.iter().zip(b).zip(&self.order) {
                let ord = x.cmp(y);
                if ord != Ordering::Equal {
                    return if order.descending { ord.reverse() } else { ord };
                }
            }
            Ordering::Equal
        });
        rows.extend(keyed.into_iter().map(|(_, row)| row));
    }
}

fn push_order(query: &mut Query, schema: &Schema<'_>, field: &str, descending: bool) {
    let field = field.trim();
    if (schema.has_field)(field) {
        query.order.push(OrderBy {
            field: field.to_owned(),
            descending,
        });
    } else {
        query.ignored.push(format!("ORDERBY{field}"));
    }
}

/// Splits on `^`, treating `^^` as a literal caret.
fn split_terms(encoded: &str) -> Vec<String> {
    let mut terms = vec![String::new()];
    let mut chars = encoded.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '^' {
            if chars.peek() == Some(&'^') {
                chars.next();
                if let Some(term) = terms.last_mut() {
                    term.push('^');
                }
            } else {
                terms.push(String::new());
            }
        } else if let Some(term) = terms.last_mut() {
            term.push(c);
        }
    }
    terms
}

fn parse_condition(term: &str, schema: &Schema<'_>) -> Option<Condition> {
    let field_len = term
        .find(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.'))
        .unwrap_or(term.len());
    let (field, rest) = term.split_at(field_len);
    if field.is_empty() || !(schema.has_field)(field) {
        return None;
    }
    let operator = OPERATORS.iter().find(|op| rest.starts_with(**op))?;
    let raw = &rest[operator.len()..];
    let date = (schema.is_date)(field);
    let value = |v: &str| {
        if date {
            date_value(v, schema.zone)
        } else {
            v.to_owned()
        }
    };
    let list = |v: &str| v.split(',').map(|s| value(s.trim())).collect::<Vec<_>>();
    let op = match *operator {
        "=" => Op::Eq(value(raw)),
        "!=" => Op::Ne(value(raw)),
        ">" => Op::Gt(value(raw)),
        ">=" => Op::Ge(value(raw)),
        "<" => Op::Lt(value(raw)),
        "<=" => Op::Le(value(raw)),
        "LIKE" => Op::Like(raw.to_owned()),
        "NOT LIKE" | "NOTLIKE" => Op::NotLike(raw.to_owned()),
        "STARTSWITH" => Op::StartsWith(raw.to_owned()),
        "ENDSWITH" => Op::EndsWith(raw.to_owned()),
        "IN" => Op::In(list(raw)),
        "NOT IN" | "NOTIN" => Op::NotIn(list(raw)),
        "ISEMPTY" => Op::IsEmpty,
        "ISNOTEMPTY" => Op::IsNotEmpty,
        "ANYTHING" => Op::Anything,
        "BETWEEN" => {
            let (low, high) = raw.split_once('@')?;
            Op::Between(value(low), value(high))
        }
        _ => return None,
    };
    Some(Condition {
        field: field.to_owned(),
        op,
    })
}

/// Converts `javascript:gs.dateGenerate('2024-01-31','13:05:00')` (read in the user's zone) to
/// a raw UTC value; plain values are already raw UTC and pass through.
fn date_value(value: &str, zone: Zone) -> String {
    let Some(args) = value
        .strip_prefix("javascript:gs.dateGenerate(")
        .and_then(|rest| rest.strip_suffix(')'))
    else {
        return value.to_owned();
    };
    let parts: Vec<&str> = args
        .split(',')
        .map(|p| p.trim().trim_matches(|c| c == '\'' || c == '"'))
        .collect();
    let date = parts.first().copied().unwrap_or_default();
    let time = match parts.get(1).copied().unwrap_or("start") {
        "start" => "00:00:00",
        "end" => "23:59:59",
        other => other,
    };
    match parse_sn(&format!("{date} {time}")) {
        Some(local) => format_sn(zone.to_utc(local)),
        None => value.to_owned(),
    }
}

impl Condition {
    fn matches(&self, row: &dyn Fields) -> bool {
        let actual = row.value(&self.field);
        let actual = actual.as_deref().unwrap_or("");
        let lower = || actual.to_lowercase();
        match &self.op {
            Op::Eq(v) => compare(actual, v) == Some(Ordering::Equal),
            Op::Ne(v) => compare(actual, v) != Some(Ordering::Equal),
            Op::Gt(v) => !actual.is_empty() && compare(actual, v) == Some(Ordering::Greater),
            Op::Ge(v) => {
                !actual.is_empty()
                    && matches!(
                        compare(actual, v),
                        Some(Ordering::Greater | Ordering::Equal)
                    )
            }
            Op::Lt(v) => !actual.is_empty() && compare(actual, v) == Some(Ordering::Less),
            Op::Le(v) => {
                !actual.is_empty()
                    && matches!(compare(actual, v), Some(Ordering::Less | Ordering::Equal))
            }
            Op::Like(v) => lower().contains(&v.to_lowercase()),
            Op::NotLike(v) => !lower().contains(&v.to_lowercase()),
            Op::StartsWith(v) => lower().starts_with(&v.to_lowercase()),
            Op::EndsWith(v) => lower().ends_with(&v.to_lowercase()),
            Op::In(values) => values
                .iter()
                .any(|v| compare(actual, v) == Some(Ordering::Equal)),
            Op::NotIn(values) => !values
                .iter()
                .any(|v| compare(actual, v) == Some(Ordering::Equal)),
            Op::IsEmpty => actual.is_empty(),
            Op::IsNotEmpty => !actual.is_empty(),
            Op::Anything => true,
            Op::Between(low, high) => {
                !actual.is_empty()
                    && matches!(
                        compare(actual, low),
                        Some(Ordering::Greater | Ordering::Equal)
                    )
                    && matches!(
                        compare(actual, high),
                        Some(Ordering::Less | Ordering::Equal)
                    )
            }
        }
    }
}

/// Compares a stored value with a query value: as integers when both are, else as
/// case-insensitive text.
fn compare(actual: &str, wanted: &str) -> Option<Ordering> {
    if let (Ok(a), Ok(b)) = (actual.parse::<i64>(), wanted.parse::<i64>()) {
        return Some(a.cmp(&b));
    }
    Some(actual.to_lowercase().cmp(&wanted.to_lowercase()))
}

/// A pre-extracted ordering key: empty values first, then integers, then text.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum SortKey {
    Empty,
    Int(i64),
    Text(String),
}

impl SortKey {
    fn of(value: Option<&str>) -> SortKey {
        match value {
            None | Some("") => SortKey::Empty,
            Some(v) => v
                .parse()
                .map(SortKey::Int)
                .unwrap_or_else(|_| SortKey::Text(v.to_lowercase())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    struct Row(BTreeMap<&'static str, &'static str>);

    impl Fields for Row {
        fn value(&self, field: &str) -> Option<Cow<'_, str>> {
            self.0.get(field).map(|v| Cow::Borrowed(*v))
        }
    }

    fn row(pairs: &[(&'static str, &'static str)]) -> Row {
        Row(pairs.iter().copied().collect())
    }

    const FIELDS: &[&str] = &[
        "number",
        "priority",
        "state",
        "short_description",
        "sys_updated_on",
        "assigned_to",
        "category",
        "sys_id",
    ];

    fn parse(q: &str) -> Query {
        parse_in(q, Zone::named("GMT"))
    }

    fn parse_in(q: &str, zone: Zone) -> Query {
        let has = |f: &str| FIELDS.contains(&f);
        let date = |f: &str| f.ends_with("_on");
        Query::parse(
            q,
            &Schema {
                has_field: &has,
                is_date: &date,
                zone,
            },
        )
    }

    fn rows() -> Vec<Row> {
        vec![
            row(&[
                ("number", "INC1"),
                ("priority", "1"),
                ("state", "2"),
                ("short_description", "VPN drops"),
                ("sys_updated_on", "2024-01-01 10:00:00"),
                ("assigned_to", "abc"),
                ("category", "network"),
            ]),
            row(&[
                ("number", "INC2"),
                ("priority", "10"),
                ("state", "7"),
                ("short_description", "Printer jam"),
                ("sys_updated_on", "2024-01-01 10:00:00"),
                ("assigned_to", ""),
                ("category", "hardware"),
            ]),
            row(&[
                ("number", "INC3"),
                ("priority", "3"),
                ("state", "7"),
                ("short_description", "vpn slow"),
                ("sys_updated_on", "2024-02-01 00:00:00"),
                ("category", "network"),
            ]),
        ]
    }

    fn numbers(q: &str) -> Vec<&'static str> {
        let query = parse(q);
        let mut matched: Vec<Row> = rows().into_iter().filter(|r| query.matches(r)).collect();
        query.sort(&mut matched, |r| r as &dyn Fields);
        matched.iter().map(|r| r.0["number"]).collect()
    }

    #[test]
    fn operators_select_the_expected_rows() {
        let cases: &[(&str, &[&str])] = &[
            ("", &["INC1", "INC2", "INC3"]),
            ("state=7", &["INC2", "INC3"]),
            ("state!=7", &["INC1"]),
            ("priority>3", &["INC2"]),
            ("priority>=3", &["INC2", "INC3"]),
            ("priority<3", &["INC1"]),
            ("priority<=3", &["INC1", "INC3"]),
            ("short_descriptionLIKEvpn", &["INC1", "INC3"]),
            ("short_descriptionNOT LIKEvpn", &["INC2"]),
            ("short_descriptionSTARTSWITHprinter", &["INC2"]),
            ("short_descriptionENDSWITHslow", &["INC3"]),
            ("numberININC1,INC3", &["INC1", "INC3"]),
            ("numberNOT ININC1,INC3", &["INC2"]),
            ("assigned_toISEMPTY", &["INC2", "INC3"]),
            ("assigned_toISNOTEMPTY", &["INC1"]),
            ("sys_updated_on>2024-01-01 10:00:00", &["INC3"]),
            (
                "sys_updated_on>=2024-01-01 10:00:00",
                &["INC1", "INC2", "INC3"],
            ),
            (
                "sys_updated_onBETWEEN2024-01-01 00:00:00@2024-01-31 00:00:00",
                &["INC1", "INC2"],
            ),
            ("state=7^category=network", &["INC3"]),
            ("category=hardware^ORpriority=1", &["INC1", "INC2"]),
            ("category=hardware^ORpriority=1^state=2", &["INC1"]),
            ("state=2^NQcategory=hardware", &["INC1", "INC2"]),
            ("nosuchfield=1", &["INC1", "INC2", "INC3"]),
            ("state=7^nosuchfield=1", &["INC2", "INC3"]),
            ("stateWEIRDOP7", &["INC1", "INC2", "INC3"]),
        ];
        for (query, expected) in cases {
            let mut got = numbers(query);
            got.sort_unstable();
            assert_eq!(&got, expected, "query {query:?}");
        }
    }

    #[test]
    fn ordering_supports_several_keys_numbers_and_descending() {
        assert_eq!(numbers("ORDERBYpriority"), ["INC1", "INC3", "INC2"]);
        assert_eq!(numbers("ORDERBYDESCpriority"), ["INC2", "INC3", "INC1"]);
        assert_eq!(
            numbers("ORDERBYsys_updated_on^ORDERBYDESCnumber"),
            ["INC2", "INC1", "INC3"]
        );
        assert_eq!(
            numbers("ORDERBYcategory^ORDERBYDESCsys_updated_on"),
            ["INC2", "INC3", "INC1"]
        );
        assert_eq!(
            numbers("ORDERBYnosuchfield^ORDERBYnumber"),
            ["INC1", "INC2", "INC3"]
        );
    }

    #[test]
    fn structure_of_or_and_nq() {
        let q = parse("a=1^state=1^ORstate=2^NQpriority=1^ORDERBYnumber^EQ");
        assert_eq!(q.groups.len(), 2);
        assert_eq!(q.groups[0].len(), 1);
        assert_eq!(q.groups[0][0].len(), 2);
        assert_eq!(
            q.order,
            vec![OrderBy {
                field: "number".into(),
                descending: false
            }]
        );
        assert_eq!(q.ignored, vec!["a=1".to_owned()]);
    }

    #[test]
    fn caret_can_be_escaped() {
        let q = parse("short_description=a^^b");
        assert_eq!(q.groups[0][0][0].op, Op::Eq("a^b".into()));
    }

    #[test]
    fn date_generate_reads_the_users_zone() {
        let q = parse_in(
            "sys_updated_on>javascript:gs.dateGenerate('2024-07-01','08:00:00')",
            Zone::named("America/New_York"),
        );
        assert_eq!(q.groups[0][0][0].op, Op::Gt("2024-07-01 12:00:00".into()));
        let q = parse_in(
            "sys_updated_on>=javascript:gs.dateGenerate('2024-01-01','start')",
            Zone::named("GMT"),
        );
        assert_eq!(q.groups[0][0][0].op, Op::Ge("2024-01-01 00:00:00".into()));
    }
}
