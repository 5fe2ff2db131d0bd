//! PTX text → [`ModuleData`]: module directives, variables, functions and their bodies.
//!
//! One pass over the tokens. Functions must be declared before they are called (the ISA
//! requires it, and nvcc emits prototypes); labels may be used before they are defined and
//! are patched when the function ends. Names are resolved through a scope stack: `{ }`
//! blocks inside a body open scopes of their own, so the `.param` blocks nvcc opens around
//! every call site each get fresh storage.

mod decode;
mod operand;

use std::collections::HashMap;

use crate::error::ParseError;
use crate::inst::{FloatTy, Inst, IntTy, Op, Reg, Ty};
use crate::lex::{Tok, Token, tokenize};
use crate::module::{ConstValue, Function, ModuleData, ParamSlot, SPECIAL_SLOTS, Variable};

/// What a name in scope stands for.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Symbol {
    Reg(Reg),
    /// A `.global`/`.const` variable (index into `variables`).
    Global(u32),
    Shared(u32),
    /// The open-ended `.extern .shared` array: dynamic shared memory after the static ones.
    DynamicShared,
    Local(u32),
    Param {
        offset: u32,
        size: u32,
    },
    Func(u32),
}

pub(crate) struct Parser<'a> {
    toks: Vec<Token<'a>>,
    pos: usize,
    pub module: ModuleData,
    globals: HashMap<String, Symbol>,
    scopes: Vec<HashMap<String, Symbol>>,
    constant_slots: HashMap<ConstValue, Reg>,
    labels: HashMap<&'a str, u32>,
    label_fixups: Vec<(usize, Token<'a>)>,
    /// Functions called by each function (for `uses_collectives`), by index.
    calls: Vec<Vec<u32>>,
    pub current_function: u32,
    end: Token<'a>,
}

pub(crate) fn parse_module(text: &str) -> Result<ModuleData, ParseError> {
    let toks = tokenize(text)?;
    let end_line = text.lines().count().max(1) as u32;
    let mut p = Parser {
        toks,
        pos: 0,
        module: ModuleData {
            id: crate::module::next_module_id(),
            functions: Vec::new(),
            code: Vec::new(),
            lines: Vec::new(),
            owner: Vec::new(),
            register_count: 1 + SPECIAL_SLOTS,
            constants: Vec::new(),
            variables: Vec::new(),
            param_size: 0,
            local_size: 0,
            shared_static_size: 0,
            version: (0, 0),
            target: String::new(),
        },
        globals: HashMap::new(),
        scopes: Vec::new(),
        constant_slots: HashMap::new(),
        labels: HashMap::new(),
        label_fixups: Vec::new(),
        calls: Vec::new(),
        current_function: 0,
        end: Token { tok: Tok::Punct(' '), text: "", line: end_line, column: 1 },
    };
    p.module_items()?;
    p.finish()
}

impl<'a> Parser<'a> {
    // ---- token helpers -------------------------------------------------------------------

