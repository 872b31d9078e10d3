"""Independent high-precision reference values for the BG/NBD, MBG/NBD and Gamma-Gamma
predictions, written directly from the papers' formulas with mpmath (50 significant digits).

These are the published closed forms, evaluated without any of the rearrangements crmkit uses
for double precision (log-space, Euler's transformation, series/quadrature switches), so that
agreement is an independent check:

- BG/NBD: Fader, Hardie & Lee (2005), "Counting your customers the easy way", Marketing Science
  24(2): P(alive) eq. (A... note 021 form), E[X(t)] eq. (9), P(X(t)=x) eq. (8), conditional
  expectation eq. (10).
- MBG/NBD: Batislam, Denizel & Filiztekin (2007), IJRM 24(3), with the Wagner & Hoppe (2008)
  erratum: the same expressions with b → b+1 in the hypergeometric and (a+b)/(a−1) prefactors.
- Gamma-Gamma: Fader, Hardie & Lee (2005) JMR "RFM and CLV", note 025 eq. (5):
  E[Z | x, m̄] = (p·v + p·x·m̄)/(p·x + q − 1).
"""

import mpmath as mp

DIGITS = 50


def _mpf(*values):
    return [mp.mpf(v) for v in values]


def bg_probability_alive(r, alpha, a, b, x, tx, T, modified=False):
    """FHL 2005 / note 021: 1/(1 + δ·a/(b+x−1)·((α+T)/(α+t_x))^(r+x)); Batislam: a/(b+x), no δ."""
    with mp.workdps(DIGITS):
        r, alpha, a, b, x, tx, T = _mpf(r, alpha, a, b, x, tx, T)
        if not modified and x == 0:
            return mp.mpf(1)
        denominator = b + x if modified else b + x - 1
        return 1 / (1 + a / denominator * ((alpha + T) / (alpha + tx)) ** (r + x))


def bg_conditional_expected(r, alpha, a, b, t, x, tx, T, modified=False):
    """FHL 2005 eq. (10); Batislam 2007: (a+b+x)/(a−1)·[1 − (...)^(r+x) ₂F₁(r+x, b+x+1; a+b+x; z)]."""
    with mp.workdps(DIGITS):
        r, alpha, a, b, t, x, tx, T = _mpf(r, alpha, a, b, t, x, tx, T)
        shift = 1 if modified else 0
        c = a + b + x - 1 + shift
        z = t / (alpha + T + t)
        hyp = mp.hyp2f1(r + x, b + x + shift, c, z, maxterms=10**6)
        bracket = 1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp
        alive = bg_probability_alive(r, alpha, a, b, x, tx, T, modified)
        return c / (a - 1) * bracket * alive


def bg_expected_new(r, alpha, a, b, t, modified=False):
    """FHL 2005 eq. (9): (a+b−1)/(a−1)·[1 − (α/(α+t))^r ₂F₁(r, b; a+b−1; t/(α+t))]; MBG: b+1, a+b."""
    return bg_conditional_expected(r, alpha, a, b, t, 0, 0, 0, modified)


def bg_pmf(r, alpha, a, b, t, n, modified=False):
    """FHL 2005 eq. (8) with its finite sum Σ_{j<n} Γ(r+j)/(Γ(r) j!)·(t/(α+t))^j written out."""
    with mp.workdps(DIGITS):
        r, alpha, a, b, t = _mpf(r, alpha, a, b, t)
        n = int(n)
        shift = 1 if modified else 0
        q = alpha / (alpha + t)
        nb = mp.gamma(r + n) / (mp.gamma(r) * mp.factorial(n)) * q**r * (1 - q) ** n
        value = mp.beta(a, b + n + shift) / mp.beta(a, b) * nb
        if n + shift > 0:
            partial = mp.fsum(mp.gamma(r + j) / (mp.gamma(r) * mp.factorial(j)) * (1 - q) ** j
                              for j in range(n))
            value += mp.beta(a + 1, b + n + shift - 1) / mp.beta(a, b) * (1 - q**r * partial)
        return value


def gamma_gamma_expected_spend(p, q, v, x, m):
    """Note 025 eq. (5); x = 0 gives the population mean p·v/(q−1)."""
    with mp.workdps(DIGITS):
        p, q, v, x, m = _mpf(p, q, v, x, m)
        return (p * v + p * x * m) / (p * x + q - 1)


