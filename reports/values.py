"""The words of values with evidence (egov.values, egov.evidence, egov.sample) in zh-Hant, pt
and en, for the command line (`egov values`, `egov audit`, `egov runs show`) and the reports:
the statuses, the rule for unverified and disputed values, the flagged values of a run."""

from __future__ import annotations

import pandas as pd

from egov.langs import unit_name
from egov.values import flag_counts
from indicators.framework import Framework
from reports.html import esc, table
from reports.i18n import add, t

LABELS: dict[str, tuple[str, str, str]] = {
    "values.status.submitted": ("已提交（未核實）", "Submetido (não verificado)", "Submitted (unverified)"),
    "values.status.verified": ("已核實", "Verificado", "Verified"),
    "values.status.adjusted": ("評估方已調整", "Ajustado pelo avaliador", "Adjusted by the assessor"),
    "values.status.rejected": ("已拒絕", "Rejeitado", "Rejected"),
    "values.status.disputed": ("有爭議", "Contestado", "Disputed"),
    "values.rule.use": ("照用", "usado", "used"),
    "values.rule.flag": ("採用並標示", "usado e assinalado", "used and flagged"),
    "values.rule.exclude": ("不採用（作缺失值）", "excluído (em falta)", "left out (missing)"),
    "values.title": (
        "評估期 {period} 的指標數值",
        "Valores do período {period}",
        "Values of period {period}",
    ),
    "values.id": ("編號", "N.º", "Id"),
    "values.object": ("評估對象", "Objecto", "Object"),
    "values.department": ("部門", "Serviço", "Department"),
    "values.indicator": ("指標", "Indicador", "Indicator"),
    "values.value": ("數值", "Valor", "Value"),
    "values.unit": ("單位", "Unidade", "Unit"),
    "values.status": ("狀態", "Estado", "Status"),
    "values.evidence": ("佐證數目", "Provas", "Evidence"),
    "values.rule": ("規則", "Regra", "Rule"),
    "values.none": ("沒有數值。", "Sem valores.", "No values."),
    "values.reviewed": (
        "數值 {id}：{status}",
        "Valor {id}: {status}",
        "Value {id}: {status}",
    ),
    "values.adjusted": (
        "數值 {id} 已調整為 {value}（新數值編號 {new_id}，原數值保留）",
        "Valor {id} ajustado para {value} (novo valor n.º {new_id}; o original fica registado)",
        "Value {id} adjusted to {value} (new value {new_id}; the original is kept)",
    ),
    "values.evidence_added": (
        "佐證 {id}（{kind}）已附於 {n} 個數值",
        "Prova {id} ({kind}) anexada a {n} valor(es)",
        "Evidence {id} ({kind}) attached to {n} value(s)",
    ),
    "values.evidence_title": ("數值 {id} 的佐證", "Provas do valor {id}", "Evidence of value {id}"),
    "values.kind": ("類別", "Tipo", "Kind"),
    "values.what": ("內容", "Conteúdo", "What"),
    "values.added_by": ("提交者", "Por", "Added by"),
    "values.flags_title": (
        "未經核實或有爭議的數值（框架規則）",
        "Valores não verificados ou contestados (regra do quadro)",
        "Unverified or disputed values (the framework's rule)",
    ),
    "values.flags_sheet": (
        "未核實或有爭議的數值",
        "Não verificados ou contestados",
        "Unverified or disputed",
    ),
    "values.flags_count": (
        "{flagged} 個數值採用並標示，{excluded} 個不採用",
        "{flagged} valor(es) usados e assinalados, {excluded} excluídos",
        "{flagged} value(s) used and flagged, {excluded} left out",
    ),
    "values.flags_more": ("另有 {n} 個未列出", "mais {n} não listados", "{n} more not listed"),
    "values.flags_none": (
        "所有數值均經評估方核實。",
        "Todos os valores foram verificados pelo avaliador.",
        "Every value was verified by the assessor.",
    ),
    "audit.title": (
        "評估期 {period} 的抽樣核查",
        "Auditoria por amostragem de {period}",
        "Sample audit of {period}",
    ),
    "audit.drawn": (
        "抽樣 {id}：從 {population} 個已提交數值中抽出 {n} 個（種子 {seed}）",
        "Amostra {id}: {n} de {population} valores submetidos (semente {seed})",
        "Sample {id}: {n} of {population} submitted values drawn (seed {seed})",
    ),
    "audit.item": ("抽樣項目", "Item", "Item"),
    "audit.position": ("次序", "Ordem", "Order"),
    "audit.outcome": ("結果", "Resultado", "Outcome"),
    "audit.note": ("備註", "Nota", "Note"),
    "audit.pending": ("待核查", "por verificar", "pending"),
    "audit.outcome.confirmed": ("確認無誤", "confirmado", "confirmed"),
    "audit.outcome.corrected": ("已更正", "corrigido", "corrected"),
    "audit.outcome.not_checkable": ("無法核查", "não verificável", "not checkable"),
    "audit.recorded": ("抽樣項目 {id}：{outcome}", "Item {id}: {outcome}", "Item {id}: {outcome}"),
    "audit.summary": (
        "抽出 {n} 個：確認 {confirmed}、更正 {corrected}、無法核查 {not_checkable}、待核查 {pending}；更正率 {rate}",
        "{n} sorteados: {confirmed} confirmados, {corrected} corrigidos, {not_checkable} não verificáveis, "
        "{pending} por verificar; taxa de correcção {rate}",
        "{n} drawn: {confirmed} confirmed, {corrected} corrected, {not_checkable} not checkable, "
        "{pending} pending; correction rate {rate}",
    ),
    "audit.none": ("此評估期尚未抽樣。", "Sem amostras neste período.", "No sample drawn for this period."),
    "audit.rate_na": ("不適用", "n.d.", "n/a"),
}
add(LABELS)


