from selfdata.doctypes.examples import EXAMPLES
from selfdata.platform import Platform
from tests.conftest import make_space


def test_records_round_trip(platform: Platform) -> None:
    view = make_space(platform)
    report = view.put_records("bank.transaction", [EXAMPLES["bank.transaction"]])
    assert report.created == 1
    assert view.get_record(report.ids[0]).data == EXAMPLES["bank.transaction"]
