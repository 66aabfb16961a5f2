//! Typed errors of every stage, each with the ADQL position where one
//! applies. The TAP layer maps them to DALI error documents and HTTP
//! statuses in one place.

use crate::parse::ParseError;

/// A position in the ADQL text (1-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    /// 1-based line (0 when unknown).
    pub line: u64,
    /// 1-based column (0 when unknown).
    pub column: u64,
}

impl Pos {
    /// From a sqlparser location.
    pub fn from_location(l: sqlparser::tokenizer::Location) -> Self {
        Pos {
            line: l.line,
            column: l.column,
        }
    }
    /// Whether the position is known.
    pub fn known(&self) -> bool {
        self.line > 0
    }
}

impl std::fmt::Display for Pos {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.known() {
            write!(f, "line {}, column {}", self.line, self.column)
        } else {
            write!(f, "an unknown position")
        }
    }
}

/// One problem found by the check stage.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// Where.
    pub pos: Pos,
    /// What, in words a user can act on.
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.pos.known() {
            write!(f, "{} (at {})", self.message, self.pos)
        } else {
            write!(f, "{}", self.message)
        }
    }
}

/// Everything that can go wrong between ADQL text and rows.
#[derive(Debug, thiserror::Error)]
pub enum AdqlError {
    /// The text is not ADQL.
    #[error(transparent)]
    Syntax(#[from] ParseError),
    /// Unknown tables or columns: all of them at once, with suggestions.
    #[error("{}", join(.0))]
    Unknown(Vec<Problem>),
    /// A query that parses but breaks ADQL's rules (types, arity,
    /// reserved words, geometry misuse).
    #[error("{}", join(.0))]
    Invalid(Vec<Problem>),
    /// Valid ADQL this service does not support.
    #[error("{0}")]
    Unsupported(Problem),
    /// The engine could not plan the translated query.
    #[error("cannot plan the query: {0}")]
    Plan(String),
    /// The query failed while running.
    #[error("query failed: {0}")]
    Execution(String),
    /// The catalogue could not be read.
    #[error(transparent)]
    Catalog(#[from] astrolake_catalog::error::CatalogError),
}

fn join(p: &[Problem]) -> String {
    p.iter()
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

impl AdqlError {
    /// The first position the error points at, if any.
    pub fn pos(&self) -> Option<Pos> {
        match self {
            AdqlError::Syntax(e) => Some(Pos {
                line: e.line,
                column: e.column,
            }),
            AdqlError::Unknown(p) | AdqlError::Invalid(p) => {
                p.iter().map(|p| p.pos).find(|p| p.known())
            }
            AdqlError::Unsupported(p) => Some(p.pos).filter(|p| p.known()),
            _ => None,
        }
    }
    /// Whether the fault is in the query (HTTP 400) rather than the service.
    pub fn is_user_error(&self) -> bool {
        !matches!(self, AdqlError::Catalog(_))
    }
}

impl From<datafusion::error::DataFusionError> for AdqlError {
    fn from(e: datafusion::error::DataFusionError) -> Self {
        use datafusion::error::DataFusionError as D;
        match e {
            D::Plan(m) => AdqlError::Plan(m),
            D::SchemaError(e, _) => AdqlError::Plan(e.to_string()),
            D::Context(c, inner) => match AdqlError::from(*inner) {
                AdqlError::Plan(m) => AdqlError::Plan(format!("{c}: {m}")),
                AdqlError::Execution(m) => AdqlError::Execution(format!("{c}: {m}")),
                other => other,
            },
            D::Execution(m) => AdqlError::Execution(m),
            D::ResourcesExhausted(m) => AdqlError::Execution(format!(
                "the query needs more memory than this service gives a query \
                 (limits.query_memory): {m}; add conditions, ask for fewer columns, \
                 or sort or group fewer rows"
            )),
            other => AdqlError::Execution(other.strip_backtrace()),
        }
    }
}

/// Result with [`AdqlError`].
pub type Result<T, E = AdqlError> = std::result::Result<T, E>;

/// Close matches for `name` among `candidates`, best first (case-insensitive
/// Levenshtein distance, at most a third of the name's length).
pub fn suggestions<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let n = name.to_ascii_lowercase();
    let limit = (n.chars().count() / 3).max(1);
    let mut scored: Vec<(usize, String)> = candidates
        .into_iter()
        .filter_map(|c| {
            let d = levenshtein(&n, &c.to_ascii_lowercase());
            (d <= limit || c.to_ascii_lowercase().contains(&n) && n.len() >= 3)
                .then(|| (d, c.to_string()))
        })
        .collect();
    scored.sort();
    scored.dedup_by(|a, b| a.1 == b.1);
    scored.into_iter().take(3).map(|(_, c)| c).collect()
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    #[test]
    fn suggests_close_names() {
        let c = ["ra", "dec", "parallax", "phot_g_mean_mag", "pmra"];
        assert_eq!(super::suggestions("paralax", c), vec!["parallax"]);
        assert_eq!(super::suggestions("RA", c), vec!["ra"]);
        assert!(super::suggestions("zzzzzz", c).is_empty());
    }
}
