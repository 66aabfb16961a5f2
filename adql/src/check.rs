//! The check stage: a parsed query against the tables it names.
//!
//! Finds, all at once, unknown tables and columns (with close-match
//! suggestions), unknown functions, wrong arity and argument kinds (naming
//! the function and the argument), geometry used in arithmetic, comparisons
//! or as a condition, and reserved words used as bare identifiers. Name
//! resolution here is deliberately global (a name is known if any table or
//! alias of the query provides it); the engine's planner enforces scoping.

use std::collections::HashSet;
use std::ops::ControlFlow;

use sqlparser::ast::{
    BinaryOperator, DataType, Expr, Function, FunctionArg, FunctionArgExpr, FunctionArguments,
    Ident, JoinConstraint, JoinOperator, ObjectName, ObjectNamePart, Query, Select, SelectItem,
    SelectItemQualifiedWildcardKind, SetExpr, Spanned, TableFactor, UnaryOperator, Value, Visit,
    Visitor,
};

use crate::error::{suggestions, AdqlError, Pos, Problem, Result};
use crate::functions::{self, Kind};
use crate::tables::Tables;

/// The ADQL 2.1 reserved words (SQL-92 words, ADQL functions and ADQL
/// keywords).
pub static RESERVED: &str = include_str!("reserved_words.txt");

fn is_reserved(word: &str) -> bool {
    RESERVED
        .lines()
        .any(|w| !w.is_empty() && w.eq_ignore_ascii_case(word))
}

