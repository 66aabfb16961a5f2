//! The translate stage: a checked ADQL query → a DataFusion logical plan.
//!
//! The ADQL AST is rewritten into the SQL DataFusion plans, in passes over
//! the whole query (every SELECT, nested ones included):
//!
//! 1. **names**: unnamed computed output columns get ADQL-style names
//!    (`distance`, `count`, …);
//! 2. **spatial**: in each SELECT, AND-ed conditions
//!    `1=CONTAINS(POINT(ra,dec), shape)`, `1=INTERSECTS(…)` and
//!    `DISTANCE(…) < r` on a table's position columns give that table a
//!    HEALPix cover: the table becomes `(SELECT * FROM t WHERE
//!    healpix_cover(t._healpix_29, [ranges…]))`, a plain plan filter the
//!    table provider prunes with (files, row groups and pages outside it
//!    are never read; see [`astrolake_catalog::cover`]); the same conditions between two tables
//!    (`CIRCLE(b.ra, b.dec, r)` around `a`'s point) make a positional join
//!    an equi-join on HEALPix cells at an order chosen from `r` (one cell
//!    for `a`'s row, the cells overlapping the circle for `b`'s row), so it
//!    never becomes a cross product. The exact predicate always stays.
//!    What the passes add is built as syntax-tree nodes
//!    (the `sql_ast` module), never as SQL text, so the resulting logical plan
//!    is an ordinary DataFusion plan (serialisable with its UDFs).
//! 3. **functions**: ADQL functions become DataFusion functions and the
//!    geometry UDFs of [`crate::udf`]; identifiers take the stored case;
//! 4. **tables**: names resolve to the registered tables, TOP becomes
//!    LIMIT;
//! 5. **natural joins**: NATURAL and USING joins between tables become ON
//!    joins with SQL's join columns ([`crate::natural`]).

use std::collections::HashMap;
use std::ops::{ControlFlow, Range};
use std::sync::Arc;

use astrolake_vo::datatype::Kind;
use astrolake_vo::FieldMeta;
use datafusion::catalog::{MemorySchemaProvider, SchemaProvider};
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::{SessionConfig, SessionContext};
use sqlparser::ast::{
    BinaryOperator, DataType, ExcludeSelectItem, Expr, Function, Ident, JoinConstraint,
    JoinOperator, LimitClause, ObjectName, Query, Select, SelectItem,
    SelectItemQualifiedWildcardKind, SetExpr, Spanned, Statement, TableAlias, TableFactor,
    TableWithJoins, TopQuantity, Value, VisitMut, VisitorMut,
};

use crate::check::{ident_parts, Checked};
use crate::error::{AdqlError, Pos, Problem, Result};
use crate::functions::Func;
use crate::geometry::{self, Geom};
use crate::sql_ast::{self, args_of, call, const_num, func_name, num, strip};
use crate::tables::{TableEntry, Tables};

/// Metadata keys of result fields (Arrow field metadata).
pub mod keys {
    /// Unit (VOUnits).
    pub const UNIT: &str = "unit";
    /// UCD.
    pub const UCD: &str = "ucd";
    /// Utype.
    pub const UTYPE: &str = "utype";
    /// DALI xtype.
    pub const XTYPE: &str = "xtype";
    /// Description.
    pub const DESCRIPTION: &str = "description";
    /// The declared VOTable datatype of a string column (`char` or
    /// `unicodeChar`), which the encoders keep.
    pub const DATATYPE: &str = "datatype";
}

/// A translated query, ready to execute.
pub struct Translated {
    /// The session the plan was made in (tables and UDFs registered).
    pub ctx: SessionContext,
    /// The logical plan.
    pub plan: LogicalPlan,
    /// Result columns with their metadata, in order.
    pub columns: Vec<FieldMeta>,
    /// HEALPix covers pushed into tables: (`schema.table`, number of
    /// ranges), for explanations and tests.
    pub covers: Vec<(String, usize)>,
    /// Positional joins planned as HEALPix-bucketed joins: (order, radius).
    pub positional_joins: Vec<(u8, f64)>,
}

impl Translated {
    /// The plan as a DataFrame in the session it was made in, ready to
    /// limit, explain or run.
    pub fn dataframe(&self) -> datafusion::dataframe::DataFrame {
        datafusion::dataframe::DataFrame::new(self.ctx.state(), self.plan.clone())
    }
}

impl std::fmt::Debug for Translated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Translated")
            .field("plan", &self.plan)
            .field("covers", &self.covers)
            .field("positional_joins", &self.positional_joins)
            .finish()
    }
}

/// Translate a checked query into a DataFusion plan over `tables`.
pub async fn translate(checked: Checked, tables: &Tables) -> Result<Translated> {
    let Checked {
        mut query,
        relations,
    } = checked;
    let entries: Vec<usize> = {
        let mut v: Vec<usize> = relations.iter().filter_map(|r| r.entry).collect();
        v.sort();
        v.dedup();
        v
    };
    let mut t = Translator {
        tables,
        entries,
        covers: Vec::new(),
        joins: Vec::new(),
        cells: 0,
        problems: Vec::new(),
    };
    name_outputs(&mut query);
    let hints = output_hints(&query);
    bare_joins(&mut query);
    let _ = query.visit(&mut SpatialPass(&mut t));
    let _ = query.visit(&mut Functions(&mut t));
    let _ = query.visit(&mut TablesPass(&mut t));
    crate::natural::natural_joins(&mut query, tables);
    top_to_limit(&mut query);
    if !t.problems.is_empty() {
        return Err(AdqlError::Invalid(t.problems));
    }

    // DATAFUSION_* environment variables tune the engine (e.g.
    // DATAFUSION_EXECUTION_BATCH_SIZE); the rest are DataFusion's defaults.
    let config = SessionConfig::from_env()
        .unwrap_or_default()
        .with_information_schema(false)
        .set_bool("datafusion.sql_parser.enable_ident_normalization", true);
    let ctx = SessionContext::new_with_config_rt(config, Arc::clone(tables.runtime()));
    crate::udf::register(&ctx);
    let catalog = ctx.catalog("datafusion").expect("default catalog");
    for &i in &t.entries {
        let e = &tables.entries()[i];
        let sp = match catalog.schema(&e.schema) {
            Some(sp) => sp,
            None => {
                let sp: Arc<dyn SchemaProvider> = Arc::new(MemorySchemaProvider::new());
                catalog.register_schema(&e.schema, Arc::clone(&sp))?;
                sp
            }
        };
        sp.register_table(e.name.clone(), Arc::clone(&e.provider))?;
    }
    let covers = t
        .covers
        .iter()
        .map(|(i, n)| (tables.entries()[*i].qualified(), *n))
        .collect();
    let with = query.with.clone();
    multiset_set_operations(&mut query, with.as_ref(), &ctx).await?;
    let stmt = datafusion::sql::parser::Statement::Statement(Box::new(Statement::Query(query)));
    let plan = ctx.state().statement_to_plan(stmt).await?;
    let columns = plan
        .schema()
        .fields()
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let mut m = field_meta(f);
            if let Some(Some((xtype, unit))) = hints.get(i) {
                if m.xtype.is_none() {
                    m.xtype = xtype.map(str::to_string);
                }
                if m.unit.is_none() {
                    m.unit = unit.map(str::to_string);
                }
                if m.xtype.is_some() {
                    m.arraysize = Some("*".into());
                }
            }
            m
        })
        .collect();
    Ok(Translated {
        ctx,
        plan,
        columns,
        covers,
        positional_joins: t.joins,
    })
}

