//! Building blocks of the SQL syntax tree the translator writes.
//!
//! The translate stage rewrites the checked ADQL tree into the SQL tree
//! DataFusion plans; whatever it adds (cover filters, cell columns of a
//! positional join, the numbered rows of `INTERSECT ALL`) is built here as
//! tree nodes, never formatted as SQL text and parsed again. The readers
//! at the end (a call's name and plain arguments, a constant number) are
//! what the check and translate stages both ask of an expression.

use sqlparser::ast::{
    Array, BinaryOperator, Expr, Function, FunctionArg, FunctionArgExpr, FunctionArgumentList,
    FunctionArguments, GroupByExpr, Ident, JoinConstraint, JoinOperator, ObjectName, Query, Select,
    SelectFlavor, SelectItem, SelectItemQualifiedWildcardKind, SetExpr, TableAlias,
    TableAliasColumnDef, TableFactor, TableWithJoins, UnaryOperator, Value, ValueWithSpan,
    WildcardAdditionalOptions, WindowSpec, WindowType,
};

/// `name(args…)`.
pub(crate) fn call(name: &str, args: Vec<Expr>) -> Expr {
    Expr::Function(Function {
        name: ObjectName::from(vec![Ident::new(name)]),
        uses_odbc_syntax: false,
        parameters: FunctionArguments::None,
        args: FunctionArguments::List(FunctionArgumentList {
            duplicate_treatment: None,
            args: args
                .into_iter()
                .map(|e| FunctionArg::Unnamed(FunctionArgExpr::Expr(e)))
                .collect(),
            clauses: Vec::new(),
        }),
        filter: None,
        null_treatment: None,
        over: None,
        within_group: Vec::new(),
    })
}

/// `ROW_NUMBER() OVER (PARTITION BY partition…)`.
pub(crate) fn row_number_over(partition: Vec<Expr>) -> Expr {
    let Expr::Function(mut f) = call("ROW_NUMBER", Vec::new()) else {
        unreachable!("call builds a function");
    };
    f.over = Some(WindowType::WindowSpec(WindowSpec {
        window_name: None,
        partition_by: partition,
        order_by: Vec::new(),
        window_frame: None,
    }));
    Expr::Function(f)
}

/// A floating-point literal (exactly `x`: Rust's shortest round-trip form).
pub(crate) fn num(x: f64) -> Expr {
    Expr::Value(ValueWithSpan::from(Value::Number(format!("{x:?}"), false)))
}

/// An integer literal.
pub(crate) fn int(x: impl Into<i128>) -> Expr {
    Expr::Value(ValueWithSpan::from(Value::Number(
        x.into().to_string(),
        false,
    )))
}

/// `[e0, e1, …]`.
pub(crate) fn array(elem: Vec<Expr>) -> Expr {
    Expr::Array(Array { elem, named: false })
}

/// `q.c`.
pub(crate) fn column(q: &Ident, c: &Ident) -> Expr {
    Expr::CompoundIdentifier(vec![q.clone(), c.clone()])
}

/// `*`.
pub(crate) fn wildcard() -> SelectItem {
    SelectItem::Wildcard(WildcardAdditionalOptions::default())
}

/// `q.*`.
pub(crate) fn qualified_wildcard(q: &Ident) -> SelectItem {
    SelectItem::QualifiedWildcard(
        SelectItemQualifiedWildcardKind::ObjectName(ObjectName::from(vec![q.clone()])),
        WildcardAdditionalOptions::default(),
    )
}

/// `e AS alias`.
pub(crate) fn aliased(expr: Expr, alias: Ident) -> SelectItem {
    SelectItem::ExprWithAlias { expr, alias }
}

/// `SELECT projection FROM from [WHERE selection]`.
pub(crate) fn select(
    projection: Vec<SelectItem>,
    from: TableFactor,
    selection: Option<Expr>,
) -> SetExpr {
    SetExpr::Select(Box::new(Select {
        select_token: sqlparser::ast::helpers::attached_token::AttachedToken::empty(),
        optimizer_hints: Vec::new(),
        distinct: None,
        select_modifiers: None,
        top: None,
        top_before_distinct: false,
        projection,
        exclude: None,
        into: None,
        from: vec![TableWithJoins {
            relation: from,
            joins: Vec::new(),
        }],
        lateral_views: Vec::new(),
        prewhere: None,
        selection,
        connect_by: Vec::new(),
        group_by: GroupByExpr::Expressions(Vec::new(), Vec::new()),
        cluster_by: Vec::new(),
        distribute_by: Vec::new(),
        sort_by: Vec::new(),
        having: None,
        named_window: Vec::new(),
        qualify: None,
        window_before_qualify: false,
        value_table_mode: None,
        flavor: SelectFlavor::Standard,
    }))
}

