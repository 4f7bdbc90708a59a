"""Generated GRDF and water-meter exports, in the layouts the real ones have.

The GRDF workbooks are built with openpyxl on the fly (no binary blob in the repository):
the same sheet name, metadata rows and header row as the customer area's export.
``python -m tests.samples.energy`` rewrites the small text files next to this module.
Nothing here comes from a real customer: the PCE is made up, the values synthetic.
"""

from __future__ import annotations

import io
import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

__all__ = ["PCE", "grdf_json", "grdf_workbook", "write_samples"]

PCE = "21546000000123"
HERE = Path(__file__).parent

_DAILY_HEADER = [
    "Date de relevé",
    "Index de début de période (m3)",
    "Index de fin de période (m3)",
    "Volume consommé (m3)",
    "Energie consommée (kWh)",
    "Coefficient de conversion",
    "Température locale (°C)",
    "Qualification du relevé",
]


def daily_volumes(days: int) -> list[int]:
    return [5 + (i * 7) % 9 for i in range(days)]


def grdf_workbook(
    kind: str = "daily",
    first: date = date(2024, 1, 1),
    days: int = 10,
    pce: str = PCE,
    rows: list[list[Any]] | None = None,
) -> bytes:
    """A GRDF ``Donnees_informatives_PCE`` workbook: ``daily`` (index, volume, energy per
    day), ``weekly`` or ``monthly`` (totals). ``rows`` replaces the generated data rows."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Historique par jour" if kind == "daily" else "Historique par mois"
    sheet.append([None, "Données informatives et détaillées", None, None, "Export du 01/03/2024"])
    sheet.append([])
    sheet.append([None, None, "Adresse du logement : ", "1 rue de l'Exemple 75001 PARIS"])
    sheet.append([None, None, "N° PCE :", pce])
    sheet.append([None, None, "Libellé du logement :", "Maison"])
    sheet.append([])
    sheet.append([None, "Les consommations dans ce tableau sont fournies à titre indicatif."])
    sheet.append([])
    if kind == "daily":
        sheet.append([None, *_DAILY_HEADER])
        if rows is None:
            rows, index = [], 12000
            for i, volume in enumerate(daily_volumes(days)):
                day = (first + timedelta(days=i)).strftime("%d/%m/%Y")
                energy = round(volume * 11.2)
                rows.append([day, index, index + volume, volume, energy, 11.2, None, "Mesuré"])
                index += volume
    else:
        sheet.append([None, "Date de relevé", "Volume consommé (m3)", "Energie consommée (kWh)"])
        if rows is None:
            rows = [
                ["Du 01/01/2024 au 07/01/2024", 60, 672],
                ["Du 08/01/2024 au 14/01/2024", 55, 616],
            ]
    for row in rows:
        sheet.append([None, *row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def grdf_json(pce: str = PCE) -> bytes:
    """The ``donnees_publiees`` JSON: two one-day readings and a month-long one."""
    releves = []
    periods = [
        ("2024-01-01", "2024-01-02", 100, 108, 90),
        ("2024-01-02", "2024-01-03", 108, 115, 78),
    ]
    periods.append(("2024-01-03", "2024-02-01", 115, 400, 3192))
    for begin, end, start, stop, energy in periods:
        releves.append(
            {
                "coeffConversion": 11.2,
                "dateDebutReleve": f"{begin}T06:00:00+00:00",
                "dateFinReleve": f"{end}T06:00:00+00:00",
                "energieConsomme": energy,
                "indexDebut": start,
                "indexFin": stop,
                "natureReleve": "Publiée",
                "qualificationReleve": "Mesuré",
                "volumeBrutConsomme": stop - start,
            }
        )
    return json.dumps({pce: {"idPce": pce, "frequence": None, "releves": releves}}).encode()


WATER_INDEX = (
    "Date du relevé;Index (m³)\r\n"
    "01/03/2024;1234,567\r\n02/03/2024;1234,702\r\n03/03/2024;1234,850\r\n"
)
WATER_VOLUME = (
    "jour,volume_litres,commentaire\n"
    "2024-03-01,152,\n2024-03-02,98,absent\n2024-03-03,,\n2024-03-04,131,\n"
)
WATER_CUSTOM = "Relevé du;Compteur n°;Valeur;Unité\n01/03/2024;A123;152;L\n02/03/2024;A123;98;L\n"


def write_samples() -> None:
    (HERE / "water_index_cp1252.csv").write_bytes(WATER_INDEX.encode("cp1252"))
    (HERE / "water_volume_litres.csv").write_text(WATER_VOLUME, encoding="utf-8")
    (HERE / "water_custom_columns.csv").write_text(WATER_CUSTOM, encoding="utf-8")
    (HERE / "grdf_donnees_publiees.json").write_bytes(grdf_json())
