"""The words of service items (事項) in zh-Hant, pt and en, shared by the command line (`egov
services list|show`, `egov import services`, `egov ratings services`) and the department report:
channels, column headers, titles, and the texts of a share satisfied with its interval."""

from __future__ import annotations

import math
from typing import Any

from reports.i18n import add, t

LABELS: dict[str, tuple[str, str, str]] = {
    "services.channel.app": ("手機應用程式", "aplicação móvel", "mobile app"),
    "services.channel.web": ("網站", "sítio electrónico", "web site"),
    "services.channel.counter": ("櫃檯", "balcão", "counter"),
    "services.channel.kiosk": ("自助服務機", "quiosque", "kiosk"),
    "services.channel.hotline": ("熱線", "linha telefónica", "hotline"),
    "services.col.code": ("事項編號", "Código", "Code"),
    "services.col.service": ("服務事項", "Serviço", "Service item"),
    "services.col.department": ("所屬部門", "Serviço responsável", "Owning department"),
    "services.col.channels": ("服務渠道", "Canais", "Channels"),
    "services.col.objects": ("辦理平台", "Objectos", "Offered through"),
    "services.col.active": ("啟用", "Activo", "Active"),
    "services.col.note": ("備註", "Nota", "Note"),
    "services.col.object": ("評估對象", "Objecto", "Object"),
    "services.col.channel": ("評價渠道", "Canal", "Channel"),
    "services.col.count": ("評價數（個）", "Avaliações (n.º)", "Ratings (number)"),
    "services.col.levels": (
        "各級數目（5/4/3/2/1）",
        "Por nível (5/4/3/2/1)",
        "By level (5/4/3/2/1)",
    ),
    "services.col.share": ("滿意比例（%）", "Satisfeitos (%)", "Satisfied (%)"),
    "services.col.interval": ("95% 區間（%）", "Intervalo de 95 % (%)", "95 % interval (%)"),
    "services.yes": ("是", "sim", "yes"),
    "services.no": ("否", "não", "no"),
    "services.own_objects": (
        "所屬部門自己的平台",
        "os objectos do próprio serviço",
        "the owner's own objects",
    ),
    "services.insufficient": (
        "不足 {min} 個評價",
        "menos de {min} avaliações",
        "fewer than {min} ratings",
    ),
    "services.list.title": ("服務事項目錄", "Catálogo de serviços", "Service-item catalogue"),
    "services.list.none": (
        "目錄中沒有服務事項（egov import services FILE）。",
        "O catálogo não tem serviços (egov import services FICHEIRO).",
        "The catalogue has no service items (egov import services FILE).",
    ),
    "services.unknown": ("沒有服務事項 {code}。", "Não há o serviço {code}.", "No service item {code}."),
    "services.import.done": (
        "{file}：{count} 個服務事項（{new} 個新，{changed} 個已修改）已匯入。",
        "{file}: {count} serviços ({new} novos, {changed} alterados) importados.",
        "{file}: {count} service items ({new} new, {changed} changed) imported.",
    ),
    "services.import.dry": (
        "{file}：{count} 個服務事項（{new} 個新，{changed} 個會修改）全部有效；試行，未寫入任何資料。",
        "{file}: {count} serviços ({new} novos, {changed} a alterar) válidos; ensaio, nada foi escrito.",
        "{file}: {count} service items ({new} new, {changed} to change) are valid; dry run, nothing written.",
    ),
    "services.ratings.title": (
        "評估期 {period} 按服務事項的評價",
        "Avaliações por serviço — período {period}",
        "Ratings by service item — period {period}",
    ),
    "services.ratings.by_department": (
        "評估期 {period} 按所屬部門的服務事項評價",
        "Avaliações dos serviços por serviço responsável — período {period}",
        "Service-item ratings by owning department — period {period}",
    ),
    "services.ratings.none": (
        "評估期 {period} 沒有指明服務事項的評價。",
        "Não há avaliações com serviço indicado no período {period}.",
        "No ratings naming a service item in period {period}.",
    ),
    "services.ratings.note": (
        "評價計入服務事項的所屬部門，不論在哪個平台作出（例如在一戶通內辦理的其他部門服務）；"
        "少於 {min} 個評價的比例不顯示。",
        "Uma avaliação conta para o serviço responsável pelo serviço avaliado, seja qual for o objecto "
        "em que foi dada (por exemplo, serviços de outros serviços na Conta Única); com menos de {min} "
        "avaliações a percentagem não é mostrada.",
        "A rating counts for the department that owns its service item, whatever object it was given "
        "through (e.g. another bureau's service inside Macao One Account); below {min} ratings no "
        "share is shown.",
    ),
    "services.report.title": (
        "本部門服務事項的評價（按平台及渠道）",
        "Avaliações dos serviços deste serviço (por objecto e canal)",
        "Ratings of the service items it owns (by object and channel)",
    ),
    "services.report.none": (
        "本評估期沒有指明本部門服務事項的評價。",
        "Não há avaliações que indiquem serviços deste serviço no período.",
        "No ratings named a service item of this department in the period.",
    ),
    # rated subjects at the counter (issue 17 point 2): `egov ratings subjects`
    "subjects.title.window": (
        "評估期 {period} {department} 按窗口的評價",
        "Avaliações por balcão — {department}, período {period}",
        "Ratings by window — {department}, period {period}",
    ),
    "subjects.title.staff": (
        "評估期 {period} {department} 按員工編號的評價（僅供本部門）",
        "Avaliações por código de trabalhador — {department}, período {period} (só para o serviço)",
        "Ratings by staff code — {department}, period {period} (for the department only)",
    ),
    "subjects.none": (
        "評估期 {period} {department} 沒有指明窗口或員工的評價。",
        "Não há avaliações com balcão ou trabalhador indicado — {department}, período {period}.",
        "No ratings naming a window or staff member — {department}, period {period}.",
    ),
    "subjects.note": (
        "只計算本部門的評價；員工只以本部門的員工編號表示，不公開；少於 {min} 個評價的比例不顯示。",
        "Só as avaliações do serviço; um trabalhador só pelo código interno do serviço, nunca publicado; "
        "com menos de {min} avaliações a percentagem não é mostrada.",
        "The department's own ratings only; staff only by the department's staff code, never published; "
        "below {min} ratings no share is shown.",
    ),
    "subjects.col.window": ("窗口", "Balcão", "Window"),
    "subjects.col.staff": ("員工編號", "Código do trabalhador", "Staff code"),
}
add(LABELS)


