"""The second half of the command line's labels (labels.py adds these on import): the titles,
column headers and fixed sentences of the operational commands — runs list/diff/export/verify,
cases, ratings purge/export/rollup, framework check/import, template, import, metrics history,
keys, db init, serve, report, evaluate, demo and synth, and the progress texts on stderr — in
Traditional Chinese, Portuguese and English. The English texts are the commands' English output
as it was."""

from __future__ import annotations

from reports.i18n import add, t

# fields of a run's identity (egov.record.RunDiff.identity), said in each language
IDENTITY_FIELDS = (
    "period",
    "framework code",
    "framework version",
    "framework hash",
    "software version",
    "inputs hash",
    "results hash",
    "created at",
    "created by",
)
# what `egov import departments` and `egov synth` count
COUNTED = ("peer_groups", "departments", "objects", "metric_values", "ratings", "offer_days", "rollup_rows")


def identity_field(field: str, lang: str) -> str:
    """A field of a run's identity in `lang`; one not known as written."""
    return t(f"cli.diff.f.{field.replace(' ', '_')}", lang) if field in IDENTITY_FIELDS else field


def counted(kind: str, n: int | str, lang: str) -> str:
    """ "12 departments", "12 個部門", "12 serviços"; an unknown kind as "12 kind"."""
    if kind in COUNTED:
        return t(f"cli.count.{kind}", lang, n=n)
    return f"{n} {kind.replace('_', ' ')}"


