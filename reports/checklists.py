"""The words of the assessor's service checks (egov.checklists) in zh-Hant, pt and en: the
`egov checklist` command's messages and table, and how a checklist-sourced value's source is
named in the reports (`checklist_source`)."""

from __future__ import annotations

from indicators.framework import Framework, Node
from reports.i18n import add, t

add(
    {
        "checklist.source": (
            "評估方服務檢查：{name}（{code}）",
            "Verificação do serviço pelo avaliador: {name} ({code})",
            "Assessor's service check: {name} ({code})",
        ),
        "checklist.wrote": (
            "已寫入 {out}：框架 {framework}，評估期 {period}，{rows} 行（檢查表 × 對象 × 項目）",
            "escrito {out}: quadro {framework}, período {period}, {rows} linhas (lista × objecto × item)",
            "wrote {out}: framework {framework}, period {period}, {rows} rows (checklist × object × item)",
        ),
        "checklist.dry_run": (
            "試行：{file} 有效 — {n} 個答案（{objects} 個對象）可匯入評估期 {period}；未寫入任何資料",
            "ensaio: {file} é válido — {n} respostas ({objects} objectos) seriam importadas para o "
            "período {period}; nada foi escrito",
            "dry run: {file} is valid — {n} answers for {objects} objects would be imported into period "
            "{period}; nothing was written",
        ),
        "checklist.imported": (
            "已匯入 {file}：{n} 個答案（{objects} 個對象）至評估期 {period}；{superseded} 個舊答案被取代（保留於歷史）",
            "importado {file}: {n} respostas ({objects} objectos) para o período {period}; "
            "{superseded} respostas anteriores substituídas (mantidas no histórico)",
            "imported {file}: {n} answers for {objects} objects into period {period}; "
            "{superseded} earlier answers superseded (kept in the history)",
        ),
        "checklist.none": (
            "評估期 {period} 沒有服務檢查答案",
            "sem respostas de verificação no período {period}",
            "no service-check answers in period {period}",
        ),
        "checklist.title": (
            "服務檢查 {period}",
            "Verificações dos serviços {period}",
            "Service checks {period}",
        ),
        "checklist.col.object": ("對象", "Objecto", "Object"),
        "checklist.col.checklist": ("檢查表", "Lista", "Checklist"),
        "checklist.col.item": ("項目", "Item", "Item"),
        "checklist.col.answer": ("答案", "Resposta", "Answer"),
        "checklist.col.note": ("備註", "Nota", "Note"),
        "checklist.col.evidence": ("證據", "Prova", "Evidence"),
        "checklist.col.by": ("填寫人", "Por", "By"),
        "checklist.col.at": ("時間（UTC）", "Quando (UTC)", "When (UTC)"),
        "checklist.col.where": ("來源", "Origem", "Source"),
        "checklist.value": (
            "{indicator}：{object} {value}%",
            "{indicator}: {object} {value} %",
            "{indicator}: {object} {value} %",
        ),
    }
)


def checklist_source(framework: Framework, node: Node, lang: str) -> str | None:
    """How the source of a checklist-sourced indicator's value is named in a report (the
    checklist's name and code); None for an indicator of another source."""
    if node.source != "checklist" or node.checklist is None:
        return None
    checklist = framework.checklists.get(node.checklist)
    name = checklist.label(lang) if checklist else node.checklist
    return t("checklist.source", lang, name=name, code=node.checklist)


def words(key: str, lang: str, **values: object) -> str:
    """A text of the service checks (`checklist.KEY`) in `lang`."""
    return t(f"checklist.{key}", lang, **values)
