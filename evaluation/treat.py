"""Outlier treatment: tame skewed indicators before normalisation.

One signature for the family: `f(x, **params) -> (Series, details)`, where `x` is one
indicator over the units that have a value (named by its code) and `details` is a dict
describing what was done to it (one row of the result's treatment table). Cells whose
value changed are flagged "treated" by the engine.

Methods:
- `coinr`: COINr's default `Treat()` rule (COINr 1.1.14 `Treat.numeric` with `winsorise`,
  `check_SkewKurt` and `log_CT`): an indicator passes when |skew| < `skew` OR kurtosis <
  `kurt`; a failing one is winsorised one point at a time (all tied copies together) up to
  `winmax` points, re-checking after each; if it still fails, the ORIGINAL values are
  log-transformed with `log(x - min + 0.01·(max - min))`.
- `winsorise`: quantile winsorisation, values clipped to the `lower` and `upper` quantiles.
- `log`: a log transform that works for any values (COINr `log_CT` by default).
- `boxcox`: the Box-Cox power transform, lambda given or estimated by maximum likelihood.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from pandas.core import nanops  # type: ignore[attr-defined]  # pandas' reductions, not in the stubs

from egov.errors import EgovError
from evaluation.methods import Method, Param, apply, fraction, positive

TreatResult = tuple[pd.Series, dict[str, Any]]


def _who(x: pd.Series) -> str:
    return f"indicator '{x.name}'" if x.name is not None else "indicator"


def skew_kurt(v: np.ndarray) -> tuple[float, float]:
    """Sample skewness G1 and excess kurtosis G2, as pandas `.skew()` / `.kurt()`.

    # Joanes & Gill (1998) G1/G2; the same as COINr `skew()`/`kurt()` (e1071 type 2, Excel
    # SKEW/KURT) up to floating point.
    """
    # pandas' own reductions behind Series.skew()/.kurt() (the same values to the last bit),
    # called on the array: no Series made for each of the many checks of a winsorisation
    return float(nanops.nanskew(v)), float(nanops.nankurt(v))


def _passes(sk: float, kt: float, skew: float, kurt: float) -> bool:
    """COINr check_SkewKurt: (|skew| < skew_thresh) | (kurt < kurt_thresh)."""
    return bool(abs(sk) < skew or kt < kurt)


def none(x: pd.Series) -> TreatResult:
    """No treatment."""
    return x, {}


def log_ct(v: np.ndarray) -> np.ndarray:
    """COINr log_CT: log(x - min(x) + 0.01·(max(x) - min(x)))."""
    lo, hi = float(np.min(v)), float(np.max(v))
    out: np.ndarray = np.log(v - lo + 0.01 * (hi - lo))
    return out


def coinr(
    x: pd.Series,
    *,
    winmax: int = 5,
    skew: float = 2.0,
    kurt: float = 3.5,
    log_fallback: bool = True,
) -> TreatResult:
    """COINr's default outlier treatment (Treat with winsorise, check_SkewKurt, log_CT).

    Details: Pass0/Skew0/Kurt0 (the check before), nwin (points winsorised, tied copies
    included; 0 when the indicator passed at once), Pass1/Skew1/Kurt1 (after
    winsorisation), logged (whether the log fallback was applied) and, only when it was,
    Pass2/Skew2/Kurt2 (after the log transform). Pass1/Skew1/Kurt1 are empty when the
    indicator passed the first check.

    # COINr 1.1.14 R/treat.R: Treat.numeric, winsorise, check_SkewKurt, log_CT.
    """
    v = x.to_numpy(dtype=float, copy=True)
    present = ~np.isnan(v)
    w = v[present]
    details: dict[str, Any] = {"Pass0": None, "Skew0": np.nan, "Kurt0": np.nan, "nwin": 0}
    details |= {"Pass1": None, "Skew1": np.nan, "Kurt1": np.nan, "logged": False}
    if len(w) < 4:
        # COINr: kurtosis needs 4 points; check_SkewKurt gives NA and the vector is returned untreated
        details["note"] = f"{len(w)} value(s): too few to check skew and kurtosis; left untreated"
        return x, details
    sk, kt = skew_kurt(w)
    if math.isnan(sk) or math.isnan(kt):
        # all values equal: COINr's check gives NA and the vector is returned untreated
        details |= {"Skew0": sk, "Kurt0": kt, "note": "all values equal; left untreated"}
        return x, details
    passing = _passes(sk, kt, skew, kurt)
    details |= {"Pass0": passing, "Skew0": sk, "Kurt0": kt}
    if passing:
        return x, details

    # COINr winsorise: replace the highest (skew >= 0) or lowest (skew < 0) value, every tied
    # copy of it, by the next value, until it passes or winmax points were replaced. nwin is
    # COINr's count: the points replaced at the last step on each side (earlier replaced
    # points are among them, as they hold the extreme), i.e. the points whose value changed.
    y = w.copy()
    n_high = n_low = 0
    while not passing and n_high + n_low < winmax:
        if sk >= 0:
            top = y.max()
            at = y == top
            rest = y[~at]
            if rest.min() == rest.max():
                break  # one more step would leave a single value (COINr stops with an error)
            y[at] = rest.max()
            n_high = int(at.sum())
        else:
            bottom = y.min()
            at = y == bottom
            rest = y[~at]
            if rest.min() == rest.max():
                break
            y[at] = rest.min()
            n_low = int(at.sum())
        sk, kt = skew_kurt(y)
        passing = _passes(sk, kt, skew, kurt)
    details |= {"nwin": n_high + n_low, "Pass1": passing, "Skew1": sk, "Kurt1": kt}
    if not passing and log_fallback:
        # COINr Treat.numeric (combine_treat = FALSE): f2 = log_CT on the ORIGINAL values
        y = log_ct(w)
        sk2, kt2 = skew_kurt(y)
        details |= {"logged": True, "Pass2": _passes(sk2, kt2, skew, kurt), "Skew2": sk2, "Kurt2": kt2}
    v[present] = y
    return pd.Series(v, index=x.index, name=x.name), details


def winsorise(x: pd.Series, *, lower: float = 0.05, upper: float = 0.95) -> TreatResult:
    """Quantile winsorisation: values below the `lower` quantile are set to it, values above
    the `upper` quantile to it (quantiles interpolated linearly between order statistics,
    R's type 7 / pandas' default).

    # OECD/JRC Handbook (2008) §3.2 (winsorisation); Hyndman & Fan (1996) type 7 quantiles.
    """
    lo, hi = (float(q) for q in x.quantile([lower, upper]))
    out = x.clip(lower=lo, upper=hi)
    details = {
        "lower_limit": lo,
        "upper_limit": hi,
        "n_low": int((x < lo).sum()),
        "n_high": int((x > hi).sum()),
    }
    return out, details


LOG_VARIANTS = {
    "ct": "log(x - min + 0.01·(max - min)) (COINr log_CT)",
    "ct_orig": "log(x - min + 1) (COINr log_CT_orig, the COIN Tool's original)",
    "plain": "log(x), for strictly positive values only",
}


def _check_variant(value: Any) -> str | None:
    if value in LOG_VARIANTS:
        return None
    return f"unknown log variant {value!r} (known: {', '.join(LOG_VARIANTS)})"


def log(x: pd.Series, *, variant: str = "ct") -> TreatResult:
    """Natural-log transform of every value.

    `ct`: log(x - min + 0.01·(max - min)) (COINr log_CT; the lowest value maps to
    log(0.01·range)); `ct_orig`: log(x - min + 1) (COINr log_CT_orig); `plain`: log(x),
    which needs x > 0. An indicator whose values are all equal is left unchanged under
    `ct` (the shift would be 0).

    # COINr 1.1.14 R/treat.R: log_CT, log_CT_orig.
    """
    v = x.to_numpy(dtype=float)
    present = v[~np.isnan(v)]
    if present.size == 0:
        return x, {"variant": variant}
    lo, hi = float(present.min()), float(present.max())
    if variant == "ct":
        if hi == lo:
            return x, {"variant": variant, "note": "all values equal; left unchanged"}
        out = np.log(v - lo + 0.01 * (hi - lo))
    elif variant == "ct_orig":
        out = np.log(v - lo + 1.0)
    else:
        if lo <= 0:
            bad = x[x <= 0]
            raise EgovError(
                f"{_who(x)}: log needs values > 0 but unit '{bad.index[0]}' has {bad.iloc[0]:g}"
                f'{f" (+{len(bad) - 1} more)" if len(bad) > 1 else ""}; use variant = "ct" to shift'
            )
        out = np.log(v)
    return pd.Series(out, index=x.index, name=x.name), {"variant": variant}


def boxcox(x: pd.Series, *, shift: bool = False, **params: Any) -> TreatResult:
    """Box-Cox transform: (x^λ - 1)/λ, or log(x) when λ = 0.

    λ (`lambda`) is estimated by maximum likelihood (scipy.stats.boxcox) when not given.
    Box-Cox needs x > 0: with `shift = true` every value is first moved to x - min + 1
    (COINr boxcox makepos, applied whatever the values); otherwise a value ≤ 0 is an
    error naming the indicator and the unit.

    # Box & Cox (1964); COINr 1.1.14 R/treat.R: boxcox (makepos); scipy.stats.boxcox (MLE).
    """
    lam = params.get("lambda")  # `lambda` is a Python keyword, hence **params
    v = x.to_numpy(dtype=float)
    present = ~np.isnan(v)
    if not present.any():
        return x, {"lambda": lam, "shift": 0.0}
    amount = 0.0
    if shift:
        amount = 1.0 - float(v[present].min())
        v = v + amount
    elif (v[present] <= 0).any():
        bad = x[x <= 0]
        raise EgovError(
            f"{_who(x)}: Box-Cox needs values > 0 but unit '{bad.index[0]}' has {bad.iloc[0]:g}"
            f"{f' (+{len(bad) - 1} more)' if len(bad) > 1 else ''}; set shift = true to use x - min + 1"
        )

    from scipy import stats  # here, not at the top: most evaluations never need it (start-up time)

    out = v.copy()
    if lam is None:
        if np.ptp(v[present]) == 0:
            raise EgovError(f"{_who(x)}: Box-Cox cannot estimate lambda: all values are equal")
        out[present], lam_hat = stats.boxcox(v[present])
        lam = float(lam_hat)
    else:
        out[present] = stats.boxcox(v[present], lmbda=float(lam))
    return pd.Series(out, index=x.index, name=x.name), {"lambda": float(lam), "shift": amount}


def _check_quantiles(p: dict[str, Any]) -> list[tuple[str, str]]:
    return [("upper", "must be greater than lower")] if p["lower"] >= p["upper"] else []


TREATMENTS: dict[str, Method] = {
    "none": Method("none", none, doc="No outlier treatment."),
    "coinr": Method(
        "coinr",
        coinr,
        {
            "winmax": Param(
                "integer",
                5,
                help="most points to winsorise (tied copies count each) before falling back",
                check=positive,
            ),
            "skew": Param("number", 2.0, help="pass when |skewness| is below this", check=positive),
            "kurt": Param("number", 3.5, help="pass when (excess) kurtosis is below this"),
            "log_fallback": Param(
                "bool",
                True,
                help="log-transform the original values (COINr log_CT) when winsorisation is not enough",
            ),
        },
        doc=(
            "COINr's default rule: passes when |skew| < skew or kurtosis < kurt; otherwise "
            "winsorise the extreme value (ties together) one point at a time up to winmax points; "
            "if still failing, log(x - min + 0.01·(max - min)) of the original values."
        ),
        source="COINr 1.1.14 Treat (winsorise, check_SkewKurt, log_CT)",
    ),
    "winsorise": Method(
        "winsorise",
        winsorise,
        {
            "lower": Param(
                "number", 0.05, help="values below this quantile are raised to it", check=fraction
            ),
            "upper": Param(
                "number", 0.95, help="values above this quantile are lowered to it", check=fraction
            ),
        },
        doc="Quantile winsorisation: clip to the lower and upper quantiles (linear interpolation).",
        source="OECD/JRC Handbook (2008) §3.2",
        validate=_check_quantiles,
    ),
    "log": Method(
        "log",
        log,
        {
            "variant": Param(
                "string",
                "ct",
                help="ct: log(x - min + 0.01·(max - min)); ct_orig: log(x - min + 1); plain: log(x), x > 0",
                check=_check_variant,
            )
        },
        doc="Log transform; by default COINr log_CT: log(x - min + 0.01·(max - min)).",
        source="COINr 1.1.14 log_CT, log_CT_orig",
    ),
    "boxcox": Method(
        "boxcox",
        boxcox,
        {
            "lambda": Param(
                "number", help="the Box-Cox exponent; estimated by maximum likelihood when absent"
            ),
            "shift": Param(
                "bool", False, help="first move every value to x - min + 1 (needed when a value is <= 0)"
            ),
        },
        doc="Box-Cox power transform (x^λ - 1)/λ (log x when λ = 0), λ given or estimated by MLE.",
        source="Box & Cox (1964); scipy.stats.boxcox; COINr boxcox",
    ),
}


def treat(x: pd.Series, spec: dict[str, Any]) -> TreatResult:
    """Apply a canonical treatment spec to one indicator."""
    out, details = apply(TREATMENTS, spec, x)
    if np.isinf(out.to_numpy(dtype=float)).any():
        raise EgovError(f"{_who(x)}: {spec['method']} treatment produced an infinite value")
    return out, details
