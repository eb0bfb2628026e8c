//! The syntax tree of a field value: literal text and `#{...}` expressions, every node with the
//! byte span it came from in the original text.
//!
//! `Display` prints the tree back as source with the fewest parentheses that preserve its
//! shape, so printing and re-parsing gives the same tree (spans aside); the property tests rely
//! on it. The method-call form (`d.format('YYYY')`) is kept as a flag on the call rather than
//! desugared away, so that printing gives back what the user wrote.

use std::fmt;
use std::ops::Range;

/// A parsed field value: literal text with `#{...}` expressions spliced in.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    pub parts: Vec<Part>,
}

/// One piece of a [`Template`].
#[derive(Debug, Clone, PartialEq)]
pub enum Part {
    /// Text outside any `#{...}`, copied as is.
    Literal { text: String, span: Range<usize> },
    /// One `#{...}`; `span` covers the delimiters, `expr.span` only the expression.
    Expression { expr: Expr, span: Range<usize> },
}

/// An expression node.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    /// Byte range of the node in the original text.
    pub span: Range<usize>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    Int(i64),
    Double(f64),
    String(String),
    /// A field of the current object, a runtime field (`@scheduledStartTime`), a parameter
    /// (`myParam`) or a secret (`*myPassword`); the name keeps its `@` or `*`.
    Field(String),
    /// `base.name`: field `name` of the object(s) `base` refers to.
    Member {
        base: Box<Expr>,
        name: String,
        name_span: Range<usize>,
    },
    /// `name(args)`, or `args[0].name(args[1..])` when `method` is set.
    Call {
        function: String,
        function_span: Range<usize>,
        args: Vec<Expr>,
        method: bool,
    },
    Neg(Box<Expr>),
    Binary {
        op: BinaryOp,
        left: Box<Expr>,
        right: Box<Expr>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
}

impl BinaryOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Pow => "^",
        }
    }

    fn precedence(self) -> u8 {
        match self {
            BinaryOp::Add | BinaryOp::Sub => ADDITIVE,
            BinaryOp::Mul | BinaryOp::Div => MULTIPLICATIVE,
            BinaryOp::Pow => POWER,
        }
    }
}

// Binding strength, weakest first; unary minus sits between `* /` and `^` so that `-2 ^ 2` is
// `-(2 ^ 2)`, as in mathematics.
const ADDITIVE: u8 = 1;
const MULTIPLICATIVE: u8 = 2;
const UNARY: u8 = 3;
const POWER: u8 = 4;
const POSTFIX: u8 = 5;

/// A field reference found in an expression, as a path: `input.directoryPath` is
/// `["input", "directoryPath"]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldPath {
    pub path: Vec<String>,
    pub span: Range<usize>,
}

impl Template {
    /// Whether the template has no `#{...}` at all.
    pub fn is_literal(&self) -> bool {
        self.parts
            .iter()
            .all(|part| matches!(part, Part::Literal { .. }))
    }

    /// The expressions of the template, in order.
    pub fn expressions(&self) -> impl Iterator<Item = &Expr> {
        self.parts.iter().filter_map(|part| match part {
            Part::Expression { expr, .. } => Some(expr),
            Part::Literal { .. } => None,
        })
    }

    /// Every field reference chain (`name`, `input.path`, `node.@scheduledStartTime`), for
    /// validators that check references without evaluating.
    pub fn field_paths(&self) -> Vec<FieldPath> {
        let mut out = Vec::new();
        for expr in self.expressions() {
            expr.collect_field_paths(&mut out);
        }
        out
    }

    /// The same template with every span zeroed, to compare shapes of trees parsed from
    /// different texts.
    pub fn without_spans(&self) -> Template {
        Template {
            parts: self
                .parts
                .iter()
                .map(|part| match part {
                    Part::Literal { text, .. } => Part::Literal {
                        text: text.clone(),
                        span: 0..0,
                    },
                    Part::Expression { expr, .. } => Part::Expression {
                        expr: expr.without_spans(),
                        span: 0..0,
                    },
                })
                .collect(),
        }
    }
}

impl Expr {
    /// The same tree with every span zeroed.
    pub fn without_spans(&self) -> Expr {
        let kind = match &self.kind {
            ExprKind::Member { base, name, .. } => ExprKind::Member {
                base: Box::new(base.without_spans()),
                name: name.clone(),
                name_span: 0..0,
            },
            ExprKind::Call {
                function,
                args,
                method,
                ..
            } => ExprKind::Call {
                function: function.clone(),
                function_span: 0..0,
                args: args.iter().map(Expr::without_spans).collect(),
                method: *method,
            },
            ExprKind::Neg(operand) => ExprKind::Neg(Box::new(operand.without_spans())),
            ExprKind::Binary { op, left, right } => ExprKind::Binary {
                op: *op,
                left: Box::new(left.without_spans()),
                right: Box::new(right.without_spans()),
            },
            leaf => leaf.clone(),
        };
        Expr { kind, span: 0..0 }
    }

