import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from minsheng.numbers import format_percent, parse_value, percent


@pytest.mark.parametrize("raw, unit, value, noticed", [
    (12, "所", "12", False),
    (12.0, "所", "12", False),
    (344.166, "公里", "344.166", False),
    ("12", "所", "12", False),
    (" 12 ", "所", "12", False),
    ("１２", "所", "12", True),
    ("12所", "所", "12", True),
    ("1,234", "人", "1234", True),
    ("1，234", "人", "1234", True),
    ("1.2万", "人", "12000", True),
    ("1.2万人", "人", "12000", True),
    ("1.2万", "万人", "1.2", True),
    ("1.2万人", "万人", "1.2", True),
    ("1.2亿", "万元", "12000", True),
    ("3000元", "万元", "0.3", True),
    ("约50%", "%", "50", True),
    ("96.4%", "%", "96.4", True),
    ("０", "个", "0", True),
])
def test_values_people_type_are_read(raw, unit, value, noticed):
    parsed = parse_value(raw, unit)
    assert parsed.error == ""
    assert parsed.value == Decimal(value)
    assert bool(parsed.notice) is noticed


@pytest.mark.parametrize("raw", [None, "", "   ", "-", "/", "无", "—", "暂无"])
def test_placeholders_mean_not_filled(raw):
    parsed = parse_value(raw, "所")
    assert parsed.value is None and parsed.error == "" and parsed.empty


@pytest.mark.parametrize("raw, unit, words", [
    ("十二所", "所", ["十二所", "不是数字"]),
    ("12个", "所", ["12个", "“个”", "“所”"]),
    ("50%", "所", ["50%", "不符"]),
    ("1,23", "人", ["千位分隔符"]),
    ("12.5.3", "人", ["不是数字"]),
    (-5, "人", ["负数"]),
    ("-5", "人", ["负数"]),
    (True, "人", ["“是”", "不是数字"]),
    (-5.0, "人", ["“-5”", "负数"]),
    (float("nan"), "人", ["无效的数值"]),
    (float("inf"), "人", ["无穷大"]),
    (1e308, "人", ["数值过大"]),
    ("1000000000000000", "人", ["数值过大"]),
    (dt.date(2020, 7, 1), "人", ["2020-07-01", "日期", "常规"]),
    ("正在统计", "人", ["正在统计"]),
])
def test_ambiguous_or_wrong_values_are_errors_with_the_raw_text(raw, unit, words):
    parsed = parse_value(raw, unit)
    assert parsed.value is None and parsed.error
    for word in words:
        assert word in parsed.error


@given(st.decimals(min_value=0, max_value=10**9, places=3, allow_nan=False, allow_infinity=False))
def test_any_non_negative_number_round_trips_through_its_typed_forms(number):
    plain = format(number, "f")
    assert parse_value(plain, "人").value == number
    grouped = format(number, ",f")
    assert parse_value(grouped, "人").value == number
    full_width = plain.translate(str.maketrans("0123456789.", "０１２３４５６７８９．"))
    assert parse_value(full_width, "人").value == number
    assert parse_value(plain + "人", "人").value == number


@given(st.text(max_size=30))
def test_parser_never_raises_and_never_both_value_and_error(text):
    parsed = parse_value(text, "人")
    assert not (parsed.value is not None and parsed.error)
    if parsed.value is not None:
        assert parsed.value >= 0


@given(st.integers(min_value=0, max_value=10**7), st.sampled_from(["所", "人", "万人", "公里", "%"]))
def test_integers_from_cells_are_exact(n, unit):
    assert parse_value(float(n), unit).value == Decimal(n)


@pytest.mark.parametrize("fraction, shown", [
    (Decimal(7) / Decimal(9), "77.8%"),
    (Decimal(25088) / Decimal(25100), "100.0%"),
    (Decimal("0.0005"), "0.1%"),  # half-up, not banker's rounding
    (Decimal("0.0015"), "0.2%"),
    (Decimal("0.0025"), "0.3%"),
    (Decimal(1) / Decimal(2), "50.0%"),
])
def test_percent_is_half_up_to_one_decimal(fraction, shown):
    assert format_percent(fraction) == shown
    assert percent(fraction) == Decimal(shown[:-1])


@pytest.mark.parametrize("raw, words", [
    ("١٢", ["不是数字"]),  # Arabic-Indic digits: Python would take them, Excel would not
    ("2 3", ["被空格隔开"]),
    ("2\t3", ["被空格隔开"]),
    ("1 000", ["被空格隔开"]),
    ("1e3", ["不是数字"]),
    ("1/2", ["不是数字"]),
    ("1_000", ["不是数字"]),
    ("²", ["不是数字"]),  # a superscript, not a full-width digit
    ("①", ["不是数字"]),
    ("½", ["不是数字"]),
    ("12" + "0" * 500, ["数值过大", "…"]),  # the message quotes a long text cut short
])
def test_what_only_looks_like_a_number_is_an_error(raw, words):
    parsed = parse_value(raw, "人")
    assert parsed.value is None and parsed.error
    for word in words:
        assert word in parsed.error
    assert len(parsed.error) < 120


@pytest.mark.parametrize("raw, unit, value, words", [
    ("1.2万", "人", "12000", ["“万”已按计量单位“人”换算"]),
    ("１８", "人", "18", ["全角字符换成了半角"]),
    ("12\u200b", "人", "12", ["看不见的字符"]),
    ("12 所", "所", "12", ["去掉了空格", "去掉了单位“所”"]),
    ("1.2千", "人次", "1200", ["“千”已按计量单位“人次”换算"]),
    ("5000米", "千米", "5", ["“米”已按计量单位“千米”换算"]),
    (".5", "万元", "0.5", ["补上了小数点前的 0"]),
    ("12.", "所", "12", ["去掉了末尾的小数点"]),
])
def test_each_notice_says_what_was_done(raw, unit, value, words):
    parsed = parse_value(raw, unit)
    assert parsed.value == Decimal(value) and not parsed.error
    for word in words:
        assert word in parsed.notice
