//! How big a query may be: its length and how deeply its expressions nest,
//! checked on the token stream *before* any tree is built.
//!
//! sqlparser bounds its own recursion (nested parentheses, prefix
//! operators, subqueries), but left-deep chains such as `1+1+…+1`,
//! `a AND b AND …` or `q UNION q UNION …` are parsed in a loop and come out
//! as a tree as deep as the chain is long. Every later walk of that tree —
//! dropping, cloning, printing, visiting, checking, translating, planning,
//! evaluating — recurses once per level, so a 20 KB query could overflow a
//! thread's stack and abort the whole process. [`check_size`] computes an
//! upper bound of the depth of every expression tree the parser could build
//! from the tokens and refuses the query before parsing when it exceeds
//! [`QueryLimits::max_depth`]; every recursive walk downstream is then
//! bounded by that limit.
//!
//! The bound: within one comma-separated item (or clause) every operator
//! token (`+`, `-`, `*`, `/`, `%`, `||`, comparisons, `AND`, `OR`, `NOT`,
//! `IS`, `LIKE`, `BETWEEN`, `IN`, …) can add one level; a parenthesised
//! group or a `CASE … END` adds its own depth plus one; `JOIN`, `UNION`,
//! `INTERSECT` and `EXCEPT` chains add one level each to the query they
//! belong to.

use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::{Location, Token, TokenWithSpan};

use crate::error::ParseError;

/// Limits on the size of one query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueryLimits {
    /// The longest query text, in bytes.
    pub max_length: usize,
    /// The deepest expression or query nesting (see the module docs for how
    /// depth is counted).
    pub max_depth: usize,
    /// The most tables one query may combine: each `JOIN`, each further
    /// table of a `FROM a, b, …` list and each `UNION`, `INTERSECT` or
    /// `EXCEPT` counts one (planning time grows faster than linearly with
    /// them, and planning cannot be interrupted).
    pub max_tables: usize,
}

impl Default for QueryLimits {
    fn default() -> Self {
        QueryLimits {
            max_length: 1024 * 1024,
            max_depth: 1000,
            max_tables: 100,
        }
    }
}

/// Refuse a query longer than the length limit (before tokenising).
pub fn check_length(adql: &str, limits: &QueryLimits) -> Result<(), ParseError> {
    if adql.len() > limits.max_length {
        return Err(ParseError {
            limit: true,
            line: 1,
            column: 1,
            message: format!(
                "the query is {} bytes long, more than this service's limit of {} bytes \
                 (limits.max_query_length); for long lists of values upload a table \
                 (UPLOAD) and join with it",
                adql.len(),
                limits.max_length
            ),
        });
    }
    Ok(())
}

#[derive(Default)]
struct Frame {
    /// Operators in the current item.
    ops: usize,
    /// The deepest group in the current item.
    child: usize,
    /// The deepest finished item.
    items: usize,
    /// JOIN / set-operation chain length of the group.
    chain: usize,
    /// A `CASE` group (closed by `END`), not a parenthesis.
    case: bool,
    /// In a `FROM` list (its commas join tables).
    from: bool,
    /// Opened by a keyword construct (`CAST(`, `CASE`, `EXTRACT(`, …).
    keyword: bool,
}

/// The deepest nesting of keyword constructs (`CAST(`, `CASE`, and other
/// reserved words followed by a parenthesis). The parser tries such a
/// construct once as itself and once as a function call, so a syntax error
/// inside n of them costs 2^n attempts: 20 nested CASTs around a typo took
/// seconds, 30 would take hours. Twelve levels cost at most a few
/// thousand attempts and are far more than real queries nest.
pub const MAX_KEYWORD_NESTING: usize = 12;

/// Whether `(` after `prev` opens a keyword construct: a reserved word
/// that is not an operator or a clause (`CAST (`, `EXTRACT (`, `TRIM (`),
/// or `CASE`.
fn opens_keyword(prev: Option<&Token>) -> bool {
    match prev {
        Some(t @ Token::Word(w)) => {
            w.keyword != Keyword::NoKeyword
                && w.quote_style.is_none()
                && !is_operator(t)
                && !is_item_break(t)
                && !is_chain(t)
                && !matches!(
                    w.keyword,
                    Keyword::IN
                        | Keyword::EXISTS
                        | Keyword::AS
                        | Keyword::BY
                        | Keyword::ALL
                        | Keyword::ANY
                        | Keyword::SOME
                        | Keyword::DISTINCT
                        | Keyword::LATERAL
                        | Keyword::VALUES
                        | Keyword::WITH
                )
        }
        _ => false,
    }
}

