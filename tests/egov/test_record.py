"""The evaluation record: bit-identical re-runs, run diffs, and self-contained bundles that
a third party verifies without the database (tampering detected)."""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import text
from sqlmodel import Session

from egov.bundle import MANIFEST, export_bundle, manifest_digest, read_bundle, verify_bundle
from egov.db import init_db, session_scope
from egov.errors import EgovError
from egov.models import EvaluationRun, FrameworkVersion
from egov.record import diff_runs, load_result
from egov.scoring import score_period
from egov.settings import reset_settings
from egov.store import (
    add_metric_values,
    ensure_period,
    get_period,
    get_run,
    load_register,
    results_hash,
    run_scores,
    store_framework,
)
from evaluation.engine import reranked
from evaluation.rank import rank_desc, rank_exact
from evaluation.spec import parse_spec
from indicators.framework import builtin_path, load_framework

REGISTER = {
    "peer_groups": {"g1": {"name": {"en": "A"}}},
    "departments": {
        "D1": {"name": {"en": "D1"}, "peer_group": "g1"},
        "D2": {"name": {"en": "D2"}, "peer_group": "g1"},
        "D3": {"name": {"en": "D3"}},
    },
    "objects": {
        "APP1": {"name": {"en": "A1"}, "department": "D1", "kind": "application"},
        "APP2": {"name": {"en": "A2"}, "department": "D2", "kind": "application"},
        "APP3": {"name": {"en": "A3"}, "department": "D3", "kind": "application"},
        "DC1": {"name": {"en": "DC"}, "department": "D1", "kind": "infrastructure"},
        "DC2": {"name": {"en": "DC"}, "department": "D2", "kind": "infrastructure"},
        "M1": {"name": {"en": "M"}, "department": "D2", "kind": "management", "subkind": "security"},
    },
}
# values that do not print exactly in decimal: the bundle must carry them bit for bit
VALUES = [
    ("APP1", "app_takeup", 0.1 + 0.2 + 60),
    ("APP2", "app_takeup", 80 / 3),
    ("APP3", "app_takeup", 71.0),
    ("APP1", "app_wcag", 90.0),
    ("APP2", "app_wcag", 70.0 + 1e-13),
    ("APP3", "app_wcag", 55.5),
    ("DC1", "infra_uptime", 99.9),
    ("DC2", "infra_uptime", 99.95),
    ("M1", "sec_audits", 75.0),
]


def _values(changes: dict[tuple[str, str], float] | None = None) -> list[dict[str, object]]:
    changes = changes or {}
    return [{"object": o, "indicator": i, "value": changes.get((o, i), v)} for o, i, v in VALUES]


def _setup(url: str) -> None:
    init_db(url)
    path = builtin_path("macau")
    with session_scope(url) as s:
        store_framework(s, load_framework(path), path.read_text(encoding="utf-8"))
        load_register(s, REGISTER)
        p22 = ensure_period(s, "2022", date(2022, 1, 1), date(2022, 12, 31))
        add_metric_values(
            s, p22, [{"object": "APP1", "indicator": "app_takeup", "value": 1 / 7}], source_file="a"
        )
        p23 = ensure_period(s, "2023", date(2023, 1, 1), date(2023, 12, 31))
        add_metric_values(s, p23, _values(), source_file="b")


def _score(s: Session, spec_text: str | None = None) -> EvaluationRun:
    import tomllib

    from egov.store import get_period, latest_framework

    row, fw = latest_framework(s)
    spec = parse_spec(tomllib.loads(spec_text)) if spec_text else None
    return score_period(s, row, fw, get_period(s, "2023"), spec).run