# --- egov runs list, diff, export, verify
add(
    {
        "cli.runs.title": ("評估運行", "Execuções da avaliação", "Evaluation runs"),
        "cli.runs.col.run": ("運行", "execução", "run"),
        "cli.runs.col.period": ("評估期", "período", "period"),
        "cli.runs.col.framework": ("指標框架", "quadro", "framework"),
        "cli.runs.col.created": ("建立時間", "criada em", "created"),
        "cli.runs.col.by": ("建立者", "por", "by"),
        "cli.runs.col.inputs": ("輸入", "dados", "inputs"),
        "cli.runs.col.results": ("結果", "resultados", "results"),
        "cli.diff.head": ("運行 {a} → 運行 {b}", "execução {a} → execução {b}", "run {a} → run {b}"),
        "cli.diff.identity": ("識別資料", "Identificação", "Identity"),
        "cli.diff.field": ("項目", "campo", "field"),
        "cli.diff.differs": ("不同", "difere", "differs"),
        "cli.diff.f.period": ("評估期", "período", "period"),
        "cli.diff.f.framework_code": ("指標框架代碼", "código do quadro", "framework code"),
        "cli.diff.f.framework_version": ("指標框架版本", "versão do quadro", "framework version"),
        "cli.diff.f.framework_hash": ("指標框架雜湊值", "hash do quadro", "framework hash"),
        "cli.diff.f.software_version": ("軟件版本", "versão do software", "software version"),
        "cli.diff.f.inputs_hash": ("輸入雜湊值", "hash dos dados", "inputs hash"),
        "cli.diff.f.results_hash": ("結果雜湊值", "hash dos resultados", "results hash"),
        "cli.diff.f.created_at": ("建立時間", "criada em", "created at"),
        "cli.diff.f.created_by": ("建立者", "criada por", "created by"),
        "cli.diff.framework_files": (
            "指標框架檔案有差異（{n} 行差異）：",
            "os ficheiros do quadro diferem ({n} linhas de diferenças):",
            "framework files differ ({n} diff lines):",
        ),
        "cli.diff.spec_same": ("方法設定：相同", "especificação do método: a mesma", "spec: the same"),
        "cli.diff.spec_title": (
            "方法設定（逐項）",
            "Especificação do método (chave a chave)",
            "Spec (key by key)",
        ),
        "cli.diff.key": ("設定項", "chave", "key"),
        "cli.diff.inputs_same": ("輸入：數值相同", "dados: os mesmos valores", "inputs: the same values"),
        "cli.diff.inputs_title": (
            "評分所用評估期的輸入：{counts}",
            "Dados do período avaliado: {counts}",
            "Inputs of the scored period: {counts}",
        ),
        "cli.diff.change": ("變更", "alteração", "change"),
        "cli.diff.change.added": ("新增", "acrescentado", "added"),
        "cli.diff.change.removed": ("刪除", "retirado", "removed"),
        "cli.diff.change.changed": ("更改", "alterado", "changed"),
        "cli.diff.count.added": ("新增 {n} 個", "{n} acrescentado(s)", "{n} added"),
        "cli.diff.count.removed": ("刪除 {n} 個", "{n} retirado(s)", "{n} removed"),
        "cli.diff.count.changed": ("更改 {n} 個", "{n} alterado(s)", "{n} changed"),
        "cli.diff.results_same": (
            "結果：每個部門的分數及排名均相同",
            "resultados: todas as pontuações e posições dos serviços são iguais",
            "results: every department score and rank is the same",
        ),
        "cli.diff.results_title": (
            "結果不同的部門：{n} 項（部門、節點）；總分：",
            "Resultados dos serviços que diferem: {n} (serviço, nó); geral:",
            "Department results that differ: {n} (department, node); overall:",
        ),
        "cli.diff.score_x": ("分數 {x}", "pontuação {x}", "score {x}"),
        "cli.diff.rank_x": ("排名 {x}", "posição {x}", "rank {x}"),
        "cli.diff.only_when": (
            "指標框架、方法設定、輸入及結果均相同：兩個運行只在建立時間及建立者上有差異",
            "o mesmo quadro, especificação, dados e resultados: as execuções só diferem em quando "
            "e por quem foram criadas",
            "same framework, spec, inputs and results: the runs differ only in when and by whom",
        ),
        "cli.export.wrote": ("已寫入資料包 {path}", "pacote escrito: {path}", "wrote bundle {path}"),
        "cli.export.digest": (
            "manifest.json 的 SHA-256（請與報告一併公佈）：{digest}",
            "SHA-256 de manifest.json (publique-o com o relatório): {digest}",
            "manifest.json SHA-256 (publish it with the report): {digest}",
        ),
        "cli.verify.bundle": (
            "資料包 {bundle}：運行 {run}，評估期 {period}，指標框架 {framework} {version}，"
            "由 {by} 於 {at} 以 egov-eval {software} 製作",
            "pacote {bundle}: execução {run}, período {period}, quadro {framework} {version}, feito por "
            "{by} em {at} com egov-eval {software}",
            "bundle {bundle}: run {run}, period {period}, framework {framework} {version}, made by {by} at "
            "{at} with egov-eval {software}",
        ),
        "cli.verify.digest": (
            "manifest.json 的 SHA-256：{digest}",
            "SHA-256 de manifest.json: {digest}",
            "manifest.json SHA-256: {digest}",
        ),
        "cli.verify.ok": (
            "驗證通過：由資料包重新計算出結果雜湊值 {hash}",
            "VERIFICADO: hash dos resultados {hash} recalculado a partir do pacote",
            "VERIFIED: results hash {hash} recomputed from the bundle",
        ),
        "cli.verify.failed": (
            "驗證不通過：{n} 處差異",
            "NÃO VERIFICADO: {n} diferença(s)",
            "NOT VERIFIED: {n} difference(s)",
        ),
    }
)

# --- egov cases metrics, egov ratings purge, export, rollup
add(
    {
        "cli.cases.title": (
            "評估期 {period} 內開立的差評個案（按{by}）",
            "Casos de avaliações negativas abertos no período {period}, por {by}",
            "Bad-rating cases opened in period {period}, by {by}",
        ),
        "cli.ledger.written": (
            "已將 {n} 宗個案寫入台賬 {out}",
            "{n} caso(s) escrito(s) no registo {out}",
            "wrote {n} case(s) to the ledger {out}",
        ),
        "cli.cases.col.cases": ("個案數", "casos", "cases"),
        "cli.cases.col.on_time": ("按時整改 %", "rectificados a tempo %", "rectified on time %"),
        "cli.cases.col.return_visits": ("回訪 %", "visitas de retorno %", "return visits %"),
        "cli.cases.col.appeals": ("申訴", "recursos", "appeals"),
        "cli.cases.col.upheld": ("申訴成立", "procedentes", "upheld"),
        "cli.cases.col.removed": ("已移除", "retirados", "removed"),
        "cli.cases.stored": (
            "已儲存 {n} 個管理指標數值",
            "{n} valor(es) de indicadores de gestão guardado(s)",
            "stored {n} management indicator value(s)",
        ),
        "cli.purge.done": (
            "已將 {n} 個評價匿名化，刪除 {tokens} 個憑證（{before}之前；今日 {today}）",
            "{n} avaliação(ões) anonimizada(s), {tokens} token(s) apagado(s) (antes de {before}; "
            "hoje {today})",
            "anonymised {n} rating(s), deleted {tokens} token(s) (before {before}; today {today})",
        ),
        "cli.purge.limit": ("保存期限", "o limite de conservação", "the retention limit"),
        "cli.rollup.done": (
            "已重建 {n} 行每日匯總",
            "{n} linha(s) de agregados diários reconstruída(s)",
            "rebuilt {n} roll-up row(s)",
        ),
    }
)

