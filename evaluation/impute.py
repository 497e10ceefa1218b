"""Imputers: estimate missing indicator values.

One signature for the family: `f(x, *, groups, history, supplied, **params) -> Series`,
where `x` is one indicator over the units, `groups` the unit attribute named by the `by`
parameter (group methods), `history` the same indicator in earlier periods (a periods ×
units DataFrame, oldest first) and `supplied` values given in a separate table (as the
DESI workbook's "Data 2" sheet). Only missing cells change; the engine flags them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from egov.errors import EgovError
from evaluation.methods import Method, Param, apply


def none(x: pd.Series, **_: object) -> pd.Series:
    """No imputation: missing values stay missing (and are skipped in aggregation)."""
    return x


def mean(x: pd.Series, **_: object) -> pd.Series:
    """Fill with the indicator's mean over the units. # COINr i_mean."""
    return x.fillna(x.mean(skipna=True))


def median(x: pd.Series, **_: object) -> pd.Series:
    """Fill with the indicator's median over the units. # COINr i_median."""
    return x.fillna(x.median(skipna=True))


def _groups(groups: pd.Series | None, x: pd.Series, by: str) -> pd.Series:
    if groups is None:
        raise EgovError(f"group imputation needs the unit attribute '{by}' (a column of the unit table)")
    g = groups.reindex(x.index)
    if g.isna().any():
        raise EgovError(
            f"group imputation by '{by}': no group for unit(s) {', '.join(map(str, g.index[g.isna()][:5]))}"
        )
    return g


def group_mean(x: pd.Series, *, groups: pd.Series | None = None, by: str = "", **_: object) -> pd.Series:
    """Fill with the mean of the unit's group (e.g. its peer group). # COINr i_mean_grp."""
    g = _groups(groups, x, by)
    return x.fillna(x.groupby(g).transform("mean"))


def group_median(x: pd.Series, *, groups: pd.Series | None = None, by: str = "", **_: object) -> pd.Series:
    """Fill with the median of the unit's group. # COINr i_median_grp."""
    g = _groups(groups, x, by)
    return x.fillna(x.groupby(g).transform("median"))


def _history(history: pd.DataFrame | None) -> pd.DataFrame:
    if history is None or history.empty:
        return pd.DataFrame()
    return history


def previous(x: pd.Series, *, history: pd.DataFrame | None = None, **_: object) -> pd.Series:
    """Fill with the unit's latest value in an earlier period (last observation carried
    forward). # OECD/JRC Handbook (2008) §3, "hot-deck"/"substitution" by the previous value."""
    h = _history(history)
    if h.empty:
        return x
    latest = h.reindex(columns=x.index).ffill().iloc[-1]
    return x.fillna(latest)


def linear(x: pd.Series, *, history: pd.DataFrame | None = None, **_: object) -> pd.Series:
    """Fill by extending the line through the unit's two latest earlier values to this
    period (periods equally spaced); with one earlier value, that value.
    # OECD/JRC Handbook (2008) §3, extrapolation of a trend."""
    h = _history(history)
    if h.empty:
        return x
    h = h.reindex(columns=x.index)
    n = len(h)
    out = x.copy()
    for unit in x.index[x.isna()]:
        col = h[unit]
        pos = np.flatnonzero(col.notna().to_numpy())
        if len(pos) == 0:
            continue
        if len(pos) == 1:
            out[unit] = col.iloc[pos[-1]]
            continue
        i1, i2 = pos[-2], pos[-1]
        y1, y2 = float(col.iloc[i1]), float(col.iloc[i2])
        out[unit] = y2 + (y2 - y1) / (i2 - i1) * (n - i2)
    return out


def supplied(x: pd.Series, *, supplied: pd.Series | None = None, **_: object) -> pd.Series:
    """Fill with values given in a separate table (the DESI workbook's "Data 2" sheet).
    # DESI 2022 methodological note: missing values are replaced by the values of "Data 2"."""
    if supplied is None:
        return x
    return x.fillna(supplied.reindex(x.index))


_BY = Param("string", required=True, help="unit attribute that defines the groups (e.g. peer_group)")

IMPUTERS: dict[str, Method] = {
    "none": Method("none", none, doc="No imputation: missing values stay missing."),
    "mean": Method("mean", mean, doc="The indicator's mean over the units.", source="COINr i_mean"),
    "median": Method("median", median, doc="The indicator's median over the units.", source="COINr i_median"),
    "group_mean": Method(
        "group_mean", group_mean, {"by": _BY}, doc="The mean of the unit's group.", source="COINr i_mean_grp"
    ),
    "group_median": Method(
        "group_median",
        group_median,
        {"by": _BY},
        doc="The median of the unit's group.",
        source="COINr i_median_grp",
    ),
    "previous": Method(
        "previous",
        previous,
        doc="The unit's latest value in an earlier period.",
        source="OECD/JRC Handbook (2008) §3",
    ),
    "linear": Method(
        "linear",
        linear,
        doc="Linear extrapolation from the unit's two latest earlier values.",
        source="OECD/JRC Handbook (2008) §3",
    ),
    "supplied": Method(
        "supplied",
        supplied,
        doc="Values from a separate table of supplied values.",
        source="DESI 2022 methodological note",
    ),
}


def impute(
    x: pd.Series,
    spec: dict[str, object],
    *,
    groups: pd.Series | None = None,
    history: pd.DataFrame | None = None,
    supplied_values: pd.Series | None = None,
) -> pd.Series:
    """Apply a canonical imputation spec to one indicator."""
    result: pd.Series = apply(IMPUTERS, spec, x, groups=groups, history=history, supplied=supplied_values)
    return result


# the imputers that fill several indicators as one table: a column of the result is what
# the Series function gives for that column alone (pandas' column-wise reductions)
TABLE_IMPUTERS = ("mean", "median", "group_mean", "group_median")


def impute_frame(
    x: pd.DataFrame, spec: dict[str, object], *, groups: pd.Series | None = None
) -> pd.DataFrame:
    """Apply a canonical imputation spec of `TABLE_IMPUTERS` to several indicators at once
    (units × indicators), each column as `impute` would fill it alone."""
    method = str(spec["method"])
    if method in ("mean", "median"):
        stats = x.mean(skipna=True) if method == "mean" else x.median(skipna=True)
        return x.fillna(stats)
    first = x[x.columns[0]]
    g = _groups(groups, first, str(spec.get("by", ""))).to_numpy()  # aligned: grouped by position
    return x.fillna(x.groupby(g).transform("mean" if method == "group_mean" else "median"))
