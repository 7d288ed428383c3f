//! A small YAML reader for the GitLab client config file (`config_file.rs`): parses one
//! document into one tree of [`Node`]s (null, string, sequence, mapping), each with the line
//! and column it starts at, and leaves typing (booleans, integers) and the schema to its
//! caller. It replaces a serde YAML stack whose deserializer was instantiated once per config
//! struct (~0.3 MiB of code, docs/performance.md "Footprint in 0.2.0").
//!
//! Reads what hand-written config files use: block mappings and sequences (compact `- key:`
//! items, sequences at their key's indentation), plain, single- and double-quoted scalars
//! (with escapes and line folding), literal and folded block scalars (`|`, `>`, with
//! chomping and indentation indicators), flow collections (`[a, b]`, `{k: v}`), comments,
//! `---` / `...` markers, anchors and aliases, merge keys (`<<`) and the standard `!!` tags.
//! Refused with an error: several documents, directives, complex (`?`) keys, other tags,
//! duplicate keys.
//!
//! The input is untrusted: no panics, nesting bounded ([`MAX_DEPTH`], alias copies included)
//! and alias expansion bounded ([`MAX_NODES`]). Errors give a line and column and never quote
//! the text (a misplaced token would be printed back).

use std::fmt;

/// The deepest nesting read (a config file needs about 7).
pub const MAX_DEPTH: usize = 64;
/// The most nodes one document may expand to, alias copies included.
pub const MAX_NODES: usize = 10_000;

/// Where a node or key starts: 1-based line and column (in characters).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pos {
    pub line: u32,
    pub col: u32,
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.col)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub pos: Pos,
    pub value: Value,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// An empty value, `~` or `null`.
    Null,
    /// A scalar's text; `plain` when it was neither quoted nor tagged `!!str` (only plain
    /// scalars are read as booleans or numbers).
    Str {
        text: String,
        plain: bool,
    },
    Seq(Vec<Node>),
    Map(Vec<Entry>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub key: String,
    pub pos: Pos,
    pub value: Node,
}

impl Value {
    /// What it is, for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Str { .. } => "a string",
            Value::Seq(_) => "a sequence",
            Value::Map(_) => "a mapping",
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
pub struct Error {
    pub pos: Pos,
    pub message: &'static str,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.pos, self.message)
    }
}

type R<T> = Result<T, Error>;

/// Parses one YAML document; an empty one (nothing, or comments only) is [`Value::Null`].
pub fn parse(text: &str) -> R<Node> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let text = text.replace("\r\n", "\n");
    let mut p = Parser {
        s: &text,
        i: 0,
        line: 1,
        line_start: 0,
        depth: 0,
        nodes: 0,
        anchors: Vec::new(),
    };
    if let Some(at) = text.find(['\0', '\r']) {
        p.goto(at);
        return Err(p.err("the text holds a NUL or a lone carriage return"));
    }
    p.document()
}

struct Parser<'a> {
    s: &'a str,
    i: usize,
    line: u32,
    line_start: usize,
    depth: usize,
    nodes: usize,
    /// Anchor name, its node, the node's height and size.
    anchors: Vec<(&'a str, Node, usize, usize)>,
}

fn is_blank_or_end(b: u8) -> bool {
    matches!(b, 0 | b' ' | b'\t' | b'\n')
}

fn is_flow_indicator(b: u8) -> bool {
    matches!(b, b',' | b'[' | b']' | b'{' | b'}')
}

/// Height and node count of a tree (its height is at most MAX_DEPTH, so the recursion is
/// bounded).
fn measure(n: &Node) -> (usize, usize) {
    let (mut h, mut c) = (0, 1);
    let mut add = |m: &Node| {
        let (mh, mc) = measure(m);
        h = h.max(mh);
        c += mc;
    };
    match &n.value {
        Value::Seq(items) => items.iter().for_each(&mut add),
        Value::Map(entries) => entries.iter().for_each(|e| add(&e.value)),
        _ => {}
    }
    (h + 1, c)
}