# --- egov framework check/import, template, import, metrics history
add(
    {
        "cli.fw.valid": (
            "{file}：有效——指標框架 {code} {version}，{categories} 個類別、{indicators} 個指標，"
            "雜湊值 {hash}",
            "{file}: válido — quadro {code} {version}, {categories} categorias, {indicators} "
            "indicadores, hash {hash}",
            "{file}: valid — framework {code} {version}, {categories} categories, {indicators} "
            "indicators, hash {hash}",
        ),
        "cli.fw.imported": (
            "已寫入 {out}：{categories} 個類別、{indicators} 個指標，雜湊值 {hash}",
            "escrito: {out}: {categories} categorias, {indicators} indicadores, hash {hash}",
            "wrote {out}: {categories} categories, {indicators} indicators, hash {hash}",
        ),
        "cli.template.wrote": (
            "已寫入 {out}：指標框架 {code} {version}，評估期 {period}，{objects} 個評估對象，"
            "工作表：{sheets}",
            "escrito: {out}: quadro {code} {version}, período {period}, {objects} objectos, folhas: {sheets}",
            "wrote {out}: framework {code} {version}, period {period}, {objects} objects, sheets: {sheets}",
        ),
        "cli.import.what": (
            "{n} 個數值，涉及 {objects} 個評估對象（{layout}，sha256 {sha}）",
            "{n} valores de {objects} objectos ({layout}, sha256 {sha})",
            "{n} values for {objects} objects ({layout}, sha256 {sha})",
        ),
        "cli.import.dry_metrics": (
            "試行：{file} 有效——{what}將匯入評估期 {period}，取代 {superseded} 個現有數值；未寫入任何資料",
            "simulação: {file} é válido — {what} seriam importados para o período {period}, "
            "substituindo {superseded} valores actuais; nada foi escrito",
            "dry run: {file} is valid — {what} would be imported into period {period}, "
            "superseding {superseded} current values; nothing was written",
        ),
        "cli.import.metrics": (
            "已匯入 {file}：{what}匯入評估期 {period}；{superseded} 個較早的數值已被取代（保留在歷史記錄中）",
            "importado: {file}: {what} no período {period}; {superseded} valores anteriores "
            "substituídos (guardados no histórico)",
            "imported {file}: {what} into period {period}; {superseded} earlier values superseded "
            "(kept in the history)",
        ),
        "cli.import.part": ("{counted}（{new} 個新）", "{counted} ({new} novos)", "{counted} ({new} new)"),
        "cli.import.dry_register": (
            "試行：{file} 有效——{parts}；未寫入任何資料",
            "simulação: {file} é válido — {parts}; nada foi escrito",
            "dry run: {file} is valid — {parts}; nothing was written",
        ),
        "cli.import.register": (
            "已匯入 {file}：{parts}",
            "importado: {file}: {parts}",
            "imported {file}: {parts}",
        ),
        "cli.count.peer_groups": ("{n} 個同類組別", "{n} grupos de pares", "{n} peer groups"),
        "cli.count.departments": ("{n} 個部門", "{n} serviços", "{n} departments"),
        "cli.count.objects": ("{n} 個評估對象", "{n} objectos", "{n} objects"),
        "cli.count.metric_values": ("{n} 個指標數值", "{n} valores de indicadores", "{n} metric values"),
        "cli.count.ratings": ("{n} 個評價", "{n} avaliações", "{n} ratings"),
        "cli.count.offer_days": ("{n} 個服務提供日", "{n} dias de oferta", "{n} offer days"),
        "cli.count.rollup_rows": ("{n} 行每日匯總", "{n} linhas de agregados diários", "{n} rollup rows"),
        "cli.history.none": (
            "{obj} / {indicator}{where}沒有已儲存的數值",
            "não há valores guardados de {obj} / {indicator}{where}",
            "no values stored for {obj} / {indicator}{where}",
        ),
        "cli.history.in_period": ("（評估期 {period}）", " no período {period}", " in period {period}"),
        "cli.history.title": (
            "{obj} / {indicator} 的歷史記錄",
            "Histórico de {obj} / {indicator}",
            "History of {obj} / {indicator}",
        ),
        "cli.history.col.status": ("狀態", "estado", "status"),
        "cli.history.col.state": ("效力", "situação", "state"),
        "cli.history.col.file": ("檔案", "ficheiro", "file"),
        "cli.history.col.cell": ("工作表!儲存格", "folha!célula", "sheet!cell"),
        "cli.history.col.imported_by": ("匯入者", "importado por", "imported by"),
        "cli.history.col.imported_at": ("匯入時間", "importado em", "imported at"),
        "cli.history.current": ("現行", "actual", "current"),
        "cli.history.superseded": ("已於 {at} 被取代", "substituído em {at}", "superseded {at}"),
    }
)