def status_label(status: str, lang: str) -> str:
    key = f"values.status.{'submitted' if status == 'reported' else status}"
    return t(key, lang) if key in LABELS else status


def rule_label(rule: str, lang: str) -> str:
    key = f"values.rule.{rule}"
    return t(key, lang) if key in LABELS else rule


def outcome_label(outcome: str, lang: str) -> str:
    return t(f"audit.outcome.{outcome}", lang) if outcome else t("audit.pending", lang)


def flag_rows(flags: pd.DataFrame, framework: Framework, lang: str) -> list[list[object]]:
    """The flagged values as table rows: department, object, indicator, value, unit, status, rule."""
    rows: list[list[object]] = []
    for f in flags.to_dict("records"):
        node = framework.nodes.get(str(f["indicator"]))
        label = node.label(lang) if node is not None else str(f["indicator"])
        value = None if pd.isna(f["value"]) else float(f["value"])
        unit = unit_name(node.unit, lang) if node is not None else ""
        rows.append(
            [
                str(f["department"]),
                str(f["unit"]),
                f"{label} ({f['indicator']})",
                value,
                unit,
                status_label(str(f["status"]), lang),
                rule_label(str(f["rule"]), lang),
            ]
        )
    return rows


def flags_html(flags: pd.DataFrame, framework: Framework, lang: str, limit: int = 500) -> str:
    """A report's section of the values the run's framework rule flagged or left out: the counts
    and the first `limit` values (HTML, every text escaped)."""
    if flags.empty:
        return f"<p>{esc(t('values.flags_none', lang))}</p>"
    out = f"<p>{esc(t('values.flags_count', lang, **flag_counts(flags)))}</p>"
    headers = [
        t(f"values.{k}", lang)
        for k in ("department", "object", "indicator", "value", "unit", "status", "rule")
    ]
    out += table(headers, flag_rows(flags.head(limit), framework, lang), numeric=[3], digits=4)
    if len(flags) > limit:
        out += f'<p class="note">{esc(t("values.flags_more", lang, n=len(flags) - limit))}</p>'
    return out