/// How a column or table name is written in ADQL: as it is when it is a
/// regular identifier (a letter, then letters, digits or `_`) and not a
/// reserved word, else as a delimited identifier (`"_healpix_29"`,
/// `"size"`), the form TAP_SCHEMA and VOSI tables publish (TAP 1.1 §4.3).
pub fn adql_name(name: &str) -> String {
    let regular = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if regular && !is_reserved(name) {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

/// A relation (table, view, derived table) named in a query.
#[derive(Debug, Clone)]
pub struct Relation {
    /// Lower-case names it can be referred to by (alias, or table name and
    /// `schema.table`).
    pub names: Vec<String>,
    /// The catalogue entry, for stored tables.
    pub entry: Option<usize>,
}

/// A query that passed the check stage, with what was found about it.
#[derive(Debug, Clone)]
pub struct Checked {
    /// The query (unchanged).
    pub query: Box<Query>,
    /// Every relation named anywhere in the query.
    pub relations: Vec<Relation>,
}

/// Check a parsed query against the tables.
pub fn check(query: Box<Query>, tables: &Tables) -> Result<Checked> {
    check_with(query, tables, true)
}

/// Check only the language rules (functions, kinds, reserved words,
/// clauses), not whether tables and columns exist: for queries written
/// against someone else's tables, such as the lyonetia corpus.
pub fn check_language(query: Box<Query>) -> Result<Checked> {
    check_with(query, &Tables::new(), false)
}

fn check_with(query: Box<Query>, tables: &Tables, names: bool) -> Result<Checked> {
    let mut c = Checker {
        names,
        seen_query: false,
        tables,
        ctes: HashSet::new(),
        rels: Vec::new(),
        aliases: HashSet::new(),
        unknown: Vec::new(),
        invalid: Vec::new(),
    };
    // Pass 1: names the query defines.
    let _ = query.visit(&mut Collect(&mut c));
    // Pass 2: names it uses, kinds and rules.
    let _ = query.visit(&mut Uses(&mut c));
    if !c.unknown.is_empty() {
        dedup(&mut c.unknown);
        return Err(AdqlError::Unknown(c.unknown));
    }
    if !c.invalid.is_empty() {
        dedup(&mut c.invalid);
        return Err(AdqlError::Invalid(c.invalid));
    }
    Ok(Checked {
        query,
        relations: c.rels,
    })
}

fn dedup(p: &mut Vec<Problem>) {
    let mut seen = HashSet::new();
    p.retain(|x| seen.insert(x.to_string()));
}

struct Checker<'a> {
    /// Whether to resolve table and column names.
    names: bool,
    /// Whether the top-level query has been visited.
    seen_query: bool,
    tables: &'a Tables,
    ctes: HashSet<String>,
    rels: Vec<Relation>,
    aliases: HashSet<String>,
    unknown: Vec<Problem>,
    invalid: Vec<Problem>,
}

fn pos_of(node: &impl Spanned) -> Pos {
    Pos::from_location(node.span().start)
}

fn ipos(i: &Ident) -> Pos {
    Pos::from_location(i.span.start)
}

/// The identifier parts of a (possibly qualified) name.
pub(crate) fn ident_parts(name: &ObjectName) -> Vec<&Ident> {
    name.0
        .iter()
        .filter_map(|p| match p {
            ObjectNamePart::Identifier(i) => Some(i),
            _ => None,
        })
        .collect()
}

/// Lower-case a regular identifier; keep a delimited one.
fn norm(i: &Ident) -> String {
    if i.quote_style.is_some() {
        i.value.clone()
    } else {
        i.value.to_ascii_lowercase()
    }
}

impl Checker<'_> {
    fn reserved(&mut self, i: &Ident, what: &str) {
        if i.quote_style.is_none() && is_reserved(&i.value) {
            self.invalid.push(Problem {
                pos: ipos(i),
                message: format!(
                    "{} is a reserved word and cannot be used as a {what}; \
                     write it as a delimited identifier: \"{}\"",
                    i.value, i.value
                ),
            });
        }
    }

    fn table_names(&self) -> Vec<String> {
        self.tables
            .entries()
            .iter()
            .map(|e| e.qualified())
            .collect()
    }

    /// Resolve a table name; records the relation or an unknown-table problem.
    fn relation(&mut self, name: &ObjectName, alias: Option<&Ident>) {
        let parts = ident_parts(name);
        for p in &parts {
            self.reserved(p, "table name");
        }
        let mut names: Vec<String> = alias.map(norm).into_iter().collect();
        if parts.len() == 1 && self.ctes.contains(&norm(parts[0])) {
            if names.is_empty() {
                names.push(norm(parts[0]));
            }
            self.rels.push(Relation { names, entry: None });
            return;
        }
        fn key<'k>(i: &&'k Ident) -> (&'k str, bool) {
            (i.value.as_str(), i.quote_style.is_some())
        }
        let found = match parts.len() {
            1 => self.tables.find(None, key(&parts[0])),
            2 | 3 => {
                let n = parts.len();
                self.tables
                    .find(Some(key(&parts[n - 2])), key(&parts[n - 1]))
            }
            _ => {
                self.invalid.push(Problem {
                    pos: pos_of(name),
                    message: format!(
                        "{name} has too many parts: a table is named [catalog.]schema.table"
                    ),
                });
                return;
            }
        };
        match found {
            Some(i) => {
                let e = &self.tables.entries()[i];
                if names.is_empty() {
                    names.push(e.name.to_ascii_lowercase());
                    names.push(e.qualified().to_ascii_lowercase());
                }
                self.rels.push(Relation {
                    names,
                    entry: Some(i),
                });
            }
            None if !self.names => {
                if names.is_empty() {
                    names.push(norm(parts[parts.len() - 1]));
                }
                self.rels.push(Relation { names, entry: None });
            }
            None => {
                let shown = name.to_string();
                let all = self.table_names();
                let mut cands: Vec<&str> = all.iter().map(|s| s.as_str()).collect();
                let bare: Vec<&str> = all
                    .iter()
                    .map(|s| s.rsplit('.').next().unwrap_or(s))
                    .collect();
                let mut sugg = suggestions(&shown, cands.drain(..));
                if sugg.is_empty() {
                    let last = parts.last().map(|i| i.value.as_str()).unwrap_or("");
                    sugg = suggestions(last, bare)
                        .into_iter()
                        .filter_map(|b| all.iter().find(|q| q.ends_with(&format!(".{b}"))))
                        .cloned()
                        .collect();
                }
                let ambiguous = parts.len() == 1
                    && self
                        .tables
                        .entries()
                        .iter()
                        .filter(|e| e.name.eq_ignore_ascii_case(&parts[0].value))
                        .count()
                        > 1;
                let message = if ambiguous {
                    format!("table {shown} exists in several schemas; qualify it with its schema")
                } else {
                    format!("unknown table {shown}{}", did_you_mean(&sugg))
                };
                self.unknown.push(Problem {
                    pos: pos_of(name),
                    message,
                });
                // Still a relation, so its columns do not cascade errors.
                if names.is_empty() {
                    names.push(norm(parts[parts.len() - 1]));
                }
                self.rels.push(Relation { names, entry: None });
            }
        }
    }

    fn rels_named(&self, q: &str) -> Vec<&Relation> {
        let q = q.to_ascii_lowercase();
        self.rels
            .iter()
            .filter(|r| r.names.iter().any(|n| n.eq_ignore_ascii_case(&q)))
            .collect()
    }

    /// Every column name of stored tables named in the query, and aliases.
    fn known_columns(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .rels
            .iter()
            .filter_map(|r| r.entry)
            .flat_map(|i| self.tables.entries()[i].meta.fields.iter())
            .map(|f| f.name.clone())
            .collect();
        out.extend(self.aliases.iter().cloned());
        out.sort();
        out.dedup();
        out
    }

    fn column_known(&self, c: &Ident) -> bool {
        let delimited = c.quote_style.is_some();
        if self.rels.iter().filter_map(|r| r.entry).any(|i| {
            self.tables.entries()[i]
                .column(&c.value, delimited)
                .is_some()
        }) {
            return true;
        }
        // Derived tables and CTEs: any alias, or any relation without an
        // entry (its columns are checked when its own query is).
        self.aliases.contains(&norm(c))
            || self.aliases.contains(&c.value.to_ascii_lowercase())
            || self.rels.iter().any(|r| r.entry.is_none())
    }

    fn column_ref(&mut self, parts: &[Ident]) {
        for p in parts {
            self.reserved(p, "column or table name");
        }
        if !self.names {
            if parts.len() > 4 {
                self.invalid.push(Problem {
                    pos: ipos(&parts[0]),
                    message: "a column is named [[schema.]table.]column".into(),
                });
            }
            return;
        }
        match parts {
            [] => {}
            [c] => {
                if !self.column_known(c) {
                    let sugg =
                        suggestions(&c.value, self.known_columns().iter().map(|s| s.as_str()));
                    self.unknown.push(Problem {
                        pos: ipos(c),
                        message: format!("unknown column {}{}", c, did_you_mean(&sugg)),
                    });
                }
            }
            _ if parts.len() > 4 => self.invalid.push(Problem {
                pos: ipos(&parts[0]),
                message: format!(
                    "{} has too many parts: a column is named [[schema.]table.]column",
                    parts
                        .iter()
                        .map(|p| p.to_string())
                        .collect::<Vec<_>>()
                        .join(".")
                ),
            }),
            _ => {
                let n = parts.len();
                let c = &parts[n - 1];
                let q = if n >= 3 {
                    format!("{}.{}", norm(&parts[n - 3]), norm(&parts[n - 2]))
                } else {
                    norm(&parts[0])
                };
                let rels = self.rels_named(&q);
                if rels.is_empty() {
                    let names: Vec<String> =
                        self.rels.iter().flat_map(|r| r.names.clone()).collect();
                    let sugg = suggestions(&q, names.iter().map(|s| s.as_str()));
                    self.unknown.push(Problem {
                        pos: ipos(&parts[0]),
                        message: format!(
                            "unknown table or alias {q} in {}{}",
                            parts
                                .iter()
                                .map(|p| p.to_string())
                                .collect::<Vec<_>>()
                                .join("."),
                            did_you_mean(&sugg)
                        ),
                    });
                    return;
                }
                let delimited = c.quote_style.is_some();
                let ok = rels.iter().any(|r| match r.entry {
                    Some(i) => self.tables.entries()[i]
                        .column(&c.value, delimited)
                        .is_some(),
                    None => true,
                });
                if !ok {
                    let e = &self.tables.entries()[rels[0].entry.expect("checked")];
                    let sugg = suggestions(&c.value, e.meta.fields.iter().map(|f| f.name.as_str()));
                    self.unknown.push(Problem {
                        pos: ipos(c),
                        message: format!(
                            "unknown column {c} in table {}{}",
                            e.qualified(),
                            did_you_mean(&sugg)
                        ),
                    });
                }
            }
        }
    }

    /// The kind of a column named by `parts`, if a stored table declares it.
    fn column_kind(&self, parts: &[Ident]) -> Kind {
        let Some(c) = parts.last() else {
            return Kind::Any;
        };
        let delimited = c.quote_style.is_some();
        let entries: Vec<usize> = if parts.len() >= 2 {
            let n = parts.len();
            let q = if n >= 3 {
                format!("{}.{}", norm(&parts[n - 3]), norm(&parts[n - 2]))
            } else {
                norm(&parts[0])
            };
            self.rels_named(&q).iter().filter_map(|r| r.entry).collect()
        } else {
            self.rels.iter().filter_map(|r| r.entry).collect()
        };
        for i in entries {
            let e = &self.tables.entries()[i];
            if let Some(name) = e.column(&c.value, delimited) {
                if let Some(f) = e.meta.field(name) {
                    return field_kind(&f.datatype, f.xtype.as_deref(), f.arraysize.as_deref());
                }
            }
        }
        Kind::Any
    }

    fn kind(&self, e: &Expr) -> Kind {
        match e {
            Expr::Value(v) => match &v.value {
                Value::Number(..) => Kind::Num,
                Value::SingleQuotedString(_)
                | Value::NationalStringLiteral(_)
                | Value::DoubleQuotedString(_) => Kind::Str,
                _ => Kind::Any,
            },
            Expr::Identifier(i) => self.column_kind(std::slice::from_ref(i)),
            Expr::CompoundIdentifier(p) => self.column_kind(p),
            Expr::Nested(e) => self.kind(e),
            Expr::UnaryOp { expr, .. } => match self.kind(expr) {
                Kind::Any => Kind::Any,
                _ => Kind::Num,
            },
            Expr::BinaryOp { op, .. } => match op {
                BinaryOperator::StringConcat => Kind::Str,
                BinaryOperator::Plus
                | BinaryOperator::Minus
                | BinaryOperator::Multiply
                | BinaryOperator::Divide
                | BinaryOperator::Modulo => Kind::Num,
                _ => Kind::Any,
            },
            Expr::Function(f) => self.call_kind(f).unwrap_or(Kind::Any),
            Expr::Cast { data_type, .. } => cast_kind(data_type),
            Expr::Floor { .. } | Expr::Ceil { .. } => Kind::Num,
            _ => Kind::Any,
        }
    }

    /// The kind a call returns (the first overload that fits).
    fn call_kind(&self, f: &Function) -> Option<Kind> {
        let def = functions::lookup(&f.name.to_string())?;
        let args = self.call_args(f);
        let kinds: Vec<Kind> = args
            .iter()
            .map(|a| a.map_or(Kind::Any, |a| self.kind(a)))
            .collect();
        def.overloads
            .iter()
            .find(|o| fits(o, &kinds))
            .or(def.overloads.first())
            .map(|o| o.ret)
    }

    /// The arguments of a call; `None` for `*`. A geometry constructor's
    /// leading coordinate-system string is dropped.
    fn call_args<'e>(&self, f: &'e Function) -> Vec<Option<&'e Expr>> {
        let mut args: Vec<Option<&Expr>> = match &f.args {
            FunctionArguments::List(l) => l
                .args
                .iter()
                .map(|a| match a {
                    FunctionArg::Unnamed(FunctionArgExpr::Expr(e))
                    | FunctionArg::Named {
                        arg: FunctionArgExpr::Expr(e),
                        ..
                    } => Some(e),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        let name = f.name.to_string();
        if functions::takes_coordsys(&name) {
            if let Some(Some(first)) = args.first() {
                if self.kind(first) == Kind::Str
                    || matches!(first, Expr::Value(v) if matches!(v.value, Value::Null))
                {
                    args.remove(0);
                }
            }
        }
        args
    }

    fn check_call(&mut self, f: &Function) {
        let name = f.name.to_string();
        let pos = pos_of(&f.name);
        let Some(def) = functions::lookup(&name) else {
            if !self.names && name.contains('_') {
                // A user-defined function of some other service (ADQL
                // 2.1 asks UDF names to carry a prefix such as ivo_).
                return;
            }
            let sugg = suggestions(&name, functions::FUNCTIONS.iter().map(|f| f.name));
            self.invalid.push(Problem {
                pos,
                message: format!("unknown function {name}{}", did_you_mean(&sugg)),
            });
            return;
        };
        if matches!(f.args, FunctionArguments::None) && def.name != "PI" {
            self.invalid.push(Problem {
                pos,
                message: format!("{} needs parentheses and arguments", def.name),
            });
            return;
        }
        if f.over.is_some() || f.filter.is_some() {
            self.invalid.push(Problem {
                pos,
                message: format!("{}: window functions and FILTER are not ADQL", def.name),
            });
        }
        let args = self.call_args(f);
        if def.aggregate {
            let star = args.iter().any(|a| a.is_none());
            if star && def.name != "COUNT" {
                self.invalid.push(Problem {
                    pos,
                    message: format!("{}(*) is not allowed; only COUNT(*)", def.name),
                });
            }
            let want = def.overloads[0].args.len();
            if args.len() != want {
                self.invalid.push(Problem {
                    pos,
                    message: format!(
                        "{} takes {want} argument{}, not {}",
                        def.name,
                        if want == 1 { "" } else { "s" },
                        args.len()
                    ),
                });
            }
            for (i, a) in args.iter().enumerate() {
                if let Some(a) = a {
                    if self.kind(a).is_geom() {
                        self.invalid.push(Problem {
                            pos: pos_of(*a),
                            message: format!(
                                "argument {} of {} is {}; aggregates take numbers or strings",
                                i + 1,
                                def.name,
                                self.kind(a).name()
                            ),
                        });
                    }
                }
            }
            return;
        }
        if args.iter().any(|a| a.is_none()) {
            self.invalid.push(Problem {
                pos,
                message: format!("{} does not take *", def.name),
            });
            return;
        }
        let kinds: Vec<Kind> = args.iter().map(|a| self.kind(a.expect("no *"))).collect();
        if def.overloads.iter().any(|o| fits(o, &kinds)) {
            if def.name == "POLYGON" && kinds.iter().all(|k| *k != Kind::Point) {
                if kinds.len() < 6 || kinds.len() % 2 == 1 {
                    self.invalid.push(Problem {
                        pos,
                        message: format!(
                            "POLYGON needs at least 3 vertices as coordinate pairs, got {} numbers",
                            kinds.len()
                        ),
                    });
                }
            } else if def.name == "POLYGON" && kinds.len() < 3 {
                self.invalid.push(Problem {
                    pos,
                    message: "POLYGON needs at least 3 vertices".into(),
                });
            }
            let args: Vec<&Expr> = args.iter().flatten().copied().collect();
            if let Some((at, message)) = literal_geometry_problem(def.name, &kinds, &args) {
                self.invalid.push(Problem {
                    pos: pos_of(at),
                    message,
                });
            }
            return;
        }
        // Say which argument is wrong, against the overload of that arity.
        let same_arity = def
            .overloads
            .iter()
            .filter(|o| o.variadic && kinds.len() >= o.args.len() || o.args.len() == kinds.len())
            .collect::<Vec<_>>();
        if same_arity.is_empty() {
            let counts: Vec<String> = def
                .overloads
                .iter()
                .map(|o| {
                    if o.variadic {
                        format!("{} or more", o.args.len())
                    } else {
                        o.args.len().to_string()
                    }
                })
                .collect();
            let coordsys = if functions::takes_coordsys(def.name) {
                " (after an optional coordinate system)"
            } else {
                ""
            };
            self.invalid.push(Problem {
                pos,
                message: format!(
                    "{} takes {} argument(s){coordsys}, not {}",
                    def.name,
                    counts.join(" or "),
                    kinds.len()
                ),
            });
            return;
        }
        let o = same_arity[0];
        for (i, k) in kinds.iter().enumerate() {
            let want = if i < o.args.len() {
                o.args[i]
            } else {
                *o.args.last().expect("variadic has one")
            };
            // Without table metadata only geometry misuse is certain; but a
            // number literal is never a point (CIRCLE('fk5', 2, 3)).
            let literal_for_point = want == Kind::Point
                && matches!(args[i], Some(Expr::Value(v)) if matches!(v.value, Value::Number(..)))
                && ["CIRCLE", "BOX", "POLYGON"].contains(&def.name);
            let grammar_only = !self.names && !k.is_geom() && !literal_for_point;
            if !k.fits(want) && !grammar_only {
                self.invalid.push(Problem {
                    pos: pos_of(args[i].expect("no *")),
                    message: format!(
                        "argument {} of {} must be {}, not {}",
                        i + 1,
                        def.name,
                        want.name(),
                        k.name()
                    ),
                });
            }
        }
    }

    fn condition(&mut self, e: &Expr, place: &str) {
        if !self.is_condition(e) {
            self.invalid.push(Problem {
                pos: pos_of(e),
                message: format!(
                    "{place} needs a condition, not the value {}{}",
                    short(e),
                    match e {
                        Expr::Function(f)
                            if ["CONTAINS", "INTERSECTS"]
                                .iter()
                                .any(|n| n.eq_ignore_ascii_case(&f.name.to_string())) =>
                            format!("; write 1={}", short(e)),
                        _ => String::new(),
                    }
                ),
            });
        }
    }

    fn is_condition(&self, e: &Expr) -> bool {
        match e {
            Expr::Nested(e) => self.is_condition(e),
            Expr::BinaryOp { op, .. } => matches!(
                op,
                BinaryOperator::Eq
                    | BinaryOperator::NotEq
                    | BinaryOperator::Lt
                    | BinaryOperator::LtEq
                    | BinaryOperator::Gt
                    | BinaryOperator::GtEq
                    | BinaryOperator::And
                    | BinaryOperator::Or
            ),
            Expr::UnaryOp {
                op: UnaryOperator::Not,
                ..
            } => true,
            Expr::IsNull(_)
            | Expr::IsNotNull(_)
            | Expr::Like { .. }
            | Expr::ILike { .. }
            | Expr::InList { .. }
            | Expr::InSubquery { .. }
            | Expr::Between { .. }
            | Expr::Exists { .. } => true,
            Expr::Identifier(_) | Expr::CompoundIdentifier(_) => {
                let parts: Vec<Ident> = match e {
                    Expr::Identifier(i) => vec![i.clone()],
                    Expr::CompoundIdentifier(p) => p.clone(),
                    _ => unreachable!(),
                };
                self.column_is_boolean(&parts)
            }
            _ => false,
        }
    }

    fn column_is_boolean(&self, parts: &[Ident]) -> bool {
        let Some(c) = parts.last() else { return false };
        let stored: Vec<usize> = self.rels.iter().filter_map(|r| r.entry).collect();
        let mut found = false;
        for i in stored {
            let e = &self.tables.entries()[i];
            if let Some(n) = e.column(&c.value, c.quote_style.is_some()) {
                found = true;
                if e.meta.field(n).is_some_and(|f| f.datatype == "boolean") {
                    return true;
                }
            }
        }
        // Columns of derived tables: unknown type; let the engine decide.
        !found && self.names
    }

    fn operands(&mut self, e: &Expr) {
        let Expr::BinaryOp { left, op, right } = e else {
            return;
        };
        let what = match op {
            BinaryOperator::Modulo => {
                self.invalid.push(Problem {
                    pos: pos_of(e),
                    message: "% is not ADQL; write MOD(a, b)".into(),
                });
                return;
            }
            BinaryOperator::Plus
            | BinaryOperator::Minus
            | BinaryOperator::Multiply
            | BinaryOperator::Divide => "arithmetic",
            BinaryOperator::StringConcat => "string concatenation (||)",
            BinaryOperator::And | BinaryOperator::Or => {
                let w = if *op == BinaryOperator::And {
                    "AND"
                } else {
                    "OR"
                };
                self.condition(left, w);
                self.condition(right, w);
                return;
            }
            _ => return,
        };
        for side in [left, right] {
            let k = self.kind(side);
            if k.is_geom() {
                self.invalid.push(Problem {
                    pos: pos_of(side.as_ref()),
                    message: format!(
                        "{} is {} and cannot be used in {what}",
                        short(side),
                        k.name()
                    ),
                });
            }
        }
    }
}

fn fits(o: &functions::Overload, kinds: &[Kind]) -> bool {
    let n = o.args.len();
    let arity = if o.variadic {
        kinds.len() >= n
    } else {
        kinds.len() == n
    };
    arity
        && kinds.iter().enumerate().all(|(i, k)| {
            let want = if i < n { o.args[i] } else { o.args[n - 1] };
            k.fits(want)
        })
}

/// A geometry constructor whose coordinates or radius, written as numbers
/// in the query, make no valid geometry (a latitude beyond ±90°, a
/// negative radius): the argument and the message naming the value. The
/// translator may never build such a geometry (`CONTAINS(POINT(…),
/// CIRCLE(…))` compares coordinates), so the check refuses it here.
fn literal_geometry_problem<'e>(
    name: &str,
    kinds: &[Kind],
    args: &[&'e Expr],
) -> Option<(&'e Expr, String)> {
    let numbers = kinds.iter().all(|k| *k != Kind::Point);
    // (argument index, what it is) of the values to check.
    let checks: &[(usize, &str)] = match (name, args.len(), numbers) {
        ("POINT", 2, _) => &[(1, "lat")],
        ("CIRCLE", 3, true) => &[(1, "lat"), (2, "radius")],
        ("CIRCLE", 2, false) => &[(1, "radius")],
        ("BOX", 4, true) => &[(1, "lat")],
        _ => &[],
    };
    for &(i, what) in checks {
        let Some(v) = crate::sql_ast::const_num(args[i]) else {
            continue;
        };
        let invalid = match what {
            "lat" => crate::geometry::Geom::point(0.0, v).err(),
            _ => crate::geometry::Geom::circle(0.0, 0.0, v).err(),
        };
        if let Some(e) = invalid {
            return Some((args[i], format!("{name}: {e}")));
        }
    }
    None
}

/// The kind of a column from its VOTable datatype and xtype.
pub fn field_kind(datatype: &str, xtype: Option<&str>, arraysize: Option<&str>) -> Kind {
    match xtype.map(|x| x.to_ascii_lowercase()).as_deref() {
        Some("point") | Some("adql:point") => return Kind::Point,
        Some("circle") | Some("adql:circle") => return Kind::Circle,
        Some("polygon") | Some("adql:polygon") => return Kind::Polygon,
        Some("moc") => return Kind::Moc,
        Some("adql:region") | Some("region") => return Kind::Any,
        _ => {}
    }
    match datatype {
        "char" | "unicodeChar" => Kind::Str,
        "short" | "int" | "long" | "float" | "double" | "unsignedByte" if arraysize.is_none() => {
            Kind::Num
        }
        _ => Kind::Any,
    }
}

fn cast_kind(t: &DataType) -> Kind {
    match t {
        DataType::Custom(name, _) => match name.to_string().to_ascii_uppercase().as_str() {
            "POINT" => Kind::Point,
            "CIRCLE" => Kind::Circle,
            "POLYGON" => Kind::Polygon,
            _ => Kind::Any,
        },
        DataType::Char(_) | DataType::Varchar(_) | DataType::Character(_) => Kind::Str,
        DataType::Timestamp(..) => Kind::Any,
        _ => Kind::Num,
    }
}

fn short(e: &Expr) -> String {
    let s = e.to_string();
    if s.chars().count() > 60 {
        format!("{}…", s.chars().take(57).collect::<String>())
    } else {
        s
    }
}

fn did_you_mean(s: &[String]) -> String {
    match s {
        [] => String::new(),
        [one] => format!("; did you mean {one}?"),
        many => format!("; did you mean one of {}?", many.join(", ")),
    }
}

/// Pass 1: CTEs, relations, aliases.
struct Collect<'c, 'a>(&'c mut Checker<'a>);

impl Visitor for Collect<'_, '_> {
    type Break = ();
    fn pre_visit_query(&mut self, q: &Query) -> ControlFlow<()> {
        if let Some(w) = &q.with {
            for cte in &w.cte_tables {
                self.0.reserved(&cte.alias.name, "query name");
                self.0.ctes.insert(norm(&cte.alias.name));
                for c in &cte.alias.columns {
                    self.0.aliases.insert(norm(&c.name));
                }
            }
        }
        ControlFlow::Continue(())
    }
    fn pre_visit_table_factor(&mut self, t: &TableFactor) -> ControlFlow<()> {
        match t {
            TableFactor::Table { name, alias, .. } => {
                if let Some(a) = alias {
                    self.0.reserved(&a.name, "table alias");
                }
                self.0.relation(name, alias.as_ref().map(|a| &a.name));
                if let Some(a) = alias {
                    for c in &a.columns {
                        self.0.aliases.insert(norm(&c.name));
                    }
                }
            }
            TableFactor::Derived {
                alias, subquery, ..
            } => match alias {
                Some(a) => {
                    self.0.reserved(&a.name, "table alias");
                    self.0.rels.push(Relation {
                        names: vec![norm(&a.name)],
                        entry: None,
                    });
                    for c in &a.columns {
                        self.0.aliases.insert(norm(&c.name));
                    }
                }
                None => self.0.invalid.push(Problem {
                    pos: pos_of(subquery.as_ref()),
                    message: "a subquery in FROM needs an alias: (SELECT ...) AS name".into(),
                }),
            },
            TableFactor::NestedJoin { alias: Some(a), .. } => {
                self.0.rels.push(Relation {
                    names: vec![norm(&a.name)],
                    entry: None,
                });
            }
            TableFactor::NestedJoin { .. } => {}
            other => self.0.invalid.push(Problem {
                pos: pos_of(other),
                message: format!("{other} is not an ADQL table reference"),
            }),
        }
        ControlFlow::Continue(())
    }
    fn pre_visit_select(&mut self, s: &Select) -> ControlFlow<()> {
        for item in &s.projection {
            if let SelectItem::ExprWithAlias { alias, .. } = item {
                self.0.reserved(alias, "column alias");
                self.0.aliases.insert(norm(alias));
                self.0.aliases.insert(alias.value.to_ascii_lowercase());
            }
        }
        ControlFlow::Continue(())
    }
}

/// Pass 2: uses of names, kinds, ADQL rules.
struct Uses<'c, 'a>(&'c mut Checker<'a>);

impl Visitor for Uses<'_, '_> {
    type Break = ();
    fn pre_visit_query(&mut self, q: &Query) -> ControlFlow<()> {
        if let Some(w) = q.with.as_ref().filter(|w| w.recursive) {
            self.0.invalid.push(Problem {
                pos: pos_of(w),
                message: "WITH RECURSIVE is not ADQL: ADQL 2.1 common table expressions \
                          cannot refer to themselves"
                    .into(),
            });
        }
        if self.0.seen_query && q.with.is_some() {
            self.0.invalid.push(Problem {
                pos: pos_of(q),
                message: "WITH is allowed only at the start of the whole query".into(),
            });
        }
        self.0.seen_query = true;
        if !matches!(
            q.body.as_ref(),
            SetExpr::Select(_) | SetExpr::Query(_) | SetExpr::SetOperation { .. }
        ) {
            self.0.invalid.push(Problem {
                pos: pos_of(q.body.as_ref()),
                message: "only SELECT queries are ADQL".into(),
            });
        }
        if q.fetch.is_some() || !q.locks.is_empty() {
            self.0.invalid.push(Problem {
                pos: pos_of(q),
                message: "FETCH and locking clauses are not ADQL".into(),
            });
        }
        if let Some(sqlparser::ast::LimitClause::LimitOffset { limit: Some(l), .. }) =
            &q.limit_clause
        {
            self.0.invalid.push(Problem {
                pos: pos_of(l),
                message: "LIMIT is not ADQL; use SELECT TOP n".into(),
            });
        }
        if let Some(sqlparser::ast::LimitClause::LimitOffset {
            offset: Some(off), ..
        }) = &q.limit_clause
        {
            if !matches!(&off.value, Expr::Value(v) if matches!(&v.value, Value::Number(n, _) if n.parse::<u64>().is_ok()))
            {
                self.0.invalid.push(Problem {
                    pos: pos_of(&off.value),
                    message: "OFFSET takes an unsigned integer".into(),
                });
            }
        }
        ControlFlow::Continue(())
    }
    fn pre_visit_select(&mut self, s: &Select) -> ControlFlow<()> {
        if s.from.is_empty() {
            self.0.invalid.push(Problem {
                pos: pos_of(s),
                message: "an ADQL SELECT needs a FROM clause".into(),
            });
        }
        if let Some(w) = &s.selection {
            self.0.condition(w, "WHERE");
        }
        if let Some(h) = &s.having {
            self.0.condition(h, "HAVING");
        }
        if let Some(top) = &s.top {
            let ok = matches!(
                &top.quantity,
                Some(sqlparser::ast::TopQuantity::Constant(_))
            ) || matches!(&top.quantity, Some(sqlparser::ast::TopQuantity::Expr(Expr::Value(v))) if matches!(&v.value, Value::Number(n, _) if n.parse::<u64>().is_ok()));
            if !ok || top.percent || top.with_ties {
                self.0.invalid.push(Problem {
                    pos: pos_of(s),
                    message: "TOP takes an unsigned integer".into(),
                });
            }
        }
        for item in &s.projection {
            if let SelectItem::QualifiedWildcard(
                SelectItemQualifiedWildcardKind::ObjectName(n),
                _,
            ) = item
            {
                let parts: Vec<String> = ident_parts(n).iter().map(|i| norm(i)).collect();
                let q = parts.join(".");
                if self.0.names && self.0.rels_named(&q).is_empty() {
                    self.0.unknown.push(Problem {
                        pos: pos_of(n),
                        message: format!("unknown table or alias {n} in {n}.*"),
                    });
                }
            }
        }
        for twj in &s.from {
            for j in &twj.joins {
                let c = match (
                    &j.join_operator,
                    crate::sql_ast::join_constraint(&j.join_operator),
                ) {
                    (_, Some(c)) => Some(c),
                    (JoinOperator::CrossJoin(_), _) => None,
                    _ => {
                        self.0.invalid.push(Problem {
                            pos: pos_of(&j.relation),
                            message: "this kind of join is not ADQL".into(),
                        });
                        None
                    }
                };
                match c {
                    Some(JoinConstraint::On(e)) => self.0.condition(e, "ON"),
                    Some(JoinConstraint::Using(cols)) => {
                        for c in cols {
                            for p in ident_parts(c) {
                                self.0.column_ref(std::slice::from_ref(p));
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        ControlFlow::Continue(())
    }
    fn pre_visit_expr(&mut self, e: &Expr) -> ControlFlow<()> {
        match e {
            Expr::Identifier(i) => self.0.column_ref(std::slice::from_ref(i)),
            Expr::CompoundIdentifier(p) => self.0.column_ref(p),
            Expr::Function(f) => self.0.check_call(f),
            Expr::BinaryOp { .. } => self.0.operands(e),
            Expr::UnaryOp {
                op: UnaryOperator::Not,
                expr,
            } => self.0.condition(expr, "NOT"),
            Expr::UnaryOp { expr, .. } => {
                let k = self.0.kind(expr);
                if k.is_geom() || k == Kind::Str {
                    self.0.invalid.push(Problem {
                        pos: pos_of(expr.as_ref()),
                        message: format!("a sign cannot apply to {}", k.name()),
                    });
                }
            }
            Expr::Case {
                conditions,
                operand: None,
                ..
            } => {
                for w in conditions {
                    self.0.condition(&w.condition, "CASE WHEN");
                }
            }
            Expr::Like { expr, pattern, .. } | Expr::ILike { expr, pattern, .. } => {
                for side in [expr, pattern] {
                    let k = self.0.kind(side);
                    if k != Kind::Str && k != Kind::Any {
                        self.0.invalid.push(Problem {
                            pos: pos_of(side.as_ref()),
                            message: format!("LIKE compares strings, not {}", k.name()),
                        });
                    }
                }
            }
            Expr::Between {
                expr, low, high, ..
            } => {
                for side in [expr, low, high] {
                    if self.0.kind(side).is_geom() {
                        self.0.invalid.push(Problem {
                            pos: pos_of(side.as_ref()),
                            message: "BETWEEN cannot compare geometries".into(),
                        });
                    }
                }
            }
            Expr::Cast { data_type, .. } => {
                if !cast_allowed(data_type) {
                    self.0.invalid.push(Problem {
                        pos: pos_of(e),
                        message: format!(
                            "CAST to {data_type} is not ADQL; the target must be one of \
                             INTEGER, SMALLINT, BIGINT, REAL, DOUBLE PRECISION, CHAR(n), \
                             VARCHAR(n), TIMESTAMP, POINT, CIRCLE, POLYGON"
                        ),
                    });
                }
            }
            Expr::Value(v) => {
                if matches!(v.value, Value::Boolean(_)) {
                    self.0.invalid.push(Problem {
                        pos: pos_of(e),
                        message: "ADQL has no boolean literals TRUE/FALSE".into(),
                    });
                }
            }
            Expr::Floor { field, .. } | Expr::Ceil { field, .. }
                if matches!(
                    field,
                    sqlparser::ast::CeilFloorKind::DateTimeField(
                        sqlparser::ast::DateTimeField::NoDateTime
                    )
                ) => {}
            Expr::Nested(_)
            | Expr::IsNull(_)
            | Expr::IsNotNull(_)
            | Expr::InList { .. }
            | Expr::InSubquery { .. }
            | Expr::Exists { .. }
            | Expr::Subquery(_)
            | Expr::Case { .. }
            | Expr::TypedString { .. } => {}
            other => {
                // Anything else sqlparser accepts is some other SQL dialect.
                let s = other.to_string();
                self.0.invalid.push(Problem {
                    pos: pos_of(other),
                    message: format!("{} is not ADQL", short(&Expr::Identifier(Ident::new(s)))),
                });
            }
        }
        ControlFlow::Continue(())
    }
}

fn cast_allowed(t: &DataType) -> bool {
    match t {
        DataType::Integer(None)
        | DataType::Int(None)
        | DataType::SmallInt(None)
        | DataType::BigInt(None)
        | DataType::Real
        | DataType::DoublePrecision
        | DataType::Char(_)
        | DataType::Character(_)
        | DataType::Varchar(_)
        | DataType::CharacterVarying(_)
        | DataType::Timestamp(..) => true,
        DataType::Custom(name, args) => {
            args.is_empty()
                && ["POINT", "CIRCLE", "POLYGON"]
                    .iter()
                    .any(|g| g.eq_ignore_ascii_case(&name.to_string()))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::adql_name;

    #[test]
    fn published_names() {
        assert_eq!(adql_name("ra"), "ra");
        assert_eq!(adql_name("size"), "\"size\"");
        assert_eq!(adql_name("_healpix_29"), "\"_healpix_29\"");
        assert_eq!(adql_name("a\"b"), "\"a\"\"b\"");
    }
}