impl<'a> Parser<'a> {
    fn peek(&self) -> u8 {
        self.peek_at(0)
    }
    fn peek_at(&self, k: usize) -> u8 {
        self.s.as_bytes().get(self.i + k).copied().unwrap_or(0)
    }
    fn eof(&self) -> bool {
        self.i >= self.s.len()
    }
    fn bump(&mut self) {
        if self.eof() {
            return;
        }
        if self.peek() == b'\n' {
            self.line += 1;
            self.line_start = self.i + 1;
        }
        self.i += 1;
    }
    /// Moves forward to byte `at` (on the current line or later).
    fn goto(&mut self, at: usize) {
        while self.i < at && !self.eof() {
            self.bump();
        }
    }
    fn pos(&self) -> Pos {
        let col = self
            .s
            .get(self.line_start..self.i)
            .map_or(0, |t| t.chars().count());
        Pos {
            line: self.line,
            col: u32::try_from(col + 1).unwrap_or(u32::MAX),
        }
    }
    fn err(&self, message: &'static str) -> Error {
        Error {
            pos: self.pos(),
            message,
        }
    }
    /// The byte column (indentation is spaces only, so it is the character column there).
    fn col(&self) -> isize {
        isize::try_from(self.i - self.line_start).unwrap_or(isize::MAX)
    }
    fn rest_of_line(&self) -> &'a str {
        let s = self.s.get(self.i..).unwrap_or("");
        s.split('\n').next().unwrap_or("")
    }
    fn node(&mut self, pos: Pos, value: Value) -> R<Node> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(Error {
                pos,
                message: "the document has too many nodes (aliases expanded)",
            });
        }
        Ok(Node { pos, value })
    }
    fn enter(&mut self) -> R<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.err("nested too deeply"));
        }
        Ok(())
    }

    fn skip_space(&mut self) {
        while matches!(self.peek(), b' ' | b'\t') {
            self.bump();
        }
    }
    /// Skips spaces, comments and line ends: to the next content, or the end.
    fn skip_blank(&mut self) {
        loop {
            self.skip_space();
            if self.peek() == b'#' {
                while !self.eof() && self.peek() != b'\n' {
                    self.bump();
                }
            }
            if self.peek() == b'\n' {
                self.bump();
            } else {
                return;
            }
        }
    }
    /// After spaces: nothing but a comment until the line's end.
    fn at_line_end(&mut self) -> bool {
        self.skip_space();
        matches!(self.peek(), 0 | b'\n' | b'#')
    }
    /// `---` or `...` at the start of a line.
    fn at_marker(&self) -> bool {
        let r = self.rest_of_line().as_bytes();
        self.i == self.line_start
            && r.len() >= 3
            && (r.starts_with(b"---") || r.starts_with(b"..."))
            && is_blank_or_end(r.get(3).copied().unwrap_or(0))
    }
    /// At a line's first content: its indentation must be spaces.
    fn indentation(&self) -> R<isize> {
        let indent = self.s.get(self.line_start..self.i).unwrap_or("");
        if indent.bytes().any(|b| b != b' ') {
            return Err(self.err("indentation must be spaces, not tabs"));
        }
        Ok(self.col())
    }
    fn at_seq_entry(&self) -> bool {
        self.peek() == b'-' && is_blank_or_end(self.peek_at(1))
    }

    fn document(&mut self) -> R<Node> {
        self.skip_blank();
        if self.peek() == b'%' && self.i == self.line_start {
            return Err(self.err("YAML directives are not supported"));
        }
        let root = if self.at_marker() && self.peek() == b'-' {
            self.goto(self.i + 3);
            if self.at_line_end() {
                self.block(-1, false)?
            } else {
                self.node_at(-1, false, false)?
            }
        } else {
            self.block(-1, false)?
        };
        self.skip_blank();
        if self.at_marker() && self.peek() == b'.' {
            self.goto(self.i + 3);
            self.skip_blank();
        }
        if self.eof() {
            Ok(root)
        } else if self.at_marker() {
            Err(self.err("only one YAML document is read"))
        } else {
            Err(self.err("unexpected content (check the indentation)"))
        }
    }

    /// A node on the following lines, more indented than `parent` (or a sequence at
    /// `parent` itself when `seq_here`, as a mapping value may be); null when there is none.
    fn block(&mut self, parent: isize, seq_here: bool) -> R<Node> {
        self.skip_blank();
        let pos = self.pos();
        if self.eof() || self.at_marker() {
            return self.node(pos, Value::Null);
        }
        let col = self.indentation()?;
        if col > parent || (seq_here && col == parent && self.at_seq_entry()) {
            self.node_at(parent, true, seq_here)
        } else {
            self.node(pos, Value::Null)
        }
    }

    /// The node at the current position inside a collection indented at
    /// `parent`; `compact`: a block mapping or sequence may start here (a line's start, or
    /// after `- `).
    fn node_at(&mut self, parent: isize, compact: bool, seq_here: bool) -> R<Node> {
        self.enter()?;
        let r = self.node_inner(parent, compact, seq_here);
        self.depth -= 1;
        r
    }

    fn node_inner(&mut self, parent: isize, compact: bool, seq_here: bool) -> R<Node> {
        let (anchor, plain, any) = self.properties()?;
        let mut node = if any && self.at_line_end() {
            self.block(parent, seq_here)?
        } else if compact && self.at_seq_entry() {
            let c = self.col();
            self.block_seq(c)?
        } else if compact && self.at_key() {
            let c = self.col();
            self.block_map(c)?
        } else {
            self.inline(parent)?
        };
        if !plain && let Value::Str { plain, .. } = &mut node.value {
            *plain = false;
        }
        if let Some(name) = anchor {
            let (h, c) = measure(&node);
            self.anchors.push((name, node.clone(), h, c));
        }
        Ok(node)
    }

    /// `&anchor` and `!tag` before a node: the anchor's name, false for `!!str`, and
    /// whether there was any.
    fn properties(&mut self) -> R<(Option<&'a str>, bool, bool)> {
        let (mut anchor, mut plain, mut any) = (None, true, false);
        loop {
            match self.peek() {
                b'&' if anchor.is_none() => {
                    self.bump();
                    let name = self.name();
                    if name.is_empty() {
                        return Err(self.err("an anchor has no name"));
                    }
                    anchor = Some(name);
                }
                b'!' if !any || anchor.is_some() => {
                    let at = self.pos();
                    match self.name() {
                        "!!str" => plain = false,
                        "!!map" | "!!seq" | "!!int" | "!!bool" | "!!null" | "!!float" => {}
                        _ => {
                            return Err(Error {
                                pos: at,
                                message: "only the standard `!!` tags are supported",
                            });
                        }
                    }
                }
                _ => return Ok((anchor, plain, any)),
            }
            any = true;
            self.skip_space();
        }
    }

    /// An anchor, alias or tag name: up to a blank or flow indicator.
    fn name(&mut self) -> &'a str {
        let start = self.i;
        while !is_blank_or_end(self.peek()) && !is_flow_indicator(self.peek()) {
            self.bump();
        }
        self.s.get(start..self.i).unwrap_or("")
    }

    fn alias(&mut self) -> R<Node> {
        let pos = self.pos();
        self.bump();
        let name = self.name();
        let Some((_, node, h, c)) = self.anchors.iter().rev().find(|a| a.0 == name) else {
            return Err(Error {
                pos,
                message: "an alias names no anchor defined before it",
            });
        };
        if self.depth + h > MAX_DEPTH {
            return Err(Error {
                pos,
                message: "nested too deeply (aliases expanded)",
            });
        }
        self.nodes += c;
        if self.nodes > MAX_NODES {
            return Err(Error {
                pos,
                message: "the document has too many nodes (aliases expanded)",
            });
        }
        let mut n = node.clone();
        n.pos = pos;
        Ok(n)
    }

    fn block_seq(&mut self, col: isize) -> R<Node> {
        let pos = self.pos();
        let mut items = Vec::new();
        loop {
            self.bump();
            let item = if self.at_line_end() {
                self.block(col, false)?
            } else {
                self.node_at(col, true, false)?
            };
            items.push(item);
            self.skip_blank();
            if self.eof() || self.at_marker() {
                break;
            }
            let c = self.indentation()?;
            if c == col && self.at_seq_entry() {
                continue;
            }
            if c > col {
                return Err(self.err("unexpected indentation"));
            }
            break;
        }
        self.node(pos, Value::Seq(items))
    }

    /// Whether a `key:` starts here (nothing consumed).
    fn at_key(&mut self) -> bool {
        let save = (self.i, self.line, self.line_start);
        let ok = self.key().is_ok();
        (self.i, self.line, self.line_start) = save;
        ok
    }

    /// A mapping key and its `:`; the key's text and whether it was plain.
    fn key(&mut self) -> R<(String, bool)> {
        let q = self.peek();
        if q == b'"' || q == b'\'' {
            let line = self.line;
            let text = self.quoted()?;
            self.skip_space();
            if self.line != line || self.peek() != b':' || !is_blank_or_end(self.peek_at(1)) {
                return Err(self.err("expected a `key: value`"));
            }
            self.bump();
            return Ok((text, false));
        }
        if q == b'?' && is_blank_or_end(self.peek_at(1)) {
            return Err(self.err("complex (`? `) mapping keys are not supported"));
        }
        if self.plain_start_invalid() {
            return Err(self.err("expected a `key: value`"));
        }
        let line = self.rest_of_line();
        let b = line.as_bytes();
        let mut j = 0;
        while j < b.len() {
            if b[j] == b':' && is_blank_or_end(b.get(j + 1).copied().unwrap_or(0)) {
                let key = line.get(..j).unwrap_or("").trim_end().to_string();
                self.goto(self.i + j + 1);
                return Ok((key, true));
            }
            if b[j] == b'#' && j > 0 && matches!(b[j - 1], b' ' | b'\t') {
                break;
            }
            j += 1;
        }
        Err(self.err("expected a `key: value`"))
    }

    /// Characters that cannot begin a plain scalar.
    fn plain_start_invalid(&self) -> bool {
        let c = self.peek();
        matches!(
            c,
            b'[' | b']'
                | b'{'
                | b'}'
                | b','
                | b'#'
                | b'&'
                | b'*'
                | b'!'
                | b'|'
                | b'>'
                | b'\''
                | b'"'
                | b'%'
                | b'@'
                | b'`'
        ) || (matches!(c, b'-' | b'?' | b':') && is_blank_or_end(self.peek_at(1)))
    }

    fn block_map(&mut self, col: isize) -> R<Node> {
        let pos = self.pos();
        let mut entries: Vec<Entry> = Vec::new();
        let mut merges = Vec::new();
        loop {
            let kpos = self.pos();
            let (key, plain) = self.key()?;
            let value = if self.at_line_end() {
                self.block(col, true)?
            } else {
                self.node_at(col, false, false)?
            };
            if plain && key == "<<" {
                merges.push(value);
            } else if entries.iter().any(|e| e.key == key) {
                return Err(Error {
                    pos: kpos,
                    message: "a key is repeated in the same mapping",
                });
            } else {
                entries.push(Entry {
                    key,
                    pos: kpos,
                    value,
                });
            }
            self.skip_blank();
            if self.eof() || self.at_marker() {
                break;
            }
            let c = self.indentation()?;
            if c == col {
                continue;
            }
            if c > col {
                return Err(self.err("unexpected indentation"));
            }
            break;
        }
        merge(&mut entries, merges)?;
        self.node(pos, Value::Map(entries))
    }

    /// A scalar, flow collection or alias (no block collection) in a collection at `parent`.
    fn inline(&mut self, parent: isize) -> R<Node> {
        let pos = self.pos();
        let node = match self.peek() {
            b'*' => self.alias()?,
            b'"' | b'\'' => {
                let text = self.quoted()?;
                self.node(pos, Value::Str { text, plain: false })?
            }
            b'[' | b'{' => self.flow()?,
            b'|' | b'>' => {
                let text = self.block_scalar(parent)?;
                return self.node(pos, Value::Str { text, plain: false });
            }
            b'?' if is_blank_or_end(self.peek_at(1)) => {
                return Err(self.err("complex (`? `) mapping keys are not supported"));
            }
            _ => {
                if self.plain_start_invalid() {
                    return Err(self.err("unexpected character"));
                }
                return self.plain(parent, pos);
            }
        };
        if !self.at_line_end() {
            return Err(self.err("unexpected text after the value"));
        }
        Ok(node)
    }

    /// A plain scalar in block context, folding the more indented lines that continue it.
    fn plain(&mut self, parent: isize, pos: Pos) -> R<Node> {
        let mut text = String::new();
        loop {
            let line = self.rest_of_line();
            let b = line.as_bytes();
            let mut end = b.len();
            let mut comment = false;
            for j in 0..b.len() {
                if b[j] == b'#' && j > 0 && matches!(b[j - 1], b' ' | b'\t') {
                    end = j;
                    comment = true;
                    break;
                }
                if b[j] == b':' && is_blank_or_end(b.get(j + 1).copied().unwrap_or(0)) {
                    self.goto(self.i + j);
                    return Err(self.err("a `key: value` cannot follow a value on one line"));
                }
            }
            text.push_str(line.get(..end).unwrap_or("").trim());
            self.goto(self.i + end);
            if comment {
                break;
            }
            // Continuation: the next lines with content, more indented than the parent.
            let save = (self.i, self.line, self.line_start);
            let mut breaks = 0;
            let mut more = false;
            while self.peek() == b'\n' {
                self.bump();
                self.skip_space();
                if matches!(self.peek(), b'\n') {
                    breaks += 1;
                    continue;
                }
                more = !self.eof()
                    && self.peek() != b'#'
                    && self.col() > parent
                    && !self.at_marker_after_indent();
            }
            if !more {
                (self.i, self.line, self.line_start) = save;
                break;
            }
            if breaks == 0 {
                text.push(' ');
            } else {
                (0..breaks).for_each(|_| text.push('\n'));
            }
        }
        self.node(pos, Value::Str { text, plain: true })
    }

    fn at_marker_after_indent(&self) -> bool {
        self.i == self.line_start && self.at_marker()
    }

    /// A single- or double-quoted scalar, with line folding.
    fn quoted(&mut self) -> R<String> {
        let q = self.peek();
        let start = self.pos();
        self.bump();
        let mut out = String::new();
        loop {
            let rest = self.s.get(self.i..).unwrap_or("");
            let Some(c) = rest.chars().next() else {
                return Err(Error {
                    pos: start,
                    message: "a quoted string is not closed",
                });
            };
            match c {
                '\'' if q == b'\'' => {
                    self.bump();
                    if self.peek() == b'\'' {
                        self.bump();
                        out.push('\'');
                    } else {
                        return Ok(out);
                    }
                }
                '"' if q == b'"' => {
                    self.bump();
                    return Ok(out);
                }
                '\\' if q == b'"' => {
                    let at = self.pos();
                    self.bump();
                    if self.peek() == b'\n' {
                        self.bump();
                        self.skip_space();
                        continue;
                    }
                    self.escape(&mut out)
                        .map_err(|message| Error { pos: at, message })?;
                }
                '\n' => {
                    let trimmed = out.trim_end_matches([' ', '\t']).len();
                    out.truncate(trimmed);
                    let mut breaks = 0;
                    while self.peek() == b'\n' {
                        self.bump();
                        self.skip_space();
                        breaks += 1;
                    }
                    if breaks == 1 {
                        out.push(' ');
                    } else {
                        (1..breaks).for_each(|_| out.push('\n'));
                    }
                }
                c => {
                    out.push(c);
                    self.goto(self.i + c.len_utf8());
                }
            }
        }
    }

    /// One escape of a double-quoted scalar, after its backslash.
    fn escape(&mut self, out: &mut String) -> Result<(), &'static str> {
        let c = self.peek();
        self.bump();
        let simple = match c {
            b'0' => '\0',
            b'a' => '\u{7}',
            b'b' => '\u{8}',
            b't' | b'\t' => '\t',
            b'n' => '\n',
            b'v' => '\u{b}',
            b'f' => '\u{c}',
            b'r' => '\r',
            b'e' => '\u{1b}',
            b' ' => ' ',
            b'"' => '"',
            b'/' => '/',
            b'\\' => '\\',
            b'N' => '\u{85}',
            b'_' => '\u{a0}',
            b'L' => '\u{2028}',
            b'P' => '\u{2029}',
            b'x' | b'u' | b'U' => {
                let n = match c {
                    b'x' => 2,
                    b'u' => 4,
                    _ => 8,
                };
                let hex = self.s.get(self.i..self.i + n).unwrap_or("");
                let ch = u32::from_str_radix(hex, 16)
                    .ok()
                    .filter(|_| hex.len() == n && hex.bytes().all(|b| b.is_ascii_hexdigit()))
                    .and_then(char::from_u32)
                    .ok_or("an invalid escape in a double-quoted string")?;
                self.goto(self.i + n);
                ch
            }
            _ => return Err("an invalid escape in a double-quoted string"),
        };
        out.push(simple);
        Ok(())
    }

    /// A literal (`|`) or folded (`>`) block scalar, in a collection at `parent`.
    fn block_scalar(&mut self, parent: isize) -> R<String> {
        let folded = self.peek() == b'>';
        self.bump();
        let (mut chomp, mut explicit) = (b' ', None);
        for _ in 0..2 {
            match self.peek() {
                c @ (b'+' | b'-') if chomp == b' ' => chomp = c,
                c @ b'1'..=b'9' if explicit.is_none() => explicit = Some(isize::from(c - b'0')),
                _ => break,
            }
            self.bump();
        }
        if !is_blank_or_end(self.peek()) || !self.at_line_end() {
            return Err(self.err("unexpected text after a block scalar's indicator"));
        }
        while !self.eof() && self.peek() != b'\n' {
            self.bump();
        }
        // The first line with content fixes the indentation, unless the header gives it.
        let mut indent = explicit.map(|m| usize::try_from(parent + m).unwrap_or(0));
        let min = usize::try_from(parent + 1).unwrap_or(0);
        let mut lines: Vec<&'a str> = Vec::new();
        while self.peek() == b'\n' {
            let save = (self.i, self.line, self.line_start);
            self.bump();
            let line = self.rest_of_line();
            if line.bytes().all(|b| b == b' ') {
                lines.push("");
            } else {
                let spaces = line.len() - line.trim_start_matches(' ').len();
                let ind = *indent.get_or_insert(spaces);
                if spaces < ind || ind < min {
                    (self.i, self.line, self.line_start) = save;
                    break;
                }
                lines.push(line.get(ind..).unwrap_or(""));
            }
            self.goto(self.i + line.len());
        }
        let body_len = lines
            .iter()
            .rposition(|l| !l.is_empty())
            .map_or(0, |n| n + 1);
        let trailing = lines.len() - body_len;
        let mut out = String::new();
        let mut breaks = 0;
        // Whether the previous line with content was more indented (kept as is when folding).
        let mut prev: Option<bool> = None;
        for l in lines.iter().take(body_len) {
            if l.is_empty() {
                breaks += 1;
                continue;
            }
            let special = l.starts_with([' ', '\t']);
            let n = match prev {
                None => breaks,
                Some(ps) if folded && !special && !ps => {
                    if breaks == 0 {
                        out.push(' ');
                    }
                    breaks
                }
                Some(_) => breaks + 1,
            };
            (0..n).for_each(|_| out.push('\n'));
            out.push_str(l);
            breaks = 0;
            prev = Some(special);
        }
        match chomp {
            b'-' => {}
            b'+' => (0..trailing + usize::from(body_len > 0)).for_each(|_| out.push('\n')),
            _ if body_len > 0 => out.push('\n'),
            _ => {}
        }
        Ok(out)
    }

    /// A flow collection, `[…]` or `{…}`.
    fn flow(&mut self) -> R<Node> {
        self.enter()?;
        let r = self.flow_inner();
        self.depth -= 1;
        r
    }

    fn flow_inner(&mut self) -> R<Node> {
        let pos = self.pos();
        let map = self.peek() == b'{';
        let close = if map { b'}' } else { b']' };
        self.bump();
        let (mut items, mut entries) = (Vec::new(), Vec::<Entry>::new());
        let mut merges = Vec::new();
        loop {
            self.skip_blank();
            if self.peek() == close {
                self.bump();
                break;
            }
            if map {
                let kpos = self.pos();
                let key = self.flow_node()?;
                let (key, plain) = match key.value {
                    Value::Str { text, plain } => (text, plain),
                    Value::Null => (String::new(), true),
                    _ => {
                        return Err(Error {
                            pos: kpos,
                            message: "a mapping key must be a scalar",
                        });
                    }
                };
                self.skip_blank();
                let value = if self.peek() == b':' {
                    self.bump();
                    self.skip_blank();
                    if matches!(self.peek(), b',' | b'}') {
                        self.node(self.pos(), Value::Null)?
                    } else {
                        self.flow_node()?
                    }
                } else {
                    self.node(kpos, Value::Null)?
                };
                if plain && key == "<<" {
                    merges.push(value);
                } else if entries.iter().any(|e| e.key == key) {
                    return Err(Error {
                        pos: kpos,
                        message: "a key is repeated in the same mapping",
                    });
                } else {
                    entries.push(Entry {
                        key,
                        pos: kpos,
                        value,
                    });
                }
            } else {
                items.push(self.flow_node()?);
            }
            self.skip_blank();
            match self.peek() {
                b',' => self.bump(),
                c if c == close => {}
                0 => {
                    return Err(Error {
                        pos,
                        message: "a flow collection is not closed",
                    });
                }
                _ => return Err(self.err("expected `,` or the collection's end")),
            }
        }
        if map {
            merge(&mut entries, merges)?;
            self.node(pos, Value::Map(entries))
        } else {
            self.node(pos, Value::Seq(items))
        }
    }

    fn flow_node(&mut self) -> R<Node> {
        let (anchor, plain, _) = self.properties()?;
        let pos = self.pos();
        let mut node = match self.peek() {
            b'[' | b'{' => self.flow()?,
            b'"' | b'\'' => {
                let text = self.quoted()?;
                self.node(pos, Value::Str { text, plain: false })?
            }
            b'*' => self.alias()?,
            0 => return Err(self.err("a flow collection is not closed")),
            _ => {
                if self.plain_start_invalid() && !matches!(self.peek(), b',' | b'}' | b']') {
                    return Err(self.err("unexpected character"));
                }
                let line = self.rest_of_line().as_bytes();
                let mut j = 0;
                while j < line.len() {
                    let c = line[j];
                    let next = line.get(j + 1).copied().unwrap_or(0);
                    if is_flow_indicator(c)
                        || (c == b':' && (is_blank_or_end(next) || is_flow_indicator(next)))
                        || (c == b'#' && j > 0 && matches!(line[j - 1], b' ' | b'\t'))
                    {
                        break;
                    }
                    j += 1;
                }
                let text = self
                    .rest_of_line()
                    .get(..j)
                    .unwrap_or("")
                    .trim()
                    .to_string();
                self.goto(self.i + j);
                let value = if text.is_empty() {
                    Value::Null
                } else {
                    Value::Str { text, plain: true }
                };
                self.node(pos, value)?
            }
        };
        if !plain && let Value::Str { plain, .. } = &mut node.value {
            *plain = false;
        }
        if let Some(name) = anchor {
            let (h, c) = measure(&node);
            self.anchors.push((name, node.clone(), h, c));
        }
        Ok(node)
    }
}

