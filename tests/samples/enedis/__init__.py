"""Generated Enedis customer-area exports, in the layouts the real ones have.

``python -m tests.samples.enedis`` rewrites the small files shipped next to this module;
tests generate the larger ones (a year, ten years) on the fly with the same functions.
Nothing here comes from a real customer: the PRM is made up, the values are synthetic.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

__all__ = ["PRM", "daily_csv", "load_curve_csv", "load_curve_values"]

PRM = "09876543210987"
PARIS = ZoneInfo("Europe/Paris")
HERE = Path(__file__).parent


def load_curve_values(count: int) -> list[float]:
    """Deterministic watts with a half-watt part (to exercise decimal commas)."""
    return [200 + (i * 37) % 900 + (0.5 if i % 3 == 0 else 0.0) for i in range(count)]


def _intervals(first: date, last: date) -> list[datetime]:
    """UTC starts of every 30-minute interval from local midnight of ``first`` to local
    midnight of ``last`` (exclusive)."""
    start = datetime(first.year, first.month, first.day, tzinfo=PARIS).astimezone(UTC)
    end = datetime(last.year, last.month, last.day, tzinfo=PARIS).astimezone(UTC)
    out = []
    current = start
    while current < end:
        out.append(current)
        current += timedelta(minutes=30)
    return out


def load_curve_csv(
    first: date,
    last: date,
    *,
    encoding: str = "utf-8-sig",
    french_dates: bool = False,
    decimal_comma: bool = True,
    prm: str = PRM,
) -> bytes:
    """A ``Courbe de charge`` export; each value stamped with the end of its interval."""
    starts = _intervals(first, last)
    values = load_curve_values(len(starts))
    lines = [
        "Identifiant PRM;Type de données;Date de début;Date de fin;Grandeur physique;"
        "Grandeur métier;Étape métier;Unité;Pas en minutes",
        f"{prm};Courbe de charge;{first:%d/%m/%Y};{last:%d/%m/%Y};Energie active;"
        "Consommation;Comptage Brut;W;",
        "Horodate;Valeur",
    ]
    for start, value in zip(starts, values, strict=True):
        end = (start + timedelta(minutes=30)).astimezone(PARIS)
        stamp = f"{end:%d/%m/%Y %H:%M}" if french_dates else end.isoformat()
        text = f"{value:g}"
        lines.append(f"{stamp};{text.replace('.', ',') if decimal_comma else text}")
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def daily_csv(
    first: date, days: int, *, kind: str = "consumption", encoding: str = "cp1252"
) -> bytes:
    """A daily consumption (kWh, French dates) or daily index (Wh, ISO) export."""
    if kind == "consumption":
        lines = [
            "Identifiant PRM;Type de données;Date de début;Date de fin;Grandeur physique;"
            "Grandeur métier;Étape métier;Unité",
            f"{PRM};Consommation quotidienne;{first:%d/%m/%Y};;Energie active;Consommation;"
            "Comptage Brut;kWh",
            "Horodate;Valeur",
        ]
        for i in range(days):
            day = first + timedelta(days=i)
            lines.append(f"{day:%d/%m/%Y};{8 + (i % 7) * 1.25:.2f}".replace(".", ","))
    else:
        lines = [
            "Identifiant PRM;Type de donnees;Date de debut;Date de fin;Grandeur physique;"
            "Grandeur metier;Etape metier;Unite",
            f"{PRM};Index;{first:%d/%m/%Y};;Energie active;Consommation;Comptage Brut;Wh",
            "Horodate;Type de releve;EAS F1;EAS F2;EAS D1;EAS T",
        ]
        for i in range(days):
            day = first + timedelta(days=i)
            stamp = datetime(day.year, day.month, day.day, 1, tzinfo=PARIS).isoformat()
            total = 18_000_000 + i * 9_000
            lines.append(f"{stamp};Arrêté quotidien;{total - 5000};5000;{total};{total}")
        lines += ["", "Periode;Identifiant calendrier fournisseur;Libelle", "Du …;FC000050;x"]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def write_samples() -> None:
    (HERE / "load_curve_dst_october_cp1252.csv").write_bytes(
        load_curve_csv(date(2023, 10, 28), date(2023, 10, 31), encoding="cp1252", french_dates=True)
    )
    (HERE / "load_curve_dst_march_utf8bom.csv").write_bytes(
        load_curve_csv(date(2024, 3, 30), date(2024, 4, 1))
    )
    (HERE / "daily_consumption_cp1252.csv").write_bytes(daily_csv(date(2024, 1, 1), 10))
    (HERE / "daily_index_utf8bom.csv").write_bytes(
        daily_csv(date(2024, 3, 28), 7, kind="index", encoding="utf-8-sig")
    )


if __name__ == "__main__":
    write_samples()
