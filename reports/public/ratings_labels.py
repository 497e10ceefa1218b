"""The texts of the public rating results (/public/ratings/, issue 17 point 5) in zh-Hant, pt and
en, added to `reports.i18n` once when imported, and the data dictionary of their open data
(`COLUMNS`: every column's type, unit and description in the three languages)."""

from __future__ import annotations

from reports.i18n import TABLE, add

LABELS: dict[str, tuple[str, str, str]] = {
    "pubr.title": (
        "市民評價結果（好差評）",
        "Resultados das avaliações dos cidadãos",
        "Citizen rating results",
    ),
    "pubr.link": (
        "市民評價結果及整改情況",
        "Avaliações dos cidadãos e rectificações",
        "Citizen ratings and rectifications",
    ),
    "pubr.intro": (
        "市民在辦理服務後對服務作出的評價，以及部門對差評的整改情況，按部門及服務事項公開。不載有任何個人資料。",
        "As avaliações dos cidadãos depois de um serviço, e a rectificação das avaliações negativas pelos serviços, publicadas por serviço público e por serviço prestado. Sem quaisquer dados pessoais.",
        "The ratings citizens give after a service, and how departments put bad ratings right, published per department and per service item. No personal data.",
    ),
    "pubr.periods": ("期間", "Períodos", "Periods"),
    "pubr.no_periods": ("尚未有評價。", "Ainda não há avaliações.", "There are no ratings yet."),
    "pubr.period_title": (
        "{period} 市民評價結果",
        "Avaliações dos cidadãos: {period}",
        "Citizen ratings: {period}",
    ),
    "pubr.through": (
        "數據截至 {day}（每 5 分鐘更新）",
        "Dados até {day} (actualizados a cada 5 minutos)",
        "Figures up to {day} (updated every 5 minutes)",
    ),
    "pubr.final": ("期間 {start} 至 {end}", "Período de {start} a {end}", "Period {start} to {end}"),
    "pubr.departments": ("各部門", "Serviços públicos", "Departments"),
    "pubr.services": ("各服務事項", "Serviços prestados", "Service items"),
    "pubr.department": ("部門", "Serviço público", "Department"),
    "pubr.service": ("服務事項", "Serviço prestado", "Service item"),
    "pubr.owner": ("所屬部門", "Serviço responsável", "Owning department"),
    "pubr.channels": ("服務渠道", "Canais", "Channels"),
    "pubr.channel": ("評價渠道", "Canal da avaliação", "Rating channel"),
    "pubr.object": ("評估對象", "Objecto", "Object"),
    "pubr.count": ("評價數（個）", "Avaliações (n.º)", "Ratings (number)"),
    "pubr.objects_count": (
        "其平台的評價（個）",
        "Avaliações dos seus objectos (n.º)",
        "Ratings of its objects (number)",
    ),
    "pubr.services_count": (
        "其服務事項的評價（個）",
        "Avaliações dos seus serviços (n.º)",
        "Ratings of its service items (number)",
    ),
    "pubr.objects_satisfied": (
        "其平台：滿意比例（%，95% 區間）",
        "Dos seus objectos: satisfeitos (%, intervalo de 95 %)",
        "Of its objects: satisfied (%, 95 % interval)",
    ),
    "pubr.services_satisfied": (
        "其服務事項：滿意比例（%，95% 區間）",
        "Dos seus serviços: satisfeitos (%, intervalo de 95 %)",
        "Of its service items: satisfied (%, 95 % interval)",
    ),
    "pubr.satisfied": (
        "滿意比例（%，95% 區間）",
        "Satisfeitos (%, intervalo de 95 %)",
        "Satisfied (%, 95 % interval)",
    ),
    "pubr.mean": ("平均等級（1–5）", "Nível médio (1–5)", "Mean level (1–5)"),
    "pubr.bad": ("差評（個）", "Avaliações negativas (n.º)", "Bad ratings (number)"),
    "pubr.bad_share": ("差評比例（%）", "Avaliações negativas (%)", "Bad ratings (%)"),
    "pubr.cases": ("差評個案（個）", "Casos (n.º)", "Bad-rating cases (number)"),
    "pubr.on_time": ("按時整改率（%）", "Respondidos no prazo (%)", "Answered on time (%)"),
    "pubr.median_days": (
        "答覆所需日數中位數（日曆日）",
        "Mediana de dias até à resposta (dias de calendário)",
        "Median days to answer (calendar days)",
    ),
    "pubr.withheld": (
        "不公佈：少於 {min} 個評價",
        "não publicado: menos de {min} avaliações",
        "withheld: fewer than {min} ratings",
    ),
    "pubr.share": ("{share} %（{low}–{high} %）", "{share} % ({low}–{high} %)", "{share} % ({low}–{high} %)"),
    "pubr.none": ("沒有", "nenhum", "none"),
    "pubr.of": ("{part}（共 {whole} 個）", "{part} de {whole}", "{part} of {whole}"),
    "pubr.days": ("{n} 日", "{n} dias", "{n} days"),
    "pubr.figure": ("項目", "Indicador", "Figure"),
    "pubr.value": ("數值", "Valor", "Value"),
    "pubr.own_objects": ("其平台的評價", "Avaliações dos seus objectos", "Ratings of its objects"),
    "pubr.own_objects_text": (
        "在本部門的平台（應用程式、網站、櫃檯、自助服務機）作出的所有評價，不論屬哪個部門的服務事項。",
        "Todas as avaliações dadas nos objectos deste serviço (aplicações, sítios, balcões, quiosques), seja qual for o serviço prestado.",
        "Every rating given on this department's objects (apps, sites, counters, kiosks), whichever department's service item it was.",
    ),
    "pubr.own_services": (
        "其服務事項的評價",
        "Avaliações dos seus serviços prestados",
        "Ratings of its service items",
    ),
    "pubr.own_services_text": (
        "本部門負責的服務事項所得的評價，不論在哪個平台作出（例如在澳門公共服務一戶通辦理財政局的服務，計入財政局）。",
        "As avaliações dos serviços de que este serviço público é responsável, onde quer que tenham sido dadas (um serviço da DSF feito na Conta Única de Macau conta para a DSF).",
        "The ratings of the service items this department owns, wherever they were given (a DSF service done inside Macao One Account counts for DSF).",
    ),
    "pubr.case_section": ("差評整改情況", "Rectificação das avaliações negativas", "Bad ratings put right"),
    "pubr.case_text": (
        "每個差評均開立個案，由被評平台所屬部門處理：核實、整改或解釋、回訪。按時：在期限（{days} 個工作日）內答覆。日數按日曆日計算，由評價日至答覆日。",
        "Cada avaliação negativa abre um caso, tratado pelo serviço do objecto avaliado: verificação, rectificação ou explicação, contacto de retorno. No prazo: resposta dentro do prazo ({days} dias úteis). Os dias são de calendário, da avaliação à resposta.",
        "Every bad rating opens a case, handled by the department of the rated object: checked, put right or explained, the citizen called back. On time: answered by the deadline ({days} working days). Days are calendar days from the rating to the answer.",
    ),
    "pubr.service_case_text": (
        "評價屬本服務事項的差評個案（由被評平台所屬部門處理）。",
        "Os casos das avaliações negativas deste serviço (tratados pelo serviço do objecto avaliado).",
        "The cases of the bad ratings of this service item (handled by the department of the rated object).",
    ),
    "pubr.c.cases": ("開立個案", "Casos abertos", "Cases opened"),
    "pubr.c.removed": ("經申訴撤銷的評價", "Avaliações retiradas após recurso", "Ratings removed on appeal"),
    "pubr.c.rectified": ("已整改", "Rectificados", "Put right"),
    "pubr.c.explained": ("已解釋說明", "Explicados", "Explained"),
    "pubr.c.on_time": ("按時答覆", "Respondidos no prazo", "Answered on time"),
    "pubr.c.overdue": ("逾期未答覆", "Sem resposta, prazo ultrapassado", "Not answered, overdue"),
    "pubr.c.median": ("答覆日數中位數", "Mediana de dias até à resposta", "Median days to answer"),
    "pubr.c.mean": ("答覆日數平均數", "Média de dias até à resposta", "Mean days to answer"),
    "pubr.c.visits": (
        "回訪滿意（已聯絡的市民）",
        "Satisfeitos no contacto de retorno (cidadãos contactados)",
        "Satisfied at the return visit (citizens reached)",
    ),
    "pubr.c.unreachable": ("未能聯絡", "Não contactados", "Could not be reached"),
    "pubr.rule": (
        "少於 {min} 個評價時，不公佈滿意比例、其區間、平均等級及差評比例（樣本太少，數字不可靠），只列出評價數目。滿意：評價 5「非常滿意」或 4「滿意」；差評：2「不滿意」或 1「非常不滿意」。區間：Wilson 95% 置信區間。",
        "Com menos de {min} avaliações, a percentagem de satisfeitos, o seu intervalo, o nível médio e a percentagem negativa não são publicados (amostra pequena demais); só o número é indicado. Satisfeito: nível 5 ou 4; negativa: nível 2 ou 1. Intervalo: intervalo de confiança de Wilson a 95 %.",
        "Below {min} ratings the share satisfied, its interval, the mean level and the bad share are withheld (too few for a reliable figure); only the counts are shown. Satisfied: level 5 or 4; bad: level 2 or 1. Interval: the Wilson 95 % confidence interval.",
    ),
    "pubr.by_channel": ("按評價渠道", "Por canal da avaliação", "By rating channel"),
    "pubr.no_ratings": ("本期間沒有評價。", "Sem avaliações neste período.", "No ratings in this period."),
    "pubr.open_data": ("開放數據", "Dados abertos", "Open data"),
    "pubr.open_data_zip": (
        "下載本期間的開放數據（ZIP：CSV、JSON、數據字典）",
        "Descarregar os dados abertos do período (ZIP: CSV, JSON, dicionário de dados)",
        "Download the period's open data (ZIP: CSV, JSON, data dictionary)",
    ),
    "pubr.ratings_home": ("市民評價", "Avaliações", "Ratings"),
    "pubr.written": (
        "開放數據已寫入 {path}（{n} 個檔案）。",
        "Dados abertos escritos em {path} ({n} ficheiros).",
        "Open data written to {path} ({n} files).",
    ),
}

