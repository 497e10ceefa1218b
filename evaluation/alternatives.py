"""The method alternatives of the Monte Carlo (`evaluation.uncertainty`): how they are
written and resolved (`resolve_alternative`, `parse_alternatives`, the positive presets of
a bare `minmax` or `zscore`), the alternatives of each sampled stage (`Alternatives`) and
which of them the data rules out (`invalid_alternatives`: an aggregation that needs values
> 0, such as the geometric mean, cannot take a normalisation that gives values <= 0 for
this data; one of the two is left out with a note, never the whole run).

Pure: no database, file or HTTP access.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from egov.errors import EgovError
from evaluation.registry import check_stage

__all__ = [
    "POSITIVE_PRESETS",
    "Alternatives",
    "needs_positive",
    "parse_alternatives",
    "resolve_alternative",
    "valid_alternatives",
]

# A bare "minmax" / "zscore" among the alternatives means COINr's sensitivity-analysis
# settings, on a strictly positive scale so that the geometric mean is defined:
# minmax to [1, 100], z-scores with mean 10 and sd 2 (COINr vignette "Sensitivity
# analysis", `get_sensitivity` example). Give parameters to choose others.
POSITIVE_PRESETS: dict[str, dict[str, Any]] = {
    "minmax": {"method": "minmax", "lower": 1.0, "upper": 100.0},
    "zscore": {"method": "zscore", "mean": 10.0, "sd": 2.0},
}


# ----------------------------------------------------------------------------------------
def resolve_alternative(stage: str, value: Any) -> dict[str, Any]:
    """A method alternative (a name or a table) in canonical form; a bare `minmax` or
    `zscore` normalisation means the positive preset (see POSITIVE_PRESETS)."""
    if stage == "normalisation" and isinstance(value, str) and value in POSITIVE_PRESETS:
        return dict(POSITIVE_PRESETS[value])
    spec, problems = check_stage(stage, value)
    if spec is None:
        raise EgovError(
            f"{stage} alternative {value!r} is not valid", [f"{k}: {m}" if k else m for k, m in problems]
        )
    return spec


def parse_alternatives(stage: str, text: str) -> list[dict[str, Any]]:
    """Alternatives written on a command line: `name[:key=value]...`, separated by commas,
    e.g. `minmax,zscore:mean=10:sd=2,rank` (empty text: none)."""
    out: list[dict[str, Any]] = []
    for item in (t.strip() for t in text.split(",")):
        if not item:
            continue
        name, *pairs = item.split(":")
        if not pairs:
            out.append(resolve_alternative(stage, name))
            continue
        table: dict[str, Any] = {"method": name}
        for pair in pairs:
            key, sep, raw = pair.partition("=")
            if not sep:
                raise EgovError(f"{stage} alternative {item!r}: write parameters as key=value")
            table[key] = _literal(raw)
        out.append(resolve_alternative(stage, table))
    return out


def _literal(raw: str) -> Any:
    low = raw.strip().lower()
    if low in ("true", "false"):
        return low == "true"
    try:
        return int(raw)
    except ValueError:
        pass
    try:
        return float(raw)
    except ValueError:
        return raw.strip()


def label(spec: dict[str, Any] | None) -> str:
    """`zscore(mean=10, sd=2)`; `nominal` for None."""
    if spec is None:
        return "nominal"
    params = ", ".join(
        f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in spec.items() if k != "method"
    )
    return f"{spec['method']}({params})" if params else str(spec["method"])


Options = list[dict[str, Any] | None]  # [None (nominal), alternative, …]


@dataclass
class Alternatives:
    """The alternatives of each sampled method stage, nominal first (None)."""

    normalisation: Options
    aggregation: Options
    imputation: Options
    treatment: Options

    @classmethod
    def of(
        cls,
        normalisations: Sequence[Any],
        aggregations: Sequence[Any],
        imputations: Sequence[Any],
        treatments: Sequence[Any] = (),
    ) -> Alternatives:
        return cls(
            [None, *(resolve_alternative("normalisation", v) for v in normalisations)],
            [None, *(resolve_alternative("aggregation", v) for v in aggregations)],
            [None, *(resolve_alternative("imputation", v) for v in imputations)],
            [None, *(resolve_alternative("treatment", v) for v in treatments)],
        )

    def labels(self) -> dict[str, list[str]]:
        """The alternatives as written in the settings: normalisations, aggregations,
        imputations (and treatments, when there are some)."""
        out = {
            "normalisations": [label(x) for x in self.normalisation[1:]],
            "aggregations": [label(x) for x in self.aggregation[1:]],
            "imputations": [label(x) for x in self.imputation[1:]],
        }
        if len(self.treatment) > 1:
            out["treatments"] = [label(x) for x in self.treatment[1:]]
        return out

    def as_dict(self) -> dict[str, Options]:
        out = {
            "normalisation": self.normalisation,
            "aggregation": self.aggregation,
            "imputation": self.imputation,
        }
        if len(self.treatment) > 1:
            out["treatment"] = self.treatment
        return out


def sampled(options: Options) -> list[int]:
    """The positions a stage's sample takes: its alternatives (1, 2, …), or the nominal (0)
    when it has none."""
    return list(range(1, len(options))) if len(options) > 1 else [0]


def needs_positive(spec: dict[str, Any]) -> bool:
    """Whether an aggregation needs values > 0 (geometric, harmonic, a power mean with p <= 0)."""
    method = spec["method"]
    return method in ("geometric", "harmonic") or (method == "generalised" and float(spec.get("p", 1.0)) <= 0)


def valid_alternatives(
    alts: Alternatives, lowest: Callable[[int], float], positive_needed: Callable[[int], bool]
) -> tuple[Alternatives, list[str]]:
    """The alternatives without those the data rules out, and a note for each one left out.

    lowest(j): the lowest value normalisation j gives for the data (of every imputation and
    treatment); positive_needed(a): whether aggregation a needs values > 0 anywhere. A pair
    of a normalisation with a value <= 0 and such an aggregation cannot be computed; as the
    inputs are sampled independently, one of the two leaves: the normalisation alternative
    first (the aggregation keeps the others), else the aggregation alternative; when neither
    can leave (it is the stage's only choice), the error says why."""
    norms = {j: lowest(j) for j in sampled(alts.normalisation)}
    aggs = [a for a in sampled(alts.aggregation) if positive_needed(a)]
    if not aggs or all(v > 0 for v in norms.values()):
        return alts, []
    bad = [j for j, v in norms.items() if not v > 0]
    notes: list[str] = []
    agg_names = (
        ", ".join(label(alts.aggregation[a]) for a in aggs) if aggs != [0] else "the framework's aggregation"
    )
    if len(bad) < len(norms) and bad[0] != 0:
        for j in bad:
            notes.append(
                f"normalisation alternative {label(alts.normalisation[j])} left out: it gives values down to "
                f"{norms[j]:.4g} for this data, and {agg_names} needs values > 0"
            )
        keep = [x for i, x in enumerate(alts.normalisation) if i not in bad]
        return replace(alts, normalisation=keep), notes
    if len(aggs) < len(sampled(alts.aggregation)) and aggs[0] != 0:
        worst = min(norms.values())
        for a in aggs:
            notes.append(
                f"aggregation alternative {label(alts.aggregation[a])} left out: it needs values > 0, and "
                f"the normalisations give values down to {worst:.4g} for this data"
            )
        keep = [x for i, x in enumerate(alts.aggregation) if i not in aggs]
        return replace(alts, aggregation=keep), notes
    j = bad[0]
    name = "the framework's normalisation" if j == 0 else f"normalisation {label(alts.normalisation[j])}"
    raise EgovError(
        f"{agg_names} needs values > 0, but {name} gives values down to {norms[j]:.4g} for this data; "
        "normalise to a strictly positive scale (e.g. the alternative `minmax`, which is [1, 100], or `rank`)"
    )
