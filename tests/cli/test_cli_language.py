"""The analysis commands speak one language (issue 14): without --lang they print every title,
column header and fixed sentence in Traditional Chinese (EGOV_LANG's default), with --lang pt in
Portuguese, and none of the English ones. On the session's demo (a copy per test, `demo_url`).
Rich folds long cells over lines, so the checks look for single words, not whole cells."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from reports.i18n import t

# command → (arguments, English words that must be gone, zh-Hant words, pt words)
CASES: dict[str, tuple[list[str], list[str], list[str], list[str]]] = {
    "compare": (
        ["compare", "SAFP", "DSI", "--top", "4"],
        ["node", "name", "score", "Indicators", "differ", "run"],
        ["節點", "名稱", "分數（排名）", "差異最大的指標", "運行"],
        ["nó", "nome", "pontuação", "Indicadores", "diferem", "execução"],
    ),
    "gaps": (
        ["gaps", "SAFP", "--n", "3"],
        ["Gaps", "median", "best", "Strengths", "weakness", "percentile", "learn"],
        ["差距", "中位數", "最佳", "優勢", "弱項", "百分位", "借鑑"],
        ["Distâncias", "mediana", "melhor", "fortes", "fraco", "percentil", "aprender"],
    ),
    "priorities": (
        ["priorities", "SAFP", "--top", "5"],
        ["Improvement", "priorities", "median", "gain", "step", "rank"],
        ["改善優先次序", "中位數", "新分數", "排名"],
        ["Prioridades", "mediana", "ganho", "passo", "posição"],
    ),
    "change": (
        ["change", "--department", "SAFP", "--top", "3"],
        ["Change", "period", "before", "residual", "contributions", "scale"],
        ["變化", "評估期", "殘差", "貢獻", "共同尺度"],
        ["Variação", "período", "resíduo", "contribuição", "escala"],
    ),
    "framework show": (
        ["framework", "show"],
        ["weight", "effective", "direction", "method", "indicators", "hours"],
        ["權重", "有效權重", "方向", "方法", "個指標", "小時"],
        ["peso", "efectivo", "sentido", "método", "indicadores", "horas"],
    ),
    "runs show": (
        ["runs", "show"],
        ["created", "inputs", "Overall", "department", "coverage", "not"],
        ["建立", "部門總排名", "部門", "不參與總排名"],
        ["criada", "Classificação", "serviço", "cobertura", "sem"],
    ),
    "ratings compare": (
        ["ratings", "compare", "--period", "2023", "--limit", "5"],
        ["note", "ratings", "across", "differ", "Pairs", "mean", "size", "small"],
        ["注意", "評價", "分佈", "兩兩比較", "平均", "效應大小"],
        ["nota", "avaliações", "distribuições", "Pares", "média", "magnitude"],
    ),
    "uncertainty": (
        ["uncertainty", "--n", "20", "--sensitivity-n", "10"],
        ["ILLUSTRATIVE", "replications", "Rank", "uncertainty", "median", "tier", "Sensitivity", "wrote"],
        ["示範資料", "模擬", "排名不確定性", "排名中位數", "等級", "敏感度", "已寫入"],
        ["ilustrativos", "réplicas", "Incerteza", "mediana", "escalão", "Sensibilidade", "escritos"],
    ),
}


def english_left(out: str, words: list[str]) -> list[str]:
    """The English words among `words` that `out` still holds as words (codes such as
    app_score hold no word "score")."""
    return [w for w in words if re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", out)]


@pytest.mark.slow
@pytest.mark.parametrize("lang", [None, "pt"])
@pytest.mark.parametrize("command", list(CASES))
def test_a_command_speaks_one_language(
    demo_url: str, egov, tmp_path: Path, command: str, lang: str | None
) -> None:
    args, english, zh, pt = CASES[command]
    args = [*args, "--out", str(tmp_path / "out")] if command == "uncertainty" else list(args)
    r = egov([*args, "--lang", lang] if lang else args)
    assert r.code == 0, r.err
    assert english_left(r.out, english) == [], r.out
    missing = [w for w in (pt if lang else zh) if w not in r.out]
    assert missing == [], r.out


@pytest.mark.slow
@pytest.mark.parametrize("lang", [None, "pt"])
def test_calendar_add_and_remove_speak_one_language(demo_url: str, egov, lang: str | None) -> None:
    more = ["--lang", lang] if lang else []
    r = egov(["calendar", "add", "2026-09-15", "--type", "closure", "--source", "SMG", *more])
    assert r.code == 0, r.err
    gone = egov(["calendar", "remove", "2026-09-15", *more])
    assert gone.code == 0, gone.err
    out = r.out + gone.out
    assert english_left(out, ["added", "removed", "calendar", "closure"]) == [], out
    words = (
        ["acrescentado", "retirado", "calendário", "Encerramento"]
        if lang
        else ["加入日曆", "刪除", "停止辦公"]
    )
    assert [w for w in words if w not in out] == [], out


@pytest.mark.slow
@pytest.mark.parametrize("lang", [None, "en"])
def test_uncertainty_says_why_a_department_has_no_rank_interval(
    demo_url: str, egov, tmp_path: Path, lang: str | None
) -> None:
    # the coverage rule leaves some demo departments out of the overall ranking: their interval
    # cell says so, as `egov rank` does, instead of "—"
    args = ["uncertainty", "--n", "20", "--sensitivity-n", "0", "--out", tmp_path / "u"]
    r = egov([*args, "--lang", lang] if lang else args)
    assert r.code == 0, r.err
    summary = pd.read_csv(tmp_path / "u" / "uncertainty_summary.csv", index_col="entity")
    unranked = summary.index[summary["nominal_rank"].isna() & summary["nominal_score"].notna()]
    assert len(unranked) > 0
    # the first words of t("rank.not_ranked_overall", lang), which a folded cell keeps on its first line
    marker = {None: "不參與總排名", "en": "not ranked overall"}[lang]
    assert t("rank.not_ranked_overall", lang or "zh-Hant", n=1, total=3).startswith(marker)
    for dept in unranked:
        (line,) = [x for x in r.out.splitlines() if f"│ {dept} " in x]
        assert marker in line, line
    assert sum(marker in x for x in r.out.splitlines()) == len(unranked), r.out