add({k: v for k, v in LABELS.items() if k not in TABLE})

_COUNT = ("integer", "ratings")
_PCT = ("number", "%")

# column → (type, unit, zh-Hant, pt, en)
COLUMNS: dict[str, tuple[str, str, str, str, str]] = {
    "period": ("text", "", "期間代碼", "Código do período", "Period code"),
    "start": ("date", "", "期間首日", "Primeiro dia do período", "First day of the period"),
    "through": (
        "date",
        "",
        "計至該日（含）",
        "Último dia contado",
        "Last day counted (the period's end, or the day of the figures while it runs)",
    ),
    "department": ("text", "", "部門代碼", "Código do serviço público", "Department code"),
    "object": ("text", "", "評估對象代碼", "Código do objecto", "Object code"),
    "service": ("text", "", "服務事項代碼", "Código do serviço prestado", "Service item code"),
    "channel": (
        "text",
        "",
        "評價渠道（app, web, counter, kiosk, hotline）",
        "Canal da avaliação",
        "Rating channel (app, web, counter, kiosk, hotline)",
    ),
    "channels": ("text", "", "目錄所列的服務渠道", "Canais do catálogo", "Channels the catalogue lists"),
    "active": ("boolean", "", "事項是否啟用", "Serviço activo", "Whether the item is active"),
    "name_zh": ("text", "", "中文名稱", "Nome em chinês", "Name in Chinese"),
    "name_pt": ("text", "", "葡文名稱", "Nome em português", "Name in Portuguese"),
    "name_en": ("text", "", "英文名稱", "Nome em inglês", "Name in English"),
    "department_zh": (
        "text",
        "",
        "所屬部門中文名稱",
        "Serviço responsável (chinês)",
        "Owning department (Chinese)",
    ),
    "department_pt": (
        "text",
        "",
        "所屬部門葡文名稱",
        "Serviço responsável (português)",
        "Owning department (Portuguese)",
    ),
    "department_en": (
        "text",
        "",
        "所屬部門英文名稱",
        "Serviço responsável (inglês)",
        "Owning department (English)",
    ),
    "description_zh": ("text", "", "中文說明", "Descrição em chinês", "Description in Chinese"),
    "description_pt": ("text", "", "葡文說明", "Descrição em português", "Description in Portuguese"),
    "description_en": ("text", "", "英文說明", "Descrição em inglês", "Description in English"),
    "file": ("text", "", "檔案", "Ficheiro", "File"),
    "column": ("text", "", "欄位", "Coluna", "Column"),
    "type": ("text", "", "類型", "Tipo", "Type"),
    "unit": ("text", "", "單位", "Unidade", "Unit"),
}
_RATING = {
    "n1": ("等級 1（非常不滿意）的評價數", "Avaliações de nível 1", "Ratings at level 1 (very dissatisfied)"),
    "n2": ("等級 2（不滿意）的評價數", "Avaliações de nível 2", "Ratings at level 2 (dissatisfied)"),
    "n3": ("等級 3（基本滿意）的評價數", "Avaliações de nível 3", "Ratings at level 3 (fairly satisfied)"),
    "n4": ("等級 4（滿意）的評價數", "Avaliações de nível 4", "Ratings at level 4 (satisfied)"),
    "n5": ("等級 5（非常滿意）的評價數", "Avaliações de nível 5", "Ratings at level 5 (very satisfied)"),
    "count": ("評價數", "Número de avaliações", "Number of ratings"),
    "bad": ("差評數（等級 1–2）", "Avaliações negativas (níveis 1–2)", "Bad ratings (levels 1–2)"),
    "share_satisfied": (
        "滿意比例（等級 4–5）；少於最低數目時留空",
        "Percentagem de satisfeitos (níveis 4–5); vazio abaixo do mínimo",
        "Share satisfied (levels 4–5); empty below the minimum count",
    ),
    "share_satisfied_low": (
        "滿意比例 Wilson 95% 區間下限",
        "Limite inferior do intervalo de Wilson a 95 %",
        "Lower end of the Wilson 95 % interval",
    ),
    "share_satisfied_high": (
        "滿意比例 Wilson 95% 區間上限",
        "Limite superior do intervalo de Wilson a 95 %",
        "Upper end of the Wilson 95 % interval",
    ),
    "mean_level": ("平均等級（1–5）", "Nível médio (1–5)", "Mean level (1–5)"),
    "bad_share": ("差評比例", "Percentagem de avaliações negativas", "Share of bad ratings"),
    "withheld": (
        "評價少於最低數目（EGOV_MIN_RATINGS），比例及平均數不公佈",
        "Menos avaliações do que o mínimo: percentagens e média não publicadas",
        "Fewer ratings than the minimum count: shares and mean withheld",
    ),
}
_UNITS = {"share_satisfied": _PCT, "share_satisfied_low": _PCT, "share_satisfied_high": _PCT}
_UNITS |= {"bad_share": _PCT, "mean_level": ("number", "level 1-5"), "withheld": ("boolean", "")}
_GROUP = {
    "objects": ("（其平台）", " (dos seus objectos)", " (of its objects)"),
    "services": ("（其服務事項）", " (dos seus serviços prestados)", " (of its service items)"),
    "rating": ("", "", ""),
}
for _g, (_gz, _gp, _ge) in _GROUP.items():
    for _c, (_z, _p, _e) in _RATING.items():
        _kind, _unit = _UNITS.get(_c, _COUNT)
        COLUMNS[f"{_g}_{_c}"] = (_kind, _unit, _z + _gz, _p + _gp, _e + _ge)
    for _c, (_z, _p, _e) in _RATING.items():  # the channel table's columns carry no prefix
        _kind, _unit = _UNITS.get(_c, _COUNT)
        COLUMNS.setdefault(_c, (_kind, _unit, _z, _p, _e))
