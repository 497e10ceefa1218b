"""Every label, heading and chart title of the reports in Traditional Chinese (the default),
Portuguese and English.

`t(key, lang)` looks a key up; `t(key, lang, n=3)` also fills ``{n}`` placeholders. A key
missing from the table is a programming error (KeyError), so a test can check that every
key has all three languages. Modules that need their own labels add them once at import time
with `add({...})` instead of editing this table.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from egov.errors import EgovError
from egov.langs import LANGUAGES, UNITS, unit_name

LANGS: tuple[str, ...] = LANGUAGES
__all__ = ["LANGS", "UNITS", "add", "check_lang", "t", "unit_label", "value_text"]
DEFAULT_LANG = "zh-Hant"

# key -> (zh-Hant, pt, en)
_ROWS: dict[str, tuple[str, str, str]] = {
    # --- report titles, banners, general words
    "report.assessor.title": (
        "電子政務績效評估報告（評估人員）",
        "Relatório de avaliação do governo electrónico (avaliadores)",
        "E-government evaluation report (assessors)",
    ),
    "report.department.title": ("部門績效報告", "Relatório do serviço", "Department report"),
    "report.demo_banner": (
        "示範資料：本報告的數值為合成的示範資料，並非真實評估結果。",
        "Dados ilustrativos de demonstração: os valores deste relatório são sintéticos e não são resultados reais.",
        "Illustrative demo data: the values in this report are synthetic, not real evaluation results.",
    ),
    "report.generated": ("產生時間", "Gerado em", "Generated"),
    "report.contents": ("目錄", "Índice", "Contents"),
    "report.not_available": (
        "此部分暫不可用",
        "Esta secção não está disponível",
        "This section is not available",
    ),
    "rank.not_ranked_overall": (
        "不參與總排名：僅在 {total} 個類別中的 {n} 個有評分",
        "sem posição na classificação geral: avaliado em {n} de {total} categorias",
        "not ranked overall: scored on {n} of {total} categories",
    ),
    "rank.coverage": ("覆蓋類別", "Categorias avaliadas", "Categories scored"),
    "rank.interval": (
        "排名區間（第5至第95百分位）",
        "Intervalo de posições (percentis 5 a 95)",
        "Rank interval (5th to 95th percentile)",
    ),
    "rank.interval_note": (
        "以蒙地卡羅模擬（{n} 次，隨機種子 {seed}，與評估機構報告相同）估計：點為分數，橫線為模擬分數的第5至第95百分位；未納入整體排名的部門沒有排名，亦沒有區間。",
        "Por simulação de Monte Carlo ({n} réplicas, semente {seed}, as do relatório do avaliador): o ponto é a pontuação, a barra vai do percentil 5 ao 95 da pontuação simulada; um serviço fora da classificação geral não tem posição nem intervalo.",
        "From a Monte Carlo simulation ({n} replications, seed {seed}, as in the assessor's report): the dot is the score, the bar runs from the 5th to the 95th percentile of the simulated score; a department not ranked overall has no rank and no interval.",
    ),
    "report.no_data": ("沒有資料", "Sem dados", "No data"),
    "report.none": ("無", "Nenhum", "None"),
    "report.yes": ("是", "Sim", "Yes"),
    "report.no": ("否", "Não", "No"),
    "report.chart_fallback": (
        "（圖表需要啟用 JavaScript）",
        "(o gráfico precisa de JavaScript)",
        "(the chart needs JavaScript)",
    ),
    "report.table_of": ("資料表", "Tabela", "Table"),
    # --- run and methodology
    "run.title": ("評估運行", "Execução da avaliação", "Evaluation run"),
    "run.id": ("運行編號", "Execução n.º", "Run"),
    "run.period": ("評估期", "Período", "Period"),
    "run.created": ("建立時間", "Criada em", "Created"),
    "run.created_by": ("建立者", "Criada por", "Created by"),
    "run.note": ("備註", "Nota", "Note"),
    "run.inputs_hash": ("輸入雜湊值", "Hash dos dados", "Inputs hash"),
    "run.results_hash": ("結果雜湊值", "Hash dos resultados", "Results hash"),
    "run.software": ("軟件版本", "Versão do software", "Software version"),
    "method.title": ("方法說明", "Metodologia", "Methodology"),
    "method.framework": ("指標框架", "Quadro de indicadores", "Framework"),
    "method.framework_code": ("框架代碼", "Código do quadro", "Framework code"),
    "method.framework_version": ("框架版本", "Versão do quadro", "Framework version"),
    "method.framework_hash": ("框架雜湊值", "Hash do quadro", "Framework hash"),
    "method.trend_scale": (
        "跨期比較的尺度",
        "Escala das comparações entre períodos",
        "Scale of comparisons between periods",
    ),
    "method.trend_scale.pooled": (
        "共同尺度：指標體系設有固定上下限的指標按該上下限標準化，其餘指標按所比較各期數值合併後的最小值和最大值（min-max）標準化，再以各期權重匯總及排名。",
        "Escala comum: os indicadores com limites fixos no quadro são normalizados por esses limites, os restantes por min-max sobre os valores de todos os períodos comparados em conjunto; depois agregados com os pesos de cada período e ordenados.",
        "One common scale: indicators with fixed goalposts in the framework are normalised by them, the others by min-max over the pooled values of all periods compared; then aggregated with each period's weights and ranked.",
    ),
    "method.trend_scale.goalposts": (
        "共同尺度：每個指標都按指標體系設定的固定上下限標準化，各期得分可直接比較。",
        "Escala comum: cada indicador é normalizado pelos limites fixos do quadro, pelo que as pontuações dos períodos são directamente comparáveis.",
        "One common scale: every indicator is normalised by the framework's fixed goalposts, so the periods' scores compare directly.",
    ),
    "trend.note": (
        "各期按同一尺度重新計分及排名（見「方法說明」），因此與各期公佈的得分及排名可能不同。",
        "Os períodos são pontuados e ordenados de novo numa escala comum (ver «Metodologia»); por isso podem diferir das pontuações e posições publicadas de cada período.",
        "The periods are scored and ranked again on one common scale (see Methodology); so they can differ from each period's published scores and ranks.",
    ),
    "trend.left_out": (
        "以其他版本的指標體系或方法評估的期間沒有共同尺度，未列入趨勢：{periods}。",
        "Períodos avaliados com outra versão do quadro ou outro método não têm escala comum e ficam fora da evolução: {periods}.",
        "Periods evaluated with another framework version or method have no common scale and are left out of the trend: {periods}.",
    ),
    "method.stages": ("各階段方法", "Métodos por etapa", "Methods per stage"),
    "method.stage": ("階段", "Etapa", "Stage"),
    "method.method": ("方法", "Método", "Method"),
    "method.parameters": ("參數", "Parâmetros", "Parameters"),
    "method.node_methods": ("節點專用方法", "Métodos próprios dos nós", "Methods set on nodes"),
    "method.weights": ("權重及有效權重", "Pesos e pesos efectivos", "Weights and effective weights"),
    "method.coverage": ("資料覆蓋", "Cobertura dos dados", "Data coverage"),
    "method.flags": ("資料處理標記", "Marcas de tratamento dos dados", "Data flags"),
    "method.warnings": ("警告", "Avisos", "Warnings"),
    "method.n_units": ("評估對象數", "Objectos avaliados", "Assessed objects"),
    "method.n_departments": ("部門數", "Serviços", "Departments"),
    "method.n_indicators": ("指標數", "Indicadores", "Indicators"),
    "method.n_values": ("原始數值", "Valores brutos", "Raw values"),
    "method.n_applicable": ("適用的數值格", "Células aplicáveis", "Applicable cells"),
    "method.n_missing": ("缺失數值", "Valores em falta", "Missing values"),
    "method.coverage_share": ("覆蓋率", "Cobertura", "Coverage"),
    "method.n_imputed": ("插補數值", "Valores imputados", "Imputed values"),
    "method.n_treated": ("處理（離群值）數值", "Valores tratados (atípicos)", "Treated (outlier) values"),
    "method.n_screened": (
        "因資料不足而剔除的對象",
        "Objectos excluídos por falta de dados",
        "Units screened out for missing data",
    ),
    "method.stage.denomination": ("分母調整", "Denominação", "Denomination"),
    "method.stage.imputation": ("缺失值插補", "Imputação", "Imputation"),
    "method.stage.treatment": ("離群值處理", "Tratamento de atípicos", "Outlier treatment"),
    "method.stage.normalisation": ("標準化", "Normalização", "Normalisation"),
    "method.stage.weighting": ("加權", "Ponderação", "Weighting"),
    "method.stage.aggregation": ("匯總", "Agregação", "Aggregation"),
    "method.stage.rollup": (
        "由對象匯總至部門",
        "Agregação dos objectos ao serviço",
        "Roll-up from objects to departments",
    ),
    "method.stage.screening": ("篩選", "Triagem", "Screening"),
    "method.stage.ranking": ("排名", "Ordenação", "Ranking"),
    # --- tables and columns
    "col.rank": ("排名", "Posição", "Rank"),
    "col.score": ("分數", "Pontuação", "Score"),
    "col.department": ("部門", "Serviço", "Department"),
    "col.department_code": ("部門代碼", "Código do serviço", "Department code"),
    "col.object": ("評估對象", "Objecto avaliado", "Assessed object"),
    "col.object_code": ("對象代碼", "Código do objecto", "Object code"),
    "col.category": ("類別", "Categoria", "Category"),
    "col.dimension": ("維度", "Dimensão", "Dimension"),
    "col.indicator": ("指標", "Indicador", "Indicator"),
    "col.code": ("代碼", "Código", "Code"),
    "col.name": ("名稱", "Nome", "Name"),
    "col.level": ("層級", "Nível", "Level"),
    "col.weight": ("權重", "Peso", "Weight"),
    "col.effective_weight": ("有效權重", "Peso efectivo", "Effective weight"),
    "col.direction": ("方向", "Sentido", "Direction"),
    "col.unit": ("單位", "Unidade", "Unit"),
    "col.raw": ("原始值", "Valor bruto", "Raw value"),
    "col.value": ("數值", "Valor", "Value"),
    "col.normalised": ("標準化值", "Valor normalizado", "Normalised value"),
    "col.imputed": ("已插補", "Imputado", "Imputed"),
    "col.treated": ("已處理", "Tratado", "Treated"),
    "col.flag": ("標記", "Marca", "Flag"),
    "col.source_file": ("來源檔案", "Ficheiro de origem", "Source file"),
    "col.source_hash": ("來源檔案雜湊值", "Hash do ficheiro", "Source file hash"),
    "col.sheet": ("工作表", "Folha", "Sheet"),
    "col.cell": ("儲存格", "Célula", "Cell"),
    "col.importer": ("匯入者", "Importado por", "Imported by"),
    "col.imported_at": ("匯入時間", "Importado em", "Imported at"),
    "col.status": ("狀態", "Estado", "Status"),
    "col.peer_group": ("同類組別", "Grupo de pares", "Peer group"),
    "col.peer_rank": ("同類組別排名", "Posição no grupo de pares", "Peer-group rank"),
    "col.rank_p05": ("排名第5百分位", "Posição (percentil 5)", "Rank 5th percentile"),
    "col.rank_p95": ("排名第95百分位", "Posição (percentil 95)", "Rank 95th percentile"),
    "col.score_p05": ("分數第5百分位", "Pontuação (percentil 5)", "Score 5th percentile"),
    "col.score_p95": ("分數第95百分位", "Pontuação (percentil 95)", "Score 95th percentile"),
    "col.rank_median": ("排名中位數", "Posição mediana", "Median rank"),
    "col.tier": ("等級", "Escalão", "Tier"),
    "col.stage": ("階段", "Etapa", "Stage"),
    "col.message": ("訊息", "Mensagem", "Message"),
    "col.count": ("數目", "Número", "Count"),
    "col.item": ("項目", "Item", "Item"),
    "col.period": ("評估期", "Período", "Period"),
    "col.n_ratings": ("評價數目", "Número de avaliações", "Number of ratings"),
    "col.share_satisfied": ("滿意比例", "Proporção de satisfeitos", "Share satisfied"),
    # --- sections of the assessor's report
    "sec.overall": ("整體排名", "Classificação geral", "Overall ranking"),
    "sec.categories": ("類別排名", "Classificação por categoria", "Rankings by category"),
    "sec.uncertainty": ("排名的不確定性", "Incerteza das posições", "Rank uncertainty"),
    "sec.uncertainty_note": (
        "以蒙地卡羅模擬（{n} 次，隨機種子 {seed}）估計不確定性：點為引擎的分數，橫線為模擬分數的第5至第95百分位；表中列出排名區間。",
        "Incerteza por simulação de Monte Carlo ({n} réplicas, semente {seed}): o ponto é a pontuação do motor, a barra vai do percentil 5 ao 95 da pontuação simulada; a tabela dá os intervalos de posição.",
        "Uncertainty from a Monte Carlo simulation ({n} replications, seed {seed}): the dot is the engine's score, the bar runs from the 5th to the 95th percentile of the simulated score; the table gives the rank intervals.",
    ),
    "sec.heatmap": ("指標概覽", "Panorama dos indicadores", "Indicator overview"),
    "heatmap.many_groups": (
        "共 {n} 個部門，一張熱圖無法清楚顯示：先列出各同類組別的中位數，再列出總排名最前及最後各 {k} 個部門；所有部門的數值見工作簿。",
        "{n} serviços são demasiados para um mapa legível: primeiro a mediana de cada grupo de pares, depois os {k} primeiros e os {k} últimos da classificação geral; os valores de todos os serviços estão no livro Excel.",
        "{n} departments are too many for one readable heat map: first the median of each peer group, then the {k} best and the {k} worst departments overall; every department's values are in the workbook.",
    ),
    "heatmap.many_bands": (
        "共 {n} 個部門，一張熱圖無法清楚顯示：先列出各排名區段的中位數，再列出總排名最前及最後各 {k} 個部門；所有部門的數值見工作簿。",
        "{n} serviços são demasiados para um mapa legível: primeiro a mediana de cada faixa da classificação geral, depois os {k} primeiros e os {k} últimos; os valores de todos os serviços estão no livro Excel.",
        "{n} departments are too many for one readable heat map: first the median of each band of the overall ranking, then the {k} best and the {k} worst departments overall; every department's values are in the workbook.",
    ),
    "heatmap.group_label": ("{name}（{n} 個部門）", "{name} ({n} serviços)", "{name} ({n} departments)"),
    "heatmap.band": ("第 {a}–{b} 名", "posições {a}–{b}", "ranks {a}–{b}"),
    "heatmap.no_group": ("無同類組別", "sem grupo de pares", "no peer group"),
    "heatmap.unranked": ("未列入總排名", "fora da classificação geral", "not ranked overall"),
    "chart.heatmap.groups_title": (
        "指標標準化值的中位數（組別 × 指標）",
        "Mediana dos valores normalizados (grupos × indicadores)",
        "Median normalised indicator values (groups × indicators)",
    ),
    "chart.heatmap.ends_title": (
        "指標標準化值：總排名最前及最後各 {k} 個部門",
        "Valores normalizados: os {k} primeiros e os {k} últimos serviços",
        "Normalised indicator values: the {k} best and the {k} worst departments",
    ),
    "chart.funnel.sampled": (
        "共 {n} 個對象：顯示 {shown} 個，包括所有在 95% 界限以外的 {outside} 個，其餘按評價數量平均抽取；界限按全部對象計算。",
        "{n} objectos: {shown} mostrados, incluindo os {outside} fora dos limites de 95 %, os outros espaçados pelo número de avaliações; os limites usam todos.",
        "{n} objects: {shown} shown, including all {outside} outside the 95 % limits, the others evenly spaced by number of ratings; the limits use them all.",
    ),
    "chart.many": (
        "共 {n} 個部門：圖表只顯示總排名最前及最後各 {k} 個部門；下表列出所有部門。",
        "{n} serviços: o gráfico mostra os {k} primeiros e os {k} últimos da classificação geral; a tabela lista todos.",
        "{n} departments: the chart shows the {k} best and the {k} worst ranked overall; the table lists them all.",
    ),
    "sec.framework": (
        "指標框架及有效權重",
        "Quadro de indicadores e pesos efectivos",
        "Framework and effective weights",
    ),
    "sec.coherence": ("統計一致性分析", "Análise de coerência estatística", "Statistical coherence analysis"),
    "sec.coherence_alpha": ("Cronbach α", "Alfa de Cronbach", "Cronbach's alpha"),
    "sec.coherence_pca": (
        "第一主成分解釋的變異",
        "Variância explicada pela 1.ª componente",
        "Variance explained by the first component",
    ),
    "sec.coherence_flags": ("一致性標記", "Marcas de coerência", "Coherence flags"),
    "sec.coherence_corr": (
        "與上層的相關係數",
        "Correlação com o nível superior",
        "Correlation with the parent",
    ),
    "sec.trend": ("跨期趨勢", "Evolução entre períodos", "Trend across periods"),
    "sec.ratings": ("市民評價", "Avaliações dos cidadãos", "Citizen ratings"),
    "sec.funnel_note": (
        "漏斗圖：各對象的滿意比例與評價數目；虛線為整體比例的95%及99.8%控制界限。",
        "Gráfico de funil: proporção de satisfeitos por objecto contra o número de avaliações; linhas de controlo de 95 % e 99,8 % em torno da proporção global.",
        "Funnel plot: share satisfied per object against the number of ratings; 95 % and 99.8 % control limits around the overall share.",
    ),
    # --- charts
    "chart.ranking.title": (
        "部門整體排名",
        "Classificação geral dos serviços",
        "Overall ranking of departments",
    ),
    "chart.ranking.subtitle": (
        "點：分數；橫線：蒙地卡羅模擬分數的第5至第95百分位",
        "Ponto: pontuação; barra: percentis 5 a 95 da pontuação simulada (Monte Carlo)",
        "Dot: score; bar: 5th to 95th percentile of the simulated (Monte Carlo) score",
    ),
    "chart.reader": ("本部門", "O seu serviço", "Your department"),
    "chart.others": ("其他部門", "Outros serviços", "Other departments"),
    "chart.missing": ("缺失（無資料）", "Em falta (sem dados)", "Missing (no data)"),
    "chart.series": ("部門及參照值", "Serviço e referências", "Department and benchmarks"),
    "chart.category.title": ("各類別分數", "Pontuação por categoria", "Scores by category"),
    "chart.heatmap.title": (
        "指標標準化值（部門 × 指標）",
        "Valores normalizados (serviços × indicadores)",
        "Normalised indicator values (departments × indicators)",
    ),
    "chart.trend.title": ("各期排名趨勢", "Evolução das posições por período", "Rank trend across periods"),
    "chart.funnel.title": (
        "市民滿意度漏斗圖",
        "Gráfico de funil da satisfação dos cidadãos",
        "Funnel plot of citizen satisfaction",
    ),
    "chart.framework.title": (
        "指標框架（有效權重）",
        "Quadro de indicadores (pesos efectivos)",
        "Framework (effective weights)",
    ),
    "chart.limit_95": ("95% 控制界限", "Limite de controlo de 95 %", "95 % control limit"),
    "chart.limit_998": ("99.8% 控制界限", "Limite de controlo de 99,8 %", "99.8 % control limit"),
    "chart.overall_share": ("整體比例", "Proporção global", "Overall share"),
    "chart.limit": ("界限", "Limite", "Limit"),
    "chart.lower": ("下限", "Inferior", "Lower"),
    "chart.upper": ("上限", "Superior", "Upper"),
    "chart.rank_interval": ("排名區間", "Intervalo de posição", "Rank interval"),
    "chart.path": ("路徑", "Caminho", "Path"),
    # --- department report (used by reports/department.py)
    "dept.standing": (
        "整體及各類別位置",
        "Posição geral e por categoria",
        "Standing overall and by category",
    ),
    "dept.all_departments": ("全部部門", "Todos os serviços", "All departments"),
    "dept.peer_group": ("同類組別", "Grupo de pares", "Peer group"),
    "dept.strengths": ("優勢", "Pontos fortes", "Strengths"),
    "dept.weaknesses": ("弱項", "Pontos fracos", "Weaknesses"),
    "dept.priorities": ("改善優先次序", "Prioridades de melhoria", "Improvement priorities"),
    "dept.priority_gain": ("可提升的分數", "Ganho de pontuação", "Score gain"),
    "dept.change": ("與上一期比較", "Variação desde o período anterior", "Change since the last period"),
    "dept.change_why": ("變動原因", "Razões da variação", "Why it changed"),
    "dept.ratings_summary": ("市民評價摘要", "Resumo das avaliações dos cidadãos", "Citizen-rating summary"),
    "dept.open_cases": ("未完結的差評個案", "Casos de avaliação negativa em aberto", "Open bad-rating cases"),
    "dept.of_n": ("共 {n} 個", "de {n}", "of {n}"),
    # --- workbook sheets
    "xl.summary": ("總排名", "Resumo", "Summary"),
    "xl.data": ("指標資料", "Dados dos indicadores", "Indicator data"),
    "xl.methodology": ("方法說明", "Metodologia", "Methodology"),
    "xl.weights": ("權重", "Pesos", "Weights"),
    "xl.warnings": ("警告", "Avisos", "Warnings"),
}

TABLE: dict[str, dict[str, str]] = {key: dict(zip(LANGS, row, strict=True)) for key, row in _ROWS.items()}


def value_text(value: object, unit: str, lang: str = DEFAULT_LANG) -> str:
    """A value in an indicator's own unit as shown to a reader: at most two decimals
    (trailing zeros dropped, thousands separated) and the unit in `lang` ("654", "99.62%",
    "9.01 hours"); "—" when there is no value."""
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "—"
    if v != v:  # NaN
        return "—"
    text = f"{v:,.2f}".rstrip("0").rstrip(".")
    text = "0" if text in ("-0", "") else text
    labels = UNITS.get(unit)
    suffix = labels[LANGS.index(check_lang(lang))] if labels else (f" {unit}" if unit else "")
    return text + suffix


def unit_label(unit: str, lang: str = DEFAULT_LANG) -> str:
    """An indicator's unit by itself in `lang` (a column of units): "小時", "%", "" for a
    plain count in pt and en; a unit not in `UNITS` as written (egov.langs.unit_name)."""
    return unit_name(unit, check_lang(lang))


def add(entries: Mapping[str, Mapping[str, str] | tuple[str, str, str]]) -> None:
    """Add labels (key -> {lang: text} or (zh-Hant, pt, en)); every language is required."""
    for key, value in entries.items():
        texts = dict(zip(LANGS, value, strict=True)) if isinstance(value, tuple) else dict(value)
        missing = [lang for lang in LANGS if not texts.get(lang)]
        if missing:
            raise ValueError(f"label {key!r} lacks {', '.join(missing)}")
        TABLE[key] = {lang: texts[lang] for lang in LANGS}


def check_lang(lang: str | None) -> str:
    """The language code to use: None gives the default; an unknown code is an EgovError."""
    if lang is None:
        return DEFAULT_LANG
    if lang not in LANGS:
        raise EgovError(f"unknown language {lang!r}: use one of {', '.join(LANGS)}")
    return lang


def overall_rank_text(rank: Any, categories_scored: Any, categories: Any, lang: str = DEFAULT_LANG) -> str:
    """An overall rank as shown, or why there is none: "not ranked overall: scored on 1 of 3
    categories" (the coverage rule, `[index] min_categories`)."""
    if rank is None or pd.isna(rank):
        return t("rank.not_ranked_overall", lang, n=int(categories_scored), total=int(categories))
    return str(int(rank))


def coverage_text(categories_scored: Any, categories: Any) -> str:
    """Coverage as shown: "2/3" (categories scored of the framework's categories)."""
    return f"{int(categories_scored)}/{int(categories)}"


def t(key: str, lang: str = DEFAULT_LANG, **values: object) -> str:
    """The label `key` in `lang` (zh-Hant, pt or en), with ``{name}`` placeholders filled."""
    text = TABLE[key][lang if lang in LANGS else DEFAULT_LANG]
    return text.format(**values) if values else text
