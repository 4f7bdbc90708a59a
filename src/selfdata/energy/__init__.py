"""The built-in energy service, in the spirit of the Métropole de Lyon's Ecolyo.

Pure computations on a household's meter readings (electricity load curve, daily gas,
daily water): consumption by period with navigation and last-year comparison, base
load, peak hours, weather-corrected comparison with heating degree-days, costs under
configurable tariffs (base, peak/off-peak, Tempo), eco-gestures with their savings,
and alerts on thresholds the citizen sets. ``questions`` wires them as built-in
questions; see docs/energy.md for every figure's definition.
"""

from .alerts import evaluate as evaluate_alerts
from .analysis import household, monthly_report, overview, period_view
from .degreedays import DegreeDays, corrected, dju_min_max
from .gestures import EMISSION_FACTORS, HouseholdFigures, catalogue, top_gestures
from .habits import base_load, peak_hours
from .periods import Period, period_summary
from .readings import Consumption, best_per_meter, consumption
from .reference import Reference, current
from .tariffs import Tariff, TariffBook, TempoCalendar, constant_power_cost, cost

__all__ = [
    "EMISSION_FACTORS",
    "Consumption",
    "DegreeDays",
    "HouseholdFigures",
    "Period",
    "Reference",
    "Tariff",
    "TariffBook",
    "TempoCalendar",
    "base_load",
    "best_per_meter",
    "catalogue",
    "constant_power_cost",
    "consumption",
    "corrected",
    "cost",
    "current",
    "dju_min_max",
    "evaluate_alerts",
    "household",
    "monthly_report",
    "overview",
    "peak_hours",
    "period_summary",
    "period_view",
    "top_gestures",
]