    pub fn peek(&self) -> Token<'a> {
        self.toks.get(self.pos).copied().unwrap_or(self.end)
    }

    pub fn peek_at(&self, ahead: usize) -> Token<'a> {
        self.toks.get(self.pos + ahead).copied().unwrap_or(self.end)
    }

    pub fn next(&mut self) -> Token<'a> {
        let t = self.peek();
        self.pos += 1;
        t
    }

    pub fn error_at(&self, t: Token<'_>, message: impl Into<String>) -> ParseError {
        ParseError { line: t.line, column: t.column, token: t.text.into(), message: message.into() }
    }

    pub fn is_punct(&self, c: char) -> bool {
        self.peek().tok == Tok::Punct(c)
    }

    pub fn eat_punct(&mut self, c: char) -> bool {
        let hit = self.is_punct(c);
        if hit {
            self.pos += 1;
        }
        hit
    }

    pub fn expect_punct(&mut self, c: char) -> Result<(), ParseError> {
        if self.eat_punct(c) {
            Ok(())
        } else {
            Err(self.error_at(self.peek(), format!("expected `{c}`")))
        }
    }

    pub fn word(&mut self, what: &str) -> Result<(&'a str, Token<'a>), ParseError> {
        let t = self.next();
        match t.tok {
            Tok::Word(w) => Ok((w, t)),
            _ => Err(self.error_at(t, format!("expected {what}"))),
        }
    }

    pub fn integer(&mut self) -> Result<i128, ParseError> {
        let negative = self.eat_punct('-');
        let t = self.next();
        match t.tok {
            Tok::Int(v) => Ok(if negative { -(v as i128) } else { v as i128 }),
            _ => Err(self.error_at(t, "expected an integer")),
        }
    }

    /// Skips a debug directive (`.file`, `.loc`): they end with their line, not with `;`
    /// (`.loc 1 10 3`, `.file 1 "a.cu"`), and `.pragma "..."` ends with `;`.
    fn skip_line_directive(&mut self, directive: Token<'a>) {
        let Tok::Word(w) = directive.tok else { return };
        if w == ".pragma" {
            return self.skip_to_semicolon();
        }
        while self.pos < self.toks.len() && self.peek().line == directive.line {
            self.pos += 1;
        }
        self.eat_punct(';');
    }

    fn skip_to_semicolon(&mut self) {
        while self.pos < self.toks.len() && !self.eat_punct(';') {
            self.pos += 1;
        }
    }

    // ---- names ---------------------------------------------------------------------------

    pub fn lookup(&self, name: &str) -> Option<Symbol> {
        self.scopes
            .iter()
            .rev()
            .find_map(|s| s.get(name).copied())
            .or_else(|| self.globals.get(name).copied())
    }

    fn declare(&mut self, name: &str, sym: Symbol, at: Token<'a>) -> Result<(), ParseError> {
        let scope = match self.scopes.last_mut() {
            Some(s) => s,
            None => &mut self.globals,
        };
        if scope.insert(name.to_string(), sym).is_some() && !matches!(sym, Symbol::Func(_)) {
            return Err(self.error_at(at, format!("`{name}` is declared twice in one scope")));
        }
        Ok(())
    }

    /// The register slot holding a constant (allocated once per distinct value).
    pub fn constant(&mut self, value: ConstValue) -> Reg {
        if let Some(r) = self.constant_slots.get(&value) {
            return *r;
        }
        let r = self.module.register_count;
        self.module.register_count += 1;
        self.module.constants.push((r, value));
        self.constant_slots.insert(value, r);
        r
    }

    // ---- module level --------------------------------------------------------------------

    fn module_items(&mut self) -> Result<(), ParseError> {
        while self.pos < self.toks.len() {
            let t = self.next();
            let Tok::Word(w) = t.tok else {
                return Err(self.error_at(t, "expected a directive"));
            };
            match w {
                ".version" => {
                    let v = self.next();
                    let parsed = match v.tok {
                        Tok::Decimal(_) => v
                            .text
                            .split_once('.')
                            .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?))),
                        Tok::Int(major) => u32::try_from(major).ok().map(|m| (m, 0)),
                        _ => None,
                    };
                    self.module.version = parsed
                        .ok_or_else(|| self.error_at(v, "expected a PTX version such as 7.8"))?;
                }
                ".target" => loop {
                    let (name, _) = self.word("a target name")?;
                    if self.module.target.is_empty() {
                        self.module.target = name.to_string();
                    }
                    if !self.eat_punct(',') {
                        break;
                    }
                },
                ".address_size" => {
                    let at = self.peek();
                    if self.integer()? != 64 {
                        return Err(self.error_at(at, "only `.address_size 64` is supported"));
                    }
                }
                ".file" | ".pragma" | ".loc" => self.skip_line_directive(t),
                ".section" => self.skip_section()?,
                ".visible" | ".extern" | ".weak" | ".common" => {
                    let linkage = w;
                    match self.peek().tok {
                        Tok::Word(".entry") | Tok::Word(".func") => {}
                        _ => {
                            let (space, at) = self.word("a state space")?;
                            self.variable(space, at, linkage == ".extern")?;
                        }
                    }
                    if let Tok::Word(kind @ (".entry" | ".func")) = self.peek().tok {
                        self.pos += 1;
                        self.function(kind == ".entry", linkage == ".extern")?;
                    }
                }
                ".entry" => self.function(true, false)?,
                ".func" => self.function(false, false)?,
                ".global" | ".const" | ".shared" | ".local" => self.variable(w, t, false)?,
                ".alias" => return Err(self.error_at(t, "`.alias` is not supported")),
                _ => return Err(self.error_at(t, "unknown or misplaced directive")),
            }
        }
        Ok(())
    }

    fn skip_section(&mut self) -> Result<(), ParseError> {
        let _ = self.word("a section name")?;
        self.expect_punct('{')?;
        let mut depth = 1;
        while depth > 0 {
            let t = self.next();
            match t.tok {
                Tok::Punct('{') => depth += 1,
                Tok::Punct('}') => depth -= 1,
                _ if self.pos > self.toks.len() => {
                    return Err(self.error_at(t, "unterminated `.section`"));
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// `.align N`, optional `.v2/.v4`, then the type: (type, bytes per element, alignment).
    fn storage_type(&mut self) -> Result<(Ty, u32, u32), ParseError> {
        let mut align = 0;
        let mut lanes = 1;
        loop {
            let t = self.peek();
            match t.tok {
                Tok::Word(".align") => {
                    self.pos += 1;
                    let at = self.peek();
                    let a = self.integer()?;
                    if !(1..=4096).contains(&a) || (a & (a - 1)) != 0 {
                        return Err(
                            self.error_at(at, "alignment must be a power of two up to 4096")
                        );
                    }
                    align = a as u32;
                }
                Tok::Word(".v2") => (self.pos, lanes) = (self.pos + 1, 2),
                Tok::Word(".v4") => (self.pos, lanes) = (self.pos + 1, 4),
                Tok::Word(".ptr")
                | Tok::Word(".global")
                | Tok::Word(".const")
                | Tok::Word(".shared")
                | Tok::Word(".local") => self.pos += 1,
                _ => break,
            }
        }
        let (name, at) = self.word("a type")?;
        let ty =
            scalar_type(name).ok_or_else(|| self.error_at(at, "unknown or unsupported type"))?;
        let bytes = ty.bytes() as u32 * lanes;
        Ok((ty, bytes, align.max(bytes)))
    }

    /// `name`, `name[N]`, `name[]`, `name<N>` after a type: (name, element count, open-ended).
    fn declarator(&mut self) -> Result<(&'a str, Token<'a>, u64, bool), ParseError> {
        let (name, at) = self.word("a name")?;
        let mut count = 1u64;
        let mut open = false;
        while self.eat_punct('[') {
            if self.eat_punct(']') {
                open = true;
                continue;
            }
            let t = self.peek();
            let n = self.integer()?;
            if !(0..=1 << 32).contains(&n) {
                return Err(self.error_at(t, "array size out of range"));
            }
            count = count.saturating_mul(n as u64);
            self.expect_punct(']')?;
        }
        Ok((name, at, count, open))
    }

    fn variable(&mut self, space: &str, at: Token<'a>, external: bool) -> Result<(), ParseError> {
        let (ty, elem, align) = self.storage_type()?;
        loop {
            let (name, name_at, count, open) = self.declarator()?;
            let mut init = Vec::new();
            if self.eat_punct('=') {
                if space != ".global" && space != ".const" {
                    return Err(self.error_at(
                        name_at,
                        "only `.global` and `.const` variables take initialisers",
                    ));
                }
                self.initializer(ty, &mut init)?;
            }
            let size =
                if open && !init.is_empty() { init.len() as u64 } else { count * u64::from(elem) };
            if init.len() as u64 > size {
                return Err(self.error_at(name_at, "initialiser longer than the variable"));
            }
            let sym = match space {
                ".global" | ".const" => {
                    if external && open {
                        return Err(
                            self.error_at(name_at, "`.extern` global arrays are not supported")
                        );
                    }
                    let index = self.module.variables.len() as u32;
                    self.module.variables.push(Variable {
                        name: name.into(),
                        size: size.max(1),
                        init,
                    });
                    Symbol::Global(index)
                }
                ".shared" => {
                    // An open-ended extern array is the dynamic shared memory: it starts after
                    // every static variable (placed at the end of parsing).
                    let offset = align_up(self.module.shared_static_size, align);
                    if open {
                        Symbol::DynamicShared
                    } else {
                        self.module.shared_static_size = offset.saturating_add(size as u32);
                        Symbol::Shared(offset)
                    }
                }
                ".local" => {
                    let offset = align_up(self.module.local_size, align);
                    self.module.local_size = offset.saturating_add(size as u32);
                    Symbol::Local(offset)
                }
                _ => return Err(self.error_at(at, "unknown state space")),
            };
            if size > 1 << 30 {
                return Err(self.error_at(name_at, "variable larger than 1 GiB"));
            }
            self.declare(name, sym, name_at)?;
            if !self.eat_punct(',') {
                break;
            }
        }
        self.expect_punct(';')
    }

    fn initializer(&mut self, ty: Ty, out: &mut Vec<u8>) -> Result<(), ParseError> {
        if self.eat_punct('{') {
            loop {
                self.initializer(ty, out)?;
                if !self.eat_punct(',') {
                    break;
                }
            }
            return self.expect_punct('}');
        }
        let negative = self.eat_punct('-');
        let t = self.next();
        let bytes = ty.bytes() as usize;
        let bits = match (t.tok, ty) {
            (Tok::Int(v), Ty::Float(FloatTy::F32)) => {
                f32_bits(if negative { -(v as f64) } else { v as f64 })
            }
            (Tok::Int(v), Ty::Float(FloatTy::F64)) => {
                (if negative { -(v as f64) } else { v as f64 }).to_bits()
            }
            (Tok::Int(v), _) => {
                if negative {
                    v.wrapping_neg()
                } else {
                    v
                }
            }
            (Tok::F32Bits(b), _) => u64::from(b) ^ if negative { 1 << 31 } else { 0 },
            (Tok::F64Bits(b), Ty::Float(FloatTy::F32)) => {
                f32_bits(f64::from_bits(b) * if negative { -1.0 } else { 1.0 })
            }
            (Tok::F64Bits(b), _) => b ^ if negative { 1 << 63 } else { 0 },
            (Tok::Decimal(x), Ty::Float(FloatTy::F32)) => f32_bits(if negative { -x } else { x }),
            (Tok::Decimal(x), _) => (if negative { -x } else { x }).to_bits(),
            _ => {
                return Err(self.error_at(
                    t,
                    "initialisers must be numbers (addresses of symbols are not supported)",
                ));
            }
        };
        out.extend_from_slice(&bits.to_le_bytes()[..bytes]);
        Ok(())
    }

    // ---- functions -----------------------------------------------------------------------

    fn param_list(
        &mut self,
        entry: bool,
    ) -> Result<Vec<(&'a str, Token<'a>, ParamSlot)>, ParseError> {
        let mut params = Vec::new();
        self.expect_punct('(')?;
        if self.eat_punct(')') {
            return Ok(params);
        }
        loop {
            let (space, at) = self.word("`.param` or `.reg`")?;
            if space == ".reg" && !entry {
                return Err(self.error_at(at, "`.reg` parameters are not supported; use `.param`"));
            }
            if space != ".param" {
                return Err(self.error_at(at, "parameters must be `.param`"));
            }
            let (_, elem, align) = self.storage_type()?;
            let (name, name_at, count, _) = self.declarator()?;
            let size = (count * u64::from(elem)).min(1 << 20) as u32;
            let offset = align_up(self.module.param_size, align.max(1));
            self.module.param_size = offset.saturating_add(size);
            params.push((name, name_at, ParamSlot { offset, size }));
            if !self.eat_punct(',') {
                break;
            }
        }
        self.expect_punct(')')?;
        Ok(params)
    }

    fn function(&mut self, is_entry: bool, external: bool) -> Result<(), ParseError> {
        let rets =
            if !is_entry && self.is_punct('(') { self.param_list(false)? } else { Vec::new() };
        let (name, name_at) = self.word("a function name")?;
        let params = if self.is_punct('(') { self.param_list(is_entry)? } else { Vec::new() };
        // Performance directives: accepted and ignored.
        while let Tok::Word(d) = self.peek().tok {
            match d {
                ".maxntid" | ".reqntid" | ".minnctapersm" | ".maxnctapersm" | ".maxnreg"
                | ".pragma" | ".noreturn" | ".explicitcluster" | ".reqnctapercluster"
                | ".maxclusterrank" | ".blocksareclusters" => {
                    self.pos += 1;
                    while !self.is_punct('{') && !self.is_punct(';') && self.pos < self.toks.len() {
                        if let Tok::Word(w) = self.peek().tok {
                            if w.starts_with('.')
                                && !w[1..].starts_with(|c: char| c.is_ascii_digit())
                            {
                                break;
                            }
                        }
                        self.pos += 1;
                    }
                    self.eat_punct(';');
                }
                _ => break,
            }
        }
        let index = self.declare_function(name, name_at, is_entry, &params, &rets)?;
        if self.eat_punct(';') {
            return Ok(());
        }
        if external {
            return Err(self.error_at(self.peek(), "an `.extern` function has no body"));
        }
        if self.module.functions[index as usize].defined {
            return Err(self.error_at(name_at, format!("`{name}` is defined twice")));
        }
        // The storage of the first declaration, under the names of this one.
        let f = &self.module.functions[index as usize];
        let rename = |new: &[(&'a str, Token<'a>, ParamSlot)], slots: &[ParamSlot]| {
            new.iter().zip(slots).map(|(p, slot)| (p.0, p.1, slot.clone())).collect::<Vec<_>>()
        };
        let (params, rets) = (rename(&params, &f.params), rename(&rets, &f.rets));
        self.body(index, &params, &rets)
    }

    fn declare_function(
        &mut self,
        name: &'a str,
        at: Token<'a>,
        is_entry: bool,
        params: &[(&'a str, Token<'a>, ParamSlot)],
        rets: &[(&'a str, Token<'a>, ParamSlot)],
    ) -> Result<u32, ParseError> {
        let sizes = |v: &[(&str, Token, ParamSlot)]| v.iter().map(|p| p.2.size).collect::<Vec<_>>();
        if let Some(Symbol::Func(i)) = self.globals.get(name).copied() {
            let f = &mut self.module.functions[i as usize];
            let old = |v: &[ParamSlot]| v.iter().map(|p| p.size).collect::<Vec<_>>();
            if f.is_entry != is_entry
                || old(&f.params) != sizes(params)
                || old(&f.rets) != sizes(rets)
            {
                return Err(self.error_at(
                    at,
                    format!("`{name}` is declared twice with different signatures"),
                ));
            }
            // Calls decoded since the first declaration use its storage: keep it (the body
            // names it with the new parameter names).
            return Ok(i);
        }
        let index = self.module.functions.len() as u32;
        self.module.functions.push(Function {
            name: name.into(),
            is_entry,
            defined: false,
            start: 0,
            params: params.iter().map(|p| p.2.clone()).collect(),
            rets: rets.iter().map(|p| p.2.clone()).collect(),
            uses_collectives: false,
        });
        self.calls.push(Vec::new());
        self.declare(name, Symbol::Func(index), at)?;
        Ok(index)
    }

    fn body(
        &mut self,
        index: u32,
        params: &[(&'a str, Token<'a>, ParamSlot)],
        rets: &[(&'a str, Token<'a>, ParamSlot)],
    ) -> Result<(), ParseError> {
        self.current_function = index;
        self.module.functions[index as usize].defined = true;
        self.module.functions[index as usize].start = self.module.code.len() as u32;
        self.labels.clear();
        self.label_fixups.clear();
        self.scopes.push(HashMap::new());
        for (name, at, slot) in rets.iter().chain(params) {
            self.declare(name, Symbol::Param { offset: slot.offset, size: slot.size }, *at)?;
        }
        self.expect_punct('{')?;
        self.scopes.push(HashMap::new());
        let mut depth = 1;
        while depth > 0 {
            let t = self.peek();
            match t.tok {
                Tok::Punct('{') => {
                    self.pos += 1;
                    depth += 1;
                    self.scopes.push(HashMap::new());
                }
                Tok::Punct('}') => {
                    self.pos += 1;
                    depth -= 1;
                    self.scopes.pop();
                }
                Tok::Punct(';') => self.pos += 1,
                Tok::Word(w) if w.starts_with('.') && !w.starts_with("..") => {
                    self.body_directive()?
                }
                Tok::Word(w) if self.peek_at(1).tok == Tok::Punct(':') => {
                    self.pos += 2;
                    if self.labels.insert(w, self.module.code.len() as u32).is_some() {
                        return Err(self.error_at(t, format!("label `{w}` is defined twice")));
                    }
                }
                Tok::Word(_) | Tok::Punct('@') => self.instruction()?,
                _ if self.pos >= self.toks.len() => {
                    return Err(self.error_at(t, "unterminated function body"));
                }
                _ => return Err(self.error_at(t, "expected an instruction")),
            }
        }
        self.scopes.pop();
        // Falling off the end of a body returns (nvcc always ends with `ret`).
        self.push(Op::Ret, self.end.line);
        for (at, label) in std::mem::take(&mut self.label_fixups) {
            let Tok::Word(name) = label.tok else { unreachable!("labels are words") };
            let target = *self
                .labels
                .get(name)
                .ok_or_else(|| self.error_at(label, format!("unknown label `{name}`")))?;
            if let Op::Bra { target: t } = &mut self.module.code[at].op {
                *t = target;
            }
        }
        Ok(())
    }

    fn body_directive(&mut self) -> Result<(), ParseError> {
        let t = self.next();
        let Tok::Word(w) = t.tok else { unreachable!("checked by the caller") };
        match w {
            ".reg" => self.registers(),
            ".param" => {
                let (_, elem, align) = self.storage_type()?;
                loop {
                    let (name, at, count, _) = self.declarator()?;
                    let size = (count * u64::from(elem)).min(1 << 20) as u32;
                    let offset = align_up(self.module.param_size, align.max(1));
                    self.module.param_size = offset.saturating_add(size);
                    self.declare(name, Symbol::Param { offset, size }, at)?;
                    if !self.eat_punct(',') {
                        break;
                    }
                }
                self.expect_punct(';')
            }
            ".local" | ".shared" | ".global" | ".const" => self.variable(w, t, false),
            ".loc" | ".pragma" | ".file" => {
                self.skip_line_directive(t);
                Ok(())
            }
            _ => Err(self.error_at(t, "unknown directive in a function body")),
        }
    }

    fn registers(&mut self) -> Result<(), ParseError> {
        let at = self.peek();
        if matches!(at.tok, Tok::Word(".v2") | Tok::Word(".v4")) {
            return Err(self.error_at(at, "vector registers are not supported"));
        }
        let (tname, tat) = self.word("a register type")?;
        scalar_type(tname).ok_or_else(|| self.error_at(tat, "unknown register type"))?;
        loop {
            let (name, name_at) = self.word("a register name")?;
            if self.eat_punct('<') {
                let nat = self.peek();
                let n = self.integer()?;
                if !(0..=1 << 20).contains(&n) {
                    return Err(self.error_at(nat, "register range out of bounds"));
                }
                self.expect_punct('>')?;
                if u64::from(self.module.register_count) + n as u64 > MAX_REGISTERS {
                    return Err(self.error_at(
                        nat,
                        format!("more than {MAX_REGISTERS} registers in the module"),
                    ));
                }
                for i in 0..n as u32 {
                    let r = self.new_register();
                    self.declare(&format!("{name}{i}"), Symbol::Reg(r), name_at)?;
                }
            } else {
                let r = self.new_register();
                self.declare(name, Symbol::Reg(r), name_at)?;
            }
            if !self.eat_punct(',') {
                break;
            }
        }
        self.expect_punct(';')
    }

    fn new_register(&mut self) -> Reg {
        let r = self.module.register_count;
        self.module.register_count += 1;
        r
    }

    pub fn push(&mut self, op: Op, line: u32) {
        self.push_guarded(Inst { guard: crate::inst::SINK, guard_negated: false, op }, line);
    }

    pub fn push_guarded(&mut self, inst: Inst, line: u32) {
        self.module.code.push(inst);
        self.module.lines.push(line);
        self.module.owner.push(self.current_function);
    }

    pub fn branch_fixup(&mut self, label: Token<'a>) {
        self.label_fixups.push((self.module.code.len(), label));
    }

    pub fn note_call(&mut self, callee: u32) {
        self.calls[self.current_function as usize].push(callee);
    }

    pub fn note_collective(&mut self) {
        self.module.functions[self.current_function as usize].uses_collectives = true;
    }

    fn finish(mut self) -> Result<ModuleData, ParseError> {
        // Dynamic shared memory starts after the static variables, 16-aligned.
        let dynamic = align_up(self.module.shared_static_size, 16);
        for (_, value) in self.module.constants.iter_mut() {
            if let ConstValue::DynamicShared { offset } = *value {
                *value = ConstValue::Bits(u64::from(dynamic).wrapping_add(offset as u64));
            }
        }
        self.module.shared_static_size = dynamic;
        // A function that calls one using collectives uses them too (fixpoint over calls).
        loop {
            let mut changed = false;
            for (i, callees) in self.calls.iter().enumerate() {
                if !self.module.functions[i].uses_collectives
                    && callees.iter().any(|&c| self.module.functions[c as usize].uses_collectives)
                {
                    self.module.functions[i].uses_collectives = true;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        if u64::from(self.module.register_count) > MAX_REGISTERS {
            return Err(self.error_at(
                self.end,
                format!("more than {MAX_REGISTERS} register slots in the module"),
            ));
        }
        if self.module.param_size > MAX_PARAM_BYTES {
            return Err(
                self.error_at(self.end, format!("more than {MAX_PARAM_BYTES} bytes of parameters"))
            );
        }
        Ok(self.module)
    }
}

/// Register slots a module may use (each thread holds them all: 8 bytes each).
const MAX_REGISTERS: u64 = 1 << 20;

/// Bytes of `.param` storage (signatures and call sites) a module may declare.
const MAX_PARAM_BYTES: u32 = 1 << 24;

pub(crate) fn align_up(v: u32, align: u32) -> u32 {
    let a = align.max(1);
    v.div_ceil(a).saturating_mul(a)
}

fn f32_bits(x: f64) -> u64 {
    u64::from((x as f32).to_bits())
}

/// A type suffix (`.u32`, `.f64`, `.pred`, ...) as an instruction or declaration type.
pub(crate) fn scalar_type(name: &str) -> Option<Ty> {
    let int = |bits, signed| Some(Ty::Int(IntTy { bits, signed }));
    match name {
        ".pred" => Some(Ty::Pred),
        ".b8" | ".u8" => int(8, false),
        ".s8" => int(8, true),
        ".b16" | ".u16" => int(16, false),
        ".s16" => int(16, true),
        ".b32" | ".u32" => int(32, false),
        ".s32" => int(32, true),
        ".b64" | ".u64" => int(64, false),
        ".s64" => int(64, true),
        ".f32" => Some(Ty::Float(FloatTy::F32)),
        ".f64" => Some(Ty::Float(FloatTy::F64)),
        _ => None,
    }
}
