//! NATURAL and USING joins between tables, as SQL defines them, for an
//! engine that gets them wrong: DataFusion 55 cannot plan a second USING
//! or NATURAL join on a column both earlier tables have ("ambiguous
//! reference", so `resource NATURAL JOIN capability NATURAL JOIN
//! interface`, the core of every RegTAP query, fails), and its `*` over an
//! outer USING join shows the right table's copy of the join column, NULL
//! where the left row had no match.
//!
//! In a SELECT whose FROM is one chain of registered tables, each NATURAL
//! or USING join becomes an ON join on the tables' qualified columns; the
//! join column is the left one for inner and left joins, the right one for
//! right joins and the COALESCE of both for full joins, and the SELECT's
//! unqualified references to it (outside subqueries) name that; `*` lists
//! the join columns once, first, then the other columns in table order.
//! Chains with other factors (derived tables, spatially wrapped tables)
//! are left to the engine.

use std::ops::ControlFlow;

use sqlparser::ast::{
    BinaryOperator, Expr, GroupByExpr, Ident, JoinConstraint, JoinOperator, Query, Select,
    SelectItem, TableFactor, Value, VisitMut, VisitorMut,
};

use crate::check::ident_parts;
use crate::sql_ast::{call, join_constraint};
use crate::tables::Tables;

/// Rewrite every SELECT of `q` (see the module).
pub(crate) fn natural_joins(q: &mut Query, tables: &Tables) {
    struct N<'a>(&'a Tables);
    impl VisitorMut for N<'_> {
        type Break = ();
        fn pre_visit_select(&mut self, s: &mut Select) -> ControlFlow<()> {
            rewrite(s, self.0);
            ControlFlow::Continue(())
        }
    }
    let _ = q.visit(&mut N(tables));
}

#[derive(Clone, Copy)]
enum Side {
    Left,
    Right,
    Full,
}

/// A join's constraint and which side its join columns come from.
fn constraint(op: &JoinOperator) -> Option<(&JoinConstraint, Side)> {
    let side = match op {
        JoinOperator::Right(_) | JoinOperator::RightOuter(_) => Side::Right,
        JoinOperator::FullOuter(_) => Side::Full,
        _ => Side::Left,
    };
    join_constraint(op).map(|c| (c, side))
}

/// The alias and column names of a registered table factor.
fn columns(tf: &TableFactor, tables: &Tables) -> Option<(Ident, Vec<String>)> {
    let TableFactor::Table {
        name,
        alias: Some(alias),
        args: None,
        ..
    } = tf
    else {
        return None;
    };
    let parts = ident_parts(name);
    let [schema, table] = parts[..] else {
        return None;
    };
    fn key(i: &Ident) -> (&str, bool) {
        (i.value.as_str(), i.quote_style.is_some())
    }
    let i = tables.find(Some(key(schema)), key(table))?;
    let names = tables.entries()[i]
        .provider
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    Some((alias.name.clone(), names))
}

fn column(alias: &Ident, name: &str) -> Expr {
    Expr::CompoundIdentifier(vec![alias.clone(), Ident::with_quote('"', name)])
}

/// A visible column of the joined tables: its name, what it is, and
/// whether it is a join column.
struct Visible {
    name: String,
    expr: Expr,
    merged: bool,
}