fn too_many_keywords(at: Location) -> ParseError {
    ParseError {
        limit: true,
        line: at.line.max(1),
        column: at.column.max(1),
        message: format!(
            "the query nests more than {MAX_KEYWORD_NESTING} levels of CAST, CASE or other \
             keyword constructs; write the inner part as a column of a subquery or a \
             common table expression (WITH)"
        ),
    }
}

impl Frame {
    fn end_item(&mut self) {
        self.items = self.items.max(self.ops + self.child);
        self.ops = 0;
        self.child = 0;
    }
    fn depth(&self) -> usize {
        self.items.max(self.ops + self.child) + self.chain
    }
}

fn is_operator(t: &Token) -> bool {
    use Token::*;
    match t {
        Word(w) => matches!(
            w.keyword,
            Keyword::AND
                | Keyword::OR
                | Keyword::NOT
                | Keyword::IS
                | Keyword::LIKE
                | Keyword::ILIKE
                | Keyword::SIMILAR
                | Keyword::BETWEEN
                | Keyword::IN
                | Keyword::COLLATE
                | Keyword::ESCAPE
        ),
        EOF
        | Whitespace(_)
        | Number(..)
        | Char(_)
        | SingleQuotedString(_)
        | DoubleQuotedString(_)
        | NationalStringLiteral(_)
        | HexStringLiteral(_)
        | Comma
        | Period
        | LParen
        | RParen
        | SemiColon
        | Placeholder(_) => false,
        _ => true,
    }
}

fn is_chain(t: &Token) -> bool {
    matches!(t, Token::Word(w) if matches!(
        w.keyword,
        Keyword::JOIN | Keyword::UNION | Keyword::INTERSECT | Keyword::EXCEPT
    ))
}

fn is_item_break(t: &Token) -> bool {
    match t {
        Token::Comma => true,
        Token::Word(w) => matches!(
            w.keyword,
            Keyword::SELECT
                | Keyword::FROM
                | Keyword::WHERE
                | Keyword::GROUP
                | Keyword::HAVING
                | Keyword::ORDER
                | Keyword::ON
                | Keyword::USING
                | Keyword::WHEN
                | Keyword::THEN
                | Keyword::ELSE
                | Keyword::OFFSET
                | Keyword::LIMIT
                | Keyword::TOP
        ),
        _ => false,
    }
}

fn too_many_tables(at: Location, limits: &QueryLimits) -> ParseError {
    ParseError {
        limit: true,
        line: at.line.max(1),
        column: at.column.max(1),
        message: format!(
            "the query combines more tables than this service's limit of {} \
             (limits.max_query_tables): each JOIN, each further table in FROM and each \
             UNION, INTERSECT or EXCEPT counts one; split the query, or upload a table \
             (UPLOAD) and join with it",
            limits.max_tables
        ),
    }
}

fn too_deep(at: Location, limits: &QueryLimits) -> ParseError {
    ParseError {
        limit: true,
        line: at.line.max(1),
        column: at.column.max(1),
        message: format!(
            "the query nests more deeply than this service's limit of {} levels \
             (limits.max_query_depth): long chains of operators such as a+b+c+…, \
             x=1 OR x=2 OR …, or many UNIONs or JOINs count one level each; \
             use IN (…) for lists of values, or upload a table (UPLOAD) and join with it",
            limits.max_depth
        ),
    }
}