# Pareto/NBD: Schmittlein, Morrison & Colombo (1987); Fader & Hardie (2005), "A Note on Deriving
# the Pareto/NBD Model and Related Expressions" (note 009) for the likelihood (eq. 16 with A₀ from
# eqs. 18–19, the ₂F₁ form with the larger of α, β), P(alive) (eq. 18 there: the alive term over
# L), E[X(t)] (eq. 17) and the conditional expectation (eq. 22); Fader, Hardie & Lee (2005) JMR
# "RFM and CLV" eq. (2) for DERT with Tricomi's U (mpmath.hyperu).


def pareto_log_likelihood(r, alpha, s, beta, x, tx, T):
    """ln L = ln Γ(r+x) − ln Γ(r) + r ln α + s ln β + ln[(α+T)^−(r+x)(β+T)^−s + s/(r+s+x)·A₀]."""
    with mp.workdps(DIGITS):
        r, alpha, s, beta, x, tx, T = _mpf(r, alpha, s, beta, x, tx, T)
        w = r + s + x
        if alpha >= beta:
            larger, second = alpha, s + 1
        else:
            larger, second = beta, r + x
        difference = abs(alpha - beta)

        def part(time):
            return mp.hyp2f1(w, second, w + 1, difference / (larger + time), maxterms=10**6) / (larger + time) ** w

        a0 = part(tx) - part(T)
        bracket = (alpha + T) ** (-(r + x)) * (beta + T) ** (-s) + s / w * a0
        return mp.loggamma(r + x) - mp.loggamma(r) + r * mp.log(alpha) + s * mp.log(beta) + mp.log(bracket)


def pareto_probability_alive(r, alpha, s, beta, x, tx, T):
    """Note 009: Γ(r+x) α^r β^s/Γ(r)·(α+T)^−(r+x)(β+T)^−s / L."""
    with mp.workdps(DIGITS):
        r, alpha, s, beta, x, tx, T = _mpf(r, alpha, s, beta, x, tx, T)
        log_alive = (mp.loggamma(r + x) - mp.loggamma(r) + r * mp.log(alpha) + s * mp.log(beta)
                     - (r + x) * mp.log(alpha + T) - s * mp.log(beta + T))
        return mp.exp(log_alive - pareto_log_likelihood(r, alpha, s, beta, x, tx, T))


def pareto_conditional_expected(r, alpha, s, beta, t, x, tx, T):
    """Note 009 eq. (22): (r+x)(β+T)/((α+T)(s−1))·[1 − ((β+T)/(β+T+t))^(s−1)]·P(alive)."""
    with mp.workdps(DIGITS):
        r, alpha, s, beta, t, x, tx, T = _mpf(r, alpha, s, beta, t, x, tx, T)
        bracket = 1 - ((beta + T) / (beta + T + t)) ** (s - 1)
        return ((r + x) * (beta + T) / ((alpha + T) * (s - 1)) * bracket
                * pareto_probability_alive(r, alpha, s, beta, x, tx, T))


def pareto_expected_new(r, alpha, s, beta, t):
    """Note 009 eq. (17): rβ/(α(s−1))·[1 − (β/(β+t))^(s−1)]."""
    with mp.workdps(DIGITS):
        r, alpha, s, beta, t = _mpf(r, alpha, s, beta, t)
        return r * beta / (alpha * (s - 1)) * (1 - (beta / (beta + t)) ** (s - 1))


def pareto_dert(r, alpha, s, beta, delta, x, tx, T):
    """FHL 2005 JMR eq. (2): α^r β^s δ^(s−1) Γ(r+x+1) U(s, s; δ(β+T)) / (Γ(r) (α+T)^(r+x+1) L)."""
    with mp.workdps(DIGITS):
        r, alpha, s, beta, delta, x, tx, T = _mpf(r, alpha, s, beta, delta, x, tx, T)
        log_numerator = (r * mp.log(alpha) + s * mp.log(beta) + (s - 1) * mp.log(delta)
                         + mp.loggamma(r + x + 1) + mp.log(mp.hyperu(s, s, delta * (beta + T))))
        log_denominator = (mp.loggamma(r) + (r + x + 1) * mp.log(alpha + T)
                           + pareto_log_likelihood(r, alpha, s, beta, x, tx, T))
        return mp.exp(log_numerator - log_denominator)