_CASES = {
    "cases": ("integer", "cases", "開立的差評個案", "Casos abertos", "Bad-rating cases opened"),
    "removed": (
        "integer",
        "cases",
        "經申訴撤銷評價的個案",
        "Casos com a avaliação retirada após recurso",
        "Cases whose rating was removed on appeal",
    ),
    "answered": (
        "integer",
        "cases",
        "已答覆（整改或解釋）",
        "Respondidos (rectificados ou explicados)",
        "Answered (put right or explained)",
    ),
    "rectified": ("integer", "cases", "已整改", "Rectificados", "Put right"),
    "explained": ("integer", "cases", "已解釋說明", "Explicados", "Explained"),
    "due": (
        "integer",
        "cases",
        "已到期須答覆的個案",
        "Casos cuja resposta era devida",
        "Cases whose answer was due",
    ),
    "on_time": ("integer", "cases", "按時答覆", "Respondidos no prazo", "Answered on time"),
    "late": ("integer", "cases", "逾期答覆", "Respondidos fora do prazo", "Answered late"),
    "overdue": (
        "integer",
        "cases",
        "逾期未答覆",
        "Sem resposta, prazo ultrapassado",
        "Not answered, overdue",
    ),
    "on_time_rate": (
        "number",
        "%",
        "按時答覆率（按時 ÷ 到期）",
        "Taxa de resposta no prazo",
        "Answered on time ÷ due",
    ),
    "median_days": (
        "number",
        "calendar days",
        "由評價至答覆的日曆日中位數",
        "Mediana de dias de calendário até à resposta",
        "Median calendar days from the rating to the answer",
    ),
    "mean_days": (
        "number",
        "calendar days",
        "由評價至答覆的日曆日平均數",
        "Média de dias de calendário até à resposta",
        "Mean calendar days from the rating to the answer",
    ),
    "visits_satisfied": (
        "integer",
        "cases",
        "回訪：滿意",
        "Contacto de retorno: satisfeito",
        "Return visit: satisfied",
    ),
    "visits_unsatisfied": (
        "integer",
        "cases",
        "回訪：不滿意",
        "Contacto de retorno: insatisfeito",
        "Return visit: unsatisfied",
    ),
    "visits_unreachable": (
        "integer",
        "cases",
        "回訪：未能聯絡",
        "Contacto de retorno: não contactado",
        "Return visit: could not be reached",
    ),
    "visit_satisfaction": (
        "number",
        "%",
        "回訪滿意比例（已聯絡者）",
        "Satisfeitos entre os contactados",
        "Satisfied of the citizens reached",
    ),
}
for _c, _v in _CASES.items():
    COLUMNS[f"cases_{_c}"] = _v
