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

use crate::parse::ParseError;

/// Limits on the size of one query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueryLimits {
    /// The longest query text, in bytes.
    pub max_length: usize,
    /// The deepest expression or query nesting (see the module docs for how
    /// depth is counted).
    pub max_depth: usize,
}

impl Default for QueryLimits {
    fn default() -> Self {
        QueryLimits {
            max_length: 1024 * 1024,
            max_depth: 1000,
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
    for t in tokens {
        let tok = &t.token;
        let at = t.span.start;
        let is_end = matches!(tok, Token::Word(w) if w.keyword == Keyword::END);
        let is_case = matches!(tok, Token::Word(w) if w.keyword == Keyword::CASE);
        if matches!(tok, Token::LParen) || is_case {
            let top = stack.last().expect("the root frame is never popped");
            outer += top.ops + top.chain + 1;
            stack.push(Frame {
                case: is_case,
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
        if is_chain(tok) {
            top.chain += 1;
        } else if is_item_break(tok) {
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
