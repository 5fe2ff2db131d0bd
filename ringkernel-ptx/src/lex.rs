//! The PTX lexer (ISA 4: syntax). Hand-written: the token set is small and a table-driven
//! generator would cost more build time than the whole file.
//!
//! Words cover identifiers, directives (`.reg`), dotted opcodes (`ld.global.u32`) and
//! registers (`%r1`, `%tid.x`): a word is `[A-Za-z0-9_$%.]` characters that do not start
//! with a digit. Numbers keep their spelling's meaning: `0f3F800000` is f32 bits, `0d...`
//! f64 bits, `1.5`/`1e3` a decimal float, the rest integers (decimal, `0x`, `0b`, octal,
//! optional `U` suffix).

use crate::error::ParseError;

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Tok<'a> {
    Word(&'a str),
    Int(u64),
    F32Bits(u32),
    F64Bits(u64),
    Decimal(f64),
    Str(&'a str),
    Punct(char),
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Token<'a> {
    pub tok: Tok<'a>,
    pub text: &'a str,
    pub line: u32,
    pub column: u32,
}

fn is_word_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'$' | b'%' | b'.')
}

pub(crate) fn tokenize(src: &str) -> Result<Vec<Token<'_>>, ParseError> {
    let bytes = src.as_bytes();
    let mut out = Vec::with_capacity(src.len() / 4);
    let (mut i, mut line, mut line_start) = (0usize, 1u32, 0usize);
    while i < bytes.len() {
        let c = bytes[i];
        let column = (i - line_start + 1) as u32;
        let here = line;
        let err = move |message: &str, text: &str| ParseError {
            line: here,
            column,
            token: text.chars().take(40).collect(),
            message: message.into(),
        };
        match c {
            b'\n' => {
                i += 1;
                line += 1;
                line_start = i;
            }
            b' ' | b'\t' | b'\r' => i += 1,
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                let start = i;
                i += 2;
                loop {
                    if i + 1 >= bytes.len() {
                        return Err(err("unterminated block comment", &src[start..]));
                    }
                    if bytes[i] == b'*' && bytes[i + 1] == b'/' {
                        i += 2;
                        break;
                    }
                    if bytes[i] == b'\n' {
                        line += 1;
                        line_start = i + 1;
                    }
                    i += 1;
                }
            }
            b'"' => {
                let start = i;
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += 1;
                }
                if i >= bytes.len() || bytes[i] != b'"' {
                    return Err(err("unterminated string", &src[start..i]));
                }
                i += 1;
                let text = &src[start..i];
                out.push(Token { tok: Tok::Str(&text[1..text.len() - 1]), text, line, column });
            }
            b'0'..=b'9' => {
                let start = i;
                while i < bytes.len()
                    && (bytes[i].is_ascii_alphanumeric()
                        || bytes[i] == b'.'
                        || ((bytes[i] == b'+' || bytes[i] == b'-')
                            && matches!(bytes[i - 1], b'e' | b'E')
                            && !src[start..i].starts_with("0x")
                            && !src[start..i].starts_with("0X")))
                {
                    i += 1;
                }
                let text = &src[start..i];
                let tok = number(text).ok_or_else(|| err("malformed number", text))?;
                out.push(Token { tok, text, line, column });
            }
            c if is_word_char(c) => {
                let start = i;
                while i < bytes.len() && is_word_char(bytes[i]) {
                    i += 1;
                }
                let text = &src[start..i];
                out.push(Token { tok: Tok::Word(text), text, line, column });
            }
            b',' | b';' | b':' | b'[' | b']' | b'{' | b'}' | b'(' | b')' | b'<' | b'>' | b'+'
            | b'-' | b'@' | b'!' | b'|' | b'=' | b'*' | b'~' => {
                let text = &src[i..i + 1];
                out.push(Token { tok: Tok::Punct(c as char), text, line, column });
                i += 1;
            }
            _ => {
                let ch = src[i..].chars().next().unwrap_or('?');
                return Err(err("unexpected character", &ch.to_string()));
            }
        }
    }
    Ok(out)
}

/// The value of a numeric literal (ISA 4.5.1), or `None` if it is malformed.
fn number(text: &str) -> Option<Tok<'static>> {
    let lower = text.to_ascii_lowercase();
    if let Some(hex) = lower.strip_prefix("0f") {
        return (hex.len() == 8).then(|| u32::from_str_radix(hex, 16).ok().map(Tok::F32Bits))?;
    }
    if let Some(hex) = lower.strip_prefix("0d") {
        return (hex.len() == 16).then(|| u64::from_str_radix(hex, 16).ok().map(Tok::F64Bits))?;
    }
    let body = lower.strip_suffix('u').unwrap_or(&lower);
    if let Some(hex) = body.strip_prefix("0x") {
        return u64::from_str_radix(hex, 16).ok().map(Tok::Int);
    }
    if let Some(bin) = body.strip_prefix("0b") {
        return u64::from_str_radix(bin, 2).ok().map(Tok::Int);
    }
    if body.contains('.') || body.contains('e') {
        return body.parse::<f64>().ok().map(Tok::Decimal);
    }
    if body.len() > 1 && body.starts_with('0') {
        return u64::from_str_radix(&body[1..], 8).ok().map(Tok::Int);
    }
    body.parse::<u64>().ok().map(Tok::Int)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(src: &str) -> Vec<Tok<'_>> {
        tokenize(src).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn literals_of_every_form() {
        assert_eq!(
            toks("0f3F800000 0d3FF0000000000000 0x1F 0b101 017 42U 1.5 2e3"),
            vec![
                Tok::F32Bits(0x3F80_0000),
                Tok::F64Bits(0x3FF0_0000_0000_0000),
                Tok::Int(31),
                Tok::Int(5),
                Tok::Int(15),
                Tok::Int(42),
                Tok::Decimal(1.5),
                Tok::Decimal(2000.0),
            ]
        );
    }

    #[test]
    fn words_comments_and_positions() {
        let t = tokenize("// c\n  ld.global.u32 %r1, [%rd2+-4]; /* x\n y */ @!%p1").unwrap();
        assert_eq!(t[0].tok, Tok::Word("ld.global.u32"));
        assert_eq!((t[0].line, t[0].column), (2, 3));
        assert_eq!(t[1].tok, Tok::Word("%r1"));
        assert!(matches!(t.last().unwrap().tok, Tok::Word("%p1")));
        assert_eq!(t.last().unwrap().line, 3);
    }

    #[test]
    fn malformed_input_is_an_error_with_a_position() {
        let e = tokenize("mov.u32 %r1, 0f12;").unwrap_err();
        assert_eq!((e.line, e.column, e.token.as_str()), (1, 14, "0f12"));
        assert!(tokenize("/* open").is_err());
        assert!(tokenize("a # b").unwrap_err().message.contains("unexpected"));
    }
}