fn rewrite(s: &mut Select, tables: &Tables) {
    let [twj] = &s.from[..] else {
        return;
    };
    let natural = |op: &JoinOperator| {
        matches!(
            constraint(op),
            Some((JoinConstraint::Natural | JoinConstraint::Using(_), _))
        )
    };
    if !twj.joins.iter().any(|j| natural(&j.join_operator)) {
        return;
    }
    let Some(first) = columns(&twj.relation, tables) else {
        return;
    };
    let mut visible: Vec<Visible> = first
        .1
        .iter()
        .map(|c| Visible {
            name: c.clone(),
            expr: column(&first.0, c),
            merged: false,
        })
        .collect();
    // The new ON condition of each NATURAL or USING join.
    let mut conditions: Vec<(usize, Expr)> = Vec::new();
    for (k, j) in twj.joins.iter().enumerate() {
        let Some((alias, right)) = columns(&j.relation, tables) else {
            return;
        };
        let find = |v: &[Visible], n: &str| -> Option<usize> {
            let hits: Vec<usize> = (0..v.len())
                .filter(|&i| v[i].name.eq_ignore_ascii_case(n))
                .collect();
            match hits[..] {
                [one] => Some(one),
                _ => None,
            }
        };
        let right_of = |n: &str| right.iter().find(|c| c.eq_ignore_ascii_case(n)).cloned();
        let (common, side): (Vec<(usize, String)>, Side) = match constraint(&j.join_operator) {
            Some((JoinConstraint::Natural, side)) => {
                let mut common = Vec::new();
                for (i, v) in visible.iter().enumerate() {
                    if let Some(r) = right_of(&v.name) {
                        if find(&visible, &v.name) != Some(i) {
                            return; // ambiguous on the left: the engine says so
                        }
                        common.push((i, r));
                    }
                }
                (common, side)
            }
            Some((JoinConstraint::Using(cols), side)) => {
                let mut common = Vec::new();
                for c in cols {
                    let parts = ident_parts(c);
                    let [n] = parts[..] else { return };
                    let (Some(i), Some(r)) = (find(&visible, &n.value), right_of(&n.value)) else {
                        return;
                    };
                    common.push((i, r));
                }
                (common, side)
            }
            _ => {
                visible.extend(right.iter().map(|c| Visible {
                    name: c.clone(),
                    expr: column(&alias, c),
                    merged: false,
                }));
                continue;
            }
        };
        let on = common
            .iter()
            .map(|(i, r)| Expr::BinaryOp {
                left: Box::new(visible[*i].expr.clone()),
                op: BinaryOperator::Eq,
                right: Box::new(column(&alias, r)),
            })
            .reduce(|a, b| Expr::BinaryOp {
                left: Box::new(a),
                op: BinaryOperator::And,
                right: Box::new(b),
            })
            .unwrap_or(Expr::Value(Value::Boolean(true).into()));
        conditions.push((k, on));
        // Join columns first, then the rest of the left, then the right.
        let mut next: Vec<Visible> = common
            .iter()
            .map(|(i, r)| {
                let (l, rr) = (visible[*i].expr.clone(), column(&alias, r));
                Visible {
                    name: visible[*i].name.clone(),
                    expr: match side {
                        Side::Left => l,
                        Side::Right => rr,
                        Side::Full => call("coalesce", vec![l, rr]),
                    },
                    merged: true,
                }
            })
            .collect();
        let used: Vec<usize> = common.iter().map(|(i, _)| *i).collect();
        let rights: Vec<String> = common.iter().map(|(_, r)| r.clone()).collect();
        for (i, v) in visible.into_iter().enumerate() {
            if !used.contains(&i) {
                next.push(v);
            }
        }
        next.extend(
            right
                .iter()
                .filter(|c| !rights.contains(c))
                .map(|c| Visible {
                    name: c.clone(),
                    expr: column(&alias, c),
                    merged: false,
                }),
        );
        visible = next;
    }

    // Apply.
    for (k, on) in conditions {
        let op = &mut s.from[0].joins[k].join_operator;
        *op = with_on(op, on);
    }
    let merged: Vec<(String, Expr)> = visible
        .iter()
        .filter(|v| v.merged)
        .map(|v| (v.name.clone(), v.expr.clone()))
        .collect();
    let mut projection = Vec::new();
    for item in std::mem::take(&mut s.projection) {
        match item {
            SelectItem::Wildcard(_) => {
                projection.extend(visible.iter().map(|v| SelectItem::ExprWithAlias {
                    expr: v.expr.clone(),
                    alias: Ident::with_quote('"', &v.name),
                }))
            }
            SelectItem::UnnamedExpr(Expr::Identifier(i))
                if merged.iter().any(|(n, _)| n.eq_ignore_ascii_case(&i.value)) =>
            {
                let mut expr = Expr::Identifier(i.clone());
                unqualified(&mut expr, &merged);
                projection.push(SelectItem::ExprWithAlias { expr, alias: i });
            }
            SelectItem::UnnamedExpr(mut expr) => {
                unqualified(&mut expr, &merged);
                projection.push(SelectItem::UnnamedExpr(expr));
            }
            SelectItem::ExprWithAlias { mut expr, alias } => {
                unqualified(&mut expr, &merged);
                projection.push(SelectItem::ExprWithAlias { expr, alias });
            }
            other => projection.push(other),
        }
    }
    s.projection = projection;
    if let Some(e) = s.selection.as_mut() {
        unqualified(e, &merged);
    }
    if let Some(e) = s.having.as_mut() {
        unqualified(e, &merged);
    }
    if let GroupByExpr::Expressions(exprs, _) = &mut s.group_by {
        for e in exprs {
            unqualified(e, &merged);
        }
    }
    for j in &mut s.from[0].joins {
        unqualified(&mut j.join_operator, &merged);
    }
}

/// `op`, the same kind of join, with the condition `on`.
fn with_on(op: &JoinOperator, on: Expr) -> JoinOperator {
    let c = JoinConstraint::On(on);
    match op {
        JoinOperator::Join(_) => JoinOperator::Join(c),
        JoinOperator::Inner(_) => JoinOperator::Inner(c),
        JoinOperator::Left(_) => JoinOperator::Left(c),
        JoinOperator::LeftOuter(_) => JoinOperator::LeftOuter(c),
        JoinOperator::Right(_) => JoinOperator::Right(c),
        JoinOperator::RightOuter(_) => JoinOperator::RightOuter(c),
        JoinOperator::FullOuter(_) => JoinOperator::FullOuter(c),
        other => other.clone(),
    }
}

/// Replace the unqualified references to a join column in `e` (an
/// expression or a join's condition), outside subqueries (where a name is
/// first the subquery's own).
fn unqualified(e: &mut impl VisitMut, merged: &[(String, Expr)]) {
    struct U<'m> {
        merged: &'m [(String, Expr)],
        depth: usize,
    }
    impl VisitorMut for U<'_> {
        type Break = ();
        fn pre_visit_query(&mut self, _: &mut Query) -> ControlFlow<()> {
            self.depth += 1;
            ControlFlow::Continue(())
        }
        fn post_visit_query(&mut self, _: &mut Query) -> ControlFlow<()> {
            self.depth -= 1;
            ControlFlow::Continue(())
        }
        fn post_visit_expr(&mut self, e: &mut Expr) -> ControlFlow<()> {
            if self.depth == 0 {
                if let Expr::Identifier(i) = e {
                    if let Some((_, m)) = self
                        .merged
                        .iter()
                        .find(|(n, _)| n.eq_ignore_ascii_case(&i.value))
                    {
                        *e = m.clone();
                    }
                }
            }
            ControlFlow::Continue(())
        }
    }
    let _ = e.visit(&mut U { merged, depth: 0 });
}
