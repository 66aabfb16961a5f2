//! The parse stage: ADQL text → a sqlparser AST, with errors that give the
//! line and column.
//!
//! ADQL is close to SQL-92; what differs is handled by [`AdqlDialect`]:
//! regular identifiers are letters, digits and `_` starting with a letter,
//! delimited identifiers use double quotes, string literals have no
//! backslash escapes, and `TOP n` follows the set quantifier. Only a single
//! query (no other statement, no `;` chain) is ADQL.

use sqlparser::ast::{Query, Statement};
use sqlparser::dialect::Dialect;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::{Location, Tokenizer};

use crate::limits::{self, QueryLimits};

/// How deeply sqlparser may recurse (nested parentheses, function calls,
/// prefix operators, subqueries): sqlparser's own default. Chains the
/// parser builds in a loop are bounded by [`QueryLimits::max_depth`].
pub const PARSER_RECURSION_LIMIT: usize = 50;

/// The ADQL dialect of sqlparser.
#[derive(Debug, Default, Clone, Copy)]
pub struct AdqlDialect;

impl Dialect for AdqlDialect {
    fn is_identifier_start(&self, ch: char) -> bool {
        ch.is_ascii_alphabetic()
    }
    fn is_identifier_part(&self, ch: char) -> bool {
        ch.is_ascii_alphanumeric() || ch == '_'
    }
    fn is_delimited_identifier_start(&self, ch: char) -> bool {
        ch == '"'
    }
    fn supports_string_literal_backslash_escape(&self) -> bool {
        false
    }
    // SQL-92 (and ADQL): 'a' <separator> 'b' is one literal 'ab'.
    fn supports_string_literal_concatenation(&self) -> bool {
        true
    }
    fn supports_string_literal_concatenation_with_newline(&self) -> bool {
        true
    }
}

pub use crate::error::ParseError;

fn error_at(loc: Location, message: String) -> ParseError {
    ParseError {
        limit: false,
        line: loc.line.max(1),
        column: loc.column.max(1),
        message,
    }
}

/// The position just after the last character of `text`.
fn end_of(text: &str) -> Location {
    let line = text.lines().count().max(1) as u64;
    let column = text
        .lines()
        .last()
        .map(|l| l.chars().count() + 1)
        .unwrap_or(1) as u64;
    Location::new(line, column)
}

/// Parse one ADQL query within the default [`QueryLimits`].
pub fn parse(adql: &str) -> Result<Box<Query>, ParseError> {
    parse_with(adql, &QueryLimits::default())
}

/// Parse one ADQL query, refusing (before any tree is built) queries longer
/// or more deeply nested than `limits` allow.
pub fn parse_with(adql: &str, limits: &QueryLimits) -> Result<Box<Query>, ParseError> {
    let dialect = AdqlDialect;
    limits::check_length(adql, limits)?;
    let tokens = Tokenizer::new(&dialect, adql)
        .tokenize_with_location()
        .map_err(|e| error_at(e.location, e.message))?;
    limits::check_depth(&tokens, limits)?;
    let mut parser = Parser::new(&dialect)
        .with_recursion_limit(PARSER_RECURSION_LIMIT)
        .with_tokens_with_locations(tokens);
    let convert = |p: &Parser, e: ParserError| {
        let message = match e {
            ParserError::ParserError(m) | ParserError::TokenizerError(m) => m,
            ParserError::RecursionLimitExceeded => {
                let mut e = error_at(
                    p.peek_token().span.start,
                    format!(
                "the query nests more than {PARSER_RECURSION_LIMIT} levels of parentheses, \
                 function calls, prefix operators or subqueries"
                ),
                );
                e.limit = true;
                return e;
            }
        };
        // sqlparser appends " at Line: L, Column: C" to its messages; the
        // position of the end of input is the end of the text.
        let (message, loc) = match message.rfind(" at Line: ") {
            Some(i) => {
                let pos: Vec<u64> = message[i..]
                    .split(|c: char| !c.is_ascii_digit())
                    .filter_map(|n| n.parse().ok())
                    .collect();
                let loc = match pos[..] {
                    [line, column, ..] => Location::new(line, column),
                    _ => p.peek_token().span.start,
                };
                (message[..i].to_string(), loc)
            }
            None => (message, p.peek_token().span.start),
        };
        let loc = if loc.line == 0 { end_of(adql) } else { loc };
        error_at(loc, message)
    };
    let stmt = parser.parse_statement().map_err(|e| convert(&parser, e))?;
    // Nothing may follow the query but an optional semicolon.
    let _ = parser.consume_token(&sqlparser::tokenizer::Token::SemiColon);
    let next = parser.peek_token();
    if next.token != sqlparser::tokenizer::Token::EOF {
        return Err(error_at(
            next.span.start,
            format!("expected the end of the query, found {}", next.token),
        ));
    }
    match stmt {
        Statement::Query(q) => Ok(q),
        other => Err(ParseError {
            limit: false,
            line: 1,
            column: 1,
            message: format!(
                "ADQL allows only a SELECT query, not {}",
                other
                    .to_string()
                    .split_whitespace()
                    .next()
                    .unwrap_or("this statement")
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_adql_and_places_errors() {
        assert!(parse("SELECT TOP 10 ra, dec FROM gaia.gaia_source WHERE 1=CONTAINS(POINT('ICRS', ra, dec), CIRCLE('ICRS', 10, 20, 1))").is_ok());
        assert!(parse("SELECT DISTINCT TOP 5 \"Ra\" FROM t ORDER BY 1").is_ok());
        let e = parse("SELECT ra\nFROM t WHERE").unwrap_err();
        assert_eq!(e.line, 2, "{e}");
        assert!(parse("DELETE FROM t").is_err());
        assert!(parse("SELECT a FROM t; SELECT b FROM t").is_err());
    }
}