/// Column metadata of a result field: its data type and what the plan
/// carried from the table sidecars (units, UCDs, …).
pub fn field_meta(f: &datafusion::arrow::datatypes::Field) -> FieldMeta {
    let md = f.metadata();
    let get = |k: &str| md.get(k).filter(|v| !v.is_empty()).cloned();
    // Strings: `char` only when the table declares it; computed strings
    // can hold any text, so they are `unicodeChar`.
    let declared = get(keys::DATATYPE);
    let (datatype, arraysize) = Kind::of(f.data_type(), None, declared.as_deref()).votable();
    FieldMeta {
        name: f.name().clone(),
        datatype: datatype.to_string(),
        arraysize,
        unit: get(keys::UNIT),
        ucd: get(keys::UCD),
        utype: get(keys::UTYPE),
        xtype: get(keys::XTYPE),
        description: get(keys::DESCRIPTION),
        null: None,
    }
}

struct Translator<'a> {
    tables: &'a Tables,
    /// Stored tables the query names.
    entries: Vec<usize>,
    /// Covers given to stored tables: (entry, number of ranges).
    covers: Vec<(usize, usize)>,
    joins: Vec<(u8, f64)>,
    cells: usize,
    problems: Vec<Problem>,
}

/// A constant geometry.
fn const_geom(e: &Expr) -> Option<Geom> {
    let Expr::Function(f) = strip(e) else {
        return None;
    };
    let args = args_of(f);
    let nums = |a: &[&Expr]| -> Option<Vec<f64>> { a.iter().map(|e| const_num(e)).collect() };
    let point = |e: &Expr| match const_geom(e)? {
        Geom::Point { lon, lat } => Some((lon, lat)),
        _ => None,
    };
    match func_name(f).as_str() {
        "POINT" => match nums(&args)?[..] {
            [lon, lat] => Some(Geom::Point { lon, lat }),
            _ => None,
        },
        "CIRCLE" => match args[..] {
            [p, r] => {
                let (lon, lat) = point(p)?;
                Some(Geom::Circle {
                    lon,
                    lat,
                    radius: const_num(r)?,
                })
            }
            _ => match nums(&args)?[..] {
                [lon, lat, radius] => Some(Geom::Circle { lon, lat, radius }),
                _ => None,
            },
        },
        "BOX" => {
            let (lon, lat, w, h) = match args[..] {
                [p, w, h] => {
                    let (lon, lat) = point(p)?;
                    (lon, lat, const_num(w)?, const_num(h)?)
                }
                _ => match nums(&args)?[..] {
                    [lon, lat, w, h] => (lon, lat, w, h),
                    _ => return None,
                },
            };
            Geom::new_box(lon, lat, w, h).ok()
        }
        "POLYGON" => {
            let v: Vec<(f64, f64)> = if args.iter().all(|a| point(a).is_some()) {
                args.iter().map(|a| point(a).expect("checked")).collect()
            } else {
                let n = nums(&args)?;
                if n.len() % 2 == 1 {
                    return None;
                }
                n.chunks_exact(2).map(|c| (c[0], c[1])).collect()
            };
            Geom::polygon(v).ok()
        }
        "REGION" => match strip(args.first()?) {
            Expr::Value(v) => match &v.value {
                Value::SingleQuotedString(s) => geometry::parse_stcs(s).ok(),
                _ => None,
            },
            _ => None,
        },
        _ => None,
    }
}

/// A table reference of one SELECT's FROM.
#[derive(Debug, Clone)]
struct Ref {
    /// Name that qualifies its columns (lower-case for regular identifiers).
    qualifier: Ident,
    /// Other names (table name, schema.table) when it has no alias.
    names: Vec<String>,
    entry: Option<usize>,
    /// Under an outer join's nullable side or preserved side: covers from ON
    /// are not safe.
    outer: bool,
}

fn qualifier_of(tf: &TableFactor) -> Option<(Ident, Vec<String>, Option<&ObjectName>)> {
    match tf {
        TableFactor::Table { name, alias, .. } => {
            let parts = ident_parts(name);
            let last = parts.last()?;
            let q = match alias {
                Some(a) => a.name.clone(),
                None => default_alias(last),
            };
            let mut names = vec![q.value.to_ascii_lowercase()];
            if alias.is_none() {
                names.push(
                    parts
                        .iter()
                        .map(|p| p.value.to_ascii_lowercase())
                        .collect::<Vec<_>>()
                        .join("."),
                );
            }
            Some((q, names, Some(name)))
        }
        TableFactor::Derived { alias: Some(a), .. } => Some((
            a.name.clone(),
            vec![a.name.value.to_ascii_lowercase()],
            None,
        )),
        _ => None,
    }
}

/// The alias a table without one gets (how its columns are qualified).
fn default_alias(table: &Ident) -> Ident {
    if table.quote_style.is_some() {
        table.clone()
    } else {
        Ident::new(table.value.to_ascii_lowercase())
    }
}

/// Every table factor of a SELECT's FROM (nested joins flattened), with
/// whether it sits in an outer join.
fn factors_mut(s: &mut Select) -> Vec<(&mut TableFactor, bool)> {
    fn walk<'a>(
        twj: &'a mut TableWithJoins,
        outer: bool,
        out: &mut Vec<(&'a mut TableFactor, bool)>,
    ) {
        let any_outer = outer
            || twj.joins.iter().any(|j| {
                matches!(
                    j.join_operator,
                    JoinOperator::Left(_)
                        | JoinOperator::LeftOuter(_)
                        | JoinOperator::Right(_)
                        | JoinOperator::RightOuter(_)
                        | JoinOperator::FullOuter(_)
                )
            });
        push(&mut twj.relation, any_outer, out);
        for j in twj.joins.iter_mut() {
            push(&mut j.relation, any_outer, out);
        }
    }
    fn push<'a>(tf: &'a mut TableFactor, outer: bool, out: &mut Vec<(&'a mut TableFactor, bool)>) {
        match tf {
            TableFactor::NestedJoin {
                table_with_joins, ..
            } => walk(table_with_joins, outer, out),
            other => out.push((other, outer)),
        }
    }
    let mut out = Vec::new();
    for twj in s.from.iter_mut() {
        walk(twj, false, &mut out);
    }
    out
}

