#!/usr/bin/env python3
"""Seeded generator of random *valid* .attn programs and their GoogleTest checks.

    generate.py --seed S --count N --out DIR [--per-file K] [--shard I/M]
                [--exclude FEATURE,...] [--list-features]

Writes DIR/random_<f>.attn (K kernels each; every kernel is `rk<index>`) and
DIR/random_<f>_test.cpp: one TEST(RandomPrograms, rk<index>) per kernel that
fills the kernel's inputs with seeded noise for three ragged shape sets,
calls the compiled kernel through its C header and compares every output
with the plain C++ reference (test/reference, test/random/RandomSupport.h).

Both texts come from one expression tree: every scalar node (mask and score
functions) and every tensor node carries its .attn text and its C++ text, so
the reference computes exactly what the program says (C semantics for / and
%, division by zero giving 0, clamped tensor reads, int/float promotion).

Kernel k depends only on (seed, k): `--shard I/M` writes the I-th of M
contiguous slices of 0..N-1 and the files are numbered globally, so a slice
reproduces the same programs as the whole run.

Numerical care (so that a mismatch means a bug, not noise):
  * q, k, v are uniform in [-1, 1]; weights are scaled by sqrt(3/M);
  * score functions are built with interval arithmetic: |s| <= |scale|*D*
    |q|max*|k|max, exp/log/sqrt/division only on arguments bounded away from
    overflow, 0 and negative values; the score is kept within +-60;
  * masks compare only values that f32 and double compute identically
    (integers, dyadic literals, tensors quantised to multiples of 1/8), or a
    transcendental of such a value against a threshold chosen half-way
    between two attainable results (so rounding cannot flip it).

Features that valid programs may use but that hit known attnc bugs can be
left out with --exclude (see FEATURES below); CMake passes
ATTNC_RANDOM_EXCLUDE.
"""
import argparse
import math
import os
import random
import sys

# Valid-program features that can be switched off (each was an attnc bug
# when it was written; ATTNC_RANDOM_KNOWN_BUGS lists those still open).
FEATURES = {
    'divzero': 'integer / and % in mask/score functions whose divisor can be 0 '
               '(documented result 0; attnc kernels die with SIGFPE)',
    'bigint': 'integer literals >= 2^31 in mask functions (attnc truncates '
              'them to 32 bits)',
    'bigglobal': 'windowed_attend global positions and left/right >= 2^30 '
                 '(were truncated to 32 bits: global 2^32 + 3 made position 3 '
                 'global)',
    'bigdilation': 'windowed_attend dilation up to 4096, the documented '
                   'maximum (past it attnc refuses it; near 2^30 Halide '
                   'overflowed during constant folding)',
    'bigextent': 'windowed_attend left or right = 2^30 - 1, just below the '
                 'documented "whole sequence" threshold, or left and right '
                 'both >= 2^30 with dilation >= 3 (gave wrong results: '
                 'Halide\'s bounds arithmetic overflowed on the extents)',
    'neginf': 'score functions that give -inf for some keys (log(0)): such a '
              'key counts as masked',
    'alias': 'an output passed in the memory of an input of the same shape '
             '(out = q): as if every input were read first',
    'dimprod': "result types spelled with a product H*D, as merge_heads "
               "produces (attnc parsed H*D as D*H and rejected the program)",
    'litsplit': 'merge_heads(split_heads(x, heads = H)) on a literal model '
                'width (attnc inferred a named dimension "24" that never '
                'equalled the literal 24)',
    'stridedinner': 'tensors passed with a non-unit innermost stride (README: '
                    '"or any strides"; the runtime hands them to Halide, which '
                    'requires stride 1)',
    'shadowbind': 'a lambda parameter named like the kernel parameter that '
                  'binds a dimension the lambda reads, e.g. mask = (q, h, i, '
                  'j) => j < L with L bound by q (attnc emitted tensor.dim '
                  'of the lambda parameter and failed to verify)',
    'divconst': 'integer division by a positive literal that is not a power '
                'of two, e.g. i / 3 (Halide 14 div_round_to_zero by such a '
                'constant is wrong for every dividend)',
}

NINST = 3  # shape sets per kernel
INT_LIMIT = 1 << 20
BIG_LIMIT = 1 << 60  # only reached from literals >= 2^31 ('bigint')

P_OR, P_AND, P_EQ, P_REL, P_ADD, P_MUL, P_UN, P_ATOM = 1, 2, 3, 4, 5, 6, 7, 8
BIN_PREC = {'||': P_OR, '&&': P_AND, '==': P_EQ, '!=': P_EQ, '<': P_REL,
            '<=': P_REL, '>': P_REL, '>=': P_REL, '+': P_ADD, '-': P_ADD,
            '*': P_MUL, '/': P_MUL, '%': P_MUL}
CMP_OPS = ['<', '<=', '>', '>=', '==', '!=']


class Retry(Exception):
    """A generation step could not satisfy its constraints; try another."""


# ---------------------------------------------------------------------------
# Dimensions
# ---------------------------------------------------------------------------

class Dim:
    """A tensor dimension: literal, named (bound at run time) or derived."""

    def __init__(self, text, cpp, vals, lit=None, name=None, num=None, den=None):
        self.text, self.cpp, self.vals = text, cpp, list(vals)
        self.lit, self.name = lit, name
        self.num, self.den = num, den  # for E/H

    @staticmethod
    def literal(v):
        return Dim(str(v), str(v), [v] * NINST, lit=v)

    @staticmethod
    def named(name, vals):
        return Dim(name, 'd_' + name, vals, name=name)

    def max(self):
        return max(self.vals)

    def min(self):
        return min(self.vals)

    def plain(self):
        """Usable in a parameter type (a literal or a name)."""
        return self.lit is not None or self.name is not None

    def __eq__(self, other):
        return isinstance(other, Dim) and self.text == other.text

    def __hash__(self):
        return hash(self.text)


def _operand(d):
    if d.lit is not None:
        return str(d.lit)
    return '(' + d.text + ')' if ('*' in d.text or '/' in d.text) else d.text