/// Merge keys (`<<`): the entries of each merged mapping (or of each mapping in a merged
/// sequence) that the mapping does not set itself, earlier sources first.
fn merge(entries: &mut Vec<Entry>, merges: Vec<Node>) -> R<()> {
    for m in merges {
        let sources = match m.value {
            Value::Seq(items) => items,
            Value::Map(_) => vec![m],
            _ => {
                return Err(Error {
                    pos: m.pos,
                    message: "a merge key (`<<`) takes a mapping or a sequence of mappings",
                });
            }
        };
        for s in sources {
            let Value::Map(src) = s.value else {
                return Err(Error {
                    pos: s.pos,
                    message: "a merge key (`<<`) takes a mapping or a sequence of mappings",
                });
            };
            for e in src {
                if !entries.iter().any(|x| x.key == e.key) {
                    entries.push(e);
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> Value {
        Value::Str {
            text: text.into(),
            plain: true,
        }
    }
    fn q(text: &str) -> Value {
        Value::Str {
            text: text.into(),
            plain: false,
        }
    }

    /// The tree without positions, as nested JSON-like text, for short assertions.
    fn show(n: &Node) -> String {
        match &n.value {
            Value::Null => "~".into(),
            Value::Str { text, plain: true } => text.clone(),
            Value::Str { text, plain: false } => format!("{text:?}"),
            Value::Seq(items) => format!(
                "[{}]",
                items.iter().map(show).collect::<Vec<_>>().join(", ")
            ),
            Value::Map(entries) => format!(
                "{{{}}}",
                entries
                    .iter()
                    .map(|e| format!("{}: {}", e.key, show(&e.value)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    fn ok(text: &str) -> String {
        show(&parse(text).unwrap_or_else(|e| panic!("{text:?}: {e}")))
    }

    fn err(text: &str) -> Error {
        parse(text).expect_err(text)
    }

    #[test]
    fn empty_documents_are_null() {
        for t in [
            "",
            "# only\n\n  # comments\n",
            "---\n",
            "--- # c\n...\n",
            "\u{feff}",
        ] {
            assert_eq!(parse(t).unwrap().value, Value::Null, "{t:?}");
        }
    }

    #[test]
    fn block_mappings_and_sequences_nest_with_positions() {
        let t = "\
a: 1   # comment
b:
  - x
  - name: n
    list:
    - p
    -   q
  -
    k: v
c: {}
";
        assert_eq!(
            ok(t),
            "{a: 1, b: [x, {name: n, list: [p, q]}, {k: v}], c: {}}"
        );
        let n = parse(t).unwrap();
        let Value::Map(e) = &n.value else { panic!() };
        assert_eq!(e[1].pos, Pos { line: 2, col: 1 });
        let Value::Seq(items) = &e[1].value.value else {
            panic!()
        };
        assert_eq!(items[1].pos, Pos { line: 4, col: 5 });
        assert_eq!(e[0].value.pos, Pos { line: 1, col: 4 });
    }

    #[test]
    fn scalars_plain_quoted_and_folded() {
        assert_eq!(
            ok("a: https://x.example:443/p?q=1#frag"),
            "{a: https://x.example:443/p?q=1#frag}"
        );
        assert_eq!(
            ok("a: 'it''s # not a comment'"),
            "{a: \"it's # not a comment\"}"
        );
        assert_eq!(
            ok("a: \"t\\tab \\u00e9\\x41 \\\"q\\\"\""),
            "{a: \"t\\tab éA \\\"q\\\"\"}"
        );
        assert_eq!(
            ok("a: one\n  two\n\n  three\nb: ~"),
            "{a: one two\nthree, b: ~}"
        );
        assert_eq!(ok("a: \"one\n   two\"\n"), "{a: \"one two\"}");
        assert_eq!(ok("\"quoted key\": 1\n'k2' : 2"), "{quoted key: 1, k2: 2}");
        assert_eq!(ok("a:\nb: ''"), "{a: ~, b: \"\"}");
        assert_eq!(ok("- -1\n- -x\n- - nested"), "[-1, -x, [nested]]");
        assert_eq!(ok("a: !!str true\nb: !!int 3"), "{a: \"true\", b: 3}");
        assert_eq!(
            ok("a: !!map\n  b: &x !!str 1\nc: *x"),
            "{a: {b: \"1\"}, c: \"1\"}"
        );
    }

    #[test]
    fn block_scalars_keep_or_fold_lines() {
        let t = "\
key: |
  -----BEGIN X-----
  abc

  def
  -----END X-----
folded: >-
  one
  two

  three
    indented
keep: |+
  k

strip: |-
  s
ind: |2
   lead
last: x
";
        let n = parse(t).unwrap();
        let Value::Map(e) = n.value else { panic!() };
        let v: Vec<_> = e.iter().map(|e| e.value.value.clone()).collect();
        assert_eq!(v[0], q("-----BEGIN X-----\nabc\n\ndef\n-----END X-----\n"));
        assert_eq!(v[1], q("one two\nthree\n  indented"));
        assert_eq!(v[2], q("k\n\n"));
        assert_eq!(v[3], q("s"));
        assert_eq!(v[4], q(" lead\n"));
        assert_eq!(v[5], s("x"));
        assert_eq!(ok("a: |\nb: 1"), "{a: \"\", b: 1}");
        assert_eq!(ok("- |\n  in a list\n- x"), "[\"in a list\\n\", x]");
    }

    #[test]
    fn flow_collections_anchors_aliases_and_merges() {
        assert_eq!(
            ok("a: [1, 'two', {k: v, e: }, []]\nb: {x: [y], z}"),
            "{a: [1, \"two\", {k: v, e: ~}, []], b: {x: [y], z: ~}}"
        );
        assert_eq!(ok("a: [\n  1,\n  2, # c\n]"), "{a: [1, 2]}");
        let t = "\
base: &b
  server: s
  name: n
one:
  <<: *b
  name: m
two: *b
three: &s [1, *b]
four:
  <<: [*b, {extra: 1}]
";
        assert_eq!(
            ok(t),
            "{base: {server: s, name: n}, one: {name: m, server: s}, two: {server: s, name: n}, \
             three: [1, {server: s, name: n}], four: {server: s, name: n, extra: 1}}"
        );
    }

    #[test]
    fn errors_give_line_and_column_and_never_the_text() {
        let cases = [
            ("a: 1\nb: \"glpat-secret\n", 2, 4, "not closed"),
            ("a: 1\n  b: 2\n", 2, 4, "cannot follow"),
            ("a:\n    b: 1\n  c: 2\n", 3, 3, "indentation"),
            ("a: 1\na: 2\n", 2, 1, "repeated"),
            ("a: b: glpat-secret\n", 1, 5, "cannot follow"),
            ("a:\n\t- x\n", 2, 2, "tabs"),
            ("a: 1\n---\nb: 2\n", 2, 1, "one YAML document"),
            ("a: *nowhere\n", 1, 4, "no anchor"),
            ("a: [1, 2\n", 1, 4, "not closed"),
            ("a: !custom x\n", 1, 4, "tags"),
            ("? a\n: b\n", 1, 1, "complex"),
            ("%YAML 1.2\n---\na: 1\n", 1, 1, "directives"),
            ("a: \"\\q\"\n", 1, 5, "escape"),
            ("a: 'x' y\n", 1, 8, "after the value"),
            ("a: |x\n", 1, 5, "indicator"),
        ];
        for (t, line, col, want) in cases {
            let e = err(t);
            assert_eq!((e.pos.line, e.pos.col), (line, col), "{t:?}: {e}");
            assert!(e.message.contains(want), "{t:?}: {e}");
            assert!(!e.to_string().contains("glpat"), "{e}");
        }
        assert_eq!(err("k: ü\nü: [x").pos, Pos { line: 2, col: 4 });
    }

    #[test]
    fn nesting_and_alias_expansion_are_bounded() {
        let deep = "[".repeat(10_000);
        assert!(err(&deep).message.contains("deeply"));
        let mut block = String::new();
        for d in 0..200 {
            block.push_str(&" ".repeat(d));
            block.push_str("k:\n");
        }
        assert!(err(&block).message.contains("deeply"));
        let seq_deep = "- ".repeat(500) + "x";
        assert!(err(&seq_deep).message.contains("deeply"));
        let mut laughs = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for k in 1..6 {
            let refs = vec![format!("*a{}", k - 1); 10].join(", ");
            laughs.push_str(&format!("a{k}: &a{k} [{refs}]\n"));
        }
        assert!(err(&laughs).message.contains("too many nodes"));
        let mut chain = String::from("a0: &a0 [x]\n");
        for k in 1..100 {
            chain.push_str(&format!("a{k}: &a{k} [*a{}]\n", k - 1));
        }
        assert!(err(&chain).message.contains("deeply"));
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        let pieces = [
            "a", ":", " ", "\n", "-", "'", "\"", "\\", "[", "]", "{", "}", ",", "#", "&x", "*x",
            "|", ">", "!!str", "ü", "  ", "\t", "---", "?", "<<", "1", "\\u12",
        ];
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..20_000 {
            let mut t = String::new();
            for _ in 0..(seed % 24) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                t.push_str(pieces[(seed % pieces.len() as u64) as usize]);
            }
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let _ = parse(&t);
        }
    }
}
