"""Independent high-precision reference values for the BG/NBD, MBG/NBD, Pareto/NBD, BG/BB and
Gamma-Gamma predictions, written directly from the papers' formulas with mpmath (50 significant digits).

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

import signal

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


# BG/BB: Fader, Hardie & Shang (2010), "Customer-Base Analysis in a Discrete-Time Noncontractual
# Setting", Marketing Science 29(6), the published forms summed term by term in 50-digit
# arithmetic (no log-space, no ratios between terms).


def _beta(a, b):
    return mp.beta(a, b)


def bgbb_likelihood(alpha, beta, gamma, delta, x, tx, n):
    """FHS 2010 eq. (5): B(α+x, β+n−x)/B(α,β)·B(γ,δ+n)/B(γ,δ) + Σ_{i=0}^{n−t_x−1} B(α+x, β+t_x−x+i)
    ·B(γ+1, δ+t_x+i)/(B(α,β)B(γ,δ)); successive beta functions by their exact recurrence
    B(a, b+1) = B(a, b)·b/(a+b) (50 digits, linear space), for speed at n ~ 10⁴."""
    with mp.workdps(DIGITS):
        alpha, beta, gamma, delta = _mpf(alpha, beta, gamma, delta)
        x, tx, n = int(x), int(tx), int(n)
        base = _beta(alpha, beta) * _beta(gamma, delta)
        total = _beta(alpha + x, beta + n - x) * _beta(gamma, delta + n)
        purchase, dropout = _beta(alpha + x, beta + tx - x), _beta(gamma + 1, delta + tx)
        for i in range(n - tx):
            total += purchase * dropout
            purchase *= (beta + tx - x + i) / (alpha + beta + tx + i)
            dropout *= (delta + tx + i) / (gamma + delta + 1 + tx + i)
        return total / base


def bgbb_log_likelihood(alpha, beta, gamma, delta, x, tx, n):
    with mp.workdps(DIGITS):
        return mp.log(bgbb_likelihood(alpha, beta, gamma, delta, x, tx, n))


def bgbb_probability_alive(alpha, beta, gamma, delta, m, x, tx, n):
    """FHS 2010 eq. (A10): P(alive at n+m) = B(α+x, β+n−x)/B(α,β)·B(γ, δ+n+m)/B(γ,δ) / L."""
    with mp.workdps(DIGITS):
        a, b, g, d = _mpf(alpha, beta, gamma, delta)
        numerator = (_beta(a + x, b + n - x) / _beta(a, b)) * (_beta(g, d + n + m) / _beta(g, d))
        return numerator / bgbb_likelihood(alpha, beta, gamma, delta, x, tx, n)


def bgbb_conditional_expected(alpha, beta, gamma, delta, m, x, tx, n):
    """FHS 2010 eq. (13): (1/L)·B(α+x+1, β+n−x)/B(α,β)·δ/(γ−1)·Γ(γ+δ)/Γ(1+δ)
    ·[Γ(1+δ+n)/Γ(γ+δ+n) − Γ(1+δ+n+m)/Γ(γ+δ+n+m)]; at γ = 1 (where it is 0/0) the sum it comes
    from, Σ_{j=1}^{m} B(α+x+1, β+n−x)/B(α,β)·B(γ, δ+n+j)/B(γ,δ) / L, term by term."""
    with mp.workdps(DIGITS):
        a, b, g, d = _mpf(alpha, beta, gamma, delta)
        likelihood = bgbb_likelihood(alpha, beta, gamma, delta, x, tx, n)
        purchase = _beta(a + x + 1, b + n - x) / _beta(a, b)
        if g == 1:
            return sum(purchase * _beta(g, d + n + j) / _beta(g, d) for j in range(1, int(m) + 1)) / likelihood
        bracket = (mp.exp(mp.loggamma(1 + d + n) - mp.loggamma(g + d + n))
                   - mp.exp(mp.loggamma(1 + d + n + m) - mp.loggamma(g + d + n + m)))
        return purchase * d / (g - 1) * mp.exp(mp.loggamma(g + d) - mp.loggamma(1 + d)) * bracket / likelihood


def bgbb_pmf(alpha, beta, gamma, delta, n, x):
    """FHS 2010 eq. (7): P(X(n) = x) = C(n,x)·B(α+x, β+n−x)/B(α,β)·B(γ,δ+n)/B(γ,δ)
    + Σ_{i=x}^{n−1} C(i,x)·B(α+x, β+i−x)/B(α,β)·B(γ+1,δ+i)/B(γ,δ) (recurrences as above)."""
    with mp.workdps(DIGITS):
        a, b, g, d = _mpf(alpha, beta, gamma, delta)
        n, x = int(n), int(x)
        if x > n:
            return mp.mpf(0)
        base = _beta(a, b) * _beta(g, d)
        total = mp.binomial(n, x) * _beta(a + x, b + n - x) * _beta(g, d + n)
        purchase, dropout = _beta(a + x, b), _beta(g + 1, d + x)
        for i in range(x, n):
            total += mp.binomial(i, x) * purchase * dropout
            purchase *= (b + i - x) / (a + b + i)
            dropout *= (d + i) / (g + d + 1 + i)
        return total / base


def bgbb_dert(alpha, beta, gamma, delta, discount, x, tx, n):
    """FHS 2010 eq. (14): B(α+x+1, β+n−x)/B(α,β)·B(γ, δ+n+1)/(B(γ,δ)(1+d))
    ·₂F₁(1, δ+n+1; γ+δ+n+1; 1/(1+d)) / L."""
    with mp.workdps(DIGITS):
        a, b, g, d, rate = _mpf(alpha, beta, gamma, delta, discount)
        value = (_beta(a + x + 1, b + n - x) / _beta(a, b) * _beta(g, d + n + 1) / (_beta(g, d) * (1 + rate))
                 * mp.hyp2f1(1, d + n + 1, g + d + n + 1, 1 / (1 + rate)))
        return value / bgbb_likelihood(alpha, beta, gamma, delta, x, tx, n)


class _Slow(Exception):
    pass


def within(seconds, function, *args, failures=()):
    """function(*args), or None where mpmath's own series does not finish within `seconds` (or
    raises NoConvergence, or one of `failures`)."""

    def give_up(*_):
        raise _Slow()

    previous = signal.signal(signal.SIGALRM, give_up)
    signal.alarm(seconds)
    try:
        return function(*args)
    except (_Slow, mp.libmp.NoConvergence, *failures):
        return None
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
