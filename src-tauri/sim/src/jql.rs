//! The JQL subset a sync client needs: `project`, `key`, `status`, `issuetype`, `created`,
//! `updated`, `resolved` and `text`/`summary` (`~`) clauses joined by AND/OR, and ORDER BY
//! `updated`, `created`, `key` or `id`.
//!
//! Date literals follow Jira: epoch milliseconds, or `"yyyy/MM/dd HH:mm"` / `"yyyy-MM-dd"`
//! read in the searching account's zone and only to the minute, or relative `-5d`/`-3h`/`-30m`.

use time::{Duration, PrimitiveDateTime};

use crate::tz::{epoch_millis, now_utc, parse_sn, Zone};

/// A parsed JQL query: OR of AND-groups, and the order.
#[derive(Debug, Clone, PartialEq)]
pub struct Jql {
    pub groups: Vec<Vec<Clause>>,
    pub order: Vec<(OrderField, bool)>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Clause {
    /// Field, negated, accepted values (lower-cased).
    Text {
        field: TextField,
        negated: bool,
        values: Vec<String>,
    },
    /// Field, comparison, epoch milliseconds.
    Date {
        field: DateField,
        cmp: Cmp,
        millis: i64,
    },
    /// `key > SUP-10` style comparisons on the key's number within its project.
    Key {
        cmp: Cmp,
        project: String,
        number: u64,
    },
    /// `text ~ "vpn"`: words contained in summary/description/comments.
    Contains { field: TextField, needle: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextField {
    Project,
    Key,
    Status,
    IssueType,
    Summary,
    Text,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateField {
    Created,
    Updated,
    Resolved,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderField {
    Updated,
    Created,
    Key,
    Id,
}

/// Why a query was refused; the text is what Jira puts in `errorMessages`.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JqlError {
    #[error("Field '{0}' does not exist or you do not have permission to view it.")]
    UnknownField(String),
    #[error("Error in the JQL Query: {0}")]
    Syntax(String),
    #[error("Date value '{0}' for field '{1}' is invalid. Valid formats include: 'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period format e.g. '-5d', '4w 2d'.")]
    Date(String, String),
}

impl Cmp {
    pub fn test<T: PartialOrd>(self, left: T, right: T) -> bool {
        match self {
            Cmp::Eq => left == right,
            Cmp::Ne => left != right,
            Cmp::Gt => left > right,
            Cmp::Ge => left >= right,
            Cmp::Lt => left < right,
            Cmp::Le => left <= right,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Quoted(String),
    Op(&'static str),
    Comma,
    Open,
    Close,
}

fn tokenize(text: &str) -> Result<Vec<Token>, JqlError> {
    let mut tokens = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if c == '"' || c == '\'' {
            let end = chars[i + 1..]
                .iter()
                .position(|&d| d == c)
                .ok_or_else(|| JqlError::Syntax("The quoted string is not terminated.".into()))?;
            tokens.push(Token::Quoted(chars[i + 1..i + 1 + end].iter().collect()));
            i += end + 2;
            continue;
        }
        let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
        if let Some(op) = ["!=", ">=", "<=", "!~"].into_iter().find(|op| *op == two) {
            tokens.push(Token::Op(op));
            i += 2;
            continue;
        }
        match c {
            '=' => tokens.push(Token::Op("=")),
            '>' => tokens.push(Token::Op(">")),
            '<' => tokens.push(Token::Op("<")),
            '~' => tokens.push(Token::Op("~")),
            ',' => tokens.push(Token::Comma),
            '(' => tokens.push(Token::Open),
            ')' => tokens.push(Token::Close),
            _ => {
                let start = i;
                while i < chars.len()
                    && !chars[i].is_whitespace()
                    && !"=!<>~,()\"'".contains(chars[i])
                {
                    i += 1;
                }
                tokens.push(Token::Word(chars[start..i].iter().collect()));
                continue;
            }
        }
        i += 1;
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
    zone: Zone,
    now: PrimitiveDateTime,
}

impl Parser {
    fn peek_word(&self) -> Option<String> {
        match self.tokens.get(self.at) {
            Some(Token::Word(w)) => Some(w.to_ascii_lowercase()),
            _ => None,
        }
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.at).cloned();
        self.at += 1;
        token
    }

    fn value(&mut self) -> Result<String, JqlError> {
        match self.next() {
            Some(Token::Word(w) | Token::Quoted(w)) => Ok(w),
            other => Err(JqlError::Syntax(format!(
                "Expecting a value but got '{}'.",
                describe(other.as_ref())
            ))),
        }
    }

    fn values(&mut self) -> Result<Vec<String>, JqlError> {
        if self.tokens.get(self.at) != Some(&Token::Open) {
            return Ok(vec![self.value()?]);
        }
        self.at += 1;
        let mut values = vec![self.value()?];
        loop {
            match self.next() {
                Some(Token::Comma) => values.push(self.value()?),
                Some(Token::Close) => return Ok(values),
                other => {
                    return Err(JqlError::Syntax(format!(
                        "Expecting ',' or ')' but got '{}'.",
                        describe(other.as_ref())
                    )))
                }
            }
        }
    }

    fn clause(&mut self) -> Result<Clause, JqlError> {
        let field = match self.next() {
            Some(Token::Word(w) | Token::Quoted(w)) => w,
            Some(Token::Open) => {
                return Err(JqlError::Syntax(
                    "Parentheses are not supported by this simulator.".into(),
                ))
            }
            other => {
                return Err(JqlError::Syntax(format!(
                    "Expecting a field name but got '{}'.",
                    describe(other.as_ref())
                )))
            }
        };
        let lower = field.to_ascii_lowercase();
        let op = match self.next() {
            Some(Token::Op(op)) => op.to_owned(),
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("in") => "in".to_owned(),
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("not") => match self.next() {
                Some(Token::Word(w)) if w.eq_ignore_ascii_case("in") => "not in".to_owned(),
                other => {
                    return Err(JqlError::Syntax(format!(
                        "Expecting 'in' after 'not' but got '{}'.",
                        describe(other.as_ref())
                    )))
                }
            },
            other => {
                return Err(JqlError::Syntax(format!(
                    "Expecting operator but got '{}'.",
                    describe(other.as_ref())
                )))
            }
        };
        let date_field = match lower.as_str() {
            "created" | "createddate" => Some(DateField::Created),
            "updated" | "updateddate" => Some(DateField::Updated),
            "resolved" | "resolutiondate" => Some(DateField::Resolved),
            _ => None,
        };
        if let Some(date_field) = date_field {
            let cmp = cmp(&op).ok_or_else(|| {
                JqlError::Syntax(format!(
                    "The operator '{op}' is not supported by the '{field}' field."
                ))
            })?;
            let raw = self.value()?;
            let millis = self
                .date(&raw)
                .ok_or_else(|| JqlError::Date(raw.clone(), field.clone()))?;
            return Ok(Clause::Date {
                field: date_field,
                cmp,
                millis,
            });
        }
        let text_field = match lower.as_str() {
            "project" => TextField::Project,
            "key" | "issuekey" | "id" => TextField::Key,
            "status" => TextField::Status,
            "issuetype" | "type" => TextField::IssueType,
            "summary" => TextField::Summary,
            "text" => TextField::Text,
            _ => return Err(JqlError::UnknownField(field)),
        };
        match op.as_str() {
            "~" if matches!(text_field, TextField::Summary | TextField::Text) => {
                Ok(Clause::Contains {
                    field: text_field,
                    needle: self.value()?.to_lowercase(),
                })
            }
            ">" | ">=" | "<" | "<=" if text_field == TextField::Key => {
                let value = self.value()?;
                let (project, number) = split_key(&value).ok_or_else(|| {
                    JqlError::Syntax(format!("The issue key '{value}' is invalid."))
                })?;
                Ok(Clause::Key {
                    cmp: cmp(&op).unwrap_or(Cmp::Eq),
                    project,
                    number,
                })
            }
            "=" | "!=" | "in" | "not in"
                if !matches!(text_field, TextField::Summary | TextField::Text) =>
            {
                let values = self
                    .values()?
                    .into_iter()
                    .map(|v| v.to_lowercase())
                    .collect();
                Ok(Clause::Text {
                    field: text_field,
                    negated: op == "!=" || op == "not in",
                    values,
                })
            }
            _ => Err(JqlError::Syntax(format!(
                "The operator '{op}' is not supported by the '{field}' field."
            ))),
        }
    }

    /// A JQL date literal as epoch milliseconds.
    fn date(&self, raw: &str) -> Option<i64> {
        if let Ok(millis) = raw.parse::<i64>() {
            return Some(millis);
        }
        if let Some(rest) = raw.strip_prefix('-').or_else(|| raw.strip_prefix('+')) {
            let sign = if raw.starts_with('-') { -1 } else { 1 };
            let (number, unit) = rest.split_at(rest.len().checked_sub(1)?);
            let amount: i64 = number.parse().ok()?;
            let span = match unit {
                "m" => Duration::minutes(amount),
                "h" => Duration::hours(amount),
                "d" => Duration::days(amount),
                "w" => Duration::weeks(amount),
                _ => return None,
            };
            return Some(epoch_millis(self.now + span * sign));
        }
        let normalized = raw.replace('/', "-");
        let with_seconds = if normalized.len() == 16 {
            format!("{normalized}:00")
        } else {
            normalized
        };
        let local = parse_sn(&with_seconds)?;
        Some(epoch_millis(self.zone.to_utc(local)))
    }
}

fn describe(token: Option<&Token>) -> String {
    match token {
        None => "end of query".into(),
        Some(Token::Word(w) | Token::Quoted(w)) => w.clone(),
        Some(Token::Op(op)) => (*op).into(),
        Some(Token::Comma) => ",".into(),
        Some(Token::Open) => "(".into(),
        Some(Token::Close) => ")".into(),
    }
}

fn cmp(op: &str) -> Option<Cmp> {
    Some(match op {
        "=" => Cmp::Eq,
        "!=" => Cmp::Ne,
        ">" => Cmp::Gt,
        ">=" => Cmp::Ge,
        "<" => Cmp::Lt,
        "<=" => Cmp::Le,
        _ => return None,
    })
}

/// `SUP-12` to `("sup", 12)`.
pub fn split_key(key: &str) -> Option<(String, u64)> {
    let (project, number) = key.rsplit_once('-')?;
    Some((project.to_lowercase(), number.parse().ok()?))
}

/// Parses JQL for an account in `zone`.
pub fn parse(text: &str, zone: Zone) -> Result<Jql, JqlError> {
    let mut parser = Parser {
        tokens: tokenize(text)?,
        at: 0,
        zone,
        now: now_utc(),
    };
    let mut jql = Jql {
        groups: Vec::new(),
        order: Vec::new(),
    };
    let mut group = Vec::new();
    while parser.at < parser.tokens.len() {
        if parser.peek_word().as_deref() == Some("order") {
            parser.at += 1;
            if parser.peek_word().as_deref() != Some("by") {
                return Err(JqlError::Syntax("Expecting 'by' after 'order'.".into()));
            }
            parser.at += 1;
            loop {
                let field = parser.value()?;
                let field = match field.to_ascii_lowercase().as_str() {
                    "updated" | "updateddate" => OrderField::Updated,
                    "created" | "createddate" => OrderField::Created,
                    "key" | "issuekey" => OrderField::Key,
                    "id" => OrderField::Id,
                    _ => return Err(JqlError::UnknownField(field)),
                };
                let descending = match parser.peek_word().as_deref() {
                    Some("desc") => {
                        parser.at += 1;
                        true
                    }
                    Some("asc") => {
                        parser.at += 1;
                        false
                    }
                    _ => false,
                };
                jql.order.push((field, descending));
                match parser.tokens.get(parser.at) {
                    Some(Token::Comma) => parser.at += 1,
                    None => return finish(jql, group),
                    Some(other) => {
                        return Err(JqlError::Syntax(format!(
                            "Expecting ',' but got '{}'.",
                            describe(Some(other))
                        )))
                    }
                }
            }
        }
        group.push(parser.clause()?);
        match parser.peek_word().as_deref() {
            Some("and") => parser.at += 1,
            Some("or") => {
                parser.at += 1;
                jql.groups.push(std::mem::take(&mut group));
            }
            Some("order") | None => {}
            Some(other) => {
                return Err(JqlError::Syntax(format!(
                    "Expecting either 'OR' or 'AND' but got '{other}'."
                )))
            }
        }
    }
    finish(jql, group)
}

fn finish(mut jql: Jql, group: Vec<Clause>) -> Result<Jql, JqlError> {
    if !group.is_empty() {
        jql.groups.push(group);
    }
    Ok(jql)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ny(text: &str) -> Result<Jql, JqlError> {
        parse(text, Zone::named("America/New_York"))
    }

    #[test]
    fn dates_in_the_account_zone_and_epoch_millis_agree() {
        let local = ny("updated >= \"2024/01/31 13:05\"").unwrap();
        let epoch = ny("updated >= 1706724300000").unwrap();
        assert_eq!(local, epoch);
        let dashed = ny("updated >= '2024-01-31 13:05'").unwrap();
        assert_eq!(local, dashed);
    }

    #[test]
    fn structure_and_order() {
        let q = ny("project = SUP AND updated > -1d OR project in (OPS, \"SUP\") ORDER BY updated ASC, key DESC").unwrap();
        assert_eq!(q.groups.len(), 2);
        assert_eq!(q.groups[0].len(), 2);
        assert_eq!(
            q.order,
            vec![(OrderField::Updated, false), (OrderField::Key, true)]
        );
        assert!(ny("ORDER BY key").unwrap().groups.is_empty());
    }

    #[test]
    fn errors_use_jira_wording() {
        assert_eq!(
            ny("colour = red").unwrap_err().to_string(),
            "Field 'colour' does not exist or you do not have permission to view it."
        );
        assert!(matches!(ny("project SUP"), Err(JqlError::Syntax(_))));
        assert!(matches!(
            ny("updated >= yesterday"),
            Err(JqlError::Date(..))
        ));
        assert!(matches!(
            ny("project = SUP AND (status = Done)"),
            Err(JqlError::Syntax(_))
        ));
    }
}