@pytest.fixture
def db(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The set-up database on both engines (what touches storage runs on both)."""
    monkeypatch.setenv("EGOV_OPERATOR", "assessor-7")
    reset_settings()
    _setup(db_url)
    yield db_url
    reset_settings()


@pytest.fixture
def sdb(sqlite_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    """The set-up database on SQLite only (for logic that does not depend on the engine);
    also the database of the CLI."""
    monkeypatch.setenv("EGOV_OPERATOR", "assessor-7")
    monkeypatch.setenv("EGOV_DATABASE_URL", sqlite_url)
    monkeypatch.chdir(tmp_path)
    reset_settings()
    _setup(sqlite_url)
    yield sqlite_url
    reset_settings()


def test_rerunning_identical_inputs_is_bit_identical(db: str) -> None:
    with session_scope(db) as s:
        first, second = _score(s), _score(s)
        keys = (first.run_key, second.run_key)
    with session_scope(db) as s:
        a, b = get_run(s, keys[0]), get_run(s, keys[1])
        assert a.run_key != b.run_key
        assert a.results_hash == b.results_hash and a.inputs_hash == b.inputs_hash
        assert a.created_by == b.created_by == "assessor-7"  # from EGOV_OPERATOR
        for kind in ("object", "department"):
            ra = run_scores(s, a, kind).sort_values(["entity", "node"]).reset_index(drop=True)
            rb = run_scores(s, b, kind).sort_values(["entity", "node"]).reset_index(drop=True)
            assert len(ra) > 10
            pd.testing.assert_frame_equal(ra, rb, check_exact=True)  # bit for bit
        d = diff_runs(s, a, b)
    assert d.same_results and d.spec.empty and d.inputs.empty and d.results.empty
    assert d.framework_text == []
    assert set(d.identity.loc[d.identity["differs"], "field"]) <= {"created at"}


def test_the_spec_is_recorded_and_diffed_key_by_key(sdb: str) -> None:
    db = sdb
    spec = '[methods]\nweighting = "equal"\n[indicators.app_takeup]\nnormalisation = "rank"\n'
    with session_scope(db) as s:
        plain, specced = _score(s), _score(s, spec)
        assert specced.spec["methods"]["weighting"] == {"method": "equal"}
        assert specced.spec["indicators"]["app_takeup"]["normalisation"] == {"method": "rank"}
        d = diff_runs(s, plain, specced)
    assert d.spec.to_dict("records") == [
        {"key": "indicators.app_takeup.normalisation.method", "a": None, "b": "rank"},
        {"key": "methods.weighting.method", "a": None, "b": "equal"},
    ]
    assert d.inputs.empty and not d.same_results


def test_diff_names_changed_inputs_and_result_changes(sdb: str) -> None:
    db = sdb
    with session_scope(db) as s:
        before = _score(s)
        from egov.store import get_period

        add_metric_values(
            s,
            get_period(s, "2023"),
            [{"object": "DC1", "indicator": "infra_uptime", "value": 99.1}],
            source_file="fix",
        )
        after = _score(s)
        d = diff_runs(s, before, after)
    assert d.inputs.to_dict("records") == [
        {
            "unit": "DC1",
            "department": "D1",
            "indicator": "infra_uptime",
            "change": "changed",
            "a": 99.9,
            "b": 99.1,
        }
    ]
    row = d.results[(d.results["department"] == "D1") & (d.results["node"] == "infrastructure")].iloc[0]
    assert row["score_b"] < row["score_a"] and row["score_change"] == row["score_b"] - row["score_a"]
    assert d.identity.set_index("field").loc["inputs hash", "differs"]


def test_diff_shows_a_changed_framework(sdb: str) -> None:
    db = sdb
    path = builtin_path("macau")
    text = path.read_text(encoding="utf-8").replace('version = "', 'version = "x', 1)
    with session_scope(db) as s:
        before = _score(s)
        from indicators.framework import parse_framework

        fw = parse_framework(text)
        row = store_framework(s, fw, text)
        from egov.store import get_period

        after = score_period(s, row, fw, get_period(s, "2023")).run
        d = diff_runs(s, before, after)
    ident = d.identity.set_index("field")
    assert ident.loc["framework version", "differs"] and ident.loc["framework hash", "differs"]
    assert any(line.startswith("+") and "version" in line for line in d.framework_text)


# --- bundles --------------------------------------------------------------------------------------
def _bundle(db: str, out: Path) -> tuple[Path, str, str]:
    with session_scope(db) as s:
        run = _score(s)
        path, digest = export_bundle(s, run, out)
        return path, digest, run.results_hash


@pytest.mark.parametrize("name", ["bundle", "bundle.zip"])
def test_bundle_round_trips_without_the_database(db: str, tmp_path: Path, name: str) -> None:
    path, digest, results_hash = _bundle(db, tmp_path / name)
    assert path.is_dir() == (name == "bundle")
    files = read_bundle(path)
    assert {"manifest.json", "framework.toml", "inputs/data.csv", "inputs/history_0.csv"} <= set(files)
    assert {"inputs/units.csv", "results/scores.csv", "README.txt"} <= set(files)
    manifest = json.loads(files[MANIFEST])
    assert manifest["created_by"] == "assessor-7" and manifest["period"]["code"] == "2023"
    assert manifest["results_hash"] == results_hash
    assert set(manifest["files"]) == set(files) - {MANIFEST}
    # exact floats: what the bundle says is what the database held
    lines = files["inputs/data.csv"].decode().splitlines()[1:]
    got = {(u, i): float(v) for u, i, v in (line.split(",") for line in lines)}
    for o, i, v in VALUES:
        assert got[(o, i)] == v  # bit for bit, e.g. 60.300000000000004
    from egov.db import dispose_engines

    dispose_engines()  # verification needs no database at all
    check = verify_bundle(path, digest)
    assert check.ok, check.problems
    assert check.recomputed_results_hash == results_hash


def _reseal(files: dict[str, bytes]) -> None:
    """Make the checksums agree with edited files, as a careful forger would."""
    import hashlib

    manifest = json.loads(files[MANIFEST])
    manifest["files"] = {k: hashlib.sha256(v).hexdigest() for k, v in files.items() if k != MANIFEST}
    manifest["manifest_digest"] = manifest_digest(manifest)
    files[MANIFEST] = json.dumps(manifest, indent=2).encode()


def _edit_csv(name: str, find: str, replace: str) -> Callable[[dict[str, bytes]], None]:
    def edit(files: dict[str, bytes]) -> None:
        text = files[name].decode()
        assert find in text, (find, text[:500])
        files[name] = text.replace(find, replace, 1).encode()

    return edit


def _edit_manifest(key: str, value: object) -> Callable[[dict[str, bytes]], None]:
    def edit(files: dict[str, bytes]) -> None:
        manifest = json.loads(files[MANIFEST])
        manifest[key] = value
        files[MANIFEST] = json.dumps(manifest, indent=2).encode()

    return edit


TAMPERS: dict[str, tuple[Callable[[dict[str, bytes]], None], bool, str]] = {
    # name: (edit, reseal the checksums afterwards, text expected among the problems)
    "input value": (
        _edit_csv("inputs/data.csv", "DC1,infra_uptime,99.9", "DC1,infra_uptime,99.8"),
        False,
        "inputs/data.csv: SHA-256",
    ),
    "input value, resealed": (
        _edit_csv("inputs/data.csv", "DC1,infra_uptime,99.9", "DC1,infra_uptime,99.8"),
        True,
        "recomputing gives results hash",
    ),
    "unit attribute, resealed": (
        _edit_csv("inputs/units.csv", "APP3,application,,D3", "APP3,application,,D1"),
        True,
        "inputs: hash",
    ),
    "result, resealed": (
        _edit_csv("results/scores.csv", "department,D1,egov_index,4,", "department,D1,egov_index,4,1"),
        True,
        "results/scores.csv: department D1 egov_index score",
    ),
    "framework weight, resealed": (
        _edit_csv("framework.toml", "weight = ", "weight = 9"),
        True,
        "framework.toml: content hash",
    ),
    "manifest results hash": (_edit_manifest("results_hash", "0" * 64), False, "manifest_digest"),
    "manifest results hash, resealed": (
        _edit_manifest("results_hash", "0" * 64),
        True,
        "the manifest says 0000",
    ),
    "manifest created_by": (_edit_manifest("created_by", "someone else"), False, "the manifest was edited"),
}


@pytest.fixture(scope="module")
def sealed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """One bundle (SQLite) shared by the tampering tests, which never change it."""
    from egov.db import dispose_engines

    folder = tmp_path_factory.mktemp("sealed")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EGOV_OPERATOR", "assessor-7")
        reset_settings()
        url = f"sqlite:///{folder / 'egov.db'}"
        _setup(url)
        path, digest, _ = _bundle(url, folder / "b.zip")
        dispose_engines()
    reset_settings()
    yield path, digest


@pytest.mark.parametrize("case", list(TAMPERS))
def test_a_tampered_bundle_is_detected(sealed: tuple[Path, str], tmp_path: Path, case: str) -> None:
    edit, reseal, expected = TAMPERS[case]
    path, digest = sealed
    files = read_bundle(path)
    edit(files)
    if reseal:
        _reseal(files)
    forged = tmp_path / "forged.zip"
    with zipfile.ZipFile(forged, "w") as zf:
        for k, v in files.items():
            zf.writestr(k, v)
    check = verify_bundle(forged)
    assert not check.ok
    assert any(expected in p for p in check.problems), check.problems
    # a forgery that touched the manifest (to reseal it, or in it) also fails the published digest
    touched = files[MANIFEST] != read_bundle(path)[MANIFEST]
    assert any("published digest" in p for p in verify_bundle(forged, digest).problems) == touched


def _unzip(zipped: Path, folder: Path) -> Path:
    for name, content in read_bundle(zipped).items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(content)
    return folder


def test_a_resealed_manifest_edit_is_caught_by_the_published_digest(
    sealed: tuple[Path, str], tmp_path: Path
) -> None:
    path, digest = _unzip(sealed[0], tmp_path / "b"), sealed[1]
    assert verify_bundle(path, digest).ok  # a folder and a zip are the same bundle
    files = read_bundle(path)
    _edit_manifest("created_by", "someone else")(files)
    _reseal(files)
    (path / MANIFEST).write_bytes(files[MANIFEST])
    assert verify_bundle(path).ok  # consistent in itself: only the published digest can tell
    check = verify_bundle(path, digest)
    assert check.problems == [f"{MANIFEST}: SHA-256 is {check.digest}, the published digest is {digest}"]


def test_an_extra_or_missing_file_is_reported(sealed: tuple[Path, str], tmp_path: Path) -> None:
    path = _unzip(sealed[0], tmp_path / "b")
    (path / "notes.txt").write_text("added later")
    (path / "README.txt").unlink()
    problems = verify_bundle(path).problems
    assert "notes.txt: in the bundle but not listed in the manifest" in problems
    assert "README.txt: listed in the manifest but missing from the bundle" in problems


def test_cli_runs_diff_export_verify(sdb: str, egov, tmp_path: Path) -> None:
    with session_scope(sdb) as s:
        a, b = _score(s).run_key, _score(s, '[methods]\nweighting = "equal"\n').run_key
        assert s.get(FrameworkVersion, get_run(s, a).framework_id) is not None
    r = egov(["runs", "diff", a, b, "--out", tmp_path / "diff"])
    assert r.code == 0, r.err
    assert "methods.weighting.method" in r.out and "equal" in r.out
    assert (tmp_path / "diff" / "results.csv").exists()
    r = egov(["runs", "export", a, "--out", tmp_path / "a.zip", "--lang", "en"])
    assert r.code == 0, r.err
    digest = r.out.split("report): ")[1].split()[0]
    r = egov(["runs", "verify", tmp_path / "a.zip", "--digest", digest, "--lang", "en"])
    assert r.code == 0 and "VERIFIED" in r.out, r.out + r.err
    r = egov(["runs", "export", a, "--out", tmp_path / "a.zip"])
    assert r.code == 1 and "exists" in r.err
    files = read_bundle(tmp_path / "a.zip")
    _edit_csv("inputs/data.csv", "APP3,app_takeup,71", "APP3,app_takeup,72")(files)
    with zipfile.ZipFile(tmp_path / "t.zip", "w") as zf:
        for k, v in files.items():
            zf.writestr(k, v)
    r = egov(["runs", "verify", tmp_path / "t.zip", "--lang", "en"])
    assert r.code == 1 and "NOT VERIFIED" in r.out and "inputs/data.csv: SHA-256" in r.out


def test_diff_of_a_run_without_stored_inputs_says_so(sdb: str) -> None:
    db = sdb
    from sqlalchemy import text

    with session_scope(db) as s:
        old, new = _score(s), _score(s)
        s.execute(text("DELETE FROM run_input WHERE run_id = :r"), {"r": old.id})
        d = diff_runs(s, old, new)
    assert any("no stored inputs" in n and "cannot be compared" in n for n in d.notes)
    assert d.results.empty and set(d.inputs["change"]) == {"added"}


# --- issue 14: plain numbers in diffs and verification messages --------------------------------
def test_runs_diff_prints_plain_numbers(sdb: str, egov) -> None:
    with session_scope(sdb) as s:
        a = _score(s).run_key
        value = 0.1 * 727  # 72.7 to a person, 72.700000000000003 in %.17g
        add_metric_values(
            s,
            get_period(s, "2023"),
            [{"object": "APP3", "indicator": "app_wcag", "value": value}],
            source_file="c",
        )
        b = _score(s).run_key
    r = egov(["runs", "diff", a, b])
    assert r.code == 0, r.err
    row = next(line for line in r.out.splitlines() if "app_wcag" in line)
    assert "55.5" in row and "72.7" in row and "72.70000" not in row


def test_runs_verify_prints_plain_numbers(sealed: tuple[Path, str], tmp_path: Path) -> None:
    path, _digest = sealed
    files = read_bundle(path)
    _edit_csv("results/scores.csv", "department,D1,egov_index,4,", "department,D1,egov_index,4,1")(files)
    _reseal(files)
    with zipfile.ZipFile(tmp_path / "t.zip", "w") as zf:
        for k, v in files.items():
            zf.writestr(k, v)
    problems = [p for p in verify_bundle(tmp_path / "t.zip").problems if "egov_index score" in p]
    assert problems, verify_bundle(tmp_path / "t.zip").problems
    assert "np.float64" not in problems[0] and "float" not in problems[0]
    bundled, recomputed = (
        problems[0].removesuffix(" recomputed").split(" score is ")[1].split(" in the bundle, ")
    )
    assert re.fullmatch(r"\d+\.\d{1,10}", bundled) and re.fullmatch(r"\d+\.\d{1,11}", recomputed), problems[0]
    assert abs(float(bundled) - (100 + float(recomputed))) < 1e-6


def test_a_run_stored_before_the_tie_tolerance_still_loads(sdb: str, tmp_path: Path) -> None:
    """A run whose results hash was computed with ranks by exact equality (before
    evaluation.rank's tie tolerance) is still verified when recomputed."""
    with session_scope(sdb) as s:
        # APP3's WCAG score 70.0 against APP2's 70.0 + 1e-13: a tie today, two ranks before
        period = get_period(s, "2023")
        add_metric_values(
            s, period, [{"object": "APP3", "indicator": "app_wcag", "value": 70.0}], source_file="tie"
        )
        run = _score(s)
        result = load_result(s, run)
        before = results_hash(reranked(result, rank_exact, by_kind=False))
        assert before != run.results_hash  # the two rules rank this run differently
        # as the software before the tolerance stored it: its hash and its ranks
        run.results_hash = before
        s.add(run)
        legacy = reranked(result, rank_exact, by_kind=False).long()
        changed = legacy[(legacy["rank"] != result.long()["rank"]) & legacy["rank"].notna()]
        _store_ranks(s, run.id, changed)
    with session_scope(sdb) as s:
        stored = get_run(s, run.run_key)
        ranks = load_result(s, stored).ranks["app_wcag"]
        assert ranks["APP2"] == ranks["APP3"]
        # its bundle verifies too, saying which rule its ranks follow
        path, _digest = export_bundle(s, stored, tmp_path / "old.zip")
        check = verify_bundle(path)
        assert check.ok, check.problems
        assert any("before the tie tolerance" in n for n in check.notes)
        stored.results_hash = "0" * 64
        with pytest.raises(EgovError, match="recomputing gives results hash"):
            load_result(s, stored)


def test_a_run_stored_with_objects_ranked_all_together_still_loads(sdb: str, tmp_path: Path) -> None:
    """A run stored before objects were ranked within their kind (a management body ranked
    against applications) still loads and verifies, and so does its bundle."""
    with session_scope(sdb) as s:
        run = _score(s)
        result = load_result(s, run)
        before = reranked(result, rank_desc, by_kind=False)
        assert results_hash(before) != run.results_hash  # the two rules rank the objects differently
        run.results_hash = results_hash(before)
        s.add(run)
        changed = before.long()
        changed = changed[(changed["rank"] != result.long()["rank"]) & changed["rank"].notna()]
        assert len(changed)
        _store_ranks(s, run.id, changed)
    with session_scope(sdb) as s:
        stored = get_run(s, run.run_key)
        load_result(s, stored)  # verifies
        check = verify_bundle(export_bundle(s, stored, tmp_path / "old.zip")[0])
        assert check.ok, check.problems
        assert any("before ranking within kind" in n for n in check.notes)


def _store_ranks(s: Session, run_id: int | None, changed: pd.DataFrame) -> None:
    """Write the ranks of `changed` (rows of EvaluationResult.long()) into a stored run's scores,
    as a run stored under an earlier ranking rule holds them."""
    for kind, entity, node, rank in changed[["entity_type", "entity", "node", "rank"]].to_numpy().tolist():
        s.execute(
            text(
                "UPDATE run_score SET rank = :rank WHERE run_id = :run AND entity_type = :kind "
                "AND entity = :entity AND node = :node"
            ),
            {"rank": int(rank), "run": run_id, "kind": kind, "entity": entity, "node": node},
        )