# --- egov keys, db init, serve, report
add(
    {
        "cli.keys.created": (
            "金鑰 {id}（{who}）；只顯示一次，請立即保存：",
            "chave {id} ({who}); mostrada uma só vez, guarde-a já:",
            "key {id} ({who}); shown once, store it now:",
        ),
        "cli.keys.title": ("API 金鑰", "Chaves da API", "API keys"),
        "cli.keys.col.id": ("編號", "n.º", "id"),
        "cli.keys.col.prefix": ("前綴", "prefixo", "prefix"),
        "cli.keys.col.role": ("角色", "papel", "role"),
        "cli.keys.col.label": ("說明", "descrição", "label"),
        "cli.keys.col.created": ("建立時間", "criada em", "created"),
        "cli.keys.col.revoked": ("撤銷時間", "revogada em", "revoked"),
        "cli.keys.revoked": ("金鑰 {id} 已撤銷", "chave {id} revogada", "key {id} revoked"),
        "cli.kiosks.created": (
            "評價機 {code}（{object}）；設定連結只顯示一次，請在平板電腦上開啟一次：",
            "terminal {code} ({object}); a ligação de configuração é mostrada uma só vez, abra-a uma vez no tablet:",
            "kiosk {code} ({object}); the setup link is shown once, open it once on the tablet:",
        ),
        "cli.kiosks.title": ("櫃檯評價機", "Terminais de avaliação nos balcões", "Counter kiosks"),
        "cli.kiosks.col.code": ("編號", "código", "code"),
        "cli.kiosks.col.object": ("評估對象", "objecto", "object"),
        "cli.kiosks.col.window": ("窗口", "balcão", "window"),
        "cli.kiosks.col.prefix": ("前綴", "prefixo", "prefix"),
        "cli.kiosks.col.created": ("建立時間", "criado em", "created"),
        "cli.kiosks.col.revoked": ("撤銷時間", "revogado em", "revoked"),
        "cli.kiosks.revoked": ("評價機 {code} 已撤銷", "terminal {code} revogado", "kiosk {code} revoked"),
        "cli.db.head": (
            "資料庫 {url}：{changes}",
            "base de dados {url}: {changes}",
            "database {url}: {changes}",
        ),
        "cli.db.up_to_date": ("資料庫結構已是最新", "esquema actualizado", "schema up to date"),
        "cli.serve.start": (
            "評價 API 服務位於 http://{host}:{port}（文件：/docs，報告：/reports/），{workers} 個工作進程",
            "serviço de avaliações (API) em http://{host}:{port} (documentação: /docs, relatórios: "
            "/reports/), {workers} processo(s)",
            "serving the rating API on http://{host}:{port} (docs: /docs, reports: /reports/), "
            "{workers} worker(s)",
        ),
        "cli.serve.workers": (
            "--workers 至少為 1",
            "--workers tem de ser pelo menos 1",
            "--workers must be at least 1",
        ),
        "cli.report.writing": ("正在撰寫報告…", "a escrever o relatório…", "writing the report…"),
    }
)