def div_dims(a, b):
    """attnc's divDims: literals fold, anything else stays symbolic."""
    if a.lit is not None and b.lit is not None:
        return Dim.literal(a.lit // b.lit)
    return Dim(_operand(a) + '/' + _operand(b), '(%s / %s)' % (a.cpp, b.cpp),
               [x // y for x, y in zip(a.vals, b.vals)], num=a, den=b)


def mul_dims(a, b):
    """attnc's mulDims(a, b): literals fold, (X/b)*b is X, else 'b*a'."""
    if a.lit is not None and b.lit is not None:
        return Dim.literal(a.lit * b.lit)
    if a.den is not None and a.den == b:
        return a.num
    return Dim(_operand(b) + '*' + _operand(a), '(%s * %s)' % (b.cpp, a.cpp),
               [x * y for x, y in zip(a.vals, b.vals)])


# ---------------------------------------------------------------------------
# Scalar expressions (mask and score functions)
# ---------------------------------------------------------------------------

class Sc:
    """A scalar node: type ('int', 'float', 'bool'), .attn text (lambda
    parameters as @b@ @h@ @i@ @j@ @s@ placeholders), C++ text, precedence,
    value interval, exactness (same value in f32 and double) with its
    power-of-two denominator exponent, and the names it uses."""

    def __init__(self, t, attn, cpp, prec, lo=0, hi=0, exact=False, den=0,
                 uses=()):
        self.t, self.attn, self.cpp, self.prec = t, attn, cpp, prec
        self.lo, self.hi, self.exact, self.den = lo, hi, exact, den
        self.uses = frozenset(uses)

    def mag(self):
        return max(abs(self.lo), abs(self.hi))

    def num_cpp(self):
        return 'double(%s)' % self.cpp if self.t == 'int' else self.cpp


def _wrap(node, need):
    return '(' + node.attn + ')' if need else node.attn


def _exact_ok(mag, den):
    return mag * (2 ** den) < 2 ** 22


def fmt_float(v, rng, exact_text=True):
    """A float literal the lexer reads as a float (never '2.')."""
    assert v >= 0
    forms = []
    r = repr(float(v))
    if 'e' in r or 'E' in r:
        m, e = r.split('e')
        if '.' not in m:
            m += '.0'
        return m + 'e' + e
    forms.append(r)  # e.g. 0.5, 3.0
    if r.startswith('0.'):
        forms.append(r[1:])  # .5
    if v != 0 and exact_text:
        # 3e0, 3.0E+0, 25e-1: the same value in exponent notation
        ip, fp = r.split('.')
        if fp == '0':
            forms.append(ip + 'e0')
            forms.append(ip + '.0E+0')
        else:
            digits = (ip + fp).lstrip('0')
            forms.append(digits + 'e-' + str(len(fp)))
    return rng.choice(forms)


def lit_int(v):
    if v < 0:
        inner = Sc('int', str(-v), '(%dLL)' % -v, P_ATOM, -v, -v, True)
        return Sc('int', '-' + inner.attn, '(%dLL)' % v, P_UN, v, v, True)
    return Sc('int', str(v), '(%dLL)' % v, P_ATOM, v, v, True)


def big_lit(v):
    """An integer literal beyond int32 (valid: literals go up to 2^40)."""
    return Sc('int', str(v), '(%dLL)' % v, P_ATOM, v, v, True)


def lit_float(v, rng, den=None):
    """den given: an exact dyadic literal."""
    exact = den is not None
    a = abs(v)
    text = fmt_float(a, rng)
    node = Sc('float', text, repr(float(a)), P_ATOM, a, a, exact, den or 0)
    if v < 0:
        node = Sc('float', '-' + text, '(' + repr(float(v)) + ')', P_UN, v, v,
                  exact, den or 0)
    return node


def interval_mul(a, b):
    ps = [a.lo * b.lo, a.lo * b.hi, a.hi * b.lo, a.hi * b.hi]
    return min(ps), max(ps)


def binop(op, a, b):
    """Builds a typed binary node with interval and exactness."""
    p = BIN_PREC[op]
    text = '%s %s %s' % (_wrap(a, a.prec < p), op, _wrap(b, b.prec <= p))
    uses = a.uses | b.uses
    if op in ('&&', '||'):
        return Sc('bool', text, '(%s %s %s)' % (a.cpp, op, b.cpp), p, uses=uses)
    if op in CMP_OPS:
        if a.t == 'bool' or b.t == 'bool':
            cpp = '(%s %s %s)' % (a.cpp, op, b.cpp)
        elif a.t == 'float' or b.t == 'float':
            cpp = '(%s %s %s)' % (a.num_cpp(), op, b.num_cpp())
        else:
            cpp = '(%s %s %s)' % (a.cpp, op, b.cpp)
        return Sc('bool', text, cpp, p, uses=uses)
    isf = a.t == 'float' or b.t == 'float'
    if not isf:
        if op == '/':
            cpp = 'idiv(%s, %s)' % (a.cpp, b.cpp)
        elif op == '%':
            cpp = 'imod(%s, %s)' % (a.cpp, b.cpp)
        else:
            cpp = '(%s %s %s)' % (a.cpp, op, b.cpp)
    else:
        if op == '%':
            cpp = 'std::fmod(%s, %s)' % (a.num_cpp(), b.num_cpp())
        else:
            cpp = '(%s %s %s)' % (a.num_cpp(), op, b.num_cpp())
    t = 'float' if isf else 'int'
    exact = a.exact and b.exact
    den = max(a.den, b.den)
    if op == '+':
        lo, hi = a.lo + b.lo, a.hi + b.hi
    elif op == '-':
        lo, hi = a.lo - b.hi, a.hi - b.lo
    elif op == '*':
        lo, hi = interval_mul(a, b)
        den = a.den + b.den
    elif op == '/':
        if t == 'int':
            m = a.mag()
            lo, hi = (0 if a.lo >= 0 and b.lo > 0 else -m), m
            lo = min(lo, 0)
        else:
            if b.lo > 0 or b.hi < 0:
                inv = sorted([1.0 / b.lo, 1.0 / b.hi])
                ps = [a.lo * inv[0], a.lo * inv[1], a.hi * inv[0], a.hi * inv[1]]
                lo, hi = min(ps), max(ps)
            else:
                lo, hi = -1e30, 1e30
            # exact only for a power-of-two literal divisor (>= 1/8)
            if b.exact and b.lo == b.hi and b.lo != 0:
                k = math.log2(abs(b.lo))
                if k == int(k) and -3 <= k <= 3:
                    den = a.den + max(int(k), 0)
                else:
                    exact = False
            else:
                exact = False
    elif op == '%':
        bm = b.mag()
        m = min(a.mag(), bm if t == 'float' else max(bm - 1, 0))
        lo = 0 if a.lo >= 0 else -m
        hi = 0 if a.hi <= 0 else m
        if t == 'float' and not (b.exact and b.lo == b.hi):
            exact = False
    else:
        raise ValueError(op)
    if t == 'int':
        lo, hi = int(lo), int(hi)
        big = a.mag() > INT_LIMIT or b.mag() > INT_LIMIT
        if max(abs(lo), abs(hi)) > (BIG_LIMIT if big else INT_LIMIT):
            raise Retry()
        exact = True
        den = 0
    else:
        if max(abs(lo), abs(hi)) > 1e6:
            raise Retry()
        exact = exact and _exact_ok(max(abs(lo), abs(hi)), den)
    return Sc(t, text, cpp, p, lo, hi, exact, den, uses)


def unop(op, a):
    text = op + _wrap(a, a.prec < P_UN or a.attn.startswith('-'))
    if op == '!':
        return Sc('bool', text, '(!%s)' % a.cpp, P_UN, uses=a.uses)
    return Sc(a.t, text, '(-%s)' % a.cpp, P_UN, -a.hi, -a.lo, a.exact, a.den,
              a.uses)


def call(fn, args):
    text = '%s(%s)' % (fn, ', '.join(x.attn for x in args))
    uses = frozenset().union(*[x.uses for x in args])
    if fn in ('abs', 'min', 'max'):
        isf = any(x.t == 'float' for x in args)
        t = 'float' if isf else 'int'
        exact = all(x.exact for x in args)
        den = max(x.den for x in args)
        if fn == 'abs':
            a = args[0]
            lo = 0 if a.lo <= 0 <= a.hi else min(abs(a.lo), abs(a.hi))
            hi = a.mag()
            cpp = ('std::fabs(%s)' if isf else 'std::llabs(%s)') % a.cpp
        else:
            a, b = args
            f = min if fn == 'min' else max
            lo, hi = f(a.lo, b.lo), f(a.hi, b.hi)
            if isf:
                cpp = 'std::%s(%s, %s)' % ('fmin' if fn == 'min' else 'fmax',
                                           a.num_cpp(), b.num_cpp())
            else:
                cpp = 'std::%s<int64_t>(%s, %s)' % (fn, a.cpp, b.cpp)
        return Sc(t, text, cpp, P_ATOM, lo, hi, exact, den, uses)
    a = args[0]
    lo, hi = a.lo, a.hi
    if fn == 'exp':
        if hi > 30:
            raise Retry()
        r = (math.exp(lo), math.exp(hi))
    elif fn == 'log':
        if lo <= 0:
            raise Retry()
        r = (math.log(lo), math.log(hi))
    elif fn == 'sqrt':
        if lo < 0:
            raise Retry()
        r = (math.sqrt(lo), math.sqrt(hi))
    elif fn == 'tanh':
        r = (math.tanh(lo), math.tanh(hi))
    else:
        raise ValueError(fn)
    return Sc('float', text, 'std::%s(%s)' % (fn, a.num_cpp()), P_ATOM, r[0],
              r[1], False, 0, uses)


def paren(a):
    return Sc(a.t, '(' + a.attn + ')', a.cpp, P_ATOM, a.lo, a.hi, a.exact,
              a.den, a.uses)


# ---------------------------------------------------------------------------
# Kernels
# ---------------------------------------------------------------------------

ROLE_VALUES = {
    'B': lambda r, n: [1, 2, r.choice([1, 2])][n],
    'H': lambda r, n: [1, r.choice([2, 3]), r.choice([1, 2, 3])][n],
    'L': lambda r, n: [r.choice([1, 1, 2, 3]), r.randint(4, 23),
                       r.choice([r.randint(17, 48), 16, 32, 40])][n],
    'W': lambda r, n: r.choice([1, 2, 3, 4, 5, 7, 8, 12, 16, 17, 24, 31, 32, 33]),
    'N': lambda r, n: r.choice([1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 24, 33, 40]),
    'C': lambda r, n: r.randint(1, 6),
}


class Tn:
    """A tensor expression: .attn text, C++ text (a ref::Tensor value), shape,
    worst-case |value| bound and typical magnitude."""

    def __init__(self, attn, cpp, shape, bound, est, prec=P_ATOM):
        self.attn, self.cpp, self.shape = attn, cpp, list(shape)
        self.bound, self.est, self.prec = bound, est, prec


class Param:
    def __init__(self, name, dtype, dims, init):
        self.name, self.dtype, self.dims, self.init = name, dtype, dims, init


class Kernel:
    def __init__(self, name, rng, features):
        self.name, self.rng, self.features = name, rng, features
        self.params = []
        self.dimvals = {}       # name -> per-instance values
        self.lets = []          # (name, Tn)
        self.tensor_names = set()
        self.let_counter = 0
        self.scalar_let_counter = 0
        self.captures = {}      # key -> Param
        self.family = ''

    # -- dimensions --
    def dim(self, name, role=None, lit_prob=0.0, vals=None):
        r = self.rng
        role = role or name
        if lit_prob and r.random() < lit_prob:
            return Dim.literal(ROLE_VALUES[role](r, r.randint(1, 2)))
        if name not in self.dimvals:
            self.dimvals[name] = vals or [ROLE_VALUES[role](r, n)
                                          for n in range(NINST)]
        return Dim.named(name, self.dimvals[name])

    def fresh_dim(self, base, vals):
        name = base
        k = 2
        while name in self.dimvals:
            name = '%s%d' % (base, k)
            k += 1
        self.dimvals[name] = list(vals)
        return Dim.named(name, vals)

    def bound_dims(self):
        """Named dimensions bound by some parameter."""
        out = []
        for p in self.params:
            for d in p.dims:
                if d.name and d not in out:
                    out.append(d)
        return out

    # -- parameters --
    def param(self, base, dims, init, dtype='f32', bound=1.0, est=0.6):
        name = base
        k = 2
        while name in self.tensor_names or name in self.dimvals:
            name = '%s%d' % (base, k)
            k += 1
        self.tensor_names.add(name)
        p = Param(name, dtype, list(dims), init)
        self.params.append(p)
        return p, Tn(name, 'p_' + name, dims, bound, est)

    def let(self, t, base=None):
        self.let_counter += 1
        name = '%s%d' % (base or 'y', self.let_counter)
        while name in self.tensor_names or name in self.dimvals:
            self.let_counter += 1
            name = '%s%d' % (base or 'y', self.let_counter)
        self.tensor_names.add(name)
        self.lets.append((name, t))
        return Tn(name, 'l_' + name, t.shape, t.bound, t.est)


def type_text(dtype, dims):
    return '%s[%s]' % (dtype, ', '.join(d.text for d in dims))


# ---------------------------------------------------------------------------
# Scalar generator for one mask or score function
# ---------------------------------------------------------------------------

class ScalarGen:
    def __init__(self, K, mode, bdim, hdim, lq, lk, smax=0.0):
        self.K, self.r, self.mode = K, K.rng, mode
        self.slots = {'b': (0, bdim.max() - 1), 'h': (0, hdim.max() - 1),
                      'i': (0, lq.max() - 1), 'j': (0, lk.max() - 1)}
        self.bdim, self.hdim, self.lq, self.lk = bdim, hdim, lq, lk
        self.smax = smax
        self.lets = []       # Sc leaves
        self.let_defs = []   # (name, Sc, ctype)
        self.allow_divzero = 'divzero' in K.features

    # -- leaves --
    def slot(self, s):
        lo, hi = self.slots[s]
        return Sc('int', '@%s@' % s, s + '_', P_ATOM, lo, hi, True, 0,
                  {('slot', s)})

    def s(self):
        return Sc('float', '@s@', 's_', P_ATOM, -self.smax, self.smax, False,
                  0, {('slot', 's')})

    def dim_leaf(self):
        dims = [d for d in self.K.bound_dims()]
        if not dims:
            return None
        d = self.r.choice(dims)
        return Sc('int', d.name, d.cpp, P_ATOM, d.min(), d.max(), True, 0,
                  {('dim', d.name)})

    def small_int(self):
        r = self.r
        v = r.choice([0, 1, 1, 2, 2, 3, 4, 5, 7, 8, 16, r.randint(-4, 40)])
        return lit_int(v)

    def dyadic(self, lo=-4.0, hi=4.0):
        r = self.r
        p = r.choice([0, 0, 1, 1, 2, 3])
        k = r.randint(int(lo * 2 ** p), int(hi * 2 ** p))
        return lit_float(k / 2 ** p, r, den=p)

    def any_float_lit(self, lo=0.05, hi=4.0):
        r = self.r
        if r.random() < 0.4:
            return self.dyadic(lo, hi)
        v = float('%.3g' % r.uniform(lo, hi))
        if v == 0:
            v = 0.5
        return lit_float(v, r)

    # -- tensor reads (captures) --
    def capture(self, kind):
        """kind: 'f' (quantised f32) or 'i' (small i32). Returns (Param, dims,
        value interval)."""
        K, r = self.K, self.r
        lq, lk, hd, bd = self.lq, self.lk, self.hdim, self.bdim
        options = [[hd], [lk], [lq], [hd, lk], [bd, hd], [lq, lk], ['C']]
        options = [o for o in options
                   if all(isinstance(d, str) or d.plain() for d in o)]
        key = (kind, r.randrange(len(options)))
        if key in K.captures:
            return K.captures[key]
        dims = [K.fresh_dim('C', [ROLE_VALUES['C'](r, n) for n in range(NINST)])
                if isinstance(d, str) else d for d in options[key[1]]]
        if kind == 'f':
            p, _ = K.param(r.choice(['slopes', 'bias', 'gate', 'w', 'keep']),
                           dims, ('rndq',))
            iv = (-1.0, 1.0)
        else:
            lo, hi = r.choice([(0, 1), (-2, 3), (0, 5)])
            p, _ = K.param(r.choice(['ids', 'seg', 'flags']), dims,
                           ('rndi', lo, hi), dtype='i32')
            iv = (lo, hi)
        K.captures[key] = (p, iv)
        return K.captures[key]

    def natural_index(self, d):
        cands = []
        if d == self.hdim:
            cands.append('h')
        if d == self.bdim:
            cands.append('b')
        if d == self.lq:
            cands.append('i')
        if d == self.lk:
            cands.append('j')
        return cands

    def read(self, kind, depth):
        p, iv = self.capture(kind)
        idx = []
        for d in p.dims:
            nat = self.natural_index(d)
            if nat and self.r.random() < 0.75:
                idx.append(self.slot(self.r.choice(nat)))
            else:
                idx.append(self.gen_int(min(depth, 1), allow_read=False))
        text = '%s[%s]' % (p.name, ', '.join(x.attn for x in idx))
        fn = 'rdf' if kind == 'f' else 'rdi'
        cpp = '%s(p_%s, {%s})' % (fn, p.name, ', '.join(x.cpp for x in idx))
        uses = frozenset().union(*[x.uses for x in idx]) | {('ten', p.name)}
        if kind == 'f':
            return Sc('float', text, cpp, P_ATOM, iv[0], iv[1], True, 3, uses)
        return Sc('int', text, cpp, P_ATOM, iv[0], iv[1], True, 0, uses)

    # -- integers --
    def int_leaf(self, allow_read=True):
        r = self.r
        opts = [('i', 3), ('j', 3), ('h', 1), ('b', 0.6), ('lit', 2.5),
                ('dim', 1)]
        if allow_read:
            opts.append(('read', 0.6))
        ints = [x for x in self.lets if x.t == 'int']
        if ints:
            opts.append(('let', 2))
        c = r.choices([o for o, _ in opts], [w for _, w in opts])[0]
        if c in 'ijhb':
            return self.slot(c)
        if c == 'lit':
            return self.small_int()
        if c == 'dim':
            return self.dim_leaf() or self.small_int()
        if c == 'read':
            return self.read('i', 0)
        return r.choice(ints)

    def divisor_literal(self, choices=(1, 2, 3, 4, 5, 7, 8, 16, -1, -2, -3)):
        ok = [c for c in choices if 'divconst' in self.K.features or c <= 0
              or (c & (c - 1)) == 0]
        return self.r.choice(ok)

    def divisor(self, depth, allow_read=True):
        r = self.r
        if r.random() < 0.6:
            return lit_int(self.divisor_literal())
        d = self.gen_int(depth, allow_read)
        if d.lo <= 0 <= d.hi and not (self.allow_divzero and r.random() < 0.5):
            d = binop('+', call('abs', [d]), lit_int(r.choice([1, 2])))
        if d.lo == d.hi and d.lo > 0 and (d.lo & (d.lo - 1)) and \
                'divconst' not in self.K.features:
            raise Retry()  # a constant after folding, e.g. 16 - 1
        return d

    def gen_int(self, depth, allow_read=True):
        r = self.r
        for _ in range(20):
            try:
                if depth <= 0 or r.random() < 0.3:
                    return self.int_leaf(allow_read)
                op = r.choices(['+', '-', '*', '/', '%', 'neg', 'abs', 'min',
                                'max', 'paren', 'bigmod'],
                               [4, 4, 2, 2, 2, 0.7, 1.5, 1, 1, 0.3,
                                0.3 if 'bigint' in self.K.features else 0])[0]
                if op in ('+', '-'):
                    return binop(op, self.gen_int(depth - 1, allow_read),
                                 self.gen_int(depth - 1, allow_read))
                if op == '*':
                    a = self.gen_int(depth - 1, allow_read)
                    b = (lit_int(r.choice([-2, -1, 2, 3, 4]))
                         if r.random() < 0.6 else self.gen_int(depth - 1, allow_read))
                    if 'bigint' in self.K.features and r.random() < 0.15:
                        # products beyond 32 bits: 64-bit integer semantics
                        b = big_lit(r.choice([1000003, 2 ** 31 + 11, 3000000000]))
                    return binop('*', a, b) if r.random() < 0.5 else binop('*', b, a)
                if op in ('/', '%'):
                    return binop(op, self.gen_int(depth - 1, allow_read),
                                 self.divisor(depth - 1, allow_read))
                if op == 'neg':
                    return unop('-', self.gen_int(depth - 1, allow_read))
                if op == 'abs':
                    return call('abs', [self.gen_int(depth - 1, allow_read)])
                if op in ('min', 'max'):
                    return call(op, [self.gen_int(depth - 1, allow_read),
                                     self.gen_int(depth - 1, allow_read)])
                if op == 'paren':
                    return paren(self.gen_int(depth - 1, allow_read))
                if op == 'bigmod':  # a literal >= 2^31, reduced
                    big = r.choice([2 ** 31, 2 ** 32 + 5, 3000000000, 2 ** 40])
                    return binop('%', big_lit(big), lit_int(r.choice([7, 16, 1000])))
            except Retry:
                continue
        return self.int_leaf(allow_read)

    # -- exact floats (masks): same value in f32 and double --
    def gen_exact(self, depth):
        for _ in range(20):
            try:
                n = self._gen_exact(depth)
                if n.mag() >= 2 ** 22:
                    raise Retry()
                return n
            except Retry:
                continue
        return self.dyadic()

    def _gen_exact(self, depth):
        r = self.r
        for _ in range(20):
            try:
                if depth <= 0 or r.random() < 0.3:
                    c = r.choices(['lit', 'int', 'read', 'let'],
                                  [2, 2, 1.5, 1 if any(x.t == 'float' and x.exact
                                                       for x in self.lets) else 0])[0]
                    if c == 'lit':
                        return self.dyadic()
                    if c == 'int':
                        return self.gen_int(depth - 1)
                    if c == 'read':
                        return self.read('f', depth)
                    return r.choice([x for x in self.lets
                                     if x.t == 'float' and x.exact])
                op = r.choices(['+', '-', '*', '/', '%', 'neg', 'abs', 'min',
                                'max'], [3, 3, 2, 1.5, 1, 0.5, 1, 1, 1])[0]
                if op in ('+', '-', '*'):
                    a, b = self.gen_exact(depth - 1), self.gen_exact(depth - 1)
                    if op == '*' and r.random() < 0.5:
                        b = self.dyadic(-2, 2)
                    n = binop(op, a, b)
                elif op == '/':
                    n = binop('/', self.gen_exact(depth - 1),
                              lit_float(r.choice([0.5, 2.0, 4.0, 8.0, -2.0]), r,
                                        den=0))
                elif op == '%':
                    a = self.gen_exact(depth - 1)
                    n = binop('%', a, lit_float(r.choice([0.5, 1.5, 2.0, 2.5, 0.75]),
                                                r, den=2))
                elif op == 'neg':
                    n = unop('-', self.gen_exact(depth - 1))
                elif op == 'abs':
                    n = call('abs', [self.gen_exact(depth - 1)])
                else:
                    n = call(op, [self.gen_exact(depth - 1),
                                  self.gen_exact(depth - 1)])
                if not n.exact:
                    raise Retry()
                return n
            except Retry:
                continue
        return self.dyadic()

    def exact_float(self, depth):
        """An exact value that is a float (promotes ints when needed)."""
        n = self.gen_exact(depth)
        if n.t == 'int':
            n = binop(self.r.choice(['+', '*']), n,
                      lit_float(self.r.choice([0.5, 1.0, 0.25]), self.r, den=2))
            if not n.exact:
                raise Retry()
        return n

    # -- numbers for scores (need not be exact, must be well-conditioned) --
    def gen_num(self, depth):
        r = self.r
        for _ in range(30):
            try:
                n = self._gen_num(depth)
                if n.mag() > 200:
                    raise Retry()
                return n
            except Retry:
                continue
        return self.any_float_lit()

    def _gen_num(self, depth):
        r = self.r
        if depth <= 0 or r.random() < 0.25:
            opts = [('s', 4 if self.mode == 'score' else 0), ('flit', 2),
                    ('int', 2), ('read', 1.2), ('let', 1.5 if self.lets else 0)]
            c = r.choices([o for o, _ in opts], [w for _, w in opts])[0]
            if c == 's':
                return self.s()
            if c == 'flit':
                return self.any_float_lit(0.05, 4.0)
            if c == 'int':
                return self.gen_int(max(depth - 1, 0))
            if c == 'read':
                return self.read('f', depth)
            nums = [x for x in self.lets if x.t != 'bool']
            if not nums:
                return self.s()
            return r.choice(nums)
        op = r.choices(['+', '-', '*', '/', 'neg', 'abs', 'min', 'max', 'exp',
                        'log', 'sqrt', 'tanh', 'cap', '%', 'paren'],
                       [4, 3, 3, 1.5, 0.5, 1, 1, 1, 1.5, 1.2, 1.2, 1.5, 1,
                        0.4, 0.3])[0]
        if op in ('+', '-', '*'):
            return binop(op, self._gen_num(depth - 1), self._gen_num(depth - 1))
        if op == '/':
            a, b = self._gen_num(depth - 1), self._gen_num(depth - 1)
            if not (b.lo >= 0.25 or b.hi <= -0.25):
                b = binop('+', call('abs', [b]), self.any_float_lit(0.5, 2.0))
            return binop('/', a, b)
        if op == 'neg':
            return unop('-', self._gen_num(depth - 1))
        if op == 'abs':
            return call('abs', [self._gen_num(depth - 1)])
        if op in ('min', 'max'):
            return call(op, [self._gen_num(depth - 1), self._gen_num(depth - 1)])
        if op == 'exp':
            a = self._gen_num(depth - 1)
            if a.hi > 5 or a.lo < -40:
                a = unop('-', call('abs', [a]))
                if a.lo < -40:
                    raise Retry()
            return call('exp', [a])
        if op == 'log':
            a = self._gen_num(depth - 1)
            if a.lo < 0.1:
                a = (binop('+', call('abs', [a]), self.any_float_lit(0.5, 2.0))
                     if r.random() < 0.5 else
                     binop('+', binop('*', a, a), lit_int(1)))
            return call('log', [a])
        if op == 'sqrt':
            a = self._gen_num(depth - 1)
            if a.lo < 0.1:
                a = binop('+', call('abs', [a]), self.any_float_lit(0.25, 2.0))
            return call('sqrt', [a])
        if op == 'tanh':
            return call('tanh', [self._gen_num(depth - 1)])
        if op == 'cap':  # c * tanh(x / c): soft-capping
            x = self._gen_num(depth - 1)
            c = self.any_float_lit(1.0, 30.0) if r.random() < 0.5 else \
                lit_int(r.choice([5, 10, 30] if x.t == 'float' or 'divconst'
                                 in self.K.features else [4, 8, 32]))
            return binop('*', c, call('tanh', [binop('/', x, c)]))
        if op == '%':  # only of exact dividends: fmod is discontinuous
            a = self.gen_exact(depth - 1)
            return binop('%', a, lit_float(r.choice([0.5, 1.5, 2.5, 4.0]), r, den=1))
        return paren(self._gen_num(depth - 1))

    # -- booleans (masks) --
    def band_atom(self):
        r = self.r
        I, J = self.slot('i'), self.slot('j')
        c = lambda: lit_int(r.choice([0, 1, 2, 3, 5, 8, 13, r.randint(-6, 45)]))
        w = lambda: lit_int(r.choice([0, 1, 2, 3, 4, 6, 9, r.randint(0, 45)]))
        form = r.randrange(9)
        if form == 0:
            return binop(r.choice(['<=', '<']), J, I)
        if form == 1:
            return binop(r.choice(['<=', '<', '>=', '>', '==']),
                         binop('-', J, I), c())
        if form == 2:
            return binop(r.choice(['<=', '<', '>=', '>']), binop('-', I, J), c())
        if form == 3:
            return binop(r.choice(['<=', '<']),
                         call('abs', [binop('-', *r.sample([I, J], 2))]), w())
        if form == 4:
            return binop('<=', binop('-', I, w()), J)
        if form == 5:
            return binop('<', J, binop('+', I, w()))
        if form == 6:
            return binop(r.choice(CMP_OPS[:5]), binop('+', J, c()),
                         binop('+', I, c()))
        if form == 7:
            return binop(r.choice(['<=', '>=']), c(), binop('-', J, I))
        return binop('&&', binop('<=', binop('-', I, w()), J),
                     binop('<', J, binop('+', I, w())))

    def block_atom(self, S):
        r = self.r
        I = binop('/', self.slot('i'), lit_int(S))
        J = binop('/', self.slot('j'), lit_int(S))
        form = r.randrange(5)
        if form <= 1:
            return self.layout_read(S, I, J)
        if form == 2:
            return binop(r.choice(['>=', '<=', '==', '!=']), I, J)
        if form == 3:
            return binop(r.choice(['==', '!=']),
                         binop('%', binop('+', I, J), lit_int(r.choice([2, 3]))),
                         lit_int(0))
        return binop(r.choice(['!=', '<', '>=']), self.slot(r.choice('bh')),
                     lit_int(r.choice([0, 1, 2])))

    def layout_read(self, S, I, J):
        """layout[h, i / S, j / S] != 0 with an i32 layout sized from L/S."""
        K, r = self.K, self.r
        key = ('layout', S)
        if key not in K.captures:
            def blocks(ld):
                return [max(1, -(-v // S) + r.choice([0, 0, 0, -1, 1]))
                        for v in ld.vals]
            nbq = K.fresh_dim('NB', blocks(self.lq))
            nbk = nbq if (self.lq == self.lk and r.random() < 0.7) else \
                K.fresh_dim('NB', blocks(self.lk))
            lead = r.choice([[self.hdim], [], [self.bdim, self.hdim]])
            lead = [d for d in lead if d.plain()]
            p, _ = K.param('layout', lead + [nbq, nbk],
                           ('rndbits', r.choice([0.25, 0.5, 0.8])), dtype='i32')
            K.captures[key] = (p, lead)
        p, lead = K.captures[key]
        idx = [self.slot('h' if d == self.hdim else 'b') for d in lead] + [I, J]
        text = '%s[%s]' % (p.name, ', '.join(x.attn for x in idx))
        cpp = 'rdi(p_%s, {%s})' % (p.name, ', '.join(x.cpp for x in idx))
        uses = frozenset().union(*[x.uses for x in idx]) | {('ten', p.name)}
        v = Sc('int', text, cpp, P_ATOM, 0, 1, True, 0, uses)
        form = r.choice(['!= 0', '== 1', '> 0', '!= 1'])
        op, c = form.split()
        return binop(op, v, lit_int(int(c)))

    def margin_compare(self, depth):
        """f(x) CMP c with c half-way between two attainable values of f(x)."""
        r = self.r
        x = self.gen_exact(depth)
        fn = r.choice(['sqrt', 'log', 'exp', 'tanh'])
        if fn == 'sqrt' and x.lo < 0:
            x = call('abs', [x])
        if fn == 'log' and x.lo <= 0:
            x = binop('+', call('abs', [x]), lit_int(1))
        if fn == 'exp' and (x.hi > 20 or x.lo < -20):
            raise Retry()
        if fn == 'tanh' and (x.hi > 6 or x.lo < -6):
            raise Retry()
        step = 2.0 ** -x.den
        n = int(round((x.hi - x.lo) / step)) + 1
        if n > 20000 or n < 2 or not x.exact:
            raise Retry()
        f = getattr(math, fn)
        vals = sorted(set(f(x.lo + k * step) for k in range(n)))
        if len(vals) < 2:
            raise Retry()
        a = r.randrange(len(vals) - 1)
        lo, hi = vals[a], vals[a + 1]
        c = (lo + hi) / 2
        if hi - lo < 2e-3 * max(1.0, abs(c)):
            raise Retry()
        c = float('%.6g' % c)
        if not (lo < c < hi):
            raise Retry()
        fx = call(fn, [x])
        cl = lit_float(abs(c), r) if c >= 0 else unop('-', lit_float(-c, r))
        cl.lo = cl.hi = c
        op = r.choice(['<', '<=', '>', '>='])
        return binop(op, fx, cl) if r.random() < 0.7 else \
            binop({'<': '>', '<=': '>=', '>': '<', '>=': '<='}[op], cl, fx)

    def bool_atom(self, depth):
        r = self.r
        bools = [x for x in self.lets if x.t == 'bool']
        opts = [('icmp', 5), ('band', 2.5), ('fcmp', 1.2), ('margin', 0.8),
                ('lit', 0.2), ('let', 2 if bools else 0),
                ('big', 0.5 if 'bigint' in self.K.features else 0)]
        for _ in range(20):
            c = r.choices([o for o, _ in opts], [w for _, w in opts])[0]
            try:
                if c == 'icmp':
                    return binop(r.choice(CMP_OPS), self.gen_int(depth),
                                 self.gen_int(depth))
                if c == 'band':
                    return self.band_atom()
                if c == 'fcmp':
                    a = self.exact_float(depth)
                    b = self.gen_exact(depth)
                    return binop(r.choice(CMP_OPS), *r.sample([a, b], 2))
                if c == 'margin':
                    return self.margin_compare(max(depth, 1))
                if c == 'lit':
                    v = r.random() < 0.7
                    return Sc('bool', 'true' if v else 'false',
                              'true' if v else 'false', P_ATOM)
                if c == 'let':
                    return r.choice(bools)
                if c == 'big':
                    big = r.choice([2 ** 31, 3000000000, 2 ** 32 + 2, 2 ** 40])
                    bl = big_lit(big)
                    if r.random() < 0.5:
                        bl = unop('-', bl)
                    return binop(r.choice(CMP_OPS), self.gen_int(depth), bl)
            except Retry:
                continue
        return self.band_atom()

    def gen_bool(self, depth):
        r = self.r
        if depth <= 0 or r.random() < 0.3:
            return self.bool_atom(max(depth - 1, 0) + 1)
        op = r.choices(['&&', '||', '!', '==', '!=', 'paren'], [4, 3, 1, 0.5, 0.5, 0.3])[0]
        if op == '!':
            return unop('!', self.gen_bool(depth - 1))
        if op == 'paren':
            return paren(self.gen_bool(depth - 1))
        return binop(op, self.gen_bool(depth - 1), self.gen_bool(depth - 1))

    def mask(self):
        r = self.r
        self.maybe_lets('mask')
        t = r.choices(['band', 'band+', 'block', 'random', 'sparse', 'globals'],
                      [3, 2, 2.5, 3, 1, 1])[0]
        if t == 'band':
            m = self.band_atom()
            if r.random() < 0.4:
                m = binop('&&', m, self.band_atom())
        elif t == 'band+':
            m = binop(r.choice(['&&', '||']), self.band_atom(), self.gen_bool(2))
        elif t == 'block':
            S = self.divisor_literal((1, 2, 3, 4, 7, 8, 8, 16, 16, 24, 32, 64))
            m = self.block_atom(S)
            for _ in range(r.choice([0, 0, 1, 2])):
                m = binop(r.choice(['&&', '&&', '||']), m, self.block_atom(S))
            if r.random() < 0.15:
                m = binop('&&', m, self.gen_bool(1))
        elif t == 'random':
            m = self.gen_bool(r.randint(1, 3))
        elif t == 'sparse':  # rows with no allowed key
            m = binop('&&', binop('!=', binop('%', self.slot('i'),
                                              lit_int(r.choice([2, 3, 5]))),
                                  lit_int(0)), self.gen_bool(1))
        else:  # Longformer-style: band || global rows/columns
            m = self.band_atom()
            for _ in range(r.randint(1, 3)):
                m = binop('||', m, binop('==', self.slot(r.choice('ij')),
                                         lit_int(r.choice([0, 1, 5, 17, 60]))))
        return m

    def score(self):
        r = self.r
        self.maybe_lets('score')
        S = self.s()
        for _ in range(30):
            try:
                t = r.choices(['add', 'mul', 'cap', 'minmax', 'random', 'int',
                               'neginf'],
                              [4, 2, 1.5, 1, 3, 0.3,
                               0.6 if 'neginf' in self.K.features else 0])[0]
                if t == 'neginf':  # log(0) = -inf: a masked key
                    e = call('abs', [self.gen_int(1)])
                    if e.hi > 2 ** 20:
                        raise Retry()
                    lg = Sc('float', 'log(%s)' % e.attn,
                            'std::log(%s)' % e.num_cpp(), P_ATOM, -1e5,
                            math.log(max(e.hi, 1)), False, 0, e.uses)
                    form = r.randrange(3)
                    if form == 0:
                        return binop('+', S, lg)
                    if form == 1:
                        return binop('+', lg, S)
                    return call('min', [S, lg])
                if t == 'add':
                    n = binop(r.choice(['+', '-']), S, self.gen_num(r.randint(0, 2)))
                elif t == 'mul':
                    f = self.gen_num(r.randint(0, 2))
                    if f.mag() > 8:
                        raise Retry()
                    n = binop('*', S, f) if r.random() < 0.5 else binop('*', f, S)
                elif t == 'cap':
                    c = lit_int(r.choice([2, 5, 30])) if r.random() < 0.5 else \
                        self.any_float_lit(1.0, 20.0)
                    n = binop('*', c, call('tanh', [binop('/', S, c)]))
                elif t == 'minmax':
                    n = call(r.choice(['min', 'max']), [S, self.gen_num(1)])
                elif t == 'random':
                    n = self.gen_num(r.randint(1, 3))
                else:
                    n = self.gen_int(2)
                if n.mag() > 60:
                    c = lit_int(30)
                    n = binop('*', c, call('tanh', [binop('/', n, c)]))
                return n
            except Retry:
                continue
        return S

    def maybe_lets(self, mode):
        r = self.r
        if r.random() >= 0.25:
            return
        for _ in range(r.randint(1, 2)):
            self.K.scalar_let_counter += 1
            name = 't%d' % self.K.scalar_let_counter
            try:
                c = r.choice(['int', 'int', 'num', 'bool'] if mode == 'mask'
                             else ['int', 'num', 'num'])
                if c == 'int':
                    v = self.gen_int(2)
                elif c == 'num':
                    v = self.gen_num(2) if mode == 'score' else self.gen_exact(2)
                else:
                    v = self.gen_bool(1)
            except Retry:
                continue
            ctype = {'int': 'int64_t', 'float': 'double', 'bool': 'bool'}[v.t]
            self.let_defs.append((name, v, ctype))
            self.lets.append(Sc(v.t, name, name + '_', P_ATOM, v.lo, v.hi,
                                v.exact, v.den, v.uses | {('let', name)}))

    def finish(self, body, mode):
        """Returns (attn lambda text, C++ lambda text)."""
        r = self.r
        slots = (['s'] if mode == 'score' else []) + ['b', 'h', 'i', 'j']
        names = {s: s for s in slots}
        uses = set(body.uses)
        for _, v, _ in self.let_defs:
            uses |= v.uses
        taken = {n for (k, n) in uses if k in ('dim', 'ten', 'let')}
        taken |= {n for n, _, _ in self.let_defs}
        if 'shadowbind' not in self.K.features:
            for k, n in uses:
                if k == 'dim':  # the parameter that binds it
                    taken |= {p.name for p in self.K.params[:1 + min(
                        i for i, p in enumerate(self.K.params)
                        if any(d.name == n for d in p.dims))]}
        if r.random() < 0.3:
            pool = ['bb', 'hh', 'qi', 'kj', 'row', 'col', 'x', 'y', 'n', 'm',
                    'p', 'u', 'key', 'query', 'batch', 'head', 'sc', 'q', 'k',
                    'v', 'L', 'S', 'D', 'H', 'B', 'a', 'c', 'z']
            pool = [p for p in pool if p not in taken]
            r.shuffle(pool)
            for s in slots:
                if r.random() < 0.7:
                    names[s] = pool.pop()
            # keep them distinct
            if len(set(names.values())) != len(slots):
                names = {s: s for s in slots}

        def sub(text):
            for s in slots:
                text = text.replace('@%s@' % s, names[s])
            return text

        params = ', '.join(names[s] for s in slots)
        if self.let_defs:
            inner = ''.join('let %s = %s%s ' % (n, sub(v.attn), r.choice([';', '']))
                            for n, v, _ in self.let_defs)
            attn = '(%s) => { %sreturn %s }' % (params, inner, sub(body.attn))
        else:
            attn = '(%s) => %s' % (params, sub(body.attn))
        cpp_lets = ''.join('[[maybe_unused]] const %s %s_ = %s; ' % (ct, n, v.cpp)
                           for n, v, ct in self.let_defs)
        if mode == 'score':
            cpp = ('[&]([[maybe_unused]] double s_, [[maybe_unused]] int64_t b_, '
                   '[[maybe_unused]] int64_t h_, [[maybe_unused]] int64_t i_, '
                   '[[maybe_unused]] int64_t j_) -> double { %sreturn %s; }'
                   % (cpp_lets, body.num_cpp()))
        else:
            cpp = ('[&]([[maybe_unused]] int64_t b_, [[maybe_unused]] int64_t h_, '
                   '[[maybe_unused]] int64_t i_, [[maybe_unused]] int64_t j_) '
                   '-> bool { %sreturn %s; }' % (cpp_lets, body.cpp))
        return attn, cpp


# ---------------------------------------------------------------------------
# Tensor-level builders
# ---------------------------------------------------------------------------

def tbin(op, a, b):
    p = BIN_PREC[op]
    text = '%s %s %s' % ('(' + a.attn + ')' if a.prec < p else a.attn, op,
                         '(' + b.attn + ')' if b.prec <= p else b.attn)
    fn = {'+': 'addRef', '-': 'subRef', '*': 'mulRef'}[op]
    longer = a if len(a.shape) >= len(b.shape) else b
    bound = a.bound * b.bound if op == '*' else a.bound + b.bound
    est = a.est * b.est if op == '*' else a.est + b.est
    return Tn(text, '%s(%s, %s)' % (fn, a.cpp, b.cpp), longer.shape, bound,
              est, p)


def tcall(name, args, kw, cpp, shape, bound, est):
    parts = [a.attn for a in args] + ['%s = %s' % kv for kv in kw]
    return Tn('%s(%s)' % (name, ', '.join(parts)), cpp, shape, bound, est)


class Builder:
    def __init__(self, K):
        self.K, self.r = K, K.rng

    # -- dense helpers --
    def unary(self, x):
        r = self.r
        fn = r.choice(['gelu', 'relu'])
        ref = 'geluRef' if fn == 'gelu' else 'reluRef'
        return tcall(fn, [x], [], '%s(%s)' % (ref, x.cpp), x.shape, x.bound, x.est)

    def layer_norm(self, x):
        r, K = self.r, self.K
        last = x.shape[-1]
        n = last.max()
        kw = []
        eps = 1e-5
        if r.random() < 0.3:
            eps = r.choice([1e-5, 1e-3, 0.01, 0.1, 1.0])
            kw = [('eps', fmt_float(eps, r))]
        eps_cpp = repr(eps)
        if last.plain() and r.random() < 0.5:
            _, g = K.param('gamma', [last], ('rnd', 1.0))
            _, b = K.param('beta', [last], ('rnd', 1.0))
            return tcall('layer_norm', [x, g, b], kw,
                         'lnRef(%s, %s, %s, %s)' % (x.cpp, g.cpp, b.cpp, eps_cpp),
                         x.shape, math.sqrt(n) + 1, 1.5)
        return tcall('layer_norm', [x], kw, 'lnRef(%s, %s)' % (x.cpp, eps_cpp),
                     x.shape, math.sqrt(n), 1.0)

    def linear(self, x, out_dim=None):
        r, K = self.r, self.K
        last = x.shape[-1]
        if not last.plain():
            raise Retry()
        n = out_dim or K.dim('N%d' % (len(K.dimvals) + 1), role='N',
                             lit_prob=0.35)
        amp = math.sqrt(3.0 / last.max())
        _, w = K.param('w', [last, n], ('rnd', amp))
        shape = x.shape[:-1] + [n]
        bound = x.bound * last.max() * amp
        est = max(x.est, 0.3)
        if r.random() < 0.5:
            _, b = K.param('bias', [n], ('rnd', 1.0))
            return tcall('linear', [x, w, b], [],
                         'linearRef(%s, %s, %s)' % (x.cpp, w.cpp, b.cpp),
                         shape, bound + 1, est + 0.5)
        return tcall('linear', [x, w], [], 'linearRef(%s, %s)' % (x.cpp, w.cpp),
                     shape, bound, est)

    def operand_like(self, x, bound_ok=True):
        """A parameter with a trailing suffix of x's shape."""
        r, K = self.r, self.K
        plain = 0
        for d in reversed(x.shape):
            if not d.plain():
                break
            plain += 1
        if plain == 0:
            raise Retry()
        n = r.randint(1, plain)
        _, p = K.param(r.choice(['g', 'u', 'bias', 'scale']), x.shape[-n:],
                       ('rnd', 1.0))
        return p

    def elementwise(self, x, bounded=False):
        r = self.r
        op = r.choice(['+', '-', '*'] if not bounded else ['*'])
        if r.random() < 0.15 and not bounded:
            y = x
        else:
            y = self.operand_like(x)
        return tbin(op, x, y) if r.random() < 0.6 else tbin(op, y, x)

    def maybe_let(self, t, prob=0.3):
        if self.r.random() < prob:
            return self.K.let(t)
        return t

    def pre(self, x, bounded):
        """Optional processing of an attention input that keeps its shape."""
        r = self.r
        c = r.choices(['id', 'unary', 'mul', 'add', 'ln'],
                      [6, 1.2, 0.8, 0 if bounded else 0.6, 0 if bounded else 0.5])[0]
        try:
            if c == 'unary':
                return self.maybe_let(self.unary(x))
            if c == 'mul':
                return self.maybe_let(self.elementwise(x, bounded=True))
            if c == 'add':
                return self.maybe_let(tbin('+', x, self.operand_like(x)))
            if c == 'ln':
                return self.maybe_let(self.layer_norm(x))
        except Retry:
            pass
        return x

    # -- attention --
    def attend(self, q, k, v, bdim, hdim):
        r, K = self.r, self.K
        use_mask = r.random() < 0.65
        use_score = r.random() < 0.4
        use_causal = r.random() < 0.3
        use_scale = r.random() < 0.35
        dq = q.shape[3]
        dmax, dmin = dq.max(), dq.min()
        scale = None
        if use_scale:
            scale = r.choice([0.125, 0.25, 0.5, 1.0, 2.0, 0.1, 0.3, 0.7]) * \
                r.choice([1, 1, 1, -1])
        smax = (abs(scale) if scale is not None else 1 / math.sqrt(dmin)) * \
            dmax * q.bound * k.bound
        if use_score and smax > 10:
            scale = float('%.3g' % (r.uniform(2.0, 8.0) / (dmax * q.bound * k.bound)))
            smax = scale * dmax * q.bound * k.bound
        kw = []
        mask_cpp = 'nullptr'
        score_cpp = 'nullptr'
        lq, lk = q.shape[2], k.shape[2]
        if use_mask:
            g = ScalarGen(K, 'mask', bdim, hdim, lq, lk)
            attn, mask_cpp = g.finish(g.mask(), 'mask')
            kw.append(('mask', attn))
        if use_score:
            g = ScalarGen(K, 'score', bdim, hdim, lq, lk, smax)
            attn, score_cpp = g.finish(g.score(), 'score')
            kw.append(('score', attn))
        if use_causal:
            kw.append(('causal', 'true'))
            inner = 'true' if mask_cpp == 'nullptr' else \
                '(%s)(b_, h_, i_, j_)' % mask_cpp
            mask_cpp = ('[&](int64_t b_, int64_t h_, int64_t i_, int64_t j_) '
                        '-> bool { return j_ <= i_ && %s; }' % inner)
        elif r.random() < 0.05:
            kw.append(('causal', 'false'))
        if scale is not None:
            txt = fmt_float(abs(scale), r)
            if scale == int(scale) and r.random() < 0.5:
                txt = str(int(abs(scale)))
            kw.append(('scale', ('-' if scale < 0 else '') + txt))
        r.shuffle(kw)
        scale_cpp = repr(float(scale)) if scale is not None else 'kDefaultScale'
        cpp = 'attendRef(%s, %s, %s, %s, %s, %s)' % (q.cpp, k.cpp, v.cpp,
                                                    scale_cpp, mask_cpp, score_cpp)
        shape = [q.shape[0], q.shape[1], q.shape[2], v.shape[3]]
        sep = ',\n      ' if kw and r.random() < 0.5 else ', '
        parts = [q.attn, k.attn, v.attn] + ['%s = %s' % x for x in kw]
        return Tn('attend(%s)' % sep.join(parts), cpp, shape, v.bound,
                  min(v.est, 0.5))

    def windowed(self, q, k, v):
        r, K = self.r, self.K
        left = r.choice([0, 1, 2, 3, 4, 7, r.randint(0, 12), r.randint(20, 60)])
        right = r.choice([0, 0, 1, 2, 5, r.randint(0, 12), r.randint(20, 60)])
        huge = [2 ** 30, 2 ** 31, 2 ** 32 + 1, 2 ** 40] + (
            [2 ** 30 - 1] * 2 if 'bigextent' in K.features else [])
        big = 'bigglobal' in K.features
        dil = 1
        if r.random() < 0.5:
            dil = r.choice([1, 1, 2, 3, 4] + (
                [4095, 4096] if 'bigdilation' in K.features else []))
        if big and (dil <= 2 or 'bigextent' in K.features):
            if r.random() < 0.08:
                left = r.choice(huge)
            if r.random() < 0.08:
                right = r.choice(huge)
        kw = [('left', str(left)), ('right', str(right))]
        if dil != 1 or r.random() < 0.3:
            kw.append(('dilation', str(dil)))
        globs = []
        if r.random() < 0.55:
            pool = list(range(0, 50)) + [99, 100, 4095, 100000]
            globs = r.sample(pool, r.randint(0, 4))
            if 'bigglobal' in K.features and r.random() < 0.3:
                globs.append(2 ** 32 + r.randint(0, 5))
                globs = list(dict.fromkeys(globs))
            kw.append(('global', '[%s]' % ', '.join(map(str, globs))))
        r.shuffle(kw)
        # left and right are required but any order is fine
        cpp = 'ref::windowed(%s, %s, %s, %d, %d, %d, {%s})' % (
            q.cpp, k.cpp, v.cpp, left, right, dil,
            ', '.join('%dLL' % g for g in globs))
        shape = [q.shape[0], q.shape[1], q.shape[2], v.shape[3]]
        parts = [q.attn, k.attn, v.attn] + ['%s = %s' % x for x in kw]
        return Tn('windowed_attend(%s)' % ', '.join(parts), cpp, shape, v.bound,
                  min(v.est, 0.5))

    def attention(self, q, k, v, bdim, hdim, windowed_prob=0.25):
        if self.r.random() < windowed_prob:
            return self.windowed(q, k, v)
        return self.attend(q, k, v, bdim, hdim)

    def post(self, t):
        """Optional processing of an attention output."""
        r = self.r
        c = r.choices(['id', 'unary', 'elem', 'ln', 'linear'],
                      [5, 1, 1.2, 0.6, 0.8])[0]
        try:
            if c == 'unary':
                return self.unary(t)
            if c == 'elem':
                return self.elementwise(t)
            if c == 'ln':
                return self.layer_norm(t)
            if c == 'linear':
                return self.linear(t)
        except Retry:
            pass
        return t


# ---------------------------------------------------------------------------
# Families
# ---------------------------------------------------------------------------

def fam_attention(K, windowed_prob):
    r = K.rng
    bld = Builder(K)
    B = K.dim('B', lit_prob=0.15)
    H = K.dim('H', lit_prob=0.25)
    L = K.dim('L')
    cross = r.random() < 0.4
    S = K.dim('S', role='L') if cross else L
    D = K.dim('D', role='W', lit_prob=0.3)
    E = D if r.random() < 0.5 else K.dim('E', role='W', lit_prob=0.3)
    if not cross and E == D and r.random() < 0.12:
        _, x = K.param('x', [B, H, L, D], ('rnd', 1.0))
        q = k = v = x
    else:
        _, q = K.param('q', [B, H, L, D], ('rnd', 1.0))
        _, k = K.param('k', [B, H, S, D], ('rnd', 1.0))
        _, v = K.param('v', [B, H, S, E], ('rnd', 1.0))
    outs = []
    n_att = r.choices([1, 2, 3], [7, 2.5, 0.5])[0]
    vv = bld.pre(v, bounded=False)
    if r.random() < 0.15 and vv.shape[3].plain():
        try:
            vv = bld.maybe_let(bld.linear(vv))
        except Retry:
            pass
    for _ in range(n_att):
        bounded = r.random() < 0.7
        qq = bld.pre(q, bounded)
        kk = bld.pre(k, bounded)
        if not bounded and r.random() < 0.15 and D.plain():
            P = K.dim('P', role='W', lit_prob=0.3)
            try:
                qq, kk = bld.linear(qq, P), bld.linear(kk, P)
            except Retry:
                pass
        outs.append(bld.maybe_let(bld.attention(qq, kk, vv, B, H, windowed_prob)))
    t = outs[0]
    for o in outs[1:]:
        t = tbin(r.choice(['+', '-', '*']), t, o)
    t = bld.post(t)
    results = [t]
    if r.random() < 0.1:
        results.append(bld.post(outs[-1]) if r.random() < 0.5 else vv)
    if 'dimprod' in K.features and r.random() < 0.15:
        results = [tcall('merge_heads', [t], [], 'ref::mergeHeads(%s)' % t.cpp,
                         [t.shape[0], t.shape[2], mul_dims(t.shape[3], t.shape[1])],
                         t.bound, t.est)] + results[1:]
    elif all(d.lit is not None for d in t.shape[1:2] + t.shape[3:]) and \
            r.random() < 0.15:
        results = [tcall('merge_heads', [t], [], 'ref::mergeHeads(%s)' % t.cpp,
                         [t.shape[0], t.shape[2], mul_dims(t.shape[3], t.shape[1])],
                         t.bound, t.est)] + results[1:]
    return results


def fam_dense(K):
    r = K.rng
    bld = Builder(K)
    rank = r.choice([1, 2, 3, 3, 3, 4])
    dims = [K.dim('B', lit_prob=0.2), K.dim('H', lit_prob=0.3), K.dim('L'),
            K.dim('M', role='N', lit_prob=0.3)][4 - rank:]
    _, x = K.param('x', dims, ('rnd', 1.0))
    cur = x
    seen = [x]
    for _ in range(r.randint(2, 6)):
        c = r.choices(['linear', 'ln', 'unary', 'elem', 'reuse', 'let', 'heads'],
                      [3, 2, 2, 2.5, 1, 1, 1])[0]
        try:
            if cur.est > 20 and c in ('elem', 'reuse', 'linear'):
                c = 'ln'
            if c == 'linear':
                cur = bld.linear(cur)
            elif c == 'ln':
                cur = bld.layer_norm(cur)
            elif c == 'unary':
                cur = bld.unary(cur)
            elif c == 'elem':
                cur = bld.elementwise(cur)
            elif c == 'reuse':
                same = [s for s in seen if [d.text for d in s.shape[-len(cur.shape):]]
                        == [d.text for d in cur.shape[-len(s.shape):]] and s is not cur]
                if same:
                    o = r.choice(same)
                    cur = tbin(r.choice(['+', '-', '*']), *r.sample([cur, o], 2))
            elif c == 'let':
                cur = K.let(cur)
                seen.append(cur)
            elif c == 'heads':
                cur = heads_roundtrip(K, bld, cur)
        except Retry:
            continue
    results = [cur]
    if r.random() < 0.12 and len(seen) > 1:
        results.append(r.choice(seen[1:]))
    return results


def heads_roundtrip(K, bld, cur):
    """split_heads then something per head then merge_heads (rank 3 only)."""
    r = K.rng
    if len(cur.shape) != 3:
        raise Retry()
    E = cur.shape[2]
    if E.lit is not None:
        divs = [n for n in (1, 2, 3, 4, 8) if E.lit % n == 0]
        n = r.choice(divs)
        hd = Dim.literal(n)
        heads_txt, heads_cpp = str(n), str(n)
    else:
        raise Retry()
    split = tcall('split_heads', [cur], [('heads', heads_txt)],
                  'ref::splitHeads(%s, %s)' % (cur.cpp, heads_cpp),
                  [cur.shape[0], hd, cur.shape[1], div_dims(E, hd)], cur.bound, cur.est)
    mid = bld.unary(split) if r.random() < 0.5 else split
    return tcall('merge_heads', [mid], [], 'ref::mergeHeads(%s)' % mid.cpp,
                 [cur.shape[0], cur.shape[1], mul_dims(mid.shape[3], hd)],
                 mid.bound, mid.est)


def fam_heads(K):
    """Multi-head attention on a [B, L, E] stream."""
    r = K.rng
    bld = Builder(K)
    B = K.dim('B', lit_prob=0.2)
    L = K.dim('L')
    mode = r.choice(['lit', 'lit', 'symE', 'symH', 'symH'])
    if mode == 'symH' and 'litsplit' in K.features and r.random() < 0.3:
        mode = 'symH_litE'
    if mode == 'lit':
        n = r.choice([1, 2, 3, 4])
        E = Dim.literal(n * r.choice([2, 4, 5, 8]))
        hd = Dim.literal(n)
        heads_txt = str(n)
        extra = []
    elif mode == 'symE':
        n = r.choice([2, 3, 4])
        E = K.dim('E', vals=[n * r.choice([1, 2, 3, 5, 8]) for _ in range(NINST)])
        hd = Dim.literal(n)
        heads_txt = str(n)
        extra = []
    elif mode == 'symH_litE':
        E = Dim.literal(24)
        H = K.dim('H', vals=[r.choice([1, 2, 3, 4, 6]) for _ in range(NINST)])
        hd = H
        heads_txt = 'H'
        extra = [H]
    else:
        H = K.dim('H')
        E = K.dim('E', vals=[h * r.choice([1, 2, 3, 4, 8]) for h in H.vals])
        hd = H
        heads_txt = 'H'
        extra = [H]
    _, x = K.param('x', [B, L, E], ('rnd', 1.0))
    if extra:  # binds H (heads = H needs a parameter with that dimension)
        K.param(r.choice(['hs', 'slopes', 'head_gain']), extra, ('rndq',))
    xs = bld.pre(x, bounded=False)
    proj = r.random() < 0.5 and E.plain()
    heads = []
    for role in ('q', 'k', 'v'):
        t = xs
        if proj:
            t = bld.linear(xs, E)
        heads.append(t)
    if not proj and r.random() < 0.5:
        heads = [xs, xs, xs]
    split = []
    for t in heads:
        sp = tcall('split_heads', [t], [('heads', heads_txt)],
                   'ref::splitHeads(%s, %s)' % (t.cpp, hd.cpp),
                   [t.shape[0], hd, t.shape[1], div_dims(t.shape[2], hd)],
                   t.bound, t.est)
        split.append(bld.maybe_let(sp, 0.4))
    att = bld.attention(split[0], split[1], split[2], B, hd, 0.3)
    merged = tcall('merge_heads', [att], [], 'ref::mergeHeads(%s)' % att.cpp,
                   [att.shape[0], att.shape[2], mul_dims(att.shape[3], hd)],
                   att.bound, att.est)
    out = merged
    if r.random() < 0.4 and merged.shape[2].plain():
        out = bld.linear(merged, E if r.random() < 0.5 else None)
    elif r.random() < 0.3:
        out = tbin('+', merged, x) if merged.shape[2] == E else merged
    return [out]


# ---------------------------------------------------------------------------
# Emission
# ---------------------------------------------------------------------------

def make_kernel(seed, index, features):
    for attempt in range(50):
        rng = random.Random('%d:%d:%d' % (seed, index, attempt))
        K = Kernel('rk%04d' % index, rng, features)
        fam = rng.choices(['attend', 'windowed', 'dense', 'heads'],
                          [5, 1.5, 1.5, 1.5])[0]
        K.family = fam
        try:
            if fam == 'attend':
                res = fam_attention(K, 0.1)
            elif fam == 'windowed':
                res = fam_attention(K, 1.0)
            elif fam == 'dense':
                res = fam_dense(K)
            else:
                res = fam_heads(K)
        except Retry:
            continue
        # every result type must be expressible
        ok = all(d.plain() or ('dimprod' in features and '*' in d.text) or
                 ('/' in d.text and '*' not in d.text)
                 for t in res for d in t.shape)
        if not ok:
            continue
        return K, res
    raise RuntimeError('could not generate kernel %d' % index)


def kernel_attn(K, res):
    r = K.rng
    params = ', '.join('%s: %s' % (p.name, type_text(p.dtype, p.dims))
                       for p in K.params)
    if len(res) == 1:
        rt = type_text('f32', res[0].shape)
    else:
        rt = '(%s)' % ', '.join(type_text('f32', t.shape) for t in res)
    lines = ['# %s: %s' % (K.name, K.family),
             'kernel %s(%s)\n    -> %s {' % (K.name, params, rt)]
    for name, t in K.lets:
        if r.random() < 0.1:
            lines.append('  # %s' % r.choice(['a comment', 'let -> kernel ()',
                                              'x[i, j] => 1 / 0']))
        lines.append('  let %s = %s%s%s' % (name, t.attn, r.choice(['', ';']),
                                           r.choice([''] * 9 + ['  # done'])))
    if len(res) == 1:
        lines.append('  return %s' % res[0].attn)
    else:
        lines.append('  return (%s)' % ', '.join(t.attn for t in res))
    lines.append('}')
    return '\n'.join(lines) + '\n'


def cpp_init(p):
    shape = '{%s}' % ', '.join(d.cpp for d in p.dims)
    kind = p.init[0]
    if kind == 'rnd':
        return 'Tensor p_%s = rnd(rng, %s, %rf);' % (p.name, shape, p.init[1])
    if kind == 'rndq':
        return 'Tensor p_%s = rndq(rng, %s);' % (p.name, shape)
    if kind == 'rndi':
        return 'ITensor p_%s = rndi(rng, %s, %d, %d);' % (p.name, shape,
                                                           p.init[1], p.init[2])
    if kind == 'rndbits':
        return 'ITensor p_%s = rndbits(rng, %s, %r);' % (p.name, shape, p.init[1])
    raise ValueError(kind)


def layout_spec(r, rank, features):
    """How a tensor is passed: ('strided', storage order outermost first,
    padding per dimension) or ('bcast', axis) for a zero stride."""
    if r.random() < 0.2:
        # stride 0 on the innermost axis is a non-unit innermost stride
        axes = rank if 'stridedinner' in features else rank - 1
        if axes > 0:
            return ('bcast', r.randrange(axes))
    order = list(range(rank))
    if r.random() < 0.6:
        if 'stridedinner' in features:
            r.shuffle(order)
        else:  # the innermost dimension stays innermost
            outer = order[:-1]
            r.shuffle(outer)
            order = outer + order[-1:]
    pad = r.choice([0, 1, 3]) if order != list(range(rank)) else r.choice([1, 3])
    return ('strided', order, pad)


def kernel_cpp(K, res, file_stem, seed, index):
    dnames = sorted(K.dimvals)
    rows = ', '.join('{%s}' % ', '.join(str(K.dimvals[n][i]) for n in dnames)
                     for i in range(NINST)) if dnames else ''
    out = []
    out.append('TEST(RandomPrograms, %s) {' % K.name)
    out.append('  // %s.attn, kernel %s (%s)' % (file_stem, K.name, K.family))
    if dnames:
        out.append('  static const int64_t kDims[%d][%d] = {%s};'
                   % (NINST, len(dnames), rows))
    out.append('  for (int inst = 0; inst < %d; ++inst) {' % NINST)
    dims_desc = ' << ", "'.join(' << "%s=" << d_%s' % (n, n) for n in dnames)
    for c, n in enumerate(dnames):
        out.append('    [[maybe_unused]] const int64_t d_%s = kDims[inst][%d];'
                   % (n, c))
    out.append('    SCOPED_TRACE(::testing::Message() << "%s.attn kernel %s, '
               'shape set " << inst%s);'
               % (file_stem, K.name, (' << ": "' + dims_desc) if dnames else ''))
    out.append('    std::mt19937 rng(%du + 7919u * unsigned(inst));'
               % ((seed * 100003 + index) % (2 ** 31)))
    for p in K.params:
        out.append('    ' + cpp_init(p))
    args = []
    r = K.rng
    strided_prob = r.choice([0, 0, 0.3, 0.6])
    dense = []
    for p in K.params:
        lay = r.random() < strided_prob and layout_spec(r, len(p.dims), K.features)
        if not lay:
            out.append('    attn_tensor a_%s = view(p_%s);' % (p.name, p.name))
            if p.dtype == 'f32':
                dense.append(p)
        elif lay[0] == 'bcast':
            out.append('    attn_tensor a_%s = zeroStrideView(p_%s, %d);'
                       % (p.name, p.name, lay[1]))
        else:
            out.append('    Storage s_%s; attn_tensor a_%s = stridedView(p_%s, '
                       's_%s, {%s}, %d);' % (p.name, p.name, p.name, p.name,
                                            ', '.join(map(str, lay[1])), lay[2]))
        args.append('&a_' + p.name)
    strided_out = []
    aliased = []
    for n, t in enumerate(res):
        out.append('    Tensor out%d = nanTensor({%s});'
                   % (n, ', '.join(d.cpp for d in t.shape)))
        same = [p for p in dense if [d.text for d in p.dims] ==
                [d.text for d in t.shape]]
        lay = r.random() < strided_prob / 2 and layout_spec(r, len(t.shape), K.features)
        if same and not aliased and 'alias' in K.features and r.random() < 0.15:
            p = r.choice(same)  # the output overwrites this input
            out.append('    Tensor keep_%s = p_%s;' % (p.name, p.name))
            out.append('    attn_tensor ao%d = a_%s;' % (n, p.name))
            aliased.append((n, p.name))
        elif lay and lay[0] == 'strided':
            out.append('    Storage s_out%d; attn_tensor ao%d = stridedView(out%d, '
                       's_out%d, {%s}, %d);' % (n, n, n, n,
                                               ', '.join(map(str, lay[1])), lay[2]))
            strided_out.append(n)
        else:
            out.append('    attn_tensor ao%d = view(out%d);' % (n, n))
        args.append('&ao%d' % n)
    out.append('    ASSERT_EQ(%s(%s), 0) << attn_last_error();'
               % (K.name, ', '.join(args)))
    for n in strided_out:
        out.append('    out%d = gatherOutput(s_out%d, ao%d);' % (n, n, n))
    for n, name in aliased:
        out.append('    out%d = p_%s;' % (n, name))
        out.append('    p_%s = keep_%s;' % (name, name))
    for name, t in K.lets:
        out.append('    Tensor l_%s = %s;' % (name, t.cpp))
    for n, t in enumerate(res):
        out.append('    expectClose(out%d, %s, "output %d");' % (n, t.cpp, n))
    out.append('  }')
    out.append('}')
    return '\n'.join(out) + '\n'


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--seed', type=int, default=2026)
    ap.add_argument('--count', type=int, default=200)
    ap.add_argument('--per-file', type=int, default=25)
    ap.add_argument('--shard', default='0/1', help='I/M: the I-th of M slices')
    ap.add_argument('--exclude', default='',
                    help='comma-separated features to leave out: ' +
                    ', '.join(FEATURES))
    ap.add_argument('--out', required=False)
    ap.add_argument('--list-features', action='store_true')
    a = ap.parse_args()
    if a.list_features:
        for k, v in FEATURES.items():
            print('%-12s %s' % (k, v))
        return 0
    if not a.out:
        ap.error('--out is required')
    excl = {x.strip() for x in a.exclude.replace(';', ',').split(',')
            if x.strip() and x.strip() != 'none'}
    bad = excl - set(FEATURES)
    if bad:
        ap.error('unknown feature(s): %s' % ', '.join(sorted(bad)))
    features = set(FEATURES) - excl
    si, sm = (int(x) for x in a.shard.split('/'))
    nfiles = (a.count + a.per_file - 1) // a.per_file
    files = [f for f in range(nfiles) if f * sm // nfiles == si]
    os.makedirs(a.out, exist_ok=True)
    for f in files:
        stem = 'random_%d' % f
        attn = ['# Generated by test/random/generate.py --seed %d (kernels %d..%d).'
                ' Do not edit.\n' % (a.seed, f * a.per_file,
                                     min(a.count, (f + 1) * a.per_file) - 1)]
        cpp = ['// Generated by test/random/generate.py --seed %d. Do not edit.\n'
               '#include "RandomSupport.h"\n#include "%s.h"\n\n'
               'using namespace attnc::random_programs;\n\n' % (a.seed, stem)]
        for index in range(f * a.per_file, min(a.count, (f + 1) * a.per_file)):
            K, res = make_kernel(a.seed, index, features)
            attn.append('\n' + kernel_attn(K, res))
            cpp.append(kernel_cpp(K, res, stem, a.seed, index) + '\n')
        for name, text in ((stem + '.attn', ''.join(attn)),
                           (stem + '_test.cpp', ''.join(cpp))):
            path = os.path.join(a.out, name)
            old = None
            if os.path.exists(path):
                with open(path) as fh:
                    old = fh.read()
            if old != text:
                with open(path, 'w') as fh:
                    fh.write(text)
    return 0


if __name__ == '__main__':
    sys.exit(main())
