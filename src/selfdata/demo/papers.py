"""Papers: the household's recent documents, each a real PDF kept in the file store.

Each paper agrees with the rest of the space: the EDF and ENGIE invoices are the bills
debited from the bank account (same amounts, same references in the debit's memo), the
payslip's net pay is the salary transfer, the tax notice's balance is the September
debit from the DGFiP.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from selfdata.access import SpaceView

from . import bank
from .energy import GAS_PCE, PRM, Bill
from .life import CAMILLE, Life
from .pdf import make_pdf

__all__ = ["Paper", "generate", "write"]

_CENT = Decimal("0.01")
_MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)
_ADDRESS = "14 rue Béchevelin, 69007 Lyon"


@dataclass(frozen=True, slots=True)
class Paper:
    record: dict[str, Any]  # without file_id and size_bytes
    filename: str
    content: bytes


def _fr(amount: Decimal) -> str:
    """``1234.5`` as ``1 234,50 €``."""
    whole, cents = f"{amount:.2f}".split(".")
    groups = f"{int(whole):,}".replace(",", " ")
    return f"{groups},{cents} €"


def _paper(
    life: Life,
    *,
    title: str,
    kind: str,
    issuer: str,
    issued_on: date,
    reference: str,
    lines: list[str],
    filename: str,
    tags: list[str],
    amount: Decimal | None = None,
    valid_until: date | None = None,
) -> Paper:
    content = make_pdf(title, lines, created=life.at(issued_on, 9), author=issuer)
    record: dict[str, Any] = {
        "title": title,
        "kind": kind,
        "filename": filename,
        "media_type": "application/pdf",
        "issuer": issuer,
        "issued_on": issued_on.isoformat(),
        "reference": reference,
        "page_count": 1,
        "extracted_text": "\n".join([title, *lines]),
        "tags": tags,
    }
    if amount is not None:
        record.update(amount=f"{amount:.2f}", currency="EUR")
    if valid_until is not None:
        record["valid_until"] = valid_until.isoformat()
    return Paper(record, filename, content)


def _energy_invoice(life: Life, bill: Bill) -> Paper:
    month = f"{_MONTHS[bill.period_start.month - 1]} {bill.period_start.year}"
    electricity = bill.kind == "electricity"
    name = "EDF" if electricity else "ENGIE"
    point = f"PRM (point de livraison) : {PRM}" if electricity else f"PCE : {GAS_PCE}"
    lines = [
        f"Titulaire : {CAMILLE.full_name}, {_ADDRESS}",
        f"Facture n° {bill.reference} du {bill.issued_on:%d/%m/%Y}",
        point,
        f"Période : du {bill.period_start:%d/%m/%Y} au {bill.period_end:%d/%m/%Y} "
        "(index relevés à distance)",
        "",
        *(f"{what} : {_fr(Decimal(how))}" for what, how in bill.lines),
        "",
        f"Montant TTC : {_fr(bill.amount)}",
        f"Prélevé le {bill.debit_on:%d/%m/%Y} sur le compte {bank.CHECKING}",
    ]
    title = f"Facture {name} — {month} — Montant {_fr(bill.amount)}"
    kind = "electricite" if electricity else "gaz"
    return _paper(
        life,
        title=title,
        kind="invoice",
        issuer=name,
        issued_on=bill.issued_on,
        reference=bill.reference,
        lines=lines,
        tags=["énergie", "logement"],
        filename=f"facture-{name.lower()}-{kind}-{bill.period_start:%Y-%m}.pdf",
        amount=bill.amount,
    )


def _payslip(life: Life, year: int, month: int) -> Paper:
    net = bank.salary(life, CAMILLE, year, month)
    before_tax = (net / Decimal("0.925")).quantize(_CENT, rounding=ROUND_HALF_UP)
    gross = (before_tax / Decimal("0.78")).quantize(_CENT, rounding=ROUND_HALF_UP)
    paid_on = life.last_business_day(year, month)
    label = f"{_MONTHS[month - 1]} {year}"
    lines = [
        "Employeur : Rhône Data SAS, 20 avenue Albert Einstein, 69100 Villeurbanne",
        f"Salariée : {CAMILLE.full_name} — Data engineer, temps partiel 80 %",
        f"Période : {label}",
        "",
        f"Salaire brut : {_fr(gross)}",
        f"Cotisations et contributions salariales : -{_fr(gross - before_tax)}",
        f"Net à payer avant impôt sur le revenu : {_fr(before_tax)}",
        f"Impôt sur le revenu prélevé à la source (taux 7,5 %) : -{_fr(before_tax - net)}",
        f"Net payé : {_fr(net)}",
        f"Payé par virement le {paid_on:%d/%m/%Y}",
    ]
    return _paper(
        life,
        title=f"Bulletin de salaire — {label}",
        kind="payslip",
        issuer="Rhône Data SAS",
        issued_on=paid_on,
        reference=f"BS-{year}{month:02d}-0412",
        lines=lines,
        filename=f"bulletin-de-salaire-{year}-{month:02d}.pdf",
        tags=["travail", "salaire"],
        amount=net,
    )


def _tax_notice(life: Life, year: int) -> Paper:
    issued = date(year, 7, 24) + timedelta(days=life.rng("tax-notice", year).randrange(0, 14))
    due = bank.tax_balance(life, year)
    r = life.rng("tax-ref", year)
    reference = (
        f"{year % 100:02d} 69 {r.randrange(100, 999)} {r.randrange(100, 999)} "
        f"{r.randrange(100, 999)}"
    )
    lines = [
        f"Avis d'impôt {year} sur les revenus de l'année {year - 1}",
        "Foyer fiscal : Mme Rousseau Camille et M. Benali Karim (2,5 parts)",
        f"Référence de l'avis : {reference}",
        "",
        f"Impôt sur le revenu net : {_fr(due + Decimal('2640.00'))}",
        f"Retenues à la source déjà prélevées : -{_fr(Decimal('2640.00'))}",
        f"Reste à payer : {_fr(due)}",
        f"Prélèvement sur votre compte le 25/09/{year}",
    ]
    return _paper(
        life,
        title=f"Avis d'impôt {year} — revenus {year - 1}",
        kind="tax_notice",
        issuer="DGFiP",
        issued_on=issued,
        reference=reference,
        lines=lines,
        filename=f"avis-impot-{year}.pdf",
        tags=["impôts"],
        amount=due,
    )


def _insurance(life: Life, year: int) -> Paper:
    issued = life.next_business_day(date(year, 1, 6))
    reference = f"MAIF-HAB-{year}-3318520K"
    lines = [
        "La MAIF atteste que :",
        f"{CAMILLE.full_name}, sociétaire n° 3318520K,",
        f"est assurée au titre du contrat Habitation RAQVAM pour le logement situé {_ADDRESS},",
        "en qualité de locataire (responsabilité civile, dégâts des eaux, incendie).",
        f"Période de validité : du 01/01/{year} au 31/12/{year}.",
        f"Fait à Niort, le {issued:%d/%m/%Y}.",
    ]
    return _paper(
        life,
        title=f"Attestation d'assurance habitation {year}",
        kind="certificate",
        issuer="MAIF",
        issued_on=issued,
        reference=reference,
        lines=lines,
        filename=f"attestation-assurance-habitation-{year}.pdf",
        tags=["assurance", "logement"],
        valid_until=date(year, 12, 31),
    )


def generate(life: Life, bills: list[Bill]) -> list[Paper]:
    """Up to six recent papers issued within the window."""
    out: list[Paper] = []
    visible = [b for b in bills if life.in_window(b.issued_on) and b.debit_on <= life.end]
    out += [_energy_invoice(life, b) for b in [b for b in visible if b.kind == "electricity"][-2:]]
    out += [_energy_invoice(life, b) for b in [b for b in visible if b.kind == "gas"][-1:]]
    payslips = [
        (d.year, d.month) for d in life.days() if d == life.last_business_day(d.year, d.month)
    ]
    if payslips:
        out.append(_payslip(life, *payslips[-1]))
    for year in range(life.end.year, life.start.year - 1, -1):
        notice = _tax_notice(life, year)
        if life.in_window(date.fromisoformat(notice.record["issued_on"])):
            out.append(notice)
            break
    for year in range(life.end.year, life.start.year - 1, -1):
        attestation = _insurance(life, year)
        if life.in_window(date.fromisoformat(attestation.record["issued_on"])):
            out.append(attestation)
            break
    return out


def write(
    view: SpaceView, papers: list[Paper], tick: Callable[[], None]
) -> tuple[dict[str, int], dict[str, int], int]:
    """Store each PDF, then the documents describing them; (counts, new, files)."""
    records = []
    for paper in papers:
        info = view.put_file([paper.content], filename=paper.filename, media_type="application/pdf")
        records.append({**paper.record, "file_id": info.id, "size_bytes": len(paper.content)})
    tick()
    if not records:
        tick()
        return {}, {}, 0
    report = view.put_records("paper.document", records)
    tick()
    return (
        {"paper.document": report.total},
        {"paper.document": report.created + report.updated},
        len(papers),
    )
