"""The report pages' own labels (zh-Hant, pt, en), added to the shared table of
`reports.i18n` once, when this module is imported."""

from __future__ import annotations

from reports.i18n import TABLE, add

LABELS: dict[str, tuple[str, str, str]] = {
    "web.title": ("評估報告", "Relatórios de avaliação", "Evaluation reports"),
    "web.login": ("登入", "Entrar", "Log in"),
    "web.logout": ("登出", "Sair", "Log out"),
    "web.key": ("存取金鑰", "Chave de acesso", "Access key"),
    "web.login_help": (
        "請輸入部門或評估人員的存取金鑰（egk_…）。金鑰不會儲存在瀏覽器中。",
        "Introduza a chave de acesso do serviço ou do avaliador (egk_…). A chave não fica guardada no navegador.",
        "Enter your department's or assessor's access key (egk_…). The key is not kept in the browser.",
    ),
    "web.login_failed": (
        "金鑰無效或已被撤銷。",
        "Chave desconhecida ou revogada.",
        "Unknown or revoked key.",
    ),
    "web.unauthorised": (
        "請先登入以查看評估報告。",
        "Entre para ver os relatórios de avaliação.",
        "Please log in to see the evaluation reports.",
    ),
    "web.forbidden": (
        "此金鑰無權查看此頁。",
        "Esta chave não dá acesso a esta página.",
        "This key may not see this page.",
    ),
    "web.not_found": ("找不到此頁。", "Página não encontrada.", "Page not found."),
    "web.runs": ("評估批次", "Avaliações", "Evaluation runs"),
    "web.no_runs": ("尚未有評估批次。", "Ainda não há avaliações.", "No evaluation runs yet."),
    "web.ranking": ("部門排名", "Classificação dos serviços", "Department ranking"),
    "web.department_report": ("部門報告", "Relatório do serviço", "Department report"),
    "web.assessor_report": ("評估人員報告", "Relatório do avaliador", "Assessor's report"),
    "web.signed_in_as": ("登入身分", "Sessão de", "Signed in as"),
    "web.role.department": ("部門", "Serviço", "Department"),
    "web.role.assessor": ("評估人員", "Avaliador", "Assessor"),
    "web.role.admin": ("管理員", "Administrador", "Administrator"),
    "web.created": ("建立時間", "Criada em", "Created"),
    "web.illustrative": ("示範資料", "dados ilustrativos", "illustrative"),
    "web.categories": ("各類別得分（排名）", "Pontuação por categoria (posição)", "Category scores (rank)"),
    "web.too_many": (
        "嘗試次數過多，請稍後再試。",
        "Demasiadas tentativas; tente mais tarde.",
        "Too many attempts; try again later.",
    ),
    "web.cross_site": (
        "此表單來自其他網站，已被拒絕。請在本站重新操作。",
        "Este formulário veio de outro sítio e foi recusado. Repita a operação neste sítio.",
        "This form came from another site and was refused. Please do it again on this site.",
    ),
    "web.bad_form": (
        "表單無效（欄位過多或格式不正確）。",
        "Formulário inválido (campos a mais ou mal formado).",
        "Invalid form (too many fields or malformed).",
    ),
    "web.bad_lang": (
        "不支援的語言；請用 zh-Hant、pt 或 en。",
        "Língua não suportada: use zh-Hant, pt ou en.",
        "Unsupported language: use zh-Hant, pt or en.",
    ),
}


add({k: v for k, v in LABELS.items() if k not in TABLE})
