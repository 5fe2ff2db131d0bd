//! Type inference as rustc does it for this DSL: a union-find table of type variables.
//!
//! Unsuffixed integer literals get an integer variable, float literals a float variable;
//! `let` without annotation takes its initialiser's variable; every use unifies. At the end,
//! integer variables nothing constrained become `i32`, float variables `f64`, and the type of
//! a block that diverges (`return`, `break`…) whatever its context needs (or `()`).

use crate::ir::Ty;
use crate::layout::Scalar;

/// A type variable.
pub(crate) type Var = u32;

#[derive(Debug, Clone, PartialEq)]
enum Slot {
    Unit,
    Scalar(Scalar),
    Struct(String),
    Enum(String, Scalar),
    Array(Var, u32),
    Tuple(Vec<Var>),
    /// Some integer type, not yet known.
    Int,
    /// Some float type, not yet known.
    Float,
    /// The type of a diverging expression: anything.
    Never,
    /// Nothing known yet.
    Unknown,
    Link(Var),
}

#[derive(Debug, Default)]
pub(crate) struct Table {
    slots: Vec<Slot>,
}

impl Table {
    fn push(&mut self, slot: Slot) -> Var {
        self.slots.push(slot);
        (self.slots.len() - 1) as Var
    }

    pub fn known(&mut self, ty: &Ty) -> Var {
        let slot = match ty {
            Ty::Unit => Slot::Unit,
            Ty::Scalar(s) => Slot::Scalar(*s),
            Ty::Struct(name) => Slot::Struct(name.clone()),
            Ty::Enum(name, repr) => Slot::Enum(name.clone(), *repr),
            Ty::Array(elem, len) => {
                let elem = self.known(elem);
                Slot::Array(elem, *len)
            }
            Ty::Tuple(parts) => Slot::Tuple(parts.iter().map(|p| self.known(p)).collect()),
        };
        self.push(slot)
    }

    pub fn scalar(&mut self, scalar: Scalar) -> Var {
        self.push(Slot::Scalar(scalar))
    }

    pub fn int(&mut self) -> Var {
        self.push(Slot::Int)
    }

    pub fn float(&mut self) -> Var {
        self.push(Slot::Float)
    }

    pub fn never(&mut self) -> Var {
        self.push(Slot::Never)
    }

    pub fn unknown(&mut self) -> Var {
        self.push(Slot::Unknown)
    }

    pub fn array(&mut self, elem: Var, len: u32) -> Var {
        self.push(Slot::Array(elem, len))
    }

    pub fn tuple(&mut self, parts: Vec<Var>) -> Var {
        self.push(Slot::Tuple(parts))
    }

    /// The part variables, when `var` is a tuple.
    pub fn tuple_parts(&mut self, var: Var) -> Option<Vec<Var>> {
        let root = self.find(var);
        match &self.slots[root as usize] {
            Slot::Tuple(parts) => Some(parts.clone()),
            _ => None,
        }
    }

    fn find(&mut self, var: Var) -> Var {
        let mut root = var;
        while let Slot::Link(next) = self.slots[root as usize] {
            root = next;
        }
        let mut cur = var;
        while let Slot::Link(next) = self.slots[cur as usize] {
            self.slots[cur as usize] = Slot::Link(root);
            cur = next;
        }
        root
    }