/// Refuse token streams whose expressions could nest deeper than the
/// limit. Runs in one pass with a stack as deep as the parentheses (which
/// are bounded by the same limit).
pub fn check_depth(tokens: &[TokenWithSpan], limits: &QueryLimits) -> Result<(), ParseError> {
    let max = limits.max_depth;
    let mut stack: Vec<Frame> = vec![Frame::default()];
    // Depth of the enclosing groups, so a chain deep inside parentheses
    // is caught at the operator that crosses the limit.
    let mut outer: usize = 0;
    let mut tables: usize = 0;
    let mut keywords: usize = 0;
    let mut prev: Option<&Token> = None;
    for t in tokens {
        let before = prev;
        if !matches!(t.token, Token::Whitespace(_)) {
            prev = Some(&t.token);
        }
        let tok = &t.token;
        let at = t.span.start;
        let is_end = matches!(tok, Token::Word(w) if w.keyword == Keyword::END);
        let is_case = matches!(tok, Token::Word(w) if w.keyword == Keyword::CASE);
        if matches!(tok, Token::LParen) || is_case {
            let top = stack.last().expect("the root frame is never popped");
            outer += top.ops + top.chain + 1;
            let keyword = is_case || opens_keyword(before);
            if keyword {
                keywords += 1;
                if keywords > MAX_KEYWORD_NESTING {
                    return Err(too_many_keywords(at));
                }
            }
            stack.push(Frame {
                case: is_case,
                keyword,
                ..Frame::default()
            });
            if outer > max || stack.len() > max {
                return Err(too_deep(at, limits));
            }
            continue;
        }
        let closes = match tok {
            Token::RParen => true,
            _ => is_end && stack.last().is_some_and(|f| f.case),
        };
        if closes {
            if stack.len() == 1 {
                continue; // unbalanced: the parser says so
            }
            // A `)` also closes any CASE left open inside it.
            while stack.len() > 1 {
                let f = stack.pop().expect("more than the root");
                if f.keyword {
                    keywords -= 1;
                }
                let d = f.depth() + 1;
                let top = stack.last_mut().expect("the root frame is never popped");
                outer = outer.saturating_sub(top.ops + top.chain + 1);
                top.child = top.child.max(d);
                if top.ops + top.child + top.chain > max {
                    return Err(too_deep(at, limits));
                }
                if !f.case || is_end {
                    break;
                }
            }
            continue;
        }
        let top = stack.last_mut().expect("the root frame is never popped");
        let joins = is_chain(tok) || (top.from && matches!(tok, Token::Comma));
        if joins {
            tables += 1;
            if tables > limits.max_tables {
                return Err(too_many_tables(at, limits));
            }
        }
        if is_chain(tok) {
            top.chain += 1;
        } else if is_item_break(tok) {
            if !matches!(tok, Token::Comma) {
                top.from = matches!(tok, Token::Word(w) if w.keyword == Keyword::FROM);
            }
            top.end_item();
        } else if is_operator(tok) {
            top.ops += 1;
        } else {
            continue;
        }
        if outer + top.ops + top.child + top.chain > max {
            return Err(too_deep(at, limits));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::AdqlDialect;
    use sqlparser::tokenizer::Tokenizer;

    fn depth_ok(q: &str, max: usize) -> bool {
        let tokens = Tokenizer::new(&AdqlDialect, q)
            .tokenize_with_location()
            .unwrap();
        let limits = QueryLimits {
            max_depth: max,
            ..QueryLimits::default()
        };
        check_depth(&tokens, &limits).is_ok()
    }

    #[test]
    fn chains_count_one_level_per_operator() {
        let chain =
            |op: &str, n: usize| format!("SELECT {} FROM t", vec!["1"; n].join(&format!(" {op} ")));
        for op in ["+", "-", "*", "/", "||", "AND", "OR", "="] {
            assert!(depth_ok(&chain(op, 50), 60), "{op}");
            assert!(!depth_ok(&chain(op, 100), 60), "{op}");
        }
        // Items separated by commas do not add up.
        let wide = vec!["a+b+c"; 1000].join(", ");
        assert!(depth_ok(&format!("SELECT {wide} FROM t"), 10));
        // Nesting adds up: a chain inside a group inside a chain.
        let inner = vec!["1"; 30].join("+");
        let q = format!("SELECT {} + ({inner}) FROM t", vec!["1"; 30].join("+"));
        assert!(!depth_ok(&q, 50));
        assert!(depth_ok(&q, 70));
        // A group at the bottom of a later chain counts too.
        let q = format!("SELECT ({inner}) + {} FROM t", vec!["1"; 30].join("+"));
        assert!(!depth_ok(&q, 50));
        // UNION chains.
        let q = vec!["SELECT a FROM t"; 100].join(" UNION ");
        assert!(!depth_ok(&q, 60));
        assert!(depth_ok(&q, 200));
        // CASE … END groups.
        let q = format!(
            "SELECT CASE WHEN {} THEN 1 ELSE 0 END + 1 FROM t",
            vec!["a=1"; 40].join(" OR ")
        );
        assert!(!depth_ok(&q, 60));
        assert!(depth_ok(&q, 100));
    }

    #[test]
    fn keyword_constructs_nest_at_most_twelve_deep() {
        let check = |q: &str| {
            let tokens = Tokenizer::new(&AdqlDialect, q)
                .tokenize_with_location()
                .unwrap();
            check_depth(&tokens, &QueryLimits::default())
        };
        let casts = |n: usize, inner: &str| {
            format!(
                "SELECT {}{inner}{} FROM t",
                "CAST(".repeat(n),
                " AS DOUBLE)".repeat(n)
            )
        };
        assert!(check(&casts(12, "1")).is_ok());
        let e = check(&casts(13, "1 + * 2")).unwrap_err();
        assert!(
            e.message.contains("more than 12 levels of CAST, CASE"),
            "{e}"
        );
        let cases = format!(
            "SELECT {}1{} FROM t",
            "CASE ".repeat(13),
            " WHEN 1 THEN 2 END".repeat(13)
        );
        assert!(check(&cases).is_err());
        // Functions, parentheses, AND ( and IN ( do not count.
        for (open, close) in [
            ("SIN(", ")"),
            ("(", ")"),
            ("a = 1 AND (", ")"),
            ("a IN (", ")"),
        ] {
            let q = format!(
                "SELECT a FROM t WHERE {}1{}",
                open.repeat(30),
                close.repeat(30)
            );
            assert!(check(&q).is_ok(), "{open}");
        }
        // Siblings do not add up.
        let wide = vec!["CAST(CAST(a AS DOUBLE) AS DOUBLE)"; 50].join(", ");
        assert!(check(&format!("SELECT {wide} FROM t")).is_ok());
    }

    #[test]
    fn joins_commas_and_set_operations_count_as_tables() {
        let ok = |q: &str, max: usize| {
            let tokens = Tokenizer::new(&AdqlDialect, q)
                .tokenize_with_location()
                .unwrap();
            let limits = QueryLimits {
                max_tables: max,
                ..QueryLimits::default()
            };
            check_depth(&tokens, &limits)
        };
        let joins = |n: usize| {
            let mut q = "SELECT t0.a FROM t AS t0".to_string();
            for i in 1..=n {
                q.push_str(&format!(" JOIN t AS t{i} ON t{i}.a = t0.a"));
            }
            q
        };
        assert!(ok(&joins(10), 10).is_ok());
        let e = ok(&joins(11), 10).unwrap_err();
        assert!(
            e.message.contains("limit of 10 (limits.max_query_tables)"),
            "{e}"
        );
        let commas = |n: usize| {
            let from: Vec<String> = (0..=n).map(|i| format!("t AS t{i}")).collect();
            format!(
                "SELECT t0.a, t1.a, f(1, 2, 3) FROM {} WHERE x IN (1, 2, 3)",
                from.join(", ")
            )
        };
        assert!(ok(&commas(10), 10).is_ok());
        assert!(ok(&commas(11), 10).is_err());
        let unions = |n: usize| vec!["SELECT a, b FROM t"; n + 1].join(" UNION ");
        assert!(ok(&unions(10), 10).is_ok());
        assert!(ok(&unions(11), 10).is_err());
        // Commas of select lists, IN lists and function arguments do not count.
        let wide = (0..500)
            .map(|i| format!("c{i}"))
            .collect::<Vec<_>>()
            .join(", ");
        assert!(ok(&format!("SELECT {wide} FROM t WHERE a IN ({wide})"), 10).is_ok());
        // Subqueries in FROM: their own select lists do not count either.
        assert!(ok(
            &format!("SELECT x FROM (SELECT {wide} FROM t) AS s, t AS u"),
            1
        )
        .is_ok());
    }

    #[test]
    fn long_queries_are_refused_before_tokenising() {
        let limits = QueryLimits {
            max_length: 100,
            ..QueryLimits::default()
        };
        let e = check_length(&"x".repeat(101), &limits).unwrap_err();
        assert!(e.message.contains("limit of 100 bytes"), "{e}");
        assert!(check_length(&"x".repeat(100), &limits).is_ok());
    }
}
