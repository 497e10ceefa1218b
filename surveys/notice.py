"""The personal-data collection notice of the rating widget (Macau's Personal Data Protection
Act, Lei n.º 8/2005, 個人資料保護法): who collects, for what purpose, what is kept and for how
long, and the citizen's rights, in Traditional Chinese, Portuguese and English.

The notice is built from what the service really does, not from fixed prose: the collecting
department is the department of the rated object (the one that issued the token), the
retention is the setting `EGOV_RATING_RETENTION_DAYS` (after it `egov ratings purge`
anonymises the raw rating: surveys.privacy.purge_ratings), and the client address is named
only when `EGOV_STORE_IP` is on. Since 1 February 2024 the supervisory authority is the
Personal Data Protection Bureau (個人資料保護局, Direcção dos Serviços de Protecção de Dados
Pessoais, DSPDP), which took over from the Office for Personal Data Protection (GPDP).
"""

from __future__ import annotations

import html

TEXTS: dict[str, dict[str, str]] = {
    "summary": {
        "zh-Hant": "個人資料收集聲明",
        "pt": "Declaração de recolha de dados pessoais",
        "en": "Personal data collection notice",
    },
    "who": {
        "zh-Hant": "收集者：{department}（提供本服務的部門）。",
        "pt": "Quem recolhe: {department} (o serviço que prestou este serviço).",
        "en": "Collected by: {department} (the department that provided this service).",
    },
    "purpose": {
        "zh-Hant": "目的：評估及改善本服務和公共服務；「不滿意」或「非常不滿意」的評價會交由該部門跟進及回覆。",
        "pt": (
            "Finalidade: avaliar e melhorar este serviço e os serviços públicos; uma avaliação "
            "«insatisfeito» ou «muito insatisfeito» é encaminhada ao serviço, que a trata e responde."
        ),
        "en": (
            "Purpose: to evaluate and improve this service and public services; a 'dissatisfied' "
            "or 'very dissatisfied' rating is passed to the department, which handles and answers it."
        ),
    },
    "what": {
        "zh-Hant": "收集的資料：您的評價、所選的原因和意見。不會要求您的姓名；請勿在意見中填寫身份證號碼、電話或電郵（匯出時會被刪除）。",
        "pt": (
            "Dados recolhidos: a sua avaliação, os motivos escolhidos e o comentário. O seu nome "
            "não é pedido; não escreva no comentário números de documento de identificação, "
            "telefones ou e-mails (são removidos nas exportações)."
        ),
        "en": (
            "What is collected: your rating, the reasons you choose and your comment. Your name is "
            "not asked; please do not write identity-card numbers, phone numbers or e-mail addresses "
            "in the comment (they are removed from exports)."
        ),
    },
    "ip": {
        "zh-Hant": "本服務亦會記錄您的網絡地址（IP），用於防止濫用。",
        "pt": "Este serviço regista também o seu endereço de rede (IP), para prevenir abusos.",
        "en": "This service also records your network (IP) address, to prevent abuse.",
    },
    "retention": {
        "zh-Hant": "保存期限：評價原文保存 {days} 日，其後意見及任何識別資料會被刪除，只保留統計數字。",
        "pt": (
            "Conservação: a avaliação é conservada {days} dias; depois, o comentário e qualquer "
            "dado identificativo são apagados e ficam apenas as estatísticas."
        ),
        "en": (
            "Retention: the rating is kept for {days} days; after that the comment and anything "
            "identifying are deleted and only the statistics remain."
        ),
    },
    "rights": {
        "zh-Hant": "您的權利：您可向上述部門要求查閱及更正您的資料，並可反對有關處理（第8/2005號法律《個人資料保護法》）；亦可向個人資料保護局投訴。",
        "pt": (
            "Os seus direitos: pode pedir ao serviço acima o acesso aos seus dados e a sua "
            "rectificação, e opor-se ao tratamento (Lei n.º 8/2005, Lei da Protecção de Dados "
            "Pessoais); pode também apresentar queixa à Direcção dos Serviços de Protecção de "
            "Dados Pessoais."
        ),
        "en": (
            "Your rights: you may ask the department above for access to your data and its "
            "correction, and object to its processing (Law 8/2005, Personal Data Protection Act); "
            "you may also complain to the Personal Data Protection Bureau."
        ),
    },
    "voluntary": {
        "zh-Hant": "評價屬自願性質，不評價不會影響您獲得的服務。",
        "pt": "A avaliação é voluntária: não avaliar não afecta o serviço que recebe.",
        "en": "Rating is voluntary: not rating does not affect the service you receive.",
    },
}


def notice_html(lang: str, department: str, retention_days: int, store_ip: bool) -> str:
    """The notice as a closed `<details>` element (native, keyboard operable) in `lang`, every
    text escaped."""

    def say(key: str, **values: object) -> str:
        table = TEXTS[key]
        text = table.get(lang) or table["en"]
        return html.escape(text.format(**values))

    items = [
        say("who", department=department),
        say("purpose"),
        say("what"),
        *([say("ip")] if store_ip else []),
        say("retention", days=retention_days),
        say("rights"),
        say("voluntary"),
    ]
    body = "".join(f"<li>{item}</li>" for item in items)
    return f'<details class="notice"><summary>{say("summary")}</summary><ul>{body}</ul></details>'
