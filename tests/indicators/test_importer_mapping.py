"""Importing indicator tables that are not COINr-shaped: column mapping, codes as the first
word of a column, parents derived from hierarchical codes, a separate structure table, and
Min/Max goalposts (the DESI metadata sheet is such a table)."""

from __future__ import annotations

from pathlib import Path

import pytest

from egov.errors import EgovError
from indicators.importer import import_table, parent_from_code

# an assessor's list: the code is the first word of "Indicator", the parent is implicit
LIST = [
    "No,Indicator,Definition,Unit of measure,Source,Min,Max,Direction,Weight",
    "1,1a1 Basic skills,Share with basic skills,% people,Eurostat,0,1,1,2",  # 2
    "2,1a2 Above basic skills,Share above basic,% people,Eurostat,0,0.66,1,1",  # 3
    "3,1b1 ICT specialists,Share of employment,% employed,LFS,0,0.1,1,1",  # 4
    "4,2a1 Fixed take-up,Households subscribing,% households,Eurostat,0.5,1,1,1",  # 5
]
STRUCTURE = [
    "code,name,parent,weight",
    "IDX,Test index,,1",  # 2
    "1,Human capital,IDX,0.5",  # 3
    "1a,Internet user skills,1,0.5",  # 4
    "1b,Advanced skills,1,0.5",  # 5
    "2,Connectivity,IDX,0.5",  # 6
    "2a,Fixed broadband,2,1",  # 7
]
MAP = {"columns": {"code": "Indicator", "source": ""}, "code_first_word": True, "parents_from_code": True}


def write(tmp_path: Path, lines: list[str], name: str) -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def problems(**kwargs: object) -> list[str]:
    path = kwargs.pop("path")
    with pytest.raises(EgovError) as info:
        import_table(path, **kwargs)  # type: ignore[arg-type]
    return info.value.problems


@pytest.mark.parametrize(
    ("code", "parent"),
    [("1a1", "1a"), ("1a", "1"), ("1", None), ("2.3.1", "2.3"), ("A-12", "A"), ("ICT", None), ("x_1", "x")],
)
def test_parent_from_code(code: str, parent: str | None) -> None:
    assert parent_from_code(code) == parent


def test_list_with_a_structure_table(tmp_path: Path) -> None:
    table = write(tmp_path, LIST, "list.csv")
    report = import_table(table, structure=write(tmp_path, STRUCTURE, "structure.csv"), **MAP)  # type: ignore[arg-type]
    fw = report.framework
    assert fw.index_code == "IDX"
    assert [n.code for n in fw.indicators] == ["1a1", "1a2", "1b1", "2a1"]
    node = fw.nodes["1a1"]
    assert (node.parent, node.name["en"], node.unit, node.weight) == ("1a", "Basic skills", "% people", 2)
    assert node.description == "Share with basic skills"
    assert node.source == "metric"
    assert node.methods["normalisation"] == {
        "method": "goalposts",
        "min": 0.0,
        "max": 1.0,
        "clip": True,
        "scale": 100.0,
    }
    assert fw.nodes["1a"].name["en"] == "Internet user skills" and fw.nodes["1"].parent == "IDX"
    assert fw.effective_weights()["2a1"] == pytest.approx(0.5)
    assert any(n.startswith("columns not read: No") for n in report.notes)


def test_no_clip(tmp_path: Path) -> None:
    fw = import_table(
        write(tmp_path, LIST, "list.csv"),
        structure=write(tmp_path, STRUCTURE, "structure.csv"),
        goalposts_clip=False,
        **MAP,  # type: ignore[arg-type]
    ).framework
    assert all(n.methods["normalisation"]["clip"] is False for n in fw.indicators)


def test_aggregates_created_from_the_codes(tmp_path: Path) -> None:
    report = import_table(write(tmp_path, LIST, "list.csv"), index_code="Index", **MAP)  # type: ignore[arg-type]
    fw = report.framework
    assert fw.index_code == "Index"
    assert fw.nodes["1a"].parent == "1" and fw.nodes["1"].parent == "Index"
    assert fw.nodes["1a"].name["en"] == "1a"
    created = next(n for n in report.notes if n.startswith("created"))
    assert "1a, 1, Index, 1b, 2a, 2" in created


def test_without_an_index_code_one_segment_codes_are_roots(tmp_path: Path) -> None:
    found = problems(path=write(tmp_path, LIST, "list.csv"), **MAP)
    assert found == [
        "list.csv: exactly one row must have no parent (the index); found '1' (derived from the codes), '2' (derived from the codes)"
    ]