def service_name(row: Any, lang: str, prefix: str = "name") -> str:
    """The name of a service item (or, with prefix "department", its owner) in `lang`, else the
    first name it has."""
    order = {"zh-Hant": "zh", "pt": "pt", "en": "en"}
    first = str(row.get(f"{prefix}_{order[lang]}") or "")
    return first or next(
        (str(row[f"{prefix}_{k}"]) for k in ("zh", "pt", "en") if row.get(f"{prefix}_{k}")), ""
    )


def channel_names(channels: str | list[str], lang: str) -> str:
    """Channel codes ("app,web" or a list) named in `lang`."""
    codes = channels.split(",") if isinstance(channels, str) else channels
    return (
        "、".join(t(f"services.channel.{c}", lang) for c in codes if c)
        if lang == "zh-Hant"
        else ", ".join(t(f"services.channel.{c}", lang) for c in codes if c)
    )


def one_channel(channel: str, lang: str) -> str:
    """A rating channel in `lang` (its code when it has no label)."""
    key = f"services.channel.{channel}"
    try:
        return t(key, lang)
    except KeyError:
        return channel


def share_texts(row: Any, lang: str, min_ratings: int) -> tuple[str, str]:
    """The share satisfied and its 95 % interval as texts (percent, one decimal), or "—" and
    why when there are too few ratings."""
    share = row.get("share_satisfied")
    if share is None or (isinstance(share, float) and math.isnan(share)):
        return "—", t("services.insufficient", lang, min=min_ratings)
    low, high = float(row["share_satisfied_low"]), float(row["share_satisfied_high"])
    return f"{float(share):.1f}", f"{low:.1f}–{high:.1f}"


def level_text(row: Any) -> str:
    """Counts by level, 5 first."""
    return "/".join(str(int(row[f"n{k}"])) for k in (5, 4, 3, 2, 1))