# --- egov evaluate, demo, synth; progress texts of compare, change, uncertainty
add(
    {
        "cli.eval.period": ("評估期 {period}：", "período {period}: ", "period {period}: "),
        "cli.eval.warning": ("警告：{text}", "aviso: {text}", "warning: {text}"),
        "cli.eval.scored": (
            "{prefix}已評分 {scored}{of} 個單位，按 {n} 個指標；前 {top} 名：",
            "{prefix}{scored}{of} unidades pontuadas em {n} indicadores; as {top} primeiras:",
            "{prefix}scored {scored}{of} units on {n} indicators; top {top}:",
        ),
        "cli.eval.of": ("／{total}", " de {total}", " of {total}"),
        "cli.eval.not_scored": ("未評分", "sem pontuação", "not scored"),
        "cli.eval.written": (
            "結果已寫入 {out}/",
            "resultados escritos em {out}/",
            "results written to {out}/",
        ),
        "cli.demo.loading": (
            "正在載入澳門示範資料並評分…",
            "a carregar a demonstração de Macau e a calcular as pontuações…",
            "loading the Macau demo and scoring it…",
        ),
        "cli.demo.published": (
            "{period} 評估週期：{state}（定稿批次 {run}；初稿批次 {draft}），公開網站 /public/{period}/",
            "ciclo de avaliação {period}: {state} (avaliação final {run}; rascunho {draft}), sítio público "
            "/public/{period}/",
            "assessment cycle {period}: {state} (final run {run}; draft run {draft}), public site /public/{period}/",
        ),
        "cli.demo.in_review": (
            "{period} 評估週期：{state}，{deadline} 截止（初稿批次 {run}）；以下排名為此初稿",
            "ciclo de avaliação {period}: {state} até {deadline} (rascunho {run}); a classificação abaixo é "
            "este rascunho",
            "assessment cycle {period}: {state} until {deadline} (draft run {run}); the ranking below is this draft",
        ),
        "cli.demo.assessor": (
            "正在撰寫評估人員報告…",
            "a escrever o relatório dos avaliadores…",
            "writing the assessor's report…",
        ),
        "cli.demo.departments": (
            "正在為每個部門撰寫報告…",
            "a escrever um relatório por serviço…",
            "writing one report per department…",
        ),
        "cli.synth.notice": (
            "供性能測試用的合成資料，並非評估結果",
            "DADOS SINTÉTICOS PARA TESTES DE DESEMPENHO, NÃO UMA AVALIAÇÃO",
            "SYNTHETIC DATA FOR BENCHMARKS, NOT AN EVALUATION",
        ),
        "cli.synth.bad_scale": (
            "--scale {scale!r}：請使用 {scales}",
            "--scale {scale!r}: use {scales}",
            "--scale {scale!r}: use one of {scales}",
        ),
        "cli.synth.ratings": ("評價", "avaliações", "ratings"),
        "cli.synth.counts": (
            "資料庫 {url}：規模 {scale}，隨機種子 {seed}，評估期 {period}：{counts}",
            "base de dados {url}: escala {scale}, semente {seed}, período {period}: {counts}",
            "database {url}: scale {scale}, seed {seed}, period {period}: {counts}",
        ),
        "cli.synth.seconds": ("秒數：{times}", "segundos: {times}", "seconds: {times}"),
        "cli.synth.next": ("下一步：{command}", "a seguir: {command}", "next: {command}"),
        "cli.status.recompute": (
            "正在由已儲存的輸入重新計算運行…",
            "a recalcular a execução a partir dos dados guardados…",
            "recomputing the run from its stored inputs…",
        ),
        "cli.status.recompute_both": (
            "正在由已儲存的輸入重新計算兩個運行…",
            "a recalcular as duas execuções a partir dos dados guardados…",
            "recomputing both runs from their stored inputs…",
        ),
        "cli.status.decompose": ("正在分解變化…", "a decompor a variação…", "decomposing the change…"),
        "cli.unc.model_runs": ("次模型運算", "execuções do modelo", "model runs"),
    }
)
