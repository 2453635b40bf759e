"""Compile a parsed SymPy response (link or expression) to a torch function, by tree walk.

The expression comes from onestep's whitelist parser, so only these node types occur:
numbers, the variables s, x1..xd, w1..wd, +, *, integer powers and the functions tanh,
erf, sin, cos, exp, abs, sign, relu. Nothing is evaluated from text.
"""

from __future__ import annotations

import torch


def _functions():
    import sympy as sp

    from derivations.nonlinear.parse import relu

    return {sp.tanh: torch.tanh, sp.erf: torch.erf, sp.sin: torch.sin, sp.cos: torch.cos,
            sp.exp: torch.exp, sp.Abs: torch.abs, sp.sign: torch.sign, relu: torch.relu}


def compile_torch(expr, variables: dict):
    """A function of named tensors -> tensor. ``variables``: SymPy symbol -> name."""
    import sympy as sp

    funcs = _functions()

    def build(e):
        if e in variables:
            name = variables[e]
            return lambda env: env[name]
        if e.is_Rational:
            value = float(e)
            return lambda env: value
        if e.is_Add or e.is_Mul:
            parts = [build(a) for a in e.args]
            if e.is_Add:
                def add(env):
                    out = parts[0](env)
                    for p in parts[1:]:
                        out = out + p(env)
                    return out
                return add

            def mul(env):
                out = parts[0](env)
                for p in parts[1:]:
                    out = out * p(env)
                return out
            return mul
        if e.is_Pow and e.exp.is_Integer:
            base, k = build(e.base), int(e.exp)
            return lambda env: base(env) ** k
        if isinstance(e, sp.Function) and e.func in funcs and len(e.args) == 1:
            fn, arg = funcs[e.func], build(e.args[0])
            return lambda env: fn(torch.as_tensor(arg(env), dtype=torch.float64))
        raise ValueError(f"cannot compile {e} for the Monte Carlo side")

    return build(expr)


def link_function(link):
    """torch callable s -> g(s) for a link parsed in the variable s."""
    from derivations.nonlinear.parse import S

    f = compile_torch(link, {S: "s"})
    return lambda s: torch.as_tensor(f({"s": s}), dtype=torch.float64) * torch.ones_like(s)


def expression_function(expr, d: int):
    """torch callable (x, w) -> f(x; w) with x (B, m, d), w (B, d), for an expression."""
    from derivations.nonlinear.parse import S, variables

    names = variables(d)
    mapping = {sym: name for name, sym in names.items()}
    f = compile_torch(expr, mapping)

    def fn(x, w):
        env = {"s": torch.einsum("bmd,bd->bm", x, w)}
        for k in range(d):
            env[f"x{k + 1}"] = x[..., k]
            env[f"w{k + 1}"] = w[:, None, k].expand(x.shape[:-1])
        return torch.as_tensor(f(env), dtype=torch.float64) * torch.ones(x.shape[:-1], dtype=torch.float64)

    assert S in names.values()
    return fn