/// A query of `body` alone (no WITH, ORDER BY or LIMIT).
pub(crate) fn query(body: SetExpr) -> Box<Query> {
    Box::new(Query {
        with: None,
        body: Box::new(body),
        order_by: None,
        limit_clause: None,
        fetch: None,
        locks: Vec::new(),
        for_clause: None,
        settings: None,
        format_clause: None,
        pipe_operators: Vec::new(),
    })
}

/// `AS name[(columns…)]`.
pub(crate) fn alias(name: Ident, columns: Vec<Ident>) -> TableAlias {
    TableAlias {
        explicit: true,
        name,
        columns: columns
            .into_iter()
            .map(|name| TableAliasColumnDef {
                name,
                data_type: None,
            })
            .collect(),
        at: None,
    }
}

/// `(subquery) AS alias[(columns…)]`.
pub(crate) fn derived(subquery: Box<Query>, name: Ident, columns: Vec<Ident>) -> TableFactor {
    TableFactor::Derived {
        lateral: false,
        subquery,
        alias: Some(alias(name, columns)),
        sample: None,
    }
}

// Reading the tree: what both the check and the translate stage ask of
// an expression written in the query.

/// A call's name, upper-cased as the function catalogue spells it.
pub(crate) fn func_name(f: &Function) -> String {
    f.name.to_string().to_ascii_uppercase()
}

/// A call's plain arguments (a geometry constructor's leading
/// coordinate-system string dropped).
pub(crate) fn args_of(f: &Function) -> Vec<&Expr> {
    let mut args: Vec<&Expr> = match &f.args {
        FunctionArguments::List(l) => l
            .args
            .iter()
            .filter_map(|a| match a {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    if crate::functions::takes_coordsys(&func_name(f)) {
        if let Some(first) = args.first() {
            if matches!(first, Expr::Value(v) if matches!(v.value, Value::SingleQuotedString(_) | Value::Null))
            {
                args.remove(0);
            }
        }
    }
    args
}

/// The expression inside any parentheses.
pub(crate) fn strip(e: &Expr) -> &Expr {
    match e {
        Expr::Nested(i) => strip(i),
        e => e,
    }
}

/// A constant number (literals, signs, + - * /, PI()).
pub(crate) fn const_num(e: &Expr) -> Option<f64> {
    match strip(e) {
        Expr::Value(v) => match &v.value {
            Value::Number(n, _) => n.parse().ok(),
            _ => None,
        },
        Expr::UnaryOp { op, expr } => {
            let x = const_num(expr)?;
            match op {
                UnaryOperator::Minus => Some(-x),
                UnaryOperator::Plus => Some(x),
                _ => None,
            }
        }
        Expr::BinaryOp { left, op, right } => {
            let (a, b) = (const_num(left)?, const_num(right)?);
            match op {
                BinaryOperator::Plus => Some(a + b),
                BinaryOperator::Minus => Some(a - b),
                BinaryOperator::Multiply => Some(a * b),
                BinaryOperator::Divide if b != 0.0 => Some(a / b),
                _ => None,
            }
        }
        Expr::Function(f) => {
            let args: Vec<f64> = args_of(f)
                .into_iter()
                .map(const_num)
                .collect::<Option<_>>()?;
            match (func_name(f).as_str(), &args[..]) {
                ("PI", []) => Some(std::f64::consts::PI),
                ("RADIANS", [x]) => Some(x.to_radians()),
                ("DEGREES", [x]) => Some(x.to_degrees()),
                _ => None,
            }
        }
        _ => None,
    }
    .filter(|x| x.is_finite())
}

/// The constraint (ON, USING, NATURAL or none) of an inner or outer join,
/// `None` for cross joins and the join kinds ADQL does not have.
pub(crate) fn join_constraint(op: &JoinOperator) -> Option<&JoinConstraint> {
    match op {
        JoinOperator::Join(c)
        | JoinOperator::Inner(c)
        | JoinOperator::Left(c)
        | JoinOperator::LeftOuter(c)
        | JoinOperator::Right(c)
        | JoinOperator::RightOuter(c)
        | JoinOperator::FullOuter(c) => Some(c),
        _ => None,
    }
}
