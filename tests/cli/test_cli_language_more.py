"""The operational commands speak one language too (issue 14, second part): runs list, diff,
export and verify, cases metrics, ratings purge/export/rollup, framework check, template, import,
metrics history, keys, db init, report, evaluate, serve and synth print their titles, headers and
fixed sentences in Traditional Chinese without --lang (EGOV_LANG's default) and in Portuguese with
--lang pt, and none of the English ones. On a copy of the session's demo (`demo_url`); rich folds
long cells, so the checks look for single words."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from egov.commands.labels import t
from egov.synth import NOTICE as SYNTH_NOTICE
from tests.cli.test_cli_language import english_left
from tests.cli.test_evaluate_cli import FRAMEWORK

MACAU_FILE = Path(__file__).resolve().parents[2] / "indicators" / "frameworks" / "macau.toml"
REGISTER = Path(__file__).resolve().parents[2] / "egov" / "data" / "macau_register.toml"

Args = Callable[[Path], list[object]]
# command → (arguments given a work folder, English words that must be gone, zh-Hant words, pt words)
CASES: dict[str, tuple[Args, list[str], list[str], list[str]]] = {
    "runs list": (
        lambda _: ["runs", "list"],
        ["Evaluation", "runs", "period", "framework", "created", "inputs", "results"],
        ["評估運行", "評估期", "指標框架", "建立時間"],
        ["Execuções", "período", "quadro", "criada"],
    ),
    "cases metrics": (
        lambda _: ["cases", "metrics", "--period", "2023"],
        ["Bad", "cases", "opened", "appeals", "upheld", "removed"],
        ["差評個案", "個案數", "申訴"],
        ["Casos", "negativas", "recursos"],
    ),
    "ratings purge": (
        lambda _: ["ratings", "purge", "--before", "2020-01-01"],
        ["anonymised", "deleted", "before", "today"],
        ["匿名化", "憑證", "今日"],
        ["anonimizada", "apagado", "hoje"],
    ),
    "ratings export": (
        lambda d: ["ratings", "export", "--from", "2023-01-01", "--to", "2023-01-31", "--out", d / "r.csv"],
        ["wrote"],
        ["已寫入"],
        ["escrito"],
    ),
    "ratings rollup": (
        lambda _: ["ratings", "rollup", "--from", "2023-01-01", "--to", "2023-01-31"],
        ["rebuilt", "row"],
        ["已重建", "每日匯總"],
        ["reconstruída", "agregados"],
    ),
    "framework check": (
        lambda _: ["framework", "check", MACAU_FILE],
        ["valid", "framework", "categories"],
        ["有效", "指標框架", "類別", "雜湊值"],
        ["válido", "quadro", "categorias", "indicadores"],
    ),
    "template": (
        lambda d: ["template", "--period", "2023", "--out", d / "t.xlsx"],
        ["wrote", "framework", "period", "objects", "sheets"],
        ["已寫入", "指標框架", "評估期", "評估對象", "工作表"],
        ["escrito", "quadro", "período", "objectos", "folhas"],
    ),
    "import departments": (
        lambda _: ["import", "departments", REGISTER, "--dry-run"],
        ["dry", "valid", "peer", "groups", "departments", "objects", "new", "nothing", "written"],
        ["試行", "有效", "同類組別", "部門", "評估對象", "未寫入"],
        ["simulação", "válido", "grupos", "serviços", "objectos", "novos"],
    ),
    "metrics history": (
        lambda _: ["metrics", "history", "ONE_ACCOUNT", "app_takeup"],
        ["History", "period", "value", "status", "state", "file", "imported", "current"],
        ["歷史記錄", "評估期", "數值", "狀態", "匯入者", "現行"],
        ["Histórico", "período", "valor", "estado", "importado", "actual"],
    ),
    "db init": (
        lambda _: ["db", "init"],
        ["database", "schema", "up", "date"],
        ["資料庫", "結構已是最新"],
        ["base", "esquema", "actualizado"],
    ),
    "report": (
        lambda d: ["report", "latest", "--department", "SAFP", "--out", d / "reports"],
        ["wrote"],
        ["已寫入"],
        ["escrito"],
    ),
}


def _check(out: str, lang: str | None, english: list[str], zh: list[str], pt: list[str]) -> None:
    assert english_left(out, english) == [], out
    assert [w for w in (pt if lang else zh) if w not in out] == [], out


@pytest.mark.slow
@pytest.mark.parametrize("lang", [None, "pt"])
@pytest.mark.parametrize("command", list(CASES))
def test_an_operational_command_speaks_one_language(
    demo_url: str, egov, tmp_path: Path, command: str, lang: str | None
) -> None:
    args, english, zh, pt = CASES[command]
    more = ["--lang", lang] if lang else []
    r = egov([*args(tmp_path), *more])
    assert r.code == 0, r.err
    _check(r.out, lang, english, zh, pt)


def _run_keys(egov) -> list[str]:
    r = egov(["runs", "list", "--lang", "en"])
    assert r.code == 0, r.err
    return re.findall(r"^│ ([0-9a-f]{12}) ", r.out, flags=re.M)


@pytest.mark.slow
@pytest.mark.parametrize("lang", [None, "pt"])
def test_runs_diff_export_and_verify_speak_one_language(
    demo_url: str, egov, tmp_path: Path, lang: str | None
) -> None:
    more = ["--lang", lang] if lang else []
    keys = _run_keys(egov)
    assert len(keys) >= 2, keys
    diff = egov(["runs", "diff", keys[1], keys[0], "--limit", "3", *more])
    assert diff.code == 0, diff.err
    _check(
        diff.out,
        lang,
        ["Identity", "field", "differs", "Spec", "Department", "overall"],
        ["運行", "識別資料", "項目", "不同", "評估期"],
        ["execução", "Identificação", "campo", "difere", "período"],
    )
    exported = egov(["runs", "export", keys[0], "--out", tmp_path / "run.zip", *more])
    assert exported.code == 0, exported.err
    verified = egov(["runs", "verify", tmp_path / "run.zip", *more])
    assert verified.code == 0, verified.err
    _check(
        exported.out + verified.out,
        lang,
        ["wrote", "bundle", "publish", "VERIFIED", "recomputed", "made"],
        ["已寫入資料包", "驗證通過", "雜湊值", "評估期"],
        ["pacote", "VERIFICADO", "recalculado", "período"],
    )


@pytest.mark.slow
@pytest.mark.parametrize("lang", [None, "pt"])
def test_keys_speak_one_language(demo_url: str, egov, lang: str | None) -> None:
    more = ["--lang", lang] if lang else []
    made = egov(["keys", "create", "--role", "assessor", "--label", "x", *more])
    assert made.code == 0, made.err
    listed = egov(["keys", "list", *more])
    key_id = re.search(r"(\d+)", made.out.splitlines()[0])
    assert key_id, made.out
    gone = egov(["keys", "revoke", key_id.group(1), *more])
    assert listed.code == 0 and gone.code == 0, listed.err + gone.err
    out = made.out + listed.out + gone.out
    _check(
        out,
        lang,
        ["key", "shown", "once", "store", "prefix", "role", "created"],
        ["金鑰", "只顯示一次", "前綴", "角色", "撤銷時間", "已撤銷"],
        ["chave", "mostrada", "prefixo", "papel", "revogada"],
    )


@pytest.mark.parametrize("lang", [None, "pt"])
def test_evaluate_speaks_one_language(egov, tmp_path: Path, lang: str | None) -> None:
    fw, data = tmp_path / "tiny.toml", tmp_path / "d.csv"
    fw.write_text(FRAMEWORK, encoding="utf-8")
    data.write_text("unit,x,y,z\nu1,10,5,25\nu2,20,1,60\nu3,,,\n", encoding="utf-8")
    r = egov(["evaluate", fw, data, "--out", tmp_path / "o", *(["--lang", lang] if lang else [])])
    assert r.code == 0, r.err
    _check(
        r.out,
        lang,
        ["scored", "units", "indicators", "top", "not", "results", "written"],
        ["已評分", "個單位", "個指標", "未評分", "結果已寫入"],
        ["unidades", "pontuadas", "indicadores", "primeiras", "sem", "resultados", "escritos"],
    )


@pytest.mark.parametrize("lang", [None, "pt"])
def test_serve_and_synth_refuse_in_the_chosen_language(egov, lang: str | None) -> None:
    more = ["--lang", lang] if lang else []
    serve = egov(["serve", "--workers", "0", *more])
    synth = egov(["synth", "--scale", "planet", "--seed", "1", *more])
    assert serve.code == 1 and synth.code == 1
    said = lang or "zh-Hant"
    assert t("cli.serve.workers", said) in serve.err
    assert t("cli.synth.bad_scale", said, scale="planet", scales="city, province, nation") in synth.err


def test_the_synthetic_notice_in_english_is_the_library_s() -> None:
    assert t("cli.synth.notice", "en") == SYNTH_NOTICE