    /// Makes `a` and `b` the same type; on a mismatch, the two types as text.
    pub fn unify(&mut self, a: Var, b: Var) -> Result<(), (String, String)> {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return Ok(());
        }
        let (sa, sb) = (self.slots[ra as usize].clone(), self.slots[rb as usize].clone());
        let link =
            |table: &mut Self, from: Var, to: Var| table.slots[from as usize] = Slot::Link(to);
        match (&sa, &sb) {
            (Slot::Unknown | Slot::Never, _) => link(self, ra, rb),
            (_, Slot::Unknown | Slot::Never) => link(self, rb, ra),
            (Slot::Int, Slot::Int) | (Slot::Float, Slot::Float) => link(self, ra, rb),
            (Slot::Int, Slot::Scalar(s)) if s.is_int() => link(self, ra, rb),
            (Slot::Scalar(s), Slot::Int) if s.is_int() => link(self, rb, ra),
            (Slot::Float, Slot::Scalar(s)) if s.is_float() => link(self, ra, rb),
            (Slot::Scalar(s), Slot::Float) if s.is_float() => link(self, rb, ra),
            (Slot::Array(ea, la), Slot::Array(eb, lb)) if la == lb => {
                let (ea, eb) = (*ea, *eb);
                self.unify(ea, eb).map_err(|_| (self.describe(a), self.describe(b)))?;
                link(self, ra, rb);
            }
            (Slot::Tuple(pa), Slot::Tuple(pb)) if pa.len() == pb.len() => {
                for (x, y) in pa.clone().into_iter().zip(pb.clone()) {
                    self.unify(x, y).map_err(|_| (self.describe(a), self.describe(b)))?;
                }
                link(self, ra, rb);
            }
            (x, y) if x == y && !matches!(x, Slot::Array(..) | Slot::Tuple(_)) => {
                link(self, ra, rb)
            }
            _ => return Err((self.describe(a), self.describe(b))),
        }
        Ok(())
    }

    /// The type as far as known now, without defaulting (`None` for variables).
    pub fn shallow(&mut self, var: Var) -> Option<Ty> {
        let root = self.find(var);
        match self.slots[root as usize].clone() {
            Slot::Unit => Some(Ty::Unit),
            Slot::Scalar(s) => Some(Ty::Scalar(s)),
            Slot::Struct(name) => Some(Ty::Struct(name)),
            Slot::Enum(name, repr) => Some(Ty::Enum(name, repr)),
            Slot::Array(elem, len) => {
                let elem = self.shallow(elem).unwrap_or(Ty::Unit);
                Some(Ty::Array(Box::new(elem), len))
            }
            Slot::Tuple(parts) => Some(Ty::Tuple(
                parts.iter().map(|p| self.shallow(*p).unwrap_or(Ty::Unit)).collect(),
            )),
            _ => None,
        }
    }

    /// The element variable and length, when `var` is an array.
    pub fn array_parts(&mut self, var: Var) -> Option<(Var, u32)> {
        let root = self.find(var);
        match self.slots[root as usize] {
            Slot::Array(elem, len) => Some((elem, len)),
            _ => None,
        }
    }

    /// The final type, with defaults applied; `None` when nothing determines it.
    pub fn resolve(&mut self, var: Var) -> Option<Ty> {
        let root = self.find(var);
        match self.slots[root as usize].clone() {
            Slot::Int => Some(Ty::Scalar(Scalar::I32)),
            Slot::Float => Some(Ty::Scalar(Scalar::F64)),
            Slot::Never => Some(Ty::Unit),
            Slot::Unknown => None,
            Slot::Array(elem, len) => Some(Ty::Array(Box::new(self.resolve(elem)?), len)),
            Slot::Tuple(parts) => {
                let parts: Option<Vec<Ty>> = parts.iter().map(|p| self.resolve(*p)).collect();
                Some(Ty::Tuple(parts?))
            }
            _ => self.shallow(root),
        }
    }

    /// The type as text for messages: `{integer}`, `{float}`, `_` for unknowns.
    pub fn describe(&mut self, var: Var) -> String {
        let root = self.find(var);
        match self.slots[root as usize].clone() {
            Slot::Int => "{integer}".into(),
            Slot::Float => "{float}".into(),
            Slot::Never | Slot::Unknown => "_".into(),
            Slot::Array(elem, len) => format!("[{}; {len}]", self.describe(elem)),
            Slot::Tuple(parts) => {
                let names: Vec<String> = parts.iter().map(|p| self.describe(*p)).collect();
                if names.len() == 1 {
                    format!("({},)", names[0])
                } else {
                    format!("({})", names.join(", "))
                }
            }
            _ => self.shallow(root).map(|t| t.to_string()).unwrap_or_else(|| "_".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_variables_take_the_first_concrete_type_and_default_to_i32() {
        let mut t = Table::default();
        let (a, b, usize_) = (t.int(), t.int(), t.scalar(Scalar::Usize));
        t.unify(a, b).unwrap();
        t.unify(b, usize_).unwrap();
        assert_eq!(t.resolve(a), Some(Ty::Scalar(Scalar::Usize)));
        let lone = t.int();
        assert_eq!(t.resolve(lone), Some(Ty::Scalar(Scalar::I32)));
        let float = t.float();
        assert_eq!(t.resolve(float), Some(Ty::Scalar(Scalar::F64)));
    }

    #[test]
    fn mismatches_are_described() {
        let mut t = Table::default();
        let (i, f32_) = (t.int(), t.scalar(Scalar::F32));
        assert_eq!(t.unify(i, f32_), Err(("{integer}".into(), "f32".into())));
        let (elem, other) = (t.int(), t.scalar(Scalar::Bool));
        let arr = t.array(elem, 4);
        assert_eq!(t.unify(arr, other), Err(("[{integer}; 4]".into(), "bool".into())));
    }

    #[test]
    fn arrays_unify_elementwise_and_never_fits_anything() {
        let mut t = Table::default();
        let (e1, e2) = (t.int(), t.scalar(Scalar::U8));
        let (a1, a2) = (t.array(e1, 3), t.array(e2, 3));
        t.unify(a1, a2).unwrap();
        assert_eq!(t.resolve(e1), Some(Ty::Scalar(Scalar::U8)));
        let never = t.never();
        let s = t.scalar(Scalar::F32);
        t.unify(never, s).unwrap();
        assert_eq!(t.resolve(never), Some(Ty::Scalar(Scalar::F32)));
        let unknown = t.unknown();
        assert_eq!(t.resolve(unknown), None);
    }
}