/// Where a condition came from.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Place {
    Where,
    /// The ON of the `j`-th join of the `f`-th FROM item (top level only).
    On(usize, usize),
}

fn conjuncts(e: &Expr) -> Vec<&Expr> {
    match strip(e) {
        Expr::BinaryOp {
            left,
            op: BinaryOperator::And,
            right,
        } => {
            let mut v = conjuncts(left);
            v.extend(conjuncts(right));
            v
        }
        e => vec![e],
    }
}

/// What a spatial condition asks for.
#[allow(clippy::large_enum_variant)]
enum Spatial {
    /// Rows of a table inside a constant shape.
    Cover { r: usize, shape: Geom },
    /// Rows of `a` within `radius` of rows of `b`.
    Join {
        a: usize,
        a_cols: (Ident, Ident),
        b: usize,
        b_cols: (Ident, Ident),
        radius: f64,
    },
}

impl Translator<'_> {
    fn entry(&self, i: usize) -> &TableEntry {
        &self.tables.entries()[i]
    }

    /// The reference a column expression belongs to, and the column as the
    /// reference names it.
    fn column_of(&self, refs: &[Ref], e: &Expr) -> Option<(usize, Ident)> {
        match strip(e) {
            Expr::Identifier(c) => {
                let hits: Vec<usize> = refs
                    .iter()
                    .enumerate()
                    .filter(|(_, r)| {
                        r.entry.is_some_and(|i| {
                            self.entry(i)
                                .column(&c.value, c.quote_style.is_some())
                                .is_some()
                        })
                    })
                    .map(|(i, _)| i)
                    .collect();
                // Unqualified: only when exactly one stored table has it and
                // no derived table could.
                if hits.len() == 1 && refs.iter().all(|r| r.entry.is_some()) {
                    Some((hits[0], self.stored(refs[hits[0]].entry, c)))
                } else {
                    None
                }
            }
            Expr::CompoundIdentifier(parts) if parts.len() >= 2 => {
                let n = parts.len();
                let c = &parts[n - 1];
                let q = parts[..n - 1]
                    .iter()
                    .map(|p| p.value.to_ascii_lowercase())
                    .collect::<Vec<_>>()
                    .join(".");
                let q = if n > 3 {
                    q.split('.').skip(n - 3).collect::<Vec<_>>().join(".")
                } else {
                    q
                };
                let hits: Vec<usize> = refs
                    .iter()
                    .enumerate()
                    .filter(|(_, r)| r.names.contains(&q))
                    .map(|(i, _)| i)
                    .collect();
                match hits[..] {
                    [i] => match refs[i].entry {
                        Some(ei) => self
                            .entry(ei)
                            .column(&c.value, c.quote_style.is_some())
                            .map(|_| (i, self.stored(Some(ei), c))),
                        None => Some((i, c.clone())),
                    },
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// The stored column name as a delimited identifier.
    fn stored(&self, entry: Option<usize>, c: &Ident) -> Ident {
        match entry.and_then(|i| self.entry(i).column(&c.value, c.quote_style.is_some())) {
            Some(name) => Ident::with_quote('"', name),
            None => c.clone(),
        }
    }

    /// POINT(x, y) with both columns of one reference.
    fn point_cols(&self, refs: &[Ref], e: &Expr) -> Option<(usize, Ident, Ident)> {
        let Expr::Function(f) = strip(e) else {
            return None;
        };
        if func_name(f) != "POINT" {
            return None;
        }
        match args_of(f)[..] {
            [x, y] => {
                let (rx, cx) = self.column_of(refs, x)?;
                let (ry, cy) = self.column_of(refs, y)?;
                (rx == ry).then_some((rx, cx, cy))
            }
            _ => None,
        }
    }

    /// CIRCLE(x, y, r) or CIRCLE(POINT(x, y), r) centred on columns of one
    /// reference, with a constant radius.
    fn circle_cols(&self, refs: &[Ref], e: &Expr) -> Option<(usize, Ident, Ident, f64)> {
        let Expr::Function(f) = strip(e) else {
            return None;
        };
        if func_name(f) != "CIRCLE" {
            return None;
        }
        match args_of(f)[..] {
            [p, r] => {
                let (i, x, y) = self.point_cols(refs, p)?;
                Some((i, x, y, const_num(r)?))
            }
            [x, y, r] => {
                let (rx, cx) = self.column_of(refs, x)?;
                let (ry, cy) = self.column_of(refs, y)?;
                (rx == ry).then_some((rx, cx, cy, const_num(r)?))
            }
            _ => None,
        }
    }

    /// The position columns of a reference, if `x`, `y` are they.
    fn is_position(&self, refs: &[Ref], r: usize, x: &Ident, y: &Ident) -> bool {
        let Some(e) = refs[r].entry.map(|i| self.entry(i)) else {
            return false;
        };
        match (&e.position, &e.scanner) {
            (Some((ra, dec)), Some(_)) => {
                ra.eq_ignore_ascii_case(&x.value) && dec.eq_ignore_ascii_case(&y.value)
            }
            _ => false,
        }
    }

    fn spatial(&self, refs: &[Ref], cond: &Expr) -> Option<Spatial> {
        let Expr::BinaryOp { left, op, right } = strip(cond) else {
            return None;
        };
        let (left, right) = (strip(left), strip(right));
        match op {
            BinaryOperator::Eq => {
                let f = match (const_num(left), const_num(right)) {
                    (Some(1.0), None) => right,
                    (None, Some(1.0)) => left,
                    _ => return None,
                };
                let Expr::Function(f) = f else { return None };
                let name = func_name(f);
                let args = args_of(f);
                let [g1, g2] = args[..] else { return None };
                let (p, s) = match name.as_str() {
                    "CONTAINS" => (g1, g2),
                    "INTERSECTS"
                        if self.point_cols(refs, g1).is_some()
                            || const_geom(g1).is_some_and(|g| matches!(g, Geom::Point { .. })) =>
                    {
                        (g1, g2)
                    }
                    "INTERSECTS" => (g2, g1),
                    _ => return None,
                };
                if let Some((r, x, y)) = self.point_cols(refs, p) {
                    if let Some(shape) = const_geom(s) {
                        return self
                            .is_position(refs, r, &x, &y)
                            .then_some(Spatial::Cover { r, shape });
                    }
                    if let Some((b, bx, by, radius)) = self.circle_cols(refs, s) {
                        return (b != r).then_some(Spatial::Join {
                            a: r,
                            a_cols: (x, y),
                            b,
                            b_cols: (bx, by),
                            radius,
                        });
                    }
                }
                // A constant point inside a circle around the columns.
                if let (Some(Geom::Point { lon, lat }), Some((r, x, y, radius))) =
                    (const_geom(p), self.circle_cols(refs, s))
                {
                    return self.is_position(refs, r, &x, &y).then_some(Spatial::Cover {
                        r,
                        shape: Geom::Circle { lon, lat, radius },
                    });
                }
                None
            }
            BinaryOperator::Lt
            | BinaryOperator::LtEq
            | BinaryOperator::Gt
            | BinaryOperator::GtEq => {
                let (d, radius) = match op {
                    BinaryOperator::Lt | BinaryOperator::LtEq => (left, const_num(right)?),
                    _ => (right, const_num(left)?),
                };
                let Expr::Function(f) = d else { return None };
                if func_name(f) != "DISTANCE" {
                    return None;
                }
                let args = args_of(f);
                // Each side: columns of a reference, or a constant point.
                enum Side {
                    Cols(usize, Ident, Ident),
                    Const(f64, f64),
                }
                let side = |x: &Expr, y: Option<&Expr>| -> Option<Side> {
                    match y {
                        None => {
                            if let Some((r, cx, cy)) = self.point_cols(refs, x) {
                                return Some(Side::Cols(r, cx, cy));
                            }
                            match const_geom(x)? {
                                Geom::Point { lon, lat } => Some(Side::Const(lon, lat)),
                                _ => None,
                            }
                        }
                        Some(y) => {
                            if let (Some(a), Some(b)) = (const_num(x), const_num(y)) {
                                return Some(Side::Const(a, b));
                            }
                            let (rx, cx) = self.column_of(refs, x)?;
                            let (ry, cy) = self.column_of(refs, y)?;
                            (rx == ry).then_some(Side::Cols(rx, cx, cy))
                        }
                    }
                };
                let (s1, s2) = match args[..] {
                    [p1, p2] => (side(p1, None)?, side(p2, None)?),
                    [a, b, c, d] => (side(a, Some(b))?, side(c, Some(d))?),
                    _ => return None,
                };
                match (s1, s2) {
                    (Side::Cols(r, x, y), Side::Const(lon, lat))
                    | (Side::Const(lon, lat), Side::Cols(r, x, y)) => {
                        self.is_position(refs, r, &x, &y).then_some(Spatial::Cover {
                            r,
                            shape: Geom::Circle { lon, lat, radius },
                        })
                    }
                    (Side::Cols(a, ax, ay), Side::Cols(b, bx, by)) if a != b => {
                        Some(Spatial::Join {
                            a,
                            a_cols: (ax, ay),
                            b,
                            b_cols: (bx, by),
                            radius,
                        })
                    }
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// Spatial planning of one SELECT.
    fn plan_select(&mut self, s: &mut Select) {
        let refs: Vec<Ref> = factors_mut(s)
            .into_iter()
            .filter_map(|(tf, outer)| {
                let (qualifier, names, name) = qualifier_of(tf)?;
                let entry = name.and_then(|n| {
                    let p = ident_parts(n);
                    let key = |i: &Ident| (i.value.clone(), i.quote_style.is_some());
                    let (t, td) = key(p.last()?);
                    let schema = (p.len() >= 2).then(|| key(p[p.len() - 2]));
                    self.tables
                        .find(schema.as_ref().map(|(s, d)| (s.as_str(), *d)), (&t, td))
                });
                Some(Ref {
                    qualifier,
                    names,
                    entry,
                    outer,
                })
            })
            .collect();
        if refs.len() != factors_mut(s).len() || refs.is_empty() {
            return;
        }
        // Conditions: WHERE, and the ON of inner joins.
        let mut found: Vec<(Place, Spatial)> = Vec::new();
        if let Some(w) = &s.selection {
            for c in conjuncts(w) {
                if let Some(sp) = self.spatial(&refs, c) {
                    found.push((Place::Where, sp));
                }
            }
        }
        for (fi, twj) in s.from.iter().enumerate() {
            for (ji, j) in twj.joins.iter().enumerate() {
                if let JoinOperator::Join(JoinConstraint::On(on))
                | JoinOperator::Inner(JoinConstraint::On(on)) = &j.join_operator
                {
                    for c in conjuncts(on) {
                        if let Some(sp) = self.spatial(&refs, c) {
                            found.push((Place::On(fi, ji), sp));
                        }
                    }
                }
            }
        }
        if found.is_empty() {
            return;
        }
        // Covers first (they rename table factors), then joins (they wrap).
        let mut per_ref: HashMap<usize, Vec<Geom>> = HashMap::new();
        let mut joins = Vec::new();
        for (place, sp) in found {
            match sp {
                Spatial::Cover { r, shape } => {
                    // ON conditions under outer joins could drop preserved rows.
                    if place == Place::Where || !refs[r].outer {
                        per_ref.entry(r).or_default().push(shape)
                    }
                }
                j @ Spatial::Join { .. } => joins.push((place, j)),
            }
        }
        let mut factors = factors_mut(s);
        for (r, shapes) in per_ref {
            let entry = refs[r].entry.expect("covers need a stored table");
            let mut ranges: Option<Vec<Range<u64>>> = None;
            for g in shapes {
                let c = geometry::cover(&g, geometry::cover_depth(&g));
                ranges = Some(match ranges {
                    None => c,
                    Some(prev) => astrolake_catalog::healpix::intersect_ranges(&prev, &c),
                });
            }
            let ranges = ranges.expect("one shape at least");
            self.covers.push((entry, ranges.len()));
            cover(&mut *factors[r].0, &refs[r].qualifier, &ranges);
        }
        drop(factors);
        let mut excluded: Vec<(usize, Ident)> = Vec::new();
        let mut extra: Vec<(Place, Expr)> = Vec::new();
        for (place, j) in joins {
            let Spatial::Join {
                a,
                a_cols,
                b,
                b_cols,
                radius,
            } = j
            else {
                continue;
            };
            if !(radius.is_finite() && radius >= 0.0) {
                continue;
            }
            let depth = geometry::join_depth(radius);
            self.cells += 1;
            let n = self.cells;
            let (ca, cb) = (
                Ident::with_quote('"', format!("__cell_a{n}")),
                Ident::with_quote('"', format!("__cell_b{n}")),
            );
            let mut factors = factors_mut(s);
            let qa = refs[a].qualifier.clone();
            let qb = refs[b].qualifier.clone();
            let cell_a = sql_ast::aliased(
                call(
                    Func::Cell.name(),
                    vec![
                        sql_ast::int(depth),
                        sql_ast::column(&qa, &a_cols.0),
                        sql_ast::column(&qa, &a_cols.1),
                    ],
                ),
                ca.clone(),
            );
            let cell_b = sql_ast::aliased(
                call(
                    "unnest",
                    vec![call(
                        Func::ConeCells.name(),
                        vec![
                            sql_ast::int(depth),
                            sql_ast::column(&qb, &b_cols.0),
                            sql_ast::column(&qb, &b_cols.1),
                            num(radius),
                        ],
                    )],
                ),
                cb.clone(),
            );
            let ok_a = wrap(&mut *factors[a].0, &qa, cell_a);
            let ok_b = wrap(&mut *factors[b].0, &qb, cell_b);
            if !(ok_a && ok_b) {
                // Leave it to the engine (cannot happen for tables and
                // aliased derived tables).
                continue;
            }
            excluded.push((a, ca.clone()));
            excluded.push((b, cb.clone()));
            extra.push((
                place,
                Expr::BinaryOp {
                    left: Box::new(Expr::CompoundIdentifier(vec![qa, ca])),
                    op: BinaryOperator::Eq,
                    right: Box::new(Expr::CompoundIdentifier(vec![qb, cb])),
                },
            ));
            self.joins.push((depth, radius));
        }
        for (place, e) in extra {
            let target = match place {
                Place::Where => s.selection.as_mut(),
                Place::On(fi, ji) => match &mut s.from[fi].joins[ji].join_operator {
                    JoinOperator::Join(JoinConstraint::On(on))
                    | JoinOperator::Inner(JoinConstraint::On(on)) => Some(on),
                    _ => None,
                },
            };
            if let Some(t) = target {
                let old = std::mem::replace(t, Expr::Value(Value::Null.into()));
                *t = Expr::BinaryOp {
                    left: Box::new(Expr::Nested(Box::new(old))),
                    op: BinaryOperator::And,
                    right: Box::new(e),
                };
            }
        }
        // Wildcards must not show the cell columns.
        if !excluded.is_empty() {
            for item in s.projection.iter_mut() {
                match item {
                    SelectItem::Wildcard(opts) => {
                        let cols: Vec<Ident> = excluded.iter().map(|(_, c)| c.clone()).collect();
                        opts.opt_exclude = Some(ExcludeSelectItem::Multiple(
                            cols.into_iter()
                                .map(|c| ObjectName::from(vec![c]))
                                .collect(),
                        ));
                    }
                    SelectItem::QualifiedWildcard(
                        SelectItemQualifiedWildcardKind::ObjectName(n),
                        opts,
                    ) => {
                        let q = n.to_string().to_ascii_lowercase();
                        let cols: Vec<ObjectName> = excluded
                            .iter()
                            .filter(|(r, _)| refs[*r].names.contains(&q))
                            .map(|(_, c)| ObjectName::from(vec![c.clone()]))
                            .collect();
                        if !cols.is_empty() {
                            opts.opt_exclude = Some(ExcludeSelectItem::Multiple(cols));
                        }
                    }
                    _ => {}
                }
            }
        }
    }
}

/// A table factor named `q`, given the alias `q` when it has none (so the
/// same name qualifies its columns inside and outside a wrapping).
fn named(tf: &TableFactor, q: &Ident) -> Option<TableFactor> {
    let mut inner = tf.clone();
    match &mut inner {
        TableFactor::Table { alias, .. } | TableFactor::Derived { alias, .. } => {
            if alias.is_none() {
                *alias = Some(sql_ast::alias(q.clone(), Vec::new()));
            }
        }
        _ => return None,
    }
    Some(inner)
}

/// Restrict a stored table's factor to its HEALPix cover: `(SELECT * FROM
/// <factor> AS q WHERE healpix_cover(q._healpix_29, [ranges…])) AS q`. The
/// filter is a plain plan expression the table provider prunes with
/// ([`astrolake_catalog::cover`]).
fn cover(tf: &mut TableFactor, q: &Ident, ranges: &[Range<u64>]) {
    let Some(inner) = named(tf, q) else {
        return;
    };
    let bounds = ranges
        .iter()
        .flat_map(|r| [sql_ast::int(r.start), sql_ast::int(r.end)])
        .collect();
    let filter = call(
        astrolake_catalog::cover::COVER_FUNCTION,
        vec![
            sql_ast::column(
                q,
                &Ident::with_quote('"', astrolake_catalog::healpix::HEALPIX_COLUMN),
            ),
            sql_ast::array(bounds),
        ],
    );
    let body = sql_ast::select(vec![sql_ast::wildcard()], inner, Some(filter));
    *tf = sql_ast::derived(sql_ast::query(body), q.clone(), Vec::new());
}

/// Replace a table factor by `(SELECT q.*, <extra> FROM <factor> AS q) AS q`.
fn wrap(tf: &mut TableFactor, q: &Ident, extra: SelectItem) -> bool {
    let Some(inner) = named(tf, q) else {
        return false;
    };
    let body = sql_ast::select(vec![sql_ast::qualified_wildcard(q), extra], inner, None);
    *tf = sql_ast::derived(sql_ast::query(body), q.clone(), Vec::new());
    true
}

struct SpatialPass<'t, 'a>(&'t mut Translator<'a>);

impl VisitorMut for SpatialPass<'_, '_> {
    type Break = ();
    fn pre_visit_select(&mut self, s: &mut Select) -> ControlFlow<()> {
        self.0.plan_select(s);
        ControlFlow::Continue(())
    }
}

/// What the ADQL functions of the top-level select list say about their
/// results (xtype, unit), by output position; `None` after a wildcard.
fn output_hints(q: &Query) -> Vec<Option<(Option<&'static str>, Option<&'static str>)>> {
    let SetExpr::Select(s) = q.body.as_ref() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for item in &s.projection {
        let e = match item {
            SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => e,
            _ => return out,
        };
        let hint = match strip(e) {
            Expr::Function(f) => match func_name(f).as_str() {
                "POINT" | "CENTROID" | "IVO_HEALPIX_CENTER" | "IVO_EPOCH_PROP_POS" => {
                    Some((Some("point"), Some("deg")))
                }
                "CIRCLE" => Some((Some("circle"), Some("deg"))),
                "BOX" | "POLYGON" => Some((Some("polygon"), Some("deg"))),
                "DISTANCE" | "COORD1" | "COORD2" => Some((None, Some("deg"))),
                "AREA" => Some((None, Some("deg**2"))),
                _ => None,
            },
            Expr::Cast {
                data_type: DataType::Custom(n, _),
                ..
            } => match n.to_string().to_ascii_lowercase().as_str() {
                "point" => Some((Some("point"), Some("deg"))),
                "circle" => Some((Some("circle"), Some("deg"))),
                "polygon" => Some((Some("polygon"), Some("deg"))),
                _ => None,
            },
            _ => None,
        };
        out.push(hint);
    }
    out
}

/// Pass 1: names for unnamed computed output columns, unique within each
/// SELECT (`distance`, `count`, `expr`, then `_2`, `_3`…).
fn name_outputs(q: &mut Query) {
    struct Names;
    impl VisitorMut for Names {
        type Break = ();
        fn pre_visit_select(&mut self, s: &mut Select) -> ControlFlow<()> {
            let mut taken: Vec<String> = s
                .projection
                .iter()
                .filter_map(|i| match i {
                    SelectItem::ExprWithAlias { alias, .. } => {
                        Some(alias.value.to_ascii_lowercase())
                    }
                    SelectItem::UnnamedExpr(Expr::Identifier(c)) => {
                        Some(c.value.to_ascii_lowercase())
                    }
                    SelectItem::UnnamedExpr(Expr::CompoundIdentifier(p)) => {
                        p.last().map(|c| c.value.to_ascii_lowercase())
                    }
                    _ => None,
                })
                .collect();
            for item in s.projection.iter_mut() {
                if let SelectItem::UnnamedExpr(e) = item {
                    let base = match strip(e) {
                        Expr::Identifier(_) | Expr::CompoundIdentifier(_) => continue,
                        Expr::Function(f) => f.name.to_string().to_ascii_lowercase(),
                        Expr::Cast { .. } => "cast".into(),
                        Expr::Value(_) => "constant".into(),
                        _ => "expr".into(),
                    };
                    let mut name = base.clone();
                    let mut k = 2;
                    while taken.contains(&name) {
                        name = format!("{base}_{k}");
                        k += 1;
                    }
                    taken.push(name.clone());
                    *item = SelectItem::ExprWithAlias {
                        expr: e.clone(),
                        alias: Ident::with_quote('"', name),
                    };
                }
            }
            ControlFlow::Continue(())
        }
    }
    let _ = q.visit(&mut Names);
}

/// Pass 3: ADQL functions → DataFusion; identifiers → stored case.
struct Functions<'t, 'a>(&'t mut Translator<'a>);

fn as_point(e: &Expr) -> Option<(Expr, Expr)> {
    match strip(e) {
        Expr::Function(f) if f.name.to_string() == Func::Point.name() => match args_of(f)[..] {
            [x, y] => Some((x.clone(), y.clone())),
            _ => None,
        },
        _ => None,
    }
}

fn point_coords(p: &Expr) -> (Expr, Expr) {
    as_point(p).unwrap_or_else(|| {
        (
            call(Func::Coord1.name(), vec![p.clone()]),
            call(Func::Coord2.name(), vec![p.clone()]),
        )
    })
}

impl Translator<'_> {
    /// The stored column a plain identifier names (global over the query's
    /// stored tables), as a delimited identifier when its case differs.
    fn resolve_ident(&self, c: &Ident) -> Option<Ident> {
        if c.quote_style.is_some() {
            return None;
        }
        let lower = c.value.to_ascii_lowercase();
        for &i in &self.entries {
            if let Some(name) = self.entry(i).column(&c.value, false) {
                if name != lower {
                    return Some(Ident::with_quote('"', name));
                }
                return None;
            }
        }
        None
    }

    fn unit_of(&self, e: &Expr) -> Option<String> {
        let c = match strip(e) {
            Expr::Identifier(c) => c,
            Expr::CompoundIdentifier(p) => p.last()?,
            Expr::Function(f) => {
                let n = f.name.to_string();
                let distance = [Func::Distance, Func::DistanceGeom].map(Func::name);
                return distance.contains(&n.as_str()).then(|| "deg".to_string());
            }
            _ => return None,
        };
        for &i in &self.entries {
            let e = self.entry(i);
            if let Some(name) = e.column(&c.value, c.quote_style.is_some()) {
                return e.meta.field(name).and_then(|f| f.unit.clone());
            }
        }
        None
    }

    fn rewrite_call(&mut self, f: &Function, pos: Pos) -> Option<Expr> {
        let name = func_name(f);
        let args: Vec<Expr> = args_of(f).into_iter().cloned().collect();
        let e = match (name.as_str(), &args[..]) {
            ("POINT", _) => call(Func::Point.name(), args),
            ("CIRCLE", [p, r]) => {
                let (x, y) = point_coords(p);
                call(Func::Circle.name(), vec![x, y, r.clone()])
            }
            ("CIRCLE", _) => call(Func::Circle.name(), args),
            ("BOX", [p, w, h]) => {
                let (x, y) = point_coords(p);
                call(Func::Box.name(), vec![x, y, w.clone(), h.clone()])
            }
            ("BOX", _) => call(Func::Box.name(), args),
            ("POLYGON", _) => {
                let points = args.len() >= 3 && args.iter().all(|a| as_point(a).is_some());
                if points {
                    let flat = args
                        .iter()
                        .flat_map(|p| {
                            let (x, y) = point_coords(p);
                            [x, y]
                        })
                        .collect();
                    call(Func::Polygon.name(), flat)
                } else {
                    call(Func::Polygon.name(), args)
                }
            }
            ("REGION", _) => call(Func::Region.name(), args),
            ("MOC", _) => call(Func::Moc.name(), args),
            ("CONTAINS", [a, b]) => match as_point(a) {
                Some((x, y)) => match strip(b) {
                    Expr::Function(c) if c.name.to_string() == Func::Circle.name() => {
                        let mut v = vec![x, y];
                        v.extend(args_of(c).into_iter().cloned());
                        call(Func::InCircle.name(), v)
                    }
                    _ => call(Func::InGeom.name(), vec![x, y, b.clone()]),
                },
                None => call(Func::Contains.name(), args),
            },
            ("INTERSECTS", [a, b]) => match (as_point(a), as_point(b)) {
                (Some((x, y)), _) => call(Func::InGeom.name(), vec![x, y, b.clone()]),
                (None, Some((x, y))) => call(Func::InGeom.name(), vec![x, y, a.clone()]),
                _ => call(Func::Intersects.name(), args),
            },
            ("DISTANCE", [p1, p2]) => match (as_point(p1), as_point(p2)) {
                (Some((x1, y1)), Some((x2, y2))) => {
                    call(Func::Distance.name(), vec![x1, y1, x2, y2])
                }
                _ => call(Func::DistanceGeom.name(), args),
            },
            ("DISTANCE", _) => call(Func::Distance.name(), args),
            ("AREA", _) => call(Func::Area.name(), args),
            ("CENTROID", _) => call(Func::Centroid.name(), args),
            ("COORD1", [p]) => match as_point(p) {
                Some((x, _)) => x,
                None => call(Func::Coord1.name(), args),
            },
            ("COORD2", [p]) => match as_point(p) {
                Some((_, y)) => y,
                None => call(Func::Coord2.name(), args),
            },
            ("COORDSYS", _) => call(Func::Coordsys.name(), args),
            ("CEILING", _) => call("ceil", args),
            ("LOG", _) => call("ln", args),
            ("TRUNCATE", _) => call("trunc", args),
            ("RAND", _) => call("random", Vec::new()),
            ("MOD", [a, b]) => Expr::Nested(Box::new(Expr::BinaryOp {
                left: Box::new(a.clone()),
                op: BinaryOperator::Modulo,
                right: Box::new(b.clone()),
            })),
            ("IN_UNIT", [x, u]) => {
                let target = match strip(u) {
                    Expr::Value(v) => match &v.value {
                        Value::SingleQuotedString(s) => s.clone(),
                        _ => String::new(),
                    },
                    _ => String::new(),
                };
                let Some(from) = self.unit_of(x) else {
                    self.problems.push(Problem {
                        pos,
                        message: format!(
                            "IN_UNIT: the unit of {x} is not known (IN_UNIT converts columns \
                             with a declared unit)"
                        ),
                    });
                    return None;
                };
                match crate::units::conversion_factor(&from, &target) {
                    Ok(k) => Expr::Nested(Box::new(Expr::BinaryOp {
                        left: Box::new(x.clone()),
                        op: BinaryOperator::Multiply,
                        right: Box::new(num(k)),
                    })),
                    Err(e) => {
                        self.problems.push(Problem {
                            pos,
                            message: format!("IN_UNIT: {e}"),
                        });
                        return None;
                    }
                }
            }
            ("IVO_STRING_AGG", _) => {
                let mut g = f.clone();
                g.name = ObjectName::from(vec![Ident::new("string_agg")]);
                Expr::Function(g)
            }
            _ => return None,
        };
        Some(e)
    }
}

impl VisitorMut for Functions<'_, '_> {
    type Break = ();
    fn post_visit_expr(&mut self, e: &mut Expr) -> ControlFlow<()> {
        let new = match e {
            Expr::Function(f) => {
                let pos = Pos::from_location(f.name.span().start);
                self.0.rewrite_call(f, pos)
            }
            Expr::Identifier(c) => self.0.resolve_ident(c).map(Expr::Identifier),
            Expr::CompoundIdentifier(parts) => {
                let n = parts.len();
                let mut p: Vec<Ident> = if n >= 3 {
                    // schema.table.column → table.column (tables are
                    // aliased by their name).
                    vec![default_alias(&parts[n - 2]), parts[n - 1].clone()]
                } else {
                    parts.clone()
                };
                if let Some(c) = self.0.resolve_ident(&p[p.len() - 1]) {
                    let last = p.len() - 1;
                    p[last] = c;
                }
                (p != *parts).then_some(Expr::CompoundIdentifier(p))
            }
            Expr::Cast {
                expr,
                data_type: DataType::Custom(name, _),
                ..
            } => {
                let kind = name.to_string().to_ascii_lowercase();
                Some(call(
                    Func::CastGeom.name(),
                    vec![
                        Expr::Value(Value::SingleQuotedString(kind).into()),
                        (**expr).clone(),
                    ],
                ))
            }
            _ => None,
        };
        if let Some(n) = new {
            *e = n;
        }
        ControlFlow::Continue(())
    }
}

/// A JOIN without ON, USING or NATURAL is a cross join (ADQL's join
/// specification is optional).
fn bare_joins(q: &mut Query) {
    fn cross(joins: &mut [sqlparser::ast::Join]) {
        for j in joins {
            if matches!(
                j.join_operator,
                JoinOperator::Join(JoinConstraint::None)
                    | JoinOperator::Inner(JoinConstraint::None)
            ) {
                j.join_operator = JoinOperator::CrossJoin(JoinConstraint::None);
            }
        }
    }
    struct J;
    impl VisitorMut for J {
        type Break = ();
        fn pre_visit_select(&mut self, s: &mut Select) -> ControlFlow<()> {
            for twj in s.from.iter_mut() {
                cross(&mut twj.joins);
            }
            ControlFlow::Continue(())
        }
        fn pre_visit_table_factor(&mut self, tf: &mut TableFactor) -> ControlFlow<()> {
            if let TableFactor::NestedJoin {
                table_with_joins, ..
            } = tf
            {
                cross(&mut table_with_joins.joins);
            }
            ControlFlow::Continue(())
        }
    }
    let _ = q.visit(&mut J);
}

/// Pass 4: table names → the registered tables (stored case), each
/// aliased so its columns can be qualified as the query wrote them.
struct TablesPass<'t, 'a>(&'t mut Translator<'a>);

impl VisitorMut for TablesPass<'_, '_> {
    type Break = ();
    fn pre_visit_table_factor(&mut self, tf: &mut TableFactor) -> ControlFlow<()> {
        if let TableFactor::Table { name, alias, .. } = tf {
            let parts = ident_parts(name);
            let Some(last) = parts.last() else {
                return ControlFlow::Continue(());
            };
            let key = |i: &Ident| (i.value.clone(), i.quote_style.is_some());
            let (t, td) = key(last);
            let schema = (parts.len() >= 2).then(|| key(parts[parts.len() - 2]));
            let found = self
                .0
                .tables
                .find(schema.as_ref().map(|(s, d)| (s.as_str(), *d)), (&t, td));
            if let Some(i) = found {
                let default = default_alias(last);
                let e = self.0.entry(i);
                *name = ObjectName::from(vec![
                    Ident::with_quote('"', e.schema.clone()),
                    Ident::with_quote('"', e.name.clone()),
                ]);
                if alias.is_none() {
                    *alias = Some(TableAlias {
                        explicit: true,
                        name: default,
                        columns: Vec::new(),
                        at: None,
                    });
                }
            }
        }
        ControlFlow::Continue(())
    }
}

/// The output column names of a set-operation branch, planned alone (with
/// the query's WITH); `None` when it cannot be planned alone (it refers to
/// an outer query).
async fn branch_columns(
    branch: &SetExpr,
    with: Option<&sqlparser::ast::With>,
    ctx: &SessionContext,
) -> Option<Vec<String>> {
    let mut q = sql_ast::query(branch.clone());
    q.with = with.cloned();
    let stmt = datafusion::sql::parser::Statement::Statement(Box::new(Statement::Query(q)));
    let plan = ctx.state().statement_to_plan(stmt).await.ok()?;
    Some(
        plan.schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect(),
    )
}

/// `A INTERSECT ALL B` and `A EXCEPT ALL B` with SQL's multiset meaning
/// (DataFusion 55 plans them as semi and anti joins, which keep every
/// duplicate of A): each row is numbered within its group of equal rows on
/// both sides, and the numbered rows are intersected or subtracted as sets.
fn multiset_set_operations<'a>(
    q: &'a mut Query,
    with: Option<&'a sqlparser::ast::With>,
    ctx: &'a SessionContext,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<()>> + Send + 'a>> {
    Box::pin(async move {
        fix_set_expr(q.body.as_mut(), with, ctx).await?;
        Ok(())
    })
}

fn fix_set_expr<'a>(
    e: &'a mut SetExpr,
    with: Option<&'a sqlparser::ast::With>,
    ctx: &'a SessionContext,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<()>> + Send + 'a>> {
    Box::pin(async move {
        match e {
            SetExpr::SetOperation {
                left,
                op,
                set_quantifier,
                right,
            } => {
                fix_set_expr(left.as_mut(), with, ctx).await?;
                fix_set_expr(right.as_mut(), with, ctx).await?;
                let multiset = matches!(
                    op,
                    sqlparser::ast::SetOperator::Intersect | sqlparser::ast::SetOperator::Except
                ) && matches!(set_quantifier, sqlparser::ast::SetQuantifier::All);
                if !multiset {
                    return Ok(());
                }
                let Some(names) = branch_columns(left, with, ctx).await else {
                    return Ok(());
                };
                let cols: Vec<Ident> = (1..=names.len())
                    .map(|i| Ident::with_quote('"', format!("__c{i}")))
                    .collect();
                let refs = || cols.iter().cloned().map(Expr::Identifier);
                // SELECT c…, ROW_NUMBER() OVER (PARTITION BY c…) AS __n
                // FROM (branch) AS alias(c…)
                let side = |b: &SetExpr, alias: &str| {
                    let mut projection: Vec<SelectItem> =
                        refs().map(SelectItem::UnnamedExpr).collect();
                    projection.push(sql_ast::aliased(
                        sql_ast::row_number_over(refs().collect()),
                        Ident::with_quote('"', "__n"),
                    ));
                    let from = sql_ast::derived(
                        sql_ast::query(b.clone()),
                        Ident::with_quote('"', alias),
                        cols.clone(),
                    );
                    Box::new(sql_ast::select(projection, from, None))
                };
                let numbered = SetExpr::SetOperation {
                    left: side(left, "__l"),
                    op: *op,
                    set_quantifier: sqlparser::ast::SetQuantifier::None,
                    right: side(right, "__r"),
                };
                let outputs = cols
                    .iter()
                    .zip(&names)
                    .map(|(c, n)| {
                        sql_ast::aliased(Expr::Identifier(c.clone()), Ident::with_quote('"', n))
                    })
                    .collect();
                let from = sql_ast::derived(
                    sql_ast::query(numbered),
                    Ident::with_quote('"', "__multiset"),
                    Vec::new(),
                );
                *e = SetExpr::Query(sql_ast::query(sql_ast::select(outputs, from, None)));
            }
            SetExpr::Query(q) => multiset_set_operations(q, with, ctx).await?,
            SetExpr::Select(s) => {
                for twj in s.from.iter_mut() {
                    fix_factor(&mut twj.relation, with, ctx).await?;
                    for j in twj.joins.iter_mut() {
                        fix_factor(&mut j.relation, with, ctx).await?;
                    }
                }
            }
            _ => {}
        }
        Ok(())
    })
}

fn fix_factor<'a>(
    tf: &'a mut TableFactor,
    with: Option<&'a sqlparser::ast::With>,
    ctx: &'a SessionContext,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<()>> + Send + 'a>> {
    Box::pin(async move {
        match tf {
            TableFactor::Derived { subquery, .. } => {
                multiset_set_operations(subquery, with, ctx).await?
            }
            TableFactor::NestedJoin {
                table_with_joins, ..
            } => {
                fix_factor(&mut table_with_joins.relation, with, ctx).await?;
                for j in table_with_joins.joins.iter_mut() {
                    fix_factor(&mut j.relation, with, ctx).await?;
                }
            }
            _ => {}
        }
        Ok(())
    })
}

/// TOP n → LIMIT n (applied after ORDER BY, as ADQL says; OFFSET first).
fn top_to_limit(q: &mut Query) {
    struct Top;
    impl VisitorMut for Top {
        type Break = ();
        fn post_visit_query(&mut self, q: &mut Query) -> ControlFlow<()> {
            let top = match q.body.as_mut() {
                SetExpr::Select(s) => s.top.take(),
                _ => None,
            };
            if let Some(top) = top {
                let n = match top.quantity {
                    Some(TopQuantity::Constant(n)) => {
                        Expr::Value(Value::Number(n.to_string(), false).into())
                    }
                    Some(TopQuantity::Expr(e)) => e,
                    None => return ControlFlow::Continue(()),
                };
                let offset = match q.limit_clause.take() {
                    Some(LimitClause::LimitOffset { offset, .. }) => offset,
                    _ => None,
                };
                q.limit_clause = Some(LimitClause::LimitOffset {
                    limit: Some(n),
                    offset,
                    limit_by: Vec::new(),
                });
            }
            // TOP inside a set operation's branch: make the branch a query.
            fn branches(s: &mut SetExpr) {
                match s {
                    SetExpr::SetOperation { left, right, .. } => {
                        branches(left);
                        branches(right);
                    }
                    SetExpr::Select(sel) if sel.top.is_some() => {
                        let inner = *sql_ast::query(SetExpr::Select(sel.clone()));
                        let mut inner = inner;
                        let _ = inner.visit(&mut Top);
                        *s = SetExpr::Query(Box::new(inner));
                    }
                    _ => {}
                }
            }
            if let SetExpr::SetOperation { .. } = q.body.as_mut() {
                branches(q.body.as_mut());
            }
            ControlFlow::Continue(())
        }
    }
    let _ = q.visit(&mut Top);
}