def test_name_column_wins_over_the_rest_of_the_code(tmp_path: Path) -> None:
    lines = ["Indicator,Label,Parent,Direction,Unit", "1a1 long words,Short,1a,1,%", "1a,Dim,Top,1,"]
    lines += ["x1,Other,1a,1,%", "Top,Top,,1,"]
    fw = import_table(
        write(tmp_path, lines, "t.csv"), columns={"code": "Indicator", "name": "Label"}, code_first_word=True
    ).framework
    assert fw.nodes["1a1"].name["en"] == "Short"


def test_source_column_that_is_a_data_provider(tmp_path: Path) -> None:
    kwargs = dict(MAP, columns={"code": "Indicator"})
    found = problems(
        path=write(tmp_path, LIST, "list.csv"), structure=write(tmp_path, STRUCTURE, "s.csv"), **kwargs
    )
    assert len(found) == 1
    assert found[0].startswith("list.csv line 2: column 'Source' holds 'Eurostat'")
    assert "--column source=" in found[0]


def test_unknown_field_and_missing_column(tmp_path: Path) -> None:
    found = problems(
        path=write(tmp_path, LIST, "list.csv"),
        columns={"kode": "Indicator", "code": "Nope"},
        parents_from_code=True,
    )
    assert found[0].startswith("list.csv: unknown field 'kode' (known: code, name, parent")
    assert found[1].startswith("list.csv: no column 'Nope' to read 'code' from (columns: No, Indicator,")
    assert found[2] == "list.csv: missing column 'code' (or its COINr name)"


def test_mapping_is_case_insensitive(tmp_path: Path) -> None:
    fw = import_table(
        write(tmp_path, LIST, "list.csv"),
        structure=write(tmp_path, STRUCTURE, "s.csv"),
        **dict(MAP, columns={"code": "indicator", "source": ""}),  # type: ignore[arg-type]
    ).framework
    assert "2a1" in fw.nodes


def test_duplicate_between_the_table_and_the_structure(tmp_path: Path) -> None:
    structure = [*STRUCTURE, "1a1,Again,1a,1"]
    found = problems(
        path=write(tmp_path, LIST, "list.csv"), structure=write(tmp_path, structure, "s.csv"), **MAP
    )
    assert found == ["s.csv line 8: duplicate code '1a1' (first on list.csv line 2)"]


def test_structure_needs_codes_and_parents(tmp_path: Path) -> None:
    found = problems(
        path=write(tmp_path, LIST, "list.csv"),
        structure=write(tmp_path, ["name,weight", "x,1"], "s.csv"),
        columns={"code": "Indicator", "parent": "No"},
    )
    assert found == [
        "s.csv: missing column 'code' (or its COINr name)",
        "s.csv: missing column 'parent' (or its COINr name)",
    ]


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (
            "5,2a2 Half,Half,%,E,0.5,,1,1",
            "list.csv line 6: goalposts need two numbers, min and max (found 0.5, None)",
        ),
        (
            "5,2a2 Half,Half,%,E,low,1,1,1",
            "list.csv line 6: goalposts need two numbers, min and max (found 'low', 1.0)",
        ),
        (
            "5,2a2 Upside,Upside,%,E,1,0,1,1",
            "list.csv line 6 (2a2): must be greater than min (use direction = -1 to reverse)",
        ),
    ],
)
def test_bad_goalposts(tmp_path: Path, row: str, expected: str) -> None:
    table = write(tmp_path, [*LIST, row], "list.csv")
    found = problems(path=table, structure=write(tmp_path, STRUCTURE, "s.csv"), **MAP)
    assert any(expected in p for p in found), found


def test_goalposts_on_an_aggregate(tmp_path: Path) -> None:
    structure = ["code,name,parent,weight,min,max", *(f"{r},," for r in STRUCTURE[1:])]
    structure[4] = "1b,Advanced skills,1,0.5,0,1"
    found = problems(
        path=write(tmp_path, LIST, "list.csv"), structure=write(tmp_path, structure, "s.csv"), **MAP
    )
    assert found == ["s.csv line 5: goalposts (min, max) are given for the aggregate '1b'"]


def test_cli_import_with_mapping(tmp_path: Path, egov) -> None:
    out = tmp_path / "fw.toml"
    table, structure = write(tmp_path, LIST, "list.csv"), write(tmp_path, STRUCTURE, "s.csv")
    args = ["--column", "code=Indicator", "--column", "source=", "--code-first-word", "--parents-from-code"]
    done = egov(
        [
            "framework",
            "import",
            table,
            *args,
            "--structure",
            structure,
            "--no-clip",
            "--out",
            out,
            "--lang",
            "en",
        ]
    )
    assert done.code == 0, done.err + done.out
    assert "2 categories, 4 indicators" in done.out
    assert "clip = false" in out.read_text(encoding="utf-8")
    bad = egov(["framework", "import", table, "--column", "code", "--out", out])
    assert bad.code == 1
    assert "--column 'code': write FIELD=COLUMN" in bad.err + bad.out