    /// Calls `visit` on this node and every node below it, parents first.
    pub fn walk(&self, visit: &mut dyn FnMut(&Expr)) {
        visit(self);
        match &self.kind {
            ExprKind::Member { base, .. } => base.walk(visit),
            ExprKind::Call { args, .. } => args.iter().for_each(|arg| arg.walk(visit)),
            ExprKind::Neg(operand) => operand.walk(visit),
            ExprKind::Binary { left, right, .. } => {
                left.walk(visit);
                right.walk(visit);
            }
            ExprKind::Int(_) | ExprKind::Double(_) | ExprKind::String(_) | ExprKind::Field(_) => {}
        }
    }

    /// The field chain this node names, if it is a plain chain like `node.output.path`.
    fn field_path(&self) -> Option<Vec<String>> {
        match &self.kind {
            ExprKind::Field(name) => Some(vec![name.clone()]),
            ExprKind::Member { base, name, .. } => {
                let mut path = base.field_path()?;
                path.push(name.clone());
                Some(path)
            }
            _ => None,
        }
    }

    fn collect_field_paths(&self, out: &mut Vec<FieldPath>) {
        if let Some(path) = self.field_path() {
            out.push(FieldPath {
                path,
                span: self.span.clone(),
            });
            return;
        }
        match &self.kind {
            ExprKind::Member { base, .. } => base.collect_field_paths(out),
            ExprKind::Call { args, .. } => args.iter().for_each(|arg| arg.collect_field_paths(out)),
            ExprKind::Neg(operand) => operand.collect_field_paths(out),
            ExprKind::Binary { left, right, .. } => {
                left.collect_field_paths(out);
                right.collect_field_paths(out);
            }
            ExprKind::Int(_) | ExprKind::Double(_) | ExprKind::String(_) | ExprKind::Field(_) => {}
        }
    }

    /// Nesting depth of the tree (a leaf is 1).
    pub(crate) fn height(&self) -> usize {
        1 + match &self.kind {
            ExprKind::Member { base, .. } => base.height(),
            ExprKind::Call { args, .. } => args.iter().map(Expr::height).max().unwrap_or(0),
            ExprKind::Neg(operand) => operand.height(),
            ExprKind::Binary { left, right, .. } => left.height().max(right.height()),
            ExprKind::Int(_) | ExprKind::Double(_) | ExprKind::String(_) | ExprKind::Field(_) => 0,
        }
    }

    fn precedence(&self) -> u8 {
        match &self.kind {
            ExprKind::Binary { op, .. } => op.precedence(),
            ExprKind::Neg(_) => UNARY,
            _ => POSTFIX,
        }
    }

    /// Writes `self` where the grammar needs at least `min` binding strength.
    fn fmt_at(&self, f: &mut fmt::Formatter<'_>, min: u8) -> fmt::Result {
        if self.precedence() < min {
            write!(f, "({self})")
        } else {
            write!(f, "{self}")
        }
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ExprKind::Int(n) => write!(f, "{n}"),
            // `{:?}` is the shortest text that parses back to the same f64 and always has a
            // `.` or an exponent, so it re-lexes as a double.
            ExprKind::Double(x) => write!(f, "{x:?}"),
            ExprKind::String(s) => {
                f.write_str("'")?;
                for c in s.chars() {
                    if c == '\'' || c == '\\' {
                        f.write_str("\\")?;
                    }
                    write!(f, "{c}")?;
                }
                f.write_str("'")
            }
            ExprKind::Field(name) => f.write_str(name),
            ExprKind::Member { base, name, .. } => {
                base.fmt_at(f, POSTFIX)?;
                write!(f, ".{name}")
            }
            ExprKind::Call {
                function,
                args,
                method,
                ..
            } => {
                let mut rest = args.iter();
                if *method && let Some(receiver) = rest.next() {
                    receiver.fmt_at(f, POSTFIX)?;
                    f.write_str(".")?;
                }
                write!(f, "{function}(")?;
                for (index, arg) in rest.enumerate() {
                    if index > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{arg}")?;
                }
                f.write_str(")")
            }
            ExprKind::Neg(operand) => {
                f.write_str("-")?;
                operand.fmt_at(f, UNARY)
            }
            ExprKind::Binary { op, left, right } => {
                let (left_min, right_min) = match op {
                    BinaryOp::Add | BinaryOp::Sub => (ADDITIVE, MULTIPLICATIVE),
                    BinaryOp::Mul | BinaryOp::Div => (MULTIPLICATIVE, UNARY),
                    BinaryOp::Pow => (POSTFIX, UNARY),
                };
                left.fmt_at(f, left_min)?;
                write!(f, " {} ", op.symbol())?;
                right.fmt_at(f, right_min)
            }
        }
    }
}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for part in &self.parts {
            match part {
                Part::Literal { text, .. } => f.write_str(text)?,
                Part::Expression { expr, .. } => write!(f, "#{{{expr}}}")?,
            }
        }
        Ok(())
    }
}
