//! Typed errors of every stage, each with the ADQL position where one
//! applies. The TAP layer maps them to DALI error documents and HTTP
//! statuses in one place.

/// A syntax error, or a query beyond this service's size limits
/// ([`crate::QueryLimits`]), with its position (1-based line and column).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} at line {line}, column {column}: {message}", if *.limit { "query too large" } else { "ADQL syntax error" })]
pub struct ParseError {
    /// The query breaks a size limit ([`crate::QueryLimits`]) rather than the
    /// grammar.
    pub limit: bool,
    /// 1-based line.
    pub line: u64,
    /// 1-based column.
    pub column: u64,
    /// What was wrong and what was expected.
    pub message: String,
}

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
    /// The engine could not plan the translated query (the client's: HTTP
    /// 400).
    #[error("cannot plan the query: {0}")]
    Plan(String),
    /// The query failed on its own terms while running: division by zero,
    /// a failed cast, an overflow, a bad function argument, its time or
    /// memory limit (the client's: HTTP 400).
    #[error("query failed: {0}")]
    Execution(String),
    /// The service failed while planning or running the query: reading
    /// its files or object store, an internal error of the engine, a
    /// panicked task (the service's: HTTP 500, the message is for the
    /// log).
    #[error("the service failed: {0}")]
    Service(String),
    /// The catalogue could not be read (the service's: HTTP 500).
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
    /// Whether the fault is in the query (HTTP 400) rather than the service
    /// (HTTP 500).
    pub fn is_user_error(&self) -> bool {
        !matches!(self, AdqlError::Catalog(_) | AdqlError::Service(_))
    }
}

/// Whose fault a DataFusion error is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    /// The query could not be planned (the client's).
    Plan,
    /// The query failed on its data or its limits (the client's).
    Query,
    /// The service failed (ours).
    Service,
}

/// Each DataFusion error kind, explicitly: what the query asked for and
/// cannot have is the client's; what the service could not do (read a
/// file, reach its store, keep a task alive, honour its own invariants) is
/// ours.
fn fault(e: &datafusion::error::DataFusionError) -> Fault {
    use datafusion::error::DataFusionError as D;
    match e {
        D::Plan(_) | D::SchemaError(..) | D::SQL(..) | D::NotImplemented(_) => Fault::Plan,
        D::Execution(_) | D::ResourcesExhausted(_) => Fault::Query,
        D::ArrowError(a, _) => arrow_fault(a),
        D::ParquetError(_)
        | D::ObjectStore(_)
        | D::IoError(_)
        | D::Internal(_)
        | D::Configuration(_)
        | D::ExecutionJoin(_)
        | D::Substrait(_)
        | D::Ffi(_) => Fault::Service,
        D::Context(_, inner) | D::Diagnostic(_, inner) => fault(inner),
        D::Shared(inner) => fault(inner),
        D::Collection(all) => all.first().map_or(Fault::Service, fault),
        D::External(b) => external_fault(b.as_ref()),
    }
}

fn arrow_fault(e: &arrow::error::ArrowError) -> Fault {
    use arrow::error::ArrowError as A;
    match e {
        A::ExternalError(b) => external_fault(b.as_ref()),
        A::IoError(..) | A::ParquetError(_) | A::IpcError(_) | A::CDataInterface(_) => {
            Fault::Service
        }
        // Casts, arithmetic, division by zero, parsing a value, compute
        // kernels refusing their input: the query's data.
        _ => Fault::Query,
    }
}

fn external_fault(e: &(dyn std::error::Error + Send + Sync + 'static)) -> Fault {
    if let Some(d) = e.downcast_ref::<datafusion::error::DataFusionError>() {
        fault(d)
    } else if let Some(a) = e.downcast_ref::<arrow::error::ArrowError>() {
        arrow_fault(a)
    } else if let Some(d) = e.downcast_ref::<std::sync::Arc<datafusion::error::DataFusionError>>() {
        fault(d)
    } else {
        Fault::Service
    }
}

/// The message of a DataFusion error without its kind's prefix where the
/// kind is said by the variant it becomes.
fn describe(e: &datafusion::error::DataFusionError) -> String {
    use datafusion::error::DataFusionError as D;
    match e {
        D::Plan(m) | D::Execution(m) => m.clone(),
        D::SchemaError(e, _) => e.to_string(),
        D::Context(c, inner) => format!("{c}: {}", describe(inner)),
        D::Diagnostic(_, inner) => describe(inner),
        D::Shared(inner) => describe(inner),
        D::ResourcesExhausted(m) => format!(
            "the query needs more memory than this service gives a query \
             (limits.query_memory): {m}; add conditions, ask for fewer columns, \
             or sort or group fewer rows"
        ),
        D::External(b) => match b.downcast_ref::<D>() {
            Some(d) => describe(d),
            None => e.strip_backtrace(),
        },
        other => other.strip_backtrace(),
    }
}

impl From<datafusion::error::DataFusionError> for AdqlError {
    fn from(e: datafusion::error::DataFusionError) -> Self {
        let m = describe(&e);
        match fault(&e) {
            Fault::Plan => AdqlError::Plan(m),
            Fault::Query => AdqlError::Execution(m),
            Fault::Service => AdqlError::Service(m),
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
